/**
 * Listing runs and trials with the query surface of SPEC 11: type, status
 * and time filters, `--where` expressions, sorting by any field, extra
 * columns, a limit, archived runs hidden unless asked for. Rows stream in
 * batches; only the columns asked for are read (a huge `config` is never
 * loaded unless a `config.*` column is named).
 *
 * @module
 */
import type { DuckDBConnection, DuckDBResult } from "../duckdb.ts";
import {
  type Field,
  type QueryParam,
  type QueryTarget,
  readsRun,
  resolveField,
  splitFieldList,
  type SqlFragment,
  UnknownFieldError,
} from "./fields.ts";
import {
  checkPatterns,
  compileFilter,
  exactIntegerSortKey,
  FilterSyntaxError,
  parseFilter,
} from "./filter.ts";
import { mayHoldNonFinite, parseJsonLenient } from "./_json.ts";
import { normalizeJsonText } from "../../ledger/json_text.ts";
import { isoTimeSql } from "./time.ts";
import { countRows, startStream, streamRows, StreamTruncatedError } from "./reader.ts";
import { checkListOptions, isOutOfMemory } from "../queries.ts";
import { LATEST_RUNS_SELECT_SQL, RUN_DURATION_SQL, RUNS_NEWEST_FIRST_SQL } from "../schema.ts";
import { assert } from "../../ledger/assert.ts";

/**
 * A sort key: a field and its direction.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseSort, type SortKey } from "./runs.ts";
 * const byWinRate: SortKey = { field: "summary.win_rate", descending: true };
 * // What `--sort summary.win_rate:desc,run_id` gives; the direction defaults to ascending.
 * assert.deepEqual(parseSort("summary.win_rate:desc,run_id", "runs"), [
 *   byWinRate,
 *   { field: "run_id", descending: false },
 * ]);
 * ```
 */
export interface SortKey {
  /** The field name. */
  field: string;
  /** Direction. */
  descending: boolean;
}

/**
 * The sort text is not `FIELD[:asc|desc]` or names an unknown field.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { QueryUsageError } from "./runs.ts";
 * assert.equal(new QueryUsageError("bad").name, "QueryUsageError");
 * ```
 */
export class QueryUsageError extends Error {
  /** Create the error; `options.cause` is the error it reports, if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueryUsageError";
  }
}

/**
 * Parse `FIELD[:asc|desc]` (several separated by commas); the direction
 * defaults to ascending. A `,` or `:` inside a key is written `\,` or `\:`
 * (`fields.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseSort } from "./runs.ts";
 * const [k] = parseSort("summary.win_rate:desc", "runs");
 * assert.equal(k.field, "summary.win_rate");
 * assert.equal(k.descending, true);
 * ```
 */
export function parseSort(text: string, target: QueryTarget): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of splitFieldList(text)) {
    const [field, direction = "asc", ...more] = splitFieldList(part, ":");
    if (field === "" || more.length > 0 || !/^(?:asc|desc)$/i.test(direction)) {
      throw new QueryUsageError(
        `Invalid sort ${JSON.stringify(part)}: expected FIELD[:asc|desc]`,
      );
    }
    // As the outputs name the field, so a sort field that is also a column is one column.
    const { name } = checkField(field, target);
    keys.push({ field: name, descending: direction.toLowerCase() === "desc" });
  }
  return keys;
}

/**
 * Parse `F1,F2` into field names, each checked for `target` (a `,` inside
 * a key is written `\,`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseColumns } from "./runs.ts";
 * assert.equal(parseColumns("config.policy.stopPct, label", "runs").length, 2);
 * ```
 */
export function parseColumns(text: string, target: QueryTarget): string[] {
  const items = splitFieldList(text);
  if (items.every((s) => s === "")) throw new QueryUsageError("--columns needs at least one field");
  const empty = items.indexOf("");
  if (empty >= 0) {
    throw new QueryUsageError(
      `--columns has an empty field at item ${empty + 1} of ${JSON.stringify(text)}`,
    );
  }
  // Each as the outputs name it (`config.a\,b` is `config.a,b`); a field named twice is one column.
  return [...new Set(items.map((name) => checkField(name, target, true).name))];
}

function checkField(name: string, target: QueryTarget, allowBareRoot = false): Field {
  try {
    return resolveField(name, target, { allowBareRoot });
  } catch (err) {
    if (err instanceof UnknownFieldError) throw new QueryUsageError(err.message);
    throw err;
  }
}

/**
 * What to list: the options of {@linkcode queryRuns} and {@linkcode streamRuns}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { queryRuns, type RunQuery } from "./runs.ts";
 * import { withReader } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "a1", run_type: "policy", config: {},
 *       data_fingerprint: "fp1" },
 *     { event_type: "run.created", run_id: "b2", run_type: "sweep", config: {},
 *       data_fingerprint: "fp1" },
 *     { event_type: "run.archived", run_id: "b2" },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const sweeps = (query: RunQuery) =>
 *     withReader(indexPath(root), (conn) => queryRuns(conn, query));
 *   assert.deepEqual(await sweeps({ types: ["sweep"] }), []); // archived runs are hidden
 *   const [run] = await sweeps({ types: ["sweep"], includeArchived: true, summary: false });
 *   assert.deepEqual([run.run_id, run.archived, "summary" in run], ["b2", true, false]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RunQuery {
  /** Only these run types (any of them). @default {[]} (all) */
  types?: readonly string[];
  /** Only these statuses (any of them). @default {[]} (all) */
  statuses?: readonly string[];
  /** Only runs created at or after this instant, ms. @default {undefined} */
  sinceMs?: number;
  /** Only runs created before this instant, ms. @default {undefined} */
  untilMs?: number;
  /** Filter expressions; all must hold. @default {[]} */
  where?: readonly string[];
  /** Sort keys. @default {newest first} */
  sort?: readonly SortKey[];
  /** At most this many rows. @default {undefined} (all) */
  limit?: number;
  /** Include archived runs. @default {false} */
  includeArchived?: boolean;
  /** Extra fields, each a key of the rows returned. @default {[]} */
  columns?: readonly string[];
  /** Include the parsed `summary` object. @default {true} */
  summary?: boolean;
}

