/**
 * Per-caller aggregation of policy trades: what the `aggregate` phase writes
 * to `caller_summary.parquet` and into `run.completed`'s summary. Pure.
 *
 * @module
 */
import type { CallTrade } from "./executor.ts";
import { mean, median, winRateInterval } from "./metrics.ts";

/**
 * Aggregate of one caller's trades (snake_case: the Parquet and summary columns).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type CallerTradeSummary, summarizeTrades } from "./aggregate.ts";
 * import { replayCalls } from "./executor.ts";
 * // Mint UP closes at 1.5 (+5000 bps); mint DOWN falls through the 20% stop (-2000 bps).
 * const up = { ts: [0, 60_000], open: [1, 1], high: [1, 1.5], low: [1, 1], close: [1, 1.5] };
 * const down = { ts: [0, 60_000], open: [1, 1], high: [1, 1], low: [1, 0.5], close: [1, 0.6] };
 * const calls = [["amy", "UP"], ["amy", "DOWN"], ["bob", "UP"]].map(([caller, mint], i) => ({
 *   callId: `c${i}`, caller, mint, chain: "solana", alertTsMs: 0,
 * }));
 * const seriesByMint = new Map([["UP", up], ["DOWN", down]]);
 * const { trades } = replayCalls({ type: "fixed_stop", stopPct: 0.2 }, calls, { seriesByMint });
 * const amy: CallerTradeSummary = summarizeTrades(trades).byCaller[0]; // sorted by caller
 * assert.deepEqual([amy.caller, amy.count, amy.win_rate], ["amy", 2, 0.5]);
 * assert.equal(amy.mean_return_bps, 1500); // (5000 - 2000) / 2
 * ```
 */
export interface CallerTradeSummary {
  /** The caller (`"*"` in the overall row). */
  caller: string;
  /** Trades. */
  count: number;
  /** Share of trades with `realized_return_bps > 0`. */
  win_rate: number;
  /** Mean net return, bps. */
  mean_return_bps: number | null;
  /** Median net return, bps. */
  median_return_bps: number | null;
  /** Mean tail capture over trades that have one. */
  mean_tail_capture: number | null;
}

/**
 * Aggregate `trades` per caller (sorted by caller) and overall.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarizeTrades } from "./aggregate.ts";
 * import { replayCalls } from "./executor.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1.1], low: [1, 0.7], close: [1, 0.8] };
 * const call = { callId: "c1", caller: "a", mint: "M", chain: "solana", alertTsMs: 0 };
 * const { trades } = replayCalls({ type: "fixed_stop", stopPct: 0.2 }, [call], {
 *   seriesByMint: new Map([["M", s]]),
 * });
 * const { byCaller, overall } = summarizeTrades(trades);
 * assert(byCaller.length === 1 && byCaller[0].caller === "a" && overall.win_rate === 0);
 * ```
 */
export function summarizeTrades(
  trades: readonly CallTrade[],
): { byCaller: CallerTradeSummary[]; overall: CallerTradeSummary } {
  const groups = new Map<string, CallTrade[]>();
  for (const t of trades) {
    const list = groups.get(t.call.caller) ?? [];
    list.push(t);
    groups.set(t.call.caller, list);
  }
  const byCaller = [...groups.keys()].sort().map((caller) =>
    summarizeGroup(caller, groups.get(caller)!)
  );
  return { byCaller, overall: summarizeGroup("*", trades) };
}

function summarizeGroup(caller: string, trades: readonly CallTrade[]): CallerTradeSummary {
  const returns = trades.map((t) => t.trade.realizedReturnBps);
  const wins = returns.filter((r) => r > 0).length;
  return {
    caller,
    count: trades.length,
    win_rate: trades.length === 0 ? 0 : wins / trades.length,
    mean_return_bps: mean(returns),
    median_return_bps: median(returns),
    mean_tail_capture: mean(trades.map((t) => t.trade.tailCapture)),
  };
}

/**
 * A caller's row of `caller_summary.parquet`: its trades' aggregate and its `no_entry` calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type CallerSummary, summarizeCallers } from "./aggregate.ts";
 * import { replayCalls } from "./executor.ts";
 * const up = { ts: [0, 60_000], open: [1, 1], high: [1, 1.5], low: [1, 1], close: [1, 1.5] };
 * // Mint GONE has no candles: its call is never entered (a `no_entry` row).
 * const calls = ["UP", "GONE"].map((mint, i) => ({
 *   callId: `c${i}`, caller: "amy", mint, chain: "solana", alertTsMs: 0,
 * }));
 * const seriesByMint = new Map([["UP", up]]);
 * const r = replayCalls({ type: "fixed_stop", stopPct: 0.2 }, calls, { seriesByMint });
 * const [amy]: CallerSummary[] = summarizeCallers(r.trades, r.noEntry);
 * // The call never entered is counted apart: not a trade, not a loss.
 * assert.deepEqual([amy.count, amy.calls_no_entry, amy.win_rate], [1, 1, 1]);
 * ```
 */
export interface CallerSummary extends CallerTradeSummary {
  /** Calls never entered (`no_entry` rows): counted apart, not in `count` or the returns. */
  calls_no_entry: number;
}

