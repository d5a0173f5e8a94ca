/**
 * Test helpers shared across suites (the reliability suite, CLI tests):
 * running the `ledger` command line as a real process, reading back what the
 * log and the index hold, a seeded random generator, and detecting commands
 * that are still placeholders. Builds on `tests/ledger/_helpers.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../indexer/duckdb.ts";
import { listParts, readPartFile } from "../ledger/reader.ts";
import {
  type ChildResult,
  CONFIG_PATH,
  DENO_RUN,
  hashTree,
  NODE_MODULES_AS_IS,
  REPO_ROOT,
  withTempDir,
} from "./ledger/_helpers.ts";
import { mulberry32 } from "../backtest/sample_data.ts";

export {
  type ChildResult,
  CONFIG_PATH,
  DENO_RUN,
  hashTree,
  NODE_MODULES_AS_IS,
  REPO_ROOT,
  withTempDir,
};

/** The `ledger` entry point. */
export const CLI_PATH = join(REPO_ROOT, "cli/ledger.ts");

/**
 * Whether the long mode runs (`deno task test:long`, which sets
 * `LEDGER_LONG_TESTS=1`): the scale proofs that take a minute or more each on
 * a 2-core machine (pages longer than a JavaScript string, rebuilds and
 * exports of values near a megabyte at a 128 MB memory limit, 60,000-run
 * listings in a 32 MiB heap). `deno task test` leaves them out to stay under
 * ten minutes.
 */
export const LONG_TESTS: boolean = Deno.env.get("LEDGER_LONG_TESTS") === "1";

/**
 * The `ignore` of a long-mode test: true, with the reason printed once per
 * file, unless {@linkcode LONG_TESTS}. `file` is the test module's
 * `import.meta.url`.
 */
export function longOnly(file: string): boolean {
  if (LONG_TESTS) return false;
  if (!longReasonPrinted.has(file)) {
    longReasonPrinted.add(file);
    console.log(
      `${file.split("/").slice(-2).join("/")}: long-mode tests ignored: ` +
        "they run in `deno task test:long` (LEDGER_LONG_TESTS=1)",
    );
  }
  return true;
}
const longReasonPrinted = new Set<string>();

/** Every permission a ledger command can need (what `deno task test` grants). */
export const TEST_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
];

/**
 * Arguments that run `script` under the repository config with
 * {@linkcode TEST_PERMISSIONS} and `extraPermissions` (a scoped
 * `--allow-net=...`, the one grant a command may need beyond them).
 */
export function denoScriptArgs(
  script: string,
  args: readonly string[] = [],
  extraPermissions: readonly string[] = [],
): string[] {
  return [
    ...DENO_RUN,
    ...TEST_PERMISSIONS,
    ...extraPermissions,
    script,
    ...args,
  ];
}

/**
 * The `--allow-*` flags of a `deno task` in deno.json, with its relative
 * paths (`data`, `node_modules`) made absolute for a run in `dir`.
 */
export async function taskPermissionFlags(task: string, dir: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(CONFIG_PATH));
  const flags = String(config.tasks[task]).split(/\s+/).filter((f) => f.startsWith("--allow-"));
  assert.ok(flags.length > 0, `deno task ${task} grants permissions`);
  return flags.map((flag) => {
    const [name, list] = flag.split("=", 2);
    if (list === undefined) return flag;
    const paths = list.split(",").map((p) =>
      p === "data" ? join(dir, "data") : p === "node_modules" ? join(REPO_ROOT, p) : p
    );
    return `${name}=${paths.join(",")}`;
  });
}

/**
 * The permission flags of `deno task backtest` (deno.json's own), with the
 * write scope on `dir` in place of `data`: what a run may do through the
 * documented entry point, in a test's folder.
 */
export function backtestTaskPermissions(dir: string): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(CONFIG_PATH)).tasks as Record<string, string>;
  const flags = tasks.backtest.split(" ").filter((f) => f.startsWith("--allow-"));
  if (!flags.includes("--allow-write=data")) {
    throw new Error(`deno task backtest no longer writes under data/ only: ${tasks.backtest}`);
  }
  return flags.map((f) => f === "--allow-write=data" ? `--allow-write=${dir}` : f);
}

/** Options for {@linkcode runLedger}. */
export interface RunLedgerOptions {
  /** Bytes or text fed to standard input. @default {undefined} (no input) */
  stdin?: string | Uint8Array;
  /** Extra environment variables. @default {{}} */
  env?: Record<string, string>;
  /** Working directory. @default {REPO_ROOT} */
  cwd?: string;
  /** Kills the child when aborted (a test's bound on a command that might hang). @default {undefined} */
  signal?: AbortSignal;
}

/**
 * Run `ledger ARGS` with V8's old space capped at `heapMib` MiB, its
 * standard output to the file `outPath` (a command that must stream: one
 * that holds its whole answer runs out of heap and exits non-zero).
 */
export async function runLedgerCappedHeap(
  args: readonly string[],
  heapMib: number,
  outPath: string,
): Promise<{ code: number; stderr: string }> {
  const argv = denoScriptArgs(CLI_PATH, args);
  argv.splice(1, 0, `--v8-flags=--max-old-space-size=${heapMib}`); // before the script
  const child = new Deno.Command(Deno.execPath(), {
    args: argv,
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await Deno.open(outPath, { write: true, create: true, truncate: true });
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    child.stdout.pipeTo(out.writable), // closes the file when the output ends
  ]);
  return { code: status.code, stderr };
}

