/**
 * What a writer does to an event before writing it, without loading zod:
 * fill in `event_id`, `timestamp_ms` and `schema_version`, check the event,
 * encode it as one line.
 *
 * The check is a fast path of `completeEvent` (`events.ts`): it accepts
 * only events the zod registry accepts, and returns the same event (same
 * fields, same order, so the same line). Anything it does not accept,
 * including everything invalid, goes to `completeEvent` for the verdict and
 * its error message. It reads the rules as data (`field_rules.ts`), so
 * `ledger emit` starts without importing zod (issue 16: about 1x an empty
 * `deno run`) and relaxed appends skip zod's per-event cost.
 * `tests/ledger/event_write_test.ts` runs both on a table of events and
 * mutations of every field and requires the same verdicts and lines.
 *
 * @module
 */
import type { LedgerEvent } from "./events.ts";
import { EventTooLargeError } from "./errors.ts";
import { EVENT_ID_WRITE_PATTERN, newEventId, RUN_ID_PATTERN } from "./ids.ts";
import { JSON_DEPTH_MAX, setOwn } from "./json_text.ts";
import { ID_LENGTH_MAX, LINE_BYTES_MAX, TIMESTAMP_MS_MAX } from "./limits.ts";
import {
  ANNOTATION_EVENT_TYPES,
  CURRENT_SCHEMA_VERSION,
  ENVELOPE_FIELDS,
  EVENT_FIELD_RULES,
  type FieldRule,
} from "./field_rules.ts";

/** Options for {@linkcode fillEvent}. */
export interface FillEventOptions {
  /** The time to stamp when `timestamp_ms` is absent. @default {Date.now()} */
  nowMs?: number;
}

/**
 * `input` with `event_id` (a new UUIDv7), `timestamp_ms` (now) and
 * `schema_version` (current) set where absent: a new object. `undefined`
 * when `input` is not an object of a registered `event_type`
 * (`completeEvent` says why).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fillEvent } from "./event_write.ts";
 * const filled = fillEvent({ event_type: "run.started", run_id: "r1" }, { nowMs: 5 });
 * assert.equal(filled?.timestamp_ms, 5);
 * assert.equal(filled?.schema_version, 1);
 * assert.equal(fillEvent({ event_type: "no.such" }), undefined);
 * ```
 */
export function fillEvent(
  input: unknown,
  options: FillEventOptions = {},
): Record<string, unknown> | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined;
  const record = input as Record<string, unknown>;
  const type = record.event_type;
  if (typeof type !== "string" || !Object.hasOwn(EVENT_FIELD_RULES, type)) return undefined;
  const filled: Record<string, unknown> = { ...record };
  if (filled.event_id === undefined) filled.event_id = newEventId();
  if (filled.timestamp_ms === undefined) filled.timestamp_ms = options.nowMs ?? Date.now();
  if (filled.schema_version === undefined) filled.schema_version = CURRENT_SCHEMA_VERSION;
  return filled;
}

/**
 * The event `completeEvent` would make of a filled record (see
 * {@linkcode fillEvent}), when the fast path can tell it is valid;
 * `undefined` otherwise (invalid, or a case left to zod).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkFilledEvent, fillEvent } from "./event_write.ts";
 * const ok = fillEvent({ event_type: "phase.started", run_id: "r1", phase_name: "load", phase_order: 0 });
 * assert.equal(checkFilledEvent(ok!)?.event_type, "phase.started");
 * const bad = fillEvent({ event_type: "phase.started", run_id: "r1", phase_name: "", phase_order: 0 });
 * assert.equal(checkFilledEvent(bad!), undefined); // completeEvent names the field
 * ```
 */
export function checkFilledEvent(filled: unknown): LedgerEvent | undefined {
  if (!isPlainObject(filled)) return undefined; // a line's value may be anything JSON
  const type = filled.event_type;
  if (typeof type !== "string" || !Object.hasOwn(EVENT_FIELD_RULES, type)) return undefined;
  return checked(filled, type, filled.event_id, filled.timestamp_ms, filled.schema_version);
}

