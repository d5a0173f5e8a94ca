/**
 * A full rebuild writes its index in blocks of `INDEX_BLOCK_BYTES` (an
 * update's fixed cost grows with DuckDB's block: see its JSDoc), an
 * incremental update keeps the block size of the index it copies, and an
 * index built before in DuckDB's default 256 KiB blocks is updated and read
 * as before until a full rebuild.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { INDEX_BLOCK_BYTES, rebuildIndex } from "../../indexer/rebuild.ts";
import { indexPath } from "../../ledger/paths.ts";
import { fullRun, query, T0, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

/** The block size DuckDB reads from the index file's header. */
async function blockBytes(dbPath: string): Promise<number> {
  const [row] = await query(dbPath, "SELECT block_size FROM pragma_database_size()");
  return Number(row.block_size);
}

Deno.test("index: a full rebuild writes INDEX_BLOCK_BYTES blocks, an update keeps the file's", async (t) => {
  await withTempDir(async (root) => {
    const dbPath = indexPath(root);
    await writePart(root, join("day=2026-01-20", "part-a.jsonl"), fullRun("b1", T0));
    await t.step("full rebuild", async () => {
      const report = await rebuildIndex(root, { full: true });
      equal(report.mode, "full");
      equal(INDEX_BLOCK_BYTES, 65_536);
      equal(await blockBytes(dbPath), INDEX_BLOCK_BYTES);
    });
    await t.step("incremental update", async () => {
      await writePart(root, join("day=2026-01-20", "part-b.jsonl"), fullRun("b2", T0 + 60_000));
      const report = await rebuildIndex(root, {});
      equal(report.mode, "incremental");
      equal(await blockBytes(dbPath), INDEX_BLOCK_BYTES);
      deepEqual(
        (await query(dbPath, "SELECT run_id FROM runs_d ORDER BY run_id")).map((r) => r.run_id),
        ["b1", "b2"],
      );
    });
    await t.step("an index of 256 KiB blocks is updated as it is", async () => {
      // The same tables copied into a file of DuckDB's default block size: an index built
      // before this change.
      const old = join(root, "old.duckdb");
      const instance = await DuckDBInstance.create(":memory:");
      const conn = await instance.connect();
      try {
        await conn.run(`ATTACH '${old}' AS old (BLOCK_SIZE 262144)`);
        await conn.run(`ATTACH '${dbPath}' AS cur (READ_ONLY)`);
        await conn.run("COPY FROM DATABASE cur TO old");
      } finally {
        conn.disconnectSync();
        instance.closeSync();
      }
      await Deno.rename(old, dbPath);
      equal(await blockBytes(dbPath), 262_144);
      await writePart(root, join("day=2026-01-20", "part-c.jsonl"), fullRun("b3", T0 + 120_000));
      const report = await rebuildIndex(root, {});
      equal(report.mode, "incremental");
      equal(await blockBytes(dbPath), 262_144);
      deepEqual(
        (await query(dbPath, "SELECT run_id FROM runs_d ORDER BY run_id")).map((r) => r.run_id),
        ["b1", "b2", "b3"],
      );
    });
  });
});
