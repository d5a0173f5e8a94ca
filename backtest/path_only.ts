/**
 * The path-only workflow (the truth layer): per call, the path metrics of
 * `metrics.ts` on the candles after the alert. Phases `plan, coverage,
 * slice, load, compute, store`; artifact `path_metrics.parquet`
 * (`path_metrics`) and `manifest.json` (`manifest`).
 *
 * A covered call (its mint has a candle at or after the alert in the file)
 * can still have no anchor: no candle at or after the alert at the run's
 * interval (a resampled bar opens before it). It gets no row; the summary
 * counts it as `calls_skipped` (`calls_covered = calls_computed +
 * calls_skipped`), and the rates and medians leave it out. (An anchor close
 * of 0 cannot come from a file: the slice refuses a price not above 0.) So
 * is a call whose anchor opens more than `maxEntryDelayMs` after its alert
 * (`entry_delay.ts`): no row, counted in `calls_skipped` and, apart, in
 * `calls_entry_late`. `entry_delay_ms_max` is the largest `anchor_ts_ms -
 * t0_ms` of the rows (null without rows), with or without a bound.
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
import type { ColumnSpec, Row } from "./artifacts.ts";
import { InputError } from "./errors.ts";
import { type PathMetrics, pathMetrics, summarizePaths } from "./metrics.ts";
import type { Call } from "./types.ts";
import { PATH_METRICS_FILE } from "./run_files.ts";

export { PATH_METRICS_FILE };

/**
 * Run type recorded in `run.created`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PATH_ONLY_RUN_TYPE, runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   assert.equal(r.runType, PATH_ONLY_RUN_TYPE);
 *   assert(r.runId.startsWith(`${PATH_ONLY_RUN_TYPE}-`)); // a generated run id starts with it
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const PATH_ONLY_RUN_TYPE = "path_only";
/**
 * Phases of a path-only run, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PATH_ONLY_PHASES, runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   assert.deepEqual(r.phases.map((p) => p.name), [...PATH_ONLY_PHASES]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const PATH_ONLY_PHASES = ["plan", "coverage", "slice", "load", "compute", "store"] as const;

/**
 * Columns of `path_metrics.parquet`, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PATH_METRICS_COLUMNS, runPathOnly } from "./path_only.ts";
 * import { openDataSession } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * const s = await openDataSession(); // to read the Parquet file's schema
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   const sql = `DESCRIBE SELECT * FROM '${r.artifactPaths.path_metrics}'`;
 *   const schema = (await s.conn.runAndReadAll(sql)).getRowObjectsJS();
 *   const want = PATH_METRICS_COLUMNS.map((c) => [c.name, c.type]);
 *   assert.deepEqual(schema.map((c) => [c.column_name, c.column_type]), want);
 * } finally {
 *   s.close();
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const PATH_METRICS_COLUMNS: readonly ColumnSpec[] = [
  { name: "call_id", type: "VARCHAR" },
  { name: "caller", type: "VARCHAR" },
  { name: "mint", type: "VARCHAR" },
  { name: "t0_ms", type: "BIGINT" },
  { name: "p0", type: "DOUBLE" },
  { name: "hit_2x", type: "BOOLEAN" },
  { name: "t_2x_ms", type: "BIGINT" },
  { name: "hit_3x", type: "BOOLEAN" },
  { name: "t_3x_ms", type: "BIGINT" },
  { name: "hit_4x", type: "BOOLEAN" },
  { name: "t_4x_ms", type: "BIGINT" },
  { name: "dd_bps", type: "DOUBLE" },
  { name: "dd_to_2x_bps", type: "DOUBLE" },
  { name: "alert_to_activity_ms", type: "BIGINT" },
  { name: "peak_multiple", type: "DOUBLE" },
  // Last, so that every earlier column keeps its position (added after the others).
  { name: "anchor_ts_ms", type: "BIGINT" },
];

/**
 * Options for {@linkcode runPathOnly}: the common backtest options.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type PathOnlyOptions, runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const done: string[] = [];
 *   const options: PathOnlyOptions = {
 *     root,
 *     calls: data.callsPath,
 *     candles: data.candlesPath,
 *     runId: "path_only-mine", // instead of a generated id
 *     onPhase: (e) => {
 *       if (e.state === "completed") done.push(e.name);
 *     },
 *   };
 *   const r = await runPathOnly(options);
 *   assert.equal(r.runId, "path_only-mine");
 *   assert.equal(done.at(-1), "store"); // the hook saw each phase complete
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export type PathOnlyOptions = BacktestOptions;

function metricsRow(call: Call, m: PathMetrics): Row {
  return [
    call.callId,
    call.caller,
    call.mint,
    m.t0Ms,
    m.p0,
    m.hit2x,
    m.t2xMs,
    m.hit3x,
    m.t3xMs,
    m.hit4x,
    m.t4xMs,
    m.ddBps,
    m.ddTo2xBps,
    m.alertToActivityMs,
    m.peakMultiple,
    m.anchorTsMs,
  ];
}

/**
 * Run a path-only backtest and record it in the ledger. Throws
 * `InputError` before the run exists (missing input file, bad run id) and
 * `RunFailedError` after `run.failed` was recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const r = await runPathOnly(files);
 *   assert.equal(r.runType, "path_only");
 *   assert.equal(typeof r.summary.hit_2x_rate, "number");
 *   await Deno.stat(r.artifactPaths.path_metrics); // the artifact exists
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function runPathOnly(options: PathOnlyOptions = {}): Promise<RunResult> {
  const ctx = await startRun(PATH_ONLY_RUN_TYPE, options, {});
  return await finishRun(ctx, async (session) => {
    const data = await dataPhases(ctx, session, options);
    const { entries } = data;
    const rows = await ctx.phase("compute", () => {
      const out: { call: Call; metrics: PathMetrics }[] = [];
      const total = data.coverage.covered.length;
      const onTime = entries.onTime.length;
      entries.onTime.forEach((call, k) => {
        const series = data.seriesByMint.get(call.mint);
        const metrics = series === undefined ? null : pathMetrics(series, call.alertTsMs);
        if (metrics !== null && !Number.isFinite(metrics.peakMultiple)) {
          // Prices many orders of magnitude apart overflow a double (see replayCalls).
          throw new InputError(
            `Call ${call.callId} (mint ${call.mint}): its peak multiple does not fit a number ` +
              `(p0 ${metrics.p0}): check the candles' prices`,
          );
        }
        if (metrics !== null) out.push({ call, metrics });
        if (options.onProgress && ((k + 1) % 100 === 0 || k + 1 === onTime)) {
          options.onProgress(k + 1, onTime);
        }
      });
      return Promise.resolve({
        value: out,
        summary: {
          rows_in: total,
          rows_out: out.length,
          calls_skipped: total - out.length,
          calls_entry_late: entries.late.length,
        },
      });
    });
    const paths = summarizePaths(rows.map((r) => ({ caller: r.call.caller, metrics: r.metrics })));
    const summary = {
      calls_total: data.calls.length,
      calls_covered: data.coverage.covered.length,
      calls_no_candles: data.coverage.uncovered.length,
      calls_computed: rows.length,
      // Covered but without an anchor, or late (see the module doc): no row, so counted here.
      calls_skipped: data.coverage.covered.length - rows.length,
      calls_entry_late: entries.late.length,
      entry_delay_ms_max: entries.entryDelayMsMax,
      interval: data.slice.interval,
      ...paths.overall,
      by_caller: paths.byCaller,
    };
    await ctx.phase("store", async () => {
      const dir = await ctx.dir();
      const out = await dir.writeParquet(session.conn, PATH_METRICS_FILE, {
        columns: PATH_METRICS_COLUMNS,
        rows: rows.map((r) => metricsRow(r.call, r.metrics)),
      });
      await ctx.artifact("path_metrics", out.path, out.sizeBytes);
      const manifestBytes = await ctx.writeManifest("completed", { summary });
      // Both files it wrote, in files and in bytes (a probe: bytes were the Parquet file's alone).
      const bytes = out.sizeBytes + manifestBytes;
      return {
        value: undefined,
        summary: { rows_in: rows.length, rows_out: out.rows, files: 2, bytes },
      };
    });
    return summary;
  });
}
