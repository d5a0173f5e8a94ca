/**
 * What a person sees: the report file and the `ledger ui` pages opened in a
 * real headless Chromium (Debian's `chromium`, driven by playwright-core).
 * Fails on any console error, page error, failed request or request to
 * another host; checks each chart drew its marks (bars per phase, a line per
 * equity curve, a rect per histogram bin, a cell per sweep trial); checks
 * the XSS probe shows as text; saves screenshots of the overview, a run, the
 * compare and the sweep under `.tmp/report-screenshots/`.
 *
 * Skipped (with the reason printed) only when no Chromium is installed.
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
import { makeFixture, startUi, SWEEP_RUN_ID, XSS_RUN_ID } from "./_fixture.ts";

const chromiumMissing = chromiumMissingFor("browser_test");

/** Everything that went wrong on a page: console errors, page errors, requests. */
interface Problems {
  list: string[];
}

function watch(page: Page, allowed: (url: string) => boolean): Problems {
  const problems: Problems = { list: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.list.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.list.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => problems.list.push(`request failed: ${req.url()}`));
  page.on("request", (req) => {
    if (!allowed(req.url())) problems.list.push(`request to another place: ${req.url()}`);
  });
  page.on("dialog", (dialog) => {
    problems.list.push(`dialog opened (script ran): ${dialog.message()}`);
    dialog.dismiss();
  });
  return problems;
}

/** Marks of `aria` kind (Plot labels each mark's group) drawn inside the figure `key`. */
async function marks(page: Page, key: string, aria: string, element: string): Promise<number> {
  return await page.locator(`figure[data-key="${key}"] svg g[aria-label="${aria}"] ${element}`)
    .count();
}

/** Chart data of the page, by key. */
type Charts = Record<string, { length: number; bins: unknown[]; rows: unknown[] }>;

async function chartData(page: Page): Promise<Charts> {
  return await page.evaluate(
    `JSON.parse(document.getElementById("ledger-data").textContent).charts`,
  ) as Charts;
}

async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.mouse.move(0, 0); // no tooltip left over from a click
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

