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
