/**
 * `--where` for `ledger report`: the filter language of SPEC 11 (the query
 * surface's compiler, bound parameters only) turned into the list of runs
 * the report shows. A bad expression is a usage error naming the token.
 *
 * @module
 */
import { asUsage } from "./_query.ts";
import type { ReportIndex } from "../report/data.ts";
import { REPORT_RUNS_MAX } from "../report/build.ts";

/**
 * A run filter for `buildReport`: the runs named (or all) that match every
 * expression, newest first when none were named.
 *
 * @example
 * ```ts ignore
 * import { whereFilter } from "./_report_where.ts";
 * const filter = whereFilter(["summary.win_rate >= 0.3"]);
 * ```
 */
export function whereFilter(
  expressions: readonly string[],
): (index: ReportIndex, runIds: string[] | undefined) => Promise<string[]> {
  return async (index, runIds) => {
    if (runIds === undefined) {
      return await asUsage(() => index.runIdsWhere(expressions, REPORT_RUNS_MAX));
    }
    const matching = new Set(
      await asUsage(() => index.runIdsWhere(expressions, Number.MAX_SAFE_INTEGER)),
    );
    return runIds.filter((id) => matching.has(id));
  };
}
