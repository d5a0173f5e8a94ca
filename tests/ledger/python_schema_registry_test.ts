/**
 * `_schema.json` is shared with the earlier Python tools (issue 14.3): their
 * `schema_registry.py` loads it, reads `version`, adds to `event_types` and
 * writes the whole file back. The Python here does what theirs does (same
 * keys, same `json.load`/`json.dump` round trip), run with the machine's
 * python3.
 */
import assert from "node:assert/strict";
import { schemaPath } from "../../ledger/paths.ts";
import { renderSchemaFile, writeSchemaFile } from "../../ledger/registry.ts";
import { EVENT_TYPES } from "../../ledger/events.ts";
import { openWriter } from "../../ledger/writer.ts";
import { withTempDir } from "./_helpers.ts";

/** The Python tools' registry functions, as `tools/ledger/schema_registry.py` has them. */
const PYTHON_REGISTRY = `
import json, sys
from datetime import datetime
SCHEMA_FILE = sys.argv[1]

def load_schema_registry():
    with open(SCHEMA_FILE, 'r') as f:
        return json.load(f)

def save_schema_registry(registry):
    with open(SCHEMA_FILE, 'w') as f:
        json.dump(registry, f, indent=2)

def register_event_type(event_type, required_fields, optional_fields, field_types):
    registry = load_schema_registry()
    registry["event_types"][event_type] = {
        "required_fields": required_fields,
        "optional_fields": optional_fields,
        "field_types": {k: v.__name__ for k, v in field_types.items()},
        "registered_at": datetime.utcnow().isoformat(),
    }
    save_schema_registry(registry)

def get_schema_version():
    return load_schema_registry().get("version", "1.0.0")

def migrate_schema(from_version, to_version, name):
    registry = load_schema_registry()
    registry["migrations"].append({"from_version": from_version, "to_version": to_version,
        "migration_fn": name, "created_at": datetime.utcnow().isoformat()})
    save_schema_registry(registry)

command = sys.argv[2]
if command == "register":
    register_event_type(sys.argv[3], ["event_type", "run_id"], [], {"run_id": str, "n": int})
    print(get_schema_version())
elif command == "migrate":
    migrate_schema("1.0.0", "1.1.0", "upgrade")
elif command == "show":
    registry = load_schema_registry()
    print(json.dumps({"version": registry["version"], "types": sorted(registry["event_types"]),
        "run_created": registry["event_types"]["run.created"],
        "migrations": len(registry["migrations"])}))
`;

async function python(...args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["-c", PYTHON_REGISTRY, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `python3 failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout).trim();
}

async function pythonAvailable(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["--version"] }).output()).success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

const HAS_PYTHON = await pythonAvailable();
if (!HAS_PYTHON) console.log("python_schema_registry_test: ignored, no python3 on PATH");

Deno.test({
  name: "_schema.json: the Python registry tools and ledger share it",
  ignore: !HAS_PYTHON,
  fn: async (t) => {
    await withTempDir(async (root) => {
      const writer = await openWriter(root); // writes _schema.json
      await writer.close();
      const path = schemaPath(root);

      await t.step("Python reads ledger's file in its own shape", async () => {
        const shown = JSON.parse(await python(path, "show"));
        assert.equal(shown.version, "1.0.0");
        assert.deepEqual(shown.types, [...EVENT_TYPES].sort());
        assert.deepEqual(shown.run_created.required_fields, [
          "event_type",
          "event_id",
          "timestamp_ms",
          "run_id",
          "run_type",
          "config",
          "data_fingerprint",
        ]);
        assert.deepEqual(shown.run_created.optional_fields, ["schema_version"]);
        assert.equal(shown.run_created.field_types.config, "dict");
        assert.equal(shown.run_created.field_types.timestamp_ms, "int");
        assert.equal(shown.migrations, 0);
      });

      await t.step("Python registers a type; ledger's next open keeps it", async () => {
        assert.equal(await python(path, "register", "quant.signal"), "1.0.0");
        await python(path, "migrate");
        const written = await Deno.readTextFile(path);
        assert.equal(await writeSchemaFile(root), true, "Python's indentation differs: rewritten");
        const doc = JSON.parse(await Deno.readTextFile(path));
        assert.ok("quant.signal" in doc.event_types, "Python's type kept");
        assert.equal(doc.event_types["quant.signal"].field_types.n, "int");
        assert.equal(doc.migrations.length, 1, "Python's migration kept");
        assert.ok("run.created@v1" in doc.$defs, "the JSON Schema is whole");
        assert.notEqual(written, renderSchemaFile());
        assert.equal(await writeSchemaFile(root), false, "a merged file is stable");
      });

      await t.step("Python registers again after ledger rewrote the file", async () => {
        await python(path, "register", "quant.fill");
        const writer2 = await openWriter(root);
        await writer2.close();
        const shown = JSON.parse(await python(path, "show"));
        assert.ok(shown.types.includes("quant.signal") && shown.types.includes("quant.fill"));
        assert.ok(shown.types.includes("run.failed"));
      });

      await t.step("a file Python created first gets ledger's types merged in", async () => {
        await Deno.writeTextFile(
          path,
          JSON.stringify({
            version: "1.0.0",
            created_at: "2026-01-23T00:00:00",
            event_types: {},
            migrations: [],
          }),
        );
        assert.equal(await writeSchemaFile(root), true);
        const doc = JSON.parse(await Deno.readTextFile(path));
        assert.equal(doc.created_at, "2026-01-23T00:00:00");
        assert.ok("run.completed" in doc.event_types);
        assert.ok("run.completed@v1" in doc.$defs);
      });
    });
  },
});