/**
 * The fast path for a line already in the log (the reader's rule 7, read
 * mode): the event `validateEvent` in read mode would return, with its keys
 * in the same order, or `undefined` when zod must decide. A line without
 * `schema_version` (the Python writer's) is version 1. Write mode's rules
 * are read mode's with a stricter `run_id` (but for annotations, which take
 * a run's id as the log holds it), so what the fast path accepts read mode
 * accepts too; a top-level `"__proto__"` key is left to zod, whose
 * path puts it last.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkLoggedEvent } from "./event_write.ts";
 * const line = { event_type: "run.started", event_id: "e1", timestamp_ms: 1, run_id: "r1" };
 * assert.equal(checkLoggedEvent(line)?.schema_version, 1);
 * assert.equal(checkLoggedEvent({ ...line, run_id: "run 7/b" }), undefined); // zod reads it
 * ```
 */
export function checkLoggedEvent(value: unknown): LedgerEvent | undefined {
  if (!isPlainObject(value) || Object.hasOwn(value, "__proto__")) return undefined;
  const type = value.event_type;
  if (typeof type !== "string" || !Object.hasOwn(EVENT_FIELD_RULES, type)) return undefined;
  // An absent version is 1 (the Python writer did not write it): current, while that is 1.
  const version = value.schema_version === undefined && CURRENT_SCHEMA_VERSION === 1
    ? 1
    : value.schema_version;
  return checked(value, type, value.event_id, value.timestamp_ms, version);
}

/**
 * The event made of `record` with the envelope values given (filled in or
 * its own), or `undefined` when the fast path cannot tell it is valid.
 */
function checked(
  record: Record<string, unknown>,
  type: string,
  id: unknown,
  ms: unknown,
  version: unknown,
): LedgerEvent | undefined {
  const runId = record.run_id;
  if (typeof id !== "string" || id.length < 1 || id.length > ID_LENGTH_MAX) return undefined;
  if (!Number.isSafeInteger(ms) || (ms as number) < 0 || (ms as number) > TIMESTAMP_MS_MAX) {
    return undefined;
  }
  if (typeof runId !== "string") return undefined;
  if (runId !== lastValidRunId) {
    if (!RUN_ID_PATTERN.test(runId)) {
      // An annotation takes the id of a run the log holds as it is there (the read rule).
      const annotation = ANNOTATION_EVENT_TYPES.includes(type);
      if (!annotation || runId.length < 1 || runId.length > ID_LENGTH_MAX) return undefined;
    } else lastValidRunId = runId; // a run's events come one after another: test its id once
  }
  if (version !== CURRENT_SCHEMA_VERSION && version !== null) return undefined;
  const keys = Object.keys(record); // kept for the copy of the other fields below
  if (!areSoundEntries(record, keys, 1)) return undefined;
  const out: Record<string, unknown> = {
    event_type: record.event_type,
    event_id: id,
    timestamp_ms: ms,
    run_id: runId,
    schema_version: CURRENT_SCHEMA_VERSION,
  };
  for (const rule of EVENT_FIELD_RULES[type]) {
    const value = record[rule.field];
    if (value === undefined || (value === null && rule.optional === true)) {
      if (rule.optional === true) continue;
      return undefined;
    }
    const kept = keptValue(rule, value);
    if (kept === undefined) return undefined;
    out[rule.field] = kept;
  }
  const placed = PLACED_FIELDS[type];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (placed.has(key)) continue; // in `out` already, or a rule field left absent
    // A "__proto__" key (JSON.parse makes it a plain key) stays one: SPEC 4 keeps unknown
    // fields, and assigning it would set the prototype instead (zod drops it).
    if (key === "__proto__") setOwn(out, key, record[key]);
    else out[key] = record[key];
  }
  return out as LedgerEvent;
}

/**
 * Fill and check `input` on the fast path: the event, or `undefined` when
 * `completeEvent` must decide (and name what is wrong).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEventFast } from "./event_write.ts";
 * const event = completeEventFast({ event_type: "run.noted", run_id: "r1", note: "ok" });
 * assert.equal(event?.event_type, "run.noted");
 * assert.equal(completeEventFast({ event_type: "run.noted", run_id: "r1" }), undefined);
 * ```
 */
export function completeEventFast(
  input: unknown,
  options: FillEventOptions = {},
): LedgerEvent | undefined {
  // fillEvent then checkFilledEvent, without the intermediate copy (the relaxed writer's hot path).
  if (!isPlainObject(input)) return undefined;
  const type = input.event_type;
  if (typeof type !== "string" || !Object.hasOwn(EVENT_FIELD_RULES, type)) return undefined;
  const given = input.event_id;
  // A supplied id follows the write rule (zod's path names what is wrong with it).
  if (given !== undefined && (typeof given !== "string" || !EVENT_ID_WRITE_PATTERN.test(given))) {
    return undefined;
  }
  const id = given === undefined ? newEventId() : given;
  const ms = input.timestamp_ms === undefined ? options.nowMs ?? Date.now() : input.timestamp_ms;
  const version = input.schema_version === undefined
    ? CURRENT_SCHEMA_VERSION
    : input.schema_version;
  return checked(input, type, id, ms, version);
}

