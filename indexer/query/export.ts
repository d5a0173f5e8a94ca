/**
 * `ledger export runs|trials`: a flat table (one column per `config.*`,
 * `summary.*`, `tags.*`, or `params.*`, `metrics.*` path) written as
 * Parquet, CSV or JSONL, ready for pandas or polars. Column types are kept:
 * a path whose values are all numbers (or numeric strings) is a number
 * column (BIGINT when all integers, else DOUBLE), all booleans a BOOLEAN,
 * anything else VARCHAR (objects and arrays as JSON text).
 *
 * The index is read with external access disabled (as every reader); the
 * rows go through an appender into a separate in-memory DuckDB, which
 * writes the file beside the target and renames it into place, so a failed
 * export leaves nothing behind.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { flatten } from "./compare.ts";
import { allRows } from "./reader.ts";
import { streamRuns, streamTrials } from "./runs.ts";

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
  /** Runs only: include archived runs. @default {false} */
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
}

/**
 * The target cannot be written: its directory does not exist, or it is a
 * directory.
 *
 * @example
 * ```ts
 * import { ExportTargetError } from "./export.ts";
 * console.assert(new ExportTargetError("/x/y.csv", "no such directory").message.includes("/x"));
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

type ColumnType = "BIGINT" | "DOUBLE" | "BOOLEAN" | "VARCHAR";

interface FlatRow {
  [column: string]: unknown;
}

/**
 * Export runs or trials of the index open on `conn` (see `withReader`) to
 * a flat file.
 *
 * @example
 * ```ts ignore
 * import { exportTable, withReader } from "./mod.ts";
 * await withReader(path, (conn) =>
 *   exportTable(conn, { what: "runs", format: "parquet", outPath: "runs.parquet" }));
 * ```
 */
export async function exportTable(
  conn: DuckDBConnection,
  options: ExportOptions,
): Promise<ExportReport> {
  await checkTarget(options.outPath);
  const tags = options.what === "runs" ? await tagsByRun(conn) : new Map();
  const rowsOf = () =>
    options.what === "runs" ? flatRuns(conn, options, tags) : flatTrials(conn, options);
  // Pass 1: the columns and their types; pass 2: the values.
  const types = new Map<string, ColumnType>();
  const fixed = options.what === "runs" ? RUN_COLUMNS : TRIAL_COLUMNS;
  for (const [name, type] of fixed) types.set(name, type);
  const seen = new Map<string, Set<string>>();
  for await (const batch of rowsOf()) {
    for (const row of batch) {
      for (const [k, v] of Object.entries(row)) {
        if (types.has(k) && fixed.some(([n]) => n === k)) continue;
        let kinds = seen.get(k);
        if (kinds === undefined) seen.set(k, kinds = new Set());
        kinds.add(kindOf(v));
      }
    }
  }
  for (const [k, kinds] of seen) types.set(k, columnType(kinds));
  const columns = [...types.keys()];
  const instance = await DuckDBInstance.create(":memory:");
  const temp = join(dirname(options.outPath), `.${basename(options.outPath)}.tmp-${Deno.pid}`);
  try {
    const out = await instance.connect();
    try {
      await out.run(
        `CREATE TABLE export_rows (${
          columns.map((c) => `${quoteIdent(c)} ${types.get(c)}`).join(", ")
        })`,
      );
      const appender = await out.createAppender("export_rows");
      let n = 0;
      for await (const batch of rowsOf()) {
        for (const row of batch) {
          for (const c of columns) appendValue(appender, types.get(c)!, row[c]);
          appender.endRow();
          n++;
        }
      }
      appender.closeSync();
      await out.run(`COPY export_rows TO ${quoteLiteral(temp)} (${copyOptions(options.format)})`);
      await Deno.rename(temp, options.outPath); // the file is complete from here
      return { rows: n, columns, outPath: options.outPath };
    } finally {
      out.disconnectSync();
    }
  } catch (err) {
    await removeIfThere(temp);
    throw err;
  } finally {
    instance.closeSync();
  }
}

const RUN_COLUMNS: [string, ColumnType][] = [
  ["run_id", "VARCHAR"],
  ["run_type", "VARCHAR"],
  ["status", "VARCHAR"],
  ["created_at", "VARCHAR"],
  ["created_at_ms", "BIGINT"],
  ["started_at_ms", "BIGINT"],
  ["completed_at_ms", "BIGINT"],
  ["failed_at_ms", "BIGINT"],
  ["duration_ms", "BIGINT"],
  ["label", "VARCHAR"],
  ["archived", "BOOLEAN"],
  ["data_fingerprint", "VARCHAR"],
];

