/**
 * Charts of ordinary backtest output a probe found drawn as nothing, in
 * headless Chromium: a run whose trades all stopped out at -3,000 bps drew
 * its return and adverse-excursion histograms as one bin [-3,000, -2,999)
 * on an axis from -3,000 to 0, under a pixel wide, so no bar was seen; and a
 * caller with no entered trade (count 0, no mean) made the per-caller chart
 * throw, which left it blank and every chart after it undrawn. Real `ledger
 * emit`, `rebuild-index` and `report`; the Parquet files are written with
 * DuckDB, as a backtest writes them.
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

/** The narrowest width a bar of a histogram must have to be seen, in pixels. */
const BAR_WIDTH_PX_MIN = 20;

Deno.test({
  name: "report charts: returns all far from zero are seen, a caller with no mean is listed",
  ignore: chromiumMissing("far_values_browser_test"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.now() - 600_000;
      await emitAndIndex(
        root,
        [
          { event_type: "run.created", run_type: "policy", config: {}, data_fingerprint: "fp" },
          { event_type: "run.started" },
          { event_type: "run.completed", summary: { calls: 5 }, artifact_paths: {} },
        ].map((e, i) => ({ ...e, run_id: "stopped", timestamp_ms: t0 + i })),
      );
      const runDir = join(root, "artifacts", "runs", "stopped");
      await Deno.mkdir(runDir, { recursive: true });
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      try {
        // Five trades, each stopped out at -3,000 bps, a minute apart.
        await conn.run(
          `COPY (SELECT 'c' || i AS call_id, 'amy' AS caller, 'm' AS mint, ${t0} AS entry_ts_ms,
              ${t0} + 60000 * (i + 1) AS exit_ts_ms, 1.0 AS entry_px, 0.7 AS exit_px,
              -3000.0::DOUBLE AS realized_return_bps, 'stop' AS exit_reason,
              -3000.0 AS max_adverse_excursion_bps FROM range(5) r(i))
            TO '${join(runDir, "policy_results.parquet")}' (FORMAT parquet)`,
        );
        await conn.run(
          `COPY (SELECT * FROM (VALUES ('amy', 5, -3000.0, 0.0), ('ghost', 0, NULL, NULL))
              t(caller, count, mean_return_bps, win_rate))
            TO '${join(runDir, "caller_summary.parquet")}' (FORMAT parquet)`,
        );
      } finally {
        conn.disconnectSync();
        db.closeSync();
      }
      const out = join(dir, "r.html");
      const made = await runLedger(["report", "--root", root, "--out", out, "stopped"]);
      assert.equal(made.code, 0, made.stderr);
      const html = await Deno.readTextFile(out);
      await withChromiumPage(async (page) => {
        const id = runSectionId(html, "stopped");
        await page.goto(`file://${out}#${id}`);
        await waitForCharts(page, "section.active");
        for (const chart of ["returns", "adverse"]) {
          const widths = await page.locator(
            `section.active figure.chart[data-key="${id}-${chart}"] svg g[aria-label="rect"] rect`,
          ).evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("width"))));
          assert.equal(widths.length, 1, `${chart}: ${widths}`);
          assert.ok(widths[0] >= BAR_WIDTH_PX_MIN, `${chart}: a bar ${widths[0]} px wide`);
        }
        // A caller with no mean has its row, and its count, but no bar.
        const tips = await chartTexts(page, `${id}-callers`, "title");
        assert.deepEqual(tips, ["amy: -3,000 bps over 5 calls"]);
        assert.deepEqual(await chartTicks(page, `${id}-callers`, "y"), ["amy", "ghost"]);
        const labels = await chartTexts(page, `${id}-callers`, "text");
        assert.ok(labels.includes("n=0"), JSON.stringify(labels));
        // No chart of the page says it could not be drawn (the run has no phases to draw).
        const said = await page.locator("section.active figure.chart p.empty").allTextContents();
        assert.deepEqual(said.filter((t) => t !== "No data to draw."), []);
      });
    });
  },
});
