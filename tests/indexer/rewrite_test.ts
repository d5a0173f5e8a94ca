/**
 * A part rewritten in place at the same size (a bad line fixed by hand, lines
 * reordered): the incremental update resumed from the old offset because the
 * last indexed line was unchanged, and kept the old verdicts (SPEC 7: full
 * and incremental give the same index). An append always grows a file, so
 * the same size with a new modification time is read again whole.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, T0, writePart } from "./_fixtures.ts";

Deno.test("incremental: a part rewritten at the same size is read again whole", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-rewrite-" });
  try {
    const created = JSON.stringify(
      ev("run.created", "r1", T0, { run_type: "x", config: {}, data_fingerprint: "fp" }),
    );
    const broken = created.slice(0, -1) + "#"; // same length, not JSON
    const started = ev("run.started", "r1", T0 + 1);
    const path = await writePart(root, "day=2026-01-20/part-000001.jsonl", [broken, started]);
    await rebuildIndex(root, {});
    const before = await Deno.stat(path);
    await writePart(root, "day=2026-01-20/part-000001.jsonl", [created, started]);
    // A new modification time, whatever the clock's resolution.
    await Deno.utime(path, new Date(), new Date(before.mtime!.getTime() + 2_000));
    equal((await Deno.stat(path)).size, before.size);
    const incremental = await rebuildIndex(root, {});
    equal(incremental.mode, "incremental");
    equal(incremental.events, 2);
    equal(incremental.errors, 0);
    const db = join(root, "index", "runs.duckdb");
    const afterIncremental = await dumpTables(db);
    await rebuildIndex(root, { full: true });
    deepEqual(afterIncremental, await dumpTables(db));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
