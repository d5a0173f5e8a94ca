/**
 * Reading the two stores of dual mode: the legacy DuckDB file and the
 * event-log index. Both are opened read-only, read, and closed before the
 * function returns. A missing file, table or column is a warning in the
 * result, never an exception.
 *
 * @module
 */
import { TIMESTAMP_MS_MAX } from "../ledger/limits.ts";
import { exists, fileOnPath } from "../ledger/exists.ts";
import { InstantFormatError, parseInstant } from "../indexer/query/time.ts";
import type { DuckDBConnection, DuckDBInstance } from "../indexer/duckdb.ts";
import {
  columnExpression,
  type ColumnKind,
  LEGACY_SCHEMA,
  legacySelect,
  missingColumnExpression,
  SQL_INDEX_PARITY,
  SQL_INDEX_RUNS,
  SQL_INDEX_TABLES,
  SQL_LEGACY_COLUMNS,
} from "./_sql.ts";
import { indexPath, resolveRoot } from "../ledger/paths.ts";

/**
 * Where the legacy DuckDB file is by default, relative to the working directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DEFAULT_LEGACY_DB_PATH } from "./read.ts";
 * import { resolveDualPaths } from "./dual.ts";
 * // Relative: dual mode looks for it under the directory the command runs in.
 * assert.equal(DEFAULT_LEGACY_DB_PATH, "data/baseline_results.duckdb");
 * assert.equal(resolveDualPaths({ root: "/srv/ledger" }).legacyDbPath, DEFAULT_LEGACY_DB_PATH);
 * ```
 */
export const DEFAULT_LEGACY_DB_PATH = "data/baseline_results.duckdb";

/** The ledger root when none is given: `LEDGER_ROOT`, else `data/ledger`. */
export function defaultRoot(): string {
  return resolveRoot();
}

/** The index of `root` (default {@linkcode defaultRoot}). */
export function defaultIndexDbPath(root?: string): string {
  return indexPath(root ?? defaultRoot());
}

import {
  IndexFormatError,
  isDuckDbFile,
  NotAnIndexError,
  openDuckDbFile,
  READER_CONFIG,
  requireIndexFormat,
  type RunStatus,
} from "../indexer/queries.ts";

/** A run's status, as the index reports it (SPEC 7): the index's own type. */
export type { RunStatus };

/**
 * One legacy run: `optimizer.runs_d` joined with `optimizer.runs_status`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type LegacyRow, readLegacyRows } from "./read.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/old.duckdb`;
 *   // A run defined in runs_d that never got a row in runs_status.
 *   const run = { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1), noStatusRow: true };
 *   await createLegacyDb(path, [run]);
 *   const [row]: LegacyRow[] = (await readLegacyRows(path)).rows;
 *   assert.equal(row.created_at_ms, run.created_at_ms); // epoch ms
 *   assert.equal(row.has_status_row, false);
 *   assert.equal(row.started_at_ms, null);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface LegacyRow {
  /** `runs_d.run_id`. */
  run_id: string;
  /** `runs_d.run_type`. */
  run_type: string | null;
  /**
   * `runs_d.created_at_ms` (a TIMESTAMP column is read as its epoch ms; text as epoch digits
   * or an ISO instant, UTC when it has no offset).
   */
  created_at_ms: number | null;
  /** `runs_d.config` as JSON text. */
  config: string | null;
  /** `runs_d.data_fingerprint`. */
  data_fingerprint: string | null;
  /** `runs_status.started_at_ms`. */
  started_at_ms: number | null;
  /** `runs_status.completed_at_ms`. */
  completed_at_ms: number | null;
  /** `runs_status.failed_at_ms`, when the file has the column. */
  failed_at_ms: number | null;
  /** `runs_status.summary_json` as JSON text. */
  summary_json: string | null;
  /** `runs_status.error_json` as JSON text, when the file has the column. */
  error_json: string | null;
  /** The legacy `status` column, when the file has one. */
  status_text: string | null;
  /** Whether `optimizer.runs_status` has a row for this run. */
  has_status_row: boolean;
  /**
   * Rows the legacy file holds for this run id in each table, when either
   * holds more than one: this row is one pick of them (the earliest
   * definition, the furthest status), so the run is not backfilled.
   */
  duplicates?: { definitions: number; statuses: number };
  /**
   * True when `optimizer.runs_status` has this run and `runs_d` has not: it
   * is listed (as the index lists a run with status events and no
   * `run.created`) with no type, config or creation time, and is never
   * backfilled, so parity reports it and the file is not archived with it.
   */
  statusOnly?: true;
}

