/**
 * Loading calls and candles with DuckDB.
 *
 * - Calls: CSV, JSONL or Parquet with `call_id, caller, mint, chain, alert_ts`.
 * - Candles: CSV, JSONL or Parquet with `mint, ts, open, high, low, close, volume`
 *   (`ts` is the bar's open time), optionally an `interval` column. `mint`
 *   and `interval` are text, as the calls' columns are (a CSV mint `F` is not
 *   `false`, `42` not a number), and so is the `ts` of a CSV or JSON Lines
 *   file (each row's time read from its own text), whose prices and volume
 *   are read as DOUBLE whatever the reader's sample held (whole prices there
 *   made a later 1.5 a 2). Prices must be finite numbers above 0 (`NaN`, infinite, 0 or
 *   negative is refused: a missing bar filled with zeros is not a price),
 *   the high at or above the low, the open and close within them, one bar
 *   per (mint, ts).
 * - Timestamps are ISO-8601 (UTC when no offset is given; an offset is `Z`,
 *   `±hh:mm`, `±hhmm` or `±hh` up to 14 hours, or ` UTC`; a zone name such
 *   as `EST` is refused) or epoch milliseconds (numbers, or strings of
 *   digits, a fraction allowed: `1767225600000.0`), from 1973-03-03 (below,
 *   likely epoch seconds) to 9999-12-31 (past it, likely micro- or
 *   nanoseconds): outside, refused. A time finer than a millisecond is the
 *   millisecond it falls in, and an alert the next whole one (a candle 1 µs
 *   before it is not "at or after" it).
 * - The candles' interval, without an `interval` column, is the longest of
 *   1m, 5m, 15m and 1h that every candle opens on, up to the shortest step
 *   between two candles of a mint (1m candles with minutes missing are 1m
 *   candles), else that step. With one candle a mint no step tells it: one
 *   that does not open on the `--interval` asked is resampled to it.
 * - With an `interval` column and `--interval`, each mint's rows are its
 *   rows of that interval, else of its coarsest finer one (which is then
 *   resampled): a mint of 1m rows beside a mint of 5m rows has candles too
 *   (`resampled_from` lists the intervals resampled, `1m,5m`). A row whose
 *   interval is none of `1m`, `5m`, `15m`, `1h` (empty, `1min`) is refused.
 * - A JSON Lines file that starts with a byte order mark is read from a
 *   copy without it (DuckDB's JSON reader refuses one), removed when the
 *   session closes; a refused row of calls is named by its line.
 * - A file that lacks a needed column fails with {@linkcode MissingColumnsError}
 *   naming the file and the columns; unparseable values fail with
 *   {@linkcode InputError} naming the file, the column and an example.
 *
 * The steps match the workflow phases: {@linkcode loadCalls} (plan),
 * {@linkcode openCandles} (plan), {@linkcode coverCalls} (coverage),
 * {@linkcode sliceCandles} (slice), {@linkcode readSlice} (load).
 *
 * @module
 */
import { countOf } from "../ledger/count_text.ts";
import {
  duckdb,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBVector,
} from "../indexer/duckdb.ts";
import { InputError, MissingColumnsError } from "./errors.ts";
import { messageValue } from "../ledger/control_text.ts";
import { parseJsonText } from "../ledger/json_text.ts";
import { TOUCH_SLACK } from "./_touch.ts";
import { TIMESTAMP_MS_MAX } from "../ledger/limits.ts";
import { assert } from "../ledger/assert.ts";
import {
  baseIntervalSql,
  callsSelectSql,
  candleChoiceSql,
  candlesViewSql,
  coverageSql,
  CREATE_WANTED_SQL,
  createSliceSql,
  createViewSql,
  describeSql,
  distinctIntervalsSql,
  readFileSql,
  RESAMPLE_CHOSEN_SQL,
  RESAMPLE_SLICE_SQL,
  SESSION_SQL,
  SLICE_BAD_ROWS_SQL,
  SLICE_DUPLICATES_SQL,
  SLICE_INVERTED_SQL,
  SLICE_MINTS_SQL,
  SLICE_NOT_POSITIVE_SQL,
  SLICE_OUTSIDE_RANGE_SQL,
  SLICE_READ_SQL,
  strictCsvSql,
  tsRawSql,
  unknownIntervalsSql,
  unparsedPriceSql,
  unparsedTsSql,
} from "./_sql.ts";
import type { Call, CandleSeries, FileFormat } from "./types.ts";

/**
 * Columns a calls file must have.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CALL_COLUMNS } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // The sample calls file has exactly these columns, in this order (candles as CSV: quicker).
 *   const options = { calls: 2, mints: 1, spanDays: 1, candlesFile: "candles.csv" };
 *   const { callsPath } = await writeSampleData(dir, options);
 *   const header = (await Deno.readTextFile(callsPath)).split("\n")[0];
 *   assert.deepEqual(header.split(","), [...CALL_COLUMNS]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const CALL_COLUMNS = ["call_id", "caller", "mint", "chain", "alert_ts"] as const;
/**
 * Columns a candles file must have.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CANDLE_COLUMNS } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Sample candles written as CSV have exactly these columns (`ts` in epoch ms).
 *   const options = { calls: 2, mints: 1, spanDays: 1, candlesFile: "candles.csv" };
 *   const { candlesPath } = await writeSampleData(dir, options);
 *   const header = (await Deno.readTextFile(candlesPath)).split("\n")[0];
 *   assert.deepEqual(header.split(","), [...CANDLE_COLUMNS]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const CANDLE_COLUMNS = ["mint", "ts", "open", "high", "low", "close", "volume"] as const;
/**
 * Candle intervals `--interval` accepts, with their length in ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { INTERVAL_MS } from "./data.ts";
 * assert.deepEqual(Object.keys(INTERVAL_MS), ["1m", "5m", "15m", "1h"]);
 * assert.equal(INTERVAL_MS["15m"], 15 * 60 * 1000); // ms
 * // The open time of the 5m bar that holds 10:07:30 UTC is 10:05.
 * const tsMs = Date.UTC(2026, 0, 5, 10, 7, 30);
 * const barMs = tsMs - (tsMs % INTERVAL_MS["5m"]);
 * assert.equal(new Date(barMs).toISOString(), "2026-01-05T10:05:00.000Z");
 * ```
 */
export const INTERVAL_MS = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
} as const;
/**
 * A candle interval name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type Interval, INTERVAL_MS, isInterval } from "./data.ts";
 * const flag: string = "15m"; // the text given to --interval
 * assert(isInterval(flag)); // narrows `flag` to Interval
 * const interval: Interval = flag;
 * assert.equal(INTERVAL_MS[interval] / 60_000, 15); // minutes
 * assert(!isInterval("2m")); // not an Interval: refused
 * ```
 */
