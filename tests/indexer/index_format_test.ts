/**
 * An index built by another version of ledger (another index format) is
 * named as such by the readers, with what to do, instead of DuckDB's Binder
 * or Catalog error about a table or column this code expects; a query's own
 * Binder error on a current index stays DuckDB's.
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { runLedger } from "../_helpers.ts";
import { fullRun, T0, writePart } from "./_fixtures.ts";

Deno.test("readers: an index of another format says rebuild it", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-index-format-" });
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await rebuildIndex(root, {});
    const own = await runLedger(["sql", "--root", root, "SELECT no_such_column FROM runs_d"]);
    equal(own.code, 1);
    match(own.stderr, /Binder Error/);
    // What an older ledger built: no run_tags, a latest_runs without `archived`, format 3.
    const db = join(root, "index", "runs.duckdb");
    const instance = await DuckDBInstance.create(db);
    const conn = await instance.connect();
    await conn.run("DROP VIEW latest_runs");
    await conn.run("DROP TABLE run_tags");
    await conn.run("UPDATE index_meta SET value = '3' WHERE key = 'format_version'");
    conn.disconnectSync();
    instance.closeSync();
    for (const args of [["runs"], ["show", "run-a"]]) {
      const r = await runLedger([...args, "--root", root]);
      equal(r.code, 1, r.stderr);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(
        r.stderr,
        /built by another version of ledger \(index format 3, this one reads \d+\): rebuild it with `ledger rebuild-index`/,
      );
    }
    // The indexer rebuilds it in full; the readers work again.
    await rebuildIndex(root, {});
    equal((await runLedger(["runs", "--root", root])).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

for (const format of ["9", "10"]) {
  Deno.test(`readers: an index of format ${format} is read; the next rebuild replaces it in full`, async () => {
    const root = await Deno.makeTempDir({ prefix: "ledger-index-format-" });
    try {
      await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
      await rebuildIndex(root, {});
      // Formats 9 and 10 have this version's tables (9's JSON columns may hold NaN as the log
      // wrote it; 10's rows a field their type does not define).
      const db = join(root, "index", "runs.duckdb");
      const instance = await DuckDBInstance.create(db);
      const conn = await instance.connect();
      await conn.run(`UPDATE index_meta SET value = '${format}' WHERE key = 'format_version'`);
      conn.disconnectSync();
      instance.closeSync();
      for (const args of [["runs"], ["show", "run-a"], ["report", "--out", join(root, "r.html")]]) {
        const r = await runLedger([...args, "--root", root]);
        equal(r.code, 0, `${args[0]}: ${r.stderr}`);
      }
      const rebuilt = await rebuildIndex(root, {});
      equal(rebuilt.mode, "full");
      equal((await rebuildIndex(root, {})).mode, "incremental");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