/** One run of the index (`latest_runs` with failure columns of `runs_status`). */
export interface IndexRow {
  run_id: string;
  run_type: string | null;
  created_at_ms: number | null;
  started_at_ms: number | null;
  completed_at_ms: number | null;
  failed_at_ms: number | null;
  summary_json: string | null;
  error_json: string | null;
  status: string | null;
}

/** One run definition and status of the index, for the parity check. */
export interface IndexParityRow {
  run_id: string;
  run_type: string | null;
  created_at_ms: number | null;
  config: string | null;
  data_fingerprint: string | null;
  started_at_ms: number | null;
  completed_at_ms: number | null;
  failed_at_ms: number | null;
  summary_json: string | null;
  error_json: string | null;
  /** The run's status as the index derives it (`completed`, `failed`, `running`...). */
  status: string | null;
  /** How many `run.created` events the run has (1 when one writer created it). */
  created_count: number | null;
}

/** What one store gave: its rows, whether it could be read, and why not. */
export interface StoreRead<T> {
  rows: T[];
  /** False when the file or its tables are missing or unreadable. */
  available: boolean;
  warnings: string[];
  /**
   * Legacy rows with no `run_id` (NULL), by table: not in `rows`, since no
   * run can be made of them. Absent when there are none.
   */
  unidentified?: UnidentifiedRows;
  /**
   * Columns of the legacy tables no run field comes from (`runs_d.notes`, say), as
   * `table.column`: the backfill carries none of them into the event log. Absent when there
   * are none.
   */
  unreadColumns?: string[];
  /**
   * Required columns the legacy tables lack (read as NULL), as `table.column`, or `runs_status`
   * when that table is missing: no comparison can tell their values were carried over. Absent
   * when there are none.
   */
  missingColumns?: string[];
}

/** Rows of the legacy tables whose `run_id` is NULL. */
export interface UnidentifiedRows {
  /** In `runs_d`. */
  definitions: number;
  /** In `runs_status`. */
  statuses: number;
}

/**
 * The legacy rows with no `run_id` as one skipped "run" of backfill and
 * parity (run id `""`): they cannot be backfilled (an event needs a run
 * id), and archiving the legacy file without them loses them, so parity
 * counts them as a difference unless `--allow-skipped` (an audit: such
 * rows were left out of every listing, backfill and parity in silence).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { unidentifiedSkip } from "./read.ts";
 * const skip = unidentifiedSkip({ definitions: 2, statuses: 0 });
 * assert.equal(skip.run_id, "");
 * assert.match(skip.reason, /^2 rows of runs_d and 0 of runs_status have no run_id/);
 * ```
 */
export function unidentifiedSkip(rows: UnidentifiedRows): { run_id: string; reason: string } {
  return {
    run_id: "",
    reason: `${rows.definitions} ${rows.definitions === 1 ? "row" : "rows"} of runs_d and ` +
      `${rows.statuses} of runs_status have no run_id: no run can be made of them, and ` +
      `archiving the legacy file loses them`,
  };
}

/**
 * The warning of a backfill or parity for legacy columns no run field comes from
 * ({@linkcode StoreRead.unreadColumns}; none when there are none): their values are in the
 * legacy file only, and in the archived file after `legacy archive` (a probe: a `notes` column
 * was dropped without a word).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { unreadColumnsWarnings } from "./read.ts";
 * const [warning] = unreadColumnsWarnings("legacy.duckdb", ["runs_d.notes"]);
 * assert.match(
 *   warning,
 *   /^Legacy database legacy\.duckdb has 1 column the event log does not keep: runs_d\.notes;/,
 * );
 * assert.deepEqual(unreadColumnsWarnings("legacy.duckdb", undefined), []);
 * ```
 */
