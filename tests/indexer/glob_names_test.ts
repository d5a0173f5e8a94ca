import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, query, T0, writePart } from "./_fixtures.ts";

const DAY = "day=2026-01-20";

// DuckDB's read_text takes every path as a glob: `a[1].jsonl` read `a1.jsonl` in its place and
// `b*.jsonl` read `bx.jsonl` too (found by rebuild_fuzz_test.ts). SPEC 3: every *.jsonl is read.
Deno.test("part files whose names hold glob characters are read as named", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const names = ["a[1].jsonl", "a1.jsonl", "b*.jsonl", "bx.jsonl", "c?.jsonl", "cx.jsonl"];
    for (const [i, name] of names.entries()) {
      await writePart(root, `${DAY}/${name}`, [ev("run.started", `r${i}`, T0 + i)]);
    }
    await rebuildIndex(root, {});
    const db = join(root, "index", "runs.duckdb");
    const expected = names.map((name, i) => ({ file: `${DAY}/${name}`, run_id: `r${i}` }))
      .sort((a, b) => (a.file < b.file ? -1 : 1));
    deepEqual(await query(db, "SELECT file, run_id FROM events ORDER BY file"), expected);
    deepEqual(await query(db, "SELECT count(*) AS n FROM event_duplicates"), [{ n: 0 }]);
    const files = await query(db, "SELECT file, lines_indexed FROM ingest_files ORDER BY file");
    deepEqual(files, expected.map((e) => ({ file: e.file, lines_indexed: 1 })));

    // Appended to, each is read from its own offset: the same index as a full rebuild.
    await writePart(root, `${DAY}/a[1].jsonl`, [ev("run.noted", "r0", T0 + 9, { note: "x" })], {
      append: true,
    });
    await rebuildIndex(root, {});
    const fullDb = join(root, "index", "full.duckdb");
    await rebuildIndex(root, { full: true, dbPath: fullDb });
    deepEqual(await dumpTables(db), await dumpTables(fullDb));
    deepEqual(await query(db, "SELECT count(*) AS n FROM events"), [{ n: names.length + 1 }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
