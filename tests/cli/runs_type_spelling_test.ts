/**
 * `ledger backtest path-only` makes runs of type `path_only`: `runs --type
 * path-only` said only "No runs match" (a contract check, issue 15.2's one
 * spelling). A `--type` no run has, while another spelling of it (`-` for
 * `_`, another case) is a run type of the index, is one warning line on
 * stderr naming it, in every format; the answer itself is unchanged.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("runs --type in another spelling of a run type warns, naming the index's", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    for (const [id, type] of [["p1", "path_only"], ["p2", "policy"]]) {
      const args = runCreatedArgs(root, id);
      args[args.indexOf("--run-type") + 1] = type;
      const r = await runLedger(args);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const table = await runLedger(["runs", "--root", root, "--type", "path-only"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^No runs match \(2 runs in the index\)\.$/m);
    assert.equal(
      table.stderr,
      'ledger runs: warning: no run has type "path-only"; the index has "path_only"\n',
    );
    const json = await runLedger([
      ...["runs", "--root", root, "--type", "Policy", "--type", "nothing", "--json"],
    ]);
    assert.equal(json.stdout.trim(), "[]");
    assert.equal(
      json.stderr,
      'ledger runs: warning: no run has type "Policy"; the index has "policy"\n',
    );
    const exact = await runLedger(["runs", "--root", root, "--type", "path_only", "--json"]);
    assert.equal(exact.stderr, "");
    assert.deepEqual(JSON.parse(exact.stdout).map((r: { run_id: string }) => r.run_id), ["p1"]);
  });
});
