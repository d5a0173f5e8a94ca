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
import { mergeSchemaDocument, writeSchemaFile } from "./schema_file.ts";

export { mergeSchemaDocument, writeSchemaFile };

/**
 * The `$id` of the exported document.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { registryJsonSchema, SCHEMA_DOCUMENT_ID } from "./registry.ts";
 * assert.equal(registryJsonSchema().$id, SCHEMA_DOCUMENT_ID);
 * // Its path is the file's place under a ledger root.
 * assert.equal(new URL(SCHEMA_DOCUMENT_ID).pathname, "/events/_schema.json");
 * ```
 */
export const SCHEMA_DOCUMENT_ID = "https://ledger.local/events/_schema.json";

/**
 * The `version` the Python tools read (`get_schema_version`), as their registry wrote it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PYTHON_REGISTRY_VERSION, registryJsonSchema } from "./registry.ts";
 * // What the Python tools' get_schema_version() reads from the document.
 * assert.equal(registryJsonSchema().version, PYTHON_REGISTRY_VERSION);
 * assert.equal(PYTHON_REGISTRY_VERSION, "1.0.0");
 * ```
 */
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

type PropertySchema = {
  type?: string;
  const?: unknown;
  pattern?: string;
  anyOf?: PropertySchema[];
};

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
      "run_id is checked as for new events; a line of an older writer may hold another " +
      "run id (a non-empty string), which ledger reads. " +
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
    Object.entries(schema.properties).map(([name, raw]) => {
      const property = wholeStringPattern(integerConst(raw));
      return [
        name,
        schema.required?.includes(name) ? property : { anyOf: [property, { type: "null" }] },
      ];
    }),
  );
}

/**
 * A `pattern` anchored with `$` alone also matches before a final newline in
 * regex engines other than ECMAScript's (Python's `re.search`, which the
 * `jsonschema` package uses, took `"bt\n"` as a run id: a probe): it ends
 * with `(?![\s\S])` there too, as the event id pattern does already.
 */
function wholeStringPattern(property: PropertySchema): PropertySchema {
  const { pattern } = property;
  return pattern === undefined || !pattern.endsWith("$")
    ? property
    : { ...property, pattern: `${pattern}(?![\\s\\S])` };
}

/**
 * zod writes `z.literal(1)` as `{type: "number", const: 1}`; an integer
 * constant (`schema_version`, SPEC 4: an integer) is `type: "integer"`.
 */
function integerConst(property: PropertySchema): PropertySchema {
  return property.type === "number" && Number.isInteger(property.const)
    ? { ...property, type: "integer" }
    : property;
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
  // An optional field is {anyOf: [its schema, null]}: its type is the schema's.
  const inner = schema.anyOf?.find((s) => s.type !== "null");
  if (inner !== undefined) return pythonType(inner);
  if (typeof schema.const === "number") return Number.isInteger(schema.const) ? "int" : "float";
  if (schema.const !== undefined) return "str";
  return PYTHON_TYPE_NAMES[schema.type ?? ""] ?? "object";
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