export function unreadColumnsWarnings(path: string, columns: string[] | undefined): string[] {
  if (columns === undefined || columns.length === 0) return [];
  const shown = columns.slice(0, UNREAD_COLUMNS_SHOWN_MAX).join(", ");
  const more = columns.length > UNREAD_COLUMNS_SHOWN_MAX ? ", ..." : "";
  return [
    `Legacy database ${path} has ${columns.length} ${
      columns.length === 1 ? "column" : "columns"
    } the event log does not keep: ${shown}${more}; ` +
    "their values are not backfilled or compared, and stay in the legacy file (the archived " +
    "file after legacy archive)",
  ];
}

/** Unread columns a warning names. */
const UNREAD_COLUMNS_SHOWN_MAX = 10;

/** The suffix of the record an archive keeps of its moves while it makes them (legacy/parity.ts). */
export const ARCHIVE_RECORD_SUFFIX = ".archiving";

/** Filter applied inside the SQL, with bound values. */
export interface ReadFilter {
  /** Only this run. */
  runId?: string;
  /** Only runs whose id starts with this (a prefix given on the command line). */
  runIdPrefix?: string;
}

/**
 * The WHERE clause and its values of `filter` over `column` (empty when no filter). The id is
 * compared as text, as it is listed: a legacy file may keep ids in a numeric column, where
 * `starts_with` failed (so `show PREFIX` missed the run) and `= '04217'` matched run 4217.
 */
function filterSql(filter: ReadFilter, column: string): { sql: string; values: string[] } {
  // Without a leading U+FEFF, as `text` reads it.
  const id = `regexp_replace(CAST(${column} AS VARCHAR), '^' || chr(65279), '')`;
  if (filter.runId !== undefined) return { sql: ` WHERE ${id} = ?`, values: [filter.runId] };
  if (filter.runIdPrefix !== undefined) {
    return { sql: ` WHERE starts_with(${id}, ?)`, values: [filter.runIdPrefix] };
  }
  return { sql: "", values: [] };
}

type Row = Record<string, unknown>;

/** Legacy files whose reads must succeed ({@linkcode requireLegacyReads}). */
const requiredLegacyFiles = new Set<string>();

/**
 * From now on in this process, {@linkcode readLegacyRows} of `path` throws
 * {@linkcode LegacyReadError} where it would say in a warning that the file
 * cannot be read: for a file the user named (`--legacy-db`), which must be
 * read (docs/MIGRATION.md: a mistyped path would otherwise list the index
 * alone as if the legacy runs were gone). A probe: a cut DuckDB file opened,
 * failed on its first read, and `runs --legacy-db` listed the index alone
 * under a warning, exit 0. The default file, read when it is there, keeps
 * the warning.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LegacyReadError, readLegacyRows, requireLegacyReads } from "./read.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/old.duckdb`;
 *   assert.equal((await readLegacyRows(path)).available, false); // not there: a warning
 *   requireLegacyReads(path);
 *   await assert.rejects(readLegacyRows(path), LegacyReadError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function requireLegacyReads(path: string): void {
  requiredLegacyFiles.add(path);
}

/**
 * A legacy file the user named ({@linkcode requireLegacyReads}) could not be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LegacyReadError } from "./read.ts";
 * const err = new LegacyReadError("old.duckdb", "IO Error: Could not read enough bytes");
 * assert.equal(err.message, "Legacy DuckDB file old.duckdb (--legacy-db) cannot be read: IO Error: Could not read enough bytes");
 * ```
 */
export class LegacyReadError extends Error {
  /** Create the error for `path`, which could not be read for `why`. */
  constructor(path: string, why: string) {
    super(`Legacy DuckDB file ${path} (--legacy-db) cannot be read: ${why}`);
    this.name = "LegacyReadError";
  }
}

