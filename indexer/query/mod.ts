/**
 * The query surface of the index (SPEC 11): the filter language, fields,
 * run and trial listings, run id prefixes, compare and export. Every
 * reader opens the index read-only with external access disabled.
 * Re-exports only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { queryRuns, withReader } from "./mod.ts";
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
 *   const rows = await withReader(indexPath(root), (conn) =>
 *     queryRuns(conn, { where: ["summary.win_rate >= 0.5"], limit: 10 }));
 *   assert.deepEqual(rows.map((r) => r.run_id), ["b2"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
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
export { type ExactInteger, isExactInteger, parseJsonLenient } from "./_json.ts";
export * from "./flat_path.ts";
export * from "./compare.ts";
export * from "./export.ts";
