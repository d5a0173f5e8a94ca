/**
 * A run started again after it ended (resumed under its id) is running
 * again, judged by its new process. A probe: it stayed `completed` or
 * `failed`, with the abandoned attempt's summary or error, while its new
 * process ran, and that process was never checked.
 */
import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { ev, query, writePart } from "./_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("status: a run started again after its ending is running, or stale", async () => {
  await withTempDir(async (root) => {
    const host = Deno.hostname();
    // Spawned before `now`: a run.started at `now` names it (one before would be a reused pid).
    const live = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      const ended = new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).spawn();
      const deadPid = ended.pid;
      await ended.status;
      const now = Date.now();
      const run = (id: string, events: [string, number, Record<string, unknown>][]) => [
        ev("run.created", id, now - 60_000, { run_type: "x", config: {}, data_fingerprint: "" }),
        ...events.map(([type, ago, fields]) => ev(type, id, now - ago, fields)),
      ];
      const started = (pid: number) => ({ host, pid });
      await writePart(root, "day=2026-01-20/part-1.jsonl", [
        ...run("failed-resumed", [
          ["run.started", 30_000, started(deadPid)],
          ["run.failed", 20_000, { error: { message: "oom" } }],
          ["run.started", 0, started(live.pid)],
        ]),
        ...run("completed-resumed", [
          ["run.started", 30_000, started(deadPid)],
          ["run.completed", 20_000, { summary: { sharpe: 1.1 }, artifact_paths: {} }],
          ["run.started", 0, started(live.pid)],
        ]),
        // Resumed, and its new process is gone too.
        ...run("resumed-dead", [
          ["run.started", 30_000, started(live.pid)],
          ["run.failed", 20_000, { error: { message: "oom" } }],
          ["run.started", 0, started(deadPid)],
        ]),
        // A start at the ending's ms is not after it.
        ...run("same-ms", [
          ["run.started", 30_000, started(deadPid)],
          ["run.completed", 20_000, { summary: {}, artifact_paths: {} }],
          ["run.started", 20_000, started(live.pid)],
        ]),
        // Its only start after its ending: two machines' clocks, not a resume.
        ...run("skewed", [
          ["run.failed", 20_000, { error: { message: "oom" } }],
          ["run.started", 10_000, started(deadPid)],
        ]),
        ...run("completed", [
          ["run.started", 30_000, started(deadPid)],
          ["run.completed", 20_000, { summary: {}, artifact_paths: {} }],
        ]),
      ]);
      for (const full of [true, false]) {
        await rebuildIndex(root, { full });
        const rows = await query(
          join(root, "index", "runs.duckdb"),
          "SELECT run_id, status FROM latest_runs ORDER BY 1",
        );
        deepEqual(
          Object.fromEntries(rows.map((r) => [r.run_id, r.status])),
          {
            "completed": "completed",
            "completed-resumed": "running",
            "failed-resumed": "running",
            "resumed-dead": "stale",
            "same-ms": "completed",
            "skewed": "failed",
          },
          `after a ${full ? "full" : "incremental"} rebuild`,
        );
      }
      // Its duration runs to no ending while it runs again (it ran to the old one).
      const listed = await runLedger(["runs", "--root", root, "--format", "jsonl"]);
      const durations = Object.fromEntries(
        listed.stdout.trim().split("\n").map((l) => JSON.parse(l)).map((r) => [
          r.run_id,
          r.duration_ms,
        ]),
      );
      deepEqual(durations["completed-resumed"], null);
      deepEqual(durations["completed"], 10_000);
    } finally {
      live.kill("SIGKILL");
      await live.status;
    }
  });
});