const textEncoder = new TextEncoder();

/**
 * Serialize a validated event as one line of UTF-8 JSON ending in `\n`.
 * Throws {@linkcode EventTooLargeError} past {@linkcode LINE_BYTES_MAX}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent } from "./events.ts";
 * import { encodeEventLine } from "./event_write.ts";
 * const bytes = encodeEventLine(completeEvent({ event_type: "run.started", run_id: "r1" }));
 * assert.equal(bytes[bytes.length - 1], 0x0a);
 * ```
 */
export function encodeEventLine(event: LedgerEvent): Uint8Array {
  const bytes = textEncoder.encode(JSON.stringify(event) + "\n");
  if (bytes.length > LINE_BYTES_MAX) {
    throw new EventTooLargeError(bytes.length, LINE_BYTES_MAX, event.event_type);
  }
  return bytes;
}

/**
 * One event line as text, with its length in UTF-8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent } from "./events.ts";
 * import { encodeEventText, type EventLineText } from "./event_write.ts";
 * const event = completeEvent({ event_type: "run.noted", run_id: "r1", note: "ok" });
 * const line: EventLineText = encodeEventText(event);
 * assert.ok(line.text.endsWith("}\n")); // one JSON object and its newline
 * assert.deepEqual(JSON.parse(line.text), event);
 * assert.equal(line.bytes, line.text.length); // all ASCII: one byte per character
 * ```
 */
export interface EventLineText {
  /** The JSON object and its `\n`. */
  text: string;
  /** UTF-8 bytes of `text` (at most {@linkcode LINE_BYTES_MAX}). */
  bytes: number;
}

/**
 * Serialize a validated event as {@linkcode encodeEventLine} does, but keep
 * the text: a writer that buffers many lines encodes them with one call
 * (each `TextEncoder.encode` call allocates, which costs more than the
 * JSON). Throws {@linkcode EventTooLargeError} past {@linkcode LINE_BYTES_MAX}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent } from "./events.ts";
 * import { encodeEventLine, encodeEventText } from "./event_write.ts";
 * const event = completeEvent({ event_type: "run.noted", run_id: "r1", note: "größer" });
 * const line = encodeEventText(event);
 * assert.equal(line.bytes, encodeEventLine(event).length); // ö and ß take two bytes each
 * assert.equal(line.text.length, line.bytes - 2);
 * ```
 */
export function encodeEventText(event: LedgerEvent): EventLineText {
  const { json, bytes } = encodeEventJson(event);
  return { text: json + "\n", bytes };
}

/** One event as JSON text without its newline, and the UTF-8 bytes of the line with it. */
export interface EventJson {
  /** The JSON object (no `\n`: a writer joins its lines with one). */
  json: string;
  /** UTF-8 bytes of `json` plus its `\n` (at most {@linkcode LINE_BYTES_MAX}). */
  bytes: number;
}

/**
 * Where {@linkcode lineBytesOf} measures a line: one byte more than the
 * longest line, so a line that does not fit is too long. Made at the first
 * use (`ledger emit` measures one line, and starts faster without it).
 */
let measureBuffer: Uint8Array | undefined;

/**
 * An event's JSON and its line's exact UTF-8 byte count:
 * {@linkcode encodeEventText} without the newline (appending it copies the
 * text once more per event). The writer encodes its lines into blocks
 * instead (`line_arena.ts`), counting with {@linkcode lineBytesOf} only a
 * line that may not fit. Throws {@linkcode EventTooLargeError} past
 * {@linkcode LINE_BYTES_MAX}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent } from "./events.ts";
 * import { encodeEventJson, encodeEventLine } from "./event_write.ts";
 * const event = completeEvent({ event_type: "run.noted", run_id: "r1", note: "größer" });
 * const { json, bytes } = encodeEventJson(event);
 * assert.equal(bytes, encodeEventLine(event).length); // ö and ß take two bytes each
 * assert.equal(json, JSON.stringify(event));
 * ```
 */
