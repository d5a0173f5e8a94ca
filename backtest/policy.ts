/**
 * The policy workflow: replays each covered call through an exit policy
 * (`policies.ts`, `executor.ts`). Phases `plan, coverage, slice, load,
 * execute, store, aggregate`; artifacts `policy_results.parquet`
 * (`policy_results`), `caller_summary.parquet` (`caller_summary`) and
 * `manifest.json` (`manifest`).
 *
 * @module
 */
import {
  type BacktestOptions,
  dataPhases,
  finishRun,
  type RunResult,
  startRun,
} from "./workflow.ts";
import {
  byCallerSummary,
  type CallerSummary,
  summarizeCallers,
  summarizeTrades,
} from "./aggregate.ts";
import type { ColumnSpec, Row } from "./artifacts.ts";
import {
  type CallTrade,
  type GapFill,
  noEntryRows,
  replayCalls,
  replayCostsOf,
} from "./executor.ts";
import { tradeMetrics } from "./metrics.ts";
import { parsePolicy, type Policy } from "./policies.ts";
import { CALLER_SUMMARY_FILE, POLICY_RESULTS_FILE } from "./run_files.ts";

export { CALLER_SUMMARY_FILE, POLICY_RESULTS_FILE };

/**
 * Run type recorded in `run.created`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { POLICY_RUN_TYPE, runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const r = await runPolicy({ ...files, policy: { type: "fixed_stop", stopPct: 0.3 } });
 *   assert.equal(r.runType, POLICY_RUN_TYPE);
 *   assert(r.runId.startsWith(`${POLICY_RUN_TYPE}-`)); // a generated run id starts with it
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const POLICY_RUN_TYPE = "policy";
/**
 * Phases of a policy run, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { POLICY_PHASES, runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const r = await runPolicy({ ...files, policy: { type: "fixed_stop", stopPct: 0.3 } });
 *   assert.deepEqual(r.phases.map((p) => p.name), [...POLICY_PHASES]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const POLICY_PHASES = [
  "plan",
  "coverage",
  "slice",
  "load",
  "execute",
  "store",
  "aggregate",
] as const;

/**
 * Columns of `policy_results.parquet`, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { POLICY_RESULTS_COLUMNS } from "./policy.ts";
 * import { noEntryTrade } from "./executor.ts";
 * // The call's id, caller and mint, then every field of a Trade under its snake_case name.
 * const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
 * const tradeColumns = Object.keys(noEntryTrade(0)).map(snake);
 * const names = POLICY_RESULTS_COLUMNS.map((c) => c.name);
 * assert.deepEqual(names, ["call_id", "caller", "mint", ...tradeColumns]);
 * assert.equal(POLICY_RESULTS_COLUMNS[names.indexOf("stop_out")].type, "BOOLEAN");
 * ```
 */
export const POLICY_RESULTS_COLUMNS: readonly ColumnSpec[] = [
  { name: "call_id", type: "VARCHAR" },
  { name: "caller", type: "VARCHAR" },
  { name: "mint", type: "VARCHAR" },
  { name: "entry_ts_ms", type: "BIGINT" },
  { name: "exit_ts_ms", type: "BIGINT" },
  { name: "entry_px", type: "DOUBLE" },
  { name: "exit_px", type: "DOUBLE" },
  { name: "realized_return_bps", type: "DOUBLE" },
  { name: "exit_reason", type: "VARCHAR" },
  { name: "stop_out", type: "BOOLEAN" },
  { name: "max_adverse_excursion_bps", type: "DOUBLE" },
  { name: "time_exposed_ms", type: "BIGINT" },
  { name: "tail_capture", type: "DOUBLE" },
];

