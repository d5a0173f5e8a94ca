/**
 * The injected clock of the functions that judge time against now (`verify`'s
 * future timestamps, dual mode's statuses): one rule for what a `nowMs`
 * option may be.
 *
 * @module
 */

/**
 * `nowMs`, or the real clock when it is undefined. Throws `RangeError` when it
 * is not a finite number: NaN or a string would misjudge every silence and
 * every future timestamp without a word.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { clockMs } from "./clock.ts";
 * assert.equal(clockMs(1_767_225_600_000), 1_767_225_600_000);
 * assert.ok(Math.abs(clockMs(undefined) - Date.now()) < 1000);
 * assert.throws(() => clockMs(Number.NaN), /nowMs must be a number of ms, got NaN/);
 * ```
 */
export function clockMs(nowMs: number | undefined): number {
  const ms = nowMs ?? Date.now();
  if (!Number.isFinite(ms)) throw new RangeError(`nowMs must be a number of ms, got ${ms}`);
  return ms;
}