export type Interval = keyof typeof INTERVAL_MS;
/**
 * Epoch-ms values below this are taken for epoch seconds and rejected
 * (1973-03-03), in a data file as in `--from`/`--to`.
 */
export const EPOCH_MS_MIN = 100_000_000_000;

/**
 * Why a time of `column` before {@linkcode EPOCH_MS_MIN} is refused, from
 * its text in the file: digits are likely epoch seconds; a date is just
 * earlier than the loader reads (an audit: `1972-06-01T00:00:00Z` was called
 * epoch seconds, with a number the file does not hold).
 */
function tooEarly(column: string, text: string, where = ""): string {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d*)?$/.test(trimmed)) {
    return `${column} ${trimmed}${where}, which looks like epoch seconds; ` +
      "epoch milliseconds are expected";
  }
  return `${column} ${JSON.stringify(trimmed)}${where}, which is before ${
    new Date(EPOCH_MS_MIN).toISOString()
  }, the earliest time read (smaller epoch milliseconds are taken for epoch seconds)`;
}

/**
 * Why a time of `column` past {@linkcode TIMESTAMP_MS_MAX} (the ledger's own
 * last time, 9999-12-31) is refused: read as ms, epoch microseconds or
 * nanoseconds (as pandas and Arrow write int64 times) land in year 58,000 or
 * later, where every candle is "at or after" every alert (an audit: such a
 * run completed, anchored 30 minutes before its alert).
 */
function tooLate(column: string, text: string, where = ""): string {
  return `${column} ${text.trim()}${where}, which as epoch milliseconds is past ${
    new Date(TIMESTAMP_MS_MAX).toISOString()
  } (epoch microseconds or nanoseconds?); epoch milliseconds are expected`;
}

/**
 * Why a time read as `ms` (its text in the file `text`) is refused, or
 * undefined when it lies between {@linkcode EPOCH_MS_MIN} and
 * {@linkcode TIMESTAMP_MS_MAX}: {@linkcode tooEarly} or {@linkcode tooLate}.
 */
function outOfRange(column: string, ms: number, text: string, where = ""): string | undefined {
  if (ms < EPOCH_MS_MIN) return tooEarly(column, text, where);
  if (ms > TIMESTAMP_MS_MAX) return tooLate(column, text, where);
  return undefined;
}

/** The file's text of mint `mint`'s candle time read as `ms`, or the number when none is found. */
async function candleTsText(conn: DuckDBConnection, mint: string, ms: number): Promise<string> {
  const rows = (await conn.runAndReadAll(tsRawSql("candles"), [mint, ms])).getRowObjectsJS();
  const raw = rows[0]?.ts_raw;
  return raw === null || raw === undefined ? String(ms) : String(raw);
}

/**
 * Whether `value` is a supported interval name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isInterval } from "./data.ts";
 * assert(isInterval("5m"));
 * assert(!isInterval("2m"));
 * ```
 */
export function isInterval(value: string): value is Interval {
  return Object.hasOwn(INTERVAL_MS, value);
}

/**
 * Name of an interval of `ms` milliseconds (`1m`, `1h`, or `90000ms`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { intervalName } from "./data.ts";
 * assert.equal(intervalName(300_000), "5m");
 * ```
 */
export function intervalName(ms: number): string {
  for (const [name, len] of Object.entries(INTERVAL_MS)) if (len === ms) return name;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms}ms`;
}

/**
 * The format of a data file, from its extension (`.csv`, `.jsonl`/`.ndjson`/`.json`,
 * `.parquet`). `what` names the file in the error (`Calls`, `Candles`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fileFormat } from "./data.ts";
 * assert.equal(fileFormat("x/calls.JSONL", "Calls"), "json");
 * ```
 */
export function fileFormat(path: string, what: string): FileFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return "json";
  if (lower.endsWith(".parquet")) return "parquet";
  throw new InputError(
    `${what} file ${path} has an unknown format; use .csv, .jsonl or .parquet`,
  );
}

/** An in-memory DuckDB for one run; close it when done. */
export interface DataSession {
  /** The connection. */
  conn: DuckDBConnection;
  /** Close the connection and the instance. */
  close(): void;
}

/** Options of {@linkcode openDataSession}. */
export interface DataSessionOptions {
  /**
   * A path the session may write a scratch file to (a JSON Lines input's
   * copy without its byte order mark), given a name for it: a run gives one
   * in its run directory, which its interrupt handler clears (a review: in
   * the system's temporary folder, the copy was left behind by SIGINT, and
   * `deno task backtest`, allowed to write under `data/` only, could not
   * make it). @default {a file of `Deno.makeTempFile`}
   */
  scratchPath?: (name: string) => Promise<string>;
  /**
   * Files to read in place of the inputs the caller names by their paths:
   * hard links to the files a run hashed (`RunContext.pinInputs` of
   * `workflow.ts`), so that what is read is what was hashed whatever is
   * renamed over the path meanwhile. Messages name the path; the session
   * removes the links when it closes. @default {none}
   */
  readPaths?: ReadonlyMap<string, string>;
}

/**
 * Open an in-memory DuckDB session with UTC as the time zone.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openDataSession } from "./data.ts";
 * const s = await openDataSession();
 * try {
 *   const rows = (await s.conn.runAndReadAll("SELECT 1 + 1 AS two")).getRowObjectsJS();
 *   assert.equal(rows[0].two, 2);
 * } finally {
 *   s.close();
 * }
 * ```
 */
export async function openDataSession(options: DataSessionOptions = {}): Promise<DataSession> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run(SESSION_SQL);
  const readPaths = options.readPaths ?? new Map<string, string>();
  const copies: string[] = [];
  for (const [path, link] of readPaths) {
    copies.push(link);
    copiedFrom.set(link, path);
  }
  bomFreeCopies.set(conn, { copies, scratchPath: options.scratchPath, readPaths });
  return {
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
      for (const copy of copies.splice(0)) {
        copiedFrom.delete(copy);
        removeCopy(copy);
      }
    },
  };
}

/**
 * The copies without their byte order mark of the JSON Lines inputs a
 * session reads, by its connection: DuckDB's JSON reader refuses a BOM
 * ("byte order mark (BOM) is not supported"), which Windows tools write and
 * the CSV reader skips (a probe: the same calls as CSV ran, as JSONL failed
 * naming line 2 of a one-line file). Removed when the session closes.
 */
const bomFreeCopies = new WeakMap<
  DuckDBConnection,
  {
    copies: string[];
    scratchPath?: (name: string) => Promise<string>;
    readPaths: ReadonlyMap<string, string>;
  }
>();
/** The input each copy (or link: `readPaths`) was made from, to name it in messages in its place. */
const copiedFrom = new Map<string, string>();

