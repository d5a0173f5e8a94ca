/**
 * The one way the query surface opens the index: read-only, with DuckDB's
 * external access disabled and the configuration locked, so nothing a
 * query runs (or a view stored in the index) can read or write any other
 * file, and no statement can turn that back on. Rows stream chunk by
 * chunk, and the commands that stream every row open it with a DuckDB
 * memory limit (sorts past it spill beside the index), so memory does not
 * grow with the number of rows.
 *
 * DuckDB caches one database per path per process only through its
 * instance cache; this module always creates a fresh instance and closes
 * it, so each call sees the index file as it is now.
 *
 * @module
 */
import {
  duckdb,
  type DuckDBApi,
  type DuckDBConnection,
  type DuckDBDateValue,
  type DuckDBResult,
  type DuckDBTimestampTZValue,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
  type JS,
} from "../duckdb.ts";
import type { QueryParam } from "./fields.ts";
import { isExactInteger } from "./_json.ts";
import {
  IndexNotFoundError,
  READER_CONFIG,
  READER_MEMORY_LIMIT_DEFAULT,
  ReaderMemoryError,
  withIndex,
  type WithIndexOptions,
} from "../queries.ts";

export {
  IndexNotFoundError,
  READER_CONFIG,
  READER_MEMORY_LIMIT_DEFAULT,
  ReaderMemoryError,
  type WithIndexOptions,
};

