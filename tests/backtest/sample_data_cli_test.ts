/**
 * `deno task sample-data`'s arguments: `--help` prints its usage and writes
 * nothing, a flag is not a folder (a probe: `--help` wrote the data set into
 * a folder named `--help` of the working directory).
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript, withTempDir } from "../_helpers.ts";

const SCRIPT = fileURLToPath(new URL("../../backtest/sample_data.ts", import.meta.url));

Deno.test("sample-data: --help prints the usage and writes nothing; a flag is refused", async () => {
  await withTempDir(async (dir) => {
    const help = await runScript(SCRIPT, ["--help"], { cwd: dir });
    equal(help.code, 0, help.stderr);
    match(help.stdout, /^Usage: deno task sample-data \[DIR\]\n/);
    const flag = await runScript(SCRIPT, ["--out", "x"], { cwd: dir });
    equal(flag.code, 2);
    match(flag.stderr, /^sample-data: expected one folder, got \["--out","x"\]\n/);
    deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
  });
});

// A probe: a folder this process may not write, or a file where the folder goes, printed an
// uncaught stack trace.
Deno.test("sample-data: a folder it cannot make is one line, exit 1", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/taken`, "");
    const r = await runScript(SCRIPT, ["taken"], { cwd: dir });
    equal(r.code, 1, r.stderr);
    match(r.stderr, /^sample-data: File exists \(os error 17\): mkdir 'taken'\n$/);
  });
});

const LEGACY_SCRIPT = fileURLToPath(new URL("../../scripts/sample_legacy.ts", import.meta.url));

// A probe: `deno task sample-legacy --help` wrote a legacy DuckDB named `--help`.
Deno.test("sample-legacy: --help prints the usage and writes nothing; a flag is refused", async () => {
  await withTempDir(async (dir) => {
    const help = await runScript(LEGACY_SCRIPT, ["--help"], { cwd: dir });
    equal(help.code, 0, help.stderr);
    match(help.stdout, /^Usage: deno task sample-legacy \[PATH\]\n/);
    for (const args of [["--out", "x"], ["a.duckdb", "b.duckdb"]]) {
      const refused = await runScript(LEGACY_SCRIPT, args, { cwd: dir });
      equal(refused.code, 2);
      match(refused.stderr, /^sample-legacy: expected one path, got \[/);
    }
    deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
  });
});
