/**
 * What the index makes of events, as docs/EVENTS.md states it: which ending
 * counts when a run has several (issue 19.14), future timestamps and
 * staleness (issue 19.15, for pending runs too), completed phases only in run_phase_summary
 * (issue 14.5). `verify` warns about the same runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { listRuns } from "../../indexer/queries.ts";
import { queryRuns, withReader } from "../../indexer/query/mod.ts";
import { verifyLog } from "../../ledger/verify.ts";
import { ev, query, T0, writePart } from "./_fixtures.ts";

const DAY = "day=2026-01-20";
const FUTURE_MS = Date.UTC(2999, 0, 1);

function created(runId: string, at: number): Record<string, unknown> {
  return ev("run.created", runId, at, { run_type: "policy", config: {}, data_fingerprint: "f" });
}
function completed(runId: string, at: number, v: number, eventId?: string) {
  const e = ev("run.completed", runId, at, { summary: { v }, artifact_paths: {} });
  return eventId === undefined ? e : { ...e, event_id: eventId };
}
function failed(runId: string, at: number) {
  return ev("run.failed", runId, at, { error: { message: "boom" } });
}

Deno.test("index rules: conflicting endings, future timestamps, completed phases", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-rules-" });
  try {
    await writePart(root, `${DAY}/part-rules-1.jsonl`, [
      created("twice", T0),
      completed("twice", T0 + 20, 2),
      completed("twice", T0 + 10, 1),
      created("fail-after", T0),
      completed("fail-after", T0 + 10, 1),
      failed("fail-after", T0 + 20),
      created("complete-after", T0),
      failed("complete-after", T0 + 10),
      completed("complete-after", T0 + 20, 1),
      created("tie", T0),
      completed("tie", T0 + 10, 1),
      failed("tie", T0 + 10),
      created("tie-ids", T0),
      completed("tie-ids", T0 + 10, 2, "tie-ids-b"),
      completed("tie-ids", T0 + 10, 1, "tie-ids-a"),
      created("old-pending", T0),
      created("phases", T0),
      ev("run.started", "phases", T0 + 1),
      ev("phase.started", "phases", T0 + 2, { phase_name: "plan", phase_order: 0 }),
      ev("phase.completed", "phases", T0 + 3, {
        phase_name: "plan",
        duration_ms: 1,
        output_summary: {},
      }),
      ev("phase.started", "phases", T0 + 4, { phase_name: "load", phase_order: 1 }),
    ]);
    const now = Date.now();
    await writePart(root, `day=2999-01-01/part-rules-2.jsonl`, [
      created("future", FUTURE_MS),
      ev("run.started", "future", FUTURE_MS + 1),
      created("future-pending", FUTURE_MS),
    ]);
    const today = new Date(now).toISOString().slice(0, 10);
    await writePart(root, `day=${today}/part-rules-3.jsonl`, [
      created("live", now - 1000),
      ev("run.started", "live", now - 500),
      created("new-pending", now - 1000),
    ]);
    await rebuildIndex(root, { full: true });
    const db = join(root, "index", "runs.duckdb");
    const rows = await query(
      db,
      "SELECT run_id, status, completed_at_ms, failed_at_ms, summary_json FROM latest_runs",
    );
    const byId = Object.fromEntries(rows.map((r) => [r.run_id, r]));

    await t.step("two run.completed: the last by (timestamp_ms, event_id) counts", () => {
      assert.equal(byId.twice.status, "completed");
      assert.equal(byId.twice.completed_at_ms, T0 + 20);
      assert.deepEqual(JSON.parse(String(byId.twice.summary_json)), { v: 2 });
      assert.deepEqual(
        JSON.parse(String(byId["tie-ids"].summary_json)),
        { v: 2 },
        "event_id b > a",
      );
    });

    await t.step("run.failed after run.completed: the later ending counts, a tie is failed", () => {
      assert.equal(byId["fail-after"].status, "failed");
      assert.equal(byId["complete-after"].status, "completed");
      assert.equal(byId.tie.status, "failed");
    });

    await t.step("a run whose newest event is more than a day ahead is stale", () => {
      assert.equal(byId.future.status, "stale");
      assert.equal(byId.live.status, "running");
    });

    await t.step(
      "a run only created stays pending however old, and is stale ahead of the clock",
      () => {
        assert.equal(byId["new-pending"].status, "pending");
        assert.equal(byId["old-pending"].status, "pending");
        assert.equal(byId["future-pending"].status, "stale");
      },
    );

    await t.step("run_phase_summary counts completed phases only", async () => {
      const [summary] = await query(
        db,
        "SELECT phase_count, phase_names, total_duration_ms FROM run_phase_summary " +
          "WHERE run_id = 'phases'",
      );
      assert.deepEqual(summary, { phase_count: 1, phase_names: ["plan"], total_duration_ms: 1 });
      const timings = await query(
        db,
        "SELECT count(*) AS n FROM phase_timings WHERE run_id = 'phases'",
      );
      assert.equal(timings[0].n, 2, "the started phase is still in phase_timings");
      const [run] = (await listRuns(db)).filter((r) => r.run_id === "phases");
      assert.equal(run.phase_count, 1);
      // ledger runs (every format) and export count as the view does.
      const [listed] = await withReader(
        db,
        (conn) => queryRuns(conn, { where: ["run_id = 'phases'"] }),
      );
      assert.equal(listed.phase_count, 1);
    });

    await t.step("verify warns about each of them", async () => {
      const report = await verifyLog(root, { nowMs: now });
      assert.equal(report.sound, true);
      const has = (pattern: RegExp) =>
        assert.ok(report.warnings.some((w) => pattern.test(w)), `${pattern}: ${report.warnings}`);
      has(/run twice has 2 run\.completed events \(the last by timestamp_ms, then event_id/);
      has(
        /run fail-after is both completed and failed \(the later ending counts; a tie counts as failed\)/,
      );
      has(/run tie is both completed and failed/);
      has(
        /3 events timestamped more than a day ahead of this machine's clock \(first at day=2999-01-01\/part-rules-2\.jsonl:1: 2999-01-01T00:00:00\.000Z\)/,
      );
      assert.equal(report.totals.futureEvents, 3);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("index rules: a trial or an artifact recorded again keeps its last record, full and incremental", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-rules-last-" });
  const trial = (id: string, at: number, v: string, eventId?: string) => {
    const e = ev("trial.recorded", "picks", at, { trial_id: id, params: {}, metrics: { v } });
    return eventId === undefined ? e : { ...e, event_id: eventId };
  };
  const artifact = (path: string, at: number, size: number) =>
    ev("artifact.created", "picks", at, {
      artifact_type: "json",
      artifact_path: path,
      size_bytes: size,
    });
  try {
    // Later records first in the file: the pick is by (timestamp_ms, event_id), not by line.
    await writePart(root, `${DAY}/part-picks-1.jsonl`, [
      created("picks", T0),
      trial("again", T0 + 20, "late"),
      trial("again", T0 + 10, "early"),
      trial("tie", T0 + 10, "b", "tie-b"),
      trial("tie", T0 + 10, "a", "tie-a"),
      trial("once", T0 + 5, "only"),
      artifact("a.json", T0 + 6, 2),
      artifact("a.json", T0 + 5, 1),
      artifact("b.json", T0 + 5, 7),
    ]);
    const dbPath = join(root, "index", "runs.duckdb");
    // [trial_id, metrics.v] of each trial and [artifact_path, size_bytes] of each artifact.
    const picks = async () => ({
      trials: (await query(dbPath, "SELECT trial_id, metrics FROM trial_results ORDER BY 1"))
        .map((r) => [r.trial_id, JSON.parse(String(r.metrics)).v]),
      artifacts: (await query(
        dbPath,
        "SELECT artifact_path, size_bytes FROM artifacts_catalog ORDER BY 1",
      )).map((r) => [r.artifact_path, r.size_bytes]),
    });
    await rebuildIndex(root, { full: true });
    assert.deepEqual(await picks(), {
      trials: [["again", "late"], ["once", "only"], ["tie", "b"]],
      artifacts: [["a.json", 2], ["b.json", 7]],
    });
    // A later file records "again" and "once" anew: an incremental update picks among
    // the old rows and the new ones the same way.
    await writePart(root, `${DAY}/part-picks-2.jsonl`, [
      trial("again", T0 + 15, "between"),
      trial("once", T0 + 30, "newer"),
      artifact("b.json", T0 + 4, 9),
    ]);
    const incremental = await rebuildIndex(root, {});
    assert.equal(incremental.mode, "incremental");
    const after = await picks();
    assert.deepEqual(after, {
      trials: [["again", "late"], ["once", "newer"], ["tie", "b"]],
      artifacts: [["a.json", 2], ["b.json", 7]],
    });
    await rebuildIndex(root, { full: true });
    assert.deepEqual(await picks(), after, "a full rebuild of the same log agrees");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// Found by a differential fuzzer: a tag key written twice in one event's tags tied on time and
// event id, so DuckDB picked either value, differently in a full build and an incremental one
// (which re-derives only the runs it touched): the index was not a function of the log.
Deno.test("index rules: a tag key written twice in one event keeps its last value, every build", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-rules-tagkey-" });
  try {
    const runs = 300; // enough rows for DuckDB's parallel window to pick either value
    const line = (i: number) =>
      `{"event_type":"run.tagged","event_id":"tk${i}","timestamp_ms":${T0},"run_id":"tk-${i}",` +
      `"tags":{"k":"v1","k":"v2","label":"a","label":""}}`;
    await writePart(
      root,
      `${DAY}/part-tk-1.jsonl`,
      Array.from({ length: runs }, (_, i) => line(i)),
    );
    const dbPath = join(root, "index", "runs.duckdb");
    const tags = () =>
      query(
        dbPath,
        "SELECT key, value, count(*)::INTEGER AS n FROM run_tags GROUP BY ALL ORDER BY ALL",
      );
    await rebuildIndex(root, { full: true });
    // The last value, as JSON.parse (and so verify and show) reads the object; "" removes.
    assert.deepEqual(await tags(), [{ key: "k", value: "v2", n: runs }]);
    await writePart(root, `${DAY}/part-tk-2.jsonl`, [
      ev("run.noted", "tk-105", T0 + 1, { note: "touch one run" }),
    ]);
    assert.equal((await rebuildIndex(root, {})).mode, "incremental");
    assert.deepEqual(await tags(), [{ key: "k", value: "v2", n: runs }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
