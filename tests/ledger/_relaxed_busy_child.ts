/**
 * A child for `relaxed_window_test.ts` (private): a CPU-bound backtest loop
 * on a relaxed emitter. Each trial is 1 ms of busy work and one awaited
 * `trialRecorded`; nothing else awaits, so the event loop gets a turn only
 * when an emit gives one. Each acknowledged id is printed with a
 * synchronous write (a turn there would hide the bug under test).
 *
 * Usage: `_relaxed_busy_child.ts ROOT RUN_ID`. Runs until killed.
 *
 * @module
 */
import { getEventEmitter } from "../../ledger/emitter.ts";

const [root, runId] = Deno.args;
const emitter = getEventEmitter({ root, durability: "relaxed" });
const encoder = new TextEncoder();

function ack(id: string | null): void {
  if (id === null) throw new Error(`emit failed: ${emitter.stats().lastError}`);
  const bytes = encoder.encode(id + "\n");
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
}

ack(await emitter.runCreated(runId, { run_type: "busy", config: {}, data_fingerprint: "fp" }));
for (let trial = 0;; trial++) {
  const until = performance.now() + 1;
  while (performance.now() < until) {
    // CPU work: the event loop gets no turn here
  }
  ack(
    await emitter.trialRecorded(runId, { trial_id: `t${trial}`, params: {}, metrics: { trial } }),
  );
}
