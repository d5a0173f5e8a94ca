/**
 * The data behind `ledger report` and `ledger ui`: the runs overview, one
 * run's view (phases, equity curve, histograms, per-caller results, config,
 * provenance, trials) and the compare of several runs, read from the index
 * and the runs' Parquet artifacts. Returns plain data; the HTML lives in
 * `html.ts`.
 *
 * The index is opened read-only with DuckDB's external access switched off,
 * except for the root's `artifacts/` folder (`allowed_directories`), so
 * nothing a run id or an artifact path in the index says can make it read
 * another file.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { assert } from "../ledger/assert.ts";
import { type DuckDBConnection, DuckDBInstance } from "../indexer/duckdb.ts";
import { literalGlob } from "../indexer/duckdb_glob.ts";
import { jsonList, rows, type SqlParam } from "../indexer/_sql.ts";
import {
  checkIndexFile,
  IndexDamagedError,
  IndexFormatError,
  IndexNotFoundError,
  NotAnIndexError,
  openIndexFile,
  requireIndexFormat,
} from "../indexer/queries.ts";
import {
  BEST_TRIAL_RESULTS_FILE,
  CALLER_SUMMARY_FILE,
  MANIFEST_FILE,
  POLICY_RESULTS_FILE,
  tradesFileOf,
} from "../backtest/run_files.ts";
import {
  checkWherePatterns,
  type NumberedRunSql,
  parseSort,
  queryRuns,
  QueryUsageError,
  runOrderSql,
  runWhereSql,
  type SortKey,
} from "../indexer/query/mod.ts";
import { RUNS_NEWEST_FIRST_SQL } from "../indexer/schema.ts";
import { flatten as flattenPaths } from "../indexer/query/compare.ts";
import { INTEGER_TEXT_RE, JSON_NUMBER_TEXT } from "../indexer/query/fields.ts";
import {
  AmbiguousRunError,
  assertNamedOnce,
  resolveRunIds,
  RunNamedTwiceError,
  UnknownRunError,
} from "../indexer/query/resolve.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { isExactInteger, isJsonObject, parseJsonText } from "../ledger/json_text.ts";
import { indexPath, runDir } from "../ledger/paths.ts";
import {
  ARCHIVE_SQL,
  ARCHIVED_RUNS_SQL,
  ARTIFACTS_SQL,
  CALLERS_SQL,
  FACETS_SQL,
  NOTES_SQL,
  OVERVIEW_PAGE_SQL,
  OVERVIEW_ROWS_SQL,
  OVERVIEW_SORTS,
  PARQUET_COLUMNS_SQL,
  PHASES_SQL,
  RUN_TRIALS_FIRST_SQL,
  RUNS_PER_DAY_SQL,
  RUNS_SQL,
  TAGS_SQL,
  TRADE_COLUMNS,
  TRADES_SQL,
  TRIAL_COUNTS_SQL,
  TRIALS_FIRST_SQL,
} from "./_sql.ts";

export { IndexNotFoundError };

export {
  BEST_TRIAL_RESULTS_FILE,
  CALLER_SUMMARY_FILE,
  MANIFEST_FILE,
  POLICY_RESULTS_FILE,
  tradesFileOf,
};
/** Most points of an equity curve kept (beyond, {@linkcode thinCurve} keeps every bucket's extremes). */
export const EQUITY_POINTS_MAX = 600;
/** Bins of a histogram, about. */
export const HISTOGRAM_BINS_TARGET = 30;
/**
 * Narrowest histogram bin, in the values' unit (bps): edges are rounded to 4
 * decimals, so a narrower bin could have no width.
 */
export const HISTOGRAM_STEP_MIN = 0.01;
/**
 * Largest value a histogram bins by itself, in bps (a ten-million-fold
 * gain), either sign: up to here edges rounded to 4 decimals are exact and
 * {@linkcode HISTOGRAM_STEP_MIN} apart in binary floating point. A value
 * beyond is counted in an end bin, which says so ({@linkcode Bin.below},
 * {@linkcode Bin.above}).
 */
export const HISTOGRAM_VALUE_ABS_MAX = 1e11;
/** Most bins of a histogram: the round width is at least the range over {@linkcode HISTOGRAM_BINS_TARGET}. */
const HISTOGRAM_BINS_MAX = 2 * HISTOGRAM_BINS_TARGET;
/** Filters whose per-day counts one open index keeps. */
const PER_DAY_CACHE_MAX = 64;
/** Largest manifest read, in bytes. */
const MANIFEST_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Most trials of one run carried into a view: as many as a sweep accepts by
 * default (`GRID_TRIALS_MAX_DEFAULT`), so the heatmap of any default sweep
 * is drawn from all its trials (at 5,000 a sweep of 10,000 was drawn from
 * its first half, its best trial often outside it: a review). About 370
 * bytes of page a trial of the policy metrics: 3.7 MB for 10,000.
 */
export const TRIALS_MAX = 10_000;
/** Longest reason kept in an {@linkcode ArtifactProblem}'s message, in characters. */
const PROBLEM_REASON_CHARS_MAX = 240;

/** One row of the runs overview. Times are ms since epoch (UTC). */
export interface OverviewRun {
  /** The run id. */
  run_id: string;
  /** Its run type, null when `run.created` is missing. */
  run_type: string | null;
  /** completed, failed, running, pending or stale. */
  status: string;
  /** Time of `run.created` (or its first event). */
  created_at_ms: number | null;
  /** End minus start, null while unfinished. */
  duration_ms: number | null;
  /**
   * Calls of a backtest run: `summary.count` or `summary.calls`, else a
   * sweep's best trial's (`best_trial.metrics.calls`), else
   * `summary.calls_total`.
   */
  calls: number | null;
  /** `summary.win_rate`. */
  win_rate: number | null;
  /** `summary.mean_return_bps`. */
  mean_return_bps: number | null;
  /**
   * The fields of `calls`, `win_rate` and `mean_return_bps` that are a
   * sweep's best trial's (`summary.best_trial.metrics`), its summary not
   * having them, as `ledger runs` shows them (starred).
   */
  best_trial_fields: OverviewMetric[];
  /**
   * The digits of `calls`, `win_rate` or `mean_return_bps` when the log
   * wrote an integer a double does not hold (`9007199254740993`): the
   * number fields hold the nearest double, for sorting.
   */
  exact_digits: Partial<Record<OverviewMetric, string>>;
  /** The `data_fingerprint` of `run.created`. */
  data_fingerprint: string | null;
  /** The run's `label` tag. */
  label: string | null;
  /** Archived (`ledger archive`): listed only when asked for. */
  archived: boolean;
}

/** The metrics of an {@linkcode OverviewRun}. */
export type OverviewMetric = "calls" | "win_rate" | "mean_return_bps";

/** Runs created on one UTC day with one status. */
export interface DayCount {
  /** `YYYY-MM-DD`. */
  day: string;
  /** The status. */
  status: string;
  /** Runs. */
  count: number;
}

/** What the overview shows: a filter, a sort and a page. */
export interface OverviewQuery {
  /** Only these runs. @default {undefined} (all) */
  runIds?: readonly string[];
  /** Only this status, or these (`ledger runs --status` repeated). */
  status?: string | readonly string[];
  /** Only this run type, or these (`ledger runs --type` repeated). */
  runType?: string | readonly string[];
  /** Only run ids containing this text (any case). */
  text?: string;
  /**
   * Only runs for which every expression holds, as `ledger runs --where`
   * reads them (SPEC 11); a bad one throws the query surface's usage error.
   */
  where?: readonly string[];
  /** Archived runs too (without `runIds`; named runs are always listed). @default {false} */
  includeArchived?: boolean;
  /**
   * A key of {@linkcode OVERVIEW_SORTS}, or a field as `ledger runs --sort`
   * takes it (`summary.win_rate`, `duration_ms:asc`; see
   * {@linkcode overviewSortKey}). @default {"created"}
   */
  sort?: string;
  /** Ascending instead of descending (unless `sort` says `:asc` or `:desc`). @default {false} */
  ascending?: boolean;
  /** Rows per page. @default {100} */
  limit?: number;
  /** Rows skipped. @default {0} */
  offset?: number;
}

/**
 * The sort key of an overview sorted by a field of the query surface
 * (SPEC 11): `FIELD` in the direction `ascending` says, or `FIELD:asc` /
 * `FIELD:desc`. Throws the query surface's usage errors for an unknown
 * field or more than one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { overviewSortKey } from "./data.ts";
 * assert.deepEqual(overviewSortKey("summary.win_rate", false), {
 *   field: "summary.win_rate",
 *   descending: true,
 * });
 * assert.deepEqual(overviewSortKey("duration_ms:asc", false), {
 *   field: "duration_ms",
 *   descending: false,
 * });
 * assert.throws(() => overviewSortKey("bogus", false), /Unknown field "bogus"/);
 * ```
 */
