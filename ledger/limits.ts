/**
 * The limits of a valid event, in one zod-free module: the emit path and
 * the indexer read them without loading the registry (`events.ts`
 * re-exports them).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LINE_BYTES_MAX, TIMESTAMP_MS_MAX } from "./limits.ts";
 * assert.equal(LINE_BYTES_MAX, 1024 * 1024);
 * assert.equal(new Date(TIMESTAMP_MS_MAX).toISOString(), "9999-12-31T23:59:59.999Z");
 * ```
 *
 * @module
 */

/**
 * Largest serialized event line, newline included, in bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LINE_BYTES_MAX } from "./limits.ts";
 * import { completeEvent, encodeEventLine } from "./events.ts";
 * import { EventTooLargeError } from "./errors.ts";
 * const base = { event_type: "run.noted", event_id: "e1", timestamp_ms: 1, run_id: "r1" };
 * const noted = (note: string) => completeEvent({ ...base, note });
 * // Grow the note to the limit: a line of exactly LINE_BYTES_MAX bytes fits, one more does not.
 * const room = LINE_BYTES_MAX - encodeEventLine(noted("")).length;
 * assert.equal(encodeEventLine(noted("x".repeat(room))).length, LINE_BYTES_MAX);
 * assert.throws(() => encodeEventLine(noted("x".repeat(room + 1))), EventTooLargeError);
 * ```
 */
export const LINE_BYTES_MAX = 1024 * 1024;

/**
 * Largest accepted `timestamp_ms`: 9999-12-31T23:59:59.999Z.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { TIMESTAMP_MS_MAX } from "./limits.ts";
 * import { validateEvent } from "./events.ts";
 * import { ValidationError } from "./errors.ts";
 * const at = (timestamp_ms: number) =>
 *   validateEvent({ event_type: "run.restored", event_id: "e1", run_id: "r1", timestamp_ms });
 * assert.equal(at(TIMESTAMP_MS_MAX).timestamp_ms, TIMESTAMP_MS_MAX); // the last ms of year 9999
 * assert.throws(() => at(TIMESTAMP_MS_MAX + 1), ValidationError);
 * ```
 */
export const TIMESTAMP_MS_MAX = 253_402_300_799_999;

/**
 * How far ahead of the reading machine's clock an event's `timestamp_ms` may
 * be before it is suspect, in ms (one day): `verify` warns about later
 * events, and the index counts a running run whose newest event is later as
 * `stale` (a clock set in the future must not keep a run "running" forever).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { FUTURE_TIMESTAMP_TOLERANCE_MS } from "./limits.ts";
 * import { verifyLog } from "./verify.ts";
 * import { openWriter } from "./writer.ts";
 * const nowMs = Date.UTC(2026, 0, 23); // the clock verify judges by
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const aheadMs of [FUTURE_TIMESTAMP_TOLERANCE_MS, FUTURE_TIMESTAMP_TOLERANCE_MS + 1]) {
 *     const timestamp_ms = nowMs + aheadMs;
 *     await writer.append({ event_type: "run.started", run_id: "r1", timestamp_ms });
 *   }
 *   await writer.close();
 *   const report = await verifyLog(root, { nowMs });
 *   assert.equal(report.totals.futureEvents, 1); // only the one more than a day (in ms) ahead
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const FUTURE_TIMESTAMP_TOLERANCE_MS = 24 * 60 * 60 * 1000;

/**
 * Longest accepted `event_id` and `run_id` (read mode), in characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ID_LENGTH_MAX } from "./limits.ts";
 * import { validateEvent } from "./events.ts";
 * import { ValidationError } from "./errors.ts";
 * const withId = (event_id: string) =>
 *   validateEvent({ event_type: "run.restored", event_id, timestamp_ms: 1, run_id: "r1" });
 * assert.equal(withId("e".repeat(ID_LENGTH_MAX)).event_id.length, 256); // characters
 * assert.throws(() => withId("e".repeat(ID_LENGTH_MAX + 1)), ValidationError);
 * ```
 */
export const ID_LENGTH_MAX = 256;

/**
 * Longest delay a JavaScript timer keeps, in ms (about 24.8 days): a longer
 * `setTimeout` fires at once, so an interval option past it is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { TIMER_MS_MAX } from "./limits.ts";
 * import { checkWriterOptions } from "./writer.ts";
 * assert.equal(TIMER_MS_MAX, 2 ** 31 - 1);
 * checkWriterOptions({ groupCommitMs: TIMER_MS_MAX });
 * assert.throws(() => checkWriterOptions({ groupCommitMs: TIMER_MS_MAX + 1 }), RangeError);
 * ```
 */
export const TIMER_MS_MAX = 2 ** 31 - 1;