/**
 * Columns of `caller_summary.parquet`, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CALLER_SUMMARY_COLUMNS } from "./policy.ts";
 * import { summarizeCallers } from "./aggregate.ts";
 * import { noEntryTrade } from "./executor.ts";
 * const call = { callId: "c1", caller: "amy", mint: "M", chain: "solana", alertTsMs: 0 };
 * const [row] = summarizeCallers([], [{ call, trade: noEntryTrade(0) }]);
 * // A column per field of a caller's summary row, in the same order.
 * assert.deepEqual(CALLER_SUMMARY_COLUMNS.map((c) => c.name), Object.keys(row));
 * ```
 */
export const CALLER_SUMMARY_COLUMNS: readonly ColumnSpec[] = [
  { name: "caller", type: "VARCHAR" },
  { name: "count", type: "BIGINT" },
  { name: "win_rate", type: "DOUBLE" },
  { name: "mean_return_bps", type: "DOUBLE" },
  { name: "median_return_bps", type: "DOUBLE" },
  { name: "mean_tail_capture", type: "DOUBLE" },
  { name: "calls_no_entry", type: "BIGINT" },
];

/**
 * Options for {@linkcode runPolicy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type PolicyOptions, runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   // The policy may also be JSON text, as `--policy` gives it.
 *   const free: PolicyOptions = { ...files, policy: '{"type":"fixed_stop","stopPct":0.3}' };
 *   const costly: PolicyOptions = { ...free, feeBps: 30, slippageBps: 20 }; // per side
 *   const withoutCosts = (await runPolicy(free)).summary;
 *   const withCosts = (await runPolicy(costly)).summary;
 *   assert(Number(withCosts.mean_return_bps) < Number(withoutCosts.mean_return_bps));
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface PolicyOptions extends BacktestOptions {
  /** The exit policy: an object or JSON text, validated in the plan phase. */
  policy: unknown;
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
}

/**
 * One row of `policy_results.parquet` ({@linkcode POLICY_RESULTS_COLUMNS}):
 * a call and its trade; a sweep writes its best trial's rows with it too.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { POLICY_RESULTS_COLUMNS, policyResultRow } from "./policy.ts";
 * import { noEntryTrade } from "./executor.ts";
 * const call = { callId: "c1", caller: "amy", mint: "M", chain: "solana", alertTsMs: 0 };
 * const row = policyResultRow({ call, trade: noEntryTrade(0) });
 * assert.equal(row.length, POLICY_RESULTS_COLUMNS.length);
 * assert.deepEqual(row.slice(0, 3), ["c1", "amy", "M"]);
 * ```
 */
export function policyResultRow({ call, trade }: CallTrade): Row {
  return [
    call.callId,
    call.caller,
    call.mint,
    trade.entryTsMs,
    trade.exitTsMs,
    trade.entryPx,
    trade.exitPx,
    trade.realizedReturnBps,
    trade.exitReason,
    trade.stopOut,
    trade.maxAdverseExcursionBps,
    trade.timeExposedMs,
    trade.tailCapture,
  ];
}

function summaryRow(s: CallerSummary): Row {
  return [
    s.caller,
    s.count,
    s.win_rate,
    s.mean_return_bps,
    s.median_return_bps,
    s.mean_tail_capture,
    s.calls_no_entry,
  ];
}