/** Run `ledger ARGS` to completion as a child process. */
export async function runLedger(
  args: readonly string[],
  options: RunLedgerOptions = {},
): Promise<ChildResult> {
  return await runScript(CLI_PATH, args, options);
}

/**
 * The text of every part file of the log under `root` (each day folder's,
 * in directory order; `_schema.json` left out), or "" when it has none.
 */
export async function logText(root: string): Promise<string> {
  let text = "";
  try {
    for await (const day of Deno.readDir(join(root, "events"))) {
      if (!day.isDirectory) continue;
      for await (const part of Deno.readDir(join(root, "events", day.name))) {
        if (part.isFile) text += await Deno.readTextFile(join(root, "events", day.name, part.name));
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return text;
}

/** Run `script ARGS` (a path in the repository) to completion as a child process. */
export async function runScript(
  script: string,
  args: readonly string[],
  options: RunLedgerOptions = {},
): Promise<ChildResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(script, args),
    cwd: options.cwd ?? REPO_ROOT,
    // COLUMNS: the tables fit 80 columns, as into a pipe without COLUMNS (`COLUMNS: ""`) and
    // in a terminal of that width.
    env: { LEDGER_ROOT: "", COLUMNS: "80", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const bytes = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    try {
      await writer.write(bytes);
      await writer.close();
    } catch (err) {
      // The command may exit (refusing its input) before reading all of it.
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    }
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** A seeded pseudo-random generator (mulberry32): `next()` in [0, 1). */
export class SeededRandom {
  #next: () => number;
  /** Start from `seed` (any 32-bit integer). */
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  /** The next number in [0, 1). */
  next(): number {
    return this.#next();
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** What the log holds, checked for the crash invariant. */
export interface LogContents {
  /** Ids of the valid events. */
  ids: Set<string>;
  /** Number of valid event lines. */
  events: number;
  /** Torn tails (files whose last line has no newline). */
  torn: number;
  /** Part files. */
  files: number;
}

/**
 * Read every part file under `root` and assert the crash invariant: only
 * whole valid lines, plus at most one torn tail per part file, as its last
 * record.
 */
export async function readCheckedLog(root: string): Promise<LogContents> {
  const out: LogContents = { ids: new Set(), events: 0, torn: 0, files: 0 };
  for (const part of await listParts(root)) {
    out.files += 1;
    const kinds: string[] = [];
    for await (const record of readPartFile(part.path, { file: part.file })) {
      kinds.push(record.kind);
      if (record.kind === "invalid") {
        assert.fail(`${record.file}:${record.line}: invalid line: ${record.reason}`);
      }
      if (record.kind === "event") {
        out.ids.add(record.event.event_id);
        out.events += 1;
      }
    }
    const torn = kinds.filter((k) => k === "torn").length;
    assert.ok(torn <= 1, `${part.file}: at most one torn tail, found ${torn}`);
    if (torn === 1) assert.equal(kinds.at(-1), "torn", `${part.file}: the torn line is the last`);
    out.torn += torn;
  }
  return out;
}

/** Run `sql` on the index read-only and return plain rows (bigints as numbers). */
export async function queryIndex(
  dbPath: string,
  sql: string,
): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    const rows = (await conn.runAndReadAll(sql)).getRowObjectsJS();
    return rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]),
      )
    );
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

/** The event ids in the index's `events` table. */
export async function indexedIds(dbPath: string): Promise<Set<string>> {
  const rows = await queryIndex(dbPath, "SELECT event_id FROM events");
  return new Set(rows.map((r) => String(r.event_id)));
}

/** The `latest_runs.status` of each run in the index. */
export async function runStatuses(dbPath: string): Promise<Map<string, string>> {
  const rows = await queryIndex(dbPath, "SELECT run_id, status FROM latest_runs");
  return new Map(rows.map((r) => [String(r.run_id), String(r.status)]));
}

/** Collects the lines a child prints on a stream, as they arrive. */
export class LineCollector {
  /** Complete lines so far. */
  readonly lines: string[] = [];
  /** Resolves when the stream ends. */
  readonly done: Promise<void>;
  #rest = "";

  /** Start reading `stream`. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (this.#rest + text).split("\n");
      this.#rest = parts.pop()!;
      this.lines.push(...parts);
    }
  }

  /** Wait until at least `count` lines arrived (or the stream ended, or `timeoutMs` passed). */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    this.done.then(() => (ended = true), () => (ended = true));
    while (this.lines.length < count && !ended && Date.now() < deadline) {
      await delay(5);
    }
  }
}

/** Resolve after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How long {@linkcode eventually} waits, in milliseconds: a disk busy with the whole suite. */
export const EVENTUALLY_MS_MAX = 15_000;

/**
 * Waits until `check` holds, polling every 5 ms, and fails naming `what` if it
 * does not within `timeoutMs`. For a state another task reaches "soon": a fixed
 * sleep is a guess about the machine's load (a CI run found a 50 ms guess short).
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number = EVENTUALLY_MS_MAX,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > until) {
      throw new assert.AssertionError({ message: `${what}: not within ${timeoutMs} ms` });
    }
    await delay(5);
  }
}

/** `ledger emit` arguments of a valid `run.created` of `runId` under `root`, then `extra`. */
export function runCreatedArgs(root: string, runId: string, extra: string[] = []): string[] {
  return [
    "emit",
    "--root",
    root,
    "--event-type",
    "run.created",
    "--run-id",
    runId,
    "--run-type",
    "path_only",
    "--config",
    "{}",
    "--data-fingerprint",
    "fp",
    ...extra,
  ];
}
