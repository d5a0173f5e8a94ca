/**
 * HTML of the report and the UI: the page shell (styles, inline data, the
 * chart library and the client script), the runs overview, the page of one
 * run, the compare of several runs and a sweep's heatmap. Every text from the
 * ledger goes through {@linkcode escapeHtml}; data for the charts goes in one
 * `application/json` script through {@linkcode jsonForScript}, so a run id
 * like `<script>` shows as text and runs nothing.
 *
 * The same section functions serve both: the report links to `#run-3`
 * anchors in one file, the UI to `/run/<id>` pages ({@linkcode Links}).
 *
 * @module
 */
import type {
  ArtifactProblem,
  Bin,
  DayCount,
  Overview,
  OverviewMetric,
  OverviewRun,
  RunView,
  TrialView,
} from "./data.ts";
import {
  bestTrialId,
  CALLER_SUMMARY_FILE,
  flatten,
  HISTOGRAM_VALUE_ABS_MAX,
  MANIFEST_FILE,
  sortDirection,
  tradesFileOf,
} from "./data.ts";
import { assert } from "../ledger/assert.ts";
import { distinctCells, escapeControl, escapeHiddenControl } from "../ledger/control_text.ts";
import { countOf, shownAndMore } from "../ledger/count_text.ts";
import { isExactInteger, isJsonObject } from "../ledger/json_text.ts";
import { dataComparison } from "../ledger/fingerprint.ts";
import { flatPathName } from "../indexer/query/flat_path.ts";
import { jsonText } from "../indexer/query/_json.ts";
import { setOwn } from "../indexer/query/compare.ts";
import { objectiveRankValue, type RankedMetrics, SWEEP_OBJECTIVES } from "../backtest/sweep.ts";

export { countOf };

/** Chart data by chart key, carried in the page as JSON. */
export type ChartData = Record<string, unknown>;

/** How a view links to another one. */
export interface Links {
  /** The overview. */
  overview: string;
  /** The page (or anchor) of a run. */
  run(runId: string): string;
  /** The compare of runs. */
  compare(runIds: readonly string[]): string | null;
}

/** A rendered view: its HTML and the data of its charts. */
export interface Fragment {
  /** HTML. */
  html: string;
  /** Chart data by key. */
  charts: ChartData;
}

/**
 * Escape text for HTML content and attribute values.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeHtml } from "./html.ts";
 * assert.equal(escapeHtml("<script>"), "&lt;script&gt;");
 * ```
 */
export function escapeHtml(text: unknown): string {
  // Control characters other than line breaks as escapes: a page drops a NUL and hides the
  // others (a fidelity audit: "a\u0000b" against "ab" showed `ab | ab` in a compare).
  return escapeHiddenControl(String(text ?? "")).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * {@linkcode escapeHtml} of a value shown on one line (a run id, a label, a
 * tag, a reason): its line breaks and tabs as escapes too, as the terminal's
 * tables show them (a probe: labels `two\nlines` and `two lines` read the
 * same, the page folding the break into a space).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeLine } from "./html.ts";
 * assert.equal(escapeLine("two\nlines <b>"), "two\\nlines &lt;b&gt;");
 * ```
 */
export function escapeLine(text: unknown): string {
  return escapeHtml(escapeControl(String(text ?? "")));
}

/**
 * Escape text for an attribute value a page reads back (an `<option value>`,
 * a search box, a chart's key): only what would end or start markup, so a
 * control character stays itself where {@linkcode escapeHtml} shows it as an
 * escape (a probe: the option of a run type holding U+0007 submitted the
 * escape's text and found 0 runs). A carriage return is a reference, which
 * the parser does not turn into a line feed; a NUL cannot be carried (the
 * parser makes it U+FFFD).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeAttribute } from "./html.ts";
 * assert.equal(escapeAttribute('a"\u0007\r'), "a&quot;\u0007&#13;");
 * ```
 */
