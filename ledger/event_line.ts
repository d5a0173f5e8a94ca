/**
 * The one definition of a valid line of the log (docs/EVENTS.md, "What makes
 * a line valid"), used by the reader and so by `verify`; the indexer checks
 * the same rules in SQL (`indexer/schema.ts`) and the writer never writes a
 * line that breaks them (`events.ts` refuses the event first). A test runs
 * all three over one table of lines (tests/ledger/line_rules_test.ts).
 *
 * In order, a complete line (its `\n` excluded) is invalid when it:
 * 1. is longer than `LINE_BYTES_MAX` (`limits.ts`) with its newline;
 * 2. is empty, or holds a NUL byte;
 * 3. starts with a UTF-8 byte order mark anywhere but at the start of a file
 *    (there it is skipped), or is not UTF-8;
 * 4. holds a lone UTF-16 surrogate escape, or nests deeper than
 *    `JSON_DEPTH_MAX` (`json_text.ts`);
 * 5. is not JSON, where `NaN`, `Infinity`, `-Infinity` (any case, `inf`)
 *    are read as `null` and a trailing comma before `]`/`}` is dropped, as
 *    Python and DuckDB write and read them;
 * 6. is not an object (a repeated top-level key keeps its FIRST value, as
 *    DuckDB reads it; `verify` warns);
 * 7. is not a valid event (`validateEvent`: integers may be written `5.0` or
 *    `5e0`, `null` in an optional field means absent).
 *
 * Rules 1-6 are `line_value.ts`'s {@linkcode readLineValue} (zod-free).
 *
 * @module
 */
import { type LedgerEvent, validateEvent, type ValidationMode } from "./events.ts";
import { ValidationError } from "./errors.ts";
import { readLineValue } from "./line_value.ts";
import { topLevelValueText } from "./json_text.ts";
import { checkLoggedEvent } from "./event_write.ts";

/**
 * Options for {@linkcode checkEventLine}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkEventLine, type CheckEventLineOptions } from "./event_line.ts";
 * const line = '\uFEFF{"event_type":"run.started","event_id":"e1","timestamp_ms":1,"run_id":"r1"}';
 * const bytes = new TextEncoder().encode(line); // starts with a UTF-8 byte order mark
 * const first: CheckEventLineOptions = { startOfFile: true };
 * assert.ok(checkEventLine(bytes, first).ok); // skipped at the start of a file
 * assert.ok(!checkEventLine(bytes).ok); // invalid anywhere else
 * ```
 */
export interface CheckEventLineOptions {
  /** Validation mode: `"read"` accepts run ids of older writers. @default {"read"} */
  mode?: ValidationMode;
  /** The line is the first of its file (a byte order mark is skipped there). @default {false} */
  startOfFile?: boolean;
}

/**
 * The verdict on one line: the event (with how many non-finite numbers read as `null` and
 * whether a key was repeated), or why not.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkEventLine, type LineVerdict } from "./event_line.ts";
 * const line = new TextEncoder().encode('{"event_type":"run.noted","note":"hi"}');
 * const verdict: LineVerdict = checkEventLine(line);
 * assert.ok(!verdict.ok); // narrowed: a refused line has a reason instead of an event
 * assert.match(verdict.reason, /event_id is required/);
 * ```
 */
export type LineVerdict =
  | { ok: true; event: LedgerEvent; nonFiniteCount: number; repeatedKey: boolean }
  | { ok: false; reason: string };

/**
 * Check one complete line of the log (without its `\n`). Never throws for
 * bad content.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkEventLine } from "./event_line.ts";
 * const line = '{"event_type":"run.started","event_id":"e1","timestamp_ms":1.0e12,' +
 *   '"run_id":"r1","host":null,"pid":NaN}';
 * const verdict = checkEventLine(new TextEncoder().encode(line));
 * assert(verdict.ok);
 * assert.equal(verdict.nonFiniteCount, 1);
 * ```
 */
