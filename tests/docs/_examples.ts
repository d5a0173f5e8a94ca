/**
 * Internal: find the JSDoc examples of the source tree and turn each into a
 * module that one test process can import, so that `deno task test` runs
 * every example without starting a worker and loading a module graph per
 * example.
 *
 * `deno test --doc` gives each of the 630-odd examples a worker of its own,
 * and each worker loads its imports again: about 0.4 CPU-s an example for
 * DuckDB's bindings alone (measured on the 2-core CI machine: 40 one-line
 * test modules importing `@duckdb/node-api` took 16 CPU-s, 40 empty ones 5
 * CPU-s), some four of the suite's nineteen CPU-minutes. The examples are the
 * same code either way: `deno task test:doc` still runs them the native way,
 * and `deno check --doc` type-checks them in the test task.
 *
 * The rule is Deno's: a fenced block in a JSDoc comment whose language is
 * `ts` runs, unless its fence says `ignore`. Its `import` declarations head
 * the module (relative specifiers resolved against the source file; only
 * the imports before its first statement), the rest is the body of the module's default export, an async function, and
 * `import.meta.url` stands for the source file's URL.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** One runnable example of a source file. */
export interface Example {
  /** Path of the source file, relative to the repository root, `/`-separated. */
  file: string;
  /** 1-based line of the opening fence in the source file. */
  line: number;
  /** The example's code, comment markers removed. */
  code: string;
}

/** Directories whose `.ts` files are not sources with examples. */
const SKIP_DIRS = new Set(["node_modules", "vendor", "dist", "data", "_emit_bundle"]);
/** A fence that opens an example that runs: ```ts, not ```ts ignore. */
const OPENING_FENCE = /^```ts(?:\s+(.*))?$/;

/**
 * Every `.ts` file under `root`, sorted, paths relative to `root`, skipping
 * dependencies, build output, data and hidden directories.
 */
export async function sourceFiles(root: string, dir = "."): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (SKIP_DIRS.has(entry.name) || entry.name.startsWith(".")) continue;
      found.push(...await sourceFiles(root, path));
    } else if (entry.isFile && entry.name.endsWith(".ts")) {
      found.push(path);
    }
  }
  return found.sort();
}

/**
 * The examples of one source file's text, in order. A JSDoc line's leading
 * `*` and the one space after it are not part of the code.
 */
export function examplesOf(file: string, text: string): Example[] {
  const examples: Example[] = [];
  let inComment = false;
  let open: { line: number; code: string[] } | undefined;
  let skipping = false;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (!inComment) {
      if (!raw.trimStart().startsWith("/**")) continue;
      inComment = true;
    }
    const body = raw.replace(/^\s*(?:\/\*\*\s?|\*\/|\* ?)?/, "").replace(/\s*\*\/\s*$/, "");
    const fence = body.trim();
    if (open !== undefined || skipping) {
      if (fence.startsWith("```")) {
        if (open !== undefined) {
          examples.push({ file, line: open.line, code: open.code.join("\n") });
        }
        open = undefined;
        skipping = false;
      } else if (open !== undefined) {
        open.code.push(body);
      }
    } else if (fence.startsWith("```")) {
      const match = OPENING_FENCE.exec(fence);
      const runs = match !== null && !(match[1] ?? "").split(/\s+/).includes("ignore");
      if (runs) open = { line: i + 1, code: [] };
      else skipping = true;
    }
    if (raw.includes("*/")) {
      if (open !== undefined) {
        throw new SyntaxError(
          `Example at ${file}:${open.line} is not closed before its comment ends`,
        );
      }
      inComment = false;
      skipping = false;
    }
  }
  return examples;
}

