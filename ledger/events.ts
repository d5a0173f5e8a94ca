/**
 * The event registry (SPEC 4, 5): one zod schema per (event_type,
 * schema_version), and everything derived from it: the TypeScript types, the
 * validator ({@linkcode validateEvent}), upcasting of old versions, and the
 * line encoding with its size limit. `registry.ts` exports the same schemas
 * as JSON Schema.
 *
 * Wire shape: one flat JSON object per line. Envelope fields `event_type`,
 * `event_id`, `timestamp_ms`, `run_id`, `schema_version` (absent means 1),
 * then the type fields. Unknown extra fields are kept.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { ValidationError } from "./errors.ts";
import { EVENT_ID_WRITE_PATTERN, RUN_ID_PATTERN } from "./ids.ts";
import { isExactInteger, JSON_DEPTH_MAX, parseJsonText, setOwn } from "./json_text.ts";
import { completeEventFast, fillEvent } from "./event_write.ts";
import { ANNOTATION_EVENT_TYPES, ENVELOPE_FIELDS, EVENT_FIELD_RULES } from "./field_rules.ts";
import { assert } from "./assert.ts";

export { RUN_ID_PATTERN } from "./ids.ts";
export { JSON_DEPTH_MAX } from "./json_text.ts";

import {
  FUTURE_TIMESTAMP_TOLERANCE_MS,
  ID_LENGTH_MAX,
  LINE_BYTES_MAX,
  TIMESTAMP_MS_MAX,
} from "./limits.ts";

export { FUTURE_TIMESTAMP_TOLERANCE_MS, ID_LENGTH_MAX, LINE_BYTES_MAX, TIMESTAMP_MS_MAX };

const JSON_PREVIEW_CHARS_MAX = 80;

// ---- field builders: each carries its expectation text for error messages ----

function text() {
  return z.string({ error: "a string" });
}

function name() {
  return z.string({ error: "a non-empty string" }).min(1, { error: "a non-empty string" });
}

/**
 * An integer from 0 to 2^53 - 1. A larger whole number is said to be too
 * large (an audit: `--size-bytes 9007199254740993` was refused as "must be
 * an integer >= 0", which it is); anything else in the registry's words.
 */
function count() {
  const expected = "an integer >= 0";
  const error = (issue: { input?: unknown }) =>
    isWholeNumberPastSafe(issue.input)
      ? `${expected}, at most ${Number.MAX_SAFE_INTEGER}`
      : expected;
  return z.int({ error }).min(0, { error: expected });
}

/** A whole number past 2^53 - 1: a number, or the text a command line or exact JSON kept. */
function isWholeNumberPastSafe(input: unknown): boolean {
  if (typeof input === "bigint") return input > BigInt(Number.MAX_SAFE_INTEGER);
  // An integer past 2^53 in exact JSON is a raw JSON value (json_text.ts), its digits kept; a
  // command line keeps what it cannot read exactly as typed (`1e16`, `9007199254740993`).
  const raw = isExactInteger(input) ? input.rawJSON : input;
  const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : NaN;
  return Number.isInteger(n) && n > Number.MAX_SAFE_INTEGER;
}

function object() {
  return z.record(z.string(), z.unknown(), { error: "an object" });
}

function objectOfStrings() {
  return z.record(z.string(), z.string({ error: "a string" }), {
    error: "an object of strings",
  });
}

function errorObject() {
  return z.looseObject({ message: text() }, { error: "an object with a string message" });
}

// ---- the registry: current version of every type ----

/**
 * The type fields of every event type at its current version: the one
 * source the zod validators, the TypeScript types and `_schema.json` come
 * from.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CURRENT_FIELDS } from "./events.ts";
 * assert("duration_ms" in CURRENT_FIELDS["phase.completed"]);
 * ```
 */
export const CURRENT_FIELDS = {
  "run.created": { run_type: name(), config: object(), data_fingerprint: text() },
  "run.started": { host: text().optional(), pid: count().optional() },
  "phase.started": { phase_name: name(), phase_order: count() },
  "phase.completed": { phase_name: name(), duration_ms: count(), output_summary: object() },
  "trial.recorded": { trial_id: name(), params: object(), metrics: object() },
  "artifact.created": { artifact_type: name(), artifact_path: name(), size_bytes: count() },
  "baseline.completed": { alerts_total: count(), alerts_ok: count(), artifact_path: name() },
  "run.completed": { summary: object(), artifact_paths: objectOfStrings() },
  "run.failed": { error: errorObject(), phase_name: name().optional() },
  "run.tagged": { tags: objectOfStrings() },
  "run.noted": { note: text() },
  "run.archived": { reason: text().optional() },
  "run.restored": {},
} as const;

/**
 * An event type name, e.g. `"run.created"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_DEFINITIONS, EVENT_TYPES, type EventType } from "./events.ts";
 * const type: EventType = "trial.recorded"; // a name outside the registry does not compile
 * assert.ok(EVENT_TYPES.includes(type));
 * assert.equal(EVENT_DEFINITIONS[type].currentVersion, 1);
 * ```
 */
export type EventType = keyof typeof CURRENT_FIELDS;

/**
 * Every registered event type, in lifecycle order.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_TYPES } from "./events.ts";
 * assert(EVENT_TYPES.includes("run.failed"));
 * ```
 */
export const EVENT_TYPES: readonly EventType[] = Object.keys(CURRENT_FIELDS) as EventType[];

