/**
 * The merged run list of dual mode as a database the query surface can
 * read: an in-memory DuckDB whose `latest_runs`, `run_tags` and
 * `phase_timings` hold the runs of both stores, each run once (which store
 * answers is decided by the caller, `legacy/dual.ts`). The query surface's
 * own SQL (`indexer/query/runs.ts`: `--where`, `--sort`, `--columns`, time
 * and status filters) then runs over it unchanged, so dual mode filters and
 * sorts exactly as the index alone does.
 *
 * The database lives in memory only: it never spills to disk, and external
 * access is disabled and the configuration locked before any query runs.
 *
 * @module
 */
import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from "../indexer/duckdb.ts";
import { allRows, withReader } from "../indexer/query/reader.ts";
import {
  SQL_INDEX_LIST_PHASES,
  SQL_INDEX_LIST_RUNS,
  SQL_INDEX_LIST_TAGS,
  SQL_MERGED_SCHEMA,
} from "./_sql.ts";

/** One run of the merged list: the `latest_runs` columns the query surface reads. */
export interface MergedRun {
  run_id: string;
  run_type: string | null;
  status: string;
  created_at_ms: number | null;
  started_at_ms: number | null;
  completed_at_ms: number | null;
  failed_at_ms: number | null;
  label: string | null;
  archived: boolean;
  /** The config object as JSON text. */
  config: string | null;
  /** The summary object as JSON text. */
  summary_json: string | null;
  data_fingerprint: string | null;
  last_event_at_ms: number | null;
}

/** One tag of a run. */
export interface MergedTag {
  run_id: string;
  key: string;
  value: string | null;
}

/** What the merged database holds. */
export interface MergedContent {
  /** The runs, each run id once. */
  runs: MergedRun[];
  /** Tags of those runs. */
  tags: MergedTag[];
  /** Phases seen per run (runs without phases may be left out). */
  phaseCounts: Map<string, number>;
}

/** In-memory only: no spill directory, no file access, settings locked. */
const MERGED_DB_CONFIG: Readonly<Record<string, string>> = {
  // Order matters: DuckDB refuses temp_directory once external access is disabled.
  temp_directory: "",
  enable_external_access: "false",
  lock_configuration: "true",
};

/**
 * The index's runs, tags and phase counts, read through the query
 * surface's reader (read-only, external access disabled). Throws
 * `IndexNotFoundError` when there is no index.
 */
export async function readIndexContent(indexDbPath: string): Promise<MergedContent> {
  return await withReader(indexDbPath, async (conn) => {
    const runs = (await allRows(conn, SQL_INDEX_LIST_RUNS)).map(toMergedRun);
    const tags = (await allRows(conn, SQL_INDEX_LIST_TAGS)).map((r) => ({
      run_id: String(r.run_id),
      key: String(r.key),
      value: r.value === null ? null : String(r.value),
    }));
    const phaseCounts = new Map<string, number>();
    for (const r of await allRows(conn, SQL_INDEX_LIST_PHASES)) {
      phaseCounts.set(String(r.run_id), Number(r.phase_count));
    }
    return { runs, tags, phaseCounts };
  });
}

/**
 * Build the in-memory database holding `content`, run `fn` on it, close it.
 * Throws when `content` holds a run id twice (the caller decides which
 * store answers; a run must appear once).
 */
export async function withMergedDb<T>(
  content: MergedContent,
  fn: (conn: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:", { ...MERGED_DB_CONFIG });
  try {
    const conn = await instance.connect();
    try {
      for (const sql of SQL_MERGED_SCHEMA) await conn.run(sql);
      await append(conn, "latest_runs", content.runs, appendRun);
      await append(conn, "run_tags", content.tags, (a, t) => {
        a.appendVarchar(t.run_id);
        a.appendVarchar(t.key);
        appendText(a, t.value);
      });
      await append(conn, "phase_counts", [...content.phaseCounts], (a, [runId, n]) => {
        a.appendVarchar(runId);
        a.appendBigInt(BigInt(n));
      });
      return await fn(conn);
    } finally {
      conn.disconnectSync();
    }
  } finally {
    instance.closeSync();
  }
}

async function append<R>(
  conn: DuckDBConnection,
  table: string,
  rows: readonly R[],
  appendRow: (appender: DuckDBAppender, row: R) => void,
): Promise<void> {
  const appender = await conn.createAppender(table);
  try {
    for (const row of rows) {
      appendRow(appender, row);
      appender.endRow();
    }
    appender.flushSync(); // a duplicate run id fails here (primary key)
  } finally {
    appender.closeSync();
  }
}

function appendRun(a: DuckDBAppender, r: MergedRun): void {
  a.appendVarchar(r.run_id);
  appendText(a, r.run_type);
  a.appendVarchar(r.status);
  appendMs(a, r.created_at_ms);
  appendMs(a, r.started_at_ms);
  appendMs(a, r.completed_at_ms);
  appendMs(a, r.failed_at_ms);
  appendText(a, r.label);
  a.appendBoolean(r.archived);
  appendText(a, r.config);
  appendText(a, r.summary_json);
  appendText(a, r.data_fingerprint);
  appendMs(a, r.last_event_at_ms);
}

function appendText(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(v);
}

function appendMs(a: DuckDBAppender, v: number | null): void {
  if (v === null) a.appendNull();
  else a.appendBigInt(BigInt(v));
}

function toMergedRun(r: Record<string, unknown>): MergedRun {
  return {
    run_id: String(r.run_id),
    run_type: textOrNull(r.run_type),
    status: String(r.status ?? "pending"),
    created_at_ms: msOrNull(r.created_at_ms),
    started_at_ms: msOrNull(r.started_at_ms),
    completed_at_ms: msOrNull(r.completed_at_ms),
    failed_at_ms: msOrNull(r.failed_at_ms),
    label: textOrNull(r.label),
    archived: r.archived === true,
    config: textOrNull(r.config),
    summary_json: textOrNull(r.summary_json),
    data_fingerprint: textOrNull(r.data_fingerprint),
    last_event_at_ms: msOrNull(r.last_event_at_ms),
  };
}

function textOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function msOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}
