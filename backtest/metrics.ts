/**
 * Path metrics of one call (the truth layer of a path-only run): how far
 * and how fast the price moved after the alert, measured on candles. Pure
 * functions, no I/O.
 *
 * Definitions (all prices from the candles of the call's mint):
 * - anchor: the first candle whose `ts` (bar open time) is at or after the
 *   alert; `p0` is its close, `anchor_ts_ms` its `ts` (the bar's open time at
 *   the run's interval, a resampled bar's too: its close came later, at the
 *   end of the bar). The path runs from the anchor candle (included) to the
 *   last candle of the series. Nothing bounds how long after the alert the
 *   anchor may be: `anchor_ts_ms - t0_ms` says it, and a run's
 *   `maxEntryDelayMs` leaves out the calls past a bound (`entry_delay.ts`).
 * - `t_2x_ms` / `t_3x_ms` / `t_4x_ms`: the `ts` (absolute epoch ms, not a
 *   duration) of the first candle from the anchor on whose high is at least
 *   2, 3 or 4 times `p0`; `null` when never reached.
 * - `dd_bps`: lowest low from the anchor on versus `p0`, in basis points
 *   (`<= 0`).
 * - `dd_to_2x_bps`: the same, up to and including the 2x candle; `null`
 *   without a 2x.
 * - `alert_to_activity_ms`: `ts` of the first candle from the anchor on whose
 *   high is at least 1.1·p0 or whose low is at most 0.9·p0, minus the alert
 *   time; `null` when the price never moved 10%.
 * - `peak_multiple`: highest high from the anchor on divided by `p0`; a
 *   high that reaches a whole multiple `k·p0` (within the touch slack of
 *   `_touch.ts`, as the hit flags count it) but divides to just under `k`
 *   is `k`, so `peak_multiple >= 3` agrees with `hit_3x` (an audit: a high
 *   of 0.3 from 0.1 hit 3x with a peak of 2.9999999999999996).
 *
 * Trade metrics of a policy run or a sweep trial ({@linkcode tradeMetrics}:
 * win rate, profit factor, expectancy, equity drawdown, per-trade Sharpe and
 * Sortino, hold time) and the seeded bootstrap interval of a caller's win
 * rate ({@linkcode winRateInterval}) are defined once in docs/METRICS.md.
 *
 * @module
 */
import type { CandleSeries } from "./types.ts";
import { reachedDown, reachedUp } from "./_touch.ts";
import { mulberry32 } from "./_random.ts";

/**
 * Basis points in one whole (100%).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BPS_PER_UNIT, bpsVersus } from "./metrics.ts";
 * assert.equal(BPS_PER_UNIT, 10_000); // bps in 1 (100%): 1 bps is 0.01%
 * assert.equal(bpsVersus(1.5, 1), 0.5 * BPS_PER_UNIT); // +50% is 5000 bps
 * ```
 */
export const BPS_PER_UNIT = 10_000;
/**
 * Move that counts as "activity" for `alert_to_activity_ms`: 10% either way.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ACTIVITY_MOVE_FRACTION, pathMetrics } from "./metrics.ts";
 * assert.equal(ACTIVITY_MOVE_FRACTION, 0.1); // a fraction of p0: 10%, up or down
 * const s = {
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 1, 1], high: [1, 1.05, 1.1], low: [1, 0.95, 1], close: [1, 1, 1],
 * };
 * // 1.05 and 0.95 are 5% moves; the high of 1.1 at 120 s is the first 10% one.
 * assert.equal(pathMetrics(s, 0)!.alertToActivityMs, 120_000);
 * ```
 */
export const ACTIVITY_MOVE_FRACTION = 0.1;