/** Read the legacy runs of `path` (schema `optimizer`). */
export async function readLegacyRows(
  path: string,
  filter: ReadFilter = {},
): Promise<StoreRead<LegacyRow>> {
  const required = requiredLegacyFiles.has(path);
  const read = await readLegacyFile(path, filter, required);
  if (!read.available && required) throw new LegacyReadError(path, read.warnings.join("; "));
  return read;
}

async function readLegacyFile(
  path: string,
  filter: ReadFilter,
  required: boolean,
): Promise<StoreRead<LegacyRow>> {
  const opened = await openReadOnly(path, "legacy database");
  if ("warning" in opened) {
    // Moved by an archive that was killed before it moved the rest (legacy/parity.ts).
    const interrupted = await exists(`${path}${ARCHIVE_RECORD_SUFFIX}`, { noFollow: true })
      .catch((err) => {
        if (err instanceof Deno.errors.NotADirectory) return false; // said by the warning
        throw err;
      });
    const warning = interrupted
      ? `${opened.warning}: an archive of it was interrupted (${path}${ARCHIVE_RECORD_SUFFIX}); ` +
        "ledger legacy archive finishes it"
      : opened.warning;
    return { rows: [], available: false, warnings: [warning] };
  }
  const { instance, connection } = opened;
  try {
    return await readLegacyTables(connection, path, filter);
  } catch (err) {
    if (required) throw new LegacyReadError(path, firstLine(err));
    return {
      rows: [],
      available: false,
      warnings: [`Cannot read legacy database ${path}: ${firstLine(err)}`],
    };
  } finally {
    connection.disconnectSync();
    instance.closeSync();
  }
}

async function readLegacyTables(
  connection: DuckDBConnection,
  path: string,
  filter: ReadFilter,
): Promise<StoreRead<LegacyRow>> {
  const warnings: string[] = [];
  const columns = await legacyColumns(connection);
  const defs = columns.get("runs_d");
  if (!defs?.has("run_id")) {
    const what = defs ? "has no run_id column" : "is missing";
    warnings.push(`Legacy table ${LEGACY_SCHEMA}.runs_d in ${path} ${what}; no legacy runs read`);
    return { rows: [], available: false, warnings };
  }
  const missingColumns = requiredMissing("runs_d", defs, RUNS_KINDS);
  warnings.push(...missingColumnsWarning(path, "runs_d", defs, RUNS_KINDS));
  const defRows = await selectLegacy(connection, "runs_d", defs, RUNS_KINDS, filter);
  warnings.push(...unreadableTimesWarnings(path, "runs_d", defRows, RUNS_KINDS));
  const stats = columns.get("runs_status");
  let statusRows: Row[] = [];
  if (!stats?.has("run_id")) {
    warnings.push(
      `Legacy table ${LEGACY_SCHEMA}.runs_status in ${path} is missing; legacy runs show as pending`,
    );
    missingColumns.push("runs_status");
  } else {
    missingColumns.push(...requiredMissing("runs_status", stats, STATUS_KINDS));
    warnings.push(...missingColumnsWarning(path, "runs_status", stats, STATUS_KINDS));
    statusRows = await selectLegacy(connection, "runs_status", stats, STATUS_KINDS, filter);
    warnings.push(...unreadableTimesWarnings(path, "runs_status", statusRows, STATUS_KINDS));
  }
  const rows = joinLegacy(defRows, statusRows);
  const unidentified = {
    definitions: defRows.filter((r) => r.run_id === null).length,
    statuses: statusRows.filter((r) => r.run_id === null).length,
  };
  const hasUnidentified = unidentified.definitions + unidentified.statuses > 0;
  if (hasUnidentified) {
    warnings.push(
      `Legacy database ${path} has ${unidentified.definitions} row(s) in runs_d and ` +
        `${unidentified.statuses} in runs_status with no run_id; they are not listed or ` +
        `backfilled, and parity counts them unless --allow-skipped`,
    );
  }
  const duplicated = rows.filter((r) => r.duplicates !== undefined);
  if (duplicated.length > 0) {
    // A listing shows one pick of the rows; backfill and parity leave such runs out (an
    // audit: two rows of one id became one run of neither, and the other row was lost).
    const shown = duplicated.slice(0, DUPLICATES_SHOWN_MAX).map((r) =>
      `${r.run_id} (${r.duplicates!.definitions} in runs_d, ${
        r.duplicates!.statuses
      } in runs_status)`
    );
    warnings.push(
      `Legacy database ${path} has several rows for ${duplicated.length} run id(s): ` +
        `${shown.join(", ")}${duplicated.length > DUPLICATES_SHOWN_MAX ? ", ..." : ""}; each is ` +
        `listed once (the earliest definition, the furthest status) and never backfilled`,
    );
  }
  const unreadColumns = [
    ...unreadOf("runs_d", defs, RUNS_KINDS),
    ...(stats?.has("run_id") ? unreadOf("runs_status", stats, STATUS_KINDS) : []),
  ];
  return {
    rows,
    available: true,
    warnings,
    ...(hasUnidentified ? { unidentified } : {}),
    ...(unreadColumns.length > 0 ? { unreadColumns } : {}),
    ...(missingColumns.length > 0 ? { missingColumns } : {}),
  };
}

