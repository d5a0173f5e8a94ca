/**
 * Part files and roots whose paths hold a backslash before `*`, `?` or `[`
 * are read, each once. DuckDB takes a reader's path as a pattern in which a
 * backslash escapes, and no escape or class matches one: a probe had
 * `b\*.jsonl`, `a\[1].jsonl` and a root `r\[x]` read as no file at all, every
 * event lost, while the rebuild said "read 3 of 3 files" and `verify` "sound".
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { withTempDir } from "../_helpers.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";

/** The run ids of `events` in the index of `root`, sorted, with how many events each. */
async function runsOf(root: string): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(join(root, "index", "runs.duckdb"), {
    access_mode: "READ_ONLY",
  });
  try {
    const conn = await instance.connect();
    const reader = await conn.runAndReadAll(
      "SELECT run_id, count(*)::INTEGER AS n FROM events GROUP BY run_id ORDER BY run_id",
    );
    conn.disconnectSync();
    return Object.fromEntries(reader.getRows().map(([id, n]) => [String(id), Number(n)]));
  } finally {
    instance.closeSync();
  }
}

Deno.test("parts and roots with a backslash before a glob character are read, each once", async () => {
  await withTempDir(async (dir) => {
    // `bx*.jsonl` is what the pattern of `b\*.jsonl` also matches: still read once.
    const names = ["ok.jsonl", "b\\*.jsonl", "a\\[1].jsonl", "bx*.jsonl", "c\\d.jsonl"];
    for (const root of [join(dir, "plain"), join(dir, "r\\[x]")]) {
      for (const [i, name] of names.entries()) {
        await writePart(root, `day=2026-01-20/${name}`, [ev("run.started", `r${i}`, T0 + i)]);
      }
      for (const full of [true, false]) {
        const report = await rebuildIndex(root, { full });
        assert.equal(report.events, names.length, `${root} full=${full}`);
        assert.equal(report.duplicates, 0, "bx*.jsonl read twice");
        assert.deepEqual(await runsOf(root), { r0: 1, r1: 1, r2: 1, r3: 1, r4: 1 });
      }
      // Appended to, read on from where it was (a range of a staged copy, or the file).
      await writePart(root, "day=2026-01-20/b\\*.jsonl", [ev("run.started", "r1", T0 + 10)], {
        append: true,
      });
      const again = await rebuildIndex(root, {});
      assert.equal(again.mode, "incremental");
      assert.equal(again.events, names.length + 1);
      assert.equal(again.duplicates, 0);
    }
  });
});
