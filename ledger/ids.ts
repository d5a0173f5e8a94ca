/**
 * Identifiers: time-sortable event ids (UUIDv7, RFC 9562) and writer ids.
 *
 * UUIDv7 puts the Unix time in milliseconds in the first 48 bits, so ids sort
 * by creation time as strings; within one millisecond of one process a
 * counter in the next 12 bits keeps them increasing (RFC 9562 method 1), and
 * the remaining 62 bits come from `crypto.getRandomValues`, which makes ids
 * unique across processes and machines.
 *
 * @module
 */

/**
 * Matches a UUIDv7 in its canonical lower-case text form.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { newEventId, UUID_V7_PATTERN } from "./ids.ts";
 * assert.match(newEventId(), UUID_V7_PATTERN);
 * assert.match("019bd4a8-1c00-7abc-8def-0123456789ab", UUID_V7_PATTERN);
 * // Not what ledger writes: a random (version 4) UUID, and a UUIDv7 in upper case.
 * assert.doesNotMatch("0b8f6a52-3c1e-4d7a-9f2e-5a6b7c8d9e0f", UUID_V7_PATTERN);
 * assert.doesNotMatch("019BD4A8-1C00-7ABC-8DEF-0123456789AB", UUID_V7_PATTERN);
 * ```
 */
export const UUID_V7_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A run id of a new event: it becomes a directory name
 * (`<root>/artifacts/runs/<run_id>`), so it must be a safe path segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RUN_ID_PATTERN } from "./ids.ts";
 * import { completeEvent } from "./events.ts";
 * import { ValidationError } from "./errors.ts";
 * assert.match("policy-2026-01-23T09.15_a1b2", RUN_ID_PATTERN);
 * // Not a safe directory name: a path, a hidden name, a space, nothing.
 * for (const bad of ["../etc", ".hidden", "run 1", ""]) assert.doesNotMatch(bad, RUN_ID_PATTERN);
 * // A new event with such a run id is refused before it is written.
 * const input = { event_type: "run.started", run_id: "../etc" };
 * assert.throws(() => completeEvent(input), ValidationError);
 * ```
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * What a new event's `event_id` a caller supplies (an import, a backfill)
 * must match: no control character (a newline or NUL split `ledger emit`'s
 * one id per line, an audit) and not only white space. Lines already in a
 * log are read with any non-empty id. Control characters are C0, DEL and
 * C1 (U+0080-U+009F); white space is listed, not `\s`, so that the JSON
 * Schema readers of `_schema.json` agree (an audit: Python's `re` and
 * JavaScript disagreed on U+FEFF and U+0085), and `(?![\s\S])` after `$`
 * keeps Python's `$` from matching before a last newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_ID_WRITE_PATTERN } from "./ids.ts";
 * assert.match("1768867200000_a1b2c3d4", EVENT_ID_WRITE_PATTERN);
 * assert.match("import 7 / ü", EVENT_ID_WRITE_PATTERN);
 * for (const bad of ["a\nb", "a\u0000", "  ", "\t", "\u0085", "\ufeff"]) {
 *   assert.doesNotMatch(bad, EVENT_ID_WRITE_PATTERN);
 * }
 * ```
 */
export const EVENT_ID_WRITE_PATTERN =
  // deno-lint-ignore no-control-regex
  /^(?=[\s\S]*[^\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff])[^\u0000-\u001f\u007f-\u009f]+$(?![\s\S])/;

/**
 * Matches event ids written by the earlier Python writer: `<ms>_<8 hex>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LEGACY_EVENT_ID_PATTERN, newEventId } from "./ids.ts";
 * assert.match("1768867200000_a1b2c3d4", LEGACY_EVENT_ID_PATTERN); // ms since the epoch, 8 hex
 * assert.doesNotMatch("1768867200000_A1B2C3D4", LEGACY_EVENT_ID_PATTERN); // upper-case hex
 * assert.doesNotMatch(newEventId(), LEGACY_EVENT_ID_PATTERN); // ledger's own ids are UUIDv7
 * ```
 */
export const LEGACY_EVENT_ID_PATTERN = /^\d{13}_[0-9a-f]{8}$/;

const COUNTER_MAX = 0xfff;

let lastMs = -1;
let counter = 0;

/**
 * Return a new UUIDv7 event id. Ids made by one process increase strictly,
 * even within one millisecond.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { newEventId, UUID_V7_PATTERN } from "./ids.ts";
 * const a = newEventId();
 * const b = newEventId();
 * assert.match(a, UUID_V7_PATTERN);
 * assert(a < b);
 * ```
 */
