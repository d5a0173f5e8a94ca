/**
 * The sweep workflow (SPEC 13): every combination of a policy grid
 * (`grid.ts`) replayed over one data set in one process. One run of
 * `run_type` `sweep`; the data phases run once (`plan, coverage, slice,
 * load`), then `execute` replays each combination through the executor,
 * records one `trial.recorded` per combination (`params`: the concrete
 * policy, `metrics`: the trade metrics of docs/METRICS.md) and keeps the best
 * trial by the objective (default `median_return_bps`); `store` writes
 * `trials.parquet` (one row per trial: `trial_id`, `params.<path>`,
 * `metrics.<name>`) and the best trial's per-call results
 * (`best_trial_results.parquet`, the columns of a policy run's
 * `policy_results.parquet`), and `aggregate` puts the best trial in
 * `run.completed`'s summary. When no trial has a value for the objective
 * (every one null, e.g. `sharpe_per_trade` over one trade, or without
 * trades), there is no best trial: `best_trial` is null and no
 * `best_trial_results.parquet` is written.
 *
 * The grid is expanded and every combination validated before the run
 * exists: a grid over the limit or with an invalid combination throws
 * {@linkcode GridError} and writes nothing.
 *
 * @module
 */
import {
  type BacktestOptions,
  dataPhases,
  finishRun,
  type RunContext,
  type RunEventSink,
  type RunResult,
  startRun,
} from "./workflow.ts";
import { byCallerSummary, summarizeCallers } from "./aggregate.ts";
import type { ColumnSpec, Row } from "./artifacts.ts";
import {
  type CallTrade,
  type GapFill,
  noEntryRows,
  replayCalls,
  ReplayCostError,
  type ReplayCosts,
  replayCostsOf,
} from "./executor.ts";
import {
  expandGrid,
  flattenObject,
  GRID_TRIALS_MAX_DEFAULT,
  gridAxes,
  GridError,
  type GridTrial,
  trialsMaxOf,
} from "./grid.ts";
import { TRADE_METRIC_NAMES, type TradeMetrics, tradeMetrics } from "./metrics.ts";
import { fixedNumberType } from "./number_fields.ts";
import { getEventEmitter } from "../ledger/emitter.ts";
import type { LoadedData } from "./workflow.ts";
import type { DataSession } from "./data.ts";
import { POLICY_RESULTS_COLUMNS, policyResultRow } from "./policy.ts";
import { BEST_TRIAL_RESULTS_FILE, TRIALS_FILE } from "./run_files.ts";

export { BEST_TRIAL_RESULTS_FILE, TRIALS_FILE };

/**
 * Run type recorded in `run.created`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SWEEP_RUN_TYPE } from "./sweep.ts";
 * import { newRunId } from "./artifacts.ts";
 * import { RERUN_TYPES } from "./rerun.ts";
 * assert.equal(SWEEP_RUN_TYPE, "sweep");
 * // A sweep's generated run id starts with it, and `ledger rerun` accepts the run type.
 * const id = newRunId(SWEEP_RUN_TYPE, Date.UTC(2026, 0, 23));
 * assert.match(id, /^sweep-20260123T000000-[0-9a-f]{6}$/);
 * assert.ok((RERUN_TYPES as readonly string[]).includes(SWEEP_RUN_TYPE));
 * ```
 */
export const SWEEP_RUN_TYPE = "sweep";
/**
 * Phases of a sweep, in order (those of a policy run).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SWEEP_PHASES } from "./sweep.ts";
 * import { POLICY_PHASES } from "./policy.ts";
 * // A sweep runs the phases of a policy run; `execute` replays every trial, not one policy.
 * assert.deepEqual(SWEEP_PHASES, POLICY_PHASES);
 * assert.equal(SWEEP_PHASES.indexOf("execute"), 4); // after the data phases
 * ```
 */
export const SWEEP_PHASES = [
  "plan",
  "coverage",
  "slice",
  "load",
  "execute",
  "store",
  "aggregate",
] as const;
/**
 * Metrics a sweep may rank trials by (higher is better for each).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { planSweep, SWEEP_OBJECTIVES, type SweepObjective } from "./sweep.ts";
 * const grid = { type: "fixed_stop", stopPct: [0.1, 0.2] };
 * for (const objective of SWEEP_OBJECTIVES) assert.equal(planSweep({ grid, objective }).length, 2);
 * // `calls` is a trade metric but not an objective: more trades is not a better policy.
 * assert.throws(() => planSweep({ grid, objective: "calls" as SweepObjective }), {
 *   name: "RangeError",
 *   message: /^objective must be one of win_rate, mean_return_bps, /,
 * });
 * ```
 */
