/**
 * A DuckDB file reached through a symbolic link reads as the file itself
 * does. Readers open DuckDB with external access disabled, and DuckDB then
 * refused the `.wal` of the link's target (a probe: "Permission Error:
 * Cannot access file .../fast/runs.duckdb.wal - file system operations are
 * disabled by configuration"): `runs`, `show` and `sql` exited 1 on a
 * linked index, and `runs` left a linked legacy DuckDB's runs out under a
 * warning (exit 1 with `--legacy-db LINK`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { indexPath } from "../../ledger/paths.ts";
import { ev, fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

/** The message DuckDB gave for a link's target's `.wal`. */
const WAL_REFUSED = /Permission Error|file system operations are disabled/;

/** A root at `dir/data/ledger` with run-a indexed; its index moved to `dir/fast`, linked back. */
async function linkedIndexRoot(dir: string): Promise<string> {
  const root = join(dir, "data", "ledger");
  await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
  await rebuildIndex(root, {});
  await Deno.mkdir(join(dir, "fast"));
  await Deno.rename(indexPath(root), join(dir, "fast", "runs.duckdb"));
  // Relative, as `ln -s ../../../fast/runs.duckdb` makes it: read from the link's folder.
  await Deno.symlink("../../../fast/runs.duckdb", indexPath(root));
  return root;
}

/** A legacy DuckDB of legacy-1 at `path`. */
async function legacyDb(path: string): Promise<void> {
  await createLegacyDb(path, [{
    run_id: "legacy-1",
    run_type: "baseline",
    created_at_ms: Date.UTC(2026, 0, 10),
    config: "{}",
    data_fingerprint: "fp",
  }]);
}

/** The run ids of `runs --json` output. */
function runIds(stdout: string): string[] {
  return (JSON.parse(stdout) as { run_id: string }[]).map((r) => r.run_id).sort();
}

Deno.test("a linked index: runs, show, sql and trials read it", async (t) => {
  await withTempDir(async (dir) => {
    const root = await linkedIndexRoot(dir);
    const ledger = (...args: string[]) => runLedger([...args, "--root", root], { cwd: dir });

    await t.step("runs", async () => {
      const r = await ledger("runs", "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(runIds(r.stdout), ["run-a"]);
      assert.doesNotMatch(r.stderr, WAL_REFUSED);
    });

    await t.step("show", async () => {
      const r = await ledger("show", "run-a", "--json");
      assert.equal(r.code, 0, r.stderr);
      const detail = JSON.parse(r.stdout);
      assert.equal(detail.run.run_id, "run-a");
      assert.equal(detail.run.status, "completed");
    });

    await t.step("sql", async () => {
      const r = await ledger("sql", "SELECT run_id FROM runs_d", "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [{ run_id: "run-a" }]);
    });

    await t.step("trials", async () => {
      const r = await ledger("trials", "--run", "run-a");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /t1/);
    });

    await t.step("the link is left a link", async () => {
      assert.ok((await Deno.lstat(indexPath(root))).isSymlink);
    });
  });
});

Deno.test("a linked legacy DuckDB: runs lists its runs, by default and with --legacy-db", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      ev("run.created", "ledger-1", T0, { run_type: "policy", config: {}, data_fingerprint: "fp" }),
    ]);
    await rebuildIndex(root, {});
    const shared = join(dir, "elsewhere", "shared.duckdb");
    await Deno.mkdir(join(dir, "elsewhere"));
    await legacyDb(shared);
    const ledger = (...args: string[]) => runLedger([...args, "--root", root], { cwd: dir });

    await t.step("the default data/baseline_results.duckdb as a link", async () => {
      await Deno.symlink(shared, join(dir, "data", "baseline_results.duckdb"));
      const r = await ledger("runs", "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "", "no warning: the legacy file was read");
      assert.deepEqual(runIds(r.stdout), ["ledger-1", "legacy-1"]);
    });

    await t.step("--legacy-db LINK", async () => {
      const link = join(dir, "link.duckdb");
      await Deno.symlink(shared, link);
      const r = await ledger("runs", "--json", "--legacy-db", link);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, WAL_REFUSED);
      assert.deepEqual(runIds(r.stdout), ["ledger-1", "legacy-1"]);
      const shown = await ledger("show", "legacy-1", "--json", "--legacy-db", link);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).run.run_id, "legacy-1");
    });
  });
});

Deno.test("rebuild-index --full --db LINK to a DuckDB that is no index: refused as such", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    // A legacy DuckDB has tables and no index_meta: not an index to replace.
    const shared = join(dir, "shared.duckdb");
    await legacyDb(shared);
    const link = join(dir, "link.duckdb");
    await Deno.symlink(shared, link);
    const r = await runLedger(["rebuild-index", "--full", "--db", link, "--root", root]);
    assert.equal(r.code, 1, r.stderr);
    // Not DuckDB's refusal of the target's .wal, which failed the rebuild without checking.
    assert.match(
      r.stderr,
      /Rebuild refused .*link\.duckdb is a DuckDB database but not a ledger index/,
    );
    assert.ok((await Deno.lstat(link)).isSymlink);
  });
});

// OPERATIONS.md: to keep the index on another disk, link its folder (a link at the file itself is
// replaced by a file at the first rebuild, the write aside being renamed over it).
Deno.test("a linked index folder: rebuilds update the file behind it, and the link stays", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await Deno.mkdir(join(dir, "fast", "index"), { recursive: true });
    await Deno.symlink(join(dir, "fast", "index"), join(root, "index"));
    const first = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(first.code, 0, first.stderr);
    await writePart(root, "day=2026-01-21/part-1.jsonl", fullRun("run-b", T0 + 86_400_000));
    const second = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /incremental/);
    assert.ok((await Deno.lstat(join(root, "index"))).isSymlink);
    assert.ok((await Deno.lstat(join(dir, "fast", "index", "runs.duckdb"))).isFile);
    const r = await runLedger(["runs", "--json", "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(runIds(r.stdout), ["run-a", "run-b"]);
  });
});
