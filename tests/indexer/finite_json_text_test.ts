/**
 * `finiteJsonText` (the index's JSON columns, SPEC 3) against the reader's
 * own `normalizeJsonText` on generated objects: non-finite numbers in every
 * spelling DuckDB reads, numbers past a double's range, and strings and keys
 * built to fool a text rewrite (quotes, backslashes, `\u0022`, `:NaN,`,
 * `[inf`). The fragment goes through DuckDB's `from_json` as a line's field
 * does in the indexer, then through the SQL; a strict `JSON.parse` of the
 * result must give what the lenient reader gives for the line's text.
 */
import assert from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { finiteJsonText, mayHoldNonFinite } from "../../indexer/_line_checks.ts";
import { normalizeJsonText } from "../../ledger/json_text.ts";
import { SeededRandom } from "../_helpers.ts";

const NON_FINITE = ["NaN", "-NaN", "nan", "Infinity", "-Infinity", "inf", "-INF", "infinity"];
// Not `-0`: DuckDB's reader writes it `0` before the rewrite sees it (docs/EVENTS.md).
const NUMBERS = [
  "0",
  "-1",
  "2.5",
  "1e300",
  "1e400",
  "-1E+400",
  "1.5e-7",
  "100.0",
  "-2.0e-0",
  // Past a double's range without a three-digit exponent (a probe: kept as written), and not.
  "1" + "0".repeat(400),
  "-" + "9".repeat(309) + ".5",
  "1" + "0".repeat(300) + "e99",
  "1" + "0".repeat(250) + "e20",
  "9".repeat(199),
];
const STRING_PARTS = [
  "NaN",
  ":NaN,",
  "[inf",
  ", -Infinity]",
  '\\"',
  "\\\\",
  "\\u0022",
  "\\n",
  "é",
  "😀",
  "1e400",
  "x",
  "",
];
const BLANKS = ["", " ", "  ", "\t"];

function generate(rand: SeededRandom, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[rand.int(0, xs.length - 1)];
  const blank = () => pick(BLANKS);
  const str = () =>
    `"${Array.from({ length: rand.int(0, 3) }, () => pick(STRING_PARTS)).join("")}"`;
  const value = (): string => {
    const roll = rand.next();
    if (depth > 0 && roll < 0.15) return generate(rand, depth - 1);
    if (depth > 0 && roll < 0.3) {
      const items = Array.from({ length: rand.int(0, 4) }, () => `${blank()}${value()}${blank()}`);
      return `[${items.join(",")}]`;
    }
    if (roll < 0.5) return pick(NON_FINITE);
    if (roll < 0.7) return pick(NUMBERS);
    if (roll < 0.9) return str();
    return pick(["true", "false", "null"]);
  };
  const members = Array.from(
    { length: rand.int(0, 5) },
    (_, i) => `${blank()}"k${i}${str().slice(1, -1)}"${blank()}:${blank()}${value()}`,
  );
  return `{${members.join(",")}}`;
}

Deno.test("mayHoldNonFinite: true of every non-finite spelling, false of null and numbers", async () => {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const may = async (text: string) =>
      (await conn.runAndReadAll(`SELECT ${mayHoldNonFinite("$1::VARCHAR")}`, [text]))
        .getRows()[0][0];
    for (
      const token of [...NON_FINITE, "1e400", "1" + "0".repeat(309), "1" + "0".repeat(210) + "e99"]
    ) {
      assert.equal(await may(`{"a":${token}}`), true, token);
      assert.equal(await may(`{"a":[1,${token}]}`), true, token);
    }
    // What most objects hold: each of these spared the tokens (null was not: a probe).
    for (const text of ['{"a":null,"b":[null,null],"c":-1.5e-10}', '{"a":1e99,"b":true}', "{}"]) {
      assert.equal(await may(text), false, text);
    }
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
});

Deno.test("finiteJsonText: strict JSON, as the lenient reader reads the line", async () => {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const rand = new SeededRandom(20261206);
    let changed = 0;
    for (let i = 0; i < 400; i++) {
      const object = generate(rand, 3);
      const line = `{"o": ${object}}`;
      const reader = await conn.runAndReadAll(
        `SELECT ${finiteJsonText("v")} AS out, v FROM (
          SELECT from_json($1, '{"o": "JSON"}').o::VARCHAR AS v)`,
        [line],
      );
      const [out, stored] = reader.getRows()[0].map(String);
      let parsed: unknown;
      try {
        parsed = JSON.parse(out);
      } catch (err) {
        assert.fail(`${object}\n  stored ${stored}\n  gave ${out}: ${err}`);
      }
      assert.deepEqual(parsed, JSON.parse(normalizeJsonText(object)), `${object}\n  gave ${out}`);
      if (out !== stored) changed++;
    }
    // The generator is not idle: most objects hold a value to write as null.
    assert.ok(changed > 200, `${changed} of 400 changed`);
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
});
