/**
 * The executor's skip index (per-series suffix max and 32-candle blocks) is a
 * speed-up only: on random paths, every policy type gives the same trades
 * with and without it.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, ok } from "node:assert/strict";
import { replayCall } from "../../backtest/executor.ts";
import type { Policy } from "../../backtest/policies.ts";
import type { CandleSeries } from "../../backtest/types.ts";

const MINUTE_MS = 60_000;

/** A deterministic random walk of `n` 1m candles (xorshift32 seeded with `seed`). */
function randomSeries(n: number, seed: number): CandleSeries {
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  let px = 1;
  for (let i = 0; i < n; i++) {
    ts[i] = i * MINUTE_MS;
    open[i] = px;
    const next = px * Math.exp((rand() - 0.5) * 0.12);
    high[i] = Math.max(px, next) * (1 + rand() * 0.04);
    low[i] = Math.min(px, next) * (1 - rand() * 0.04);
    close[i] = next;
    px = next;
  }
  return { ts, open, high, low, close };
}

const POLICIES: Policy[] = [
  { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 },
  { type: "fixed_stop", stopPct: 0.9 },
  { type: "time_stop", maxHoldMs: 300 * MINUTE_MS, takeProfitPct: 2 },
  { type: "trailing_stop", activationPct: 0.2, trailPct: 0.15, hardStopPct: 0.4 },
  { type: "trailing_stop", activationPct: 0, trailPct: 0.5 },
  {
    type: "ladder",
    levels: [{ multiple: 1.3, fraction: 0.3 }, { multiple: 2, fraction: 0.7 }],
    stopPct: 0.35,
  },
  { type: "ladder", levels: [{ multiple: 1.5, fraction: 0.5 }] },
  {
    type: "combo",
    policies: [
      { type: "trailing_stop", activationPct: 0.3, trailPct: 0.2 },
      { type: "time_stop", maxHoldMs: 600 * MINUTE_MS },
    ],
  },
];

Deno.test("skipping quiet blocks never changes a trade", async (t) => {
  const seriesList = [1, 2, 3, 4, 5, 6].map((seed) => randomSeries(1_500, seed * 7919));
  for (const policy of POLICIES) {
    await t.step(JSON.stringify(policy), () => {
      let compared = 0;
      const reasons = new Set<string>();
      for (const series of seriesList) {
        for (let alert = 0; alert < 1_500; alert += 37) {
          const opts = { alertTsMs: alert * MINUTE_MS + 1, feeBps: 30, slippageBps: 10 };
          const fast = replayCall(policy, series, opts);
          const slow = replayCall(policy, series, { ...opts, blockSkip: false });
          deepEqual(fast, slow, `alert at minute ${alert}`);
          if (fast !== null) reasons.add(fast.exitReason);
          compared++;
        }
      }
      deepEqual(compared, 6 * 41);
      // The paths exercise the policies: stops, targets and trails fill.
      if (policy === POLICIES[0]) {
        ok(reasons.has("stop_loss") && reasons.has("take_profit"), [...reasons].join(","));
      }
      if (policy.type === "trailing_stop" || policy.type === "combo") {
        ok(reasons.has("trailing_stop"), [...reasons].join(","));
      }
    });
  }
});
