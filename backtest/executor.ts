/**
 * The policy executor: replays the candles after a call's anchor through an
 * exit policy and reports the trade. Pure: no I/O.
 *
 * Rules (see `policies.ts` for the per-candle ones):
 * - Entry at `p0` (close of the anchor candle, the first at or after the
 *   alert), at `entry_ts_ms` = the anchor candle's `ts`. Replay starts with
 *   the candle after the anchor.
 * - Partial exits (ladders) are summed: `exit_px` is the fraction-weighted
 *   average fill, `exit_ts_ms` and `exit_reason` are those of the fill that
 *   closed the position.
 * - What is still open when the candles end is sold at the last close
 *   (`end_of_data`); with no candle after the anchor that is `p0` at entry time.
 * - A stop fills at its level (issue 4), also when the candle opens beyond
 *   it (a gap through the stop). With `gapFill: "open"` a stop the candle
 *   opens beyond fills at that open instead, the first price there was:
 *   `min(open, stop)`. Targets fill at their level either way.
 * - Fees and slippage are per side, in bps: the buy costs `p0·(1+c)` and a sale
 *   yields `px·(1-c)` with `c = (feeBps + slippageBps) / 10_000`;
 *   `realized_return_bps` is net of both, `entry_px`/`exit_px` are raw fills.
 * - `max_adverse_excursion_bps`: lowest price seen while holding versus the
 *   entry, bps, `<= 0`. The exit candle counts up to the exit: its open for a
 *   time stop, the stop level (its fill) for a stop, its low otherwise.
 *   quantBot counts the exit candle's whole low (docs/QUANTBOT.md,
 *   difference 7).
 * - `tail_capture`: `realized_return_bps` divided by the best possible return,
 *   the highest high after the anchor (to the end of the candles) versus `p0`;
 *   `null` when that high is not above `p0`.
 *
 * Speed: a per-series index, built once and shared by every call and sweep
 * trial on the series, gives the highest high to the end in one lookup and
 * lets the replay skip aligned runs of 2, 4, 8, ... candles in which the
 * policy cannot act (`quiet` and `pass` of `PolicyMachine`). The trades are
 * the same as when every candle is visited (`blockSkip: false`), which
 * `tests/backtest/executor_skip_test.ts` checks on random paths.
 *
 * @module
 */
import { InputError } from "./errors.ts";
import { anchorIndex, BPS_PER_UNIT, bpsVersus, roundBps } from "./metrics.ts";
import {
  createPolicyMachine,
  type ExitReason,
  type ExitSignal,
  type Policy,
  STOP_REASONS,
} from "./policies.ts";
import type { Call, CandleSeries } from "./types.ts";

/** A position share below this counts as fully sold. */
const POSITION_EPSILON = 1e-9;

/** Where a stop gapped through fills: {@linkcode ReplayOptions.gapFill}. */
export type GapFill = "level" | "open";

/** The values of {@linkcode GapFill}, the default first. */
export const GAP_FILLS: readonly GapFill[] = ["level", "open"];

/**
 * Whether `value` is a {@linkcode GapFill}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isGapFill } from "./executor.ts";
 * assert.ok(isGapFill("open"));
 * assert.ok(!isGapFill("close"));
 * ```
 */
export function isGapFill(value: unknown): value is GapFill {
  return GAP_FILLS.includes(value as GapFill);
}

/**
 * A cost or fill rule of a replay is out of its range; `field` names it as
 * the run config does (`fee_bps`, `slippage_bps`, `gap_fill`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ReplayCostError } from "./executor.ts";
 * const err = new ReplayCostError("fee_bps", "fee_bps must be >= 0 and < 10000, got -1");
 * assert.ok(err instanceof RangeError);
 * assert.equal(err.field, "fee_bps");
 * ```
 */
