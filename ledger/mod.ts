/**
 * The ledger core: event schemas and validation, the crash-safe writer, the
 * log reader, the emitter for backtests, and the paths of a ledger root.
 * Re-exports only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getEventEmitter, readLog } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const emitter = getEventEmitter({ root });
 *   await emitter.runStarted("run-1");
 *   await emitter.close();
 *   const kinds: string[] = [];
 *   for await (const record of readLog(root)) kinds.push(record.kind);
 *   assert.deepEqual(kinds, ["event"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
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
  encodeEventText,
  EVENT_DEFINITIONS,
  EVENT_TYPES,
  type EventDefinition,
  type EventEnvelope,
  type EventFields,
  type EventFieldsMap,
  type EventInput,
  type EventLineText,
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
// Errors a writer or reader above can throw from the modules beneath it, so a
// library user can tell them apart with `instanceof`.
export { AssertionError } from "./assert.ts";
export { NotRegularFileError } from "./durable_fs.ts";
export { ProcessFileLinkError } from "./real_path.ts";
export * from "./emitter.ts";
