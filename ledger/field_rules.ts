/**
 * The type fields of every event type as data (zod-free): which fields, of
 * what kind, optional or not. One table serves the indexer's SQL checks and
 * the writer's fast path; the zod schemas of `events.ts` stay the registry of
 * record, and a test holds the two to the same verdicts.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EVENT_FIELD_RULES, KIND_EXPECTED } from "./field_rules.ts";
 * const rule = EVENT_FIELD_RULES["phase.completed"].find((r) => r.field === "duration_ms");
 * assert.equal(rule?.kind, "count");
 * assert.equal(KIND_EXPECTED.count, "an integer >= 0");
 * ```
 *
 * @module
 */

/** How a type field is checked. `count` is an integer >= 0; `name` a non-empty string. */
export type FieldKind = "text" | "name" | "count" | "object" | "string_map" | "error_object";

/** The rule for one type field of an event type. */
export interface FieldRule {
  /** Field name on the wire. */
  field: string;
  /** What it must hold. */
  kind: FieldKind;
  /** May be absent (when present it must still be valid). @default {false} */
  optional?: boolean;
}

/**
 * The envelope every event carries, in the order every line has it: the
 * writer puts them first, the zod registry's lines keep them first, and the
 * indexer reads them from each line before the type fields.
 */
export const ENVELOPE_FIELDS: readonly string[] = [
  "event_type",
  "event_id",
  "timestamp_ms",
  "run_id",
  "schema_version",
];

/**
 * Required (and optional) type fields per event type: the rules of the zod
 * registry (`events.ts`) as data, which the indexer checks in SQL and the
 * writer's fast path in TypeScript (`event_write.ts`).
 * `tests/ledger/event_write_test.ts` holds them to the zod schemas.
 */
export const EVENT_FIELD_RULES: Readonly<Record<string, readonly FieldRule[]>> = {
  "run.created": [
    { field: "run_type", kind: "name" },
    { field: "config", kind: "object" },
    { field: "data_fingerprint", kind: "text" },
  ],
  "run.started": [
    { field: "host", kind: "text", optional: true },
    { field: "pid", kind: "count", optional: true },
  ],
  "phase.started": [
    { field: "phase_name", kind: "name" },
    { field: "phase_order", kind: "count" },
  ],
  "phase.completed": [
    { field: "phase_name", kind: "name" },
    { field: "duration_ms", kind: "count" },
    { field: "output_summary", kind: "object" },
  ],
  "trial.recorded": [
    { field: "trial_id", kind: "name" },
    { field: "params", kind: "object" },
    { field: "metrics", kind: "object" },
  ],
  "artifact.created": [
    { field: "artifact_type", kind: "name" },
    { field: "artifact_path", kind: "name" },
    { field: "size_bytes", kind: "count" },
  ],
  "baseline.completed": [
    { field: "alerts_total", kind: "count" },
    { field: "alerts_ok", kind: "count" },
    { field: "artifact_path", kind: "name" },
  ],
  "run.completed": [
    { field: "summary", kind: "object" },
    { field: "artifact_paths", kind: "string_map" },
  ],
  "run.failed": [
    { field: "error", kind: "error_object" },
    { field: "phase_name", kind: "name", optional: true },
  ],
  // Annotations (SPEC 11): they never change a run's status or liveness.
  "run.tagged": [{ field: "tags", kind: "string_map" }],
  "run.noted": [{ field: "note", kind: "text" }],
  "run.archived": [{ field: "reason", kind: "text", optional: true }],
  "run.restored": [],
};

/** What a field of each kind must hold, in the words of the zod registry's errors. */
export const KIND_EXPECTED: Readonly<Record<FieldKind, string>> = {
  text: "a string",
  name: "a non-empty string",
  count: "an integer >= 0",
  object: "an object",
  string_map: "an object of strings",
  error_object: "an object with a string message",
};

/** The schema version new events of every type are written in (the registry's current one). */
export const CURRENT_SCHEMA_VERSION = 1;

/**
 * The annotation event types (SPEC 11): made about a run, often after it
 * ended, and not activity of it (the index's status and `verify`'s
 * lifecycle checks leave them out).
 */
export const ANNOTATION_EVENT_TYPES: readonly string[] = [
  "run.tagged",
  "run.noted",
  "run.archived",
  "run.restored",
];
