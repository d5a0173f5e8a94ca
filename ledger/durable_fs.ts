/**
 * Durable file I/O, in one place (STYLE "name the durability points"): every
 * byte the ledger promises to keep goes through here, and so does every
 * directory entry it creates, renames or removes.
 *
 * - {@linkcode syncDir}: fsync a directory, making entries created, renamed
 *   or removed in it survive a power loss.
 * - {@linkcode ensureDirDurable}: `mkdir -p`, syncing each parent of a new
 *   directory; {@linkcode ensureDir}, the same with the syncs left to the
 *   caller (the writer makes them with the next fdatasync of a part).
 * - {@linkcode writeFileAtomic}: write a temporary file, fdatasync it, rename
 *   it over the target, sync the directory: a reader (or a reboot) sees the
 *   old content or the new, never a part.
 * - {@linkcode removeIfPresent}: remove a file or tree, absent is fine.
 * - {@linkcode openFile} and {@linkcode writeAll}: the file handles the
 *   writer appends and syncs through.
 *
 * Every call goes through one seam ({@linkcode DurableFsOps}). Production uses
 * the real file system; the power-loss tests swap in a layer that remembers
 * what was synced and, on a simulated crash, drops everything that was not
 * (`tests/reliability/power_loss_test.ts`).
 *
 * @module
 */
import { dirname } from "./_path.ts";
import { assert } from "./assert.ts";
import { randomHex } from "./ids.ts";

/** Most missing ancestors {@linkcode ensureDirDurable} creates. */
export const DIR_DEPTH_MAX = 64;

/** The file handle operations the ledger uses (a subset of `Deno.FsFile`). */
export interface DurableFile {
  /** Write from the current position (the end, in append mode); may be short. */
  write(data: Uint8Array): Promise<number>;
  /** Read into `buffer` from the current position; `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Move the position. */
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  /** fdatasync: the file's data (and size) reach the disk. */
  syncData(): Promise<void>;
  /** fsync: data and metadata reach the disk. */
  sync(): Promise<void>;
  /** Cut (or extend) the file to `size` bytes. */
  truncate(size?: number): Promise<void>;
  /** Take an advisory lock (flock), waiting for it. */
  lock(exclusive?: boolean): Promise<void>;
  /** Take an advisory lock (flock) if it is free: false when another holds it. */
  tryLock(exclusive?: boolean): Promise<boolean>;
  /** Release the advisory lock. */
  unlock(): Promise<void>;
  /** Stat the open file. */
  stat(): Promise<Deno.FileInfo>;
  /** Close the handle (releases its lock). */
  close(): void;
}

/**
 * The `stat` of the open `file`, which `path` named when it was opened.
 * Deno checks an open file's `stat` against the permission of the path its
 * links lead to, not of the path it was opened by: a part read through a
 * linked folder outside the folders granted (a day moved to another disk as
 * OPERATIONS.md 7 says, or `data/` a link to a bigger disk, under a `deno
 * task` granted `data` only) was opened and read, and its `stat` refused (a
 * probe: `deno task emit` printed an event's id, then exited 1 on it, so a
 * retry wrote the event twice). Refused so, the `stat` of `path`: the file
 * it names now, which is the open file unless it was replaced since (a
 * reader sees that change at its next read).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { statOfOpen } from "./durable_fs.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "abc\n");
 *   using file = await Deno.open(path);
 *   assert.equal((await statOfOpen(file, path)).size, 4);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function statOfOpen(
  file: { stat(): Promise<Deno.FileInfo> },
  path: string,
): Promise<Deno.FileInfo> {
  try {
    return await file.stat();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    return await Deno.stat(path);
  }
}

/**
 * {@linkcode statOfOpen}, synchronously.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { statOfOpenSync } from "./durable_fs.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   using file = Deno.openSync(path);
 *   assert.equal(statOfOpenSync(file, path).size, 0);
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export function statOfOpenSync(file: { statSync(): Deno.FileInfo }, path: string): Deno.FileInfo {
  try {
    return file.statSync();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    return Deno.statSync(path);
  }
}

/** The seam: the file system calls behind every function of this module. */
export interface DurableFsOps {
  /** Open (or create) a file. */
  open(path: string, options: Deno.OpenOptions): Promise<DurableFile>;
  /** Create one directory (not its parents). */
  mkdir(path: string): Promise<void>;
  /** Rename, replacing `to` if present. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file, or a directory with everything under it. */
  remove(path: string): Promise<void>;
  /** fsync the directory `path`. */
  syncDir(path: string): Promise<void>;
}

