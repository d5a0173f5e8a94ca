/**
 * The one way the query surface opens the index: read-only, with DuckDB's
 * external access disabled and the configuration locked, so nothing a
 * query runs (or a view stored in the index) can read or write any other
 * file, and no statement can turn that back on. Rows stream chunk by
 * chunk, so memory does not grow with the number of rows.
 *
 * DuckDB caches one database per path per process only through its
 * instance cache; this module always creates a fresh instance and closes
 * it, so each call sees the index file as it is now.
 *
 * @module
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  VARCHAR,
} from "@duckdb/node-api";
import type { QueryParam } from "./fields.ts";
import { IndexNotFoundError, READER_CONFIG, withIndex } from "../queries.ts";

export { IndexNotFoundError, READER_CONFIG };

/**
 * Open the index at `dbPath` read-only with external access disabled, run
 * `fn`, close everything. Throws {@linkcode IndexNotFoundError} when there
 * is no such file, and refuses anything that is not a regular file.
 *
 * @example
 * ```ts ignore
 * import { withReader } from "./reader.ts";
 * await withReader("data/ledger/index/runs.duckdb", async (conn) => {
 *   console.log((await conn.runAndReadAll("SELECT count(*) FROM runs_d")).getRows());
 * });
 * ```
 */
export function withReader<T>(
  dbPath: string,
  fn: (conn: DuckDBConnection) => Promise<T>,
): Promise<T> {
  return withIndex(dbPath, fn);
}

/** Values and DuckDB types for `?` parameters (numbers bind as DOUBLE). */
export function bindParams(
  params: readonly QueryParam[],
): { values: DuckDBValue[]; types: DuckDBType[] } {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  for (const p of params) {
    if (typeof p === "number") {
      if (Number.isSafeInteger(p)) {
        values.push(BigInt(p));
        types.push(BIGINT);
      } else {
        values.push(p);
        types.push(DOUBLE);
      }
    } else if (typeof p === "boolean") {
      values.push(p);
      types.push(BOOLEAN);
    } else {
      values.push(p);
      types.push(VARCHAR);
    }
  }
  return { values, types };
}

/**
 * Run `sql` with `params` and yield its rows in batches (one DuckDB chunk
 * each), as plain objects: BIGINT as number, lists and structs recursively.
 *
 * @example
 * ```ts ignore
 * import { streamRows, withReader } from "./reader.ts";
 * await withReader(path, async (conn) => {
 *   for await (const batch of streamRows(conn, "SELECT 1 AS x")) console.log(batch);
 * });
 * ```
 */
export async function* streamRows(
  conn: DuckDBConnection,
  sql: string,
  params: readonly QueryParam[] = [],
): AsyncGenerator<Record<string, unknown>[]> {
  const { values, types } = bindParams(params);
  const result = params.length === 0
    ? await conn.stream(sql)
    : await conn.stream(sql, values, types);
  for await (const batch of result.yieldRowObjectJs()) {
    yield batch.map(plainRow);
  }
}

/**
 * Run `sql` and return its column names at once, with its rows to stream
 * in batches (as {@linkcode streamRows} gives them).
 *
 * @example
 * ```ts ignore
 * import { openStream, withReader } from "./reader.ts";
 * await withReader(path, async (conn) => {
 *   const { columns, batches } = await openStream(conn, "SELECT 1 AS x");
 *   console.log(columns);
 *   for await (const batch of batches) console.log(batch);
 * });
 * ```
 */
export async function openStream(
  conn: DuckDBConnection,
  sql: string,
): Promise<{ columns: string[]; batches: AsyncGenerator<Record<string, unknown>[]> }> {
  const result = await conn.stream(sql);
  const columns = result.deduplicatedColumnNames();
  async function* batches() {
    for await (const batch of result.yieldRowObjectJs()) yield batch.map(plainRow);
  }
  return { columns, batches: batches() };
}

/** All rows of `sql` (for small results). */
export async function allRows(
  conn: DuckDBConnection,
  sql: string,
  params: readonly QueryParam[] = [],
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const batch of streamRows(conn, sql, params)) out.push(...batch);
  return out;
}

/** A row with BIGINT as number (exact within 2^53) and nested values converted. */
export function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = plainValue(v);
  return out;
}

function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plainValue);
  if (v !== null && typeof v === "object" && !(v instanceof Date)) {
    return plainRow(v as Record<string, unknown>);
  }
  return v;
}
