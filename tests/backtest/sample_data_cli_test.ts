/**
 * `deno task sample-data`'s arguments: `--help` prints its usage and writes
 * nothing, a flag is not a folder (a probe: `--help` wrote the data set into
 * a folder named `--help` of the working directory).
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { denoScriptArgs, withTempDir } from "../_helpers.ts";

const SCRIPT = fileURLToPath(new URL("../../backtest/sample_data.ts", import.meta.url));

async function sampleData(cwd: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(SCRIPT, args),
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("sample-data: --help prints the usage and writes nothing; a flag is refused", async () => {
  await withTempDir(async (dir) => {
    const help = await sampleData(dir, ["--help"]);
    equal(help.code, 0, help.stderr);
    match(help.stdout, /^Usage: deno task sample-data \[DIR\]\n/);
    const flag = await sampleData(dir, ["--out", "x"]);
    equal(flag.code, 2);
    match(flag.stderr, /^sample-data: expected one folder, got \["--out","x"\]\n/);
    deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
  });
});
