/**
 * Stored JSON columns as the query modules read them: `null` stays `null`,
 * everything else goes through the one NaN-tolerant, depth-bounded parse of
 * `ledger/json_text.ts` (SPEC 3: Python's `NaN`/`Infinity`, and numbers past
 * a double's range such as `1e309`, read as `null`).
 *
 * Integers past 2^53 stay exact. `JSON.parse` rounds `9007199254740993` to
 * `9007199254740992`, while DuckDB (and so `--format jsonl` and `export`)
 * keeps the text; every reader here must show the value the log holds. Such
 * an integer is read as a raw JSON value ({@linkcode ExactInteger}, made by
 * `JSON.rawJSON` from the literal's own text): `JSON.stringify` writes it
 * back digit for digit, and {@linkcode isExactInteger} tells it apart. Only
 * a text with a run of 16 digits takes this path (a safe integer has at most
 * 16 digits, and a reviver parse is slower).
 *
 * @module
 */
import {
  type ExactInteger,
  isExactInteger,
  MAY_OVERFLOW_DOUBLE,
  MAY_OVERFLOW_EXPONENT,
  normalizeJsonText,
  parseJsonText,
} from "../../ledger/json_text.ts";
import { nonFiniteAsNull } from "../_line_checks.ts";

export { type ExactInteger, isExactInteger };

/**
 * Parse a stored JSON value; `null` and `undefined` give `null`. Integers
 * past 2^53 come back as {@linkcode ExactInteger} (exact), every other
 * number as a `number`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseJsonLenient } from "./_json.ts";
 * const v = parseJsonLenient('{"a": NaN, "b": "NaN", "c": 1e309}') as Record<string, unknown>;
 * assert.deepStrictEqual(v, { a: null, b: "NaN", c: null });
 * const big = parseJsonLenient('{"seed": 9007199254740993, "x": 0.5}');
 * assert.equal(JSON.stringify(big), '{"seed":9007199254740993,"x":0.5}');
 * ```
 */
export function parseJsonLenient(text: unknown): unknown {
  if (text === null || text === undefined) return null;
  const json = String(text);
  // 1e309 parses as Infinity, which a table or CSV would print: null, as NaN reads (SPEC 3).
  return parseJsonText(MAY_OVERFLOW_DOUBLE.test(json) ? normalizeJsonText(json) : json, {
    exactIntegers: true,
    firstKeys: true, // as DuckDB (`--where`, `export`) reads a repeated key
  });
}

/**
 * A text that may hold a non-finite number as the log spelled it (EVENTS.md
 * rule 5: `NaN`, `Infinity`, any letter case, `inf` too); numbers past a
 * double's range, `1e309`, are `MAY_OVERFLOW_EXPONENT`'s.
 */
const NON_FINITE_TOKEN = /\b(?:nan|inf(?:inity)?)\b/i;

/**
 * Whether the JSON text DuckDB gives (`runs --format jsonl`, a JSON field
 * of `--where`) may hold a non-finite number. DuckDB keeps the stored JSON
 * as written, so the outputs write such a text through `normalizeJsonText`:
 * those tokens become `null`, and nothing else changes (strings, number
 * spellings such as `1.0`, repeated keys). A text whose only such word is
 * in a string comes out unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { mayHoldNonFinite } from "./_json.ts";
 * assert.ok(mayHoldNonFinite('{"stop":NaN}') && mayHoldNonFinite("[1e309]"));
 * assert.ok(!mayHoldNonFinite('{"stop":0.5,"xs":[1.0]}'));
 * ```
 */
export function mayHoldNonFinite(text: string): boolean {
  return NON_FINITE_TOKEN.test(text) || MAY_OVERFLOW_EXPONENT.test(text);
}

/** {@linkcode mayHoldNonFinite} as an RE2 pattern, for DuckDB's `regexp_matches`. */
const MAY_HOLD_NON_FINITE_RE2 = `(?i)${NON_FINITE_TOKEN.source}|${MAY_OVERFLOW_EXPONENT.source}`;

/**
 * SQL of the text the outputs print of the JSON object or array whose
 * DuckDB text (minified, as `json_extract` gives it) is the SQL `text`:
 * that text, its non-finite numbers written `null` as `normalizeJsonText`
 * writes them for `--format jsonl` (see {@linkcode mayHoldNonFinite}), so
 * that `--where` and `--sort` read what every output shows (an oracle
 * audit: `{"stop": NaN}` matched `~ 'NaN'` and missed `= '{"stop":null}'`).
 * `text` should be a column or a lambda's variable: it is read up to four
 * times. Only a text that may hold such a number is rewritten, by the
 * index's own rewrite (`nonFiniteAsNull` of `indexer/_line_checks.ts`,
 * which stores such numbers as `null` since index format 10): here for an
 * index of format 9 and legacy rows, whose text keeps them as written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { printedJsonTextSql } from "./_json.ts";
 * assert.match(printedJsonTextSql("t"), /^CASE WHEN regexp_matches\(t, /);
 * ```
 */
