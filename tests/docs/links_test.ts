/**
 * The docs stay honest about the tree: every source or test file they name
 * (`tests/ledger/writer_test.ts`, `indexer/rebuild.ts`, ...) and every
 * relative link between documents exists.
 *
 * @module
 */
import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { exists } from "../../ledger/exists.ts";

const PROJECT_DIR = new URL("../../", import.meta.url);
/** README, CHANGELOG and every page under docs/ (new pages are checked without listing them). */
const DOCS = ["README.md", "CHANGELOG.md"].concat(
  [...Deno.readDirSync(new URL("docs/", PROJECT_DIR))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort(),
);
const FILE_PATTERN =
  /`((?:tests|cli|ledger|indexer|legacy|backtest|scripts|bench|storage|report)\/[\w./-]+\.ts)`/g;
const LINK_PATTERN = /\]\(((?!https?:|#)[^)#\s]+)(?:#[^)]*)?\)/g;

Deno.test("docs name only files that exist", async (t) => {
  for (const doc of DOCS) {
    const docUrl = new URL(doc, PROJECT_DIR);
    if (!await exists(docUrl)) continue; // a document not written yet names nothing
    await t.step(doc, async () => {
      const text = await Deno.readTextFile(docUrl);
      const missing: string[] = [];
      for (const [, path] of text.matchAll(FILE_PATTERN)) {
        if (!await exists(new URL(path, PROJECT_DIR))) missing.push(path);
      }
      for (const [, link] of text.matchAll(LINK_PATTERN)) {
        if (!await exists(new URL(link, docUrl))) missing.push(link);
      }
      deepEqual(missing, [], `${doc} names missing files`);
    });
  }
});
