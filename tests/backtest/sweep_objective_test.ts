/**
 * A sweep's objective when a trial has no losing trade (docs/METRICS.md,
 * "Sweeps: the objective"): `profit_factor` and `sortino_per_trade` are null
 * then, and that null is unbounded (ranks above every finite value), not
 * missing (ranks last).
 *
 * Data: two calls. a1 on mint A (p0 = 1.0 at minute 1): the low of minute 2
 * (0.85) stops a 10% stop at -1000 bps; with a 50% stop, minute 3's high 1.6
 * reaches the 50% take profit: +5000. d1 on mint D (p0 = 1.0 at minute 0):
 * minute 2's high 1.6 takes profit at +5000 and no low reaches 0.9.
 *   t000 stop 0.1: -1000, +5000 -> profit factor 5, mean 2000, sortino 2000 / 707
 *   t001 stop 0.5: +5000, +5000 -> no loss: profit factor and sortino null, mean 5000
 */
import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert/strict";
import { EventEmitter } from "../../ledger/emitter.ts";
import { exists } from "../../ledger/exists.ts";
import {
  objectiveRankValue,
  type RankedMetrics,
  ranksAbove,
  runSweep,
  type SweepObjective,
} from "../../backtest/sweep.ts";
import { runEvents } from "./_fixtures.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;
const T0_MS = Date.UTC(2026, 0, 5);
const MINUTE_MS = 60_000;
const GRID = { type: "fixed_stop", stopPct: [0.1, 0.5], takeProfitPct: 0.5 };

/** `[mint, minute, open, high, low, close]`. */
const CANDLES = [
  ["A", 0, 1.0, 1.0, 1.0, 1.0],
  ["A", 1, 1.0, 1.05, 0.98, 1.0],
  ["A", 2, 1.0, 1.08, 0.85, 0.9],
  ["A", 3, 0.9, 1.6, 0.88, 1.5],
  ["A", 4, 1.5, 1.7, 1.4, 1.6],
  ["D", 0, 1.0, 1.0, 1.0, 1.0],
  ["D", 1, 1.0, 1.2, 0.95, 1.1],
  ["D", 2, 1.1, 1.6, 1.05, 1.55],
  ["D", 3, 1.55, 1.6, 1.5, 1.5],
] as const;

/** The calls file's rows by call id. */
const CALLS = {
  a1: `a1,alice,A,solana,${new Date(T0_MS + 30_000).toISOString()}`,
  d1: `d1,dora,D,solana,${new Date(T0_MS).toISOString()}`,
} as const;

async function writeData(
  dir: string,
  callIds: readonly (keyof typeof CALLS)[] = ["a1", "d1"],
): Promise<{ calls: string; candles: string }> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const calls = `${dir}/calls.csv`;
  await Deno.writeTextFile(
    calls,
    ["call_id,caller,mint,chain,alert_ts", ...callIds.map((id) => CALLS[id])].join("\n") + "\n",
  );
  const candles = `${dir}/candles.csv`;
  await Deno.writeTextFile(
    candles,
    [
      "mint,ts,open,high,low,close,volume",
      ...CANDLES.map(([mint, minute, o, h, l, c]) =>
        `${mint},${iso(T0_MS + minute * MINUTE_MS)},${o},${h},${l},${c},100`
      ),
    ].join("\n") + "\n",
  );
  return { calls, candles };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_sweep_objective_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function sweepBest(dir: string, objective: SweepObjective) {
  const root = `${dir}/ledger-${objective}`;
  const emitter = new EventEmitter({ root });
  const r = await runSweep({
    root,
    ...(await writeData(dir)),
    emitter,
    grid: GRID,
    objective,
    gitCwd: dir,
  });
  await emitter.close();
  const trials = (await runEvents(root, r.runId))
    .filter((e) => e.event_type === "trial.recorded")
    .map((e) => e as unknown as { trial_id: string; metrics: Record<string, number | null> });
  const best = r.summary.best_trial as { trial_id: string; metrics: Record<string, unknown> };
  return { r, trials, best };
}

