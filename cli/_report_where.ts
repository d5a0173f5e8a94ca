/**
 * `--where` for `ledger report`: the filter language of SPEC 11 (the query
 * surface's compiler, bound parameters only) turned into the list of runs
 * the report shows. A bad expression is a usage error naming the token.
 *
 * @module
 */
import { asUsage } from "./_query.ts";
import type { ReportIndex } from "../report/data.ts";
import type { RunsKept } from "../report/build.ts";

/**
 * A run filter for `buildReport`: the runs named (or all) that match every
 * expression, newest first when none were named. Archived runs are left
 * out of a match over all runs unless `includeArchived` (`--all`), and
 * counted; runs named are kept, archived or not.
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
 *   await writer.append({ event_type: "run.archived", run_id: "r3" });
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const index = await ReportIndex.open(root);
 *   try {
 *     const filter = whereFilter(["summary.win_rate >= 0.3"]);
 *     // No runs named: newest first, the archived r3 left out and counted.
 *     assert.deepEqual(await filter(index, undefined), { runIds: ["r2"], archivedHidden: 1 });
 *     // The named ones that match, archived or not.
 *     assert.deepEqual(await filter(index, ["r1", "r3", "r2"]), {
 *       runIds: ["r3", "r2"],
 *       archivedHidden: 0,
 *     });
 *     assert.deepEqual(await whereFilter(["summary.win_rate >= 0.3"], true)(index, undefined), {
 *       runIds: ["r3", "r2"],
 *       archivedHidden: 0,
 *     });
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
  includeArchived = false,
): (index: ReportIndex, runIds: string[] | undefined) => Promise<RunsKept> {
  return async (index, runIds) => {
    // Every match (the report shows the newest 500, REPORT_RUNS_MAX, and says of how many: a
    // probe's 600 matches made a report of "500 runs", the rest unsaid). Over all runs, archived
    // ones stay hidden as in `ledger runs --where` (a UI audit: they came back), and are counted
    // (a probe: an archived run's --where made a report of 0 runs, no word why).
    const found = await asUsage(() => index.runsWhere(expressions, Number.MAX_SAFE_INTEGER));
    if (runIds === undefined) {
      const kept = found.filter((r) => includeArchived || !r.archived).map((r) => r.run_id);
      return { runIds: kept, archivedHidden: found.length - kept.length };
    }
    const matching = new Set(found.map((r) => r.run_id));
    return { runIds: runIds.filter((id) => matching.has(id)), archivedHidden: 0 };
  };
}
