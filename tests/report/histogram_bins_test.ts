/**
 * The histograms of the report (`histogram` in report/data.ts): a bin
 * `[x0, x1)` holds exactly the values between its edges, as the page's
 * tooltips say. An audit found binary floating point putting a value on an
 * edge into the bin below it (0.3 into `[0.2, 0.3)`, the largest value 3
 * into `[2.9, 3)`), and values closer than 1e-4 apart into bins of no width
 * (`[1, 1)`), which draw as nothing.
 */
import assert from "node:assert/strict";
import {
  type Bin,
  histogram,
  HISTOGRAM_BINS_TARGET,
  HISTOGRAM_VALUE_ABS_MAX,
} from "../../report/data.ts";
import { SeededRandom } from "../_helpers.ts";

/** Every value in the bin its edges say, bins of positive width side by side. */
function assertBinsHold(values: number[], bins: Bin[]): void {
  const shown = JSON.stringify(values.slice(0, 12));
  assert.ok(bins.length > 0, `no bins for ${shown}`);
  for (const [i, b] of bins.entries()) {
    assert.ok(b.x1 > b.x0, `bin ${i} [${b.x0}, ${b.x1}) has no width for ${shown}`);
    if (i > 0) assert.equal(b.x0, bins[i - 1].x1, `bins ${i - 1} and ${i} do not touch`);
    const held = values.filter((v) => v >= b.x0 && v < b.x1);
    const inside = held.length;
    assert.equal(b.count, inside, `bin [${b.x0}, ${b.x1}) counts ${b.count}, holds ${inside}`);
    const above = held.filter((v) => v > 0).length;
    const want = inside === 0
      ? (b.x1 <= 0 ? "none" : b.x0 > 0 ? "all" : "some")
      : above === inside
      ? "all"
      : above === 0
      ? "none"
      : "some";
    assert.equal(b.above_zero, want, `bin [${b.x0}, ${b.x1}) of ${shown}`);
  }
  assert.equal(bins.reduce((sum, b) => sum + b.count, 0), values.length);
}

Deno.test("histogram: every value lies in the bin that counts it", async (t) => {
  await t.step("values on bin edges (hand-worked)", () => {
    // Range 3 over about 30 bins: width 0.1; 0.3 starts [0.3, 0.4), 3 starts [3, 3.1).
    const bins = histogram([0, 0.3, 3]);
    const counted = bins.filter((b) => b.count > 0).map((b) => [b.x0, b.x1, b.count]);
    assert.deepEqual(counted, [[0, 0.1, 1], [0.3, 0.4, 1], [3, 3.1, 1]]);
    assertBinsHold([0, 0.3, 3], bins);
    const tenths = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 3];
    assertBinsHold(tenths, histogram(tenths));
    assertBinsHold([-2000, -1999.7, -1997], histogram([-2000, -1999.7, -1997]));
  });
  await t.step("values closer than the edges' precision", () => {
    for (const values of [[1, 1.0000001], [-2000, -1999.999999999], [0, 1e-9, 2e-9]]) {
      assertBinsHold(values, histogram(values));
    }
  });
  await t.step("one value, equal values, extremes", () => {
    assert.deepEqual(histogram([-2000]), [{ x0: -2000, x1: -1999, count: 1, above_zero: "none" }]);
    // Returns of 0 are not wins (docs/METRICS.md): the bin is not drawn as wins.
    assert.deepEqual(histogram([0, 0, 0]), [{ x0: 0, x1: 1, count: 3, above_zero: "none" }]);
    assertBinsHold([-10_000, 1_000_000], histogram([-10_000, 1_000_000]));
  });
  await t.step("a bin from 0 holding a 0 return is neither wins nor losses", () => {
    // An audit: [0, w) was drawn green (wins) whatever it held; 0 is not a win.
    const bins = histogram([-30, 0, 4, 12, 55]);
    const tones = bins.filter((b) => b.count > 0).map((b) => [b.x0, b.count, b.above_zero]);
    assert.deepEqual(tones, [[-30, 1, "none"], [0, 2, "some"], [10, 1, "all"], [55, 1, "all"]]);
    // Without the 0 the same bin is all wins.
    assert.equal(histogram([-30, 4, 12, 55]).find((b) => b.x0 === 0)?.above_zero, "all");
  });
  await t.step("random returns in bps, rounded to 0.1 and to 1e-9", () => {
    const random = new SeededRandom(20260123);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(random.next() * 40);
      const spread = 10 ** (random.next() * 6 - 2); // 0.01 to 10,000 bps
      const center = (random.next() - 0.5) * 20_000;
      const decimals = round % 2 === 0 ? 10 : 1e9;
      const values = Array.from(
        { length: n },
        () => Math.round((center + random.next() * spread) * decimals) / decimals,
      );
      assertBinsHold(values, histogram(values));
    }
  });
});