/**
 * One run as the query surface lists it. Times are ms since epoch (UTC).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { queryRuns, type RunRecord } from "./runs.ts";
 * import { withReader } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "a1", run_type: "policy", config: { stop: 0.02 },
 *       data_fingerprint: "fp1" },
 *     { event_type: "run.tagged", run_id: "a1", tags: { label: "best" } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const [run]: RunRecord[] = await withReader(indexPath(root), (conn) =>
 *     queryRuns(conn, { columns: ["config.stop"] }));
 *   assert.equal(run.created_at, new Date(run.created_at_ms!).toISOString()); // both forms
 *   assert.equal(run.label, "best"); // the run's `label` tag
 *   assert.equal(run["config.stop"], 0.02); // an extra column, keyed by its field name
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RunRecord {
  /** The run id. */
  run_id: string;
  /** `run_type` of its `run.created`. */
  run_type: string | null;
  /** completed, failed, running, pending or stale. */
  status: string;
  /** Creation time as ISO 8601 UTC. */
  created_at: string | null;
  /** Creation time. */
  created_at_ms: number | null;
  /** Start time. */
  started_at_ms: number | null;
  /** Completion time. */
  completed_at_ms: number | null;
  /** Failure time. */
  failed_at_ms: number | null;
  /** End minus start, null while unfinished. */
  duration_ms: number | null;
  /** The run's `label` tag. */
  label: string | null;
  /** Whether the run is archived. */
  archived: boolean;
  /** Phases seen. */
  phase_count: number;
  /** `data_fingerprint` of `run.created`. */
  data_fingerprint: string | null;
  /** Where the row comes from: `event_log` (the index; dual mode adds `legacy`). */
  source?: string;
  /** `summary` of `run.completed` (when asked for). */
  summary?: unknown;
  /** Extra columns by field name. */
  [column: string]: unknown;
}

const RUN_COLUMNS_SQL = `r.run_id, r.run_type, r.status, r.created_at_ms, r.started_at_ms,
  r.completed_at_ms, r.failed_at_ms,
  ${RUN_DURATION_SQL} AS duration_ms,
  r.label, r.archived, coalesce(p.phase_count, 0) AS phase_count, r.data_fingerprint`;

/**
 * Completed phases per run, as `run_phase_summary` counts them (a phase
 * that started and never completed is in `phase_timings`, not counted): a
 * plain count, since the view's ordered name lists cost seconds at 100k
 * runs, so listings leave them to `ledger show`.
 */
const PHASE_COUNTS_SQL = `(SELECT run_id, count(*) AS phase_count FROM phase_timings pt
  WHERE pt.completed_at_ms IS NOT NULL GROUP BY run_id)`;

/**
 * The same count for the one run `r` (joined `LATERAL`): what a query with a
 * limit joins after the limit, so that only the runs it returns are
 * counted, not every phase of the index (the bench's `runs --where --sort
 * --limit 50` on 100k runs, in process: DuckDB CPU 213-220 -> 179-188 ms,
 * wall 154-210 -> 146-193 ms, medians of 5 in two alternating runs).
 */
const PHASE_COUNT_OF_RUN_SQL = `(SELECT count(*) AS phase_count FROM phase_timings pt
  WHERE pt.run_id = r.run_id AND pt.completed_at_ms IS NOT NULL)`;

/**
 * The same two counts in dual mode's merged list, which holds them as
 * `phase_counts(run_id, phase_count)` (see `legacy/_sql.ts`).
 */
const MERGED_PHASE_COUNTS_SQL = "(SELECT run_id, phase_count FROM phase_counts)";
const MERGED_PHASE_COUNT_OF_RUN_SQL = `(SELECT coalesce(max(pc.phase_count), 0) AS phase_count
  FROM phase_counts pc WHERE pc.run_id = r.run_id)`;

/**
 * How a query returns its rows: as columns, or as one JSON text per row
 * built by DuckDB (the fast path of `--format json|jsonl`: no per-value
 * conversion in JavaScript).
 */
export type RowShape = "columns" | "json";

/**
 * What a run query reads its runs from: `index`, the rows of the index's
 * `latest_runs` without the view's order (the query sorts them itself: see
 * `LATEST_RUNS_SELECT_SQL` in `schema.ts`), or `latest_runs`, a database
 * that holds them as a table of that name (dual mode's merged list).
 */
export type RunsSource = "index" | "latest_runs";

/** The index's runs as the row `r`: `latest_runs`' rows without the view's order. */
const INDEX_RUNS_SQL = `(${LATEST_RUNS_SELECT_SQL}) r`;

