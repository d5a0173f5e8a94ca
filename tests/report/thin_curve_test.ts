/**
 * The report thins an equity curve of more than `EQUITY_POINTS_MAX` points;
 * the curve it draws must still show the drawdown `max_drawdown_bps`
 * measures, and its highest and lowest points. helper-299 found a bucket
 * whose low came before its high drop the trough after that high: a
 * -9,000 bps drawdown drawn as -320. Here: that curve, and random curves
 * with heavy tails and crashes, each checked against the whole curve.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EQUITY_POINTS_MAX, thinCurve } from "../../report/data.ts";

/** Max drawdown of equity values, the start (0) a peak as docs/METRICS.md measures it. */
function maxDrawdown(values: readonly number[]): number {
  let peak = 0;
  let drawdown = 0;
  for (const v of values) {
    peak = Math.max(peak, v);
    drawdown = Math.min(drawdown, v - peak);
  }
  return drawdown;
}

/** The running sum of `returns`, one point a minute. */
function curveOf(returns: readonly number[]): [number, number][] {
  let equity = 0;
  return returns.map((r, i) => [i * 60_000, equity += r]);
}

/** A deterministic random number in [0, 1) (a linear congruential generator). */
function randomSource(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function assertKeepsShape(curve: [number, number][], what: string): void {
  const thinned = thinCurve(curve, EQUITY_POINTS_MAX);
  assert.ok(thinned.length <= EQUITY_POINTS_MAX, what);
  const values = curve.map(([, v]) => v);
  const drawn = thinned.map(([, v]) => v);
  assert.equal(maxDrawdown(drawn), maxDrawdown(values), `${what}: max drawdown`);
  assert.equal(Math.max(...drawn), Math.max(...values), `${what}: highest point`);
  assert.equal(Math.min(...drawn), Math.min(...values), `${what}: lowest point`);
  assert.deepEqual([thinned[0], thinned.at(-1)], [curve[0], curve.at(-1)], `${what}: ends`);
}

Deno.test("thinCurve: a trough after a bucket's high, above its low, is kept", () => {
  // A slow climb; in one bucket a dip (its low), a new high, the run's deepest drawdown, and
  // a recovery.
  const returns: number[] = Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? 30 : -20));
  returns.splice(500, 4, -300, 20_000, -9_000, 9_000);
  assertKeepsShape(curveOf(returns), "helper-299's curve");
});

Deno.test("thinCurve: random heavy-tailed curves keep their drawdown", () => {
  const random = randomSource(7);
  for (let run = 0; run < 300; run++) {
    const n = 601 + Math.floor(random() * 5_000);
    const returns: number[] = [];
    while (returns.length < n) {
      const u = random();
      if (u < 0.6) returns.push(-1_000 * random());
      else if (u < 0.97) returns.push(3_000 * random());
      else if (u < 0.99) returns.push((random() < 0.5 ? -1 : 1) * 40_000 * random());
      else {
        // A dip, a jackpot, then a crash that stays above the dip: the shape helper-299 found.
        const jackpot = 10_000 + 40_000 * random();
        returns.push(-500 * random(), jackpot, -jackpot * (0.2 + 0.7 * random()));
      }
    }
    assertKeepsShape(curveOf(returns), `curve ${run} of ${returns.length} points`);
  }
});