/** An import declaration's end: its specifier, then an optional `;`. */
const IMPORT_END = /["']([^"']+)["']\s*(?:with\s*\{[^}]*\}\s*)?;?\s*$/;
/** A line that starts a static import declaration (not `import(` or `import.meta`). */
const IMPORT_START = /^import(?:\s|\{|type\s)/;

/**
 * The module text that runs `example`: its imports first, with relative
 * specifiers made absolute against `sourceUrl`, then the rest of its code in
 * `export default async function`.
 */
export function moduleOf(example: Example, sourceUrl: URL): string {
  const imports: string[] = [];
  const body: string[] = [];
  let pending: string[] | undefined;
  // Imports are taken from the example's head only (blank and comment lines
  // may sit between them): a line starting `import` further down may be in a
  // template string, and a real import there fails the example loudly.
  let inHead = true;
  for (const line of example.code.split("\n")) {
    if (pending === undefined && !(inHead && IMPORT_START.test(line))) {
      if (!/^\s*(?:\/\/.*)?$/.test(line)) inHead = false;
      body.push(line.replaceAll("import.meta.url", JSON.stringify(sourceUrl.href)));
      continue;
    }
    pending = [...(pending ?? []), line];
    const text = pending.join("\n");
    const end = IMPORT_END.exec(text);
    if (end === null) continue;
    const specifier = end[1];
    const absolute = specifier.startsWith("./") || specifier.startsWith("../")
      ? new URL(specifier, sourceUrl).href
      : specifier;
    imports.push(
      text.replace(`"${specifier}"`, JSON.stringify(absolute)).replace(
        `'${specifier}'`,
        JSON.stringify(absolute),
      ),
    );
    // Keep the example's line numbers in stack traces: one blank line per import line.
    body.push(...pending.map(() => ""));
    pending = undefined;
  }
  if (pending !== undefined) {
    throw new SyntaxError(
      `Example at ${example.file}:${example.line} has an import that does not end: ${pending[0]}`,
    );
  }
  return `${imports.join("\n")}\nexport default async function example(): Promise<void> {\n${
    body.join("\n")
  }\n}\n`;
}

/**
 * Write one module per example of every source file under `root` (those
 * `files` takes) into `outDir`; returns each example with the `file:` URL of
 * its module.
 */
export async function writeExampleModules(
  root: string,
  outDir: string,
  files: (file: string) => boolean = () => true,
): Promise<{ example: Example; url: URL }[]> {
  const written: { example: Example; url: URL }[] = [];
  for (const file of (await sourceFiles(root)).filter(files)) {
    const text = await Deno.readTextFile(join(root, file));
    const sourceUrl = pathToFileURL(resolve(root, file));
    for (const example of examplesOf(file, text)) {
      const name = `${file.replaceAll("/", "__").replace(/\.ts$/, "")}_${example.line}.ts`;
      const path = join(outDir, name);
      await Deno.writeTextFile(path, moduleOf(example, sourceUrl));
      written.push({ example, url: pathToFileURL(path) });
    }
  }
  return written;
}

/**
 * The source files whose examples `examples_test.ts` runs; `examples_more_test.ts` runs the
 * others. Two test files run in two workers: in one, the 718 examples took 113 s of the suite,
 * one after another.
 */
export function firstHalf(file: string): boolean {
  return /^(backtest|bench|cli|indexer)\//.test(file);
}

/**
 * Every example of the source files `files` takes, each as a step of `t`, run in this process;
 * the examples found are counted again by their fence alone, so a block the parser misses fails.
 * Returns how many ran.
 */
export async function runExampleSteps(
  t: Deno.TestContext,
  root: string,
  files: (file: string) => boolean,
): Promise<number> {
  const outDir = await Deno.makeTempDir({ prefix: "ledger-examples-" });
  try {
    const written = await writeExampleModules(root, outDir, files);
    let fences = 0;
    for (const file of (await sourceFiles(root)).filter(files)) {
      const text = await Deno.readTextFile(join(root, file));
      fences += text.match(/^\s*\* ```ts\s*$/gm)?.length ?? 0;
    }
    if (written.length !== fences) {
      throw new Error(`${written.length} examples written, ${fences} fences found`);
    }
    for (const { example, url } of written) {
      await t.step(`${example.file}:${example.line}`, async () => {
        const module = await import(url.href);
        await module.default();
      });
    }
    return written.length;
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}