/** The columns of `table` that are not in `kinds`, as `table.column`, in the file's order. */
function unreadOf(
  table: string,
  present: Map<string, string>,
  kinds: Record<string, ColumnKind>,
): string[] {
  return [...present.keys()].filter((c) => !Object.hasOwn(kinds, c)).map((c) => `${table}.${c}`);
}

/** Duplicated run ids a warning names. */
const DUPLICATES_SHOWN_MAX = 5;

const RUNS_KINDS: Record<string, ColumnKind> = {
  run_id: "id",
  run_type: "text",
  created_at_ms: "ms",
  config: "json",
  data_fingerprint: "text",
};

/** Columns a legacy file may lack without a word (MIGRATION.md: the optional ones). */
const OPTIONAL_COLUMNS: ReadonlySet<string> = new Set(["failed_at_ms", "error_json", "status"]);

/**
 * A warning naming the required columns `table` lacks (read as NULL), or
 * nothing: a runs_status without completed_at_ms listed every finished run
 * as stale, in silence.
 */
function missingColumnsWarning(
  path: string,
  table: string,
  present: Map<string, string>,
  kinds: Record<string, ColumnKind>,
): string[] {
  const missing = requiredMissing(table, present, kinds).map((c) => c.slice(table.length + 1));
  if (missing.length === 0) return [];
  return [
    `Legacy table ${LEGACY_SCHEMA}.${table} in ${path} has no column ${missing.join(", ")}: ` +
    `read as NULL, so its runs may show the wrong status`,
  ];
}

/** The columns of `kinds` that `table` lacks and must have, as `table.column`. */
function requiredMissing(
  table: string,
  present: Map<string, string>,
  kinds: Record<string, ColumnKind>,
): string[] {
  return Object.keys(kinds).filter((c) => !present.has(c) && !OPTIONAL_COLUMNS.has(c))
    .map((c) => `${table}.${c}`);
}

const STATUS_KINDS: Record<string, ColumnKind> = {
  run_id: "id",
  started_at_ms: "ms",
  completed_at_ms: "ms",
  summary_json: "json",
  failed_at_ms: "ms",
  error_json: "json",
  status: "text",
};

async function legacyColumns(
  connection: DuckDBConnection,
): Promise<Map<string, Map<string, string>>> {
  const reader = await connection.runAndReadAll(SQL_LEGACY_COLUMNS, [LEGACY_SCHEMA]);
  const tables = new Map<string, Map<string, string>>();
  for (const row of reader.getRowObjectsJS()) {
    const table = String(row.table_name);
    if (!tables.has(table)) tables.set(table, new Map());
    tables.get(table)!.set(String(row.column_name).toLowerCase(), String(row.data_type));
  }
  return tables;
}