/**
 * The type fields of one version: field name to its (zod) schema, opaque outside this module.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_DEFINITIONS, type FieldShape } from "./events.ts";
 * const shape: FieldShape = EVENT_DEFINITIONS["phase.started"].fieldsByVersion[1];
 * assert.deepEqual(Object.keys(shape), ["phase_name", "phase_order"]); // the type fields only
 * ```
 */
export type FieldShape = Readonly<Record<string, unknown>>;

/**
 * Turns an event of version `v` into version `v + 1` (a pure function).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type Upcaster, validateEvent } from "./events.ts";
 * // A made-up version 2 of run.noted that renamed `note` to `text`.
 * const noteToText: Upcaster = ({ note, ...rest }) => ({ ...rest, text: note, schema_version: 2 });
 * const v1 = validateEvent({
 *   event_type: "run.noted", event_id: "e1", timestamp_ms: 1, run_id: "r1", note: "rerun",
 * });
 * const v2 = noteToText(v1);
 * assert.equal(v2.text, "rerun");
 * assert.ok(!("note" in v2) && "note" in v1); // a new object: v1 is left as it was
 * ```
 */
export type Upcaster = (event: Record<string, unknown>) => Record<string, unknown>;

/**
 * The schema history of one event type.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_DEFINITIONS, type EventDefinition } from "./events.ts";
 * // Every type has its fields for versions 1..currentVersion and an upcaster between each two.
 * const definitions: EventDefinition[] = Object.values(EVENT_DEFINITIONS);
 * for (const definition of definitions) {
 *   assert.equal(Object.keys(definition.fieldsByVersion).length, definition.currentVersion);
 *   assert.equal(Object.keys(definition.upcasters).length, definition.currentVersion - 1);
 * }
 * ```
 */
export interface EventDefinition {
  /** The event type. */
  type: EventType;
  /** The version new events are written in. */
  currentVersion: number;
  /** Type fields per version (1..currentVersion): field name to its zod schema. */
  fieldsByVersion: Record<number, FieldShape>;
  /** `upcasters[v]` turns version `v` into `v + 1`, for every v < currentVersion. */
  upcasters: Record<number, Upcaster>;
}

/**
 * The registry: every type, all its versions. To change a type, add version
 * n + 1 here with an upcaster from n; never edit a published version.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_DEFINITIONS } from "./events.ts";
 * assert.equal(EVENT_DEFINITIONS["run.created"].currentVersion, 1);
 * ```
 */
export const EVENT_DEFINITIONS: Readonly<Record<EventType, EventDefinition>> = Object.fromEntries(
  EVENT_TYPES.map((type) => [
    type,
    { type, currentVersion: 1, fieldsByVersion: { 1: CURRENT_FIELDS[type] }, upcasters: {} },
  ]),
) as unknown as Record<EventType, EventDefinition>;

// ---- types derived from the schemas ----

/**
 * The type fields of every event type (current version), written out so the
 * public API does not expose zod's types. `_fieldsMatchSchemas` below makes
 * the compiler check them against the zod schemas, which stay the one source.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent, type EventFieldsMap } from "./events.ts";
 * // Sample fields per type, checked by the compiler against the registry.
 * const samples: Pick<EventFieldsMap, "run.noted" | "run.tagged"> = {
 *   "run.noted": { note: "rerun with fees" },
 *   "run.tagged": { tags: { venue: "xnas" } },
 * };
 * for (const [event_type, fields] of Object.entries(samples)) {
 *   const event = completeEvent({ event_type, run_id: "r1", ...fields });
 *   assert.equal(event.event_type, event_type);
 * }
 * ```
 */
export interface EventFieldsMap {
  /** A run was created. */
  "run.created": {
    /** The kind of run (`path_only`, `policy`, `baseline`, ...). */
    run_type: string;
    /** The run's full configuration. */
    config: Record<string, unknown>;
    /** A hash of the run's input data. */
    data_fingerprint: string;
  };
  /** A run's process started it. */
  "run.started": {
    /** Host of the process running the run. */
    host?: string;
    /** Pid of the process running the run. */
    pid?: number;
  };
  /** A phase started. */
  "phase.started": {
    /** The phase (`plan`, `load`, ...). */
    phase_name: string;
    /** Its position in the run, from 0. */
    phase_order: number;
  };
  /** A phase completed. */
  "phase.completed": {
    /** The phase. */
    phase_name: string;
    /** How long it took, in ms. */
    duration_ms: number;
    /** What it produced (rows in/out, ...). */
    output_summary: Record<string, unknown>;
  };
  /** An optimizer trial was recorded. */
  "trial.recorded": {
    /** The trial's id within the run. */
    trial_id: string;
    /** The parameters tried. */
    params: Record<string, unknown>;
    /** What they scored. */
    metrics: Record<string, unknown>;
  };
  /** An artifact file was written. */
  "artifact.created": {
    /** Its kind (`path_metrics`, `policy_results`, ...). */
    artifact_type: string;
    /** Its path. */
    artifact_path: string;
    /** Its size in bytes. */
    size_bytes: number;
  };
  /** A baseline run finished its alerts. */
  "baseline.completed": {
    /** Alerts processed. */
    alerts_total: number;
    /** Alerts that succeeded. */
    alerts_ok: number;
    /** Where its results are. */
    artifact_path: string;
  };
  /** A run completed. */
  "run.completed": {
    /** The run's results. */
    summary: Record<string, unknown>;
    /** Artifact name to path. */
    artifact_paths: Record<string, string>;
  };
  /** A run failed. */
  "run.failed": {
    /** What went wrong; `message` is required, other keys are kept. */
    error: { message: string; [key: string]: unknown };
    /** The phase it failed in, when known. */
    phase_name?: string;
  };
  /** Tags were set on a run (an annotation). */
  "run.tagged": {
    /** Tag key to value; a later value of a key wins, an empty string removes the key. */
    tags: Record<string, string>;
  };
  /** A note was added to a run (an annotation). */
  "run.noted": {
    /** The note's text. */
    note: string;
  };
  /** A run was archived: hidden from listings by default (an annotation). */
  "run.archived": {
    /** Why, when given. */
    reason?: string;
  };
  /** An archived run was restored to the listings (an annotation). */
  // deno-lint-ignore ban-types
  "run.restored": {};
}