/** The SQL of a run query, with its parameters (exported for tests and the report). */
export function runQuerySql(
  query: RunQuery,
  shape: RowShape = "columns",
  source: RunsSource = "index",
): SqlFragment & {
  extra: Field[];
  count: SqlFragment;
  numbered: SqlFragment;
  blocks: SqlFragment;
} {
  checkListOptions({
    limit: query.limit,
    statuses: query.statuses,
    sinceMs: query.sinceMs,
    untilMs: query.untilMs,
  });
  const conds: string[] = [];
  const params: QueryParam[] = [];
  if (!query.includeArchived) conds.push("NOT r.archived");
  selectRuns(query, conds, params);
  const where = compileWhere(query.where ?? [], "runs");
  conds.push(where.sql);
  params.push(...where.params);
  const extra = (query.columns ?? []).map((c) => checkField(c, "runs", true));
  const select: string[] = [RUN_COLUMNS_SQL];
  const selectParams: QueryParam[] = [];
  if (shape === "json") {
    select.splice(0, 1, runJsonSql(query.summary !== false, extra, selectParams));
  } else {
    if (query.summary !== false) select.push("r.summary_json");
    selectExtra(extra, select, selectParams);
  }
  const order = orderSql(query.sort ?? [], "runs", [...RUNS_NEWEST_FIRST_SQL]);
  const runs = source === "index" ? INDEX_RUNS_SQL : "latest_runs r";
  const counts = source === "index" ? PHASE_COUNTS_SQL : MERGED_PHASE_COUNTS_SQL;
  const from = `${runs} LEFT JOIN ${counts} p ON p.run_id = r.run_id`;
  // The phase counts join at most one row per run: counting needs it only when a condition does.
  const readsPhases = [...conds, order.sql].some((c) => /\bp\./.test(c));
  const parts: SelectParts = {
    select,
    selectParams,
    from,
    countFrom: readsPhases ? from : runs,
    conds,
    params,
    order,
    limit: query.limit,
  };
  const q = selectSql(parts);
  if (query.limit !== undefined && !readsPhases) {
    const countOfRun = source === "index" ? PHASE_COUNT_OF_RUN_SQL : MERGED_PHASE_COUNT_OF_RUN_SQL;
    Object.assign(q, limitedRunsSql(parts, runs, countOfRun, query.limit));
  }
  return { ...q, extra };
}

/**
 * A limited run query whose conditions and order do not read the phase
 * counts: the runs are picked, sorted and cut first, and only those get
 * their count ({@linkcode PHASE_COUNT_OF_RUN_SQL}); the outer order repeats
 * the inner one, whose keys end with the unique run id.
 */
function limitedRunsSql(
  parts: SelectParts,
  runs: string,
  countOfRun: string,
  limit: number,
): SqlFragment {
  return {
    sql: `SELECT ${parts.select.join(", ")}
    FROM (SELECT r.* FROM ${runs}
      WHERE ${parts.conds.join(" AND ")}
      ORDER BY ${parts.order.sql}
      LIMIT ?) r
    LEFT JOIN LATERAL ${countOfRun} p ON true
    ORDER BY ${parts.order.sql}`,
    params: [
      ...parts.selectParams,
      ...parts.params,
      ...parts.order.params,
      limit,
      ...parts.order.params,
    ],
  };
}

/** What picks runs by what they are: their type, status and creation time. */
interface RunSelect {
  types?: readonly string[];
  statuses?: readonly string[];
  sinceMs?: number;
  untilMs?: number;
}

/** Add the conditions of `select` on the run row `r`, and their parameters. */
function selectRuns(select: RunSelect, conds: string[], params: QueryParam[]): void {
  if (select.types !== undefined && select.types.length > 0) {
    conds.push(`r.run_type IN (${select.types.map(() => "?").join(", ")})`);
    params.push(...select.types);
  }
  if (select.statuses !== undefined && select.statuses.length > 0) {
    conds.push(`r.status IN (${select.statuses.map(() => "?").join(", ")})`);
    params.push(...select.statuses);
  }
  if (select.sinceMs !== undefined) {
    conds.push("r.created_at_ms >= ?");
    params.push(select.sinceMs);
  }
  if (select.untilMs !== undefined) {
    conds.push("r.created_at_ms < ?");
    params.push(select.untilMs);
  }
}

/** Add the `--columns` fields to a columns-shaped select list as `x0`, `x1`, ... */
function selectExtra(extra: readonly Field[], select: string[], selectParams: QueryParam[]) {
  extra.forEach((f, i) => {
    select.push(`${f.value.sql} AS "x${i}"`);
    selectParams.push(...f.value.params);
  });
}

/** The parts of a list query, each with the parameters of its placeholders. */
interface SelectParts {
  select: readonly string[];
  selectParams: readonly QueryParam[];
  from: string;
  /** What the count of the rows reads (`from`, or fewer joins that keep the row count). */
  countFrom?: string;
  conds: readonly string[];
  params: readonly QueryParam[];
  order: SqlFragment;
  limit: number | undefined;
}

/**
 * `SELECT ... FROM ... WHERE ... ORDER BY ... [LIMIT ?]`, parameters in
 * placeholder order; `count`: the number of rows it returns, without the
 * select list or the order (what a stream's rows are checked against);
 * `numbered` (see {@linkcode numberedSql}) and `blocks` (see
 * {@linkcode blocksSql}): the same rows in other shapes.
 */
