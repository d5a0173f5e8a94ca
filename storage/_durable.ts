/**
 * The durable file operations of the object-storage code (private): atomic
 * replacement of a small file, durable appends, and directory fsync. The
 * same steps as the ledger core's own helpers (PITFALLS "ext4 and crashes"):
 * data synced before a rename, the directory synced after an entry changes.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** fsync a directory so that entries created or renamed in it survive a crash. */
export async function syncDir(path: string): Promise<void> {
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/** Create `path` (and its parents) and sync each parent that gained an entry. */
export async function ensureDir(path: string): Promise<void> {
  try {
    await Deno.mkdir(path);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return;
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await ensureDir(dirname(path));
    try {
      await Deno.mkdir(path);
    } catch (again) {
      if (again instanceof Deno.errors.AlreadyExists) return; // another process won
      throw again;
    }
  }
  await syncDir(dirname(path)); // the new directory entry is durable from here
}

/**
 * Replace `path` with `data` atomically: write a temp file beside it, sync
 * it, rename it over `path`, sync the directory. A crash leaves the old file
 * or the new one, never a mix (a stray temp file at worst).
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  const file = await Deno.open(temp, { write: true, createNew: true });
  try {
    await writeAll(file, data);
    await file.syncData(); // the content is durable before the rename can be
  } catch (err) {
    file.close();
    await Deno.remove(temp).catch(() => undefined); // best effort: the write error matters
    throw err;
  }
  file.close();
  await Deno.rename(temp, path);
  await syncDir(dir); // the new file is in place from here
}

/**
 * Append `data` to the open `file` and sync it: the bytes are durable when
 * this returns.
 */
export async function appendDurable(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  await writeAll(file, data);
  await file.syncData(); // the appended bytes are durable from here
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const n = await file.write(data.subarray(offset));
    if (!(n > 0)) throw new Error(`Write returned ${n} for ${data.length - offset} bytes`);
    offset += n;
  }
}

/** An exclusive lock held on a file until released. */
export interface FileLock {
  /** Release the lock and close the file. */
  release(): void;
}

/**
 * Take an exclusive `flock` on `path` (created if needed) without waiting.
 * Returns `null` when another process holds it. The kernel drops the lock
 * when the holder dies.
 */
export async function tryLock(path: string): Promise<FileLock | null> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) return null;
  return {
    release() {
      file.unlockSync();
      file.close();
    },
  };
}
