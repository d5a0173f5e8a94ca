/**
 * A child for the rollback test (private): run under `ulimit -f` so a write
 * past the limit fails with EFBIG. Twice, a batch writes a small event to
 * one day and too much to another (the second write fails, so the whole
 * batch must be rolled back), each time followed by a small append to the
 * first day; prints a JSON report of what was acknowledged.
 *
 * @module
 */
import { openWriter } from "../../ledger/writer.ts";
import { WriteError } from "../../ledger/errors.ts";

Deno.addSignalListener("SIGXFSZ", () => {}); // get EFBIG from write() instead of dying
const [root] = Deno.args;
const DAY_A_MS = Date.UTC(2026, 0, 1, 12);
const DAY_B_MS = Date.UTC(2026, 0, 2, 12);
const writer = await openWriter(root);
const acked: string[] = [];
let failures = 0;

async function small(tag: string): Promise<void> {
  const e = await writer.append({ event_type: "run.started", run_id: tag, timestamp_ms: DAY_A_MS });
  acked.push(e.event_id);
}

await small("first");
for (let round = 0; round < 2; round++) {
  const big = Array.from({ length: 4 }, () => ({
    event_type: "run.started",
    run_id: "big",
    timestamp_ms: DAY_B_MS,
    blob: "x".repeat(900_000),
  }));
  try {
    await writer.appendBatch([
      { event_type: "run.started", run_id: `lost-${round}`, timestamp_ms: DAY_A_MS },
      ...big,
    ]);
  } catch (err) {
    if (!(err instanceof WriteError)) throw err;
    failures += 1;
  }
  await small(`after-${round}`);
}
await writer.close();
console.log(JSON.stringify({ acked, failures }));
Deno.exit(0);
