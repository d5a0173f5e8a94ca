/**
 * The rules of a valid log line that come before the event's fields (rules
 * 1-6 of `event_line.ts`, which adds rule 7, `validateEvent`): a line's
 * length, bytes, encoding, nesting and JSON, read into the value the event
 * is checked from. Zod-free, so that `ledger emit` can apply the whole line
 * rules to the few lines it looks at (`run_lookup.ts`) without loading the
 * registry when the writer's fast check (`checkFilledEvent`) decides.
 *
 * @module
 */
import { LINE_BYTES_MAX } from "./limits.ts";
import {
  firstKeysWin,
  isJsonObject,
  JSON_DEPTH_MAX,
  normalizeJsonText,
  objectMemberTexts,
  parseJsonText,
  scanJsonText,
  setOwn,
  topLevelValueText,
} from "./json_text.ts";
import { EVENT_FIELD_RULES } from "./field_rules.ts";

/** What {@linkcode readLineValue} read: the line's value, or why it is not a valid line. */
export type LineValue =
  | { ok: true; value: unknown; nonFiniteCount: number; repeatedKey: boolean }
  | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BOM = [0xef, 0xbb, 0xbf];

/** Whether `byte` is JSON whitespace other than the newline that ends a line (tab, CR, space). */
function isJsonWhitespace(byte: number): boolean {
  return byte === 0x09 || byte === 0x0d || byte === 0x20;
}

/**
 * Read one complete line of the log (without its `\n`) by rules 1-6 of
 * `event_line.ts`: its JSON value (non-finite numbers read as `null`, a
 * repeated top-level key keeping its first value), or why not. Never
 * throws for bad content.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readLineValue } from "./line_value.ts";
 * const read = readLineValue(new TextEncoder().encode('{"a": NaN, "a": 2}'));
 * assert(read.ok && read.nonFiniteCount === 1 && read.repeatedKey);
 * assert.deepEqual(read.value, { a: null });
 * assert.equal(readLineValue(new Uint8Array()).ok, false); // an empty line
 * ```
 */
export function readLineValue(
  bytes: Uint8Array,
  options: { startOfFile?: boolean } = {},
): LineValue {
  if (bytes.length + 1 > LINE_BYTES_MAX) {
    return {
      ok: false,
      reason: `line of ${bytes.length + 1} bytes is longer than the limit of ${LINE_BYTES_MAX} ` +
        `bytes (newline included)`,
    };
  }
  if (bytes.length === 0) return { ok: false, reason: "empty line" };
  // Only JSON whitespace: V8 says "Unexpected end of JSON input", which reads as a line cut off
  // (a torn write); the index's ingest_errors says "blank line" (an audit).
  if (bytes.every(isJsonWhitespace)) return { ok: false, reason: "blank line" };
  if (bytes.includes(0)) return { ok: false, reason: "NUL bytes in line (data lost in a crash)" };
  if (BOM.every((b, i) => bytes[i] === b)) {
    if (!options.startOfFile) {
      return {
        ok: false,
        reason: "byte order mark (U+FEFF) before a line that does not start the file",
      };
    }
    bytes = bytes.subarray(BOM.length);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    return { ok: false, reason: `not UTF-8: ${(err as Error).message}` };
  }
  const facts = scanJsonText(text);
  if (facts.loneSurrogate) {
    return {
      ok: false,
      reason: "lone UTF-16 surrogate escape in a string (not well-formed Unicode)",
    };
  }
  if (facts.depthMax > JSON_DEPTH_MAX) {
    return {
      ok: false,
      reason: `nested ${facts.depthMax} levels deep (at most ${JSON_DEPTH_MAX})`,
    };
  }
  try {
    const lenient = facts.nonFiniteCount > 0 || facts.trailingCommaCount > 0;
    const json = lenient ? normalizeJsonText(text) : text;
    const parsed = JSON.parse(json);
    const value = firstKeysWin(parsed, json, facts.topLevelMembers); // as for the indexer
    return {
      ok: true,
      value: checkedFieldsAsIndexed(value, json),
      nonFiniteCount: facts.nonFiniteCount,
      repeatedKey: value !== parsed,
    };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}

/**
 * `value` with each object field the event's type checks inside (a string
 * map: every value a string; an error: a string `message`) read as the
 * indexer reads it when a key repeats in it: the index checks every value of
 * a string map, repeated keys too, and an error's FIRST `message`, where
 * `JSON.parse` keeps the last value of a key. A differential probe found
 * `{"message": 2, "message": "oom"}` sound to `verify` and refused by the
 * index (and the other way round, and for `tags` and `artifact_paths`).
 * Costs a split of the field's text only for the types with such a field.
 */
function checkedFieldsAsIndexed(value: unknown, text: string): unknown {
  if (!isJsonObject(value)) return value;
  const rules = Object.hasOwn(EVENT_FIELD_RULES, String(value.event_type))
    ? EVENT_FIELD_RULES[String(value.event_type)]
    : undefined;
  let out = value;
  for (const { field, kind } of rules ?? []) {
    if (kind !== "string_map" && kind !== "error_object") continue;
    const inner = out[field];
    if (!isJsonObject(inner)) continue;
    const fieldText = topLevelValueText(text, field);
    const members = fieldText === undefined ? undefined : objectMemberTexts(fieldText);
    if (members === undefined || members.length === Object.keys(inner).length) continue;
    // A key repeats in the field: the member the index decides by.
    const decisive = kind === "error_object"
      ? members.find(([key]) => JSON.parse(key) === "message")
      : members.find(([, v]) => !v.trim().startsWith('"'));
    if (decisive === undefined) continue;
    const changed = { ...inner };
    const read = parseJsonText(decisive[1], { depthMax: Number.MAX_SAFE_INTEGER });
    setOwn(changed, JSON.parse(decisive[0]) as string, read);
    out = { ...out };
    setOwn(out, field, changed);
  }
  return out;
}
