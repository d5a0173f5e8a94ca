/**
 * Test helper: build a candle series from rows `[ts, open, high, low, close]`.
 *
 * @module
 */
import type { CandleSeries } from "../../backtest/types.ts";

/** One minute in ms. */
export const MINUTE_MS = 60_000;

/** Build a series from `[minute, open, high, low, close]` rows (ts = minute · 60 000). */
export function seriesOf(rows: readonly (readonly number[])[]): CandleSeries {
  return {
    ts: rows.map((r) => r[0] * MINUTE_MS),
    open: rows.map((r) => r[1]),
    high: rows.map((r) => r[2]),
    low: rows.map((r) => r[3]),
    close: rows.map((r) => r[4]),
  };
}

/** Assert `actual` is within `1e-6` of `expected` (bps and prices computed in floating point). */
export function near(actual: number | null, expected: number, what: string): void {
  if (actual === null || Math.abs(actual - expected) > 1e-6) {
    throw new Error(`${what}: expected ${expected}, got ${actual}`);
  }
}