export const SWEEP_OBJECTIVES = [
  "win_rate",
  "mean_return_bps",
  "median_return_bps",
  "profit_factor",
  "expectancy_bps",
  "max_drawdown_bps",
  "sharpe_per_trade",
  "sortino_per_trade",
] as const;
/**
 * A metric a sweep may rank trials by.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { objectiveRankValue, type SweepObjective } from "./sweep.ts";
 * import { tradeMetrics } from "./metrics.ts";
 * const t = (r: number) => ({ realizedReturnBps: r, exitTsMs: 0, timeExposedMs: 0 });
 * const metrics = tradeMetrics([t(900), t(-100), t(-200)]);
 * const byWins: SweepObjective = "win_rate";
 * const byMean: SweepObjective = "mean_return_bps";
 * assert.equal(objectiveRankValue(metrics, byWins), 1 / 3);
 * assert.equal(objectiveRankValue(metrics, byMean), 200);
 * ```
 */
export type SweepObjective = typeof SWEEP_OBJECTIVES[number];
/**
 * The default objective.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ranksAbove, SWEEP_OBJECTIVE_DEFAULT } from "./sweep.ts";
 * import { tradeMetrics } from "./metrics.ts";
 * assert.equal(SWEEP_OBJECTIVE_DEFAULT, "median_return_bps");
 * const t = (r: number) => ({ realizedReturnBps: r, exitTsMs: 0, timeExposedMs: 0 });
 * const steady = tradeMetrics([t(100), t(-50), t(300)]); // median 100, mean 117
 * const lucky = tradeMetrics([t(900), t(-400), t(50)]); // median 50, mean 183
 * // By default the typical trade decides, not one big win.
 * assert.equal(ranksAbove(steady, lucky, SWEEP_OBJECTIVE_DEFAULT), true);
 * ```
 */
export const SWEEP_OBJECTIVE_DEFAULT: SweepObjective = "median_return_bps";

/**
 * Where a sweep's events go: a run's events plus `trial.recorded`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { SweepEventSink } from "./sweep.ts";
 * import { EventEmitter } from "../ledger/emitter.ts";
 * import { findRunEvents } from "../ledger/run_lookup.ts";
 * const root = await Deno.makeTempDir();
 * const ledger = new EventEmitter({ root });
 * try {
 *   // The ledger's emitter is a sink; runSweep calls trialRecorded once per trial.
 *   const sink: SweepEventSink = ledger;
 *   const params = { type: "fixed_stop", stopPct: 0.2 };
 *   await sink.trialRecorded("sweep-1", { trial_id: "t000", params, metrics: { calls: 5 } });
 *   const events = await findRunEvents(root, "sweep-1");
 *   assert.deepEqual(events.map((e) => e.eventType), ["trial.recorded"]);
 * } finally {
 *   await ledger.close();
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface SweepEventSink extends RunEventSink {
  /** `trial.recorded`. */
  trialRecorded(
    runId: string,
    fields: { trial_id: string; params: Record<string, unknown>; metrics: Record<string, unknown> },
  ): Promise<unknown>;
}

/**
 * Options for {@linkcode runSweep}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runSweep, type SweepOptions } from "./sweep.ts";
 * import { GridError } from "./grid.ts";
 * const options: SweepOptions = {
 *   grid: { type: "fixed_stop", stopPct: [0.1, 0.2, 0.3], takeProfitPct: [1, 2] },
 *   objective: "win_rate",
 *   trialsMax: 4,
 * };
 * // 3 × 2 = 6 combinations, over trialsMax: refused before the run exists, nothing written.
 * await assert.rejects(runSweep(options), (err) => {
 *   assert(err instanceof GridError);
 *   assert.match(err.message, /^Grid has 6 combinations .*more than the limit of 4/);
 *   return true;
 * });
 * ```
 */
