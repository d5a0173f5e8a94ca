import { strictEqual as equal } from "node:assert/strict";
import { anchorIndex, median, pathMetrics, summarizePaths } from "../../backtest/metrics.ts";
import { MINUTE_MS, near, seriesOf } from "./_series.ts";

// Hand-worked path (p0 = 1.0 at the anchor, minute 1; alert at 0:30):
//  min  open high  low  close
//   0   1.0  1.0   1.0  1.0    before the alert
//   1   1.0  1.05  0.98 1.0    anchor: p0 = 1.0
//   2   1.0  1.08  0.85 0.9    low <= 0.9: first activity (2:00 - 0:30 = 90 s)
//   3   0.9  1.6   0.88 1.5
//   4   1.5  2.1   1.4  2.0    high >= 2: 2x at 4:00; lowest low so far 0.85 -> -1500 bps
//   5   2.0  3.2   0.8  1.0    high >= 3: 3x at 5:00
//   6   1.0  1.1   0.7  0.9    lowest low 0.7 -> dd -3000 bps; peak 3.2
const PATH = seriesOf([
  [0, 1.0, 1.0, 1.0, 1.0],
  [1, 1.0, 1.05, 0.98, 1.0],
  [2, 1.0, 1.08, 0.85, 0.9],
  [3, 0.9, 1.6, 0.88, 1.5],
  [4, 1.5, 2.1, 1.4, 2.0],
  [5, 2.0, 3.2, 0.8, 1.0],
  [6, 1.0, 1.1, 0.7, 0.9],
]);

Deno.test("pathMetrics matches the hand-worked path", async (t) => {
  const alert = 30_000;
  const m = pathMetrics(PATH, alert)!;
  await t.step("anchor is the first candle at or after the alert", () => {
    equal(m.anchorIndex, 1);
    equal(m.p0, 1.0);
    equal(m.t0Ms, alert);
  });
  await t.step("first touches of 2x and 3x by high, no 4x", () => {
    equal(m.hit2x, true);
    equal(m.t2xMs, 4 * MINUTE_MS);
    equal(m.hit3x, true);
    equal(m.t3xMs, 5 * MINUTE_MS);
    equal(m.hit4x, false);
    equal(m.t4xMs, null);
  });
  await t.step("drawdowns, activity and peak", () => {
    near(m.ddBps, -3000, "dd_bps");
    near(m.ddTo2xBps, -1500, "dd_to_2x_bps");
    equal(m.alertToActivityMs, 90_000);
    near(m.peakMultiple, 3.2, "peak_multiple");
  });
  await t.step("an alert exactly at a candle's ts anchors on that candle", () => {
    const at = pathMetrics(PATH, 3 * MINUTE_MS)!;
    equal(at.p0, 1.5);
    equal(at.t2xMs, 5 * MINUTE_MS); // 3.2 >= 3.0
    equal(at.ddTo2xBps !== null && Math.round(at.ddTo2xBps), -4667); // 0.8 / 1.5 - 1
  });
  await t.step("no candle at or after the alert gives null", () => {
    equal(pathMetrics(PATH, 6 * MINUTE_MS + 1), null);
    equal(anchorIndex(PATH, 7 * MINUTE_MS), -1);
  });
  await t.step("a quiet path has no activity and no 2x", () => {
    const quiet = seriesOf([[0, 1, 1.05, 0.95, 1], [1, 1, 1.09, 0.91, 1.02]]);
    const q = pathMetrics(quiet, 0)!;
    equal(q.alertToActivityMs, null);
    equal(q.hit2x, false);
    equal(q.ddTo2xBps, null);
    near(q.ddBps, -900, "dd_bps");
  });
  await t.step("the anchor candle's own high and low count (from the anchor on)", () => {
    // Issue 4: touches and drawdown are measured "from the anchor on": the anchor candle's
    // 2.5 high is a 2x at the anchor, its 0.5 low a -5000 bps drawdown.
    const spike = seriesOf([[1, 1, 2.5, 0.5, 1], [2, 1, 1.05, 0.95, 1]]);
    const m = pathMetrics(spike, 30_000)!;
    equal(m.p0, 1);
    equal(m.hit2x, true);
    equal(m.t2xMs, MINUTE_MS);
    equal(m.hit3x, false);
    near(m.ddBps, -5000, "dd_bps");
    near(m.peakMultiple, 2.5, "peak_multiple");
    equal(m.alertToActivityMs, MINUTE_MS - 30_000);
  });
  await t.step("a peak that reaches 3x is 3, as hit_3x counts it", () => {
    // An audit: 0.3 / 0.1 is 2.9999999999999996 in binary floating point, while the high of 0.3
    // reaches 3·0.1 (within the touch slack): hit_3x was true beside a peak under 3.
    const m = pathMetrics(seriesOf([[1, 0.1, 0.1, 0.1, 0.1], [2, 0.1, 0.3, 0.1, 0.2]]), 0)!;
    equal(m.hit3x, true);
    equal(m.peakMultiple, 3);
    // A high short of the slack stays as it divides; a peak between multiples is untouched.
    const short = pathMetrics(seriesOf([[1, 1, 1, 1, 1], [2, 1, 2.9999, 1, 2]]), 0)!;
    equal(short.hit3x, false);
    equal(short.peakMultiple, 2.9999);
    const between = pathMetrics(seriesOf([[1, 0.1, 0.1, 0.1, 0.1], [2, 0.1, 0.25, 0.1, 0.2]]), 0)!;
    equal(between.peakMultiple, 0.25 / 0.1);
  });
});

Deno.test("summaries and medians", async (t) => {
  await t.step("median of odd, even and empty lists", () => {
    equal(median([5, 1, 3]), 3);
    equal(median([1, 2, 3, 10]), 2.5);
    equal(median([null]), null);
  });
  await t.step("per-caller hit rates", () => {
    const m = pathMetrics(PATH, 0)!;
    const quiet = pathMetrics(seriesOf([[0, 1, 1.05, 0.95, 1]]), 0)!;
    const s = summarizePaths([
      { caller: "b", metrics: quiet },
      { caller: "a", metrics: m },
      { caller: "a", metrics: quiet },
    ]);
    equal(Object.keys(s.byCaller).join(","), "a,b");
    equal(s.byCaller.a.count, 2);
    equal(s.byCaller.a.hit_2x_rate, 0.5);
    equal(s.byCaller.b.hit_2x_rate, 0);
    equal(s.overall.count, 3);
  });
  await t.step("median_dd_bps is kept to 1e-9 bps, as each dd_bps is", () => {
    // dd -5000 (p0 1, low 0.5) and -5454.545454545 (p0 1.1, low 0.5): their mean is
    // -5227.2727272725, -5227.272727272501 in floating point (a probe's caller had it), which
    // kept to 1e-9 bps is -5227.272727273.
    const half = pathMetrics(seriesOf([[0, 1, 1, 1, 1], [1, 1, 1, 0.5, 1]]), 0)!;
    const more = pathMetrics(seriesOf([[0, 1.1, 1.1, 1.1, 1.1], [1, 1.1, 1.1, 0.5, 1]]), 0)!;
    equal(more.ddBps, -5454.545454545);
    const s = summarizePaths([
      { caller: "amy", metrics: half },
      { caller: "amy", metrics: more },
    ]);
    equal(s.byCaller.amy.median_dd_bps, -5227.272727273);
    equal(s.overall.median_dd_bps, -5227.272727273);
    equal(summarizePaths([]).overall.median_dd_bps, null);
  });
});
