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
import { REPO_ROOT, withTempDir } from "../_helpers.ts";

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
