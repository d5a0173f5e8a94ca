/**
 * The liveness check of a rebuild reads, checks and writes its candidates
 * in chunks of 50,000: a probe found a million unfinished runs of this host
 * (a log copied from it, runs that crashed) serialized into one JSON
 * parameter, past 1.5 GiB; two million ran out of memory, in full and
 * incremental rebuilds alike. Here 60,001 candidates, two chunks: every one
 * is recorded, and only the live one (this process) is alive.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { query } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

const DEAD_RUNS = 60_000;
/** Past the largest pid Linux gives (`pid_max` is at most 2^22): no process has these. */
const PID_BASE = 5_000_000;

Deno.test("liveness of 60,001 unfinished runs of this host, in chunks: one alive", async () => {
  await withTempDir(async (root) => {
    const host = Deno.hostname();
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const dir = join(root, "events", `day=${day}`);
    await Deno.mkdir(dir, { recursive: true });
    const started = (runId: string, pid: number, ts: number) =>
      JSON.stringify({
        event_type: "run.started",
        event_id: `s-${runId}`,
        timestamp_ms: ts,
        run_id: runId,
        host,
        pid,
      });
    const lines = Array.from(
      { length: DEAD_RUNS },
      (_, i) => started(`dead-${i}`, PID_BASE + i, now - 60_000),
    );
    lines.push(started("alive", Deno.pid, now - 1_000)); // this process: started before it
    await Deno.writeTextFile(join(dir, "part-1.jsonl"), lines.join("\n") + "\n");
    for (const full of [true, false]) {
      if (!full) {
        await Deno.writeTextFile(
          join(dir, "part-2.jsonl"),
          started("more", PID_BASE - 1, now) + "\n",
        );
      }
      const report = await rebuildIndex(root, { full });
      assert.equal(report.mode, full ? "full" : "incremental");
      const db = join(root, "index", "runs.duckdb");
      const [liveness] = await query(
        db,
        "SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE alive)::INTEGER AS alive, " +
          "count(DISTINCT pid)::INTEGER AS pids FROM process_liveness",
      );
      const candidates = DEAD_RUNS + (full ? 1 : 2);
      assert.deepEqual(liveness, { n: candidates, alive: 1, pids: candidates });
      const statuses = await query(
        db,
        "SELECT status, count(*)::INTEGER AS n FROM latest_runs GROUP BY status ORDER BY status",
      );
      assert.deepEqual(statuses, [
        { status: "running", n: 1 },
        { status: "stale", n: candidates - 1 },
      ]);
    }
  });
});
