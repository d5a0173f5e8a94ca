/**
 * Small helpers to run the statements of `schema.ts` on a DuckDB connection
 * with bound parameters, and to turn DuckDB values into plain JSON values.
 *
 * @module
 */
import { duckdb, type DuckDBConnection, type DuckDBType, type DuckDBValue } from "./duckdb.ts";

/**
 * A parameter: a scalar. A list is passed as its JSON text
 * ({@linkcode jsonList}), which the statement casts (`$1::JSON::VARCHAR[]`).
 */
export type SqlParam = string | number | bigint | boolean | null;

/**
 * A list parameter as its JSON text, for a statement that casts it
 * (`$1::JSON::VARCHAR[]`, `read_text($1::JSON::VARCHAR[])`). Not a bound
 * DuckDB LIST: binding one leaks about 60 bytes a value in the DuckDB
 * binding under Deno (measured: 500 ids bound 12,000 times grew the process
 * by 370 MB, their JSON text by nothing), and `ledger ui` binds the ids of
 * every page it serves, `ledger daemon` the files of every pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "./duckdb.ts";
 * import { jsonList, rows } from "./_sql.ts";
 * const instance = await DuckDBInstance.create(":memory:");
 * const conn = await instance.connect();
 * const got = await rows(conn, "SELECT unnest($1::JSON::VARCHAR[]) AS v", [jsonList(['a,"b"', "c"])]);
 * assert.deepEqual(got.map((r) => r.v), ['a,"b"', "c"]);
 * conn.disconnectSync();
 * instance.closeSync();
 * ```
 */
export function jsonList(values: readonly (string | number)[]): string {
  return JSON.stringify(values);
}

function bind(params: readonly SqlParam[]): { values: DuckDBValue[]; types: DuckDBType[] } {
  const { BIGINT, BOOLEAN, DOUBLE, VARCHAR } = duckdb(); // a connection is open
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  for (const p of params) {
    if (typeof p === "number" && !Number.isSafeInteger(p)) {
      values.push(p); // a fraction (or past 2^53): a double, as the query surface binds it
      types.push(DOUBLE);
    } else {
      values.push(typeof p === "number" ? BigInt(p) : p);
      types.push(
        typeof p === "string"
          ? VARCHAR
          : typeof p === "boolean"
          ? BOOLEAN
          : p === null
          ? VARCHAR
          : BIGINT,
      );
    }
  }
  return { values, types };
}

/** Run one statement (or several in order) with the same parameters. */
export async function exec(
  conn: DuckDBConnection,
  sql: string | readonly string[],
  params: readonly SqlParam[] = [],
): Promise<void> {
  for (const statement of typeof sql === "string" ? [sql] : sql) {
    const used = maxParam(statement);
    if (used === 0) {
      await conn.run(statement);
    } else {
      const { values, types } = bind(params.slice(0, used));
      await conn.run(statement, values, types);
    }
  }
}

/**
 * Run `body` in one transaction on `conn`: committed when it returns,
 * rolled back when it throws, and the body's error thrown again (with the
 * rollback's, as an `AggregateError`, when the rollback fails too). DuckDB
 * checkpoints only when a transaction commits, and a checkpoint may compact
 * a table's row groups and so renumber its `rowid`s: a `rowid` read inside
 * `body` still names the same row at its end.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "./duckdb.ts";
 * import { exec, inTransaction, rows } from "./_sql.ts";
 * const instance = await DuckDBInstance.create(":memory:");
 * const conn = await instance.connect();
 * await exec(conn, "CREATE TABLE t (x BIGINT)");
 * await inTransaction(conn, () => exec(conn, "INSERT INTO t VALUES (1)"));
 * await assert.rejects(inTransaction(conn, async () => {
 *   await exec(conn, "INSERT INTO t VALUES (2)");
 *   throw new Error("stop");
 * }), /stop/);
 * await assert.rejects(inTransaction(conn, async () => {
 *   await exec(conn, "INSERT INTO t VALUES (3)");
 *   await exec(conn, "INSERT INTO t VALUES ('three')"); // DuckDB refuses it
 * }), /Conversion Error/);
 * // The second and third rolled back; the connection takes a new transaction.
 * assert.deepEqual(await rows(conn, "SELECT x FROM t"), [{ x: 1 }]);
 * conn.disconnectSync();
 * instance.closeSync();
 * ```
 */
export async function inTransaction<T>(conn: DuckDBConnection, body: () => Promise<T>): Promise<T> {
  await conn.run("BEGIN TRANSACTION");
  let result: T;
  try {
    result = await body();
  } catch (err) {
    try {
      await conn.run("ROLLBACK");
    } catch (rollbackErr) {
      throw new AggregateError([err, rollbackErr], "a failed transaction could not be rolled back");
    }
    throw err;
  }
  await conn.run("COMMIT");
  return result;
}

/** Run a query and return its rows as JSON-friendly objects (BIGINT as number). */
export async function rows(
  conn: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[] = [],
): Promise<Record<string, unknown>[]> {
  const { values, types } = bind(params);
  const reader = params.length === 0
    ? await conn.runAndReadAll(sql)
    : await conn.runAndReadAll(sql, values, types);
  return reader.getRowObjectsJS().map(toPlain);
}

/** Highest `$n` a statement uses: extra parameters make DuckDB fail. */
function maxParam(sql: string): number {
  let max = 0;
  for (const m of sql.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

/** Convert bigint to number (exact within 2^53) and lists/structs recursively. */
export function toPlain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = plainValue(v);
  return out;
}

function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plainValue);
  if (v !== null && typeof v === "object" && !(v instanceof Date)) {
    return toPlain(v as Record<string, unknown>);
  }
  return v;
}