/**
 * Run a policy backtest and record it in the ledger. Throws before the run
 * exists (nothing written): `PolicyError` for an invalid policy,
 * `RangeError` for bad costs, `InputError` for a missing input file or a
 * bad or taken run id; and `RunFailedError` after `run.failed` was recorded.
 * Calls without a candle at or after their alert are `no_entry` rows of
 * `policy_results.parquet` (0 bps), counted apart (`calls_no_entry`) and
 * left out of the returns, win rate and stop-out rate; so are calls whose
 * entry candle opens more than `maxEntryDelayMs` after the alert, counted
 * in `calls_no_entry` and, apart, in `calls_entry_late` (`entry_delay.ts`).
 * `entry_delay_ms_max` is the largest `entry_ts_ms` minus alert of the
 * trades (null without trades), with or without a bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const policy = { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 };
 *   const r = await runPolicy({ ...files, policy });
 *   assert.equal(r.runType, "policy");
 *   assert.equal(r.summary.calls_total, 5);
 *   await Deno.stat(r.artifactPaths.caller_summary); // the per-caller table exists
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function runPolicy(options: PolicyOptions): Promise<RunResult> {
  // Checked before the run exists: a bad policy writes nothing.
  const policy: Policy = parsePolicy(options.policy);
  const { feeBps, slippageBps, gapFill, config } = replayCostsOf(options);
  const ctx = await startRun(POLICY_RUN_TYPE, options, {
    policy: policyForConfig(options.policy),
    ...config,
  });
  return await finishRun(ctx, async (session) => {
    const data = await dataPhases(ctx, session, options);
    let noEntry: CallTrade[] = [];
    const { entries } = data;
    const replayed = await ctx.phase("execute", () => {
      const r = replayCalls(policy, entries.onTime, {
        seriesByMint: data.seriesByMint,
        feeBps,
        slippageBps,
        gapFill,
        onProgress: options.onProgress,
        progressEvery: 100,
      });
      noEntry = [
        ...noEntryRows(data.coverage.uncovered),
        ...r.noEntry,
        // Late calls are never entered either: no_entry rows, which readers leave out of trades.
        ...noEntryRows(entries.late),
      ];
      return Promise.resolve({
        value: r.trades,
        summary: {
          rows_in: data.calls.length,
          rows_out: r.trades.length + noEntry.length,
          calls_skipped: r.skipped + entries.late.length,
          calls_no_entry: noEntry.length,
          calls_entry_late: entries.late.length,
        },
      });
    });
    await ctx.phase("store", async () => {
      const dir = await ctx.dir();
      const out = await dir.writeParquet(session.conn, POLICY_RESULTS_FILE, {
        columns: POLICY_RESULTS_COLUMNS,
        rows: [...replayed, ...noEntry].map(policyResultRow),
      });
      await ctx.artifact("policy_results", out.path, out.sizeBytes);
      return {
        value: undefined,
        summary: { rows_in: replayed.length, rows_out: out.rows, bytes: out.sizeBytes },
      };
    });
    return await ctx.phase("aggregate", async () => {
      const { overall } = summarizeTrades(replayed);
      // One list of callers for the Parquet file and the summary: the same rows, the same counts.
      const callers = summarizeCallers(replayed, noEntry);
      const dir = await ctx.dir();
      const out = await dir.writeParquet(session.conn, CALLER_SUMMARY_FILE, {
        columns: CALLER_SUMMARY_COLUMNS,
        rows: callers.map(summaryRow),
      });
      await ctx.artifact("caller_summary", out.path, out.sizeBytes);
      const { caller: _all, ...totals } = overall;
      const summary = {
        calls_total: data.calls.length,
        calls_covered: data.coverage.covered.length,
        calls_no_candles: data.coverage.uncovered.length,
        calls_no_entry: noEntry.length,
        calls_entry_late: entries.late.length,
        entry_delay_ms_max: entries.entryDelayMsMax,
        interval: data.slice.interval,
        policy_type: policy.type,
        ...totals,
        ...tradeMetrics(replayed.map((t) => t.trade)),
        stop_out_rate: replayed.length === 0
          ? 0
          : replayed.filter((t) => t.trade.stopOut).length / replayed.length,
        by_caller: byCallerSummary(callers, replayed),
      };
      await ctx.writeManifest("completed", { summary });
      return {
        value: summary,
        summary: { rows_in: replayed.length, rows_out: callers.length, bytes: out.sizeBytes },
      };
    });
  });
}

/** The policy as recorded in the config: the parsed JSON when it parses, else the raw text. */
function policyForConfig(policy: unknown): unknown {
  if (typeof policy !== "string") return policy ?? null;
  try {
    return JSON.parse(policy);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Not JSON: the plan phase reports it; the config keeps the text as given.
    return policy;
  }
}
