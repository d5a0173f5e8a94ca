/**
 * A bad field's reason in `ingest_errors` tells a JSON `null` from an absent
 * key (an index audit: `"run_id": null` was said to be "missing"; a JSON
 * null and an absent key both read as SQL NULL).
 *
 * @module
 */
import assert from "node:assert/strict";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { query, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

Deno.test("ingest_errors: got null for a null field, got missing for an absent one", async () => {
  await withTempDir(async (root) => {
    const base = { event_type: "run.started", timestamp_ms: Date.UTC(2026, 0, 20) };
    await writePart(root, "day=2026-01-20/part-000001.jsonl", [
      { ...base, event_id: "e1", run_id: null },
      { ...base, event_id: "e2" },
      { ...base, event_id: null, run_id: "r1" },
    ]);
    const { dbPath } = await rebuildIndex(root, {});
    const reasons = await query(dbPath, "SELECT line, reason FROM ingest_errors ORDER BY line");
    assert.deepEqual(reasons.map((r) => [r.line, String(r.reason).replace(/^.*, got /, "")]), [
      [1, "null"],
      [2, "missing"],
      [3, "null"],
    ]);
  });
});
