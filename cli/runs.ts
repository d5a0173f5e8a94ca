/**
 * `ledger runs`: list runs from the index (SPEC 11): filter by type,
 * status, creation time and `--where` expressions, sort by any field, add
 * columns, print a table that fits the terminal or stream json, jsonl or
 * csv. Archived runs are hidden unless `--all`. Reads the index read-only.
 *
 * @module
 */
import { countOf } from "../ledger/count_text.ts";
import { isJsonObject } from "../ledger/json_text.ts";
import { wrapText } from "./_wrap.ts";
import {
  activeLegacyDbPath,
  DateFormatError,
  dayStartMs,
  DEFAULT_CUTOVER_DATE,
  DEFAULT_LEGACY_DB_PATH,
  dualModeNotGrantedWarning,
} from "../legacy/active.ts";
import { RUN_STATUSES } from "../indexer/queries.ts";
import {
  fieldHelp,
  parseColumns,
  parseSort,
  READER_MEMORY_LIMIT_DEFAULT,
  type RunQuery,
  type RunRecord,
  streamRuns,
  streamRunsJson,
  withReader,
} from "../indexer/query/mod.ts";
import { allRows } from "../indexer/query/reader.ts";
import {
  EXIT_OK,
  type FlagSpec,
  type ParsedFlags,
  parseFlags,
  positiveIntegerFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import {
  asUsage,
  formatFlag,
  indexDbPath,
  legacyDbFlag,
  listFlag,
  readerMemoryLimitFlag,
  RUN_SELECT_FLAGS,
  runSelection,
  sortOnlyColumns,
  warnIfIndexMayLackRuns,
} from "./_query.ts";
import {
  cellText,
  columnWidth,
  formatTable,
  leaveOutToFit,
  leftOutNote,
  type OutputFormat,
  tableFits,
  terminalWidth,
  writeJsonTexts,
  writeRows,
} from "./_table.ts";
import { stoppableRead } from "./_stop.ts";

export const FLAGS: FlagSpec = {
  ...RUN_SELECT_FLAGS,
  "where": { type: "string", multiple: true },
  "sort": { type: "string", multiple: true },
  "columns": { type: "string" },
  "format": { type: "string" },
  "json": { type: "boolean" },
  "limit": { type: "string" },
  "wide": { type: "boolean" },
  "db": { type: "string" },
  "memory-limit": { type: "string" },
  "legacy-db": { type: "string" },
  "cutover-date": { type: "string" },
};

/** Rows the table shows when `--limit` is not given (the machine formats show all). */
export const TABLE_ROWS_DEFAULT = 50;

/** Summary metrics the table shows when the runs have them, in this order of preference. */
export const HEADLINE_METRICS: readonly string[] = [
  "win_rate",
  "mean_return_bps",
  "median_return_bps",
  "profit_factor",
  "expectancy_bps",
  "hit_2x_rate",
  "median_peak_multiple",
  "median_dd_bps",
  "best_score",
  "trials",
  "count",
];
/** Short table headers of the headline metrics. */
const METRIC_HEADERS: Readonly<Record<string, string>> = {
  win_rate: "WIN_RATE",
  mean_return_bps: "MEAN_BPS",
  median_return_bps: "MED_BPS",
  profit_factor: "PF",
  expectancy_bps: "EXP_BPS",
  hit_2x_rate: "HIT_2X",
  median_peak_multiple: "PEAK_X",
  median_dd_bps: "DD_BPS",
  best_score: "BEST",
  trials: "TRIALS",
  count: "COUNT",
};
/** Headline metric columns the table shows at most. */
const HEADLINE_COLUMNS_MAX = 3;
/** Longest run id (or status) the runs tables keep whole rather than cut. */
const WHOLE_CHARS_MAX = 64;

const USAGE = `Usage: ledger runs [--type T]... [--status S]... [--since WHEN] [--until WHEN]
                   [--where EXPR]... [--sort FIELD[:asc|desc]] [--columns F1,F2]
                   [--format table|json|jsonl|csv | --json] [--limit N] [--all]
                   [--wide] [--memory-limit SIZE] [--db PATH] [--root DIR]

List runs from the index, newest first. The table shows id, type, status,
created (UTC), duration, headline summary metrics (a sweep's: its best
trial's, marked *) and the label, fitted to the terminal (into a pipe or
file: to $COLUMNS, else 80; --wide: nothing left out or cut); it lists
${TABLE_ROWS_DEFAULT} runs unless --limit. Table numbers keep 4 significant digits, and
every digit of their integer part (12345.678 is 12345.7); json, jsonl and csv
list every match (streamed), every value whole.

  --type T, --status S   keep these (repeatable); status: one of
                         ${RUN_STATUSES.join(", ")}
  --since, --until       creation time: a UTC date or ISO instant (no offset =
                         UTC); both inclusive: --until DATE takes the whole day
  --where EXPR           filter (repeatable, all must hold), e.g.
                         "summary.win_rate >= 0.5 and config.fee_bps = 10"
                         ops = != < <= > >= ~ 'regex', is [not] null,
                         and/or/not, parentheses; a comparison holds only
                         where the field is there ("tags.desk != 'a'": runs
                         on another desk) and "not" takes every other run
                         ("not tags.desk = 'a'": runs without a desk too)
  --sort FIELD[:dir]     sort by any field: numbers numerically, then text,
                         then nulls, in either direction;
                         more keys break ties: F1,F2:desc or --sort again;
                         the table shows the fields it is sorted by
  --columns F1,F2        extra columns, in the table and every format
  --all                  include archived runs
  --memory-limit SIZE    DuckDB memory of the query (default 256MB a core:
                         ${READER_MEMORY_LIMIT_DEFAULT}); a sort past it spills beside the index
Fields: ${wrapText(`${fieldHelp("runs")}.`, 8)}
A sweep's summary holds its best trial: the table's starred cells are
summary.best_trial.metrics.<name>, which --where and --sort take as such.

Dual mode (docs/MIGRATION.md): with ${DEFAULT_LEGACY_DB_PATH} or --legacy-db,
legacy runs are listed too, every flag above applying to the one list (a run
only the legacy file holds: no label, tags or phases, never archived); the
table and CSV add SOURCE; cutover ${DEFAULT_CUTOVER_DATE} or --cutover-date;
--memory-limit does not apply.

Exit codes: 0 ok, 1 no index or unreadable index, 2 usage error.`;

/**
 * Run `ledger runs` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./runs.ts";
 * // The command line is `await main(args)`, e.g. main(["--status", "failed", "--json"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger runs [--type T]... [--status S]... [--since WHEN] [--until WHEN]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const format = formatFlag(values);
  const limit = positiveIntegerFlag(values, "limit");
  // Checked before dual mode, which does not use it: a bad flag is a usage error either way.
  const memoryLimit = readerMemoryLimitFlag(values);
  const query = await asUsage(() => Promise.resolve(runQueryFlags(values)));
  const dbPath = indexDbPath(values);
  const cutoverDate = cutoverDateFlag(values);
  const legacyDbPath = await activeLegacyDbPath(legacyDbFlag(values), {
    onNotGranted: (path) =>
      console.error(`ledger runs: warning: ${dualModeNotGrantedWarning(path)}`),
  });
  const machine = format !== "table";
  const runQuery: RunQuery = {
    ...query,
    // The table also shows the fields it is sorted by; the other formats have --columns only.
    columns: machine
      ? query.columns
      : [...(query.columns ?? []), ...sortOnlyColumns(query, hasRunsColumn)],
    limit: limit ?? (machine ? undefined : TABLE_ROWS_DEFAULT + 1),
  };
  const code = legacyDbPath === undefined
    ? await stoppableRead(
      "runs",
      (signal) =>
        printRuns(dbPath, runQuery, { values, format, limit, memoryLimit, query, signal }),
    )
    : await printDual(runQuery, { legacyDbPath, indexDbPath: dbPath, cutoverDate }, {
      format,
      wide: values.wide === true,
      limitGiven: limit !== undefined,
      columnsAsked: query.columns ?? [],
    });
  if (code === EXIT_OK) await warnIfIndexMayLackRuns("runs", dbPath);
  return code;
}

/** The answer from the index alone (no legacy file), in `format`. */
async function printRuns(
  dbPath: string,
  runQuery: RunQuery,
  { values, format, limit, memoryLimit, query, signal }: {
    values: ParsedFlags["values"];
    format: OutputFormat;
    limit: number | undefined;
    memoryLimit: string;
    query: RunQuery;
    signal: AbortSignal;
  },
): Promise<number> {
  const machine = format !== "table";
  return await asUsage(() =>
    withReader(dbPath, async (conn) => {
      for (const w of await typeSpellingWarnings(conn, runQuery.types ?? [])) {
        console.error(`ledger runs: warning: ${w}`);
      }
      if (format === "json" || format === "jsonl") {
        await writeJsonTexts(streamRunsJson(conn, runQuery), format);
        return EXIT_OK;
      }
      if (machine) {
        await writeRows(streamRuns(conn, runQuery), {
          format,
          csvColumns: csvColumns(runQuery.columns ?? []),
        });
        return EXIT_OK;
      }
      const runs: RunRecord[] = [];
      for await (const batch of streamRuns(conn, runQuery)) runs.push(...batch);
      if (runs.length === 0) {
        console.log(await emptyMessage(conn, values, runQuery));
        return EXIT_OK;
      }
      const more = limit === undefined && runs.length > TABLE_ROWS_DEFAULT;
      const shown = more ? runs.slice(0, TABLE_ROWS_DEFAULT) : runs;
      const columns = tableColumns(query, shown);
      console.log(formatRunsTable(shown, {
        columns,
        sortFields: sortFields(query),
        wide: values.wide === true,
      }));
      if (more) {
        console.log(`(first ${TABLE_ROWS_DEFAULT} runs; use --limit N or --format jsonl for more)`);
      }
      return EXIT_OK;
    }, { memoryLimit, signal })
  );
}

/** The query the flags describe (everything but status and limit). */
function runQueryFlags(values: ParsedFlags["values"]): RunQuery {
  // Repeated --sort flags are one list of keys: `--sort a --sort b` = `--sort a,b`.
  const sort = listFlag(values, "sort");
  const columns = stringFlag(values, "columns");
  return {
    ...runSelection(values),
    where: listFlag(values, "where"),
    sort: sort.length === 0 ? undefined : parseSort(sort.join(","), "runs"),
    columns: columns === undefined ? [] : parseColumns(columns, "runs"),
  };
}

/**
 * A warning per `--type` no run of the index has while another spelling of it
 * (`-` for `_`, another case) is a run type there: `backtest path-only` makes
 * runs of type `path_only`, and `runs --type path-only` said only "No runs
 * match" (a contract check).
 */
async function typeSpellingWarnings(
  conn: Parameters<Parameters<typeof withReader>[1]>[0],
  types: readonly string[],
): Promise<string[]> {
  if (types.length === 0) return [];
  const rows = await allRows(
    conn,
    `SELECT given, list_sort(list(DISTINCT r.run_type)) AS near
    FROM unnest(from_json($1, '["VARCHAR"]')) AS g(given)
    JOIN runs_d AS r
      ON lower(replace(r.run_type, '-', '_')) = lower(replace(given, '-', '_'))
    GROUP BY given
    HAVING NOT list_contains(list(r.run_type), given)
    ORDER BY given`,
    [JSON.stringify(types)],
  );
  return rows.map((r) => {
    const near = (r.near as string[]).map((t) => JSON.stringify(t)).join(", ");
    return `no run has type ${JSON.stringify(r.given)}; the index has ${near}`;
  });
}

/** "No runs match" when the index has runs the filters left out, else "No runs in the index." */
async function emptyMessage(
  conn: Parameters<Parameters<typeof withReader>[1]>[0],
  values: ParsedFlags["values"],
  runQuery: RunQuery,
): Promise<string> {
  const [{ total, archived }] = await allRows(
    conn,
    "SELECT count(*) AS total, count(*) FILTER (WHERE archived) AS archived FROM latest_runs",
  );
  if (Number(total) === 0) return "No runs in the index.";
  // The archived runs the filters match, which --all shows (a probe: the index's every archived
  // run was counted, and --all then showed none), as `report` counts them.
  let matched = 0;
  if (values.all !== true && Number(archived) > 0) {
    // Every match, not the page's limit (a review: 5 of 100 with --limit 5).
    const all = { ...runQuery, includeArchived: true, limit: undefined };
    for await (const batch of streamRuns(conn, all)) {
      matched += batch.length;
    }
  }
  const hidden = matched === 0 ? "" : `; ${matched} archived, shown with --all`;
  return `No runs match (${countOf(Number(total), "run")} in the index${hidden}).`;
}

/** `ledger runs` in dual mode: the same query over the merged list of both stores. */
async function printDual(
  query: RunQuery,
  dual: { legacyDbPath: string; indexDbPath: string; cutoverDate: string | undefined },
  o: { format: string; wide: boolean; limitGiven: boolean; columnsAsked: readonly string[] },
): Promise<number> {
  // Loaded only in dual mode: the legacy reader is not what a plain `runs` waits for.
  const { queryMergedRuns } = await import("../legacy/dual.ts");
  const merged = await asUsage(() => queryMergedRuns(query, dual));
  for (const w of merged.warnings) console.error(`ledger runs: warning: ${w}`);
  const runs = merged.runs;
  if (o.format !== "table") {
    await writeRows(
      (async function* () {
        yield runs;
      })(),
      {
        format: o.format as "json" | "jsonl" | "csv",
        // `source`, as the table's SOURCE and json's `source` (a probe: CSV had no way to tell
        // a legacy row from the log's).
        csvColumns: csvColumns(query.columns ?? [], ["source"]),
      },
    );
    return EXIT_OK;
  }
  if (runs.length === 0) {
    console.log(
      dualEmptyMessage(merged.runsTotal, query.includeArchived ? 0 : merged.archivedTotal),
    );
    return EXIT_OK;
  }
  const more = !o.limitGiven && runs.length > TABLE_ROWS_DEFAULT;
  const shown = more ? runs.slice(0, TABLE_ROWS_DEFAULT) : runs;
  // A sort field the table has no column for is an extra; a headline metric has its own.
  const columns = tableColumns({ ...query, columns: o.columnsAsked }, shown);
  console.log(formatDualTable(shown, { columns, sortFields: sortFields(query), wide: o.wide }));
  if (more) {
    console.log(`(first ${TABLE_ROWS_DEFAULT} runs; use --limit N or --format jsonl for more)`);
  }
  return EXIT_OK;
}

function dualEmptyMessage(total: number, archivedHidden: number): string {
  const stores = "the index and the legacy DuckDB";
  if (total === 0) return `No runs in ${stores}.`;
  const hidden = archivedHidden === 0 ? "" : `; ${archivedHidden} archived, shown with --all`;
  return `No runs match (${countOf(total, "run")} in ${stores}${hidden}).`;
}

/**
 * The dual-mode table: the index's columns, its headline metrics (a probe:
 * dual mode, on whenever the legacy file exists, showed none), LABEL (when a
 * shown run has one), the extra columns, then PHASES and SOURCE, fitted to
 * the terminal. The run id stays whole (up to {@linkcode WHOLE_CHARS_MAX};
 * an audit saw every legacy id cut to `bt-202601…`): LABEL goes first, then
 * PHASES, then the headline metrics from the last but the first and those
 * sorted by; when the table is still too wide, whole columns are left out in
 * turn (TYPE, DURATION, CREATED, the metrics, then the extra columns from
 * the last but the sort fields) and a last line names them.
 */
function formatDualTable(
  runs: readonly RunRecord[],
  options: { columns: readonly string[]; sortFields: readonly string[]; wide: boolean },
): string {
  const width = terminalWidth();
  const extra = options.columns;
  const all = headlineMetrics(runs);
  const sorted = all.filter((m) => options.sortFields.includes(`summary.${m}`));
  const others = all.filter((m) => !sorted.includes(m));
  const hasLabel = runs.some((r) => r.label !== null && r.label !== "");
  const layouts = [
    ...(hasLabel ? [{ label: true, phases: true, metrics: all }] : []),
    { label: false, phases: true, metrics: all },
  ];
  for (let n = others.length; n >= Math.min(1, others.length); n--) {
    const kept = new Set([...sorted, ...others.slice(0, n)]);
    layouts.push({ label: false, phases: false, metrics: all.filter((m) => kept.has(m)) });
  }
  const withNote = (table: string, t: ReturnType<typeof dualTable>) =>
    t.bestTrialCells ? `${table}\n${BEST_TRIAL_NOTE}` : table;
  for (const layout of layouts) {
    const t = dualTable(runs, extra, { ...layout, sorted });
    if (options.wide || tableFits(t.header, t.body, { width, widthsMin: t.mins })) {
      // Fitted by design (no LABEL, no PHASES, fewer metrics), as the index's table is.
      const table = formatTable(t.header, t.body, {
        wide: options.wide,
        width,
        widthsMin: t.mins,
        alignRight: t.right,
      });
      return withNote(table, t);
    }
  }
  const t = dualTable(runs, extra, { label: false, phases: true, metrics: all, sorted });
  const phasesIndex = t.header.length - 2;
  const firstExtra = DUAL_FIRST_METRIC + all.length;
  const order = [phasesIndex, 1, 4, 3];
  for (let i = all.length - 1; i >= 0; i--) {
    if (!sorted.includes(all[i])) order.push(DUAL_FIRST_METRIC + i);
  }
  for (let i = extra.length - 1; i >= 0; i--) {
    if (!options.sortFields.includes(extra[i])) order.push(firstExtra + i);
  }
  const { table, leftOut } = leaveOutToFit(t.header, t.body, {
    width,
    widthsMin: t.mins,
    order,
    wide: options.wide,
    alignRight: t.right,
  });
  const named = [...(hasLabel ? ["LABEL"] : []), ...leftOut.map((i) => t.header[i])];
  const starred = starredShown(t.body, all.map((_, i) => DUAL_FIRST_METRIC + i), leftOut);
  return [table, ...(starred ? [BEST_TRIAL_NOTE] : []), leftOutNote(width, named)].join("\n");
}

function dualTable(
  runs: readonly RunRecord[],
  extra: readonly string[],
  layout: {
    label: boolean;
    phases: boolean;
    metrics: readonly string[];
    sorted: readonly string[];
  },
) {
  const { metrics } = layout;
  const label = layout.label ? ["LABEL"] : [];
  const phases = layout.phases ? ["PHASES"] : [];
  const header = [...LEADING_HEADERS, ...metrics.map(metricHeader), ...label, ...extra];
  header.push(...phases, "SOURCE");
  let bestTrialCells = false;
  const body = runs.map((r) => [
    r.run_id,
    r.run_type ?? "-",
    r.status + (r.archived ? " (archived)" : ""),
    formatTime(r.created_at_ms),
    formatDuration(r.duration_ms),
    ...metricCells(r.summary, metrics, layout.sorted, () => (bestTrialCells = true)),
    ...(layout.label ? [r.label ?? ""] : []),
    ...extra.map((c) => cellText(r[c])),
    ...(layout.phases ? [String(r.phase_count)] : []),
    String(r.source),
  ]);
  const numberWidth = (i: number) => body.reduce((n, row) => Math.max(n, row[i].length), 1);
  const mins = [
    wholeWidth(body, 0, 10),
    6,
    9,
    20,
    8,
    ...metrics.map((m, i) => Math.max(numberWidth(DUAL_FIRST_METRIC + i), metricHeader(m).length)),
    ...label.map(() => 6),
    ...extra.map((c) => Math.min(c.length, 16)),
  ];
  mins.push(...phases.map(() => 6), 9);
  const right = [4, ...metrics.map((_, i) => DUAL_FIRST_METRIC + i)];
  if (layout.phases) right.push(header.length - 2);
  return { header, body, mins, right, bestTrialCells };
}

/**
 * The narrowest column `i` of `body` may be cut to when its cells stay whole:
 * its longest cell (the longest, not the shortest: an audit saw the ids of a
 * dual-mode table cut to the width of the shortest), at least `floor`, at
 * most {@linkcode WHOLE_CHARS_MAX}.
 */
function wholeWidth(body: readonly (readonly string[])[], i: number, floor: number): number {
  // Terminal columns, not code points: a CJK id of 29 characters takes 35 (a review).
  return Math.max(floor, Math.min(WHOLE_CHARS_MAX, columnWidth(body, i)));
}

/** Fields the runs table always shows in a column of its own. */
const TABLE_FIELDS = ["run_id", "run_type", "status", "created_at", "duration_ms", "label"];

/** Whether the runs table shows `field` without being asked (not a headline metric). */
function hasRunsColumn(field: string): boolean {
  return TABLE_FIELDS.includes(field);
}

/**
 * The table's extra columns: `--columns` but those the table shows anyway
 * (RUN ID, TYPE, ...), then each `--sort` field the table does not show
 * already (a headline metric has its own column).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { tableColumns } from "./runs.ts";
 * const sort = [
 *   { field: "summary.calls", descending: true },
 *   { field: "created_at", descending: false }, // the CREATED column
 *   { field: "summary.win_rate", descending: true }, // a headline metric: WIN_RATE
 * ];
 * const runs = [{ summary: { win_rate: 0.5, calls: 10 } }];
 * assert.deepEqual(tableColumns({ columns: ["config.fee_bps"], sort }, runs), [
 *   "config.fee_bps",
 *   "summary.calls",
 * ]);
 * ```
 */
export function tableColumns(query: RunQuery, runs: readonly { summary?: unknown }[]): string[] {
  const headline = headlineMetrics(runs).map((m) => `summary.${m}`);
  return [
    // A column the table has anyway is not shown twice (a probe: `--columns run_id`).
    ...(query.columns ?? []).filter((f) => !hasRunsColumn(f)),
    ...sortOnlyColumns(query, hasRunsColumn).filter((f) => !headline.includes(f)),
  ];
}

/** The fields `query` is sorted by, in order. */
function sortFields(query: RunQuery): string[] {
  return (query.sort ?? []).map((k) => k.field);
}

/** CSV columns of the runs list: the fixed ones, then the extra columns. */
function csvColumns(extra: readonly string[], last: readonly string[] = []) {
  const fixed = [
    "run_id",
    "run_type",
    "status",
    "created_at",
    "duration_ms",
    "label",
    "archived",
    "phase_count",
    "data_fingerprint",
  ];
  // A fixed column named in --columns is not repeated; `last` ends the row, as SOURCE the table.
  const named = extra.filter((name) => !fixed.includes(name) && !last.includes(name));
  return [...fixed, ...named, ...last].map((name) => ({
    header: name,
    get: (row: Record<string, unknown>) => row[name],
  }));
}

/** `--cutover-date` of dual mode (`runs`, `show`): a real `YYYY-MM-DD`, else a usage error. */
export function cutoverDateFlag(values: ParsedFlags["values"]): string | undefined {
  const raw = stringFlag(values, "cutover-date");
  if (raw === undefined) return undefined;
  try {
    dayStartMs(raw, "--cutover-date");
  } catch (err) {
    if (err instanceof DateFormatError) throw new UsageError(err.message);
    throw err;
  }
  return raw;
}

/** Options for {@linkcode formatRunsTable}. */
export interface FormatRunsTableOptions {
  /** Extra columns (field names, keys of the rows). @default {[]} */
  columns?: readonly string[];
  /**
   * The `--sort` fields: a headline metric among them keeps its column (the
   * others go first to fit), and an extra column among them is never left
   * out, so the table shows what it is sorted by. @default {[]}
   */
  sortFields?: readonly string[];
  /** Do not truncate cells. @default {false} */
  wide?: boolean;
  /** Width to fit. @default {terminal width; off a terminal COLUMNS, else 80} */
  width?: number;
}

/**
 * The headline summary metrics of `runs`: the first of
 * {@linkcode HEADLINE_METRICS} that some run's summary has as a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { headlineMetrics } from "./runs.ts";
 * assert.deepEqual(headlineMetrics([{ summary: { win_rate: 0.5 } }]), ["win_rate"]);
 * ```
 */
export function headlineMetrics(runs: readonly { summary?: unknown }[]): string[] {
  const present = new Set<string>();
  for (const r of runs) {
    for (const m of HEADLINE_METRICS) {
      if (typeof headlineValue(r.summary, m) === "number") present.add(m);
    }
  }
  return HEADLINE_METRICS.filter((m) => present.has(m)).slice(0, HEADLINE_COLUMNS_MAX);
}

/**
 * A run's headline metric `m`: its summary's, else (a sweep) its best
 * trial's ({@linkcode bestTrialValue}), else undefined. A sweep beside
 * policy runs showed dashes under every metric (an audit: its metrics are
 * its best trial's).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { headlineValue } from "./runs.ts";
 * const sweep = { trials: 2, best_trial: { metrics: { win_rate: 0.6 } } };
 * assert.equal(headlineValue(sweep, "win_rate"), 0.6);
 * assert.equal(headlineValue(sweep, "trials"), 2);
 * assert.equal(headlineValue({ win_rate: "x" }, "win_rate"), "x"); // as the summary has it
 * ```
 */
export function headlineValue(summary: unknown, m: string): unknown {
  return bestTrialValue(summary, m) ?? summaryValue(summary, m);
}

/** The summary's own metric `m`, if it has one. */
function summaryValue(summary: unknown, m: string): unknown {
  return isJsonObject(summary) ? summary[m] : undefined;
}

/** A sweep's best trial's metric `m` (`summary.best_trial.metrics`) when its summary has no `m`. */
function bestTrialValue(summary: unknown, m: string): unknown {
  if (!isJsonObject(summary) || Object.hasOwn(summary, m)) return undefined;
  const best = summary.best_trial;
  return isJsonObject(best) && isJsonObject(best.metrics) ? best.metrics[m] : undefined;
}

/**
 * The runs table: id, type, status, created, duration, phases (completed),
 * headline metrics, label, then the extra columns; fitted to the width
 * (metric columns go from the last, PHASES before each; a metric sorted by
 * stays; the run id and the status stay whole, up to
 * {@linkcode WHOLE_CHARS_MAX} characters; with long ids and no extra
 * columns or sort fields, TYPE, DURATION and CREATED go before the metrics).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatRunsTable } from "./runs.ts";
 * // A run as queryRuns returns it (with its summary).
 * const t0 = Date.UTC(2026, 0, 20, 12);
 * const run = {
 *   run_id: "bt-0001",
 *   run_type: "policy",
 *   status: "completed",
 *   created_at: "2026-01-20T12:00:00Z",
 *   created_at_ms: t0,
 *   started_at_ms: t0,
 *   completed_at_ms: t0 + 12_300,
 *   failed_at_ms: null,
 *   duration_ms: 12_300,
 *   label: "baseline",
 *   archived: false,
 *   phase_count: 7,
 *   data_fingerprint: "fp",
 *   summary: { win_rate: 0.5, mean_return_bps: 12.5 },
 * };
 * assert.equal(
 *   formatRunsTable([run], { width: 100 }),
 *   "RUN ID   TYPE    STATUS     CREATED               DURATION  PHASES  WIN_RATE  MEAN_BPS  LABEL\n" +
 *     "bt-0001  policy  completed  2026-01-20T12:00:00Z    12.3 s       7       0.5      12.5  baseline",
 * );
 * // Narrower: PHASES and metric columns go first, so no time or number is cut.
 * assert.equal(
 *   formatRunsTable([run], { width: 80 }),
 *   "RUN ID   TYPE    STATUS     CREATED               DURATION  WIN_RATE  LABEL\n" +
 *     "bt-0001  policy  completed  2026-01-20T12:00:00Z    12.3 s       0.5  baseline",
 * );
 * // Sorted by a headline metric: it keeps its column, the others go first.
 * assert.equal(
 *   formatRunsTable([run], { width: 80, sortFields: ["summary.mean_return_bps"] }),
 *   "RUN ID   TYPE    STATUS     CREATED               DURATION  MEAN_BPS  LABEL\n" +
 *     "bt-0001  policy  completed  2026-01-20T12:00:00Z    12.3 s      12.5  baseline",
 * );
 * ```
 */
export function formatRunsTable(
  runs: readonly RunRecord[],
  options: FormatRunsTableOptions = {},
): string {
  const width = options.width ?? terminalWidth();
  const all = headlineMetrics(runs);
  const extra = options.columns ?? [];
  const sortFields = options.sortFields ?? [];
  // A headline metric the rows are sorted by keeps its column: a table that hid it would look
  // unsorted (a query audit: sorted by MEAN_BPS, the table showed only WIN_RATE).
  const sorted = all.filter((m) => sortFields.includes(`summary.${m}`));
  const others = all.filter((m) => !sorted.includes(m));
  // Fewer metric columns until the table fits with no number, time or run id cut (the id is
  // what a reader copies into show or compare: an audit saw every default id as
  // `policy-2026…`); PHASES goes before a metric does. Without extra columns or sort fields the
  // first headline metric is not left out here: TYPE, DURATION and CREATED go before the
  // metrics (below), which a default id's text tells already. Columns asked for (--columns,
  // sort fields, whether or not the table has them anyway) are not cut for a headline metric.
  const keepFirstMetric = extra.length === 0 && sortFields.length === 0 && others.length > 0;
  const fewestMetrics = keepFirstMetric ? 1 : 0;
  for (let n = others.length; n >= fewestMetrics; n--) {
    const kept = new Set([...sorted, ...others.slice(0, n)]);
    const metrics = all.filter((m) => kept.has(m)); // in their order of preference
    for (const phases of [true, false]) {
      if (metrics.length === 0 && !phases) continue; // no metrics: PHASES is left out below, in turn
      const t = runsTable(runs, { metrics, sorted, extra, phases });
      if (options.wide || tableFits(t.header, t.body, { width, widthsMin: t.mins })) {
        // Fitted by design (fewer headline metrics, no PHASES): nothing to say.
        const table = formatTable(t.header, t.body, {
          wide: options.wide,
          width,
          alignRight: t.right,
          widthsMin: t.mins,
        });
        return t.bestTrialCells ? `${table}\n${BEST_TRIAL_NOTE}` : table;
      }
    }
  }
  // Still too wide (columns asked for with --columns, long ids): the run id and the status stay
  // whole, and whole columns are left out in turn, and a last line names them (not an empty
  // LABEL); --wide shows all. The order, with columns asked for: the headline metrics, an empty
  // LABEL, PHASES, TYPE, DURATION, CREATED, a LABEL, then the extra columns from the last.
  // Without (a default id holds its type and time): an empty LABEL, PHASES, TYPE, DURATION,
  // CREATED, the headline metrics from the last but the first, a LABEL, the first. The sort
  // fields stay: a headline metric and an extra column alike.
  const t = runsTable(runs, { metrics: all, sorted, extra, phases: true });
  const metricColumns = others.map((m) => t.phasesIndex + 1 + all.indexOf(m));
  const labelled = runs.some((r) => r.label !== null && r.label !== "");
  const emptyLabel = labelled ? [] : [t.labelIndex];
  const order = keepFirstMetric
    ? [...emptyLabel, t.phasesIndex, 1, 4, 3, ...metricColumns.slice(1).reverse()]
    : [...metricColumns, ...emptyLabel, t.phasesIndex, 1, 4, 3];
  if (labelled) order.push(t.labelIndex);
  if (keepFirstMetric) order.push(metricColumns[0]);
  for (let i = extra.length - 1; i >= 0; i--) {
    if (!sortFields.includes(extra[i])) order.push(t.labelIndex + 1 + i);
  }
  const { table, leftOut } = leaveOutToFit(t.header, t.body, {
    width,
    widthsMin: t.mins,
    order,
    wide: options.wide,
    alignRight: t.right,
  });
  // Named in the order they were left out (not an empty LABEL: an empty column is no loss).
  const named = leftOut.filter((i) => labelled || i !== t.labelIndex).map((i) => t.header[i]);
  // The note on `*` cells only while a column that holds one is shown.
  const starred = starredShown(t.body, metricColumns, leftOut);
  const notes = starred ? [BEST_TRIAL_NOTE] : [];
  if (named.length > 0) notes.push(leftOutNote(width, named));
  return [table, ...notes].join("\n");
}

function metricHeader(metric: string): string {
  return METRIC_HEADERS[metric] ?? metric.toUpperCase();
}

/** The columns of one layout of the runs table (see {@linkcode runsTable}). */
interface RunsLayout {
  /** Headline metrics shown, in order. */
  metrics: readonly string[];
  /**
   * Those the rows are sorted by: a sweep's cell is its summary's value, as
   * the sort reads it, not its best trial's.
   */
  sorted: readonly string[];
  /** Extra columns (field names), after LABEL. */
  extra: readonly string[];
  /** Whether the table has PHASES. */
  phases: boolean;
}

/**
 * The runs table in one layout: header, cells, the narrowest each column
 * may be cut to, the right-aligned columns, and where PHASES (-1 without
 * it) and LABEL are.
 */
function runsTable(runs: readonly RunRecord[], layout: RunsLayout) {
  const { metrics, sorted, extra, phases } = layout;
  const first = LEADING_HEADERS.length + (phases ? 1 : 0); // the first metric column
  const header = [
    ...LEADING_HEADERS,
    ...(phases ? ["PHASES"] : []), // issue 3: "run id, type, status, created, duration, phases"
    ...metrics.map(metricHeader),
    "LABEL",
    ...extra,
  ];
  let bestTrialCells = false;
  const body = runs.map((r) => {
    return [
      r.run_id,
      r.run_type ?? "-",
      r.status + (r.archived ? " (archived)" : ""),
      formatTime(r.created_at_ms),
      formatDuration(r.duration_ms),
      ...(phases ? [String(r.phase_count)] : []),
      ...metricCells(r.summary, metrics, sorted, () => (bestTrialCells = true)),
      r.label ?? "",
      ...extra.map((c) => cellText(r[c])),
    ];
  });
  // A loop, not a spread: 200,000 rows passed as arguments threw a RangeError (a review).
  const numberWidth = (i: number) => body.reduce((n, row) => Math.max(n, row[i].length), 1);
  const mins = [
    wholeWidth(body, 0, 12),
    6,
    wholeWidth(body, 2, 9),
    20,
    8,
    ...(phases ? [6] : []),
    ...metrics.map((m, i) => Math.max(numberWidth(first + i), (METRIC_HEADERS[m] ?? m).length)),
    6,
    ...extra.map((c) => Math.min(c.length, 16)),
  ];
  const right = [4, ...(phases ? [5] : []), ...metrics.map((_, i) => first + i)];
  return {
    header,
    body,
    mins,
    right,
    phasesIndex: phases ? 5 : -1,
    labelIndex: first + metrics.length,
    bestTrialCells,
  };
}

/** The first columns of every runs table (the index's and dual mode's), in order. */
const LEADING_HEADERS = ["RUN ID", "TYPE", "STATUS", "CREATED", "DURATION"];

/** The dual-mode table's first metric column: right after {@linkcode LEADING_HEADERS}. */
const DUAL_FIRST_METRIC = LEADING_HEADERS.length;

/** The line below a runs table whose metric cells hold a sweep's best trial's (`0.25*`). */
const BEST_TRIAL_NOTE = "(* a sweep's best trial)";

/**
 * A run's headline `metrics` as table cells. A sweep's own summary has no
 * such metric: its best trial's, marked `*` (noted below the table;
 * `onBestTrial` is called for each such cell). Under a column the rows are
 * sorted by (`sorted`), the summary's own, which the sort reads.
 */
function metricCells(
  summary: unknown,
  metrics: readonly string[],
  sorted: readonly string[],
  onBestTrial: () => void,
): string[] {
  return metrics.map((m) => {
    const best = sorted.includes(m) ? undefined : bestTrialValue(summary, m);
    if (best === undefined) return cellText(summaryValue(summary, m));
    onBestTrial();
    return `${cellText(best)}*`;
  });
}

/** Whether a column of `columns` the table shows (not in `leftOut`) holds a best trial's `*` cell. */
function starredShown(
  body: readonly string[][],
  columns: readonly number[],
  leftOut: readonly number[],
): boolean {
  return columns.some((i) => !leftOut.includes(i) && body.some((row) => row[i].endsWith("*")));
}

/**
 * A time as ISO 8601 UTC to the second, or `-`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatTime } from "./runs.ts";
 * assert.equal(formatTime(0), "1970-01-01T00:00:00Z");
 * ```
 */
export function formatTime(ms: number | null): string {
  if (ms === null) return "-";
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A duration for people: `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`, or `-`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatDuration } from "./runs.ts";
 * assert.equal(formatDuration(12_300), "12.3 s");
 * assert.equal(formatDuration(59_999), "1 m 00 s"); // not "60.0 s"
 * assert.equal(formatDuration(999.7), "1.0 s");
 * assert.equal(formatDuration(3_599_999), "1 h 00 m");
 * // A run that ended before it started (two machines' clocks): said, with its unit.
 * assert.equal(formatDuration(-5_000), "-5.0 s");
 * ```
 */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  // Below 0 (an end stamped before the start by another machine's clock) the unit was lost:
  // `-5000 ms` (a time probe).
  if (Math.round(ms) < 0) return `-${formatDuration(-ms)}`;
  // The unit is chosen after rounding: 59,999 ms is `1 m 00 s`, not `60.0 s` (a time audit).
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} m`;
}
