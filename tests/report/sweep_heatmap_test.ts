/**
 * The sweep heatmap of `combo` and `ladder` sweeps: its axes are the varying
 * leaf paths of the trials' params (`levels.0.multiple`,
 * `policies.1.maxHoldMs`), not whole `levels` / `policies` arrays; its tick
 * labels are the values (durations as `1h`), never `[object Object]`; a cell
 * groups the trials with its two values and shows the best of them.
 *
 * The browser part runs real `ledger sweep policy` runs on the sample data,
 * opens the report file and `ledger ui` in headless Chromium, and saves
 * screenshots under `.tmp/report-screenshots/` (`report-sweep-combo.png`,
 * `report-sweep-ladder.png`, `ui-sweep-ladder.png`). Skipped only when no
 * Chromium is installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { runLedger, withTempDir } from "../_helpers.ts";
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  chromiumMissing as chromiumMissingFor,
  SCREENSHOT_DIR,
  waitForCharts,
} from "./_browser.ts";
import { flatten, type TrialView } from "../../report/data.ts";
import { renderSweep, UNBOUNDED_MARK } from "../../report/html.ts";
import { emitAndIndex, startUi } from "./_fixture.ts";

const HOUR_MS = 3_600_000;

const COMBO_GRID = {
  type: "combo",
  policies: [
    { type: "fixed_stop", stopPct: [0.2, 0.3] },
    { type: "time_stop", maxHoldMs: [HOUR_MS, 2 * HOUR_MS] },
  ],
};
/** 2 x 2 x 2 x 2 = 16 trials. */
const LADDER_GRID = {
  type: "ladder",
  levels: [{ multiple: [2, 3], fraction: [0.4, 0.5] }, { multiple: [5, 6], fraction: 0.25 }],
  stopPct: [0.2, 0.3],
};

/** Trials as the index gives them to the report (params flattened, arrays kept). */
function ladderTrials(): TrialView[] {
  const trials: TrialView[] = [];
  for (const m0 of [2, 3]) {
    for (const m1 of [5, 6]) {
      for (const stopPct of [0.2, 0.3]) {
        const params = {
          type: "ladder",
          levels: [{ multiple: m0, fraction: 0.5 }, { multiple: m1, fraction: 0.25 }],
          stopPct,
        };
        trials.push({
          trial_id: `t${trials.length}`,
          params: flatten(params),
          metrics: { calls: 10, expectancy_bps: 100 * m0 + 10 * m1 + stopPct },
        });
      }
    }
  }
  return trials;
}

/** A row of a heatmap's chart data (html.ts): the trial id, its parameters and metrics apart. */
interface HeatmapRow<T = unknown> {
  id: string;
  p: Record<string, T>;
  m: Record<string, T>;
}

function optionValues(html: string, axis: string): string[] {
  const select = html.match(new RegExp(`data-axis="${axis}">(.*?)</select>`))![1];
  return [...select.matchAll(/value="([^"]*)"/g)].map((m) => m[1]);
}

