/**
 * The indexer passes a batch's file paths to DuckDB as JSON text, not as a
 * bound LIST: the DuckDB binding leaks about 60 bytes a value of a bound
 * LIST under Deno, and `ledger daemon` read its changed files that way every
 * pass, without end (measured: the split statement on 500 files, 3,000
 * times, grew the process by 94.8 MiB with a LIST, 26.7 MiB as JSON text;
 * a `read_text` alone, 96.6 against 2.0 MiB: the rest is the statement's
 * temporary table, replaced each time, which a rebuild's connection does
 * not outlive). The same child runs both ways, and the test holds the
 * difference. Long mode (two to five minutes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { denoScriptArgs, longOnly, REPO_ROOT, withTempDir } from "../_helpers.ts";

const CHILD = join(REPO_ROOT, "tests/indexer/_list_param_child.ts");

/** Files of one batch. */
const FILES = 500;
/** Statements between the two measures. */
const STATEMENTS = 1_200;
/**
 * Least difference between the growth with a bound LIST and with JSON
 * text, in bytes: 600,000 values bound at about 60 bytes each leak 34 MiB
 * (measured: 35.6 against 13.1 MiB; 3,000 statements, 94.8 against 26.7).
 */
const LEAK_BYTES_MIN = 12 * 1024 * 1024;

async function grown(mode: "json" | "bound", paths: readonly string[]): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CHILD, [mode, String(STATEMENTS), ...paths], ["--v8-flags=--expose-gc"]),
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const { grown, lines } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(lines, FILES * 2, "each file split into its line and the empty tail");
  console.log(
    `list_param_memory_test: ${STATEMENTS} splits of ${FILES} files (${mode}) grew the process by ` +
      `${(grown / 1048576).toFixed(1)} MiB (resident, V8's heap collected)`,
  );
  return grown;
}

Deno.test({
  name:
    "the indexer's split statement binds no LIST: 1,200 batches of 500 files leak no bytes a path",
  ignore: longOnly(import.meta.url),
  async fn() {
    await withTempDir(async (dir) => {
      const paths: string[] = [];
      for (let i = 0; i < FILES; i++) {
        const path = join(dir, `part, "${i}".jsonl`); // a comma and quotes: JSON text keeps them
        await Deno.writeTextFile(path, `{"i":${i}}\n`);
        paths.push(path);
      }
      const json = await grown("json", paths);
      const bound = await grown("bound", paths);
      assert.ok(bound - json > LEAK_BYTES_MIN, `JSON text grew ${json} bytes, a LIST ${bound}`);
    });
  },
});
