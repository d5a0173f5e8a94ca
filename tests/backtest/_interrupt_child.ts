/**
 * Test child for interrupt_test.ts: runs a policy backtest whose emitter
 * holds the run at a chosen point (after `phase.started` of a phase, after
 * `phase.completed` of one, or in the call that records `run.completed`),
 * prints `READY` and waits there for a signal.
 *
 * Args: ROOT CALLS CANDLES RUN_ID HOLD (a phase name, `after:<phase name>`,
 * or `run.completed`).
 *
 * @module
 */
import { EventEmitter } from "../../ledger/emitter.ts";
import type { RunEventSink } from "../../backtest/workflow.ts";
import { runPolicy } from "../../backtest/policy.ts";

const [root, calls, candles, runId, hold] = Deno.args;
const real = new EventEmitter({ root });
const HOLD_MS = 60_000;

/** Hold until a signal comes (or HOLD_MS): the signal lands while the run is held here. */
async function park(): Promise<void> {
  console.log("READY");
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(resolve, HOLD_MS);
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, resolve);
  await promise;
  clearTimeout(timer);
}

const emitter: RunEventSink = {
  runCreated: (id, f) => real.runCreated(id, f),
  runStarted: (id, f) => real.runStarted(id, f),
  phaseStarted: async (id, f) => {
    const r = await real.phaseStarted(id, f);
    if (f.phase_name === hold) {
      await real.flush();
      await park();
    }
    return r;
  },
  phaseCompleted: async (id, f) => {
    const r = await real.phaseCompleted(id, f);
    if (hold === `after:${f.phase_name}`) {
      await real.flush();
      await park();
    }
    return r;
  },
  artifactCreated: (id, f) => real.artifactCreated(id, f),
  runCompleted: async (id, f) => {
    if (hold === "run.completed") {
      await real.flush();
      await park();
    }
    return await real.runCompleted(id, f);
  },
  runFailed: (id, f) => real.runFailed(id, f),
  flush: () => real.flush(),
};

await runPolicy({
  root,
  calls,
  candles,
  runId,
  emitter,
  policy: { kind: "fixed_stop", stopPct: 0.2 },
  onInterrupt: (i) => {
    const ended = i.ended === undefined
      ? ""
      : ` ended=${i.ended.end}${i.ended.recorded ? "" : ",unrecorded"}`;
    console.error(`interrupted ${i.signal} ${i.phaseName} removed=${i.removed.length}${ended}`);
  },
});
console.log("COMPLETED");