/** Remove a copy made by {@linkcode readableJsonPath}, gone already or not. */
function removeCopy(copy: string): void {
  try {
    Deno.removeSync(copy);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** The UTF-8 byte order mark. */
const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * The path DuckDB reads for the JSON Lines input `path`, read from `source`
 * (itself, or the session's link to it): `source`, or a copy without its
 * byte order mark (same lines, same line numbers) that lives as long as the
 * session of `conn` ({@linkcode bomFreeCopies}).
 */
async function readableJsonPath(
  conn: DuckDBConnection,
  source: string,
  path: string,
  what: string,
) {
  const head = new Uint8Array(BOM.length);
  {
    using file = await Deno.open(source);
    const n = (await file.read(head)) ?? 0;
    if (n < BOM.length || !BOM.every((b, i) => head[i] === b)) return source;
  }
  const session = bomFreeCopies.get(conn);
  if (session === undefined) {
    throw new InputError(
      `${what} file ${messageValue(path)} starts with a byte order mark, which DuckDB's JSON ` +
        "reader refuses: read it in a session of openDataSession, or save it without one",
    );
  }
  const name = `${what.toLowerCase()}-without-bom.jsonl`;
  const copy = session.scratchPath === undefined
    ? await Deno.makeTempFile({ prefix: "ledger_input_", suffix: ".jsonl" })
    : await session.scratchPath(name);
  session.copies.push(copy);
  copiedFrom.set(copy, path);
  const from = await Deno.open(source);
  let target: Deno.FsFile;
  try {
    await from.seek(BOM.length, Deno.SeekMode.Start);
    target = await Deno.open(copy, { write: true, create: true, truncate: true });
  } catch (err) {
    from.close();
    throw err;
  }
  await from.readable.pipeTo(target.writable); // closes both
  return copy;
}

async function requireFile(path: string, what: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new InputError(`${what} file ${path} is not a file`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(`${what} file ${path} does not exist`);
    }
    throw err;
  }
}

/** Create view `name` over `path` and return its column types by name. */
async function openSource(
  conn: DuckDBConnection,
  path: string,
  options: {
    what: string;
    name: string;
    allVarchar: boolean;
    /**
     * Columns read as this type (VARCHAR, DOUBLE) in a CSV or JSON Lines
     * file, not typed from the reader's sample (`F` is not `false`; whole
     * prices in the sample made a later 1.5 a 2).
     */
    columnTypes?: Readonly<Record<string, "VARCHAR" | "DOUBLE">>;
    required: readonly string[];
  },
): Promise<Map<string, string>> {
  await requireFile(path, options.what);
  const format = fileFormat(path, options.what);
  // The run's link to the file it hashed, when it made one (DataSessionOptions.readPaths).
  const readFrom = bomFreeCopies.get(conn)?.readPaths.get(path) ?? path;
  const readPath = format === "json"
    ? await readableJsonPath(conn, readFrom, path, options.what)
    : readFrom;
  let types = new Map<string, string>();
  try {
    const describe = async (
      csvTypes?: ReadonlyMap<string, string>,
      jsonColumns?: ReadonlyMap<string, string>,
    ) => {
      const source = readFileSql(readPath, format, {
        allVarchar: options.allVarchar,
        csvTypes,
        jsonColumns,
      });
      await conn.run(createViewSql(options.name, source));
      const described = await conn.runAndReadAll(describeSql(options.name));
      return new Map(
        described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]),
      );
    };
    types = await describe();
    // The sniffer read a mint `F` as false and `42` as 42 (then "42.0"), which matched no call
    // (a probe), typed `ts` and prices from its sample (ISO times past it failed, a 1.5 past
    // whole prices read 2): read again with those columns typed, named only when the file has
    // them. JSON Lines: every column given to the reader (all text for calls), the others with
    // their sniffed types.
    const wanted = (c: string) =>
      options.allVarchar && format === "json"
        ? "VARCHAR"
        : Object.hasOwn(options.columnTypes ?? {}, c)
        ? options.columnTypes![c]
        : undefined;
    const retyped = [...types].filter(([c, t]) => wanted(c) !== undefined && wanted(c) !== t);
    if (format === "csv" && retyped.length > 0) {
      types = await describe(new Map(retyped.map(([c]) => [c, wanted(c)!])));
    }
    if (format === "json" && retyped.length > 0) {
      types = await describe(undefined, new Map([...types].map(([c, t]) => [c, wanted(c) ?? t])));
    }
  } catch (err) {
    // A dialect the sniffer cannot settle (a stray quote in its sample): the strict read
    // names the line.
    if (format === "csv" && isDialectError(err)) await checkCsvRows(conn, path, options);
    throw await readError(err, { what: options.what, path });
  }
  const missing = options.required.filter((c) => !types.has(c));
  if (missing.length > 0) {
    if (format === "csv") await checkCsvRows(conn, path, options);
    // DuckDB reads a one-line array as one row of a `json` column: "missing columns" of a
    // file that holds every one (a probe).
    if (format === "json") {
      if (await isJsonArray(path)) throw jsonArrayError(options.what, path);
      const bad = await firstNonObjectLine(path);
      if (bad !== undefined) {
        throw new InputError(
          `${options.what} file ${messageValue(path)} line ${bad.line} ${bad.problem}: ${bad.text}`,
        );
      }
    }
    const empty = (await Deno.stat(path)).size === 0;
    throw new MissingColumnsError(options.what, path, missing, { empty });
  }
  return types;
}

/** Whether `err` is DuckDB's sniffer giving up on a CSV file's dialect. */
function isDialectError(err: unknown): boolean {
  return err instanceof Error && /not possible to automatically detect the CSV/.test(err.message);
}

/** The error of a `.json` input that holds an array, not one object per line. */
function jsonArrayError(what: string, path: string, cause?: unknown): InputError {
  return new InputError(
    `${what} file ${messageValue(path)} is a JSON array: the .json, .jsonl and .ndjson ` +
      "formats hold one object per line (JSON Lines)",
    { cause },
  );
}

/** Bytes of a JSON file's start read to tell an array from JSON Lines. */
const JSON_START_BYTES_MAX = 4096;

/** Whether the file `path` starts (after white space and a byte order mark) with `[`. */
async function isJsonArray(path: string): Promise<boolean> {
  return (await readTextStart(path, JSON_START_BYTES_MAX)).trimStart().startsWith("[");
}

/** The text of the first `maxBytes` (one read) of the file `path`, without a byte order mark. */
async function readTextStart(path: string, maxBytes: number): Promise<string> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(maxBytes);
  const n = (await file.read(buffer)) ?? 0;
  return new TextDecoder().decode(buffer.subarray(0, n)).replace(/^\uFEFF/, "");
}

/** Bytes of a CSV file's start read to find its header line. */
const CSV_HEADER_BYTES_MAX = 64 * 1024;

