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

/** Largest serialized event line, newline included, in bytes. */
export const LINE_BYTES_MAX = 1024 * 1024;

/** Largest accepted `timestamp_ms`: 9999-12-31T23:59:59.999Z. */
export const TIMESTAMP_MS_MAX = 253_402_300_799_999;

/**
 * How far ahead of the reading machine's clock an event's `timestamp_ms` may
 * be before it is suspect, in ms (one day): `verify` warns about later
 * events, and the index counts a running run whose newest event is later as
 * `stale` (a clock set in the future must not keep a run "running" forever).
 */
export const FUTURE_TIMESTAMP_TOLERANCE_MS = 24 * 60 * 60 * 1000;

/** Longest accepted `event_id` and `run_id` (read mode), in characters. */
export const ID_LENGTH_MAX = 256;
