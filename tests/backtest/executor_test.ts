import { strictEqual as equal, throws } from "node:assert/strict";
import { replayCall, replayCalls } from "../../backtest/executor.ts";
import { parsePolicy, type Policy } from "../../backtest/policies.ts";
import { summarizeTrades } from "../../backtest/aggregate.ts";
import { MINUTE_MS, near, seriesOf } from "./_series.ts";

// Every series enters at the anchor, minute 0, with p0 = close = 1.0; the
// replay starts at minute 1. Rows are [minute, open, high, low, close].
const ANCHOR = [0, 1.0, 1.0, 1.0, 1.0] as const;

function replay(policy: Policy, rows: number[][], costs = {}) {
  const trade = replayCall(policy, seriesOf([[...ANCHOR], ...rows]), { alertTsMs: 0, ...costs });
  if (trade === null) throw new Error("expected a trade");
  return trade;
}

Deno.test("fixed_stop: hand-worked exits", async (t) => {
  await t.step("stop-out fills at the stop level", () => {
    const tr = replay(parsePolicy({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 }), [
      [1, 1.0, 1.1, 0.95, 1.05],
      [2, 1.05, 1.1, 0.75, 0.8], // low 0.75 <= stop 0.8
      [3, 0.8, 1.5, 0.8, 1.4], // after the exit: only the peak for tail capture
    ]);
    equal(tr.exitReason, "stop_loss");
    equal(tr.stopOut, true);
    equal(tr.exitTsMs, 2 * MINUTE_MS);
    equal(tr.entryTsMs, 0);
    near(tr.exitPx, 0.8, "exit_px");
    near(tr.realizedReturnBps, -2000, "return");
    near(tr.maxAdverseExcursionBps, -2000, "mae"); // the fill, not the candle's 0.75
    equal(tr.timeExposedMs, 2 * MINUTE_MS);
    near(tr.tailCapture, -2000 / 5000, "tail_capture"); // peak 1.5 -> +5000 bps possible
  });
  await t.step("take-profit fills at the target level", () => {
    const tr = replay(parsePolicy({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 }), [
      [1, 1.0, 1.2, 0.9, 1.1],
      [2, 1.1, 1.6, 1.05, 1.55], // high 1.6 >= 1.5
      [3, 1.55, 2.0, 1.5, 1.9],
    ]);
    equal(tr.exitReason, "take_profit");
    equal(tr.stopOut, false);
    near(tr.exitPx, 1.5, "exit_px");
    near(tr.realizedReturnBps, 5000, "return");
    near(tr.maxAdverseExcursionBps, -1000, "mae"); // low 0.9 at minute 1
    near(tr.tailCapture, 0.5, "tail_capture"); // 5000 of a possible 10000
  });
  await t.step("a candle touching stop and target fills the stop (conservative)", () => {
    const tr = replay(parsePolicy({ type: "fixed_stop", stopPct: 0.1, takeProfitPct: 0.2 }), [
      [1, 1.0, 1.25, 0.85, 1.0],
    ]);
    equal(tr.exitReason, "stop_loss");
    near(tr.exitPx, 0.9, "exit_px");
    near(tr.realizedReturnBps, -1000, "return");
  });
  await t.step("a gap below the stop still fills at the stop level (issue 4)", () => {
    const tr = replay(parsePolicy({ type: "fixed_stop", stopPct: 0.2 }), [
      [1, 0.7, 0.75, 0.6, 0.65], // opens at 0.7, under the stop 0.8
    ]);
    equal(tr.exitReason, "stop_loss");
    near(tr.exitPx, 0.8, "exit_px");
    near(tr.realizedReturnBps, -2000, "return");
    near(tr.maxAdverseExcursionBps, -2000, "mae"); // up to the fill, not the open or low
  });
  await t.step("no trigger: sold at the last close", () => {
    const tr = replay(parsePolicy({ type: "fixed_stop", stopPct: 0.5 }), [
      [1, 1.0, 1.1, 0.9, 1.05],
      [2, 1.05, 1.3, 1.0, 1.2],
    ]);
    equal(tr.exitReason, "end_of_data");
    equal(tr.exitTsMs, 2 * MINUTE_MS);
    near(tr.realizedReturnBps, 2000, "return");
    near(tr.maxAdverseExcursionBps, -1000, "mae");
  });
  await t.step("fees and slippage reduce the return on both sides", () => {
    const tr = replay(
      parsePolicy({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 }),
      [[1, 1.0, 1.6, 0.95, 1.5]],
      { feeBps: 10, slippageBps: 15 },
    );
    near(tr.exitPx, 1.5, "exit_px is the raw fill");
    near(tr.realizedReturnBps, (1.5 * 0.9975 / 1.0025 - 1) * 10_000, "net return");
  });
  await t.step("no candle after the anchor: flat exit at p0", () => {
    const tr = replay(parsePolicy({ type: "fixed_stop", stopPct: 0.2 }), []);
    equal(tr.exitReason, "end_of_data");
    equal(tr.timeExposedMs, 0);
    near(tr.realizedReturnBps, 0, "return");
    equal(tr.tailCapture, null);
  });
});

