/**
 * Benchmark items of issue 12 (sweeps):
 *
 * - 10: the policy executor's calls replayed per CPU-second (one core) on the
 *   committed sample set, median over the policy types of `bench/policy.ts`;
 *   compared with one plain pass over the same candles per call (the
 *   path-metrics scan from the anchor to the end), measured the same way.
 *   CPU time, not wall time, so a busy machine skews it less. Target
 *   >= 100k calls/s per core.
 * - 11: a 100-combination fixed-stop sweep (10 stops x 10 targets) on the
 *   sample set, whole run (all phases, 100 `trial.recorded`, Parquet),
 *   versus one policy run on the same set, both with durable events, in the
 *   same bench run. Target <= 3x.
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { runPolicy } from "../backtest/policy.ts";
import { runSweep } from "../backtest/sweep.ts";
import { replayCall, replayCalls } from "../backtest/executor.ts";
import { pathMetrics } from "../backtest/metrics.ts";
import type { Policy } from "../backtest/policies.ts";
import { EventEmitter } from "../ledger/emitter.ts";
import { BENCH_POLICIES, type BenchSet, loadSampleSet } from "./policy.ts";
import type { BenchRow } from "./_result.ts";
import { summarize } from "./_stats.ts";

/** The sweep grid of item 11: 10 stops x 10 targets = 100 combinations. */
export const SWEEP_BENCH_GRID = {
  type: "fixed_stop",
  stopPct: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6],
  takeProfitPct: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8],
};
/** Executor target, calls per CPU-second. */
const EXECUTOR_TARGET_CALLS_PER_S = 100_000;
/** Sweep target: at most this many times one policy run. */
const SWEEP_TARGET_RATIO = 3;

/** CPU seconds (user + system) spent by this process while `fn` runs. */
function cpuSeconds(fn: () => void): number {
  const before = cpuUsage();
  fn();
  const used = cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

/** Median calls per CPU-second of `replay` over `set`, `repeat` times after one warm-up. */
function rateOf(set: BenchSet, repeat: number, replay: () => void): number {
  replay(); // warm-up: JIT and the executor's per-series index
  const rates: number[] = [];
  for (let i = 0; i < repeat; i++) rates.push(set.calls.length / cpuSeconds(replay));
  return summarize(rates).p50;
}

/**
 * Calls/s from each call's best time over `rounds` rounds of `inner`
 * replays: what one core does when nothing else runs (a busy machine
 * preempts the process in the middle of whole-set timings).
 */
function undisturbedRate(set: BenchSet, policy: Policy, rounds = 3, inner = 10): number {
  let totalMs = 0;
  for (const call of set.calls) {
    const series = set.seriesByMint.get(call.mint)!;
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) replayCall(policy, series, { alertTsMs: call.alertTsMs });
      best = Math.min(best, (performance.now() - t0) / inner);
    }
    totalMs += best;
  }
  return set.calls.length / (totalMs / 1000);
}

function executorRow(set: BenchSet, repeat: number): BenchRow {
  const replay = (policy: Policy) => () => {
    replayCalls(policy, set.calls, { seriesByMint: set.seriesByMint, feeBps: 25 });
  };
  const rates = BENCH_POLICIES.map((p) => ({ type: p.type, rate: rateOf(set, repeat, replay(p)) }));
  const scan = rateOf(set, repeat, () => {
    for (const c of set.calls) pathMetrics(set.seriesByMint.get(c.mint)!, c.alertTsMs);
  });
  const median = summarize(rates.map((r) => r.rate)).p50;
  const undisturbed = summarize(BENCH_POLICIES.map((p) => undisturbedRate(set, p))).p50;
  return {
    item: 10,
    name: "policy executor per core, sample set",
    unit: "calls/CPU-s",
    median,
    reference: "one path-metrics pass per call",
    referenceMedian: scan,
    ratio: median / scan,
    target: `>= ${EXECUTOR_TARGET_CALLS_PER_S / 1000}k calls/s per core`,
    met: median >= EXECUTOR_TARGET_CALLS_PER_S,
    note: `${set.calls.length} calls, ${set.candles} candles; median of ${rates.length} policy ` +
      `types (${rates.map((r) => `${r.type} ${Math.round(r.rate)}`).join(", ")}); ` +
      `from each call's best of 3 timings: ${Math.round(undisturbed)} calls/s`,
  };
}

async function timedRun(fn: (root: string, emitter: EventEmitter) => Promise<unknown>) {
  const root = await Deno.makeTempDir({ prefix: "ledger_bench_sweep_" });
  const emitter = new EventEmitter({ root });
  try {
    const t0 = performance.now();
    await fn(root, emitter);
    return performance.now() - t0;
  } finally {
    await emitter.close();
    await Deno.remove(root, { recursive: true });
  }
}

async function sweepRow(repeat: number): Promise<BenchRow> {
  const policyMs: number[] = [];
  const sweepMs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    policyMs.push(
      await timedRun((root, emitter) =>
        runPolicy({ root, emitter, policy: { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 } })
      ),
    );
    sweepMs.push(
      await timedRun((root, emitter) => runSweep({ root, emitter, grid: SWEEP_BENCH_GRID })),
    );
  }
  const sweep = summarize(sweepMs).p50;
  const policy = summarize(policyMs).p50;
  return {
    item: 11,
    name: "sweep of 100 fixed-stop combinations, sample set",
    unit: "ms",
    median: sweep,
    reference: "one policy run, same set",
    referenceMedian: policy,
    ratio: sweep / policy,
    target: `<= ${SWEEP_TARGET_RATIO}x one policy run`,
    met: sweep / policy <= SWEEP_TARGET_RATIO,
    note: `whole runs, durable events (100 trial.recorded), median of ${repeat}`,
  };
}

/**
 * Items 10 and 11: executor calls per CPU-second and a 100-combination sweep
 * versus one policy run, on the sample set.
 *
 * @example
 * ```ts ignore
 * // Not run by the doc tests: a sweep on the whole sample set takes about 3 s, over their budget.
 * import assert from "node:assert";
 * import { benchSweep } from "./_sweep.ts";
 * const [executor, sweep] = await benchSweep(1); // one timed repetition; bench/main.ts: 5
 * assert.equal(executor.unit, "calls/CPU-s");
 * assert.match(executor.note ?? "", /^320 calls, \d+ candles/); // the committed sample set
 * assert.equal(sweep.name, "sweep of 100 fixed-stop combinations, sample set");
 * assert.ok([executor, sweep].every((r) => r.median !== null && r.median > 0));
 * ```
 */
export async function benchSweep(repeat: number): Promise<BenchRow[]> {
  const sample = await loadSampleSet();
  return [executorRow(sample, repeat), await sweepRow(Math.max(1, Math.min(repeat, 3)))];
}

if (import.meta.main) {
  for (const row of await benchSweep(Number(Deno.args[0] ?? 5))) console.log(row);
}
