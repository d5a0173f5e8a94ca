/**
 * Audit (long lines): `ledger report` of 230 runs with 100-900 KB configs
 * failed with "Invalid string length": the page, 620 MB, was built as one
 * string, past the longest V8 makes (2^29 - 24 characters). The page is now
 * written piece by piece. Deeply nested configs make the same size from a
 * 9 MB log: pretty-printed, each innermost `0,` gets a line of its own
 * indented about 120 spaces.
 *
 * @module
 */
import assert from "node:assert";
import { join } from "node:path";
import { longOnly, runLedger, withTempDir } from "../_helpers.ts";

/** Runs in the log: enough that the page passes `STRING_CHARS_MAX`. */
const RUNS = 10;
/** Arrays nested inside each config (the event object is level 1, its config 2; 64 at most). */
const NESTING = 62;
/** Zeros in each innermost array: a line of about 1 MB, under LINE_BYTES_MAX. */
const ZEROS = 500_000;
/** V8's longest string, in UTF-16 code units. */
const STRING_CHARS_MAX = 2 ** 29 - 24;

Deno.test({
  name: "report writes a page longer than a JavaScript string",
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    let nested = `[${new Array(ZEROS).fill("0").join(",")}]`;
    for (let level = 1; level < NESTING; level++) nested = `[${nested}]`;
    const lines: string[] = [];
    for (let n = 0; n < RUNS; n++) {
      const head = JSON.stringify({
        event_type: "run.created",
        event_id: `e${n}`,
        timestamp_ms: 1 + n,
        run_id: `deep-${n}`,
        schema_version: 1,
        run_type: "policy",
        data_fingerprint: "fp",
      });
      lines.push(`${head.slice(0, -1)},"config":{"deep":${nested}}}`);
    }
    const dir = join(root, "events", "day=1970-01-01");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-deep-000001.jsonl"), lines.join("\n") + "\n");
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const out = join(root, "report.html");
    const written = await runLedger(["report", "--root", root, "--out", out]);
    assert.equal(written.code, 0, written.stderr);
    const { size } = await Deno.stat(out);
    assert.ok(size > STRING_CHARS_MAX, `${size} bytes`);
    using file = await Deno.open(out);
    await file.seek(-16, Deno.SeekMode.End);
    const tail = new Uint8Array(16);
    assert.equal(await file.read(tail), 16);
    assert.match(new TextDecoder().decode(tail), /<\/body><\/html>\n$/);
  });
});
