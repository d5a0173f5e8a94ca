/**
 * An ambiguous prefix whose candidates hold control characters is refused
 * on one line, each candidate escaped. A probe: a run id holding a newline
 * cut the CLI's message there (naming one candidate, half of the other)
 * and broke the UI's 400 in two lines.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { LiveIndex } from "../../report/data.ts";
import { uiHandler } from "../../report/server.ts";

Deno.test("an ambiguous prefix names candidates with a newline or ESC on one line", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    // And a plain id beside them: quoted too, or `"a\nb", ab` would read as two ids and a third.
    const ids = ["a\nb", "a\x1b[31mc", "ab"];
    // Written as another writer would: `ledger emit` refuses such ids, the index reads them.
    const day = join(root, "events", "day=2026-01-05");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(
      join(day, "part-000001.jsonl"),
      ids.map((run_id, i) =>
        JSON.stringify({
          event_id: `e${i}`,
          event_type: "run.created",
          run_id,
          timestamp_ms: Date.UTC(2026, 0, 5) + i,
          schema_version: 1,
          run_type: "policy",
          config: {},
          data_fingerprint: "f",
        }) + "\n"
      ).join(""),
    );
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const expected = `Run id prefix "a" is ambiguous: it matches "a\\nb", "a\\u001b[31mc", "ab"`;
    const shown = await runLedger(["show", "a", "--root", root]);
    assert.equal(shown.code, 2);
    assert.equal(shown.stderr, `ledger show: ${expected}\n`);
    const live = new LiveIndex(root);
    try {
      const page = await uiHandler(live)(new Request("http://ui/run/a"));
      assert.equal(page.status, 400);
      assert.equal(await page.text(), `${expected}\n`);
    } finally {
      live.close();
    }
  });
});
