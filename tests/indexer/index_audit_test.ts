/**
 * Findings of a black-box audit of the index (SPEC 7) against hand-written
 * logs: each test holds the hand-worked rows the index must give.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { listRuns } from "../../indexer/queries.ts";
import { queryRuns, withReader } from "../../indexer/query/mod.ts";
import { ev, query, T0, writePart } from "./_fixtures.ts";

const DAY = "day=2026-01-20";

Deno.test("index audit: latest_runs is newest first in the order ledger runs lists", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-audit-order-" });
  try {
    // Hand-worked: "newest" is when the run was created, else started, else its last event.
    // A: no run.created nor run.started, last event T0 + 1000 -> key T0 + 1000
    // C: no run.created, run.started T0 + 900 (first event T0 + 100) -> key T0 + 900
    // B: run.created T0 + 500 -> key T0 + 500
    await writePart(root, `${DAY}/part-000001.jsonl`, [
      ev("phase.completed", "A", T0 + 10, {
        phase_name: "plan",
        duration_ms: 1,
        output_summary: {},
      }),
      ev("run.completed", "A", T0 + 1000, { summary: {}, artifact_paths: {} }),
      ev("run.created", "B", T0 + 500, { run_type: "x", config: {}, data_fingerprint: "f" }),
      ev("phase.started", "C", T0 + 100, { phase_name: "plan", phase_order: 0 }),
      ev("run.started", "C", T0 + 900),
    ]);
    await rebuildIndex(root, { full: true });
    const db = join(root, "index", "runs.duckdb");
    const expected = ["A", "C", "B"];
    const view = await query(db, "SELECT run_id FROM latest_runs");
    assert.deepEqual(view.map((r) => r.run_id), expected, "latest_runs");
    assert.deepEqual((await listRuns(db)).map((r) => r.run_id), expected, "listRuns");
    const listed = await withReader(db, (reader) => queryRuns(reader, {}));
    assert.deepEqual(listed.map((r) => r.run_id), expected, "ledger runs");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("index audit: a part whose last line is not UTF-8 is read on from its offset", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-audit-utf8-" });
  try {
    const first = JSON.stringify(ev("run.started", "u", T0));
    // Latin-1 "café" as an old tool wrote it: the line is not UTF-8.
    const latin1 = new TextEncoder().encode(
      `{"event_type":"run.noted","event_id":"n1","timestamp_ms":${T0},"run_id":"u","note":"caf`,
    );
    const bad = new Uint8Array([...latin1, 0xe9, ...new TextEncoder().encode(`"}`)]);
    const path = await writePart(root, `${DAY}/part-000001.jsonl`, [first]);
    await Deno.writeFile(path, new Uint8Array([...bad, 0x0a]), { append: true });
    const built = await rebuildIndex(root, {});
    assert.equal(built.errors, 1);
    const appended = JSON.stringify(ev("run.noted", "u", T0 + 1, { note: "ok" })) + "\n";
    await Deno.writeTextFile(path, appended, { append: true });
    const again = await rebuildIndex(root, {});
    // Hand-worked: only the appended line is new; lines 1 and 2 stay as indexed.
    assert.equal(again.mode, "incremental");
    assert.equal(again.bytesRead, new TextEncoder().encode(appended).length);
    assert.equal(again.linesRead, 1);
    const db = join(root, "index", "runs.duckdb");
    const errors = await query(db, "SELECT file, line, reason FROM ingest_errors");
    assert.deepEqual(errors, [{ file: `${DAY}/part-000001.jsonl`, line: 2, reason: "not UTF-8" }]);
    const events = await query(db, "SELECT line FROM events ORDER BY line");
    assert.deepEqual(events.map((r) => r.line), [1, 3]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