async function selectLegacy(
  connection: DuckDBConnection,
  table: "runs_d" | "runs_status",
  present: Map<string, string>,
  kinds: Record<string, ColumnKind>,
  filter: ReadFilter,
): Promise<Row[]> {
  const expressions = Object.entries(kinds).map(([name, kind]) => {
    const type = present.get(name);
    return type === undefined ? missingColumnExpression(name) : columnExpression(name, type, kind);
  });
  const where = filterSql(filter, `"run_id"`);
  const reader = await connection.runAndReadAll(
    legacySelect(table, expressions) + where.sql,
    where.values,
  );
  return reader.getRowObjectsJS() as Row[];
}

function joinLegacy(defRows: Row[], statusRows: Row[]): LegacyRow[] {
  const statusById = new Map<string, Row>();
  const statusCount = new Map<string, number>();
  const defCount = new Map<string, number>();
  for (const d of defRows) {
    if (d.run_id !== null) {
      defCount.set(text(d.run_id)!, (defCount.get(text(d.run_id)!) ?? 0) + 1);
    }
  }
  for (const s of statusRows) {
    if (s.run_id === null) continue;
    const id = text(s.run_id)!;
    statusCount.set(id, (statusCount.get(id) ?? 0) + 1);
    const seen = statusById.get(id);
    // Several status rows for one run: the one that got furthest wins.
    if (!seen || statusProgress(s) > statusProgress(seen)) statusById.set(id, s);
  }
  /** The run `id` from its definition and status rows (either may be missing). */
  const legacyRow = (id: string, d: Row | undefined, s: Row | undefined): LegacyRow => {
    const row: LegacyRow = {
      run_id: id,
      run_type: text(d?.run_type),
      created_at_ms: ms(d?.created_at_ms),
      config: text(d?.config),
      data_fingerprint: text(d?.data_fingerprint),
      started_at_ms: ms(s?.started_at_ms),
      completed_at_ms: ms(s?.completed_at_ms),
      failed_at_ms: ms(s?.failed_at_ms),
      summary_json: text(s?.summary_json),
      error_json: text(s?.error_json),
      status_text: text(s?.status),
      has_status_row: s !== undefined,
    };
    if (d === undefined) row.statusOnly = true;
    const definitions = defCount.get(id) ?? 0;
    const statuses = statusCount.get(id) ?? 0;
    if (definitions > 1 || statuses > 1) row.duplicates = { definitions, statuses };
    return row;
  };
  const byId = new Map<string, LegacyRow>();
  for (const d of defRows) {
    if (d.run_id === null) continue;
    const id = text(d.run_id)!;
    const row = legacyRow(id, d, statusById.get(id));
    const seen = byId.get(id);
    // Duplicate definitions: the earliest created wins, deterministically.
    if (!seen || (row.created_at_ms ?? Infinity) < (seen.created_at_ms ?? Infinity)) {
      byId.set(id, row);
    }
  }
  // A status row without a definition is a run too: dropping it lost it at archive in silence.
  for (const [id, s] of statusById) {
    if (!byId.has(id)) byId.set(id, legacyRow(id, undefined, s));
  }
  return [...byId.values()];
}

function statusProgress(s: Row): number {
  return (s.failed_at_ms != null ? 4 : 0) + (s.completed_at_ms != null ? 2 : 0) +
    (s.started_at_ms != null ? 1 : 0);
}

/** Read the runs of the index at `indexDbPath` (`latest_runs` + `runs_status`). */
export async function readIndexRows(
  indexDbPath: string,
  filter: ReadFilter = {},
): Promise<StoreRead<IndexRow>> {
  return await readIndex(indexDbPath, SQL_INDEX_RUNS, "l", filter, ["latest_runs", "runs_status"]);
}

/** Read run definitions and status of the index, for the parity check. */
export async function readIndexParityRows(
  indexDbPath: string,
): Promise<StoreRead<IndexParityRow>> {
  return await readIndex(indexDbPath, SQL_INDEX_PARITY, "d", {}, ["runs_d", "runs_status"]);
}

