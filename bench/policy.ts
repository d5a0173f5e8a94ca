/**
 * Benchmark of the policy executor: calls replayed per second, in memory
 * (candles already loaded), for each exit policy type, on
 *
 * - the committed sample set (`data/sample/`, loaded with DuckDB as a run does),
 * - a generated set of `--calls` calls (default 10 000; same generator as the
 *   sample set, 2 000 mints, 32 h of 1m candles each).
 *
 * It also times one whole policy run on the sample set (all phases, events
 * relaxed, Parquet written) for scale. Prints a Markdown table. Run:
 *
 * ```sh
 * deno run -A bench/policy.ts --calls 10000 --repeat 5
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  coverCalls,
  loadCalls,
  openCandles,
  openDataSession,
  readSlice,
  sliceCandles,
} from "../backtest/data.ts";
import { replayCalls } from "../backtest/executor.ts";
import type { Policy } from "../backtest/policies.ts";
import { generateSampleData } from "../backtest/sample_data.ts";
import { runPolicy } from "../backtest/policy.ts";
import type { Call, CandleSeries } from "../backtest/types.ts";
import { EventEmitter } from "../ledger/emitter.ts";

/** The policies benchmarked, one per type. */
export const BENCH_POLICIES: readonly Policy[] = [
  { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 },
  { type: "time_stop", maxHoldMs: 6 * 3_600_000, takeProfitPct: 2 },
  { type: "trailing_stop", activationPct: 0.5, trailPct: 0.25, hardStopPct: 0.4 },
  {
    type: "ladder",
    levels: [{ multiple: 2, fraction: 0.5 }, { multiple: 4, fraction: 0.5 }],
    stopPct: 0.4,
  },
  {
    type: "combo",
    policies: [
      { type: "trailing_stop", activationPct: 0.5, trailPct: 0.25 },
      { type: "time_stop", maxHoldMs: 12 * 3_600_000 },
    ],
  },
];

/** One data set in memory. */
export interface BenchSet {
  /** Name for the report. */
  name: string;
  /** Calls. */
  calls: Call[];
  /** Candles by mint. */
  seriesByMint: Map<string, CandleSeries>;
  /** Candles in memory. */
  candles: number;
}

/** Load the committed sample set the way a run does (DuckDB, all calls covered). */
export async function loadSampleSet(): Promise<BenchSet> {
  const session = await openDataSession();
  try {
    const { calls } = await loadCalls(session.conn, "data/sample/calls.csv");
    const source = await openCandles(session.conn, "data/sample/candles_1m.parquet");
    const cov = await coverCalls(session.conn, calls);
    await sliceCandles(session.conn, source);
    const seriesByMint = await readSlice(session.conn);
    let candles = 0;
    for (const s of seriesByMint.values()) candles += s.ts.length;
    return { name: "sample set", calls: cov.covered, seriesByMint, candles };
  } finally {
    session.close();
  }
}

/** Generate a set of `calls` calls in memory. */
export function generatedSet(calls: number): BenchSet {
  const data = generateSampleData({ calls, mints: Math.max(10, Math.round(calls / 5)), seed: 7 });
  const seriesByMint = new Map<string, CandleSeries>();
  let candles = 0;
  for (const m of data.mints) {
    seriesByMint.set(m.mint, m);
    candles += m.ts.length;
  }
  return { name: `generated ${calls} calls`, calls: data.calls, seriesByMint, candles };
}

/** Median calls/s of replaying `policy` over `set`, `repeat` times. */
export function callsPerSecond(set: BenchSet, policy: Policy, repeat: number): number {
  const rates: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const r = replayCalls(policy, set.calls, { seriesByMint: set.seriesByMint, feeBps: 25 });
    const s = (performance.now() - t0) / 1000;
    if (r.trades.length + r.skipped !== set.calls.length) throw new Error("Replay lost calls");
    rates.push(set.calls.length / s);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

async function wholeRunMs(): Promise<number> {
  const root = await Deno.makeTempDir({ prefix: "ledger_bench_policy_" });
  const emitter = new EventEmitter({ root, durability: "relaxed" });
  try {
    const t0 = performance.now();
    await runPolicy({ root, emitter, policy: BENCH_POLICIES[0], gitCwd: root });
    return performance.now() - t0;
  } finally {
    await emitter.close();
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      calls: { type: "string", default: "10000" },
      repeat: { type: "string", default: "5" },
    },
  });
  const repeat = Math.max(1, Number(values.repeat));
  const sets = [await loadSampleSet(), generatedSet(Number(values.calls))];
  console.log(`| set | calls | candles | policy | calls/s (median of ${repeat}) |`);
  console.log("|---|---:|---:|---|---:|");
  for (const set of sets) {
    for (const policy of BENCH_POLICIES) {
      const rate = callsPerSecond(set, policy, repeat);
      console.log(
        `| ${set.name} | ${set.calls.length} | ${set.candles} | ${policy.type} | ${
          Math.round(rate)
        } |`,
      );
    }
  }
  const ms = await wholeRunMs();
  console.log(
    `\nwhole policy run on the sample set (7 phases, Parquet, relaxed events): ${
      Math.round(ms)
    } ms`,
  );
}
