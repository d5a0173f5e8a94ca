/**
 * A child writer process for the object-storage tests (private): one
 * "machine" emitting whole runs (created, started, phases, trials,
 * completed) with the ledger writer, one batch per run.
 *
 * Usage: `_emit_child.ts ROOT TAG RUNS [PAUSE_MS]`. Prints each event id to
 * stdout once its batch is durable (acknowledged). RUNS 0 means until killed.
 *
 * @module
 */
import { openWriter } from "../../ledger/writer.ts";

const [root, tag, runsText, pauseText] = Deno.args;
const runs = Number(runsText);
const pauseMs = Number(pauseText ?? "0");
const writer = await openWriter(root);
const encoder = new TextEncoder();

async function ack(ids: string[]): Promise<void> {
  const text = encoder.encode(ids.join("\n") + "\n");
  let offset = 0;
  while (offset < text.length) offset += await Deno.stdout.write(text.subarray(offset));
}

function runEvents(runId: string, n: number) {
  return [
    {
      event_type: "run.created",
      run_id: runId,
      run_type: "policy",
      config: { machine: tag, n, policy: { stopPct: n % 7 } },
      data_fingerprint: `fp-${n % 3}`,
    },
    { event_type: "run.started", run_id: runId, host: `host-${tag}`, pid: 1000 + n },
    { event_type: "phase.started", run_id: runId, phase_name: "plan", phase_order: 0 },
    {
      event_type: "phase.completed",
      run_id: runId,
      phase_name: "plan",
      duration_ms: n % 50,
      output_summary: { calls: n },
    },
    {
      event_type: "trial.recorded",
      run_id: runId,
      trial_id: `t${n}`,
      params: { stopPct: n / 10 },
      metrics: { sharpe: n / 3, text: "é ü 日本" },
    },
    {
      event_type: "run.completed",
      run_id: runId,
      summary: { calls: n, ok: true },
      artifact_paths: {},
    },
  ];
}

for (let i = 0; runs === 0 || i < runs; i++) {
  const events = await writer.appendBatch(runEvents(`${tag}-run-${i}`, i));
  await ack(events.map((e) => e.event_id));
  if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
}
await writer.close();
