/**
 * Internal: every SQL statement of the backtests, in one place. Values are
 * bound as parameters where DuckDB allows it; file paths in `CREATE VIEW`
 * and `COPY` cannot be parameters, so they go through {@linkcode sqlString},
 * and identifiers are only ever our own constants or checked column names.
 *
 * @module
 */

import type { FileFormat } from "./types.ts";
import { literalGlob } from "../indexer/duckdb_glob.ts";
import { assert } from "../ledger/assert.ts";

/** Quote `value` as a SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quote `name` as a SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Options for {@linkcode readFileSql}. */
export interface ReadFileSqlOptions {
  /** Read every CSV column as VARCHAR. @default {false} */
  allVarchar?: boolean;
  /**
   * CSV columns read as this type (VARCHAR, DOUBLE) whatever the sniffer
   * guesses; each must be in the file (DuckDB refuses a type for a column it
   * lacks). @default {none}
   */
  csvTypes?: ReadonlyMap<string, string>;
  /**
   * Every column of a JSON Lines file and its type (as a first read
   * described them), so that none is typed from the reader's sample: a key
   * whose rows past the sample hold another kind of value (an ISO `ts`
   * after epoch ms) failed the read there. @default {undefined} (sniffed)
   */
  jsonColumns?: ReadonlyMap<string, string>;
}

/**
 * The table function that reads `path` in `format`; CSV is read all-VARCHAR,
 * or with the `csvTypes` given, when asked; JSON Lines with `jsonColumns`.
 * The path is the file itself, never a pattern (`literalGlob`). A CSV field is quoted with `"` (a quote
 * inside doubled), as RFC 4180 and Python's `csv` write it, whatever the
 * sniffer would pick: left to guess, it read a file with one stray quote
 * (`"MT,2026-...`) as unquoted, so that row's mint became `"MT` and the
 * backtest ran without that candle, exit 0 (a probe). The delimiter is
 * still sniffed.
 */
export function readFileSql(
  path: string,
  format: FileFormat,
  options: ReadFileSqlOptions = {},
): string {
  const p = sqlString(literalGlob(path));
  const typed = [...(options.csvTypes ?? [])];
  switch (format) {
    case "csv":
      return `read_csv(${p}, header = true, ${CSV_QUOTING}${
        options.allVarchar ? ", all_varchar = true" : ""
      }${
        typed.length === 0
          ? ""
          : `, types = {${typed.map(([c, t]) => `${sqlString(c)}: ${sqlString(t)}`).join(", ")}}`
      })`;
    case "json":
      return options.jsonColumns === undefined
        ? `read_json(${p}, format = 'newline_delimited')`
        : `read_json(${p}, format = 'newline_delimited', columns = {${
          [...options.jsonColumns].map(([c, t]) => `${sqlString(c)}: ${sqlString(t)}`).join(", ")
        }})`;
    case "parquet":
      return `read_parquet(${p})`;
  }
}

/** How every CSV input is quoted (see {@linkcode readFileSql}). */
const CSV_QUOTING = `quote = '"', escape = '"'`;

/**
 * `path` read as a comma-separated file whose header names `columns`, with
 * no dialect sniffing: a row with more or fewer fields than the header fails
 * naming its line, where the sniffer gives up and reads the file as one column.
 */
export function strictCsvSql(path: string, columns: readonly string[]): string {
  const struct = columns.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(", ");
  return `SELECT count(*) AS n FROM read_csv(${sqlString(literalGlob(path))}, header = true, ` +
    `auto_detect = false, delim = ',', ${CSV_QUOTING}, columns = {${struct}})`;
}

/** Session settings: timestamps without an offset are UTC. */
export const SESSION_SQL = "SET TimeZone = 'UTC'";

/** A view `name` over the file. */
export function createViewSql(name: string, source: string): string {
  return `CREATE OR REPLACE TEMP VIEW ${name} AS SELECT * FROM ${source}`;
}

/** Column names and types of a relation. */
export function describeSql(name: string): string {
  return `DESCRIBE SELECT * FROM ${name}`;
}

