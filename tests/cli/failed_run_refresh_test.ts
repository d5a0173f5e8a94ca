/**
 * A failed run is listed, as failed, without a manual rebuild: SPEC 9 has
 * the index refreshed in the background after a run, and SPEC 4 made
 * `run.failed` so that a failed run does not look like one still going. A
 * probe: only completed runs started the refresh, so `ledger runs` left a
 * failed backtest or sweep out until some later rebuild. Real processes: the
 * refresh is the detached `rebuild-index` the command starts.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../ledger/exists.ts";
import { REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

/** Longest wait for a background refresh to show a run, in ms. */
const REFRESH_WAIT_MS_MAX = 60_000;
const CANDLES = join(REPO_ROOT, "data/sample/candles_1m.parquet");

/** The status `ledger runs --all --json` gives each run, by run id. */
async function statuses(root: string): Promise<Record<string, string>> {
  const r = await runLedger(["runs", "--root", root, "--all", "--json"]);
  if (r.code !== 0) return {}; // no index yet: the refresh has not published one
  const runs = JSON.parse(r.stdout) as { run_id: string; status: string }[];
  return Object.fromEntries(runs.map((run) => [run.run_id, run.status]));
}

/** Poll until every run of `want` shows its status, or the wait ends; the last answer. */
async function waitForStatuses(
  root: string,
  want: Record<string, string>,
): Promise<Record<string, string>> {
  const deadline = Date.now() + REFRESH_WAIT_MS_MAX;
  for (;;) {
    const got = await statuses(root);
    const shown = Object.keys(want).every((id) => got[id] === want[id]);
    if (shown || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * `ledger <command...>` into `<dir>/ledger` on a calls file without `chain` or `alert_ts`: the run
 * fails in its coverage phase, after `run.created` (exit 1). Resolves to the root.
 */
async function failRun(dir: string, command: string[], ...extra: string[]): Promise<string> {
  const root = join(dir, "ledger");
  const calls = join(dir, "calls.csv");
  await Deno.writeTextFile(calls, "call_id,caller,mint\nx,y,z\n");
  const r = await runLedger([
    ...command,
    "--root",
    root,
    "--calls",
    calls,
    "--candles",
    CANDLES,
    ...extra,
  ]);
  equal(r.code, 1, r.stderr);
  return root;
}

Deno.test("a failed backtest and a failed sweep are listed as failed without a rebuild", async () => {
  await withTempDir(async (dir) => {
    const root = await failRun(dir, ["backtest", "path-only"], "--run-id", "bt-failed");
    const grid = '{"type":"fixed_stop","stopPct":[0.1,0.2]}';
    await failRun(dir, ["sweep", "policy"], "--grid", grid, "--run-id", "sw-failed");
    const want = { "bt-failed": "failed", "sw-failed": "failed" };
    deepEqual(await waitForStatuses(root, want), want);
  });
});

Deno.test("a failed run with --no-index starts no refresh", async () => {
  await withTempDir(async (dir) => {
    const root = await failRun(dir, ["backtest", "path-only"], "--no-index");
    // A refresh would have published an index by now (the one above does within seconds).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    equal(await exists(join(root, "index", "runs.duckdb")), false);
  });
});