export interface SweepOptions extends Omit<BacktestOptions, "emitter"> {
  /** The grid: an object or JSON text (a policy whose numbers may be lists). */
  grid: unknown;
  /** Fee per side, bps. @default {0} */
  feeBps?: number;
  /** Slippage per side, bps. @default {0} */
  slippageBps?: number;
  /**
   * Where a stop gapped through fills (`ReplayOptions.gapFill` in
   * `executor.ts`); recorded in the config as `gap_fill` when `"open"`.
   * @default {"level"}
   */
  gapFill?: GapFill;
  /** Metric that picks the best trial. @default {"median_return_bps"} */
  objective?: SweepObjective;
  /** Most combinations accepted. @default {GRID_TRIALS_MAX_DEFAULT} (10,000) */
  trialsMax?: number;
  /**
   * The name of `trialsMax` before 0.3.0 (limits are named noun-first).
   * @deprecated Use `trialsMax`.
   */
  maxTrials?: number;
  /** Where the events go. @default {getEventEmitter({ root })} */
  emitter?: SweepEventSink;
  /** Progress of the execute phase: (trials done, trials total). @default {undefined} */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The metrics of one trial as recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ranksAbove, type TrialMetrics } from "./sweep.ts";
 * import { tradeMetrics } from "./metrics.ts";
 * const t = (r: number) => ({ realizedReturnBps: r, exitTsMs: 0, timeExposedMs: 0 });
 * // As a sweep records a trial: the trade metrics of its trades, the calls it could not
 * // replay (no candle at or after the alert), and the share of its trades closed by a stop.
 * const trial = (returns: number[], stops: number): TrialMetrics => ({
 *   ...tradeMetrics(returns.map(t)),
 *   calls_skipped: 0,
 *   stop_out_rate: stops / returns.length,
 * });
 * const tight = trial([-1000, 500], 1);
 * const wide = trial([-2000, 900], 1);
 * assert.equal(tight.stop_out_rate, 0.5);
 * assert.equal(ranksAbove(wide, tight, "win_rate"), false); // a tie keeps the earlier trial
 * assert.equal(ranksAbove(wide, tight, "mean_return_bps"), false); // -550 is below -250
 * ```
 */
export type TrialMetrics = TradeMetrics & { calls_skipped: number; stop_out_rate: number };

/**
 * One executed trial.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { trialColumns, type TrialResult } from "./sweep.ts";
 * import { expandGrid } from "./grid.ts";
 * import { tradeMetrics } from "./metrics.ts";
 * // The first of a grid's two trials, with the metrics of a trial without trades.
 * const [trial] = expandGrid({ type: "ladder", levels: [{ multiple: [2, 3], fraction: 1 }] });
 * const result: TrialResult = {
 *   trialId: trial.trialId,
 *   params: { ...trial.policy },
 *   metrics: { ...tradeMetrics([]), calls_skipped: 0, stop_out_rate: 0 },
 * };
 * // Nested params become dotted columns of trials.parquet.
 * const names = trialColumns([result]).map((c) => c.name);
 * assert.deepEqual(names.slice(0, 3), ["trial_id", "params.type", "params.levels.0.multiple"]);
 * assert.equal(names.at(-1), "metrics.stop_out_rate");
 * ```
 */
export interface TrialResult {
  /** The trial id. */
  trialId: string;
  /** The concrete policy. */
  params: Record<string, unknown>;
  /** Its metrics. */
  metrics: TrialMetrics;
}

/**
 * Check a sweep's grid, objective and limit; returns the combinations.
 * Throws {@linkcode GridError} (or `RangeError` for a bad objective or
 * limit) without writing anything.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { planSweep } from "./sweep.ts";
 * const trials = planSweep({ grid: { type: "time_stop", maxHoldMs: [60_000, 120_000] } });
 * assert.equal(trials.length, 2);
 * ```
 */
export function planSweep(
  options: Pick<SweepOptions, "grid" | "objective" | "trialsMax" | "maxTrials">,
): GridTrial[] {
  const objective = options.objective ?? SWEEP_OBJECTIVE_DEFAULT;
  if (!(SWEEP_OBJECTIVES as readonly string[]).includes(objective)) {
    throw new RangeError(
      `objective must be one of ${SWEEP_OBJECTIVES.join(", ")}, got ${JSON.stringify(objective)}`,
    );
  }
  return expandGrid(options.grid, { trialsMax: trialsMaxOf(options) });
}