async function readIndex<T>(
  indexDbPath: string,
  baseSql: string,
  alias: string,
  filter: ReadFilter,
  needed: string[],
): Promise<StoreRead<T>> {
  const opened = await openReadOnly(indexDbPath, "event-log index");
  if ("warning" in opened) return { rows: [], available: false, warnings: [opened.warning] };
  const { instance, connection } = opened;
  try {
    const tables = await connection.runAndReadAll(SQL_INDEX_TABLES);
    const have = new Set(tables.getRowObjectsJS().map((r) => String(r.table_name)));
    const missing = needed.filter((t) => !have.has(t));
    if (missing.length > 0) {
      const warning = `Event-log index ${indexDbPath} lacks ${missing.join(", ")}; ` +
        "no event-log runs read (run ledger rebuild-index)";
      return { rows: [], available: false, warnings: [warning] };
    }
    // An older ledger's index answers by its rules (format 5 listed annotation-only runs): not
    // read, as by every reader; parity and archive refuse on it (a review).
    try {
      await requireIndexFormat(connection, indexDbPath);
    } catch (err) {
      if (!(err instanceof IndexFormatError || err instanceof NotAnIndexError)) throw err;
      return { rows: [], available: false, warnings: [err.message] };
    }
    const where = filterSql(filter, `${alias}.run_id`);
    const reader = await connection.runAndReadAll(baseSql + where.sql, where.values);
    const rows = reader.getRowObjectsJS().map((r) => normalizeIndexRow(r as Row)) as T[];
    return { rows, available: true, warnings: [] };
  } catch (err) {
    return {
      rows: [],
      available: false,
      warnings: [`Cannot read event-log index ${indexDbPath}: ${firstLine(err)}`],
    };
  } finally {
    connection.disconnectSync();
    instance.closeSync();
  }
}

function normalizeIndexRow(r: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(r)) {
    out[key] = key.endsWith("_ms") || key === "created_count"
      ? ms(value) // an integer or null
      : key === "run_id"
      ? String(value)
      : text(value);
  }
  return out;
}

type Opened = { instance: DuckDBInstance; connection: DuckDBConnection } | { warning: string };

/** Open `path` read-only, or say in one sentence why not. */
async function openReadOnly(path: string, what: string): Promise<Opened> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return { warning: `The ${what} ${path} is not a file` };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { warning: `The ${what} ${path} does not exist` };
    }
    if (err instanceof Deno.errors.NotADirectory) {
      return { warning: `The ${what} ${path} does not exist: ${await fileOnPath(path)} is a file` };
    }
    return { warning: `Cannot stat the ${what} ${path}: ${firstLine(err)}` };
  }
  let instance: DuckDBInstance | undefined;
  try {
    // External access off, as every index reader: a view in the file could read other files,
    // and a file of another format made DuckDB download an extension (into ~/.duckdb). By its
    // real path: a link's target's .wal is refused otherwise (see openDuckDbFile).
    instance = await openDuckDbFile(path, { ...READER_CONFIG });
    const connection = await instance.connect();
    return { instance, connection };
  } catch (err) {
    instance?.closeSync();
    // A CSV or Parquet file given as the legacy file: DuckDB's words named neither (a review).
    if (await isDuckDbFile(path) === false) {
      return { warning: `The ${what} ${path} is not a DuckDB database` };
    }
    return { warning: `Cannot open the ${what} ${path} read-only: ${firstLine(err)}` };
  }
}

/**
 * A time in ms since the epoch, or null: also for a value no time has (past
 * year 9999 either way, such as a BIGINT's largest, 9223372036854775807),
 * which took the whole dual-mode listing down ("bigint out of int64 range").
 */