export function overviewSortKey(sort: string, ascending: boolean): SortKey {
  const keys = parseSort(sort, "runs");
  if (keys.length !== 1) {
    throw new QueryUsageError(`Sort by one field, got ${JSON.stringify(sort)}`);
  }
  // A direction the text names wins over the page's.
  return sortDirection(sort).ascending !== undefined
    ? keys[0]
    : { field: keys[0].field, descending: !ascending };
}

/**
 * A sort's text without the direction it ends with (`:asc`, `:desc`, any
 * case; `\:` is a colon inside a key), and that direction: undefined when
 * it names none. The overview's key ({@linkcode overviewSortKey}) and its
 * form (the field in the sort menu, the direction in its own) read it alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sortDirection } from "./data.ts";
 * assert.deepEqual(sortDirection("duration_ms:ASC"), { field: "duration_ms", ascending: true });
 * assert.deepEqual(sortDirection("config.a\\:desc"), { field: "config.a\\:desc" });
 * ```
 */
export function sortDirection(sort: string): { field: string; ascending?: boolean } {
  const named = /^(.*?)(?<!\\):(asc|desc)$/i.exec(sort);
  return named === null
    ? { field: sort }
    : { field: named[1], ascending: named[2].toLowerCase() === "asc" };
}

/**
 * `template` (an overview statement) with `{where}` the condition, `{order}`
 * the order terms when given, and `{join}` what either reads besides `r`
 * (the same join when both do). Replaced by functions, not strings, so that
 * `$'` and `$&` in the SQL stay as written.
 */
function fillOverviewSql(
  template: string,
  where: NumberedRunSql,
  order: { sql?: string; join: string },
): string {
  return template
    .replace("{join}", () => where.join || order.join)
    .replace("{where}", () => where.sql)
    .replace("{order}", () => order.sql ?? "");
}

/** The runs overview. */
export interface Overview {
  /** The page of runs. */
  runs: OverviewRun[];
  /** Runs the filter keeps, over all pages. */
  total: number;
  /** Runs per day and status (over the whole filter). */
  days: DayCount[];
}

/** One phase of a run, offsets from the run's first phase start. */
export interface PhaseView {
  /** Phase name. */
  name: string;
  /** Order from `phase.started`. */
  order: number | null;
  /** Start, ms after the first phase started (null when unknown). */
  start_ms: number | null;
  /** Duration in ms (null while running). */
  duration_ms: number | null;
  /** Started and never completed in a run that ended: its duration runs to the run's end. */
  unfinished?: boolean;
  /**
   * Started and not completed yet in a run that has not ended (running, or
   * stale): its duration so far runs to the run's last event.
   */
  open?: boolean;
}

/** One bin of a histogram: `[x0, x1)` holds `count` values. */
export interface Bin {
  /** Lower edge. */
  x0: number;
  /** Upper edge. */
  x1: number;
  /** Values in the bin. */
  count: number;
  /**
   * Whether its values are above zero: `all`, `none` or `some` (an empty
   * bin by its edges). The page colors a bin of returns by it: a return of
   * 0 is not a win (docs/METRICS.md), so `[0, 50)` holding one is `some`,
   * where coloring by the edges drew it as wins.
   */
  above_zero: "all" | "none" | "some";
  /**
   * Of `count`, the values below `x0`, beyond ±{@linkcode HISTOGRAM_VALUE_ABS_MAX}
   * (first bin only; absent when none).
   */
  below?: number;
  /**
   * Of `count`, the values at or above `x1`, beyond ±{@linkcode HISTOGRAM_VALUE_ABS_MAX}
   * (last bin only; absent when none).
   */
  above?: number;
}

/** Per-call results of a policy run, reduced to what the charts draw. */
export interface TradesView {
  /** Calls with an exit. */
  count: number;
  /** Cumulative return in bps by exit time: `[exit_ts_ms, cumulative_bps]`, thinned. */
  equity: [number, number][];
  /** Histogram of realized returns, bps. */
  returns: Bin[];
  /** Histogram of max adverse excursions, bps. */
  adverse: Bin[];
  /**
   * Trades whose return is not a finite number (NaN or ±Infinity, only in
   * Parquet another tool wrote): left out of the curve and the return
   * histogram, and said on the page.
   */
  returns_not_finite: number;
  /** Trades whose max adverse excursion is null or not finite: left out of its histogram. */
  adverse_not_finite: number;
}

/** Git provenance and inputs from the run's manifest. */
export interface Provenance {
  /** Commit sha, branch and dirty flag. */
  git: { commit: string | null; branch: string | null; dirty: boolean | null } | null;
  /** Input files: path, sha256, size. */
  inputs: Record<string, unknown> | null;
}

/** One trial of a sweep. */
export interface TrialView {
  /** Trial id. */
  trial_id: string;
  /** Parameters as recorded (an object; `{}` for any other value). */
  params: Record<string, unknown>;
  /** Metrics, flattened to dotted paths. */
  metrics: Record<string, unknown>;
}

/**
 * A file of a run's directory that its view needed and could not use: there
 * but unreadable (not Parquet, cut short, not a file, ...), or recorded by
 * an `artifact.created` event and not there. The view shows its
 * {@linkcode ArtifactProblem.message} where the file's charts or tables
 * would be; the rest of the view, and every other run's, stands.
 */
export interface ArtifactProblem {
  /** The run. */
  run_id: string;
  /** Its name in the run directory, e.g. {@linkcode POLICY_RESULTS_FILE}. */
  file: string;
  /** Where it was looked for. */
  path: string;
  /** `unreadable`: there, but it could not be read; `missing`: recorded, but not there. */
  kind: "unreadable" | "missing";
  /** One line naming the path and why. */
  message: string;
}

/** Everything the page of one run shows. */
export interface RunView {
  /** Id, type, status, times, summary, error, config, process. */
  run: {
    run_id: string;
    run_type: string | null;
    status: string;
    created_at_ms: number | null;
    started_at_ms: number | null;
    completed_at_ms: number | null;
    failed_at_ms: number | null;
    /** The ending its status comes from (`RUN_ENDED_AT_SQL`), null while it has none. */
    ended_at_ms: number | null;
    duration_ms: number | null;
    summary: unknown;
    error: unknown;
    /** The phase its last `run.failed` names, null when none. */
    failed_phase: string | null;
    config: unknown;
    data_fingerprint: string | null;
    host: string | null;
    pid: number | null;
    event_count: number;
    /** Time of its last event. */
    last_event_at_ms: number | null;
    label: string | null;
    archived: boolean;
  };
  /** Phases in order. */
  phases: PhaseView[];
  /** Per-call results, when the run has `policy_results.parquet`. */
  trades: TradesView | null;
  /** Per-caller rows (every column of `caller_summary.parquet`), when present. */
  callers: Record<string, unknown>[] | null;
  /** From `manifest.json`, when present. */
  provenance: Provenance | null;
  /**
   * Trials (sweeps), the first recorded: at most {@linkcode TRIALS_MAX}, and
   * fewer when {@linkcode RunsOptions.trialsBudget} is spread over many runs.
   */
  trials: TrialView[];
  /** Trials the run recorded, also those past {@linkcode TRIALS_MAX}. */
  trials_total: number;
  /** Artifacts recorded for the run. */
  artifacts: { artifact_type: string; artifact_path: string; size_bytes: number | null }[];
  /** Its tags (`ledger tag`; the label is the tag `label`), by key. */
  tags: { key: string; value: string; tagged_at_ms: number }[];
  /** Its notes (`ledger note`), oldest first. */
  notes: { note: string; noted_at_ms: number }[];
  /** When archived (`ledger archive`): when, and the reason given, if any. */
  archive: { reason: string | null; changed_at_ms: number } | null;
  /** Files of its run directory the view needed and could not use, one per file. */
  artifact_problems: ArtifactProblem[];
}

/**
 * The index knows no run with this id or prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RunNotFoundError } from "./data.ts";
 * assert.match(new RunNotFoundError("x", "i.duckdb").message, /"x"/);
 * ```
 */
export class RunNotFoundError extends Error {
  /** The id asked for. */
  readonly runId: string;
  /** Create the error for `runId` in the index `dbPath`. */
  constructor(runId: string, dbPath: string) {
    super(
      `Run ${JSON.stringify(runId)} is not in the index ${dbPath} ` +
        "(see `ledger runs --all`; new events need `ledger rebuild-index`; a run only in the " +
        "legacy DuckDB enters it with `ledger legacy backfill`)",
    );
    this.name = "RunNotFoundError";
    this.runId = runId;
  }
}

