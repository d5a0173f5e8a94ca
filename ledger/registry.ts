/**
 * The schema registry export (SPEC 5): `<root>/events/_schema.json`, one JSON
 * Schema per (event_type, schema_version), generated from the zod schemas of
 * `events.ts` so tools in other languages validate the same events.
 *
 * The file is replaced atomically (temporary file, fsync, rename, fsync of the
 * directory), and only when its content differs from what the registry
 * generates, so a reader never sees half a schema.
 *
 * @module
 */
import { z } from "zod";
import { EVENT_DEFINITIONS, EVENT_TYPES, eventSchema } from "./events.ts";
import { WriteError } from "./errors.ts";
import { schemaPath } from "./paths.ts";
import { assertRegularFileOrAbsent, writeFileAtomic } from "./durable_fs.ts";
import { SCHEMA_FILE_TEXT } from "./_schema_text.ts";

/** The `$id` of the exported document. */
export const SCHEMA_DOCUMENT_ID = "https://ledger.local/events/_schema.json";

/**
 * Build the JSON Schema document of the whole registry: `$defs` holds one
 * schema per `<type>@v<version>` (write mode: `run_id` must match
 * `RUN_ID_PATTERN`), `oneOf` accepts any current event, and
 * `x-ledger-versions` lists the versions of every type.
 *
 * @example
 * ```ts
 * import { registryJsonSchema } from "./registry.ts";
 * const doc = registryJsonSchema() as { $defs: Record<string, unknown> };
 * console.assert("run.created@v1" in doc.$defs);
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
      defs[`${type}@v${version}`] = { title: `${type} version ${version}`, ...schema };
    }
    current.push({ $ref: `#/$defs/${type}@v${definition.currentVersion}` });
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCHEMA_DOCUMENT_ID,
    title: "ledger events (one JSON object per line of events/day=*/part-*.jsonl)",
    description: "Absent schema_version means 1. Unknown extra fields are allowed.",
    "x-ledger-versions": versions,
    oneOf: current,
    $defs: defs,
  };
}

/**
 * The exact text of `_schema.json` (stable: same registry, same bytes).
 *
 * @example
 * ```ts
 * import { renderSchemaFile } from "./registry.ts";
 * console.assert(renderSchemaFile().endsWith("}\n"));
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
 * ```ts ignore
 * import { writeSchemaFile } from "./registry.ts";
 * await writeSchemaFile("data/ledger");
 * ```
 */
export async function writeSchemaFile(root: string): Promise<boolean> {
  const path = schemaPath(root);
  // renderSchemaFile() generated ahead of time: zod's JSON Schema generation
  // costs ~10 ms at every writer open (every `ledger emit`). A test keeps the
  // two equal (tests/ledger/schema_text_test.ts).
  const text = SCHEMA_FILE_TEXT;
  try {
    await assertRegularFileOrAbsent(path); // a FIFO here would block the read forever
    if (await Deno.readTextFile(path) === text) return false;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new WriteError(path, `cannot read the current schema file: ${message(err)}`, {
        cause: err,
      });
    }
  }
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    throw new WriteError(path, message(err), { cause: err });
  }
  return true;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
