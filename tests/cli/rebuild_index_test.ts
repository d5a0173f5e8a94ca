import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { ev, fullRun, query, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger } from "../_helpers.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

/** `ledger ARGS` as a child process, with the permissions `deno task test` grants. */
function ledger(args: string[]) {
  return runLedger(args);
}

Deno.test("ledger rebuild-index: builds, updates, --db, --verbose, exit 2 on bad input", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));

    await t.step("first run builds in full, verbose progress on stderr", async () => {
      const r = await ledger(["rebuild-index", "--root", root, "--verbose"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /Indexed 10 events of 1 runs .*\(full/);
      match(r.stderr, /part files/);
      match(r.stderr, /published .* ms/);
    });

    await t.step("second run is incremental; --full forces a full one", async () => {
      await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-2", T0 + 5), {
        append: true,
      });
      const r = await ledger(["rebuild-index", "--root", root]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /Indexed 20 events of 2 runs .*\(incremental/);
      const f = await ledger([
        "rebuild-index",
        "--root",
        root,
        "--full",
        "--since-date",
        "2026-01-20",
      ]);
      equal(f.code, 0, f.stderr);
      match(f.stdout, /\(full/);
    });

    await t.step("--db writes the index elsewhere", async () => {
      const db = join(root, "other.duckdb");
      const r = await ledger(["rebuild-index", "--root", root, "--db", db]);
      equal(r.code, 0, r.stderr);
      equal((await query(db, "SELECT count(*) AS n FROM runs_d"))[0].n, 2);
    });

    await t.step(
      "bad dates, unknown flags and bad values exit 2 (usage) with one line",
      async () => {
        for (
          const args of [
            ["--since-date", "2026-02-30"],
            ["--since-date", "garbage"],
            ["--since-date", "2026-1-5"],
            ["--bogus"],
            ["--stale-after-hours", "0"],
            ["--db", ""],
          ]
        ) {
          const r = await ledger(["rebuild-index", "--root", root, ...args]);
          equal(r.code, 2, args.join(" "));
          equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          match(r.stderr, /^ledger rebuild-index: /);
        }
      },
    );

    await t.step("--help prints usage and exits 0", async () => {
      const r = await ledger(["rebuild-index", "--help"]);
      equal(r.code, 0);
      ok(r.stdout.includes("--since-date"));
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger rebuild-index: a dead run process shows stale under task-like permissions (ps)", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    const child = new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).spawn();
    const deadPid = child.pid;
    await child.status;
    const host = Deno.hostname();
    const now = Date.now();
    const created = (id: string) =>
      ev("run.created", id, now - 10, { run_type: "x", config: {}, data_fingerprint: "" });
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      created("dead"),
      ev("run.started", "dead", now - 5, { host, pid: deadPid }),
      created("alive"),
      ev("run.started", "alive", now - 5, { host, pid: Deno.pid }),
    ]);
    // No --allow-all: /proc is out of reach (Deno 2.9), so the ps fallback answers.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys=hostname",
        "--allow-run=ps",
        CLI,
        "rebuild-index",
        "--root",
        root,
        "--verbose",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 0, stderr);
    ok(!stderr.includes("pid check skipped"), stderr);
    const status = await query(
      join(root, "index", "runs.duckdb"),
      "SELECT run_id, status FROM latest_runs ORDER BY run_id",
    );
    deepEqual(status, [{ run_id: "alive", status: "running" }, {
      run_id: "dead",
      status: "stale",
    }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