Deno.test("time_stop: exits at the open of the first candle past maxHoldMs", () => {
  const tr = replay(
    parsePolicy({ type: "time_stop", maxHoldMs: 3 * MINUTE_MS, takeProfitPct: 1 }),
    [
      [1, 1.0, 1.1, 0.95, 1.05],
      [2, 1.05, 1.3, 1.0, 1.2],
      [3, 1.25, 1.4, 1.2, 1.3], // ts 3:00 >= 0:00 + 3 min: out at the open, 1.25
      [4, 1.3, 1.35, 1.25, 1.3],
    ],
  );
  equal(tr.exitReason, "time_stop");
  equal(tr.stopOut, false);
  equal(tr.exitTsMs, 3 * MINUTE_MS);
  equal(tr.timeExposedMs, 3 * MINUTE_MS);
  near(tr.exitPx, 1.25, "exit_px");
  near(tr.realizedReturnBps, 2500, "return");
  near(tr.maxAdverseExcursionBps, -500, "mae");
  near(tr.tailCapture, 2500 / 4000, "tail_capture"); // peak 1.4
});

Deno.test("trailing_stop: activates at +50%, trails the peak by 20%", async (t) => {
  await t.step("trailing exit at 80% of the peak seen before the candle", () => {
    const tr = replay(
      parsePolicy({ type: "trailing_stop", activationPct: 0.5, trailPct: 0.2, hardStopPct: 0.5 }),
      [
        [1, 1.0, 1.3, 0.9, 1.2], // not active yet
        [2, 1.2, 1.6, 1.15, 1.55], // high 1.6 >= 1.5: active, peak 1.6
        [3, 1.55, 2.0, 1.5, 1.9], // trail 1.28 not touched; peak 2.0
        [4, 1.9, 1.95, 1.55, 1.7], // trail 1.6 touched: out at 1.6
      ],
    );
    equal(tr.exitReason, "trailing_stop");
    equal(tr.stopOut, true);
    equal(tr.exitTsMs, 4 * MINUTE_MS);
    near(tr.exitPx, 1.6, "exit_px");
    near(tr.realizedReturnBps, 6000, "return");
    near(tr.maxAdverseExcursionBps, -1000, "mae");
    near(tr.tailCapture, 0.6, "tail_capture");
  });
  await t.step("hard stop before activation", () => {
    const tr = replay(
      parsePolicy({ type: "trailing_stop", activationPct: 0.5, trailPct: 0.2, hardStopPct: 0.3 }),
      [[1, 1.0, 1.2, 0.6, 0.65]],
    );
    equal(tr.exitReason, "hard_stop");
    near(tr.exitPx, 0.7, "exit_px");
  });
  await t.step("gaps through the trail and the hard stop fill at their levels", () => {
    const policy = parsePolicy({
      type: "trailing_stop",
      activationPct: 0.5,
      trailPct: 0.2,
      hardStopPct: 0.3,
    });
    const trail = replay(policy, [
      [1, 1.0, 2.0, 0.95, 1.9], // active, peak 2.0: trail 1.6 from minute 2
      [2, 1.2, 1.3, 1.1, 1.15], // opens at 1.2, under the trail
    ]);
    equal(trail.exitReason, "trailing_stop");
    near(trail.exitPx, 1.6, "trailing exit_px");
    const hard = replay(policy, [[1, 0.5, 0.55, 0.4, 0.45]]); // opens at 0.5, under 0.7
    equal(hard.exitReason, "hard_stop");
    near(hard.exitPx, 0.7, "hard exit_px");
    near(hard.maxAdverseExcursionBps, -3000, "hard mae");
  });
});

