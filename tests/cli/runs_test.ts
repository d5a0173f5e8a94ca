import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { ev, fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger } from "../_helpers.ts";

/** `ledger ARGS` as a child process, with the permissions `deno task test` grants. */
function ledger(args: string[]) {
  return runLedger(args);
}

Deno.test("ledger runs: table, --json, --status, --limit, usage errors, no index", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await t.step("no index: says so and how to build it, exit 1", async () => {
      const r = await ledger(["runs", "--root", root]);
      equal(r.code, 1);
      match(r.stderr, /No index at .*ledger rebuild-index/);
    });

    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      ...fullRun("run-a", T0),
      ev("run.created", "run-b", T0 + 1000, {
        run_type: "policy",
        config: {},
        data_fingerprint: "",
      }),
      ev("run.started", "run-b", T0 + 1001),
      ev("run.failed", "run-b", T0 + 3001, { error: { message: "boom" } }),
    ]);
    await rebuildIndex(root, {});

    await t.step("table: newest first with the documented columns", async () => {
      const r = await ledger(["runs", "--root", root]);
      equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      // Issue 3: "run id, type, status, created, duration, phases" (completed phases).
      match(lines[0], /^RUN ID\s+TYPE\s+STATUS\s+CREATED\s+DURATION\s+PHASES\s+LABEL$/);
      match(lines[1], /^run-b\s+policy\s+failed\s+2026-01-20T00:00:01Z\s+2\.0 s\s+0$/);
      match(lines[2], /^run-a\s+path-only\s+completed\s+2026-01-20T00:00:00Z\s+59 ms\s+\d+$/);
    });

    await t.step("--json with --status and --limit", async () => {
      const r = await ledger(["runs", "--root", root, "--json", "--status", "completed"]);
      equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout);
      equal(rows.length, 1);
      deepEqual(
        {
          run_id: rows[0].run_id,
          run_type: rows[0].run_type,
          status: rows[0].status,
          created_at_ms: rows[0].created_at_ms,
          started_at_ms: rows[0].started_at_ms,
          completed_at_ms: rows[0].completed_at_ms,
          phase_count: rows[0].phase_count,
        },
        {
          run_id: "run-a",
          run_type: "path-only",
          status: "completed",
          created_at_ms: T0,
          started_at_ms: T0 + 1,
          completed_at_ms: T0 + 60,
          phase_count: 2,
        },
      );
      const limited = JSON.parse(
        (await ledger(["runs", "--root", root, "--json", "--limit", "1"])).stdout,
      );
      deepEqual(limited.map((x: { run_id: string }) => x.run_id), ["run-b"]);
      // A limited query counts phases after the limit, for the runs it returns: same counts.
      const two = JSON.parse(
        (await ledger(["runs", "--root", root, "--json", "--limit", "2"])).stdout,
      );
      deepEqual(
        two.map((x: { run_id: string; phase_count: number }) => [x.run_id, x.phase_count]),
        [["run-b", 0], ["run-a", 2]],
      );
    });

    await t.step("bad --status and --limit are usage errors (exit 2)", async () => {
      for (const args of [["--status", "done"], ["--limit", "0"], ["--limit", "x"], ["--nope"]]) {
        const r = await ledger(["runs", "--root", root, ...args]);
        equal(r.code, 2, args.join(" "));
        match(r.stderr, /^ledger runs: /);
      }
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