/** Options for {@linkcode epochMsExpr}. */
export interface EpochMsExprOptions {
  /**
   * Take a time finer than a millisecond as the next whole one instead of
   * the one it falls in: an alert at `22:14:00.000001Z` is `22:14:00.001Z`,
   * so the candle that opened at `22:14:00.000`, before it, is not "at or
   * after" it. The rule of `--from`/`--to` (`timeFlag` in cli/backtest.ts,
   * which parses with `parseInstant`); `tests/backtest/input_times_test.ts`
   * proves the two agree. @default {false}
   */
  roundUp?: boolean;
}

/**
 * Expression turning column `col` of DuckDB type `type` into epoch
 * milliseconds: numbers are epoch ms, timestamps are converted (UTC when
 * naive), strings are either numbers (epoch ms, a fraction or an exponent
 * allowed) or ISO-8601, with the forms the `--from`/`--to` flags take
 * (indexer/query/time.ts) that DuckDB's cast does not: RFC 3339's lowercase
 * `t` and `z`, no seconds (`2026-03-08T06:30Z`), `+hh:mm` after hh:mm. Other
 * text is NULL (not a time): DuckDB would read `epoch` as 1970, and a zone
 * name (`ISO_TIME_PATTERN`). A time finer than a millisecond is the
 * millisecond it falls in, or the next one with `roundUp`.
 */
export function epochMsExpr(col: string, type: string, options: EpochMsExprOptions = {}): string {
  const c = sqlIdent(col);
  const t = type.toUpperCase();
  const up = options.roundUp === true;
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UBIGINT|UINTEGER)/.test(t)) {
    return `CAST(${c} AS BIGINT)`;
  }
  // The millisecond it falls in, or the next with `roundUp`: a plain cast rounds to the nearest.
  if (/^(DOUBLE|FLOAT|DECIMAL)/.test(t)) return `CAST(${up ? "ceil" : "floor"}(${c}) AS BIGINT)`;
  if (t.startsWith("TIMESTAMP") || t === "DATE") {
    if (!up) return `epoch_ms(CAST(${c} AS TIMESTAMPTZ))`;
    // Whole integers: a double cannot hold epoch microseconds to the unit past 2255.
    return t === "TIMESTAMP_NS"
      ? wholeUnitsUp(`epoch_ns(${c})`, 1_000_000)
      : wholeUnitsUp(`epoch_us(CAST(${c} AS TIMESTAMPTZ))`, 1_000);
  }
  const s = `trim(${textExpr(col, type)})`;
  // RFC 3339's lowercase `t` and `z` as `T` and `Z`, then `:00` seconds when there are none.
  const upper = `regexp_replace(regexp_replace(${s}, ` +
    `'^([0-9]{4}-[0-9]{2}-[0-9]{2})t', '\\1T'), '([0-9])z$', '\\1Z')`;
  const iso = `regexp_replace(${upper}, ` +
    `'^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2})([Z+-]|$)', '\\1:00\\2')`;
  // A digit other than 0 past the third of the fraction, read from the text: DuckDB's
  // TIMESTAMPTZ keeps microseconds only, and `.0000001` would be `.000` (parseInstant's rule).
  const subMs = up
    ? ` + CASE WHEN regexp_matches(${s}, '\\.[0-9]{3}[0-9]*[1-9]') THEN 1 ELSE 0 END`
    : "";
  // The text as it is first: the rewrites cost only the rows DuckDB's cast refuses.
  // Epoch ms written with a fraction (`1767225600000.0`, as pandas writes a column that holds a
  // NaN) or an exponent (`1.7672256E+12`) is read as a number column of the same text is (a
  // probe: refused in a calls CSV; a review: in a candles CSV once `ts` was read as text).
  const fraction = `TRY_CAST(${s} AS DOUBLE)`;
  // Epoch ms with a fraction: the millisecond it falls in (or the next), read from the digits
  // (a probe: a cast rounds, so a candle at `...599999.6` opened at the alert `...600000`; and
  // a double cannot hold `.0000001` past 1.7e12).
  const wholeMs = `TRY_CAST(regexp_extract(${s}, '^-?[0-9]+') AS BIGINT)`;
  const msOfFraction = up
    ? `${wholeMs} + CASE WHEN regexp_matches(${s}, '\\.[0-9]*[1-9]') THEN 1 ELSE 0 END`
    : wholeMs;
  const exponent = `TRY_CAST(${up ? `ceil(${fraction})` : `floor(${fraction})`} AS BIGINT)`;
  return `CASE WHEN regexp_full_match(${s}, '-?[0-9]+') THEN TRY_CAST(${s} AS BIGINT) ` +
    `WHEN regexp_full_match(${s}, '[0-9]+\\.[0-9]*') THEN ${msOfFraction} ` +
    `WHEN regexp_full_match(${s}, '-?[0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?') THEN ${exponent} ` +
    `WHEN regexp_full_match(${s}, '${ISO_TIME_PATTERN}') THEN epoch_ms(coalesce(` +
    `TRY_CAST(${s} AS TIMESTAMPTZ), TRY_CAST(${iso} AS TIMESTAMPTZ)))${subMs} END`;
}

