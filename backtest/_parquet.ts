/**
 * Internal: write rows to a Parquet file through DuckDB (appender into a
 * temporary table, then `COPY ... TO ... (FORMAT parquet)`).
 *
 * @module
 */
import type { DuckDBConnection } from "../indexer/duckdb.ts";
import { copyToParquetSql, createTempTableSql, dropTableSql } from "./_sql.ts";

/**
 * A column of a Parquet output: name and DuckDB type.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type ColumnSpec, writeParquet } from "./_parquet.ts";
 * import { openDataSession } from "./data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const columns: ColumnSpec[] = [
 *     { name: "mint", type: "VARCHAR" },
 *     { name: "n", type: "BIGINT" },
 *   ];
 *   await writeParquet(s.conn, `${dir}/t.parquet`, { columns, rows: [["M", 3]] });
 *   // The file's schema has the names and types given.
 *   const schema = await s.conn.runAndReadAll(`DESCRIBE SELECT * FROM '${dir}/t.parquet'`);
 *   const got = schema.getRowObjectsJS().map((r) => `${r.column_name} ${r.column_type}`);
 *   assert.deepEqual(got, ["mint VARCHAR", "n BIGINT"]);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ColumnSpec {
  /** Column name. */
  name: string;
  /** DuckDB type. */
  type: "VARCHAR" | "DOUBLE" | "BIGINT" | "BOOLEAN";
}

/**
 * One row: a value per column, in column order; `null` for SQL NULL.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type Row, writeParquet } from "./_parquet.ts";
 * import { openDataSession } from "./data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   // NaN and the infinities are written as NULL too, like `null`.
 *   const rows: Row[] = [["a", 1.5], ["b", null], ["c", NaN]];
 *   const columns = [{ name: "k", type: "VARCHAR" }, { name: "x", type: "DOUBLE" }] as const;
 *   await writeParquet(s.conn, `${dir}/t.parquet`, { columns, rows });
 *   const sql = `SELECT count(*)::INTEGER AS n, count(x)::INTEGER AS x FROM '${dir}/t.parquet'`;
 *   assert.deepEqual((await s.conn.runAndReadAll(sql)).getRowObjectsJS(), [{ n: 3, x: 1 }]);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export type Row = readonly (string | number | boolean | null)[];

let tableSeq = 0;

/**
 * Write `rows` with `columns` to the Parquet file `path` (overwritten) and
 * return the number of rows written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeParquet } from "./_parquet.ts";
 * import { openDataSession } from "./data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const path = `${dir}/out.parquet`;
 *   const columns = [{ name: "x", type: "DOUBLE" }] as const;
 *   assert(await writeParquet(s.conn, path, { columns, rows: [[1], [2]] }) === 2);
 *   const back = await s.conn.runAndReadAll(`SELECT sum(x) FROM '${path}'`);
 *   assert(back.getRows()[0][0] === 3);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeParquet(
  conn: DuckDBConnection,
  path: string,
  options: { columns: readonly ColumnSpec[]; rows: Iterable<Row> },
): Promise<number> {
  const table = `_parquet_out_${++tableSeq}`;
  await conn.run(createTempTableSql(table, options.columns));
  let count = 0;
  let negativeZero = false;
  try {
    const appender = await conn.createAppender(table);
    try {
      for (const row of options.rows) {
        negativeZero ||= row.some((v) => Object.is(v, -0));
        appendRow(appender, options.columns, row);
        count++;
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await conn.run(copyToParquetSql(table, path, negativeZero));
  } finally {
    await conn.run(dropTableSql(table));
  }
  return count;
}

type Appender = Awaited<ReturnType<DuckDBConnection["createAppender"]>>;

function appendRow(appender: Appender, columns: readonly ColumnSpec[], row: Row): void {
  for (let c = 0; c < columns.length; c++) {
    const v = row[c];
    if (v === null || (typeof v === "number" && !Number.isFinite(v))) {
      appender.appendNull();
      continue;
    }
    switch (columns[c].type) {
      case "VARCHAR":
        appender.appendVarchar(String(v));
        break;
      case "DOUBLE":
        appender.appendDouble(Number(v));
        break;
      case "BIGINT":
        appender.appendBigInt(BigInt(Math.trunc(Number(v))));
        break;
      case "BOOLEAN":
        appender.appendBoolean(Boolean(v));
        break;
    }
  }
  appender.endRow();
}