Deno.test("ladder: partial sells at multiples", async (t) => {
  await t.step("both levels fill: average exit 2.5", () => {
    const tr = replay(
      parsePolicy({
        type: "ladder",
        levels: [{ multiple: 3, fraction: 0.5 }, { multiple: 2, fraction: 0.5 }],
        stopPct: 0.3,
      }),
      [
        [1, 1.0, 2.2, 0.95, 2.1], // half at 2.0
        [2, 2.1, 2.5, 1.8, 2.0],
        [3, 2.0, 3.5, 1.9, 3.2], // the rest at 3.0
      ],
    );
    equal(tr.exitReason, "ladder_complete");
    equal(tr.exitTsMs, 3 * MINUTE_MS);
    near(tr.exitPx, 2.5, "exit_px");
    near(tr.realizedReturnBps, 15000, "return");
  });
  await t.step("one level then the stop takes the rest", () => {
    const tr = replay(
      parsePolicy({
        type: "ladder",
        levels: [{ multiple: 2, fraction: 0.5 }, { multiple: 4, fraction: 0.5 }],
        stopPct: 0.3,
      }),
      [
        [1, 1.0, 2.2, 0.95, 2.1], // half at 2.0
        [2, 2.0, 2.1, 0.6, 0.65], // stop 0.7 sells the other half
      ],
    );
    equal(tr.exitReason, "stop_loss");
    equal(tr.stopOut, true);
    near(tr.exitPx, 1.35, "exit_px");
    near(tr.realizedReturnBps, 3500, "return");
    near(tr.maxAdverseExcursionBps, -3000, "mae");
  });
  await t.step("a gap through the ladder's stop fills the rest at the stop level", () => {
    const tr = replay(
      parsePolicy({
        type: "ladder",
        levels: [{ multiple: 2, fraction: 0.5 }, { multiple: 4, fraction: 0.5 }],
        stopPct: 0.3,
      }),
      [
        [1, 1.0, 2.2, 0.95, 2.1], // half at 2.0
        [2, 0.5, 0.6, 0.4, 0.45], // opens at 0.5, under the stop 0.7: the other half at 0.7
      ],
    );
    equal(tr.exitReason, "stop_loss");
    near(tr.exitPx, 1.35, "exit_px");
  });
  await t.step("fractions below 1: the rest runs to the end of data", () => {
    const tr = replay(
      parsePolicy({ type: "ladder", levels: [{ multiple: 2, fraction: 0.25 }] }),
      [[1, 1.0, 2.2, 0.95, 2.1], [2, 2.1, 2.2, 1.1, 1.2]],
    );
    equal(tr.exitReason, "end_of_data");
    near(tr.exitPx, 0.25 * 2 + 0.75 * 1.2, "exit_px");
  });
});