/** The real file system. */
export const REAL_FS: DurableFsOps = {
  open: (path, options) => Deno.open(path, options),
  mkdir: (path) => Deno.mkdir(path),
  rename: (from, to) => Deno.rename(from, to),
  remove: (path) => Deno.remove(path, { recursive: true }),
  async syncDir(path) {
    // On Linux a directory opened read-only can be fsynced.
    const dir = await Deno.open(path === "" ? "." : path, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  },
};

let fs: DurableFsOps = REAL_FS;

/**
 * Route this module's calls through `ops` (tests only: the fault-injecting
 * layer of the power-loss suite). Returns a function that restores the
 * previous layer.
 *
 * @example
 * ```ts
 * import { REAL_FS, useDurableFs } from "./durable_fs.ts";
 * const restore = useDurableFs(REAL_FS);
 * restore();
 * ```
 */
export function useDurableFs(ops: DurableFsOps): () => void {
  const previous = fs;
  fs = ops;
  return () => {
    fs = previous;
  };
}

/**
 * Open `path` through the seam. Refuses anything but a regular file
 * (a FIFO would block the caller forever): an existing path is checked
 * before it is opened.
 *
 * @example
 * ```ts
 * import { openFile } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await openFile(`${dir}/a.jsonl`, { append: true, createNew: true });
 * file.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openFile(path: string, options: Deno.OpenOptions): Promise<DurableFile> {
  if (!options.createNew) await assertRegularFileOrAbsent(path);
  return await fs.open(path, options);
}

/**
 * Throw {@linkcode NotRegularFileError} when `path` exists and is not a
 * regular file (a FIFO, a socket, a device, a directory). Symlinks are
 * followed. Absent is fine: returns whether the file exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { assertRegularFileOrAbsent, NotRegularFileError } from "./durable_fs.ts";
 * assert.equal(await assertRegularFileOrAbsent("/no/such/file"), false);
 * await assert.rejects(assertRegularFileOrAbsent("/tmp"), NotRegularFileError);
 * ```
 */
export async function assertRegularFileOrAbsent(path: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  if (!info.isFile) throw new NotRegularFileError(path, describeKind(info));
  return true;
}

/** A path the ledger must read or write is not a regular file. */
export class NotRegularFileError extends Error {
  /** The path. */
  readonly path: string;
  /** What it is instead (`a FIFO`, `a directory`, ...). */
  readonly kind: string;
  /**
   * The error for `path`, which is `kind` (`a FIFO`, `a directory`, ...).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { NotRegularFileError } from "./durable_fs.ts";
   * assert.match(new NotRegularFileError("/x", "a FIFO").message, /FIFO/);
   * ```
   */
  constructor(path: string, kind: string) {
    super(`${path} is ${kind}, not a regular file: refusing to open it`);
    this.name = "NotRegularFileError";
    this.path = path;
    this.kind = kind;
  }
}

function describeKind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a regular file";
}

/**
 * fsync the directory `path` so that entries created, renamed or removed in
 * it survive a power loss.
 *
 * @example
 * ```ts
 * import { syncDir } from "./durable_fs.ts";
 * await syncDir(Deno.cwd());
 * ```
 */
export async function syncDir(path: string): Promise<void> {
  await fs.syncDir(path);
}

