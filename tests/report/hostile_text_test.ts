/**
 * What a probe of the report and the UI with hostile and extreme values
 * found (no script ran; these misreported or broke a view): the compare
 * page merged the key `"a.b"` into the path `a` → `b` and said "No
 * differences"; the overview rounded integers past 2^53 and wrote a win
 * rate of 1e308 as `Infinity%`; an `<option value>` holding a control
 * character submitted its escape; the report's status filter hid archived
 * runs; a phase named with U+202E read as another name; a long label
 * pushed every column off the page. Real `ledger emit`, `rebuild-index`,
 * `archive`, `report` and `ui`; the views read in headless Chromium.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { chromiumMissing, waitForCharts, withChromiumPage } from "./_browser.ts";
import { startUi } from "./_fixture.ts";
import { runSectionId } from "./_page.ts";

const BEL = "\u0007";
const RLO = "\u202e";
const LONG_LABEL = "W".repeat(300);

/** One JSON line per event, written as text so integers past 2^53 keep their digits. */
function lines(runId: string, t0: number, events: string[]): string[] {
  return events.map((fields, i) =>
    `{"run_id":${JSON.stringify(runId)},"timestamp_ms":${t0 + i},${fields}}`
  );
}

function created(runType: string, config: string): string {
  return `"event_type":"run.created","run_type":${
    JSON.stringify(runType)
  },"config":${config},"data_fingerprint":"fp"`;
}

function completed(summary: string): string {
  return `"event_type":"run.completed","summary":${summary},"artifact_paths":{}`;
}

/** The log of the probe's runs, as JSONL text. */
function probeLog(t0: number): string {
  const trial = (i: number, stop: number, tp: number) =>
    `"event_type":"trial.recorded","trial_id":"t${i}","params":{${
      JSON.stringify(`stop${BEL}pct`)
    }:${stop},"tp":${tp}},` +
    `"metrics":{"expectancy_bps":${10 * i}}`;
  const phase = (name: string) => [
    `"event_type":"phase.started","phase_name":${JSON.stringify(name)},"phase_order":0`,
    `"event_type":"phase.completed","phase_name":${
      JSON.stringify(name)
    },"duration_ms":40,"output_summary":{}`,
  ];
  return [
    ...lines("dot-a", t0, [
      created("policy", '{"a.b":1,"a":{"b":1}}'),
      `"event_type":"run.started"`,
      completed('{"x.y":5,"x":{"y":5}}'),
    ]),
    ...lines("dot-b", t0 + 10, [
      created("policy", '{"a.b":2,"a":{"b":1}}'),
      `"event_type":"run.started"`,
      completed('{"x.y":6,"x":{"y":5}}'),
    ]),
    ...lines("big-1", t0 + 20, [
      created("policy", "{}"),
      `"event_type":"run.started"`,
      completed('{"calls":9007199254740993,"mean_return_bps":-9007199254740993,"win_rate":0.5}'),
    ]),
    ...lines("big-2", t0 + 30, [
      created("policy", "{}"),
      `"event_type":"run.started"`,
      completed('{"calls":123456789012345678901234567890,"win_rate":1e308}'),
    ]),
    ...lines("bel-sweep", t0 + 40, [
      created("sweep", "{}"),
      `"event_type":"run.started"`,
      trial(0, 1, 1),
      trial(1, 1, 2),
      trial(2, 2, 1),
      trial(3, 2, 2),
      completed("{}"),
    ]),
    ...lines("bel-type", t0 + 60, [
      created(`pol${BEL}icy`, "{}"),
      `"event_type":"run.started"`,
      completed("{}"),
    ]),
    ...lines("spoof", t0 + 70, [
      created("policy", "{}"),
      `"event_type":"run.started"`,
      ...phase(`${RLO}etupmoc`),
      completed("{}"),
    ]),
  ].join("\n") + "\n";
}