/**
 * The ISO-8601 text a data file's time may be (an RE2 pattern): what
 * `--from`/`--to` take (indexer/query/time.ts), plus an offset of hours
 * alone (`+00`, as DuckDB and PostgreSQL write one) and a ` UTC` suffix (as
 * BigQuery does). Only these reach DuckDB's cast: it reads a zone name
 * (`EST`, `America/New_York`), and then read the naive times of the rows
 * after it in that zone (a probe: one `EST` row moved 13,782 later UTC rows
 * of a 600k-row file by 5 hours, exit 0); and it took an offset no clock
 * uses (`+25:00`), which `--from` refuses as a typo.
 */
const ISO_TIME_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}" +
  "([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?([Zz]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?| UTC)?)?";

/**
 * `units / perMs` rounded up, for a BIGINT count of units since 1970 (a time
 * before 1970 is refused as too early however it is rounded).
 */
function wholeUnitsUp(units: string, perMs: number): string {
  return `(${units} // ${perMs} + CASE WHEN ${units} % ${perMs} <> 0 THEN 1 ELSE 0 END)`;
}

/**
 * Expression turning column `col` of DuckDB type `type` into text; JSON
 * values (mixed types in a JSONL file) lose their quotes.
 */
export function textExpr(col: string, type: string): string {
  const c = sqlIdent(col);
  return type.toUpperCase() === "JSON" ? `json_extract_string(${c}, '$')` : `CAST(${c} AS VARCHAR)`;
}

/** Normalized calls: `call_id, caller, mint, chain, alert_ts_ms, alert_ts_raw`. */
export function callsSelectSql(source: string, types: ReadonlyMap<string, string>): string {
  const text = (col: string) => textExpr(col, types.get(col) ?? "VARCHAR");
  return `SELECT ${text("call_id")} AS call_id, ${text("caller")} AS caller,
    ${text("mint")} AS mint, ${text("chain")} AS chain,
    ${
    epochMsExpr("alert_ts", types.get("alert_ts") ?? "VARCHAR", { roundUp: true })
  } AS alert_ts_ms,
    ${text("alert_ts")} AS alert_ts_raw
  FROM ${source}`;
}

/**
 * A view of normalized candles (`mint, ts_ms, ts_raw, open, high, low, close, volume`);
 * `ts_raw` is the file's text, for naming a `ts` that does not parse.
 */
export function candlesViewSql(
  name: string,
  source: string,
  options: { types: ReadonlyMap<string, string>; interval?: string; chosen?: boolean },
): string {
  // Each mint's own interval (`candle_choice`), or one for all.
  const where = options.chosen === true
    ? `WHERE EXISTS (SELECT 1 FROM candle_choice c WHERE c.mint IS NOT DISTINCT FROM ${source}.mint
      AND c.iv = CAST(${source}."interval" AS VARCHAR))`
    : options.interval === undefined
    ? ""
    : `WHERE CAST("interval" AS VARCHAR) = ${sqlString(options.interval)}`;
  const num = (col: string) =>
    options.types.get(col)?.toUpperCase() === "JSON"
      ? `TRY_CAST(${textExpr(col, "JSON")} AS DOUBLE)`
      : `TRY_CAST(${sqlIdent(col)} AS DOUBLE)`;
  return `CREATE OR REPLACE TEMP VIEW ${name} AS SELECT ${
    textExpr("mint", options.types.get("mint") ?? "VARCHAR")
  } AS mint,
    ${epochMsExpr("ts", options.types.get("ts") ?? "VARCHAR")} AS ts_ms,
    ${textExpr("ts", options.types.get("ts") ?? "VARCHAR")} AS ts_raw,
    ${num("open")} AS open, ${num("high")} AS high, ${num("low")} AS low,
    ${num("close")} AS close, ${num("volume")} AS volume,
    ${
    PRICE_FIELDS.map((c) => `${textExpr(c, options.types.get(c) ?? "VARCHAR")} AS ${c}_raw`)
      .join(", ")
  }
  FROM ${source} ${where}`;
}