export function printedJsonTextSql(text: string): string {
  return `CASE WHEN regexp_matches(${text}, '${MAY_HOLD_NON_FINITE_RE2}') ` +
    `THEN ${nonFiniteAsNull(text)} ELSE ${text} END`;
}

/** From here on every double is an integer, and `JSON.stringify` writes it as one. */
const DOUBLE_INTEGRAL_MIN = 2 ** 53;

/**
 * `JSON.stringify(value, null, indent)`, except for two doubles it writes
 * otherwise than DuckDB and `--format jsonl` do:
 *
 * - a double from 2^53 on (which came from a float in the log: such
 *   integers stay {@linkcode ExactInteger}) is written as a float,
 *   `9223372036854776000.0`. `JSON.stringify` wrote `9223372036854776000`,
 *   which Python and other exact readers take for an integer 192 past the
 *   logged `9.223372036854776e+18` (an oracle audit: `show --json` and
 *   `compare --json` disagreed with `runs` there);
 * - a negative zero is written `-0.0`, as Python writes it, where
 *   `JSON.stringify` wrote `0` (an oracle audit).
 *
 * A value that holds neither is written by `JSON.stringify` alone (a
 * replacer makes it about 3x slower). A string longer than
 * {@linkcode JSON_STRING_WHOLE_MAX} is escaped a slice at a time: V8 ends
 * the process for `JSON.stringify` of one past 2^28 characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { jsonText, parseJsonLenient } from "./_json.ts";
 * const v = parseJsonLenient('{"f": 9.223372036854776e+18, "i": 9223372036854775808, "x": 0.5}');
 * assert.equal(jsonText(v), '{"f":9223372036854776000.0,"i":9223372036854775808,"x":0.5}');
 * assert.equal(jsonText({ big: 1e300 }), '{"big":1e+300}');
 * assert.equal(jsonText({ inf: Infinity }), '{"inf":null}');
 * assert.equal(jsonText(parseJsonLenient('{"z": -0.0, "n": 0}')), '{"z":-0.0,"n":0}');
 * ```
 */
export function jsonText(value: unknown, indent?: number): string {
  if (needsReplacer(value)) return JSON.stringify(value, replacer, indent);
  // One argument: V8's fast path (with `null, undefined` it took 1.5x as long).
  return indent === undefined ? JSON.stringify(value) : JSON.stringify(value, null, indent);
}

/**
 * Characters of the longest string given to `JSON.stringify` whole, and of
 * each slice of a longer one. V8 ends the process ("Fatal process out of
 * memory: Zone", exit 133) for `JSON.stringify` of a string past 2^28
 * characters (measured: 268,435,440 written, 268,435,460 fatal), which is
 * not an error anyone can catch: a probe's value of 300 MB in `ledger sql
 * --format json`.
 */
export const JSON_STRING_WHOLE_MAX = 2 ** 24;

/**
 * Whether `value` holds a number or a string {@linkcode replacer} writes
 * otherwise. Recursive, as `JSON.stringify` is (no deeper); 4x faster than
 * a walk with a stack of `Object.values` (`ledger sql --format jsonl` of
 * 300k rows: 20 ms against 90 ms over `JSON.stringify` alone).
 */
function needsReplacer(value: unknown): boolean {
  if (typeof value === "number") return isFloatToWrite(value);
  if (typeof value === "string") return value.length > JSON_STRING_WHOLE_MAX;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (needsReplacer(item)) return true;
    return false;
  }
  if (isExactInteger(value)) return false;
  for (const key in value) {
    if (needsReplacer((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

function isFloatToWrite(value: number): boolean {
  // Not ±Infinity (JSON.stringify writes null for it; a review: rawJSON("Infinity.0") threw).
  return Object.is(value, -0) ||
    (Number.isFinite(value) && Math.abs(value) >= DOUBLE_INTEGRAL_MIN);
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "string") {
    return value.length > JSON_STRING_WHOLE_MAX ? RAW_JSON.rawJSON(longStringJson(value)) : value;
  }
  if (typeof value !== "number" || !isFloatToWrite(value)) return value;
  if (value === 0) return RAW_JSON.rawJSON("-0.0");
  const text = String(value);
  return RAW_JSON.rawJSON(/[.e]/.test(text) ? text : `${text}.0`);
}

/**
 * `JSON.stringify(text)` of a string of any length: escaped a slice of
 * {@linkcode JSON_STRING_WHOLE_MAX} characters at a time, never cutting a
 * surrogate pair (whose halves alone would be written as `\\udXXX` escapes).
 */
function longStringJson(text: string): string {
  const slices: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + JSON_STRING_WHOLE_MAX, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate
    slices.push(JSON.stringify(text.slice(start, end)).slice(1, -1));
    start = end;
  }
  return `"${slices.join("")}"`;
}

/** `JSON.rawJSON` (ES2025), which the TypeScript lib in use does not type yet. */
const RAW_JSON = JSON as unknown as { rawJSON(text: string): unknown };
