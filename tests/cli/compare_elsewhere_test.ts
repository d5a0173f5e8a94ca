/**
 * `compare` on a machine that has a run's events but not its run directory
 * (an index built from a bucket: `ship` sends the log only). A storage audit
 * saw the same `compare --json` answer other `callers` keys there, and git
 * provenance as null without a word.
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

const POLICY = '{"type":"fixed_stop","stopPct":0.3,"takeProfitPct":1}';

Deno.test("compare without the run directories: the same callers, and a warning", async () => {
  await withTempDir(async (root) => {
    for (const id of ["ga", "gb"]) {
      const r = await runLedger([
        ...["backtest", "policy", "--root", root, "--run-id", id, "--policy", POLICY],
        "--no-index",
      ]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const compare = async () => {
      const r = await runLedger(["compare", "ga", "gb", "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      return { json: JSON.parse(r.stdout), stderr: r.stderr };
    };
    const here = await compare();
    equal(here.stderr, "");
    ok(typeof here.json.git.ga.commit === "string" || here.json.git.ga.commit === null);
    const callers = Object.keys(here.json.callers);
    ok(callers.length > 0, "the sample data has callers");
    const keys = Object.keys(here.json.callers[callers[0]].ga);
    ok(keys.includes("win_rate_ci_low") && keys.includes("count"), keys.join(","));
    // The run directories are on another machine.
    await Deno.remove(join(root, "artifacts", "runs"), { recursive: true });
    const elsewhere = await compare();
    deepEqual(elsewhere.json.callers, here.json.callers);
    deepEqual(elsewhere.json.git, {
      ga: { commit: null, dirty: null },
      gb: { commit: null, dirty: null },
    });
    const warnings = elsewhere.stderr.trim().split("\n");
    equal(warnings.length, 2, elsewhere.stderr);
    for (const [i, id] of ["ga", "gb"].entries()) {
      match(
        warnings[i],
        new RegExp(
          `^ledger compare: warning: run ${id}: no manifest\\.json: the run recorded it, but .*` +
            `its git provenance is not known here$`,
        ),
      );
    }
  });
});
