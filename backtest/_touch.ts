/**
 * Whether a candle reached a price level, with a rounding slack. A level is
 * a product of the entry price and a factor (`p0·(1+takeProfitPct)`,
 * `3·p0`), and in binary floating point it can land a few units in the last
 * place beside the price a candle prints: `0.1 · 1.5` is
 * `0.15000000000000002`, so a high of exactly `0.15` would miss a +50%
 * target, and `0.7 · 0.7` is `0.48999999999999994`, so a low of exactly
 * `0.49` would miss a -30% stop. Within {@linkcode TOUCH_SLACK} (relative)
 * of the level counts as reaching it; a fill is still at the level.
 *
 * @module
 */

/** Relative slack of a touch: far above rounding (about 1e-16), far below any tick. */
export const TOUCH_SLACK = 1e-12;

/**
 * A high (or any price moving up) reached `level`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { reachedUp } from "./_touch.ts";
 * assert.equal(0.15 >= 0.1 * 1.5, false); // rounding
 * assert.equal(reachedUp(0.15, 0.1 * 1.5), true);
 * assert.equal(reachedUp(0.1499, 0.1 * 1.5), false);
 * ```
 */
export function reachedUp(price: number, level: number): boolean {
  return price >= level * (1 - TOUCH_SLACK);
}

/**
 * A low (or any price moving down) reached `level`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { reachedDown } from "./_touch.ts";
 * assert.equal(0.49 <= 0.7 * 0.7, false); // rounding
 * assert.equal(reachedDown(0.49, 0.7 * 0.7), true);
 * assert.equal(reachedDown(0.4901, 0.7 * 0.7), false);
 * ```
 */
export function reachedDown(price: number, level: number): boolean {
  return price <= level * (1 + TOUCH_SLACK);
}