function ms(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  let n: number;
  if (typeof v === "bigint") n = Number(v);
  else if (v instanceof Date) n = v.getTime();
  else if (typeof v === "string") n = textMs(v);
  else n = Number(v);
  if (!Number.isFinite(n)) return null;
  // The ms holding the instant: floor, not trunc, before 1970 too (a review: text with digits past
  // the ms read 1 ms late there), and no -0.
  n = Math.floor(n) + 0;
  return Math.abs(n) <= TIMESTAMP_MS_MAX ? n : null;
}

/** A decimal number as text: digits, an optional sign, fraction and exponent (`1.7e12`). */
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A time held as text: epoch milliseconds in digits, or an ISO date or instant read as
 * `--since` reads one (no offset = UTC). `NaN` for empty text and for text that is no time.
 */
function textMs(v: string): number {
  const trimmed = v.trim();
  if (trimmed === "") return NaN;
  // Decimal only: Number() also reads "0x1A" (26 ms), "0b1" and "0o7" (a probe), which no
  // writer meant as a time; they are then no time, and warned of.
  if (DECIMAL_TEXT.test(trimmed)) return Number(trimmed);
  try {
    return parseInstant(trimmed);
  } catch (err) {
    if (err instanceof InstantFormatError) return NaN;
    throw err;
  }
}

/**
 * A warning per time column of `table` naming values that are there and are no time (read as
 * NULL): a completed run timed in text it cannot read shows as pending, and the backfill
 * leaves its completion out.
 */
function unreadableTimesWarnings(
  path: string,
  table: string,
  rows: Row[],
  kinds: Record<string, ColumnKind>,
): string[] {
  const warnings: string[] = [];
  for (const [name, kind] of Object.entries(kinds)) {
    if (kind !== "ms") continue;
    const bad = rows.filter((r) => {
      const v = r[name];
      if (v === null || v === undefined) return false;
      return !(typeof v === "string" && v.trim() === "") && ms(v) === null;
    });
    if (bad.length > 0) {
      warnings.push(
        `Legacy table ${LEGACY_SCHEMA}.${table} in ${path} has ${bad.length} value(s) of ${name} ` +
          `that are not a time (such as ${JSON.stringify(String(bad[0][name]))}): read as NULL, ` +
          `so their runs may show the wrong status`,
      );
    }
    // Epoch seconds where ms belong (a probe: 1768555800 read as 1970-01-21, in silence, and its
    // backfilled events went into day=1970-01-21). Read as written, but said.
    const seconds = rows.filter((r) => {
      const t = ms(r[name]);
      return t !== null && t >= SECONDS_LIKE_MIN && t < SECONDS_LIKE_BELOW;
    });
    if (seconds.length > 0) {
      const t = ms(seconds[0][name])!;
      warnings.push(
        `Legacy table ${LEGACY_SCHEMA}.${table} in ${path} has ${seconds.length} value(s) of ` +
          `${name} that look like epoch seconds (such as ${t}: ` +
          `${new Date(t).toISOString()} as ms, ${new Date(t * 1000).toISOString()} as seconds): ` +
          `read as ms, as the column is defined`,
      );
    }
  }
  return warnings;
}

/**
 * The least value of a ms column that looks like epoch seconds: as ms
 * 1970-01-12, when no backtest ran; as seconds 2001-09-09.
 */
const SECONDS_LIKE_MIN = 1e9;
/** The value from which a ms column's values look like ms again: as ms 1973-03-03, as seconds year 5138. */
const SECONDS_LIKE_BELOW = 1e11;

/**
 * A text column's value, without one leading U+FEFF: a byte order mark
 * (text read from a file saved as UTF-8 with one: Python's `utf-8-sig`) is
 * no part of a run id, a type, a fingerprint or the JSON after it, and
 * `JSON.parse` refuses it. DuckDB's Node package dropped it until the
 * vendored one kept strings whole (a review: then a BOM-prefixed legacy
 * summary was backfilled as raw text, and a legacy run id with one was
 * listed beside the same run of the log).
 */
function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const t = typeof v === "string" ? v : String(v);
  return t.startsWith("\ufeff") ? t.slice(1) : t;
}

/** The first line of an error's message. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0];
}
