/**
 * The report and the UI show a value as the log holds it (a fidelity
 * audit): integers past 2^53 digit for digit, in the compare's "Config that
 * differs", the run page's config and the chart data the page parses; and
 * control characters as escapes, never raw (a page drops a NUL, so
 * `"a\u0000b"` and `"ab"` looked the same).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { escapeHtml, jsonForScript, renderSweep } from "../../report/html.ts";
import { flatten, parseJsonLoose, type TrialView } from "../../report/data.ts";
import { startUi } from "./_fixture.ts";

/** Two runs whose configs differ only where a double or a page would hide it. */
const CONFIGS = {
  a: '{"seed":9007199254740993,"u64":18446744073709551615,"s":"a\\u0000b","nl":"x\\ny","k":1,' +
    '"e":"p\\nq","w":"x","ws":"a  b","nb":"c d"}',
  b: '{"seed":9007199254740992,"u64":18446744073709551614,"s":"ab","nl":"x y","k":1,' +
    '"e":"p\\\\nq","w":"x ","ws":"a b","nb":"c\\u00a0d"}',
};

/** The rows of the "Config that differs" table: path and the cells, as HTML text. */
function configDiffRows(html: string): string[][] {
  const start = html.indexOf("<h2>Config that differs</h2>");
  assert.ok(start >= 0, "the compare has its config table");
  const table = html.slice(start, html.indexOf("</table>", start));
  return [...table.matchAll(/<tr><td class="id">(.*?)<\/tr>/g)].map((m) =>
    [...`<td class="id">${m[1]}`.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1])
  );
}

const EXPECTED_ROWS = [
  // A newline and the two characters `\n` print alike: the row is written as JSON (a review).
  ["e", "&quot;p\\nq&quot;", "&quot;p\\\\nq&quot;"],
  // A no-break space looks like a space: escaped (a probe).
  ["nb", "&quot;c d&quot;", "&quot;c\\u00a0d&quot;"],
  ["nl", "x\\ny", "x y"],
  ["s", "a\\x00b", "ab"],
  ["seed", "9007199254740993", "9007199254740992"],
  ["u64", "18446744073709551615", "18446744073709551614"],
  // A trailing space does not show on a page (a review): quoted.
  ["w", "&quot;x&quot;", "&quot;x &quot;"],
  // Two spaces fold into one on a page: quoted, in a cell that keeps them (td.val).
  ["ws", "&quot;a  b&quot;", "&quot;a b&quot;"],
];

Deno.test("report building blocks keep integers past 2^53 and show control characters", () => {
  const config = parseJsonLoose('{"seed": 9007199254740993, "x": {"y": 0.5}}', {
    exactIntegers: true,
  });
  const flat = flatten(config);
  assert.deepEqual(Object.keys(flat), ["seed", "x.y"]); // the exact integer is a leaf
  assert.equal(JSON.stringify(flat.seed), "9007199254740993");
  // The page's JSON.parse would round it: the chart data carries its digits as text.
  assert.deepEqual(JSON.parse(jsonForScript(flat)), { seed: "9007199254740993", "x.y": 0.5 });
  assert.equal(escapeHtml("a\u0000b\u202e<\n"), "a\\x00b\\u202e&lt;\n");
});

Deno.test("ledger report and ledger ui: the compare tells apart what a double or a page hid", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    for (const [runId, config] of Object.entries(CONFIGS)) {
      const emitted = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.created",
        "--run-id",
        runId,
        "--run-type",
        "t",
        "--data-fingerprint",
        "fp",
        "--config",
        config,
      ]);
      assert.equal(emitted.code, 0, emitted.stderr);
    }
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const out = join(dir, "r.html");
    const report = await runLedger(["report", "a", "b", "--root", root, "--out", out]);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    assert.deepEqual(configDiffRows(html), EXPECTED_ROWS);
    assert.match(html, /td\.val\{white-space:pre\}/);
    assert.match(html, /<td class="num val">&quot;a {2}b&quot;<\/td>/);
    assert.equal(html.includes("\u0000"), false, "no raw NUL in the page");
    assert.ok(html.includes("&quot;seed&quot;: 9007199254740993"), "run a's config, exact");
    assert.ok(html.includes("&quot;u64&quot;: 18446744073709551614"), "run b's config, exact");
    const ui = await startUi(root);
    try {
      const page = await (await fetch(`${ui.url}/compare?run=a&run=b`)).text();
      assert.deepEqual(configDiffRows(page), EXPECTED_ROWS);
      assert.equal(page.includes("\u0000"), false, "no raw NUL in the UI's page");
    } finally {
      await ui.stop();
    }
  });
});