/**
 * The type fields of event type `T` (current version).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent, type EventFields } from "./events.ts";
 * // The fields of one type, as an emitter method takes them.
 * const fields: EventFields<"phase.completed"> = {
 *   phase_name: "load",
 *   duration_ms: 120,
 *   output_summary: { rows: 10 },
 * };
 * const event = completeEvent({ event_type: "phase.completed", run_id: "r1", ...fields });
 * assert.ok(event.event_type === "phase.completed");
 * assert.equal(event.duration_ms, 120);
 * ```
 */
export type EventFields<T extends EventType> = EventFieldsMap[T];

type _ZodFields<T extends EventType> = z.output<z.ZodObject<(typeof CURRENT_FIELDS)[T]>>;
type _Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time proof that the written-out types are the zod schemas' types.
const _fieldsMatchSchemas: { [T in EventType]: _Same<EventFields<T>, _ZodFields<T>> } = {
  "run.created": true,
  "run.started": true,
  "phase.started": true,
  "phase.completed": true,
  "trial.recorded": true,
  "artifact.created": true,
  "baseline.completed": true,
  "run.completed": true,
  "run.failed": true,
  "run.tagged": true,
  "run.noted": true,
  "run.archived": true,
  "run.restored": true,
};
void _fieldsMatchSchemas;

/**
 * The fields every stored event has (a type alias, so events widen to `Record<string, unknown>`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type EventEnvelope, validateEvent } from "./events.ts";
 * const envelope: EventEnvelope = {
 *   event_id: "1768867200000_a1b2c3d4",
 *   timestamp_ms: 1768867200000,
 *   run_id: "r1",
 *   schema_version: 1,
 * };
 * // A valid event puts its type and envelope first, then the type fields.
 * const event = validateEvent({ note: "hi", event_type: "run.noted", ...envelope });
 * assert.deepEqual(Object.keys(event), ["event_type", ...Object.keys(envelope), "note"]);
 * ```
 */
export type EventEnvelope = {
  /** Unique id; new ids are UUIDv7, the Python writer's look like `1768867200000_a1b2c3d4`. */
  event_id: string;
  /** Milliseconds since the Unix epoch, UTC. */
  timestamp_ms: number;
  /** The run the event belongs to. */
  run_id: string;
  /** Schema version of the type fields (after upcasting: the current one). */
  schema_version: number;
};

/**
 * A validated event of type `T`. Unknown extra fields are kept at run time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent, type EventOf } from "./events.ts";
 * function seconds(event: EventOf<"phase.completed">): number {
 *   return event.duration_ms / 1000;
 * }
 * const event = completeEvent({
 *   event_type: "phase.completed", run_id: "r1", phase_name: "load", duration_ms: 1500,
 *   output_summary: {},
 * });
 * assert.ok(event.event_type === "phase.completed"); // narrows the LedgerEvent to EventOf<...>
 * assert.equal(seconds(event), 1.5);
 * ```
 */
export type EventOf<T extends EventType> = { event_type: T } & EventEnvelope & EventFields<T>;

/**
 * A validated event of any registered type.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent, type LedgerEvent } from "./events.ts";
 * // `event_type` tells the fields apart: each case sees its type's fields.
 * function describe(event: LedgerEvent): string {
 *   switch (event.event_type) {
 *     case "run.failed":
 *       return `failed: ${event.error.message}`;
 *     case "run.noted":
 *       return `note: ${event.note}`;
 *     default:
 *       return event.event_type;
 *   }
 * }
 * const failed = { event_type: "run.failed", run_id: "r1", error: { message: "disk full" } };
 * assert.equal(describe(completeEvent(failed)), "failed: disk full");
 * const restored = { event_type: "run.restored", run_id: "r1" };
 * assert.equal(describe(completeEvent(restored)), "run.restored");
 * ```
 */
export type LedgerEvent = { [T in EventType]: EventOf<T> }[EventType];

/**
 * What a writer accepts: an event whose `event_id`, `timestamp_ms` and `schema_version` may be absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent, type EventInput } from "./events.ts";
 * import { UUID_V7_PATTERN } from "./ids.ts";
 * // No event_id, timestamp_ms nor schema_version: completeEvent (and every writer) fills them in.
 * const input: EventInput = {
 *   event_type: "phase.started", run_id: "r1", phase_name: "load", phase_order: 1,
 * };
 * const event = completeEvent(input);
 * assert.match(event.event_id, UUID_V7_PATTERN);
 * assert.equal(event.schema_version, 1);
 * ```
 */
