import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert/strict";
import {
  equityDrawdownBps,
  tradeMetrics,
  type TradeOutcome,
  winRateInterval,
} from "../../backtest/metrics.ts";

const MINUTE_MS = 60_000;

/** Assert `actual` is within `tolerance` of `expected`. */
function near(actual: number, expected: number, tolerance = 1e-9): void {
  ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
}

function trade(realizedReturnBps: number, exitMinute: number, holdMs: number): TradeOutcome {
  return { realizedReturnBps, exitTsMs: exitMinute * MINUTE_MS, timeExposedMs: holdMs };
}

// The hand-worked example of docs/METRICS.md, five trades in call order:
//   trade  return  exit  hold
//   A      +300    3m    120 000 ms
//   B      -100    1m     60 000 ms
//   C      +100    4m    180 000 ms
//   D      -200    2m     60 000 ms
//   E         0    5m          0 ms
// calls 5; wins A, C -> win_rate 2/5 = 0.4
// mean (300 - 100 + 100 - 200 + 0) / 5 = 20; median of -200 -100 0 100 300 = 0
// profit_factor (300 + 100) / (100 + 200) = 4/3
// expectancy 0.4 * mean win 200 + 0.6 * mean non-win (-100 - 200 + 0)/3 = 80 - 60 = 20
// equity by exit B, D, A, C, E: -100, -300, 0, 100, 100; peak 0 until C -> max drawdown -300
// sample stdev: deviations 280, -120, 80, -220, -20; squares sum 148 000; / 4 = 37 000;
//   sqrt = 192.35384...; sharpe = 20 / 192.35384 = 0.1039750...
// downside deviation sqrt((100^2 + 200^2) / 5) = sqrt(10 000) = 100; sortino 20 / 100 = 0.2
// avg_hold_ms (120 000 + 60 000 + 180 000 + 60 000 + 0) / 5 = 84 000
const EXAMPLE = [
  trade(300, 3, 120_000),
  trade(-100, 1, 60_000),
  trade(100, 4, 180_000),
  trade(-200, 2, 60_000),
  trade(0, 5, 0),
];

Deno.test("tradeMetrics matches the hand-worked example", async (t) => {
  const m = tradeMetrics(EXAMPLE);
  await t.step("counts, win rate, mean and median", () => {
    equal(m.calls, 5);
    equal(m.win_rate, 0.4);
    equal(m.mean_return_bps, 20);
    equal(m.median_return_bps, 0);
  });
  await t.step("profit factor and expectancy", () => {
    near(m.profit_factor!, 4 / 3);
    near(m.expectancy_bps!, 20);
    // Break-even by the split (a probe): 2/6 · 3000 + 4/6 · -1500 is -1.1e-13 in doubles, which
    // `--where "metrics.expectancy_bps < 0"` called a loser beside a profit factor of 1.
    const even = tradeMetrics([5000, -2000, -2000, -2000, 1000, 0].map((r, i) => trade(r, i, 0)));
    equal(even.profit_factor, 1);
    equal(even.expectancy_bps, 0);
  });
  await t.step("equity drawdown by exit time, not call order", () => {
    equal(m.max_drawdown_bps, -300);
    // In call order the curve would be 300, 200, 300, 100, 100: drawdown -200.
    equal(equityDrawdownBps(EXAMPLE.map((x, i) => ({ ...x, exitTsMs: i }))), -200);
  });
  await t.step("equity drawdown kept to 1e-9 bps, as the returns it sums", () => {
    // Summed as doubles, the fall was -30.400000000000002: below a -30.4 in a sort.
    const returns = [10.1, 20.2, -30.3, 0.1, -0.2];
    equal(equityDrawdownBps(returns.map((r, i) => trade(r, i, 0))), -30.4);
    equal(tradeMetrics(returns.map((r, i) => trade(r, i, 0))).max_drawdown_bps, -30.4);
    // Ten 0.1s then a 1.0 fall: -1, not -0.9999999999999999.
    equal(equityDrawdownBps([...Array(10).fill(0.1), -1].map((r, i) => trade(r, i, 0))), -1);
  });
  await t.step("per-trade sharpe and sortino", () => {
    near(m.sharpe_per_trade!, 20 / Math.sqrt(37_000));
    near(m.sharpe_per_trade!, 0.103975, 1e-6);
    near(m.sortino_per_trade!, 0.2);
  });
  await t.step("average hold", () => equal(m.avg_hold_ms, 84_000));
});