/**
 * Path metrics of one call, camelCase; see the module doc for definitions.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type PathMetrics, pathMetrics } from "./metrics.ts";
 * const s = {
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 2, 2], high: [1, 2, 3.2], low: [1, 1.5, 1.8], close: [1, 2, 3],
 * };
 * // Alerted between candles: the anchor is the next candle (index 1), p0 its close.
 * const m: PathMetrics = pathMetrics(s, 30_000)!;
 * assert.equal(m.anchorIndex, 1);
 * assert.equal(m.anchorTsMs, 60_000); // the anchor candle's open, 30 s after the alert
 * assert.equal(m.p0, 2);
 * assert.equal(m.peakMultiple, 1.6); // 3.2 / 2
 * assert.equal(m.ddBps, -2500); // the anchor candle's own low of 1.5 counts
 * assert.strictEqual(m.ddTo2xBps, null); // no 2x
 * ```
 */
export interface PathMetrics {
  /** Alert time, epoch ms. */
  t0Ms: number;
  /** Index of the anchor candle in the series. */
  anchorIndex: number;
  /** `ts` (open time) of the anchor candle, epoch ms: `>= t0Ms`. */
  anchorTsMs: number;
  /** Close of the anchor candle. */
  p0: number;
  /** Whether a high reached 2·p0. */
  hit2x: boolean;
  /** `ts` of the first 2x candle, epoch ms, or null. */
  t2xMs: number | null;
  /** Whether a high reached 3·p0. */
  hit3x: boolean;
  /** `ts` of the first 3x candle, epoch ms, or null. */
  t3xMs: number | null;
  /** Whether a high reached 4·p0. */
  hit4x: boolean;
  /** `ts` of the first 4x candle, epoch ms, or null. */
  t4xMs: number | null;
  /** Max drawdown from p0 in bps (`<= 0`). */
  ddBps: number;
  /** Max drawdown up to and including the 2x candle, bps, or null without a 2x. */
  ddTo2xBps: number | null;
  /** First ±10% candle's ts minus the alert time, ms, or null. */
  alertToActivityMs: number | null;
  /** Highest high divided by p0. */
  peakMultiple: number;
}

/**
 * Index of the first candle with `ts >= tsMs` (binary search), or -1 when
 * every candle is earlier.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { anchorIndex } from "./metrics.ts";
 * const s = { ts: [0, 60, 120], open: [1, 1, 1], high: [1, 1, 1], low: [1, 1, 1], close: [1, 1, 1] };
 * assert.equal(anchorIndex(s, 61), 2);
 * assert.equal(anchorIndex(s, 121), -1);
 * ```
 */
export function anchorIndex(series: CandleSeries, tsMs: number): number {
  let lo = 0;
  let hi = series.ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (series.ts[mid] < tsMs) lo = mid + 1;
    else hi = mid;
  }
  return lo < series.ts.length ? lo : -1;
}

/**
 * Basis points of `price` versus `base` (`(price / base - 1) * 10_000`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { bpsVersus } from "./metrics.ts";
 * assert.equal(bpsVersus(1.5, 1), 5000);
 * assert.equal(bpsVersus(0.85, 1), -1500); // (0.85 - 1) * 1e4 is -1500.0000000000002
 * ```
 */
export function bpsVersus(price: number, base: number): number {
  // Kept to 1e-9 bps, as returns are: -15% is -1500, not -1500.0000000000002, which put an
  // adverse excursion of exactly -15% in the report's [-1600, -1500) bin (an audit).
  return roundBps((price / base - 1) * BPS_PER_UNIT);
}

/** Basis points are kept to a billionth (1e-9 bps): far below any price tick. */
const BPS_DIGITS = 1e9;
/**
 * From here on (about 9e6 bps, a 900x return) a double holds no billionths
 * of a basis point: such a value is kept as it is. Scaling it by
 * {@linkcode BPS_DIGITS} only lost its last bits, and past 1.8e299 bps
 * overflowed to Infinity (a probe: a return of 1e304 bps, a valid double,
 * failed the run as "does not fit a number").
 */
const BPS_ROUNDED_MAX = Number.MAX_SAFE_INTEGER / BPS_DIGITS;

