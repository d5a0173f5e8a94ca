/**
 * DuckDB's JavaScript API, the one way this project loads it: the same
 * `@duckdb/node-api` (the version in deno.json), bundled into one module by
 * `scripts/vendor_duckdb.ts` so that a command opening the index does not
 * pay about 100 ms to load the package's 62 CommonJS files. Types are the
 * package's own.
 *
 * Loaded on first use, not on import: the bundle and its native addon cost
 * about 130 ms of CPU, which a command that stops at a usage error or prints
 * its help never needs (`ledger runs --limit ten` took 235 ms of CPU, 110 of
 * them before DuckDB). {@linkcode DuckDBInstance.create} loads it; the API's
 * other values (types such as `BIGINT`, value classes, `DuckDBTypeId`) come
 * from {@linkcode duckdb}, once an instance exists, or from
 * {@linkcode loadDuckDB}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance, duckdb } from "./duckdb.ts";
 * const instance = await DuckDBInstance.create(":memory:");
 * const conn = await instance.connect();
 * try {
 *   const reader = await conn.runAndReadAll("SELECT 40 + $1 AS answer", [2n], [duckdb().BIGINT]);
 *   assert.deepEqual(reader.getRowObjectsJS(), [{ answer: 42n }]);
 * } finally {
 *   conn.disconnectSync();
 *   instance.closeSync();
 * }
 * ```
 *
 * @module
 */
// @ts-types="npm:@duckdb/node-api@1.5.6-r.1"
import type * as Api from "../vendor/duckdb_node_api.js";
// @ts-types="npm:@duckdb/node-api@1.5.6-r.1"
export type * from "../vendor/duckdb_node_api.js";

/** The API's module, as `import * as Api` of the package gives it. */
export type DuckDBApi = typeof Api;

let loaded: DuckDBApi | undefined;

/**
 * Load DuckDB's API (the bundle and its native addon) if it is not loaded
 * yet, and return it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { duckdb, loadDuckDB } from "./duckdb.ts";
 * const api = await loadDuckDB();
 * assert.equal(duckdb(), api);
 * assert.equal(api.VARCHAR.toString(), "VARCHAR");
 * ```
 */
export async function loadDuckDB(): Promise<DuckDBApi> {
  loaded ??= await import("../vendor/duckdb_node_api.js") as DuckDBApi;
  return loaded;
}

/**
 * DuckDB's API, loaded: for code that runs with an instance open (binding
 * parameters, converting values). Throws before anything loaded it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance, duckdb } from "./duckdb.ts";
 * (await DuckDBInstance.create(":memory:")).closeSync();
 * assert.equal(duckdb().DuckDBTypeId.VARCHAR, 17);
 * ```
 */
export function duckdb(): DuckDBApi {
  if (loaded === undefined) {
    throw new Error(
      "DuckDB's API is used before it was loaded: open an instance first " +
        "(DuckDBInstance.create) or await loadDuckDB()",
    );
  }
  return loaded;
}

/** A DuckDB database instance (the package's class). */
export type DuckDBInstance = Api.DuckDBInstance;

/**
 * The package's `DuckDBInstance.create`, loading the API first: the one
 * way this project opens a database.
 */
export const DuckDBInstance: Pick<typeof Api.DuckDBInstance, "create"> = {
  create: async (...args) => (await loadDuckDB()).DuckDBInstance.create(...args),
};
