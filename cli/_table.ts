/**
 * Printing rows for people and for scripts: tables that fit the terminal
 * (cells truncated with an ellipsis, never wrapped, control characters
 * escaped), and the machine formats `json` (a streamed array), `jsonl` and
 * `csv`, written batch by batch so memory does not grow with the rows.
 *
 * @module
 */
import { escapeControl } from "../ledger/control_text.ts";
import { jsonText } from "../indexer/query/_json.ts";
import { wrapText } from "./_wrap.ts";
import { countOf } from "../ledger/count_text.ts";
import { readEnvVariable } from "../ledger/paths.ts";

export { escapeControl };

/** Output formats of the listing commands. */
export const OUTPUT_FORMATS = ["table", "json", "jsonl", "csv"] as const;
/** One of {@linkcode OUTPUT_FORMATS}. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Width used when standard output is not a terminal, in columns. */
export const PIPE_WIDTH_COLUMNS = 80;
/** Narrowest a truncated column gets, in characters (ellipsis included). */
const COLUMN_WIDTH_MIN = 4;
/** Space between columns. */
const GAP = "  ";
const ELLIPSIS = "…";

/**
 * The width to fit: the terminal's columns; when standard output is not a
 * terminal, `COLUMNS` when set (and readable), else 80.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { terminalWidth } from "./_table.ts";
 * assert(terminalWidth() >= 20);
 * ```
 */
export function terminalWidth(): number {
  try {
    if (Deno.stdout.isTerminal()) return Math.max(20, Deno.consoleSize().columns);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    // No console size (e.g. a closed terminal): fall back to the pipe width.
  }
  return columnsVariable() ?? PIPE_WIDTH_COLUMNS;
}

/** `COLUMNS` as a width of at least 20, or undefined (unset, not a number, not granted). */
function columnsVariable(): number | undefined {
  let value: string | undefined;
  try {
    value = readEnvVariable("COLUMNS"); // not UTF-8: an error naming it
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) return undefined; // a task grants LEDGER_ROOT only
    throw err;
  }
  const n = Number(value);
  return value !== undefined && /^\d+$/.test(value) ? Math.max(20, n) : undefined;
}

/** Options for {@linkcode formatTable}. */
export interface TableOptions {
  /** Fit into this many columns. @default {terminalWidth()} */
  width?: number;
  /** Do not truncate: show every cell whole. @default {false} */
  wide?: boolean;
  /** Right-align these column indexes (numbers). @default {[]} */
  alignRight?: readonly number[];
  /**
   * Narrowest each column may be cut to (by index); columns without one go
   * down to 4. When the row cannot fit even so, every column may go to 4.
   * @default {[]}
   */
  widthsMin?: readonly (number | undefined)[];
}

/**
 * A text table: a header line and one line per row, columns separated by
 * two spaces, fitted to the width by truncating the widest columns with an
 * ellipsis. Every cell has its control characters escaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatTable } from "./_table.ts";
 * const t = formatTable(["A", "B"], [["x", "a very long value"]], { width: 12 });
 * assert.equal(t, "A  B\nx  a very l…"); // the long cell is cut to fit 12 columns
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const cells = [header, ...rows].map((row) => row.map((c) => escapeControl(c)));
  const widths = naturalWidths(cells);
  if (!options.wide) {
    const width = options.width ?? terminalWidth();
    const mins = widths.map((w, i) => Math.min(w, options.widthsMin?.[i] ?? COLUMN_WIDTH_MIN));
    if (!fitWidths(widths, width, mins)) {
      fitWidths(
        widths,
        width,
        widths.map(() => COLUMN_WIDTH_MIN),
      );
    }
  }
  const right = new Set(options.alignRight ?? []);
  return cells.map((row) =>
    row.map((cell, i) => {
      const text = truncate(cell, widths[i]);
      const pad = widths[i] - charLength(text);
      if (i === row.length - 1 && !right.has(i)) return text;
      return right.has(i) ? " ".repeat(pad) + text : text + " ".repeat(pad);
    }).join(GAP).trimEnd()
  ).join("\n");
}

function naturalWidths(cells: readonly (readonly string[])[]): number[] {
  return cells[0].map((_, i) => columnWidth(cells, i));
}

/**
 * The terminal columns ({@linkcode charLength}) of the widest cell in column
 * `i` of `rows`, or `floor` when that is more. A loop, not a spread: 200,000
 * rows passed as arguments threw a RangeError (a review).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { columnWidth } from "./_table.ts";
 * assert.equal(columnWidth([["a", "日本"], ["bb", "x"]], 1), 4);
 * assert.equal(columnWidth([["a"]], 0, 6), 6);
 * ```
 */
