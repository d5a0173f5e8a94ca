/**
 * `deno task bench`'s flags: `--help` prints the usage, a bad flag is one
 * line and exit 2 (an audit: an uncaught TypeError and a stack trace).
 * Nothing here runs a benchmark.
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT, runScript } from "../_helpers.ts";

function bench(args: readonly string[]) {
  return runScript(join(REPO_ROOT, "bench", "main.ts"), args);
}

Deno.test("deno task bench: --help and bad flags answer in one line", async (t) => {
  await t.step("--help prints the flags, exit 0", async () => {
    const r = await bench(["--help"]);
    equal(r.code, 0, r.stderr);
    for (const flag of ["--quick", "--json", "--only", "--dir", "--out"]) {
      ok(r.stdout.includes(flag), r.stdout);
    }
  });
  for (const args of [["--bogus"], ["--only"], ["--only", "99"], ["--only", "0x1"]]) {
    await t.step(args.join(" "), async () => {
      const r = await bench(args);
      equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n");
      equal(lines.length, 1, r.stderr);
      match(lines[0], /^bench: /);
    });
  }
});
