/**
 * DuckDB's JavaScript API, the one way this project loads it: the same
 * `@duckdb/node-api` (the version in deno.json), bundled into one module by
 * `scripts/vendor_duckdb.ts` so that a command opening the index does not
 * pay about 100 ms to load the package's 62 CommonJS files. Types are the
 * package's own.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "./duckdb.ts";
 * const instance = await DuckDBInstance.create(":memory:");
 * const conn = await instance.connect();
 * try {
 *   const reader = await conn.runAndReadAll("SELECT 40 + 2 AS answer");
 *   assert.deepEqual(reader.getRowObjectsJS(), [{ answer: 42 }]);
 * } finally {
 *   conn.disconnectSync();
 *   instance.closeSync();
 * }
 * ```
 *
 * @module
 */
// @ts-types="npm:@duckdb/node-api@1.5.6-r.1"
export * from "../vendor/duckdb_node_api.js";

/**
 * `path` as a DuckDB glob that matches only itself, for every file a reader
 * function (`read_text`, `read_csv`, `read_json`, `read_parquet`) is given.
 * DuckDB takes every path as a pattern: a part named `a[1].jsonl` read
 * `a1.jsonl` in its place, and `b*.jsonl` read every `b...` part of its day
 * too; a backtest's `prices[2024].csv` would read `prices2.csv`. Each `*`,
 * `?` and `[` becomes a class of that one character; the `filename` DuckDB
 * reports is still the path itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { literalGlob } from "./duckdb.ts";
 * assert.equal(literalGlob("/log/day=2026-01-20/a[1]*?.jsonl"), "/log/day=2026-01-20/a[[]1][*][?].jsonl");
 * assert.equal(literalGlob("/log/day=2026-01-20/part-000001.jsonl"), "/log/day=2026-01-20/part-000001.jsonl");
 * ```
 */
export function literalGlob(path: string): string {
  return path.replace(/[*?[]/g, (c) => `[${c}]`);
}
