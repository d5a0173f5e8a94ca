/**
 * Run artifacts: run ids, the run directory `<root>/artifacts/runs/<run_id>/`,
 * its `manifest.json` (config, inputs, fingerprint, git provenance, outputs),
 * input fingerprints, and Parquet outputs written by DuckDB.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DuckDBConnection } from "../indexer/duckdb.ts";
import { runDir } from "../ledger/paths.ts";
import {
  assertRegularFileOrAbsent,
  ensureDirDurable,
  NotRegularFileError,
  rename,
  statOfOpen,
  syncDir,
  syncFile,
} from "../ledger/durable_fs.ts";
import { InputError } from "./errors.ts";
import { randomHex, RUN_ID_PATTERN } from "../ledger/ids.ts";
import { type ColumnSpec, type Row, writeParquet } from "./_parquet.ts";
import { MANIFEST_FILE } from "./run_files.ts";

export { MANIFEST_FILE };

export type { ColumnSpec, Row } from "./_parquet.ts";

/**
 * Version of the manifest layout.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MANIFEST_VERSION } from "./artifacts.ts";
 * import { runPathOnly } from "./path_only.ts";
 * import { readManifest } from "./rerun.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   // Every manifest a run writes says which layout it has.
 *   assert.equal((await readManifest(root, r.runId)).manifest_version, MANIFEST_VERSION);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const MANIFEST_VERSION = 1;
/** Most time git may take to answer one provenance question, ms. */
const GIT_TIMEOUT_MS = 5_000;
/** Bytes read at a time when hashing an input file. */
const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * A new run id: `<prefix>-<yyyymmddThhmmss>-<6 hex>` (UTC), e.g.
 * `path_only-20260123T101500-a1b2c3`; safe as a path segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { newRunId } from "./artifacts.ts";
 * assert.match(newRunId("policy"), /^policy-\d{8}T\d{6}-[0-9a-f]{6}$/);
 * ```
 */
export function newRunId(prefix: string, nowMs: number = Date.now()): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").slice(0, 15);
  const id = `${prefix}-${stamp}-${randomHex(3)}`;
  if (!RUN_ID_PATTERN.test(id)) {
    throw new RangeError(`Run id ${id} does not match ${RUN_ID_PATTERN}`);
  }
  return id;
}

/**
 * Git provenance of the working directory; `null` fields outside a checkout.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type GitProvenance, gitProvenance } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir(); // not a git checkout
 * try {
 *   const git: GitProvenance = await gitProvenance({ cwd: dir });
 *   // Every field may be null (unknown): check before use.
 *   const label = git.commit === null
 *     ? "unknown commit"
 *     : `${git.commit.slice(0, 7)}${git.dirty === false ? "" : " (maybe modified)"}`;
 *   assert.equal(label, "unknown commit");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface GitProvenance {
  /** HEAD commit sha, or null. */
  commit: string | null;
  /** Current branch (null when detached or unknown). */
  branch: string | null;
  /** Whether tracked or untracked files differ from HEAD, or null when unknown. */
  dirty: boolean | null;
}

/**
 * Options for {@linkcode gitProvenance}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { gitProvenance, type GitProvenanceOptions } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Ask about `dir`, not the process's working directory: outside a checkout, all null.
 *   const options: GitProvenanceOptions = { cwd: dir };
 *   assert.deepEqual(await gitProvenance(options), { commit: null, branch: null, dirty: null });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface GitProvenanceOptions {
  /** Directory to ask git about. @default {Deno.cwd()} */
  cwd?: string;
  /**
   * A folder whose files do not make the tree dirty: the ledger root, which
   * a run writes into before its provenance is taken (`--root data/x` in a
   * checkout is untracked). Ignored when it is outside the checkout.
   * @default {undefined}
   */
  excludeDir?: string;
}

/**
 * Ask git for the commit, branch and dirty flag of `cwd`. Never throws:
 * without git, without permission to run it, or outside a checkout, the
 * fields are `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { gitProvenance } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir(); // not a git checkout
 * try {
 *   const git = await gitProvenance({ cwd: dir });
 *   assert(git.commit === null && git.branch === null && git.dirty === null);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function gitProvenance(options: GitProvenanceOptions = {}): Promise<GitProvenance> {
  // One call for the checkout's top level (for the dirty check's exclusion) and the commit.
  const parsed = await git(["rev-parse", "--show-toplevel", "HEAD"], options.cwd);
  if (parsed === null) return { commit: null, branch: null, dirty: null };
  const [top, commit] = parsed.trim().split("\n");
  const branch = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], options.cwd);
  const status = await git(
    [
      "status",
      "--porcelain",
      "--untracked-files=normal",
      "--",
      ...await statusPathspecs(options, top),
    ],
    options.cwd,
  );
  return {
    commit: commit.trim(),
    branch: branch === null || branch.trim() === "" ? null : branch.trim(),
    dirty: status === null ? null : status.trim() !== "",
  };
}