Deno.test("renderSweep: a trial with no losing trade is an unbounded cell, not left out", () => {
  // An audit: profit_factor null because no trade lost (the sweep's best trial) had no cell.
  const trials: TrialView[] = [0.01, 0.5].map((stopPct, i) => ({
    trial_id: `t${i}`,
    params: flatten({ type: "fixed_stop", stopPct, takeProfitPct: 0.2 }),
    metrics: i === 0
      ? { calls: 2, win_rate: 0, mean_return_bps: -100, profit_factor: 0 }
      : { calls: 2, win_rate: 1, mean_return_bps: 2000, profit_factor: null },
  }));
  const { html, charts } = renderSweep(trials, "s", "profit_factor");
  const rows = charts.s as HeatmapRow[];
  assert.deepEqual(rows.map((r) => r.m.profit_factor), [0, UNBOUNDED_MARK]);
  assert.ok(optionValues(html, "metric").includes("profit_factor"));
  // The client draws what the server marks: both spell the mark alike.
  const client = Deno.readTextFileSync(new URL("../../report/_client.js", import.meta.url));
  assert.ok(client.includes(`const UNBOUNDED = "${UNBOUNDED_MARK}";`));
  // The trials table shows it as the heatmap does (helper-290: "-" there), sorting above all.
  assert.match(
    html,
    /<td class="num" data-v="Infinity" title="unbounded \(no losing trade\)">∞<\/td>/,
  );
  assert.match(html, /<td class="num" data-v="0">0<\/td>/);
  // No trades at all is not unbounded: it stays null (no cell; a metric null in every trial
  // is no choice of the heatmap, and not carried).
  const none = renderSweep([{
    ...trials[1],
    metrics: { calls: 0, win_rate: 0, profit_factor: null },
  }], "n");
  assert.equal((none.charts.n as HeatmapRow[])[0].m.profit_factor ?? null, null);
  assert.doesNotMatch(none.html, /∞/);
});

Deno.test("renderSweep: axes are the varying leaf paths of ladder and combo params", async (t) => {
  await t.step("ladder: levels.N.multiple and stopPct, not levels", () => {
    const { html, charts } = renderSweep(ladderTrials(), "s");
    assert.deepEqual(optionValues(html, "x"), [
      "levels.0.multiple",
      "levels.1.multiple",
      "stopPct",
    ]);
    assert.deepEqual(optionValues(html, "y"), optionValues(html, "x"));
    assert.match(html, /<option selected value="levels\.0\.multiple">/);
    assert.match(
      html,
      /data-axis="y"><option value="levels\.0\.multiple">levels\.0\.multiple<\/option><option selected value="levels\.1\.multiple">/,
    );
    const rows = charts.s as HeatmapRow[];
    assert.equal(rows.length, 8);
    assert.deepEqual(
      [rows[5].p["levels.0.multiple"], rows[5].p["levels.1.multiple"], rows[5].p.stopPct],
      [3, 5, 0.3],
    );
    assert.ok(!("levels" in rows[0].p), "no whole array as a value");
    assert.ok(!html.includes("[{"), "the trials table shows leaves, not JSON arrays");
  });
  await t.step("combo: policies.N.<field>, named with the sub-policy type", () => {
    const trials: TrialView[] = [];
    for (const stopPct of [0.2, 0.3]) {
      for (const maxHoldMs of [HOUR_MS, 2 * HOUR_MS]) {
        const params = {
          type: "combo",
          policies: [{ type: "fixed_stop", stopPct }, { type: "time_stop", maxHoldMs }],
        };
        trials.push({
          trial_id: `t${trials.length}`,
          params: flatten(params),
          metrics: { expectancy_bps: stopPct * maxHoldMs },
        });
      }
    }
    const { html, charts } = renderSweep(trials, "c");
    assert.deepEqual(optionValues(html, "x"), ["policies.0.stopPct", "policies.1.maxHoldMs"]);
    assert.ok(html.includes(">policies.1.maxHoldMs (time_stop)</option>"));
    const rows = charts.c as HeatmapRow[];
    assert.equal(rows[3].p["policies.1.maxHoldMs"], 2 * HOUR_MS);
  });
  await t.step("a flat sweep keeps its parameter names", () => {
    const trials: TrialView[] = [0.2, 0.3].map((stopPct, i) => ({
      trial_id: `t${i}`,
      params: { type: "fixed_stop", stopPct, takeProfitPct: 1 },
      metrics: { expectancy_bps: i },
    }));
    assert.deepEqual(optionValues(renderSweep(trials, "f").html, "x"), ["stopPct"]);
  });
});

const chromiumMissing = chromiumMissingFor("sweep_heatmap_test");

async function sweep(root: string, runId: string, grid: unknown): Promise<void> {
  const res = await runLedger([
    "sweep",
    "policy",
    "--root",
    root,
    "--run-id",
    runId,
    "--no-index",
    "--grid",
    JSON.stringify(grid),
  ]);
  assert.equal(res.code, 0, res.stderr);
}