for (const objective of ["profit_factor", "sortino_per_trade"] as const) {
  Deno.test(`runSweep --objective ${objective}: a trial without a losing trade ranks first`, async () => {
    await withDir(async (dir) => {
      const { r, trials, best } = await sweepBest(dir, objective);
      equal(trials.length, 2);
      const [t0, t1] = trials;
      // The data is what the module doc says: t000 finite, t001 all won.
      ok(Math.abs(Number(t0.metrics.profit_factor) - 5) < 1e-9, `${t0.metrics.profit_factor}`);
      ok(typeof t0.metrics.sortino_per_trade === "number" && t0.metrics.sortino_per_trade > 0);
      equal(t1.metrics.win_rate, 1);
      ok(Math.abs(Number(t1.metrics.mean_return_bps) - 5000) < 1e-9);
      // The stored metric stays null (JSON-safe), in the event and in the summary.
      equal(t1.metrics[objective], null);
      equal(best.trial_id, "t001");
      equal(best.metrics[objective], null);
      const manifest = await Deno.readTextFile(r.artifactPaths.manifest);
      ok(!/Infinity|NaN/.test(manifest), "no Infinity in manifest.json");
    });
  });
}

const finite = (pf: number, mean: number): RankedMetrics => ({
  calls: 2,
  win_rate: 0.5,
  mean_return_bps: mean,
  profit_factor: pf,
  sortino_per_trade: pf,
});
const allWon = (mean: number): RankedMetrics => ({
  calls: 2,
  win_rate: 1,
  mean_return_bps: mean,
  profit_factor: null,
  sortino_per_trade: null,
});
const noTrades: RankedMetrics = {
  calls: 0,
  win_rate: 0,
  mean_return_bps: null,
  profit_factor: null,
  sortino_per_trade: null,
};
const allZero: RankedMetrics = {
  calls: 3,
  win_rate: 0,
  mean_return_bps: 0,
  profit_factor: null,
  sortino_per_trade: null,
};

Deno.test("ranksAbove: unbounded first, no trades last, ties", async (t) => {
  for (const objective of ["profit_factor", "sortino_per_trade"] as const) {
    await t.step(`${objective}: no loss beats any finite value, both ways round`, () => {
      equal(objectiveRankValue(allWon(10), objective), Infinity);
      ok(ranksAbove(allWon(10), finite(1e9, 1e9), objective));
      ok(!ranksAbove(finite(1e9, 1e9), allWon(10), objective));
    });
    await t.step(
      `${objective}: two unbounded trials: the higher mean wins, else the earlier`,
      () => {
        ok(ranksAbove(allWon(300), allWon(200), objective));
        ok(!ranksAbove(allWon(200), allWon(300), objective));
        ok(!ranksAbove(allWon(200), allWon(200), objective));
      },
    );
    await t.step(`${objective}: no trades, or only 0 returns, rank last`, () => {
      equal(objectiveRankValue(noTrades, objective), null);
      equal(objectiveRankValue(allZero, objective), null);
      ok(ranksAbove(finite(0, -500), noTrades, objective));
      ok(!ranksAbove(noTrades, finite(0, -500), objective));
      ok(ranksAbove(finite(0, -500), allZero, objective));
      ok(ranksAbove(allWon(1), noTrades, objective));
      ok(!ranksAbove(noTrades, noTrades, objective));
    });
  }
  await t.step("other objectives: null still ranks last, finite ties keep the earlier", () => {
    const a = { ...finite(2, 100), sharpe_per_trade: null };
    const b = { ...finite(2, 900), sharpe_per_trade: 0.1 };
    ok(ranksAbove(b, a, "sharpe_per_trade"));
    ok(!ranksAbove(a, b, "sharpe_per_trade"));
    ok(!ranksAbove(finite(2, 900), finite(2, 100), "profit_factor"));
  });
  await t.step("sharpe: no spread over trades that all won is unbounded", () => {
    // A metrics audit: three stops at -20% had a Sharpe of -3e15 from rounding noise and won
    // the sweep over three equal +5% targets (Sharpe null, ranked last).
    const equalWins = { ...allWon(500), sharpe_per_trade: null };
    const equalLosses = { calls: 3, win_rate: 0, mean_return_bps: -2000, sharpe_per_trade: null };
    const spread = { ...finite(2, 900), sharpe_per_trade: 5 };
    ok(ranksAbove(equalWins, spread, "sharpe_per_trade"));
    ok(ranksAbove(spread, equalLosses, "sharpe_per_trade"));
    ok(!ranksAbove(equalLosses, equalWins, "sharpe_per_trade"));
  });
});

