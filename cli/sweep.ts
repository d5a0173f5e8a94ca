/**
 * `ledger sweep policy --grid JSON|@file`: run every combination of a policy
 * grid over one data set in one process (SPEC 13), record it in the ledger,
 * and refresh the index in the background.
 *
 * @module
 */
import { countOf } from "../ledger/count_text.ts";
import { wrapText } from "./_wrap.ts";
import {
  EXIT_OK,
  parseFlags,
  positiveIntegerFlag,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import {
  backtestOptions,
  costFlags,
  entryDelayText,
  gapFillFlag,
  jsonFlagName,
  phaseDisplay,
  prepareIndexRefresh,
  readJsonFlag,
  refuseMissingInputs,
  resultJson,
  runRecorded,
  unrecordedExit,
} from "./backtest.ts";
import { getEventEmitter } from "../ledger/emitter.ts";
import type { RunResult } from "../backtest/workflow.ts";
import { GRID_TRIALS_MAX_DEFAULT, GridError } from "../backtest/grid.ts";
import {
  objectiveRankValue,
  planSweep,
  type RankedMetrics,
  runSweep,
  SWEEP_OBJECTIVE_DEFAULT,
  SWEEP_OBJECTIVES,
  type SweepObjective,
} from "../backtest/sweep.ts";

export const FLAGS = {
  calls: { type: "string" },
  candles: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  interval: { type: "string" },
  "max-entry-delay": { type: "string" },
  grid: { type: "string" },
  "fee-bps": { type: "string" },
  "slippage-bps": { type: "string" },
  "gap-fill": { type: "string" },
  objective: { type: "string" },
  "max-trials": { type: "string" },
  "run-id": { type: "string" },
  "no-index": { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** Usage text of `ledger sweep`. */
export const USAGE = `Usage: ledger sweep policy --grid JSON|@FILE [flags]

Runs every combination of a policy grid over one data set in one process: one
run of run_type sweep (data loaded once), one trial.recorded per combination,
trials.parquet (one row per trial: trial_id, params.<path>, metrics.<name>),
the best trial's per-call results (best_trial_results.parquet, the columns of
a policy run's policy_results.parquet) and the best trial in run.completed's
summary. Metrics: docs/METRICS.md.

A grid is a policy whose numeric fields may be lists; every combination is a
trial, e.g. '{"type":"fixed_stop","stopPct":[0.2,0.3],"takeProfitPct":[1,2,3]}'
(6 trials). Ladder levels and combo sub-policies take lists too. A list is
never empty and holds each value once (0.3 and 0.1+0.2, equal but for
rounding, count as one); two combinations that make the same policy (a
ladder's levels in another order) are refused too (exit 2).

Flags:
  --grid JSON|@FILE    the grid (required)
  --objective M        metric that picks the best trial, highest wins;
                       a profit factor or Sortino without a losing trade
                       is unbounded and ranks first, by mean return
                       (default ${SWEEP_OBJECTIVE_DEFAULT}); one of:
                       ${wrapText(SWEEP_OBJECTIVES.join(", "), 23)}
  --max-trials N       refuse a grid of more than N combinations
                       (default ${GRID_TRIALS_MAX_DEFAULT})
  --calls FILE         calls (CSV, JSONL, Parquet);
                       default data/sample/calls.csv
  --candles FILE       candles (CSV, JSONL, Parquet);
                       default data/sample/candles_1m.parquet
  --from ISO           keep calls alerted at or after this time
                       (ISO-8601 or epoch ms)
  --to ISO             keep calls alerted before this time
  --interval I         1m, 5m, 15m or 1h
  --max-entry-delay D  leave out a call whose entry candle opens more than D
                       after its alert (D itself is kept): ms, or with a unit
                       s, m, h or d (90s, 1.5h, 30d); counted in every trial's
                       calls_skipped and as calls_entry_late; default no bound
  --fee-bps N          fee per side in bps (default 0)
  --slippage-bps N     slippage per side in bps (default 0; with --fee-bps below
                       10000)
  --gap-fill F         where a stop the candle opens beyond fills: level (at
                       the stop: the default, as quantBot) or open (at that
                       open, what a stop order would get)
  --run-id ID          run id (default sweep-<yyyymmddThhmmss>-<6 hex>)
  --no-index           do not refresh the index in the background afterwards
  --json               print the result as JSON on stdout
  --root DIR           ledger root (default $LEDGER_ROOT, else data/ledger)
  -h, --help           show this help

Exit codes: 0 completed, 1 failed (run.failed is recorded once the run exists),
2 usage error, which writes nothing (a grid over --max-trials or with an
invalid combination, a --calls, --candles or --grid @file that does not
exist), 130 or 143 stopped by SIGINT or SIGTERM (recorded as run.failed; a
signal that comes as the run records its own end waits for it, and the run
stays as recorded).`;

/**
 * Run `ledger sweep` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./sweep.ts";
 * // The command line is `await main(args)`, e.g. main(["policy", "--grid", '{"type":"fixed_stop","stopPct":[0.2,0.3]}']); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(printed.split("\n")[0], "Usage: ledger sweep policy --grid JSON|@FILE [flags]");
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (positionals[0] !== "policy") {
    throw new UsageError(
      positionals[0] === undefined
        ? "name what to sweep: policy"
        : `unknown sweep ${JSON.stringify(positionals[0])}; use policy`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  }
  const root = resolveRootFlag(values);
  const options = backtestOptions(values, root);
  await refuseMissingInputs(options);
  const gridFlag = stringFlag(values, "grid");
  if (gridFlag === undefined) throw new UsageError("a sweep needs --grid JSON or --grid @file");
  const grid = await readJsonFlag(gridFlag, "grid");
  const objective = (stringFlag(values, "objective") ?? SWEEP_OBJECTIVE_DEFAULT) as SweepObjective;
  if (!(SWEEP_OBJECTIVES as readonly string[]).includes(objective)) {
    throw new UsageError(
      `--objective must be one of ${SWEEP_OBJECTIVES.join(", ")}, got ${JSON.stringify(objective)}`,
    );
  }
  // One message for 0 and 1.5 alike (an audit: "at least 1" against "an integer >= 0").
  const trialsMax = positiveIntegerFlag(values, "max-trials");
  const sweep = {
    ...options,
    grid,
    objective,
    trialsMax,
    ...costFlags(values),
    gapFill: gapFillFlag(values),
  };
  try {
    planSweep(sweep); // before any work: the count and every combination
  } catch (err) {
    if (err instanceof GridError) {
      throw new UsageError(`${jsonFlagName(gridFlag, "grid")}: ${err.message}`);
    }
    throw err;
  }
  const emitter = getEventEmitter({ root });
  const progress = Deno.stderr.isTerminal() ? phaseDisplay("trials") : undefined;
  const refresh = values["no-index"] === true ? undefined : await prepareIndexRefresh(root);
  const ended = await runRecorded(
    "sweep",
    (hooks) => runSweep({ ...sweep, ...hooks }),
    { emitter, progress, json: values.json === true, refresh },
  );
  if (typeof ended === "number") return ended;
  const result = ended;
  progress?.done();
  const unrecorded = unrecordedExit("sweep", result, emitter.stats(), values.json === true);
  if (unrecorded !== undefined) return unrecorded;
  if (values.json) console.log(JSON.stringify(resultJson(result), null, 2));
  else console.log(describeSweep(result));
  refresh?.(result.runId);
  return EXIT_OK;
}

function num(x: unknown, digits = 0): string {
  return typeof x === "number" ? x.toFixed(digits) : "-";
}

function describeSweep(r: RunResult): string {
  const s = r.summary;
  const totalMs = r.phases.reduce((sum, p) => sum + p.durationMs, 0);
  const best = s.best_trial as
    | { trial_id: string; params: unknown; metrics: Record<string, unknown> }
    | null;
  const lines = [
    `run ${r.runId} completed (sweep, ${s.trials} trial${
      s.trials === 1 ? "" : "s"
    }, ${totalMs} ms)`,
    `  calls: ${s.calls_total} (with candles ${s.calls_covered}, without ${s.calls_no_candles}), interval ${s.interval}`,
    `  ${entryDelayText(s)}` +
    (typeof s.calls_entry_late === "number" && s.calls_entry_late > 0
      ? `; ${countOf(s.calls_entry_late, "call")} later than --max-entry-delay left out`
      : ""),
  ];
  if (best === null) {
    lines.push(`  no best trial: every trial's ${s.objective} is null or from no trades`);
  } else {
    const m = best.metrics;
    // A null profit factor of a trial with a win and no loss is unbounded (docs/METRICS.md).
    const pf = objectiveRankValue(m as unknown as RankedMetrics, "profit_factor") === Infinity
      ? "unbounded (no losing trade)"
      : num(m.profit_factor, 2);
    lines.push(
      `  best by ${s.objective}: ${best.trial_id} ${JSON.stringify(best.params)}`,
      `    win rate ${num(Number(m.win_rate) * 100, 1)}%, median ${
        num(m.median_return_bps)
      } bps, mean ${num(m.mean_return_bps)} bps, profit factor ${pf}, ` +
        `max drawdown ${num(m.max_drawdown_bps)} bps`,
    );
  }
  lines.push(`  trials: ${r.artifactPaths.trials}`);
  if (r.artifactPaths.best_trial_results !== undefined) {
    lines.push(`  best trial's calls: ${r.artifactPaths.best_trial_results}`);
  }
  return lines.join("\n");
}