/**
 * The index file is there but cannot be opened: not a DuckDB file (damaged,
 * or replaced by another file), or not readable. The live UI says so until
 * a rebuild publishes a good one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { IndexUnreadableError } from "./data.ts";
 * const err = new IndexUnreadableError("i.duckdb", { cause: new Error("IO Error: bad file") });
 * assert.match(err.message, /^Cannot open the index i\.duckdb \(IO Error: bad file\)/);
 * ```
 */
export class IndexUnreadableError extends Error {
  /** The index file. */
  readonly dbPath: string;
  /** Create the error for `dbPath`; `options.cause` is why it could not be opened. */
  constructor(dbPath: string, options: ErrorOptions) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    // A file that is no index (or another format's) says what to do itself: rebuild-index
    // refuses to replace a file that is no index, so "rebuild it" would mislead (a review).
    const advised = options.cause instanceof NotAnIndexError ||
      options.cause instanceof IndexFormatError || options.cause instanceof IndexDamagedError;
    super(
      advised
        ? cause
        : `Cannot open the index ${dbPath} (${cause}): rebuild it with \`ledger rebuild-index\``,
      options,
    );
    this.name = "IndexUnreadableError";
    this.dbPath = dbPath;
  }
}

/**
 * The command line's own errors (SPEC 11): a run id prefix matches more than
 * one run; a run is named twice.
 */
export { AmbiguousRunError, RunNamedTwiceError };

/** Options for {@linkcode ReportIndex.runs}. */
export interface RunsOptions {
  /**
   * Most trials the views hold together, spread over the runs with trials:
   * each gets an equal share, at most {@linkcode TRIALS_MAX}, and what a run
   * with fewer trials leaves goes to the others. Each view holds the first
   * of its run's trials (by recording time) and their count. A report of
   * the newest 500 runs, all sweeps, carried 5,000 trials of each: a 245 MB
   * file (a scale audit). 0 reads no trial (a compare shows none).
   * @default {TRIALS_MAX for each run}
   */
  trialsBudget?: number;
}

/** Options for {@linkcode ReportIndex.open}. */
export interface ReportIndexOptions {
  /** The index file. @default {indexPath(root)} */
  dbPath?: string;
}