export function escapeAttribute(text: unknown): string {
  return String(text ?? "").replace(/[&<>"'\r]/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = {
  "\r": "&#13;",
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * JSON for an inline `<script type="application/json">`: `<`, `>`, `&` and the
 * line separators are escaped, so no value can close the script element.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { jsonForScript } from "./html.ts";
 * assert.doesNotMatch(jsonForScript({ id: "</script>" }), /<\//);
 * ```
 */
export function jsonForScript(value: unknown): string {
  // An integer past 2^53 as its digits in a string: the page's JSON.parse would round two
  // seeds into one value (a fidelity audit: a sweep's heatmap merged distinct seeds).
  return JSON.stringify(value, (_key, v) => isExactInteger(v) ? v.rawJSON : v)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Options for {@linkcode renderPage}. */
export interface PageOptions {
  /** Page title. */
  title: string;
  /** The body: navigation and sections. */
  body: string;
  /** Chart data of every section. */
  charts: ChartData;
  /** Inline scripts (library first, then the client), or `src` URLs of the same origin. */
  scripts: { inline?: string; src?: string }[];
  /** `file` (one page, sections switched by `#hash`) or `live` (one section per page). */
  mode: "file" | "live";
}

/** Content Security Policy of the report file: nothing may leave the page. */
export const FILE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";
/**
 * Content Security Policy of the UI: scripts of the same origin only, no other host. No
 * inline script runs: the UI's pages load theirs from /assets/ (the data script is JSON).
 */
export const LIVE_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; " +
  "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** A whole HTML page. */
export function renderPage(options: PageOptions): string {
  return renderPageParts({ ...options, body: [options.body] }).join("");
}

/** Options for {@linkcode renderPageParts}: {@linkcode PageOptions} with the body in pieces. */
export interface PagePartsOptions extends Omit<PageOptions, "body"> {
  /** The body in pieces, in order (joined, they are {@linkcode PageOptions.body}). */
  body: readonly string[];
}

/**
 * The page of {@linkcode renderPage} in pieces, in order: the body's pieces
 * stay apart, so a page larger than a JavaScript string can hold (V8: about
 * 512M characters; 230 runs with 100-900 KB configs) can still be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renderPage, renderPageParts } from "./html.ts";
 * const page = { title: "t", charts: {}, scripts: [], mode: "file" as const };
 * assert.equal(renderPageParts({ ...page, body: ["<p>a</p>", "<p>b</p>"] }).join(""),
 *   renderPage({ ...page, body: "<p>a</p><p>b</p>" }));
 * ```
 */
export function renderPageParts(options: PagePartsOptions): string[] {
  const scripts = options.scripts.map((s) =>
    s.src !== undefined
      ? `<script src="${escapeHtml(s.src)}"></script>`
      // A library's text may hold "</script" inside strings: split it so the element stays whole.
      : `<script>${(s.inline ?? "").replace(/<\/script/gi, "<\\/script")}</script>`
  ).join("\n");
  // The UI sends its policy as a header (a <meta> cannot carry frame-ancestors).
  const csp = options.mode === "file"
    ? `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(FILE_CSP)}">\n`
    : "";
  const head = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
${csp}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style></head>
<body data-mode="${options.mode}">
`;
  const tail = `
<script type="application/json" id="ledger-data">${
    jsonForScript({ charts: options.charts })
  }</script>
${scripts}
</body></html>
`;
  return [head, ...options.body, tail];
}

const STYLE = `
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;--accent:#2f6fdf}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.top{display:flex;gap:18px;align-items:baseline;padding:10px 24px;background:#1d2330;color:#fff}
header.top a{color:#cfe0ff;text-decoration:none}header.top strong{font-size:16px}
main{padding:16px 24px;max-width:1280px}
section.view{display:block}body[data-mode=file] section.view{display:none}
body[data-mode=file] section.view.active{display:block}
h1{font-size:20px;margin:4px 0 12px;word-break:break-all}h2{font-size:16px;margin:22px 0 8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin:0 0 14px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:14px;margin:0 0 14px}
.grid .card{margin:0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);white-space:nowrap}
th[data-sort]{cursor:pointer;user-select:none}th[data-sort]:hover{color:var(--accent)}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num,th.num{text-align:right;white-space:nowrap}td.val{white-space:pre}
td.id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;word-break:break-all}
pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto;max-height:340px;font-size:12px;margin:0}
.status{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;color:#fff}
.status-completed{background:#2e8540}.status-failed{background:#c62828}.status-running{background:#2f6fdf}
.status-pending{background:#8a94a3}.status-stale{background:#d97706}
.muted{color:var(--muted)}.toolbar{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:0 0 10px}
input,select,button{font:inherit;padding:3px 6px}
figure.chart{margin:0;min-height:60px}figure.chart figcaption{font-weight:600;margin:0 0 4px}
figure.chart .empty{color:var(--muted);font-style:italic}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;word-break:break-all}
a{color:var(--accent)}
.label{color:var(--muted);font-family:system-ui,sans-serif;font-size:12.5px;white-space:normal;overflow-wrap:anywhere}p.label{margin:-8px 0 12px;font-size:14px}
table.legend td{overflow-wrap:anywhere}.scroll{overflow-x:auto}.scroll td.id{white-space:nowrap;word-break:normal}
ul.notes{margin:8px 0 0;padding-left:18px}ul.notes li{white-space:pre-wrap;margin:2px 0}
p.archived{margin:0 0 8px}
p.artifact-problem{color:#9a3412;margin:4px 0;word-break:break-word}
.card > h2:first-child{margin-top:0}
.pager{display:flex;gap:12px;align-items:center;margin:10px 0}
`;

/** The header bar with the way back to the overview. */
export function renderHeader(links: Links, extra = ""): string {
  return `<header class="top"><strong>ledger</strong>` +
    `<a href="${escapeHtml(links.overview)}">Runs</a>${extra}</header>`;
}

/** Options for {@linkcode renderOverview}. */
export interface OverviewOptions {
  /** Where links go. */
  links: Links;
  /** A line above the table about what it leaves out (escaped here). */
  notice?: string;
  /** The live UI's pager and filter form; absent in the report (all rows, filtered in page). */
  live?: {
    query: {
      status?: string | readonly string[];
      runType?: string | readonly string[];
      text?: string;
      sort?: string;
      ascending?: boolean;
      where?: string;
      includeArchived?: boolean;
    };
    offset: number;
    limit: number;
    facets: { types: string[]; statuses: string[] };
    /** The URL of another page of the same query. */
    pageUrl(offset: number): string;
  };
}

/** The runs overview: runs per day by status and the sortable, filterable table. */
export function renderOverview(overview: Overview, options: OverviewOptions): Fragment {
  const { links, live } = options;
  const statuses = live?.facets.statuses ?? [...new Set(overview.runs.map((r) => r.status))];
  const rowsHtml = overview.runs.map((r) => overviewRow(r, links)).join("\n");
  const filter = live === undefined
    ? `<div class="toolbar"><input type="search" data-filter="runs" placeholder="filter runs" ` +
      `aria-label="filter runs"><select data-filter-status="runs" aria-label="status">` +
      `<option value="">any status</option>${
        statuses.map((s) => `<option>${escapeHtml(s)}</option>`).join("")
      }</select><span class="muted" data-count="runs">${
        overview.total > overview.runs.length
          ? `${overview.runs.length} of ${countOf(overview.total, "run")}`
          : countOf(overview.runs.length, "run")
      }</span></div>`
    : liveFilterForm(overview, live);
  const compareIds = overview.runs.slice(0, 6).map((r) => r.run_id);
  const compareHref = compareIds.length >= 2 ? links.compare(compareIds) : null;
  const days = dayWindow(overview.days);
  const outside = days.outside.length === 0
    ? ""
    : ` <span class="muted" data-days-outside>${escapeHtml(outsideText(days.outside))}</span>`;
  const html = `<h1>Runs</h1>
<div class="card"><figure class="chart" data-chart="days" data-key="days">
<figcaption>Runs per day by status${outside}</figcaption></figure></div>
<div class="card">${filter}${
    options.notice === undefined
      ? ""
      : `\n<p class="muted" data-notice>${escapeHtml(options.notice)}</p>`
  }
<div class="scroll"><table id="runs" data-sortable><thead><tr>
<th data-sort="text">run</th><th data-sort="text">type</th><th data-sort="text">status</th>
<th data-sort="text">created (UTC)</th><th data-sort="num" class="num">duration</th>
<th data-sort="num" class="num">calls</th><th data-sort="num" class="num">win rate</th>
<th data-sort="num" class="num">mean return (bps)</th></tr></thead>
<tbody>${rowsHtml}</tbody></table></div>${
    overview.runs.some((r) => r.best_trial_fields.length > 0)
      ? `\n<p class="muted" data-best-trial-note>* the run's best trial's value ` +
        `(summary.best_trial.metrics), its summary having none of its own, as a sweep's.</p>`
      : ""
  }
${live === undefined ? "" : pager(overview, live)}
${
    compareHref === null
      ? ""
      : `<p><a href="${
        escapeHtml(compareHref)
      }">Compare the ${compareIds.length} runs shown first</a></p>`
  }
</div>`;
  return { html, charts: { days: days.shown satisfies DayCount[] } };
}

/**
 * Most days the runs-per-day chart spans: a year, where a day's bar is still
 * a few pixels wide. One run dated 1970 or 9999 (a wrong clock; EVENTS.md
 * takes times to year 9999) stretched it over 8,000 years: every bar under
 * a pixel, none drawn (an audit).
 */
export const CHART_DAYS_MAX = 366;
/** Days outside the chart's window that its caption names (then "and N more"). */
const OUTSIDE_DAYS_SHOWN_MAX = 5;
const DAY_MS = 86_400_000;

/**
 * The days of `days` the runs-per-day chart draws, and those it leaves out:
 * all of them when they span at most {@linkcode CHART_DAYS_MAX} days, else
 * the window of that many days that holds the most runs (the latest of
 * equal ones), the others said in the chart's caption.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dayWindow } from "./html.ts";
 * const days = ["1970-01-01", "2026-03-01", "2026-03-02", "9999-12-31"]
 *   .map((day) => ({ day, status: "completed", count: 1 }));
 * const { shown, outside } = dayWindow(days);
 * assert.deepEqual(shown.map((d) => d.day), ["2026-03-01", "2026-03-02"]);
 * assert.deepEqual(outside.map((d) => d.day), ["1970-01-01", "9999-12-31"]);
 * ```
 */
export function dayWindow(days: readonly DayCount[]): { shown: DayCount[]; outside: DayCount[] } {
  const totals = new Map<number, number>(); // runs by day number, since 1970-01-01
  for (const d of days) {
    const at = dayNumber(d.day);
    totals.set(at, (totals.get(at) ?? 0) + d.count);
  }
  const dayNumbers = [...totals.keys()].sort((a, b) => a - b);
  if (dayNumbers.length === 0 || dayNumbers.at(-1)! - dayNumbers[0] < CHART_DAYS_MAX) {
    return { shown: [...days], outside: [] };
  }
  // Each window ends on a day that has runs; its first day is the earliest within reach.
  let best = { first: 0, last: 0, runs: -1 };
  let first = 0;
  let runs = 0;
  for (const [last, at] of dayNumbers.entries()) {
    runs += totals.get(at)!;
    while (at - dayNumbers[first] >= CHART_DAYS_MAX) runs -= totals.get(dayNumbers[first++])!;
    if (runs >= best.runs) best = { first, last, runs };
  }
  const from = dayNumbers[best.first];
  const to = dayNumbers[best.last];
  const inside = (d: DayCount) => {
    const at = dayNumber(d.day);
    return at >= from && at <= to;
  };
  return { shown: days.filter(inside), outside: days.filter((d) => !inside(d)) };
}

/** The days from 1970-01-01 to `day` (`YYYY-MM-DD`, UTC). */
function dayNumber(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / DAY_MS;
}

/** What the chart's caption says of the runs outside its window: how many, and on which days. */
function outsideText(outside: readonly DayCount[]): string {
  const byDay = new Map<string, number>();
  for (const d of outside) byDay.set(d.day, (byDay.get(d.day) ?? 0) + d.count);
  const runs = [...byDay.values()].reduce((n, c) => n + c, 0);
  const named = [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(0, OUTSIDE_DAYS_SHOWN_MAX)
    .map(([day, count]) => `${day} (${count})`);
  return `(not drawn: ${countOf(runs, "run")} outside these dates, created ${
    shownAndMore(named, byDay.size)
  })`;
}

function overviewRow(r: OverviewRun, links: Links): string {
  const cell = (v: number | null, text: string, field?: OverviewMetric) =>
    field !== undefined && r.best_trial_fields.includes(field)
      ? `<td class="num" data-v="${v ?? ""}" title="the sweep's best trial's">${
        escapeHtml(text)
      }<span class="best-trial">*</span></td>`
      : `<td class="num" data-v="${v ?? ""}">${escapeHtml(text)}</td>`;
  const label = r.label === null ? "" : `<br><span class="label">${escapeLine(r.label)}</span>`;
  return `<tr><td class="id"><a href="${escapeHtml(links.run(r.run_id))}">${
    escapeLine(r.run_id)
  }</a>${label}</td><td>${escapeLine(r.run_type ?? "-")}</td><td>${statusBadges(r)}</td>` +
    `<td data-v="${r.created_at_ms ?? ""}">${escapeHtml(formatTime(r.created_at_ms))}</td>` +
    cell(r.duration_ms, formatDuration(r.duration_ms)) +
    cell(r.calls, r.calls === null ? "-" : r.exact_digits.calls ?? String(r.calls), "calls") +
    cell(
      r.win_rate,
      r.win_rate === null ? "-" : percentText(r.win_rate, r.exact_digits.win_rate),
      "win_rate",
    ) +
    cell(
      r.mean_return_bps,
      r.mean_return_bps === null
        ? "-"
        : r.exact_digits.mean_return_bps ?? bpsText(r.mean_return_bps),
      "mean_return_bps",
    ) +
    `</tr>`;
}

/**
 * A fraction as a percentage with one decimal; `digits`, an integer's exact
 * digits, times 100 exactly; a fraction whose percentage is past a double
 * (`1e308`) as itself times 100 rather than `Infinity%` (a probe).
 */
function percentText(v: number, digits: string | undefined): string {
  if (digits !== undefined) return `${digits}00%`;
  if (!Number.isFinite(v * 100)) return `${v}\u00d7100%`;
  // More decimals while one would write 100% or 0% of a share that is not (a probe: a win rate
  // of 0.9996, a run that lost one trade of 2,500, read 100.0%).
  let decimals = 1;
  const near = (text: string) => (v < 1 && Number(text) >= 100) || (v > 0 && Number(text) <= 0);
  while (decimals < 6 && near(fixed(v * 100, decimals))) decimals++;
  return `${fixed(v * 100, decimals)}%`;
}

/**
 * A mean in bps, whole, with more decimals while whole would write a mean
 * that is not 0 as `0` (a probe: 0.00005 bps and -0.4 bps read `0`, as a
 * run that broke even reads), up to 6.
 */
function bpsText(v: number): string {
  let decimals = 0;
  while (decimals < 6 && v !== 0 && Number(fixed(v, decimals)) === 0) decimals++;
  return fixed(v, decimals);
}

/**
 * `v` with `digits` decimals, never a negative zero: `-0.0000001` with one
 * decimal is `0.0`, not `-0.0` (a probe: `-0`).
 */
function fixed(v: number, digits: number): string {
  const text = v.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

function liveFilterForm(
  overview: Overview,
  live: NonNullable<OverviewOptions["live"]>,
): string {
  const q = live.query;
  // Several values chosen (`?status=a&status=b`): a multiple select that keeps them all.
  const select = (
    name: string,
    label: string,
    values: string[],
    current?: string | readonly string[],
  ) => {
    const chosen = typeof current === "string" ? [current] : current ?? [];
    return `<select name="${name}" aria-label="${label}"${
      chosen.length > 1 ? " multiple" : ""
    }><option value="">any ${label}</option>${
      values.map((v) =>
        `<option${chosen.includes(v) ? " selected" : ""} value="${escapeAttribute(v)}">${
          escapeHtml(v)
        }</option>`
      ).join("")
    }</select>`;
  };
  // A field sort (`?sort=summary.win_rate`) is kept as an option of its own, selected. A
  // direction its text names (`duration_ms:asc`, which wins over `dir`) moves to the direction
  // menu, so that the menu shows it and changing the menu changes the order (the menu showed
  // `desc` beside a page sorted ascending, and choosing `asc` or `desc` changed nothing).
  const ownSorts = ["created", "run_id", "run_type", "status", "duration"];
  const named = q.sort === undefined ? undefined : sortDirection(q.sort);
  const sort = named?.field;
  const ascending = named?.ascending ?? q.ascending;
  const sorts = sort === undefined || ownSorts.includes(sort) ? ownSorts : [...ownSorts, sort];
  return `<form class="toolbar" method="get" action="/">` +
    `<input type="search" name="q" value="${escapeAttribute(q.text ?? "")}" ` +
    `placeholder="run id contains" aria-label="run id contains">` +
    `<input type="search" name="where" value="${escapeAttribute(q.where ?? "")}" size="28" ` +
    `placeholder="where: summary.win_rate > 0.3" aria-label="where">` +
    select("status", "status", live.facets.statuses, q.status) +
    select("type", "type", live.facets.types, q.runType) +
    `<select name="sort" aria-label="sort">${
      sorts.map((s) =>
        `<option${s === (sort ?? "created") ? " selected" : ""}>${escapeHtml(s)}</option>`
      ).join("")
    }</select><select name="dir" aria-label="direction"><option value="desc">desc</option>` +
    `<option value="asc"${ascending ? " selected" : ""}>asc</option></select>` +
    `<label><input type="checkbox" name="all" value="1"${
      q.includeArchived ? " checked" : ""
    }> archived too</label>` +
    `<button type="submit">Apply</button>` +
    `<span class="muted">${countOf(overview.total, "run")}</span></form>`;
}

function pager(overview: Overview, live: NonNullable<OverviewOptions["live"]>): string {
  if (overview.runs.length === 0 && overview.total > 0) {
    // Past the end (an audit: "501-100 of 100"): say so, and link the last page.
    const last = Math.floor((overview.total - 1) / live.limit) * live.limit;
    return `<div class="pager"><a href="${escapeHtml(live.pageUrl(last))}">last page</a>` +
      `<span class="muted">no runs from ${
        live.offset + 1
      } on: ${overview.total} in all</span></div>`;
  }
  const from = overview.total === 0 ? 0 : live.offset + 1;
  const to = Math.min(overview.total, live.offset + overview.runs.length);
  const prev = live.offset > 0
    ? `<a href="${escapeHtml(live.pageUrl(Math.max(0, live.offset - live.limit)))}">previous</a>`
    : "";
  const next = to < overview.total
    ? `<a href="${escapeHtml(live.pageUrl(live.offset + live.limit))}">next</a>`
    : "";
  return `<div class="pager">${prev}<span class="muted">${from}-${to} of ${overview.total}</span>${next}</div>`;
}

/** The page of one run; `key` keeps its chart keys apart from other runs'. */
export function renderRun(view: RunView, key: string): Fragment {
  const r = view.run;
  const charts: ChartData = {};
  const parts: string[] = [];
  parts.push(
    `<h1>${escapeLine(r.run_id)} ${statusBadges(r)}</h1>`,
  );
  if (r.label !== null) parts.push(`<p class="label">${escapeLine(r.label)}</p>`);
  parts.push(`<div class="grid"><div class="card">${
    kv([
      ["type", r.run_type ?? "-"],
      // Times are UTC, said as the runs table's header says it (a review: the run and
      // compare pages did not).
      ["created (UTC)", formatTime(r.created_at_ms)],
      ["started (UTC)", formatTime(r.started_at_ms)],
      ["ended (UTC)", formatTime(r.ended_at_ms)],
      ["duration", formatDuration(r.duration_ms)],
      ["events", String(r.event_count)],
      ["process", r.host === null ? "-" : `${r.host} pid ${r.pid ?? "?"}`],
      ["data", r.data_fingerprint ?? "-"],
      ["git", gitText(view)],
    ])
  }</div>`);
  charts[`${key}-phases`] = view.phases;
  parts.push(chartCard("phases", `${key}-phases`, "Phase timeline (ms from the first phase)"));
  parts.push(`</div>`);
  const annotations = annotationsCard(view);
  if (annotations !== "") parts.push(annotations);
  if (r.error !== null) {
    // The phase it failed in, as its run.failed names it (a probe: the page did not say).
    const phase = r.failed_phase === null ? "" : ` in phase ${escapeHtml(r.failed_phase)}`;
    parts.push(
      `<div class="card"><h2>Error${phase}</h2><pre>${escapeHtml(pretty(r.error))}</pre></div>`,
    );
  }
  const tradesProblem = problemOf(view, tradesFileOf(r.run_type));
  // A sweep's curve and histograms are its best trial's: said in each title.
  const bestTrial = r.run_type === "sweep" ? bestTrialId(r.summary) : null;
  const whose = bestTrial === null ? "" : `, best trial ${bestTrial}`;
  if (tradesProblem !== null) {
    // In place of the equity curve and the histograms (an audit: one unreadable file failed
    // the whole report, and a missing one left them out unsaid).
    parts.push(problemCard("Equity curve and histograms", tradesProblem));
  } else if (view.trades !== null && view.trades.count === 0) {
    // Its per-call results hold no trade: an audit found such a run with no word of it.
    parts.push(
      `<div class="card"><h2>No trades</h2><p class="muted">None of the run's calls had an ` +
        `entry (${escapeHtml(noEntryReasons(r.summary))}), so there is no equity curve ` +
        `and no histogram.</p></div>`,
    );
  } else if (view.trades !== null) {
    charts[`${key}-equity`] = { series: [{ label: r.run_id, ...packEquity(view.trades.equity) }] };
    charts[`${key}-returns`] = { bins: view.trades.returns, label: "realized return (bps)" };
    charts[`${key}-adverse`] = { bins: view.trades.adverse, label: "max adverse excursion (bps)" };
    parts.push(`<div class="card">${
      chartFigure(
        "equity",
        `${key}-equity`,
        `Equity curve${whose}: cumulative return by exit time, ${
          countOf(view.trades.count, "trade")
        }`,
      ) + notFiniteNote(view.trades.returns_not_finite, "return", "the curve or the histogram")
    }</div>`);
    parts.push(
      `<div class="grid"><div class="card">${
        chartFigure("hist", `${key}-returns`, `Realized return per call${whose}`) +
        outliersNote(view.trades.returns)
      }</div><div class="card">${
        chartFigure("hist", `${key}-adverse`, `Max adverse excursion per call${whose}`) +
        outliersNote(view.trades.adverse) +
        notFiniteNote(view.trades.adverse_not_finite, "max adverse excursion", "the histogram")
      }</div></div>`,
    );
  }
  if (view.callers !== null && view.callers.length > 0) {
    charts[`${key}-callers`] = view.callers;
    parts.push(
      `<div class="card">${
        chartFigure("callers", `${key}-callers`, "Per caller: mean return (bps), n = calls")
      }${callersTable(view.callers)}</div>`,
    );
  }
  const fromSummary = view.callers === null || view.callers.length === 0
    ? callersOfSummary(r.summary)
    : null;
  const callersProblem = problemOf(view, CALLER_SUMMARY_FILE);
  if (callersProblem !== null) {
    // The summary's per-caller results, where it has them, below the file's problem.
    parts.push(
      `<div class="card"><h2>${escapeHtml(fromSummary?.title ?? "Per caller")}</h2>${
        problemLine(callersProblem)
      }${fromSummary === null ? "" : callersTable(fromSummary.rows, true)}</div>`,
    );
  } else if (fromSummary !== null) {
    // Path-only and sweep runs write no per-caller file: their summary has the per-caller
    // results with counts (SPEC 12), shown as a table (an audit: only in the raw JSON).
    parts.push(
      `<div class="card"><h2>${escapeHtml(fromSummary.title)}</h2>${
        callersTable(fromSummary.rows, true)
      }</div>`,
    );
  }
  if (view.trials.length > 0) {
    // The heatmap opens on the metric the sweep chose its best trial by.
    const objective = (r.summary as { objective?: unknown } | null)?.objective;
    const sweep = renderSweep(
      view.trials,
      `${key}-sweep`,
      typeof objective === "string" ? objective : undefined,
      view.trials_total,
    );
    Object.assign(charts, sweep.charts);
    parts.push(sweep.html);
  }
  const summary = summaryWithoutCallers(r.summary, view.callers !== null);
  parts.push(
    `<div class="grid"><div class="card"><h2>Config</h2><pre>${
      escapeHtml(pretty(r.config))
    }</pre></div><div class="card"><h2>Summary</h2><pre>${
      escapeHtml(pretty(summary))
    }</pre></div></div>`,
  );
  const manifestProblem = problemOf(view, MANIFEST_FILE);
  parts.push(
    `<div class="grid"><div class="card"><h2>Provenance</h2>${
      manifestProblem === null
        ? `<pre>${escapeHtml(pretty(view.provenance))}</pre>`
        : problemLine(manifestProblem)
    }</div><div class="card"><h2>Artifacts</h2>${artifactsTable(view)}</div></div>`,
  );
  return { html: parts.join("\n"), charts };
}

/** The problem of `view`'s file `file` (unreadable or missing), or null. */
function problemOf(view: RunView, file: string): ArtifactProblem | null {
  return view.artifact_problems.find((p) => p.file === file) ?? null;
}

/**
 * Why a run's calls made no trade, from its summary's counts when it has
 * them (helper-290: "no candle at or after its alert" for two calls its
 * summary counted as `calls_entry_late`), else every reason there can be.
 */
function noEntryReasons(summary: unknown): string {
  const count = (key: string) => {
    const n = isJsonObject(summary) ? summary[key] : undefined;
    return typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? n : 0;
  };
  const late = count("calls_entry_late");
  const uncovered = count("calls_no_candles");
  const reasons = [
    ...(uncovered > 0
      ? [`${countOf(uncovered, "call")} with no candle at or after its alert`]
      : []),
    ...(late > 0 ? [`${countOf(late, "call")} whose entry was later than --max-entry-delay`] : []),
  ];
  return reasons.length > 0
    ? reasons.join(", ")
    : "no candle at or after its alert, an entry later than --max-entry-delay, or no price";
}

/** A card in place of what a file the run's view could not use would show. */
function problemCard(title: string, problem: ArtifactProblem): string {
  return `<div class="card"><h2>${escapeHtml(title)}</h2>${problemLine(problem)}</div>`;
}

/** The one line saying which file could not be used and why. */
function problemLine(problem: ArtifactProblem, prefix = ""): string {
  return `<p class="artifact-problem" data-kind="${problem.kind}">${prefix}${
    escapeHtml(problem.message)
  }</p>`;
}

/**
 * A sweep's trials: heatmap over two chosen parameters and one metric, and the trials table.
 *
 * The parameters offered are the _leaf paths_ of the trials' params that vary
 * (`stopPct`, `levels.0.multiple`, `policies.1.maxHoldMs`: the dotted paths of
 * SPEC 11 and of the sweep summary's `axes`), so a `ladder` or `combo` sweep
 * gets one axis per list in its grid, not one per whole `levels` array. A
 * cell groups the trials with its two values and shows the best value of
 * the metric among them (the highest; the lowest where less is better),
 * over every other axis. The colour opens on `objective` (the metric the
 * sweep ranked its trials by) when the trials have it. `total` is the
 * number of trials the run recorded when `trials` holds only the first of
 * them: the card says how many it shows (an audit found a sweep over the
 * report's cap shown as complete).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renderSweep } from "./html.ts";
 * const trials = [2, 3].flatMap((multiple, i) =>
 *   [0.2, 0.3].map((stopPct, j) => ({
 *     trial_id: `t${i}${j}`,
 *     params: { type: "ladder", levels: [{ multiple, fraction: 0.5 }], stopPct },
 *     metrics: { expectancy_bps: 10 * i + j, profit_factor: 1 + i },
 *   }))
 * );
 * const { html, charts } = renderSweep(trials, "s");
 * assert.ok(html.includes(`value="levels.0.multiple"`) && !html.includes(`value="levels"`));
 * const rows = charts.s as { id: string; p: Record<string, unknown> }[];
 * assert.deepEqual([rows[3].id, rows[3].p["levels.0.multiple"]], ["t11", 3]);
 * assert.ok(html.includes(`<option selected value="expectancy_bps">`));
 * const byPf = renderSweep(trials, "s", "profit_factor").html;
 * assert.ok(byPf.includes(`<option selected value="profit_factor">`));
 * ```
 */
export function renderSweep(
  trials: readonly TrialView[],
  key: string,
  objective?: string,
  total: number = trials.length,
): Fragment {
  const leaves = trials.map((t) => leafPaths(t.params));
  const allParams = varyingKeys(leaves);
  // A trial whose profit factor (sortino, sharpe) is null because no trade lost ranks above
  // every finite value (docs/METRICS.md): it is a cell too, marked, not left out (an audit:
  // the best trial of such a sweep was missing from its heatmap).
  // A metric past 2^53 colours the heatmap as the nearest double (a review: such a metric was
  // no choice at all); the table shows it exactly, from the trial.
  // Each key is looked at once a trial, and only the metrics shown are copied into rows: a
  // row of every metric of every trial made a page of 1,000 trials of 5,000 keys take 2.6 s.
  const unbounded = trials.map((t) => unboundedKeys(t.metrics));
  const allMetrics = numericKeys(trials.map((t) => t.metrics), unbounded);
  const preferred = ["expectancy_bps", "mean_return_bps", "win_rate", "profit_factor"];
  const metric = objective !== undefined && allMetrics.includes(objective)
    ? objective
    : preferred.find((m) => allMetrics.includes(m)) ?? allMetrics[0] ?? "";
  // The first SWEEP_KEYS_MAX of each (the metric chosen among them): a sweep of 1,000 trials
  // of 2,500 parameters and 2,500 metrics made a page of 154 MB (a scale audit).
  const params = allParams.slice(0, SWEEP_KEYS_MAX);
  const metrics = firstKeys(allMetrics, metric, SWEEP_KEYS_MAX);
  const options = (values: string[], selected: string, label = (v: string) => v) =>
    values.map((v) =>
      `<option${v === selected ? " selected" : ""} value="${escapeAttribute(v)}">${
        escapeHtml(label(v))
      }</option>`
    ).join("");
  const paramLabel = (path: string) => axisLabel(path, leaves);
  const x = params[0] ?? "";
  const y = params[1] ?? params[0] ?? "";
  const controls = `<div class="toolbar" data-heatmap-controls="${escapeAttribute(key)}">` +
    `<label>x <select data-axis="x">${options(params, x, paramLabel)}</select></label>` +
    `<label>y <select data-axis="y">${options(params, y, paramLabel)}</select></label>` +
    `<label>color <select data-axis="metric">${options(metrics, metric)}</select></label>` +
    `<span class="muted">${
      total > trials.length
        ? `the first ${trials.length} of ${total} trials (the rest are not in this view)`
        : countOf(trials.length, "trial")
    }; a cell shows the best of its trials ` +
    `over the other parameters (the lowest stop_out_rate and calls_skipped; the highest ` +
    `of the others)</span>${
      params.length < allParams.length || metrics.length < allMetrics.length
        ? `<span class="muted" data-keys-cut>${
          escapeHtml(
            `the first ${params.length} of ${allParams.length} varying parameters and ` +
              `${metrics.length} of ${allMetrics.length} metrics (ledger trials --run RUN ` +
              `--format csv lists them all)`,
          )
        }</span>`
        : ""
    }</div>`;
  // Every metric (it showed the first 8, leaving out sortino, hold time, skipped calls and the
  // stop-out rate); the table scrolls sideways in its card. Parameters, then metrics, each
  // from its own object: a probe found a parameter `win_rate` shown as the metric.
  const named = new Set(["trial", ...metrics]);
  const head = [
    ...params.map((h) => named.has(h) ? `${h} (parameter)` : h),
    ...metrics,
  ];
  const cell = (v: unknown) => {
    const dataV = typeof v === "number" ? v : isExactInteger(v) ? v.rawJSON : "";
    return `<td class="num" data-v="${dataV}">${escapeHtml(formatValue(v))}</td>`;
  };
  // A null objective that ranks unbounded is shown as the heatmap shows it (helper-290: ∞ in
  // its cell, "-" in this table), and sorts above every number.
  const metricCell = (i: number, h: string) =>
    unbounded[i].has(h)
      ? `<td class="num" data-v="Infinity" title="unbounded (no losing trade)">∞</td>`
      : cell(trials[i].metrics[h]);
  const table =
    `<div class="scroll"><table data-sortable><thead><tr><th data-sort="text">trial</th>${
      head.map((h) => `<th data-sort="num" class="num">${escapeHtml(h)}</th>`).join("")
    }</tr></thead><tbody>${
      trials.slice(0, SWEEP_TABLE_ROWS_MAX).map((t, i) =>
        `<tr><td class="id">${escapeHtml(t.trial_id)}</td>${
          params.map((h) => cell(leaves[i][h])).join("")
        }${metrics.map((h) => metricCell(i, h)).join("")}</tr>`
      ).join("")
    }</tbody></table></div>`;
  const html = `<div class="card"><h2>Sweep</h2>${controls}${
    chartFigure("heatmap", key, "Parameter heatmap")
  }<details><summary>${
    // A probe: a table of 500 rows under a page of 600 trials said nothing of the other 100.
    Math.min(trials.length, SWEEP_TABLE_ROWS_MAX) < total
      ? `Trials: the first ${
        Math.min(trials.length, SWEEP_TABLE_ROWS_MAX)
      } of ${total}, in trial order (sorting ranks these; ledger trials --run RUN lists ` +
        "every trial)"
      : "Trials"}</summary>${table}</details></div>`;
  return {
    html,
    // Only what the heatmap can be asked to draw: the trial id, its parameters (`p`) and its
    // metrics (`m`) apart, so a parameter named `id` or like a metric stays itself.
    charts: {
      [key]: trials.map((t, i) => ({
        id: t.trial_id,
        p: picked(leaves[i], params),
        m: heatmapMetrics(t.metrics, unbounded[i], metrics),
      })),
    },
  };
}

/** Most rows of a sweep's table of trials (the heatmap draws every trial the page holds). */
export const SWEEP_TABLE_ROWS_MAX = 500;

/** Most varying parameters, and apart most metrics, a sweep's heatmap offers and its table shows. */
export const SWEEP_KEYS_MAX = 50;

/** The first `max` of `keys`, `kept` among them when it is one of `keys`; in their order. */
function firstKeys(keys: readonly string[], kept: string, max: number): string[] {
  if (keys.length <= max) return [...keys];
  const first = keys.slice(0, max);
  if (!keys.includes(kept) || first.includes(kept)) return first;
  return [...first.slice(0, max - 1), kept];
}

/** The entries of `values` at `keys` that it has. */
function picked(values: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in values) out[k] = values[k];
  return out;
}

/** `v`, an integer kept exact (past 2^53) as the nearest double. */
function nearestNumber(v: unknown): unknown {
  return isExactInteger(v) ? Number(v.rawJSON) : v;
}

/**
 * The heatmap's row of the metrics `keys` of a trial: each as the nearest
 * double, {@linkcode UNBOUNDED_MARK} for those in `unbounded`.
 */
function heatmapMetrics(
  metrics: Record<string, unknown>,
  unbounded: ReadonlySet<string>,
  keys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k in metrics) out[k] = unbounded.has(k) ? UNBOUNDED_MARK : nearestNumber(metrics[k]);
  }
  return out;
}

/** How a heatmap row marks a metric whose null is unbounded (`_client.js` reads it). */
export const UNBOUNDED_MARK = "unbounded";

/** The metrics {@linkcode objectiveRankValue} reads, besides the objective. */
const RANK_INPUTS = ["calls", "win_rate", "mean_return_bps"] as const;
const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * The null objectives of `metrics` that rank as unbounded
 * ({@linkcode objectiveRankValue}: no losing trade); the heatmap marks them
 * {@linkcode UNBOUNDED_MARK}. Reads those few metrics only.
 */
function unboundedKeys(metrics: Record<string, unknown>): ReadonlySet<string> {
  if (!SWEEP_OBJECTIVES.some((objective) => metrics[objective] === null)) return NO_KEYS;
  const ranked: Record<string, unknown> = {};
  for (const k of [...RANK_INPUTS, ...SWEEP_OBJECTIVES]) {
    if (k in metrics) ranked[k] = nearestNumber(metrics[k]);
  }
  if (typeof ranked.calls !== "number" || typeof ranked.win_rate !== "number") return NO_KEYS;
  return new Set(
    SWEEP_OBJECTIVES.filter((objective) =>
      ranked[objective] === null &&
      objectiveRankValue(ranked as unknown as RankedMetrics, objective) === Infinity
    ),
  );
}

/**
 * Every leaf of `params` by dotted path, arrays included (`levels.0.multiple`,
 * `policies.1.maxHoldMs`): the report's {@linkcode flatten} keeps arrays as
 * values, which no axis can group or label. Named as `flatten` names them
 * (a `.` in a key is `\.`), so two paths never share an axis.
 */
function leafPaths(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === "object" && !isExactInteger(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    } else if (path.length > 0) {
      setOwn(out, flatPathName(path), value);
    }
  };
  walk(params, []);
  return out;
}

/**
 * The label of a parameter axis: its path, and for a path inside a combo's
 * sub-policy the sub-policy's type (`policies.1.maxHoldMs (time_stop)`).
 */
function axisLabel(path: string, leaves: readonly Record<string, unknown>[]): string {
  const at = path.lastIndexOf(".");
  if (at < 0) return path;
  const types = new Set(leaves.map((l) => l[`${path.slice(0, at)}.type`]));
  const [type] = types;
  return types.size === 1 && typeof type === "string" ? `${path} (${type})` : path;
}

/** Options for {@linkcode renderCompare}. */
export interface CompareOptions {
  /** Where links go. */
  links: Links;
  /** Prefix of the chart keys. */
  key: string;
  /**
   * Runs named for the compare, when more than the views given (the first
   * {@linkcode COMPARE_RUNS_MAX}): the page says which it holds.
   * @default {views.length}
   */
  namedTotal?: number;
}

/** Most runs a compare view holds (its letters, series and columns stay readable). */
export const COMPARE_RUNS_MAX = 12;

/**
 * The compare of several runs: overlaid equity, phases, and the config and summary that differ.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { ReportIndex } from "./data.ts";
 * import { type Links, renderCompare } from "./html.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, stop] of [["a1", 0.3], ["b2", 0.5]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop, side: "long" } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate: stop }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const index = await ReportIndex.open(root);
 *   try {
 *     const views = await index.runs(["a1", "b2"]);
 *     const links: Links = { overview: "/", run: (id) => `/run/${id}`, compare: () => null };
 *     const { html, charts } = renderCompare(views, { links, key: "compare" });
 *     assert.ok(html.includes("<h1>Compare 2 runs</h1>") && html.includes("Same data"));
 *     // The config table shows what differs (stop), not what is the same (side).
 *     const config = html.slice(html.indexOf("Config that differs"), html.indexOf("<h2>Summary"));
 *     assert.ok(config.includes(">stop<") && !config.includes(">side<"));
 *     assert.deepEqual(Object.keys(charts), ["compare-equity", "compare-phases"]);
 *   } finally {
 *     index.close();
 *   }
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function renderCompare(views: readonly RunView[], options: CompareOptions): Fragment {
  const { links, key } = options;
  assert(views.length <= COMPARE_RUNS_MAX, `a compare of ${views.length} runs`);
  const letters = views.map((_, i) => runLetter(i));
  const charts: ChartData = {};
  // SPEC 11: a tag `label` is shown as the run's label, here beside its id.
  const labelled = views.some((v) => (v.run.label ?? "") !== "");
  const legend =
    `<table class="legend"><thead><tr><th></th><th>run</th>${labelled ? "<th>label</th>" : ""}` +
    `<th>type</th><th>status</th><th>created (UTC)</th><th class="num">duration</th></tr></thead>` +
    `<tbody>${
      views.map((v, i) =>
        `<tr><td><strong>${letters[i]}</strong></td><td class="id"><a href="${
          escapeHtml(links.run(v.run.run_id))
        }">${escapeLine(v.run.run_id)}</a></td>${
          labelled ? `<td>${escapeLine(v.run.label ?? "")}</td>` : ""
        }<td>${escapeLine(v.run.run_type ?? "-")}</td>` +
        `<td>${statusBadges(v.run)}</td><td>${escapeHtml(formatTime(v.run.created_at_ms))}` +
        `</td><td class="num">${escapeHtml(formatDuration(v.run.duration_ms))}</td></tr>`
      ).join("")
    }</tbody></table>`;
  const data = dataComparison(views.map((v) => v.run.data_fingerprint));
  charts[`${key}-equity`] = {
    letters,
    series: views.filter((v) => v.trades !== null && v.trades.count > 0).map((v) => ({
      label: letters[views.indexOf(v)],
      ...packEquity(v.trades!.equity),
    })),
  };
  charts[`${key}-phases`] = {
    letters,
    rows: views.flatMap((v, i) =>
      v.phases.map((p) => ({
        run: letters[i],
        phase: p.name,
        ms: p.duration_ms ?? 0,
        ...(p.unfinished ? { unfinished: true } : {}),
        ...(p.open ? { open: true } : {}),
      }))
    ),
  };
  const namedTotal = options.namedTotal ?? views.length;
  // A probe: a report naming 13 runs compared 12 and said "Compare 12 runs".
  const capped = namedTotal <= views.length
    ? ""
    : `<p class="muted" id="compare-capped">${
      escapeHtml(
        `The first ${views.length} of the ${namedTotal} runs named: a compare holds at most ` +
          `${COMPARE_RUNS_MAX} (each run named has its page; ledger compare takes them all).`,
      )
    }</p>`;
  const html = `<h1>Compare ${views.length} runs</h1>${capped}
<div class="card">${legend}<p class="muted">${
    {
      same: "Same data: every run has the same data fingerprint.",
      different: "Different data fingerprints.",
      unknown: "Same data unknown: some run has no data fingerprint.",
    }[data]
  }</p></div>
<div class="card">${
    chartFigure("equity", `${key}-equity`, "Equity curves: cumulative return (bps) by exit time")
  }${
    // A run whose per-call results could not be used is left out of the curves, and said so.
    views.map((v, i) => {
      const problem = problemOf(v, tradesFileOf(v.run.run_type));
      return problem === null ? "" : problemLine(problem, `<strong>${letters[i]}</strong>: `);
    }).join("")}</div>
<div class="card">${chartFigure("compare-phases", `${key}-phases`, "Phase durations (ms)")}</div>
${compareCallersCard(views, letters)}
<div class="card"><h2>Config that differs</h2>${
    diffTable(views.map((v) => flatten(v.run.config)), letters)
  }</div><div class="card"><h2>Summary</h2>${
    diffTable(
      views.map((v) => flatten(summaryWithoutCallers(v.run.summary, true))),
      letters,
      { all: true },
    )
  }</div>`;
  return { html, charts };
}

/** The per-caller metrics the compare view shows for each run, and their headings. */
const COMPARE_CALLER_METRICS = [
  ["count", "calls"],
  ["win_rate", "win rate"],
  ["mean_return_bps", "mean (bps)"],
  ["median_return_bps", "median (bps)"],
] as const;

/**
 * The compare view's per-caller card (SPEC 12: "per-caller results with
 * their counts"), what `ledger compare --json` has as `callers`: one row per
 * caller, each run's calls, win rate, mean and median return side by side.
 * A run's rows are its `caller_summary.parquet`'s, else its summary's
 * `by_caller` (a sweep: its best trial's, said under the table). Empty when
 * no run has per-caller results.
 */
function compareCallersCard(views: readonly RunView[], letters: readonly string[]): string {
  const perRun = views.map((v) =>
    v.callers !== null && v.callers.length > 0
      ? { rows: v.callers, bestTrial: null }
      : callersOfSummary(v.run.summary) ?? { rows: [], bestTrial: null }
  );
  const byCaller = new Map<string, (Record<string, unknown> | undefined)[]>();
  perRun.forEach(({ rows }, i) => {
    for (const row of rows) {
      const caller = String(row.caller);
      if (!byCaller.has(caller)) byCaller.set(caller, views.map(() => undefined));
      byCaller.get(caller)![i] = row;
    }
  });
  if (byCaller.size === 0) return "";
  const total = (cells: readonly (Record<string, unknown> | undefined)[]) =>
    cells.reduce((n, row) => n + (typeof row?.count === "number" ? row.count : 0), 0);
  const callers = [...byCaller].sort(([a, x], [b, y]) =>
    total(y) - total(x) || (a < b ? -1 : a > b ? 1 : 0)
  );
  const heads = letters.flatMap((l) =>
    COMPARE_CALLER_METRICS.map(([, title]) =>
      `<th data-sort="num" class="num">${escapeHtml(`${l} ${title}`)}</th>`
    )
  ).join("");
  const body = callers.map(([caller, cells]) =>
    `<tr><td class="id">${escapeHtml(onPage(formatValue(caller)))}</td>${
      cells.flatMap((row) =>
        COMPARE_CALLER_METRICS.map(([key]) => {
          const v = row?.[key];
          return `<td class="num" data-v="${typeof v === "number" ? v : ""}">${
            escapeHtml(formatValue(v))
          }</td>`;
        })
      ).join("")
    }</tr>`
  ).join("");
  const trials = perRun.flatMap(({ bestTrial }, i) =>
    bestTrial === null ? [] : [`${letters[i]}: its best trial ${bestTrial}`.trimEnd()]
  );
  return `<div class="card"><h2>Per caller</h2><div class="scroll"><table data-sortable ` +
    `data-compare-callers><thead><tr><th data-sort="text">caller</th>${heads}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>${
      trials.length === 0
        ? ""
        : `<p class="muted">A sweep's per-caller results are ${escapeHtml(trials.join("; "))}.</p>`
    }</div>`;
}

/**
 * An equity curve packed small for the page: the first exit time `t0` (ms),
 * then seconds after it `t` and cumulative bps `v`, as two flat arrays.
 */
function packEquity(points: readonly [number, number][]): { t0: number; t: number[]; v: number[] } {
  const t0 = points[0]?.[0] ?? 0;
  return {
    t0,
    t: points.map(([t]) => Math.round((t - t0) / 1000)),
    v: points.map(([, v]) => v),
  };
}

/** `A`, `B`, ... `Z`, `AA`, ... */
function runLetter(i: number): string {
  return i < 26
    ? String.fromCharCode(65 + i)
    : runLetter(Math.floor(i / 26) - 1) + runLetter(i % 26);
}

function diffTable(
  flat: Record<string, unknown>[],
  letters: string[],
  options: { all?: boolean } = {},
): string {
  const paths = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const shown = paths.filter((p) => {
    if (options.all) return true;
    // jsonText: -0 is not 0 (a probe: the config compare said no difference where ledger
    // compare --json lists one).
    const values = new Set(flat.map((f) => jsonText(f[p] ?? null)));
    return values.size > 1;
  });
  if (shown.length === 0) return `<p class="muted">No differences.</p>`;
  return `<div class="scroll"><table><thead><tr><th>path</th>${
    letters.map((l) => `<th class="num">${l}</th>`).join("")
  }</tr></thead><tbody>${
    shown.map((p) =>
      `<tr><td class="id">${escapeHtml(p)}</td>${
        distinctCells(
          flat.map((f) => f[p]),
          flat.map((f) => formatValue(f[p])),
          onPage,
        ).map((c) => `<td class="num val">${escapeHtml(c)}</td>`)
          .join("")
      }</tr>`
    ).join("")
  }</tbody></table></div>`;
}

/** A cell as a page shows it: runs of white space as one, none at either end. */
function onPage(cell: string): string {
  return cell.replace(/\s+/g, " ").trim();
}

function callersTable(callers: Record<string, unknown>[], open = false): string {
  const cols = [...new Set(callers.flatMap((row) => Object.keys(row)))];
  // A column of numbers sorts as numbers whatever its first row holds (helper-290: a first
  // caller's null mean_tail_capture made the column text, and "-" sorted before 0.1667).
  const numeric = (c: string) =>
    callers.some((row) => typeof row[c] === "number") &&
    callers.every((row) => typeof row[c] === "number" || row[c] === null || row[c] === undefined);
  return `<details${
    open ? " open" : ""
  }><summary>Per-caller table</summary><table data-sortable><thead><tr>${
    cols.map((c) =>
      `<th data-sort="${numeric(c) ? "num" : "text"}"${numeric(c) ? ' class="num"' : ""}>${
        escapeHtml(c)
      }</th>`
    ).join("")
  }</tr></thead><tbody>${
    callers.map((row) =>
      `<tr>${
        cols.map((c) =>
          typeof row[c] === "number"
            ? `<td class="num" data-v="${row[c]}">${escapeHtml(formatValue(row[c]))}</td>`
            : `<td>${escapeHtml(formatValue(row[c]))}</td>`
        ).join("")
      }</tr>`
    ).join("")
  }</tbody></table></details>`;
}

function artifactsTable(view: RunView): string {
  if (view.artifacts.length === 0) return `<p class="muted">None recorded.</p>`;
  return `<table><tbody>${
    view.artifacts.map((a) =>
      `<tr><td>${escapeHtml(a.artifact_type)}</td><td class="id">${
        escapeHtml(a.artifact_path)
      }</td><td class="num">${escapeHtml(a.size_bytes ?? "-")} B</td></tr>`
    ).join("")
  }</tbody></table>`;
}

function chartCard(kind: string, key: string, caption: string): string {
  return `<div class="card">${chartFigure(kind, key, caption)}</div>`;
}

/**
 * Under a histogram, the values its end bins hold beyond their edges (beyond
 * ±{@linkcode HISTOGRAM_VALUE_ABS_MAX}): drawn in a bin they are not within,
 * so said; empty when there is none.
 */
function outliersNote(bins: readonly Bin[]): string {
  const bound = HISTOGRAM_VALUE_ABS_MAX.toLocaleString("en-US");
  const said: string[] = [];
  const below = bins[0]?.below ?? 0;
  const above = bins.at(-1)?.above ?? 0;
  if (below > 0) said.push(`${countOf(below, "value")} below -${bound} bps in the first bin`);
  if (above > 0) said.push(`${countOf(above, "value")} above ${bound} bps in the last bin`);
  if (said.length === 0) return "";
  return `<p class="muted">Too far out to draw, counted at the edge: ${said.join("; ")}.</p>`;
}

/**
 * Under a chart, the trades left out of it for want of a finite `what`
 * (NaN, ±Infinity or null in the results file); empty when there is none.
 */
function notFiniteNote(count: number, what: string, where: string): string {
  if (count === 0) return "";
  const verb = count === 1 ? "is" : "are";
  return `<p class="muted">${countOf(count, "trade")} without a finite ${what} ${verb} ` +
    `not drawn in ${where}.</p>`;
}

function chartFigure(kind: string, key: string, caption: string): string {
  return `<figure class="chart" data-chart="${kind}" data-key="${escapeAttribute(key)}">` +
    `<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/**
 * What people wrote about the run (`ledger tag`, `note`, `archive`): its
 * tags, its notes with their times, and why it was archived; empty when
 * there is none.
 */
function annotationsCard(view: RunView): string {
  const parts: string[] = [];
  if (view.archive !== null) {
    parts.push(
      `<p class="archived">archived ${escapeHtml(formatTime(view.archive.changed_at_ms))} UTC${
        view.archive.reason === null ? "" : `: ${escapeLine(view.archive.reason)}`
      }</p>`,
    );
  }
  if (view.tags.length > 0) {
    parts.push(kv(view.tags.map((t) => [t.key, t.value])));
  }
  if (view.notes.length > 0) {
    parts.push(
      `<ul class="notes">${
        view.notes.map((n) =>
          `<li><span class="label">${escapeHtml(formatTime(n.noted_at_ms))} UTC</span> ${
            escapeHtml(n.note)
          }</li>`
        ).join("")
      }</ul>`,
    );
  }
  if (parts.length === 0) return "";
  return `<div class="card annotations"><h2>Tags and notes</h2>${parts.join("")}</div>`;
}

function kv(pairs: [string, string][]): string {
  return `<dl class="kv">${
    pairs.map(([k, v]) => `<dt>${escapeLine(k)}</dt><dd>${escapeLine(v)}</dd>`).join("")
  }</dl>`;
}

function gitText(view: RunView): string {
  const git = view.provenance?.git;
  if (!git || git.commit === null) return "-";
  return `${git.commit.slice(0, 12)}${git.branch ? ` (${git.branch})` : ""}${
    git.dirty ? " dirty" : ""
  }`;
}

function statusBadge(status: string): string {
  const known = ["completed", "failed", "running", "pending", "stale"].includes(status);
  return `<span class="status ${known ? `status-${status}` : ""}">${escapeHtml(status)}</span>`;
}

/** The status badge of `run`, and an `archived` one when it is (everywhere a run's status is). */
function statusBadges(run: { status: string; archived: boolean }): string {
  return statusBadge(run.status) +
    (run.archived ? ` <span class="status status-pending">archived</span>` : "");
}

/**
 * The per-caller results a run's summary holds, as table rows with a title:
 * `by_caller` (a path-only run), or the best trial's (a sweep: `bestTrial`
 * its id, else null); null when it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { callersOfSummary } from "./html.ts";
 * const path = callersOfSummary({ by_caller: { bob: { count: 2 }, al: { count: 5 } } });
 * assert.deepEqual(path?.rows, [{ caller: "al", count: 5 }, { caller: "bob", count: 2 }]);
 * const sweep = callersOfSummary({ best_trial: { trial_id: "t3", by_caller: { al: { count: 1 } } } });
 * assert.equal(sweep?.title, "Per caller, best trial t3");
 * assert.equal(sweep?.bestTrial, "t3");
 * assert.equal(callersOfSummary({ count: 3 }), null);
 * ```
 */
export function callersOfSummary(
  summary: unknown,
): { title: string; rows: Record<string, unknown>[]; bestTrial: string | null } | null {
  const object = (v: unknown) => isJsonObject(v) ? v : null;
  const s = object(summary);
  const own = object(s?.by_caller);
  const best = object(s?.best_trial);
  const byCaller = own ?? object(best?.by_caller);
  if (byCaller === null || Object.keys(byCaller).length === 0) return null;
  const rows = Object.entries(byCaller).map(([caller, stats]) => ({
    caller,
    ...(object(stats) ?? { value: stats }),
  }));
  const count = (row: Record<string, unknown>) => typeof row.count === "number" ? row.count : 0;
  rows.sort((a, b) => count(b) - count(a) || (a.caller < b.caller ? -1 : 1));
  if (own !== null) return { title: "Per caller", rows, bestTrial: null };
  const bestTrial = best?.trial_id === undefined ? "" : String(best.trial_id);
  return { title: `Per caller, best trial ${bestTrial}`.trimEnd(), rows, bestTrial };
}

/**
 * The summary without the per-caller results shown in their own table
 * (`drop`): `by_caller`, and a sweep's `best_trial.by_caller` (a probe: the
 * compare view's Summary listed about 100 `best_trial.by_caller.*` rows of a
 * sweep, and no policy run's).
 */
function summaryWithoutCallers(summary: unknown, drop: boolean): unknown {
  if (!drop || !isJsonObject(summary)) return summary;
  // Only a `by_caller` object is a table of callers: any other value stays in the summary
  // (a probe: the compare view showed `by_caller: 5` nowhere).
  const { by_caller: own, ...rest } = summary;
  const kept = isJsonObject(own) ? rest : summary;
  if (!isJsonObject(kept.best_trial) || !isJsonObject(kept.best_trial.by_caller)) return kept;
  const { by_caller: _omitted, ...best } = kept.best_trial;
  return { ...kept, best_trial: best };
}

/**
 * Keys present in the objects with more than one distinct value, a key
 * missing from some object counting as one (or all keys when none vary), in
 * the order first seen. One pass: each key's first value as JSON, compared
 * until another differs (a set of every value of every key took seconds for
 * 1,000 trials of 5,000 keys).
 */
function varyingKeys(objects: readonly Record<string, unknown>[]): string[] {
  const seen = new Map<string, { first: unknown; count: number; varying: boolean }>();
  for (const o of objects) {
    for (const k of Object.keys(o)) {
      const key = seen.get(k);
      if (key === undefined) {
        seen.set(k, { first: o[k], count: 1, varying: false });
        continue;
      }
      key.count++;
      if (!key.varying && !sameJson(o[k], key.first)) key.varying = true;
    }
  }
  const keys = [...seen.keys()];
  const varying = keys.filter((k) => {
    const key = seen.get(k)!;
    return key.varying || key.count < objects.length;
  });
  return varying.length > 0 ? varying : keys;
}

/**
 * Whether `a` and `b` write the same JSON as the machine formats write it
 * (strings, booleans, null and numbers compared as they are, -0 apart from 0).
 */
function sameJson(a: unknown, b: unknown): boolean {
  const plain = (v: unknown) =>
    v === null || typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
  if (plain(a) && plain(b)) return Object.is(a, b);
  return jsonText(a) === jsonText(b);
}

/**
 * Keys of the metrics with a number (an exact integer too) in one trial at
 * least, or a null objective that ranks unbounded (`unbounded`, by trial),
 * in the order first seen.
 */
function numericKeys(
  metrics: readonly Record<string, unknown>[],
  unbounded: readonly ReadonlySet<string>[],
): string[] {
  const numeric = new Map<string, boolean>();
  for (const [i, m] of metrics.entries()) {
    for (const k of Object.keys(m)) {
      if (numeric.get(k) === true) continue;
      const v = m[k];
      numeric.set(
        k,
        typeof v === "number" || isExactInteger(v) || v === UNBOUNDED_MARK || unbounded[i].has(k),
      );
    }
  }
  return [...numeric].filter(([, isNumber]) => isNumber).map(([k]) => k);
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") {
    // Four significant digits, no trailing zeros invented (0.1 is 0.1, not 0.1000).
    return Number.isInteger(v)
      ? (Object.is(v, -0) ? "-0" : String(v)) // as the terminal's tables write it
      : Math.abs(v) >= 100
      ? v.toFixed(1)
      : String(Number(v.toPrecision(4)));
  }
  // An object (an ExactInteger too: its digits) as JSON; a string with its line breaks shown,
  // as the terminal's tables show them (a cell would fold them into spaces).
  if (typeof v === "object") return JSON.stringify(v);
  return escapeControl(String(v));
}

/**
 * An instant as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatTime } from "./html.ts";
 * assert.equal(formatTime(0), "1970-01-01 00:00:00");
 * ```
 */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * A duration in ms as `850 ms`, `2.4 s`, `3.1 min` or `1.2 h`, or `-`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatDuration } from "./html.ts";
 * assert.equal(formatDuration(2400), "2.4 s");
 * assert.equal(formatDuration(59_999), "1.0 min"); // not "60.0 s"
 * assert.equal(formatDuration(3_599_999), "1.0 h"); // not "60.0 min"
 * assert.equal(formatDuration(-5_000), "-5.0 s"); // an end before the start (clocks)
 * ```
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  // Below 0 (an end stamped before the start by another machine's clock): `-5.0 s`, not
  // `-5000 ms` (a time probe).
  if (Math.round(ms) < 0) return `-${formatDuration(-ms)}`;
  // The unit is chosen after rounding: 59,999 ms is `1.0 min`, not `60.0 s` (a time audit).
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.round(ms / 6_000) < 600) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
