/**
 * The library can be imported from another Deno project (issue 14.6): the
 * import map in this repository's deno.json does not apply there, so library
 * code names its npm packages fully (`npm:zod@4.6.7`), at the versions
 * deno.json maps (one home for a version: the test proves the copies agree).
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const REPO = new URL("../", import.meta.url);
/** Library directories: what `mod.ts` can reach (tests, bench and scripts stay in the repo). */
const LIBRARY_DIRS = ["ledger", "indexer", "backtest", "cli"];
/** Static `import`/`export ... from "x"` statements (multi-line too), and `import("x")`. */
const SPECIFIERS = [
  /^(?:import|export)\s+(?:type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s*from\s*"([^"\n]+)"/gm,
  /^import\s*"([^"\n]+)"/gm,
  /\bimport\(\s*"([^"\n]+)"\s*\)/g,
];

async function libraryFiles(): Promise<string[]> {
  const files = ["mod.ts"];
  for (const dir of LIBRARY_DIRS) {
    for await (const entry of Deno.readDir(new URL(dir, REPO))) {
      if (entry.isFile && entry.name.endsWith(".ts")) files.push(`${dir}/${entry.name}`);
    }
  }
  return files.sort();
}

Deno.test("library import: fully qualified specifiers, usable from another project", async (t) => {
  await t.step("library code has no bare specifier, and npm versions match deno.json", async () => {
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO)));
    const mapped = new Set(Object.values(config.imports as Record<string, string>));
    const problems: string[] = [];
    for (const file of await libraryFiles()) {
      const text = await Deno.readTextFile(new URL(file, REPO));
      for (const [, specifier] of SPECIFIERS.flatMap((re) => [...text.matchAll(re)])) {
        if (/^(\.{1,2}\/|node:|https?:|data:)/.test(specifier)) continue;
        if (specifier.startsWith("npm:") && mapped.has(specifier)) continue;
        problems.push(`${file}: ${specifier}`);
      }
    }
    assert.deepEqual(problems, [], "bare or unmapped specifiers (use deno.json's npm: value)");
  });

  await t.step("a project outside the repository imports mod.ts and emits", async () => {
    const project = await Deno.makeTempDir({ prefix: "ledger-consumer-" });
    try {
      await Deno.writeTextFile(join(project, "deno.json"), "{}\n");
      await Deno.writeTextFile(
        join(project, "main.ts"),
        `import { getEventEmitter, readLog } from ${JSON.stringify(new URL("mod.ts", REPO).href)};
const root = Deno.args[0];
const emitter = getEventEmitter({ root });
const id = await emitter.runStarted("ext-1", { host: "h", pid: 1 });
await emitter.close();
const ids = [];
for await (const r of readLog(root)) if (r.kind === "event") ids.push(r.event.event_id);
console.log(JSON.stringify({ id, ids, failed: emitter.stats().failed }));
`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-sys",
          "--allow-ffi",
          "main.ts",
          join(project, "root"),
        ],
        cwd: project,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `the consumer failed: ${stderr}`);
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(result.failed, 0);
      assert.deepEqual(result.ids, [result.id]);
    } finally {
      await Deno.remove(project, { recursive: true });
    }
  });
});

/**
 * Each error class of a module `mod.ts` reaches is one of its exports, so a
 * library user can tell what a call threw with `instanceof` (a probe: 17 were
 * not, `IndexSourceError`, the cause of a refused bucket rebuild, and
 * `QueryUsageError` of `queryMergedRuns` among them).
 */
Deno.test("library import: every error class the library can throw is exported", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: new URL(".", REPO),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const defined: string[] = [];
  for (const { specifier } of graph.modules) {
    if (!specifier.startsWith(REPO.href)) continue;
    const text = await Deno.readTextFile(new URL(specifier));
    const path = specifier.slice(REPO.href.length);
    for (const [, name] of text.matchAll(/^export class (\w+) extends \w*Error\b/gm)) {
      defined.push(`${name} (${path})`);
    }
  }
  assert.ok(defined.length >= 40, `found ${defined.length} error classes`);
  const exported = new Set(Object.keys(await import("../mod.ts")));
  assert.deepEqual(defined.filter((d) => !exported.has(d.split(" ")[0])), []);
});