Deno.test("ledger sweep --objective profit_factor names the unbounded best trial", async () => {
  await withDir(async (dir) => {
    const inputs = await writeData(dir);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "-A",
        CLI,
        "sweep",
        "policy",
        "--root",
        `${dir}/ledger`,
        "--calls",
        inputs.calls,
        "--candles",
        inputs.candles,
        "--grid",
        JSON.stringify(GRID),
        "--objective",
        "profit_factor",
        "--no-index",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    ok(stdout.includes("best by profit_factor: t001"), stdout);
    ok(stdout.includes("profit factor unbounded (no losing trade)"), stdout);
  });
});

Deno.test("sweep: no trial has a value for the objective, so no best trial", async (t) => {
  await withDir(async (dir) => {
    // One call: a1 loses 1000 bps at stop 0.1 and makes 5000 at stop 0.5, but one trade has no
    // Sharpe (null under two trades), so no trial has a value to rank by.
    const inputs = await writeData(dir, ["a1"]);
    await t.step("runSweep: best_trial is null, every trial recorded", async () => {
      const root = `${dir}/ledger-lib`;
      const emitter = new EventEmitter({ root });
      const r = await runSweep({
        root,
        ...inputs,
        emitter,
        grid: GRID,
        objective: "sharpe_per_trade",
        gitCwd: dir,
      });
      await emitter.close();
      const trials = (await runEvents(root, r.runId))
        .filter((e) => e.event_type === "trial.recorded")
        .map((e) => e as unknown as { metrics: Record<string, number | null> });
      equal(trials.length, 2);
      equal(trials[0].metrics.mean_return_bps, -1000);
      equal(trials[1].metrics.mean_return_bps, 5000);
      ok(trials.every((tr) => tr.metrics.sharpe_per_trade === null));
      equal(r.summary.best_trial, null);
      equal(r.summary.trials, 2);
      // No best trial, no best trial's calls: trials.parquet alone.
      deepEqual(Object.keys(r.artifactPaths), ["trials", "manifest"]);
      equal(await exists(`${r.runDir}/best_trial_results.parquet`), false);
      const completed = (await runEvents(root, r.runId))
        .find((e) => e.event_type === "run.completed") as unknown as {
          summary: Record<string, unknown>;
        };
      equal(completed.summary.best_trial, null);
    });
    await t.step("the CLI says there is no best trial, exit 0", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "-A",
          CLI,
          "sweep",
          "policy",
          "--root",
          `${dir}/ledger-cli`,
          ...["--calls", inputs.calls, "--candles", inputs.candles],
          ...["--grid", JSON.stringify(GRID), "--objective", "sharpe_per_trade", "--no-index"],
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      equal(out.code, 0, new TextDecoder().decode(out.stderr));
      ok(stdout.includes("no best trial: every trial's sharpe_per_trade is null"), stdout);
      ok(!stdout.includes("best by"), stdout);
    });
  });
});

// A sweep probe: with no trade in any trial, `--objective win_rate` and `max_drawdown_bps` named
// a best trial (both 0 for no trades), every other objective none.
Deno.test("sweep: trials without trades are never the best, whatever the objective", async (t) => {
  await t.step("ranking: no trades ranks last, below a trial that lost every trade", () => {
    const none = { ...noTrades, max_drawdown_bps: 0 };
    const lostAll = { calls: 2, win_rate: 0, mean_return_bps: -300, max_drawdown_bps: -600 };
    for (const objective of ["win_rate", "max_drawdown_bps"] as const) {
      equal(objectiveRankValue(none, objective), null, objective);
      ok(ranksAbove(lostAll, none, objective), objective);
      ok(!ranksAbove(none, lostAll, objective), objective);
    }
  });
  await withDir(async (dir) => {
    // a1's alert is 30 s before its first candle opens: --max-entry-delay 0 leaves it out.
    const inputs = await writeData(dir, ["a1"]);
    for (const objective of ["win_rate", "max_drawdown_bps", "median_return_bps"] as const) {
      await t.step(`--objective ${objective}: no best trial`, async () => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            ...["run", "--no-prompt", "-A", CLI, "sweep", "policy"],
            ...["--root", `${dir}/ledger-${objective}`, "--max-entry-delay", "0"],
            ...["--calls", inputs.calls, "--candles", inputs.candles],
            ...["--grid", JSON.stringify(GRID), "--objective", objective, "--no-index"],
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(out.stdout);
        equal(out.code, 0, new TextDecoder().decode(out.stderr));
        ok(
          stdout.includes(`no best trial: every trial's ${objective} is null or from no trades`),
          stdout,
        );
        ok(!stdout.includes("best by"), stdout);
      });
    }
  });
});