export type EventInput = {
  [T in EventType]:
    & { event_type: T; run_id: string }
    & Partial<Pick<EventEnvelope, "event_id" | "timestamp_ms" | "schema_version">>
    & EventFields<T>;
}[EventType];

// ---- zod schemas built from the registry ----

/**
 * Which run ids to accept: `write`, only ids matching `RUN_ID_PATTERN` (safe
 * as a path segment); `read`, any non-empty string of at most
 * `ID_LENGTH_MAX` characters (what older writers left). Event ids are
 * checked the same way in both modes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { validateEvent, type ValidationMode } from "./events.ts";
 * // A line an older writer left: its run id is not a safe path segment.
 * const line = { event_type: "run.started", event_id: "e1", timestamp_ms: 1, run_id: "run 7/b" };
 * const read: ValidationMode = "read";
 * assert.equal(validateEvent(line, { mode: read }).run_id, "run 7/b");
 * assert.throws(() => validateEvent(line, { mode: "write" }), /run_id/);
 * ```
 */
export type ValidationMode = "write" | "read";

/**
 * The envelope's fields in `mode`. `runIdMode` is `mode` but for an
 * annotation, whose run id is read as the log holds it (the run it names is
 * already there), though its other fields follow `mode`.
 */
function envelopeShape(mode: ValidationMode, version: number, runIdMode: ValidationMode) {
  const runId = runIdMode === "write"
    ? z.string({ error: `a string matching ${RUN_ID_PATTERN.source}` })
      .regex(RUN_ID_PATTERN, { error: `a string matching ${RUN_ID_PATTERN.source}` })
    : z.string({ error: "a non-empty string" }).min(1, { error: "a non-empty string" })
      .max(ID_LENGTH_MAX, { error: `at most ${ID_LENGTH_MAX} characters` });
  const versionSchema = z.literal(version, { error: `${version}` });
  return {
    event_id: mode === "write"
      ? eventIdShape().regex(EVENT_ID_WRITE_PATTERN, {
        error: "a string with no control character, not only white space",
      })
      : eventIdShape(),
    timestamp_ms: timestampMs(),
    run_id: runId,
    // Version 1 may be absent (the Python writer did not write it).
    schema_version: version === 1 ? versionSchema.optional() : versionSchema,
  };
}

/**
 * An integer between 0 and {@linkcode TIMESTAMP_MS_MAX}, every miss worded
 * alike (as the indexer words it): past 2^53 `z.int()` failed first and
 * said "an integer >= 0" of a too large value (an audit).
 */
function timestampMs() {
  const expected = `an integer between 0 and ${TIMESTAMP_MS_MAX}`;
  return z.int({ error: expected }).min(0, { error: expected })
    .max(TIMESTAMP_MS_MAX, { error: expected });
}

function eventIdShape() {
  return z.string({ error: "a non-empty string" }).min(1, { error: "a non-empty string" })
    .max(ID_LENGTH_MAX, { error: `at most ${ID_LENGTH_MAX} characters` });
}

const schemaCache = new Map<string, z.ZodType>();

/** Options for {@linkcode eventSchema}. */
export interface EventSchemaOptions {
  /** Which run ids to accept: `RUN_ID_PATTERN` (`"write"`) or any (`"read"`). @default {"write"} */
  mode?: ValidationMode;
}

/**
 * The zod schema of one (event_type, schema_version): envelope plus type
 * fields, unknown keys kept. `mode: "write"` (the default) enforces
 * `RUN_ID_PATTERN` on `run_id`; `"read"` accepts any non-empty run id.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { eventSchema } from "./events.ts";
 * const schema = eventSchema("phase.started", 1);
 * assert(!schema.safeParse({ event_type: "phase.started" }).success);
 * ```
 */
export function eventSchema(
  type: EventType,
  version: number,
  options: EventSchemaOptions = {},
): z.ZodType {
  const mode = options.mode ?? "write";
  // Any word but "write" would mean the laxer read mode: a misspelling must not.
  if (mode !== "write" && mode !== "read") {
    throw new RangeError(`mode must be "write" or "read", got ${JSON.stringify(mode)}`);
  }
  const key = `${type}@${version}/${mode}`;
  let schema = schemaCache.get(key);
  if (schema === undefined) {
    const fields = EVENT_DEFINITIONS[type].fieldsByVersion[version];
    if (fields === undefined) throw new RangeError(`No schema for ${type} version ${version}`);
    schema = z.looseObject({
      event_type: z.literal(type),
      // An annotation names a run the log already holds, by the id it has there: an older
      // writer's (a legacy run's) may be no path segment, and an annotation makes no directory.
      ...envelopeShape(mode, version, ANNOTATION_EVENT_TYPES.includes(type) ? "read" : mode),
      ...(fields as z.ZodRawShape),
    });
    schemaCache.set(key, schema);
  }
  return schema;
}

// ---- validation ----

/**
 * Options for {@linkcode validateEvent}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { validateEvent, type ValidateEventOptions } from "./events.ts";
 * import { ValidationError } from "./errors.ts";
 * const line = { event_type: "run.started", event_id: "e1", timestamp_ms: 1, run_id: "run 7/b" };
 * const options: ValidateEventOptions = { mode: "read" }; // an event already in a log
 * assert.equal(validateEvent(line, options).run_id, "run 7/b");
 * // The default, write mode, is for new events: run_id must match RUN_ID_PATTERN.
 * assert.throws(
 *   () => validateEvent(line),
 *   (err) => err instanceof ValidationError && err.field === "run_id",
 * );
 * ```
 */