/**
 * `bps` kept to 1e-9 bps ({@linkcode BPS_DIGITS}): a stop at -20% computed as
 * `p0·0.8 / p0` is -1999.9999999999995 bps, and such noise made equal returns
 * look spread (Sharpe) and a break-even trade a loss of 4e-13 bps. Dividing
 * the rounded integer by 1e9 (an exact double) gives the double nearest the
 * decimal; `+ 0` makes -0 a plain 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { roundBps } from "./metrics.ts";
 * assert.equal(roundBps(-1999.9999999999995), -2000);
 * assert.ok(Object.is(roundBps(-1e-12), 0));
 * assert.equal(roundBps(1e304), 1e304); // past a billionth's precision: as it is
 * ```
 */
export function roundBps(bps: number): number {
  if (!(Math.abs(bps) < BPS_ROUNDED_MAX)) return bps; // no billionths to round (or NaN)
  return Math.round(bps * BPS_DIGITS) / BPS_DIGITS + 0;
}

/**
 * Compute the path metrics of a call alerted at `alertTsMs` on `series`.
 * Returns `null` when no candle is at or after the alert, or when the
 * anchor close is not a positive number (no multiple can be measured).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { pathMetrics } from "./metrics.ts";
 * const s = {
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 1, 1.5], high: [1, 1.6, 2.2], low: [1, 0.8, 1.4], close: [1, 1.5, 2],
 * };
 * const m = pathMetrics(s, 0)!;
 * assert.equal(m.hit2x, true);
 * assert.equal(m.t2xMs, 120_000);
 * assert.equal(Math.round(m.ddBps), -2000);
 * ```
 */
export function pathMetrics(series: CandleSeries, alertTsMs: number): PathMetrics | null {
  const a = anchorIndex(series, alertTsMs);
  if (a < 0) return null;
  const p0 = series.close[a];
  if (!(p0 > 0) || !Number.isFinite(p0)) return null;
  const up = p0 * (1 + ACTIVITY_MOVE_FRACTION);
  const down = p0 * (1 - ACTIVITY_MOVE_FRACTION);
  let t2xMs: number | null = null;
  let t3xMs: number | null = null;
  let t4xMs: number | null = null;
  let activityTsMs: number | null = null;
  let minLow = p0;
  let minLowTo2x: number | null = null;
  let maxHigh = p0;
  const n = series.ts.length;
  // From the anchor candle on, its own high and low included: issue 4 defines each touch and
  // drawdown "from the anchor on" (docs/QUANTBOT.md, "Path-only metrics").
  for (let i = a; i < n; i++) {
    const high = series.high[i];
    const low = series.low[i];
    const ts = series.ts[i];
    if (low < minLow) minLow = low;
    if (high > maxHigh) maxHigh = high;
    if (activityTsMs === null && (reachedUp(high, up) || reachedDown(low, down))) {
      activityTsMs = ts;
    }
    if (t2xMs === null && reachedUp(high, 2 * p0)) {
      t2xMs = ts;
      minLowTo2x = minLow;
    }
    if (t3xMs === null && reachedUp(high, 3 * p0)) t3xMs = ts;
    if (t4xMs === null && reachedUp(high, 4 * p0)) t4xMs = ts;
  }
  return {
    t0Ms: alertTsMs,
    anchorIndex: a,
    anchorTsMs: series.ts[a],
    p0,
    hit2x: t2xMs !== null,
    t2xMs,
    hit3x: t3xMs !== null,
    t3xMs,
    hit4x: t4xMs !== null,
    t4xMs,
    ddBps: bpsVersus(minLow, p0),
    ddTo2xBps: minLowTo2x === null ? null : bpsVersus(minLowTo2x, p0),
    alertToActivityMs: activityTsMs === null ? null : activityTsMs - alertTsMs,
    peakMultiple: peakMultipleOf(maxHigh, p0),
  };
}

/** {@linkcode PathMetrics.peakMultiple}: `high / p0`, made `k` when it reaches `k·p0` from below. */
function peakMultipleOf(high: number, p0: number): number {
  const raw = high / p0;
  const k = Math.round(raw);
  return k >= 1 && raw < k && reachedUp(high, k * p0) ? k : raw;
}

