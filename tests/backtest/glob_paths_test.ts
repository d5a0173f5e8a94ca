/**
 * DuckDB takes every path its file readers are given as a glob pattern. The
 * indexer's audit found part files with `[`, `*` or `?` in their names read
 * wrongly; the same held for a backtest's data files (`calls[1].csv` read
 * `calls1.csv` when that file was there) and for the artifacts the report,
 * `show` and `compare` read from a root whose path holds such characters.
 * Every reader now gets the path as a pattern that matches only itself
 * (`literalGlob`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { literalGlob } from "../../indexer/duckdb_glob.ts";
import { readFileSql, strictCsvSql } from "../../backtest/_sql.ts";
import { TRADES_SQL } from "../../report/_sql.ts";
import { jsonList, rows } from "../../indexer/_sql.ts";

Deno.test("data files and artifacts whose paths hold [, * or ? are read as named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-glob-" });
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  const count = async (sql: string) =>
    Number((await conn.runAndReadAll(sql)).getRowObjectsJS()[0].n);
  try {
    // The file asked for, and a decoy its name matches as a pattern.
    await Deno.writeTextFile(join(dir, "calls[1].csv"), "call_id,mint\na,m\nb,m\n");
    await Deno.writeTextFile(join(dir, "calls1.csv"), "call_id,mint\nx,m\ny,m\nz,m\n");
    const csv = join(dir, "calls[1].csv");
    assert.equal(await count(`SELECT count(*) AS n FROM ${readFileSql(csv, "csv")}`), 2);
    assert.equal(await count(strictCsvSql(csv, ["call_id", "mint"])), 2);

    await Deno.writeTextFile(join(dir, "c*.jsonl"), '{"a":1}\n');
    await Deno.writeTextFile(join(dir, "cx.jsonl"), '{"a":1}\n{"a":2}\n');
    const json = join(dir, "c*.jsonl");
    assert.equal(await count(`SELECT count(*) AS n FROM ${readFileSql(json, "json")}`), 1);

    // Parquet, as the report reads a run's results: the filename it reports is the path itself.
    const results = (to: string, n: number) =>
      conn.run(
        `COPY (SELECT range AS exit_ts_ms, 10.0 AS realized_return_bps,
          -5.0 AS max_adverse_excursion_bps, 'target' AS exit_reason FROM range(${n}))
          TO '${to.replaceAll("'", "''")}' (FORMAT parquet)`,
      );
    const parquet = join(dir, "results[1].parquet");
    await results(parquet, 1);
    await results(join(dir, "results1.parquet"), 3);
    assert.equal(await count(`SELECT count(*) AS n FROM ${readFileSql(parquet, "parquet")}`), 1);
    const trades = await rows(conn, TRADES_SQL, [jsonList([literalGlob(parquet)])]);
    assert.deepEqual(trades.map((r) => [r.filename, JSON.parse(String(r.exits)).length]), [
      [parquet, 1],
    ]);
  } finally {
    conn.disconnectSync();
    instance.closeSync();
    await Deno.remove(dir, { recursive: true });
  }
});