export interface ValidateEventOptions {
  /**
   * `"write"` enforces `RUN_ID_PATTERN` on `run_id` (new events);
   * `"read"` accepts any non-empty run id (events already in a log).
   * @default {"write"}
   */
  mode?: ValidationMode;
}

/**
 * Validate a complete event (envelope included) and return it upcast to the
 * current version of its type, with `schema_version` set and unknown fields
 * kept. Throws a {@linkcode ValidationError} naming the first bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { validateEvent } from "./events.ts";
 * const event = validateEvent({
 *   event_type: "run.started", event_id: "1768867200000_a1b2c3d4",
 *   timestamp_ms: 1768867200000, run_id: "r1",
 * });
 * assert.equal(event.schema_version, 1);
 * ```
 */
export function validateEvent(input: unknown, options: ValidateEventOptions = {}): LedgerEvent {
  const type = requireEventType(requireObject(input));
  requireSoundStructure(input as Record<string, unknown>, type);
  const record = dropNullOptionals(input as Record<string, unknown>, type);
  const definition = EVENT_DEFINITIONS[type];
  const version = requireVersion(record, definition);
  const result = eventSchema(type, version, { mode: options.mode }).safeParse(record);
  if (!result.success) throw toValidationError(type, record, result.error.issues[0]);
  let event = result.data as Record<string, unknown>;
  restoreProtoKeys(record, event, type);
  for (let v = version; v < definition.currentVersion; v++) {
    event = definition.upcasters[v]({ ...event, schema_version: v });
  }
  if (event.schema_version !== definition.currentVersion) {
    event = { ...event, schema_version: definition.currentVersion };
  }
  return orderFields(event) as unknown as LedgerEvent;
}

/**
 * zod drops a `"__proto__"` key from the objects it parses (the event and
 * its object fields), which JSON.parse made a plain key: put it back, as
 * the fast path and every reader keep it (SPEC 4), and check it where a
 * string map needs strings (as the indexer does), so the verdict and the
 * line are the same whichever path decides. Deeper levels zod keeps as
 * they are.
 */
function restoreProtoKeys(
  record: Record<string, unknown>,
  event: Record<string, unknown>,
  type: EventType,
): void {
  const key = "__proto__";
  if (Object.hasOwn(record, key)) setOwn(event, key, record[key]);
  for (const rule of EVENT_FIELD_RULES[type]) {
    const given = record[rule.field];
    if (typeof given !== "object" || given === null || !Object.hasOwn(given, key)) continue;
    const value = (given as Record<string, unknown>)[key];
    if (rule.kind === "string_map" && typeof value !== "string") {
      throw new ValidationError(`${rule.field}.${key}`, "a string", JSON.stringify(value), {
        eventType: type,
      });
    }
    // zod's copy holds the same members but the one key: the given object, whole, in order
    // (an error object with its message first, as zod's shape puts it).
    const whole = given as Record<string, unknown>;
    event[rule.field] = rule.kind === "error_object" ? { message: whole.message, ...whole } : whole;
  }
}

/**
 * Options for {@linkcode completeEvent}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent, type CompleteEventOptions } from "./events.ts";
 * const options: CompleteEventOptions = { nowMs: Date.UTC(2026, 0, 23) }; // a fixed clock
 * const stamped = completeEvent({ event_type: "run.started", run_id: "r1" }, options);
 * assert.equal(stamped.timestamp_ms, Date.UTC(2026, 0, 23));
 * // A timestamp the caller gives is kept.
 * const input = { event_type: "run.started", run_id: "r1", timestamp_ms: 5 };
 * const given = completeEvent(input, options);
 * assert.equal(given.timestamp_ms, 5);
 * ```
 */
export interface CompleteEventOptions {
  /** The time to stamp when `timestamp_ms` is absent. @default {Date.now()} */
  nowMs?: number;
}

/**
 * Fill in `event_id` (a new UUIDv7), `timestamp_ms` (now) and
 * `schema_version` (the type's current version) where absent, then validate
 * in write mode. Values given by the caller are kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent } from "./events.ts";
 * const event = completeEvent({ event_type: "run.started", run_id: "r1" });
 * assert.equal(event.event_id.length, 36);
 * ```
 */
export function completeEvent(input: unknown, options: CompleteEventOptions = {}): LedgerEvent {
  // The fast path gives zod's answer for every event it accepts (event_write_test.ts);
  // zod decides the rest and names what is wrong.
  const fast = completeEventFast(input, options);
  if (fast !== undefined) return fast;
  const filled = fillEvent(needsRewrite(input) ? asWritten(input) : input, options);
  if (filled === undefined) {
    requireEventType(requireObject(input)); // throws: not an object of a registered type
    assert(false, "fillEvent refuses only what requireObject or requireEventType refuses");
  }
  return validateEvent(filled, { mode: "write" });
}

export { encodeEventLine, encodeEventText, type EventLineText } from "./event_write.ts";

/**
 * Whether some object of `input` (itself included) is written otherwise than
 * it reads: one with a `toJSON` method (`JSON.stringify`, which writes the
 * line, writes what that method returns, not the object validated: an audit
 * saw `{ summary: { toJSON: () => [1] } }` acknowledged and then refused by
 * `verify` and the indexer), or one {@linkcode jsonOf} writes as what it
 * holds (a `Map`, `Set`, typed array or `Error`, which `JSON.stringify`
 * alone writes as `{}` or numbered keys: a probe). Walks at most
 * {@linkcode JSON_DEPTH_MAX} + 1 levels, each object once.
 */
