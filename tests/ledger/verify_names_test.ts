/**
 * `verify` took every part file whose name holds U+FFFD for one whose name
 * is not UTF-8 (Deno puts U+FFFD in place of such bytes) and skipped it with
 * a warning, while a name that holds U+FFFD itself is UTF-8 and the indexer
 * reads that file: verify counted fewer events than the index (found by the
 * verify/index differential audit, `verify_fuzz_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatReport, verifyLog } from "../../ledger/verify.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { withTempDir } from "./_helpers.ts";

Deno.test("verify reads a part whose UTF-8 name holds U+FFFD, as the index does", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    const event = {
      event_type: "run.noted",
      event_id: "e1",
      timestamp_ms: Date.UTC(2026, 0, 20, 12),
      run_id: "r1",
      note: "n",
    };
    await Deno.writeTextFile(join(dir, "copy-\uFFFD.jsonl"), JSON.stringify(event) + "\n");

    const report = await verifyLog(root);
    assert.equal(report.totals.files, 1);
    assert.equal(report.totals.events, 1);
    assert.deepEqual(report.warnings.filter((w) => w.includes("not valid UTF-8")), []);

    const indexed = await rebuildIndex(root, {});
    assert.equal(indexed.events, report.totals.events);
  });
});

Deno.test("a part whose name holds a newline is read by the index and verify, and said escaped", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    const event = {
      event_type: "run.started",
      event_id: "e1",
      timestamp_ms: Date.UTC(2026, 0, 20, 12),
      run_id: "r1",
    };
    // A probe: skipped by the index without a word, and by verify as "hidden".
    await Deno.writeTextFile(join(dir, "a\nb.jsonl"), JSON.stringify(event) + "\n");
    const report = await verifyLog(root);
    assert.equal(report.totals.events, 1);
    assert.deepEqual(report.ignored, []);
    assert.match(
      formatReport(report),
      /^warning: run r1 has run.started at day=2026-01-20\/a\\nb\.jsonl:1 but/m,
    );
    const indexed = await rebuildIndex(root, {});
    assert.equal(indexed.events, 1);
  });
});
