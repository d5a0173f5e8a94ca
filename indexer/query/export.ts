/**
 * `ledger export runs|trials`: a flat table (one column per `config.*`,
 * `summary.*`, `tags.*`, or `params.*`, `metrics.*` path) written as
 * Parquet, CSV or JSONL, ready for pandas or polars. Column types are kept
 * as the JSON wrote them: a path whose numbers are all written as integers
 * is a BIGINT column (DECIMAL(38,0) when one is past BIGINT's range, such
 * as a uint64 seed: exact in every format, Parquet included; text past 38
 * digits), unless it is a measure (`backtest/number_fields.ts`: a trial's
 * metric but a count of calls, a win rate or return anywhere, a policy's
 * fraction), which is DOUBLE whatever its values, one with a
 * number written with a fraction or an exponent (`0.5`, `1.0`, `1e3`) a
 * DOUBLE, unless it also holds an integer a double cannot hold exactly
 * (`9007199254740993` beside `0.5`): then the column is text, each number
 * as written (`numbersAsText` names such columns); strings that are JSON
 * numbers as written (`"10"`, `"0.3"`, not
 * `"0010"` or `" 7"`, nor `"1e400"`: past a double's range) count as
 * numbers in a column that holds numbers, any other string makes the column
 * text; all booleans make a BOOLEAN; a path
 * with no value but null (NaN and infinities are null) a DOUBLE; anything
 * else is VARCHAR (objects and arrays as JSON text).
 *
 * Column names are the flat names of `flat_path.ts`, so that every path
 * keeps its own column and no value is lost: keys joined with `.`, a `.` in
 * a key written `\.` and a `\` written `\\` (the key `"a.b"` is
 * `config.a\.b`, the path a -> b `config.a.b`); names equal ignoring ASCII
 * case (`config.N`, `config.n`: DuckDB and its JSON writer treat them as
 * one) are told apart by a suffix: sorted by code point, the first keeps its
 * name, the others get `~2`, `~3`, ... (`config.N`, `config.n~2`).
 *
 * DuckDB does all of it, in the index's own reader (external access
 * disabled, as every reader, except for the one file it writes): the
 * matching rows go to a temporary table with their place in the order, the
 * paths and their kinds come from `json_structure` of each distinct shape,
 * the typed columns go to temporary tables 128 at a time, and one `COPY`
 * writes the flat rows aside, renamed into place, so a failed export leaves
 * nothing behind. Every statement that parses the JSON reads the rows in
 * slices sized to the reader's memory limit, so wide and huge configs
 * export in a bounded reader. No row passes through JavaScript.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { duckdb, type DuckDBConnection, type DuckDBValue } from "../duckdb.ts";
import { exec } from "../_sql.ts";
import { assert } from "../../ledger/assert.ts";
import { assertRegularFileOrAbsent, NotRegularFileError } from "../../ledger/durable_fs.ts";
import { linkTargetOf, ProcessFileLinkError } from "../../ledger/real_path.ts";
import { randomHex } from "../../ledger/ids.ts";
import { withIndex } from "../queries.ts";
import { isNonFinite } from "../_line_checks.ts";
import { printedJsonTextSql } from "./_json.ts";
import { InvalidMemoryLimitError, memoryLimitBytes, parseMemoryLimit } from "../memory_limit.ts";
import { caseDistinctNames, flatFieldName } from "./flat_path.ts";
import { INTEGER_TEXT_RE, jsonPathOf, NUMBER_TEXT_RE } from "./fields.ts";
import { bindParams } from "./reader.ts";
import { checkWherePatterns, runQuerySql, trialQuerySql } from "./runs.ts";
import { fixedNumberType } from "../../backtest/number_fields.ts";
import { isoTimeSql } from "./time.ts";

/** Export file formats. */
export const EXPORT_FORMATS = ["parquet", "csv", "jsonl"] as const;
/** One of {@linkcode EXPORT_FORMATS}. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What to export and where: the options of {@linkcode exportTable}. */
export interface ExportOptions {
  /** `runs` or `trials`. */
  what: "runs" | "trials";
  /** File format. */
  format: ExportFormat;
  /** The file to write (replaced atomically). */
  outPath: string;
  /** Filter expressions (all must hold). @default {[]} */
  where?: readonly string[];
  /** Include archived runs (runs), or the trials of archived runs (trials). @default {false} */
  includeArchived?: boolean;
}

/** What an export wrote. */
export interface ExportReport {
  /** Rows written. */
  rows: number;
  /** Column names, in order. */
  columns: string[];
  /** The file written. */
  outPath: string;
  /**
   * Columns of numbers written as text, each number as the log wrote it:
   * a typed column would have rounded one of their integers (past 2^53
   * beside a fraction, or past 38 digits).
   */
  numbersAsText: string[];
}

/**
 * The target cannot be written: its directory does not exist, or it is a
 * directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ExportTargetError } from "./export.ts";
 * assert.match(new ExportTargetError("/x/y.csv", "no such directory").message, /\/x\/y\.csv/);
 * ```
 */
export class ExportTargetError extends Error {
  /** The path given. */
  readonly path: string;
  /** Create the error. */
  constructor(path: string, why: string) {
    super(`Cannot write ${path}: ${why}`);
    this.name = "ExportTargetError";
    this.path = path;
  }
}

type ColumnType = "BIGINT" | "DECIMAL(38,0)" | "DOUBLE" | "BOOLEAN" | "VARCHAR";
/**
 * What a column becomes instead of its type from the kinds seen: an integer
 * column past BIGINT's range DECIMAL(38,0), text past 38 digits; a DOUBLE
 * column with an integer a double cannot hold exactly, text.
 */
type WideType = "DECIMAL(38,0)" | "VARCHAR";

/** Characters of the target's name kept in its temporary sibling's name. */
const TEMP_STEM_CHARS_MAX = 64;

