/**
 * A return past 1.8e299 bps that a double holds is recorded, not refused.
 * A probe: an entry at 1e-300 and an exit at 1 (1e304 bps) failed the run
 * as "its return does not fit a number": rounding to a billionth of a basis
 * point scaled it by 1e9 first, past the largest double.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { logText, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("backtest: a return of 1e304 bps is recorded as it is", async () => {
  await withTempDir(async (dir) => {
    const calls = join(dir, "calls.csv");
    const candles = join(dir, "candles.csv");
    await Deno.writeTextFile(
      calls,
      "call_id,caller,mint,chain,alert_ts\nx1,al,A,solana,2026-01-01T00:00:00Z\n",
    );
    await Deno.writeTextFile(
      candles,
      "mint,ts,open,high,low,close,volume\n" +
        "A,2026-01-01T00:00:00Z,1e-300,1e-300,1e-300,1e-300,1\n" +
        "A,2026-01-01T00:01:00Z,1e-300,1,1e-300,1e-300,1\n",
    );
    const root = join(dir, "ledger");
    const run = await runLedger([
      ...["backtest", "policy", "--root", root, "--run-id", "huge", "--no-index"],
      ...["--calls", calls, "--candles", candles],
      ...["--policy", '{"type":"fixed_stop","stopPct":0.2,"takeProfitPct":1e300}'],
    ]);
    assert.equal(run.code, 0, run.stderr);
    const completed = (await logText(root)).trimEnd().split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e.event_type === "run.completed");
    const summary = completed?.summary as Record<string, unknown>;
    assert.equal(summary.count, 1, JSON.stringify(summary));
    assert.equal(summary.mean_return_bps, 1e304);
  });
});
