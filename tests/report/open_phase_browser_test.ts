/**
 * In a real headless Chromium (as `browser_test.ts`): the phase a running
 * run is in is drawn on its timeline, open, up to the run's last event (an
 * audit: a failed run's unfinished phase was drawn, a running run's not at
 * all), and the overview's filter counts "1 run", not "1 runs".
 *
 * Skipped (with the reason printed) only when no Chromium is installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { runLedger, withTempDir } from "../_helpers.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { T0, writePart } from "../indexer/_fixtures.ts";
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  chromiumMissing as chromiumMissingFor,
  waitForCharts,
} from "./_browser.ts";

const chromiumMissing = chromiumMissingFor("open_phase_browser_test");

/** A run `run_id` in phase `coverage` since `t0 + 20`, its last event at `t0 + 45`. */
function runInCoverage(run_id: string, t0: number): Record<string, unknown>[] {
  const ev = (t: number, e: Record<string, unknown>) => ({
    event_id: `${run_id}-${t}`,
    run_id,
    timestamp_ms: t0 + t,
    ...e,
  });
  return [
    ev(0, { event_type: "run.created", run_type: "policy", config: {}, data_fingerprint: "f" }),
    ev(1, { event_type: "run.started" }),
    ev(2, { event_type: "phase.started", phase_name: "plan", phase_order: 0 }),
    ev(12, {
      event_type: "phase.completed",
      phase_name: "plan",
      duration_ms: 10,
      output_summary: {},
    }),
    ev(20, { event_type: "phase.started", phase_name: "coverage", phase_order: 1 }),
    ev(45, {
      event_type: "artifact.created",
      artifact_type: "coverage",
      artifact_path: `/x/${run_id}/coverage.parquet`,
      size_bytes: 10,
    }),
  ];
}

/** The fills and labels of the bars of the phase timeline `key`. */
async function phaseBars(page: Page, key: string): Promise<{ fills: string[]; labels: string[] }> {
  const figure = `figure[data-key="${key}"] svg`;
  const fills = await page.locator(`${figure} g[aria-label="bar"] rect`)
    .evaluateAll((rects) => rects.map((r) => r.getAttribute("fill") ?? ""));
  const labels = await page.locator(`${figure} g[aria-label="text"] text`)
    .evaluateAll((texts) => texts.map((t) => t.textContent ?? ""));
  return { fills, labels };
}

Deno.test({
  name: "report in a browser: a running run's open phase is drawn; 1 run",
  ignore: chromiumMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      // "live" is running now (recent events); "failed" ended in the same phase.
      const failed = runInCoverage("failed", T0);
      failed.push({
        event_id: "failed-70",
        run_id: "failed",
        timestamp_ms: T0 + 70,
        event_type: "run.failed",
        error: { message: "no candles" },
        phase_name: "coverage",
      });
      await writePart(root, "day=2026-01-20/part-000001.jsonl", [
        ...runInCoverage("live", Date.now() - 5_000),
        ...failed,
      ]);
      await rebuildIndex(root, {});
      const out = join(dir, "report.html");
      const made = await runLedger(["report", "live", "failed", "--root", root, "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      const context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (err) => errors.push(err.message));

        await t.step("the running run: its open phase drawn up to its last event", async () => {
          await page.goto(`file://${out}#run-0`);
          await waitForCharts(page, "section.active");
          assert.ok((await page.locator("section.active h1").textContent())!.includes("live"));
          assert.deepEqual(await phaseBars(page, "run-0-phases"), {
            fills: ["#2f6fdf", "#9dbcf2"],
            labels: ["10 ms", "25 ms so far"],
          });
        });

        await t.step("the failed run: its unfinished phase, red, to the failure", async () => {
          await page.goto(`file://${out}#run-1`);
          await waitForCharts(page, "section.active");
          assert.deepEqual(await phaseBars(page, "run-1-phases"), {
            fills: ["#2f6fdf", "#dc2626"],
            labels: ["10 ms", "50 ms"],
          });
        });

        await t.step("the overview's filter counts 1 run", async () => {
          await page.goto(`file://${out}#overview`);
          await waitForCharts(page, "section.active");
          const count = page.locator(`[data-count="runs"]`);
          assert.equal(await count.textContent(), "2 runs");
          await page.fill("input[data-filter=runs]", "live");
          assert.equal(await count.textContent(), "1 run");
        });
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  },
});
