/**
 * A bucket's index (its `index_meta.source` a bucket) on a root: a plain
 * `rebuild-index` is refused naming the bucket, whether or not the root has
 * a log of its own, and `--full` is offered only where there is a log to
 * rebuild from (a docs audit and a review: on an indexer's root it spoke of
 * "a moved or unmounted log?"). No S3 server needed: the source is set on a
 * local index.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";

const BUCKET = "s3://lab/team-a/";

async function markFromBucket(dbPath: string): Promise<void> {
  const instance = await DuckDBInstance.create(dbPath);
  const conn = await instance.connect();
  await conn.run(`UPDATE index_meta SET value = '${BUCKET}' WHERE key = 'source'`);
  conn.disconnectSync();
  instance.closeSync();
}

Deno.test("rebuild-index of a bucket's index names the bucket, with or without a local log", async (t) => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/a.jsonl", fullRun("run-1", T0));
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    await markFromBucket(join(root, "index", "runs.duckdb"));
    const said = `is built from ${BUCKET}, not this root's log: rebuild it with --from ${BUCKET}`;
    await t.step("a root with a log: --full is the other way", async () => {
      const before = await Deno.readFile(join(root, "index", "runs.duckdb"));
      const r = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(r.code, 1, r.stdout);
      assert.ok(
        r.stderr.includes(`${said} (or --full to rebuild it from this root's log`),
        r.stderr,
      );
      assert.deepEqual(await Deno.readFile(join(root, "index", "runs.duckdb")), before);
    });
    await t.step("an indexer's root, no log of its own: the bucket, no --full", async () => {
      await Deno.remove(join(root, "events"), { recursive: true });
      const before = await Deno.readFile(join(root, "index", "runs.duckdb"));
      const r = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(r.stderr.includes(`${said} (this root has no log of its own)`), r.stderr);
      assert.deepEqual(await Deno.readFile(join(root, "index", "runs.duckdb")), before);
    });
  });
});
