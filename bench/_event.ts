/**
 * The event the write-side benchmarks emit (a `phase.completed` of realistic
 * size), shared by `bench/_emit.ts` and its writer child processes (which must
 * not load pino).
 *
 * @module
 */

/**
 * The fields of benchmark event number `i`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchFields } from "./_event.ts";
 * assert.equal(benchFields(3).duration_ms, 3);
 * ```
 */
export function benchFields(i: number): {
  phase_name: string;
  duration_ms: number;
  output_summary: Record<string, number>;
} {
  return {
    phase_name: "compute",
    duration_ms: i,
    output_summary: { calls: 1200, rows: 86_400, skipped: 3 },
  };
}

/** The run id of the benchmark events. */
export const BENCH_RUN_ID = "bench-run-0001";
