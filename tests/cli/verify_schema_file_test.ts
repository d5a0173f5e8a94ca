/**
 * `ledger verify` says when `events/_schema.json` is no JSON Schema document
 * (a probe cut it to 100 bytes, then to 0: verify said "sound", no word),
 * though SPEC 5 keeps it for tools of other languages. A warning line, not a
 * problem: the events are as sound as before.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("verify warns of a _schema.json that is cut, empty or not an object", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    assert.equal((await runLedger(runCreatedArgs(root, "s-1"))).code, 0);
    const path = join(root, "events", "_schema.json");
    const sound = await runLedger(["verify", "--root", root]);
    assert.equal(sound.code, 0, sound.stdout);
    assert.doesNotMatch(sound.stdout + sound.stderr, /_schema\.json/);
    const text = await Deno.readTextFile(path);
    const cases: [string, RegExp][] = [
      [text.slice(0, 100), /events\/_schema\.json is not JSON \(cut or damaged\)/],
      ["", /events\/_schema\.json is not JSON \(empty\)/],
      ["[]", /events\/_schema\.json is JSON but not a schema object/],
    ];
    for (const [content, said] of cases) {
      await Deno.writeTextFile(path, content);
      const r = await runLedger(["verify", "--root", root]);
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout + r.stderr, said);
    }
  });
});