export function columnWidth(
  rows: readonly (readonly string[])[],
  i: number,
  floor = 0,
): number {
  return rows.reduce((n, r) => Math.max(n, charLength(r[i] ?? "")), floor);
}

/**
 * Shrink the widest columns (above their minimum) one character at a time
 * until the row fits; false when it cannot.
 */
function fitWidths(widths: number[], width: number, mins: readonly number[]): boolean {
  while (rowWidth(widths) > width) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i] > mins[i] && (widest < 0 || widths[i] > widths[widest])) widest = i;
    }
    if (widest < 0) return false;
    widths[widest]--;
  }
  return true;
}

/**
 * Whether the table fits `width` with every column at least its minimum
 * width (see {@linkcode TableOptions.widthsMin}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { tableFits } from "./_table.ts";
 * const fits = tableFits(["A", "B"], [["xxxxxx", "yyyyyy"]], { width: 8, widthsMin: [6, 6] });
 * assert.equal(fits, false); // 6 + 2 + 6 columns do not fit in 8
 * ```
 */
export function tableFits(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { width: number; widthsMin: readonly (number | undefined)[] },
): boolean {
  // Shrinking the widest columns reaches any width down to every column at its minimum.
  return rowWidth(widthsAtMin(header, rows, options.widthsMin)) <= options.width;
}

/** Each column's width at its minimum: the minimum, or its natural width when narrower. */
function widthsAtMin(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  widthsMin: readonly (number | undefined)[],
): number[] {
  const cells = [header, ...rows].map((row) => row.map((c) => escapeControl(c)));
  return naturalWidths(cells).map((w, i) => Math.min(w, widthsMin[i] ?? COLUMN_WIDTH_MIN));
}

/** Width of a row of columns `widths` wide, gaps included. */
function rowWidth(widths: readonly number[]): number {
  return widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
}

/** Options for {@linkcode leaveOutToFit}. */
export interface LeaveOutOptions {
  /** Fit into this many columns. */
  width: number;
  /** Narrowest each column may be cut to (by index), as {@linkcode TableOptions.widthsMin}. */
  widthsMin: readonly (number | undefined)[];
  /** Column indexes in the order they are left out; the others always stay. */
  order: readonly number[];
  /** Show every column whole, leaving none out. @default {false} */
  wide?: boolean;
  /** Right-align these column indexes (of the whole table). @default {[]} */
  alignRight?: readonly number[];
}

/**
 * A table too wide for the terminal, readable: whole columns are left out
 * one by one in `order` until the rest fits at its minimum widths (cutting
 * every cell to a stub would show nothing). Returns the table and the
 * indexes left out, for a line that says what is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leaveOutToFit } from "./_table.ts";
 * const { table, leftOut } = leaveOutToFit(["ID", "A", "B"], [["run-1", "aaaa", "bbbb"]], {
 *   width: 12,
 *   widthsMin: [5, 4, 4],
 *   order: [2, 1],
 * });
 * assert.deepEqual(leftOut, [2]);
 * assert.equal(table, "ID     A\nrun-1  aaaa");
 * ```
 */
