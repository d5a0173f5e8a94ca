/**
 * A run folder moved to another disk and linked back
 * (`artifacts/runs/<id>` a symbolic link; docs/OPERATIONS.md) is read by
 * `ledger report` as `ledger show` reads it. DuckDB checks the folders a
 * report may read against a file's real path, so the report drew such a run
 * without its equity curve, histograms and per-caller results, and said
 * "file system operations are disabled by configuration" (helper-299).
 *
 * Real processes: `ledger backtest`, `ledger rebuild-index`, `ledger report`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { backtestRuns } from "./_fixture.ts";

const POLICY = JSON.stringify({ type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 });

/** The chart keys a report page carries. */
function chartKeys(html: string): string[] {
  const m = html.match(/<script type="application\/json" id="ledger-data">([\s\S]*?)<\/script>/);
  assert.ok(m, "the page carries its chart data");
  return Object.keys((JSON.parse(m[1]) as { charts: Record<string, unknown> }).charts).sort();
}

Deno.test("report: a run folder linked from another disk keeps its charts", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await backtestRuns(root, [["lr-1", ["policy", "--policy", POLICY]]]);
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const report = async (name: string) => {
      const out = join(dir, name);
      const r = await runLedger(["report", "lr-1", "--root", root, "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /could not be read/);
      return chartKeys(await Deno.readTextFile(out));
    };
    const inPlace = await report("in-place.html");
    assert.ok(inPlace.includes("run-0-equity"), inPlace.join());
    // The run's folder on another disk, linked back.
    const runs = join(root, "artifacts", "runs");
    const other = join(dir, "other-disk");
    await Deno.mkdir(other);
    await Deno.rename(join(runs, "lr-1"), join(other, "lr-1"));
    await Deno.symlink(join(other, "lr-1"), join(runs, "lr-1"));
    assert.deepEqual(await report("run-linked.html"), inPlace);
    // The whole runs folder linked.
    await Deno.remove(join(runs, "lr-1"));
    await Deno.rename(join(other, "lr-1"), join(runs, "lr-1"));
    await Deno.rename(runs, join(other, "runs"));
    await Deno.symlink(join(other, "runs"), runs);
    assert.deepEqual(await report("runs-linked.html"), inPlace);
  });
});