export class ReplayCostError extends RangeError {
  /** The config field that is out of range. */
  readonly field: string;
  /** Create the error for `field` with its message. */
  constructor(field: string, message: string) {
    super(message);
    this.name = "ReplayCostError";
    this.field = field;
  }
}

/**
 * `value` as a {@linkcode GapFill} (undefined: the default, `"level"`);
 * throws a {@linkcode ReplayCostError} naming `gap_fill` for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { gapFillOf } from "./executor.ts";
 * assert.equal(gapFillOf(undefined), "level");
 * assert.equal(gapFillOf("open"), "open");
 * assert.throws(() => gapFillOf("close"), /gap_fill must be one of level, open, got "close"/);
 * ```
 */
export function gapFillOf(value: unknown): GapFill {
  if (value === undefined) return GAP_FILLS[0];
  if (!isGapFill(value)) {
    throw new ReplayCostError(
      "gap_fill",
      `gap_fill must be one of ${GAP_FILLS.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The bound, in bps per side, a fee or slippage stays below, alone and added
 * together (100%: a sale at that cost returns nothing); `COST_BPS_MAX`
 * itself is refused.
 */
export const COST_BPS_MAX = 10_000;

/**
 * The message of a fee and a slippage that together reach
 * {@linkcode COST_BPS_MAX}, with the names the caller knows them by.
 */
export function costSumMessage(
  fee: string,
  slippage: string,
  feeBps: number,
  slippageBps: number,
): string {
  return `${fee} + ${slippage} must be < ${COST_BPS_MAX} (100%: a sale would return ` +
    `nothing or less), got ${feeBps} + ${slippageBps}`;
}

/** The costs and fill rule of a run, checked, and what its config records of them. */
export interface ReplayCosts {
  /** Fee per side, bps. */
  feeBps: number;
  /** Slippage per side, bps. */
  slippageBps: number;
  /** Where a stop gapped through fills. */
  gapFill: GapFill;
  /**
   * The run config's fields for them: `fee_bps`, `slippage_bps`, and
   * `gap_fill` only when not the default (a default run's config stays what
   * it always was).
   */
  config: { fee_bps: number; slippage_bps: number; gap_fill?: GapFill };
}

/**
 * The costs and fill rule a policy run or a sweep replays with (defaults 0,
 * 0 and `"level"`), checked before the run exists; throws a
 * {@linkcode ReplayCostError} naming the field (`fee_bps`, `slippage_bps`,
 * `gap_fill`) otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replayCostsOf } from "./executor.ts";
 * assert.deepEqual(replayCostsOf({ feeBps: 10 }).config, { fee_bps: 10, slippage_bps: 0 });
 * assert.deepEqual(replayCostsOf({ gapFill: "open" }).config, {
 *   fee_bps: 0,
 *   slippage_bps: 0,
 *   gap_fill: "open",
 * });
 * assert.throws(() => replayCostsOf({ slippageBps: -1 }), /slippage_bps must be >= 0 and < 10000, got -1/);
 * assert.throws(() => replayCostsOf({ feeBps: 6000, slippageBps: 4000 }), /fee_bps \+ slippage_bps/);
 * ```
 */
export function replayCostsOf(
  options: { feeBps?: number; slippageBps?: number; gapFill?: GapFill },
): ReplayCosts {
  const feeBps = options.feeBps ?? 0;
  const slippageBps = options.slippageBps ?? 0;
  for (const [name, v] of [["fee_bps", feeBps], ["slippage_bps", slippageBps]] as const) {
    if (!Number.isFinite(v) || v < 0 || v >= COST_BPS_MAX) {
      throw new ReplayCostError(name, `${name} must be >= 0 and < ${COST_BPS_MAX}, got ${v}`);
    }
  }
  // Each side pays both: at 100% together a sale returns nothing, past it less than nothing
  // (an audit: +10% on the price reported as -11000 bps, a long losing more than its stake).
  if (feeBps + slippageBps >= COST_BPS_MAX) {
    throw new ReplayCostError(
      "fee_bps",
      costSumMessage("fee_bps", "slippage_bps", feeBps, slippageBps),
    );
  }
  const gapFill = gapFillOf(options.gapFill);
  return {
    feeBps,
    slippageBps,
    gapFill,
    config: {
      fee_bps: feeBps,
      slippage_bps: slippageBps,
      ...(gapFill === GAP_FILLS[0] ? {} : { gap_fill: gapFill }),
    },
  };
}

/**
 * Costs and fill rules applied to every replay.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replayCall, type ReplayOptions } from "./executor.ts";
 * // The price doubles and the trade is held to the end of the candles.
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 2], low: [1, 1], close: [1, 2] };
 * const policy = { type: "fixed_stop", stopPct: 0.5 } as const;
 * const costs: ReplayOptions = { feeBps: 60, slippageBps: 40 }; // 1% per side
 * const free = replayCall(policy, s, { alertTsMs: 0 })!;
 * const paid = replayCall(policy, s, { ...costs, alertTsMs: 0 })!;
 * assert.equal(free.realizedReturnBps, 10_000);
 * // Net of both sides: 2 * 0.99 / (1 * 1.01) - 1; the fill price itself is raw.
 * assert.equal(Math.round(paid.realizedReturnBps), 9_604);
 * assert.equal(paid.exitPx, 2);
 * // A candle that opens at 0.3, under the stop at 0.5: the stop's level, or that open.
 * const gap = { ts: [0, 60_000], open: [1, 0.3], high: [1, 0.35], low: [1, 0.2], close: [1, 0.3] };
 * assert.equal(replayCall(policy, gap, { alertTsMs: 0 })!.exitPx, 0.5);
 * const real: ReplayOptions = { gapFill: "open" };
 * assert.equal(replayCall(policy, gap, { ...real, alertTsMs: 0 })!.exitPx, 0.3);
 * ```
 */
export interface ReplayOptions {
  /** Fee per side, bps. @default {0} */
  feeBps?: number;
  /** Slippage per side, bps. @default {0} */
  slippageBps?: number;
  /**
   * Where a stop fills when the candle opens beyond it: `"level"`, the stop
   * price (issue 4's rule, quantBot's), or `"open"`, the candle's open (a gap
   * gives what a stop order would have got). @default {"level"}
   */
  gapFill?: GapFill;
  /**
   * Skip runs of candles in which the policy cannot act (a per-series index,
   * built once). Only a speed-up: results are the same without it.
   * @default {true}
   */
  blockSkip?: boolean;
}

/**
 * One replayed trade (camelCase; the Parquet columns are the snake_case names).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replayCall, type Trade } from "./executor.ts";
 * // Entry at the close of the alert's candle (1); the next candle dips to 0.7.
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1.1], low: [1, 0.7], close: [1, 0.8] };
 * const t: Trade = replayCall({ type: "fixed_stop", stopPct: 0.2 }, s, { alertTsMs: 0 })!;
 * assert.deepEqual([t.exitReason, t.stopOut, t.exitPx], ["stop_loss", true, 0.8]);
 * assert.equal(t.timeExposedMs, 60_000);
 * assert.equal(Math.round(t.realizedReturnBps), -2_000);
 * ```
 */
export interface Trade {
  /** `ts` of the anchor candle, epoch ms. */
  entryTsMs: number;
  /** `ts` of the candle of the closing fill, epoch ms. */
  exitTsMs: number;
  /** Entry price (`p0`). */
  entryPx: number;
  /** Fraction-weighted average exit price, before costs. */
  exitPx: number;
  /** Net return, bps. */
  realizedReturnBps: number;
  /** Reason of the closing fill. */
  exitReason: ExitReason;
  /** Whether the closing fill was a stop (`stop_loss`, `trailing_stop`, `hard_stop`). */
  stopOut: boolean;
  /** Lowest price while holding versus entry, bps (`<= 0`). */
  maxAdverseExcursionBps: number;
  /** `exitTsMs - entryTsMs`. */
  timeExposedMs: number;
  /** Realized over best possible return, or null. */
  tailCapture: number | null;
}

const KIND_RANK = { open: 0, stop: 1, target: 2 } as const;

function compareSignals(a: ExitSignal, b: ExitSignal): number {
  if (a.kind !== b.kind) return KIND_RANK[a.kind] - KIND_RANK[b.kind];
  if (a.kind === "stop") return b.price - a.price;
  if (a.kind === "target") return a.price - b.price;
  return 0;
}

/**
 * Replay `policy` for a call alerted at `alertTsMs` on `series`. Returns
 * `null` when no candle is at or after the alert or the anchor close is not
 * positive.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replayCall } from "./executor.ts";
 * const s = {
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 1, 1.2], high: [1, 1.3, 2.5], low: [1, 0.9, 1.1], close: [1, 1.2, 2.4],
 * };
 * const t = replayCall({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 }, s, { alertTsMs: 0 })!;
 * assert.equal(t.exitReason, "take_profit");
 * assert.equal(t.exitPx, 2);
 * assert.equal(Math.round(t.realizedReturnBps), 10_000);
 * ```
 */
export function replayCall(
  policy: Policy,
  series: CandleSeries,
  options: ReplayOptions & { alertTsMs: number },
): Trade | null {
  const a = anchorIndex(series, options.alertTsMs);
  if (a < 0) return null;
  const p0 = series.close[a];
  if (!(p0 > 0) || !Number.isFinite(p0)) return null;
  const entryTsMs = series.ts[a];
  const machine = createPolicyMachine(policy, { px: p0, tsMs: entryTsMs });
  const index = options.blockSkip === false ? null : seriesIndex(series);
  const n = series.ts.length;
  const low = series.low;
  const signals: ExitSignal[] = [];
  let remaining = 1;
  let proceeds = 0;
  let minPx = p0;
  let exitIndex = -1;
  let exitReason: ExitReason = "end_of_data";
  let i = a + 1;
  const quiet = index === null ? undefined : machine.quiet;
  const gapToOpen = options.gapFill === "open";
  while (i < n) {
    if (quiet !== undefined) {
      // The largest aligned block starting at i in which the machine is quiet, if any.
      const k = quietLevel(index!, quiet, series.ts, i);
      if (k > 0) {
        const blockLow = index!.minLow[k][i >> k];
        if (blockLow < minPx) minPx = blockLow;
        machine.pass?.(index!.maxHigh[k][i >> k]);
        i = Math.min(n, i + (1 << k));
        continue;
      }
    }
    signals.length = 0;
    machine.onCandle(series, i, signals);
    if (signals.length > 1) signals.sort(compareSignals);
    for (const s of signals) {
      const sold = Math.min(s.fraction, remaining);
      const price = gapToOpen && s.kind === "stop" ? Math.min(s.price, series.open[i]) : s.price;
      proceeds += sold * price;
      remaining -= sold;
      if (remaining <= POSITION_EPSILON) {
        exitIndex = i;
        exitReason = s.reason;
        const worst = s.kind === "open" ? series.open[i] : s.kind === "stop" ? price : low[i];
        if (worst < minPx) minPx = worst;
        break;
      }
    }
    if (exitIndex >= 0) break;
    if (low[i] < minPx) minPx = low[i];
    i++;
  }
  if (exitIndex < 0) {
    exitIndex = n - 1 > a ? n - 1 : a;
    proceeds += remaining * series.close[exitIndex];
    remaining = 0;
  }
  // The highest high after the anchor, to the end of the candles (tail capture).
  const maxHigh = a + 1 >= n
    ? -Infinity
    : index === null
    ? highestHigh(series, a + 1)
    : index.suffixMaxHigh[a + 1];
  return finishTrade({ p0, entryTsMs, exitTsMs: series.ts[exitIndex], proceeds, minPx }, {
    exitReason,
    maxHigh,
    costFraction: ((options.feeBps ?? 0) + (options.slippageBps ?? 0)) / BPS_PER_UNIT,
  });
}

/** Most levels of the skip index: blocks of up to 2^16 candles. */
const SKIP_LEVELS_MAX = 16;

/** What the executor precomputes once per series to replay many calls and trials fast. */
interface SeriesIndex {
  /** Highest high from index `i` to the end (NaN highs ignored; -Infinity past the end). */
  suffixMaxHigh: Float64Array;
  /** `minLow[k][b]`: lowest low of candles `b·2^k .. (b+1)·2^k - 1` (k >= 1; NaN ignored). */
  minLow: Float64Array[];
  /** `maxHigh[k][b]`: highest high of the same candles. */
  maxHigh: Float64Array[];
}

/** Indexes by series: built on first use, dropped with the series. */
const SERIES_INDEXES = new WeakMap<CandleSeries, SeriesIndex>();

/**
 * The skip index of `series` (cached): the suffix maximum of the highs (tail
 * capture without scanning past the exit) and, for aligned blocks of 2, 4,
 * 8, ... candles, the lowest low and highest high, so a block in which the
 * policy machine is `quiet` (see `PolicyMachine` in policies.ts) is skipped
 * whole. The candles of a series must not change after its first replay.
 */
function seriesIndex(series: CandleSeries): SeriesIndex {
  const cached = SERIES_INDEXES.get(series);
  if (cached !== undefined) return cached;
  const n = series.ts.length;
  const suffixMaxHigh = new Float64Array(n + 1);
  suffixMaxHigh[n] = -Infinity;
  for (let i = n - 1; i >= 0; i--) {
    const h = series.high[i];
    suffixMaxHigh[i] = h > suffixMaxHigh[i + 1] ? h : suffixMaxHigh[i + 1];
  }
  const minLow: Float64Array[] = [new Float64Array(0)];
  const maxHigh: Float64Array[] = [new Float64Array(0)];
  let prevLow: ArrayLike<number> = series.low;
  let prevHigh: ArrayLike<number> = series.high;
  for (let k = 1; k <= SKIP_LEVELS_MAX && 1 << (k - 1) < n; k++) {
    const blocks = Math.ceil(n / (1 << k));
    const lows = new Float64Array(blocks);
    const highs = new Float64Array(blocks);
    for (let b = 0; b < blocks; b++) {
      const l0 = prevLow[2 * b];
      const l1 = 2 * b + 1 < prevLow.length ? prevLow[2 * b + 1] : Infinity;
      const h0 = prevHigh[2 * b];
      const h1 = 2 * b + 1 < prevHigh.length ? prevHigh[2 * b + 1] : -Infinity;
      lows[b] = lowest(l0, l1);
      highs[b] = highest(h0, h1);
    }
    minLow.push(lows);
    maxHigh.push(highs);
    prevLow = lows;
    prevHigh = highs;
  }
  const index = { suffixMaxHigh, minLow, maxHigh };
  SERIES_INDEXES.set(series, index);
  return index;
}

/** The lower of two prices, NaN ignored (Infinity when both are NaN). */
function lowest(a: number, b: number): number {
  if (a <= b) return a;
  return b === b ? b : (a === a ? a : Infinity);
}

/** The higher of two prices, NaN ignored (-Infinity when both are NaN). */
function highest(a: number, b: number): number {
  if (a >= b) return a;
  return b === b ? b : (a === a ? a : -Infinity);
}

/**
 * The level `k` of the largest aligned block of `2^k` candles starting at
 * `i` (i >= 1) in which the machine is quiet, or 0 when even the 2-candle
 * block is not.
 */
function quietLevel(
  index: SeriesIndex,
  quiet: NonNullable<ReturnType<typeof createPolicyMachine>["quiet"]>,
  ts: ArrayLike<number>,
  i: number,
): number {
  const n = ts.length;
  let k = Math.min(index.minLow.length - 1, 31 - Math.clz32(i & -i));
  for (; k >= 1; k--) {
    const b = i >> k;
    const end = Math.min(n, (b + 1) << k);
    if (quiet(index.minLow[k][b], index.maxHigh[k][b], ts[end - 1])) return k;
  }
  return 0;
}

function highestHigh(series: CandleSeries, from: number): number {
  let max = -Infinity;
  for (let i = from; i < series.ts.length; i++) if (series.high[i] > max) max = series.high[i];
  return max;
}

function finishTrade(
  fill: { p0: number; entryTsMs: number; exitTsMs: number; proceeds: number; minPx: number },
  extra: { exitReason: ExitReason; maxHigh: number; costFraction: number },
): Trade {
  const { p0, proceeds } = fill;
  const c = extra.costFraction;
  const realizedReturnBps = roundBps(
    ((proceeds * (1 - c)) / (p0 * (1 + c)) - 1) * BPS_PER_UNIT,
  );
  const peakBps = extra.maxHigh > p0 ? bpsVersus(extra.maxHigh, p0) : 0;
  return {
    entryTsMs: fill.entryTsMs,
    exitTsMs: fill.exitTsMs,
    entryPx: p0,
    exitPx: proceeds,
    realizedReturnBps,
    exitReason: extra.exitReason,
    stopOut: STOP_REASONS.has(extra.exitReason),
    maxAdverseExcursionBps: Math.min(0, bpsVersus(fill.minPx, p0)),
    timeExposedMs: fill.exitTsMs - fill.entryTsMs,
    tailCapture: peakBps > 0 ? realizedReturnBps / peakBps : null,
  };
}

/**
 * The row of a call that was never entered (no candle at or after its alert,
 * or no positive entry price): `no_entry`, 0 bps, entry and exit at the
 * alert, prices 0, as quantBot's executor records it. Callers count these
 * apart from the trades.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { noEntryTrade } from "./executor.ts";
 * const t = noEntryTrade(1_000);
 * assert.equal(t.exitReason, "no_entry");
 * assert.equal(t.realizedReturnBps, 0);
 * ```
 */
export function noEntryTrade(alertTsMs: number): Trade {
  return {
    entryTsMs: alertTsMs,
    exitTsMs: alertTsMs,
    entryPx: 0,
    exitPx: 0,
    realizedReturnBps: 0,
    exitReason: "no_entry",
    stopOut: false,
    maxAdverseExcursionBps: 0,
    timeExposedMs: 0,
    tailCapture: null,
  };
}

/**
 * A {@linkcode noEntryTrade} row for each of `calls` (not covered, or
 * entered too late), in their order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { noEntryRows } from "./executor.ts";
 * const call = { callId: "c1", caller: "amy", mint: "M", chain: "solana", alertTsMs: 1_000 };
 * const [row] = noEntryRows([call]);
 * assert.equal(row.call, call);
 * assert.equal(row.trade.exitReason, "no_entry");
 * ```
 */
export function noEntryRows(calls: readonly Call[]): CallTrade[] {
  return calls.map((call) => ({ call, trade: noEntryTrade(call.alertTsMs) }));
}

/**
 * A replayed call: the call and its trade.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type CallTrade, replayCalls } from "./executor.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1.5], low: [1, 1], close: [1, 1.5] };
 * const calls = ["M", "NO_CANDLES"].map((mint, i) => ({
 *   callId: `c${i}`, caller: "amy", mint, chain: "solana", alertTsMs: 0,
 * }));
 * const r = replayCalls({ type: "fixed_stop", stopPct: 0.2 }, calls, {
 *   seriesByMint: new Map([["M", s]]),
 * });
 * // Each trade keeps its call, so results can be grouped by caller or mint later.
 * const rows: CallTrade[] = [...r.trades, ...r.noEntry];
 * assert.deepEqual(rows.map((t) => [t.call.callId, t.trade.exitReason]), [
 *   ["c0", "end_of_data"],
 *   ["c1", "no_entry"],
 * ]);
 * ```
 */
export interface CallTrade {
  /** The call. */
  call: Call;
  /** Its trade. */
  trade: Trade;
}

/**
 * Options for {@linkcode replayCalls}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replayCalls, type ReplayCallsOptions } from "./executor.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1.5], low: [1, 1], close: [1, 1.5] };
 * const calls = [0, 1, 2].map((i) => ({
 *   callId: `c${i}`, caller: "amy", mint: "M", chain: "solana", alertTsMs: 0,
 * }));
 * const seen: number[][] = [];
 * const options: ReplayCallsOptions = {
 *   progressEvery: 2,
 *   onProgress: (done, total) => seen.push([done, total]),
 * };
 * replayCalls({ type: "fixed_stop", stopPct: 0.2 }, calls, {
 *   ...options,
 *   seriesByMint: new Map([["M", s]]),
 * });
 * assert.deepEqual(seen, [[2, 3], [3, 3]]); // every 2 calls, and at the end
 * ```
 */
export interface ReplayCallsOptions extends ReplayOptions {
  /** Called every `progressEvery` calls and at the end with (done, total). @default {undefined} */
  onProgress?: (done: number, total: number) => void;
  /** Calls between progress callbacks. @default {500} */
  progressEvery?: number;
}

/**
 * Replay `policy` for every call whose mint has a series in `seriesByMint`.
 * Calls without candles at or after the alert are counted in `skipped` and
 * returned as `no_entry` rows in `noEntry` (not in `trades`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replayCalls } from "./executor.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1.1], low: [1, 0.7], close: [1, 0.8] };
 * const call = { callId: "c1", caller: "a", mint: "M", chain: "solana", alertTsMs: 0 };
 * const r = replayCalls({ type: "fixed_stop", stopPct: 0.2 }, [call], {
 *   seriesByMint: new Map([["M", s]]),
 * });
 * assert.equal(r.trades.length, 1);
 * assert.equal(r.trades[0].trade.stopOut, true);
 * ```
 */
export function replayCalls(
  policy: Policy,
  calls: readonly Call[],
  options: ReplayCallsOptions & { seriesByMint: ReadonlyMap<string, CandleSeries> },
): { trades: CallTrade[]; skipped: number; noEntry: CallTrade[] } {
  const trades: CallTrade[] = [];
  const noEntry: CallTrade[] = [];
  let skipped = 0;
  const every = options.progressEvery ?? 500;
  // One options object for every call (only the alert changes): no copy per call.
  const perCall = { ...options, alertTsMs: 0 };
  for (let k = 0; k < calls.length; k++) {
    const call = calls[k];
    const series = options.seriesByMint.get(call.mint);
    perCall.alertTsMs = call.alertTsMs;
    const trade = series === undefined ? null : replayCall(policy, series, perCall);
    if (trade !== null && !Number.isFinite(trade.realizedReturnBps)) {
      // Prices many orders of magnitude apart (1e-300 to 1e10) overflow a double: every
      // metric the trade reaches would be NaN, read as null or 0, with no error.
      throw new InputError(
        `Call ${call.callId} (mint ${call.mint}): its return does not fit a number (entry ` +
          `price ${trade.entryPx}, exit price ${trade.exitPx}): check the candles' prices`,
      );
    }
    if (trade === null) {
      skipped++;
      noEntry.push({ call, trade: noEntryTrade(call.alertTsMs) });
    } else trades.push({ call, trade });
    if (options.onProgress && ((k + 1) % every === 0 || k + 1 === calls.length)) {
      options.onProgress(k + 1, calls.length);
    }
  }
  return { trades, skipped, noEntry };
}
