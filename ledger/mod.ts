/**
 * The ledger core: event schemas and validation, the crash-safe writer, the
 * log reader, the emitter for backtests, and the paths of a ledger root.
 * Re-exports only.
 *
 * @example
 * ```ts ignore
 * import { getEventEmitter, readLog } from "./mod.ts";
 * await getEventEmitter().runStarted("run-1");
 * for await (const record of readLog("data/ledger")) console.log(record.kind);
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./paths.ts";
// eventSchema (the zod schema itself) stays internal: registry.ts uses it.
export {
  completeEvent,
  type CompleteEventOptions,
  CURRENT_FIELDS,
  encodeEventLine,
  EVENT_DEFINITIONS,
  EVENT_TYPES,
  type EventDefinition,
  type EventEnvelope,
  type EventFields,
  type EventFieldsMap,
  type EventInput,
  type EventOf,
  type EventType,
  type FieldShape,
  FUTURE_TIMESTAMP_TOLERANCE_MS,
  ID_LENGTH_MAX,
  type LedgerEvent,
  LINE_BYTES_MAX,
  TIMESTAMP_MS_MAX,
  type Upcaster,
  validateEvent,
  type ValidateEventOptions,
  type ValidationMode,
} from "./events.ts";
export * from "./json_text.ts";
export * from "./event_line.ts";
export * from "./registry.ts";
export * from "./writer.ts";
export * from "./reader.ts";
export * from "./emitter.ts";
