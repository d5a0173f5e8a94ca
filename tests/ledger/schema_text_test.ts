import assert from "node:assert/strict";
import { SCHEMA_FILE_TEXT } from "../../ledger/_schema_text.ts";
import { renderSchemaFile } from "../../ledger/registry.ts";
import { SCHEMA_TEXT_MODULE, schemaTextModule } from "../../scripts/gen_schema_text.ts";

Deno.test("registry: the pregenerated _schema.json text is current", async (t) => {
  await t.step("it equals what the zod schemas generate", () => {
    assert.equal(
      SCHEMA_FILE_TEXT,
      renderSchemaFile(),
      `${SCHEMA_TEXT_MODULE} is stale: run deno run --allow-write=${SCHEMA_TEXT_MODULE} scripts/gen_schema_text.ts`,
    );
  });
  await t.step("the committed module is what the generator writes", async () => {
    const url = new URL(`../../${SCHEMA_TEXT_MODULE}`, import.meta.url);
    assert.equal(await Deno.readTextFile(url), schemaTextModule());
  });
});