/**
 * When the header of the CSV file `path` names every required column but the
 * sniffer found none, a row with more or fewer fields than the header threw
 * it off: throw an {@linkcode InputError} naming that line. Returns when the
 * header itself lacks columns (the caller's missing-columns error is right).
 */
async function checkCsvRows(
  conn: DuckDBConnection,
  path: string,
  options: { what: string; required: readonly string[] },
): Promise<void> {
  const text = await readTextStart(path, CSV_HEADER_BYTES_MAX);
  const header = text.split(/\r?\n/, 1)[0].split(",").map((c) =>
    c.trim().replace(/^"(.*)"$/, "$1")
  );
  if (!options.required.every((c) => header.includes(c)) || new Set(header).size < header.length) {
    return;
  }
  try {
    await conn.run(strictCsvSql(path, header));
  } catch (err) {
    throw await readError(err, { what: options.what, path });
  }
}

/** Characters of a JSONL line that is not JSON shown in a message. */
const JSONL_LINE_SHOWN_MAX = 80;

/**
 * An {@linkcode InputError} for `err`, an error of DuckDB reading the file
 * `path`: for a bad row, the line and what is wrong with it (a row of the
 * wrong width, a value that does not convert to the column's type, a JSONL
 * line that is not JSON); otherwise DuckDB's first line. DuckDB reads a big
 * file's rows only when a query scans them, after the sample that typed its
 * columns, so every query that scans the file goes through here.
 */
async function readError(
  err: unknown,
  where: { what: string; path: string },
): Promise<InputError> {
  // The path named as the message shows it (quoted and escaped when it holds a control
  // character), also inside DuckDB's words: a newline in it cut the message there (a review).
  const named = messageValue(where.path);
  let message = (err instanceof Error ? err.message : String(err)).replaceAll(where.path, named);
  for (const [copy, input] of copiedFrom) {
    if (input === where.path) message = message.replaceAll(copy, named);
  }
  const prefix = `${where.what} file ${named}`;
  const csvLine = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  if (csvLine !== undefined) {
    const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
    if (counts !== null) {
      return new InputError(
        `${prefix} line ${csvLine} has ${counts[2]} fields, the header ${counts[1]}`,
        { cause: err },
      );
    }
    if (/unterminated quote/.test(message)) {
      return new InputError(
        `${prefix} line ${csvLine} has an unterminated quote (a quote in a field is doubled: "")`,
        { cause: err },
      );
    }
    const convert = /converting column "([^"]*)"\. Could not convert string "(.*)" to '(\w+)'/
      .exec(message);
    if (convert !== null) {
      const kind = /DOUBLE|FLOAT|DECIMAL|INT/.test(convert[3]) ? "a number" : convert[3];
      return new InputError(
        `${prefix} line ${csvLine}: ${convert[1]} ${JSON.stringify(convert[2])} is not ${kind}`,
        { cause: err },
      );
    }
  }
  if (/CSV Parser state machine reached an invalid state|Error when sniffing file/.test(message)) {
    // DuckDB reads one line ending throughout: a file that mixes CRLF and LF (lines appended
    // on another system) fails its sniffer or parser without naming a line (a probe).
    const mixed = await mixedLineEndings(where.path);
    if (mixed !== undefined) {
      const [first, second] = mixed.crlf < mixed.lf
        ? [`line ${mixed.crlf} ends with CRLF`, `line ${mixed.lf} with LF alone`]
        : [`line ${mixed.lf} ends with LF alone`, `line ${mixed.crlf} with CRLF`];
      return new InputError(
        `${prefix} mixes line endings: ${first}, ${second} (write every line with one of them)`,
        { cause: err },
      );
    }
  }
  if (/Malformed JSON/.test(message)) {
    // An array written over several lines: its first line, `[`, is not JSON on its own.
    if (await isJsonArray(where.path)) return jsonArrayError(where.what, where.path, err);
    // DuckDB's line number of a malformed JSON line is one past it (DuckDB 1.5): find it here.
    const bad = await firstNonObjectLine(where.path);
    if (bad !== undefined) {
      return new InputError(`${prefix} line ${bad.line} ${bad.problem}: ${bad.text}`, {
        cause: err,
      });
    }
  }
  return new InputError(`${prefix} cannot be read: ${message.split("\n")[0]}`, { cause: err });
}

/** A line of a JSONL input that is not an object, as {@linkcode firstNonObjectLine} finds it. */
interface NonObjectLine {
  /** 1-based. */
  line: number;
  /** What is wrong with it: `is not JSON` or `is not a JSON object`. */
  problem: string;
  /** The line, quoted, cut at {@linkcode JSONL_LINE_SHOWN_MAX} characters. */
  text: string;
}

/**
 * The first non-blank line of the JSONL file `path` that `parseJsonText`
 * (which reads what DuckDB's reader reads) refuses or that is not an object.
 * DuckDB reads a file with an array or a number on a line as one `json`
 * column: "missing columns" of a file that has them all (a probe).
 */
async function firstNonObjectLine(path: string): Promise<NonObjectLine | undefined> {
  const file = await Deno.open(path);
  let rest = "";
  let line = 0;
  const check = (text: string): NonObjectLine | undefined => {
    line++;
    if (text.trim() === "") return undefined;
    let problem: string | undefined;
    try {
      // DuckDB reads NaN, Infinity and trailing commas (Python writes NaN): so does this.
      const value: unknown = parseJsonText(text);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problem = "is not a JSON object";
      }
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      problem = "is not JSON";
    }
    if (problem === undefined) return undefined;
    const shown = text.length > JSONL_LINE_SHOWN_MAX
      ? `${text.slice(0, JSONL_LINE_SHOWN_MAX)}...`
      : text;
    return { line, problem, text: JSON.stringify(shown) };
  };
  // Leaving the loop early cancels the stream, which closes the file.
  for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let start = 0;
    for (let end = rest.indexOf("\n"); end !== -1; end = rest.indexOf("\n", start)) {
      const bad = check(rest.slice(start, end));
      if (bad !== undefined) return bad;
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  return check(rest);
}

/**
 * Where data row `row` (1-based, in file order) of the input `path`, which
 * the reader read as `rows` rows, is, as a message names it: `line N` of a
 * CSV file (after its header; a quoted field may hold line breaks) or a
 * JSON Lines file (blank lines, which the reader skips, counted), `row N`
 * of a Parquet file. A probe found one file named "line 3" for a short row
 * and "row 2" for a bad time in the same place; an editor jumps to a line.
 * Read only when a row is refused, the whole file: when its records do not
 * number `rows` (a stray quote inside a field, a title line above the
 * header, which the reader takes and this count does not), the count is
 * not the reader's and `row N` is said (a review).
 */