function selectSql(
  parts: SelectParts,
): SqlFragment & { count: SqlFragment; numbered: SqlFragment; blocks: SqlFragment } {
  const where = parts.conds.join(" AND ");
  const limit = parts.limit === undefined ? "" : "LIMIT ?";
  const limitParams = parts.limit === undefined ? [] : [parts.limit];
  const numbered = numberedSql(parts, where, limitParams);
  const sql = `SELECT ${parts.select.join(", ")}
    FROM ${parts.from}
    WHERE ${where}
    ORDER BY ${parts.order.sql}
    ${limit}`;
  return {
    sql,
    params: [...parts.selectParams, ...parts.params, ...parts.order.params, ...limitParams],
    count: {
      sql: `SELECT count(*)::BIGINT AS n FROM (SELECT 1 FROM ${parts.countFrom ?? parts.from}
        WHERE ${where} ${limit}) AS counted`,
      params: [...parts.params, ...limitParams],
    },
    numbered,
    blocks: blocksSql(numbered),
  };
}

/** Rows of JSON text one block of {@linkcode blocksSql} joins at most. */
export const JSON_BLOCK_ROWS = 128;

/**
 * Answers of more than one block and at most this many rows are read in
 * blocks; larger ones stream row by row. Blocks are built by an aggregate
 * that does not spill: 100k runs (37 MB of JSON) needed 128-160MB of DuckDB
 * memory (the row stream 88MB), within the reader's default of 512MB on 2
 * cores. An answer whose blocks still do not fit falls back to the row
 * stream (see {@linkcode streamJsonRows}).
 */
export const JSON_BLOCKS_ROWS_MAX = 250_000;

/**
 * The rows of a query whose select list is one JSON text column `j`, in
 * order, joined by `\n` into blocks (`j`) of at most
 * {@linkcode JSON_BLOCK_ROWS} rows, with the rows each holds (`n`). JSON
 * text holds no raw newline, so a block splits back into its rows. The row
 * number follows the query's order, whose keys end with a unique column,
 * and takes its limit (`limitParams`, as {@linkcode selectSql} binds it);
 * the JSON is built only for the rows that pass.
 */
function blocksSql(numbered: SqlFragment): SqlFragment {
  return {
    sql: `SELECT string_agg(j, chr(10) ORDER BY rn) AS j, count(*)::INTEGER AS n
    FROM (${numbered.sql}) AS numbered
    GROUP BY (rn - 1) // ${JSON_BLOCK_ROWS}
    ORDER BY min(rn)`,
    params: numbered.params,
  };
}

/**
 * The query's rows, unordered, each with its place in the order (`rn`,
 * from 1), the limit applied: what a reader that sorts again, or groups,
 * reads instead of the ordered query.
 */
function numberedSql(
  parts: SelectParts,
  where: string,
  limitParams: readonly number[],
): SqlFragment {
  const limit = parts.limit === undefined ? "" : "QUALIFY rn <= ?";
  return {
    sql: `SELECT ${parts.select.join(", ")},
      row_number() OVER (ORDER BY ${parts.order.sql}) AS rn
    FROM ${parts.from}
    WHERE ${where}
    ${limit}`,
    params: [...parts.selectParams, ...parts.order.params, ...parts.params, ...limitParams],
  };
}

/**
 * One JSON object per run with the keys of {@linkcode RunRecord}, built by
 * DuckDB. Extra column names are field names (checked: letters, digits,
 * `_`, `-`, `.`), written as constants.
 */
function runJsonSql(withSummary: boolean, extra: readonly Field[], params: QueryParam[]): string {
  const pairs = [
    "'run_id', r.run_id",
    "'run_type', r.run_type",
    "'status', r.status",
    `'created_at', ${isoTimeSql("r.created_at_ms")}`,
    "'created_at_ms', r.created_at_ms",
    "'started_at_ms', r.started_at_ms",
    "'completed_at_ms', r.completed_at_ms",
    "'failed_at_ms', r.failed_at_ms",
    `'duration_ms', ${RUN_DURATION_SQL}`,
    "'label', r.label",
    "'archived', r.archived",
    "'phase_count', coalesce(p.phase_count, 0)",
    "'data_fingerprint', r.data_fingerprint",
    "'source', 'event_log'",
  ];
  if (withSummary) pairs.push("'summary', r.summary_json::JSON");
  const fixed = new Set(pairs.map((p) => p.slice(1, p.indexOf("'", 1))));
  for (const f of extra) {
    if (fixed.has(f.name)) continue; // already a key of every row
    pairs.push(`${nameLiteral(f.name)}, ${jsonValueSql(f, params)}`);
  }
  return `json_object(${pairs.join(", ")})::VARCHAR AS j`;
}

/** The SQL of a field's value in a JSON row (times as ISO text); appends its parameters. */
function jsonValueSql(f: Field, params: QueryParam[]): string {
  if (f.kind === "time") {
    params.push(...f.value.params);
    return isoTimeSql(f.value.sql);
  }
  params.push(...f.value.params);
  return f.value.sql;
}

/**
 * A field name as a SQL string constant, its quotes doubled: a key may hold
 * any character but a NUL (`config.größe`, `config.it's`; see `fields.ts`).
 */
function nameLiteral(name: string): string {
  assert(
    name.isWellFormed() && !name.includes("\0"),
    `a field name is checked before it is SQL (${JSON.stringify(name)})`,
  );
  return `'${name.replaceAll("'", "''")}'`;
}

/** Parse and compile `--where` texts, turning their errors into usage errors. */
function compileWhere(texts: readonly string[], target: QueryTarget): SqlFragment {
  const exprs = texts.map((text, i) => {
    try {
      const expr = parseFilter(text);
      compileFilter([expr], target); // its own errors (an unknown field), told by its place
      return expr;
    } catch (err) {
      throw whereUsageError(err, texts.length > 1 ? i + 1 : undefined);
    }
  });
  return compileFilter(exprs, target);
}

