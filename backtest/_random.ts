/**
 * The seeded pseudo-random numbers of the backtests (sample data, the
 * bootstrap of win-rate intervals, benchmark logs): one home, with no import,
 * so that the metrics need not load what the sample data loads (DuckDB).
 *
 * @module
 */

/**
 * mulberry32, a small seeded pseudo-random generator: the same seed gives
 * the same sequence of numbers in [0, 1) on every machine. Good enough for
 * sample data and benchmark logs, not for anything secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { mulberry32 } from "./_random.ts";
 * const a = mulberry32(7), b = mulberry32(7);
 * const x = a();
 * assert.equal(x, b());
 * assert(x >= 0 && x < 1);
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
