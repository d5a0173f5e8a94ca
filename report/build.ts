/**
 * `ledger report`: one self-contained HTML file with the runs overview, a
 * section per run, the compare of the runs given and a sweep's heatmap. The
 * chart library, the client script, the styles and every datum are inline;
 * the page's Content Security Policy forbids any request, so it opens from
 * disk, offline, as it was written.
 *
 * @module
 */
import { chartLibrary, clientScript } from "./charts.ts";
import {
  type ArtifactProblem,
  ReportIndex,
  type RunView,
  spreadTrials,
  TRIALS_MAX,
} from "./data.ts";
import {
  type ChartData,
  COMPARE_RUNS_MAX,
  countOf,
  escapeHtml,
  type Links,
  renderCompare,
  renderHeader,
  renderOverview,
  renderPageParts,
  renderRun,
} from "./html.ts";

/** Most runs one report holds (the newest, when no run is named). */
export const REPORT_RUNS_MAX = 500;
/**
 * Most trials a report of several runs holds over all of them, spread over
 * its sweeps (`RunsOptions.trialsBudget`): the newest 500 runs, all sweeps,
 * hold the first 5 of each; a report of one sweep holds its first
 * {@linkcode TRIALS_MAX} (10,000). Each sweep's page says how many of its
 * trials it holds. A report of 500 sweeps held 5,000 trials of each: a 245
 * MB file (a scale audit), where issue 13 asks for under 3 MB for 100 runs;
 * a trial takes about 640 bytes of the page, so 2,500 keep 100 sweeps near
 * 2.3 MB (5,000 made 3.9 MB).
 */
export const REPORT_TRIALS_MAX = 2_500;
/**
 * What the trials of a report of several runs may bring its page to, in
 * bytes (UTF-16 code units of its sections and chart data, about bytes):
 * under issue 13's 3 MB for 100 runs with room for the inlined chart
 * library and client (about 0.6 MB).
 */
export const REPORT_BYTES_TARGET = 2_200_000;
/**
 * Renders a report of several runs may take to find the trials that fit
 * {@linkcode REPORT_BYTES_TARGET}, past the first two (all, then one a sweep).
 */
const FIT_RENDERS_MAX = 4;

/** Options for {@linkcode buildReport}. */
export interface BuildReportOptions {
  /** Runs to show (ids or unique prefixes), in this order. @default {the newest runs} */
  runIds?: readonly string[];
  /**
   * Resolves `runIds` through the index's own resolution (`resolve`), before
   * anything is read of them: throws to refuse (the CLI checks prefixes
   * against the legacy DuckDB). @default {`resolve` as it is}
   */
  resolveRunIds?: (
    given: readonly string[],
    resolve: (given: readonly string[]) => Promise<string[]>,
  ) => Promise<string[]>;
  /**
   * The runs to keep of those named (resolved ids), or of all runs when
   * none were named (`undefined`), with the archived runs it left out of
   * all runs. @default {undefined} (every run named, or the newest runs)
   */
  filterRunIds?: (index: ReportIndex, runIds: string[] | undefined) => Promise<RunsKept>;
  /** Archived runs too, when no runs are named (runs named are shown, archived or not). */
  includeArchived?: boolean;
  /** The index file. @default {<root>/index/runs.duckdb} */
  dbPath?: string;
  /** Page title. @default {"ledger report"} */
  title?: string;
}

/** What {@linkcode BuildReportOptions.filterRunIds} keeps. */
export interface RunsKept {
  /** The runs kept, in the order to show them. */
  runIds: string[];
  /** Archived runs that matched and were left out (none named, no `includeArchived`). */
  archivedHidden: number;
}

/** What {@linkcode buildReport} made. */
export interface BuiltReport {
  /**
   * The page, joined from {@linkcode BuiltReport.parts} when read: a page
   * past a JavaScript string's length (V8: about 512M characters) throws
   * `RangeError` here; write `parts` instead.
   */
  readonly html: string;
  /** The page in pieces, in order. */
  parts: string[];
  /** Runs with a section of their own. */
  runs: string[];
  /**
   * Runs the report was asked for: those named or matched, or every run of
   * the index; more than `runs` when past the report's 500.
   */
  runsTotal: number;
  /**
   * Archived runs that would have been shown, left out because no run was
   * named and `includeArchived` was not given.
   */
  archivedHidden: number;
  /** Whether a compare section was made. */
  compared: boolean;
  /** Runs the compare holds: those named, at most {@linkcode COMPARE_RUNS_MAX}; 0 when none. */
  comparedRuns: number;
  /**
   * Of the runs named (distinct, prefixes resolved), how many and how many
   * `filterRunIds` left out: 0 and 0 when none were named.
   */
  named: { runs: number; leftOut: number };
  /**
   * Files of the runs' directories the report could not use (unreadable, or
   * recorded and missing): each is said on its run's view, the rest is whole.
   */
  artifactProblems: ArtifactProblem[];
}

