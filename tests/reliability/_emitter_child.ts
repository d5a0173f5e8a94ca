/**
 * A child for the kill and concurrency suites (private): a "backtest" that
 * records its run with the in-process emitter (`getEventEmitter`), forever
 * or for a number of events, and prints each event id on stdout once its emit
 * has resolved (durable: acknowledged). A failed emit prints nothing and is
 * counted on stderr.
 *
 * Usage: `_emitter_child.ts ROOT RUN_ID [EVENTS] [PAUSE_MS] [BLOB_BYTES] [DURATION_MS]`.
 * EVENTS 0 (default) means no count limit; PAUSE_MS between phases
 * (default 0); DURATION_MS 0 (default) means no time limit. Without any
 * limit it runs until killed; when a limit is reached the run ends with
 * `run.completed` and the process exits.
 *
 * @module
 */
import { getEventEmitter } from "../../ledger/emitter.ts";

const [root, runId, eventsText = "0", pauseText = "0", blobText = "0", durationText = "0"] =
  Deno.args;
const durationMs = Number(durationText);
const startMs = Date.now();
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
function goOn(): boolean {
  if (eventsMax > 0 && emitted >= eventsMax) return false;
  return durationMs === 0 || Date.now() - startMs < durationMs;
}

for (let phase = 0; goOn(); phase++) {
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
