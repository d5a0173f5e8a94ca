/**
 * Under a `deno task`'s own flags, a folder given where a file goes (`--out
 * data`, `--db data`) is refused as the command refuses it under `-A`: one
 * line saying it is a directory. A probe: the permission check asked for
 * the folder holding it (`--allow-write=.`, the whole checkout), exit 1,
 * where `-A` said "is a directory", exit 2.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLI_PATH,
  DENO_RUN,
  runCreatedArgs,
  runLedger,
  taskPermissionFlags,
  withTempDir,
} from "../_helpers.ts";

async function underTask(task: string, dir: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      ...await taskPermissionFlags(task, dir),
      CLI_PATH,
      ...args,
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task export, report, rebuild-index: a folder where a file goes", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    const emitted = await runLedger(runCreatedArgs(root, "r1"));
    assert.equal(emitted.code, 0, emitted.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const rootArg = ["--root", "data/ledger"];
    for (
      const [task, args, code, pattern] of [
        [
          "export",
          ["export", "runs", "--format", "csv", "--out", "data"],
          2,
          /--out data is a directory/,
        ],
        ["report", ["report", "--out", "data/"], 2, /--out data\/ is a directory/],
        [
          "rebuild-index",
          ["rebuild-index", "--db", "data"],
          1,
          /data is a directory, not a regular file/,
        ],
      ] as const
    ) {
      const r = await underTask(task, dir, [...args, ...rootArg]);
      assert.equal(r.code, code, `${task}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /--allow-/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});