export function leaveOutToFit(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: LeaveOutOptions,
): { table: string; leftOut: number[] } {
  const { width, widthsMin, order } = options;
  const leftOut: number[] = [];
  const gone = new Set<number>();
  if (!options.wide) {
    // Each column's narrowest width once, and a running sum: leaving a column out takes its
    // width and a gap off the row (fitting the whole table anew per column took 144 s for the
    // 5,000 columns of a wide sweep's trials: a scale audit).
    const mins = widthsAtMin(header, rows, widthsMin);
    let total = rowWidth(mins);
    while (leftOut.length < order.length && total > width) {
      const out = order[leftOut.length];
      leftOut.push(out);
      if (mins[out] !== undefined && !gone.has(out)) {
        gone.add(out);
        total -= mins[out] + GAP.length;
      }
    }
  }
  const keep = header.map((_, i) => i).filter((i) => !gone.has(i));
  const pick = <T>(row: readonly T[]) => keep.map((i) => row[i]);
  const right = new Set(options.alignRight ?? []);
  const table = formatTable(pick(header), rows.map(pick), {
    wide: options.wide,
    width,
    alignRight: keep.map((i, k) => (right.has(i) ? k : -1)).filter((k) => k >= 0),
    widthsMin: pick(widthsMin),
  });
  return { table, leftOut };
}

/** Options for {@linkcode leftOutNote}. */
export interface LeftOutNoteOptions {
  /** Say how many columns first (`(4 columns left out ...`). @default {false} */
  counted?: boolean;
  /** Name at most this many, then `...`. @default {Infinity} */
  namedMax?: number;
  /** How to see them all. @default {"--wide shows all"} */
  hint?: string;
}

/**
 * The line under a table naming the columns {@linkcode leaveOutToFit} left
 * out, wrapped to `width`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { leftOutNote } from "./_table.ts";
 * assert.equal(leftOutNote(80, ["TYPE", "CREATED"]), "(left out to fit 80 columns: TYPE, CREATED; --wide shows all)");
 * assert.equal(
 *   leftOutNote(80, ["a", "b", "c"], { counted: true, namedMax: 2, hint: "--wide" }),
 *   "(3 columns left out to fit 80 columns: a, b, ...; --wide)",
 * );
 * ```
 */
export function leftOutNote(
  width: number,
  names: readonly string[],
  options: LeftOutNoteOptions = {},
): string {
  const namedMax = options.namedMax ?? Number.POSITIVE_INFINITY;
  const shown = names.slice(0, namedMax).join(", ") + (names.length > namedMax ? ", ..." : "");
  const count = options.counted ? `${countOf(names.length, "column")} ` : "";
  const note = `(${count}left out to fit ${width} columns: ${shown}; ` +
    `${options.hint ?? "--wide shows all"})`;
  return wrapText(note, 0, 0, width);
}

/**
 * The terminal columns `text` takes: {@linkcode cellWidth} of each code point.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { charLength } from "./_table.ts";
 * assert.equal(charLength("run-日本"), 8);
 * ```
 */
export function charLength(text: string): number {
  let n = 0;
  for (const ch of text) n += cellWidth(ch);
  return n;
}

/** Code points a terminal draws two cells wide (East Asian Wide and Fullwidth, emoji). */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;
/** Code points a terminal draws in no cell (combining marks, zero-width spaces and joiners). */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B-\u200D\u2060\uFEFF]/u;

/**
 * Terminal cells of one code point: 2 for wide ones (CJK, fullwidth,
 * emoji), 0 for combining marks and zero-width ones, else 1 (a query
 * audit: CJK values pushed the next column by a cell each).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { cellWidth } from "./_table.ts";
 * assert.deepEqual(["a", "日", "\u0301", "\u200B"].map(cellWidth), [1, 2, 0, 0]);
 * ```
 */
export function cellWidth(ch: string): number {
  if (WIDE.test(ch)) return 2;
  return ZERO_WIDTH.test(ch) ? 0 : 1;
}

/**
 * `text` cut to `width` terminal cells ({@linkcode cellWidth}), ending in an
 * ellipsis when cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { truncate } from "./_table.ts";
 * assert.equal(truncate("abcdef", 4), "abc…");
 * assert.equal(truncate("日本語です", 5), "日本…"); // two cells each
 * ```
 */