/**
 * The git provenance a run records (SPEC 9: the code that produced it):
 * of `gitCwd` when given, else of the checkout the ledger code runs from,
 * else (a compiled binary, ledger imported from a URL: no checkout) of the
 * working directory. A probe: a source run started from another folder
 * recorded that folder's repository, or no commit at all. `excludeDir` as
 * in {@linkcode GitProvenanceOptions}, resolved against the working
 * directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runGitProvenance } from "./artifacts.ts";
 * const elsewhere = await Deno.makeTempDir(); // not a checkout
 * try {
 *   assert.equal((await runGitProvenance({ gitCwd: elsewhere })).commit, null);
 * } finally {
 *   await Deno.remove(elsewhere, { recursive: true });
 * }
 * ```
 */
export async function runGitProvenance(
  options: { gitCwd?: string; excludeDir?: string } = {},
): Promise<GitProvenance> {
  const excludeDir = options.excludeDir === undefined ? undefined : resolve(options.excludeDir);
  if (options.gitCwd !== undefined) return await gitProvenance({ cwd: options.gitCwd, excludeDir });
  const code = new URL("..", import.meta.url);
  if (code.protocol === "file:") {
    const found = await gitProvenance({ cwd: fileURLToPath(code), excludeDir });
    if (found.commit !== null) return found;
  }
  return await gitProvenance({ excludeDir });
}

/**
 * The pathspecs of the dirty check: the whole tree, less `excludeDir` when it
 * is inside the checkout whose top level is `top` (an exclusion outside it
 * would fail the command).
 */
async function statusPathspecs(options: GitProvenanceOptions, top: string): Promise<string[]> {
  const whole = [":(top)"];
  if (options.excludeDir === undefined || top === "") return whole;
  let dir = resolve(options.cwd ?? Deno.cwd(), options.excludeDir);
  try {
    dir = await Deno.realPath(dir); // git names the top level with links resolved
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const inside = relative(top, dir);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) return whole;
  return [...whole, `:(top,exclude,literal)${inside}`];
}

/** Run git; its stdout on success, null on any failure (no git, no permission, not a repo). */
async function git(args: string[], cwd?: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", {
      args,
      cwd,
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(GIT_TIMEOUT_MS),
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch (err) {
    // Provenance is best effort: a missing git or --allow-run gives nulls, not a crash.
    if (
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotCapable ||
      err instanceof Deno.errors.PermissionDenied || (err as Error).name === "AbortError" ||
      (err as Error).name === "TimeoutError"
    ) {
      return null;
    }
    throw err;
  }
}

/**
 * One hashed input file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fingerprintInputs, type InputFile } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/calls.csv`, "call_id\n");
 *   const calls: InputFile = (await fingerprintInputs({ calls: `${dir}/calls.csv` })).files.calls;
 *   assert.equal(calls.path, `${dir}/calls.csv`);
 *   assert.equal(calls.size_bytes, 8);
 *   // The same as `sha256sum calls.csv`.
 *   assert.equal(calls.sha256, "4c587d0a731789ba6728ac309fb3712c0767772a929815b5be5eae1bee3702b4");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface InputFile {
  /** Path as given. */
  path: string;
  /** sha256 of the content, hex. */
  sha256: string;
  /** Size in bytes. */
  size_bytes: number;
}