export function newEventId(): string {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    // Seed the counter in the lower half so it rarely overflows in one ms.
    const seed = takeRandom(1); // before reading randomPool: it may refill the pool
    counter = randomPool[seed] & 0x7ff;
  } else {
    ms = lastMs; // the clock did not move (or moved back): keep order
    counter += 1;
    if (counter > COUNTER_MAX) {
      lastMs += 1; // borrow the next millisecond rather than repeat an id
      ms = lastMs;
      counter = 0;
    }
  }
  const at = takeRandom(8);
  return formatUuidV7(ms, counter, at);
}

/**
 * Return the millisecond timestamp embedded in a UUIDv7, or `undefined` for
 * any other string.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { eventIdTimestampMs, newEventId } from "./ids.ts";
 * const ms = eventIdTimestampMs(newEventId());
 * assert(ms !== undefined);
 * assert(Math.abs(ms - Date.now()) < 1000);
 * ```
 */
export function eventIdTimestampMs(id: string): number | undefined {
  if (!UUID_V7_PATTERN.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * Return a new writer id: 12 hex digits of the current time in milliseconds
 * followed by 8 random hex digits, so part file names sort by writer start
 * time and never collide between processes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { newWriterId } from "./ids.ts";
 * assert.match(newWriterId(), /^[0-9a-f]{20}$/);
 * ```
 */
export function newWriterId(): string {
  const ms = Date.now().toString(16).padStart(12, "0");
  return ms + randomHex(4);
}

/**
 * `byteCount` fresh random bytes (from `crypto.getRandomValues`) as
 * lower-case hex: the unique part of run ids, writer ids and spill
 * directory names.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { randomHex } from "./ids.ts";
 * assert.match(randomHex(3), /^[0-9a-f]{6}$/);
 * assert.notEqual(randomHex(8), randomHex(8));
 * ```
 */
export function randomHex(byteCount: number): string {
  return toHex(randomBytes(byteCount));
}

/** `ms` as the first two groups of a UUIDv7 (`xxxxxxxx-xxxx-`), cached for the current ms. */
let timePrefixMs = -1;
let timePrefix = "";

function formatUuidV7(ms: number, seq: number, at: number): string {
  // 48-bit big-endian milliseconds, then version 7 with the 12-bit counter,
  // then variant 10 and 62 random bits (pool bytes at..at+8), as 32 hex
  // digits in 8-4-4-4-12 groups.
  if (ms !== timePrefixMs) {
    const time = ms.toString(16).padStart(12, "0");
    timePrefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-`;
    timePrefixMs = ms;
  }
  const version = HEX_OF_BYTE[0x70 | ((seq >> 8) & 0x0f)] + HEX_OF_BYTE[seq & 0xff];
  const variant = HEX_OF_BYTE[0x80 | (randomPool[at] & 0x3f)] + HEX_OF_BYTE[randomPool[at + 1]];
  return timePrefix + version + "-" + variant + "-" + HEX_OF_BYTE[randomPool[at + 2]] +
    HEX_OF_BYTE[randomPool[at + 3]] + HEX_OF_BYTE[randomPool[at + 4]] +
    HEX_OF_BYTE[randomPool[at + 5]] + HEX_OF_BYTE[randomPool[at + 6]] +
    HEX_OF_BYTE[randomPool[at + 7]];
}

/** Random bytes fetched from the CSPRNG at once and handed out in slices. */
const RANDOM_POOL_BYTES = 4096;
let randomPool = new Uint8Array(0);
let randomPoolOffset = 0;

/**
 * Where `n` fresh random bytes start in `randomPool` (never handed out
 * twice): the event id path reads them in place, without a view per id.
 */
function takeRandom(n: number): number {
  if (randomPoolOffset + n > randomPool.length) {
    randomPool = crypto.getRandomValues(new Uint8Array(RANDOM_POOL_BYTES));
    randomPoolOffset = 0;
  }
  const at = randomPoolOffset;
  randomPoolOffset += n;
  return at;
}

/** `n` fresh random bytes (a view into the pool). */
function randomBytes(n: number): Uint8Array {
  const at = takeRandom(n);
  return randomPool.subarray(at, at + n);
}

/** Two lower-case hex digits of every byte value. */
const HEX_OF_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_OF_BYTE[bytes[i]];
  return out;
}
