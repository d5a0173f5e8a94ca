import assert from "node:assert/strict";
import { canonicalJson } from "../../ledger/json_text.ts";
import { distinctCells } from "../../ledger/control_text.ts";
import { SeededRandom } from "../_helpers.ts";

/** The rule as first written: every pair of values compared (quadratic). */
function distinctCellsPairwise(
  values: readonly unknown[],
  cells: readonly string[],
  shown: (cell: string) => string,
): string[] {
  const seen = cells.map(shown);
  const collide = values.some((v, i) =>
    values.some((w, j) => j < i && seen[i] === seen[j] && canonicalJson(v) !== canonicalJson(w))
  );
  if (!collide) return [...cells];
  return values.map((v) => (v === null || v === undefined ? "-" : JSON.stringify(v)));
}

Deno.test("distinctCells: one pass, the same cells as comparing every pair", async (t) => {
  // Values that print alike in a table: 3 and "3", "x" and "x ", a newline and "\n", numbers
  // shortened alike, key orders of one object, null and undefined.
  const pool: [unknown, string][] = [
    [3, "3"],
    ["3", "3"],
    ["x", "x"],
    ["x ", "x "],
    ["a\nb", "a\\nb"],
    ["a\\nb", "a\\nb"],
    [0.12345, "0.1235"],
    [0.12346, "0.1235"],
    [{ a: 1, b: 2 }, '{"a":1,"b":2}'],
    [{ b: 2, a: 1 }, '{"b":2,"a":1}'],
    [null, "-"],
    [undefined, "-"],
    ["-", "-"],
  ];
  const shown = (cell: string) => cell.trim();

  await t.step("random rows drawn from values that collide", () => {
    const random = new SeededRandom(20_260_214);
    const next = () => random.next();
    for (let round = 0; round < 2_000; round++) {
      const n = 1 + Math.floor(next() * 8);
      const width = 1 + Math.floor(next() * pool.length);
      const picked = Array.from({ length: n }, () => pool[Math.floor(next() * width)]);
      const values = picked.map(([v]) => v);
      const cells = picked.map(([, c]) => c);
      assert.deepEqual(
        distinctCells(values, cells, shown),
        distinctCellsPairwise(values, cells, shown),
        JSON.stringify(cells),
      );
    }
  });

  await t.step("a collision after many rows shown alike and equal is still found", () => {
    const values: unknown[] = [...Array(500).fill("p"), "p ", "q"];
    const cells = values.map(String);
    const expected = values.map((v) => JSON.stringify(v));
    assert.deepEqual(distinctCells(values, cells, shown), expected);
    assert.deepEqual(distinctCellsPairwise(values, cells, shown), expected);
  });

  await t.step("each value is read a bounded number of times, not once per other value", () => {
    // 300 equal objects shown alike: comparing every pair read each one 300 times (a scale
    // audit: a compare of 50,000 phases took 9 s in this function).
    let reads = 0;
    const n = 300;
    const values = Array.from({ length: n }, () =>
      new Proxy({ a: 1 }, {
        ownKeys(target) {
          reads++;
          return Reflect.ownKeys(target);
        },
      }));
    const cells = values.map(() => "same");
    assert.deepEqual(distinctCells(values, cells, shown), cells);
    assert.ok(reads <= 2 * n, `${reads} reads of ${n} values`);
  });
});