/**
 * Open the index at `dbPath` read-only with external access disabled, run
 * `fn`, close everything. Throws {@linkcode IndexNotFoundError} when there
 * is no such file, and refuses anything that is not a regular file. With
 * `options.memoryLimit`, a query past the limit spills to a directory of its
 * own beside the index (removed on close), and one that cannot spill throws
 * {@linkcode ReaderMemoryError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const rows = await withReader(indexPath(root), async (conn) =>
 *     (await conn.runAndReadAll("SELECT count(*)::INTEGER FROM runs_d")).getRows());
 *   assert.deepEqual(rows, [[2]]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function withReader<T>(
  dbPath: string,
  fn: (conn: DuckDBConnection) => Promise<T>,
  options: WithIndexOptions = {},
): Promise<T> {
  return withIndex(dbPath, fn, options);
}

/** Values and DuckDB types for `?` parameters (numbers bind as DOUBLE). */
export function bindParams(
  params: readonly QueryParam[],
): { values: DuckDBValue[]; types: DuckDBType[] } {
  const { BIGINT, BOOLEAN, DOUBLE, VARCHAR } = duckdb(); // a connection is open
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
 * Once exhausted, the rows are checked against a count of the query
 * ({@linkcode checkStreamComplete}, with `check`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { streamRows, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const rows: Record<string, unknown>[] = [];
 *   await withReader(indexPath(root), async (conn) => {
 *     for await (const batch of streamRows(conn, "SELECT run_id FROM runs_d ORDER BY run_id")) {
 *       rows.push(...batch);
 *     }
 *   });
 *   assert.deepEqual(rows, [{ run_id: "a1" }, { run_id: "b2" }]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* streamRows(
  conn: DuckDBConnection,
  sql: string,
  params: readonly QueryParam[] = [],
  check: StreamCheck = {},
): AsyncGenerator<Record<string, unknown>[]> {
  const result = await startStream(conn, sql, params);
  let streamed = 0;
  for await (const batch of result.yieldRowObjectJs()) {
    streamed += batch.length;
    yield batch.map((row) => plainRow(row));
  }
  await checkStreamComplete(conn, sql, params, streamed, check);
}

/** `conn.stream(sql)` with `params` bound. */
export async function startStream(
  conn: DuckDBConnection,
  sql: string,
  params: readonly QueryParam[],
): Promise<DuckDBResult> {
  const { values, types } = bindParams(params);
  return params.length === 0 ? await conn.stream(sql) : await conn.stream(sql, values, types);
}

/**
 * A streamed result ended before its last row. DuckDB's streaming API ends
 * a result that fails part-way (out of memory in a spilled sort, an
 * `error()` at row 500,000) exactly as it ends a complete one, and the
 * Node binding gives no way to read that error; so every stream is counted
 * and checked against a count of the same query.
 */
export class StreamTruncatedError extends Error {
  /** Rows that arrived. */
  readonly streamed: number;
  /** Rows the query has. */
  readonly expected: number;
  /** Create the error for `streamed` of `expected` rows. */
  constructor(streamed: number, expected: number) {
    super(
      `The query's result ended after ${streamed} of its ${expected} rows: DuckDB stopped ` +
        `streaming it without saying why (most often memory: raise --memory-limit), or the ` +
        `query's rows change from one run to the next (random(), an unseeded sample); ` +
        `what was printed may be incomplete`,
    );
    this.name = "StreamTruncatedError";
    this.streamed = streamed;
    this.expected = expected;
  }
}

/**
 * The SQL that counts the rows of `sql` (which fails to prepare when `sql`
 * cannot be a subquery: a PRAGMA, EXPLAIN...). A trailing `;` is dropped,
 * and the closing parenthesis goes on a line of its own, after any `--`
 * comment.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countSqlFor } from "./reader.ts";
 * assert.equal(
 *   countSqlFor("SELECT 1 -- one;\n;"),
 *   "SELECT count(*)::BIGINT AS n FROM (\nSELECT 1 -- one\n) AS streamed",
 * );
 * ```
 */
export function countSqlFor(sql: string): string {
  return `SELECT count(*)::BIGINT AS n FROM (\n${sql.replace(/[\s;]+$/, "")}\n) AS streamed`;
}

/** How {@linkcode checkStreamComplete} counts a query's rows. */
export interface StreamCheck {
  /**
   * The query's own `LIMIT`: when that many rows arrived, nothing is
   * missing and no count runs. @default {undefined}
   */
  limit?: number;
  /**
   * A query that returns the row count (one row, one column), cheaper than
   * wrapping the query (no select list, no order, fewer joins).
   * @default {undefined} ({@linkcode countSqlFor} of the query)
   */
  count?: { sql: string; params: readonly QueryParam[] };
}

/**
 * Throw {@linkcode StreamTruncatedError} when `streamed` is fewer rows than
 * `sql` has. Call only once the stream is exhausted (a consumer that stops
 * early has nothing to check). The count runs materialized, so an error in
 * it is thrown, not lost.
 */
export async function checkStreamComplete(
  conn: DuckDBConnection,
  sql: string,
  params: readonly QueryParam[],
  streamed: number,
  check: StreamCheck = {},
): Promise<void> {
  if (check.limit !== undefined && streamed >= check.limit) return;
  const expected = await countRows(conn, check.count ?? { sql: countSqlFor(sql), params });
  if (streamed < expected) throw new StreamTruncatedError(streamed, expected);
}

/**
 * Run a count query (one row, one column) materialized, so that an error in
 * it is thrown, and return the count.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import { countRows } from "./reader.ts";
 * const instance = await DuckDBInstance.create(":memory:");
 * const conn = await instance.connect();
 * try {
 *   const sql = "SELECT count(*) FROM range(5) AS r(n) WHERE n >= ?";
 *   assert.equal(await countRows(conn, { sql, params: [2] }), 3);
 * } finally {
 *   conn.disconnectSync();
 *   instance.closeSync();
 * }
 * ```
 */
export async function countRows(
  conn: DuckDBConnection,
  count: { sql: string; params: readonly QueryParam[] },
): Promise<number> {
  const { values, types } = bindParams(count.params);
  const reader = count.params.length === 0
    ? await conn.runAndReadAll(count.sql)
    : await conn.runAndReadAll(count.sql, values, types);
  return Number(reader.getRows()[0][0]);
}

/**
 * Run `sql` and return its column names at once, with its rows to stream
 * in batches (as {@linkcode streamRows} gives them).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { openStream, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   await withReader(indexPath(root), async (conn) => {
 *     const { columns, batches } = await openStream(conn, "SELECT 1 AS x");
 *     assert.deepEqual(columns, ["x"]);
 *     for await (const batch of batches) assert.deepEqual(batch, [{ x: 1 }]);
 *   });
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function openStream(
  conn: DuckDBConnection,
  sql: string,
): Promise<{ columns: string[]; batches: AsyncGenerator<Record<string, unknown>[]> }> {
  // Values as DuckDB has them (sqlValueConverter), then integers exact.
  const convert = sqlValueConverter(duckdb()); // a connection is open
  const plain = (row: Record<string, unknown>) => plainRow(row, { exactIntegers: true });
  // `CALL f(...)` cannot be a subquery; `SELECT * FROM f(...)`, the same rows, can: it streams
  // and is counted (a probe: `CALL range(12000000)` was read whole, 4 GB, past --memory-limit).
  const asSelect = callAsSelect(sql);
  const query = await canBeSubquery(conn, sql)
    ? sql
    : asSelect !== undefined && await canBeSubquery(conn, asSelect)
    ? asSelect
    : undefined;
  if (query === undefined) {
    // Not a query that can be a subquery (PRAGMA, EXPLAIN, SET...): its rows cannot be counted,
    // so it runs materialized, where DuckDB reports every error. The result stays DuckDB's and
    // converts a chunk at a time as it is read (converting it whole held every row as an object,
    // and the table reads only its first 1,000 rows).
    const result = await conn.run(sql);
    const columns = result.deduplicatedColumnNames();
    return {
      columns,
      batches: (async function* () {
        for await (const batch of result.yieldConvertedRowObjects(convert)) {
          yield batch.map((r) => plain(r as Record<string, unknown>));
        }
      })(),
    };
  }
  const streaming: string = query;
  const result = await conn.stream(streaming);
  const columns = result.deduplicatedColumnNames();
  async function* batches() {
    let streamed = 0;
    for await (const batch of result.yieldConvertedRowObjects(convert)) {
      streamed += batch.length;
      yield batch.map((r) => plain(r as Record<string, unknown>));
    }
    await checkStreamComplete(conn, streaming, [], streamed);
  }
  return { columns, batches: batches() };
}

/** Whether `sql` prepares as a subquery, so its rows can be counted ({@linkcode countSqlFor}). */
async function canBeSubquery(conn: DuckDBConnection, sql: string): Promise<boolean> {
  let prepared;
  try {
    prepared = await conn.prepare(countSqlFor(sql));
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return false; // a PRAGMA, EXPLAIN, CALL, SET...: DuckDB's parser or binder refuses it there
  }
  prepared.destroySync();
  return true;
}

/**
 * `sql` as `SELECT * FROM ...` when it is `CALL ...` (after blanks and
 * comments, which are kept): DuckDB's CALL of a table function returns the
 * rows of that select. Else undefined. Whether the result is a query is
 * for DuckDB to say.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { callAsSelect } from "./reader.ts";
 * assert.equal(callAsSelect("-- all\n call range(3)"), "-- all\n SELECT * FROM range(3)");
 * assert.equal(callAsSelect("SELECT 'CALL x'"), undefined);
 * assert.equal(callAsSelect("-- a\rCALL range(1)"), "-- a\rSELECT * FROM range(1)");
 * ```
 */
export function callAsSelect(sql: string): string | undefined {
  const call = /^((?:\s+|--[^\n\r]*(?:[\n\r]|$)|\/\*[\s\S]*?\*\/)*)CALL\b/i.exec(sql);
  if (call === null) return undefined;
  return `${call[1]}SELECT * FROM${sql.slice(call[0].length)}`;
}

/**
 * How `ledger sql` converts DuckDB's values: as the JavaScript API does
 * (`JSDuckDBValueConverter`), except where that loses what DuckDB holds
 * (an output audit): a DECIMAL keeps its digits (the API made it a double:
 * `12345678901234.567` printed `...566`), times keep their microseconds as
 * ISO text (`2026-01-01T01:02:03.456789Z`), a TIME, DATE or INTERVAL is
 * DuckDB's own text (a TIME was a count of microseconds), a BLOB is hex
 * (it was an object of byte indexes). Lists, structs and maps convert their
 * members the same way. Made once per query from the loaded `api`.
 */
function sqlValueConverter(api: DuckDBApi): DuckDBValueConverter<JS> {
  const { DuckDBBlobValue, DuckDBTimestampValue, DuckDBTypeId, JSDuckDBValueConverter } = api;
  /** DuckDB's text of a TIMESTAMPTZ as the UTC time it is, without a zone. */
  const utcTimestampText = (value: DuckDBTimestampTZValue) =>
    String(new DuckDBTimestampValue(value.micros)); // `2026-01-01 01:02:03`
  return (value, type, converter) => {
    if (value === null) return null;
    switch (type.typeId) {
      case DuckDBTypeId.DECIMAL:
        return rawJSON(String(value)) as JS; // JSON.stringify writes its digits
      case DuckDBTypeId.TIMESTAMP:
      case DuckDBTypeId.TIMESTAMP_S:
      case DuckDBTypeId.TIMESTAMP_MS:
      case DuckDBTypeId.TIMESTAMP_NS:
        return isoTimestampText(String(value), false);
      case DuckDBTypeId.TIMESTAMP_TZ:
        // In UTC, as `Z`: the JavaScript API writes it with the machine's offset (taken once, when
        // it loads: not even the offset of that date), so an answer depended on `TZ`.
        return isoTimestampText(utcTimestampText(value as DuckDBTimestampTZValue), false);
      case DuckDBTypeId.DATE:
        return dateText(value as DuckDBDateValue);
      case DuckDBTypeId.BIT:
        return String(value); // `101` (the JavaScript API made it an object of byte indexes)
      case DuckDBTypeId.TIME:
      case DuckDBTypeId.TIME_NS:
      case DuckDBTypeId.TIME_TZ:
      case DuckDBTypeId.INTERVAL:
        return String(value);
      case DuckDBTypeId.BLOB:
        return value instanceof DuckDBBlobValue
          ? [...value.bytes].map((b) => b.toString(16).padStart(2, "0")).join("")
          : String(value);
      default:
        return JSDuckDBValueConverter(value, type, converter);
    }
  };
}

/** The days of DuckDB's `infinity` DATE (`-infinity` is its negative). */
const DATE_INFINITY_DAYS = 2_147_483_647;

/**
 * DuckDB's text of a DATE, where the JavaScript API's differs (a probe):
 * `infinity` and `-infinity` (it printed `5881580-07-11` and
 * `5877642-06-24 (BC)`), and 1 BC as `0001-06-15 (BC)` (it printed
 * `0000-06-15`, while 44 BC was `0044-03-15 (BC)`).
 */
function dateText(value: DuckDBDateValue): string {
  if (value.days === DATE_INFINITY_DAYS) return "infinity";
  if (value.days === -DATE_INFINITY_DAYS) return "-infinity";
  const text = String(value);
  return text.startsWith("0000-") ? `0001-${text.slice(5)} (BC)` : text;
}

/**
 * DuckDB's text of a timestamp (`2026-01-01 01:02:03.456789`, with `+00`
 * or `+05:30` when it has a zone) as ISO 8601 UTC or with its offset, as
 * every other command writes a time: milliseconds always (`.500`, `.000`;
 * finer digits kept), a year before 1 as ISO's astronomical year (DuckDB's
 * `0045-03-15 (BC)` is `-0044-03-15`); `infinity` and other words as they
 * are. (A probe: `ledger sql` printed `...59.5Z` and `0045-03-15 (BC)
 * 12:00:00` where `runs`, `trials` and `export` print `...59.500Z`.)
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isoTimestampText } from "./reader.ts";
 * assert.equal(isoTimestampText("2026-01-01 01:02:03.456789", false), "2026-01-01T01:02:03.456789Z");
 * assert.equal(isoTimestampText("2026-01-01 01:02:03.5", false), "2026-01-01T01:02:03.500Z");
 * assert.equal(isoTimestampText("2026-01-01 01:02:03+00", true), "2026-01-01T01:02:03.000+00:00");
 * assert.equal(isoTimestampText("0045-03-15 (BC) 12:00:00", false), "-0044-03-15T12:00:00.000Z");
 * assert.equal(isoTimestampText("0001-01-01 (BC) 00:00:00", false), "0000-01-01T00:00:00.000Z");
 * assert.equal(isoTimestampText("-0044-03-15 12:00:00", false), "-0044-03-15T12:00:00.000Z");
 * assert.equal(isoTimestampText("infinity", false), "infinity");
 * ```
 */
export function isoTimestampText(text: string, zoned: boolean): string {
  const m = /^(-?\d{4,})(-\d\d-\d\d)( \(BC\))? (\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d(?::\d\d)?)?$/
    .exec(text);
  if (m === null) return text;
  const [, yearText, monthDay, bc, clock, fraction = "", offset] = m;
  // 1 BC is year 0, 2 BC year -1 (ISO 8601's astronomical years, as JavaScript's Date reads them).
  const year = bc === undefined || yearText.startsWith("-")
    ? yearText
    : astronomicalYear(Number(yearText));
  const time = `${clock}.${fraction.padEnd(3, "0")}`;
  if (!zoned || offset === undefined) return `${year}${monthDay}T${time}Z`;
  return `${year}${monthDay}T${time}${offset.length === 3 ? `${offset}:00` : offset}`;
}

/** The ISO 8601 year of year `bc` before Christ: 1 BC is `0000`, 45 BC `-0044`. */
function astronomicalYear(bc: number): string {
  const year = 1 - bc;
  return `${year < 0 ? "-" : ""}${String(Math.abs(year)).padStart(4, "0")}`;
}

/**
 * All rows of `sql` (for small results), materialized: DuckDB reports any
 * error of a materialized result, so, unlike a stream, it needs no second
 * query counting its rows (each cost `compare` of 3 runs 10-20 ms).
 */
export async function allRows(
  conn: DuckDBConnection,
  sql: string,
  params: readonly QueryParam[] = [],
): Promise<Record<string, unknown>[]> {
  const { values, types } = bindParams(params);
  const reader = params.length === 0
    ? await conn.runAndReadAll(sql)
    : await conn.runAndReadAll(sql, values, types);
  return reader.getRowObjectsJS().map((row) => plainRow(row as Record<string, unknown>));
}

/** How {@linkcode plainRow} converts integers. */
export interface PlainRowOptions {
  /**
   * Integers past 2^53 (BIGINT, HUGEINT) become `JSON.rawJSON` of their
   * digits, which `JSON.stringify` writes exactly, instead of the nearest
   * double (`ledger sql` prints whatever a query returns).
   * @default {false}
   */
  exactIntegers?: boolean;
}

/**
 * A row with BIGINT as number (exact within 2^53; past it, see
 * {@linkcode PlainRowOptions.exactIntegers}) and nested values converted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { plainRow } from "./reader.ts";
 * assert.deepEqual(plainRow({ n: 5n }), { n: 5 });
 * const big = plainRow({ n: 9007199254740993n }, { exactIntegers: true });
 * assert.equal(JSON.stringify(big), '{"n":9007199254740993}');
 * ```
 */
export function plainRow(
  row: Record<string, unknown>,
  options: PlainRowOptions = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = plainValue(v, options.exactIntegers === true);
  return out;
}

/** `JSON.rawJSON` (in V8, not yet in TypeScript's lib): a value JSON.stringify writes as given. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

function plainValue(v: unknown, exact: boolean): unknown {
  if (typeof v === "bigint") {
    return exact && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
      ? rawJSON(String(v))
      : Number(v);
  }
  if (Array.isArray(v)) return v.map((x) => plainValue(x, exact));
  if (isExactInteger(v)) return v; // a raw JSON number (an exact integer, a DECIMAL): as it is
  if (v !== null && typeof v === "object" && !(v instanceof Date)) {
    return plainRow(v as Record<string, unknown>, { exactIntegers: exact });
  }
  return v;
}
