/**
 * The phase timeline of a run that ended inside a phase (an audit: the
 * timeline of a failed run left out the very phase it failed in): the phase
 * lasts until the run ended and is marked `unfinished`; in a run still going
 * it has no duration yet.
 */
import assert from "node:assert/strict";
import { ReportIndex } from "../../report/data.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

Deno.test("report phases: the phase a run failed in runs to the failure", async () => {
  await withTempDir(async (root) => {
    const ev = (run_id: string, t: number, e: Record<string, unknown>) => ({
      event_id: `${run_id}-${t}`,
      run_id,
      timestamp_ms: T0 + t,
      ...e,
    });
    const lines = ["failed", "going"].flatMap((id) => [
      ev(id, 0, {
        event_type: "run.created",
        run_type: "policy",
        config: {},
        data_fingerprint: "f",
      }),
      ev(id, 1, { event_type: "run.started" }),
      ev(id, 2, { event_type: "phase.started", phase_name: "plan", phase_order: 0 }),
      ev(id, 12, {
        event_type: "phase.completed",
        phase_name: "plan",
        duration_ms: 10,
        output_summary: {},
      }),
      ev(id, 20, { event_type: "phase.started", phase_name: "coverage", phase_order: 1 }),
    ]);
    lines.push(ev("failed", 70, {
      event_type: "run.failed",
      error: { message: "no candles" },
      phase_name: "coverage",
    }));
    await writePart(root, "day=2026-01-20/part-000001.jsonl", [...lines, ...fullRun("ok", T0)]);
    await rebuildIndex(root, {});
    const index = await ReportIndex.open(root);
    try {
      const failed = (await index.run("failed"))!.phases;
      assert.deepEqual(failed.map((p) => [p.name, p.start_ms, p.duration_ms, p.unfinished]), [
        ["plan", 0, 10, undefined],
        ["coverage", 18, 50, true],
      ]);
      const going = (await index.run("going"))!.phases;
      assert.deepEqual(going.map((p) => [p.name, p.duration_ms, p.unfinished]), [
        ["plan", 10, undefined],
        ["coverage", null, undefined],
      ]);
    } finally {
      index.close();
    }
  });
});