/** What the heatmap `key` drew: cell count, tick labels, cell texts. */
async function heatmap(page: Page, key: string) {
  const fig = `figure[data-key="${key}"]`;
  return {
    cells: await page.locator(`${fig} svg g[aria-label="cell"] rect`).count(),
    xTicks: await page.locator(`${fig} svg g[aria-label="x-axis tick label"] text`)
      .allTextContents(),
    yTicks: await page.locator(`${fig} svg g[aria-label="y-axis tick label"] text`)
      .allTextContents(),
    texts: await page.locator(`${fig} svg g[aria-label="text"] text`).allTextContents(),
    svg: await page.locator(`${fig} svg`).last().textContent() ?? "",
  };
}

/**
 * The best `metric` per (x, y) pair of the chart data (the highest, or the lowest when
 * `lower`), formatted as the cells show it.
 */
async function bestByPair(
  page: Page,
  key: string,
  x: string,
  y: string,
  metric = "expectancy_bps",
  lower = false,
): Promise<string[]> {
  const rows = await page.evaluate(
    `JSON.parse(document.getElementById("ledger-data").textContent).charts[${JSON.stringify(key)}]`,
  ) as HeatmapRow<number>[];
  const best = new Map<string, number>();
  for (const r of rows) {
    const k = JSON.stringify([r.p[x], r.p[y]]);
    const seen = best.get(k);
    const v = r.m[metric];
    best.set(k, seen === undefined ? v : lower ? Math.min(seen, v) : Math.max(seen, v));
  }
  // The page's fmtMetric: 3 significant digits, more while they would write 0, 1 or -1.
  const near = (v: number) => {
    let d = 3;
    while (d < 9 && ![0, 1, -1].includes(v) && [0, 1, -1].includes(+v.toPrecision(d))) d++;
    return String(+v.toPrecision(d) || 0);
  };
  const fmt = (v: number) =>
    Math.abs(v) >= 1e15
      ? v.toPrecision(3)
      : Math.abs(v) >= 100
      ? Math.round(v).toLocaleString("en-US")
      : near(v);
  return [...best.values()].map(fmt).sort();
}

async function shot(page: Page, key: string, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.mouse.move(0, 0);
  await page.locator(`.card:has(figure[data-key="${key}"])`).screenshot({
    path: join(SCREENSHOT_DIR, `${name}.png`),
  });
}