/** {@linkcode roundBps} of `bps`, or null when it is null. */
function roundBpsOrNull(bps: number | null): number | null {
  return bps === null ? null : roundBps(bps);
}

/**
 * Median of the finite numbers in `values`, or `null` when there are none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { median } from "./metrics.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 2, 3]), 2.5);
 * assert.strictEqual(median([]), null);
 * ```
 */
export function median(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return null;
  xs.sort((x, y) => x - y);
  const mid = xs.length >> 1;
  if (xs.length % 2 === 1) return xs[mid];
  const half = (xs[mid - 1] + xs[mid]) / 2;
  // Two values near the largest double sum past it (helper-297: a median of Infinity).
  return Number.isFinite(half) ? half : xs[mid - 1] / 2 + xs[mid] / 2;
}

/**
 * Mean of the finite numbers in `values`, or `null` when there are none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { mean } from "./metrics.ts";
 * assert.equal(mean([1, 2, null, 3]), 2);
 * ```
 */
export function mean(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    sum += v;
    count++;
  }
  if (count === 0) return null;
  if (Number.isFinite(sum)) return sum / count;
  // Past the largest double (returns of 1e308 bps, helper-294: the mean was null with data):
  // the mean of finite values is finite, summed as value / count.
  let scaled = 0;
  for (const v of values) if (v !== null && Number.isFinite(v)) scaled += v / count;
  return scaled;
}

/**
 * The sum of `xs` divided by `scale` (`> 0`), each term divided first, so
 * that a sum past the largest double is still a number (helper-294:
 * `profit_factor` of returns of 1e308 bps was Infinity, then null).
 */
function scaledSum(xs: readonly number[], scale: number): number {
  let sum = 0;
  for (const x of xs) sum += x / scale;
  return sum;
}

/** The largest `|x|` of `xs` (0 for none). */
function largestMagnitude(xs: readonly number[]): number {
  let largest = 0;
  for (const x of xs) largest = Math.max(largest, Math.abs(x));
  return largest;
}

/**
 * Path metrics of one caller's calls, for summaries and leaderboards.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type CallerPathSummary, pathMetrics, summarizePaths } from "./metrics.ts";
 * const series = (high: number, low: number) => ({
 *   ts: [0, 60_000], open: [1, 1], high: [1, high], low: [1, low], close: [1, 1],
 * });
 * const up = pathMetrics(series(2, 1), 0)!; // reached 2x, no drawdown
 * const down = pathMetrics(series(1, 0.5), 0)!; // fell 50%
 * const s = summarizePaths([{ caller: "alice", metrics: up }, { caller: "alice", metrics: down }]);
 * const alice: CallerPathSummary = s.byCaller.alice;
 * assert.equal(alice.count, 2);
 * assert.equal(alice.hit_2x_rate, 0.5);
 * assert.equal(alice.median_dd_bps, -2500); // the median of 0 and -5000
 * ```
 */
export interface CallerPathSummary {
  /** Calls with metrics. */
  count: number;
  /** Share of calls that reached 2x. */
  hit_2x_rate: number;
  /** Share of calls that reached 3x. */
  hit_3x_rate: number;
  /** Share of calls that reached 4x. */
  hit_4x_rate: number;
  /** Median peak multiple. */
  median_peak_multiple: number | null;
  /** Median max drawdown, bps. */
  median_dd_bps: number | null;
}

/**
 * Summarize path metrics overall and per caller (snake_case keys: this goes
 * into `run.completed`'s summary as is). Callers are sorted by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarizePaths } from "./metrics.ts";
 * const s = summarizePaths([]);
 * assert.equal(s.overall.count, 0);
 * ```
 */
export function summarizePaths(
  rows: readonly { caller: string; metrics: PathMetrics }[],
): { overall: CallerPathSummary; byCaller: Record<string, CallerPathSummary> } {
  const groups = new Map<string, PathMetrics[]>();
  for (const row of rows) {
    const list = groups.get(row.caller) ?? [];
    list.push(row.metrics);
    groups.set(row.caller, list);
  }
  const byCaller: Record<string, CallerPathSummary> = {};
  for (const caller of [...groups.keys()].sort()) {
    byCaller[caller] = summarizeGroup(groups.get(caller)!);
  }
  return { overall: summarizeGroup(rows.map((r) => r.metrics)), byCaller };
}