/** The price columns of a candle. */
const PRICE_FIELDS = ["open", "high", "low", "close"] as const;

/**
 * The file's text of price `field` (one of {@linkcode PRICE_FIELDS}) of the
 * candle of mint `$1` at `$2` epoch ms whose `field` did not parse.
 */
export function unparsedPriceSql(candles: string, field: string): string {
  if (!(PRICE_FIELDS as readonly string[]).includes(field)) {
    throw new TypeError(`unparsedPriceSql: ${field} is not a price field`);
  }
  return `SELECT ${field}_raw AS raw FROM ${candles}
    WHERE mint = $1 AND ts_ms = $2 AND ${field} IS NULL LIMIT 1`;
}

/** Distinct values of the `interval` column of a candle source. */
export function distinctIntervalsSql(source: string): string {
  return `SELECT DISTINCT CAST("interval" AS VARCHAR) AS iv FROM ${source} ORDER BY 1 LIMIT 10`;
}

/**
 * How many rows of `source` (a candles file with an `interval` column) have
 * an interval that is none of `known` (NULL included), and the first of them
 * as a JSON string (`null` for NULL): `n`, `first`.
 */
export function unknownIntervalsSql(source: string, known: readonly string[]): string {
  const list = known.map((k) => `'${k.replaceAll("'", "''")}'`).join(", ");
  return `SELECT count(*) AS n, min(coalesce(to_json(CAST("interval" AS VARCHAR))::VARCHAR, 'null'))
    AS first FROM ${source} WHERE "interval" IS NULL OR CAST("interval" AS VARCHAR) NOT IN (${list})`;
}

/**
 * The table `candle_choice`: for each mint of `source` (a candles file with
 * an `interval` column), the interval of its rows to use, the first of
 * `ranked` (intervals, best first) the mint has rows of; a mint with none of
 * them has no row. `mint` is the file's value, `mint_text` the text the
 * candles view gives it.
 */
export function candleChoiceSql(
  source: string,
  mintType: string,
  ranked: readonly string[],
): string {
  assert(ranked.length > 0, "candleChoiceSql: no interval to choose");
  const rank = ranked.map((iv, i) => `(${sqlString(iv)}, ${i})`).join(", ");
  return `CREATE OR REPLACE TEMP TABLE candle_choice AS
    SELECT mint, arg_min(iv, r) AS iv, any_value(mint_text) AS mint_text FROM (
      SELECT DISTINCT mint, ${textExpr("mint", mintType)} AS mint_text,
        CAST("interval" AS VARCHAR) AS iv
      FROM ${source}) c
    JOIN (VALUES ${rank}) ranked(iv, r) USING (iv)
    GROUP BY mint`;
}

/**
 * Turn the rows of `slice` of the mints whose chosen interval
 * (`candle_choice`) is not `$2` into bars of `$1` ms (as
 * {@linkcode RESAMPLE_SLICE_SQL}); the others' bars, already of it, stay as
 * they are.
 */
export const RESAMPLE_CHOSEN_SQL = `CREATE OR REPLACE TEMP TABLE slice AS
  WITH finer AS (SELECT DISTINCT mint_text FROM candle_choice
    WHERE iv <> $2::VARCHAR AND mint_text IS NOT NULL) -- a NULL in NOT IN drops every row
  SELECT mint, ts_ms, open, high, low, close, volume FROM slice
  WHERE mint NOT IN (SELECT mint_text FROM finer)
  UNION ALL
  SELECT mint, (ts_ms // $1) * $1 AS ts_ms, arg_min(open, ts_ms) AS open, max(high) AS high,
    min(low) AS low, arg_max(close, ts_ms) AS close, sum(volume) AS volume
  FROM slice WHERE mint IN (SELECT mint_text FROM finer)
  GROUP BY mint, (ts_ms // $1) * $1`;