/**
 * Hash the input files (sha256 of each file's content) and combine them into
 * one `data_fingerprint`: the sha256 of `"<name>:<file sha256>\n"` lines in
 * the order given. Throws `Deno.errors.NotFound` for a missing file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fingerprintInputs } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/calls.csv`, "call_id\n");
 *   const fp = await fingerprintInputs({ calls: `${dir}/calls.csv` });
 *   assert(/^[0-9a-f]{64}$/.test(fp.fingerprint) && fp.files.calls.sha256 !== fp.fingerprint);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function fingerprintInputs(
  inputs: Record<string, string>,
): Promise<
  {
    fingerprint: string;
    files: Record<string, InputFile>;
    identities: Record<string, FileIdentity>;
  }
> {
  const files: Record<string, InputFile> = {};
  const identities: Record<string, FileIdentity> = {};
  const combined = createHash("sha256");
  for (const [name, path] of Object.entries(inputs)) {
    const what = inputFileLabel(name);
    try {
      // Before the open: opening a FIFO for reading waits for a writer, for ever.
      await assertRegularFileOrAbsent(path);
    } catch (err) {
      if (!(err instanceof NotRegularFileError)) throw err;
      throw new InputError(`${what} ${path} is ${err.kind}: name a CSV, JSONL or Parquet file`);
    }
    using file = await Deno.open(path, { read: true });
    const { identity, sha256, size_bytes } = await hashSteadily(file, path, what);
    files[name] = { path, sha256, size_bytes };
    identities[name] = identity;
    combined.update(`${name}:${sha256}\n`);
  }
  return { fingerprint: combined.digest("hex"), files, identities };
}

/**
 * How many times {@linkcode hashSteadily} reads a file whose inode changed
 * under it (its change time alone) before it gives up: each read after the
 * first is compared with the one before.
 */
export const HASH_READS_MAX = 4;

/**
 * The sha256 and size of the open `file` (at `path`, named `what` in a
 * message), with its identity from before the read. Throws
 * {@linkcode InputError} when it was written to, resized or replaced while
 * it was read. A change of its inode's change time alone (another run
 * linking the file to read it, a chmod) reads it again, and two reads in a
 * row of the same bytes are its hash (a CI run: two backtests on one
 * candles file, the other one's hard link made this one fail "changed while
 * it was hashed").
 */
async function hashSteadily(
  file: Deno.FsFile,
  path: string,
  what: string,
): Promise<{ identity: FileIdentity; sha256: string; size_bytes: number }> {
  const first = identityOf(await statOfOpen(file, path));
  let identity = first;
  let previous: string | null = null;
  for (let read = 1; read <= HASH_READS_MAX; read++) {
    if (read > 1) await file.seek(0, Deno.SeekMode.Start);
    const { sha256, size_bytes } = await hashOpenFile(file);
    const now = identityOf(await statOfOpen(file, path));
    // A write, a resize or another file since the first read began: never its hash.
    const change = identityChange(first, { ...now, ctimeMs: first.ctimeMs });
    if (change !== null) {
      throw new InputError(
        `${what} ${path} changed while it was hashed (${change}): run again once it is written`,
      );
    }
    if (now.ctimeMs === identity.ctimeMs || sha256 === previous) {
      return { identity: now, sha256, size_bytes };
    }
    previous = sha256;
    identity = now;
  }
  throw new InputError(
    `${what} ${path} changed while it was hashed (its inode changed through each of ` +
      `${HASH_READS_MAX} reads, and no two gave the same bytes): run again once it is written`,
  );
}

/**
 * How a message names the input `name`: `calls` is "Calls file".
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { inputFileLabel } from "./artifacts.ts";
 * assert.equal(inputFileLabel("candles"), "Candles file");
 * ```
 */