export function checkEventLine(
  bytes: Uint8Array,
  options: CheckEventLineOptions = {},
): LineVerdict {
  const read = readLineValue(bytes, options); // rules 1-6
  if (!read.ok) return read;
  try {
    // Rule 7: zod decides what the zod-free check cannot (and names what is wrong).
    const event = checkLoggedEvent(read.value) ??
      validateEvent(read.value, { mode: options.mode ?? "read" });
    return { ok: true, event, nonFiniteCount: read.nonFiniteCount, repeatedKey: read.repeatedKey };
  } catch (err) {
    if (err instanceof ValidationError) {
      return { ok: false, reason: reasonAsWritten(err, bytes, read.repeatedKey) };
    }
    throw err; // not bad content: a bug
  }
}

/**
 * The validation error's message, quoting a top-level number as the line
 * wrote it: the parse gives `9007199254740993` as `...992` and `1e400` as
 * `null`, and `verify` would otherwise name a value the line does not hold
 * (the index's `ingest_errors` quotes the text); a non-finite number is
 * quoted as spelled (`NaN`, `-inf`, read as `null`; `1e400`), in a nested
 * field too (`tags.label`). Left as it is when its key repeats at the top
 * (the first value counts), and for a finite number of a nested field.
 */
function reasonAsWritten(err: ValidationError, bytes: Uint8Array, repeatedKey: boolean): string {
  const got = err.got;
  if (got === undefined || repeatedKey) return err.message;
  // A non-finite number is named as such ("got Infinity" of `1e400`): quoted as written too.
  if (got !== "null" && !NON_FINITE_TEXT.has(got) && !NUMBER_TEXT.test(got)) return err.message;
  const suffix = `, got ${got}`;
  if (!err.message.endsWith(suffix)) return err.message;
  const nested = err.field.includes(".");
  if (nested && got !== "null" && !NON_FINITE_TEXT.has(got)) return err.message;
  const written = (nested ? undefined : topLevelNumberText(bytes, err.field)) ??
    nonFiniteText(bytes, err.field);
  if (written === undefined || written === got) return err.message;
  return `${err.message.slice(0, -suffix.length)}, got ${written}`;
}

/**
 * The non-finite number at `field` (a top-level key, or a path of keys
 * joined with `.`: `tags.label`) as the line spelled it (`NaN`, `-inf`,
 * `1e400`), which the reader reads as `null` or Infinity: `verify` said
 * "got null" where the index says "got NaN" (two probes). Undefined when
 * the value there is anything else.
 */
function nonFiniteText(bytes: Uint8Array, field: string): string | undefined {
  let text: string | undefined = new TextDecoder().decode(bytes).replace(/^\uFEFF/, "");
  for (const key of field.split(".")) {
    if (text === undefined) return undefined;
    text = topLevelValueText(text, key);
  }
  if (text === undefined) return undefined;
  // `1e400` too: a number past a double's range, which the parse made Infinity.
  const nonFinite = NON_FINITE_TOKEN.test(text) ||
    (NUMBER_TEXT.test(text) && !Number.isFinite(Number(text)));
  return nonFinite ? text : undefined;
}

/** A whole non-finite token as the log's readers take it (any letter case). */
const NON_FINITE_TOKEN = /^-?(?:nan|inf(?:inity)?)$/i;

/** The start of a JSON number's text. */
const NUMBER_TEXT = /^-?\d/;
/** How a validation error names a non-finite number it was given. */
const NON_FINITE_TEXT: ReadonlySet<string> = new Set(["NaN", "Infinity", "-Infinity"]);

/** `JSON.parse` with the source text of primitives (ES2025), not typed by this TypeScript lib. */
type ParseWithSource = (
  text: string,
  reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown,
) => unknown;

/**
 * The text of the number at top-level key `field` of the line, or undefined
 * (not a number there, or a line `JSON.parse` refuses as written).
 */
function topLevelNumberText(bytes: Uint8Array, field: string): string | undefined {
  const seen: { holder: unknown; source: string }[] = [];
  let root: unknown;
  try {
    root = (JSON.parse as ParseWithSource)(
      new TextDecoder().decode(bytes).replace(/^\uFEFF/, ""),
      function (key, value, context) {
        if (key === field && typeof value === "number" && context.source !== undefined) {
          seen.push({ holder: this, source: context.source });
        }
        return value;
      },
    );
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  return seen.find((s) => s.holder === root)?.source;
}