function summarizeGroup(ms: readonly PathMetrics[]): CallerPathSummary {
  const count = ms.length;
  const rate = (pred: (m: PathMetrics) => boolean) =>
    count === 0 ? 0 : ms.filter(pred).length / count;
  return {
    count,
    hit_2x_rate: rate((m) => m.hit2x),
    hit_3x_rate: rate((m) => m.hit3x),
    hit_4x_rate: rate((m) => m.hit4x),
    median_peak_multiple: median(ms.map((m) => m.peakMultiple)),
    // Kept to 1e-9 bps as each dd_bps is: the mean of two middle values is not (-5227.272727272501).
    median_dd_bps: roundBpsOrNull(median(ms.map((m) => m.ddBps))),
  };
}

// ---------------------------------------------------------------------------
// Trade metrics: what a quant ranks policies by. Definitions: docs/METRICS.md.

/**
 * Resamples of the win-rate bootstrap.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BOOTSTRAP_RESAMPLES, winRateInterval } from "./metrics.ts";
 * assert.equal(BOOTSTRAP_RESAMPLES, 1_000); // resampled trade sets per interval
 * // It is the default of `resamples`.
 * assert.deepStrictEqual(
 *   winRateInterval(30, 60, { seed: "alice" }),
 *   winRateInterval(30, 60, { seed: "alice", resamples: BOOTSTRAP_RESAMPLES }),
 * );
 * ```
 */
export const BOOTSTRAP_RESAMPLES = 1_000;
/**
 * Base seed of the win-rate bootstrap; mixed with the caller name, so a rerun draws the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BOOTSTRAP_SEED, winRateInterval } from "./metrics.ts";
 * assert.equal(BOOTSTRAP_SEED, 20_260_123);
 * // A fixed seed: every process, every rerun, draws the same interval for alice's 30 of 60.
 * const alice = winRateInterval(30, 60, { seed: "alice" });
 * assert.deepStrictEqual(alice, { low: 22 / 60, high: 38 / 60 });
 * ```
 */
export const BOOTSTRAP_SEED = 20_260_123;
/**
 * Confidence of the bootstrap interval.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BOOTSTRAP_CONFIDENCE, winRateInterval } from "./metrics.ts";
 * assert.equal(BOOTSTRAP_CONFIDENCE, 0.95); // a share, not a percent
 * // 50 wins of 100: a 95% interval is about 0.5 ± 1.96·√(0.5·0.5/100), i.e. 0.402 to 0.598.
 * const i = winRateInterval(50, 100, { seed: "alice" })!;
 * assert(Math.abs(i.low - 0.402) < 0.02 && Math.abs(i.high - 0.598) < 0.02);
 * ```
 */
export const BOOTSTRAP_CONFIDENCE = 0.95;

/**
 * What the trade metrics need of one trade.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type TradeOutcome, tradeMetrics } from "./metrics.ts";
 * const trades: TradeOutcome[] = [
 *   { realizedReturnBps: 500, exitTsMs: 120_000, timeExposedMs: 60_000 },
 *   { realizedReturnBps: -200, exitTsMs: 60_000, timeExposedMs: 180_000 },
 * ];
 * const m = tradeMetrics(trades);
 * assert.equal(m.avg_hold_ms, 120_000);
 * // By exit time the loss comes first: the equity curve starts at -200.
 * assert.equal(m.max_drawdown_bps, -200);
 * ```
 */
export interface TradeOutcome {
  /** Net realized return, bps. */
  realizedReturnBps: number;
  /** Exit time (closing fill), epoch ms: orders the equity curve. */
  exitTsMs: number;
  /** Time exposed, ms. */
  timeExposedMs: number;
}

