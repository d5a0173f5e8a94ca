/**
 * A reader process for the publishing test: queries the index in a loop for
 * a while (read-only, open and close per query, as `ledger runs` does) and
 * prints `{queries, errors, firstError}` as JSON.
 *
 * Usage: deno run -A _reader_loop.ts DB_PATH DURATION_MS
 *
 * @module
 */
import { listRuns, withIndex } from "../../indexer/queries.ts";

const [dbPath, durationArg] = Deno.args;
const endMs = Date.now() + Number(durationArg);
let queries = 0;
let errors = 0;
let firstError: string | null = null;
while (Date.now() < endMs) {
  try {
    await listRuns(dbPath, { limit: 5 });
    await withIndex(dbPath, async (conn) => {
      await conn.runAndReadAll("SELECT count(*) FROM events");
    });
    queries += 2;
  } catch (err) {
    errors++;
    firstError ??= err instanceof Error ? err.message : String(err);
  }
}
console.log(JSON.stringify({ queries, errors, firstError }));
