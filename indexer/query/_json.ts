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
  normalizeJsonText,
  parseJsonText,
} from "../../ledger/json_text.ts";

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
  });
}
