/**
 * A reader process for the concurrency suite (private): for DURATION_MS,
 * opens the index read-only, queries `latest_runs` and `events`, closes it,
 * and counts every error. Waits for the index to exist first; with no query
 * done by the deadline (the first index not yet published: a loaded
 * machine), goes on until its first one, up to FIRST_QUERY_GRACE_MS more.
 * Prints `{"queries": n, "errors": [...]}` at the end.
 *
 * Usage: `_reader_child.ts DB_PATH DURATION_MS`.
 *
 * @module
 */
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { exists } from "../../ledger/exists.ts";

/** Pause between two queries, in ms. */
const PAUSE_MS = 20;
/** Error messages kept in the report. */
const ERRORS_KEPT_MAX = 20;
/** How long past the deadline a reader that has not queried yet waits for the index, ms. */
const FIRST_QUERY_GRACE_MS = 30_000;

const [dbPath, durationText] = Deno.args;
const deadline = Date.now() + Number(durationText);
const errors: string[] = [];
let errorCount = 0;
let queries = 0;

const reading = () =>
  Date.now() < deadline || (queries === 0 && Date.now() < deadline + FIRST_QUERY_GRACE_MS);
while (!(await exists(dbPath)) && reading()) {
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
}
while (reading()) {
  try {
    const instance = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
    const conn = await instance.connect();
    try {
      await conn.runAndReadAll("SELECT run_id, status FROM latest_runs");
      await conn.runAndReadAll("SELECT count(*) FROM events");
      queries += 1;
    } finally {
      conn.disconnectSync();
      instance.closeSync();
    }
  } catch (err) {
    errorCount += 1;
    if (errors.length < ERRORS_KEPT_MAX) errors.push(String(err).split("\n")[0]);
  }
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
}
console.log(JSON.stringify({ queries, errorCount, errors }));
