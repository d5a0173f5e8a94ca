import assert from "node:assert/strict";
import { renderSchemaFile, writeSchemaFile } from "../../ledger/registry.ts";
import { EVENT_TYPES } from "../../ledger/events.ts";
import { schemaPath } from "../../ledger/paths.ts";
import { openWriter } from "../../ledger/writer.ts";
import { withTempDir } from "./_helpers.ts";

Deno.test("registry: _schema.json holds a JSON Schema per type and version", async (t) => {
  await withTempDir(async (root) => {
    await t.step("the writer creates it", async () => {
      const writer = await openWriter(root);
      await writer.close();
      const doc = JSON.parse(await Deno.readTextFile(schemaPath(root)));
      for (const type of EVENT_TYPES) {
        const schema = doc.$defs[`${type}@v1`];
        assert.equal(schema.type, "object");
        assert.equal(schema.properties.event_type.const, type);
        assert.ok(schema.required.includes("event_id"));
        assert.ok(!schema.required.includes("schema_version"), "absent version means 1");
      }
      const completed = doc.$defs["phase.completed@v1"];
      assert.equal(completed.properties.duration_ms.type, "integer");
      assert.equal(completed.properties.duration_ms.minimum, 0);
      assert.equal(doc.$defs["run.started@v1"].properties.run_id.pattern.startsWith("^"), true);
      // Whole strings in every engine: Python's re.search (the jsonschema package) took "bt\n"
      // as a run id when the pattern ended with a bare `$` (a probe).
      for (const type of ["run.started@v1", "run.created@v1", "trial.recorded@v1"]) {
        const pattern: string = doc.$defs[type].properties.run_id.pattern;
        assert.equal(pattern.endsWith("$(?![\\s\\S])"), true, pattern);
        assert.match("bt-1", new RegExp(pattern));
        assert.doesNotMatch("bt\n", new RegExp(pattern));
      }
      assert.equal(doc["x-ledger-versions"]["run.failed"].current, 1);
    });
    await t.step("an outdated file is replaced atomically, an up-to-date one kept", async () => {
      await Deno.writeTextFile(schemaPath(root), "{}\n");
      assert.equal(await writeSchemaFile(root), true);
      assert.equal(await Deno.readTextFile(schemaPath(root)), renderSchemaFile());
      assert.equal(await writeSchemaFile(root), false);
      const names = [];
      for await (const e of Deno.readDir(`${root}/events`)) names.push(e.name);
      assert.deepEqual(names, ["_schema.json"], "no temporary file left behind");
    });
  });
});
