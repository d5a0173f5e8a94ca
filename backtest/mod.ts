/**
 * Backtests for the ledger: path-only and policy workflows over calls and
 * candles, fully evented, with Parquet artifacts. Re-exports only.
 *
 * @example
 * ```ts ignore
 * import { runPathOnly, runPolicy } from "./mod.ts";
 * const truth = await runPathOnly({ root: "data/ledger" });
 * const pol = await runPolicy({ root: "data/ledger", policy: { type: "fixed_stop", stopPct: 0.3 } });
 * console.log(truth.runId, pol.summary);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./types.ts";
export * from "./metrics.ts";
export * from "./policies.ts";
export * from "./executor.ts";
export * from "./aggregate.ts";
export {
  CALL_COLUMNS,
  CANDLE_COLUMNS,
  fileFormat,
  type Interval,
  INTERVAL_MS,
  intervalName,
  isInterval,
} from "./data.ts";
export {
  type ColumnSpec,
  fingerprintInputs,
  type GitProvenance,
  gitProvenance,
  type GitProvenanceOptions,
  type InputFile,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  newRunId,
  type Row,
} from "./artifacts.ts";
export {
  type BacktestOptions,
  INTERRUPT_EXIT_CODES,
  type InterruptInfo,
  type InterruptSignal,
  type PhaseEvent,
  type PhaseRecord,
  type RunEventSink,
  RunFailedError,
  RunIdTakenError,
  type RunResult,
  SAMPLE_CALLS_PATH,
  SAMPLE_CANDLES_PATH,
} from "./_workflow.ts";
export * from "./path_only.ts";
export * from "./policy.ts";
export * from "./sample_data.ts";
export * from "./grid.ts";
export * from "./sweep.ts";
export * from "./rerun.ts";
