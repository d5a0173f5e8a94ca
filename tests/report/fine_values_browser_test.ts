/**
 * The report writes values as exactly as they differ (a probe, in headless
 * Chromium): an equity curve of +0.15 bps trades had y ticks `0, 0, 0, 0, 0,
 * 1, 1, 1`; a win rate of 0.9996 (one losing trade of 2,500) read `100.0%`
 * in the overview and `win 100%` in the per-caller chart; and a heatmap cell
 * of two unbounded trials named the first of them its best, not the one
 * with the higher mean return (docs/METRICS.md), the sweep's own best trial;
 * a grid value whose trials all lack the metric (a profit factor of no
 * trade) was left off the heatmap's axis, the grid drawn without it; and an
 * equity curve began at its first trade's return, not at 0.
 * Real `ledger emit`, `rebuild-index` and `report`; the run's Parquet files
 * are written with DuckDB, as a backtest writes them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import {
  chartTexts,
  chartTicks,
  chromiumMissing,
  waitForCharts,
  withChromiumPage,
} from "./_browser.ts";
import { runSectionId } from "./_page.ts";
import { emitAndIndex } from "./_fixture.ts";

/** The events of a completed run: its trials' params and metrics, and its summary. */
function runEvents(
  runId: string,
  runType: string,
  t0: number,
  summary: Record<string, unknown>,
  trials: [Record<string, unknown>, Record<string, unknown>][] = [],
): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [
    { event_type: "run.created", run_type: runType, config: {}, data_fingerprint: "fp" },
    { event_type: "run.started" },
    ...trials.map(([params, metrics], i) => ({
      event_type: "trial.recorded",
      trial_id: `t${i}`,
      params,
      metrics,
    })),
    { event_type: "run.completed", summary, artifact_paths: {} },
  ];
  return events.map((e, i) => ({ ...e, run_id: runId, timestamp_ms: t0 + i }));
}

Deno.test({
  name: "report charts: values written as exactly as they differ",
  ignore: chromiumMissing("fine_values_browser_test"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.now() - 600_000;
      const unbounded = (mean: number) => ({
        calls: 3,
        win_rate: 1,
        mean_return_bps: mean,
        profit_factor: null,
      });
      // No trade: no profit factor (0 / 0), not an unbounded one.
      const none = { calls: 0, win_rate: null, mean_return_bps: null, profit_factor: null };
      await emitAndIndex(root, [
        ...runEvents("fine", "policy", t0, {
          calls: 2500,
          win_rate: 0.9996,
          mean_return_bps: 0.15,
        }),
        ...runEvents("unb", "sweep", t0 + 100, { objective: "profit_factor" }, [
          [{ stopPct: 0.5 }, unbounded(100)],
          [{ stopPct: 0.5 }, unbounded(1000)],
          [{ stopPct: 0.9 }, { calls: 3, win_rate: 0.5, mean_return_bps: 5, profit_factor: 2 }],
          [{ stopPct: 0.7 }, none],
          [{ stopPct: 0.7 }, none],
          [{ stopPct: 0.9 }, none],
        ]),
      ]);
      const runDir = join(root, "artifacts", "runs", "fine");
      await Deno.mkdir(runDir, { recursive: true });
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      try {
        // Five trades of +0.15 bps, a minute apart: a curve from 0.15 to 0.75 bps.
        await conn.run(
          `COPY (SELECT 'c' || i AS call_id, 'amy' AS caller, 'm' AS mint, ${t0} AS entry_ts_ms,
              ${t0} + 60000 * (i + 1) AS exit_ts_ms, 1.0 AS entry_px, 1.0 AS exit_px,
              0.15::DOUBLE AS realized_return_bps, 'time' AS exit_reason,
              -1.0 AS max_adverse_excursion_bps FROM range(5) r(i))
            TO '${join(runDir, "policy_results.parquet")}' (FORMAT parquet)`,
        );
        await conn.run(
          `COPY (SELECT 'amy' AS caller, 2500 AS count, 0.15 AS mean_return_bps,
              0.9996 AS win_rate) TO '${join(runDir, "caller_summary.parquet")}' (FORMAT parquet)`,
        );
      } finally {
        conn.disconnectSync();
        db.closeSync();
      }
      const out = join(dir, "r.html");
      const made = await runLedger(["report", "--root", root, "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      const html = await Deno.readTextFile(out);
      // The overview's win rate (server-side).
      const row = html.slice(html.indexOf(">fine</a>"));
      assert.match(row.slice(0, row.indexOf("</tr>")), />99\.96%</);
      await withChromiumPage(async (page) => {
        const fine = runSectionId(html, "fine");
        await page.goto(`file://${out}#${fine}`);
        await waitForCharts(page, "section.active");
        // The curve starts at 0 (the zero rule's height), and steps at the first exit.
        const equity = `section.active figure.chart[data-key="${fine}-equity"] svg`;
        const zeroY = await page.locator(`${equity} g[aria-label="rule"] line`).getAttribute("y1");
        const path = await page.locator(`${equity} g[aria-label="line"] path`).getAttribute("d");
        assert.ok(zeroY !== null && path !== null);
        const start = /^M([\d.]+),([\d.]+)/.exec(path);
        assert.ok(start, path);
        assert.equal(Number(start[2]), Number(zeroY), `curve ${path} from the zero rule`);
        const ticks = await chartTicks(page, `${fine}-equity`, "y");
        assert.ok(ticks.length > 1, JSON.stringify(ticks));
        assert.equal(new Set(ticks).size, ticks.length, `equity ticks alike: ${ticks}`);
        const labels = await chartTexts(page, `${fine}-callers`, "text");
        assert.ok(labels.includes("n=2500  win 99.96%"), JSON.stringify(labels));
        const tips = await chartTexts(page, `${fine}-callers`, "title");
        assert.ok(tips.includes("amy: 0.15 bps over 2500 calls"), JSON.stringify(tips));

        const unb = runSectionId(html, "unb");
        await page.goto(`file://${out}#${unb}`);
        await waitForCharts(page, "section.active");
        const heatmap = await page.locator("section.active figure.chart[data-chart=heatmap]")
          .getAttribute("data-key");
        assert.ok(heatmap);
        const cells = await chartTexts(page, heatmap, "title");
        const half = cells.find((c) => c.startsWith("stopPct = 0.5\n"));
        assert.ok(half, JSON.stringify(cells));
        assert.match(half, /profit_factor ∞: best of 2 trials \(t1\)$/);
        // 0.7 has a cell too, blank, that says why; 0.9's other trial is counted, not ranked.
        assert.deepEqual(await chartTicks(page, heatmap, "x"), ["0.5", "0.7", "0.9"]);
        const seven = cells.find((c) => c.startsWith("stopPct = 0.7\n"));
        assert.equal(seven, "stopPct = 0.7\nprofit_factor: no value in any of its 2 trials (t3)");
        const nine = cells.find((c) => c.startsWith("stopPct = 0.9\n"));
        assert.equal(
          nine,
          "stopPct = 0.9\nprofit_factor 2: best of 1 trial, 1 more without a value (t2)",
        );
      });
    });
  },
});
