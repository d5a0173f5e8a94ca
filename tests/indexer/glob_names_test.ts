import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, query, T0, writePart } from "./_fixtures.ts";

const DAY = "day=2026-01-20";

// DuckDB's read_text takes every path as a glob: `a[1].jsonl` read `a1.jsonl` in its place,
// `b*.jsonl` read `bx.jsonl` too, and a line of `cx.jsonl` that is not UTF-8 failed the whole
// rebuild (found by rebuild_fuzz_test.ts). SPEC 3: every *.jsonl is read; SPEC 7: one bad line
// never fails a rebuild.
Deno.test("part files whose names hold glob characters are read as named", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const names = ["a[1].jsonl", "a1.jsonl", "b*.jsonl", "bx.jsonl", "c?.jsonl", "cx.jsonl"];
    for (const [i, name] of names.entries()) {
      await writePart(root, `${DAY}/${name}`, [ev("run.started", `r${i}`, T0 + i)]);
    }
    // A line that is not UTF-8 in a part another's name matched failed the whole rebuild: the
    // copy made readable was of cx.jsonl, and the pattern c?.jsonl still read the original.
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode('{"x":"caf'),
      0xe9,
      0x22,
      0x7d,
      0x0a,
    ]);
    await Deno.writeFile(join(root, "events", DAY, "cx.jsonl"), latin1, { append: true });
    await rebuildIndex(root, {});
    const db = join(root, "index", "runs.duckdb");
    const expected = names.map((name, i) => ({ file: `${DAY}/${name}`, run_id: `r${i}` }))
      .sort((a, b) => (a.file < b.file ? -1 : 1));
    deepEqual(await query(db, "SELECT file, run_id FROM events ORDER BY file"), expected);
    deepEqual(await query(db, "SELECT count(*) AS n FROM event_duplicates"), [{ n: 0 }]);
    deepEqual(await query(db, "SELECT file, line, reason FROM ingest_errors"), [
      { file: `${DAY}/cx.jsonl`, line: 2, reason: "not UTF-8" },
    ]);
    const files = await query(db, "SELECT file, lines_indexed FROM ingest_files ORDER BY file");
    deepEqual(
      files,
      expected.map((e) => ({ file: e.file, lines_indexed: e.file.endsWith("cx.jsonl") ? 2 : 1 })),
    );

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