Deno.test("combo: the first trigger wins", async (t) => {
  await t.step("a time stop at the open beats a later stop", () => {
    const tr = replay(
      parsePolicy({
        type: "combo",
        policies: [{ type: "fixed_stop", stopPct: 0.2 }, {
          type: "time_stop",
          maxHoldMs: 2 * MINUTE_MS,
        }],
      }),
      [[1, 1.0, 1.1, 0.9, 1.0], [2, 0.95, 1.0, 0.5, 0.6]],
    );
    equal(tr.exitReason, "time_stop");
    near(tr.exitPx, 0.95, "exit_px");
  });
  await t.step("two stops in one candle: the higher level is touched first", () => {
    const tr = replay(
      parsePolicy({
        type: "combo",
        policies: [
          { type: "fixed_stop", stopPct: 0.1 },
          { type: "trailing_stop", activationPct: 0, trailPct: 0.05 },
        ],
      }),
      [[1, 1.0, 1.2, 0.98, 1.18], [2, 1.15, 1.16, 0.85, 0.9]],
    );
    equal(tr.exitReason, "trailing_stop");
    near(tr.exitPx, 1.14, "exit_px");
  });
});

Deno.test("replayCalls skips calls without candles and aggregates per caller", () => {
  const series = seriesOf([[...ANCHOR], [1, 1.0, 1.6, 0.95, 1.5], [2, 1.5, 1.5, 0.7, 0.8]]);
  const calls = [
    { callId: "a1", caller: "a", mint: "M", chain: "solana", alertTsMs: 0 },
    { callId: "a2", caller: "a", mint: "M", chain: "solana", alertTsMs: MINUTE_MS },
    { callId: "b1", caller: "b", mint: "X", chain: "solana", alertTsMs: 0 },
    { callId: "b2", caller: "b", mint: "M", chain: "solana", alertTsMs: 10 * MINUTE_MS },
  ];
  const { trades, skipped } = replayCalls(
    parsePolicy({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.4 }),
    calls,
    { seriesByMint: new Map([["M", series]]) },
  );
  equal(skipped, 2);
  equal(trades.length, 2);
  // a1: entry 1.0, target 1.4 at minute 1 -> +4000; a2: entry 1.5, stop 1.2 at minute 2 -> -2000
  near(trades[0].trade.realizedReturnBps, 4000, "a1");
  near(trades[1].trade.realizedReturnBps, -2000, "a2");
  const { byCaller, overall } = summarizeTrades(trades);
  equal(byCaller.length, 1);
  equal(byCaller[0].caller, "a");
  equal(byCaller[0].count, 2);
  equal(byCaller[0].win_rate, 0.5);
  near(byCaller[0].mean_return_bps, 1000, "mean");
  near(byCaller[0].median_return_bps, 1000, "median");
  equal(overall.count, 2);
});

Deno.test("parsePolicy names the bad field", async (t) => {
  const cases: [unknown, string][] = [
    [{ type: "fixed_stop", stopPct: 1.5 }, "Invalid policy: stopPct must be <= 1"],
    [{ type: "fixed_stop", stopPct: -0.1 }, "Invalid policy: stopPct must be >= 0"],
    [{ type: "fixed_stop" }, "Invalid policy: stopPct must be a number"],
    [{ type: "fixed_stop", stopPct: 0.1, stopPtc: 1 }, "Invalid policy: unknown field stopPtc"],
    // A misspelt required field: the one missing and the one given, both named.
    [
      { type: "fixed_stop", stopPtc: 0.1 },
      "Invalid policy: stopPct must be a number (and unknown field stopPtc)",
    ],
    [
      { type: "moon" },
      "Invalid policy: type must be one of fixed_stop, time_stop, trailing_stop, ladder, combo",
    ],
    [{ type: "time_stop", maxHoldMs: 1.5 }, "Invalid policy: maxHoldMs must be an integer"],
    [
      { type: "trailing_stop", activationPct: 0.1, trailPct: 1.5 },
      "Invalid policy: trailPct must be <= 1",
    ],
    [
      { type: "ladder", levels: [{ multiple: 0.5, fraction: 0.5 }] },
      "Invalid policy: levels.0.multiple must be >= 1",
    ],
    [
      { type: "combo", policies: [{ type: "combo", policies: [] }] },
      "Invalid policy: policies must have at least 1 items",
    ],
    [
      { kind: "fixed_stop", type: "time_stop", stopPct: 0.2 },
      'Invalid policy: kind "fixed_stop" and type "time_stop" disagree',
    ],
    [
      { kind: "wash_rebound", trailPct: 0.2, washPct: 0.5, reboundPct: 0.2 },
      "Invalid policy: kind: wash_rebound re-enters after an exit",
    ],
    [
      { kind: "moon" },
      "Invalid policy: kind must be one of fixed_stop, time_stop, trailing_stop, ladder, combo",
    ],
    ["{not json", "Invalid policy: not valid JSON"],
    [42, "Invalid policy: policy must be an object"],
  ];
  for (const [input, message] of cases) {
    await t.step(message, () => {
      throws(() => parsePolicy(input), (err: Error) => err.message.startsWith(message));
    });
  }
});