/**
 * A read-only view of one ledger's index and artifacts. Open, ask, close;
 * the UI reopens it after each publish (see {@linkcode LiveIndex}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { ReportIndex } from "./data.ts";
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
 *   const index = await ReportIndex.open(root);
 *   try {
 *     const { runs, total } = await index.overview({ sort: "run_id", ascending: true, limit: 10 });
 *     assert.equal(total, 2);
 *     assert.deepEqual(runs.map((r) => [r.run_id, r.status, r.win_rate]), [
 *       ["a1", "completed", 0.4],
 *       ["b2", "completed", 0.7],
 *     ]);
 *     assert.deepEqual(await index.resolveRunIds(["b"]), ["b2"]); // a unique prefix
 *     assert.deepEqual((await index.run("b2"))?.run.config, { stop: 0.7 });
 *   } finally {
 *     index.close();
 *   }
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class ReportIndex {
  /** The ledger root. */
  readonly root: string;
  /** The index file opened. */
  readonly dbPath: string;
  #instance: DuckDBInstance;
  #conn: DuckDBConnection;
  #perDayCache = new Map<string, Promise<{ total: number; days: DayCount[] }>>();
  #facets: Promise<{ types: string[]; statuses: string[] }> | null = null;

  private constructor(
    root: string,
    dbPath: string,
    opened: { instance: DuckDBInstance; conn: DuckDBConnection },
  ) {
    this.root = root;
    this.dbPath = dbPath;
    this.#instance = opened.instance;
    this.#conn = opened.conn;
  }

  /** Open the index of `root` read-only. Throws {@linkcode IndexNotFoundError}. */
  static async open(root: string, options: ReportIndexOptions = {}): Promise<ReportIndex> {
    const absRoot = resolve(root);
    const dbPath = resolve(options.dbPath ?? indexPath(absRoot));
    await checkIndexFile(dbPath);
    const instance = await openIndexFile(dbPath, { access_mode: "READ_ONLY" });
    try {
      const conn = await instance.connect();
      // Parquet artifacts only: no other file, no network, from here on.
      const allowed = (await artifactDirs(absRoot)).map((dir) => `'${dir.replaceAll("'", "''")}'`);
      await conn.run(`SET allowed_directories = [${allowed.join(", ")}]`);
      await conn.run("SET enable_external_access = false");
      await conn.run("SET lock_configuration = true");
      // After the lock: index_meta may be a view that reads a file (a review).
      await requireIndexFormat(conn, dbPath);
      return new ReportIndex(absRoot, dbPath, { instance, conn });
    } catch (err) {
      instance.closeSync();
      throw err;
    }
  }

  /** Close the connection and the database. */
  close(): void {
    this.#conn.disconnectSync();
    this.#instance.closeSync();
  }

  /**
   * Resolve run ids as given on a command line: an exact id, or a prefix of
   * exactly one run. Throws {@linkcode RunNotFoundError} or
   * {@linkcode AmbiguousRunError} for the first, in order, that does not
   * resolve, then {@linkcode RunNamedTwiceError} for a run named twice (by
   * its id or by two prefixes: `ledger report A A` made a report of A, where
   * the UI and `ledger compare` refuse it). One query for the whole list.
   */
  async resolveRunIds(given: readonly string[]): Promise<string[]> {
    let resolved: string[];
    try {
      // The command line's rule (SPEC 11), one query for the whole list.
      resolved = await resolveRunIds(this.#conn, given);
    } catch (err) {
      if (err instanceof UnknownRunError) throw new RunNotFoundError(err.runId, this.dbPath);
      throw err;
    }
    assertNamedOnce(resolved);
    return resolved;
  }

  /**
   * The runs matching every `--where` expression (SPEC 11), archived ones
   * included and said (a caller hides them as `ledger runs` does, and can
   * say how many it hid), newest first, at most `limit`. Throws the query
   * surface's usage errors for a bad expression.
   */
  async runsWhere(
    where: readonly string[],
    limit: number,
  ): Promise<{ run_id: string; archived: boolean }[]> {
    const found = await queryRuns(this.#conn, {
      where,
      limit,
      summary: false,
      includeArchived: true,
    });
    return found.map((r) => ({ run_id: r.run_id, archived: r.archived }));
  }

  /** How many runs are archived. */
  async archivedRuns(): Promise<number> {
    return Number((await rows(this.#conn, ARCHIVED_RUNS_SQL))[0].n);
  }

  /** The distinct run types and statuses in the index (kept: the file does not change). */
  facets(): Promise<{ types: string[]; statuses: string[] }> {
    this.#facets ??= rows(this.#conn, FACETS_SQL).then((found) => ({
      types: found.filter((r) => r.facet === "type").map((r) => String(r.value)),
      statuses: found.filter((r) => r.facet === "status").map((r) => String(r.value)),
    }));
    return this.#facets;
  }

  /** One page of the runs overview, with the total and runs per day. */
  async overview(query: OverviewQuery = {}): Promise<Overview> {
    const filter: SqlParam[] = [
      query.runIds === undefined ? null : jsonList(query.runIds),
      listParam(query.status),
      listParam(query.runType),
      query.text || null,
      query.includeArchived === true,
    ];
    const page = [...filter, query.limit ?? 100, query.offset ?? 0];
    // `--where` in the statement itself, as `ledger runs --where` (the matching run ids passed
    // as a list took 12-23 s a page for a filter matching 95k of 100k runs, most of it binding
    // the list).
    const where = runWhereSql(query.where ?? [], page.length + 1);
    // A bad regular expression is the usage error `ledger runs` gives, not DuckDB's failure.
    if (query.where !== undefined) await checkWherePatterns(this.#conn, query.where);
    const first = page.length + where.params.length + 1;
    const sortSql = OVERVIEW_SORTS[query.sort ?? "created"];
    // Any other field sorts as `ledger runs --sort` does, in the same statement (100k runs by a
    // summary path: every run id passed through JavaScript took 0.8-1.9 s a page, and 16-22 s
    // one request in four while DuckDB bound the list).
    const order = sortSql !== undefined
      ? {
        // Ties as `ledger runs --sort` breaks them: newest first, then by id (a probe: by id
        // alone, `?sort=status&dir=asc` and `?sort=status:asc` listed the same runs in two orders).
        sql: `${sortSql} ${query.ascending ? "ASC" : "DESC"} NULLS LAST, ${
          RUNS_NEWEST_FIRST_SQL.join(", ")
        }`,
        join: "",
        params: [],
      }
      : runOrderSql([overviewSortKey(query.sort!, query.ascending === true)], first);
    const sql = fillOverviewSql(OVERVIEW_PAGE_SQL, where, order);
    const ids = (await rows(this.#conn, sql, [...page, ...where.params, ...order.params]))
      .map((r) => String(r.run_id));
    const byId = new Map(
      (ids.length === 0 ? [] : await rows(this.#conn, OVERVIEW_ROWS_SQL, [jsonList(ids)]))
        .map((r) => [String(r.run_id), r]),
    );
    const { total, days } = await this.#perDay(filter, query.where ?? []);
    return {
      runs: ids.map((id) => byId.get(id)).filter((r) => r !== undefined).map(toOverviewRun),
      total,
      days,
    };
  }

  /**
   * Runs per day and status of a filter, and their total. The file behind a
   * `ReportIndex` never changes (a publish is a new file, opened anew), so
   * the answer is kept for the next page of the same filter.
   */
  #perDay(
    filter: SqlParam[],
    whereTexts: readonly string[],
  ): Promise<{ total: number; days: DayCount[] }> {
    const key = JSON.stringify([filter, whereTexts]);
    let found = this.#perDayCache.get(key);
    if (found === undefined) {
      if (this.#perDayCache.size >= PER_DAY_CACHE_MAX) this.#perDayCache.clear();
      const where = runWhereSql(whereTexts, filter.length + 1);
      const sql = fillOverviewSql(RUNS_PER_DAY_SQL, where, { join: "" });
      found = rows(this.#conn, sql, [...filter, ...where.params]).then((counted) => ({
        total: counted.reduce((sum, d) => sum + Number(d.count), 0),
        days: counted.filter((d) => d.day !== null).map((d) => ({
          day: String(d.day),
          status: String(d.status),
          count: Number(d.count),
        })),
      }));
      found.catch(() => this.#perDayCache.delete(key));
      this.#perDayCache.set(key, found);
    }
    return found;
  }

  /** The view of one run, or null when the index does not know it. */
  async run(runId: string, options: RunsOptions = {}): Promise<RunView | null> {
    return (await this.runs([runId], options))[0] ?? null;
  }

  /**
   * The views of `runIds`, in that order; runs the index does not know are
   * left out. A few queries in all, whatever the number of runs. Each view
   * holds the first of its run's trials ({@linkcode RunsOptions.trialsBudget})
   * and their count: only those are read.
   */
  async runs(runIds: readonly string[], options: RunsOptions = {}): Promise<RunView[]> {
    if (runIds.length === 0) return [];
    const ids = jsonList(runIds);
    const byRun = <T>(found: Record<string, unknown>[], map: (r: Record<string, unknown>) => T) => {
      const out = new Map<string, T[]>();
      for (const r of found) {
        const id = String(r.run_id);
        if (!out.has(id)) out.set(id, []);
        out.get(id)!.push(map(r));
      }
      return out;
    };
    const found = new Map(
      (await rows(this.#conn, RUNS_SQL, [ids])).map((r) => [String(r.run_id), r]),
    );
    const phases = byRun(await rows(this.#conn, PHASES_SQL, [ids]), (p) => p);
    // The first trials of each run, and a count: a view read all of them to keep 5,000
    // (11 s and 2.2 GB for a sweep of 1M trials: a scale audit).
    const trialCounts = new Map(
      (await rows(this.#conn, TRIAL_COUNTS_SQL, [ids])).map((r) => [String(r.run_id), Number(r.n)]),
    );
    const budget = options.trialsBudget ?? TRIALS_MAX * trialCounts.size;
    if (!Number.isSafeInteger(budget) || budget < 0) {
      // NaN lifted every cap, the per-run 5,000 too (a review).
      throw new RangeError(`trialsBudget must be a whole number >= 0, got ${budget}`);
    }
    const caps = [
      ...spreadTrials(trialCounts, budget),
    ]
      .filter(([, cap]) => cap > 0);
    const trials = byRun(
      caps.length === 0
        ? []
        : caps.length === 1
        ? await rows(this.#conn, RUN_TRIALS_FIRST_SQL, caps[0])
        : await rows(this.#conn, TRIALS_FIRST_SQL, [
          jsonList(caps.map(([id]) => id)),
          jsonList(caps.map(([, cap]) => cap)),
        ]),
      (t) => ({
        trial_id: String(t.trial_id),
        // As recorded: the sweep card walks them to the leaf paths it shows (flattening every
        // key first took 1.4 s of a page of 1,000 trials of 5,000 keys: an audit).
        params: plainObject(parseJsonLoose(t.params, EXACT)),
        metrics: flatOrFlattened(parseJsonLoose(t.metrics, EXACT)),
      }),
    );
    const artifacts = byRun(await rows(this.#conn, ARTIFACTS_SQL, [ids]), (a) => ({
      artifact_type: String(a.artifact_type),
      artifact_path: String(a.artifact_path),
      size_bytes: a.size_bytes as number | null,
    }));
    const tags = byRun(await rows(this.#conn, TAGS_SQL, [ids]), (t) => ({
      key: String(t.key),
      value: String(t.value),
      tagged_at_ms: Number(t.tagged_at_ms),
    }));
    const notes = byRun(await rows(this.#conn, NOTES_SQL, [ids]), (n) => ({
      note: String(n.note),
      noted_at_ms: Number(n.noted_at_ms),
    }));
    const archives = byRun(await rows(this.#conn, ARCHIVE_SQL, [ids]), (a) => ({
      reason: (a.reason ?? null) as string | null,
      changed_at_ms: Number(a.changed_at_ms),
    }));
    const dirs = new Map<string, string>();
    for (const id of runIds) {
      if (found.has(id) && RUN_ID_PATTERN.test(id)) dirs.set(id, runDir(this.root, id));
    }
    // One run's unreadable or missing file is said on its view, never fails the others.
    const problems = new ArtifactProblems(artifacts);
    // A sweep's curve is its best trial's (tradesFileOf).
    const tradesFiles = new Map<string, string>();
    for (const id of dirs.keys()) {
      const type = found.get(id)?.run_type;
      tradesFiles.set(id, tradesFileOf(typeof type === "string" ? type : null));
    }
    const trades = await this.#trades(dirs, tradesFiles, problems);
    const callers = await this.#callers(dirs, problems);
    const views: RunView[] = [];
    for (const id of runIds) {
      const r = found.get(id);
      if (r === undefined) continue;
      const dir = dirs.get(id);
      const run = toRunInfo(r);
      const provenance = dir === undefined
        ? null
        : await readProvenance(id, `${dir}/${MANIFEST_FILE}`, problems);
      views.push({
        run,
        phases: toPhases(phases.get(id) ?? [], run),
        trades: trades.get(id) ?? null,
        callers: withIntervals(callers.get(id) ?? null, run.summary),
        provenance,
        trials: trials.get(id) ?? [],
        trials_total: trialCounts.get(id) ?? 0,
        artifacts: artifacts.get(id) ?? [],
        tags: tags.get(id) ?? [],
        notes: notes.get(id) ?? [],
        archive: archives.get(id)?.[0] ?? null,
        artifact_problems: problems.of(id),
      });
    }
    return views;
  }

  /**
   * The files `name` of the run directories `dirs` that are there, by path
   * (to run id); the others, when the run recorded them or they are not
   * regular files, go to `problems`.
   */
  async #existing(
    dirs: Map<string, string>,
    name: string | Map<string, string>,
    problems: ArtifactProblems,
  ): Promise<Map<string, string>> {
    const byPath = new Map<string, string>();
    for (const [id, dir] of dirs) {
      const path = `${dir}/${typeof name === "string" ? name : name.get(id)}`;
      if (await fileThere(id, path, problems)) byPath.set(path, id);
    }
    return byPath;
  }

  /**
   * The rows `sql` reads from the Parquet files `files` (`$1`, their paths),
   * in one query when it can: when that fails, each file is read alone, and
   * the ones that fail on their own go to `problems`.
   */
  async #readParquet(
    files: Map<string, string>,
    sql: string,
    problems: ArtifactProblems,
  ): Promise<Record<string, unknown>[]> {
    if (files.size === 0) return [];
    const read = (paths: string[]) => rows(this.#conn, sql, [jsonList(paths.map(literalGlob))]);
    if (files.size > 1) {
      try {
        return await read([...files.keys()]);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        // One of them (or more) cannot be read: find which, below.
      }
    }
    const out: Record<string, unknown>[] = [];
    for (const [path, runId] of files) {
      try {
        out.push(...await read([path]));
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        problems.unreadable(runId, path, err);
      }
    }
    return out;
  }

  /**
   * The files of `files` that have every column of `columns`: read with the
   * others by name, a file without one reads it as nulls. None when a
   * file's footer cannot be read (each is then read alone, and the one that
   * fails is said unreadable).
   */
  async #withColumns(
    files: Map<string, string>,
    columns: readonly string[],
  ): Promise<Map<string, string>> {
    if (files.size < 2) return new Map();
    let found: Record<string, unknown>[];
    try {
      found = await rows(this.#conn, PARQUET_COLUMNS_SQL, [
        jsonList([...files.keys()].map(literalGlob)),
      ]);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      return new Map(); // One of them (or more) cannot be read: each is read alone.
    }
    const out = new Map<string, string>();
    for (const row of found) {
      const path = String(row.filename);
      const runId = files.get(path);
      const names = new Set((row.names as unknown[]).map(String));
      if (runId !== undefined && columns.every((c) => names.has(c))) out.set(path, runId);
    }
    return out;
  }

  async #trades(
    dirs: Map<string, string>,
    names: Map<string, string>,
    problems: ArtifactProblems,
  ): Promise<Map<string, TradesView>> {
    const files = await this.#existing(dirs, names, problems);
    const out = new Map<string, TradesView>();
    const add = (found: Record<string, unknown>[]) => {
      for (const row of found) {
        const runId = files.get(String(row.filename));
        if (runId === undefined) continue;
        const numbers = (text: unknown) =>
          (parseJsonLoose(text) as (number | null)[]).map((v) => (v === null ? NaN : Number(v)));
        out.set(runId, toTrades(numbers(row.exits), numbers(row.returns), numbers(row.adverse)));
      }
    };
    add(
      await this.#readParquet(await this.#withColumns(files, TRADE_COLUMNS), TRADES_SQL, problems),
    );
    for (const [path, runId] of files) {
      const name = names.get(runId)!;
      if (out.has(runId) || problems.has(runId, name)) continue;
      // Not read with the others (it lacks a column, or no call of it is a trade): alone,
      // a file without a column says what it lacks.
      add(await this.#readParquet(new Map([[path, runId]]), TRADES_SQL, problems));
      // Results without a trade (no call had an entry): said as such, not left out unsaid.
      if (!out.has(runId) && !problems.has(runId, name)) {
        out.set(runId, toTrades([], [], []));
      }
    }
    return out;
  }

  async #callers(
    dirs: Map<string, string>,
    problems: ArtifactProblems,
  ): Promise<Map<string, Record<string, unknown>[]>> {
    const files = await this.#existing(dirs, CALLER_SUMMARY_FILE, problems);
    const out = new Map<string, Record<string, unknown>[]>();
    for (const row of await this.#readParquet(files, CALLERS_SQL, problems)) {
      const runId = files.get(String(row.filename));
      if (runId === undefined) continue;
      const clean: Record<string, unknown> = {};
      const parsed = parseJsonLoose(row.row_json) as Record<string, unknown>;
      for (const [k, v] of Object.entries(parsed)) {
        // As stored: the page formats them (rounded here first, 1/15 showed as 0.06670 where a
        // sweep's own by_caller showed 0.06667, and a rate under 5e-5 as 0: a probe).
        if (k !== "filename") clean[k] = v;
      }
      if (!out.has(runId)) out.set(runId, []);
      out.get(runId)!.push(clean);
    }
    return out;
  }
}

/**
 * The folders a report may read Parquet files from: the root's `artifacts/`,
 * and the real folders behind it where it, its `runs/` or a run's folder is
 * a link to another disk (DuckDB checks `allowed_directories` against a
 * file's real path: helper-299 found a run folder moved to another disk and
 * linked back drawn without its charts, "file system operations are
 * disabled", where `ledger show` read it). Each ends with `/`.
 */
async function artifactDirs(absRoot: string): Promise<string[]> {
  const artifacts = `${absRoot}/artifacts`;
  const dirs = new Set([`${artifacts}/`]);
  for (const dir of [artifacts, `${artifacts}/runs`]) {
    const real = await realFolder(dir);
    if (real !== undefined) dirs.add(`${real}/`);
  }
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(`${artifacts}/runs`));
  } catch (err) {
    if (isNothingThere(err)) return [...dirs];
    throw err;
  }
  for (const entry of entries) {
    if (!entry.isSymlink) continue;
    const real = await realFolder(`${artifacts}/runs/${entry.name}`);
    if (real !== undefined) dirs.add(`${real}/`);
  }
  return [...dirs];
}