Deno.test({
  name: "report and ui in a real browser",
  ignore: chromiumMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const fx = await makeFixture(root);
      const out = join(dir, "report.html");
      const made = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        out,
        ...fx.policyRuns,
        fx.pathOnlyRun,
        SWEEP_RUN_ID,
        XSS_RUN_ID,
      ]);
      assert.equal(made.code, 0, made.stderr);
      const fileUrl = `file://${out}`;
      const context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = await context.newPage();
        const problems = watch(page, (url) => url.startsWith(fileUrl) || url.startsWith("data:"));

        await t.step("report file: overview draws, sorts and filters", async () => {
          await page.goto(`${fileUrl}#overview`);
          await waitForCharts(page, "section.active");
          const data = await chartData(page);
          assert.equal(await marks(page, "days", "rect", "rect"), data.days.length);
          assert.equal(await page.locator("#runs tbody tr").count(), 5);
          await page.locator("#runs th", { hasText: "run" }).first().click();
          const first = await page.locator("#runs tbody tr td.id").first().textContent();
          assert.equal(first, XSS_RUN_ID, "sorted by run id ascending ('<' sorts first)");
          await page.fill("input[data-filter=runs]", "sweep");
          assert.equal(await page.locator("#runs tbody tr:not([hidden])").count(), 1);
          await page.fill("input[data-filter=runs]", "");
          await shot(page, "report-overview");
        });

        await t.step("report file: a policy run's charts", async () => {
          await page.goto(`${fileUrl}#run-0`);
          await waitForCharts(page, "section.active");
          const data = await chartData(page);
          assert.equal(await marks(page, "run-0-phases", "bar", "rect"), 7);
          assert.equal(await marks(page, "run-0-equity", "line", "path"), 1);
          const d = await page.locator(
            `figure[data-key="run-0-equity"] g[aria-label="line"] path`,
          ).getAttribute("d");
          assert.ok(d !== null && d.length > 1000, "the equity line has many points");
          assert.equal(
            await marks(page, "run-0-returns", "rect", "rect"),
            data["run-0-returns"].bins.length,
          );
          assert.equal(
            await marks(page, "run-0-adverse", "rect", "rect"),
            data["run-0-adverse"].bins.length,
          );
          // Each bin's color says whether its values are above zero (a 0 return is no win).
          const fills = await page.locator(
            `figure[data-key="run-0-returns"] svg g[aria-label="rect"] rect`,
          ).evaluateAll((rects) => rects.map((r) => r.getAttribute("fill")));
          const colors = { all: "#2e8540", none: "#c62828", some: "#8a94a3" };
          assert.deepEqual(
            fills,
            (data["run-0-returns"].bins as { above_zero: keyof typeof colors }[])
              .map((b) => colors[b.above_zero]),
          );
          assert.ok(new Set(fills).size > 1, `one color only: ${fills}`);
          assert.equal(
            await marks(page, "run-0-callers", "bar", "rect"),
            data["run-0-callers"].length,
          );
          await shot(page, "report-run");
        });

        await t.step("report file: compare overlays the runs", async () => {
          await page.goto(`${fileUrl}#compare`);
          await waitForCharts(page, "section.active");
          const data = await chartData(page);
          // The two policy runs have equity curves; path-only, sweep and probe do not.
          assert.equal(await marks(page, "compare-equity", "line", "path"), 2);
          assert.equal(
            await marks(page, "compare-phases", "bar", "rect"),
            data["compare-phases"].rows.length,
          );
          await shot(page, "report-compare");
        });

        await t.step("report file: the sweep heatmap follows its controls", async () => {
          await page.goto(`${fileUrl}#run-3`);
          await waitForCharts(page, "section.active");
          assert.equal(await marks(page, "run-3-sweep", "cell", "rect"), 9);
          assert.equal(await marks(page, "run-3-sweep", "text", "text"), 9);
          await page.selectOption(`[data-heatmap-controls="run-3-sweep"] [data-axis="metric"]`, {
            label: "win_rate",
          });
          assert.equal(await marks(page, "run-3-sweep", "cell", "rect"), 9);
          const legend = await page.locator(`figure[data-key="run-3-sweep"]`).textContent();
          assert.ok(legend?.includes("win_rate"), "legend names the metric");
          await shot(page, "report-sweep");
        });

        await t.step("report file: the XSS probe is text", async () => {
          await page.goto(`${fileUrl}#run-4`);
          await waitForCharts(page, "section.active");
          assert.equal(
            await page.locator("section.active h1").textContent(),
            `${XSS_RUN_ID} failed`,
          );
          assert.equal(
            await page.locator("script:not([type])").count(),
            2,
            "library + client only",
          );
          assert.equal(await marks(page, "run-4-phases", "bar", "rect"), 1);
        });

        await t.step("report file: nothing went wrong", () => {
          assert.deepEqual(problems.list, []);
        });

        await t.step("ui pages: same views, live", async () => {
          const ui = await startUi(root);
          try {
            const uiPage = await context.newPage();
            const uiProblems = watch(uiPage, (url) => url.startsWith(ui.url));
            await uiPage.goto(`${ui.url}/`);
            await waitForCharts(uiPage, "main");
            assert.ok(await marks(uiPage, "days", "rect", "rect") >= 1);
            assert.equal(await uiPage.locator("#runs tbody tr").count(), 5);
            await shot(uiPage, "ui-overview");

            await uiPage.goto(`${ui.url}/run/${fx.policyRuns[1]}`);
            await waitForCharts(uiPage, "main");
            assert.equal(await marks(uiPage, "run-phases", "bar", "rect"), 7);
            assert.equal(await marks(uiPage, "run-equity", "line", "path"), 1);
            await shot(uiPage, "ui-run");

            await uiPage.goto(`${ui.url}/compare?run=${fx.policyRuns[0]}&run=${fx.policyRuns[1]}`);
            await waitForCharts(uiPage, "main");
            assert.equal(await marks(uiPage, "compare-equity", "line", "path"), 2);
            await shot(uiPage, "ui-compare");

            await uiPage.goto(`${ui.url}/run/${encodeURIComponent(XSS_RUN_ID)}`);
            await waitForCharts(uiPage, "main");
            assert.equal(await uiPage.locator("h1").textContent(), `${XSS_RUN_ID} failed`);

            await uiPage.goto(`${ui.url}/run/${SWEEP_RUN_ID}`);
            await waitForCharts(uiPage, "main");
            assert.equal(await marks(uiPage, "run-sweep", "cell", "rect"), 9);
            assert.deepEqual(uiProblems.list, []);
          } finally {
            const stopped = await ui.stop();
            assert.equal(stopped.code, 0, stopped.stderr);
          }
        });
        console.log(`browser_test: screenshots in ${SCREENSHOT_DIR}`);
      } finally {
        await context.close();
      }
    });
  },
});
