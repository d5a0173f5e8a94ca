/**
 * An audit of the policy backtest, black box: hand-made calls and candles,
 * every trade and metric worked out by hand before the run, then compared
 * with what the run records and what `ledger show` draws.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPolicy } from "../../backtest/policy.ts";
import { equitySparklineLine } from "../../report/sparkline.ts";
import { withTempDir } from "../_helpers.ts";

/** 2026-01-05T00:00:00Z. */
const T0_MS = Date.UTC(2026, 0, 5);
const MINUTE_MS = 60_000;

type CallRow = [callId: string, caller: string, mint: string, alertMinute: number];
type CandleRow = [
  mint: string,
  minute: number,
  open: number,
  high: number,
  low: number,
  close: number,
];

async function writeInputs(
  dir: string,
  calls: readonly CallRow[],
  candles: readonly CandleRow[],
): Promise<{ calls: string; candles: string }> {
  const ms = (minute: number) => T0_MS + minute * MINUTE_MS;
  const callsPath = join(dir, "calls.csv");
  await Deno.writeTextFile(
    callsPath,
    [
      "call_id,caller,mint,chain,alert_ts",
      ...calls.map(([id, caller, mint, m]) => `${id},${caller},${mint},solana,${ms(m)}`),
    ].join("\n") + "\n",
  );
  const candlesPath = join(dir, "candles.csv");
  await Deno.writeTextFile(
    candlesPath,
    [
      "mint,ts,open,high,low,close,volume",
      ...candles.map(([mint, m, o, h, l, c]) => `${mint},${ms(m)},${o},${h},${l},${c},100`),
    ].join("\n") + "\n",
  );
  return { calls: callsPath, candles: candlesPath };
}

Deno.test("ledger show: the equity line is the curve of max_drawdown_bps", async (t) => {
  // Every call enters at p0 = 1; fixed_stop 20%, take-profit 50%:
  // - z1 (alert 0:00, mint P): high 1.6 at minute 3, take-profit +5000 bps;
  // - a1 (alert 0:01, mint Q): low 0.6 at minute 3, stop -2000 bps;
  // - m1 (alert 0:02, mint R): high 1.1 at minute 3, +1000 bps at the end of data;
  // - b1 (alert 0:00, mint GONE): no candles, a `no_entry` row at 0 bps, exit at 0:00.
  // The trades, in exit time with ties in call order (z1, a1, m1): equity 5000, 3000, 4000,
  // max drawdown -2000, over 3 trades (the summary's `calls`). b1 is no trade. An audit found
  // `ledger show` drawing b1 as a break-even trade and ordering the tie by call id:
  // 0, -2000, -1000, 4000 "over 4 calls" (the report had been fixed, the terminal not).
  const calls: CallRow[] = [
    ["a1", "amy", "Q", 1],
    ["m1", "max", "R", 2],
    ["z1", "zoe", "P", 0],
    ["b1", "bob", "GONE", 0],
  ];
  const candles: CandleRow[] = [
    ["P", 0, 1, 1, 1, 1],
    ["P", 1, 1, 1.1, 0.95, 1],
    ["P", 2, 1, 1.1, 0.95, 1],
    ["P", 3, 1, 1.6, 1, 1.2],
    ["Q", 1, 1, 1, 1, 1],
    ["Q", 2, 1, 1.05, 0.9, 1],
    ["Q", 3, 1, 1, 0.6, 0.65],
    ["R", 2, 1, 1, 1, 1],
    ["R", 3, 1, 1.1, 1, 1.1],
  ];
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const files = await writeInputs(dir, calls, candles);
    const policy = { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 };
    const r = await runPolicy({ root, ...files, policy, runId: "ties-1" });
    await t.step("the summary", () => {
      assert.equal(r.summary.calls, 3);
      assert.equal(r.summary.calls_no_entry, 1);
      assert.equal(r.summary.max_drawdown_bps, -2000);
    });
    await t.step("the equity line: 5000, 3000, 4000 over 3 calls", async () => {
      // ASCII levels _ . - ' ": 3000 is the lowest, 5000 the highest, 4000 half way.
      const line = await equitySparklineLine(root, "ties-1", { unicode: false });
      assert.equal(line, `equity     "_-  +4000 bps over 3 calls`);
    });
  });
});
