/**
 * The query surface of the index (SPEC 11): the filter language, fields,
 * run and trial listings, run id prefixes, compare and export. Every
 * reader opens the index read-only with external access disabled.
 * Re-exports only.
 *
 * @example
 * ```ts ignore
 * import { queryRuns, withReader } from "./mod.ts";
 * const rows = await withReader("data/ledger/index/runs.duckdb", (conn) =>
 *   queryRuns(conn, { where: ["summary.win_rate >= 0.5"], limit: 10 }));
 * ```
 *
 * @module
 */
export * from "./fields.ts";
export * from "./filter.ts";
export * from "./time.ts";
export * from "./reader.ts";
export * from "./runs.ts";
export * from "./resolve.ts";
export { parseJsonLenient } from "./_json.ts";
export * from "./compare.ts";
export * from "./export.ts";