// A metrics audit: a candle touching a level exactly missed it in binary floating point
// (0.1·1.5 is 0.15000000000000002, 0.7·0.7 is 0.48999999999999994), and returns carried
// rounding noise (a -20% stop was -1999.9999999999995 bps).
Deno.test("an exact touch reaches its level; returns carry no rounding noise", async (t) => {
  const at = (p0: number, rows: number[][]) => [[0, p0, p0, p0, p0], ...rows];
  const run = (policy: Policy, rows: number[][]) => {
    const trade = replayCall(policy, seriesOf(rows), { alertTsMs: 0 });
    if (trade === null) throw new Error("expected a trade");
    return trade;
  };
  await t.step("a high of exactly p0·(1+tp) takes the profit", () => {
    const tr = run(
      parsePolicy({ type: "fixed_stop", stopPct: 0.3, takeProfitPct: 0.5 }),
      at(0.1, [[1, 0.1, 0.15, 0.1, 0.12], [2, 0.12, 0.3, 0.05, 0.06]]),
    );
    equal(tr.exitReason, "take_profit");
    equal(tr.exitTsMs, MINUTE_MS);
    equal(tr.realizedReturnBps, 5000);
  });
  await t.step("a low of exactly p0·(1-stop) stops out", () => {
    const tr = run(
      parsePolicy({ type: "fixed_stop", stopPct: 0.3, takeProfitPct: 0.5 }),
      at(0.7, [[1, 0.7, 0.7, 0.49, 0.5], [2, 0.5, 1.5, 0.5, 1.4]]),
    );
    equal(tr.exitReason, "stop_loss");
    equal(tr.realizedReturnBps, -3000);
  });
  await t.step("a ladder level and a trailing activation touched exactly", () => {
    const ladder = run(
      parsePolicy({ type: "ladder", levels: [{ multiple: 1.1, fraction: 1 }] }),
      at(0.1, [[1, 0.1, 0.11, 0.1, 0.1], [2, 0.1, 0.1, 0.1, 0.1]]),
    );
    equal(ladder.exitReason, "ladder_complete");
    equal(ladder.exitTsMs, MINUTE_MS);
    const trail = run(
      parsePolicy({ type: "trailing_stop", activationPct: 0.1, trailPct: 0.5 }),
      at(0.1, [[1, 0.1, 0.11, 0.1, 0.1], [2, 0.1, 0.1, 0.055, 0.06]]),
    );
    equal(trail.exitReason, "trailing_stop");
  });
  await t.step("three -20% stops have equal returns of exactly -2000 bps", () => {
    const policy = parsePolicy({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 });
    const returns = [1.0, 1.1, 0.7].map((p0) =>
      run(policy, at(p0, [[1, p0, p0 * 1.06, p0 * 0.6, p0 * 0.65]])).realizedReturnBps
    );
    equal(returns.join(), "-2000,-2000,-2000");
  });
});
