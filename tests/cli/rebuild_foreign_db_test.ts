/**
 * `ledger rebuild-index --db PATH` never replaces a file that is not a
 * ledger index (an audit: `--db` at a part of the log, at a notes file and
 * at the legacy DuckDB file replaced each with an index, exit 0, and the
 * part's events were gone): such a rebuild is refused with exit 1 and the
 * file is left byte for byte; a damaged index at the root's own index path
 * is still rebuilt from the log.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("rebuild-index --db: a file that is not an index is refused and left as it is", async (t) => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/a.jsonl", fullRun("run-1", T0));
    await writePart(root, "day=2026-01-20/b.jsonl", fullRun("run-2", T0 + 5));
    const part = join(root, "events", "day=2026-01-20", "b.jsonl");

    const refused = async (db: string, flags: string[], why: RegExp) => {
      const before = await sha256(db);
      const r = await runLedger(["rebuild-index", "--root", root, "--db", db, ...flags]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^ledger rebuild-index: Rebuild refused \(nothing was changed\): /);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.equal(await sha256(db), before, `${db} is unchanged`);
      const left = [...Deno.readDirSync(join(db, ".."))].map((e) => e.name);
      assert.ok(!left.some((n) => n.includes(".tmp-")), `no copy left beside it: ${left}`);
    };

    await t.step(
      "a part of the log, and a new path under events/ (nothing made there)",
      async () => {
        for (const flags of [[], ["--full"]]) {
          await refused(part, flags, /b\.jsonl is inside the log's events directory/);
        }
        const inside = join(root, "events", "day=2026-01-21", "index.duckdb");
        const r = await runLedger(["rebuild-index", "--root", root, "--db", inside]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /inside the log's events directory/);
        await assert.rejects(
          Deno.stat(join(root, "events", "day=2026-01-21")),
          Deno.errors.NotFound,
        );
      },
    );

    await t.step("a file that is not a DuckDB database", async () => {
      const notes = join(root, "notes.txt");
      await Deno.writeTextFile(notes, "my precious notes\n".repeat(10));
      for (const flags of [[], ["--full"]]) {
        await refused(notes, flags, /notes\.txt is not a DuckDB database: not replacing it/);
      }
      // Refused before the rebuild lock is taken: no lock file appears beside it.
      const left = [...Deno.readDirSync(root)].map((e) => e.name);
      assert.ok(!left.includes(".notes.txt.rebuild.lock"), `no lock file left: ${left}`);
    });

    await t.step("a DuckDB database that is not an index (the legacy file)", async () => {
      const legacy = join(root, "baseline_results.duckdb");
      const instance = await DuckDBInstance.create(legacy);
      const conn = await instance.connect();
      await conn.run("CREATE SCHEMA optimizer");
      await conn.run("CREATE TABLE optimizer.runs_d (run_id VARCHAR)");
      await conn.run("INSERT INTO optimizer.runs_d VALUES ('legacy-1')");
      conn.disconnectSync();
      instance.closeSync();
      for (const flags of [[], ["--full"]]) {
        await refused(legacy, flags, /is a DuckDB database but not a ledger index/);
      }
      // Refused after the lock was taken (the file had to be opened): its lock file goes too.
      const left = [...Deno.readDirSync(root)].map((e) => e.name);
      assert.ok(!left.some((n) => n.endsWith(".rebuild.lock")), `no lock file left: ${left}`);
    });

    await t.step("an index, a new path and an empty file are written as before", async () => {
      const fresh = join(root, "elsewhere", "idx.duckdb");
      for (const flags of [[], [], ["--full"]]) {
        const r = await runLedger(["rebuild-index", "--root", root, "--db", fresh, ...flags]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Indexed 20 events of 2 runs/);
      }
      const empty = join(root, "empty.duckdb");
      await Deno.writeFile(empty, new Uint8Array());
      const r = await runLedger(["rebuild-index", "--root", root, "--db", empty]);
      assert.equal(r.code, 0, r.stderr);
    });

    await t.step(
      "a damaged index at the root's own index path is rebuilt from the log",
      async () => {
        const own = join(root, "index", "runs.duckdb");
        await Deno.mkdir(join(root, "index"), { recursive: true });
        await Deno.writeTextFile(own, "garbage where the index was\n");
        const r = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /rebuilt it in full from the log/);
        assert.match(r.stdout, /Indexed 20 events of 2 runs/);
        // So is one named like an index elsewhere (a bucket's index is not at its mirror's).
        const named = join(root, "elsewhere", "idx.duckdb");
        await Deno.writeTextFile(named, "garbage where the index was\n");
        const again = await runLedger(["rebuild-index", "--root", root, "--db", named]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /rebuilt it in full from the log/);
      },
    );
  });
});