async function placeOfRow(
  path: string,
  format: FileFormat,
  row: number,
  rows: number,
): Promise<string> {
  if (format === "parquet") return `row ${row}`;
  const csv = format === "csv";
  const offset = csv ? 0 : -1; // records counted from 0: a CSV file's header is record 0
  let line = 1;
  let startLine = 1;
  let record = -1;
  let blank = true;
  let quoted = false;
  let found: number | undefined;
  const endRecord = () => {
    record++;
    if (record === row + offset) found = startLine;
  };
  using file = await Deno.open(path);
  const buffer = new Uint8Array(PLACE_SCAN_CHUNK_BYTES);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    for (let i = 0; i < n; i++) {
      const b = buffer[i];
      if (csv && b === 0x22) quoted = !quoted;
      if (b === 0x0a) {
        line++;
        if (quoted) continue;
        if (!blank) endRecord();
        blank = true;
      } else if (blank && b !== 0x20 && b !== 0x09 && b !== 0x0d) {
        blank = false;
        startLine = line;
      }
    }
  }
  if (!blank) endRecord();
  const counted = record - offset; // data rows: records but a CSV file's header
  return found !== undefined && counted === rows && !quoted ? `line ${found}` : `row ${row}`;
}

/** Bytes read at a time by {@linkcode placeOfRow}. */
const PLACE_SCAN_CHUNK_BYTES = 1024 * 1024;

/** The first line of a file ending in CRLF and the first ending in LF alone, 1-based. */
interface MixedLineEndings {
  crlf: number;
  lf: number;
}

/**
 * The first line of the CSV file `path` that ends in CRLF and the first
 * that ends in LF alone, when it has both; `undefined` when its lines end
 * one way. A line break inside a quoted field is the field's, not a line
 * ending. Reads until both are found, at most the whole file.
 */
async function mixedLineEndings(path: string): Promise<MixedLineEndings | undefined> {
  let line = 1;
  let quoted = false;
  let previous = -1;
  let crlf: number | undefined;
  let lf: number | undefined;
  using file = await Deno.open(path);
  const buffer = new Uint8Array(PLACE_SCAN_CHUNK_BYTES);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    for (let i = 0; i < n; i++) {
      const b = buffer[i];
      if (b === 0x22) quoted = !quoted;
      if (b === 0x0a) {
        if (!quoted) {
          if (previous === 0x0d) crlf ??= line;
          else lf ??= line;
          if (crlf !== undefined && lf !== undefined) return { crlf, lf };
        }
        line++;
      }
      previous = b;
    }
  }
  return undefined;
}

/** Options for {@linkcode loadCalls}. */
export interface LoadCallsOptions {
  /** Keep calls alerted at or after this time, epoch ms. @default {undefined} */
  fromMs?: number;
  /** Keep calls alerted before this time, epoch ms. @default {undefined} */
  toMs?: number;
}

/**
 * Load the calls file `path`, check its columns and values, and keep the
 * calls in `[fromMs, toMs)`. Returns the calls (sorted by alert time, then
 * call id) and the number of rows in the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { loadCalls, openDataSession } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const data = await writeSampleData(dir, { calls: 5, mints: 2, spanDays: 1 });
 *   const { calls, rowsIn } = await loadCalls(s.conn, data.callsPath);
 *   assert.equal(rowsIn, 5);
 *   assert(calls.every((c, i) => i === 0 || calls[i - 1].alertTsMs <= c.alertTsMs));
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function loadCalls(
  conn: DuckDBConnection,
  path: string,
  options: LoadCallsOptions = {},
): Promise<{ calls: Call[]; rowsIn: number }> {
  const types = await openSource(conn, path, {
    what: "Calls",
    name: "calls_src",
    allVarchar: true,
    required: CALL_COLUMNS,
  });
  let rows: Record<string, unknown>[];
  try {
    const reader = await conn.runAndReadAll(callsSelectSql("calls_src", types));
    rows = reader.getRowObjectsJS();
  } catch (err) {
    throw await readError(err, { what: "Calls", path });
  }
  const calls: Call[] = [];
  /** Row (1-based) of each call_id read. */
  const seen = new Map<string, number>();
  const format = fileFormat(path, "Calls");
  for (let i = 0; i < rows.length; i++) {
    const call = toCall(rows[i]);
    if (typeof call === "string") {
      const place = await placeOfRow(path, format, i + 1, rows.length);
      throw new InputError(`Calls file ${path} ${place} ${call}`);
    }
    const first = seen.get(call.callId);
    if (first !== undefined) {
      // Both places, as every other refused row names its own (a probe: no line was named).
      const place = await placeOfRow(path, format, i + 1, rows.length);
      const firstPlace = await placeOfRow(path, format, first, rows.length);
      const id = JSON.stringify(call.callId);
      throw new InputError(
        `Calls file ${path} ${place} has call_id ${id}, as ${firstPlace} has: a call_id is one call`,
      );
    }
    seen.set(call.callId, i + 1);
    if (options.fromMs !== undefined && call.alertTsMs < options.fromMs) continue;
    if (options.toMs !== undefined && call.alertTsMs >= options.toMs) continue;
    calls.push(call);
  }
  calls.sort((a, b) =>
    a.alertTsMs - b.alertTsMs || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0)
  );
  return { calls, rowsIn: rows.length };
}

/** The call of a row of the calls file, or what is wrong with it (`has no mint`). */
function toCall(row: Record<string, unknown>): Call | string {
  for (const col of ["call_id", "caller", "mint", "alert_ts_raw"]) {
    const v = row[col];
    if (v === null || v === undefined || String(v).trim() === "") {
      return `has no ${col === "alert_ts_raw" ? "alert_ts" : col}`;
    }
  }
  const ms = row.alert_ts_ms;
  if (ms === null || ms === undefined) {
    return `has alert_ts ${
      JSON.stringify(row.alert_ts_raw)
    }, which is neither ISO-8601 nor epoch milliseconds`;
  }
  const alertTsMs = Number(ms);
  const refused = outOfRange("alert_ts", alertTsMs, String(row.alert_ts_raw));
  if (refused !== undefined) return `has ${refused}`;
  return {
    callId: String(row.call_id),
    caller: String(row.caller),
    mint: String(row.mint),
    chain: row.chain === null ? "" : String(row.chain),
    alertTsMs,
  };
}

/** An opened candles file: the view `candles` of normalized rows. */
export interface CandleSource {
  /** The file. */
  path: string;
  /** The interval the rows were filtered on (files with an `interval` column). */
  interval: string | undefined;
  /**
   * The finer intervals some mints' rows are of, each mint's own choice,
   * when the asked interval is {@linkcode CandleSource.interval} and not
   * every mint has rows of it (files with an `interval` column):
   * {@linkcode sliceCandles} resamples those mints only. Empty otherwise.
   */
  resampleFrom: readonly string[];
}