/** The real path of the folder `path`, or undefined when nothing (readable) is there. */
async function realFolder(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (err) {
    if (isNothingThere(err)) return undefined;
    throw err;
  }
}

/** An error that says a path leads nowhere this process may read (the run is said missing later). */
function isNothingThere(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.FilesystemLoop || err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotCapable;
}

/**
 * The {@linkcode ArtifactProblem}s of the runs of one {@linkcode ReportIndex.runs}
 * call, by run id, and the artifacts those runs recorded (a file they recorded
 * and that is not there is a problem; one no run of that type writes is not).
 */
class ArtifactProblems {
  readonly #recorded: Map<string, { artifact_path: string }[]>;
  readonly #byRun = new Map<string, ArtifactProblem[]>();

  constructor(recorded: Map<string, { artifact_path: string }[]>) {
    this.#recorded = recorded;
  }

  /** The problems of `runId`, in the order found. */
  of(runId: string): ArtifactProblem[] {
    return this.#byRun.get(runId) ?? [];
  }

  /** Whether `runId`'s file `file` has a problem already. */
  has(runId: string, file: string): boolean {
    return this.of(runId).some((p) => p.file === file);
  }

  /** Whether `runId` recorded an artifact named `file` (wherever it was written). */
  recorded(runId: string, file: string): boolean {
    return (this.#recorded.get(runId) ?? []).some((a) => basename(a.artifact_path) === file);
  }

  /** `path` of `runId` is there but could not be read, for the reason `err` gives. */
  unreadable(runId: string, path: string, err: Error | string): void {
    this.#add({
      run_id: runId,
      file: basename(path),
      path,
      kind: "unreadable",
      message: unreadableMessage(path, err),
    });
  }

  /** `path` of `runId` is not there, though the run recorded it. */
  missing(runId: string, path: string): void {
    const file = basename(path);
    this.#add({
      run_id: runId,
      file,
      path,
      kind: "missing",
      message: missingMessage(file, path),
    });
  }

  #add(problem: ArtifactProblem): void {
    if (this.has(problem.run_id, problem.file)) return; // one per file
    if (!this.#byRun.has(problem.run_id)) this.#byRun.set(problem.run_id, []);
    this.#byRun.get(problem.run_id)!.push(problem);
  }
}

/** Interval columns of a caller in a policy summary's `by_caller` (docs/METRICS.md). */
const CALLER_INTERVAL_KEYS = ["win_rate_ci_low", "win_rate_ci_high"] as const;

/**
 * The per-caller rows with the seeded bootstrap interval of each caller's win
 * rate added from the run summary's `by_caller`, where the run has one.
 */
function withIntervals(
  callers: Record<string, unknown>[] | null,
  summary: unknown,
): Record<string, unknown>[] | null {
  if (callers === null) return null;
  const byCaller = (summary as { by_caller?: unknown } | null)?.by_caller;
  if (typeof byCaller !== "object" || byCaller === null) return callers;
  return callers.map((row) => {
    const entry = (byCaller as Record<string, Record<string, unknown> | undefined>)[
      String(row.caller)
    ];
    if (entry === undefined) return row;
    const added: Record<string, unknown> = { ...row };
    for (const key of CALLER_INTERVAL_KEYS) {
      if (typeof entry[key] === "number") added[key] = entry[key];
    }
    return added;
  });
}

/**
 * How many of its first trials each run's view holds: `budget` spread over
 * the runs of `counts` (run id to trials), each at most {@linkcode TRIALS_MAX}.
 * Every run gets the same share, and a run with fewer trials than its share
 * leaves the rest to the others (the runs with fewest trials are served
 * first, and each share is what is left over the runs left). A smaller
 * budget never gives a run more.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { spreadTrials } from "./data.ts";
 * const counts = new Map([["a", 10], ["b", 1_000], ["c", 50_000]]);
 * assert.deepEqual([...spreadTrials(counts, 900)], [["a", 10], ["b", 445], ["c", 445]]);
 * assert.deepEqual([...spreadTrials(counts, 100_000)], [["a", 10], ["b", 1_000], ["c", 10_000]]);
 * ```
 */