Deno.test({
  name: "the heatmap of combo and ladder sweeps in a real browser",
  ignore: chromiumMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      await sweep(root, "combo", COMBO_GRID);
      await sweep(root, "lad", LADDER_GRID);
      await sweep(root, "one", { type: "fixed_stop", stopPct: [0.1, 0.2, 0.3] });
      // A probe: a cell of -1e308 read as 412 characters of digits; 1e20 read as 27.
      const huge = [
        { event_type: "run.created", run_type: "sweep", config: {}, data_fingerprint: "fp" },
        { event_type: "trial.recorded", trial_id: "t1", params: { a: 1, b: 1 }, metrics: {} },
        { event_type: "trial.recorded", trial_id: "t2", params: { a: 2, b: 1 }, metrics: {} },
        { event_type: "run.completed", summary: {}, artifact_paths: {} },
      ].map((e, i) => ({
        ...e,
        run_id: "huge",
        ...(i === 1 ? { metrics: { median_return_bps: 1e20 } } : {}),
        ...(i === 2 ? { metrics: { median_return_bps: 5 } } : {}),
      }));
      // A probe: a trial without `p` and one with `p: null` were one cell (keyed by JSON, which
      // writes both as null), "best of 2 trials" under one label, and no column for the other.
      const nulls = [
        { event_type: "run.created", run_type: "sweep", config: {}, data_fingerprint: "fp" },
        { event_type: "trial.recorded", trial_id: "t-null", params: { p: null, w: 1 } },
        { event_type: "trial.recorded", trial_id: "t-absent", params: { w: 1 } },
        { event_type: "trial.recorded", trial_id: "t-one", params: { p: 1, w: 1 } },
        { event_type: "run.completed", summary: {}, artifact_paths: {} },
      ].map((e, i) => ({
        ...e,
        run_id: "nulls",
        ...(e.event_type === "trial.recorded"
          ? { metrics: { median_return_bps: [10, 99, 5][i - 1] } }
          : {}),
      }));
      // helper-290: two trials of one cell within 1e-12 (0.3 and 0.1 + 0.2) tie, and the earlier
      // one is the cell's, as the sweep's best trial; the cell named the later.
      const tiedMedians = [0.3, 0.1 + 0.2, 5, 6, 7, 8, 9, 10];
      const ties = [
        { event_type: "run.created", run_type: "sweep", config: {}, data_fingerprint: "fp" },
        ...tiedMedians.map((median, i) => ({
          event_type: "trial.recorded",
          trial_id: `tie-${i}`,
          params: { a: 1 + (i >> 2), c: 1 + ((i >> 1) & 1), d: 1 + (i & 1) },
          metrics: { median_return_bps: median },
        })),
        { event_type: "run.completed", summary: {}, artifact_paths: {} },
      ].map((e) => ({ ...e, run_id: "ties" }));
      const emitted = await runLedger(["emit", "--stdin", "--root", root], {
        stdin: [...huge, ...nulls, ...ties].map((e) => JSON.stringify(e)).join("\n") + "\n",
      });
      assert.equal(emitted.code, 0, emitted.stderr);
      const rebuilt = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(rebuilt.code, 0, rebuilt.stderr);
      const out = join(dir, "r.html");
      const made = await runLedger([
        "report",
        "combo",
        "lad",
        "one",
        "huge",
        "nulls",
        "ties",
        "--root",
        root,
        "--out",
        out,
      ]);
      assert.equal(made.code, 0, made.stderr);
      const context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on("pageerror", (err) => problems.push(err.message));
        page.on("console", (m) => m.type() === "error" && problems.push(m.text()));

        await t.step("combo: one axis per sub-policy field, durations as hours", async () => {
          await page.goto(`file://${out}#run-0`);
          await waitForCharts(page, "section.active");
          const h = await heatmap(page, "run-0-sweep");
          assert.equal(h.cells, 4);
          assert.deepEqual(h.xTicks, ["0.2", "0.3"]);
          assert.deepEqual(h.yTicks, ["1h", "2h"]);
          assert.ok(h.svg.includes("policies.0.stopPct (fixed_stop)"), h.svg);
          assert.ok(h.svg.includes("policies.1.maxHoldMs (time_stop)"), h.svg);
          assert.ok(!h.svg.includes("[object Object]"));
          await shot(page, "run-0-sweep", "report-sweep-combo");
        });

        await t.step("ladder (16 trials): a 2 x 2 grid per axis pair, the best of 4", async () => {
          await page.goto(`file://${out}#run-1`);
          await waitForCharts(page, "section.active");
          const controls = `[data-heatmap-controls="run-1-sweep"]`;
          // The colour opens on the metric the sweep ranked its trials by (the default objective).
          const opened = await page.locator(`${controls} [data-axis="metric"]`).inputValue();
          assert.equal(opened, "median_return_bps");
          await page.selectOption(`${controls} [data-axis="metric"]`, "expectancy_bps");
          const options = await page.locator(`${controls} [data-axis="x"] option`)
            .allTextContents();
          assert.deepEqual(options, [
            "levels.0.multiple",
            "levels.0.fraction",
            "levels.1.multiple",
            "stopPct",
          ]);
          for (
            const [x, y] of [
              ["levels.0.multiple", "levels.0.fraction"],
              ["levels.1.multiple", "stopPct"],
            ]
          ) {
            await page.selectOption(`${controls} [data-axis="x"]`, x);
            await page.selectOption(`${controls} [data-axis="y"]`, y);
            const h = await heatmap(page, "run-1-sweep");
            assert.equal(h.cells, 4, `${x} x ${y}`);
            assert.ok(!h.svg.includes("[object Object]"));
            assert.deepEqual(h.texts.slice().sort(), await bestByPair(page, "run-1-sweep", x, y));
          }
          const h = await heatmap(page, "run-1-sweep");
          assert.deepEqual(h.xTicks, ["5", "6"]);
          assert.deepEqual(h.yTicks, ["0.2", "0.3"]);
          await page.selectOption(`${controls} [data-axis="x"]`, "levels.0.multiple");
          await page.selectOption(`${controls} [data-axis="y"]`, "levels.1.multiple");
          await shot(page, "run-1-sweep", "report-sweep-ladder");
          // A UI audit: by stop_out_rate a cell named its highest (worst) trial the best.
          await page.selectOption(`${controls} [data-axis="metric"]`, "stop_out_rate");
          const byStops = await heatmap(page, "run-1-sweep");
          assert.deepEqual(
            byStops.texts.slice().sort(),
            await bestByPair(
              page,
              "run-1-sweep",
              "levels.0.multiple",
              "levels.1.multiple",
              "stop_out_rate",
              true,
            ),
          );
          assert.ok(byStops.svg.includes("stop_out_rate"), byStops.svg);
        });

        // A probe: a sweep of one parameter opened on x = y = stopPct, a diagonal of a square.
        await t.step("one parameter: one row of cells, not a diagonal", async () => {
          await page.goto(`file://${out}#run-2`);
          await waitForCharts(page, "section.active");
          const h = await heatmap(page, "run-2-sweep");
          assert.equal(h.cells, 3);
          assert.deepEqual(h.xTicks, ["0.1", "0.2", "0.3"]);
          assert.deepEqual(h.yTicks, [""]); // one row, unnamed: the legend names the metric
          await shot(page, "run-2-sweep", "report-sweep-one-parameter");
        });

        await t.step("a metric past 1e15 in exponent form", async () => {
          await page.goto(`file://${out}#run-3`);
          await waitForCharts(page, "section.active");
          const h = await heatmap(page, "run-3-sweep");
          assert.deepEqual(h.texts.slice().sort(), ["1.00e+20", "5"]);
        });

        await t.step(
          "a parameter null in one trial and missing in another: two cells",
          async () => {
            await page.goto(`file://${out}#run-4`);
            await waitForCharts(page, "section.active");
            const h = await heatmap(page, "run-4-sweep");
            assert.equal(h.cells, 3);
            assert.deepEqual(h.xTicks.slice().sort(), ["(missing)", "1", "null"]);
            assert.deepEqual(h.texts.slice().sort(), ["10", "5", "99"]);
            assert.ok(
              h.svg.includes("p = null\nmedian_return_bps 10: best of 1 trial (t-null)"),
              h.svg,
            );
            assert.ok(
              h.svg.includes("p = (missing)\nmedian_return_bps 99: best of 1 trial (t-absent)"),
            );
          },
        );

        await t.step("a tie within 1e-12: the earlier trial's cell", async () => {
          await page.goto(`file://${out}#run-5`);
          await waitForCharts(page, "section.active");
          const h = await heatmap(page, "run-5-sweep");
          assert.equal(h.cells, 4);
          assert.ok(h.svg.includes("median_return_bps 0.3: best of 2 trials (tie-0)"), h.svg);
        });

        await t.step("ledger ui: the same axes", async () => {
          const ui = await startUi(root);
          try {
            const uiPage = await context.newPage();
            uiPage.on("pageerror", (err) => problems.push(err.message));
            await uiPage.goto(`${ui.url}/run/lad`);
            await waitForCharts(uiPage, "main");
            const h = await heatmap(uiPage, "run-sweep");
            assert.equal(h.cells, 4);
            assert.deepEqual(h.xTicks, ["2", "3"]);
            assert.ok(!h.svg.includes("[object Object]"));
            await shot(uiPage, "run-sweep", "ui-sweep-ladder");
          } finally {
            const stopped = await ui.stop();
            assert.equal(stopped.code, 0, stopped.stderr);
          }
        });

        await t.step("nothing went wrong in the pages", () => {
          assert.deepEqual(problems, []);
        });
      } finally {
        await context.close();
      }
    });
  },
});