/** Options for {@linkcode openCandles}. */
export interface OpenCandlesOptions {
  /** Interval asked for (`--interval`). @default {undefined} */
  interval?: Interval;
}

/**
 * Open the candles file `path` as the view `candles` (`mint, ts_ms, open,
 * high, low, close, volume`), after checking its columns. With an
 * `interval` column the rows of the asked interval are kept (without
 * `--interval` the file must hold a single interval).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openCandles, openDataSession } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const data = await writeSampleData(dir, { calls: 5, mints: 2, spanDays: 1 });
 *   const source = await openCandles(s.conn, data.candlesPath, { interval: "1m" });
 *   assert.equal(source.path, data.candlesPath);
 *   const rows = (await s.conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM candles"))
 *     .getRowObjectsJS();
 *   assert.equal(rows[0].n, data.candles);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function openCandles(
  conn: DuckDBConnection,
  path: string,
  options: OpenCandlesOptions = {},
): Promise<CandleSource> {
  const types = await openSource(conn, path, {
    what: "Candles",
    name: "candles_src",
    allVarchar: false,
    // `ts` and the prices too: the reader typed them from its sample, so a file of epoch ms with
    // ISO times past the sample failed (a probe), and prices that were whole numbers in the
    // sample made a later 1.5 a 2, read without a word (a review). A price that is not a number
    // fails the read naming its line, as before.
    columnTypes: {
      mint: "VARCHAR",
      interval: "VARCHAR",
      ts: "VARCHAR",
      open: "DOUBLE",
      high: "DOUBLE",
      low: "DOUBLE",
      close: "DOUBLE",
      volume: "DOUBLE",
    },
    required: CANDLE_COLUMNS,
  });
  let interval: string | undefined;
  let resampleFrom: string[] = [];
  if (types.has("interval")) {
    const reader = await conn.runAndReadAll(distinctIntervalsSql("candles_src"));
    const present = reader.getRowObjectsJS().map((r) => String(r.iv));
    if (options.interval !== undefined) {
      // Each mint its own: the asked interval's rows, else its coarsest finer ones (the fewest
      // rows), resampled (sliceCandles), as in a file without the column (an audit: 1m rows
      // labelled 1m were refused for --interval 5m, unlabelled ones not; a probe: the file's
      // coarsest finer interval for every mint left a mint of 1m rows alone without candles
      // when another had 5m rows).
      // A row of no known interval (empty, `1min`, `1m ` with a space) would be neither kept nor
      // resampled: left out in silence, it ended a trade early (helper-293: a take-profit at
      // +4000 bps read as 198 bps at the end of the data).
      const [odd] = (await conn.runAndReadAll(
        unknownIntervalsSql("candles_src", Object.keys(INTERVAL_MS)),
      )).getRowObjectsJS();
      if (Number(odd.n) > 0) {
        throw new InputError(
          `Candles file ${path} has ${countOf(Number(odd.n), "candle")} whose interval is none ` +
            `of ${Object.keys(INTERVAL_MS).join(", ")} (first: ${odd.first}): with --interval ` +
            "each row is kept or left out by its interval; spell it as one of those",
        );
      }
      const wantMs = INTERVAL_MS[options.interval];
      const finer = (Object.keys(INTERVAL_MS) as Interval[])
        .filter((p) => INTERVAL_MS[p] < wantMs && wantMs % INTERVAL_MS[p] === 0)
        .sort((a, b) => INTERVAL_MS[b] - INTERVAL_MS[a]);
      await conn.run(
        candleChoiceSql("candles_src", types.get("mint") ?? "VARCHAR", [
          options.interval,
          ...finer,
        ]),
      );
      const chosen = (await conn.runAndReadAll("SELECT DISTINCT iv FROM candle_choice ORDER BY iv"))
        .getRowObjectsJS().map((r) => String(r.iv));
      if (chosen.length === 0) {
        throw new InputError(
          `Candles file ${path} has no ${options.interval} candles, nor finer ones to ` +
            `resample (intervals: ${present.join(", ")})`,
        );
      }
      if (chosen.length === 1) interval = chosen[0];
      else {
        interval = options.interval;
        resampleFrom = chosen.filter((iv) => iv !== options.interval)
          .sort((a, b) => INTERVAL_MS[a as Interval] - INTERVAL_MS[b as Interval]);
        await conn.run(candlesViewSql("candles", "candles_src", { types, chosen: true }));
        return { path, interval, resampleFrom };
      }
    } else if (present.length === 1) {
      interval = present[0];
    } else {
      throw new InputError(
        `Candles file ${path} holds several intervals (${present.join(", ")}); pass --interval`,
      );
    }
  }
  await conn.run(candlesViewSql("candles", "candles_src", { types, interval }));
  return { path, interval, resampleFrom };
}

/** What {@linkcode coverCalls} found. */
export interface Coverage {
  /** Calls whose mint has a candle at or after the alert. */
  covered: Call[];
  /** Calls without such a candle (skipped by the run). */
  uncovered: Call[];
  /** Distinct mints of the covered calls. */
  mints: number;
  /** Candles of the covered mints in the file (all times). */
  candleRows: number;
}

/** Options for {@linkcode coverCalls}. */
export interface CoverCallsOptions {
  /** The candles file, for error messages. @default {undefined} */
  candlesPath?: string;
}

