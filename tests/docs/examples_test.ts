/**
 * Every JSDoc example of the source tree runs, each as a step of one test
 * in this one process (see `_examples.ts` for why not `deno test --doc`,
 * which `deno task test:doc` still runs): those of `backtest/`, `bench/`,
 * `cli/` and `indexer/` here, the others in `examples_more_test.ts`.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert/strict";
import { REPO_ROOT } from "../_helpers.ts";
import { examplesOf, firstHalf, moduleOf, runExampleSteps } from "./_examples.ts";

Deno.test("examples: a ts block in a JSDoc comment is an example, unless ignored", () => {
  const text = [
    "/**",
    " * Adds.",
    " *",
    " * ```ts",
    ' * import assert from "node:assert";',
    " * import {",
    " *   add,",
    ' * } from "./add.ts";',
    " * assert.equal(add(1, 2), 3);",
    " *   // indented",
    " * ```",
    " * ```ts ignore",
    ' * throw new Error("not run");',
    " * ```",
    " * ```sh",
    " * ledger runs",
    " * ```",
    " */",
    "// ```ts",
    "// not in JSDoc",
    "// ```",
    "export function add(a: number, b: number): number { return a + b; }",
  ].join("\n");
  const found = examplesOf("lib/add.ts", text);
  deepEqual(found.map((e) => e.line), [4]);
  equal(found[0].code.split("\n").at(-1), "  // indented");
  const module = moduleOf(found[0], new URL("file:///repo/lib/add.ts"));
  ok(
    module.startsWith(
      'import assert from "node:assert";\nimport {\n  add,\n} from "file:///repo/lib/add.ts";\n',
    ),
    module,
  );
  ok(module.includes("export default async function example(): Promise<void> {"), module);
  // The call keeps its line in the body: after one blank line per import line.
  equal(
    module.split("export default async function example(): Promise<void> {\n")[1].split("\n")[4],
    "assert.equal(add(1, 2), 3);",
  );
});

Deno.test("examples: import.meta.url is the source file's, an open import is an error", () => {
  const module = moduleOf(
    { file: "a/b.ts", line: 3, code: 'const u = new URL("./c.ts", import.meta.url);' },
    new URL("file:///repo/a/b.ts"),
  );
  ok(module.includes('new URL("./c.ts", "file:///repo/a/b.ts")'), module);
  // A line starting `import` after the first statement stays where it is (here in a template).
  const child = moduleOf(
    { file: "a/b.ts", line: 3, code: 'const code = `\nimport { x } from "./c.ts";\n`;' },
    new URL("file:///repo/a/b.ts"),
  );
  ok(child.includes('{\nconst code = `\nimport { x } from "./c.ts";\n`;\n}'), child);
  let message = "";
  try {
    moduleOf({ file: "a/b.ts", line: 3, code: "import {\n  x,\n" }, new URL("file:///repo/a/b.ts"));
  } catch (error) {
    ok(error instanceof SyntaxError);
    message = error.message;
  }
  equal(message, "Example at a/b.ts:3 has an import that does not end: import {");
});

Deno.test("examples: every JSDoc example of backtest/, bench/, cli/ and indexer/ runs", async (t) => {
  const ran = await runExampleSteps(t, REPO_ROOT, firstHalf);
  ok(ran > 250, `only ${ran} examples found`);
});
