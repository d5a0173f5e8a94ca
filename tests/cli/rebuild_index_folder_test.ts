/**
 * `rebuild-index` where the index's folder must be made but a file is in
 * the way (the root's `index` a file; a `--db` under a file) names that file
 * in one line, exit 1, and changes nothing (a probe: "File exists (os error
 * 17): mkdir 'ix/index'").
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("rebuild-index: a file where the index's folder goes is named, exit 1", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const emitted = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.started",
      "--run-id",
      "r1",
    ]);
    assert.equal(emitted.code, 0, emitted.stderr);
    const oneLine = (stderr: string, pattern: RegExp) => {
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], pattern);
    };
    await t.step("the root's index is a file", async () => {
      await Deno.writeTextFile(join(root, "index"), "notes\n");
      const r = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(r.code, 1, r.stderr);
      oneLine(r.stderr, /Cannot make the index's folder .*index: .*index is a file, not a folder/);
      assert.equal(await Deno.readTextFile(join(root, "index")), "notes\n");
    });
    await t.step("--db under a file, two levels down", async () => {
      const file = join(dir, "afile");
      await Deno.writeTextFile(file, "x\n");
      const r = await runLedger([
        "rebuild-index",
        "--root",
        root,
        "--db",
        join(file, "a", "x.duckdb"),
      ]);
      assert.equal(r.code, 1, r.stderr);
      oneLine(r.stderr, new RegExp(`: ${file.replaceAll("/", "\\/")} is a file, not a folder`));
      assert.equal(await Deno.readTextFile(file), "x\n");
    });
  });
});
