import { strictEqual as equal } from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveRoot, ROOT_DEFAULT, ROOT_ENV_VARIABLE } from "../../ledger/paths.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SOURCE_DIRS = ["cli", "ledger", "indexer", "legacy", "backtest", "storage", "report"];

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return; // a folder a later change may add
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("root rule: one home (ledger/paths.ts resolveRoot)", async (t) => {
  await t.step("flag or option wins, then LEDGER_ROOT, then data/ledger", () => {
    const before = Deno.env.get(ROOT_ENV_VARIABLE);
    try {
      Deno.env.set(ROOT_ENV_VARIABLE, "/from/env");
      equal(resolveRoot("/given"), "/given");
      equal(resolveRoot(), "/from/env");
      Deno.env.set(ROOT_ENV_VARIABLE, "");
      equal(resolveRoot(), ROOT_DEFAULT);
      Deno.env.delete(ROOT_ENV_VARIABLE);
      equal(resolveRoot(), "data/ledger");
    } finally {
      if (before === undefined) Deno.env.delete(ROOT_ENV_VARIABLE);
      else Deno.env.set(ROOT_ENV_VARIABLE, before);
    }
  });

  await t.step("no other module reads LEDGER_ROOT or spells the default root", async () => {
    const copies: string[] = [];
    for (const dir of SOURCE_DIRS) {
      for await (const path of sourceFiles(join(REPO, dir))) {
        const name = relative(REPO, path);
        if (name === join("ledger", "paths.ts")) continue;
        const text = await Deno.readTextFile(path);
        const code = text.split("\n").filter((line) => !/^\s*(\/\*\*|\*|\/\/)/.test(line)).join(
          "\n",
        );
        if (/env\.get\(\s*["']LEDGER_ROOT["']\s*\)/.test(code)) {
          copies.push(`${name}: reads LEDGER_ROOT`);
        }
        if (/=\s*["']data\/ledger["']/.test(code)) copies.push(`${name}: spells data/ledger`);
      }
    }
    equal(copies.join("\n"), "");
  });
});
