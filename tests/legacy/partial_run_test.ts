/**
 * A legacy run whose id the log's own writers recorded without a
 * `run.created` (a dual-written run whose `run.created` was lost) is left out
 * of the backfill like one with it (a probe: the backfill wrote a legacy
 * `run.created`, `run.started` and `run.completed` beside the run's own, for
 * good, and parity could never hold); a run the log has only annotations of
 * (`ledger tag` of a legacy-only run) is still backfilled. An integer `-0`
 * in a legacy JSON column is 0 to parity and to a second backfill.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { backfillLegacy, checkParity } from "../../legacy/dual.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { openWriter } from "../../ledger/writer.ts";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { logText, withTempDir } from "../_helpers.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 0, 10);

Deno.test("backfill: a run the log has without its run.created is left out; a tagged one is not", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const legacyDbPath = join(dir, "legacy.duckdb");
    const legacyRun = (runId: string, at: number) => ({
      run_id: runId,
      run_type: "policy",
      created_at_ms: at,
      config: '{"src":"legacy"}',
      data_fingerprint: "fp",
      started_at_ms: at + 1,
      completed_at_ms: at + 2,
      summary_json: '{"legacy":true}',
    });
    await createLegacyDb(legacyDbPath, [
      legacyRun("part-1", T0),
      legacyRun("tagged-1", T0 + DAY_MS),
    ]);
    const writer = await openWriter(root);
    await writer.append({ event_type: "run.started", run_id: "part-1", timestamp_ms: T0 + 1 });
    await writer.append({
      event_type: "run.completed",
      run_id: "part-1",
      timestamp_ms: T0 + 3,
      summary: { native: true },
      artifact_paths: {},
    });
    await writer.append({
      event_type: "run.tagged",
      run_id: "tagged-1",
      timestamp_ms: T0 + 2 * DAY_MS,
      tags: { label: "kept" },
    });
    await writer.close();
    const report = await backfillLegacy(root, { legacyDbPath });
    deepEqual(report.skipped.map((s) => s.run_id), ["part-1"]);
    match(report.skipped[0].reason, /already has a run with this id/);
    equal(report.eventsWritten, 3); // tagged-1: run.created, run.started, run.completed
    const text = await logText(root);
    equal((text.match(/"run_id":"part-1"/g) ?? []).length, 2, "part-1 keeps its own two events");
  });
});

// A probe: the log keeps a legacy `-0` as written and the index reads it as 0, and the two
// comparisons of a backfill read it as -0: parity failed, and a second backfill called the
// unchanged row changed and skipped its run.
Deno.test("backfill: an integer -0 in a legacy JSON column is 0 to parity and to a second backfill", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const legacyDbPath = join(dir, "legacy.duckdb");
    await createLegacyDb(legacyDbPath, [{
      run_id: "z-1",
      run_type: "policy",
      created_at_ms: T0,
      config: '{"v":-0,"w":[-0.0]}',
      data_fingerprint: "fp",
      started_at_ms: T0 + 1,
      completed_at_ms: T0 + 2,
      summary_json: '{"pnl":-0}',
    }]);
    const first = await backfillLegacy(root, { legacyDbPath });
    equal(first.eventsWritten, 3);
    await rebuildIndex(root, {});
    const parity = await checkParity({ legacyDbPath, root });
    deepEqual(parity.differences, []);
    const again = await backfillLegacy(root, { legacyDbPath });
    deepEqual(again.skipped, []);
    equal(again.eventsWritten, 0);
    equal(again.eventsAlreadyPresent, 3);
  });
});