/**
 * Trade metrics of a set of trades (snake_case: these go into summaries and trials as is).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type TradeMetrics, tradeMetrics } from "./metrics.ts";
 * const t = (r: number) => ({ realizedReturnBps: r, exitTsMs: 0, timeExposedMs: 60_000 });
 * const m: TradeMetrics = tradeMetrics([t(300), t(-100), t(0), t(200)]);
 * assert.equal(m.win_rate, 0.5); // a return of 0 is not a win
 * assert.equal(m.profit_factor, 5); // 500 won over 100 lost
 * assert.equal(m.expectancy_bps, 100); // 0.5 · 250 + 0.5 · -50
 * assert.strictEqual(tradeMetrics([]).mean_return_bps, null); // no trades, no mean
 * ```
 */
export interface TradeMetrics {
  /** Trades (replayed calls). */
  calls: number;
  /** Share of trades with a return > 0 (0 without trades). */
  win_rate: number;
  /** Mean return, bps. */
  mean_return_bps: number | null;
  /** Median return, bps. */
  median_return_bps: number | null;
  /** Gross profit over gross loss; null without a losing trade. */
  profit_factor: number | null;
  /** win_rate · mean win + (1 - win_rate) · mean non-win, bps. */
  expectancy_bps: number | null;
  /** Deepest fall of the equal-weight equity curve by exit time, bps (`<= 0`). */
  max_drawdown_bps: number;
  /** Mean over sample standard deviation of the returns. */
  sharpe_per_trade: number | null;
  /** Mean over downside deviation of the returns. */
  sortino_per_trade: number | null;
  /** Mean time exposed, ms. */
  avg_hold_ms: number | null;
}

/**
 * The names of {@linkcode TradeMetrics}, in order (the columns of `trials.parquet`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { TRADE_METRIC_NAMES, tradeMetrics } from "./metrics.ts";
 * // The keys of tradeMetrics' result, in its order.
 * assert.deepEqual(Object.keys(tradeMetrics([])), TRADE_METRIC_NAMES);
 * assert.equal(TRADE_METRIC_NAMES[0], "calls");
 * ```
 */
export const TRADE_METRIC_NAMES: readonly (keyof TradeMetrics)[] = [
  "calls",
  "win_rate",
  "mean_return_bps",
  "median_return_bps",
  "profit_factor",
  "expectancy_bps",
  "max_drawdown_bps",
  "sharpe_per_trade",
  "sortino_per_trade",
  "avg_hold_ms",
];

/**
 * Compute the trade metrics of `trades` (definitions in docs/METRICS.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { tradeMetrics } from "./metrics.ts";
 * const t = (r: number, exit: number) => ({ realizedReturnBps: r, exitTsMs: exit, timeExposedMs: 60_000 });
 * const m = tradeMetrics([t(100, 1), t(-50, 2), t(200, 3)]);
 * assert.equal(m.profit_factor, 6);
 * assert.equal(m.max_drawdown_bps, -50);
 * ```
 */