/** Table of the mints the run needs and the earliest alert of each. */
export const CREATE_WANTED_SQL =
  "CREATE OR REPLACE TEMP TABLE wanted (mint VARCHAR PRIMARY KEY, from_ts_ms BIGINT)";

/** Per wanted mint: candle count and last candle time. */
export function coverageSql(candles: string): string {
  return `SELECT k.mint AS mint, count(*) AS n, max(k.ts_ms) AS last_ts_ms
    FROM ${candles} k JOIN wanted w ON k.mint = w.mint GROUP BY k.mint`;
}

/**
 * The sliced candles: wanted mints from their earliest alert on, and every
 * row of theirs whose `ts` did not parse (NULL) or is below `tsMsMin` (epoch
 * seconds), so that the checks of the slice refuse them: a filter on the
 * time alone dropped them without a word.
 */
export function createSliceSql(candles: string, tsMsMin: number): string {
  return `CREATE OR REPLACE TEMP TABLE slice AS
    SELECT k.mint, k.ts_ms, k.open, k.high, k.low, k.close, k.volume FROM ${candles} k
    JOIN wanted w ON k.mint = w.mint
    WHERE k.ts_ms IS NULL OR k.ts_ms < ${Math.trunc(tsMsMin)} OR k.ts_ms >= w.from_ts_ms`;
}

/** The file's text of a `ts` of mint `$1` read as `$2` epoch ms. */
export function tsRawSql(candles: string): string {
  return `SELECT ts_raw FROM ${candles} WHERE mint = $1 AND ts_ms = $2 LIMIT 1`;
}

/** The file's text of the first `ts` of mint `$1` that does not parse. */
export function unparsedTsSql(candles: string): string {
  return `SELECT ts_raw FROM ${candles} WHERE mint = $1 AND ts_ms IS NULL LIMIT 1`;
}

/**
 * Smallest positive step between consecutive candles of a mint in `slice`
 * (`step_ms`, null when no mint has two), and for each of `intervalsMs`
 * whether every candle opens on a multiple of it (`on_<ms>`).
 */
export function baseIntervalSql(intervalsMs: readonly number[]): string {
  for (const ms of intervalsMs) assert(Number.isSafeInteger(ms) && ms > 0, `interval ${ms} ms`);
  const aligned = intervalsMs.map((ms) => `, bool_and(ts_ms % ${ms} = 0) AS on_${ms}`).join("");
  return `SELECT min(d) FILTER (WHERE d > 0) AS step_ms${aligned} FROM (
  SELECT ts_ms, ts_ms - lag(ts_ms) OVER (PARTITION BY mint ORDER BY ts_ms) AS d FROM slice)`;
}

/** Rebuild `slice` in bars of `$1` ms (open first, high max, low min, close last, volume sum). */
export const RESAMPLE_SLICE_SQL = `CREATE OR REPLACE TEMP TABLE slice AS
  SELECT mint, (ts_ms // $1) * $1 AS ts_ms, arg_min(open, ts_ms) AS open, max(high) AS high,
    min(low) AS low, arg_max(close, ts_ms) AS close, sum(volume) AS volume
  FROM slice GROUP BY mint, (ts_ms // $1) * $1`;

/**
 * The first row of `slice` (by mint, then time, an unparsed time first) with
 * a value that did not parse, its first such field, and the count of such
 * rows (`n`); none when all parse.
 */
export const SLICE_BAD_ROWS_SQL = `SELECT count(*) OVER () AS n, mint, ts_ms AS ts,
    CASE WHEN ts_ms IS NULL THEN 'ts' WHEN open IS NULL THEN 'open' WHEN high IS NULL THEN 'high'
      WHEN low IS NULL THEN 'low' ELSE 'close' END AS field
  FROM slice
  WHERE ts_ms IS NULL OR open IS NULL OR high IS NULL OR low IS NULL OR close IS NULL
  ORDER BY mint, ts_ms NULLS FIRST LIMIT 1`;

/** A price of `slice` that is not a finite number above 0, in SQL (`x` is the column). */
function notPositiveSql(x: string): string {
  return `NOT (isfinite(${x}) AND ${x} > 0)`;
}

