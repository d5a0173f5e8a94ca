/**
 * A black-box audit of a backtest run's trail (real processes and files):
 *
 * - each phase's `duration_ms` agrees with the timestamps of its
 *   `phase.started` and `phase.completed` (it had left out the fsync of
 *   `phase.started`);
 *
 * @module
 */
import { ok } from "node:assert/strict";
import { runPolicy } from "../../backtest/policy.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import type { RunEventSink } from "../../backtest/workflow.ts";
import { runEvents, writeFixtures } from "./_fixtures.ts";

/** Most a phase's duration_ms may differ from its events' timestamps: ms rounding of both. */
const PHASE_SPAN_SLACK_MS = 2;
/** How long a slow disk takes to make `phase.started` durable, in the first test. */
const SLOW_SYNC_MS = 30;

/** The ledger's emitter on a disk whose fsync of `phase.started` takes SLOW_SYNC_MS. */
function slowSyncEmitter(real: EventEmitter): RunEventSink {
  return {
    runCreated: (id, f) => real.runCreated(id, f),
    runStarted: (id, f) => real.runStarted(id, f),
    phaseStarted: async (id, f) => {
      const r = await real.phaseStarted(id, f);
      await new Promise((resolve) => setTimeout(resolve, SLOW_SYNC_MS));
      return r;
    },
    phaseCompleted: (id, f) => real.phaseCompleted(id, f),
    artifactCreated: (id, f) => real.artifactCreated(id, f),
    runCompleted: (id, f) => real.runCompleted(id, f),
    runFailed: (id, f) => real.runFailed(id, f),
    flush: () => real.flush(),
  };
}

Deno.test("a phase's duration_ms is the time between its two events", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_trail_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    const real = new EventEmitter({ root });
    try {
      const emitter = slowSyncEmitter(real);
      const policy = { type: "fixed_stop", stopPct: 0.2 };
      await runPolicy({ root, ...inputs, runId: "span-1", emitter, policy });
    } finally {
      await real.close();
    }
    const events = await runEvents(root, "span-1") as unknown as Record<string, unknown>[];
    const startedAt = new Map<unknown, number>();
    let phases = 0;
    for (const e of events) {
      if (e.event_type === "phase.started") startedAt.set(e.phase_name, e.timestamp_ms as number);
      if (e.event_type !== "phase.completed") continue;
      phases++;
      const spanMs = (e.timestamp_ms as number) - startedAt.get(e.phase_name)!;
      const durationMs = e.duration_ms as number;
      ok(
        Math.abs(spanMs - durationMs) <= PHASE_SPAN_SLACK_MS,
        `phase ${e.phase_name}: duration_ms ${durationMs}, events ${spanMs} ms apart`,
      );
    }
    ok(phases === 7, `${phases} phases`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
