/**
 * A bad JSON flag value of `ledger emit` is shown cut in its one-line
 * message, with its length (a probe: a bad `--config` of 100 KB was echoed
 * whole, one stderr line of 100,119 bytes); a short one is shown whole.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("emit: a long bad --config is shown cut, with its length; a short one whole", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const emit = (config: string) =>
      runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.created",
        "--run-id",
        "r1",
        "--run-type",
        "t",
        "--config",
        config,
        "--data-fingerprint",
        "f",
      ]);
    const long = `{"a":"${"x".repeat(100_000)}"}x`; // text after the object
    const cut = await emit(long);
    assert.equal(cut.code, 1, cut.stderr); // an invalid event, as any field of it
    const lines = cut.stderr.trim().split("\n");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].length < 400, `${lines[0].length} characters`);
    assert.match(
      lines[0],
      /--config must be valid JSON, got "\{\\"a\\":\\"x+\.\.\." \(100009 characters\) \(/,
    );
    // Cut by character, not inside an emoji; its length counts characters too.
    const emoji = await emit(`{${"a".repeat(118)}\u{1F600}\u{1F600}\u{1F600} bad`);
    assert.equal(emoji.code, 1, emoji.stderr);
    assert.match(emoji.stderr, /a\u{1F600}\.\.\." \(126 characters\)/u);
    assert.doesNotMatch(emoji.stderr, /\\ud83d/);
    const short = await emit('{"a":1,}x');
    assert.equal(short.code, 1, short.stderr);
    assert.match(short.stderr, /got "\{\\"a\\":1,\}x" \(/);
  });
});
