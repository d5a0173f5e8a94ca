/**
 * Stored JSON columns as the query modules read them: `null` stays `null`,
 * everything else goes through the one NaN-tolerant, depth-bounded parse of
 * `ledger/json_text.ts` (SPEC 3: Python's `NaN`/`Infinity` read as `null`).
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
  JSON_DEPTH_MAX,
  normalizeJsonText,
  parseJsonText,
  scanJsonText,
} from "../../ledger/json_text.ts";

/**
 * An integer literal past `Number.MAX_SAFE_INTEGER` (either sign), kept as
 * its JSON text: a frozen raw JSON object (`JSON.rawJSON`) that
 * `JSON.stringify` writes as the number itself. `String()` of it throws (it
 * has no prototype): read its digits from `rawJSON`.
 */
export interface ExactInteger {
  /** The integer as written in the JSON text, e.g. `9007199254740993`. */
  readonly rawJSON: string;
}

/** JSON source text access (ES2025), which the TypeScript lib in use does not type yet. */
interface JsonSourceAccess {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): ExactInteger;
  isRawJSON(value: unknown): boolean;
}
const JSON_SOURCE = JSON as unknown as JsonSourceAccess;

/** A run of digits long enough to hold an integer past 2^53 (16 digits). */
const LONG_DIGITS = /\d{16}/;
/** An integer literal of JSON. */
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * Parse a stored JSON value; `null` and `undefined` give `null`. Integers
 * past 2^53 come back as {@linkcode ExactInteger} (exact), every other
 * number as a `number`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseJsonLenient } from "./_json.ts";
 * const v = parseJsonLenient('{"a": NaN, "b": "NaN"}') as Record<string, unknown>;
 * assert.deepStrictEqual(v, { a: null, b: "NaN" });
 * const big = parseJsonLenient('{"seed": 9007199254740993, "x": 0.5}');
 * assert.equal(JSON.stringify(big), '{"seed":9007199254740993,"x":0.5}');
 * ```
 */
export function parseJsonLenient(text: unknown): unknown {
  if (text === null || text === undefined) return null;
  const s = String(text);
  if (!LONG_DIGITS.test(s)) return parseJsonText(s);
  // A value nested past the limit is cut by parseJsonText (such a value is never indexed).
  if (s.length > 2 * JSON_DEPTH_MAX && scanJsonText(s).depthMax > JSON_DEPTH_MAX) {
    return parseJsonText(s);
  }
  try {
    return JSON_SOURCE.parse(s, keepExactIntegers);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // NaN, Infinity and trailing commas, as parseJsonText reads them; else the same error.
    return JSON_SOURCE.parse(normalizeJsonText(s), keepExactIntegers);
  }
}

function keepExactIntegers(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context.source;
  return source !== undefined && INTEGER_LITERAL.test(source) ? JSON_SOURCE.rawJSON(source) : value;
}

/**
 * Whether `value` is an integer {@linkcode parseJsonLenient} kept exact.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isExactInteger, parseJsonLenient } from "./_json.ts";
 * const seed = parseJsonLenient("9007199254740993");
 * assert.ok(isExactInteger(seed));
 * assert.equal(seed.rawJSON, "9007199254740993");
 * assert.ok(!isExactInteger(parseJsonLenient("12")));
 * ```
 */
export function isExactInteger(value: unknown): value is ExactInteger {
  return JSON_SOURCE.isRawJSON(value);
}