export function tradeMetrics(trades: readonly TradeOutcome[]): TradeMetrics {
  const n = trades.length;
  const returns = trades.map((t) => t.realizedReturnBps);
  let wins = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let downsideSq = 0;
  for (const r of returns) {
    if (r > 0) {
      wins++;
      grossProfit += r;
    } else if (r < 0) {
      grossLoss -= r;
      downsideSq += r * r;
    }
  }
  const meanBps = mean(returns);
  const winRate = n === 0 ? 0 : wins / n;
  const sd = sampleStdev(returns, meanBps);
  let downside = Math.sqrt(downsideSq / Math.max(1, n));
  let profitFactor = grossLoss > 0 ? grossProfit / grossLoss : null;
  // win_rate · mean win + (1 - win_rate) · mean non-win, summed as (profit - loss) / n: the
  // same by algebra without its rounding, so break-even (profit_factor 1) is 0, not -1e-13.
  let expectancy = n === 0 ? null : (grossProfit - grossLoss) / n;
  // Sums past the largest double (returns near 1e308 bps): taken again scaled by the largest
  // return, each only when it overflowed (helper-297: a small loss scaled by 1e308 underflowed to
  // -0, and a profit factor came out -Infinity).
  // Scaled only then: tradeMetrics runs once per trial of a sweep, and ordinary sums never are.
  if (!Number.isFinite(grossProfit) || !Number.isFinite(grossLoss)) {
    const scale = largestMagnitude(returns);
    const profit = scaledSum(returns.filter((r) => r > 0), scale);
    const loss = -scaledSum(returns.filter((r) => r < 0), scale);
    // A loss too small to scale: the profit factor is past any double, as the plain division of
    // a finite loss into the overflowed profit says (Infinity, written as null).
    profitFactor = grossLoss > 0 ? (loss > 0 ? profit / loss : Infinity) : null;
    expectancy = ((profit - loss) / n) * scale;
  }
  if (!Number.isFinite(downsideSq)) {
    const losses = returns.filter((r) => r < 0);
    const scale = largestMagnitude(losses);
    downside = Math.sqrt(scaledSum(losses.map((r) => (r / scale) * r), scale) / n) * scale;
  }
  return {
    calls: n,
    win_rate: winRate,
    mean_return_bps: meanBps,
    median_return_bps: median(returns),
    profit_factor: profitFactor,
    expectancy_bps: expectancy,
    max_drawdown_bps: equityDrawdownBps(trades),
    sharpe_per_trade: meanBps === null || sd === null || sd < NO_SPREAD_BPS ? null : meanBps / sd,
    sortino_per_trade: meanBps === null || downside === 0 ? null : meanBps / downside,
    avg_hold_ms: mean(trades.map((t) => t.timeExposedMs)),
  };
}

/**
 * A standard deviation of returns below this, bps, is rounding, not spread:
 * three stops at -20% come out as -1999.9999999999995 and -2000.0000000000007
 * bps, and their sd of 7e-13 made a Sharpe of -3e15.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { NO_SPREAD_BPS, tradeMetrics } from "./metrics.ts";
 * assert.equal(NO_SPREAD_BPS, 1e-6); // bps
 * const t = (r: number) => ({ realizedReturnBps: r, exitTsMs: 0, timeExposedMs: 0 });
 * // Three stops at -20%, apart only by rounding: no spread, so no Sharpe.
 * const stops = tradeMetrics([t(-1999.9999999999995), t(-2000.0000000000007), t(-2000)]);
 * assert.strictEqual(stops.sharpe_per_trade, null);
 * // A real spread gives one: mean -1500 over a standard deviation of 707.
 * assert.equal(tradeMetrics([t(-2000), t(-1000)]).sharpe_per_trade?.toFixed(2), "-2.12");
 * ```
 */
export const NO_SPREAD_BPS = 1e-6;

function sampleStdev(xs: readonly number[], m: number | null): number | null {
  if (m === null || xs.length < 2) return null;
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  if (Number.isFinite(ss)) return Math.sqrt(ss / (xs.length - 1));
  // Squares past the largest double (helper-294: returns of 1e303 bps gave a Sharpe of 0): the
  // deviations halved (so that none overflows) and scaled by the largest of them.
  const halves = xs.map((x) => x / 2 - m / 2);
  const scale = largestMagnitude(halves);
  let scaled = 0;
  for (const d of halves) scaled += (d / scale) * (d / scale);
  return 2 * scale * Math.sqrt(scaled / (xs.length - 1));
}

/**
 * Max drawdown of the equal-weight equity curve, bps (`<= 0`): the trades
 * sorted by exit time (ties keep their order), equity = running sum of their
 * returns from 0, drawdown = equity minus its running peak (the start counts).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { equityDrawdownBps } from "./metrics.ts";
 * const t = (r: number, exit: number) => ({ realizedReturnBps: r, exitTsMs: exit, timeExposedMs: 0 });
 * // by exit: +100, -50, +200, -300 -> equity 100, 50, 250, -50; peak 250 -> -300
 * assert.equal(equityDrawdownBps([t(-300, 4), t(100, 1), t(200, 3), t(-50, 2)]), -300);
 * // Kept to 1e-9 bps, as the returns are: no -30.400000000000002 from summing doubles.
 * assert.equal(equityDrawdownBps([t(10.1, 1), t(20.2, 2), t(-30.3, 3), t(0.1, 4), t(-0.2, 5)]), -30.4);
 * ```
 */
