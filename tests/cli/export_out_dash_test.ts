/**
 * Two findings of a probe of `ledger export`: `--out -` (standard output to
 * most tools) wrote a file named `-` without a word, where `/dev/stdout` is
 * refused; and one run was said as "wrote 1 runs". `--out -` is a usage
 * error for `export` and `report` (exit 2, nothing written); counts agree
 * with their nouns.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("export and report: --out - is refused; a count agrees with its noun", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    assert.equal((await runLedger(runCreatedArgs(root, "one-1"))).code, 0);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const cases: [string[], string][] = [
      [
        ["export", "runs", "--format", "csv"],
        'ledger export: --out - would be a file named "-": name the file to write',
      ],
      [["report"], 'ledger report: --out - would be a file named "-": name the HTML file to write'],
    ];
    for (const [args, line] of cases) {
      const r = await runLedger([...args, "--root", root, "--out", "-"], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `${line}\n`);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["root"], "no file -");
    }
    const out = join(dir, "runs.csv");
    const one = await runLedger([
      "export",
      "runs",
      "--format",
      "csv",
      "--root",
      root,
      "--out",
      out,
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^wrote 1 run x \d+ columns to /);
  });
});