/** Emit the probe's runs, archive big-2, label big-1 long, and index. */
async function makeRoot(root: string): Promise<void> {
  const emitted = await runLedger(["emit", "--stdin", "--root", root], {
    stdin: probeLog(Date.now() - 600_000),
  });
  assert.equal(emitted.code, 0, emitted.stderr);
  let built = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(built.code, 0, built.stderr);
  const archived = await runLedger(["archive", "big-2", "--root", root]);
  assert.equal(archived.code, 0, archived.stderr);
  const tagged = await runLedger(["tag", "big-1", `label=${LONG_LABEL}`, "--root", root]);
  assert.equal(tagged.code, 0, tagged.stderr);
  built = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(built.code, 0, built.stderr);
}

/**
 * A root of the probe's runs and the report of four of them (named: big-2 is
 * archived, which the overview lists only when named).
 */
async function probeReport(dir: string): Promise<{ root: string; out: string; html: string }> {
  const root = join(dir, "root");
  await makeRoot(root);
  const out = join(dir, "r.html");
  const runs = ["big-1", "big-2", "spoof", "bel-sweep"];
  const made = await runLedger(["report", ...runs, "--root", root, "--out", out]);
  assert.equal(made.code, 0, made.stderr);
  return { root, out, html: await Deno.readTextFile(out) };
}

/** The rows of the table under the heading `h2` of a page: each row's cells, as HTML. */
function tableRows(html: string, h2: string): string[][] {
  const start = html.indexOf(`<h2>${h2}</h2>`);
  assert.ok(start >= 0, `the page has "${h2}"`);
  const table = html.slice(start, html.indexOf("</table>", start));
  return [...table.matchAll(/<tr>(<td.*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1])
  );
}

/** The overview's row of `runId` in a page, as HTML. */
function overviewRow(html: string, runId: string): string {
  const row = html.match(
    new RegExp(`<tr><td class="id"><a [^>]*>${runId}<.*?</tr>`),
  );
  assert.ok(row, `an overview row for ${runId}`);
  return row[0];
}