export function equityDrawdownBps(trades: readonly TradeOutcome[]): number {
  const byExit = [...trades].sort((a, b) => a.exitTsMs - b.exitTsMs);
  let equity = 0;
  let peak = 0;
  let worst = 0;
  for (const t of byExit) {
    equity += t.realizedReturnBps;
    if (equity > peak) peak = equity;
    if (equity - peak < worst) worst = equity - peak;
  }
  // Kept to 1e-9 bps, as the returns it sums are: +10.1, +20.2, -30.3, +0.1, -0.2 fell by
  // -30.400000000000002, which sorted below a drawdown of -30.4.
  return roundBps(worst);
}

/**
 * A bootstrap interval of a win rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type WinRateInterval, winRateInterval } from "./metrics.ts";
 * const bob: WinRateInterval = winRateInterval(45, 50, { seed: "bob" })!;
 * assert(bob.low < 0.9 && 0.9 < bob.high && bob.high <= 1); // around the observed 90%
 * // A caller who won every trade: every resample wins every trade.
 * assert.deepStrictEqual(winRateInterval(10, 10), { low: 1, high: 1 });
 * assert.strictEqual(winRateInterval(0, 0), null); // no trades
 * ```
 */
export interface WinRateInterval {
  /** Lower bound (2.5th percentile of the resampled win rates). */
  low: number;
  /** Upper bound (97.5th percentile). */
  high: number;
}

/**
 * Options for {@linkcode winRateInterval}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { winRateInterval, type WinRateIntervalOptions } from "./metrics.ts";
 * const options: WinRateIntervalOptions = { seed: "alice", resamples: 200 };
 * const alice = winRateInterval(30, 60, options);
 * assert.deepStrictEqual(winRateInterval(30, 60, options), alice); // same seed, same draws
 * // Another caller with the same record draws other resamples.
 * assert.notDeepStrictEqual(winRateInterval(30, 60, { ...options, seed: "bob" }), alice);
 * ```
 */
export interface WinRateIntervalOptions {
  /** Mixed into {@linkcode BOOTSTRAP_SEED} (the caller name). @default {""} */
  seed?: string;
  /** Resamples. @default {1000} */
  resamples?: number;
}

/**
 * Seeded percentile bootstrap 95% interval of a win rate of `wins` out of
 * `count` trades: `resamples` times, draw `count` trades with replacement and
 * take the share of wins; the interval is the 2.5th and 97.5th percentiles
 * (sorted rates at `floor(0.025·B)` and `ceil(0.975·B) - 1`). The same
 * inputs and seed always give the same interval; null without trades.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { winRateInterval } from "./metrics.ts";
 * const a = winRateInterval(30, 60, { seed: "alice" })!;
 * assert(a.low < 0.5 && a.high > 0.5);
 * assert.deepStrictEqual(winRateInterval(30, 60, { seed: "alice" }), a);
 * ```
 */
export function winRateInterval(
  wins: number,
  count: number,
  options: WinRateIntervalOptions = {},
): WinRateInterval | null {
  if (count === 0) return null;
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  if (!(Number.isSafeInteger(resamples) && resamples >= 1)) {
    throw new RangeError(`resamples must be an integer >= 1, got ${resamples}`);
  }
  const random = mulberry32((BOOTSTRAP_SEED ^ fnv1a(options.seed ?? "")) >>> 0);
  const p = wins / count;
  const rates = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let w = 0;
    // Drawing trade floor(u·count) from a list with the wins first: a win when u < p.
    for (let i = 0; i < count; i++) if (random() < p) w++;
    rates[b] = w / count;
  }
  rates.sort();
  const tail = (1 - BOOTSTRAP_CONFIDENCE) / 2;
  return {
    low: rates[Math.floor(tail * resamples)],
    high: rates[Math.ceil((1 - tail) * resamples) - 1],
  };
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
