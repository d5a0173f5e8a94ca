/**
 * A full rebuild ranks the occurrences of duplicated event ids in passes
 * over parts of the ids when they are many (`dedupRowsMax`, from the memory
 * limit): a probe found 4M lines of 1M ids out of memory at 128MB in one
 * pass. In passes or in one, the same event of each id wins (the smallest
 * timestamp, file, line) and the others go to `event_duplicates`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

const IDS = 300;

Deno.test("duplicated ids are ranked alike in one pass and in many", async () => {
  await withTempDir(async (root) => {
    // Each id written 1-4 times over three files, at times that put the winner anywhere.
    const files: Record<string, unknown>[][] = [[], [], []];
    let rows = 0;
    for (let i = 0; i < IDS; i++) {
      const copies = 1 + (i % 4);
      for (let c = 0; c < copies; c++) {
        const event = ev("run.started", `r-${i % 17}`, (i * 7 + c * 13) % 50, {});
        files[(i + c) % 3].push({ ...event, event_id: `id-${i}` });
        rows += 1;
      }
    }
    for (const [f, lines] of files.entries()) {
      await writePart(root, `day=2026-01-2${f}/part-1.jsonl`, lines);
    }
    const db = join(root, "index", "runs.duckdb");
    const onePass = await rebuildIndex(root, { full: true });
    assert.deepEqual([onePass.events, onePass.duplicates], [IDS, rows - IDS]);
    const expected = await dumpTables(db);
    for (const dedupRowsMax of [50, 200]) { // 14 and 4 passes over 675 rows
      const report = await rebuildIndex(root, { full: true, dedupRowsMax });
      assert.deepEqual([report.events, report.duplicates], [IDS, rows - IDS]);
      assert.deepEqual(await dumpTables(db), expected, `dedupRowsMax ${dedupRowsMax}`);
    }
    await assert.rejects(rebuildIndex(root, { dedupRowsMax: 0 }), /dedupRowsMax must be/);
  });
});

// A probe's incremental update after one retried line took 9.8 s against 2.7 s, and at
// `--memory-limit 128MB` ran out of memory: `dup_ids` named its column `ev_event_id`, so
// `event_id IN (SELECT event_id FROM dup_ids)` read the outer row's own id, and every event of
// the index was ranked again and every run derived again. Only the duplicated id's copies are.
Deno.test("an incremental update with one duplicate ranks that id's copies alone", async () => {
  await withTempDir(async (root) => {
    const t0 = Date.UTC(2026, 0, 20);
    const runs = Array.from({ length: 30 }, (_, i) => [
      ev("run.created", `r${i}`, t0 + i * 100, { run_type: "x", config: {}, data_fingerprint: "" }),
      ev("run.started", `r${i}`, t0 + i * 100 + 1, {}),
    ]).flat();
    await writePart(root, "day=2026-01-20/part-a.jsonl", runs);
    await rebuildIndex(root, { full: true });
    // A retry of r7's run.started, later, in another part.
    const retried = runs.find((e) => e.run_id === "r7" && e.event_type === "run.started")!;
    await writePart(root, "day=2026-01-20/part-b.jsonl", [
      { ...retried, timestamp_ms: Number(retried.timestamp_ms) + 50 },
    ]);
    const progress: string[] = [];
    // One event per derive group: the groups counted are the runs derived again.
    const r = await rebuildIndex(root, {
      deriveGroupEvents: 1,
      onProgress: (m) => progress.push(m),
    });
    assert.equal(r.mode, "incremental");
    assert.equal(r.duplicates, 1);
    assert.equal(r.conflicts, 0);
    const groups = progress.filter((m) => m.startsWith("deriving run tables: group"));
    assert.deepEqual(groups, ["deriving run tables: group 1 of 1"], progress.join("\n"));
    const incremental = await dumpTables(join(root, "index", "runs.duckdb"));
    await rebuildIndex(root, { full: true });
    assert.deepEqual(incremental, await dumpTables(join(root, "index", "runs.duckdb")));
  });
});
