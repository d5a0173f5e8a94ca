/**
 * Test helpers for the indexer: write JSONL part files directly (flat
 * events as in SPEC 4, Python-format ids and no `schema_version` allowed),
 * build events of every type, and read whole tables back in a stable order.
 *
 * @module
 */
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { join } from "node:path";
import { toPlain } from "../../indexer/_sql.ts";
import { CONTENT_TABLES } from "../../indexer/schema.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { openWriter } from "../../ledger/writer.ts";

/** 2026-01-20T00:00:00Z, the day most fixtures use. */
export const T0 = Date.UTC(2026, 0, 20);

let counter = 0;

/** A Python-format event id (`<ms>_<8 hex>`) unique within the test process. */
export function pyId(timestampMs: number): string {
  counter++;
  return `${timestampMs}_${counter.toString(16).padStart(8, "0")}`;
}

/** Build a flat event (Python format: no schema_version unless given). */
export function ev(
  type: string,
  runId: string,
  timestampMs: number,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    event_type: type,
    event_id: pyId(timestampMs),
    timestamp_ms: timestampMs,
    run_id: runId,
    ...fields,
  };
}

/** The events of one complete run with every lifecycle type. */
export function fullRun(runId: string, startMs: number): Record<string, unknown>[] {
  return [
    ev("run.created", runId, startMs, {
      run_type: "path-only",
      config: { interval: "1m", note: "é ü 日本" },
      data_fingerprint: "fp1",
    }),
    ev("run.started", runId, startMs + 1, { host: "elsewhere", pid: 4242 }),
    ev("phase.started", runId, startMs + 2, { phase_name: "plan", phase_order: 0 }),
    ev("phase.completed", runId, startMs + 12, {
      phase_name: "plan",
      duration_ms: 10,
      output_summary: { calls: 3 },
    }),
    ev("phase.started", runId, startMs + 13, { phase_name: "load", phase_order: 1 }),
    ev("phase.completed", runId, startMs + 33, {
      phase_name: "load",
      duration_ms: 20,
      output_summary: { rows: 100 },
    }),
    ev("trial.recorded", runId, startMs + 40, {
      trial_id: "t1",
      params: { stop: 0.2 },
      metrics: { sharpe: 1.5 },
    }),
    ev("artifact.created", runId, startMs + 50, {
      artifact_type: "paths",
      artifact_path: `artifacts/runs/${runId}/paths.parquet`,
      size_bytes: 1234,
    }),
    ev("baseline.completed", runId, startMs + 55, {
      alerts_total: 10,
      alerts_ok: 9,
      artifact_path: `artifacts/runs/${runId}/baseline.parquet`,
    }),
    ev("run.completed", runId, startMs + 60, {
      summary: { calls: 3, ok: true },
      artifact_paths: { paths: `artifacts/runs/${runId}/paths.parquet` },
    }),
  ];
}

/** Options for {@linkcode writePart}. */
export interface WritePartOptions {
  /** Append instead of replacing. @default {false} */
  append?: boolean;
  /** Text written after the last line, with no newline (a torn tail). @default {""} */
  tail?: string;
}

/** Write events (objects, or raw strings as is) as lines of a part file. */
export async function writePart(
  root: string,
  relative: string,
  lines: (Record<string, unknown> | string)[],
  options: WritePartOptions = {},
): Promise<string> {
  const path = join(root, "events", relative);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const text = lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l)) + "\n").join("") +
    (options.tail ?? "");
  await Deno.writeTextFile(path, text, { append: options.append ?? false });
  return path;
}

/** Query an index read-only and return plain rows. */
export async function query(dbPath: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS().map(toPlain);
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

/** Every content table, rows sorted by all columns: for comparing two indexes. */
export async function dumpTables(dbPath: string): Promise<Record<string, unknown[]>> {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    const out: Record<string, unknown[]> = {};
    for (const table of [...CONTENT_TABLES, "run_phase_summary"]) {
      const reader = await conn.runAndReadAll(`SELECT * FROM ${table} ORDER BY ALL`);
      out[table] = reader.getRowObjectsJS().map(toPlain);
    }
    return out;
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

/**
 * A root at `root` whose log holds one completed run for each of `runIds`
 * (created, then completed), indexed: what the run id resolution tests
 * look runs up in.
 */
export async function indexCompletedRuns(root: string, runIds: readonly string[]): Promise<void> {
  const writer = await openWriter(root);
  for (const run_id of runIds) {
    await writer.appendBatch([
      { event_type: "run.created", run_id, run_type: "t", config: {}, data_fingerprint: "f" },
      { event_type: "run.completed", run_id, summary: {}, artifact_paths: {} },
    ]);
  }
  await writer.close();
  await rebuildIndex(root, {});
}