/** Options of the reader {@linkcode exportIndex} opens. */
export interface ExportReaderOptions {
  /** DuckDB memory limit of the export (see `WithIndexOptions`). @default {undefined} */
  memoryLimit?: string;
  /**
   * Stops the export (SIGINT, SIGTERM): the running statement is
   * interrupted, the temporary file removed, the target left as it was, and
   * the signal's reason thrown. @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Export runs or trials of the index at `dbPath` to a flat file. The index
 * is opened read-only with external access disabled; the one file a
 * statement may write is the target's temporary sibling.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { exportIndex } from "./mod.ts";
 * import { join } from "node:path";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate, fee_bps: 10 } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const outPath = join(root, "runs.csv");
 *   const report = await exportIndex(indexPath(root), { what: "runs", format: "csv", outPath });
 *   assert.equal(report.rows, 2);
 *   assert.ok(report.columns.includes("config.fee_bps"));
 *   assert.match(await Deno.readTextFile(outPath), /^run_id,/);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function exportIndex(
  dbPath: string,
  options: ExportOptions,
  reader: ExportReaderOptions = {},
): Promise<ExportReport> {
  const outPath = await exportTarget(options.outPath);
  await checkTarget(outPath);
  // Beside the target (the rename stays on one file system), under a name of bounded length:
  // a target's name may be near the 255-byte limit of a file name.
  const temp = join(
    dirname(outPath),
    `.${basename(outPath).slice(0, TEMP_STEM_CHARS_MAX)}.tmp-${Deno.pid}-${randomHex(4)}`,
  );
  try {
    const written = await withIndex(
      dbPath,
      (conn) => writeExport(conn, options, temp),
      { memoryLimit: reader.memoryLimit, writablePaths: [temp], signal: reader.signal },
    );
    reader.signal?.throwIfAborted(); // stopped: the target stays as it was
    await Deno.rename(temp, outPath); // the file is complete from here
    return { ...written, outPath: options.outPath };
  } catch (err) {
    await removeIfThere(temp);
    if (reader.signal?.aborted) throw reader.signal.reason;
    // DuckDB names the temporary file it could not write: say it of the target.
    if (err instanceof Error && /^IO Error/.test(err.message) && err.message.includes(temp)) {
      const reason = err.message.split("\n")[0].replace(/^IO Error: /, "");
      throw new ExportTargetError(options.outPath, reason.replaceAll(temp, options.outPath));
    }
    throw err;
  }
}

/**
 * Export runs or trials of the index open on `conn` (see `withReader`) to
 * a flat file: {@linkcode exportIndex} of the file `conn` reads (opened
 * again, so that the target is the one file its statements may write).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { exportTable, withReader } from "./mod.ts";
 * import { join } from "node:path";
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
 *   const outPath = join(root, "runs.csv");
 *   const report = await withReader(indexPath(root), (conn) =>
 *     exportTable(conn, { what: "runs", format: "csv", outPath }));
 *   assert.equal(report.rows, 2);
 *   assert.match(await Deno.readTextFile(outPath), /^run_id,/);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function exportTable(
  conn: DuckDBConnection,
  options: ExportOptions,
): Promise<ExportReport> {
  const reader = await conn.runAndReadAll(
    "SELECT path FROM duckdb_databases() WHERE database_name = current_database()",
  );
  const [[path]] = reader.getRows();
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      "exportTable needs a connection to an index file, not an in-memory database",
    );
  }
  return await exportIndex(path, options);
}

/** A column of the export: its name, type and SQL value (over the rows of `export_rows`). */
type ExportColumn =
  /** A fixed column: its value over the rows of `export_rows`. */
  | { name: string; type: ColumnType; sql: string; flat?: undefined }
  /** A flattened column: the root and JSON path its values are read from. */
  | { name: string; type: ColumnType; sql?: undefined; flat: { root: number; path: string } };

/** A JSON column of the rows whose object is flattened into `root.path` columns. */
interface FlatRoot {
  /** The column name prefix: `config`, `summary`, `tags`, `params`, `metrics`. */
  root: string;
  /** Its column in `export_rows`. */
  column: string;
}

/** Where a flattened column's values are, and what `json_structure` saw there. */
interface FlatPath {
  name: string;
  root: number;
  /** The DuckDB JSON path of its keys ({@linkcode jsonPathOf}). */
  path: string;
  kinds: Set<string>;
  /** A measure (`number_fields.ts`): a column of numbers is DOUBLE whatever its values. */
  measure: boolean;
}

const ROWS_TABLE = "export_rows";

const RUN_FIXED: [string, ColumnType, string][] = [
  ["run_id", "VARCHAR", "run_id"],
  ["run_type", "VARCHAR", "run_type"],
  ["status", "VARCHAR", "status"],
  ["created_at", "VARCHAR", isoTimeSql("created_at_ms")],
  ["created_at_ms", "BIGINT", "created_at_ms"],
  ["started_at_ms", "BIGINT", "started_at_ms"],
  ["completed_at_ms", "BIGINT", "completed_at_ms"],
  ["failed_at_ms", "BIGINT", "failed_at_ms"],
  ["duration_ms", "BIGINT", "duration_ms"],
  ["label", "VARCHAR", "label"],
  ["archived", "BOOLEAN", "archived"],
  ["data_fingerprint", "VARCHAR", "data_fingerprint"],
  ["phase_count", "BIGINT", "phase_count"],
  ["source", "VARCHAR", "'event_log'"],
];
// Flattened in the order a run's JSON row holds them (`ledger runs --json`).
const RUN_ROOTS: FlatRoot[] = [
  { root: "summary", column: "summary_json" },
  { root: "config", column: "config_json" },
  { root: "tags", column: "x0" },
];

const TRIAL_FIXED: [string, ColumnType, string][] = [
  ["run_id", "VARCHAR", "run_id"],
  ["trial_id", "VARCHAR", "trial_id"],
  ["recorded_at", "VARCHAR", isoTimeSql("recorded_at_ms")],
];
const TRIAL_ROOTS: FlatRoot[] = [
  { root: "params", column: "params" },
  { root: "metrics", column: "metrics" },
];

async function writeExport(
  conn: DuckDBConnection,
  options: ExportOptions,
  temp: string,
): Promise<Omit<ExportReport, "outPath">> {
  const runs = options.what === "runs";
  await checkWherePatterns(conn, options.where);
  const numbered = runs
    ? runQuerySql({
      where: options.where,
      includeArchived: options.includeArchived,
      columns: ["tags"],
      sort: [{ field: "created_at", descending: false }, { field: "run_id", descending: false }],
    }).numbered
    : trialQuerySql({ where: options.where, includeArchived: options.includeArchived })
      .numbered;
  const { values, types } = bindParams(numbered.params);
  // The matching rows once, each with its place in the order: the shapes, the check of
  // numeric strings and the typed columns read them (the runs query's joins cost 300-500 ms
  // at 100k).
  if (runs) {
    // The configs join the numbered rows after: numbered with them, 4,000 runs of 23 KB
    // configs needed more than the reader's 512MB (the window held every config). The
    // numbered rows are the join's build side (the right one), the configs stream through.
    await conn.run(`CREATE TEMP TABLE export_keys AS ${numbered.sql}`, values, types);
    await conn.run(
      `CREATE TEMP TABLE ${ROWS_TABLE} AS SELECT k.*, d.config AS config_json
        FROM runs_d d RIGHT JOIN export_keys k USING (run_id)`,
    );
    await conn.run("DROP TABLE export_keys");
  } else {
    await conn.run(`CREATE TEMP TABLE ${ROWS_TABLE} AS ${numbered.sql}`, values, types);
  }
  const roots = runs ? RUN_ROOTS : TRIAL_ROOTS;
  const slices = await rowSlices(conn, roots);
  const paths = await flatPaths(conn, roots, slices);
  const longRoots = longRootsOnce(conn, roots);
  await markWideIntegers(conn, roots, paths, slices, longRoots);
  const numericText = await numericTextPaths(conn, roots, paths, slices);
  const inexact = await inexactDoublePaths(conn, roots, paths, slices, numericText, longRoots);
  const fixed: ExportColumn[] = (runs ? RUN_FIXED : TRIAL_FIXED).map(([name, type, sql]) => ({
    name,
    type,
    sql,
  }));
  const keepZeroSigns = options.format === "parquet" && await mayHoldNegativeZero(conn, roots);
  const copy = (columns: readonly ExportColumn[]) =>
    copyGroups(
      conn,
      roots,
      slices,
      columns,
      temp,
      copyOptions(options.format, columns.length, {
        keepZeroSigns,
      }),
    );
  let overrides = inexact;
  let columns: ExportColumn[] = [...fixed, ...flatColumns(paths, numericText, overrides)];
  let copied;
  try {
    copied = await copy(columns);
  } catch (err) {
    // An integer column's values are cast strictly: one past BIGINT (json_structure calls
    // 2^63..2^64-1 UBIGINT like any count) fails the COPY instead of becoming NULL. Such
    // columns are found, made DECIMAL(38,0) (or DOUBLE past 38 digits), and the file written
    // again. (They were DOUBLE: a uint64 seed lost its last digits in every format.)
    if (!(err instanceof Error) || !/Conversion Error/.test(err.message)) throw err;
    const wide = await overflowingPaths(conn, roots, paths, slices, numericText);
    if (wide.size === 0) throw err;
    await removeIfThere(temp);
    overrides = new Map([...inexact, ...wide]);
    columns = [...fixed, ...flatColumns(paths, numericText, overrides)];
    copied = await copy(columns);
  }
  await conn.run(`DROP TABLE IF EXISTS ${ROWS_TABLE}`);
  const numbersAsText = columns.filter((c) => overrides.get(c.name) === "VARCHAR")
    .map((c) => c.name);
  return { rows: copied, columns: columns.map((c) => c.name), numbersAsText };
}

/**
 * Flattened columns typed in one statement, at most. DuckDB keeps each
 * expression's intermediate vectors (2048 values) for the whole statement:
 * with one statement for every column an export of 1,000 runs whose
 * 23 KB configs had 1,653 paths needed more than the reader's 512MB (an
 * audit: `export runs` out of memory on wide configs; the same export of
 * 400 such runs in 256MB is `tests/indexer/export_wide_test.ts`).
 */
const FLAT_COLUMNS_PER_STATEMENT_MAX = 128;

/**
 * Write `columns` (the fixed ones first, then the flattened ones of
 * `roots`) of the rows of `export_rows`, in their order, to `temp`.
 * Flattened columns are typed {@linkcode FLAT_COLUMNS_PER_STATEMENT_MAX} at
 * a time, slice of rows by slice ({@linkcode rowSlices}), into temporary
 * tables in the rows' order, which the `COPY` reads side by side. Returns
 * the rows written.
 */
async function copyGroups(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  slices: readonly [number, number][],
  columns: readonly ExportColumn[],
  temp: string,
  options: string,
): Promise<number> {
  const fixed = columns.filter((c) => c.flat === undefined);
  const flat = columns.filter((c) => c.flat !== undefined);
  const groups: ExportColumn[][] = [[]];
  for (let i = 0; i < flat.length; i += FLAT_COLUMNS_PER_STATEMENT_MAX) {
    if (i > 0) groups.push([]);
    groups[groups.length - 1].push(...flat.slice(i, i + FLAT_COLUMNS_PER_STATEMENT_MAX));
  }
  const copyTo = `TO ${sqlText(temp)} (${options})`;
  if (groups.length === 1 && slices.length <= 1) {
    // Few columns and no row large enough to need slices: one statement (the usual export;
    // the tables below cost 150-200 ms more at 100k runs).
    const { extracts, values } = groupSql(roots, fixed, groups[0]);
    const named = [
      ...fixed.map((c, k) => `"c${k}" AS ${quoteIdent(c.name)}`),
      ...groups[0].map((c, k) => `"v${k}" AS ${quoteIdent(c.name)}`),
    ];
    const copied = await conn.runAndReadAll(
      `COPY (SELECT ${named.join(", ")} FROM (
          SELECT ${["rn", ...values].join(", ")}
          FROM (SELECT ${["*", ...extracts].join(", ")} FROM ${ROWS_TABLE})
        ) ORDER BY rn) ${copyTo}`,
    );
    return Number(copied.getRows()[0][0]);
  }
  // The fixed columns in a table of their own, t0, and each group in the next: the COPY
  // then always reads tables side by side (one table of 60 rows of 420 KB arrays, scanned
  // by itself, did not fit a 256MB reader as JSONL).
  const tables = ["export_fixed", ...groups.map((_, g) => `export_columns_${g}`)];
  try {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${tables[0]} AS
        SELECT ${["rn", ...groupSql(roots, fixed, []).values].join(", ")}
        FROM ${ROWS_TABLE} ORDER BY rn`,
    );
    for (const [g, group] of groups.entries()) {
      const { extracts, values } = groupSql(roots, [], group);
      // Slice by slice, in order, each sorted (narrow: a sort of every column at once ran a
      // 192MB reader out of memory at 200 runs of 1,653 paths): each JSON document is parsed
      // with a vector of others. Each run of the statement costs about 10 ms for 128 columns
      // however few its rows.
      const select = `SELECT ${["rn", ...values].join(", ")}
        FROM (SELECT ${["rn", ...extracts].join(", ")} FROM ${ROWS_TABLE}
          WHERE rn BETWEEN $1 AND $2) ORDER BY rn`;
      await exec(conn, `CREATE OR REPLACE TEMP TABLE ${tables[g + 1]} AS ${select}`, [1, 0]);
      await runPerSlice(conn, `INSERT INTO ${tables[g + 1]} ${select}`, slices);
    }
    // Read side by side (POSITIONAL JOIN: no hash table, no sort of the wide rows); the
    // first column checks that the rows line up.
    const aligned = tables.slice(1).map((_, g) => `t${g + 1}.rn = t0.rn`).join(" AND ");
    const named = [
      ...fixed.map((c, k) =>
        k === 0
          ? `CASE WHEN ${aligned} THEN t0."c0" ` +
            `ELSE error('export rows out of line') END AS ${quoteIdent(c.name)}`
          : `t0."c${k}" AS ${quoteIdent(c.name)}`
      ),
      ...groups.flatMap((group, g) =>
        group.map((c, k) => `t${g + 1}."v${k}" AS ${quoteIdent(c.name)}`)
      ),
    ];
    const from = tables.map((t, g) => `${t} AS t${g}`).join(" POSITIONAL JOIN ");
    // The tables hold every value: the rows' JSON text is no longer needed, and the COPY
    // of 60 rows of 420 KB arrays as JSONL did not fit a 256MB reader beside it. (A
    // conversion error, which writeExport answers by reading the rows again, comes from
    // the tables' statements above, never from the COPY.)
    await conn.run(`DROP TABLE ${ROWS_TABLE}`);
    const copied = await conn.runAndReadAll(
      `COPY (SELECT ${named.join(",\n          ")} FROM ${from}) ${copyTo}`,
    );
    return Number(copied.getRows()[0][0]);
  } finally {
    for (const t of tables) await conn.run(`DROP TABLE IF EXISTS ${t}`);
  }
}

/**
 * The SQL of one group of columns over the rows of `export_rows`: the
 * `fixed` columns as `c0, c1...`, the flattened ones of `group` as `v0,
 * v1...`, from one json_extract per root (`extracts`: `"f<root>"[k]` is the
 * group's k-th path of that root).
 */
function groupSql(
  roots: readonly FlatRoot[],
  fixed: readonly ExportColumn[],
  group: readonly ExportColumn[],
): { extracts: string[]; values: string[] } {
  const extracts: string[] = [];
  const values = fixed.map((c, k) => `${c.sql} AS "c${k}"`);
  const flatValues: string[] = new Array(group.length);
  roots.forEach((r, i) => {
    const here = group.flatMap((c, k) => c.flat?.root === i ? [{ c, k }] : []);
    if (here.length === 0) return;
    const paths = here.map(({ c }) => sqlText(c.flat!.path));
    extracts.push(`json_extract(${r.column}, [${paths.join(", ")}]) AS "f${i}"`);
    here.forEach(({ c, k }, j) =>
      flatValues[k] = `${valueSql(`"f${i}"[${j + 1}]`, c.type)} AS "v${k}"`
    );
  });
  return { extracts, values: [...values, ...flatValues] };
}

/**
 * A JSON number that is a negative zero as a double: `-0`, `-0.0`, `-0e5`,
 * or one whose exponent is so far below zero that it may round to zero
 * (`-1e-400`; three digits is conservative), followed by what may end a
 * number. Text inside a string may match too: that costs the dictionary
 * only, never a value.
 */
const NEGATIVE_ZERO_PATTERN = String.raw`-(0(\.0+)?([eE][-+]?[0-9]+)?|[0-9][0-9.]*[eE]-[0-9]{3,})` +
  String.raw`([^0-9.eE]|$)`;

/**
 * Whether a flattened value of the rows may be a negative zero. DuckDB's
 * Parquet writer keeps one dictionary entry for 0.0 and -0.0, so every zero
 * of a column chunk took the sign of the first one written (a probe: one
 * run's -0.0 turned four others' 0 into -0.0, and the other way round;
 * JSONL and CSV were right). An export whose rows hold one is written
 * without dictionaries: 15% larger for 100k runs, 42% for 190k trials, so
 * only then. `contains` first: most rows hold neither `-0` nor `e-`.
 */
async function mayHoldNegativeZero(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
): Promise<boolean> {
  const any = roots.map((r) =>
    `((contains(${r.column}, '-0') OR contains(${r.column}, 'e-') OR contains(${r.column}, 'E-'))
      AND regexp_matches(${r.column}, '${NEGATIVE_ZERO_PATTERN}'))`
  ).join(" OR ");
  const reader = await conn.runAndReadAll(`SELECT 1 FROM ${ROWS_TABLE} WHERE ${any} LIMIT 1`);
  return reader.currentRowCount > 0;
}

/** Digits from which an integer may be one a double cannot hold (2^53 has 16). */
const INEXACT_INTEGER_DIGITS_MIN = 16;
/** Digits of the shortest integer `json_structure` calls DOUBLE (-9223372036854775809). */
const WIDE_INTEGER_DIGITS_MIN = 19;

/** Per root, whether some row's text has a long integer part; see {@linkcode longRootsOnce}. */
type LongRoots = (digits: number) => Promise<boolean[]>;

/**
 * Per root, whether a row's text has a run of `digits` digits not after a
 * digit or a point (an integer part: a long fraction such as
 * 0.57331522647291425 is not one): the paths of other roots hold no integer
 * that long. Each answer is one scan, made on its first call and shared by
 * {@linkcode markWideIntegers} and {@linkcode inexactDoublePaths}; a root
 * without a run of {@linkcode INEXACT_INTEGER_DIGITS_MIN} digits has no
 * longer one either, so it is not scanned again.
 */
function longRootsOnce(conn: DuckDBConnection, roots: readonly FlatRoot[]): LongRoots {
  const found = new Map<number, Promise<boolean[]>>();
  const scan = async (digits: number): Promise<boolean[]> => {
    const within = digits > INEXACT_INTEGER_DIGITS_MIN
      ? await answer(INEXACT_INTEGER_DIGITS_MIN)
      : roots.map(() => true);
    if (!within.some((v) => v)) return within;
    const long = roots.map((r, i) =>
      within[i]
        ? `coalesce(bool_or(regexp_matches(${r.column}::VARCHAR, ` +
          `'(^|[^0-9.])-?[0-9]{${digits}}')), false)`
        : "false"
    );
    const [row] = (await conn.runAndReadAll(`SELECT ${long.join(", ")} FROM ${ROWS_TABLE}`))
      .getRows();
    return row.map((v) => v === true);
  };
  const answer = (digits: number): Promise<boolean[]> => {
    let promise = found.get(digits);
    if (promise === undefined) found.set(digits, promise = scan(digits));
    return promise;
  };
  return answer;
}

/**
 * The DOUBLE paths holding an integer, as a number or as numeric text, that
 * a double cannot hold exactly (`9007199254740993` beside `0.5`: it would
 * be written `9007199254740992.0`, the same as another run's seed, an audit
 * found), each made text. Looked at: a path that also holds integers or
 * numeric text, in a root with a run of 16 digits, and a path of doubles
 * only (`json_structure` calls an integer past 64 bits DOUBLE), in a root
 * with a run of 19; each root's rows parsed once for all its paths (a
 * review: one parse a path took an export of 100k runs with a 16-digit seed
 * beside 19 float params from 1.9 s to 6.9 s).
 */
async function inexactDoublePaths(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  paths: readonly FlatPath[],
  slices: readonly [number, number][],
  numericText: ReadonlyMap<string, "integer" | "number">,
  longRoots: LongRoots,
): Promise<Map<string, WideType>> {
  const out = new Map<string, WideType>();
  const doubles = paths.filter((p) =>
    columnType(p, numericText.get(p.name), new Map()) === "DOUBLE"
  );
  if (doubles.length === 0) return out;
  const onlyDoubles = (p: FlatPath) => [...p.kinds].every((k) => k === "DOUBLE" || k === "NULL");
  const mixed = doubles.some((p) => !onlyDoubles(p))
    ? await longRoots(INEXACT_INTEGER_DIGITS_MIN)
    : roots.map(() => false);
  const wide = doubles.some(onlyDoubles)
    ? await longRoots(WIDE_INTEGER_DIGITS_MIN)
    : roots.map(() => false);
  const candidates = doubles.filter((p) => (onlyDoubles(p) ? wide : mixed)[p.root]);
  const found = await somePerPath(conn, roots, candidates, slices, (f) => {
    const v = `trim(json_extract_string(${f}, '$'))`;
    // Only a long run of digits is looked at: an integer, or numeric text whose integer part
    // is that long (`"9007199254740993.0"`: a review). Exact when the value read as a double
    // and back is itself (a HUGEINT holds 38 digits, the text's DECIMAL 32 before its point
    // and 6 after; past them the value is taken as one a double cannot hold).
    const long = `strlen(${f}::VARCHAR) >= ${INEXACT_INTEGER_DIGITS_MIN}`;
    return [
      `CASE WHEN ${long} AND json_type(${f}) = 'VARCHAR' ` +
      `AND regexp_full_match(${v}, '-?[0-9]{${INEXACT_INTEGER_DIGITS_MIN},}(\\.[0-9]+)?') ` +
      `THEN NOT coalesce(TRY_CAST(${v} AS DECIMAL(38,6)) = ` +
      `TRY_CAST(TRY_CAST(${v} AS DOUBLE) AS DECIMAL(38,6)), false) ` +
      `WHEN ${long} AND json_type(${f}) NOT IN ('OBJECT', 'VARCHAR') ` +
      `AND regexp_full_match(${v}, '-?[0-9]{${INEXACT_INTEGER_DIGITS_MIN},}') ` +
      `THEN NOT coalesce(TRY_CAST(${v} AS HUGEINT) = ` +
      `TRY_CAST(TRY_CAST(${v} AS DOUBLE) AS HUGEINT), false) END`,
    ];
  });
  candidates.forEach((p, k) => {
    if (found[k][0]) out.set(p.name, "VARCHAR");
  });
  return out;
}

/**
 * The BIGINT paths holding an integer past BIGINT's range, in one scan, with
 * what each becomes: DECIMAL(38,0), or text when a value has more digits
 * (it was DOUBLE, which kept 17 of them).
 */
async function overflowingPaths(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  paths: readonly FlatPath[],
  slices: readonly [number, number][],
  numericText: ReadonlyMap<string, "integer" | "number">,
): Promise<Map<string, WideType>> {
  const integers = paths.filter((p) =>
    columnType(p, numericText.get(p.name), new Map()) === "BIGINT"
  );
  const out = new Map<string, WideType>();
  const found = await somePerPath(conn, roots, integers, slices, (f) => {
    const v = `trim(json_extract_string(${f}, '$'))`;
    const past = (type: string) =>
      `json_type(${f}) <> 'OBJECT' AND ${v} IS NOT NULL AND TRY_CAST(${v} AS ${type}) IS NULL`;
    return [past("BIGINT"), past("DECIMAL(38,0)")];
  });
  integers.forEach((p, k) => {
    const [pastBigint, pastDecimal] = found[k];
    if (pastDecimal) out.set(p.name, "VARCHAR");
    else if (pastBigint) out.set(p.name, "DECIMAL(38,0)");
  });
  return out;
}

/**
 * Paths checked in one statement, at most: each statement parses a row's
 * JSON once for all its paths (`json_extract` of a list), and each check
 * then reads only the path's fragment. With a parse per check instead,
 * DuckDB held every check's parsed documents at once: an export of 20 runs
 * of 2,000 config keys of mixed kinds needed more than 3 GB (a review).
 */
const CHECKED_PATHS_PER_STATEMENT_MAX = 128;

/**
 * For each of `paths` and each check `checksOf` gives (SQL of a boolean
 * about the path's JSON fragment, given as SQL text `f`), whether some row
 * of `export_rows` makes it true (NULL is not true): `[path][check]`.
 * Each root's paths {@linkcode CHECKED_PATHS_PER_STATEMENT_MAX} at a time,
 * slice of rows by slice ({@linkcode rowSlices}), so that the memory held
 * is bounded as the typed columns' is.
 */
async function somePerPath(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  paths: readonly FlatPath[],
  slices: readonly [number, number][],
  checksOf: (f: string) => string[],
): Promise<boolean[][]> {
  const checkCount = checksOf("f").length;
  const found = paths.map(() => new Array<boolean>(checkCount).fill(false));
  for (const [i, root] of roots.entries()) {
    const here = [...paths.keys()].filter((k) => paths[k].root === i);
    for (let lo = 0; lo < here.length; lo += CHECKED_PATHS_PER_STATEMENT_MAX) {
      const group = here.slice(lo, lo + CHECKED_PATHS_PER_STATEMENT_MAX);
      const list = group.map((k) => sqlText(paths[k].path)).join(", ");
      const checks = group.flatMap((_, j) =>
        checksOf(`f[${j + 1}]`).map((c) => `coalesce(bool_or(${c}), false)`)
      );
      const sql = `SELECT ${checks.join(", ")} FROM (SELECT json_extract(${root.column}, ` +
        `[${list}]) AS f FROM ${ROWS_TABLE} WHERE rn BETWEEN $1 AND $2)`;
      await runPerSlice(conn, sql, slices, (rows) => {
        const [row] = rows;
        let at = 0;
        for (const k of group) {
          for (let c = 0; c < found[k].length; c++) {
            const some = row[at++] === true; // read whatever an earlier slice found
            found[k][c] ||= some;
          }
        }
      });
    }
  }
  return found;
}

/**
 * The leaf paths of the flattened roots, grouped by root in the order of
 * `roots` (`config.*`, then `summary.*`, ... as `ledger export --help` says;
 * a contract audit found them interleaved), each root's in the order a
 * reader of the rows meets them (by the first row that has the path, then
 * by key), each with the `json_structure` types seen at it: one scan for
 * the distinct shapes of each root, not one per row.
 */
async function flatPaths(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  slices: readonly [number, number][],
): Promise<FlatPath[]> {
  // The first row of each shape, over the slices of rows: json_structure holds several times
  // its input per row for a vector of rows at once (an audit: 2,000 runs of 23 KB configs
  // ran a 512MB reader out of memory; json_extract and the rest are fine).
  const firstOf = new Map<string, { root: number; shape: string; first: number }>();
  const shapes = roots.map((r, i) =>
    `SELECT ${i} AS root, json_structure(${r.column})::VARCHAR AS shape, min(rn) AS first
      FROM ${ROWS_TABLE} WHERE ${r.column} IS NOT NULL AND rn BETWEEN $1 AND $2
      GROUP BY shape`
  );
  await runPerSlice(conn, shapes.join(" UNION ALL "), slices, (rows) => {
    for (const [root, shape, first] of rows) {
      const key = `${root}\n${shape}`;
      const seen = firstOf.get(key);
      if (seen === undefined || Number(first) < seen.first) {
        firstOf.set(key, { root: Number(root), shape: String(shape), first: Number(first) });
      }
    }
  });
  const found = [...firstOf.values()].sort((a, b) => a.root - b.root || a.first - b.first)
    .map((s) => [s.root, s.shape] as const);
  const byName = new Map<string, FlatPath>();
  for (const [root, shape] of found) {
    const i = Number(root);
    walkShape(JSON.parse(String(shape)), [], (segments, kind) => {
      // The key "a.b" is `a\.b`, the path a -> b is `a.b` (see flat_path.ts): one name, one path.
      const name = flatFieldName(roots[i].root, segments);
      // The path `runs --columns` and `--where` read: a key of digits reads an array's element
      // as well as an object's key (a sweep names a ladder's parameters `levels.0.multiple`), so
      // a run holding `"weights": [0.2, 0.8]` has `config.weights.0` = 0.2 when another run's
      // object made the column, beside its `config.weights` text (tests/indexer/
      // export_flat_test.ts).
      const path = jsonPathOf(segments);
      let p = byName.get(name);
      if (p === undefined) {
        const measure = fixedNumberType(roots[i].root, segments.at(-1)!) === "DOUBLE";
        byName.set(name, p = { name, root: i, path, kinds: new Set(), measure });
      }
      assert(p.path === path, `one flat name is one path: ${name}`);
      p.kinds.add(kind);
    });
  }
  // DuckDB compares column names ignoring case: `config.N` and `config.n` are told apart.
  const paths = [...byName.values()];
  const names = caseDistinctNames(paths.map((p) => p.name));
  return paths.map((p, k) => ({ ...p, name: names[k] }));
}

/**
 * Run `sql` (whose `$1` and `$2` bound a range of `rn`) once per slice, in
 * order; `onRows` receives each run's rows. (Not a prepared statement: run
 * again per range, a prepared INSERT reported its rows and left the table
 * empty here, unless another statement ran between the runs.)
 */
async function runPerSlice(
  conn: DuckDBConnection,
  sql: string,
  slices: readonly [number, number][],
  onRows?: (rows: DuckDBValue[][]) => void,
): Promise<void> {
  const { BIGINT } = duckdb(); // a connection is open
  for (const [lo, hi] of slices) {
    const reader = await conn.runAndReadAll(sql, [BigInt(lo), BigInt(hi)], [BIGINT, BIGINT]);
    onRows?.(reader.getRows());
  }
}

/**
 * What part of the reader's memory limit one slice of rows may hold as JSON
 * text (all roots). DuckDB's JSON functions hold each document parsed, for
 * a vector of up to 2,048 rows at once, and the typed columns parse each
 * fragment again: measured here, `json_structure` of 2,000 configs of
 * 23 KB (46 MB) ran a 512MB reader out of memory where 1,000 did not, and
 * 37 configs of 420 KB arrays (16 MB) ran a 256MB one out of memory in
 * the typed columns. Each slice costs about 10 ms a statement of 128
 * columns, so slices are no smaller than they need be.
 */
const SLICE_SHARE_OF_MEMORY = 1 / 64;
/** Rows in one DuckDB vector: what a JSON function holds parsed at once, at most. */
const DUCKDB_VECTOR_ROWS = 2048;
/** Bounds of a slice, in bytes of JSON text. */
const SLICE_BYTES_MIN = 256 * 1024;
const SLICE_BYTES_MAX = 64 * 1024 * 1024;
/** The memory limit assumed when DuckDB's setting does not read as a size. */
const MEMORY_LIMIT_FALLBACK_BYTES = 512e6;

/**
 * The slice size for the memory limit of the reader open on `conn`: the
 * limit DuckDB holds (a reader opened without `--memory-limit` has DuckDB's
 * own), which DuckDB words "488.2 MiB", read as `--memory-limit` is.
 */
async function sliceBytes(conn: DuckDBConnection): Promise<number> {
  const [[setting]] = (await conn.runAndReadAll("SELECT current_setting('memory_limit')"))
    .getRows();
  let limit: number;
  try {
    limit = memoryLimitBytes(parseMemoryLimit(String(setting), 0));
  } catch (err) {
    if (!(err instanceof InvalidMemoryLimitError)) throw err;
    limit = MEMORY_LIMIT_FALLBACK_BYTES;
  }
  return Math.min(SLICE_BYTES_MAX, Math.max(SLICE_BYTES_MIN, limit * SLICE_SHARE_OF_MEMORY));
}

/**
 * The rows of `export_rows` cut into ranges of `rn` (inclusive), in order,
 * each holding at most {@linkcode sliceBytes} bytes of the roots' JSON text
 * (a longer row alone), from one narrow query.
 */
async function rowSlices(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
): Promise<[number, number][]> {
  const bytes = roots.map((r) => `coalesce(strlen(${r.column}::VARCHAR), 0)`).join(" + ");
  const bytesMax = await sliceBytes(conn);
  const [[first, last, longest]] = (await conn.runAndReadAll(
    `SELECT min(rn), max(rn), max(${bytes}) FROM ${ROWS_TABLE}`,
  )).getRows();
  if (first === null) return [];
  // No vector of rows can hold more than the budget: one slice (each slice costs a statement).
  if (Number(longest) * DUCKDB_VECTOR_ROWS <= bytesMax) return [[Number(first), Number(last)]];
  const rows = (await conn.runAndReadAll(
    `SELECT rn, ${bytes} AS bytes FROM ${ROWS_TABLE} ORDER BY rn`,
  )).getRows();
  const slices: [number, number][] = [];
  let held = 0;
  for (const [rn, b] of rows) {
    const n = Number(b);
    if (slices.length === 0 || held + n > bytesMax) {
      slices.push([Number(rn), Number(rn)]);
      held = 0;
    }
    slices[slices.length - 1][1] = Number(rn);
    held += n;
  }
  return slices;
}

/**
 * Call `leaf` for each leaf of a `json_structure` shape: a key whose value
 * is not an object with keys (an empty object's shape is `"JSON"`, an
 * array's a list).
 */
function walkShape(
  shape: unknown,
  segments: string[],
  leaf: (segments: string[], kind: string) => void,
): void {
  if (shape === null || typeof shape !== "object" || Array.isArray(shape)) return;
  for (const [key, value] of Object.entries(shape)) {
    const here = [...segments, key];
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      if (Object.keys(value).length > 0) {
        walkShape(value, here, leaf);
        continue;
      }
    }
    leaf(here, Array.isArray(value) ? "ARRAY" : String(value));
  }
}

/**
 * The kind {@linkcode markWideIntegers} gives an integer `json_structure`
 * calls DOUBLE because it is past 64 bits (below -2^63, from 2^64).
 */
const WIDE_INTEGER = "WIDE_INTEGER";
const INTEGER_KINDS = new Set(["UBIGINT", "BIGINT", WIDE_INTEGER]);
const NUMBER_KINDS = new Set(["UBIGINT", "BIGINT", "HUGEINT", "DOUBLE", WIDE_INTEGER]);

/**
 * `json_structure` calls an integer past 64 bits DOUBLE, so such a column
 * was DOUBLE and lost its last digits (an export audit: a seed of
 * -9223372036854775809 became -9.223372036854776e+18 and every other row
 * `5.0`). A DOUBLE path whose values are all integers as written is marked
 * {@linkcode WIDE_INTEGER}: the COPY's strict cast then makes its column
 * DECIMAL(38,0) (see writeExport). Only roots whose text has a long
 * integer part ({@linkcode longRootsOnce}) are looked at path by path.
 */
async function markWideIntegers(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  paths: readonly FlatPath[],
  slices: readonly [number, number][],
  longRoots: LongRoots,
): Promise<void> {
  const doubles = paths.filter((p) =>
    p.kinds.has("DOUBLE") && [...p.kinds].every((k) => k === "NULL" || NUMBER_KINDS.has(k))
  );
  if (doubles.length === 0) return;
  const hasLong = await longRoots(WIDE_INTEGER_DIGITS_MIN);
  const candidates = doubles.filter((p) => hasLong[p.root]);
  const found = await somePerPath(conn, roots, candidates, slices, (f) => {
    const isDouble = `json_type(${f}) = 'DOUBLE'`;
    return [isDouble, `${isDouble} AND NOT regexp_full_match(trim(${f}::VARCHAR), '-?[0-9]+')`];
  });
  candidates.forEach((p, k) => {
    const [someDouble, someFraction] = found[k];
    if (!someDouble || someFraction) return;
    p.kinds.delete("DOUBLE");
    p.kinds.add(WIDE_INTEGER);
  });
}

/** The paths holding both numbers and strings. */
function mixedPaths(paths: readonly FlatPath[]): FlatPath[] {
  return paths.filter((p) =>
    p.kinds.has("VARCHAR") && [...p.kinds].some((k) => NUMBER_KINDS.has(k)) &&
    [...p.kinds].every((k) => k === "VARCHAR" || k === "NULL" || NUMBER_KINDS.has(k))
  );
}

/**
 * For the paths that hold numbers and strings, whether every string is a
 * number (`"integer"` when each is an integer, `"number"` otherwise), in
 * one scan; other paths are left out.
 */
async function numericTextPaths(
  conn: DuckDBConnection,
  roots: readonly FlatRoot[],
  paths: readonly FlatPath[],
  slices: readonly [number, number][],
): Promise<Map<string, "integer" | "number">> {
  const out = new Map<string, "integer" | "number">();
  const mixed = mixedPaths(paths);
  const found = await somePerPath(conn, roots, mixed, slices, (f) => {
    const isString = `json_type(${f}) = 'VARCHAR'`;
    const v = `json_extract_string(${f}, '$')`;
    // A number as written past a double's range ("1e400", "-1e999") is text: in a DOUBLE
    // column it was null (an export probe; `runs` and `--where` kept it as the text it is).
    const finite = `coalesce(isfinite(TRY_CAST(${v} AS DOUBLE)), false)`;
    return [
      `${isString} AND NOT (regexp_full_match(${v}, ${sqlText(NUMBER_TEXT_RE)}) AND ${finite})`,
      `${isString} AND NOT regexp_full_match(${v}, ${sqlText(INTEGER_TEXT_RE)})`,
    ];
  });
  mixed.forEach((p, k) => {
    const [someNotNumber, someNotInteger] = found[k];
    if (!someNotNumber) out.set(p.name, someNotInteger ? "number" : "integer");
  });
  return out;
}

/** The flattened columns: type from the kinds seen, value from the path's fragment. */
function flatColumns(
  paths: readonly FlatPath[],
  numericText: ReadonlyMap<string, "integer" | "number">,
  overrides: ReadonlyMap<string, WideType>,
): ExportColumn[] {
  return paths.map((p) => ({
    name: p.name,
    type: columnType(p, numericText.get(p.name), overrides),
    flat: { root: p.root, path: p.path },
  }));
}

/**
 * A column's type from the `json_structure` kinds at its path: BIGINT when
 * every number is written as an integer and the path is not a measure
 * ({@linkcode FlatPath.measure}), DOUBLE otherwise, or the type
 * `overrides` gives a column of numbers ({@linkcode WideType}); strings
 * count as numbers when each is one (`numericText`) and a number is there;
 * BOOLEAN when all are booleans; DOUBLE when there is no value; otherwise
 * VARCHAR. Nulls do not count.
 */
function columnType(
  p: FlatPath,
  numericText: "integer" | "number" | undefined,
  overrides: ReadonlyMap<string, WideType>,
): ColumnType {
  const kinds = [...p.kinds].filter((k) => k !== "NULL");
  // A column with no value is DOUBLE: a measure's (a one-call sweep's sharpe: a probe found it
  // VARCHAR, and read_parquet beside another file made that one's sharpe text) and any other
  // (a user's metric that is NaN in every run, now that the index stores NaN as null: a probe
  // found summary.alpha VARCHAR, where NaN had made it DOUBLE). Not BIGINT: read_parquet
  // without union_by_name takes the first file's type, and a BIGINT of nulls there rounded
  // another file's 1.5 to 2.
  if (kinds.length === 0) return "DOUBLE";
  const numbers = kinds.filter((k) => NUMBER_KINDS.has(k));
  if (numbers.length > 0) {
    const rest = kinds.filter((k) => !NUMBER_KINDS.has(k));
    if (rest.length === 0 || (numericText !== undefined && rest.every((k) => k === "VARCHAR"))) {
      const integers = numbers.every((k) => INTEGER_KINDS.has(k)) &&
        (rest.length === 0 || numericText === "integer");
      return overrides.get(p.name) ?? (integers && !p.measure ? "BIGINT" : "DOUBLE");
    }
  }
  if (kinds.length === 1 && kinds[0] === "BOOLEAN") return "BOOLEAN";
  return "VARCHAR";
}

/** The value of fragment `f` (a JSON value, NULL when absent) in a column of `type`. */
function valueSql(f: string, type: ColumnType): string {
  const text = `trim(${f} ->> '$')`;
  switch (type) {
    case "BIGINT":
    case "DECIMAL(38,0)":
      // Strict: a value past the type fails the COPY (see writeExport), never a silent NULL.
      // An object with keys there is spread over its own columns.
      return `CASE WHEN json_type(${f}) = 'OBJECT' THEN NULL ELSE CAST(${text} AS ${type}) END`;
    case "DOUBLE":
      return `list_filter([TRY_CAST(${text} AS DOUBLE)], lambda v: isfinite(v))[1]`;
    case "BOOLEAN":
      return `TRY_CAST(${f} ->> '$' AS BOOLEAN)`;
    case "VARCHAR":
      // Strings as their text; numbers, booleans, arrays and empty objects as JSON text; an
      // object with keys is spread over its own columns; NaN and infinities read as null, also
      // inside an array, as every other output prints it (an audit: `[1,NaN]`, which no strict
      // JSON reader takes).
      return `CASE WHEN json_type(${f}) = 'VARCHAR' THEN ${f} ->> '$'
        WHEN json_type(${f}) = 'NULL' OR ${isNonFinite(f)}
          OR (json_type(${f}) = 'OBJECT' AND ${f}::VARCHAR <> '{}') THEN NULL
        WHEN json_type(${f}) = 'ARRAY' THEN ${printedJsonTextSql(`${f}::VARCHAR`)}
        ELSE ${f}::VARCHAR END`;
  }
}

/** DuckDB's rows in a Parquet row group when the COPY names none. */
const PARQUET_ROW_GROUP_ROWS_DEFAULT = 122_880;
/**
 * Columns up to which a Parquet file keeps DuckDB's default row group: the
 * usual export (the demo's runs have 208 columns). Smaller groups compress
 * worse (a review: 3.1 MB became 16.3 MB for repetitive runs of 140
 * columns at 64).
 */
const PARQUET_DEFAULT_GROUP_COLUMNS_MAX = 256;
/**
 * Values (rows x columns) in one Parquet row group of a wider table, at
 * most. The writer holds a whole row group before it writes it out, and
 * sees an interrupt only between chunks: at DuckDB's default of 122,880
 * rows a group of 514 columns (one wide sweep among 400 others) took
 * 25-90 s to write, in which a SIGTERM went unanswered, and the export took
 * 2.5 minutes (an audit); in groups of 2,048 rows it took 20 s, in groups
 * of 15,000 35-70 s.
 */
const PARQUET_ROW_GROUP_VALUES_MAX = 1024 * 1024;
/** Rows in a Parquet row group, at least: DuckDB's vector. */
const PARQUET_ROW_GROUP_ROWS_MIN = 2048;

/**
 * Rows in one Parquet row group of a table of `columns` columns: DuckDB's
 * default up to {@linkcode PARQUET_DEFAULT_GROUP_COLUMNS_MAX} columns (the
 * file is as it always was), past it as many as make
 * {@linkcode PARQUET_ROW_GROUP_VALUES_MAX} values (2,048 at least).
 */
function parquetRowGroupRows(columns: number): number {
  if (columns <= PARQUET_DEFAULT_GROUP_COLUMNS_MAX) return PARQUET_ROW_GROUP_ROWS_DEFAULT;
  return Math.max(PARQUET_ROW_GROUP_ROWS_MIN, Math.floor(PARQUET_ROW_GROUP_VALUES_MAX / columns));
}

function copyOptions(
  format: ExportFormat,
  columns: number,
  parquet: { keepZeroSigns: boolean },
): string {
  switch (format) {
    case "parquet": {
      const rows = parquetRowGroupRows(columns);
      // DuckDB's dictionary holds 0.0 and -0.0 as one value (see mayHoldNegativeZero).
      return "FORMAT parquet" +
        (rows === PARQUET_ROW_GROUP_ROWS_DEFAULT ? "" : `, ROW_GROUP_SIZE ${rows}`) +
        (parquet.keepZeroSigns ? ", DICTIONARY_SIZE_LIMIT 0" : "");
    }
    case "csv":
      return "FORMAT csv, HEADER true";
    case "jsonl":
      return "FORMAT json";
  }
}

/** A SQL identifier, quoted (a flat name may hold any character a JSON key holds). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A SQL string constant (COPY takes no parameter for its path; JSON paths
 * are constants). A NUL, which ends DuckDB's reading of the statement, is
 * `chr(0)` joined in (a key holding one failed every export: an audit).
 */
function sqlText(text: string): string {
  return text.split("\0").map((part) => `'${part.replaceAll("'", "''")}'`).join(" || chr(0) || ");
}

/**
 * The file the export replaces: `outPath`, or the file its symbolic links
 * lead to (the finished file is renamed over it, which would otherwise turn
 * the link into a file). A link into `/proc` (`/dev/stdout`) is refused.
 */
async function exportTarget(outPath: string): Promise<string> {
  try {
    return await linkTargetOf(outPath);
  } catch (err) {
    if (!(err instanceof ProcessFileLinkError)) throw err;
    throw new ExportTargetError(outPath, `it is a link to ${err.target} (${err.what})`);
  }
}

async function checkTarget(path: string): Promise<void> {
  // The target first: the finished file is renamed over it, so a FIFO or a device would be
  // replaced. (Its folder after: Deno lets a process stat /dev only with --allow-all.)
  try {
    await assertRegularFileOrAbsent(path);
  } catch (err) {
    if (!(err instanceof NotRegularFileError)) throw err;
    throw new ExportTargetError(path, `it is ${err.kind}`);
  }
  const dir = dirname(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ExportTargetError(path, `directory ${dir} does not exist`);
    }
    throw err;
  }
  if (!info.isDirectory) throw new ExportTargetError(path, `${dir} is not a directory`);
}

/**
 * Remove `path` when it exists. Looked at first: a temporary file DuckDB
 * never made is not removed (Deno refuses even to try under /proc without
 * --allow-all, which hid DuckDB's own error).
 */
async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.lstat(path);
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
