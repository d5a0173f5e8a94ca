/**
 * Leaving columns out to fit (`ledger trials`, `runs`): each column's width
 * is computed once, and the result is the one of fitting the whole table
 * anew after each column left out (a scale audit: 144 s for 5,000 columns).
 */
import assert from "node:assert/strict";
import {
  cellWidth,
  escapeControl,
  formatTable,
  leaveOutToFit,
  tableFits,
} from "../../cli/_table.ts";
import { SeededRandom } from "../_helpers.ts";

const GAP = 2;
const WIDTH_MIN = 4;

/** The fit as first written: shrink the widest column one cell at a time. */
function tableFitsByShrinking(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { width: number; widthsMin: readonly (number | undefined)[] },
): boolean {
  const length = (text: string) => [...text].reduce((n, ch) => n + cellWidth(ch), 0);
  const cells = [header, ...rows].map((row) => row.map((c) => escapeControl(c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => length(r[i] ?? ""))));
  const mins = widths.map((w, i) => Math.min(w, options.widthsMin[i] ?? WIDTH_MIN));
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  while (total() > options.width) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i] > mins[i] && (widest < 0 || widths[i] > widths[widest])) widest = i;
    }
    if (widest < 0) return false;
    widths[widest]--;
  }
  return true;
}

/** `leaveOutToFit` as first written: the whole table fitted anew after each column left out. */
function leaveOutOneByOne(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: Parameters<typeof leaveOutToFit>[2],
): { table: string; leftOut: number[] } {
  const { width, widthsMin, order } = options;
  const leftOut: number[] = [];
  let keep = header.map((_, i) => i);
  const pick = <T>(row: readonly T[]) => keep.map((i) => row[i]);
  while (
    !options.wide && leftOut.length < order.length &&
    !tableFitsByShrinking(pick(header), rows.map(pick), { width, widthsMin: pick(widthsMin) })
  ) {
    const out = order[leftOut.length];
    leftOut.push(out);
    keep = keep.filter((i) => i !== out);
  }
  const right = new Set(options.alignRight ?? []);
  const table = formatTable(pick(header), rows.map(pick), {
    wide: options.wide,
    width,
    alignRight: keep.map((i, k) => (right.has(i) ? k : -1)).filter((k) => k >= 0),
    widthsMin: pick(widthsMin),
  });
  return { table, leftOut };
}

const CHARS = ["a", "b", "7", " ", "日", "\u0301", "\x1b", "\n", "é"];

Deno.test("leaveOutToFit: the same tables as fitting anew after each column left out", async (t) => {
  const random = new SeededRandom(20_260_214);
  const next = () => random.next();
  const int = (n: number) => Math.floor(next() * n);
  const text = (n: number) => Array.from({ length: n }, () => CHARS[int(CHARS.length)]).join("");

  await t.step("random tables, widths, minimums and orders", () => {
    for (let round = 0; round < 1_500; round++) {
      const columns = 1 + int(12);
      const header = Array.from({ length: columns }, () => text(1 + int(10)));
      const rows = Array.from(
        { length: int(5) },
        () => Array.from({ length: columns }, () => text(int(20))),
      );
      const widthsMin = header.map(() => (next() < 0.3 ? undefined : 1 + int(15)));
      // Some orders name a column twice or one that is not there: the old loop counted those.
      const order = Array.from({ length: int(columns + 3) }, () => int(columns + 2));
      const options = {
        width: 10 + int(120),
        widthsMin,
        order,
        wide: next() < 0.1,
        alignRight: header.map((_, i) => i).filter(() => next() < 0.3),
      };
      const label = JSON.stringify({ header, rows, options });
      assert.deepEqual(
        leaveOutToFit(header, rows, options),
        leaveOutOneByOne(header, rows, options),
        label,
      );
      const fit = { width: options.width, widthsMin };
      assert.equal(tableFits(header, rows, fit), tableFitsByShrinking(header, rows, fit), label);
    }
  });

  await t.step("each cell is read a bounded number of times, not once per column left out", () => {
    // 300 columns of which all but a few are left out: reading the whole kept grid again per
    // column left out read each cell about 150 times.
    const columns = 300;
    let reads = 0;
    const counted = (row: string[]) =>
      new Proxy(row, {
        get(target, key, receiver) {
          if (typeof key === "string" && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver);
        },
      });
    const header = Array.from({ length: columns }, (_, i) => `column-${i}`);
    const rows = Array.from(
      { length: 10 },
      (_, r) => counted(header.map((_, i) => `value-${r}-${i}`)),
    );
    const plain = rows.map((row) => [...row]);
    reads = 0;
    const options = {
      width: 80,
      widthsMin: header.map(() => 12),
      order: Array.from({ length: columns }, (_, i) => columns - 1 - i),
    };
    const fitted = leaveOutToFit(header, rows, options);
    assert.deepEqual(fitted, leaveOutOneByOne(header, plain, options));
    assert.equal(fitted.leftOut.length, columns - 7); // columns 0-6, 9 wide, fit in 80
    const cells = rows.length * columns;
    assert.ok(reads <= 4 * cells, `${reads} reads of ${cells} cells`);
  });
});