export function spreadTrials(
  counts: ReadonlyMap<string, number>,
  budget: number,
): Map<string, number> {
  const runs = [...counts].sort(([, n], [, m]) => n - m);
  const caps = new Map<string, number>();
  let left = Math.max(0, budget);
  for (let i = 0; i < runs.length; i++) {
    const share = Math.min(TRIALS_MAX, Math.floor(left / (runs.length - i)));
    const [id, count] = runs[i];
    if (count > share) {
      // This run and every one after it has more than the share: the share each.
      for (const [rest] of runs.slice(i)) caps.set(rest, share);
      break;
    }
    caps.set(id, count);
    left -= count;
  }
  return caps;
}

function toRunInfo(r: Record<string, unknown>): RunView["run"] {
  return {
    run_id: String(r.run_id),
    run_type: r.run_type as string | null,
    status: String(r.status),
    created_at_ms: r.created_at_ms as number | null,
    started_at_ms: r.started_at_ms as number | null,
    completed_at_ms: r.completed_at_ms as number | null,
    failed_at_ms: r.failed_at_ms as number | null,
    ended_at_ms: r.ended_at_ms as number | null,
    duration_ms: r.duration_ms as number | null,
    summary: parseJsonLoose(r.summary_json, EXACT),
    error: parseJsonLoose(r.error_json, EXACT),
    failed_phase: (r.failed_phase ?? null) as string | null,
    config: parseJsonLoose(r.config, EXACT),
    data_fingerprint: r.data_fingerprint as string | null,
    host: r.host as string | null,
    pid: r.pid as number | null,
    event_count: Number(r.event_count ?? 0),
    last_event_at_ms: (r.last_event_at_ms ?? null) as number | null,
    label: (r.label ?? null) as string | null,
    archived: r.archived === true,
  };
}

/**
 * The phases of a run for its timeline. A phase that started and never
 * completed in a run that ended (the one it failed in) lasts until the run
 * ended and is marked `unfinished`: an audit found the timeline of a failed
 * run leaving out the very phase it failed in. In a run not ended yet
 * (running, or stale) such a phase is `open`: it lasts, so far, until the
 * run's last event (an audit found it left out, where a live timeline helps
 * most).
 */
function toPhases(phases: Record<string, unknown>[], run: RunView["run"]): PhaseView[] {
  const starts = phases.map((p) => p.started_at_ms as number | null).filter((t) => t !== null);
  const firstStart = starts.length === 0 ? null : Math.min(...starts);
  const endedAt = run.ended_at_ms;
  const lastEventAt = run.last_event_at_ms;
  return phases.map((p) => {
    const started = p.started_at_ms === null ? null : Number(p.started_at_ms);
    const going = p.duration_ms === null && started !== null;
    const unfinished = going && endedAt !== null && endedAt >= started;
    const open = going && endedAt === null && lastEventAt !== null && lastEventAt >= started;
    const view: PhaseView = {
      name: String(p.phase_name),
      order: p.phase_order as number | null,
      start_ms: started === null || firstStart === null ? null : started - firstStart,
      duration_ms: unfinished
        ? endedAt - started
        : open
        ? lastEventAt - started
        : p.duration_ms as number | null,
    };
    if (unfinished) view.unfinished = true;
    if (open) view.open = true;
    return view;
  });
}

/**
 * The id of the best trial a sweep's summary names, or null without one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { bestTrialId } from "./data.ts";
 * assert.equal(bestTrialId({ best_trial: { trial_id: "t0003", params: {} } }), "t0003");
 * assert.equal(bestTrialId({ best_trial: null }), null);
 * assert.equal(bestTrialId(null), null);
 * ```
 */
export function bestTrialId(summary: unknown): string | null {
  if (!isJsonObject(summary) || !isJsonObject(summary.best_trial)) return null;
  const id = summary.best_trial.trial_id;
  return id === undefined || id === null ? null : String(id);
}

/** Equity curve and histograms of one run's calls, ordered by exit time. */
function toTrades(exits: number[], returns: number[], adverse: number[]): TradesView {
  // A return that is NaN or infinite is left out of the sum and counted: a probe found one NaN
  // turning every later point of the curve into NaN, a blank chart over "5 trades".
  let sum = 0;
  const equity: [number, number][] = [];
  for (const [i, t] of exits.entries()) {
    if (!Number.isFinite(returns[i])) continue;
    sum += returns[i];
    // To 0.01 bps: whole bps drew a run of returns under half a basis point as a flat line at 0
    // (a probe).
    equity.push([t, Math.round(sum * 100) / 100]);
  }
  const finiteAdverse = adverse.filter(Number.isFinite);
  return {
    count: exits.length,
    equity: thinCurve(equity, EQUITY_POINTS_MAX),
    returns: histogram(returns),
    adverse: histogram(finiteAdverse),
    returns_not_finite: exits.length - equity.length,
    adverse_not_finite: exits.length - finiteAdverse.length,
  };
}

/**
 * The index of a live UI: reopened when the file changed since it was last
 * opened (the indexer publishes by rename, and DuckDB keeps serving the file
 * it opened to any process that keeps it open). A run in flight finishes on
 * the old file; the next request opens the new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { LiveIndex } from "./data.ts";
 * const root = await Deno.makeTempDir();
 * const writer = await openWriter(root);
 * const live = new LiveIndex(root);
 * try {
 *   await writer.append({ event_type: "run.started", run_id: "a1" });
 *   await rebuildIndex(root, {});
 *   assert.equal((await live.use((index) => index.overview())).total, 1);
 *   // The indexer publishes a new file; the next use opens it.
 *   await writer.append({ event_type: "run.started", run_id: "b2" });
 *   await rebuildIndex(root, {});
 *   const overview = await live.use((index) => index.overview({ limit: 50 }));
 *   assert.deepEqual(overview.runs.map((r) => r.run_id).sort(), ["a1", "b2"]);
 * } finally {
 *   live.close();
 *   await writer.close();
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class LiveIndex {
  readonly #root: string;
  readonly #options: ReportIndexOptions;
  #current: LiveEntry | null = null;

  /** A live view of the index of `root`; nothing is opened until {@linkcode LiveIndex.use}. */
  constructor(root: string, options: ReportIndexOptions = {}) {
    this.#root = root;
    this.#options = options;
  }

  /** Run `fn` on an index that is current as of this call. */
  async use<T>(fn: (index: ReportIndex) => Promise<T>): Promise<T> {
    const dbPath = resolve(this.#options.dbPath ?? indexPath(this.#root));
    const key = await fileKey(dbPath);
    if (this.#current !== null && this.#current.key !== key) this.#retire();
    // Set before any await: the requests that arrive while the file opens share this one
    // open, instead of each opening (and leaking) a database of its own.
    this.#current ??= {
      key,
      opening: openLive(this.#root, this.#options, dbPath),
      index: null,
      users: 0,
      retired: false,
    };
    const entry = this.#current;
    entry.users++;
    try {
      entry.index ??= await entry.opening;
      return await fn(entry.index);
    } finally {
      entry.users--;
      // A file that failed to open is tried again by the next request.
      if (entry.index === null && this.#current === entry) this.#current = null;
      if (entry.retired && entry.users === 0) entry.index?.close();
    }
  }

  /** Close the index (requests in flight finish first). */
  close(): void {
    this.#retire();
  }

  #retire(): void {
    const entry = this.#current;
    if (entry === null) return;
    this.#current = null;
    entry.retired = true;
    if (entry.users > 0) return; // the last of them closes it
    // Every user awaits the opening before it leaves, so with none left it has settled.
    entry.index?.close();
  }
}

/**
 * Open the index at `dbPath` for a {@linkcode LiveIndex}: an index file that is
 * there but will not open is an {@linkcode IndexUnreadableError}, not a server fault.
 */
async function openLive(
  root: string,
  options: ReportIndexOptions,
  dbPath: string,
): Promise<ReportIndex> {
  try {
    return await ReportIndex.open(root, options);
  } catch (err) {
    if (err instanceof IndexNotFoundError || !(err instanceof Error)) throw err;
    throw new IndexUnreadableError(dbPath, { cause: err });
  }
}

/** One opened index file of a {@linkcode LiveIndex} and the requests using it. */
interface LiveEntry {
  /** Identity of the file opened ({@linkcode fileKey}). */
  key: string;
  /** The one open of that file. */
  opening: Promise<ReportIndex>;
  /** The index, once `opening` has resolved. */
  index: ReportIndex | null;
  /** Requests using it now. */
  users: number;
  /** No longer current: closed when its last user leaves. */
  retired: boolean;
}

/** Identity of the file at `path`: inode, size and mtime (a publish changes the inode). */
async function fileKey(path: string): Promise<string> {
  try {
    const st = await Deno.stat(path);
    return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      throw new IndexNotFoundError(path);
    }
    throw err;
  }
}

