/**
 * A backtest's background index refresh is a detached `rebuild-index` whose
 * output nobody reads: when it failed, `ledger runs` simply lacked the run
 * and nothing said why (a black-box audit). It now leaves a refresh marker
 * beside the index until a rebuild of the log succeeds, and the readers say
 * the index may lack the run. Real processes throughout; the refresh is made
 * to fail the way a rebuild really can (its lock file cannot be made).
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { listRefreshMarkers } from "../../indexer/refresh_marker.ts";
import { REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";
import { startUi } from "../report/_fixture.ts";

const SAMPLE = [
  "--calls",
  join(REPO_ROOT, "data/sample/calls.csv"),
  "--candles",
  join(REPO_ROOT, "data/sample/candles_1m.parquet"),
];
/** Longest wait for a background refresh to finish, in ms. */
const REFRESH_WAIT_MS_MAX = 60_000;

/** `ledger backtest path-only` of the sample data as run `runId` into `root`. */
function backtest(root: string, runId: string, ...extra: string[]) {
  return runLedger([
    "backtest",
    "path-only",
    "--root",
    root,
    ...SAMPLE,
    "--run-id",
    runId,
    ...extra,
  ]);
}

Deno.test("a background refresh that fails is not silent: readers warn until a rebuild succeeds", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const dbPath = join(root, "index", "runs.duckdb");
    for (const runId of ["bt-0", "bt-1"]) {
      const r = await backtest(root, runId, "--no-index");
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    deepEqual(await listRefreshMarkers(dbPath), [], "--no-index writes no marker");

    // A directory where the rebuild lock file goes: every rebuild of this index fails.
    const lockPath = join(root, "index", ".runs.duckdb.rebuild.lock");
    await Deno.remove(lockPath);
    await Deno.mkdir(lockPath);
    const second = await backtest(root, "bt-2");
    equal(second.code, 0, second.stderr);
    const markers = await listRefreshMarkers(dbPath);
    deepEqual(markers.map((m) => m.runId), ["bt-2"]);

    await t.step("runs answers, then one warning line naming the run", async () => {
      const r = await runLedger(["runs", "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      deepEqual(
        (JSON.parse(r.stdout) as { run_id: string }[]).map((x) => x.run_id).sort(),
        ["bt-0", "bt-1"],
      );
      const lines = r.stderr.trimEnd().split("\n");
      equal(lines.length, 1, r.stderr);
      match(
        lines[0],
        /^ledger runs: warning: the index may lack run bt-2: its background refresh, started \d+s ago, has not finished \(still running, or it failed: ledger rebuild-index says why\)$/,
      );
    });
    await t.step("show of the missing run: still one line, with the likely reason", async () => {
      const r = await runLedger(["show", "--root", root, "bt-2"]);
      equal(r.code, 1);
      equal(r.stdout, "");
      const lines = r.stderr.trimEnd().split("\n");
      equal(lines.length, 1, r.stderr);
      match(
        lines[0],
        /^ledger show: run "bt-2" is not in the index .*\(the index may lack run bt-2: /,
      );
    });
    await t.step("show, compare, trials, sql and export answer and warn", async () => {
      const exported = join(dir, "runs.csv");
      for (
        const args of [
          ["show", "bt-1"],
          ["trials"],
          ["compare", "bt-0", "bt-1"],
          ["sql", "SELECT count(*) AS n FROM latest_runs"],
          ["export", "runs", "--format", "csv", "--out", exported],
        ]
      ) {
        const r = await runLedger([...args, "--root", root]);
        equal(r.code, 0, r.stderr);
        equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
        match(r.stderr, new RegExp(`^ledger ${args[0]}: warning: the index may lack run bt-2: `));
      }
    });
    await t.step("report writes its file and warns; ui warns once as it starts", async () => {
      const out = join(dir, "report.html");
      const r = await runLedger(["report", "--root", root, "--out", out]);
      equal(r.code, 0, r.stderr);
      ok((await Deno.stat(out)).size > 0);
      equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      match(r.stderr, /^ledger report: warning: the index may lack run bt-2: /);
      const ui = await startUi(root);
      const stopped = await ui.stop();
      match(stopped.stderr, /^ledger ui: warning: the index may lack run bt-2: /);
    });
    await t.step("rebuild-index says why", async () => {
      const r = await runLedger(["rebuild-index", "--root", root]);
      equal(r.code, 1);
      match(r.stderr, /rebuild lock/);
      equal((await listRefreshMarkers(dbPath)).length, 1, "a failed rebuild keeps the marker");
    });
    await t.step("a rebuild that succeeds removes the marker; the warning is gone", async () => {
      await Deno.remove(lockPath);
      // The refresh child may still be starting: whichever rebuild wins, the marker goes.
      const r = await runLedger(["rebuild-index", "--root", root]);
      equal(r.code, 0, r.stderr);
      deepEqual(await listRefreshMarkers(dbPath), []);
      const runs = await runLedger(["runs", "--root", root, "--json"]);
      equal(runs.code, 0, runs.stderr);
      equal(runs.stderr, "");
      deepEqual(
        (JSON.parse(runs.stdout) as { run_id: string }[]).map((x) => x.run_id).sort(),
        ["bt-0", "bt-1", "bt-2"],
      );
    });
    await t.step("a background refresh that succeeds removes its own marker", async () => {
      const r = await backtest(root, "bt-3");
      equal(r.code, 0, r.stderr);
      const deadline = Date.now() + REFRESH_WAIT_MS_MAX;
      while ((await listRefreshMarkers(dbPath)).length > 0) {
        ok(
          Date.now() < deadline,
          `the marker of bt-3 is still there after ${REFRESH_WAIT_MS_MAX} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const show = await runLedger(["show", "--root", root, "bt-3", "--json"]);
      equal(show.code, 0, show.stderr);
      equal(show.stderr, "");
    });
  });
});
