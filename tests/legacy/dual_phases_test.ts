import { deepStrictEqual as deepEqual } from "node:assert";
import { openWriter } from "../../ledger/writer.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { queryMergedRuns } from "../../legacy/dual.ts";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { withTempDir } from "../ledger/_helpers.ts";

Deno.test("dual mode counts a run's completed phases as the index alone does", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    await writer.appendBatch([
      {
        event_type: "run.created",
        run_id: "f1",
        run_type: "policy",
        config: {},
        data_fingerprint: "fp",
      },
      { event_type: "run.started", run_id: "f1" },
      { event_type: "phase.started", run_id: "f1", phase_name: "plan", phase_order: 0 },
      {
        event_type: "phase.completed",
        run_id: "f1",
        phase_name: "plan",
        duration_ms: 3,
        output_summary: {},
      },
      { event_type: "phase.started", run_id: "f1", phase_name: "load", phase_order: 1 },
      { event_type: "run.failed", run_id: "f1", error: { message: "no candles" } },
    ]);
    await writer.close();
    await rebuildIndex(root, {});
    const legacyDbPath = `${root}/old.duckdb`;
    await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) }]);
    // A failed run whose one phase completed: 1 phase. Dual mode said 0 for any run that had not
    // completed (its count read the run's completed_at_ms), and failed with a limit.
    for (const limit of [undefined, 1, 5]) {
      const { runs } = await queryMergedRuns({ limit }, { legacyDbPath, root });
      const want = [["f1", "failed", 1], ["old-1", "pending", 0]].slice(0, limit);
      deepEqual(runs.map((r) => [r.run_id, r.status, r.phase_count]), want, `limit ${limit}`);
    }
  });
});