/**
 * Run a sweep and record it in the ledger. Throws {@linkcode GridError} or
 * `InputError` before the run exists, `RunFailedError` after `run.failed`
 * was recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runSweep } from "./sweep.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runSweep({
 *     root,
 *     calls: data.callsPath,
 *     candles: data.candlesPath,
 *     grid: { type: "fixed_stop", stopPct: [0.2, 0.3], takeProfitPct: [1, 2] },
 *   });
 *   const best = r.summary.best_trial as { trial_id: string; params: { stopPct: number } };
 *   assert(r.runType === "sweep" && [0.2, 0.3].includes(best.params.stopPct));
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function runSweep(options: SweepOptions): Promise<RunResult> {
  const trials = planSweep(options);
  const objective = options.objective ?? SWEEP_OBJECTIVE_DEFAULT;
  const { feeBps, slippageBps, gapFill, config } = replayCostsAsGrid(options);
  const { template, axes } = gridAxes(options.grid);
  // The same root rule as startRun's (the emitter's default root).
  const emitter = options.emitter ?? getEventEmitter({ root: options.root });
  const ctx = await startRun(SWEEP_RUN_TYPE, { ...options, emitter }, {
    grid: template,
    ...config,
    objective,
    // The limit in force, the default too (an audit: null said nothing of it).
    max_trials: trialsMaxOf(options) ?? GRID_TRIALS_MAX_DEFAULT,
    trials: trials.length,
  });
  return await finishRun(ctx, async (session) => {
    const data = await dataPhases(ctx, session, { ...options, emitter });
    // Every policy enters at the anchor: the late calls are the same for every trial.
    const { entries } = data;
    const executed = await ctx.phase("execute", async () => {
      const value = await executeTrials(ctx, emitter, trials, data, {
        feeBps,
        slippageBps,
        gapFill,
        objective,
        onProgress: options.onProgress,
      });
      return {
        value,
        summary: {
          rows_in: data.coverage.covered.length,
          rows_out: value.results.length,
          trials: value.results.length,
          calls_per_trial: data.coverage.covered.length,
          calls_entry_late: entries.late.length,
        },
      };
    });
    await ctx.phase("store", () => storeTrials(ctx, session, executed));
    return await ctx.phase("aggregate", async () => {
      const best = executed.best;
      const summary = {
        calls_total: data.calls.length,
        calls_covered: data.coverage.covered.length,
        calls_no_candles: data.coverage.uncovered.length,
        calls_entry_late: entries.late.length,
        entry_delay_ms_max: entries.entryDelayMsMax,
        interval: data.slice.interval,
        policy_type: trials[0].policy.type,
        trials: executed.results.length,
        axes: Object.fromEntries(axes.map((a) => [a.path, a.values])),
        objective,
        best_trial: best === null ? null : bestTrialSummary(best),
      };
      await ctx.writeManifest("completed", { summary });
      return {
        value: summary,
        summary: { rows_in: executed.results.length, rows_out: best === null ? 0 : 1 },
      };
    });
  });
}

interface Best {
  result: TrialResult;
  trades: CallTrade[];
  /** The calls never entered: no candles, or the replay's `no_entry`. */
  noEntry: CallTrade[];
}

