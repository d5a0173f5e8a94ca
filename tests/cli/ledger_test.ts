import { equal as assertEquals, match as assertMatch } from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

async function ledger(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      CLI,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("ledger --version prints the version from deno.json", async () => {
  const r = await ledger(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(r.stdout.trim(), `ledger ${denoJson.version}`);
});

Deno.test("ledger with an unknown command exits 2 and names it", async () => {
  const r = await ledger(["frobnicate"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /unknown command "frobnicate"/);
});

Deno.test("ledger without a command exits 2 with one line on stderr naming the commands", async () => {
  for (const args of [[], ["--root", "/tmp/x"], ["--root=/tmp/x"]]) {
    const r = await ledger(args);
    assertEquals(r.code, 2);
    assertEquals(r.stdout, "");
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assertMatch(
      r.stderr,
      /^ledger: missing command \(emit, .*rebuild-index.*\); see ledger --help/,
    );
  }
});