export function truncate(text: string, width: number): string {
  if (charLength(text) <= width) return text;
  if (width <= 1) return ELLIPSIS.slice(0, width);
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = cellWidth(ch);
    if (used + w > width - 1) break; // the ellipsis takes the last cell
    out += ch;
    used += w;
  }
  return out + ELLIPSIS;
}

/**
 * A value as a table cell: `-` for null, fractions shortened to 4
 * significant digits but never in their integer part (123456789.125 is
 * `123456789.1`, not `123500000`, which reads as another exact integer: a
 * query audit), integers whole, a negative zero `-0`, objects as JSON (as
 * `jsonText` writes it: a negative zero inside is `-0.0`). The machine
 * formats keep every digit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { cellText } from "./_table.ts";
 * assert.equal(cellText(0.123456), "0.1235");
 * assert.equal(cellText(12345.678), "12345.7");
 * assert.equal(cellText(123456789.125), "123456789.1");
 * assert.equal(cellText(-0), "-0");
 * assert.equal(cellText(null), "-");
 * ```
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    if (Object.is(value, -0)) return "-0"; // String(-0) is "0"
    if (Number.isInteger(value)) return String(value);
    if (Math.abs(value) >= FOUR_DIGITS_MAX && Math.abs(value) < 1e21) return value.toFixed(1);
    return String(Number(value.toPrecision(4)));
  }
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  return jsonText(value);
}

/** From here a fraction's integer part alone has more than 4 digits. */
const FOUR_DIGITS_MAX = 10_000;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break; objects as JSON (`jsonText`); null as empty, and an empty string
 * as `""` (as `ledger export` writes it), so a reader that tells them apart
 * can; a negative zero as `-0.0`, as `export` and `--format jsonl` write it
 * (`String(-0)` is `0`, which pandas reads as the integer 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { csvField } from "./_table.ts";
 * assert.equal(csvField('a,"b"'), '"a,""b"""');
 * assert.equal(csvField(""), '""');
 * assert.equal(csvField(null), "");
 * assert.equal(csvField(-0), "-0.0");
 * assert.equal(csvField(2 ** 53), "9007199254740992.0"); // a double, as in json
 * assert.equal(csvField(NaN), "NaN");
 * ```
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value === "") return '""';
  // A finite number as JSON writes it (`-0.0`, and a double from 2^53 on as `1e+16`'s
  // `10000000000000000.0`: String() wrote `10000000000000000`, which pandas reads as an
  // integer, a review); NaN and the infinities by name.
  const text = typeof value === "object" || (typeof value === "number" && Number.isFinite(value))
    ? jsonText(value)
    : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Writes output to standard output in large writes, so streamed formats
 * cost one system call per batch, not per row.
 */
export class OutputBuffer {
  #parts: string[] = [];
  #chars = 0;
  #encoder = new TextEncoder();
  #out: { write(p: Uint8Array): Promise<number> };
  /** Flush when this many characters are buffered. */
  static readonly FLUSH_CHARS = 1 << 20;

  /** Write to `out` (standard output by default). */
  constructor(out: { write(p: Uint8Array): Promise<number> } = Deno.stdout) {
    this.#out = out;
  }

  /** Buffer `text`; flushes when the buffer is large. */
  async push(text: string): Promise<void> {
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars >= OutputBuffer.FLUSH_CHARS) await this.flush();
  }

  /** Write everything buffered. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    let bytes = this.#encoder.encode(this.#parts.join(""));
    this.#parts = [];
    this.#chars = 0;
    while (bytes.length > 0) {
      const n = await this.#out.write(bytes);
      bytes = bytes.subarray(n);
    }
  }
}

/**
 * Write streamed batches of JSON texts (one object each) as `json` (one
 * array) or `jsonl`. Returns the number of rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { OutputBuffer, writeJsonTexts } from "./_table.ts";
 * // Standard output by default; here a writer that keeps the text.
 * let text = "";
 * const out = new OutputBuffer({
 *   write(p) {
 *     text += new TextDecoder().decode(p);
 *     return Promise.resolve(p.length);
 *   },
 * });
 * async function* batches() {
 *   yield ['{"run_id":"r1"}', '{"run_id":"r2"}'];
 *   yield ['{"run_id":"r3"}'];
 * }
 * assert.equal(await writeJsonTexts(batches(), "json", out), 3);
 * assert.equal(text, '[\n{"run_id":"r1"},\n{"run_id":"r2"},\n{"run_id":"r3"}\n]\n');
 * assert.equal(JSON.parse(text).length, 3);
 * ```
 */
export async function writeJsonTexts(
  batches: AsyncIterable<readonly string[]>,
  format: "json" | "jsonl",
  out: OutputBuffer = new OutputBuffer(),
): Promise<number> {
  let n = 0;
  if (format === "json") await out.push("[");
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    if (format === "jsonl") {
      await out.push(batch.join("\n") + "\n");
    } else {
      await out.push((n === 0 ? "\n" : ",\n") + batch.join(",\n"));
    }
    n += batch.length;
  }
  if (format === "json") await out.push(n === 0 ? "]\n" : "\n]\n");
  await out.flush();
  return n;
}

