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

// A probe: `expected an object of strings, got an object` where `ledger verify` said
// `artifact_paths.k must be a string, got 1`. The reason names the key and its value now.
Deno.test("ingest_errors: a bad value inside an object is named with its key", async () => {
  await withTempDir(async (root) => {
    const base = { timestamp_ms: Date.UTC(2026, 0, 20), run_id: "r1" };
    await writePart(root, "day=2026-01-20/part-000001.jsonl", [
      {
        ...base,
        event_type: "run.completed",
        event_id: "e1",
        summary: {},
        artifact_paths: { a: "x", k: 1 },
      },
      {
        ...base,
        event_type: "run.completed",
        event_id: "e2",
        summary: {},
        artifact_paths: { k: { deep: 1 } },
      },
      { ...base, event_type: "run.failed", event_id: "e3", error: { msg: "oom" } },
      { ...base, event_type: "run.failed", event_id: "e4", error: { message: 5 } },
      { ...base, event_type: "run.failed", event_id: "e5", error: "oom" },
      { ...base, event_type: "run.tagged", event_id: "e6", tags: { "a b": null } },
      { ...base, event_type: "run.failed", event_id: "e7" },
      { ...base, event_type: "run.failed", event_id: "e8", error: null },
    ]);
    const { dbPath } = await rebuildIndex(root, {});
    const reasons = await query(dbPath, "SELECT reason FROM ingest_errors ORDER BY line");
    assert.deepEqual(reasons.map((r) => String(r.reason)), [
      "invalid field artifact_paths of run.completed: expected an object of strings, got an " +
      "object (artifact_paths.k must be a string, got 1)",
      "invalid field artifact_paths of run.completed: expected an object of strings, got an " +
      "object (artifact_paths.k must be a string, got an object)",
      "invalid field error of run.failed: expected an object with a string message, got an " +
      "object (error.message is required)",
      "invalid field error of run.failed: expected an object with a string message, got an " +
      "object (error.message must be a string, got 5)",
      'invalid field error of run.failed: expected an object with a string message, got "oom"',
      "invalid field tags of run.tagged: expected an object of strings, got an object " +
      "(tags.a b must be a string, got null)",
      // No object at all: nothing inside it to name (a review saw "(error.message is required)").
      "invalid field error of run.failed: expected an object with a string message, got missing",
      "invalid field error of run.failed: expected an object with a string message, got null",
    ]);
  });
});
