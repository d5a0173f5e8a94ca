/**
 * What the browser tests of the report and the UI share: where Chromium is,
 * how it is started, where screenshots go, and the wait for charts to draw.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { REPO_ROOT } from "../_helpers.ts";

/** Where Debian's chromium package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Screenshots land here (ignored by git). */
export const SCREENSHOT_DIR = join(REPO_ROOT, ".tmp", "report-screenshots");
/** Longest wait for a view's charts to draw, ms. */
const DRAW_MS_MAX = 15_000;

/** Headless, and nothing that reaches the network on its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether Chromium is missing (then `test` says so once, and its browser tests are ignored). */
export function chromiumMissing(test: string): boolean {
  try {
    Deno.statSync(CHROMIUM_PATH);
    return false;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    console.log(
      `${test}: skipped: ${CHROMIUM_PATH} not found ` +
        "(apt-get install -y --no-install-recommends chromium; .ci/run does it)",
    );
    return true;
  }
}

/**
 * Run `use` on a page of a headless Chromium (`viewport` its size, if
 * given), with the messages of the errors the page's scripts threw so far
 * (`problems`), then check none threw; the browser closes either way.
 */
export async function withChromiumPage(
  use: (page: Page, problems: readonly string[]) => Promise<void>,
  viewport?: { width: number; height: number },
): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage(viewport === undefined ? {} : { viewport });
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    await use(page, problems);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
}

/** Wait until every chart inside `scope` has drawn. */
export async function waitForCharts(page: Page, scope: string): Promise<void> {
  // Runs in the page (a string: this module has no DOM types).
  const drawn = `(() => {
    const figs = [...document.querySelectorAll(${JSON.stringify(`${scope} figure.chart`)})];
    return figs.length > 0 && figs.every((f) => f.dataset.drawn === "1");
  })()`;
  await page.waitForFunction(drawn, undefined, { timeout: DRAW_MS_MAX });
}

/** The text of the SVG elements `inner` (`title`, `text`) of the chart `key` of the active view. */
export function chartTexts(page: Page, key: string, inner: string): Promise<string[]> {
  return page.locator(`section.active figure.chart[data-key="${key}"] svg ${inner}`)
    .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ""));
}

/** The tick labels of the chart `key`'s axis `axis` (`x` or `y`) in the active view. */
export function chartTicks(page: Page, key: string, axis: string): Promise<string[]> {
  return chartTexts(page, key, `g[aria-label="${axis}-axis tick label"] text`);
}
