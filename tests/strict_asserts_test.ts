/**
 * In Deno 2.9.6, importing `deepEqual` or `equal` by name from
 * `node:assert/strict` gives the loose functions (`equal(10, "10")` passes), while the default
 * export's methods are strict. A test that imports them by name must take
 * the strict ones under those names, or its checks are weaker than they
 * read: this scans every TypeScript file of the repository for such imports.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";

const REPO_ROOT = new URL("..", import.meta.url).pathname;

/** Named exports of node:assert/strict that are loose in Deno 2.9.6. */
const LOOSE = ["deepEqual", "equal", "notEqual", "notDeepEqual"];
const SKIPPED_DIRS = new Set(["node_modules", "vendor", ".git", "data", ".tmp"]);

async function* typeScriptFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !SKIPPED_DIRS.has(entry.name)) yield* typeScriptFiles(path);
    else if (entry.isFile && entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("no loose assertion is imported by name from node:assert/strict", async () => {
  // Deno itself, checked here so that this test fails if it stops being true (then it can go).
  const { equal } = await import("node:assert/strict");
  assert.doesNotThrow(() => equal(10 as unknown, "10"), "named equal is loose in this Deno");
  const found: string[] = [];
  for await (const path of typeScriptFiles(REPO_ROOT)) {
    const text = await Deno.readTextFile(path);
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"node:assert\/strict"/g)) {
      for (const name of m[1].split(",").map((s) => s.trim()).filter((s) => s !== "")) {
        if (LOOSE.includes(name)) found.push(`${relative(REPO_ROOT, path)}: ${name}`);
      }
    }
  }
  assert.deepEqual(found, []);
});