/** Options for {@linkcode writeRows}. */
export interface WriteRowsOptions {
  /** `json`, `jsonl` or `csv`. */
  format: Exclude<OutputFormat, "table">;
  /** CSV columns: each a header and how to get the value from a row. */
  csvColumns: readonly { header: string; get: (row: Record<string, unknown>) => unknown }[];
  /** Where to write. @default {new OutputBuffer()} */
  out?: OutputBuffer;
}

/**
 * Write streamed batches of rows in a machine format: `json` (one array,
 * streamed), `jsonl` (one object per line) or `csv` (header and rows),
 * numbers as `jsonText` and {@linkcode csvField} write them (a negative
 * zero `-0.0`). Returns the number of rows written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { OutputBuffer, writeRows } from "./_table.ts";
 * // Standard output by default; here a writer that keeps the text.
 * let text = "";
 * const out = new OutputBuffer({
 *   write(p) {
 *     text += new TextDecoder().decode(p);
 *     return Promise.resolve(p.length);
 *   },
 * });
 * async function* batches() {
 *   yield [{ run_id: "r1", label: "fast, cheap" }, { run_id: "r2", label: null }];
 * }
 * const n = await writeRows(batches(), {
 *   format: "csv",
 *   csvColumns: [
 *     { header: "run_id", get: (row) => row.run_id },
 *     { header: "label", get: (row) => row.label },
 *   ],
 *   out,
 * });
 * assert.equal(n, 2);
 * assert.equal(text, 'run_id,label\nr1,"fast, cheap"\nr2,\n');
 * ```
 */
export async function writeRows(
  batches: AsyncIterable<readonly Record<string, unknown>[]>,
  options: WriteRowsOptions,
): Promise<number> {
  const out = options.out ?? new OutputBuffer();
  let n = 0;
  if (options.format === "json") await out.push("[");
  if (options.format === "csv") {
    await out.push(options.csvColumns.map((c) => csvField(c.header)).join(",") + "\n");
  }
  for await (const batch of batches) {
    let text = "";
    for (const row of batch) {
      if (options.format === "json") {
        text += (n === 0 ? "\n" : ",\n") + jsonText(row);
      } else if (options.format === "jsonl") {
        text += jsonText(row) + "\n";
      } else {
        text += options.csvColumns.map((c) => csvField(c.get(row))).join(",") + "\n";
      }
      n++;
      if (text.length >= OutputBuffer.FLUSH_CHARS) {
        // A batch of long values would pass a string's limit (2^29 characters) as one text.
        await out.push(text);
        text = "";
      }
    }
    await out.push(text);
  }
  if (options.format === "json") await out.push(n === 0 ? "]\n" : "\n]\n");
  await out.flush();
  return n;
}
