/**
 * What the report's charts write on their labels, read from the drawn page
 * in headless Chromium (probe 22): histogram bins narrower than 1 bps were
 * all `[0, 0)` with ticks `-0, 0`; a sweep heatmap wrote `0.2` and `"0.2"`,
 * `true` and `"true"`, null and a missing param alike; the per-caller chart
 * stacked two rows of one caller into one bar of their sum and drew a
 * right-to-left override as it is (the label read backwards). Real `ledger
 * emit`, `rebuild-index` and `report`; the runs' Parquet files are written
 * with DuckDB, as a backtest writes them.
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

const POLICY = { type: "fixed_stop", stopPct: 0.3 };

/** The events of a completed run, its trials (params of each) recorded. */
function runEvents(
  runId: string,
  runType: string,
  t0: number,
  trials: Record<string, unknown>[] = [],
): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [
    {
      event_type: "run.created",
      run_type: runType,
      config: { policy: POLICY },
      data_fingerprint: "fp",
    },
    { event_type: "run.started" },
    ...trials.map((params, i) => ({
      event_type: "trial.recorded",
      trial_id: `t${i}`,
      params,
      metrics: { expectancy_bps: 10 * i },
    })),
    { event_type: "run.completed", summary: { calls_total: 3 }, artifact_paths: {} },
  ];
  return events.map((e, i) => ({ ...e, run_id: runId, timestamp_ms: t0 + i }));
}

Deno.test({
  name: "report charts: narrow bins, look-alike params and duplicate callers each labelled apart",
  ignore: chromiumMissing("labels_browser_test"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.now() - 600_000;
      await emitAndIndex(root, [
        ...runEvents("narrow", "policy", t0),
        ...runEvents("sweep-mixed", "sweep", t0 + 100, [
          { stopPct: 0.2, flag: true },
          { stopPct: "0.2", flag: "true" },
          { stopPct: 0.3, flag: null },
          { flag: true },
        ]),
      ]);
      const runs = join(root, "artifacts", "runs");
      await Deno.mkdir(join(runs, "narrow"), { recursive: true });
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      try {
        // Returns 0, -1e-9 and 0.005 bps: bins 0.01 bps wide.
        await conn.run(
          `COPY (SELECT * FROM (VALUES
              ('c0', 'caller0', 'm', ${t0}, ${t0 + 60_000}, 1.0, 1.0, 0.0::DOUBLE, 'tp', -1.0),
              ('c1', 'caller1', 'm', ${t0}, ${t0 + 120_000}, 1.0, 1.0, -1e-9::DOUBLE, 'stop', -2.0),
              ('c2', 'caller0', 'm', ${t0}, ${t0 + 180_000}, 1.0, 1.0, 0.005::DOUBLE, 'tp', -3.0))
            t(call_id, caller, mint, entry_ts_ms, exit_ts_ms, entry_px, exit_px,
              realized_return_bps, exit_reason, max_adverse_excursion_bps))
          TO '${join(runs, "narrow", "policy_results.parquet")}' (FORMAT parquet)`,
        );
        // A caller named twice (a malformed file), one with a right-to-left override.
        await conn.run(
          `COPY (SELECT * FROM (VALUES ('dup', 3, 400.0), ('dup', 4, 500.0),
              ('evil' || chr(8238) || 'rtl', 2, -100.0), ('', 1, 50.0))
            t(caller, count, mean_return_bps))
          TO '${join(runs, "narrow", "caller_summary.parquet")}' (FORMAT parquet)`,
        );
      } finally {
        conn.disconnectSync();
        db.closeSync();
      }
      const out = join(dir, "r.html");
      const made = await runLedger(["report", "--root", root, "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      const html = await Deno.readTextFile(out);
      await withChromiumPage(async (page) => {
        const narrow = runSectionId(html, "narrow");
        await page.goto(`file://${out}#${narrow}`);
        await waitForCharts(page, "section.active");
        const bins = await chartTexts(page, `${narrow}-returns`, "title");
        assert.ok(bins.includes("[-0.01, 0.00): 1"), JSON.stringify(bins));
        assert.ok(bins.includes("[0.00, 0.01): 2"), JSON.stringify(bins));
        const binTicks = await chartTicks(page, `${narrow}-returns`, "x");
        assert.ok(binTicks.length > 1, JSON.stringify(binTicks));
        assert.equal(new Set(binTicks).size, binTicks.length, `ticks alike: ${binTicks}`);
        assert.ok(!binTicks.includes("-0"), JSON.stringify(binTicks));

        // One bar per row: "dup" twice is two bars, 500 and 400 long, not one of 900.
        const callerTicks = await chartTicks(page, `${narrow}-callers`, "y");
        assert.deepEqual(callerTicks, ["dup", "dup (2)", '""', "evil\\u202ertl"]);
        const callerTitles = await chartTexts(page, `${narrow}-callers`, "title");
        assert.deepEqual(callerTitles.slice(0, 2), [
          "dup: 500 bps over 4 calls",
          "dup (2): 400 bps over 3 calls",
        ]);
        const widths = await page.locator(
          `section.active figure.chart[data-key="${narrow}-callers"] svg g[aria-label="bar"] rect`,
        ).evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("width"))));
        assert.equal(widths.length, 4);
        assert.ok(Math.abs(widths[0] / widths[1] - 5 / 4) < 0.02, `bar widths ${widths}`);

        const sweep = runSectionId(html, "sweep-mixed");
        await page.goto(`file://${out}#${sweep}`);
        await waitForCharts(page, "section.active");
        const heatmap = await page.locator("section.active figure.chart[data-chart=heatmap]")
          .getAttribute("data-key");
        assert.ok(heatmap);
        const axes = [
          ...await chartTicks(page, heatmap, "x"),
          ...await chartTicks(page, heatmap, "y"),
        ];
        for (const label of ["0.2", '"0.2"', "0.3", "(missing)", "true", '"true"', "null"]) {
          assert.ok(axes.includes(label), `${label} not among ${JSON.stringify(axes)}`);
        }
      });
    });
  },
});