export function inputFileLabel(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)} file`;
}

/**
 * What tells one version of a file from another without reading it: the file
 * (device and inode) and its size, modification and change times (the change
 * time in whole seconds, as Deno gives it). A run keeps its inputs' from
 * when it hashed them, to say how a file changed ({@linkcode identityChange});
 * whether it changed, its bytes say (hashed again once the run read them).
 */
export interface FileIdentity {
  /** Device of the file. */
  dev: number;
  /** Inode of the file. */
  ino: number | null;
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number | null;
  /** Last change of the inode (a write, a rename), ms since the epoch. */
  ctimeMs: number | null;
}

/**
 * The {@linkcode FileIdentity} of `info`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { identityOf } from "./artifacts.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "abc");
 *   assert.equal(identityOf(await Deno.stat(path)).size, 3);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function identityOf(info: Deno.FileInfo): FileIdentity {
  return {
    dev: info.dev,
    ino: info.ino,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? null,
    ctimeMs: info.ctime?.getTime() ?? null,
  };
}

/**
 * How `now` differs from `then`, in words, or null when it does not: another
 * file at the path first, then the size, then a write.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { identityChange } from "./artifacts.ts";
 * const then = { dev: 1, ino: 7, size: 10, mtimeMs: 5, ctimeMs: 5 };
 * assert.equal(identityChange(then, { ...then }), null);
 * assert.equal(identityChange(then, { ...then, size: 4 }), "its size went from 10 to 4 bytes");
 * assert.equal(identityChange(then, { ...then, ino: 8 }), "another file is at its path now");
 * ```
 */
export function identityChange(then: FileIdentity, now: FileIdentity): string | null {
  if (then.dev !== now.dev || then.ino !== now.ino) return "another file is at its path now";
  if (then.size !== now.size) return `its size went from ${then.size} to ${now.size} bytes`;
  if (then.mtimeMs !== now.mtimeMs || then.ctimeMs !== now.ctimeMs) return "it was written to";
  return null;
}

/**
 * The sha256 (hex) and size of the file `path`, read in chunks of
 * `HASH_CHUNK_BYTES`. Throws `NotRegularFileError` for a FIFO, a device or
 * a directory, `Deno.errors.NotFound` when there is no such file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { hashFile } from "./artifacts.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "abc");
 *   assert.deepEqual(await hashFile(path), {
 *     sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 *     size_bytes: 3,
 *   });
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function hashFile(path: string): Promise<{ sha256: string; size_bytes: number }> {
  // Before the open: opening a FIFO for reading waits for a writer, for ever.
  await assertRegularFileOrAbsent(path);
  using file = await Deno.open(path, { read: true });
  return await hashOpenFile(file);
}

/** The sha256 (hex) and size of what `file` reads from its offset on. */
async function hashOpenFile(file: Deno.FsFile): Promise<{ sha256: string; size_bytes: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const buf = new Uint8Array(HASH_CHUNK_BYTES);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    hash.update(buf.subarray(0, n));
    size += n;
  }
  return { sha256: hash.digest("hex"), size_bytes: size };
}

/** The part of a run's data its files do not say: which of their rows it reads. */
export interface DataSelection {
  /** `--from`, ISO, or null for the start of the data. */
  from: string | null;
  /** `--to`, ISO, or null for the end of the data. */
  to: string | null;
  /** `--interval` (candles resampled to it), or null for the file's own. */
  interval: string | null;
  /**
   * `--max-entry-delay`, ms: the calls whose entry opens later are left out,
   * as a window leaves them out. Absent or undefined for no bound.
   */
  max_entry_delay_ms?: number;
}

