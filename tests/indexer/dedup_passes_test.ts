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