// A review: a metric past 2^53 was no colour choice of the heatmap and no column of its table.
Deno.test("renderSweep: a metric past 2^53 colours the heatmap and shows whole in the table", () => {
  const trials: TrialView[] = ["9007199254740993", "9007199254740995"].map((big, i) => ({
    trial_id: `t${i}`,
    params: flatten({ type: "fixed_stop", stopPct: [0.1, 0.2][i] }),
    metrics: flatten(parseJsonLoose(`{"calls": 2, "notional": ${big}}`, { exactIntegers: true })),
  }));
  const { html, charts } = renderSweep(trials, "s");
  assert.ok(html.includes('value="notional"'), "a colour choice");
  assert.ok(html.includes(">9007199254740993<") && html.includes(">9007199254740995<"), html);
  // The table sorts it by its digits (a review: data-v was empty, so it always sorted last).
  assert.ok(html.includes('data-v="9007199254740993">9007199254740993<'), html);
  assert.deepEqual((charts.s as { m: Record<string, unknown> }[]).map((r) => r.m.notional), [
    9007199254740992,
    9007199254740996,
  ]);
});

// A review: the heatmap's axis sorted integers past 2^53 (carried as digits in strings) as text,
// "10000000000000000000" before "9007199254740992"; the page's sort does the same for its table.
Deno.test("the page orders integers past 2^53 by value, beside numbers", () => {
  const client = Deno.readTextFileSync(new URL("../../report/_client.js", import.meta.url));
  const start = client.indexOf("  const INTEGER_TEXT =");
  const end = client.indexOf("\n  }\n", client.indexOf("function compareValues")) + 4;
  assert.ok(start > 0 && end > start, "compareValues is in the page's script");
  const compareValues = new Function(`${client.slice(start, end)}; return compareValues;`)() as (
    a: unknown,
    b: unknown,
  ) => number;
  // A review: 95.5 sorted after the digits, a fraction against them fell back to text.
  const sorted = [
    "10000000000000000000",
    5,
    95.5,
    "9007199254740993",
    "-9007199254740993",
    0.5,
    -2.5,
  ]
    .concat(["x"]).sort(compareValues);
  assert.deepEqual(sorted, [
    "-9007199254740993",
    -2.5,
    0.5,
    5,
    95.5,
    "9007199254740993",
    "10000000000000000000",
    "x",
  ]);
  assert.deepEqual([95.5, "9007199254740993", 3].sort(compareValues), [
    3,
    95.5,
    "9007199254740993",
  ]);
});

// A probe: labels `two\nlines` and `two lines` read the same, as did tag values `a\tb` and
// `a b`: the page folded the break into a space (the compare's config table escaped it).
Deno.test("ledger report and ledger ui: a label or tag with a line break or tab shows it", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const created = (id: string) =>
      JSON.stringify({
        event_type: "run.created",
        run_id: id,
        run_type: "policy",
        config: {},
        data_fingerprint: "fp",
      });
    const tagged = (id: string, tags: Record<string, string>) =>
      JSON.stringify({ event_type: "run.tagged", run_id: id, tags });
    const lines = [
      created("nl1"),
      created("nl2"),
      tagged("nl1", { label: "two\nlines", k: "a\tb" }),
      tagged("nl2", { label: "two lines", k: "a b" }),
    ];
    const emitted = await runLedger(["emit", "--stdin", "--root", root], {
      stdin: lines.join("\n") + "\n",
    });
    assert.equal(emitted.code, 0, emitted.stderr);
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const out = join(dir, "r.html");
    const report = await runLedger(["report", "nl1", "nl2", "--root", root, "--out", out]);
    assert.equal(report.code, 0, report.stderr);
    const ui = await startUi(root);
    try {
      const pages = {
        report: await Deno.readTextFile(out),
        "ui run": await (await fetch(`${ui.url}/run/nl1`)).text(),
        "ui overview": await (await fetch(`${ui.url}/`)).text(),
      };
      for (const [name, html] of Object.entries(pages)) {
        assert.ok(html.includes("two\\nlines"), `${name}: the label's break shown`);
        assert.ok(!html.includes("two\nlines"), `${name}: no raw break in the label`);
      }
      for (const html of [pages.report, pages["ui run"]]) {
        assert.ok(html.includes("<dt>k</dt><dd>a\\tb</dd>"), "the tag's tab shown");
      }
    } finally {
      await ui.stop();
    }
  });
});
