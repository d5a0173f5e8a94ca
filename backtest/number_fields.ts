/**
 * Which number fields of what the backtests write are DOUBLE columns
 * whatever their values: a rate, a mean, a ratio, a return in bps or a
 * policy's fraction is a measure, and a file of trials or runs whose values
 * all happen to be whole (a sweep of one call, a win rate of 1, a
 * `takeProfitPct` grid of `[2, 3]`) must not make it a BIGINT column. Typed
 * by values, a sweep's `trials.parquet` held `metrics.win_rate` BIGINT and
 * another's DOUBLE, and DuckDB's `read_parquet` of both took the first
 * file's type: 0.25 read as 0 (an audit). `trials.parquet` and
 * `ledger export runs|trials` both type by {@linkcode fixedNumberType}.
 *
 * The rule: in a trial's `metrics`, every number is a measure except a
 * count of calls (`calls`, `calls_*`); elsewhere (`params`, `config`,
 * `summary`, at any depth) a field is a measure when its key is one of
 * {@linkcode MEASURE_FIELD_NAMES}. Other numbers keep the type of their
 * values (BIGINT while every one is whole: `maxHoldMs`, a seed, a count).
 *
 * @module
 */
import { TRADE_METRIC_NAMES } from "./metrics.ts";

/**
 * Keys of the measures and fractions the backtests write: trade metrics
 * (`docs/METRICS.md`) but `calls`, a sweep trial's `stop_out_rate`, a
 * caller's aggregate and win-rate interval, a path-only run's rates and
 * medians, a backtest's costs in bps, and the policies' fractional fields
 * (`policies.ts`; `maxHoldMs`, an integer by its schema, is not one).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MEASURE_FIELD_NAMES } from "./number_fields.ts";
 * assert.ok(MEASURE_FIELD_NAMES.has("win_rate") && MEASURE_FIELD_NAMES.has("stopPct"));
 * assert.ok(!MEASURE_FIELD_NAMES.has("calls") && !MEASURE_FIELD_NAMES.has("maxHoldMs"));
 * ```
 */
export const MEASURE_FIELD_NAMES: ReadonlySet<string> = new Set<string>([
  // tradeMetrics, but its count `calls`.
  ...TRADE_METRIC_NAMES.filter((m) => !isCallCount(m)),
  // A sweep trial's (sweep.ts) and a policy run's summary.
  "stop_out_rate",
  // A caller's aggregate and win-rate interval (aggregate.ts).
  "mean_tail_capture",
  "win_rate_ci_low",
  "win_rate_ci_high",
  // A path-only run's overall and per-caller summary (metrics.ts summarizePaths).
  "hit_2x_rate",
  "hit_3x_rate",
  "hit_4x_rate",
  "median_peak_multiple",
  "median_dd_bps",
  // A backtest's costs (`--fee-bps`, `--slippage-bps`: 2.5 is one).
  "fee_bps",
  "slippage_bps",
  // The policies' fractional fields (policies.ts).
  "stopPct",
  "takeProfitPct",
  "activationPct",
  "trailPct",
  "hardStopPct",
  "multiple",
  "fraction",
]);

/**
 * Whether trial metric `key` is a count of calls (`calls`, `calls_skipped`,
 * any `calls_*`): the one kind of trial metric typed by its values.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isCallCount } from "./number_fields.ts";
 * assert.ok(isCallCount("calls") && isCallCount("calls_skipped"));
 * assert.ok(!isCallCount("win_rate") && !isCallCount("callsign"));
 * ```
 */
export function isCallCount(key: string): boolean {
  return key === "calls" || key.startsWith("calls_");
}

/**
 * `"DOUBLE"` when a number at `root` (`metrics` of a trial, or `params`,
 * `config`, `summary`, ...) whose last key is `key` is a measure, its column
 * DOUBLE whatever its values; otherwise `undefined` (typed by its values).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fixedNumberType } from "./number_fields.ts";
 * assert.equal(fixedNumberType("metrics", "my_score"), "DOUBLE"); // any trial metric
 * assert.equal(fixedNumberType("metrics", "calls"), undefined);
 * assert.equal(fixedNumberType("summary", "win_rate"), "DOUBLE");
 * assert.equal(fixedNumberType("summary", "rows_in"), undefined);
 * assert.equal(fixedNumberType("params", "takeProfitPct"), "DOUBLE");
 * assert.equal(fixedNumberType("params", "maxHoldMs"), undefined);
 * ```
 */
export function fixedNumberType(root: string, key: string): "DOUBLE" | undefined {
  if (root === "metrics") return isCallCount(key) ? undefined : "DOUBLE";
  return MEASURE_FIELD_NAMES.has(key) ? "DOUBLE" : undefined;
}
