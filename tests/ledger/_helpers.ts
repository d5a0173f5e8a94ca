/**
 * Test helpers for the ledger core (private): temporary roots, sample events
 * of every type, a tree hash, and child `deno` processes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { EventInput } from "../../ledger/events.ts";
import type { DurableFile } from "../../ledger/durable_fs.ts";

/** The repository root. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;
/** The repository's deno.json (import map for child processes). */
export const CONFIG_PATH = join(REPO_ROOT, "deno.json");

/**
 * Use `node_modules` as the test run set it up (`--node-modules-dir=manual`):
 * with the config's `auto`, every spawned `deno run` checked it again under
 * its lock, and the suite's parallel processes waited for one another
 * there ("Blocking waiting for file lock on node_modules directory").
 */
export const NODE_MODULES_AS_IS: readonly string[] = ["--node-modules-dir=manual"];

/**
 * The start of every `deno run` a test spawns: quiet, never prompting, under
 * the repository config, with {@linkcode NODE_MODULES_AS_IS}; permissions
 * and the script follow.
 */
export const DENO_RUN: readonly string[] = [
  "run",
  "--quiet",
  "--no-prompt",
  "--config",
  CONFIG_PATH,
  ...NODE_MODULES_AS_IS,
];

/** Run `fn` with a fresh temporary directory that is removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One valid input of every event type for `runId`. */
export function sampleInputs(runId: string): EventInput[] {
  return [
    {
      event_type: "run.created",
      run_id: runId,
      run_type: "path-only",
      config: { interval: "1m", nested: { a: [1, 2] } },
      data_fingerprint: "fp-1",
    },
    { event_type: "run.started", run_id: runId, host: "box", pid: 42 },
    { event_type: "phase.started", run_id: runId, phase_name: "plan", phase_order: 0 },
    {
      event_type: "phase.completed",
      run_id: runId,
      phase_name: "plan",
      duration_ms: 12,
      output_summary: { calls: 3 },
    },
    {
      event_type: "trial.recorded",
      run_id: runId,
      trial_id: "t-1",
      params: { stopPct: 0.1 },
      metrics: { sharpe: 1.5 },
    },
    {
      event_type: "artifact.created",
      run_id: runId,
      artifact_type: "paths",
      artifact_path: "artifacts/runs/x/paths.parquet",
      size_bytes: 1024,
    },
    {
      event_type: "baseline.completed",
      run_id: runId,
      alerts_total: 10,
      alerts_ok: 9,
      artifact_path: "artifacts/runs/x/baseline.parquet",
    },
    {
      event_type: "run.completed",
      run_id: runId,
      summary: { ok: true },
      artifact_paths: { paths: "artifacts/runs/x/paths.parquet" },
    },
    {
      event_type: "run.failed",
      run_id: runId,
      error: { message: "boom", stack: "at x" },
      phase_name: "load",
    },
  ];
}

/** One valid input of each annotation type (SPEC 11) for `runId`; kept apart from
 * {@linkcode sampleInputs}, whose events every indexer test indexes. */
export function annotationInputs(runId: string): EventInput[] {
  return [
    { event_type: "run.tagged", run_id: runId, tags: { label: "best", gone: "" } },
    { event_type: "run.noted", run_id: runId, note: "stop too tight" },
    { event_type: "run.archived", run_id: runId, reason: "superseded" },
    { event_type: "run.restored", run_id: runId },
  ];
}

/** Lines as the earlier Python writer wrote them (no schema_version, `<ms>_<hex>` ids). */
export const PYTHON_LINES = [
  '{"event_type": "run.created", "event_id": "1768867200000_a1b2c3d4", "timestamp_ms": 1768867200000, "run_id": "test-123", "run_type": "baseline", "config": {}, "data_fingerprint": "test-fp"}',
  '{"event_type": "run.started", "event_id": "1768867200001_0badf00d", "timestamp_ms": 1768867200001, "run_id": "test-123"}',
  '{"event_type": "phase.completed", "event_id": "1768867200002_deadbeef", "timestamp_ms": 1768867200002, "run_id": "test-123", "phase_name": "load", "duration_ms": 5, "output_summary": {"rows": 3}, "legacy_extra": "kept"}',
];

/** A stable digest of every path, type and file content under `dir` (empty when missing). */
export async function hashTree(dir: string): Promise<string> {
  const hash = createHash("sha256");
  async function walk(path: string, rel: string): Promise<void> {
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(path)) entries.push(entry);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const childRel = `${rel}/${entry.name}`;
      const child = join(path, entry.name);
      if (entry.isDirectory) {
        hash.update(`d ${childRel}\n`);
        await walk(child, childRel);
      } else {
        hash.update(`f ${childRel}\n`);
        hash.update(await Deno.readFile(child));
      }
    }
  }
  try {
    await walk(dir, "");
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw err;
  }
  return hash.digest("hex");
}

/** Arguments that run `script` with Deno under the repository's config and broad test permissions. */
export function denoRunArgs(script: string, args: string[] = []): string[] {
  return [
    ...DENO_RUN,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    script,
    ...args,
  ];
}

/** The result of a finished child process. */
export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a child `deno` process to completion, optionally feeding `stdin`, in
 * `cwd` (the repository's root unless given).
 */
export async function runDeno(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<ChildResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** `file`'s methods bound to it, to spread into a wrapper that replaces some of them. */
export function boundFile(file: DurableFile): DurableFile {
  return {
    write: (d) => file.write(d),
    read: (b) => file.read(b),
    seek: (o, w) => file.seek(o, w),
    syncData: () => file.syncData(),
    sync: () => file.sync(),
    truncate: (s) => file.truncate(s),
    lock: (e) => file.lock(e),
    tryLock: (e) => file.tryLock(e),
    unlock: () => file.unlock(),
    stat: () => file.stat(),
    close: () => file.close(),
  };
}