/**
 * Check the regular expressions of `--where` texts with DuckDB's own engine
 * before a query that holds them runs, turning a bad one into a usage error.
 */
export async function checkWherePatterns(
  conn: DuckDBConnection,
  texts: readonly string[] | undefined,
): Promise<void> {
  try {
    await checkPatterns(conn, texts ?? []);
  } catch (err) {
    throw whereUsageError(err);
  }
}

/**
 * A {@linkcode FilterSyntaxError} as a {@linkcode QueryUsageError}, naming
 * which `--where` it is in when there are several (`nth`, 1-based: a column
 * alone did not say which, an audit); other errors as they are.
 */
function whereUsageError(err: unknown, nth?: number): unknown {
  if (err instanceof FilterSyntaxError) {
    const which = nth === undefined ? "--where" : `--where #${nth}`;
    return new QueryUsageError(`${which}: ${err.message}`, { cause: err });
  }
  return err;
}

function orderSql(
  keys: readonly SortKey[],
  target: QueryTarget,
  fallback: string[],
): SqlFragment {
  const parts: string[] = [];
  const params: QueryParam[] = [];
  for (const k of keys) {
    const f = checkField(k.field, target);
    const dir = k.descending ? "DESC" : "ASC";
    // Numbers sort as numbers, then values that are not numbers as text, then nulls, in either
    // direction: a leaderboard sorted by metrics.sharpe:desc starts with its best number, not
    // with a trial whose sharpe is "n/a" (a probe: text first, as the exact reverse had it). The text key is read only where the
    // value is not a number (a CASE evaluates its THEN on those rows alone): for every row
    // it cost trials --sort over 1M trials 200 ms of 500. Integers past 2^53, which a double
    // rounds, are ordered exactly; equal numbers written differently (1 and 1.0) tie, broken
    // by the fallback keys.
    const mixed = f.kind === "text" || f.kind === "json";
    if (mixed) {
      parts.push(
        `CASE WHEN ${f.num.sql} IS NOT NULL THEN 0 WHEN ${f.text.sql} IS NOT NULL THEN 1 END ` +
          "ASC NULLS LAST",
      );
      params.push(...f.num.params, ...f.text.params);
    }
    parts.push(`${f.num.sql} ${dir} NULLS LAST`);
    params.push(...f.num.params);
    if (mixed) {
      const exact = exactIntegerSortKey(f);
      parts.push(`${exact.sql} ${dir} NULLS LAST`);
      params.push(...exact.params);
      parts.push(`CASE WHEN ${f.num.sql} IS NULL THEN ${f.text.sql} END ${dir} NULLS LAST`);
      params.push(...f.num.params, ...f.text.params);
    }
  }
  return { sql: [...parts, ...fallback].join(", "), params };
}

/**
 * Stream the runs matching `query` in batches, read from `source` (the
 * index's runs unless a caller holds them in a `latest_runs` table).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { streamRuns, withReader } from "./mod.ts";
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
 *   const ids: string[] = [];
 *   await withReader(indexPath(root), async (conn) => {
 *     for await (const batch of streamRuns(conn, { where: ["summary.win_rate > 0.5"] })) {
 *       for (const run of batch) ids.push(run.run_id);
 *     }
 *   });
 *   assert.deepEqual(ids, ["b2"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* streamRuns(
  conn: DuckDBConnection,
  query: RunQuery = {},
  source: RunsSource = "index",
): AsyncGenerator<RunRecord[]> {
  const { sql, params, extra, count } = runQuerySql(query, "columns", source);
  await checkWherePatterns(conn, query.where);
  for await (const batch of streamRows(conn, sql, params, { limit: query.limit, count })) {
    yield batch.map((row) => toRunRecord(row, extra, query.summary !== false));
  }
}

/**
 * Stream the runs matching `query` as JSON texts (one object per run, the
 * keys of {@linkcode RunRecord}), in batches. NaN and infinities in stored
 * JSON come out as `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { streamRunsJson, withReader } from "./mod.ts";
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
 *   const lines: string[] = [];
 *   await withReader(indexPath(root), async (conn) => {
 *     for await (const batch of streamRunsJson(conn, { where: ["run_id = 'a1'"] })) {
 *       lines.push(...batch);
 *     }
 *   });
 *   assert.equal(JSON.parse(lines[0]).summary.win_rate, 0.4);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* streamRunsJson(
  conn: DuckDBConnection,
  query: RunQuery = {},
  options: JsonStreamOptions = {},
): AsyncGenerator<string[]> {
  const sql = runQuerySql(query, "json");
  await checkWherePatterns(conn, query.where);
  yield* streamJsonRows(conn, sql, options);
}

/** Options for {@linkcode streamRunsJson} and {@linkcode streamTrialsJson}. */
export interface JsonStreamOptions {
  /**
   * Answers of more than {@linkcode JSON_BLOCK_ROWS} rows and at most this
   * many are read in blocks of that many rows, others row by row (0: every
   * answer row by row). Same texts, same order either way.
   * @default {JSON_BLOCKS_ROWS_MAX}
   */
  blocksRowsMax?: number;
}