/**
 * A run's `data_fingerprint`: the files' fingerprint
 * ({@linkcode fingerprintInputs}) when it reads them whole at their own
 * interval, else the sha256 of that fingerprint and the selection. Two runs
 * of one calls file, one on 320 calls and one on the 10 of its `--to`
 * window, were compared as `same_data` (a probe). A window or interval
 * written differently for the same rows (`--interval 1m` on 1m candles)
 * gives another fingerprint: said to be other data, never the reverse. A
 * `--max-entry-delay` bound is part of the selection for the same reason: two
 * runs of one file, one leaving out the calls entered late, read other calls
 * (a probe found them compared as `same_data`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dataFingerprint } from "./artifacts.ts";
 * const whole = { from: null, to: null, interval: null };
 * assert.equal(dataFingerprint("ab12", whole), "ab12");
 * const window = { ...whole, to: "2026-01-05T12:00:00.000Z" };
 * assert.notEqual(dataFingerprint("ab12", window), "ab12");
 * assert.notEqual(dataFingerprint("ab12", window), dataFingerprint("ab12", { ...whole, interval: "5m" }));
 * const late = { ...whole, max_entry_delay_ms: 300_000 };
 * assert.notEqual(dataFingerprint("ab12", late), "ab12");
 * assert.notEqual(dataFingerprint("ab12", late), dataFingerprint("ab12", { ...late, max_entry_delay_ms: 60_000 }));
 * ```
 */
export function dataFingerprint(filesFingerprint: string, selection: DataSelection): string {
  const delay = selection.max_entry_delay_ms;
  if (
    selection.from === null && selection.to === null && selection.interval === null &&
    delay === undefined
  ) {
    return filesFingerprint; // as every run before selections counted
  }
  const { from, to, interval } = selection;
  // The bound joins the hashed text only when given: a window's fingerprint
  // stays what runs recorded before the bound counted.
  const hashed = delay === undefined
    ? { from, to, interval }
    : { from, to, interval, max_entry_delay_ms: delay };
  return createHash("sha256")
    .update(`${filesFingerprint}\nselection:${JSON.stringify(hashed)}\n`)
    .digest("hex");
}

/** Infix of the temporary files a run directory writes aside: `<name>.tmp-<8 hex>`. */
export const TEMP_INFIX = ".tmp-";

/** A manifest written aside, waiting for the log ({@linkcode RunDirectory.stageManifest}). */
export interface StagedManifest {
  /** Its final path, `<run dir>/manifest.json`. */
  path: string;
  /** The temporary file holding it. */
  tmp: string;
  /** Its size, bytes. */
  sizeBytes: number;
}

/**
 * The content of `manifest.json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { Manifest } from "./artifacts.ts";
 * import { runPathOnly } from "./path_only.ts";
 * import { readManifest } from "./rerun.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const r = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   const m: Manifest = await readManifest(root, r.runId);
 *   assert.deepEqual([m.run_id, m.run_type, m.status], [r.runId, "path_only", "completed"]);
 *   assert.equal(m.outputs.path_metrics.file, "path_metrics.parquet"); // relative to the run dir
 *   assert.equal(m.inputs.calls.sha256.length, 64);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface Manifest {
  /** Layout version. */
  manifest_version: number;
  /** The run id. */
  run_id: string;
  /** `path_only`, `policy` or `sweep`. */
  run_type: string;
  /** `completed` or `failed`. */
  status: "completed" | "failed";
  /** ISO time the run was created. */
  created_at: string;
  /** ISO time the manifest was written. */
  finished_at: string;
  /** The full config of the run. */
  config: Record<string, unknown>;
  /** Input files with their hashes. */
  inputs: Record<string, InputFile>;
  /** Combined fingerprint of the inputs. */
  data_fingerprint: string;
  /** Git provenance. */
  git: GitProvenance;
  /**
   * Output files by artifact name: path relative to the run directory, size
   * and sha256 as written (runs before 0.8 have no sha256), so that `ledger
   * rerun` compares with what the run wrote, not with a file changed since.
   */
  outputs: Record<string, { file: string; size_bytes: number; sha256?: string }>;
  /** The run summary (completed runs). */
  summary: Record<string, unknown> | null;
  /** The error (failed runs). */
  error: { message: string; phase_name: string | null } | null;
}

