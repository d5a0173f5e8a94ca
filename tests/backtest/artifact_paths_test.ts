/**
 * The artifact paths a backtest records are absolute. A probe: under a
 * relative `--root` (the default `data/ledger` is one) `artifact.created`
 * and `run.completed` recorded `rs/artifacts/runs/s1/trials.parquet`,
 * relative to the writer's working directory, which no reader of the log
 * or of `artifacts_catalog` knows; a run under an absolute root recorded
 * absolute paths, so one log held both.
 *
 * @module
 */
import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import { logText, REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("backtest under a relative --root records absolute artifact paths", async () => {
  await withTempDir(async (dir) => {
    const run = await runLedger([
      "backtest",
      "path-only",
      "--root",
      "rel",
      "--run-id",
      "p1",
      "--calls",
      join(REPO_ROOT, "data/sample/calls.csv"),
      "--candles",
      join(REPO_ROOT, "data/sample/candles_1m.parquet"),
      "--no-index",
    ], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    const events = (await logText(join(dir, "rel"))).trimEnd().split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const created = events.filter((e) => e.event_type === "artifact.created")
      .map((e) => String(e.artifact_path));
    const completed = events.find((e) => e.event_type === "run.completed");
    const recorded = Object.values(completed?.artifact_paths as Record<string, string>);
    assert(created.length >= 2 && recorded.length >= 2, JSON.stringify(events));
    const runDir = join(await Deno.realPath(dir), "rel", "artifacts", "runs", "p1");
    for (const path of [...created, ...recorded]) {
      assert(isAbsolute(path), path);
      assert(path.startsWith(`${runDir}/`), `${path} is not in ${runDir}`);
      await Deno.stat(path); // resolves from any working directory
    }
  });
});