/**
 * Yield the JSON texts of a query built with the `json` shape (column `j`),
 * in batches, with non-finite numbers made null, and check that every row
 * arrived. The rows are counted first (the count is needed at the end
 * anyway: a stream DuckDB stopped part-way ends like a complete one).
 * Answers of more than one block and up to {@linkcode JSON_BLOCKS_ROWS_MAX}
 * rows are read in blocks: the Node binding spends about 3.5 us taking one
 * text out of a result (a native call and a decode), 350 ms of a 1.6 s
 * `ledger runs --json` of 100k runs, and a block pays that once for
 * {@linkcode JSON_BLOCK_ROWS} rows. Other answers, and answers whose blocks
 * do not fit the reader's memory limit, stream row by row, which spills.
 */
async function* streamJsonRows(
  conn: DuckDBConnection,
  q: SqlFragment & { count: SqlFragment; blocks: SqlFragment },
  options: JsonStreamOptions,
): AsyncGenerator<string[]> {
  const expected = await countRows(conn, q.count);
  let streamed = 0;
  const blocksRowsMax = options.blocksRowsMax ?? JSON_BLOCKS_ROWS_MAX;
  // A block saves nothing on an answer that fits in one.
  const blocks = expected > JSON_BLOCK_ROWS && expected <= blocksRowsMax
    ? await startBlocks(conn, q.blocks)
    : null;
  const texts = blocks === null ? streamJsonTexts(conn, q) : readBlocks(blocks);
  for await (const batch of texts) {
    for (const [i, text] of batch.entries()) {
      if (mayHoldNonFinite(text)) {
        batch[i] = normalizeJsonText(text);
      }
    }
    streamed += batch.length;
    yield batch;
  }
  if (streamed < expected) throw new StreamTruncatedError(streamed, expected);
}

/** Start the blocks query; null when it does not fit the reader's memory limit. */
async function startBlocks(
  conn: DuckDBConnection,
  blocks: SqlFragment,
): Promise<DuckDBResult | null> {
  try {
    // The aggregate and the sort after it finish before the first block comes out,
    // so running out of memory is reported here, before anything was yielded.
    return await startStream(conn, blocks.sql, blocks.params);
  } catch (err) {
    if (isOutOfMemory(err)) return null;
    throw err;
  }
}

/** The rows of each block of a started blocks query. */
async function* readBlocks(result: DuckDBResult): AsyncGenerator<string[]> {
  while (true) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const texts = chunk.getColumnVector(0);
    const counts = chunk.getColumnVector(1);
    for (let b = 0; b < chunk.rowCount; b++) {
      // A vector keeps every text it decoded: read each block through a slice of its own,
      // so that only the block being yielded is held.
      const rows = (texts.slice(b, 1).getItem(0) as string).split("\n");
      assert(
        rows.length === counts.getItem(b),
        "a block splits into its rows (JSON has no raw newline)",
      );
      yield rows;
    }
  }
}

/** The texts of column `j` of the query, a chunk at a time. */
async function* streamJsonTexts(conn: DuckDBConnection, q: SqlFragment): AsyncGenerator<string[]> {
  const result = await startStream(conn, q.sql, q.params);
  while (true) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const vector = chunk.getColumnVector(0);
    const out: string[] = new Array(chunk.rowCount);
    for (let i = 0; i < chunk.rowCount; i++) out[i] = vector.getItem(i) as string;
    yield out;
  }
}

/**
 * The runs matching `query`, all at once (use {@linkcode streamRuns} for
 * large results).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { queryRuns, withReader } from "./mod.ts";
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
 *   const best = await withReader(indexPath(root), (conn) =>
 *     queryRuns(conn, { sort: [{ field: "summary.win_rate", descending: true }], limit: 1 }));
 *   assert.equal(best[0].run_id, "b2");
 *   assert.equal(best[0].status, "completed");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function queryRuns(
  conn: DuckDBConnection,
  query: RunQuery = {},
): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for await (const batch of streamRuns(conn, query)) out.push(...batch);
  return out;
}

/**
 * A fragment of SQL over runs `r` (rows of `latest_runs`) with numbered
 * parameters: {@linkcode runOrderSql}, {@linkcode runWhereSql}.
 */
export interface NumberedRunSql {
  /** The SQL (order terms, or a condition), over runs `r` and the join's `p`. */
  sql: string;
  /** What the SQL reads besides `r` (` LEFT JOIN ... p ON ...`), or `""`. */
  join: string;
  /** The values of `$first`, `$first + 1`, ... in order. */
  params: QueryParam[];
}

/**
 * The order `ledger runs --sort` gives runs `r` (rows of `latest_runs`) by
 * `keys`, ties newest first, then by id, for a statement written with
 * numbered parameters of its own (DuckDB takes `?` or `$n`, never both):
 * the fragment's are `$first`, `$first + 1`, ... The UI's overview sorts,
 * filters and pages in one statement with it (it passed every run id
 * through JavaScript: 1-2 s a page at 100k runs, and 16-22 s on one request
 * in four while DuckDB bound the 100k-id list).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runOrderSql } from "./runs.ts";
 * const order = runOrderSql([{ field: "tags.desk", descending: true }], 3);
 * const numbered = order.sql.match(/\$\d+/g) ?? [];
 * assert.deepEqual(numbered, order.params.map((_, i) => `$${3 + i}`));
 * assert.ok(order.params.every((p) => p === "desk")); // the tag key, where the order reads it
 * assert.equal(order.join, "");
 * ```
 */
export function runOrderSql(keys: readonly SortKey[], first: number): NumberedRunSql {
  return numbered(orderSql(keys, "runs", [...RUNS_NEWEST_FIRST_SQL]), first);
}

