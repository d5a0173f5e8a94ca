/**
 * Stored JSON columns as the query modules read them: `null` stays `null`,
 * everything else goes through the one NaN-tolerant, depth-bounded parse of
 * `ledger/json_text.ts` (SPEC 3: Python's `NaN`/`Infinity` read as `null`).
 *
 * @module
 */
import { parseJsonText } from "../../ledger/json_text.ts";

/**
 * Parse a stored JSON value; `null` and `undefined` give `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseJsonLenient } from "./_json.ts";
 * const v = parseJsonLenient('{"a": NaN, "b": "NaN"}') as Record<string, unknown>;
 * assert.deepStrictEqual(v, { a: null, b: "NaN" });
 * ```
 */
export function parseJsonLenient(text: unknown): unknown {
  if (text === null || text === undefined) return null;
  return parseJsonText(String(text));
}