function needsRewrite(input: unknown): boolean {
  const seen = new Set<object>();
  const stack: [unknown, number][] = [[input, 1]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (typeof node !== "object" || node === null || seen.has(node)) continue;
    seen.add(node);
    if (typeof (node as { toJSON?: unknown }).toJSON === "function") return true;
    if (jsonConverts(node)) return true; // told by its kind: an Error is written once, later
    if (level > JSON_DEPTH_MAX) continue; // too deep anyway: validation says so
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return false;
}

/**
 * `input` as its line would hold it (`JSON.stringify`, read back), so that
 * what is validated is what is written: a `toJSON` is called once, here.
 * Throws a {@linkcode ValidationError} when `JSON.stringify` cannot write it
 * (a BigInt or a cycle is named by field by validating `input` itself).
 */
function asWritten(input: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(input, (_key, value) => jsonOf(value));
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    validateEvent(input, { mode: "write" }); // names a BigInt's field, or a cycle as too deep
    throw new ValidationError("event", "a value JSON.stringify can write", err.message);
  }
  if (text === undefined) throw new ValidationError("event", "a JSON object", "undefined");
  // Read back keeping integers past 2^53 exact: `JSON.parse` rounded a seed given as an exact
  // integer (`JSON.rawJSON`) whenever the event also held a Date or a Map (a probe).
  return parseJsonText(text, { depthMax: Number.POSITIVE_INFINITY, exactIntegers: true });
}

/**
 * `value` as JSON holds what it holds, for the values `JSON.stringify` alone
 * would write as something else (a probe: `config: { universe: new Set([...]) }`
 * was written as `{}`): a `Map` as an object of its entries (keys as
 * strings), a `Set` as a list, a typed array, `DataView` or `ArrayBuffer` as
 * a list of its numbers, an `Error` as `{ name, message, cause, ...its own
 * fields }` (`name` when not `"Error"`, `cause` when set; as the `error`
 * field of `run.failed` takes one). Told by their tag, so a value
 * from another realm is known too. Anything else: `value` itself.
 */
function jsonOf(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (ArrayBuffer.isView(value)) {
    return value instanceof DataView
      ? Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
      : Array.from(value as unknown as ArrayLike<unknown>);
  }
  switch (Object.prototype.toString.call(value)) {
    case "[object Map]":
      return Object.fromEntries(value as Map<unknown, unknown>);
    case "[object Set]":
      return Array.from(value as Set<unknown>);
    case "[object ArrayBuffer]":
    case "[object SharedArrayBuffer]":
      return Array.from(new Uint8Array(value as ArrayBuffer));
    case "[object Error]":
    case "[object DOMException]": // an AbortError, a TimeoutError (a review: written as {})
      return errorAsJson(value as Error);
    default:
      return value;
  }
}

/** Levels of nesting an `Error` is written with, itself the first (a chain of causes keeps its first). */
const ERROR_DEPTH_MAX = 16;
/** Characters of JSON the parts of an `Error` (its cause and fields) may take in all. */
const ERROR_CHARS_MAX = 256 * 1024;

/**
 * An `Error` as JSON: `name` (when not `"Error"`), `message`, `cause` (when
 * set) and its own fields, each as JSON holds it. Its class and its cause
 * are what a reader of a failure needs first (a review: a TypeError read as
 * a bare message, and the cause was dropped). What JSON cannot write never
 * fails the event that carries the error (a review: an HTTP client's error,
 * its request and socket pointing at each other, as a cause refused the
 * whole `run.failed`, and the run never ended): a cycle, a value whose
 * getter or `toJSON` throws, nesting past {@linkcode ERROR_DEPTH_MAX} levels
 * and parts past {@linkcode ERROR_CHARS_MAX} characters in all are each a
 * line of text saying so, and a BigInt is its digits. Each call walks the
 * error once, its cycles told by the objects above (a review: a module-wide
 * record of errors in progress recursed without end on an error reached
 * again through a plain object).
 */
function errorAsJson(error: Error): Record<string, unknown> {
  return errorJson(error, ERROR_DEPTH_MAX, new Set(), { chars: ERROR_CHARS_MAX });
}

/** What is left of an error's character budget while it is written. */
interface ErrorBudget {
  chars: number;
}

function errorJson(
  error: Error,
  depthLeft: number,
  above: Set<object>,
  budget: ErrorBudget,
): Record<string, unknown> {
  const name = readPart(() => error.name);
  const out: Record<string, unknown> = name === "Error" ? {} : { name: String(name) };
  out.message = String(readPart(() => error.message));
  above.add(error);
  try {
    const keys = ["cause", ...Object.keys(error).filter((k) => !ERROR_HEAD_KEYS.has(k))];
    for (const key of keys) {
      const part = readPart(() => (error as unknown as Record<string, unknown>)[key]);
      const value = plainOf(part, depthLeft - 1, above, budget);
      if (value === undefined) continue; // undefined, a function: left out, as JSON does
      const chars = JSON.stringify(value).length;
      if (chars > budget.chars) {
        out[key] = `(not written: ${chars} characters of JSON, past the ${ERROR_CHARS_MAX} ` +
          "an error's parts may take)";
      } else {
        budget.chars -= chars;
        out[key] = value;
      }
    }
  } finally {
    above.delete(error);
  }
  return out;
}

