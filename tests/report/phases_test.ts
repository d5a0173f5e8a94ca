/**
 * The phase timeline of a run that ended inside a phase (an audit: the
 * timeline of a failed run left out the very phase it failed in): the phase
 * lasts until the run ended and is marked `unfinished`. In a run still going
 * (running, or stale) the phase it is in is `open`: it lasts, so far, until
 * the run's last event (an audit: a running run's phase was not drawn at all,
 * where a failed run's was), on the run's page and in a compare alike.
 */
import assert from "node:assert/strict";
import { ReportIndex } from "../../report/data.ts";
import { renderCompare, renderRun } from "../../report/html.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

Deno.test("report phases: an unfinished phase runs to the failure, an open one to the last event", async () => {
  await withTempDir(async (root) => {
    // "live" is running now (its events are recent); the others are from T0.
    const liveT0 = Date.now() - 5_000;
    const ev = (run_id: string, t: number, e: Record<string, unknown>) => ({
      event_id: `${run_id}-${t}`,
      run_id,
      timestamp_ms: (run_id === "live" ? liveT0 : T0) + t,
      ...e,
    });
    const lines = ["failed", "going", "live"].flatMap((id) => [
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
    for (const id of ["going", "live"]) {
      // Its last event so far: a file the phase wrote.
      lines.push(ev(id, 45, {
        event_type: "artifact.created",
        artifact_type: "coverage",
        artifact_path: `/x/${id}/coverage.parquet`,
        size_bytes: 10,
      }));
    }
    await writePart(root, "day=2026-01-20/part-000001.jsonl", [...lines, ...fullRun("ok", T0)]);
    await rebuildIndex(root, {});
    const index = await ReportIndex.open(root);
    try {
      const failed = (await index.run("failed"))!;
      assert.deepEqual(
        failed.phases.map((p) => [p.name, p.start_ms, p.duration_ms, p.unfinished]),
        [
          ["plan", 0, 10, undefined],
          ["coverage", 18, 50, true],
        ],
      );
      const going = (await index.run("going"))!;
      assert.equal(going.run.status, "stale");
      assert.deepEqual(going.phases.map((p) => [p.name, p.duration_ms, p.unfinished, p.open]), [
        ["plan", 10, undefined, undefined],
        ["coverage", 25, undefined, true],
      ]);
      const live = (await index.run("live"))!;
      assert.equal(live.run.status, "running");
      assert.deepEqual(live.phases, [
        { name: "plan", order: 0, start_ms: 0, duration_ms: 10 },
        { name: "coverage", order: 1, start_ms: 18, duration_ms: 25, open: true },
      ]);
      // Drawn: the page's timeline data has the phase, and so has a compare (the page's
      // chart leaves out a phase without a duration).
      const page = renderRun(live, "run");
      assert.deepEqual(page.charts["run-phases"], live.phases);
      const links = { overview: "/", run: (id: string) => `/run/${id}`, compare: () => null };
      const compare = renderCompare([failed, live], { links, key: "c" });
      assert.deepEqual((compare.charts["c-phases"] as { rows: unknown[] }).rows, [
        { run: "A", phase: "plan", ms: 10 },
        { run: "A", phase: "coverage", ms: 50, unfinished: true },
        { run: "B", phase: "plan", ms: 10 },
        { run: "B", phase: "coverage", ms: 25, open: true },
      ]);
    } finally {
      index.close();
    }
  });
});