Deno.test("report and UI pages: dotted keys, integers past 2^53, control characters read back", async () => {
  await withTempDir(async (dir) => {
    const { root, html } = await probeReport(dir);

    // The overview: every digit, and a rate past a double's percentage as itself.
    const big1 = overviewRow(html, "big-1");
    assert.ok(big1.includes(">9007199254740993<"), big1);
    assert.ok(big1.includes(">-9007199254740993<"), big1);
    assert.ok(big1.includes(">50.0%<"), big1);
    const big2 = overviewRow(html, "big-2");
    assert.ok(big2.includes(">123456789012345678901234567890<"), big2);
    assert.ok(big2.includes(">1e+308\u00d7100%<"), big2);
    assert.ok(!html.includes("Infinity%"));

    // A key holding a control character is itself in an option's value, escaped in its label.
    assert.ok(html.includes(`value="stop${BEL}pct"`), "the heatmap's option carries the key");
    assert.ok(html.includes(">stop\\x07pct<"), "its label shows the escape");

    // Per-caller values as stored, formatted once (rounded to 4 decimals first, 1/15 showed as
    // 0.06670 and a rate under 5e-5 as 0).
    const runDir = join(root, "artifacts", "runs", "dot-a");
    await Deno.mkdir(runDir, { recursive: true });
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    try {
      await conn.run(
        `COPY (SELECT * FROM (VALUES ('amy', 15, 1 / 15), ('bob', 3, 0.00003::DOUBLE))
          t(caller, count, win_rate)) TO '${
          join(runDir, "caller_summary.parquet")
        }' (FORMAT parquet)`,
      );
    } finally {
      conn.disconnectSync();
      db.closeSync();
    }
    // The compare: the key "a.b" and the path a -> b are two rows, as `ledger compare` has them.
    const cmp = join(dir, "c.html");
    const compared = await runLedger(["report", "dot-a", "dot-b", "--root", root, "--out", cmp]);
    assert.equal(compared.code, 0, compared.stderr);
    const page = await Deno.readTextFile(cmp);
    assert.deepEqual(tableRows(page, "Config that differs"), [["a\\.b", "1", "2"]]);
    assert.deepEqual(tableRows(page, "Summary"), [["x.y", "5", "5"], ["x\\.y", "5", "6"]]);
    assert.ok(page.includes(`data-v="${1 / 15}">0.06667<`), "amy's win rate");
    assert.ok(page.includes('data-v="0.00003">0.00003<'), "bob's win rate");
    const cli = await runLedger(["compare", "dot-a", "dot-b", "--json", "--root", root]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(Object.keys(JSON.parse(cli.stdout).config), ["a\\.b"]);

    // The UI: the same compare, and a run type with a control character in the type filter.
    const ui = await startUi(root);
    try {
      const live = await (await fetch(`${ui.url}/compare?run=dot-a&run=dot-b`)).text();
      assert.deepEqual(tableRows(live, "Config that differs"), [["a\\.b", "1", "2"]]);
      const home = await (await fetch(`${ui.url}/?all=1`)).text();
      assert.ok(home.includes(`value="pol${BEL}icy"`), "the type option carries the type");
      const chosen = await (await fetch(`${ui.url}/?type=${encodeURIComponent(`pol${BEL}icy`)}`))
        .text();
      assert.match(chosen, /bel-type/);
      assert.ok(chosen.includes(`<option selected value="pol${BEL}icy">`), "kept chosen");
      const searched = await (await fetch(`${ui.url}/?q=${encodeURIComponent(`a${BEL}"b`)}`))
        .text();
      assert.ok(searched.includes(`name="q" value="a${BEL}&quot;b"`), "the search box as typed");
    } finally {
      await ui.stop();
    }
  });
});

Deno.test({
  name:
    "report in a browser: archived runs filter by status, phase names escaped, long labels wrap",
  ignore: chromiumMissing("hostile_text_test"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      const { out, html } = await probeReport(dir);
      await withChromiumPage(async (page) => {
        await page.goto(`file://${out}`);
        await waitForCharts(page, "section.active");
        // The long label wraps: its cell stays narrow (it grew to 3,700 px, the other columns
        // off the window).
        const cells = await page.locator("section.active table#runs td.id")
          .evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect().width));
        assert.ok(Math.max(...cells) < 640, `run cells ${cells} px wide`);
        // big-2 is archived and completed: "completed" keeps it.
        const status = page.locator('section.active select[data-filter-status="runs"]');
        await status.selectOption("completed");
        const shown = await page.locator("section.active table#runs tbody tr:not([hidden])")
          .evaluateAll((rows) => rows.map((r) => r.querySelector("td")?.textContent ?? ""));
        assert.ok(shown.some((id) => id.startsWith("big-2")), JSON.stringify(shown));
        assert.ok(shown.some((id) => id.startsWith("big-1")), JSON.stringify(shown));

        // And in the compare's legend.
        await page.goto(`file://${out}#compare`);
        await waitForCharts(page, "section.active");
        const legend = await page.locator("section.active table.legend").evaluate((table) => [
          table.getBoundingClientRect().width,
          table.parentElement?.clientWidth ?? 0,
        ]);
        assert.ok(legend[0] <= legend[1], `the legend ${legend[0]} px wide in ${legend[1]} px`);

        // The phase's name reads as written, escaped, on the axis and in its tooltip.
        const spoof = runSectionId(html, "spoof");
        await page.goto(`file://${out}#${spoof}`);
        await waitForCharts(page, "section.active");
        const figure = `section.active figure.chart[data-key="${spoof}-phases"] svg`;
        const ticks = await page.locator(`${figure} g[aria-label="y-axis tick label"] text`)
          .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ""));
        assert.deepEqual(ticks, ["\\u202eetupmoc"]);
        const titles = await page.locator(`${figure} title`)
          .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ""));
        assert.deepEqual(titles, ["\\u202eetupmoc: 40 ms"]);

        // The key with a control character: the heatmap groups by its values, 1 and 2.
        const sweep = runSectionId(html, "bel-sweep");
        await page.goto(`file://${out}#${sweep}`);
        await waitForCharts(page, "section.active");
        const heatmap = await page.locator("section.active figure.chart[data-chart=heatmap]")
          .getAttribute("data-key");
        assert.ok(heatmap);
        const axes = await page.locator(
          `section.active figure.chart[data-key="${heatmap}"] svg g[aria-label="x-axis tick label"] text`,
        ).evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ""));
        assert.deepEqual(axes, ["1", "2"]);
      }, { width: 1280, height: 900 });
    });
  },
});
