/**
 * File system helpers of the ledger core (private): directory fsync, a write
 * loop that tolerates only short writes, and durable directory creation.
 *
 * @module
 */
import { dirname } from "node:path";

/** Number of missing ancestors {@linkcode ensureDirDurable} will create. */
const DIR_DEPTH_MAX = 64;

/**
 * fsync a directory so that entries created or renamed in it survive a
 * crash. On Linux a directory opened read-only can be fsynced.
 */
export async function syncDir(path: string): Promise<void> {
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/**
 * Write all of `data` to `file`. One `write` call in the normal case; a short
 * write (allowed by POSIX, e.g. on a signal) is continued, and each call must
 * make progress. Returns the number of bytes written (always `data.length`).
 */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<number> {
  let offset = 0;
  while (offset < data.length) {
    const n = await file.write(data.subarray(offset));
    if (!(n > 0 && n <= data.length - offset)) {
      throw new Error(`Write returned ${n} for ${data.length - offset} bytes`);
    }
    offset += n;
  }
  return offset;
}

/**
 * Create `path` and any missing ancestors, fsyncing each parent after a
 * creation so the new entries are durable. Resolves to `true` when `path`
 * itself was created by this call.
 */
export async function ensureDirDurable(path: string, depth = 0): Promise<boolean> {
  if (depth > DIR_DEPTH_MAX) throw new Error(`Too many missing directories above ${path}`);
  try {
    await Deno.mkdir(path);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await ensureDirDurable(dirname(path), depth + 1);
    try {
      await Deno.mkdir(path);
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
  await syncDir(parent); // the new directory entry is durable from here
  return true;
}