/**
 * Write all of `data` to `file`. One `write` call in the normal case; a short
 * write (allowed by POSIX, e.g. on a signal) is continued, and each call must
 * make progress. Returns the number of bytes written (always `data.length`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openFile, writeAll } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await openFile(`${dir}/a`, { write: true, createNew: true });
 * assert.equal(await writeAll(file, new Uint8Array([10])), 1);
 * file.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeAll(file: DurableFile, data: Uint8Array): Promise<number> {
  let offset = 0;
  while (offset < data.length) {
    const n = await file.write(data.subarray(offset));
    assert(n > 0 && n <= data.length - offset, "a write makes progress within what it was given");
    offset += n;
  }
  return offset;
}

/**
 * Create `path` and any missing ancestors, fsyncing each parent after a
 * creation so the new entries are durable. Resolves to `true` when `path`
 * itself was created by this call.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ensureDirDurable } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * assert(await ensureDirDurable(`${dir}/a/b`));
 * assert(!(await ensureDirDurable(`${dir}/a/b`)));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureDirDurable(path: string): Promise<boolean> {
  const unsynced: string[] = [];
  const created = await ensureDirAt(path, 0, unsynced);
  for (const parent of unsynced) await fs.syncDir(parent); // the new entries are durable from here
  return created;
}

/**
 * Create `path` and any missing ancestors, as {@linkcode ensureDirDurable}
 * does, but leave the fsyncs to the caller: resolves to the parents whose
 * entries this call created, in the order to {@linkcode syncDir} them. The
 * new directories may vanish in a power loss until they are synced.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ensureDir, syncDir } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const unsynced = await ensureDir(`${dir}/a/b`);
 * assert.deepEqual(unsynced, [dir, `${dir}/a`]);
 * for (const parent of unsynced) await syncDir(parent);
 * assert.deepEqual(await ensureDir(`${dir}/a/b`), []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureDir(path: string): Promise<string[]> {
  const unsynced: string[] = [];
  await ensureDirAt(path, 0, unsynced);
  return unsynced;
}

/** Creates what is missing of `path`; each parent of a new entry joins `unsynced`, in order. */
async function ensureDirAt(path: string, depth: number, unsynced: string[]): Promise<boolean> {
  if (depth > DIR_DEPTH_MAX) throw new Error(`Too many missing directories above ${path}`);
  try {
    await fs.mkdir(path);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await ensureDirAt(dirname(path), depth + 1, unsynced);
    try {
      await fs.mkdir(path);
    } catch (again) {
      if (again instanceof Deno.errors.AlreadyExists) return false; // another process won
      throw again;
    }
  }
  const parent = dirname(path);
  // A parent outside the process's read scope (creating a new ledger root
  // under --allow-write=ROOT) cannot be opened to fsync. Everything from the
  // root down is still synced; only the root's own entry then waits for the
  // filesystem's metadata flush. Asked, never prompted.
  if (Deno.permissions.querySync({ name: "read", path: parent }).state !== "granted") return true;
  unsynced.push(parent);
  return true;
}

/**
 * Replace `path` atomically and durably: write `<path>.tmp-<pid>-<random>`,
 * fdatasync it, rename it over `path`, fsync the directory. On failure the
 * temporary file is removed and `path` is unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeFileAtomic } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/manifest.json`, "{}\n");
 * assert.equal(await Deno.readTextFile(`${dir}/manifest.json`), "{}\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${randomHex(4)}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const file = await fs.open(tmp, { write: true, createNew: true });
    try {
      await writeAll(file, bytes);
      await file.syncData(); // content durable before the rename can publish it
    } finally {
      file.close();
    }
    await fs.rename(tmp, path);
    await fs.syncDir(dirname(path)); // the new content is durable under its name from here
  } catch (err) {
    await removeIfPresent(tmp);
    throw err;
  }
}

/**
 * Make an existing file's content durable (fsync), e.g. a file DuckDB wrote
 * before it is renamed into place.
 *
 * @example
 * ```ts
 * import { syncFile } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * await syncFile(`${dir}/a`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function syncFile(path: string): Promise<void> {
  const file = await fs.open(path, { read: true, write: true });
  try {
    await file.sync(); // the file's content is durable from here
  } finally {
    file.close();
  }
}

/**
 * Rename `from` to `to` and make the rename durable (fsync of the target's
 * directory, and of the source's when it differs).
 *
 * @example
 * ```ts
 * import { renameDurable } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * await renameDurable(`${dir}/a`, `${dir}/b`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function renameDurable(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fs.syncDir(dirname(to)); // the rename is durable from here
  if (dirname(from) !== dirname(to)) await fs.syncDir(dirname(from));
}

/**
 * Rename without a directory sync (the caller syncs once after several).
 *
 * @example
 * ```ts
 * import { rename } from "./durable_fs.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "x");
 * await rename(`${dir}/a`, `${dir}/b`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function rename(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
}

/**
 * Remove a file or a directory tree; resolves to `false` when nothing was
 * there. Not synced: a removal lost to a crash leaves the old entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { removeIfPresent } from "./durable_fs.ts";
 * assert(!(await removeIfPresent("/no/such/file")));
 * ```
 */
export async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await fs.remove(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
