/**
 * Backtests for the ledger: path-only and policy workflows over calls and
 * candles, fully evented, with Parquet artifacts. Re-exports only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runPathOnly, runPolicy } from "./mod.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const truth = await runPathOnly(files);
 *   const pol = await runPolicy({ ...files, policy: { type: "fixed_stop", stopPct: 0.3 } });
 *   assert.notEqual(truth.runId, pol.runId);
 *   assert.equal(pol.summary.calls_total, 5);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./types.ts";
export * from "./metrics.ts";
export * from "./policies.ts";
export * from "./executor.ts";
export * from "./entry_delay.ts";
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
  type FileIdentity,
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
  type RunEnded,
  type RunEventSink,
  RunFailedError,
  RunIdTakenError,
  type RunResult,
  SAMPLE_CALLS_PATH,
  SAMPLE_CANDLES_PATH,
} from "./workflow.ts";
export * from "./path_only.ts";
export * from "./policy.ts";
export * from "./sample_data.ts";
export * from "./grid.ts";
export * from "./sweep.ts";
export * from "./rerun.ts";
