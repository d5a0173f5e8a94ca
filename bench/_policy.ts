/**
 * Benchmark item 9 of issue 7: the policy executor, calls replayed per
 * second with candles in memory, on the committed sample set and on a
 * generated set. Uses the sets and policies of H4's `bench/policy.ts`; one row
 * per set with the median over the policy types (the spread in the note).
 *
 * @module
 */
import {
  BENCH_POLICIES,
  type BenchSet,
  callsPerSecond,
  generatedSet,
  loadSampleSet,
} from "./policy.ts";
import type { BenchRow } from "./_result.ts";
import { summarize } from "./_stats.ts";

function rowOf(set: BenchSet, repeat: number): BenchRow {
  const rates = BENCH_POLICIES.map((policy) => ({
    type: policy.type,
    rate: callsPerSecond(set, policy, repeat),
  }));
  const s = summarize(rates.map((r) => r.rate));
  const slowest = rates.reduce((a, b) => (b.rate < a.rate ? b : a));
  const fastest = rates.reduce((a, b) => (b.rate > a.rate ? b : a));
  return {
    item: 9,
    name: `policy executor, ${set.name}`,
    unit: "calls/s",
    median: s.p50,
    note: `${set.calls.length} calls, ${set.candles} candles; median of ${rates.length} policy ` +
      `types (${slowest.type} ${Math.round(slowest.rate)} .. ${fastest.type} ${
        Math.round(fastest.rate)
      })`,
  };
}

/**
 * Item 9: calls/s on the sample set and on a generated set of `calls` calls.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchPolicy } from "./_policy.ts";
 * const rows = await benchPolicy(200, 1);
 * assert(rows.length === 2 && rows.every((r) => r.item === 9 && r.median! > 0));
 * ```
 */
export async function benchPolicy(calls: number, repeat: number): Promise<BenchRow[]> {
  const sample = await loadSampleSet();
  const rows = [rowOf(sample, repeat)];
  rows.push(rowOf(generatedSet(calls), repeat));
  return rows;
}