/**
 * The probe's sweep `sw-collide`: a parameter `id` and a parameter `win_rate` beside the metric
 * `win_rate`. The heatmap placed cells at the metric's values and named trials by the
 * parameter `id`; the table showed the parameter in the metric's column.
 */
const COLLIDE_TRIALS: TrialView[] = [0.9, 0.1, 0.5].map((winRate, i) => ({
  trial_id: `t${i}`,
  params: { id: `P${i + 1}`, win_rate: 5 + i, stopPct: 0.1 * (i + 1) },
  metrics: { win_rate: winRate, expectancy_bps: 1 },
}));

Deno.test("renderSweep: a parameter named like a metric or `id` stays a parameter", () => {
  const { html, charts } = renderSweep(COLLIDE_TRIALS, "s", "win_rate");
  const rows = charts.s as HeatmapRow[];
  assert.deepEqual(rows.map((r) => r.id), ["t0", "t1", "t2"]);
  assert.deepEqual(rows.map((r) => r.p.win_rate), [5, 6, 7]);
  assert.deepEqual(rows.map((r) => r.p.id), ["P1", "P2", "P3"]);
  assert.deepEqual(rows.map((r) => r.m.win_rate), [0.9, 0.1, 0.5]);
  // The table: each parameter and each metric in its own column, the shared name marked.
  const head = [...html.matchAll(/<th data-sort="[a-z]+"[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(head, [
    "trial",
    "id",
    "win_rate (parameter)",
    "stopPct",
    "win_rate",
    "expectancy_bps",
  ]);
  const first = html.match(/<tbody><tr>(.*?)<\/tr>/)![1];
  const cells = [...first.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(cells, ["t0", "P1", "5", "0.1", "0.9", "1"]); // formatValue: 4 digits, none invented
});

Deno.test({
  name: "the heatmap of a parameter named like a metric, in a real browser",
  ignore: chromiumMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.now() - 60_000;
      const events = [
        { event_type: "run.created", run_type: "sweep", config: {}, data_fingerprint: "fp" },
        { event_type: "run.started" },
        ...COLLIDE_TRIALS.map((t) => ({ event_type: "trial.recorded", ...t })),
        { event_type: "run.completed", summary: {}, artifact_paths: {} },
      ].map((e, i) => ({ ...e, run_id: "sw-collide", timestamp_ms: t0 + i }));
      await emitAndIndex(root, events);
      const out = join(dir, "r.html");
      const made = await runLedger(["report", "sw-collide", "--root", root, "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      const context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on("pageerror", (err) => problems.push(err.message));
        await page.goto(`file://${out}#run-0`);
        await waitForCharts(page, "section.active");
        const controls = `[data-heatmap-controls="run-0-sweep"]`;
        await page.selectOption(`${controls} [data-axis="x"]`, "win_rate");
        await page.selectOption(`${controls} [data-axis="y"]`, "stopPct");
        await page.selectOption(`${controls} [data-axis="metric"]`, "win_rate");
        await waitForCharts(page, "section.active");
        const h = await heatmap(page, "run-0-sweep");
        // Columns at the parameter's values, colored by the metric's, each cell naming its trial.
        assert.deepEqual(h.xTicks, ["5", "6", "7"]);
        assert.deepEqual(h.texts.slice().sort(), ["0.1", "0.5", "0.9"]);
        for (const id of ["(t0)", "(t1)", "(t2)"]) assert.ok(h.svg.includes(id), h.svg);
        assert.ok(!h.svg.includes("(P1)"), h.svg);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  },
});