async function executeTrials(
  ctx: RunContext,
  emitter: SweepEventSink,
  trials: readonly GridTrial[],
  data: LoadedData,
  options: {
    feeBps: number;
    slippageBps: number;
    gapFill: GapFill;
    objective: SweepObjective;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<{ results: TrialResult[]; best: Best | null }> {
  const results: TrialResult[] = [];
  let best: Best | null = null;
  for (const trial of trials) {
    const r = replayCalls(trial.policy, data.entries.onTime, {
      seriesByMint: data.seriesByMint,
      feeBps: options.feeBps,
      slippageBps: options.slippageBps,
      gapFill: options.gapFill,
    });
    const outcomes = r.trades.map((t) => t.trade);
    const stopOuts = outcomes.filter((t) => t.stopOut).length;
    const metrics: TrialMetrics = {
      ...tradeMetrics(outcomes),
      calls_skipped: r.skipped + data.entries.late.length,
      stop_out_rate: outcomes.length === 0 ? 0 : stopOuts / outcomes.length,
    };
    const result = { trialId: trial.trialId, params: { ...trial.policy }, metrics };
    await ctx.stopIfInterrupted(); // no trial.recorded after the handler's run.failed
    await emitter.trialRecorded(ctx.runId, {
      trial_id: trial.trialId,
      params: result.params,
      metrics: { ...metrics },
    });
    results.push(result);
    // A trial without a value to rank by is never the best: with none that has one, no best.
    const ranked = objectiveRankValue(metrics, options.objective) !== null;
    if (ranked && (best === null || ranksAbove(metrics, best.result.metrics, options.objective))) {
      const noEntry = [
        ...noEntryRows(data.coverage.uncovered),
        ...r.noEntry,
        ...noEntryRows(data.entries.late),
      ];
      best = { result, trades: r.trades, noEntry };
    }
    options.onProgress?.(results.length, trials.length);
  }
  return { results, best };
}

/** Objectives that are unbounded (stored as null) when no trade lost and one won. */
const OBJECTIVES_UNBOUNDED_WITHOUT_LOSS: readonly SweepObjective[] = [
  "profit_factor",
  "sortino_per_trade",
];

/**
 * The metrics of a trial that ranking reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type RankedMetrics, ranksAbove } from "./sweep.ts";
 * // Only what ranking reads, e.g. two rows read back from trials.parquet.
 * const a: RankedMetrics = {
 *   calls: 10, win_rate: 0.6, mean_return_bps: 300, sharpe_per_trade: 0.4,
 * };
 * const b: RankedMetrics = {
 *   calls: 10, win_rate: 0.7, mean_return_bps: 100, sharpe_per_trade: 0.2,
 * };
 * assert.equal(ranksAbove(a, b, "sharpe_per_trade"), true);
 * assert.equal(ranksAbove(a, b, "win_rate"), false);
 * ```
 */
export type RankedMetrics =
  & Pick<TradeMetrics, "calls" | "win_rate" | "mean_return_bps">
  & Partial<Record<SweepObjective, number | null>>;

/**
 * The value a trial ranks by for `objective` (docs/METRICS.md, "Sweeps: the
 * objective"): the metric itself when finite; `Infinity` when the metric is
 * `profit_factor` or `sortino_per_trade` and it is null because no trade lost
 * while at least one won (gross profit over no loss, a positive mean over no
 * downside: unbounded, better than any finite value), or `sharpe_per_trade`
 * null over two trades or more that all won (no spread: every trade won the
 * same); otherwise null, which ranks last (all returns 0). A trial without
 * trades has no value whatever the objective (its `win_rate` 0 and
 * `max_drawdown_bps` 0 measure nothing). The stored metric stays null: the
 * `Infinity` lives only here, never in JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { objectiveRankValue } from "./sweep.ts";
 * // Two trades, both won: no loss, so the profit factor is unbounded.
 * const allWon = { calls: 2, win_rate: 1, mean_return_bps: 5000, profit_factor: null };
 * assert.equal(objectiveRankValue(allWon, "profit_factor"), Infinity);
 * // No trades at all: nothing to rank by.
 * const none = { calls: 0, win_rate: 0, mean_return_bps: null, profit_factor: null };
 * assert.equal(objectiveRankValue(none, "profit_factor"), null);
 * ```
 */
export function objectiveRankValue(
  metrics: RankedMetrics,
  objective: SweepObjective,
): number | null {
  // No trades, nothing measured: a win rate of 0 or a drawdown of 0 is no result, and ranked a
  // trial that never traded above one that lost (a probe: a sweep of no trades had a best
  // trial by win_rate and max_drawdown_bps, none by the other objectives).
  if (metrics.calls === 0) return null;
  const v = metrics[objective];
  if (typeof v === "number" && Number.isFinite(v)) return v;
  // With trades, these two are null only when no trade lost (no gross loss, no downside);
  // a win then makes them unbounded. All returns 0 (no win) is 0 / 0: null, ranks last.
  const unbounded = v === null && OBJECTIVES_UNBOUNDED_WITHOUT_LOSS.includes(objective) &&
    metrics.calls > 0 && metrics.win_rate > 0;
  // With two trades or more, the Sharpe is null only when the returns have no spread: a
  // positive mean over no spread is unbounded too (every trade won the same); a mean of 0 or
  // below ranks last.
  const noSpreadGain = v === null && objective === "sharpe_per_trade" && metrics.calls >= 2 &&
    metrics.win_rate === 1 && (metrics.mean_return_bps ?? 0) > 0;
  return unbounded || noSpreadGain ? Infinity : null;
}

/**
 * Whether a trial with metrics `a` ranks above the earlier trial (grid order)
 * with metrics `b` by `objective`: the higher {@linkcode objectiveRankValue}
 * wins and null ranks last; between two unbounded values (both trials without
 * a losing trade) the higher `mean_return_bps` wins; any other tie keeps the
 * earlier trial, so this is false. Values within a relative 1e-12 of each
 * other are a tie (floating-point sums of the same returns).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ranksAbove } from "./sweep.ts";
 * const pf5 = { calls: 2, win_rate: 0.5, mean_return_bps: 2000, profit_factor: 5 };
 * const allWon = { calls: 2, win_rate: 1, mean_return_bps: 5000, profit_factor: null };
 * assert.equal(ranksAbove(allWon, pf5, "profit_factor"), true);
 * assert.equal(ranksAbove(pf5, allWon, "profit_factor"), false);
 * // Means equal but for the order the returns were summed in: a tie, the earlier trial keeps it.
 * const m1 = { calls: 5, win_rate: 0.2, mean_return_bps: 778.42157842159997 };
 * const m0 = { calls: 5, win_rate: 0.4, mean_return_bps: 778.42157842159975 };
 * assert.equal(ranksAbove(m1, m0, "mean_return_bps"), false);
 * ```
 */
export function ranksAbove(a: RankedMetrics, b: RankedMetrics, objective: SweepObjective): boolean {
  const ra = objectiveRankValue(a, objective);
  const rb = objectiveRankValue(b, objective);
  if (ra === null) return false;
  if (rb === null) return true;
  if (ra === Infinity && rb === Infinity) {
    return clearlyAbove(a.mean_return_bps ?? -Infinity, b.mean_return_bps ?? -Infinity);
  }
  return clearlyAbove(ra, rb);
}

/**
 * Relative difference under which two objective values are a tie: a mean of
 * the same returns summed in another order differs in its last bits
 * (778.42157842159975 against ...997 for two trials whose returns sum
 * exactly alike), and the earlier trial must keep a tie.
 */
const TIE_RELATIVE = 1e-12;

/** `x > y`, and not by a rounding error's worth ({@linkcode TIE_RELATIVE}). */
function clearlyAbove(x: number, y: number): boolean {
  if (!(x > y)) return false;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return true;
  return x - y > TIE_RELATIVE * Math.max(Math.abs(x), Math.abs(y));
}

function bestTrialSummary(best: Best): Record<string, unknown> {
  return {
    trial_id: best.result.trialId,
    params: best.result.params,
    metrics: best.result.metrics,
    // As a policy run's: its no_entry calls counted apart, callers with only those included.
    by_caller: byCallerSummary(summarizeCallers(best.trades, best.noEntry), best.trades),
  };
}

/**
 * The columns of `trials.parquet` for these trials: id, flat params, metrics.
 * A ladder's `levels` are flattened by index (`params.levels.0.multiple`),
 * where `ledger export trials` writes an array as JSON text (`params.levels`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { trialColumns, type TrialResult } from "./sweep.ts";
 * const trial = (id: string, maxHoldMs: number) => ({
 *   trialId: id,
 *   params: { type: "time_stop", takeProfitPct: 2, maxHoldMs },
 *   metrics: { calls: 4, win_rate: 1 },
 * }) as unknown as TrialResult;
 * const columns = trialColumns([trial("t000", 3_600_000), trial("t001", 7_200_000)]);
 * assert.deepEqual(columns.slice(0, 6).map((c) => `${c.name} ${c.type}`), [
 *   "trial_id VARCHAR",
 *   "params.type VARCHAR",
 *   "params.takeProfitPct DOUBLE", // a policy's fraction, whole here or not
 *   "params.maxHoldMs BIGINT", // every value a whole number
 *   "metrics.calls BIGINT", // a count
 *   "metrics.win_rate DOUBLE", // a measure, 1 here or not
 * ]);
 * ```
 */
export function trialColumns(results: readonly TrialResult[]): ColumnSpec[] {
  // A path's type is the one `ledger export trials` gives the same trials (two audits:
  // `params.maxHoldMs` and then `metrics.median_return_bps` were DOUBLE here and BIGINT
  // there): a measure is DOUBLE whatever its values (`number_fields.ts`: every metric but a
  // count of calls, a policy's fraction), any other number BIGINT while every value is a
  // whole number, DOUBLE once one is not; a metric with no value at all stays a number column.
  const params = new Map<string, ColumnSpec["type"]>();
  for (const r of results) {
    for (const [path, v] of Object.entries(flattenObject(r.params))) widenType(params, path, v);
  }
  const metricNames = [...TRADE_METRIC_NAMES, "calls_skipped", "stop_out_rate"];
  const metrics = new Map<string, ColumnSpec["type"]>();
  for (const r of results) {
    const values = r.metrics as unknown as Record<string, unknown>;
    for (const m of metricNames) widenType(metrics, m, values[m]);
  }
  const typed = (root: string, path: string, type: ColumnSpec["type"] | undefined) =>
    type === "BIGINT" || type === undefined
      ? fixedNumberType(root, path.split(".").at(-1)!) ?? type ?? "BIGINT"
      : type;
  return [
    { name: "trial_id", type: "VARCHAR" },
    ...[...params].map(([path, type]) => ({
      name: `params.${path}`,
      type: typed("params", path, type),
    })),
    ...metricNames.map((m): ColumnSpec => ({
      name: `metrics.${m}`,
      type: typed("metrics", m, metrics.get(m)),
    })),
  ];
}

/**
 * Records value `v` of `path` in `types`: the first value's type, a BIGINT
 * widened to DOUBLE by a number that is not a whole one; null, undefined
 * and non-finite numbers (written as null) do not count.
 */
function widenType(types: Map<string, ColumnSpec["type"]>, path: string, v: unknown): void {
  if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return;
  const type = types.get(path);
  if (type === "BIGINT" && !Number.isSafeInteger(v)) types.set(path, "DOUBLE");
  if (type !== undefined) return;
  types.set(
    path,
    typeof v === "number"
      ? Number.isSafeInteger(v) ? "BIGINT" : "DOUBLE"
      : typeof v === "boolean"
      ? "BOOLEAN"
      : "VARCHAR",
  );
}

function trialRow(columns: readonly ColumnSpec[], r: TrialResult): Row {
  const flat = flattenObject(r.params);
  const metrics = r.metrics as unknown as Record<string, number | null>;
  return columns.map((c) => {
    if (c.name === "trial_id") return r.trialId;
    if (c.name.startsWith("params.")) {
      const v = flat[c.name.slice("params.".length)];
      return v === undefined ? null : v as string | number | boolean | null;
    }
    return metrics[c.name.slice("metrics.".length)] ?? null;
  });
}

/**
 * Write `trials.parquet` and, when there is a best trial, its per-call
 * results (`best_trial_results.parquet`: the rows a policy run of its
 * params writes, its trades then the calls it never entered), from which the
 * report and `ledger show` draw the sweep's equity curve and histograms (an
 * audit: a sweep's page had none, though its best trial is the policy a quant
 * would go on to trade).
 */
async function storeTrials(
  ctx: RunContext,
  session: DataSession,
  executed: { results: readonly TrialResult[]; best: Best | null },
): Promise<{ value: undefined; summary: Record<string, unknown> }> {
  const { results, best } = executed;
  const dir = await ctx.dir();
  const columns = trialColumns(results);
  const out = await dir.writeParquet(session.conn, TRIALS_FILE, {
    columns,
    rows: results.map((r) => trialRow(columns, r)),
  });
  await ctx.artifact("trials", out.path, out.sizeBytes);
  const summary: Record<string, unknown> = {
    rows_in: results.length,
    rows_out: out.rows,
    bytes: out.sizeBytes,
  };
  if (best !== null) {
    const calls = await dir.writeParquet(session.conn, BEST_TRIAL_RESULTS_FILE, {
      columns: POLICY_RESULTS_COLUMNS,
      rows: [...best.trades, ...best.noEntry].map(policyResultRow),
    });
    await ctx.artifact("best_trial_results", calls.path, calls.sizeBytes);
    summary.best_trial_rows = calls.rows;
    summary.best_trial_bytes = calls.sizeBytes;
  }
  return { value: undefined, summary };
}

/** {@linkcode replayCostsOf}, its error as a `GridError` naming the field. */
function replayCostsAsGrid(options: SweepOptions): ReplayCosts {
  try {
    return replayCostsOf(options);
  } catch (err) {
    if (!(err instanceof ReplayCostError)) throw err;
    throw new GridError(err.message, { field: err.field });
  }
}
