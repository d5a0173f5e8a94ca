/**
 * The alert-to-entry delay of a call: how long after its alert the anchor
 * candle opens (the first candle at or after the alert, at the run's
 * interval: its close is `p0` of a path-only run and the entry price of a
 * policy replay). The spec puts no bound on it, so a call alerted 30 days
 * before its mint's first candle is priced 30 days later; a run's
 * `maxEntryDelayMs` (`--max-entry-delay`) is that bound, inclusive: a call
 * whose anchor opens more than it after the alert is _late_ and not
 * computed, and one exactly at it is kept. One rule for path-only, policy
 * and sweep runs (docs/METRICS.md, "The anchor and the entry delay").
 *
 * @module
 */
import { InputError } from "./errors.ts";
import { anchorIndex } from "./metrics.ts";
import type { Call, CandleSeries } from "./types.ts";

/**
 * The anchor candle's `ts` (its open time) minus `alertTsMs`, in ms
 * (`>= 0`), or null when no candle is at or after the alert.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { entryDelayMs } from "./entry_delay.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1], low: [1, 1], close: [1, 1] };
 * assert.equal(entryDelayMs(s, 30_000), 30_000); // the 60 s candle opens 30 s after the alert
 * assert.equal(entryDelayMs(s, 60_000), 0);
 * assert.strictEqual(entryDelayMs(s, 60_001), null); // no candle at or after it
 * ```
 */
export function entryDelayMs(series: CandleSeries, alertTsMs: number): number | null {
  const a = anchorIndex(series, alertTsMs);
  return a < 0 ? null : series.ts[a] - alertTsMs;
}

/**
 * `value` as a bound on the entry delay: undefined (no bound) or a whole
 * number of ms `>= 0`; throws an {@linkcode InputError} naming
 * `maxEntryDelayMs` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { maxEntryDelayMsOf } from "./entry_delay.ts";
 * assert.equal(maxEntryDelayMsOf(undefined), undefined);
 * assert.equal(maxEntryDelayMsOf(300_000), 300_000);
 * assert.throws(() => maxEntryDelayMsOf(-1), /maxEntryDelayMs must be a whole number of ms >= 0, got -1/);
 * assert.throws(() => maxEntryDelayMsOf("5m"), /got "5m"/);
 * ```
 */
export function maxEntryDelayMsOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
    throw new InputError(`maxEntryDelayMs must be a whole number of ms >= 0, got ${shown}`);
  }
  return value;
}

/**
 * Calls split by {@linkcode splitByEntryDelay}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type EntrySplit, splitByEntryDelay } from "./entry_delay.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1], low: [1, 1], close: [1, 1] };
 * const call = { callId: "c1", caller: "amy", mint: "M", chain: "solana", alertTsMs: 1_000 };
 * const split: EntrySplit = splitByEntryDelay([call], new Map([["M", s]]));
 * assert.deepEqual([split.onTime.length, split.late.length, split.entryDelayMsMax], [1, 0, 59_000]);
 * ```
 */
export interface EntrySplit {
  /**
   * The calls within the bound, in their order, and those without an anchor
   * (their workflow counts them as it always did).
   */
  onTime: Call[];
  /** The calls whose anchor opens more than the bound after the alert, in their order. */
  late: Call[];
  /** The largest entry delay of the `onTime` calls that have an anchor, ms; null for none. */
  entryDelayMsMax: number | null;
}

/**
 * Split `calls` by the entry delay of their anchor on their mint's series:
 * late when it is more than `maxEntryDelayMs` (a delay equal to it is on
 * time); without a bound (undefined) no call is late. A call whose mint has
 * no series, or no candle at or after the alert, is on time (it has no
 * anchor, so nothing is priced late).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { splitByEntryDelay } from "./entry_delay.ts";
 * const DAY_MS = 86_400_000;
 * const s = {
 *   ts: [30 * DAY_MS, 30 * DAY_MS + 60_000],
 *   open: [1, 1], high: [1, 1.2], low: [1, 1], close: [1, 1.15],
 * };
 * const call = (callId: string, alertTsMs: number) => ({
 *   callId, caller: "amy", mint: "QQ", chain: "solana", alertTsMs,
 * });
 * const calls = [call("early", 0), call("edge", 29 * DAY_MS), call("on", 30 * DAY_MS)];
 * const series = new Map([["QQ", s]]);
 * // Without a bound the call alerted 30 days before the first candle is priced at it.
 * assert.equal(splitByEntryDelay(calls, series).entryDelayMsMax, 30 * DAY_MS);
 * const split = splitByEntryDelay(calls, series, DAY_MS); // inclusive: "edge" is kept
 * assert.deepEqual(split.late.map((c) => c.callId), ["early"]);
 * assert.deepEqual(split.onTime.map((c) => c.callId), ["edge", "on"]);
 * assert.equal(split.entryDelayMsMax, DAY_MS);
 * ```
 */
export function splitByEntryDelay(
  calls: readonly Call[],
  seriesByMint: ReadonlyMap<string, CandleSeries>,
  maxEntryDelayMs?: number,
): EntrySplit {
  const onTime: Call[] = [];
  const late: Call[] = [];
  let entryDelayMsMax: number | null = null;
  for (const call of calls) {
    const series = seriesByMint.get(call.mint);
    const delayMs = series === undefined ? null : entryDelayMs(series, call.alertTsMs);
    if (delayMs !== null && maxEntryDelayMs !== undefined && delayMs > maxEntryDelayMs) {
      late.push(call);
      continue;
    }
    onTime.push(call);
    if (delayMs !== null && (entryDelayMsMax === null || delayMs > entryDelayMsMax)) {
      entryDelayMsMax = delayMs;
    }
  }
  return { onTime, late, entryDelayMsMax };
}