/** Longest a histogram of a few values may take, ms: it loops in a worker killed at this. */
const HISTOGRAM_MS_MAX = 10_000;

/**
 * `histogram(values)` in a worker terminated after {@linkcode HISTOGRAM_MS_MAX}:
 * a probe found values that loop it forever, which would hang this test.
 */
async function histogramInWorker(values: number[]): Promise<Bin[]> {
  const source = `import { histogram } from ${
    JSON.stringify(import.meta.resolve("../../report/data.ts"))
  };\nself.onmessage = (e) => self.postMessage(histogram(e.data));\n`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const answer = Promise.withResolvers<Bin[]>();
  worker.onmessage = (e) => answer.resolve(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    answer.reject(new Error(`histogram(${JSON.stringify(values)}) threw: ${e.message}`));
  };
  const timer = setTimeout(
    () => answer.reject(new Error(`histogram(${JSON.stringify(values)}) ran over the time`)),
    HISTOGRAM_MS_MAX,
  );
  try {
    worker.postMessage(values);
    return await answer.promise;
  } finally {
    clearTimeout(timer);
    worker.terminate();
    URL.revokeObjectURL(url);
  }
}

Deno.test("histogram: values beyond HISTOGRAM_VALUE_ABS_MAX end, in the end bins", async (t) => {
  await t.step("at 2^53 and beyond, and ranges near the largest double", async () => {
    // A probe: 1e16 alone looped forever (adding 1 to an edge left it in place), as did
    // [-1e305, 1e305]; [-1.7e308, 1.7e308] threw a RangeError (a step of Infinity).
    const cases: number[][] = [[1e16], [1e17, 1e17], [3e15, 3e15 + 1], [-1e20], [0, 1e16]];
    cases.push([-1e305, 1e305], [-1.7e308, 1.7e308], [-Number.MAX_VALUE, Number.MAX_VALUE, 5]);
    for (const values of cases) {
      const bins = await histogramInWorker(values);
      const shown = JSON.stringify(values);
      assert.ok(bins.length >= 1 && bins.length <= 2 * HISTOGRAM_BINS_TARGET, shown);
      assert.equal(bins.reduce((sum, b) => sum + b.count, 0), values.length, shown);
      const beyond = values.filter((v) => Math.abs(v) > HISTOGRAM_VALUE_ABS_MAX);
      const outside = (bins[0].below ?? 0) + (bins.at(-1)!.above ?? 0);
      assert.equal(outside, beyond.length, `${shown}: the end bins say what they hold beyond`);
      for (const b of bins) {
        assert.ok(b.x1 > b.x0, `${shown}: bin [${b.x0}, ${b.x1}) has no width`);
        assert.ok(Math.abs(b.x0) <= HISTOGRAM_VALUE_ABS_MAX + 1, `${shown}: edge ${b.x0}`);
      }
    }
  });
  await t.step("an outlier leaves the other values' bins as they were", async () => {
    // The probe's real trade: 1e-12 to 45, +4.5e17 bps, among ordinary ones.
    const ordinary = [-2000, -350, 0, 120, 480, 1500];
    const bins = await histogramInWorker([...ordinary, 449_999_999_999_990_000]);
    assert.deepEqual(
      bins.map(({ above: _, ...b }) => b),
      histogram(ordinary).map((b, i, all) =>
        // The last bin counts the outlier too (and it is above zero).
        i === all.length - 1 ? { ...b, count: b.count + 1, above_zero: "all" } : b
      ),
    );
    assert.equal(bins.at(-1)!.above, 1);
    assert.equal(bins.filter((b) => b.above !== undefined || b.below !== undefined).length, 1);
  });
});
