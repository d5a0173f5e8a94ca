/**
 * Path metrics of one call (the truth layer of a path-only run): how far
 * and how fast the price moved after the alert, measured on candles. Pure
 * functions, no I/O.
 *
 * Definitions (all prices from the candles of the call's mint):
 * - anchor: the first candle whose `ts` (bar open time) is at or after the
 *   alert; `p0` is its close. The path runs from the anchor candle (included)
 *   to the last candle of the series.
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
 * - `peak_multiple`: highest high from the anchor on divided by `p0`.
 *
 * @module
 */
import type { CandleSeries } from "./types.ts";

/** Basis points in one whole (100%). */
export const BPS_PER_UNIT = 10_000;
/** Move that counts as "activity" for `alert_to_activity_ms`: 10% either way. */
export const ACTIVITY_MOVE_FRACTION = 0.1;

/** Path metrics of one call, camelCase; see the module doc for definitions. */
export interface PathMetrics {
  /** Alert time, epoch ms. */
  t0Ms: number;
  /** Index of the anchor candle in the series. */
  anchorIndex: number;
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
 * import { anchorIndex } from "./metrics.ts";
 * const s = { ts: [0, 60, 120], open: [1, 1, 1], high: [1, 1, 1], low: [1, 1, 1], close: [1, 1, 1] };
 * console.assert(anchorIndex(s, 61) === 2);
 * console.assert(anchorIndex(s, 121) === -1);
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
 * import { bpsVersus } from "./metrics.ts";
 * console.assert(bpsVersus(1.5, 1) === 5000);
 * ```
 */
export function bpsVersus(price: number, base: number): number {
  return (price / base - 1) * BPS_PER_UNIT;
}

/**
 * Compute the path metrics of a call alerted at `alertTsMs` on `series`.
 * Returns `null` when no candle is at or after the alert, or when the
 * anchor close is not a positive number (no multiple can be measured).
 *
 * @example
 * ```ts
 * import { pathMetrics } from "./metrics.ts";
 * const s = {
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 1, 1.5], high: [1, 1.6, 2.2], low: [1, 0.8, 1.4], close: [1, 1.5, 2],
 * };
 * const m = pathMetrics(s, 0)!;
 * console.assert(m.hit2x && m.t2xMs === 120_000);
 * console.assert(Math.round(m.ddBps) === -2000);
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
  for (let i = a; i < n; i++) {
    const high = series.high[i];
    const low = series.low[i];
    const ts = series.ts[i];
    if (low < minLow) minLow = low;
    if (high > maxHigh) maxHigh = high;
    if (activityTsMs === null && (high >= up || low <= down)) activityTsMs = ts;
    if (t2xMs === null && high >= 2 * p0) {
      t2xMs = ts;
      minLowTo2x = minLow;
    }
    if (t3xMs === null && high >= 3 * p0) t3xMs = ts;
    if (t4xMs === null && high >= 4 * p0) t4xMs = ts;
  }
  return {
    t0Ms: alertTsMs,
    anchorIndex: a,
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
    peakMultiple: maxHigh / p0,
  };
}

/**
 * Median of the finite numbers in `values`, or `null` when there are none.
 *
 * @example
 * ```ts
 * import { median } from "./metrics.ts";
 * console.assert(median([3, 1, 2]) === 2);
 * console.assert(median([4, 1, 2, 3]) === 2.5);
 * console.assert(median([]) === null);
 * ```
 */
export function median(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return null;
  xs.sort((x, y) => x - y);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/**
 * Mean of the finite numbers in `values`, or `null` when there are none.
 *
 * @example
 * ```ts
 * import { mean } from "./metrics.ts";
 * console.assert(mean([1, 2, null, 3]) === 2);
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
  return count === 0 ? null : sum / count;
}

/** Path metrics of one caller's calls, for summaries and leaderboards. */
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
 * import { summarizePaths } from "./metrics.ts";
 * const s = summarizePaths([]);
 * console.assert(s.overall.count === 0);
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
    median_dd_bps: median(ms.map((m) => m.ddBps)),
  };
}
