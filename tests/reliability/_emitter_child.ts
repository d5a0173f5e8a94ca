/**
 * A child for the kill and concurrency suites (private): a "backtest" that
 * records its run with the in-process emitter (`getEventEmitter`), forever
 * or for a number of events, and prints each event id on stdout once its emit
 * has resolved (durable: acknowledged). A failed emit prints nothing and is
 * counted on stderr.
 *
 * Usage: `_emitter_child.ts ROOT RUN_ID [EVENTS] [PAUSE_MS] [BLOB_BYTES]`.
 * EVENTS 0 (default) means until killed; PAUSE_MS between events (default 0).
 * With a finite EVENTS the run ends with `run.completed`.
 *
 * @module
 */
import { getEventEmitter } from "../../ledger/emitter.ts";

const [root, runId, eventsText = "0", pauseText = "0", blobText = "0"] = Deno.args;
const eventsMax = Number(eventsText);
const pauseMs = Number(pauseText);
const blob = "é".repeat(Number(blobText) / 2);
const emitter = getEventEmitter({ root });
const encoder = new TextEncoder();
let emitted = 0;

async function ack(id: string | null): Promise<void> {
  if (id === null) {
    console.error(`emit failed: ${emitter.stats().lastError}`);
    return;
  }
  emitted += 1;
  const bytes = encoder.encode(id + "\n");
  let offset = 0;
  while (offset < bytes.length) offset += await Deno.stdout.write(bytes.subarray(offset));
}

await ack(
  await emitter.runCreated(runId, {
    run_type: "kill-test",
    config: { blob },
    data_fingerprint: "fp",
  }),
);
await ack(await emitter.runStarted(runId));
for (let phase = 0; eventsMax === 0 || emitted < eventsMax; phase++) {
  const name = `phase-${phase}`;
  await ack(await emitter.phaseStarted(runId, { phase_name: name, phase_order: phase }));
  await ack(
    await emitter.trialRecorded(runId, {
      trial_id: `t-${phase}`,
      params: { blob },
      metrics: { phase },
    }),
  );
  await ack(
    await emitter.phaseCompleted(runId, {
      phase_name: name,
      duration_ms: 1,
      output_summary: {},
    }),
  );
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
await ack(await emitter.runCompleted(runId, { summary: { emitted }, artifact_paths: {} }));
await emitter.close();
