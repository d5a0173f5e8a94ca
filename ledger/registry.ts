/**
 * The schema registry export (SPEC 5): `<root>/events/_schema.json`, one JSON
 * Schema per (event_type, schema_version), generated from the zod schemas of
 * `events.ts` so tools in other languages validate the same events.
 *
 * The same file is the earlier Python tools' registry
 * (`tools/ledger/schema_registry.py`): they read `version`, `event_types`
 * (per type `required_fields`, `optional_fields`, `field_types` with Python
 * type names) and `migrations`, and `register_event_type` adds an entry to
 * `event_types` and writes the whole file back. So the document carries
 * those keys too, and rewriting it keeps what the Python tools added: their
 * `event_types` entries for types ledger does not define, their `migrations`,
 * and any other top-level key ({@linkcode mergeSchemaDocument}).
 *
 * The file is replaced atomically (temporary file, fsync, rename, fsync of the
 * directory), and only when its content differs from what the registry
 * generates, so a reader never sees half a schema.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { EVENT_DEFINITIONS, EVENT_TYPES, eventSchema } from "./events.ts";
import { WriteError } from "./errors.ts";
import { schemaPath } from "./paths.ts";
import { assertRegularFileOrAbsent, writeFileAtomic } from "./durable_fs.ts";
import { SCHEMA_FILE_TEXT } from "./_schema_text.ts";
import { parseJsonText } from "./json_text.ts";

/** The `$id` of the exported document. */
export const SCHEMA_DOCUMENT_ID = "https://ledger.local/events/_schema.json";

/** The `version` the Python tools read (`get_schema_version`), as their registry wrote it. */
export const PYTHON_REGISTRY_VERSION = "1.0.0";

/** Python type names of the Python registry's `field_types`, per JSON Schema type. */
const PYTHON_TYPE_NAMES: Record<string, string> = {
  string: "str",
  integer: "int",
  number: "float",
  object: "dict",
  array: "list",
  boolean: "bool",
};

type PropertySchema = { type?: string; const?: unknown; anyOf?: PropertySchema[] };

/**
 * Build the JSON Schema document of the whole registry: `$defs` holds one
 * schema per `<type>@v<version>` (write mode: `run_id` must match
 * `RUN_ID_PATTERN`), `oneOf` accepts any current event, and
 * `x-ledger-versions` lists the versions of every type.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { registryJsonSchema } from "./registry.ts";
 * const doc = registryJsonSchema() as { $defs: Record<string, unknown> };
 * assert("run.created@v1" in doc.$defs);
 * ```
 */
export function registryJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const versions: Record<string, { current: number; versions: number[] }> = {};
  const current: { $ref: string }[] = [];
  for (const type of EVENT_TYPES) {
    const definition = EVENT_DEFINITIONS[type];
    const known = Object.keys(definition.fieldsByVersion).map(Number).sort((a, b) => a - b);
    versions[type] = { current: definition.currentVersion, versions: known };
    for (const version of known) {
      const { $schema: _ignored, ...schema } = z.toJSONSchema(eventSchema(type, version), {
        io: "input",
      });
      defs[`${type}@v${version}`] = {
        title: `${type} version ${version}`,
        ...schema,
        properties: nullableOptionals(schema as { properties: Record<string, PropertySchema> }),
      };
    }
    current.push({ $ref: `#/$defs/${type}@v${definition.currentVersion}` });
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCHEMA_DOCUMENT_ID,
    title: "ledger events (one JSON object per line of events/day=*/*.jsonl)",
    description: "Absent schema_version means 1. Unknown extra fields are allowed. " +
      "version, event_types and migrations are the earlier Python tools' registry.",
    version: PYTHON_REGISTRY_VERSION,
    event_types: pythonEventTypes(defs, versions),
    migrations: [],
    "x-ledger-versions": versions,
    oneOf: current,
    $defs: defs,
  };
}

/** Properties of `schema`, the optional ones also accepting `null` (which means absent). */
function nullableOptionals(
  schema: { properties: Record<string, PropertySchema>; required?: string[] },
): Record<string, PropertySchema> {
  return Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => [
      name,
      schema.required?.includes(name) ? property : { anyOf: [property, { type: "null" }] },
    ]),
  );
}

/** The Python registry's `event_types` entry of each type, from its current JSON Schema. */
function pythonEventTypes(
  defs: Record<string, unknown>,
  versions: Record<string, { current: number }>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, { current }] of Object.entries(versions)) {
    const schema = defs[`${type}@v${current}`] as {
      properties: Record<string, PropertySchema>;
      required: string[];
    };
    const fields = Object.keys(schema.properties);
    out[type] = {
      required_fields: fields.filter((f) => schema.required.includes(f)),
      optional_fields: fields.filter((f) => !schema.required.includes(f)),
      field_types: Object.fromEntries(fields.map((f) => [f, pythonType(schema.properties[f])])),
    };
  }
  return out;
}

function pythonType(schema: PropertySchema): string {
  if (typeof schema.const === "number") return Number.isInteger(schema.const) ? "int" : "float";
  if (schema.const !== undefined) return "str";
  const type = schema.type ?? schema.anyOf?.find((s) => s.type !== "null")?.type;
  return PYTHON_TYPE_NAMES[type ?? ""] ?? "object";
}

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
 * import { mergeSchemaDocument } from "./registry.ts";
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
 * The exact text of `_schema.json` (stable: same registry, same bytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renderSchemaFile } from "./registry.ts";
 * assert.match(renderSchemaFile(), /\}\n$/);
 * ```
 */
export function renderSchemaFile(): string {
  return JSON.stringify(registryJsonSchema(), null, 2) + "\n";
}

/**
 * Write `<root>/events/_schema.json` when it is missing or differs from the
 * registry; resolves to `true` when the file was (re)written. The events
 * directory must exist. Throws {@linkcode WriteError} on I/O failure.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeSchemaFile } from "./registry.ts";
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