/**
 * The condition `ledger runs --where` puts on runs `r` (every expression
 * must hold; `true` for none), with numbered parameters from `$first` (see
 * {@linkcode runOrderSql}). Throws the query surface's usage errors, each
 * naming its expression's place, for an expression it cannot compile. The
 * UI's overview filters in SQL with it: it passed the matching run ids as a
 * list (12-23 s a page for a filter matching 95k of 100k runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { QueryUsageError, runWhereSql } from "./mod.ts";
 * const where = runWhereSql(["summary.win_rate > 0.5", "tags.desk = 'fx'"], 8);
 * assert.deepEqual(where.params.slice(-2), ["desk", "fx"]);
 * assert.ok(where.sql.includes(`$${7 + where.params.length}`));
 * assert.equal(runWhereSql([], 1).sql, "true");
 * assert.throws(() => runWhereSql(["bogus = 1"], 1), QueryUsageError); // names the field
 * ```
 */
export function runWhereSql(where: readonly string[], first: number): NumberedRunSql {
  return numbered(compileWhere(where, "runs"), first);
}

/** `fragment` with its `?` numbered from `$first`, and the join it needs. */
function numbered(fragment: SqlFragment, first: number): NumberedRunSql {
  assert(Number.isSafeInteger(first) && first >= 1, "first parameter is $1 or later");
  const join = /\bp\./.test(fragment.sql)
    ? ` LEFT JOIN ${PHASE_COUNTS_SQL} p ON p.run_id = r.run_id`
    : "";
  let n = first;
  // `?` outside quoted text and identifiers (a regex literal of an order holds `?`).
  const sql = fragment.sql.replace(
    /'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g,
    (m) => m === "?" ? `$${n++}` : m,
  );
  assert(n - first === fragment.params.length, "one parameter per ?");
  return { sql, join, params: [...fragment.params] };
}

function toRunRecord(
  row: Record<string, unknown>,
  extra: readonly Field[],
  withSummary: boolean,
): RunRecord {
  const createdMs = row.created_at_ms as number | null;
  const record: RunRecord = {
    run_id: String(row.run_id),
    run_type: row.run_type as string | null,
    status: String(row.status),
    created_at: createdMs === null ? null : isoTime(createdMs),
    created_at_ms: createdMs,
    started_at_ms: row.started_at_ms as number | null,
    completed_at_ms: row.completed_at_ms as number | null,
    failed_at_ms: row.failed_at_ms as number | null,
    duration_ms: row.duration_ms as number | null,
    label: row.label as string | null,
    archived: row.archived === true,
    phase_count: Number(row.phase_count ?? 0),
    data_fingerprint: row.data_fingerprint as string | null,
    source: "event_log",
  };
  if (withSummary) record.summary = parseJsonLenient(row.summary_json);
  extra.forEach((f, i) => {
    record[f.name] = columnValue(f, row[`x${i}`]);
  });
  return record;
}

/** The value of an extra column: JSON roots parsed (types kept), times as ISO. */
export function columnValue(f: Field, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  if (f.kind === "json") return parseJsonLenient(raw);
  if (f.kind === "time") return isoTime(Number(raw));
  return raw;
}

/** ISO 8601 UTC with milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

// ---- trials ----

/** What to list: the options of {@linkcode streamTrials}. */
export interface TrialQuery {
  /** Only trials of this run (a full run id). @default {undefined} (all runs) */
  runId?: string;
  /** Only trials of runs of these types. @default {undefined} (any) */
  types?: readonly string[];
  /** Only trials of runs with these statuses. @default {undefined} (any) */
  statuses?: readonly string[];
  /** Only trials of runs created at or after this, ms. @default {undefined} */
  sinceMs?: number;
  /** Only trials of runs created before this, ms. @default {undefined} */
  untilMs?: number;
  /**
   * Trials of archived runs too (always when `runId` names one).
   * @default {false}, as `ledger runs` hides archived runs
   */
  includeArchived?: boolean;
  /** Filter expressions over trial fields; all must hold. @default {[]} */
  where?: readonly string[];
  /** Sort keys. @default {by run, then recording time} */
  sort?: readonly SortKey[];
  /** At most this many rows. @default {undefined} (all) */
  limit?: number;
  /** Extra fields. @default {[]} */
  columns?: readonly string[];
}

/** One trial as the query surface lists it. */
export interface TrialRecord {
  /** The run. */
  run_id: string;
  /** The trial id. */
  trial_id: string;
  /** When it was recorded (ISO 8601 UTC). */
  recorded_at: string | null;
  /** Parameters. */
  params: unknown;
  /** Metrics. */
  metrics: unknown;
  /** Extra columns by field name. */
  [column: string]: unknown;
}

/** Keys every trial row has. */
const TRIAL_KEYS = new Set(["run_id", "trial_id", "recorded_at", "params", "metrics"]);

