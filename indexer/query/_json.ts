/**
 * Parse JSON text stored in the index without failing on what Python's
 * `json.dumps` writes for non-finite floats: bare `NaN`, `Infinity` and
 * `-Infinity` read as `null` (SPEC 3). Strings that contain those words are
 * left alone.
 *
 * (A shared NaN-tolerant helper is being added to `ledger/` by another
 * change; this small one serves the query modules until then.)
 *
 * @module
 */

const NON_FINITE = /-?\b(?:NaN|Infinity)\b/;

/**
 * Parse `text` as JSON; bare `NaN`, `Infinity`, `-Infinity` become `null`.
 * `null` and `undefined` give `null`.
 *
 * @example
 * ```ts
 * import { parseJsonLenient } from "./_json.ts";
 * const v = parseJsonLenient('{"a": NaN, "b": "NaN"}') as Record<string, unknown>;
 * console.assert(v.a === null && v.b === "NaN");
 * ```
 */
export function parseJsonLenient(text: unknown): unknown {
  if (text === null || text === undefined) return null;
  const s = String(text);
  try {
    return JSON.parse(s);
  } catch (err) {
    if (!(err instanceof SyntaxError) || !NON_FINITE.test(s)) throw err;
    return JSON.parse(replaceNonFinite(s));
  }
}

/** `s` with every bare NaN / Infinity / -Infinity outside strings replaced by `null`. */
function replaceNonFinite(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^-?(?:NaN|Infinity)/.exec(s.slice(i, i + 9));
    if (m !== null) {
      out += "null";
      i += m[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}
