import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  rejects,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { expandGrid, GRID_TRIALS_MAX_DEFAULT, GridError } from "../../backtest/grid.ts";
import { runPolicy } from "../../backtest/policy.ts";
import { replayCall } from "../../backtest/executor.ts";
import { planSweep, runSweep, SWEEP_PHASES } from "../../backtest/sweep.ts";
import { runEvents, writeFixtures } from "./_fixtures.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

/** Assert `actual` is within 1e-6 of `expected`. */
function near(actual: unknown, expected: number, what: string): void {
  ok(
    typeof actual === "number" && Math.abs(actual - expected) <= 1e-6,
    `${what}: expected ${expected}, got ${actual}`,
  );
}

async function readParquet(path: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}') ORDER BY 1`);
    return { columns: reader.columnNames(), rows: reader.getRowsJS() };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function ledger(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function withRoot(fn: (dir: string, root: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_sweep_test_" });
  try {
    await fn(dir, `${dir}/ledger`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// The fixtures (tests/backtest/_fixtures.ts): a1 (alice) on mint A with p0 = 1.0
// at minute 1, b1 (bob) on mint B with p0 = 1.0 at minute 0, c1 (carol) without
// candles. Grid: stopPct [0.1, 0.2] x takeProfitPct [0.5, 1.5], grid order:
//   t000 stop 0.1 tp 0.5: A stops at 0.9 on minute 2 (low 0.85); B stops at 0.9 on
//        minute 1 (low 0.75): -1000, -1000 -> median -1000
//   t001 stop 0.1 tp 1.5: the same stops: -1000, -1000
//   t002 stop 0.2 tp 0.5: A's minute 3 high 1.6 reaches 1.5 (lows stay above 0.8):
//        +5000; B stops at 0.8 on minute 1: -2000 -> median 1500, win rate 0.5,
//        profit factor 5000 / 2000 = 2.5; equity by exit B, A: -2000, 3000 -> dd -2000
//   t003 stop 0.2 tp 1.5: A's minute 5 touches both 0.8 and 2.5: the stop fills
//        first, -2000; B -2000 -> median -2000; equity -2000, -4000 -> dd -4000
// Best by median_return_bps: t002. By max_drawdown_bps: t000, t001, t002 tie at
// -2000 (t000: B -1000, A -1000 -> -2000), the earliest, t000, wins.
const GRID = { type: "fixed_stop", stopPct: [0.1, 0.2], takeProfitPct: [0.5, 1.5] };

Deno.test("runSweep: one run, a trial per combination, trials.parquet, the best trial", async (t) => {
  await withRoot(async (dir, root) => {
    const inputs = await writeFixtures(dir);
    const emitter = new EventEmitter({ root });
    const progress: [number, number][] = [];
    const r = await runSweep({
      root,
      ...inputs,
      emitter,
      grid: JSON.stringify(GRID),
      gitCwd: dir,
      onProgress: (done, total) => progress.push([done, total]),
    });
    await emitter.close();
    const events = await runEvents(root, r.runId);

    await t.step("one run of run_type sweep, the policy phases, completed", () => {
      equal(r.runType, "sweep");
      const created = events[0] as LedgerEvent & { run_type: string; config: { grid: unknown } };
      equal(created.event_type, "run.created");
      equal(created.run_type, "sweep");
      deepEqual(created.config.grid, GRID);
      // The limit in force is recorded, the default too (an audit: it was null).
      equal((created.config as Record<string, unknown>).max_trials, GRID_TRIALS_MAX_DEFAULT);
      equal(events.at(-1)!.event_type, "run.completed");
      deepEqual(r.phases.map((p) => p.name), [...SWEEP_PHASES]);
      deepEqual(progress, [[1, 4], [2, 4], [3, 4], [4, 4]]);
    });

    await t.step("one trial.recorded per combination with the concrete policy", () => {
      const trials = events.filter((e) => e.event_type === "trial.recorded") as (LedgerEvent & {
        trial_id: string;
        params: Record<string, unknown>;
        metrics: Record<string, number | null>;
      })[];
      deepEqual(trials.map((e) => e.trial_id), ["t000", "t001", "t002", "t003"]);
      deepEqual(trials[2].params, { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 });
      const medians = [-1000, -1000, 1500, -2000];
      const drawdowns = [-2000, -2000, -2000, -4000];
      trials.forEach((e, i) => {
        equal(e.metrics.calls, 2);
        near(e.metrics.median_return_bps, medians[i], `${e.trial_id} median`);
        near(e.metrics.max_drawdown_bps, drawdowns[i], `${e.trial_id} drawdown`);
        for (
          const m of ["win_rate", "mean_return_bps", "profit_factor", "expectancy_bps"]
        ) ok(m in e.metrics, `${e.trial_id} has ${m}`);
      });
      equal(trials[2].metrics.win_rate, 0.5);
      near(trials[2].metrics.profit_factor, 2.5, "t002 profit factor");
      near(trials[2].metrics.expectancy_bps, 1500, "t002 expectancy");
      equal(trials[0].metrics.profit_factor, 0);
    });

    await t.step("the best trial by median_return_bps is in the summary", () => {
      const best = r.summary.best_trial as {
        trial_id: string;
        params: unknown;
        metrics: Record<string, number>;
        by_caller: Record<string, Record<string, number>>;
      };
      equal(r.summary.objective, "median_return_bps");
      equal(r.summary.trials, 4);
      equal(best.trial_id, "t002");
      deepEqual(best.params, { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 });
      near(best.metrics.median_return_bps, 1500, "best median");
      // alice won her one trade, bob lost his: the bootstrap cannot move either.
      equal(best.by_caller.alice.win_rate_ci_low, 1);
      equal(best.by_caller.alice.win_rate_ci_high, 1);
      equal(best.by_caller.bob.win_rate_ci_high, 0);
      const completed = events.at(-1) as LedgerEvent & { summary: { best_trial: unknown } };
      deepEqual(completed.summary.best_trial, r.summary.best_trial);
    });

    await t.step("trials.parquet: one row per trial, flat params and metrics", async () => {
      const created = events.filter((e) =>
        e.event_type === "artifact.created"
      ) as (LedgerEvent & { artifact_type: string; artifact_path: string })[];
      deepEqual(created.map((e) => e.artifact_type), ["trials", "best_trial_results", "manifest"]);
      equal(r.artifactPaths.trials, `${r.runDir}/trials.parquet`);
      const { columns, rows } = await readParquet(r.artifactPaths.trials);
      deepEqual(columns.slice(0, 4), [
        "trial_id",
        "params.type",
        "params.stopPct",
        "params.takeProfitPct",
      ]);
      ok(columns.includes("metrics.median_return_bps"));
      ok(columns.includes("metrics.sharpe_per_trade"));
      equal(rows.length, 4);
      deepEqual(rows[3].slice(0, 4), ["t003", "fixed_stop", 0.2, 1.5]);
      equal(rows[0][columns.indexOf("metrics.calls")], 2n);
    });
  });
});

// A combo nested in a combo is flattened into it (policies.ts): the grid's stopPct at
// policies.0.policies.0.stopPct is the trials' params.policies.0.stopPct.
const NESTED_GRID = {
  type: "combo",
  policies: [
    { type: "combo", policies: [{ type: "fixed_stop", stopPct: [0.1, 0.2] }] },
    { kind: "time_stop", maxHoldMs: [60_000, 120_000] },
  ],
};

Deno.test("runSweep: summary.axes name the trials' columns, for a combo in a combo too", async () => {
  await withRoot(async (dir, root) => {
    const inputs = await writeFixtures(dir);
    const emitter = new EventEmitter({ root });
    const r = await runSweep({ root, ...inputs, emitter, grid: NESTED_GRID, gitCwd: dir });
    await emitter.close();
    const axes = r.summary.axes as Record<string, number[]>;
    deepEqual(axes, {
      "policies.0.stopPct": [0.1, 0.2],
      "policies.1.maxHoldMs": [60_000, 120_000],
    });
    const { columns, rows } = await readParquet(r.artifactPaths.trials);
    for (const path of Object.keys(axes)) ok(columns.includes(`params.${path}`), path);
    deepEqual(rows.map((row) => row[columns.indexOf("params.policies.0.stopPct")]), [
      0.1,
      0.1,
      0.2,
      0.2,
    ]);
    // The grid is recorded as given.
    const created = (await runEvents(root, r.runId))[0] as LedgerEvent & {
      config: { grid: unknown };
    };
    deepEqual(created.config.grid, NESTED_GRID);
  });
});

Deno.test("runSweep: --objective picks by another metric, ties keep grid order", async () => {
  await withRoot(async (dir, root) => {
    const inputs = await writeFixtures(dir);
    const emitter = new EventEmitter({ root });
    const r = await runSweep({
      root,
      ...inputs,
      emitter,
      grid: GRID,
      objective: "max_drawdown_bps",
      gitCwd: dir,
    });
    await emitter.close();
    equal((r.summary.best_trial as { trial_id: string }).trial_id, "t000");
  });
});

Deno.test("policy runs' summaries carry the trade metrics", async () => {
  await withRoot(async (dir, root) => {
    const inputs = await writeFixtures(dir);
    const emitter = new EventEmitter({ root });
    const r = await runPolicy({
      root,
      ...inputs,
      emitter,
      policy: { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 },
      gitCwd: dir,
    });
    await emitter.close();
    // The trades of t002 above: +5000 (alice, held minute 1 -> 3), -2000 (bob, 0 -> 1).
    const s = r.summary as Record<string, unknown> & {
      by_caller: Record<string, Record<string, number>>;
    };
    equal(s.calls, 2);
    near(s.profit_factor, 2.5, "profit factor");
    near(s.max_drawdown_bps, -2000, "drawdown");
    near(s.median_return_bps, 1500, "median");
    // hold: (2 + 1) minutes / 2 = 90 000 ms
    equal(s.avg_hold_ms, 90_000);
    // sample stdev of 5000 and -2000 around 1500: sqrt(2 * 3500^2) = 4949.747; sharpe 0.303046
    near(s.sharpe_per_trade, 1500 / Math.sqrt(2 * 3500 ** 2), "sharpe");
    // downside sqrt(2000^2 / 2) = 1414.2136; sortino 1.06066
    near(s.sortino_per_trade, 1500 / Math.sqrt(2000 ** 2 / 2), "sortino");
    deepEqual(
      [s.by_caller.alice.win_rate_ci_low, s.by_caller.alice.win_rate_ci_high],
      [1, 1],
    );
    // A sweep's best trial reports its callers as this run does (an audit: without
    // calls_no_entry), here a one-combination grid of the same policy.
    const sweepEmitter = new EventEmitter({ root });
    const sweep = await runSweep({
      root,
      ...inputs,
      emitter: sweepEmitter,
      grid: { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 },
      gitCwd: dir,
    });
    await sweepEmitter.close();
    const best = sweep.summary.best_trial as { by_caller: unknown };
    deepEqual(best.by_caller, s.by_caller);
    equal(s.by_caller.alice.calls_no_entry, 0);
  });
});

Deno.test("grids: every policy type, ladder levels and combo sub-policies", async (t) => {
  await t.step("ladder levels take lists", () => {
    const trials = expandGrid({
      type: "ladder",
      levels: [{ multiple: [2, 3], fraction: 0.5 }, { multiple: 4, fraction: [0.25, 0.5] }],
      stopPct: 0.3,
    });
    equal(trials.length, 4);
    deepEqual(trials[3].policy, {
      type: "ladder",
      levels: [{ multiple: 3, fraction: 0.5 }, { multiple: 4, fraction: 0.5 }],
      stopPct: 0.3,
    });
    deepEqual(trials[1].values, { "levels.0.multiple": 2, "levels.1.fraction": 0.5 });
  });
  await t.step("combo sub-policies take lists", () => {
    const trials = expandGrid({
      type: "combo",
      policies: [
        { type: "trailing_stop", activationPct: [0.2, 0.5], trailPct: [0.1, 0.2, 0.3] },
        { type: "time_stop", maxHoldMs: [3_600_000, 7_200_000] },
      ],
    });
    equal(trials.length, 12);
    deepEqual(trials[11].values, {
      "policies.0.activationPct": 0.5,
      "policies.0.trailPct": 0.3,
      "policies.1.maxHoldMs": 7_200_000,
    });
  });
  await t.step("a combo nested in a combo: trial values named as the params are", () => {
    const trials = expandGrid(NESTED_GRID);
    deepEqual(trials[3].values, { "policies.0.stopPct": 0.2, "policies.1.maxHoldMs": 120_000 });
    deepEqual(trials[3].policy, {
      type: "combo",
      policies: [{ type: "fixed_stop", stopPct: 0.2 }, { type: "time_stop", maxHoldMs: 120_000 }],
    });
  });
  await t.step("time_stop and trailing_stop", () => {
    equal(expandGrid({ type: "time_stop", maxHoldMs: [60_000, 120_000] }).length, 2);
    equal(
      expandGrid({ type: "trailing_stop", activationPct: [0, 1], trailPct: 0.2 }).length,
      2,
    );
  });
  await t.step("the limit is trialsMax; maxTrials, its name before 0.3.0, still works", () => {
    // Issue 18: limits are named noun-first. The old name keeps working until it is removed.
    for (const options of [{ trialsMax: 3 }, { maxTrials: 3 }]) {
      throws(() => expandGrid(GRID, options), /more than the limit of 3 \(--max-trials\)/);
      throws(() => planSweep({ grid: GRID, ...options }), /more than the limit of 3/);
    }
    equal(planSweep({ grid: GRID, trialsMax: 4 }).length, 4);
    throws(() => expandGrid(GRID, { trialsMax: 4, maxTrials: 3 }), RangeError);
    throws(() => planSweep({ grid: GRID, trialsMax: 0 }), /trialsMax must be an integer >= 1/);
  });
  await t.step("a grid without lists is one trial", () => {
    equal(expandGrid({ type: "fixed_stop", stopPct: 0.3 }).length, 1);
  });
  await t.step("refusals name the count, or the field and the combination", () => {
    throws(
      () => expandGrid(GRID, { trialsMax: 3 }),
      (e: Error) => e instanceof GridError && /Grid has 4 combinations/.test(e.message),
    );
    // Exact past 2^53 (an audit: 101^8 was said as ...800, and a larger grid as Infinity).
    const levels = (n: number) =>
      Array.from({ length: n }, () => ({
        multiple: Array.from({ length: 101 }, (_, i) => 2 + i / 100),
        fraction: 0.1,
      }));
    throws(
      () => expandGrid({ type: "ladder", levels: levels(8) }),
      (e: Error) => /Grid has 10828567056280801 combinations/.test(e.message),
    );
    throws(
      () => expandGrid({ type: "ladder", levels: levels(160) }),
      (e: Error) =>
        /^Grid has about 4\.91e320 combinations \(levels\.0\.multiple: 101 x .* x 152 more lists\), more than the limit of 10000/
          .test(e.message),
    );
    throws(
      () => expandGrid({ type: "fixed_stop", stopPct: [0.2, 7], takeProfitPct: [1, 2] }),
      (e: Error) =>
        e instanceof GridError && e.field === "stopPct" &&
        e.message.includes('combination 3 of 4 {"stopPct":7,"takeProfitPct":1}') &&
        e.message.includes("stopPct must be <= 1"),
    );
    throws(() => expandGrid({ type: "fixed_stop", stopPct: [] }), /stopPct is an empty list/);
    throws(() => expandGrid("{not json"), /Grid is not valid JSON/);
    // A probe: nested thousands deep, the grid overflowed the stack (exit 1, not a usage error);
    // a list of lists made axes named stopPct.0; 1e400 was named as null.
    const deep = '{"type":"fixed_stop","stopPct":0.2,"x":' + '{"a":'.repeat(3000) + "1" +
      "}".repeat(3000) + "}";
    throws(
      () => expandGrid(deep),
      (e: Error) =>
        e instanceof GridError && /^Grid nests lists and objects deeper than 32 levels at x\.a/
          .test(e.message),
    );
    throws(
      () =>
        expandGrid(
          '{"type":"fixed_stop","stopPct":' + "[".repeat(3000) + "0.2" + "]".repeat(3000) + "}",
        ),
      (e: Error) => e instanceof GridError && /stopPct is a list holding a list/.test(e.message),
    );
    throws(
      () => expandGrid('{"type":"fixed_stop","stopPct":[0.2,1e400]}'),
      (e: Error) =>
        e instanceof GridError && e.field === "stopPct" &&
        /lists a number too large for a double \(read as Infinity\)/.test(e.message),
    );
    // One value twice would run one trial twice; a list of policy types is two sweeps.
    throws(
      () => expandGrid({ type: "fixed_stop", stopPct: [0.2, 0.3, 0.2] }),
      (e: Error) => e instanceof GridError && e.field === "stopPct" && /0.2 twice/.test(e.message),
    );
    // A sweep probe: 0.3 and 0.1 + 0.2 are one stop to the backtest (a level within its touch
    // slack is reached), so they ran the same trades as two trials.
    throws(
      () => expandGrid({ type: "fixed_stop", stopPct: [0.5, 0.30000000000000004, 0.3] }),
      (e: Error) =>
        e instanceof GridError && e.field === "stopPct" &&
        /lists 0\.3 and 0\.30000000000000004, one value but for rounding/.test(e.message),
    );
    // Values apart by more than rounding, and integers (hold times) apart by one, are kept.
    equal(expandGrid({ type: "fixed_stop", stopPct: [0.3, 0.3000001] }).length, 2);
    // A level is compared, not the value (helper-294): stops near 100% whose levels (1 - value:
    // 1e-12 and 5e-13 of the entry) are 2x apart are two; stops or take-profits of 1e-15 and
    // 2e-15 are one level (1 -/+ value) but for rounding.
    equal(expandGrid({ type: "fixed_stop", stopPct: [0.999999999999, 0.9999999999995] }).length, 2);
    for (const field of ["stopPct", "takeProfitPct"]) {
      throws(
        () => expandGrid({ type: "fixed_stop", stopPct: 0.5, [field]: [1e-15, 2e-15] }),
        (e: Error) =>
          e instanceof GridError && e.field === field &&
          /lists 1e-15 and 2e-15, one value but for rounding \(their levels, 1 [-+] value/.test(
            e.message,
          ),
      );
    }
    equal(
      expandGrid({
        type: "combo",
        policies: [{ type: "fixed_stop", stopPct: [0.999999999999, 0.9999999999995] }],
      }).length,
      2,
    );
    // 0 is no take-profit (helper-297): not one level with a take-profit at the entry.
    equal(expandGrid({ type: "fixed_stop", stopPct: 0.5, takeProfitPct: [0, 1e-13] }).length, 2);
    // Whole values are levels too: a take-profit of 1 and of 1 + 1e-13, swapped in a combo.
    throws(
      () =>
        expandGrid({
          type: "combo",
          policies: [
            { type: "fixed_stop", stopPct: 0.2, takeProfitPct: [1, 3] },
            { type: "fixed_stop", stopPct: 0.2, takeProfitPct: [3, 1 + 1e-13] },
          ],
        }),
      (e: Error) =>
        e instanceof GridError && /t000 .* and t003 .* are the same policy/.test(e.message),
    );
    equal(
      expandGrid({ type: "time_stop", maxHoldMs: [1e15, 1e15 + 1] }).length,
      2,
    );
    throws(
      () => expandGrid({ type: ["fixed_stop", "time_stop"], stopPct: 0.2 }),
      /Grid field type is a list of \["fixed_stop","time_stop"\]: only numbers vary/,
    );
  });
  await t.step("two combinations that are one policy but for rounding are refused", () => {
    // A probe: each list passed the rounding check, and t000 and t003 ran the same trades.
    throws(
      () =>
        expandGrid({
          type: "ladder",
          levels: [
            { multiple: [2, 3], fraction: 0.5 },
            { multiple: [3.0000000000000004, 2.0000000000000004], fraction: 0.5 },
          ],
        }),
      (e: Error) =>
        e instanceof GridError && /t000 .* and t003 .* are the same policy/.test(e.message),
    );
    throws(
      () =>
        expandGrid({
          type: "combo",
          policies: [
            { type: "fixed_stop", stopPct: [0.1, 0.2] },
            { type: "fixed_stop", stopPct: [0.20000000000000004, 0.10000000000000003] },
          ],
        }),
      (e: Error) => e instanceof GridError && /are the same policy/.test(e.message),
    );
    // Apart by more than rounding: four trials.
    equal(
      expandGrid({
        type: "combo",
        policies: [
          { type: "fixed_stop", stopPct: [0.1, 0.2] },
          { type: "fixed_stop", stopPct: [0.2000001, 0.1000001] },
        ],
      }).length,
      4,
    );
  });
  await t.step("an invalid combination is named by its values; a fixed field, by the grid", () => {
    // A list's value at fault: the combination, by the values of its lists.
    throws(
      () => expandGrid({ type: "fixed_stop", stopPct: [0.1, -1] }),
      (e: Error) =>
        e instanceof GridError && (e as GridError).field === "stopPct" &&
        e.message === 'Grid combination 2 of 2 {"stopPct":-1} is not a valid policy: ' +
            "stopPct must be >= 0",
    );
    throws(
      () => expandGrid({ type: "ladder", levels: [{ multiple: [1.5, 0.5], fraction: 1 }] }),
      /^GridError: Grid combination 2 of 2 \{"levels\.0\.multiple":0\.5\} is not a valid policy: /,
    );
    // A field no list touches fails every combination (a probe: "combination 1 of 1
    // {"stopPct":0.2}" left out the type at fault).
    throws(
      () => expandGrid({ type: "nope", stopPct: [0.2] }),
      (e: Error) =>
        e instanceof GridError && (e as GridError).field === "type" &&
        e.message.startsWith(
          "Grid is not a valid policy, whatever its lists hold: type must be one of ",
        ),
    );
  });
  await t.step("two combinations that are one policy are refused, naming both", () => {
    // The executor runs ladder levels by multiple: (1.5, 2) and (2, 1.5) are one ladder.
    throws(
      () =>
        expandGrid({
          type: "ladder",
          levels: [{ multiple: [1.5, 2], fraction: 0.5 }, { multiple: [1.5, 2], fraction: 0.5 }],
        }),
      (e: Error) =>
        e instanceof GridError &&
        e.message.startsWith(
          'Grid combinations t001 {"levels.0.multiple":1.5,"levels.1.multiple":2} and t002 ' +
            '{"levels.0.multiple":2,"levels.1.multiple":1.5} are the same policy',
        ),
    );
    // Two fixed stops side by side fill alike in either order.
    const stops = { type: "fixed_stop", stopPct: [0.1, 0.2] };
    throws(
      () => expandGrid({ type: "combo", policies: [stops, stops] }),
      /Grid combinations t001 .* and t002 .* are the same policy/,
    );
    // A trailing stop's trail and another's hard stop at one price fill by the combo's order.
    const trail = (trailPct: number, hardStopPct: number) =>
      ({ type: "trailing_stop", activationPct: 0, trailPct, hardStopPct }) as const;
    const path = {
      ts: [0, 60_000, 120_000],
      open: [1, 1, 1],
      high: [1, 1, 1],
      low: [1, 1, 0.7],
      close: [1, 1, 0.8],
    };
    const reasons = [[trail(0.2, 0.5), trail(0.5, 0.2)], [trail(0.5, 0.2), trail(0.2, 0.5)]].map(
      (policies) => replayCall({ type: "combo", policies }, path, { alertTsMs: 0 })!.exitReason,
    );
    deepEqual(reasons, ["trailing_stop", "hard_stop"]);
    const trails = expandGrid({
      type: "combo",
      policies: [
        { type: "trailing_stop", activationPct: 0, trailPct: [0.2, 0.5], hardStopPct: [0.2, 0.5] },
        { type: "trailing_stop", activationPct: 0, trailPct: [0.2, 0.5], hardStopPct: [0.2, 0.5] },
      ],
    });
    equal(trails.length, 16);
  });
  await t.step("bad costs and gap fill are refused before the run, naming the field", async () => {
    for (
      const [options, field] of [
        [{ feeBps: -1 }, "fee_bps"],
        [{ slippageBps: 10_000 }, "slippage_bps"],
        [{ gapFill: "close" as unknown as "open" }, "gap_fill"],
      ] as const
    ) {
      await rejects(
        () => runSweep({ grid: GRID, root: "/nonexistent/ledger", ...options }),
        (e: Error) => e instanceof GridError && e.field === field && e.message.startsWith(field),
      );
    }
  });
});

Deno.test("ledger sweep policy (CLI)", async (t) => {
  await withRoot(async (dir, root) => {
    const inputs = await writeFixtures(dir);
    const base = ["sweep", "policy", "--root", root, "--calls", inputs.calls];
    base.push("--candles", inputs.candles, "--no-index");
    const nothingWritten = async () => {
      const entries = [];
      for await (const e of Deno.readDir(dir)) entries.push(e.name);
      deepEqual(entries.sort(), ["calls.csv", "candles.csv"], "no run folder, no events");
    };
    await t.step("a grid over --max-trials: exit 2 naming the count, nothing written", async () => {
      const r = await ledger([...base, "--grid", JSON.stringify(GRID), "--max-trials", "3"]);
      equal(r.code, 2);
      match(
        r.stderr.trim(),
        /^ledger sweep: --grid: Grid has 4 combinations .*more than the limit of 3/,
      );
      equal(r.stderr.trim().split("\n").length, 1);
      await nothingWritten();
    });
    await t.step("an invalid combination: exit 2 naming field and combination", async () => {
      const grid = JSON.stringify({ type: "fixed_stop", stopPct: [0.2, 7] });
      const r = await ledger([...base, "--grid", grid]);
      equal(r.code, 2);
      match(r.stderr.trim(), /combination 2 of 2 \{"stopPct":7\}.*stopPct must be <= 1/);
      await nothingWritten();
    });
    await t.step("an unknown objective is a usage error", async () => {
      const r = await ledger([...base, "--grid", JSON.stringify(GRID), "--objective", "luck"]);
      equal(r.code, 2);
      match(r.stderr, /--objective must be one of/);
      await nothingWritten();
    });
    await t.step("a sweep from a grid file, --json", async () => {
      await Deno.writeTextFile(`${dir}/grid.json`, JSON.stringify(GRID));
      const r = await ledger([
        ...base,
        "--grid",
        `@${dir}/grid.json`,
        "--json",
        "--run-id",
        "sweep-cli",
      ]);
      equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      equal(out.run_type, "sweep");
      equal(out.status, "completed");
      equal(out.summary.trials, 4);
      equal(out.summary.best_trial.trial_id, "t002");
    });
    await t.step("ledger trials sorts the sweep's trials by a metric", async () => {
      equal((await ledger(["rebuild-index", "--root", root])).code, 0);
      const r = await ledger([
        "trials",
        "--root",
        root,
        "--run",
        "sweep-cli",
        "--sort",
        "metrics.median_return_bps:desc",
        "--format",
        "json",
      ]);
      equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as { trial_id: string }[];
      // medians: t002 1500, t000 and t001 -1000, t003 -2000
      equal(rows.length, 4);
      equal(rows[0].trial_id, "t002");
      equal(rows[3].trial_id, "t003");
    });
  });
});
