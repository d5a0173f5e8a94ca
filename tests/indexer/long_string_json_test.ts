/**
 * A string past 2^28 characters in JSON output. V8 ends the process
 * ("Fatal process out of memory: Zone", exit 133: nothing to catch) for
 * `JSON.stringify` of such a string, so `ledger sql "SELECT repeat('x',
 * 300000000) AS v" --format json` died where csv printed it (a probe).
 * {@linkcode jsonText} escapes a string longer than
 * {@linkcode JSON_STRING_WHOLE_MAX} a slice at a time.
 *
 * @module
 */
import { strictEqual as equal } from "node:assert/strict";
import { JSON_STRING_WHOLE_MAX, jsonText } from "../../indexer/query/_json.ts";

Deno.test("jsonText: a string past 2^28 characters is written, not a fatal error", () => {
  // Flat, as DuckDB's strings are ("x".repeat makes one V8 handles apart).
  const chars = 2 ** 28 + 64;
  const value = new TextDecoder().decode(new Uint8Array(chars).fill(0x78));
  const text = jsonText({ v: value, n: 1 });
  equal(text.length, chars + `{"v":"","n":1}`.length);
  equal(text.slice(0, 8), `{"v":"xx`);
  equal(text.slice(-9), `xxxx","n":1}`.slice(-9));
});

Deno.test("jsonText: a long string is escaped as JSON.stringify escapes it, pairs kept whole", () => {
  const head = "a".repeat(JSON_STRING_WHOLE_MAX - 1);
  const cases = [
    // A surrogate pair across the first slice's end: its halves alone would be \udXXX escapes.
    head + "\u{1F600}" + "b",
    // Quotes, backslashes, control characters and a lone surrogate on both sides of the cut.
    head + '"\\\n\u0001\ud800' + "c".repeat(JSON_STRING_WHOLE_MAX) + "\udc00\t",
  ];
  for (const value of cases) {
    equal(jsonText(value), JSON.stringify(value));
    equal(jsonText([{ k: value }], 1), JSON.stringify([{ k: value }], null, 1));
  }
});
