/**
 * Two findings of a probe of `ledger export`: `--out -` (standard output to
 * most tools) wrote a file named `-` without a word, where `/dev/stdout` is
 * refused; and one run was said as "wrote 1 runs". `--out -` is a usage
 * error for `export` and `report` (exit 2, nothing written), and so is a
 * path through a file or a folder that is not there (`notes.txt/`,
 * `missing/`); counts agree with their nouns.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("export and report: --out - and paths through a file are refused; counts agree", async () => {
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
    // A review: `--out notes.txt/` replaced notes.txt with the export (a resolved path drops the
    // trailing /), `notes.txt/../x.csv` wrote x.csv, and `missing/` wrote a file named missing.
    const exportTo = (out: string) =>
      runLedger(["export", "runs", "--format", "csv", "--root", root, "--out", out]);
    const notes = join(dir, "notes.txt");
    await Deno.writeTextFile(notes, "keep me\n");
    const refused: [string, string][] = [
      [`${notes}/`, `--out ${notes}/: ${notes} is not a folder (name the file to write)`],
      [`${notes}/../x.csv`, `--out ${notes}/../x.csv: ${notes} is not a folder`],
      [
        `${dir}/missing/`,
        `--out ${dir}/missing/ names a folder, which does not exist: name the file to write`,
      ],
    ];
    for (const [target, line] of refused) {
      const r = await exportTo(target);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `ledger export: ${line}\n`);
    }
    assert.equal(await Deno.readTextFile(notes), "keep me\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["notes.txt", "root"]);
    const out = join(dir, "runs.csv");
    const one = await exportTo(out);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^wrote 1 run x \d+ columns to /);
  });
});
