/**
 * A run's provenance (`manifest.json` `git.dirty`) is about the code, not
 * the ledger roots the docs' recipes keep under `data/`: a walk of the docs
 * made `deno task demo --root data/demo2`, and every later run of the
 * checkout was recorded dirty (`rerun`: "the code may differ"). The
 * checkout's `.gitignore` ignores every folder under `data/` but the
 * tracked sample data; checked on a copy of it in a new git repository.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gitProvenance } from "../../backtest/artifacts.ts";
import { REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";
import { writeFixtures } from "./_fixtures.ts";

async function git(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  assert.equal(out.code, 0, `git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("git provenance: another root under data/ leaves the tree clean", async () => {
  await withTempDir(async (dir) => {
    await Deno.copyFile(join(REPO_ROOT, ".gitignore"), join(dir, ".gitignore"));
    await Deno.mkdir(join(dir, "data", "sample"), { recursive: true });
    await Deno.writeTextFile(join(dir, "data", "sample", "calls.csv"), "call_id\n");
    await Deno.writeTextFile(join(dir, "main.ts"), "export {};\n");
    await git(dir, "init", "-q");
    await git(dir, "add", "-A");
    await git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init");
    assert.equal((await gitProvenance({ cwd: dir })).dirty, false);

    // Roots made by the docs' recipes, beside the one a run writes into (its own is excluded).
    for (const root of ["demo2", "ops"]) {
      await Deno.mkdir(join(dir, "data", root, "events"), { recursive: true });
      await Deno.writeTextFile(join(dir, "data", root, "events", "x.jsonl"), "{}\n");
    }
    assert.equal((await gitProvenance({ cwd: dir, excludeDir: "data/ops" })).dirty, false);

    // The code or the tracked sample data changed, or a new source file: dirty.
    await Deno.writeTextFile(join(dir, "data", "sample", "calls.csv"), "call_id,x\n");
    assert.equal((await gitProvenance({ cwd: dir })).dirty, true);
    await git(dir, "checkout", "-q", "--", "data/sample/calls.csv");
    await Deno.writeTextFile(join(dir, "strategy.ts"), "export {};\n");
    assert.equal((await gitProvenance({ cwd: dir })).dirty, true);
  });
});

/** The checkout's HEAD, or undefined when the repository is not a git checkout here. */
async function checkoutHead(): Promise<string | undefined> {
  const out = await new Deno.Command("git", {
    args: ["rev-parse", "HEAD"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "null",
  }).output().catch((err) => {
    if (err instanceof Deno.errors.NotFound) return undefined; // no git on this machine
    throw err;
  });
  return out?.code === 0 ? new TextDecoder().decode(out.stdout).trim() : undefined;
}

const HEAD = await checkoutHead();

// A probe: run from another folder, a backtest recorded that folder's repository (or, outside
// one, no commit) as the provenance of the ledger code that made it.
Deno.test({
  name: "git provenance: a backtest records the ledger checkout's commit from any folder",
  ignore: HEAD === undefined,
  fn: async () => {
    await withTempDir(async (dir) => {
      const other = join(dir, "other-repo");
      await Deno.mkdir(other);
      await git(other, "init", "-q");
      const commit = ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q"];
      await git(other, ...commit, "--allow-empty", "-m", "another repository");
      const { calls, candles } = await writeFixtures(dir);
      const root = join(dir, "ledger");
      const r = await runLedger(
        [
          ...["backtest", "path-only", "--root", root, "--calls", calls, "--candles", candles],
          ...["--run-id", "prov-1", "--no-index"],
        ],
        { cwd: other },
      );
      assert.equal(r.code, 0, r.stderr);
      const manifest = JSON.parse(
        await Deno.readTextFile(join(root, "artifacts", "runs", "prov-1", "manifest.json")),
      );
      assert.equal(manifest.git.commit, HEAD);
    });
  },
});