/** The SQL of a trial query, with its parameters. */
export function trialQuerySql(
  query: TrialQuery,
  shape: RowShape = "columns",
): SqlFragment & {
  extra: Field[];
  count: SqlFragment;
  numbered: SqlFragment;
  blocks: SqlFragment;
} {
  checkListOptions({
    limit: query.limit,
    statuses: query.statuses,
    sinceMs: query.sinceMs,
    untilMs: query.untilMs,
  });
  const conds: string[] = ["true"];
  const params: QueryParam[] = [];
  if (query.runId !== undefined) {
    conds.push("t.run_id = ?");
    params.push(query.runId);
  } else if (!query.includeArchived) {
    // The archive table is small: no join with the runs for this alone.
    conds.push("t.run_id NOT IN (SELECT run_id FROM run_archive WHERE archived)");
  }
  selectRuns(query, conds, params); // the trial's run (joins it), as `ledger runs` selects runs
  const where = compileWhere(query.where ?? [], "trials");
  conds.push(where.sql);
  params.push(...where.params);
  const extra = (query.columns ?? []).map((c) => checkField(c, "trials", true));
  const select = ["t.run_id, t.trial_id, t.recorded_at_ms, t.params, t.metrics"];
  const selectParams: QueryParam[] = [];
  if (shape === "json") {
    const pairs = [
      "'run_id', t.run_id",
      "'trial_id', t.trial_id",
      `'recorded_at', ${isoTimeSql("t.recorded_at_ms")}`,
      "'params', t.params::JSON",
      "'metrics', t.metrics::JSON",
      ...extra.filter((f) => !TRIAL_KEYS.has(f.name)).map((f) =>
        `${nameLiteral(f.name)}, ${jsonValueSql(f, selectParams)}`
      ),
    ];
    select.splice(0, 1, `json_object(${pairs.join(", ")})::VARCHAR AS j`);
  } else {
    selectExtra(extra, select, selectParams);
  }
  const order = orderSql(query.sort ?? [], "trials", [
    "t.run_id",
    "t.recorded_at_ms",
    "t.trial_id",
  ]);
  // A run field (config.fee_bps, status...) reads the trial's run: one row per run, so the
  // join keeps one row per trial.
  const joinRun = [...conds, ...select, order.sql].some(readsRun);
  const runJoin = joinRun ? ` LEFT JOIN ${INDEX_RUNS_SQL} ON r.run_id = t.run_id` : "";
  const parts = {
    select,
    selectParams,
    from: `trial_results t${runJoin}`,
    conds,
    params,
    order,
    limit: query.limit,
  };
  if (shape === "json" && query.limit !== undefined) {
    // The rows that pass first, by the plain columns (a top-N of row ids), then their JSON:
    // sorting every row with its JSON ran out of the reader's 512MB on 4M trials even for
    // --limit 10 (a scale audit). The order ends with unique keys, so sorting the rows
    // picked again gives the same order.
    const picked = selectSql({ ...parts, select: ["t.rowid AS trial_row"], selectParams: [] });
    const rows = selectSql({
      ...parts,
      from:
        `(${picked.sql}) AS picked JOIN trial_results t ON t.rowid = picked.trial_row${runJoin}`,
      conds: ["true"],
      params: picked.params,
      limit: undefined,
    });
    return { ...rows, count: picked.count, extra };
  }
  return { ...selectSql(parts), extra };
}

/**
 * Stream the trials matching `query` in batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { streamTrials, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "trial.recorded", run_id, trial_id: "t1", params: { stop: win_rate },
 *         metrics: { sharpe: win_rate * 2 } },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   let count = 0;
 *   await withReader(indexPath(root), async (conn) => {
 *     for await (const batch of streamTrials(conn, { where: ["metrics.sharpe > 1"] })) {
 *       count += batch.length;
 *     }
 *   });
 *   assert.equal(count, 1); // only b2's trial has sharpe 1.4
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* streamTrials(
  conn: DuckDBConnection,
  query: TrialQuery = {},
): AsyncGenerator<TrialRecord[]> {
  const { sql, params, extra, count } = trialQuerySql(query);
  await checkWherePatterns(conn, query.where);
  for await (const batch of streamRows(conn, sql, params, { limit: query.limit, count })) {
    yield batch.map((row) => {
      const rec: TrialRecord = {
        run_id: String(row.run_id),
        trial_id: String(row.trial_id),
        recorded_at: row.recorded_at_ms === null ? null : isoTime(Number(row.recorded_at_ms)),
        params: parseJsonLenient(row.params),
        metrics: parseJsonLenient(row.metrics),
      };
      extra.forEach((f, i) => {
        rec[f.name] = columnValue(f, row[`x${i}`]);
      });
      return rec;
    });
  }
}

/**
 * Stream the trials matching `query` as JSON texts (the keys of
 * {@linkcode TrialRecord}), in batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { streamTrialsJson, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "trial.recorded", run_id, trial_id: "t1", params: { stop: win_rate },
 *         metrics: { sharpe: win_rate * 2 } },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const lines: string[] = [];
 *   await withReader(indexPath(root), async (conn) => {
 *     for await (const batch of streamTrialsJson(conn, { limit: 5 })) lines.push(...batch);
 *   });
 *   assert.equal(lines.length, 2);
 *   assert.equal(JSON.parse(lines[0]).trial_id, "t1");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* streamTrialsJson(
  conn: DuckDBConnection,
  query: TrialQuery = {},
  options: JsonStreamOptions = {},
): AsyncGenerator<string[]> {
  const sql = trialQuerySql(query, "json");
  await checkWherePatterns(conn, query.where);
  yield* streamJsonRows(conn, sql, options);
}

/**
 * The trials matching `query`, all at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { queryTrials, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "trial.recorded", run_id, trial_id: "t1", params: { stop: win_rate },
 *         metrics: { sharpe: win_rate * 2 } },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const top = await withReader(indexPath(root), (conn) =>
 *     queryTrials(conn, { sort: [{ field: "metrics.sharpe", descending: true }], limit: 1 }));
 *   assert.equal(top[0].run_id, "b2");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function queryTrials(
  conn: DuckDBConnection,
  query: TrialQuery = {},
): Promise<TrialRecord[]> {
  const out: TrialRecord[] = [];
  for await (const batch of streamTrials(conn, query)) out.push(...batch);
  return out;
}
