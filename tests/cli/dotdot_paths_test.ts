/**
 * `--root`, `--db` and `--out` with a `..` after a symbolic link name what
 * the system opens: the parent of the link's target. A probe: `export --out
 * lk/../victim.csv` wrote over the victim.csv beside `lk` (the path was
 * cancelled as text), `emit --root lk/../E` wrote its events beside `lk`,
 * and `runs --root lk/../../R2` and `sql --db lk/../../R2/...` found no
 * index that was there.
 *
 * Under `-A` Deno opens such a path through the link, as every other tool
 * does; under permission flags (a `deno task`) it reads `..` as text, in
 * every path alike: the second test holds the commands to that.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, CONFIG_PATH, runLedger, runScript, withTempDir } from "../_helpers.ts";
import type { ChildResult } from "../_helpers.ts";

/** Run `ledger ARGS` in `cwd` with every permission (`-A`: no flag reads `..` as text). */
async function ledgerAllowAll(args: readonly string[], cwd: string): Promise<ChildResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", "--config", CONFIG_PATH, "-A", CLI_PATH, ...args],
    cwd,
    env: { LEDGER_ROOT: "", COLUMNS: "80" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A root with one run, indexed, at `dir/R`, and `dir/lk` a link to `dir/deep/a/b`. */
async function setUp(dir: string): Promise<void> {
  await Deno.mkdir(join(dir, "deep", "a", "b"), { recursive: true });
  await Deno.symlink(join(dir, "deep", "a", "b"), join(dir, "lk"));
  const root = join(dir, "R");
  const created = await runLedger([
    ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "r1"],
    ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", "f"],
  ]);
  assert.equal(created.code, 0, created.stderr);
  const indexed = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(indexed.code, 0, indexed.stderr);
}

Deno.test("with every permission: a .. after a link is the link target's parent", async () => {
  await withTempDir(async (dir) => {
    await setUp(dir);
    const deep = join(dir, "deep", "a");
    await Deno.writeTextFile(join(dir, "victim.csv"), "precious\n");

    const exported = await ledgerAllowAll(
      ["export", "runs", "--root", "R", "--format", "csv", "--out", "lk/../victim.csv"],
      dir,
    );
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(await Deno.readTextFile(join(dir, "victim.csv")), "precious\n", "not written");
    assert.match(await Deno.readTextFile(join(deep, "victim.csv")), /^run_id,/);

    const report = await ledgerAllowAll(["report", "--root", "R", "--out", "lk/../r.html"], dir);
    assert.equal(report.code, 0, report.stderr);
    assert.ok((await Deno.stat(join(deep, "r.html"))).isFile);

    // The same root, reached through the link.
    await Deno.rename(join(dir, "R"), join(dir, "deep", "R2"));
    const runs = await ledgerAllowAll(["runs", "--root", "lk/../../R2", "--json"], dir);
    assert.equal(runs.code, 0, runs.stderr);
    assert.equal(JSON.parse(runs.stdout)[0].run_id, "r1");
    const sql = await ledgerAllowAll(
      ["sql", "SELECT run_id FROM runs_d", "--db", "lk/../../R2/index/runs.duckdb"],
      dir,
    );
    assert.equal(sql.code, 0, sql.stderr);
    assert.match(sql.stdout, /r1/);
    const rebuilt = await ledgerAllowAll(
      ["rebuild-index", "--root", "lk/../../R2", "--db", "lk/../x.duckdb"],
      dir,
    );
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.ok((await Deno.stat(join(deep, "x.duckdb"))).isFile);

    const emitted = await ledgerAllowAll(
      [
        ...["emit", "--root", "lk/../E", "--event-type", "run.created", "--run-id", "e1"],
        ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", "f"],
      ],
      dir,
    );
    assert.equal(emitted.code, 0, emitted.stderr);
    assert.ok((await Deno.stat(join(deep, "E", "events"))).isDirectory);
    await assert.rejects(Deno.stat(join(dir, "E")), Deno.errors.NotFound);
  });
});

Deno.test("under permission flags: the file a command says it wrote is the one there", async () => {
  await withTempDir(async (dir) => {
    await setUp(dir);
    const r = await runScript(
      CLI_PATH,
      ["export", "runs", "--root", "R", "--format", "csv", "--out", "lk/../out.csv"],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const said = /to (\S+) \(csv\)/.exec(r.stdout)?.[1];
    assert.ok(said !== undefined, r.stdout);
    // Deno reads `..` as text under these flags, the command with it: beside `lk`.
    assert.equal(said, "lk/../out.csv");
    assert.match(await Deno.readTextFile(join(dir, "out.csv")), /^run_id,/);
    await assert.rejects(Deno.stat(join(dir, "deep", "a", "out.csv")), Deno.errors.NotFound);
  });
});