/** Keys an error's head holds, not read again among its own fields. */
const ERROR_HEAD_KEYS: ReadonlySet<string> = new Set(["name", "message", "cause"]);

/** `read()`, or a line saying what it threw. */
function readPart(read: () => unknown): unknown {
  try {
    return read();
  } catch (err) {
    return `(not written: reading it threw ${thrownText(err)})`;
  }
}

/** A thrown value in a few words, whatever it is. */
function thrownText(err: unknown): string {
  try {
    return err instanceof Error
      ? `${err.name}: ${String(err.message).split("\n")[0]}`
      : String(err);
  } catch (textErr) {
    return `a value without a text (${typeof textErr})`;
  }
}

/** `value` as plain JSON (no cycle, no BigInt, at most `depthLeft` levels), or undefined. */
function plainOf(
  value: unknown,
  depthLeft: number,
  above: Set<object>,
  budget: ErrorBudget,
): unknown {
  switch (typeof value) {
    case "string":
    case "number": // NaN and infinities: JSON writes null, as everywhere in an event
    case "boolean":
      return value;
    case "bigint":
      return String(value);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (above.has(object)) return "(not written: a cycle)";
  if (depthLeft <= 0) return `(not written: nested deeper than ${ERROR_DEPTH_MAX} levels)`;
  if (isErrorTag(object)) return errorJson(object as Error, depthLeft, above, budget);
  let held: unknown;
  try {
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    held = typeof toJSON === "function" ? toJSON.call(object) : jsonOf(object);
  } catch (err) {
    return `(not written: ${thrownText(err)})`;
  }
  if (held !== object) return plainOf(held, depthLeft, above, budget); // a Date, a Map, a Set
  above.add(object);
  try {
    if (Array.isArray(object)) {
      return object.map((item) => plainOf(item, depthLeft - 1, above, budget) ?? null);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      const child = readPart(() => (object as Record<string, unknown>)[key]);
      const plain = plainOf(child, depthLeft - 1, above, budget);
      if (plain !== undefined) out[key] = plain;
    }
    return out;
  } finally {
    above.delete(object);
  }
}

/** Whether `value` is an `Error` or a `DOMException` (by its tag: another realm's too). */
function isErrorTag(value: object): boolean {
  const tag = Object.prototype.toString.call(value);
  return tag === "[object Error]" || tag === "[object DOMException]";
}

/** Whether {@linkcode jsonOf} writes `value` as something else than itself. */
function jsonConverts(value: object): boolean {
  return ArrayBuffer.isView(value) || CONVERTED_TAGS.has(Object.prototype.toString.call(value));
}

/** The tags of the objects {@linkcode jsonOf} converts (besides typed arrays and views). */
const CONVERTED_TAGS: ReadonlySet<string> = new Set([
  "[object Map]",
  "[object Set]",
  "[object ArrayBuffer]",
  "[object SharedArrayBuffer]",
  "[object Error]",
  "[object DOMException]",
]);

// ---- helpers ----

/** Type fields that may be absent, per type (any version), plus `schema_version`. */
const OPTIONAL_FIELDS: Readonly<Record<EventType, ReadonlySet<string>>> = Object.fromEntries(
  EVENT_TYPES.map((type) => {
    const optional = new Set(["schema_version"]);
    for (const fields of Object.values(EVENT_DEFINITIONS[type].fieldsByVersion)) {
      for (const [name, schema] of Object.entries(fields)) {
        if ((schema as z.ZodType).safeParse(undefined).success) optional.add(name);
      }
    }
    return [type, optional];
  }),
) as unknown as Record<EventType, ReadonlySet<string>>;

/**
 * `null` in an optional field (or `schema_version`) means absent, as for
 * the indexer (SPEC 4 rules in docs/EVENTS.md): `record` without those keys
 * (the same object when it has none). So does `NaN` or an infinity, which
 * JSON writes as `null` and every reader takes as absent there (a probe:
 * `runStarted(id, { pid: NaN })` was refused, "pid must be an integer >= 0,
 * got null", and the emitter dropped the run's `run.started`).
 */
function dropNullOptionals(
  record: Record<string, unknown>,
  type: EventType,
): Record<string, unknown> {
  const optional = OPTIONAL_FIELDS[type];
  let out = record;
  for (const name of optional) {
    if (Object.hasOwn(record, name) && isNullInJson(record[name])) {
      if (out === record) out = { ...record };
      delete out[name];
    }
  }
  return out;
}

/** Whether JSON writes `value` as `null`: `null` itself, `NaN` or an infinity. */
function isNullInJson(value: unknown): boolean {
  return value === null || (typeof value === "number" && !Number.isFinite(value));
}

/**
 * Refuse what no reader could hold: a BigInt (not JSON), nesting deeper than
 * {@linkcode JSON_DEPTH_MAX} (the event object is level 1) and strings or
 * keys with a lone UTF-16 surrogate (DuckDB, hence the index, refuses the
 * `\uD83D` escape JSON.stringify writes for it). Iterative: a 10,000-deep
 * value cannot overflow the stack here.
 */
function requireSoundStructure(event: Record<string, unknown>, type: EventType): void {
  const stack: [unknown, number, string][] = [[event, 1, ""]];
  while (stack.length > 0) {
    const [node, level, path] = stack.pop()!;
    if (typeof node === "string") {
      if (!node.isWellFormed()) {
        throw new ValidationError(
          path,
          "well-formed Unicode (a lone UTF-16 surrogate, e.g. text cut inside an emoji)",
          preview(node),
          { eventType: type },
        );
      }
      continue;
    }
    if (typeof node === "bigint") {
      // JSON.stringify throws a bare TypeError on it; say which field, typed.
      throw new ValidationError(
        path,
        "a JSON number (a BigInt is not JSON: convert it with Number() or String())",
        `${node}n`,
        { eventType: type },
      );
    }
    if (typeof node !== "object" || node === null) continue;
    if (level > JSON_DEPTH_MAX) {
      throw new ValidationError(
        shortPath(path),
        `nested at most ${JSON_DEPTH_MAX} levels deep (the event object is level 1)`,
        "a deeper value",
        { eventType: type },
      );
    }
    for (const [key, child] of Object.entries(node)) {
      const childPath = path === "" ? key : `${path}.${key}`;
      if (!key.isWellFormed()) {
        throw new ValidationError(
          JSON.stringify(childPath).slice(1, -1), // escaped: the raw path is not printable
          "a key in well-formed Unicode (a lone UTF-16 surrogate)",
          preview(key),
          { eventType: type },
        );
      }
      stack.push([child, level + 1, childPath]);
    }
  }
}

const PATH_SEGMENTS_SHOWN = 4;

function shortPath(path: string): string {
  const parts = path.split(".");
  if (parts.length <= PATH_SEGMENTS_SHOWN) return path;
  return `${parts.slice(0, PATH_SEGMENTS_SHOWN).join(".")}... (${parts.length} levels)`;
}

/** `event` with the envelope fields first, in `ENVELOPE_FIELDS` order (a new object unless it already is so). */
function orderFields(event: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(event);
  let next = 0;
  for (const key of ENVELOPE_FIELDS) {
    if (!(key in event)) continue;
    if (keys[next] !== key) return reorderFields(event);
    next++;
  }
  return event; // zod keeps the shape's order, so this is the usual case
}

function reorderFields(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ENVELOPE_FIELDS) if (key in event) out[key] = event[key];
  // Own keys only, defined: `"__proto__" in out` is true of every object, and assigning it would
  // set the prototype; the key stays a key (SPEC 4 keeps unknown fields).
  for (const [key, value] of Object.entries(event)) {
    if (!Object.hasOwn(out, key)) setOwn(out, key, value);
  }
  return out;
}

