/**
 * `ledger trials`: optimizer trials across runs or of one run (SPEC 11),
 * one row per `(run_id, trial_id)`, with the same filter, sort, limit and
 * format flags as `ledger runs`.
 *
 * @module
 */
import { DEFAULT_LEGACY_DB_PATH } from "../legacy/read.ts";
import type { DuckDBConnection } from "../indexer/duckdb.ts";
import { countOf } from "../ledger/count_text.ts";
import { wrapText } from "./_wrap.ts";
import {
  fieldHelp,
  flatten,
  parseColumns,
  parseSort,
  READER_MEMORY_LIMIT_DEFAULT,
  resolveRunIds,
  streamTrials,
  streamTrialsJson,
  type TrialQuery,
  type TrialRecord,
  withReader,
} from "../indexer/query/mod.ts";
import {
  EXIT_OK,
  type FlagSpec,
  parseFlags,
  positiveIntegerFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import {
  asUsage,
  formatFlag,
  indexDbPath,
  legacyDbFlagPath,
  listFlag,
  readerMemoryLimitFlag,
  resolveBesideLegacy,
  RUN_SELECT_FLAGS,
  runSelection,
  sortOnlyColumns,
  warnIfIndexMayLackRuns,
} from "./_query.ts";
import {
  cellText,
  columnWidth,
  leaveOutToFit,
  terminalWidth,
  writeJsonTexts,
  writeRows,
} from "./_table.ts";
import { stoppableRead } from "./_stop.ts";
import { allRows } from "../indexer/query/reader.ts";

/** The fixed CSV columns of the trials list; --columns adds others after them. */
const TRIAL_CSV_COLUMNS = ["run_id", "trial_id", "recorded_at", "params", "metrics"];

export const FLAGS: FlagSpec = {
  "run": { type: "string" },
  ...RUN_SELECT_FLAGS,
  "where": { type: "string", multiple: true },
  "sort": { type: "string", multiple: true },
  "columns": { type: "string" },
  "format": { type: "string" },
  "json": { type: "boolean" },
  "limit": { type: "string" },
  "wide": { type: "boolean" },
  "db": { type: "string" },
  "legacy-db": { type: "string" },
  "memory-limit": { type: "string" },
};

/** Rows the table shows when `--limit` is not given. */
export const TRIAL_ROWS_DEFAULT = 50;

const USAGE = `Usage: ledger trials [--run RUN] [--where EXPR]... [--sort FIELD[:asc|desc]]
                     [--type T]... [--status S]... [--since TIME] [--until TIME]
                     [--all] [--columns F1,F2] [--limit N]
                     [--format table|json|jsonl|csv] [--json] [--wide]
                     [--memory-limit SIZE] [--db PATH] [--legacy-db PATH]
                     [--root DIR]

List optimizer trials (trial.recorded), across runs or of one run (--run: an
id or unique prefix). The table shows run, trial and the params and metrics
(${TRIAL_ROWS_DEFAULT} rows unless --limit; numbers to 4 significant digits, and every
digit of their integer part); json, jsonl and csv list every match, every
value whole.
--type, --status, --since, --until and --all pick the trials' runs as
ledger runs picks runs: trials of archived runs are left out unless --all
(or --run names the run).
In dual mode a --run prefix must also be unique among the legacy DuckDB's runs
(--legacy-db PATH, else ${DEFAULT_LEGACY_DB_PATH} when there).
e.g. --where "metrics.sharpe_per_trade > 1 and params.stopPct <= 0.2"
     --sort metrics.sharpe_per_trade:desc (more keys break ties: F1,F2:desc
     or --sort again; the table shows the sort fields, first of their kind;
     numbers, then text, then nulls, in either direction)
--memory-limit: DuckDB memory of the query (default 256MB a core:
${READER_MEMORY_LIMIT_DEFAULT}); a sort past it spills to a directory beside the index.
Fields: ${wrapText(`${fieldHelp("trials")}.`, 8)}

Exit codes: 0 ok, 1 unknown run or no index, 2 usage error.`;

/**
 * Run `ledger trials` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./trials.ts";
 * // The command line is `await main(args)`, e.g. main(["--sort", "metrics.sharpe:desc", "--limit", "20"]); it returns the exit code.
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
 *   "Usage: ledger trials [--run RUN] [--where EXPR]... [--sort FIELD[:asc|desc]]",
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
  const run = stringFlag(values, "run");
  if (run === "") throw new UsageError("--run must not be empty");
  // Repeated --sort flags are one list of keys: `--sort a --sort b` = `--sort a,b`.
  const sort = listFlag(values, "sort");
  const columns = stringFlag(values, "columns");
  const selection = await asUsage(() => Promise.resolve(runSelection(values)));
  const dbPath = indexDbPath(values);
  const memoryLimit = readerMemoryLimitFlag(values);
  const legacyDbPath = await legacyDbFlagPath(values);
  const code = await stoppableRead(
    "trials",
    (signal) =>
      asUsage(() =>
        withReader(dbPath, async (conn) => {
          const sortKeys = sort.length === 0 ? undefined : parseSort(sort.join(","), "trials");
          const asked = columns === undefined ? [] : parseColumns(columns, "trials");
          // The table also shows the fields it is sorted by; the other formats have --columns only.
          const sortOnly = format === "table"
            ? sortOnlyColumns({ sort: sortKeys, columns: asked }, hasTrialColumn)
            : [];
          const query: TrialQuery = {
            ...selection,
            runId: run === undefined ? undefined : await resolvedRun(conn, run, legacyDbPath),
            where: listFlag(values, "where"),
            sort: sortKeys,
            columns: [...asked, ...sortOnly],
            limit: limit ?? (format === "table" ? TRIAL_ROWS_DEFAULT + 1 : undefined),
          };
          if (format === "json" || format === "jsonl") {
            await writeJsonTexts(streamTrialsJson(conn, query), format);
            return EXIT_OK;
          }
          if (format !== "table") {
            // A fixed column named in --columns is not repeated.
            const extra = (query.columns ?? []).filter((c) => !TRIAL_CSV_COLUMNS.includes(c));
            await writeRows(streamTrials(conn, query), {
              format,
              csvColumns: [...TRIAL_CSV_COLUMNS, ...extra].map((name) => ({
                header: name,
                get: (row: Record<string, unknown>) => row[name],
              })),
            });
            return EXIT_OK;
          }
          const trials: TrialRecord[] = [];
          for await (const batch of streamTrials(conn, query)) trials.push(...batch);
          if (trials.length === 0) {
            console.log(
              await emptyMessage(conn, values.all === true || run !== undefined, query.runId),
            );
            return EXIT_OK;
          }
          const more = limit === undefined && trials.length > TRIAL_ROWS_DEFAULT;
          const shown = more ? trials.slice(0, TRIAL_ROWS_DEFAULT) : trials;
          console.log(formatTrialsTable(shown, {
            columns: query.columns,
            sortFields: (query.sort ?? []).map((k) => k.field),
            wide: values.wide === true,
          }));
          if (more) {
            console.log(
              `(first ${TRIAL_ROWS_DEFAULT} trials; use --limit N or --format jsonl for more)`,
            );
          }
          return EXIT_OK;
        }, { memoryLimit, signal })
      ),
  );
  if (code === EXIT_OK) await warnIfIndexMayLackRuns("trials", dbPath);
  return code;
}

const RUN_TRIALS_COUNT_SQL = "SELECT count(*) AS n FROM trial_results WHERE run_id = ?";

/**
 * "No trials match", with how many the index holds and how many of them are
 * archived runs' (hidden without --all, as `ledger runs` says of its runs);
 * `allShown` when archived runs' trials were asked for. With `run` (`--run`),
 * of that run (a probe: a run without trials was "No trials in the index").
 */
async function emptyMessage(
  conn: Parameters<Parameters<typeof withReader>[1]>[0],
  allShown: boolean,
  run?: string,
): Promise<string> {
  if (run !== undefined) {
    const [{ n }] = await allRows(conn, RUN_TRIALS_COUNT_SQL, [run]);
    return Number(n) === 0
      ? `Run ${run} has no trials.`
      : `No trials of run ${run} match (${countOf(Number(n), "trial")} in all).`;
  }
  const [{ total, archived }] = await allRows(
    conn,
    `SELECT count(*) AS total, count(*) FILTER (WHERE r.archived) AS archived
      FROM trial_results t JOIN latest_runs r USING (run_id)`,
  );
  if (Number(total) === 0) return "No trials in the index.";
  const hidden = allShown || Number(archived) === 0
    ? ""
    : `; ${archived} of archived runs, shown with --all`;
  return `No trials match (${countOf(Number(total), "trial")} in the index${hidden}).`;
}

/** Options for {@linkcode formatTrialsTable}. */
export interface FormatTrialsTableOptions {
  /**
   * Extra columns: a `params.*` or `metrics.*` one the table has anyway comes
   * first among its kind after the `sortFields` (left out to fit after the
   * others). @default {[]}
   */
  columns?: readonly string[];
  /**
   * The `--sort` fields: a `params.*` or `metrics.*` one comes first among
   * its kind (the last left out to fit). Others are shown when they are in
   * `columns` (`ledger trials` adds them there, and to its query).
   * @default {[]}
   */
  sortFields?: readonly string[];
  /** Do not truncate. @default {false} */
  wide?: boolean;
  /** Width to fit. @default {terminal width} */
  width?: number;
}

/**
 * The trials table: run, trial, then every params.* and metrics.* path of
 * the rows shown (the `--sort` ones first, then the `columns` ones, then
 * those whose values differ between the rows, then those the same in every
 * row: left out to fit from the end), then the extra columns it does not
 * show already.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatTrialsTable } from "./trials.ts";
 * // Trials as queryTrials returns them.
 * const trials = [
 *   { run_id: "sweep-01", trial_id: "t0", recorded_at: "2026-01-20T12:00:00Z",
 *     params: { stopPct: 0.1 }, metrics: { win_rate: 0.42 } },
 *   { run_id: "sweep-01", trial_id: "t1", recorded_at: "2026-01-20T12:00:01Z",
 *     params: { stopPct: 0.2 }, metrics: { win_rate: 0.515 } },
 * ];
 * assert.equal(
 *   formatTrialsTable(trials, { width: 80 }),
 *   [
 *     "RUN ID    TRIAL  params.stopPct  metrics.win_rate",
 *     "sweep-01  t0                0.1              0.42",
 *     "sweep-01  t1                0.2             0.515",
 *   ].join("\n"),
 * );
 * ```
 */
export function formatTrialsTable(
  trials: readonly TrialRecord[],
  options: FormatTrialsTableOptions = {},
): string {
  const flat = trials.map((t) => ({
    params: flatten(t.params),
    metrics: flatten(t.metrics),
  }));
  // The sort keys of a kind first, in their order: a table sorted by a metric shows it. Then
  // the --columns ones (a probe: `--columns metrics.stop_out_rate` on a sweep of 15 paths was
  // left out to fit, and not named), then the paths whose values differ between the rows, then
  // those that are the same in every row: the columns left out to fit are taken from the end,
  // and a sweep's table showed the constant params.type and left out the parameter that varied
  // (an audit).
  const first = [...(options.sortFields ?? []), ...(options.columns ?? [])];
  const keys = (k: "params" | "metrics") => {
    const all = [...new Set(flat.flatMap((f) => Object.keys(f[k])))];
    const asked = first.filter((f) => f.startsWith(`${k}.`)).map((f) => f.slice(k.length + 1))
      .filter((path) => all.includes(path));
    const varies = (path: string) =>
      new Set(flat.map((f) => JSON.stringify(f[k][path] ?? null))).size > 1;
    return [...new Set([...asked, ...all.filter(varies), ...all])];
  };
  const params = keys("params");
  const metrics = keys("metrics");
  // A column the table has already (the ids, a params or metrics path) is not repeated: an audit
  // saw `--columns metrics.sharpe` print metrics.sharpe twice. Csv and json keep --columns.
  const shown = new Set([
    "run_id",
    "trial_id",
    ...params.map((p) => `params.${p}`),
    ...metrics.map((m) => `metrics.${m}`),
  ]);
  const extra = (options.columns ?? []).filter((c) => !shown.has(c));
  const header = [
    "RUN ID",
    "TRIAL",
    ...params.map((p) => `params.${p}`),
    ...metrics.map((m) => `metrics.${m}`),
    ...extra,
  ];
  const body = trials.map((t, i) => [
    t.run_id,
    t.trial_id,
    ...params.map((p) => cellText(flat[i].params[p])),
    ...metrics.map((m) => cellText(flat[i].metrics[m])),
    ...extra.map((c) => cellText(t[c])),
  ]);
  const values = params.length + metrics.length;
  const isValue = (i: number) => i >= 2 && i < 2 + values;
  // The run and the trial are what a row is: kept whole (up to a bound). Value columns that do not
  // fit at a readable width are left out from the last one, and a line says so; --wide shows all.
  const mins = header.map((h, i) =>
    i < 2
      // Terminal columns: a CJK id was cut where an ASCII one of its length was not (a review).
      ? Math.min(columnWidth(body, i, h.length), ID_CHARS_SHOWN_MAX)
      : 12
  );
  // Left out in turn from the end of the params and of the metrics, whichever shows more, so
  // that a narrow terminal still shows some of each.
  const order: number[] = [];
  let shownParams = params.length;
  let shownMetrics = metrics.length;
  while (order.length < values) {
    order.push(shownParams > shownMetrics ? 2 + --shownParams : 2 + params.length + --shownMetrics);
  }
  const { table, leftOut } = leaveOutToFit(header, body, {
    width: options.width ?? terminalWidth(),
    widthsMin: mins,
    order,
    wide: options.wide,
    alignRight: header.map((_, i) => i).filter(isValue),
  });
  const hidden = leftOut.length;
  if (hidden === 0) return table;
  return `${table}\n(${hidden} more params/metrics columns: --wide, or ledger export trials)`;
}

/** Whether the trials table shows `field` without being asked: the ids, params and metrics. */
function hasTrialColumn(field: string): boolean {
  return field === "run_id" || field === "trial_id" || /^(params|metrics)\./.test(field);
}

/** Longest run id or trial id the table shows whole; longer ones are cut. */
const ID_CHARS_SHOWN_MAX = 28;

/** The run `--run` names: a unique prefix of the index's, and not of a legacy-only run's. */
async function resolvedRun(
  conn: DuckDBConnection,
  given: string,
  legacyDbPath: string | undefined,
): Promise<string> {
  const resolve = (named: readonly string[]) => resolveRunIds(conn, named);
  const [runId] = await resolveBesideLegacy([given], resolve, "trials", legacyDbPath);
  return runId;
}
