/**
 * `ledger export runs|trials`: a flat table (one column per `config.*`,
 * `summary.*`, `tags.*`, or `params.*`, `metrics.*` path) written as
 * Parquet, CSV or JSONL, ready for pandas or polars. Column types are kept:
 * a path whose values are all numbers (or numeric strings) is a number
 * column (BIGINT when all integers, else DOUBLE), all booleans a BOOLEAN,
 * anything else VARCHAR (objects and arrays as JSON text).
 *
 * The index is read with external access disabled (as every reader). Each
 * row is flattened once and written to a staging JSONL file beside the
 * target; a separate in-memory DuckDB reads it with the column types fixed
 * and writes the target format aside, which is renamed into place, so a
 * failed export leaves nothing behind.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "npm:@duckdb/node-api@1.5.6-r.1";
import { flatten } from "./compare.ts";
import { streamRunsJson, streamTrialsJson } from "./runs.ts";

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

type ColumnType = "BIGINT" | "DOUBLE" | "BOOLEAN" | "VARCHAR";

/**
 * Export runs or trials of the index open on `conn` (see `withReader`) to
 * a flat file.
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
  await checkTarget(options.outPath);
  const dir = dirname(options.outPath);
  const stem = `.${basename(options.outPath)}.tmp-${Deno.pid}`;
  const staging = join(dir, `${stem}.jsonl`);
  const temp = join(dir, stem);
  try {
    // One pass over the index: each row flattened once (one JSON.parse), written to a
    // staging JSONL file, its column types noted.
    const fixedColumns = options.what === "runs" ? RUN_COLUMNS : TRIAL_COLUMNS;
    const kinds = new Map<string, Set<string>>();
    for (const [name] of fixedColumns) kinds.set(name, new Set());
    const n = await writeStaging(staging, flatRows(conn, options), kinds);
    const fixed = new Map(fixedColumns);
    const columns = [...kinds.keys()];
    const types = columns.map((c) => fixed.get(c) ?? columnType(kinds.get(c)!));
    // DuckDB (its own in-memory instance, not the index) reads the staging file with the
    // types fixed and writes the target format beside the target.
    const instance = await DuckDBInstance.create(":memory:");
    try {
      const out = await instance.connect();
      try {
        const struct = columns.map((c, i) => `${quoteLiteral(c)}: '${types[i]}'`).join(", ");
        await out.run(
          `COPY (SELECT ${columns.map(quoteIdent).join(", ")}
            FROM read_json(${quoteLiteral(staging)}, format = 'newline_delimited',
              columns = {${struct}}))
          TO ${quoteLiteral(temp)} (${copyOptions(options.format)})`,
        );
      } finally {
        out.disconnectSync();
      }
    } finally {
      instance.closeSync();
    }
    await Deno.rename(temp, options.outPath); // the file is complete from here
    return { rows: n, columns, outPath: options.outPath };
  } catch (err) {
    await removeIfThere(temp);
    throw err;
  } finally {
    await removeIfThere(staging);
  }
}

/** Rows flattened: `config.*`, `summary.*`, `tags.*` (runs) or `params.*`, `metrics.*`. */
async function* flatRows(
  conn: DuckDBConnection,
  options: ExportOptions,
): AsyncGenerator<Record<string, unknown>[]> {
  const batches = options.what === "trials"
    ? streamTrialsJson(conn, { where: options.where })
    : streamRunsJson(conn, {
      where: options.where,
      includeArchived: options.includeArchived,
      columns: ["config", "tags"],
      sort: [{ field: "created_at", descending: false }, { field: "run_id", descending: false }],
    });
  for await (const batch of batches) {
    yield batch.map((text) => {
      const row = JSON.parse(text) as Record<string, unknown>;
      const flat: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (FLATTENED_KEYS.has(k)) {
          for (const [path, leaf] of Object.entries(flatten(v))) flat[`${k}.${path}`] = leaf;
        } else {
          flat[k] = v;
        }
      }
      return flat;
    });
  }
}

/** Keys whose object becomes `key.path` columns. */
const FLATTENED_KEYS = new Set(["config", "summary", "tags", "params", "metrics"]);

/** Write the rows as JSONL to `path`, noting the kinds of values of each column. */
async function writeStaging(
  path: string,
  rows: AsyncIterable<Record<string, unknown>[]>,
  kinds: Map<string, Set<string>>,
): Promise<number> {
  const file = await Deno.open(path, { write: true, createNew: true });
  const encoder = new TextEncoder();
  let n = 0;
  try {
    for await (const batch of rows) {
      let text = "";
      for (const row of batch) {
        for (const [k, v] of Object.entries(row)) {
          let set = kinds.get(k);
          if (set === undefined) kinds.set(k, set = new Set());
          set.add(kindOf(v));
          // Arrays and empty objects are leaves: kept as JSON text in a VARCHAR column.
          if (v !== null && typeof v === "object") row[k] = JSON.stringify(v);
        }
        text += JSON.stringify(row) + "\n";
      }
      n += batch.length;
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
    }
  } finally {
    file.close();
  }
  return n;
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

/**
 * A column's type from the kinds of its values: numbers (numeric strings
 * among them allowed) BIGINT when all integers, else DOUBLE; all booleans
 * BOOLEAN; anything else VARCHAR.
 */
function columnType(kinds: Set<string>): ColumnType {
  const present = [...kinds].filter((k) => k !== "null");
  if (present.length === 0) return "VARCHAR";
  const numeric = present.every((k) => k.startsWith("int") || k.startsWith("float"));
  if (numeric && present.some((k) => k === "int" || k === "float")) {
    return present.every((k) => k.startsWith("int")) ? "BIGINT" : "DOUBLE";
  }
  if (present.length === 1 && present[0] === "bool") return "BOOLEAN";
  return "VARCHAR";
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