/**
 * The first row of `slice` (by mint and time) with a price that is not a
 * finite number above 0, its first such field (`open`, `high`, `low`,
 * `close`) and that field's `value`, with the count of such rows (`n`); none
 * when all are good. pandas writes a missing price as `NaN`, which parses as
 * a number and would turn every metric it reaches into NaN or null without an
 * error; a missing bar filled with zeros turned a trade into -10000 bps (a
 * probe). DuckDB orders NaN above every number, so `> 0` alone would take it.
 */
export const SLICE_NOT_POSITIVE_SQL = `SELECT count(*) OVER () AS n, mint, ts_ms AS ts,
    CASE WHEN ${notPositiveSql("open")} THEN 'open' WHEN ${notPositiveSql("high")} THEN 'high'
      WHEN ${notPositiveSql("low")} THEN 'low' ELSE 'close' END AS field,
    CASE WHEN ${notPositiveSql("open")} THEN open WHEN ${notPositiveSql("high")} THEN high
      WHEN ${notPositiveSql("low")} THEN low ELSE close END AS value
  FROM slice
  WHERE ${["open", "high", "low", "close"].map(notPositiveSql).join(" OR ")}
  ORDER BY mint, ts_ms LIMIT 1`;

/** The first row of `slice` (by mint and time) whose high is below its low, with their count `n`. */
export const SLICE_INVERTED_SQL = `SELECT count(*) OVER () AS n, mint, ts_ms AS ts, high, low
  FROM slice WHERE high < low ORDER BY mint, ts_ms LIMIT 1`;

/**
 * The first row of `slice` (by mint and time) whose open or close lies
 * outside `[low, high]` beyond a relative `$1` (rounding), with their count
 * `n`. The replay takes such a row as it is: a stop filled at an open below
 * the candle's own low, a close above a high no target saw (a metrics audit).
 */
export const SLICE_OUTSIDE_RANGE_SQL = `SELECT count(*) OVER () AS n, mint, ts_ms AS ts,
    open, high, low, close
  FROM slice WHERE greatest(open, close) > high * (1 + $1) OR least(open, close) < low * (1 - $1)
  ORDER BY mint, ts_ms LIMIT 1`;

/** The first duplicate (mint, ts) of `slice`, its row count, and the count `n` of such pairs. */
export const SLICE_DUPLICATES_SQL = `SELECT count(*) OVER () AS n, mint, ts_ms AS ts, rows FROM (
  SELECT mint, ts_ms, count(*) AS rows FROM slice GROUP BY mint, ts_ms HAVING count(*) > 1)
  ORDER BY mint, ts_ms LIMIT 1`;

/** The slice, in load order. */
export const SLICE_READ_SQL = `SELECT CAST(ts_ms AS DOUBLE) AS ts_ms, open, high, low, close,
  coalesce(volume, 0) AS volume FROM slice ORDER BY mint, ts_ms`;

/** Mints of the slice with their candle counts, in load order. */
export const SLICE_MINTS_SQL = "SELECT mint, count(*) AS n FROM slice GROUP BY mint ORDER BY mint";

/** A temporary table with `columns`. */
export function createTempTableSql(
  table: string,
  columns: readonly { name: string; type: string }[],
): string {
  const cols = columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(", ");
  return `CREATE OR REPLACE TEMP TABLE ${table} (${cols})`;
}

/** Drop a table if it exists. */
export function dropTableSql(table: string): string {
  return `DROP TABLE IF EXISTS ${table}`;
}

/**
 * Write a table to a Parquet file (zstd). `keepZeroSigns` turns DuckDB's
 * dictionary encoding off: its dictionary holds 0.0 and -0.0 as one value,
 * so every zero of a column chunk took the sign of the first one written
 * (a probe: a sweep's exact zeros read back as -0.0). Dictionaries make the
 * files smaller, so only a table holding a negative zero goes without.
 */
export function copyToParquetSql(table: string, path: string, keepZeroSigns = false): string {
  const dictionary = keepZeroSigns ? ", DICTIONARY_SIZE_LIMIT 0" : "";
  return `COPY ${table} TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd${dictionary})`;
}
