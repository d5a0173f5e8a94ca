/**
 * Runs whose id is `.` or `..` (a writer other than ledger's can log them)
 * open in `ledger ui`. A probe: their links `/run/.` and `/run/..` were read
 * by the browser (and by URL parsing, escaped or not) as dot segments, so
 * `..` opened the overview and `.` a 400.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { withTempDir } from "../_helpers.ts";
import { startUi } from "./_fixture.ts";

Deno.test("ledger ui: runs '.' and '..' have links that open them", async () => {
  await withTempDir(async (root) => {
    const lines = [".", "..", "plain"].map((id, i) =>
      ev("run.created", id, T0 + i, { run_type: "policy", config: {}, data_fingerprint: "f" })
    );
    await writePart(root, join("day=2026-01-20", "part-dots.jsonl"), lines);
    await rebuildIndex(root, {});
    const ui = await startUi(root);
    let stopped = false;
    try {
      const overview = await (await fetch(`${ui.url}/`)).text();
      const links = [...overview.matchAll(/href="(\/run[^"]*)"/g)].map((m) => m[1]).sort();
      assert.deepEqual(links, ["/run/plain", "/run?id=.", "/run?id=.."]);
      for (const [link, id] of [["/run?id=.", "."], ["/run?id=..", ".."]]) {
        // As a browser resolves the link against the page.
        const res = await fetch(new URL(link, `${ui.url}/`));
        const html = await res.text();
        assert.equal(res.status, 200, html);
        assert.match(html, new RegExp(`<title>${id.replaceAll(".", "\\.")} - ledger</title>`));
      }
      await ui.stop();
      stopped = true;
    } finally {
      if (!stopped) await ui.stop();
    }
  });
});