/**
 * A run directory: where a run's files go.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RunDirectory } from "./artifacts.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const dir = await RunDirectory.create(root, "policy-20260101T000000-abcdef");
 *   assert(dir.path === `${root}/artifacts/runs/policy-20260101T000000-abcdef`);
 *   assert(dir.file("policy_results.parquet") === `${dir.path}/policy_results.parquet`);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class RunDirectory {
  /** The directory, `<root>/artifacts/runs/<run_id>`. */
  readonly path: string;
  /** The run id. */
  readonly runId: string;
  /**
   * Temporary files written aside and not yet renamed or removed by their
   * writer. An interrupt's removal keeps them listed: a DuckDB write in
   * flight makes its file again after it (a probe found them left behind).
   */
  #temps = new Set<string>();
  /** Parquet writes in flight: each settles once its file is in place or dropped. */
  #writes = new Set<Promise<unknown>>();
  /** Files put in place that the run has not recorded as artifacts yet. */
  #unrecorded = new Set<string>();
  /** The run was interrupted: no write puts a file in place from here. */
  #interrupted = false;

  private constructor(path: string, runId: string) {
    this.path = path;
    this.runId = runId;
  }

  /**
   * Create (if needed) the run directory of `runId` under `root`. Its path
   * is absolute, and so are the artifact paths the run records: under a
   * relative root (the default `data/ledger`) they were relative to the
   * writer's working directory, which no other reader knows (a probe).
   */
  static async create(root: string, runId: string): Promise<RunDirectory> {
    const path = resolve(runDir(root, runId));
    await ensureDirDurable(path);
    return new RunDirectory(path, runId);
  }

  /**
   * Create the run directory of `runId` under `root` only if it does not
   * exist yet; `null` when it does (another run has the id). The `mkdir`
   * is atomic, so of two processes claiming one id only one gets it.
   */
  static async claim(root: string, runId: string): Promise<RunDirectory | null> {
    const path = resolve(runDir(root, runId)); // absolute, as create's
    await ensureDirDurable(dirname(path));
    try {
      await Deno.mkdir(path);
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) return null;
      throw err;
    }
    // The claim's entry is durable from here: without this a power cut could drop the whole
    // directory, manifest and Parquet, of a run the log says completed (an audit).
    await syncDir(dirname(path));
    return new RunDirectory(path, runId);
  }

  /** Path of `name` inside the directory. */
  file(name: string): string {
    return `${this.path}/${name}`;
  }

  /**
   * Write rows to the Parquet file `name` through DuckDB's
   * `COPY ... (FORMAT parquet)`, aside first: DuckDB writes a temporary
   * file, which is synced and renamed to `name` (then the directory is
   * synced), so `name` is never a partial file. Returns its path, rows and
   * size.
   */
  async writeParquet(
    conn: DuckDBConnection,
    name: string,
    options: { columns: readonly ColumnSpec[]; rows: Iterable<Row> },
  ): Promise<{ path: string; rows: number; sizeBytes: number }> {
    const path = this.file(name);
    const tmp = this.#tempPath(path);
    const write = (async () => {
      try {
        const rows = await writeParquet(conn, tmp, options);
        await syncFile(tmp);
        const sizeBytes = (await Deno.stat(tmp)).size;
        // Interrupted (see interrupt): the file is dropped, not put in place (a probe: a sweep's
        // trials.parquet landed beside run.failed, recorded nowhere).
        if (this.#interrupted) return undefined;
        this.#unrecorded.add(path); // listed before it is there: an interrupt removes it
        await rename(tmp, path);
        await syncDir(this.path); // the file is durable under its name from here
        return { path, rows, sizeBytes };
      } catch (err) {
        if (this.#interrupted) return undefined; // its file removed under it by the interrupt
        throw err;
      } finally {
        await this.#dropTemp(tmp);
      }
    })();
    this.#writes.add(write);
    let written;
    try {
      written = await write;
    } finally {
      this.#writes.delete(write);
    }
    // Interrupted: the handler records the run's end and exits; this write goes no further.
    if (written === undefined) return await new Promise<never>(() => {});
    return written;
  }

  /**
   * The run is interrupted: from now on no Parquet write puts its file in
   * place, and {@linkcode RunDirectory.removeTempFilesSync} also removes the
   * files put in place and not yet recorded ({@linkcode RunDirectory.recorded}).
   */
  interrupt(): void {
    this.#interrupted = true;
  }

  /** The run recorded `path` as an artifact: an interrupt leaves it. */
  recorded(path: string): void {
    this.#unrecorded.delete(path);
  }

  /**
   * Wait until every Parquet write in flight has put its file in place or
   * dropped it, for at most `timeoutMs` (a DuckDB write cannot be stopped).
   */
  async settleWrites(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#writes]),
      new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
  }

  /**
   * Write `manifest.json` aside (a synced temporary file) without putting
   * it in place: {@linkcode RunDirectory.commitManifest} renames it once the
   * log has the run's last event, so the manifest never says more than the
   * log. Returns the final path and size.
   */
  async stageManifest(manifest: Manifest): Promise<StagedManifest> {
    const path = this.file(MANIFEST_FILE);
    const tmp = this.#tempPath(path);
    const data = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
    try {
      await Deno.writeFile(tmp, data);
      await syncFile(tmp);
    } catch (err) {
      // A full disk leaves a partial (often empty) file: it is nobody's manifest.
      await this.#dropTempAfter(tmp, err);
      throw err;
    }
    return { path, tmp, sizeBytes: data.length };
  }

  /** Put a staged manifest in place (rename, then sync the directory). */
  async commitManifest(staged: StagedManifest): Promise<void> {
    try {
      await rename(staged.tmp, staged.path);
    } catch (err) {
      await this.#dropTempAfter(staged.tmp, err);
      throw err;
    }
    this.#temps.delete(staged.tmp);
    await syncDir(this.path); // the manifest is durable from here
  }

  /** Drop a staged manifest that will not be committed. */
  async discardManifest(staged: StagedManifest): Promise<void> {
    await this.#dropTemp(staged.tmp);
  }

  /**
   * Write `manifest.json` at once (staged, then committed); returns its path
   * and size.
   */
  async writeManifest(manifest: Manifest): Promise<{ path: string; sizeBytes: number }> {
    const staged = await this.stageManifest(manifest);
    await this.commitManifest(staged);
    return { path: staged.path, sizeBytes: staged.sizeBytes };
  }

  /**
   * Remove every temporary file this directory has in flight (an
   * interrupted run), and, once {@linkcode RunDirectory.interrupt}ed, every
   * file put in place that the run has not recorded; synchronous so a signal
   * handler can call it last. They stay listed, so a second call removes
   * what a write in flight made again since.
   */
  removeTempFilesSync(): string[] {
    const removed: string[] = [];
    for (const path of [...this.#temps, ...(this.#interrupted ? this.#unrecorded : [])]) {
      try {
        Deno.removeSync(path);
        removed.push(path);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    return removed;
  }

  /**
   * A path for a scratch file named after `name` in this directory, which
   * {@linkcode RunDirectory.removeTempFilesSync} removes with the others (an
   * interrupted run leaves none); its maker removes it when done.
   */
  scratchPath(name: string): string {
    return this.#tempPath(join(this.path, name));
  }

  #tempPath(path: string): string {
    const tmp = `${path}${TEMP_INFIX}${randomHex(4)}`;
    this.#temps.add(tmp);
    return tmp;
  }

  /**
   * Remove `tmp` after `cause` failed the write that made it; a failure of
   * the removal is logged, so that `cause` is what the caller sees.
   */
  async #dropTempAfter(tmp: string, cause: unknown): Promise<void> {
    try {
      await this.#dropTemp(tmp);
    } catch (err) {
      console.error(`ledger backtest: cannot remove ${tmp} after ${cause}: ${err}`);
    }
  }

  async #dropTemp(tmp: string): Promise<void> {
    if (!this.#temps.delete(tmp)) return;
    try {
      await Deno.remove(tmp);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}