/**
 * One row per caller that has trades or `no_entry` calls, sorted by caller:
 * what `caller_summary.parquet` holds and, with the same counts, the run
 * summary's `by_caller`. A caller whose calls were all `no_entry` has count
 * 0, win rate 0 and null returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarizeCallers } from "./aggregate.ts";
 * import { noEntryTrade } from "./executor.ts";
 * const call = { callId: "c1", caller: "b", mint: "M", chain: "solana", alertTsMs: 0 };
 * const rows = summarizeCallers([], [{ call, trade: noEntryTrade(0) }]);
 * assert.deepEqual(rows.map((r) => [r.caller, r.count, r.calls_no_entry]), [["b", 0, 1]]);
 * ```
 */
export function summarizeCallers(
  trades: readonly CallTrade[],
  noEntry: readonly CallTrade[],
): CallerSummary[] {
  const noEntryCounts = new Map<string, number>();
  for (const { call } of noEntry) {
    noEntryCounts.set(call.caller, (noEntryCounts.get(call.caller) ?? 0) + 1);
  }
  const all = summarizeTrades(trades).byCaller;
  const seen = new Set(all.map((s) => s.caller));
  for (const caller of noEntryCounts.keys()) {
    if (!seen.has(caller)) all.push(summarizeGroup(caller, []));
  }
  all.sort((a, b) => a.caller < b.caller ? -1 : a.caller > b.caller ? 1 : 0);
  return all.map((s) => ({ ...s, calls_no_entry: noEntryCounts.get(s.caller) ?? 0 }));
}

/**
 * The bootstrap interval of a caller's win rate, as it goes into a summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { callerWinRateIntervals, type CallerWinRateInterval } from "./aggregate.ts";
 * import { replayCalls } from "./executor.ts";
 * const up = { ts: [0, 60_000], open: [1, 1], high: [1, 1.5], low: [1, 1], close: [1, 1.5] };
 * const down = { ts: [0, 60_000], open: [1, 1], high: [1, 1], low: [1, 0.5], close: [1, 0.6] };
 * const calls = ["UP", "DOWN"].map((mint, i) => ({
 *   callId: `c${i}`, caller: "amy", mint, chain: "solana", alertTsMs: 0,
 * }));
 * const seriesByMint = new Map([["UP", up], ["DOWN", down]]);
 * const { trades } = replayCalls({ type: "fixed_stop", stopPct: 0.2 }, calls, { seriesByMint });
 * const amy: CallerWinRateInterval = callerWinRateIntervals(trades).amy;
 * // One win in two trades says little: the interval is the whole range.
 * assert.deepEqual(amy, { win_rate_ci_low: 0, win_rate_ci_high: 1 });
 * ```
 */
export interface CallerWinRateInterval {
  /** Lower bound of the 95% interval. */
  win_rate_ci_low: number | null;
  /** Upper bound of the 95% interval. */
  win_rate_ci_high: number | null;
}

/**
 * Per caller, the seeded bootstrap 95% interval of the win rate (seeded with
 * the caller name, so a rerun gives the same interval; see docs/METRICS.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { callerWinRateIntervals } from "./aggregate.ts";
 * assert.equal(Object.keys(callerWinRateIntervals([])).length, 0);
 * ```
 */
export function callerWinRateIntervals(
  trades: readonly CallTrade[],
): Record<string, CallerWinRateInterval> {
  const counts = new Map<string, { wins: number; count: number }>();
  for (const t of trades) {
    const c = counts.get(t.call.caller) ?? { wins: 0, count: 0 };
    c.count++;
    if (t.trade.realizedReturnBps > 0) c.wins++;
    counts.set(t.call.caller, c);
  }
  const out: Record<string, CallerWinRateInterval> = {};
  for (const caller of [...counts.keys()].sort()) {
    const { wins, count } = counts.get(caller)!;
    const ci = winRateInterval(wins, count, { seed: caller });
    out[caller] = { win_rate_ci_low: ci?.low ?? null, win_rate_ci_high: ci?.high ?? null };
  }
  return out;
}

/** The interval of a caller without trades (only `no_entry` calls): none. */
const NO_INTERVAL: CallerWinRateInterval = { win_rate_ci_low: null, win_rate_ci_high: null };

/**
 * A summary's `by_caller`: each caller's row of {@linkcode summarizeCallers}
 * (its `no_entry` calls included) with the interval of its win rate. One
 * shape for a policy run's summary and a sweep's best trial.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { byCallerSummary, summarizeCallers } from "./aggregate.ts";
 * import { noEntryTrade } from "./executor.ts";
 * const call = { callId: "c1", caller: "b", mint: "M", chain: "solana", alertTsMs: 0 };
 * const noEntry = [{ call, trade: noEntryTrade(0) }];
 * const byCaller = byCallerSummary(summarizeCallers([], noEntry), []);
 * assert.equal(byCaller.b.calls_no_entry, 1);
 * assert.equal(byCaller.b.win_rate_ci_low, null);
 * ```
 */
export function byCallerSummary(
  callers: readonly CallerSummary[],
  trades: readonly CallTrade[],
): Record<string, Omit<CallerSummary, "caller"> & CallerWinRateInterval> {
  const intervals = callerWinRateIntervals(trades);
  return Object.fromEntries(
    callers.map((
      { caller, ...rest },
    ) => [caller, { ...rest, ...(intervals[caller] ?? NO_INTERVAL) }]),
  );
}
