/**
 * `printedJsonTextSql` (the text `--where` and `--sort` read of an object or
 * array) agrees with the text `--format jsonl` prints (`normalizeJsonText`
 * of a text that `mayHoldNonFinite`)
 * on seeded random JSON as Python writes it: non-finite numbers in every
 * spelling the log takes, numbers past a double's range, and strings and
 * keys that spell them, which stay as they are.
 */
import { strictEqual as equal } from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { mayHoldNonFinite, printedJsonTextSql } from "../../indexer/query/_json.ts";
import { normalizeJsonText } from "../../ledger/json_text.ts";
import { SeededRandom } from "../_helpers.ts";

const NON_FINITE = ["NaN", "nan", "Infinity", "-Infinity", "inf", "-inf", "INF", "-NaN"];
const NUMBERS = [
  "1",
  "-0.0",
  "1.5",
  "1e309",
  "-2.5E+400",
  "1e308",
  "9".repeat(309),
  "1e-400",
  `1${"0".repeat(300)}e10`, // past a double with a short exponent (a review)
  `-1${"0".repeat(150)}.5e200`,
  `1${"0".repeat(98)}e99`, // below: kept as written
];
const STRINGS = [
  "NaN",
  "x:NaN,",
  'say \\"Infinity\\" \\\\',
  "inf]",
  "nano",
  "Infinity2",
  "1e309",
  "\\u00e9t\\u00e9",
  "",
];

function value(rng: SeededRandom, depth: number): string {
  const pick = <T>(xs: readonly T[]) => xs[rng.int(0, xs.length - 1)];
  const kind = depth > 3 ? rng.int(0, 2) : rng.int(0, 4);
  if (kind === 0) return pick(NON_FINITE);
  if (kind === 1) return pick(NUMBERS);
  if (kind === 2) return `"${pick(STRINGS)}"`;
  const n = rng.int(0, 4);
  const items = Array.from({ length: n }, () => value(rng, depth + 1));
  if (kind === 3) return `[${items.join(", ")}]`;
  return `{${items.map((v, i) => `"${pick(STRINGS)}${i}": ${v}`).join(", ")}}`;
}

Deno.test("printedJsonTextSql agrees with normalizeJsonText on random Python JSON", async () => {
  const rng = new SeededRandom(20261201);
  const texts = Array.from(
    { length: 400 },
    () =>
      rng.int(0, 1) === 0
        ? `{"a": ${value(rng, 1)}, "b": [${value(rng, 1)}, ${value(rng, 1)}]}`
        : `[${value(rng, 1)}, {"NaN": ${value(rng, 1)}}]`,
  );
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run("CREATE TABLE t (i INTEGER, raw VARCHAR)");
    const appender = await conn.createAppender("t");
    texts.forEach((text, i) => {
      appender.appendInteger(i);
      appender.appendVarchar(text);
      appender.endRow();
    });
    appender.closeSync();
    const reader = await conn.runAndReadAll(
      `SELECT i, d, ${printedJsonTextSql("d")} AS printed
      FROM (SELECT i, json_extract(raw, '$')::VARCHAR AS d FROM t) ORDER BY i`,
    );
    const rows = reader.getRowObjectsJS() as { i: number; d: string; printed: string }[];
    equal(rows.length, texts.length);
    let changed = 0;
    for (const { i, d, printed } of rows) {
      // What `--format jsonl` prints: the text rewritten when it may hold such a number.
      const expected = mayHoldNonFinite(d) ? normalizeJsonText(d) : d;
      equal(printed, expected, `text ${i}: ${texts[i]}`);
      if (expected !== d) changed++;
    }
    // The set exercises the rewrite, not only the texts left as they are.
    equal(changed > texts.length / 2, true, `${changed} of ${texts.length} rewritten`);
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
});
