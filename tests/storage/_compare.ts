/**
 * Comparing two indexes table by table with `EXCEPT ALL` (private): both
 * files attached read-only in one DuckDB, every content table compared both
 * ways. Columns that name a file (the bucket's mirror names parts
 * `<stem>.<fingerprint>.jsonl`) are left out; everything else must match row
 * for row, duplicates included.
 *
 * @module
 */
import { DuckDBInstance } from "../../indexer/duckdb.ts";

/** The tables and views compared, with the columns that are left out. */
const COMPARED: readonly { table: string; select: string }[] = [
  { table: "events", select: "* EXCLUDE (file, line)" },
  { table: "ingest_errors", select: "line, reason, raw" },
  { table: "runs_d", select: "*" },
  { table: "runs_status", select: "*" },
  { table: "phase_timings", select: "*" },
  { table: "trial_results", select: "*" },
  { table: "artifacts_catalog", select: "*" },
  { table: "baseline_results", select: "*" },
  { table: "latest_runs", select: "*" },
  { table: "run_phase_summary", select: "*" },
];

/** Per table: rows only in `a`, rows only in `b`, and the row count of `a`. */
export type IndexDiff = Record<string, { onlyA: number; onlyB: number; rowsA: number }>;

/** Compare the indexes at `a` and `b`. */
export async function compareIndexes(a: string, b: string): Promise<IndexDiff> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${a.replaceAll("'", "''")}' AS a (READ_ONLY)`);
    await conn.run(`ATTACH '${b.replaceAll("'", "''")}' AS b (READ_ONLY)`);
    const out: IndexDiff = {};
    for (const { table, select } of COMPARED) {
      const count = async (sql: string) =>
        Number((await conn.runAndReadAll(sql)).getRowObjectsJS()[0].n);
      const left = `SELECT ${select} FROM a.${table}`;
      const right = `SELECT ${select} FROM b.${table}`;
      out[table] = {
        onlyA: await count(`SELECT count(*) AS n FROM (${left} EXCEPT ALL ${right})`),
        onlyB: await count(`SELECT count(*) AS n FROM (${right} EXCEPT ALL ${left})`),
        rowsA: await count(`SELECT count(*) AS n FROM a.${table}`),
      };
    }
    return out;
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}
