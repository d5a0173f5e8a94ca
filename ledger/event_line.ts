/**
 * The one definition of a valid line of the log (docs/EVENTS.md, "What makes
 * a line valid"), used by the reader and so by `verify`; the indexer checks
 * the same rules in SQL (`indexer/schema.ts`) and the writer never writes a
 * line that breaks them (`events.ts` refuses the event first). A test runs
 * all three over one table of lines (tests/ledger/line_rules_test.ts).
 *
 * In order, a complete line (its `\n` excluded) is invalid when it:
 * 1. is longer than {@linkcode LINE_BYTES_MAX} with its newline;
 * 2. is empty, or holds a NUL byte;
 * 3. starts with a UTF-8 byte order mark anywhere but at the start of a file
 *    (there it is skipped), or is not UTF-8;
 * 4. holds a lone UTF-16 surrogate escape, or nests deeper than
 *    {@linkcode JSON_DEPTH_MAX};
 * 5. is not JSON, where `NaN`, `Infinity`, `-Infinity` (any case, `inf`)
 *    are read as `null` and a trailing comma before `]`/`}` is dropped, as
 *    Python and DuckDB write and read them;
 * 6. is not an object (a repeated top-level key keeps its FIRST value, as
 *    DuckDB reads it; `verify` warns);
 * 7. is not a valid event (`validateEvent`: integers may be written `5.0` or
 *    `5e0`, `null` in an optional field means absent).
 *
 * @module
 */
import { type LedgerEvent, LINE_BYTES_MAX, validateEvent, type ValidationMode } from "./events.ts";
import { ValidationError } from "./errors.ts";
import { firstKeysWin, JSON_DEPTH_MAX, normalizeJsonText, scanJsonText } from "./json_text.ts";

/** Options for {@linkcode checkEventLine}. */
export interface CheckEventLineOptions {
  /** Validation mode: `"read"` accepts run ids of older writers. @default {"read"} */
  mode?: ValidationMode;
  /** The line is the first of its file (a byte order mark is skipped there). @default {false} */
  startOfFile?: boolean;
}

/** The verdict on one line: the event (and how many non-finite numbers read as `null`), or why not. */
export type LineVerdict =
  | { ok: true; event: LedgerEvent; nonFiniteCount: number; repeatedKey: boolean }
  | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BOM = [0xef, 0xbb, 0xbf];

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
  if (bytes.length + 1 > LINE_BYTES_MAX) {
    return {
      ok: false,
      reason: `line of ${bytes.length + 1} bytes is longer than the limit of ${LINE_BYTES_MAX} ` +
        `bytes (newline included)`,
    };
  }
  if (bytes.length === 0) return { ok: false, reason: "empty line" };
  if (bytes.includes(0)) return { ok: false, reason: "NUL bytes in line (data lost in a crash)" };
  if (BOM.every((b, i) => bytes[i] === b)) {
    if (!options.startOfFile) {
      return {
        ok: false,
        reason: "byte order mark (U+FEFF) before a line that does not start the file",
      };
    }
    bytes = bytes.subarray(BOM.length);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    return { ok: false, reason: `not UTF-8: ${(err as Error).message}` };
  }
  return checkEventText(text, options.mode ?? "read");
}

function checkEventText(text: string, mode: ValidationMode): LineVerdict {
  const facts = scanJsonText(text);
  if (facts.loneSurrogate) {
    return {
      ok: false,
      reason: "lone UTF-16 surrogate escape in a string (not well-formed Unicode)",
    };
  }
  if (facts.depthMax > JSON_DEPTH_MAX) {
    return {
      ok: false,
      reason: `nested ${facts.depthMax} levels deep (at most ${JSON_DEPTH_MAX})`,
    };
  }
  let value: unknown;
  let repeatedKey = false;
  try {
    const lenient = facts.nonFiniteCount > 0 || facts.trailingCommaCount > 0;
    const json = lenient ? normalizeJsonText(text) : text;
    const parsed = JSON.parse(json);
    value = firstKeysWin(parsed, json, facts.topLevelMembers); // as for the indexer
    repeatedKey = value !== parsed;
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  try {
    const event = validateEvent(value, { mode });
    return { ok: true, event, nonFiniteCount: facts.nonFiniteCount, repeatedKey };
  } catch (err) {
    if (err instanceof ValidationError) return { ok: false, reason: err.message };
    throw err; // not bad content: a bug
  }
}
