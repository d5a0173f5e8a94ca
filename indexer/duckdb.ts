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
