/**
 * `--where` for `ledger report`: the filter language of SPEC 11 (the query
 * surface's compiler, bound parameters only) turned into the list of runs
 * the report shows. A bad expression is a usage error naming the token.
 *
 * @module
 */
import { asUsage } from "./_query.ts";
import type { ReportIndex } from "../report/data.ts";

/**
 * A run filter for `buildReport`: the runs named (or all) that match every
 * expression, newest first when none were named.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { whereFilter } from "./_report_where.ts";
 * import { ReportIndex } from "../report/data.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [i, win_rate] of [0.2, 0.4, 0.6].entries()) {
 *     const run_id = `r${i + 1}`;
 *     const timestamp_ms = Date.UTC(2026, 0, 20, 12, i); // r3 is the newest
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, timestamp_ms, run_type: "policy", config: {},
 *         data_fingerprint: "fp" },
 *       { event_type: "run.completed", run_id, timestamp_ms, summary: { win_rate },
 *         artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const filter = whereFilter(["summary.win_rate >= 0.3"]);
 *   const index = await ReportIndex.open(root);
 *   try {
 *     assert.deepEqual(await filter(index, undefined), ["r3", "r2"]); // no runs named: newest first
 *     assert.deepEqual(await filter(index, ["r1", "r2"]), ["r2"]); // the named ones that match
 *   } finally {
 *     index.close();
 *   }
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function whereFilter(
  expressions: readonly string[],
): (index: ReportIndex, runIds: string[] | undefined) => Promise<string[]> {
  return async (index, runIds) => {
    // Over all runs, archived ones stay hidden as in `ledger runs --where` (a UI audit: they
    // came back); runs named on the command line are kept, archived or not.
    if (runIds === undefined) {
      // Every match: the report shows the newest 500 (REPORT_RUNS_MAX) and says of how many (a
      // probe: 600 matches made a report of "500 runs", the rest unsaid).
      return await asUsage(() => index.runIdsWhere(expressions, Number.MAX_SAFE_INTEGER));
    }
    const matching = new Set(
      await asUsage(() => index.runIdsWhere(expressions, Number.MAX_SAFE_INTEGER, true)),
    );
    return runIds.filter((id) => matching.has(id));
  };
}