export function encodeEventJson(event: LedgerEvent): EventJson {
  const json = JSON.stringify(event);
  return { json, bytes: lineBytesOf(json, event.event_type) };
}

/**
 * UTF-8 bytes of the line of `json` (an event of `eventType`), newline
 * included: `encodeInto` a buffer one byte longer than the line limit
 * measures in one native call, about twice as fast as testing the text for
 * ASCII first. Throws {@linkcode EventTooLargeError} past
 * {@linkcode LINE_BYTES_MAX}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { lineBytesOf } from "./event_write.ts";
 * assert.equal(lineBytesOf('{"note":"ß"}', "run.noted"), 14); // ß takes two bytes
 * ```
 */
export function lineBytesOf(json: string, eventType: string): number {
  measureBuffer ??= new Uint8Array(LINE_BYTES_MAX + 1);
  const { read, written } = textEncoder.encodeInto(json, measureBuffer);
  // A text that did not fit whole is longer than the buffer, so longer than the limit.
  const bytes = read === json.length ? written + 1 : textEncoder.encode(json).length + 1;
  if (bytes > LINE_BYTES_MAX) throw new EventTooLargeError(bytes, LINE_BYTES_MAX, eventType);
  return bytes;
}

// ---- helpers ----

/** The last run id that passed `RUN_ID_PATTERN` (none yet: no string is `undefined`). */
let lastValidRunId: string | undefined;

/**
 * Per event type, the fields `checked` places itself: the envelope and the
 * type's rule fields. Every other key of an event is copied as it is.
 */
const PLACED_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(EVENT_FIELD_RULES).map(([type, rules]) => [
    type,
    new Set([...ENVELOPE_FIELDS, ...rules.map((rule) => rule.field)]),
  ]),
);

/** A plain object (prototype `Object.prototype` or none) without symbol keys. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.getOwnPropertySymbols(value).length === 0 && !hasToJsonMethod(value);
}

function hasToJsonMethod(node: object): boolean {
  return typeof (node as { toJSON?: unknown }).toJSON === "function";
}

/**
 * The value as zod's schema for `rule` outputs it, or `undefined` to leave it
 * to zod. Objects keep a `"__proto__"` key, which zod would drop.
 */
function keptValue(rule: FieldRule, value: unknown): unknown {
  switch (rule.kind) {
    case "text":
      return typeof value === "string" ? value : undefined;
    case "name":
      return typeof value === "string" && value.length > 0 ? value : undefined;
    case "count":
      return Number.isSafeInteger(value) && (value as number) >= 0 ? value : undefined;
    case "object":
      return isPlainObject(value) ? value : undefined;
    case "string_map":
      if (!isPlainObject(value)) return undefined;
      for (const key of Object.keys(value)) if (typeof value[key] !== "string") return undefined;
      return value;
    case "error_object": {
      if (!isPlainObject(value)) return undefined;
      if (typeof value.message !== "string") return undefined;
      // zod's shape puts message first; spreading defines keys, so "__proto__" stays a key.
      return { message: value.message, ...value };
    }
  }
}

/**
 * Every string and key well-formed Unicode, no BigInt, every object a plain
 * one or an array, and nothing nested deeper than
 * {@linkcode JSON_DEPTH_MAX} (the event object is level 1): the structural
 * rules `completeEvent` checks before zod (it builds the error's path; this
 * only answers yes or no).
 */
function isSoundStructure(node: unknown, level: number): boolean {
  if (typeof node === "string") return node.isWellFormed();
  if (typeof node !== "object" || node === null) return typeof node !== "bigint"; // not JSON
  if (level > JSON_DEPTH_MAX) return false; // so the recursion is at most JSON_DEPTH_MAX deep
  // JSON.stringify writes what a toJSON returns: completeEvent validates that instead.
  if (hasToJsonMethod(node)) return false;
  // Anything but a plain object or array (a Map, a Set, a typed array, a class): completeEvent
  // writes it as what it holds (events.ts jsonOf).
  if (!Array.isArray(node)) {
    const proto = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== null) return false;
  }
  return areSoundEntries(node as Record<string, unknown>, Object.keys(node), level);
}

/** The `keys` of `node` (at `level`) and their values pass {@linkcode isSoundStructure}. */
function areSoundEntries(
  node: Record<string, unknown>,
  keys: readonly string[],
  level: number,
): boolean {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!key.isWellFormed() || !isSoundStructure(node[key], level + 1)) return false;
  }
  return true;
}
