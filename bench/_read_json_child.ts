/**
 * The floor of benchmark item 6 (`bench/_index.ts`): a plain DuckDB
 * `read_json` of every part file of a log into one table of a new database
 * file, with explicit columns (no inference) and `ignore_errors`, then
 * `CHECKPOINT`. Prints `{elapsedMs, rows, peakRssBytes}` as one JSON line.
 *
 * Usage: `deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys bench/_read_json_child.ts ROOT DB_PATH`
 *
 * @module
 */
import { DuckDBInstance } from "../indexer/duckdb.ts";
import { join } from "node:path";
import { peakRssBytes } from "./_stats.ts";

/** Every field of every event type, typed as the index reads them. */
const COLUMNS = `{event_type: 'VARCHAR', event_id: 'VARCHAR', timestamp_ms: 'BIGINT',
  run_id: 'VARCHAR', schema_version: 'INTEGER', run_type: 'VARCHAR', config: 'JSON',
  data_fingerprint: 'VARCHAR', host: 'VARCHAR', pid: 'BIGINT', phase_name: 'VARCHAR',
  phase_order: 'BIGINT', duration_ms: 'BIGINT', output_summary: 'JSON', trial_id: 'VARCHAR',
  params: 'JSON', metrics: 'JSON', artifact_type: 'VARCHAR', artifact_path: 'VARCHAR',
  size_bytes: 'BIGINT', alerts_total: 'BIGINT', alerts_ok: 'BIGINT', summary: 'JSON',
  artifact_paths: 'JSON', error: 'JSON'}`;

async function main(): Promise<void> {
  const [root, dbPath] = Deno.args;
  await Deno.remove(dbPath).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(dbPath);
  const conn = await instance.connect();
  let rows: number;
  try {
    await conn.run(
      `CREATE TABLE raw AS SELECT * FROM read_json($1, format = 'newline_delimited',
        ignore_errors = true, columns = ${COLUMNS})`,
      [join(root, "events", "day=*", "part-*.jsonl")],
    );
    await conn.run("CHECKPOINT");
    const reader = await conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM raw");
    rows = Number(reader.getRowObjects()[0].n);
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
  const elapsedMs = performance.now() - t0; // closed: the table is on disk, like a published index
  console.log(JSON.stringify({ elapsedMs, rows, peakRssBytes: peakRssBytes() }));
}

if (import.meta.main) await main();
