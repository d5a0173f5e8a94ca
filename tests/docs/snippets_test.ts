/**
 * Every shell snippet of the README tour and of QUICKSTART runs, in order,
 * as a new user would paste it, in a fresh copy of the checkout (so the
 * tasks' `data/` permissions hold and nothing touches the real root); the
 * log they leave must pass `ledger verify` (issue 15.1: QUICKSTART's batch
 * once left a log that verify called NOT SOUND forever).
 *
 * A block preceded by `<!-- doc-test: skip REASON -->` is not run (the
 * reason is printed); `<!-- doc-test: timeout SECONDS -->` runs a block that
 * would run forever (the daemon) and stops it after that long.
 *
 * @module
 */
import { ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../_helpers.ts";

/** The documents whose snippets run, in reading order. */
const DOCS = ["README.md", "docs/QUICKSTART.md"];
/** What a fresh checkout holds that the snippets use (`node_modules` is hard-linked). */
const CHECKOUT_ENTRIES = [
  "deno.json",
  "deno.lock",
  "mod.ts",
  "cli",
  "ledger",
  "indexer",
  "legacy",
  "backtest",
  "scripts",
  "storage",
  "report",
  "vendor",
  "data/sample",
];
/** Longest one snippet may run, in ms, unless its marker says otherwise. */
const SNIPPET_MS_MAX = 120_000;

/** One runnable block of a document. */
interface Snippet {
  doc: string;
  line: number;
  code: string;
  skip?: string;
  timeoutS?: number;
}

/** The ```sh blocks of `text`, with their markers. */
export function snippets(doc: string, text: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```sh") continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== "```"; i++) body.push(lines[i]);
    let marker = "";
    for (let j = start - 1; j >= 0 && j >= start - 3; j--) {
      const m = lines[j].match(/<!-- doc-test: (.*) -->/);
      if (m) marker = m[1];
    }
    const skip = marker.match(/^skip (.+)$/)?.[1];
    const timeout = marker.match(/^timeout (\d+)$/)?.[1];
    out.push({
      doc,
      line: start + 1,
      code: body.join("\n"),
      skip,
      timeoutS: timeout === undefined ? undefined : Number(timeout),
    });
  }
  return out;
}

async function copyCheckout(dest: string): Promise<void> {
  for (const entry of CHECKOUT_ENTRIES) {
    const from = join(REPO_ROOT, entry);
    try {
      await Deno.stat(from);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // a folder this version lacks
      throw err;
    }
    await Deno.mkdir(join(dest, entry, ".."), { recursive: true });
    const cp = await new Deno.Command("cp", { args: ["-R", from, join(dest, entry)] }).output();
    equal(cp.code, 0, new TextDecoder().decode(cp.stderr));
  }
  // Hard links, not a symlink: the tasks' --allow-ffi=node_modules is checked
  // against the real path of DuckDB's addon. Another test's `deno` may create and
  // remove a file there while it is copied (node_modules/.deno/.deno.lock.poll: a
  // CI run failed on "cannot stat" it), so a failed copy is made again from the start.
  const from = join(REPO_ROOT, "node_modules");
  const to = join(dest, "node_modules");
  let stderr = "";
  for (let attempt = 0; attempt < NODE_MODULES_COPY_ATTEMPTS; attempt++) {
    for (const flags of ["-al", "-R"]) {
      await Deno.remove(to, { recursive: true }).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
      const copy = await new Deno.Command("cp", { args: [flags, from, to] }).output();
      if (copy.code === 0) return;
      stderr = new TextDecoder().decode(copy.stderr);
    }
  }
  throw new Error(
    `node_modules could not be copied in ${NODE_MODULES_COPY_ATTEMPTS} tries: ${stderr}`,
  );
}

/** Tries at copying node_modules, each hard links then a plain copy. */
const NODE_MODULES_COPY_ATTEMPTS = 3;

/** Run one snippet with bash in `cwd`, `deno` being this Deno. */
async function runSnippet(snippet: Snippet, cwd: string): Promise<Deno.CommandOutput> {
  const preamble = [
    "set -euo pipefail",
    `deno() { ${JSON.stringify(Deno.execPath())} "$@"; }`,
    "export -f deno",
  ].join("\n");
  const script = snippet.timeoutS === undefined
    ? snippet.code
    // Job control puts the block in its own process group (and keeps SIGINT
    // from being ignored in it), so Ctrl-C reaches the daemon under deno task;
    // stopped by Ctrl-C, a command may exit 0 or 130 (deno task passes it on).
    : `set -m; ( ${snippet.code}\n) & pid=$!; sleep ${snippet.timeoutS}; ` +
      `kill -INT -- -$pid; rc=0; wait $pid || rc=$?; [ $rc -eq 0 ] || [ $rc -eq 130 ]`;
  const child = new Deno.Command("bash", {
    args: ["-c", `${preamble}\n${script}`],
    cwd,
    env: { LEDGER_ROOT: "", DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(SNIPPET_MS_MAX),
  });
  return await child.output();
}

Deno.test("docs: every shell snippet of the README tour and QUICKSTART runs, and verify passes", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-docs-" });
  try {
    await copyCheckout(dir);
    const all: Snippet[] = [];
    for (const doc of DOCS) {
      all.push(...snippets(doc, await Deno.readTextFile(join(REPO_ROOT, doc))));
    }
    ok(all.length >= 8, `found ${all.length} snippets`);
    for (const snippet of all) {
      const name = `${snippet.doc}:${snippet.line}`;
      if (snippet.skip !== undefined) {
        console.log(`ignored: ${name}: ${snippet.skip}`);
        continue;
      }
      await t.step(name, async () => {
        const out = await runSnippet(snippet, dir);
        const d = new TextDecoder();
        equal(
          out.code,
          0,
          `${name}\n${snippet.code}\n${d.decode(out.stdout)}${d.decode(out.stderr)}`,
        );
      });
    }
    await t.step("the log the snippets left passes ledger verify", async () => {
      const out = await runSnippet({ doc: "-", line: 0, code: "deno task -q ledger verify" }, dir);
      const d = new TextDecoder();
      equal(out.code, 0, d.decode(out.stdout) + d.decode(out.stderr));
    });
  } finally {
    await removeWhenQuiet(dir);
  }
});

/** Most tries to remove the checkout while a background refresh may still write into it. */
const REMOVE_TRIES_MAX = 20;
/** Pause between those tries, in milliseconds. */
const REMOVE_PAUSE_MS = 500;

/**
 * Remove `dir`, retrying while it is "not empty": a backtest's background
 * index refresh (a detached `rebuild-index`) may still be writing its
 * staging files into the checkout when the last snippet returns.
 */
async function removeWhenQuiet(dir: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await Deno.remove(dir, { recursive: true });
      return;
    } catch (err) {
      const notEmpty = err instanceof Error && /not empty/i.test(err.message);
      if (!notEmpty || attempt >= REMOVE_TRIES_MAX) throw err;
      await new Promise((resolve) => setTimeout(resolve, REMOVE_PAUSE_MS));
    }
  }
}
