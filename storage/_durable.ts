/**
 * The durable file operations of the object-storage code (private): the
 * ledger core's own (`ledger/durable_fs.ts`: atomic replacement, directory
 * fsync, durable directory creation) plus a durable append and a
 * non-blocking lock, so the fault-injection seam covers the shipper too.
 *
 * @module
 */
import {
  type DurableFile,
  ensureDirDurable,
  syncDir,
  writeAll,
  writeFileAtomic,
} from "../ledger/durable_fs.ts";

export { syncDir, writeFileAtomic };

/** Create `path` (and its parents) and sync each parent that gained an entry. */
export async function ensureDir(path: string): Promise<void> {
  await ensureDirDurable(path);
}

/**
 * Append `data` to the open `file` and sync it: the bytes are durable when
 * this returns.
 */
export async function appendDurable(file: DurableFile, data: Uint8Array): Promise<void> {
  await writeAll(file, data);
  await file.syncData(); // the appended bytes are durable from here
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
