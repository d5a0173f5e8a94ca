/**
 * The file names of a run directory's artifacts
 * (`artifacts/runs/<run id>/`), in one place: the backtests write them;
 * reruns, `ledger compare` and the report read them. It imports nothing, so
 * a reader of the index need not load the backtest code to find a file.
 *
 * @module
 */

/**
 * Manifest file name inside a run directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MANIFEST_FILE, RunDirectory } from "./artifacts.ts";
 * import { readManifest } from "./rerun.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const dir = await RunDirectory.create(root, "policy-1");
 *   // A run's manifest is `<run dir>/manifest.json`: where a rerun looks for it.
 *   const manifest = { run_id: "policy-1", run_type: "policy", config: {} };
 *   await Deno.writeTextFile(dir.file(MANIFEST_FILE), JSON.stringify(manifest));
 *   assert.equal((await readManifest(root, "policy-1")).run_type, "policy");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const MANIFEST_FILE = "manifest.json";

/**
 * File name of the per-call trades.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { POLICY_RESULTS_FILE, runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const r = await runPolicy({ ...files, policy: { type: "fixed_stop", stopPct: 0.3 } });
 *   // The artifact `policy_results` is this file in the run directory.
 *   assert.equal(r.artifactPaths.policy_results, `${r.runDir}/${POLICY_RESULTS_FILE}`);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const POLICY_RESULTS_FILE = "policy_results.parquet";

/**
 * File name of the per-caller aggregate.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CALLER_SUMMARY_FILE, runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const r = await runPolicy({ ...files, policy: { type: "fixed_stop", stopPct: 0.3 } });
 *   // The artifact `caller_summary` is this file in the run directory.
 *   assert.equal(r.artifactPaths.caller_summary, `${r.runDir}/${CALLER_SUMMARY_FILE}`);
 *   assert((await Deno.stat(`${r.runDir}/${CALLER_SUMMARY_FILE}`)).size > 0);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const CALLER_SUMMARY_FILE = "caller_summary.parquet";

/**
 * File name of the per-trial table.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { TRIALS_FILE } from "./sweep.ts";
 * import { fileFormat } from "./data.ts";
 * import { runDir } from "../ledger/paths.ts";
 * // One row per trial, in the sweep's run directory (its `trials` artifact).
 * const path = `${runDir("/ledger", "sweep-1")}/${TRIALS_FILE}`;
 * assert.equal(path, "/ledger/artifacts/runs/sweep-1/trials.parquet");
 * assert.equal(fileFormat(path, "Trials"), "parquet");
 * ```
 */
export const TRIALS_FILE = "trials.parquet";

/**
 * File name of a sweep's best trial's per-call results: the columns of
 * `policy_results.parquet`, the rows the best trial's replay gave (its trades,
 * then the calls it never entered), so its equity curve and histograms can be
 * drawn as a policy run's are. A name of its own, so a glob of every run's
 * `policy_results.parquet` still reads policy runs only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BEST_TRIAL_RESULTS_FILE, POLICY_RESULTS_FILE, tradesFileOf } from "./run_files.ts";
 * // The per-call results a run's equity curve is drawn from, by its run type.
 * assert.equal(tradesFileOf("sweep"), BEST_TRIAL_RESULTS_FILE);
 * assert.equal(tradesFileOf("policy"), POLICY_RESULTS_FILE);
 * assert.equal(tradesFileOf(null), POLICY_RESULTS_FILE);
 * ```
 */
export const BEST_TRIAL_RESULTS_FILE = "best_trial_results.parquet";

/**
 * The file of a run directory holding the per-call results its equity curve
 * is drawn from: a sweep's best trial's ({@linkcode BEST_TRIAL_RESULTS_FILE}),
 * any other run's {@linkcode POLICY_RESULTS_FILE} (the run type `sweep` is
 * spelled here: this module imports nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SWEEP_RUN_TYPE } from "./sweep.ts";
 * import { BEST_TRIAL_RESULTS_FILE, tradesFileOf } from "./run_files.ts";
 * assert.equal(tradesFileOf(SWEEP_RUN_TYPE), BEST_TRIAL_RESULTS_FILE);
 * ```
 */
export function tradesFileOf(runType: string | null): string {
  return runType === "sweep" ? BEST_TRIAL_RESULTS_FILE : POLICY_RESULTS_FILE;
}

/**
 * File name of the per-call metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PATH_METRICS_FILE, runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   // The artifact `path_metrics` is this file in the run directory.
 *   assert.equal(r.artifactPaths.path_metrics, `${r.runDir}/${PATH_METRICS_FILE}`);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const PATH_METRICS_FILE = "path_metrics.parquet";
