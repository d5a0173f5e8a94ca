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
