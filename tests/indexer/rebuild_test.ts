import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, fullRun, query, T0, writePart } from "./_fixtures.ts";

const DAY1 = "day=2026-01-20";

Deno.test("full rebuild indexes every event type of a Python-format log", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-000001.jsonl`, fullRun("run-a", T0));
    await writePart(root, `${DAY1}/part-000002.jsonl`, [
      ev("run.created", "run-b", T0 + 1000, {
        run_type: "policy",
        config: {},
        data_fingerprint: "",
      }),
      ev("run.started", "run-b", T0 + 1001),
      ev("run.failed", "run-b", T0 + 1002, { error: { message: "boom" }, phase_name: "load" }),
      ev("run.created", "run-c", T0 + 2000, {
        run_type: "policy",
        config: {},
        data_fingerprint: "x",
      }),
    ]);
    const report = await rebuildIndex(root, { full: true });
    const db = join(root, "index", "runs.duckdb");

    await t.step("report counts", () => {
      equal(report.mode, "full");
      equal(report.events, 14);
      equal(report.runs, 3);
      equal(report.errors, 0);
      equal(report.dbPath, db);
    });

    await t.step("latest_runs: newest first, statuses", async () => {
      const runs = await query(db, "SELECT run_id, run_type, status FROM latest_runs");
      deepEqual(runs, [
        { run_id: "run-c", run_type: "policy", status: "pending" },
        { run_id: "run-b", run_type: "policy", status: "failed" },
        { run_id: "run-a", run_type: "path-only", status: "completed" },
      ]);
    });

    await t.step("runs_d and runs_status columns", async () => {
      const [d] = await query(db, "SELECT * FROM runs_d WHERE run_id = 'run-a'");
      equal(d.created_at_ms, T0);
      deepEqual(JSON.parse(String(d.config)), { interval: "1m", note: "é ü 日本" });
      equal(d.data_fingerprint, "fp1");
      const [s] = await query(db, "SELECT * FROM runs_status WHERE run_id = 'run-b'");
      equal(s.failed_at_ms, T0 + 1002);
      deepEqual(JSON.parse(String(s.error_json)), { message: "boom" });
      equal(s.completed_at_ms, null);
    });

    await t.step("phases, trials, artifacts, summary view", async () => {
      const phases = await query(
        db,
        "SELECT phase_name, phase_order, started_at_ms, completed_at_ms, duration_ms FROM phase_timings ORDER BY phase_order",
      );
      deepEqual(phases, [
        {
          phase_name: "plan",
          phase_order: 0,
          started_at_ms: T0 + 2,
          completed_at_ms: T0 + 12,
          duration_ms: 10,
        },
        {
          phase_name: "load",
          phase_order: 1,
          started_at_ms: T0 + 13,
          completed_at_ms: T0 + 33,
          duration_ms: 20,
        },
      ]);
      const [sum] = await query(db, "SELECT * FROM run_phase_summary WHERE run_id = 'run-a'");
      deepEqual(sum, {
        run_id: "run-a",
        phase_count: 2,
        total_duration_ms: 30,
        phase_names: ["plan", "load"],
        phase_durations_ms: [10, 20],
      });
      const [trial] = await query(db, "SELECT * FROM trial_results");
      deepEqual(JSON.parse(String(trial.metrics)), { sharpe: 1.5 });
      const [art] = await query(db, "SELECT * FROM artifacts_catalog");
      equal(art.size_bytes, 1234);
      equal(art.artifact_type, "paths");
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("bad lines go to ingest_errors and never become events", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-000001.jsonl`, [
      ev("run.created", "r", T0, { run_type: "x", config: {}, data_fingerprint: "" }),
      "not json",
      "",
      "\0\0\0\0",
      "[1,2]",
      JSON.stringify({ event_type: "nope", event_id: "a", timestamp_ms: 1, run_id: "r" }),
      JSON.stringify(ev("phase.started", "r", T0 + 1, { phase_name: "plan", phase_order: -1 })),
      JSON.stringify(ev("run.started", "r", T0 + 2, { schema_version: 99 })),
    ], { tail: JSON.stringify(ev("run.started", "r", T0 + 3)) });
    const report = await rebuildIndex(root, {});
    equal(report.events, 1);
    const db = join(root, "index", "runs.duckdb");
    const errors = await query(db, "SELECT line, reason FROM ingest_errors ORDER BY line");
    deepEqual(errors.map((e) => e.line), [2, 3, 4, 5, 6, 7, 8, 9]);
    match(String(errors[0].reason), /not JSON/);
    match(String(errors[1].reason), /blank line/);
    match(String(errors[2].reason), /NUL/);
    match(String(errors[3].reason), /not a JSON object/);
    match(String(errors[4].reason), /unknown event_type "nope"/);
    match(String(errors[5].reason), /phase_order.*got -1/);
    match(String(errors[6].reason), /schema_version 99/);
    match(String(errors[7].reason), /torn tail/);
    const [files] = await query(db, "SELECT lines_indexed FROM ingest_files");
    equal(files.lines_indexed, 8);
    ok((await dumpTables(db)).events.length === 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