/**
 * The line saying that a run's file `file` (its name), which the run
 * recorded, is not at `path`: the report's and `ledger show`'s words.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { missingMessage } from "./data.ts";
 * assert.equal(
 *   missingMessage("policy_results.parquet", "/l/artifacts/runs/p1/policy_results.parquet"),
 *   "no policy_results.parquet: the run recorded it, but " +
 *     "/l/artifacts/runs/p1/policy_results.parquet is not there",
 * );
 * ```
 */
export function missingMessage(file: string, path: string): string {
  return `no ${file}: the run recorded it, but ${path} is not there`;
}

/**
 * The one line saying that the artifact `path` could not be read and why:
 * the first line of `err`'s message (DuckDB adds the SQL below it), naming
 * the file by its name (the path is said once, first), cut at
 * {@linkcode PROBLEM_REASON_CHARS_MAX} characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { unreadableMessage } from "./data.ts";
 * const err = new Error("Invalid Input Error: File '/r/a.parquet' too small\n\nLINE 6: FROM ...");
 * assert.equal(
 *   unreadableMessage("/r/a.parquet", err),
 *   "/r/a.parquet could not be read: Invalid Input Error: File 'a.parquet' too small",
 * );
 * ```
 */
export function unreadableMessage(path: string, err: Error | string): string {
  const text = typeof err === "string" ? err : err.message;
  let reason = (text.split("\n")[0] ?? "").trim().replaceAll(path, basename(path));
  if (reason.length > PROBLEM_REASON_CHARS_MAX) {
    reason = `${reason.slice(0, PROBLEM_REASON_CHARS_MAX - 3)}...`;
  }
  return `${path} could not be read: ${reason || "no reason given"}`;
}

/**
 * Whether `runId`'s file `path` is there to read. A path that is something
 * else than a file, or that cannot be looked at, is an unreadable problem;
 * a file not there (or whose run directory is a file) is a problem when the
 * run recorded it: missing, or unreadable for the reason the lookup gives.
 */
async function fileThere(
  runId: string,
  path: string,
  problems: ArtifactProblems,
): Promise<boolean> {
  try {
    if ((await Deno.stat(path)).isFile) return true;
    problems.unreadable(runId, path, "not a regular file");
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const recorded = problems.recorded(runId, basename(path));
    if (err instanceof Deno.errors.NotFound) {
      if (recorded) problems.missing(runId, path);
    } else if (recorded || !(err instanceof Deno.errors.NotADirectory)) {
      // Its run directory is not one (a file in its place), or it cannot be looked at.
      problems.unreadable(runId, path, err);
    }
  }
  return false;
}

/** The provenance in `runId`'s manifest `path`, or null; why not, when it should be, to `problems`. */
async function readProvenance(
  runId: string,
  path: string,
  problems: ArtifactProblems,
): Promise<Provenance | null> {
  if (!await fileThere(runId, path, problems)) return null;
  let manifest: unknown;
  try {
    if ((await Deno.stat(path)).size > MANIFEST_BYTES_MAX) {
      problems.unreadable(runId, path, `larger than ${MANIFEST_BYTES_MAX} bytes, not read`);
      return null;
    }
    manifest = parseJsonLoose(await Deno.readTextFile(path));
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    problems.unreadable(runId, path, err);
    return null;
  }
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
    problems.unreadable(runId, path, "not a JSON object");
    return null;
  }
  const m = manifest as Record<string, unknown>;
  return {
    git: (m.git ?? null) as Provenance["git"],
    inputs: (m.inputs ?? null) as Record<string, unknown> | null,
  };
}

/** A whole text that is an integer as JSON writes one. */
const INTEGER_TEXT = new RegExp(`^${INTEGER_TEXT_RE}$`);

function toOverviewRun(r: Record<string, unknown>): OverviewRun {
  // Integers past 2^53 kept as written (a probe: calls 9007199254740993 showed ...992).
  const summary = parseJsonLoose(r.summary_json, EXACT) as Record<string, unknown> | null;
  // Text that is a number as JSON writes one ("0.5") is that number, as `--where` and `--sort`
  // read it (a probe: `ledger runs` showed "0.5" where the overview showed "-").
  const num = (v: unknown) => {
    const n = isExactInteger(v)
      ? Number(v.rawJSON)
      : typeof v === "string" && JSON_NUMBER_TEXT.test(v)
      ? Number(v)
      : v;
    return typeof n === "number" && Number.isFinite(n) ? n : null;
  };
  const exactDigits: Partial<Record<OverviewMetric, string>> = {};
  // `v` as `num` reads it for `field`, or null; its digits kept when it is an integer a double
  // does not hold (an exact integer, or the text of one).
  const take = (field: OverviewMetric, v: unknown) => {
    const n = num(v);
    const digits = isExactInteger(v) ? v.rawJSON : typeof v === "string" ? v : undefined;
    if (
      n !== null && !Number.isSafeInteger(n) && digits !== undefined && INTEGER_TEXT.test(digits)
    ) {
      exactDigits[field] = digits;
    }
    return n;
  };
  // A sweep's summary holds its best trial, not metrics of its own: the overview showed "-"
  // where `ledger runs` shows the best trial's value, starred (a probe).
  const bestMetrics = plainObject(plainObject(summary?.best_trial).metrics);
  const bestTrialFields: OverviewMetric[] = [];
  // `fallback`: the summary's keys read when neither its own nor the best trial's value is
  // there (a sweep's own calls_total counts every call, its best trial's calls those it traded:
  // a review saw 320 unstarred beside a starred win rate of 155 calls).
  const metric = (field: OverviewMetric, keys: string[], fallback: string[] = []) => {
    const own = plainObject(summary);
    for (const key of keys) {
      const n = take(field, own[key]);
      if (n !== null) return n;
    }
    if (keys.some((key) => Object.hasOwn(own, key))) return null;
    const best = take(field, bestMetrics[field]);
    if (best !== null) {
      bestTrialFields.push(field);
      return best;
    }
    for (const key of fallback) {
      const n = take(field, own[key]);
      if (n !== null) return n;
    }
    return null;
  };
  return {
    run_id: String(r.run_id),
    run_type: r.run_type as string | null,
    status: String(r.status),
    created_at_ms: (r.created_at_ms ?? r.started_at_ms ?? null) as number | null,
    duration_ms: r.duration_ms as number | null,
    // A summary's own `calls` comes before its best trial's, as its own win rate does (a probe:
    // a row showed the best trial's calls, starred, beside the summary's own win rate).
    calls: metric("calls", ["count", "calls"], ["calls_total"]),
    win_rate: metric("win_rate", ["win_rate"]),
    mean_return_bps: metric("mean_return_bps", ["mean_return_bps"]),
    best_trial_fields: bestTrialFields,
    exact_digits: exactDigits,
    data_fingerprint: r.data_fingerprint as string | null,
    label: (r.label ?? null) as string | null,
    archived: r.archived === true,
  };
}

/**
 * The values a page shows as the log holds them (config, summary, params,
 * metrics): integers past 2^53 kept exact (a fidelity audit: two runs'
 * seeds 9007199254740993 and ...992 showed as one, and the compare said "No
 * differences").
 */
const EXACT = { exactIntegers: true } as const;

/**
 * Parse a stored JSON text. Python writes `NaN`/`Infinity`, which
 * `JSON.parse` refuses: they read as null (SPEC 3). A text that still does
 * not parse is kept as the string it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseJsonLoose } from "./data.ts";
 * assert.deepStrictEqual(parseJsonLoose('{"a": NaN, "b": -inf}'), { a: null, b: null });
 * ```
 */
export function parseJsonLoose(
  value: unknown,
  options: { exactIntegers?: boolean } = {},
): unknown {
  if (value === null || value === undefined) return null;
  const text = String(value);
  try {
    // The one NaN-tolerant parse (every spelling DuckDB reads: `nan`, `-inf`, ...).
    return parseJsonText(text, { ...options, firstKeys: true }); // as `--where` reads it
  } catch (err) {
    if (err instanceof SyntaxError) return text;
    throw err;
  }
}

/**
 * {@linkcode flatten} of `value`, without the copy when `value` is an object
 * already flat (no value a nested object: a sweep's metrics, as a rule).
 */
function flatOrFlattened(value: unknown): Record<string, unknown> {
  // An own "__proto__" key: copied by flatten as a plain own key, as every other key.
  if (!isJsonObject(value) || Object.hasOwn(value, "__proto__")) return flatten(value);
  for (const k in value) {
    if (Object.hasOwn(value, k) && isJsonObject(value[k])) return flatten(value);
  }
  return value;
}

/** `value` when it is a JSON object ({@linkcode isJsonObject}), else `{}`. */
function plainObject(value: unknown): Record<string, unknown> {
  return isJsonObject(value) ? value : {};
}