/**
 * Split `calls` into those with a candle at or after their alert and those
 * without, using the opened `candles` view. Also registers the covered
 * mints and their earliest alert for {@linkcode sliceCandles}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { coverCalls, loadCalls, openCandles, openDataSession } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const data = await writeSampleData(dir, { calls: 5, mints: 2, spanDays: 1 });
 *   const { calls } = await loadCalls(s.conn, data.callsPath);
 *   await openCandles(s.conn, data.candlesPath);
 *   const cov = await coverCalls(s.conn, calls);
 *   assert.equal(cov.covered.length + cov.uncovered.length, calls.length);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function coverCalls(
  conn: DuckDBConnection,
  calls: readonly Call[],
  options: CoverCallsOptions = {},
): Promise<Coverage> {
  const firstAlert = new Map<string, number>();
  for (const c of calls) {
    const prev = firstAlert.get(c.mint);
    if (prev === undefined || c.alertTsMs < prev) firstAlert.set(c.mint, c.alertTsMs);
  }
  await fillWanted(conn, firstAlert);
  let reader;
  try {
    reader = await conn.runAndReadAll(coverageSql("candles"));
  } catch (err) {
    throw await readError(err, { what: "Candles", path: options.candlesPath ?? "(candles)" });
  }
  const lastTs = new Map<string, { n: number; last: number | null }>();
  for (const r of reader.getRowObjectsJS()) {
    lastTs.set(String(r.mint), {
      n: Number(r.n),
      last: r.last_ts_ms === null ? null : Number(r.last_ts_ms),
    });
  }
  for (const [mint, info] of lastTs) {
    if (info.last === null) {
      // Every ts of the mint failed to parse: its calls were reported as having no candles at
      // or after their alert, with the rows right there (a probe).
      throw new InputError(
        `Candles file ${options.candlesPath ?? "(candles)"} has ${info.n} rows with a ts that ` +
          `does not parse (first: ${await unparsedTs(conn, mint)})`,
      );
    }
    if (outOfRange("ts", info.last, "") === undefined) continue;
    const text = await candleTsText(conn, mint, info.last);
    throw new InputError(
      `Candles file ${options.candlesPath ?? "(candles)"} has ${
        outOfRange("ts", info.last, text, ` (mint ${mint})`)
      }`,
    );
  }
  const covered: Call[] = [];
  const uncovered: Call[] = [];
  for (const c of calls) {
    const info = lastTs.get(c.mint);
    if (info !== undefined && info.last !== null && info.last >= c.alertTsMs) covered.push(c);
    else uncovered.push(c);
  }
  const coveredMints = new Map<string, number>();
  for (const c of covered) {
    const prev = coveredMints.get(c.mint);
    if (prev === undefined || c.alertTsMs < prev) coveredMints.set(c.mint, c.alertTsMs);
  }
  await fillWanted(conn, coveredMints);
  let candleRows = 0;
  for (const mint of coveredMints.keys()) candleRows += lastTs.get(mint)?.n ?? 0;
  return { covered, uncovered, mints: coveredMints.size, candleRows };
}

async function fillWanted(conn: DuckDBConnection, fromByMint: Map<string, number>): Promise<void> {
  await conn.run(CREATE_WANTED_SQL);
  const appender = await conn.createAppender("wanted");
  try {
    for (const [mint, fromMs] of fromByMint) {
      appender.appendVarchar(mint);
      appender.appendBigInt(BigInt(fromMs));
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Options for {@linkcode sliceCandles}. */
export interface SliceCandlesOptions {
  /** Interval asked for; finer candles are resampled to it. @default {the file's interval} */
  interval?: Interval;
}

/** What {@linkcode sliceCandles} kept. */
export interface Slice {
  /** Candles in the slice. */
  rows: number;
  /** The interval of the slice, e.g. `1m`. */
  interval: string;
  /** The interval of the file when the slice was resampled from it, else null. */
  resampledFrom: string | null;
}

/**
 * Build the table `slice`: the candles of the covered mints from each mint's
 * earliest alert on, at the asked interval (resampled from finer candles).
 * Checks the values: unparseable numbers or timestamps, prices that are NaN,
 * infinite, 0 or negative, highs below lows, opens or closes outside
 * [low, high], duplicate bars and epoch seconds fail with
 * {@linkcode InputError} naming the file, the first such row (mint and ts)
 * and, for a price, its field and value.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { coverCalls, loadCalls, openCandles, openDataSession, sliceCandles } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const data = await writeSampleData(dir, { calls: 5, mints: 2, spanDays: 1 });
 *   const { calls } = await loadCalls(s.conn, data.callsPath);
 *   const source = await openCandles(s.conn, data.candlesPath);
 *   await coverCalls(s.conn, calls);
 *   const slice = await sliceCandles(s.conn, source, { interval: "5m" });
 *   assert.deepEqual([slice.interval, slice.resampledFrom], ["5m", "1m"]);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function sliceCandles(
  conn: DuckDBConnection,
  source: CandleSource,
  options: SliceCandlesOptions = {},
): Promise<Slice> {
  try {
    await conn.run(createSliceSql("candles", EPOCH_MS_MIN));
  } catch (err) {
    throw await readError(err, { what: "Candles", path: source.path });
  }
  await checkSlice(conn, source.path);
  const intervalsMs = Object.values(INTERVAL_MS);
  const stepRow = (await conn.runAndReadAll(baseIntervalSql(intervalsMs))).getRowObjectsJS()[0];
  const gapMs = stepRow?.step_ms === null || stepRow === undefined ? null : Number(stepRow.step_ms);
  const opensOn = (ms: number) => stepRow?.[`on_${ms}`] === true;
  // The rows' interval: the longest one every candle opens on, up to the shortest step (a probe:
  // 1m candles of an illiquid mint, a minute missing between each, were "2m" candles, and
  // --interval 1m or 5m refused), else the shortest step (30s candles, or unaligned ones).
  const alignedMs = intervalsMs.filter((ms) => opensOn(ms) && (gapMs === null || ms <= gapMs))
    .at(-1);
  const stepMs = gapMs === null ? null : alignedMs ?? gapMs;
  const fileInterval = source.interval ?? (stepMs === null ? null : intervalName(stepMs));
  // A labelled interval (the file's interval column) is its step; else the rows' spacing.
  const fileStepMs = source.interval !== undefined && isInterval(source.interval)
    ? INTERVAL_MS[source.interval]
    : source.interval === undefined
    ? stepMs
    : null;
  let interval = fileInterval ?? options.interval ?? "unknown";
  let resampledFrom: string | null = null;
  if (source.resampleFrom.length > 0) {
    // Mints of several intervals (openCandles chose each its own): those of finer rows are
    // resampled, the others are bars of the asked interval already.
    const want = options.interval;
    assert(want !== undefined && want === source.interval, "per-mint intervals: the asked one");
    await conn.run(RESAMPLE_CHOSEN_SQL, [INTERVAL_MS[want], want]);
    resampledFrom = source.resampleFrom.join(",");
  } else if (
    options.interval !== undefined && options.interval !== source.interval && fileStepMs !== null
  ) {
    const wantMs = INTERVAL_MS[options.interval];
    if (wantMs !== fileStepMs) {
      if (wantMs < fileStepMs || wantMs % fileStepMs !== 0) {
        throw new InputError(
          `Candles file ${source.path} has ${fileInterval} candles; --interval ${options.interval} cannot be built from them`,
        );
      }
      await conn.run(RESAMPLE_SLICE_SQL, [wantMs]);
      resampledFrom = fileInterval;
    }
    interval = options.interval;
  } else if (
    options.interval !== undefined && source.interval === undefined && stepMs === null &&
    !opensOn(INTERVAL_MS[options.interval])
  ) {
    // One candle a mint: no step tells its length, but one that does not open on the asked
    // interval is no bar of it (a probe: a 1m candle at 00:18 was a "5m" bar the call entered on,
    // and no_entry beside a call on another mint that showed the file's step).
    await conn.run(RESAMPLE_SLICE_SQL, [INTERVAL_MS[options.interval]]);
    resampledFrom = "unknown";
  }
  const count = await conn.runAndReadAll("SELECT count(*) AS n FROM slice");
  return { rows: Number(count.getRowObjectsJS()[0].n), interval, resampledFrom };
}

/** The first candle of `mint` whose `ts` does not parse, as a message names it. */
async function unparsedTs(conn: DuckDBConnection, mint: string): Promise<string> {
  const raw = (await conn.runAndReadAll(unparsedTsSql("candles"), [mint]))
    .getRowObjectsJS()[0]?.ts_raw ?? null;
  return raw === null || String(raw).trim() === ""
    ? `mint ${mint}, no ts`
    : `mint ${mint}, ts ${JSON.stringify(raw)}: neither ISO-8601 nor epoch ms`;
}

