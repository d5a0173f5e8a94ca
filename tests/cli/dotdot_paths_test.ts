/**
 * A `--root` or `--out` with a `..` after a symbolic link names one place
 * however ledger is run: its `..` read as text (`lk/../E` is the `E` beside
 * `lk`), as Deno reads every path under the permission flags of its tasks
 * and the compiled binary. A first fix went through the link under
 * `deno run -A` only (a review): events written by a task under
 * `--root lk/../E` were then not seen by `-A`'s `rebuild-index --root
 * lk/../E`, which named another folder. docs/OPERATIONS.md says so.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, DENO_RUN, REPO_ROOT, runScript, withTempDir } from "../_helpers.ts";
import type { ChildResult } from "../_helpers.ts";

/** Run `ledger ARGS` in `cwd` with every permission (`-A`: Deno reads `..` through links). */
async function ledgerAllowAll(args: readonly string[], cwd: string): Promise<ChildResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      "-A",
      CLI_PATH,
      ...args,
    ],
    cwd,
    env: { LEDGER_ROOT: "", COLUMNS: "80" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Run `ledger ARGS` in `cwd` under the test task's permission flags (`..` read as text). */
function ledgerWithFlags(args: readonly string[], cwd: string): Promise<ChildResult> {
  return runScript(CLI_PATH, args, { cwd });
}

const MODES = { "-A": ledgerAllowAll, "permission flags": ledgerWithFlags };

Deno.test("a root or an output named with .. after a link is one place in every mode", async (t) => {
  for (const [writer, write] of Object.entries(MODES)) {
    for (const [reader, read] of Object.entries(MODES)) {
      await t.step(`written under ${writer}, read under ${reader}`, async () => {
        await withTempDir(async (dir) => {
          await Deno.mkdir(join(dir, "deep", "a"), { recursive: true });
          await Deno.symlink(join(dir, "deep", "a"), join(dir, "lk"));
          const emitted = await write([
            ...["emit", "--root", "lk/../E", "--event-type", "run.created", "--run-id", "r1"],
            ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", "f"],
          ], dir);
          assert.equal(emitted.code, 0, emitted.stderr);
          assert.ok((await Deno.stat(join(dir, "E", "events"))).isDirectory, "beside lk");
          await assert.rejects(Deno.stat(join(dir, "deep", "E")), Deno.errors.NotFound);
          const rebuilt = await read(["rebuild-index", "--root", "lk/../E"], dir);
          assert.equal(rebuilt.code, 0, rebuilt.stderr);
          const runs = await read(["runs", "--root", "lk/../E", "--json"], dir);
          assert.equal(runs.code, 0, runs.stderr);
          assert.deepEqual(JSON.parse(runs.stdout).map((r: { run_id: string }) => r.run_id), [
            "r1",
          ]);
          const exported = await read(
            ["export", "runs", "--root", "E", "--format", "csv", "--out", "lk/../runs.csv"],
            dir,
          );
          assert.equal(exported.code, 0, exported.stderr);
          assert.match(await Deno.readTextFile(join(dir, "runs.csv")), /^run_id,/);
          await assert.rejects(Deno.stat(join(dir, "deep", "runs.csv")), Deno.errors.NotFound);
        });
      });
    }
  }
});

// A review: under `-A` the inputs' check before the run, and a `--policy @file`, went through
// the link, where the run reads (and a task reads) the file beside it: "does not exist" for a
// file the run would read, and another policy than a task's for the same command line.
Deno.test("backtest inputs and a --policy @file with .. after a link are read as text", async () => {
  await withTempDir(async (dir) => {
    const work = join(dir, "w");
    await Deno.mkdir(join(dir, "deep", "a"), { recursive: true });
    await Deno.mkdir(work);
    await Deno.symlink(join(dir, "deep", "a"), join(work, "lk"));
    await Deno.copyFile(join(REPO_ROOT, "data", "sample", "calls.csv"), join(work, "calls.csv"));
    await Deno.writeTextFile(join(work, "pol.json"), '{"type":"fixed_stop","stopPct":0.1}');
    await Deno.writeTextFile(join(dir, "deep", "pol.json"), '{"type":"fixed_stop","stopPct":0.9}');
    const candles = join(REPO_ROOT, "data", "sample", "candles_1m.parquet");
    for (const [mode, run] of Object.entries(MODES)) {
      const runId = mode === "-A" ? "all" : "flags";
      const r = await run([
        ...["backtest", "policy", "--root", "R", "--no-index", "--run-id", runId],
        ...["--calls", "lk/../calls.csv", "--candles", candles, "--policy", "@lk/../pol.json"],
      ], work);
      assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
      const manifest = JSON.parse(
        await Deno.readTextFile(join(work, "R", "artifacts", "runs", runId, "manifest.json")),
      );
      assert.equal(manifest.inputs.calls.path, join(work, "calls.csv"), mode);
      assert.deepEqual(manifest.config.policy, { type: "fixed_stop", stopPct: 0.1 }, mode);
    }
  });
});
