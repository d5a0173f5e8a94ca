/**
 * docs/EVENTS.md is generated from the registry: the committed file must be
 * exactly what `scripts/gen_events_doc.ts` generates now, so a schema change
 * without `deno task events-doc` fails the suite.
 *
 * @module
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { EVENT_DEFINITIONS, EVENT_TYPES } from "../../ledger/events.ts";
import { EVENTS_DOC_PATH, generateEventsDoc } from "../../scripts/gen_events_doc.ts";

const DOC_URL = new URL(`../../${EVENTS_DOC_PATH}`, import.meta.url);

Deno.test("docs/EVENTS.md is generated from the registry", async (t) => {
  const generated = await generateEventsDoc();
  await t.step("the committed file equals the generated one", async () => {
    const committed = await Deno.readTextFile(DOC_URL);
    equal(committed, generated, "docs/EVENTS.md is stale: run deno task events-doc");
  });
  await t.step("every type, version and field appears", () => {
    for (const type of EVENT_TYPES) {
      ok(generated.includes(`## \`${type}\``), `no section for ${type}`);
      const definition = EVENT_DEFINITIONS[type];
      for (const [version, fields] of Object.entries(definition.fieldsByVersion)) {
        match(generated, new RegExp(`### Version ${version}`));
        for (const field of Object.keys(fields)) {
          ok(generated.includes(`| \`${field}\``), `${type} v${version}: no row for ${field}`);
        }
      }
    }
  });
});