async function checkSlice(conn: DuckDBConnection, path: string): Promise<void> {
  const [bad] = (await conn.runAndReadAll(SLICE_BAD_ROWS_SQL)).getRowObjectsJS();
  if (bad !== undefined) {
    let first: string;
    if (bad.ts === null) first = await unparsedTs(conn, String(bad.mint));
    else {
      const raw = (await conn.runAndReadAll(
        unparsedPriceSql("candles", String(bad.field)),
        [String(bad.mint), Number(bad.ts)],
      )).getRowObjectsJS()[0]?.raw ?? null;
      first = `mint ${bad.mint} at ${new Date(Number(bad.ts)).toISOString()}, ${bad.field} ` +
        (raw === null || String(raw).trim() === "" ? "empty" : JSON.stringify(raw));
    }
    throw new InputError(
      `Candles file ${path} has ${bad.n} rows with a ts or price that does not parse (first: ${first})`,
    );
  }
  const [price] = (await conn.runAndReadAll(SLICE_NOT_POSITIVE_SQL)).getRowObjectsJS();
  if (price !== undefined) {
    throw new InputError(
      `Candles file ${path} has ${price.n} rows with a price that is NaN, infinite, 0 or ` +
        `negative (first: mint ${price.mint} at ${new Date(Number(price.ts)).toISOString()}, ` +
        `${price.field} ${Number(price.value)})`,
    );
  }
  const [inverted] = (await conn.runAndReadAll(SLICE_INVERTED_SQL)).getRowObjectsJS();
  if (inverted !== undefined) {
    throw new InputError(
      `Candles file ${path} has ${inverted.n} candles whose high is below the low (first: mint ` +
        `${inverted.mint} at ${
          new Date(Number(inverted.ts)).toISOString()
        }, high ${inverted.high}, low ${inverted.low})`,
    );
  }
  const [outside] = (await conn.runAndReadAll(SLICE_OUTSIDE_RANGE_SQL, [TOUCH_SLACK]))
    .getRowObjectsJS();
  if (outside !== undefined) {
    throw new InputError(
      `Candles file ${path} has ${outside.n} candles whose open or close is outside [low, ` +
        `high] (first: mint ${outside.mint} at ${new Date(Number(outside.ts)).toISOString()}, ` +
        `open ${outside.open}, high ${outside.high}, low ${outside.low}, close ${outside.close})`,
    );
  }
  const [dups] = (await conn.runAndReadAll(SLICE_DUPLICATES_SQL)).getRowObjectsJS();
  if (dups !== undefined) {
    throw new InputError(
      `Candles file ${path} has ${dups.n} duplicate (mint, ts) candles (first: mint ${dups.mint} ` +
        `at ${new Date(Number(dups.ts)).toISOString()}, ${dups.rows} rows); a file that mixes ` +
        "intervals needs an interval column to tell them apart",
    );
  }
  const [min] = (await conn.runAndReadAll(
    "SELECT mint, ts_ms AS m FROM slice ORDER BY ts_ms LIMIT 1",
  )).getRowObjectsJS();
  if (min !== undefined && Number(min.m) < EPOCH_MS_MIN) {
    const text = await candleTsText(conn, String(min.mint), Number(min.m));
    throw new InputError(
      `Candles file ${path} has ${tooEarly("ts", text, ` (mint ${min.mint})`)}`,
    );
  }
}

/**
 * Read the table `slice` into one columnar series per mint.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { coverCalls, loadCalls, openCandles, openDataSession, readSlice, sliceCandles } from "./data.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * const s = await openDataSession();
 * try {
 *   const data = await writeSampleData(dir, { calls: 5, mints: 2, spanDays: 1 });
 *   const { calls } = await loadCalls(s.conn, data.callsPath);
 *   const source = await openCandles(s.conn, data.candlesPath);
 *   const cov = await coverCalls(s.conn, calls);
 *   await sliceCandles(s.conn, source);
 *   const byMint = await readSlice(s.conn);
 *   assert.equal(byMint.size, cov.mints);
 * } finally {
 *   s.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readSlice(conn: DuckDBConnection): Promise<Map<string, CandleSeries>> {
  const groups = (await conn.runAndReadAll(SLICE_MINTS_SQL)).getRowObjectsJS();
  const n = groups.reduce((sum, g) => sum + Number(g.n), 0);
  const arrays = Array.from({ length: 6 }, () => new Float64Array(n));
  const result = await conn.stream(SLICE_READ_SQL);
  let row = 0;
  for (let chunk = await result.fetchChunk(); chunk !== null; chunk = await result.fetchChunk()) {
    const size = chunk.rowCount;
    if (size === 0) break;
    if (row + size > n) throw new Error(`Slice grew while being read: more than ${n} rows`);
    for (let c = 0; c < 6; c++) copyDoubles(chunk.getColumnVector(c), arrays[c], row, size);
    row += size;
  }
  if (row !== n) throw new Error(`Slice read ${row} rows, expected ${n}`);
  const out = new Map<string, CandleSeries>();
  let start = 0;
  for (const g of groups) {
    const end = start + Number(g.n);
    const [ts, open, high, low, close, volume] = arrays.map((a) => a.subarray(start, end));
    out.set(String(g.mint), { ts, open, high, low, close, volume });
    start = end;
  }
  return out;
}

/**
 * Copy `size` doubles of a DuckDB vector into `out` at `offset`. The slice has
 * no NULLs (checked by {@linkcode sliceCandles}), so the vector's backing
 * `Float64Array` is copied in one go when the binding exposes it; otherwise
 * item by item.
 */
function copyDoubles(vec: DuckDBVector, out: Float64Array, offset: number, size: number): void {
  const items = vec instanceof duckdb().DuckDBDoubleVector
    ? (vec as unknown as { items?: unknown }).items
    : undefined;
  if (items instanceof Float64Array && items.length >= size) {
    out.set(items.subarray(0, size), offset);
    return;
  }
  for (let i = 0; i < size; i++) out[offset + i] = Number(vec.getItem(i) ?? NaN);
}
