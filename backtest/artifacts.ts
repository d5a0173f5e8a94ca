/**
 * Run artifacts: run ids, the run directory `<root>/artifacts/runs/<run_id>/`,
 * its `manifest.json` (config, inputs, fingerprint, git provenance, outputs),
 * input fingerprints, and Parquet outputs written by DuckDB.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { DuckDBConnection } from "npm:@duckdb/node-api@1.5.6-r.1";
import { runDir } from "../ledger/paths.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { type ColumnSpec, type Row, writeParquet } from "./_parquet.ts";

export type { ColumnSpec, Row } from "./_parquet.ts";

/** Manifest file name inside a run directory. */
export const MANIFEST_FILE = "manifest.json";
/** Version of the manifest layout. */
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
 * import { newRunId } from "./artifacts.ts";
 * console.assert(/^policy-\d{8}T\d{6}-[0-9a-f]{6}$/.test(newRunId("policy")));
 * ```
 */
export function newRunId(prefix: string, nowMs: number = Date.now()): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").slice(0, 15);
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const id = `${prefix}-${stamp}-${hex}`;
  if (!RUN_ID_PATTERN.test(id)) throw new Error(`Run id ${id} does not match ${RUN_ID_PATTERN}`);
  return id;
}

/** Git provenance of the working directory; `null` fields outside a checkout. */
export interface GitProvenance {
  /** HEAD commit sha, or null. */
  commit: string | null;
  /** Current branch (null when detached or unknown). */
  branch: string | null;
  /** Whether tracked or untracked files differ from HEAD, or null when unknown. */
  dirty: boolean | null;
}

/** Options for {@linkcode gitProvenance}. */
export interface GitProvenanceOptions {
  /** Directory to ask git about. @default {Deno.cwd()} */
  cwd?: string;
}

/**
 * Ask git for the commit, branch and dirty flag of `cwd`. Never throws:
 * without git, without permission to run it, or outside a checkout, the
 * fields are `null`.
 *
 * @example
 * ```ts ignore
 * import { gitProvenance } from "./artifacts.ts";
 * const git = await gitProvenance();
 * console.log(git.commit, git.branch, git.dirty);
 * ```
 */
export async function gitProvenance(options: GitProvenanceOptions = {}): Promise<GitProvenance> {
  const commit = await git(["rev-parse", "HEAD"], options.cwd);
  if (commit === null) return { commit: null, branch: null, dirty: null };
  const branch = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], options.cwd);
  const status = await git(["status", "--porcelain", "--untracked-files=normal"], options.cwd);
  return {
    commit: commit.trim(),
    branch: branch === null || branch.trim() === "" ? null : branch.trim(),
    dirty: status === null ? null : status.trim() !== "",
  };
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

/** One hashed input file. */
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
 * ```ts ignore
 * import { fingerprintInputs } from "./artifacts.ts";
 * const fp = await fingerprintInputs({ calls: "data/sample/calls.csv" });
 * console.log(fp.fingerprint, fp.files.calls.sha256);
 * ```
 */
export async function fingerprintInputs(
  inputs: Record<string, string>,
): Promise<{ fingerprint: string; files: Record<string, InputFile> }> {
  const files: Record<string, InputFile> = {};
  const combined = createHash("sha256");
  for (const [name, path] of Object.entries(inputs)) {
    const hash = createHash("sha256");
    let size = 0;
    using file = await Deno.open(path, { read: true });
    const buf = new Uint8Array(HASH_CHUNK_BYTES);
    for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
      hash.update(buf.subarray(0, n));
      size += n;
    }
    const sha256 = hash.digest("hex");
    files[name] = { path, sha256, size_bytes: size };
    combined.update(`${name}:${sha256}\n`);
  }
  return { fingerprint: combined.digest("hex"), files };
}

/** The content of `manifest.json`. */
export interface Manifest {
  /** Layout version. */
  manifest_version: number;
  /** The run id. */
  run_id: string;
  /** `path_only` or `policy`. */
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
  /** Output files by artifact name: path relative to the run directory and size. */
  outputs: Record<string, { file: string; size_bytes: number }>;
  /** The run summary (completed runs). */
  summary: Record<string, unknown> | null;
  /** The error (failed runs). */
  error: { message: string; phase_name: string | null } | null;
}

/**
 * A run directory: where a run's files go.
 *
 * @example
 * ```ts ignore
 * import { RunDirectory } from "./artifacts.ts";
 * const dir = await RunDirectory.create("data/ledger", "policy-20260101T000000-abcdef");
 * console.log(dir.path, dir.file("policy_results.parquet"));
 * ```
 */
export class RunDirectory {
  /** The directory, `<root>/artifacts/runs/<run_id>`. */
  readonly path: string;
  /** The run id. */
  readonly runId: string;

  private constructor(path: string, runId: string) {
    this.path = path;
    this.runId = runId;
  }

  /** Create (if needed) the run directory of `runId` under `root`. */
  static async create(root: string, runId: string): Promise<RunDirectory> {
    const path = runDir(root, runId);
    await Deno.mkdir(path, { recursive: true });
    return new RunDirectory(path, runId);
  }

  /** Path of `name` inside the directory. */
  file(name: string): string {
    return `${this.path}/${name}`;
  }

  /**
   * Write rows to the Parquet file `name` through DuckDB's
   * `COPY ... (FORMAT parquet)`; returns its path, rows and size.
   */
  async writeParquet(
    conn: DuckDBConnection,
    name: string,
    options: { columns: readonly ColumnSpec[]; rows: Iterable<Row> },
  ): Promise<{ path: string; rows: number; sizeBytes: number }> {
    const path = this.file(name);
    const rows = await writeParquet(conn, path, options);
    return { path, rows, sizeBytes: (await Deno.stat(path)).size };
  }

  /**
   * Write `manifest.json` atomically (temporary file, then rename); returns
   * its path and size.
   */
  async writeManifest(manifest: Manifest): Promise<{ path: string; sizeBytes: number }> {
    const path = this.file(MANIFEST_FILE);
    const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    const text = JSON.stringify(manifest, null, 2) + "\n";
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
    return { path, sizeBytes: new TextEncoder().encode(text).length };
  }
}