/**
 * Build the report of `root`'s index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { buildReport } from "./build.ts";
 * import { escapeHtml, FILE_CSP } from "./html.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   // Two runs named: a section each and a compare of them, in the order given.
 *   const { html, runs, compared } = await buildReport(root, { runIds: ["b2", "a1"] });
 *   await Deno.writeTextFile(`${root}/report.html`, html);
 *   assert.deepEqual(runs, ["b2", "a1"]);
 *   assert.ok(compared && html.includes(`<section class="view" id="compare">`));
 *   assert.ok(html.includes(escapeHtml(FILE_CSP))); // its CSP forbids every request
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function buildReport(
  root: string,
  options: BuildReportOptions = {},
): Promise<BuiltReport> {
  const [library, client] = await Promise.all([chartLibrary(), clientScript()]);
  const index = await ReportIndex.open(root, { dbPath: options.dbPath });
  try {
    const resolve = (given: readonly string[]) => index.resolveRunIds(given);
    let named = options.runIds === undefined || options.runIds.length === 0
      ? undefined
      : await (options.resolveRunIds?.(options.runIds, resolve) ?? resolve(options.runIds));
    const namedRuns = new Set(named ?? []).size;
    let archivedHidden = 0;
    if (options.filterRunIds) {
      const kept = await options.filterRunIds(index, named);
      named = kept.runIds;
      archivedHidden = kept.archivedHidden;
    }
    const leftOut = options.runIds === undefined || options.runIds.length === 0
      ? 0
      : namedRuns - new Set(named ?? []).size;
    const includeArchived = options.includeArchived === true;
    const overview = await index.overview({
      runIds: named,
      limit: REPORT_RUNS_MAX,
      includeArchived,
    });
    if (named === undefined && !includeArchived) archivedHidden = await index.archivedRuns();
    const runIds = named ?? overview.runs.map((r) => r.run_id);
    if (named !== undefined) {
      // Keep the order the runs were named in.
      const byId = new Map(overview.runs.map((r) => [r.run_id, r]));
      overview.runs = named.map((id) => byId.get(id)!).filter((r) => r !== undefined);
    }
    const shown = runIds.slice(0, REPORT_RUNS_MAX);
    let position = new Map<string, number>(); // of the views rendered last
    // A compare of the runs named on the command line (not of a --where match).
    const compared = (options.runIds?.length ?? 0) >= 2 && named !== undefined &&
      named.length >= 2;
    const links: Links = {
      overview: "#overview",
      run: (id) => `#run-${position.get(id) ?? 0}`,
      compare: () => (compared ? "#compare" : null),
    };
    // The runs are read once, with the largest budget: a smaller budget's trials are the first
    // of those (each run's first trials by recording time, and a smaller budget never gives a
    // run more), so fitting the page trims them instead of reading every run again (a scale
    // probe: a report of 220 runs rendered 6 times in 9 s, 7.6 s of it the trials query again).
    const firstBudget = shown.length === 1 ? TRIALS_MAX : REPORT_TRIALS_MAX;
    const read = await index.runs(shown, { trialsBudget: firstBudget });
    const trialCounts = new Map(
      read.filter((v) => v.trials_total > 0).map((v) => [v.run.run_id, v.trials_total]),
    );
    const viewsWith = (budget: number): RunView[] => {
      if (budget === firstBudget) return read;
      const caps = spreadTrials(trialCounts, budget);
      return read.map((v) => {
        const cap = caps.get(v.run.run_id) ?? 0;
        return cap >= v.trials.length ? v : { ...v, trials: v.trials.slice(0, cap) };
      });
    };
    const render = (budget: number) => {
      const views = viewsWith(budget);
      position = new Map(views.map((v, i) => [v.run.run_id, i]));
      // Sweeps holding fewer of their trials than a report of them alone would.
      const sweeps = views.filter((v) => v.trials_total > 0);
      const shared = sweeps.filter((v) => v.trials.length < Math.min(v.trials_total, TRIALS_MAX));
      const charts: ChartData = {};
      const sections: string[] = [];
      const ov = renderOverview(overview, { links });
      Object.assign(charts, ov.charts);
      sections.push(
        `<section class="view" id="overview">${ov.html}${
          overview.total > overview.runs.length
            ? `<p class="muted">Showing the newest ${overview.runs.length} of ${overview.total} ` +
              `runs; name runs (or use ledger ui) to see others.</p>`
            : ""
        }${
          shared.length === 0 ? "" : `<p class="muted" id="trials-shared">${
            escapeHtml(
              `The report holds ${
                countOf(views.reduce((n, v) => n + v.trials.length, 0), "trial")
              } in all, shared by its ${countOf(sweeps.length, "sweep")}: ${shared.length} ` +
                `of them hold only their first trials (each says how many); a report of fewer ` +
                `runs holds more of each (ledger trials --run RUN lists them all).`,
            )
          }</p>`
        }</section>`,
      );
      if (compared) {
        const cmp = renderCompare(views.slice(0, COMPARE_RUNS_MAX), {
          links,
          key: "compare",
          namedTotal: views.length,
        });
        Object.assign(charts, cmp.charts);
        sections.push(`<section class="view" id="compare">${cmp.html}</section>`);
      }
      views.forEach((view, i) => {
        const frag = renderRun(view, `run-${i}`);
        Object.assign(charts, frag.charts);
        sections.push(`<section class="view" id="run-${i}">${frag.html}</section>`);
      });
      const trials = views.reduce((n, v) => n + v.trials.length, 0);
      // Measured only when asked (a report of several runs): the page writes the charts anyway.
      let bytes: number | undefined;
      return {
        views,
        sections,
        charts,
        trials,
        get bytes(): number {
          return bytes ??= sections.reduce((n, t) => n + t.length, 0) +
            Object.values(charts).reduce((n: number, c) => n + (JSON.stringify(c)?.length ?? 0), 0);
        },
      };
    };
    /**
     * The page with as many trials as keep it under REPORT_BYTES_TARGET, every sweep keeping
     * one at least (so that each says how many of its trials it holds). When even one each
     * does not fit, the page as it was unless one each saves a quarter of it (the trials are
     * not what makes it big: a review saw a report of 30,000 runs drop a sweep's 40 trials
     * to save 10 KB of 6.6 MB).
     */
    const fitTrials = (full: ReturnType<typeof render>) => {
      const sweeps = full.views.filter((v) => v.trials_total > 0).length;
      if (full.trials <= sweeps) return full;
      const least = render(sweeps); // one trial each
      if (least.bytes >= REPORT_BYTES_TARGET || !(full.bytes > least.bytes)) {
        // No number of trials fits: one each only when that saves a quarter of the page.
        return full.bytes - least.bytes > full.bytes / 4 ? least : full;
      }
      // Between the nearest page measured under the target (first: one trial a sweep) and the
      // nearest over it, by the size a trial took between the two, aimed a little under the
      // target: measured, not assumed (a sweep card has a size of its own, and the largest
      // sweeps' trials go first, so a trial's size is not the average: a review saw the first
      // cut 5% over, and the report fall back to one trial a sweep).
      const aim = REPORT_BYTES_TARGET * 0.98;
      let below = least;
      let over = full;
      for (let attempt = 0; attempt < FIT_RENDERS_MAX; attempt++) {
        const perTrial = (over.bytes - below.bytes) / (over.trials - below.trials);
        const fits = over.trials - Math.ceil((over.bytes - aim) / perTrial);
        if (!(fits > below.trials)) return below;
        const cut = render(Math.min(over.trials - 1, fits));
        if (cut.bytes > REPORT_BYTES_TARGET) over = cut;
        else if (cut.bytes >= aim || attempt === FIT_RENDERS_MAX - 1) return cut;
        else below = cut;
      }
      return below;
    };
    // A report of one sweep holds its first TRIALS_MAX; one of several runs shares a budget,
    // cut further when the trials would take the page past REPORT_BYTES_TARGET (a trial's size
    // depends on its keys: 2,500 trials of 17 metrics made 4.2 MB for 100 sweeps).
    let page = render(firstBudget);
    if (shown.length > 1 && page.bytes > REPORT_BYTES_TARGET) page = fitTrials(page);
    const { views, sections, charts } = page;
    const generated = new Date().toISOString().slice(0, 19).replace("T", " ");
    const header = renderHeader(
      links,
      (compared ? `<a href="#compare">Compare</a>` : "") +
        `<span class="muted">${
          escapeHtml(`${countOf(views.length, "run")}, generated ${generated} UTC`)
        }</span>`,
    );
    // The sections stay apart: joined, 230 runs with 100-900 KB configs passed the
    // longest string V8 makes ("Invalid string length").
    const body = [
      header,
      "<main>",
      ...sections.flatMap((s, i) => i === 0 ? [s] : ["\n", s]),
      "</main>",
    ];
    const parts = renderPageParts({
      title: options.title ?? "ledger report",
      body,
      charts,
      scripts: [{ inline: library }, { inline: client }],
      mode: "file",
    });
    return {
      get html() {
        return parts.join("");
      },
      parts,
      runs: views.map((v) => v.run.run_id),
      runsTotal: Math.max(overview.total, runIds.length),
      archivedHidden,
      compared,
      comparedRuns: compared ? Math.min(views.length, COMPARE_RUNS_MAX) : 0,
      named: { runs: namedRuns, leftOut },
      artifactProblems: views.flatMap((v) => v.artifact_problems),
    };
  } finally {
    index.close();
  }
}
