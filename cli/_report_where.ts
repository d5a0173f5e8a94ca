/**
 * `--where` for `ledger report` and `ledger ui`. The filter compiler of
 * SPEC 11 is not on this branch yet, so an expression is refused with a
 * usage error rather than ignored.
 *
 * @module
 */
import { UsageError } from "./_args.ts";
import type { ReportIndex } from "../report/data.ts";

/** Turn `--where` expressions into a run id filter for the report. */
export function whereFilter(
  expressions: readonly string[],
): (index: ReportIndex, runIds: string[] | undefined) => Promise<string[] | undefined> {
  throw new UsageError(
    `--where is not available yet in this build (got ${JSON.stringify(expressions[0])}); ` +
      "name the runs instead",
  );
}
