/**
 * A backtest's terminal lines print a missing value as `-` without a unit.
 * A probe: a path-only run whose calls all entered too late printed
 * "median peak -x, median drawdown - bps".
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("backtest: a missing median prints '-' without its unit", async () => {
  await withTempDir(async (dir) => {
    const calls = join(dir, "calls.csv");
    const candles = join(dir, "candles.csv");
    await Deno.writeTextFile(
      calls,
      "call_id,caller,mint,chain,alert_ts\nz1,al,A,solana,2026-01-01T00:00:30Z\n",
    );
    await Deno.writeTextFile(
      candles,
      "mint,ts,open,high,low,close,volume\n" +
        "A,2026-01-01T00:00:00Z,1,1,1,1,1\nA,2026-01-01T00:01:00Z,1,2,1,2,1\n",
    );
    // The only call's entry is 29.5 s after its alert: past --max-entry-delay, no value.
    const common = ["--calls", calls, "--candles", candles, "--max-entry-delay", "1000"];
    const root = join(dir, "ledger");
    const pathOnly = await runLedger(["backtest", "path-only", "--root", root, ...common]);
    assert.equal(pathOnly.code, 0, pathOnly.stderr);
    assert.match(pathOnly.stdout, /, median peak -, median drawdown -\n/);
    const policy = await runLedger([
      ...["backtest", "policy", "--root", root, ...common],
      ...["--policy", '{"type":"fixed_stop","stopPct":0.2}'],
    ]);
    assert.equal(policy.code, 0, policy.stderr);
    assert.match(policy.stdout, /fixed_stop: win rate 0\.0%, mean -, median -, stop-outs /);
  });
});