Deno.test("tradeMetrics edge cases", async (t) => {
  await t.step("no trades: counts 0, the rest null or 0", () => {
    deepEqual(tradeMetrics([]), {
      calls: 0,
      win_rate: 0,
      mean_return_bps: null,
      median_return_bps: null,
      profit_factor: null,
      expectancy_bps: null,
      max_drawdown_bps: 0,
      sharpe_per_trade: null,
      sortino_per_trade: null,
      avg_hold_ms: null,
    });
  });
  await t.step("only wins: no loss, so no profit factor and no sortino; no drawdown", () => {
    // +100 then +300: equity 100, 400, never below its peak.
    const m = tradeMetrics([trade(100, 1, 0), trade(300, 2, 0)]);
    equal(m.profit_factor, null);
    equal(m.sortino_per_trade, null);
    equal(m.max_drawdown_bps, 0);
    // mean 200, sample stdev sqrt((100^2 + 100^2) / 1) = 141.42 -> sharpe 1.41421
    near(m.sharpe_per_trade!, Math.SQRT2);
  });
  await t.step("one trade: no sharpe (stdev needs two)", () => {
    const m = tradeMetrics([trade(-400, 1, 5)]);
    equal(m.sharpe_per_trade, null);
    // downside sqrt(400^2 / 1) = 400 -> sortino -400 / 400 = -1; drawdown from 0 to -400
    equal(m.sortino_per_trade, -1);
    equal(m.max_drawdown_bps, -400);
    equal(m.profit_factor, 0);
  });
});

Deno.test("winRateInterval: seeded percentile bootstrap", async (t) => {
  await t.step("the same inputs and seed give the same interval", () => {
    deepEqual(winRateInterval(7, 20, { seed: "alice" }), winRateInterval(7, 20, { seed: "alice" }));
  });
  await t.step("all wins and no wins have no spread", () => {
    deepEqual(winRateInterval(12, 12, { seed: "x" }), { low: 1, high: 1 });
    deepEqual(winRateInterval(0, 12, { seed: "x" }), { low: 0, high: 0 });
  });
  await t.step("no trades: no interval", () => equal(winRateInterval(0, 0), null));
  await t.step("50 of 100: close to the normal approximation 0.5 ± 1.96·0.05", () => {
    // sd of a resampled rate = sqrt(0.5 · 0.5 / 100) = 0.05 -> about [0.402, 0.598]
    const ci = winRateInterval(50, 100, { seed: "bob" })!;
    ok(ci.low >= 0.38 && ci.low <= 0.43, `low ${ci.low}`);
    ok(ci.high >= 0.57 && ci.high <= 0.62, `high ${ci.high}`);
  });
  await t.step("bounds are shares of the trade count, low <= rate <= high", () => {
    const ci = winRateInterval(3, 10, { seed: "carol" })!;
    ok(ci.low <= 0.3 && 0.3 <= ci.high);
    equal(Math.round(ci.low * 10), ci.low * 10);
  });
});

// helper-294: returns near the largest double (1e308 bps, which a backtest records) summed past
// it: the mean, expectancy and profit factor were null with three trades, the Sharpe 0.
Deno.test("tradeMetrics: sums past the largest double stay numbers", () => {
  const rel = (actual: number | null, expected: number) =>
    ok(
      Number.isFinite(expected) && actual !== null &&
        Math.abs(actual - expected) <= Math.abs(expected) * 1e-12,
      `expected ${expected}, got ${actual}`,
    );
  const m = tradeMetrics([trade(1e308, 1, 0), trade(1e308, 2, 0), trade(-5000, 3, 0)]);
  rel(m.mean_return_bps, (1e308 / 3) * 2 - 5000 / 3); // 2e308 itself is past the largest
  rel(m.expectancy_bps, (1e308 / 3) * 2);
  rel(m.profit_factor, (1e308 / 5000) * 2);
  // Squares past it: sd of [a, a, b] is |a - b| / sqrt(3), so the Sharpe is (2a + b) / 3 / that.
  const big = tradeMetrics([trade(1e307, 1, 0), trade(1e307, 2, 0), trade(-5000, 3, 0)]);
  rel(big.sharpe_per_trade, (2e307 / 3) / (1e307 / Math.sqrt(3)));
  // Downside past it: sqrt((1e300^2 + 1e300^2) / 3), over a mean of -2e300 / 3.
  const losses = tradeMetrics([trade(-1e300, 1, 0), trade(-1e300, 2, 0), trade(1, 3, 0)]);
  rel(losses.sortino_per_trade, (-2e300 / 3) / (1e300 * Math.sqrt(2 / 3)));
  // Only what overflowed is taken again (helper-297): the downside of a loss of 1 bps beside two
  // wins of 1e308 (its square is finite) is sqrt(1 / 3); a loss of 1e-20 bps makes a profit factor
  // past any double (Infinity, written null), not -Infinity; a median of two values near the
  // largest double is their mean, not Infinity.
  const small = tradeMetrics([trade(1e308, 1, 0), trade(1e308, 2, 0), trade(-1, 3, 0)]);
  rel(small.sortino_per_trade, ((1e308 / 3) * 2 - 1 / 3) / Math.sqrt(1 / 3));
  const tiny = tradeMetrics([trade(1e308, 1, 0), trade(1e308, 2, 0), trade(-1e-20, 3, 0)]);
  equal(tiny.profit_factor, Infinity);
  const top = tradeMetrics([trade(Number.MAX_VALUE, 1, 0), trade(Number.MAX_VALUE, 2, 0)]);
  equal(top.median_return_bps, Number.MAX_VALUE);
  // Ordinary returns are summed as they were, digit for digit.
  equal(tradeMetrics([trade(100, 1, 0), trade(-50, 2, 0), trade(200, 3, 0)]).profit_factor, 6);
});
