/**
 * Publishing an index atomically (PITFALLS "DuckDB locking"): the new index
 * is built in `<index>.tmp-<pid>` beside the live file, checkpointed and
 * closed by the caller, then made durable and renamed over the live file.
 * Readers that have the old file open keep it; new readers get the new one;
 * nobody ever sees a half-built index or a lock held by the indexer.
 *
 * Also the rebuild lock: two rebuilds of the same index (the daemon and a
 * manual `rebuild-index`) run one after the other, never interleaved.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import {
  assertRegularFileOrAbsent,
  removeIfPresent,
  rename,
  syncDir,
  syncFile,
} from "../ledger/durable_fs.ts";
import { READER_SPILL_STALE_MS, readerSpillPrefixFor } from "./queries.ts";

/** The temporary file a rebuild of `dbPath` builds into. */
export function tempPathFor(dbPath: string): string {
  return `${dbPath}.tmp-${Deno.pid}`;
}

/**
 * Remove a temporary index and the files DuckDB may have left beside it
 * (`.wal`, the spill directory `.tmp`).
 */
export async function removeTemp(tempPath: string): Promise<void> {
  for (const path of [tempPath, `${tempPath}.wal`, `${tempPath}.tmp`]) {
    await removeIfPresent(path);
  }
}

/** Prefix of the staging directories of rebuilds of `dbPath` (beside it). */
export function stagingPrefixFor(dbPath: string): string {
  return `.${basename(dbPath)}.stage-`;
}

/**
 * Remove what crashed rebuilds of `dbPath` left beside it (temporary index
 * files and staging directories of any pid), and the spill directories of
 * readers killed while they spilled (untouched for
 * {@linkcode READER_SPILL_STALE_MS}; a live reader removes its own). Call
 * only while holding the rebuild lock: then no other rebuild of `dbPath` is
 * running.
 */
export async function removeLeftovers(
  dbPath: string,
  nowMs: number = Date.now(),
): Promise<string[]> {
  const dir = dirname(dbPath);
  const tempPrefix = `${basename(dbPath)}.tmp-`;
  const stagePrefix = stagingPrefixFor(dbPath);
  const readerPrefix = readerSpillPrefixFor(dbPath);
  const removed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const leftover = entry.name.startsWith(tempPrefix) || entry.name.startsWith(stagePrefix) ||
      (entry.name.startsWith(readerPrefix) && await untouchedFor(path, nowMs));
    if (leftover) {
      await removeIfPresent(path);
      removed.push(entry.name);
    }
  }
  return removed;
}

async function untouchedFor(path: string, nowMs: number): Promise<boolean> {
  const info = await Deno.lstat(path);
  return info.mtime !== null && nowMs - info.mtime.getTime() > READER_SPILL_STALE_MS;
}

/**
 * Make `tempPath` durable and rename it over `dbPath`, then make the rename
 * durable. The caller has run `CHECKPOINT` and closed the database, so the
 * file is complete and no `.wal` belongs to it.
 */
export async function publish(tempPath: string, dbPath: string): Promise<void> {
  await syncFile(tempPath); // the new index content is durable from here
  // Empty after CHECKPOINT + close. Never leave a .wal beside the live file: the live
  // file is only ever opened read-only, so one there is stale and would be replayed.
  await removeIfPresent(`${tempPath}.wal`);
  await removeIfPresent(`${dbPath}.wal`);
  await rename(tempPath, dbPath); // readers opening from now on get the new index
  await syncDir(dirname(dbPath)); // the rename is durable from here
}

/** An exclusive lock serializing rebuilds of one index file. */
export interface RebuildLock {
  /** Release the lock and close its file. */
  release(): void;
  /**
   * Release the lock and remove its file when this process made it: a
   * rebuild refused before it changed anything leaves nothing beside the
   * file it refused (a review: `rebuild-index --db` on the legacy file left
   * `.baseline_results.duckdb.rebuild.lock`, which git then saw). A process
   * waiting on the file then locks a removed file; its rebuild refuses the
   * same file for the same reason.
   */
  releaseAndForget(): Promise<void>;
}

/**
 * Take the rebuild lock of `dbPath` (`.<name>.rebuild.lock` beside it),
 * waiting for a rebuild in another process to finish; `onWait` is told once,
 * before the wait, who holds it (the holder writes its pid into the lock
 * file). The kernel releases the lock if the holder dies. An aborted
 * `signal` ends the wait: it throws the signal's reason.
 */
export async function lockRebuild(
  dbPath: string,
  onWait?: (message: string) => void,
  signal?: AbortSignal,
): Promise<RebuildLock> {
  const path = join(dirname(dbPath), `.${basename(dbPath)}.rebuild.lock`);
  // A FIFO here would block the open forever; a file that was there stays when let go.
  const existed = await assertRegularFileOrAbsent(path);
  const file = await Deno.open(path, { read: true, write: true, create: true });
  try {
    if (!await file.tryLock(true)) {
      onWait?.(
        `waiting for another rebuild of ${dbPath} to finish (${await lockHolder(path)}; ` +
          `lock file ${path})`,
      );
      // Polled, not a blocking lock(): an aborted signal (SIGINT/SIGTERM in the CLI and the
      // daemon) ends the wait (an audit: both were ignored for as long as the holder held it).
      for (let pauseMs = 1; !await file.tryLock(true);) {
        signal?.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        pauseMs = Math.min(pauseMs * 2, LOCK_POLL_MS_MAX);
      }
    }
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`)); // who holds it, for waiters
  } catch (err) {
    file.close();
    throw err;
  }
  const release = () => {
    file.unlockSync();
    file.close();
  };
  return {
    release,
    async releaseAndForget() {
      try {
        if (!existed) {
          await Deno.remove(path).catch((err) => {
            if (!(err instanceof Deno.errors.NotFound)) throw err;
          });
        }
      } finally {
        release();
      }
    },
  };
}

/** Longest pause between two tries of a busy rebuild lock, in ms (how late a stop is seen). */
const LOCK_POLL_MS_MAX = 100;

/** Who holds a rebuild lock, from the pid its holder wrote (never raw file bytes). */
async function lockHolder(path: string): Promise<string> {
  const text = (await Deno.readTextFile(path)).trim();
  return /^\d{1,10}$/.test(text) ? `held by pid ${text}` : "holder unknown";
}