const TRIAL_COLUMNS: [string, ColumnType][] = [
  ["run_id", "VARCHAR"],
  ["trial_id", "VARCHAR"],
  ["recorded_at", "VARCHAR"],
];

async function* flatRuns(
  conn: DuckDBConnection,
  options: ExportOptions,
  tags: Map<string, Record<string, string>>,
): AsyncGenerator<FlatRow[]> {
  for await (
    const batch of streamRuns(conn, {
      where: options.where,
      includeArchived: options.includeArchived,
      columns: ["config"],
      sort: [{ field: "created_at", descending: false }, { field: "run_id", descending: false }],
    })
  ) {
    yield batch.map((r) => {
      const row: FlatRow = {};
      for (const [name] of RUN_COLUMNS) row[name] = r[name];
      prefixed(row, "config", flatten(r.config));
      prefixed(row, "summary", flatten(r.summary));
      prefixed(row, "tags", tags.get(r.run_id) ?? {});
      return row;
    });
  }
}

async function* flatTrials(
  conn: DuckDBConnection,
  options: ExportOptions,
): AsyncGenerator<FlatRow[]> {
  for await (const batch of streamTrials(conn, { where: options.where })) {
    yield batch.map((t) => {
      const row: FlatRow = { run_id: t.run_id, trial_id: t.trial_id, recorded_at: t.recorded_at };
      prefixed(row, "params", flatten(t.params));
      prefixed(row, "metrics", flatten(t.metrics));
      return row;
    });
  }
}

function prefixed(row: FlatRow, root: string, flat: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(flat)) row[`${root}.${k}`] = v;
}

async function tagsByRun(conn: DuckDBConnection): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const t of await allRows(conn, "SELECT run_id, key, value FROM run_tags")) {
    const id = String(t.run_id);
    const tags = out.get(id) ?? {};
    tags[String(t.key)] = String(t.value);
    out.set(id, tags);
  }
  return out;
}

const NUMERIC_TEXT = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") {
    if (NUMERIC_TEXT.test(v)) return Number.isInteger(Number(v)) ? "int-text" : "float-text";
    return "text";
  }
  if (typeof v === "boolean") return "bool";
  return "json";
}

function columnType(kinds: Set<string>): ColumnType {
  kinds.delete("null");
  if (kinds.size === 0) return "VARCHAR";
  const numeric = [...kinds].every((k) => k.startsWith("int") || k.startsWith("float"));
  if (numeric) {
    const anyNumber = kinds.has("int") || kinds.has("float");
    if (!anyNumber) return "VARCHAR"; // only numeric-looking strings: keep them as text
    return [...kinds].every((k) => k.startsWith("int")) ? "BIGINT" : "DOUBLE";
  }
  if (kinds.size === 1 && kinds.has("bool")) return "BOOLEAN";
  return "VARCHAR";
}

function appendValue(appender: DuckDBAppender, type: ColumnType, v: unknown): void {
  if (v === null || v === undefined) {
    appender.appendNull();
    return;
  }
  switch (type) {
    case "BIGINT": {
      const n = Number(v);
      if (Number.isSafeInteger(n)) appender.appendBigInt(BigInt(n));
      else appender.appendNull();
      return;
    }
    case "DOUBLE": {
      const n = Number(v);
      if (Number.isFinite(n)) appender.appendDouble(n);
      else appender.appendNull();
      return;
    }
    case "BOOLEAN":
      appender.appendBoolean(v === true);
      return;
    case "VARCHAR":
      appender.appendVarchar(typeof v === "object" ? JSON.stringify(v) : String(v));
      return;
  }
}

function copyOptions(format: ExportFormat): string {
  switch (format) {
    case "parquet":
      return "FORMAT parquet";
    case "csv":
      return "FORMAT csv, HEADER true";
    case "jsonl":
      return "FORMAT json";
  }
}

/** A SQL identifier, quoted (the names are field paths: letters, digits, `_`, `-`, `.`). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL string literal for the output path (COPY takes no parameter for it). */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

async function checkTarget(path: string): Promise<void> {
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
  try {
    if ((await Deno.lstat(path)).isDirectory) {
      throw new ExportTargetError(path, "it is a directory");
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