function requireObject(input: unknown): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationError("event", "a JSON object", preview(input));
  }
  return input as Record<string, unknown>;
}

function requireEventType(record: Record<string, unknown>): EventType {
  const type = record.event_type;
  if (type === undefined) throw new ValidationError("event_type", "required", undefined);
  if (typeof type !== "string" || !Object.hasOwn(CURRENT_FIELDS, type)) {
    const expected = `one of: ${EVENT_TYPES.join(", ")}`;
    throw new ValidationError("event_type", expected, preview(type), {
      message: `unknown event_type ${preview(type)} (expected ${expected})`,
    });
  }
  return type as EventType;
}

function requireVersion(record: Record<string, unknown>, definition: EventDefinition): number {
  const raw = record.schema_version;
  if (raw === undefined) return 1;
  if (typeof raw === "number" && Object.hasOwn(definition.fieldsByVersion, raw)) return raw;
  const known = Object.keys(definition.fieldsByVersion).join(", ");
  throw new ValidationError("schema_version", `one of ${known}`, preview(raw), {
    eventType: definition.type,
  });
}

function toValidationError(
  type: EventType,
  record: Record<string, unknown>,
  issue: z.core.$ZodIssue,
): ValidationError {
  const symbolAt = issue.path.findIndex((key) => typeof key === "symbol");
  if (symbolAt >= 0) {
    // JSON has no Symbol keys (a probe: "metrics.Symbol(s) must be an object, got 2").
    const owner = issue.path.slice(0, symbolAt).map(String).join(".") || "event";
    return new ValidationError(
      owner,
      "an object of string keys (JSON has no Symbol keys)",
      `a Symbol key ${String(issue.path[symbolAt])}`,
      { eventType: type },
    );
  }
  const field = issue.path.map(String).join(".");
  let value: unknown = record;
  for (const key of issue.path) {
    value = typeof value === "object" && value !== null
      ? (value as Record<PropertyKey, unknown>)[key]
      : undefined;
  }
  if (value === undefined && issue.code === "invalid_type") {
    return new ValidationError(field, "required", undefined, { eventType: type });
  }
  const objectExpected = issue.message.includes("object");
  return new ValidationError(field || "event", issue.message, preview(value, objectExpected), {
    eventType: type,
  });
}

function preview(value: unknown, objectExpected = false): string {
  // NaN and infinities by name: JSON's "null" read as if null had been given.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const json = JSON.stringify(value) ?? String(value);
  const text = json.length > JSON_PREVIEW_CHARS_MAX
    ? `${json.slice(0, JSON_PREVIEW_CHARS_MAX)}...`
    : json;
  // An instance of a class reads as a plain object in JSON: say what it is (a probe: "metrics
  // must be an object, got {"a":1}" of a class instance).
  const proto = typeof value === "object" && value !== null && !Array.isArray(value)
    ? Object.getPrototypeOf(value)
    : undefined;
  if (proto === undefined || proto === null || proto === Object.prototype) return text;
  const name = typeof proto.constructor === "function" ? proto.constructor.name : "";
  const hint = objectExpected ? " (a plain object is expected)" : "";
  return `an instance of ${name || "a class"}${hint}, ${text}`;
}
