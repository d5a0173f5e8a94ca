/**
 * Writing `<root>/events/_schema.json` (SPEC 5) without zod: the document is
 * generated ahead of time (`_schema_text.ts`, kept equal to the registry's
 * rendering by `tests/ledger/schema_text_test.ts`), so a writer, and every
 * `ledger emit` that creates a day, writes it without loading the registry
 * (issue 16: the cold start). The file is the Python tools' registry too;
 * rewriting it keeps what they added ({@linkcode mergeSchemaDocument}).
 *
 * @module
 */
import { WriteError } from "./errors.ts";
import { schemaPath } from "./paths.ts";
import { assertRegularFileOrAbsent, writeFileAtomic } from "./durable_fs.ts";
import { SCHEMA_FILE_TEXT } from "./_schema_text.ts";
import { parseJsonText } from "./json_text.ts";

/**
 * Merge the registry document `ours` with the current content of
 * `_schema.json` (`existing`, anything `JSON.parse` returned): ledger's keys
 * and its event types win; the Python tools' additions are kept (other
 * `event_types` entries, `migrations`, `version`, other top-level keys such
 * as `created_at`). A non-object `existing` is replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { mergeSchemaDocument } from "./schema_file.ts";
 * const merged = mergeSchemaDocument(
 *   { version: "1.0.0", event_types: { "run.created": {} }, migrations: [] },
 *   { created_at: "2026-01-23T00:00:00", event_types: { "my.type": { required_fields: [] } } },
 * );
 * assert.deepEqual(Object.keys(merged.event_types as object), ["run.created", "my.type"]);
 * assert.equal(merged.created_at, "2026-01-23T00:00:00");
 * ```
 */
export function mergeSchemaDocument(
  ours: Record<string, unknown>,
  existing: unknown,
): Record<string, unknown> {
  if (!isPlainObject(existing)) return ours;
  const merged: Record<string, unknown> = { ...ours };
  for (const [key, value] of Object.entries(existing)) {
    if (!Object.hasOwn(ours, key)) merged[key] = value;
  }
  if (typeof existing.version === "string") merged.version = existing.version;
  if (Array.isArray(existing.migrations)) merged.migrations = existing.migrations;
  const types = { ...(ours.event_types as Record<string, unknown>) };
  if (isPlainObject(existing.event_types)) {
    for (const [type, entry] of Object.entries(existing.event_types)) {
      if (!Object.hasOwn(types, type)) types[type] = entry;
    }
  }
  merged.event_types = types;
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Write `<root>/events/_schema.json` when it is missing or differs from the
 * registry; resolves to `true` when the file was (re)written. The events
 * directory must exist. Throws {@linkcode WriteError} on I/O failure.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeSchemaFile } from "./schema_file.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   await Deno.mkdir(`${root}/events`); // the writer creates it on its first event
 *   assert.equal(await writeSchemaFile(root), true); // written
 *   assert.equal(await writeSchemaFile(root), false); // already current
 *   const doc = JSON.parse(await Deno.readTextFile(`${root}/events/_schema.json`));
 *   assert.ok("event_types" in doc); // the Python tools' shape too
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function writeSchemaFile(root: string): Promise<boolean> {
  const path = schemaPath(root);
  // renderSchemaFile() generated ahead of time: zod's JSON Schema generation
  // costs ~10 ms at every writer open (every `ledger emit`). A test keeps the
  // two equal (tests/ledger/schema_text_test.ts).
  let current: string | undefined;
  try {
    await assertRegularFileOrAbsent(path); // a FIFO here would block the read forever
    current = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new WriteError(path, `cannot read the current schema file: ${message(err)}`, {
        cause: err,
      });
    }
  }
  if (current === SCHEMA_FILE_TEXT) return false;
  const text = current === undefined ? SCHEMA_FILE_TEXT : mergedText(current);
  if (text === current) return false; // holds the Python tools' additions, and ours
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    throw new WriteError(path, message(err), { cause: err });
  }
  return true;
}

/** The registry merged with the file's current text (replaced when that is not JSON). */
function mergedText(current: string): string {
  let existing: unknown;
  try {
    existing = parseJsonText(current);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return SCHEMA_FILE_TEXT; // a damaged export: regenerated whole
  }
  const ours = JSON.parse(SCHEMA_FILE_TEXT) as Record<string, unknown>;
  return JSON.stringify(mergeSchemaDocument(ours, existing), null, 2) + "\n";
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