/**
 * Flatten an object to dotted paths (`{policy: {stopPct: 1}}` to
 * `{"policy.stopPct": 1}`; arrays stay values), named as `ledger compare` and
 * `ledger export` name them: a `.` inside a key is `\.`, so the key `"a.b"`
 * and the path `a` → `b` stay two rows (a probe: the compare page said "No
 * differences" where `ledger compare` listed `a\.b 1 2`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flatten } from "./data.ts";
 * assert.equal(flatten({ a: { b: 1 } })["a.b"], 1);
 * assert.equal(flatten({ "a.b": 2 })["a\\.b"], 2);
 * ```
 */
export const flatten: (value: unknown, prefix?: string) => Record<string, unknown> = flattenPaths;

/**
 * Bin `values` into about {@linkcode HISTOGRAM_BINS_TARGET} bins of a round
 * width (1, 2 or 5 times a power of ten, at least
 * {@linkcode HISTOGRAM_STEP_MIN}). The edges are the ones returned (rounded
 * to 4 decimals) and a bin `[x0, x1)` counts exactly the values between
 * them: an audit found binary floating point putting a value on an edge
 * into the bin below (0.3 into `[0.2, 0.3)`) and values closer than the
 * rounding into bins of no width.
 *
 * The bins span the values within {@linkcode HISTOGRAM_VALUE_ABS_MAX}; a
 * value beyond is counted in the first bin (`below`) or the last (`above`),
 * which say so. A probe found a trade of 4.5e17 bps looping `ledger report`
 * forever: at that size adding 1 to an edge leaves it where it was.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { histogram } from "./data.ts";
 * const bins = histogram([0, 1, 2, 3, 10]);
 * assert.equal(bins.reduce((s, b) => s + b.count, 0), 5);
 * // 0.3 / 0.1 is 2.9999999999999996 in binary floating point, yet 0.3 starts its bin.
 * assert.deepEqual(histogram([0, 0.3, 3]).find((b) => b.count > 0 && b.x0 > 0), {
 *   x0: 0.3,
 *   x1: 0.4,
 *   count: 1,
 *   above_zero: "all",
 * });
 * // A return of 0 is not a win: the bin [0, 0.1) holding it is not all above zero.
 * assert.equal(histogram([0, 0.05, 0.3, 3])[0].above_zero, "some");
 * // A trade of 4.5e17 bps: counted in the last bin, which says it lies above its edges.
 * assert.deepEqual(histogram([-50, 100, 4.5e17]).at(-1), {
 *   x0: 100,
 *   x1: 105,
 *   count: 2,
 *   above_zero: "all",
 *   above: 1,
 * });
 * ```
 */
export function histogram(values: readonly number[]): Bin[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [];
  const [min, max] = binnedRange(finite);
  // One value (or equal ones): a bin 1 wide, as before.
  const raw = (max - min) / HISTOGRAM_BINS_TARGET;
  const step = raw > 0 ? niceStep(Math.max(raw, HISTOGRAM_STEP_MIN)) : 1;
  // Edge k of the bins: the value the page shows is the value the counting compares with.
  // Within ±HISTOGRAM_VALUE_ABS_MAX edges 0.01 apart stay apart, so each nudge below moves
  // an edge, and the first guesses are off by at most one bin.
  let first = Math.floor(min / step);
  const edge = (k: number) => round4((first + k) * step);
  while (edge(0) > min) first--;
  while (edge(1) <= min) first++;
  let n = Math.max(1, Math.floor((max - edge(0)) / step) + 1);
  while (edge(n) <= max) n++;
  while (n > 1 && edge(n - 1) > max) n--;
  assert(
    n <= HISTOGRAM_BINS_MAX,
    `a histogram of [${min}, ${max}] by ${step} has at most ${HISTOGRAM_BINS_MAX} bins, got ${n}`,
  );
  const counts = new Array<number>(n).fill(0);
  const aboveZero = new Array<number>(n).fill(0);
  let below = 0;
  let above = 0;
  for (const v of finite) {
    let k: number;
    if (v < edge(0)) {
      k = 0;
      below++;
    } else if (v >= edge(n)) {
      k = n - 1;
      above++;
    } else {
      k = Math.min(n - 1, Math.max(0, Math.floor((v - edge(0)) / step)));
      while (k > 0 && v < edge(k)) k--;
      while (k < n - 1 && v >= edge(k + 1)) k++;
    }
    counts[k]++;
    if (v > 0) aboveZero[k]++;
  }
  return counts.map((count, k) => {
    const x0 = edge(k);
    const x1 = edge(k + 1);
    const above_zero = aboveZeroOf(count, aboveZero[k], x0, x1);
    const bin: Bin = { x0, x1, count, above_zero };
    if (k === 0 && below > 0) bin.below = below;
    if (k === n - 1 && above > 0) bin.above = above;
    return bin;
  });
}

/**
 * The range the bins of `finite` span: that of its values within
 * ±{@linkcode HISTOGRAM_VALUE_ABS_MAX}, so an outlier beyond leaves the other
 * values' bins as they were; when none is within, the nearest bound.
 */
function binnedRange(finite: readonly number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  let lowest = Infinity;
  let highest = -Infinity;
  for (const v of finite) {
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
    if (Math.abs(v) > HISTOGRAM_VALUE_ABS_MAX) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min <= max) return [min, max];
  const bound = (v: number) =>
    Math.min(HISTOGRAM_VALUE_ABS_MAX, Math.max(-HISTOGRAM_VALUE_ABS_MAX, v));
  return [bound(lowest), bound(highest)];
}

/** A bin's {@linkcode Bin.above_zero}: by its values, or by its edges when it holds none. */
function aboveZeroOf(count: number, above: number, x0: number, x1: number): Bin["above_zero"] {
  if (count === 0) return x1 <= 0 ? "none" : x0 > 0 ? "all" : "some";
  return above === count ? "all" : above === 0 ? "none" : "some";
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

/**
 * At most `max` points of a curve, in order: the points cut into buckets of
 * consecutive points, each keeping its first, last, lowest and highest (the
 * M4 rule of line-chart decimation), and its deepest point below the peak
 * so far with that peak: the chart of a long run still shows the drawdown
 * `max_drawdown_bps` measures (an audit found even spacing dropping the
 * lowest point of a curve; helper-299 a trough after a bucket's high, above
 * the bucket's low, dropped: -9,000 bps drawn as -320).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { thinCurve } from "./data.ts";
 * const curve: [number, number][] = Array.from({ length: 10_000 }, (_, i) => [i, i % 97]);
 * curve[5_003] = [5_003, -40_000]; // one trade's crash
 * const thinned = thinCurve(curve, 600);
 * assert.ok(thinned.length <= 600);
 * assert.deepEqual(thinned[0], curve[0]);
 * assert.deepEqual(thinned.at(-1), curve.at(-1));
 * assert.ok(thinned.some(([t, v]) => t === 5_003 && v === -40_000));
 * assert.ok(thinned.every(([t], i) => i === 0 || t > thinned[i - 1][0])); // in order
 * ```
 */
export function thinCurve(points: [number, number][], max: number): [number, number][] {
  assert(max >= THIN_POINTS_PER_BUCKET, "a bucket keeps up to six points");
  if (points.length <= max) return points;
  const buckets = Math.floor(max / THIN_POINTS_PER_BUCKET);
  const out: [number, number][] = [];
  let peak = 0; // the highest point so far (the first of equals)
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * points.length) / buckets);
    const to = Math.floor(((b + 1) * points.length) / buckets); // exclusive
    let low = from;
    let high = from;
    let trough = from;
    let troughPeak = peak;
    let deepest = Infinity;
    for (let i = from; i < to; i++) {
      const v = points[i][1];
      if (v < points[low][1]) low = i;
      if (v > points[high][1]) high = i;
      if (v > points[peak][1]) peak = i;
      const below = v - points[peak][1];
      if (below < deepest) {
        deepest = below;
        trough = i;
        troughPeak = peak;
      }
    }
    // A peak in an earlier bucket is that bucket's highest point, kept there.
    const kept = new Set([from, low, high, to - 1, trough]);
    if (troughPeak >= from) kept.add(troughPeak);
    for (const i of [...kept].sort((x, y) => x - y)) out.push(points[i]);
  }
  return out;
}

/** Points {@linkcode thinCurve} keeps of a bucket, at most. */
const THIN_POINTS_PER_BUCKET = 6;

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

/** One value or several as a list parameter; none (absent, empty) as NULL. */
function listParam(value: string | readonly string[] | undefined): SqlParam {
  const values = (typeof value === "string" ? [value] : value ?? []).filter((v) => v !== "");
  return values.length === 0 ? null : jsonList(values);
}
