/**
 * Shared CLI parts (SPEC 3 "short-lived writers"): `ledger emit` processes
 * and the annotation commands (`ledger tag|note|archive|restore`) do not
 * create a part file each; all of them append to the day's
 * `emit-<seq6>.jsonl`, one process at a time under an exclusive advisory
 * lock (`flock`, released by the kernel when the holder dies):
 *
 * 1. lock the part (for a batch spanning days: every day's part, in day
 *    order, so two batches never deadlock); a wait past a few seconds is
 *    told to the caller (`onLockWait`), one past a minute gives up;
 * 2. repair a torn tail a writer killed while holding the lock left:
 *    truncate to just after the last `\n` (safe only under the lock: nobody
 *    else is appending), and tell the caller (`onTornTail`: the bytes were
 *    never acknowledged, but a line appended by hand without its newline
 *    goes too);
 * 3. append the whole lines with one write call per part;
 * 4. fdatasync: the lines are durable from here (one sync for an existing
 *    part; a new part also syncs its directory once);
 * 5. unlock.
 *
 * A batch of more than one line is all or nothing (SPEC 8, `emit --stdin`),
 * also when its writer is killed mid-write: before appending, it records each
 * part's size in `events/.pending/<day>__<part>` (durable first); once every
 * line is durable it removes those markers (durably) and only then returns.
 * A marker left behind means its writer died before acknowledging: whoever
 * next locks that part (every writer first resolves the markers it finds,
 * waiting for a live holder's lock) cuts the part back to the recorded size.
 * A batch on several parts (several days) commits on all of them at once:
 * once its lines are durable it creates `events/.pending/<batch>.commit`,
 * and from then on its markers cut nothing, so a kill between the removals
 * of two markers cannot keep one day's lines and cut another's. Before it
 * appends, such a batch also names its parts in `events/.pending/`
 * {@linkcode CROSS_DAY_LOG_NAME}, for readers that take the parts' sizes one
 * after another.
 *
 * A failed write is rolled back (truncated to the size before it, still
 * under the lock), so it acknowledges nothing and leaves nothing. A part past
 * `partBytesMax` is left for the next sequence number. Shared parts are never
 * removed (another process may be waiting on one's lock), even when empty.
 *
 * @module
 */
import { ignoreFileSizeSignal } from "./file_size_signal.ts";
import type { LedgerEvent } from "./events.ts";
import { WriteError } from "./errors.ts";
import { deadEnd } from "./parts.ts";
import {
  dayDir,
  dayOf,
  eventsDir,
  PART_BYTES_MAX_DEFAULT,
  partName,
  schemaPath,
  SHARED_PART_PATTERN,
  sharedPartFileName,
} from "./paths.ts";
import { assert } from "./assert.ts";
import { exists } from "./exists.ts";
import { randomHex } from "./ids.ts";
import { LINE_BYTES_MAX } from "./limits.ts";
import {
  type DurableFile,
  ensureDirDurable,
  NotRegularFileError,
  openFile,
  removeIfPresent,
  statOfOpen,
  statOfOpenSync,
  syncDir,
  writeAll,
} from "./durable_fs.ts";

/** Most shared parts one day's append walks past (all full) before giving up. */
export const SHARED_PART_ATTEMPTS_MAX = 1000;
/**
 * Longest a shared append waits for a part's lock by default, in ms: a
 * holder appends one batch and syncs it, so a lock held this long belongs to
 * a stopped or hung process (SIGSTOP, a frozen container), and every emit
 * and tag behind it would otherwise wait without a word for as long.
 */
export const LOCK_WAIT_MS_MAX_DEFAULT = 60_000;
/**
 * How long an append waits for a part's lock before it says so by default
 * (`SharedAppendOptions.onLockWait`), in ms: as long as `withRunIdLock`
 * waits before its notice (`RUN_ID_LOCK_NOTICE_MS`).
 */
export const SHARED_PART_LOCK_NOTICE_MS = 2_000;
/** Longest pause between two attempts to take a busy part's lock, in ms. */
const LOCK_POLL_MS_MAX = 20;
/** Most times one shared part is opened again because it was removed or replaced while locking. */
const SHARED_PART_REOPENS_MAX = 100;
/** Bytes read per step while looking back for the last newline of a torn tail. */
const TAIL_SCAN_BYTES = 64 * 1024;

/** Options for {@linkcode appendShared}. */
export interface SharedAppendOptions {
  /** Move on to the next shared part before a write would pass this size, in bytes. @default {100 * 1024 * 1024} */
  partBytesMax?: number;
  /** Give up (nothing written) when a part's lock is not free within this long, in ms. @default {60_000} */
  lockWaitMsMax?: number;
  /**
   * Called once per part whose lock another process has held for
   * `lockNoticeAfterMs` (the wait goes on, up to `lockWaitMsMax`), so a
   * command can say why it is silent. @default {undefined}
   */
  onLockWait?: (wait: SharedPartLockWait) => void;
  /** How long to wait for a part's lock before `onLockWait`, in ms. @default {SHARED_PART_LOCK_NOTICE_MS} */
  lockNoticeAfterMs?: number;
  /**
   * Called for each part whose torn last line (the bytes after its last
   * `\n`) was cut off before appending, as it is cut. @default {undefined}
   */
  onTornTail?: (repair: TornTailRepair) => void;
}

/** What {@linkcode SharedAppendOptions.onLockWait} is told. */
export interface SharedPartLockWait {
  /** The part whose lock is held. */
  path: string;
  /** How long this append has waited for it so far, in ms. */
  waitedMs: number;
  /** How long it waits in all before it gives up, in ms. */
  waitMsMax: number;
}

/** What {@linkcode SharedAppendOptions.onTornTail} is told. */
export interface TornTailRepair {
  /** The part cut back. */
  path: string;
  /** The bytes cut off (a line without its `\n`). */
  bytes: number;
}

/**
 * The line a command prints when it has waited for a shared part's lock
 * (it keeps waiting).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sharedPartLockWaitMessage } from "./shared_part.ts";
 * const wait = { path: "/l/events/day=2026-01-02/emit-000001.jsonl", waitedMs: 2000, waitMsMax: 60_000 };
 * assert.match(
 *   sharedPartLockWaitMessage("ledger emit", wait),
 *   /^ledger emit: waited 2000 ms for the lock of \/l\/events\/day=2026-01-02\/emit-000001\.jsonl: /,
 * );
 * ```
 */
export function sharedPartLockWaitMessage(command: string, wait: SharedPartLockWait): string {
  return `${command}: waited ${wait.waitedMs} ms for the lock of ${wait.path}: another ` +
    "ledger emit or tag holds it while it appends (a stopped or hung one holds it until it " +
    `ends); still waiting, up to ${wait.waitMsMax} ms in all`;
}

/**
 * The line a command prints when its append cut a torn last line off a
 * shared part (a writer killed mid-line, or a line appended by hand without
 * its newline: not acknowledged, but now gone, so said).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { tornTailMessage } from "./shared_part.ts";
 * assert.match(
 *   tornTailMessage("ledger emit", { path: "/l/emit-000001.jsonl", bytes: 143 }),
 *   /^ledger emit: removed 143 bytes of a torn last line from \/l\/emit-000001\.jsonl /,
 * );
 * ```
 */
export function tornTailMessage(command: string, repair: TornTailRepair): string {
  const bytes = repair.bytes === 1 ? "1 byte" : `${repair.bytes} bytes`;
  return `${command}: removed ${bytes} of a torn last line from ${repair.path} (a writer ` +
    "killed mid-line, or a line appended without its newline)";
}

/** What {@linkcode appendShared} did, for tests and the bench. */
export interface SharedAppendReport {
  /** The parts appended to. */
  paths: string[];
  /** Bytes of torn tails cut off before appending. */
  tornBytesRepaired: number;
  /** Bytes of batches whose writers died before acknowledging them, cut off. */
  abandonedBytesRemoved: number;
}

/** How long to wait for a part's lock, and whom to tell once it takes a while. */
interface LockWaiting {
  waitMsMax: number;
  noticeAfterMs: number;
  /** Called at most once per part path (of one append). */
  onWait?: (wait: SharedPartLockWait) => void;
}

interface Locked {
  path: string;
  file: DurableFile;
  sizeBefore: number;
  bytes: Uint8Array;
}

/**
 * Append already validated and encoded events to the shared CLI parts of
 * their days, durably (resolves once every line is on disk). `lines[i]` is
 * the encoded line (ending in `\n`) of `events[i]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { appendShared } from "./shared_part.ts";
 * import { completeEvent, encodeEventLine } from "./events.ts";
 * const root = await Deno.makeTempDir();
 * const event = completeEvent({ event_type: "run.started", run_id: "r1" });
 * const report = await appendShared(root, [event], [encodeEventLine(event)]);
 * assert.match(report.paths[0], /\/emit-000001\.jsonl$/);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function appendShared(
  root: string,
  events: readonly LedgerEvent[],
  lines: readonly Uint8Array[],
  options: SharedAppendOptions = {},
): Promise<SharedAppendReport> {
  assert(events.length === lines.length, "one encoded line per event");
  ignoreFileSizeSignal(); // a write past `ulimit -f` fails (EFBIG) instead of killing the process
  const waiting = lockWaiting(options);
  const limits = { partBytesMax: options.partBytesMax ?? PART_BYTES_MAX_DEFAULT, waiting };
  const byDay = groupByDay(events, lines);
  const days = [...byDay.keys()].sort(); // lock order: never a deadlock between two batches
  await prepareRoot(root, days);
  const report: SharedAppendReport = { paths: [], tornBytesRepaired: 0, abandonedBytesRemoved: 0 };
  await removeAbandonedBatches(root, days, report, waiting); // before taking any lock
  const held: Locked[] = [];
  try {
    for (const day of days) {
      const bytes = byDay.get(day)!;
      const locked = await lockPartFor(root, day, bytes.length, limits, report, options.onTornTail);
      held.push({ ...locked, bytes });
    }
    await writeHeld(root, held, lines.length > 1);
  } finally {
    for (const part of held) part.file.close(); // closing releases the lock
  }
  report.paths = held.map((part) => part.path);
  return report;
}

/** The lock waits of one append, from its options; each part's notice is given once. */
function lockWaiting(options: SharedAppendOptions): LockWaiting {
  const waitMsMax = options.lockWaitMsMax ?? LOCK_WAIT_MS_MAX_DEFAULT;
  const noticeAfterMs = options.lockNoticeAfterMs ?? SHARED_PART_LOCK_NOTICE_MS;
  const { onLockWait } = options;
  if (onLockWait === undefined) return { waitMsMax, noticeAfterMs };
  const told = new Set<string>();
  const onWait = (wait: SharedPartLockWait) => {
    if (told.has(wait.path)) return;
    told.add(wait.path);
    onLockWait(wait);
  };
  return { waitMsMax, noticeAfterMs, onWait };
}

function groupByDay(
  events: readonly LedgerEvent[],
  lines: readonly Uint8Array[],
): Map<string, Uint8Array> {
  const groups = new Map<string, Uint8Array[]>();
  for (let i = 0; i < events.length; i++) {
    const day = dayOf(events[i].timestamp_ms);
    const group = groups.get(day) ?? [];
    group.push(lines[i]);
    groups.set(day, group);
  }
  const joined = new Map<string, Uint8Array>();
  for (const [day, group] of groups) {
    const data = new Uint8Array(group.reduce((sum, line) => sum + line.length, 0));
    let offset = 0;
    for (const line of group) {
      assert(line[line.length - 1] === 0x0a, "an encoded line ends with a newline");
      data.set(line, offset);
      offset += line.length;
    }
    joined.set(day, data);
  }
  return joined;
}

/** The events directory, the schema export and each day directory exist (durably). */
async function prepareRoot(root: string, days: readonly string[]): Promise<void> {
  // The export removed, or a log the Python writer began: written again (one stat here, as
  // verify's warning and OPERATIONS promise "the next writer recreates it"; an audit found
  // only a new day did). Anything at the path, even a FIFO, is left to the writer's checks.
  let schemaMissing: boolean;
  try {
    schemaMissing = !await exists(schemaPath(root), { noFollow: true }) &&
      await exists(eventsDir(root));
  } catch (err) {
    throw new WriteError(eventsDir(root), message(err), { cause: err }); // e.g. not a directory
  }
  if (schemaMissing) {
    const { writeSchemaFile } = await import("./schema_file.ts");
    await writeSchemaFile(root);
  }
  for (const day of days) {
    const dir = dayDir(root, day);
    try {
      const info = await Deno.stat(dir);
      if (info.isDirectory) continue; // the common case: one stat, nothing to create
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw new WriteError(dir, message(err));
    }
    // A new day: the first emit of a log also writes `_schema.json`, before the
    // day exists (a refused schema path leaves nothing behind). Imported here,
    // not at the top: most emits append to an existing day, and the registry
    // export is a cold-start cost every `ledger emit` would pay.
    try {
      await ensureDirDurable(eventsDir(root));
    } catch (err) {
      throw new WriteError(eventsDir(root), message(err), { cause: err });
    }
    const { writeSchemaFile } = await import("./schema_file.ts");
    await writeSchemaFile(root);
    try {
      await ensureDirDurable(dir);
    } catch (err) {
      throw new WriteError(dir, message(err), { cause: err });
    }
  }
}

/**
 * Open and lock the newest shared part of `day` with room for `size` more
 * bytes (creating the next one when the newest is full), and repair its torn
 * tail. Resolves with the lock held.
 */
async function lockPartFor(
  root: string,
  day: string,
  size: number,
  limits: { partBytesMax: number; waiting: LockWaiting },
  report: SharedAppendReport,
  onTornTail: SharedAppendOptions["onTornTail"],
): Promise<Omit<Locked, "bytes">> {
  const { partBytesMax } = limits;
  const dir = dayDir(root, day);
  let seq = await newestSeq(dir);
  for (let attempt = 0; attempt < SHARED_PART_ATTEMPTS_MAX; attempt++, seq++) {
    const path = `${dir}/${sharedPartFileName(seq)}`;
    const file = await lockShared(path, limits.waiting); // exclusive: the only appender of this part from here
    try {
      report.abandonedBytesRemoved += await resolvePending(
        file,
        path,
        pendingPath(root, day, path),
      );
      const info = await statOfOpen(file, path);
      if (!info.isFile) throw new WriteError(path, "is not a regular file");
      const repaired = await repairTornTail(file, info.size);
      if (repaired < info.size) {
        report.tornBytesRepaired += info.size - repaired;
        onTornTail?.({ path, bytes: info.size - repaired });
      }
      if (repaired > 0 && repaired + size > partBytesMax) {
        file.close(); // full: the next sequence number
        continue;
      }
      // Whoever appends first to an empty part syncs its directory entry (the
      // process that created it may have died before doing so): any byte in a
      // part implies its entry was durable first.
      if (repaired === 0) await syncDir(dir); // the part's directory entry is durable from here
      return { path, file, sizeBefore: repaired };
    } catch (err) {
      file.close();
      if (err instanceof WriteError) throw err;
      throw new WriteError(path, message(err), { cause: err });
    }
  }
  throw new WriteError(dir, `no shared part with room after ${SHARED_PART_ATTEMPTS_MAX} attempts`);
}

/**
 * Open the shared part at `path` (creating it if absent) and take its
 * exclusive lock. A lock only guards the file the path still names once it is
 * held: a part removed or replaced (renamed over: `sed -i`, a restore) while
 * this process waited would take lines no reader ever sees, acknowledged all
 * the same (an audit: emits waiting on the lock printed their ids after an
 * `rm` or a `sed -i` of the part, and none was in the log). Such a file is
 * let go and the path opened again.
 */
async function lockShared(path: string, waiting: LockWaiting): Promise<DurableFile> {
  const file = await lockNamed(path, waiting, openShared);
  assert(file !== undefined, "openShared creates a missing part");
  return file;
}

/**
 * Open the file at `path` with `open` (undefined: no file there) and take
 * its exclusive lock; once locked, the path must still name that file,
 * else it is let go and the path opened again. Undefined when `open` finds
 * no file.
 */
async function lockNamed(
  path: string,
  waiting: LockWaiting,
  open: (path: string) => Promise<DurableFile | undefined>,
): Promise<DurableFile | undefined> {
  for (let reopen = 0; reopen < SHARED_PART_REOPENS_MAX; reopen++) {
    const file = await open(path);
    if (file === undefined) return undefined;
    try {
      await lockWithin(file, path, waiting);
      if (await namesFile(path, file)) return file;
    } catch (err) {
      file.close();
      if (err instanceof WriteError) throw err;
      throw new WriteError(path, message(err), { cause: err });
    }
    file.close(); // removed or replaced while we waited: lock what the path names now
  }
  throw new WriteError(
    path,
    `removed or replaced ${SHARED_PART_REOPENS_MAX} times while waiting for its lock`,
  );
}

/**
 * Take `file`'s exclusive lock, waiting at most `waiting.waitMsMax` for it;
 * then throw a `WriteError` that says a process holds it (an audit: with the
 * holder stopped, every emit behind it waited without a word, forever).
 * Past `waiting.noticeAfterMs`, `waiting.onWait` is told (it passes on the
 * first call per part: `lockWaiting`; an audit: until then the wait was
 * silent, for up to a minute).
 */
async function lockWithin(file: DurableFile, path: string, waiting: LockWaiting): Promise<void> {
  const { waitMsMax, noticeAfterMs, onWait } = waiting;
  const held = await lockOrGiveUp(file, {
    waitMsMax,
    noticeAfterMs,
    onWait: onWait && ((waitedMs) => onWait({ path, waitedMs, waitMsMax })),
  });
  if (held === undefined) {
    throw new PartLockHeldError(
      path,
      `another process has held its lock for ${waitMsMax} ms (a stopped or hung ` +
        "ledger emit or tag? the lock is released when that process ends); nothing was written",
    );
  }
}

/** A part's lock that another process held for all of the wait ({@linkcode lockWithin}). */
class PartLockHeldError extends WriteError {}

/** How {@linkcode lockOrGiveUp} waits for a lock another process holds. */
export interface LockWait {
  /** Give up when the lock is not free within this long, in ms. */
  waitMsMax: number;
  /** Call `onWait` once the lock has been busy this long, in ms. */
  noticeAfterMs: number;
  /** Told once, with the ms waited so far, that the wait goes on (up to `waitMsMax`). */
  onWait?: (waitedMs: number) => void;
}

/**
 * Take `file`'s advisory lock (`flock`; exclusive unless `exclusive` is false), trying again with pauses
 * that double up to {@linkcode LOCK_POLL_MS_MAX}: the ms it waited once it
 * is held (0 when it was free), undefined when another process held it for
 * all of `wait.waitMsMax` (the caller says what that means and writes
 * nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { lockOrGiveUp } from "./shared_part.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   using holder = await Deno.open(dir, { read: true });
 *   await holder.lock(true); // another open file description holds it
 *   using waiter = await Deno.open(dir, { read: true });
 *   const told: number[] = [];
 *   // Told at once (a CI run under load slept past a 50 ms wait before a 10 ms notice).
 *   const wait = { waitMsMax: 200, noticeAfterMs: 0, onWait: (ms: number) => told.push(ms) };
 *   assert.equal(await lockOrGiveUp(waiter, wait), undefined);
 *   assert.equal(told.length, 1); // once, however long it waits
 *   holder.close();
 *   assert.equal(await lockOrGiveUp(waiter, wait), 0); // free at once
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function lockOrGiveUp(
  file: Pick<DurableFile, "tryLock">,
  wait: LockWait,
  exclusive = true,
): Promise<number | undefined> {
  if (await file.tryLock(exclusive)) return 0;
  const startMs = performance.now();
  let pauseMs = 1;
  let told = false;
  for (;;) {
    const waitedMs = performance.now() - startMs;
    if (waitedMs >= wait.waitMsMax) return undefined;
    if (!told && wait.onWait !== undefined && waitedMs >= wait.noticeAfterMs) {
      told = true;
      wait.onWait(Math.round(waitedMs));
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, LOCK_POLL_MS_MAX);
    if (await file.tryLock(exclusive)) return Math.max(1, Math.round(performance.now() - startMs));
  }
}

/**
 * Open the existing part at `path` and take its exclusive lock, with
 * {@linkcode lockShared}'s check that the path still names the locked file:
 * a dead batch's marker cut back a part replaced while this process waited
 * (an audit's note) would cut the old file, which no reader sees, and leave
 * the dead lines in the new one, acknowledged from then on. Undefined when
 * no file is there.
 */
async function lockExisting(
  path: string,
  waiting: LockWaiting,
): Promise<DurableFile | undefined> {
  return await lockNamed(path, waiting, openExisting);
}

/** The existing file at `path`, open to read and write; undefined when there is none. */
async function openExisting(path: string): Promise<DurableFile | undefined> {
  try {
    return await openFile(path, { read: true, write: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new WriteError(path, message(err), { cause: err });
  }
}

/**
 * Whether `path` names the open `file` (same device and inode); false when
 * it is gone. Deno refuses the open file's `stat` when the path reaches it
 * through a symbolic link out of the folders this process may read (`data/`
 * a link to another disk under `deno task emit`): then nothing tells the
 * held file from one renamed over the path while this process waited, and
 * appending to a replaced file loses acknowledged lines (a review: a size
 * comparison in its place lost 2 of 5 emits to a same-size `sed -i`). The
 * append is refused, naming the folder to grant.
 */
async function namesFile(path: string, file: DurableFile): Promise<boolean> {
  let held: Deno.FileInfo;
  try {
    held = await file.stat();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    throw new WriteError(
      path,
      `it is reached through a symbolic link out of the folders this process may read, and ` +
        `Deno checks an open file against the link's target: grant read of that folder ` +
        `(${message(err).split(", run again")[0]})`,
      { cause: err },
    );
  }
  let named: Deno.FileInfo;
  try {
    named = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  return named.dev === held.dev && named.ino === held.ino;
}

async function openShared(path: string): Promise<DurableFile> {
  try {
    return await openFile(path, { read: true, write: true, createNew: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) {
      throw new WriteError(path, message(err), { cause: err });
    }
  }
  try {
    // The indexer, verify and ship read no linked part (a link may name another part of the
    // log): lines appended through one would be acknowledged and never indexed (a probe).
    if (!(await Deno.lstat(path)).isSymlink) {
      // openFile refuses what is not a regular file: a FIFO would block, or take lines nobody
      // keeps (NotRegularFileError, worded below).
      return await openFile(path, { read: true, write: true });
    }
  } catch (err) {
    const reason = err instanceof NotRegularFileError
      ? `it is ${err.kind}, not a regular file: refusing to open it`
      : message(err);
    throw new WriteError(path, reason, { cause: err });
  }
  throw new WriteError(
    path,
    "it is a symbolic link, and no reader of the log reads a linked part: refusing to append",
  );
}

/** The highest sequence number among the shared parts of `dir` (1 when there is none). */
async function newestSeq(dir: string): Promise<number> {
  let newest = 1;
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = SHARED_PART_PATTERN.exec(entry.name);
      if (m !== null) newest = Math.max(newest, Number(m[1]));
    }
  } catch (err) {
    throw new WriteError(dir, message(err), { cause: err });
  }
  return newest;
}

/**
 * Under the lock: when the part does not end with `\n` (a writer was killed
 * mid-write, or a power loss kept part of an unsynced write), cut it back to
 * just after its last `\n`. Nothing of a torn line was ever acknowledged.
 * Returns the size after the repair.
 */
async function repairTornTail(file: DurableFile, size: number): Promise<number> {
  const end = await linesEnd(file, size);
  if (end === size) return size; // the common case
  await file.truncate(end);
  await file.syncData(); // the repair is durable before anything is appended behind it
  return end;
}

/** The end of the last whole line (just after its `\n`) in the first `size` bytes of `file`; 0 when none. */
async function linesEnd(file: Pick<Deno.FsFile, "seek" | "read">, size: number): Promise<number> {
  if (size === 0) return 0;
  const last = new Uint8Array(1);
  await file.seek(size - 1, Deno.SeekMode.Start);
  if ((await file.read(last)) === 1 && last[0] === 0x0a) return size; // the common case
  let end = size - 1;
  while (end > 0) {
    const start = Math.max(0, end - TAIL_SCAN_BYTES);
    const chunk = new Uint8Array(end - start);
    await file.seek(start, Deno.SeekMode.Start);
    await readFull(file, chunk);
    const newline = chunk.lastIndexOf(0x0a);
    if (newline !== -1) return start + newline + 1;
    end = start;
  }
  return 0;
}

async function readFull(file: Pick<Deno.FsFile, "read">, buffer: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const n = await file.read(buffer.subarray(offset));
    if (n === null) throw new Error(`Unexpected end of file at byte ${offset}`);
    offset += n;
  }
}

/**
 * Append to every held part, then sync each; on failure, roll every part
 * back. A batch (`batch`: more than one line) records the parts' sizes
 * first and removes the records last (see the module doc).
 */
async function writeHeld(root: string, held: Locked[], batch: boolean): Promise<void> {
  const markers = batch
    ? held.map((part) => pendingPath(root, dayOfPart(part.path), part.path))
    : [];
  let batchId: string | undefined;
  try {
    // A batch on several parts: its id, shared by its markers and its commit.
    if (batch && held.length > 1) batchId = randomHex(8);
    if (batch) await writeMarkers(root, held, markers, batchId); // the sizes before are durable from here
    if (batchId !== undefined) await recordCrossDay(root, held); // before its lines: for readers
    for (const part of held) {
      await part.file.seek(0, Deno.SeekMode.End);
      await writeAll(part.file, part.bytes); // whole lines, one write call
    }
    for (const part of held) {
      await part.file.syncData(); // this day's lines are durable from here
    }
    if (batch) {
      // A batch on several parts commits on all of them at once, by one file: its markers
      // go one by one, and a kill between two removals must not leave one day's lines
      // kept and another's cut (an audit did this with a two-day `emit --stdin`).
      if (batchId !== undefined) await writeCommit(root, batchId); // committed from here
      for (const marker of markers) await removeIfPresent(marker);
      await syncDir(pendingDir(root)); // the batch is whole and acknowledged from here
      if (batchId !== undefined) await removeIfPresent(commitPath(root, batchId)); // no marker names it
    }
  } catch (err) {
    const notUndone: string[] = [];
    for (const part of held) {
      try {
        await part.file.truncate(part.sizeBefore); // still under the lock: nobody appended behind
        await part.file.syncData(); // the rollback is durable from here
      } catch (undoErr) {
        notUndone.push(`${part.path} (${message(undoErr)})`);
      }
    }
    // What failed, by its path: a part, or the cross-day log (a review: its failures were
    // said as the first day's part's).
    const path = err instanceof WriteError ? err.path : held.find((part) => part.path)?.path ?? "";
    const reason = err instanceof WriteError ? err.reason : message(err);
    let suffix = notUndone.length === 0
      ? ""
      : `; could not roll back ${notUndone.join(", ")}: lines of this failed call may remain`;
    if (notUndone.length === 0 && markers.length > 0) {
      // Every part is back to its size before: the records are moot. Left, `verify` called the
      // batch's writer dead (an audit, after a disk-full batch); the next emit removes them too.
      try {
        for (const marker of markers) await removeIfPresent(marker);
        if (batchId !== undefined) await removeIfPresent(commitPath(root, batchId));
        await syncDir(pendingDir(root));
      } catch (cleanErr) {
        suffix += `; its record in ${pendingDir(root)} stays until the next emit ` +
          `(${message(cleanErr)})`;
      }
    }
    throw new WriteError(path, `${reason}${suffix}`, { cause: err });
  }
}

/** Where batches record the sizes of the parts they append to. */
function pendingDir(root: string): string {
  return `${eventsDir(root)}/.pending`;
}

/**
 * The ending of a marker's name. Without it a marker of `emit-000001.jsonl`
 * ended in `.jsonl` too, and a reader globbing every `.jsonl` file below
 * `events/` (DuckDB's `read_json`, quantBot's indexer) read it as a part of
 * the log.
 */
const MARKER_SUFFIX = ".size";

/**
 * Whether `path` is a symbolic link that leads to no folder: its target is
 * not there, is a file, or is a loop of links.
 */
async function isUnreachableLink(path: string): Promise<boolean> {
  try {
    if (!(await Deno.lstat(path)).isSymlink) return false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false; // no link: removed for good
    throw err;
  }
  return (await deadEnd(path)) !== undefined;
}

/** The marker of the shared part at `partPath` of `day`. */
function pendingPath(root: string, day: string, partPath: string): string {
  return `${pendingDir(root)}/${day}__${partName(partPath)}${MARKER_SUFFIX}`;
}

/** The name ledger 0.2.0's first markers had (no suffix): still resolved and honoured. */
function legacyPendingPath(root: string, day: string, partPath: string): string {
  return pendingPath(root, day, partPath).slice(0, -MARKER_SUFFIX.length);
}

/** The day of a shared part's path (`.../day=YYYY-MM-DD/emit-000001.jsonl`). */
function dayOfPart(partPath: string): string {
  const m = /\/day=(\d{4}-\d{2}-\d{2})\/[^/]+$/.exec(partPath);
  assert(m !== null, "a shared part lives in a day directory");
  return m[1];
}

/**
 * The bytes of the part at `partPath` (of `day`) that are acknowledged, for
 * a reader that has just taken its size, `sizeBytes`: a batch appending to a
 * shared part (or killed while appending) recorded the part's size before
 * its first byte, and none of its lines is acknowledged until that record is
 * gone; the next writer cuts an abandoned batch back to it. So: `sizeBytes`,
 * cut to the record when there is one. Take the size first, then call this:
 * a batch that records after the size was taken appends after it. A record
 * that does not parse was being written, before any byte of its batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { acknowledgedSize } from "./shared_part.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const part = `${root}/events/day=2026-01-02/emit-000001.jsonl`;
 *   assert.equal(await acknowledgedSize(root, "2026-01-02", part, 120), 120); // no batch
 *   await Deno.mkdir(`${root}/events/.pending`, { recursive: true });
 *   const marker = `${root}/events/.pending/2026-01-02__emit-000001.jsonl.size`;
 *   await Deno.writeTextFile(marker, '{"size":80}'); // a batch recorded 80 bytes first
 *   assert.equal(await acknowledgedSize(root, "2026-01-02", part, 120), 80);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function acknowledgedSize(
  root: string,
  day: string,
  partPath: string,
  sizeBytes: number,
): Promise<number> {
  let acknowledged = sizeBytes;
  for (const marker of [pendingPath(root, day, partPath), legacyPendingPath(root, day, partPath)]) {
    let text: string;
    try {
      text = await Deno.readTextFile(marker);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // the common case: no batch
      throw err;
    }
    const recorded = await uncommittedSize(pendingDir(root), text);
    if (recorded !== undefined) acknowledged = Math.min(acknowledged, recorded);
  }
  return acknowledged;
}

/**
 * Longest a reader waits for a shared part's lock, in ms: a writer holds it
 * for one append and sync (a 60,000-line batch: about a second here). Past
 * it (a stopped or hung writer) the reader reads the part unlocked, as it
 * did before readers took the lock: one stopped `ledger emit` must not stop
 * the daemon, `ship` or an annotation's refresh (a review: with a 60 s wait
 * and an error after it, the daemon exited 1 a minute after an emit was
 * stopped, and ignored SIGTERM meanwhile).
 */
export const READER_LOCK_WAIT_MS = 2_000;

/**
 * Longest torn last line {@linkcode stableAcknowledgedSize} reads under the
 * part's lock, in bytes: a line may be this long (`LINE_BYTES_MAX`) and
 * its torn part no longer. One past it is read from the file by the reader
 * after the lock, as before: such a line is over the limit whatever
 * follows it.
 */
export const TORN_TAIL_BYTES_MAX = LINE_BYTES_MAX;

/** What {@linkcode stableAcknowledgedSize} found of a shared part. */
export interface StableSize {
  /** The file's size, as `stat` gave it under the lock. */
  listedBytes: number;
  /**
   * Its acknowledged bytes end here ({@linkcode acknowledgedSize}): the
   * size, cut to a batch's record. A torn last line (a writer killed
   * mid-line) is in them, for a reader to report as SPEC 6 asks.
   */
  acknowledgedBytes: number;
  /**
   * Its acknowledged whole lines end here: no writer cuts the part below
   * it any more, so the bytes below stay as they are.
   */
  wholeLinesBytes: number;
  /**
   * With `options.tail`: the bytes from `wholeLinesBytes` to
   * `acknowledgedBytes` (a torn last line), read under the lock, unless
   * longer than {@linkcode TORN_TAIL_BYTES_MAX}. The next writer cuts them
   * and may append there at once; a reader that reports the torn line
   * reports these, not what the file holds there by then.
   */
  tail?: Uint8Array;
  /** The file's `stat`, taken under the lock. */
  info: Deno.FileInfo;
  /**
   * Whether the lock was held while these were taken: false when a writer
   * held it for all of the wait (then they are taken as before readers
   * locked: size first, then the batch's record).
   */
  locked: boolean;
  /**
   * Taken without the lock while a batch over several days held it (its
   * record of this part there): that batch, for a reader that takes other
   * parts of it, maybe after it committed ({@linkcode listWholeBatches}).
   */
  inFlight?: CrossDayBatch;
}

/**
 * The acknowledged bytes of the shared part at `partPath` (of `day`), taken
 * under the part's lock (a shared one: no writer appends or cuts
 * meanwhile): its size, cut to a dead or live batch's record
 * ({@linkcode acknowledgedSize}), and the end of its last whole line below
 * that. A writer cuts a part back only to a batch's record or to the end of
 * its last whole line (a torn tail), so no later cut goes below
 * `wholeLinesBytes`, and a reader may read those bytes at any time after;
 * the bytes past it up to `acknowledgedBytes` are a torn line when taken,
 * and the next writer cuts them. Taken without the
 * lock, a size could hold a dead batch's bytes that the next writer cut back
 * (and removed their record) before the record was read; a batch that died
 * later could then append its lines where the stale size still reached (a
 * storage probe: `ledger ship` uploaded 15,834 events no `emit --stdin` had
 * acknowledged, and failed on that part from then on). Waits for a writer's
 * lock up to `options.waitMsMax` ({@linkcode READER_LOCK_WAIT_MS}), then
 * reads without it (`locked` false); undefined when the file is gone. With
 * `options.file` (the part, open to read), that file is locked and read,
 * and left open. With `options.tail`, a torn last line's bytes are read too
 * (`tail`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { stableAcknowledgedSize } from "./shared_part.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const day = `${root}/events/day=2026-01-02`;
 *   await Deno.mkdir(day, { recursive: true });
 *   const part = `${day}/emit-000001.jsonl`;
 *   await Deno.writeTextFile(part, '{"a":1}\n{"a":'); // a torn last line
 *   const found = await stableAcknowledgedSize(root, "2026-01-02", part);
 *   assert.deepEqual([found?.listedBytes, found?.acknowledgedBytes, found?.wholeLinesBytes], [
 *     13,
 *     13,
 *     8,
 *   ]);
 *   assert.equal(await stableAcknowledgedSize(root, "2026-01-02", `${day}/none.jsonl`), undefined);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function stableAcknowledgedSize(
  root: string,
  day: string,
  partPath: string,
  options: { file?: Deno.FsFile; waitMsMax?: number; tail?: boolean } = {},
): Promise<StableSize | undefined> {
  const waitMsMax = options.waitMsMax ?? READER_LOCK_WAIT_MS;
  let file: Deno.FsFile;
  try {
    // Synchronous where it can be: the indexer takes this for every shared part of the log on
    // each update, and each asynchronous call costs about 40 µs here (0.4 ms a part, against
    // 0.08 ms so; measured on 365 parts).
    file = options.file ?? Deno.openSync(partPath, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const locked = file.tryLockSync(false) ||
      await lockOrGiveUp(file, { waitMsMax, noticeAfterMs: waitMsMax }, false) !== undefined;
    try {
      const info = statOfOpenSync(file, partPath);
      const recorded = hasMarker(root, day, partPath);
      const marked = recorded ? await acknowledgedSize(root, day, partPath, info.size) : info.size;
      const inFlight = !locked && recorded ? await inFlightBatch(root, day, partPath) : undefined;
      const whole = endsWithNewline(file, marked) ? marked : await linesEnd(file, marked);
      const tailBytes = marked - whole;
      let tail: Uint8Array | undefined;
      if (options.tail === true && tailBytes > 0 && tailBytes <= TORN_TAIL_BYTES_MAX) {
        tail = new Uint8Array(tailBytes);
        file.seekSync(whole, Deno.SeekMode.Start);
        await readFull(file, tail);
      }
      return {
        listedBytes: info.size,
        acknowledgedBytes: marked,
        wholeLinesBytes: whole,
        ...(tail === undefined ? {} : { tail }),
        info,
        locked,
        ...(inFlight === undefined ? {} : { inFlight }),
      };
    } finally {
      if (locked) file.unlockSync();
    }
  } finally {
    if (options.file === undefined) file.close();
  }
}

/** Whether a batch's record of the part at `partPath` is there (either name). */
function hasMarker(root: string, day: string, partPath: string): boolean {
  for (const marker of [pendingPath(root, day, partPath), legacyPendingPath(root, day, partPath)]) {
    try {
      Deno.statSync(marker);
      return true;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return false;
}

/** Whether the first `size` bytes of `file` end with `\n` (0 bytes: yes, no line is torn). */
function endsWithNewline(file: Deno.FsFile, size: number): boolean {
  if (size === 0) return true;
  const last = new Uint8Array(1);
  file.seekSync(size - 1, Deno.SeekMode.Start);
  return file.readSync(last) === 1 && last[0] === 0x0a;
}

/** Record each held part's size before the batch, durably, before a byte is appended. */
async function writeMarkers(
  root: string,
  held: Locked[],
  markers: string[],
  batch: string | undefined,
): Promise<void> {
  await ensureDirDurable(pendingDir(root));
  for (let i = 0; i < held.length; i++) {
    const file = await openFile(markers[i], { write: true, create: true, truncate: true });
    const record: MarkerRecord = batch === undefined
      ? { size: held[i].sizeBefore }
      : { size: held[i].sizeBefore, batch };
    try {
      await writeAll(file, new TextEncoder().encode(JSON.stringify(record)));
      await file.syncData();
    } finally {
      file.close();
    }
  }
  await syncDir(pendingDir(root)); // the markers' entries are durable from here
}

/**
 * Under the lock of a part: when a batch's marker for it is there, its
 * writer died before acknowledging the batch: cut the part back to the
 * recorded size, then remove the marker (both durably). A marker that does
 * not parse was being written when its writer died, before any append.
 * `path` names the part `file` holds. Returns the bytes cut off.
 */
async function resolvePending(file: DurableFile, path: string, marker: string): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(marker);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0; // the common case: no batch died here
    throw err;
  }
  let removed = 0;
  const dir = marker.slice(0, marker.lastIndexOf("/"));
  const size = await uncommittedSize(dir, text);
  if (size !== undefined) {
    const now = (await statOfOpen(file, path)).size;
    if (now > size) {
      await file.truncate(size);
      await file.syncData(); // the abandoned lines are gone for good from here
      removed = now - size;
    }
  }
  await removeIfPresent(marker);
  await syncDir(dir); // resolved for good from here
  const batch = parseMarker(text)?.batch;
  if (size === undefined && batch !== undefined) await removeCommitIfUnused(dir, batch);
  return removed;
}

/**
 * A marker's content: the part's size before the batch, and for a batch on
 * several parts its id (see {@linkcode writeCommit}).
 */
interface MarkerRecord {
  size: number;
  batch?: string;
}

function parseMarker(text: string): MarkerRecord | undefined {
  let value: { size?: unknown; batch?: unknown } | null;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const size = value?.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return undefined;
  return typeof value?.batch === "string" ? { size, batch: value.batch } : { size };
}

/**
 * The name, in `events/.pending`, of the log of batches over several days:
 * each appends one line, a JSON object of its parts (`day=YYYY-MM-DD/<part>`)
 * and each one's size before the batch, once it holds every part's lock and
 * before it appends a line of its own. A reader that takes the parts' sizes
 * one after another (the indexer's listing, a `ship` pass) reads this log
 * before and after: a batch that took its locks meanwhile may be in one
 * day's size and not in another's (helper-298: a 17-line batch over two days
 * indexed 9 of 17 for one rebuild), and its line says where each of its
 * parts stood before it ({@linkcode listWholeBatches}). Not synced: only a
 * reader alive at the time uses it. It grows by about 70 bytes a part of
 * each batch over several days (a batch that crosses midnight, a backfill);
 * nothing else writes it. Remove it only with no writer and no reader
 * running.
 */
export const CROSS_DAY_LOG_NAME = "cross-day.log";

/** Most bytes of the cross-day log a reader reads at once; past it, it lists again. */
const CROSS_DAY_READ_BYTES_MAX = 16 * 1024 * 1024;

function crossDayLogPath(root: string): string {
  return `${pendingDir(root)}/${CROSS_DAY_LOG_NAME}`;
}

/**
 * Name the held parts of a batch over several days, with their sizes before
 * it, in the cross-day log (one write call). A log that cannot take the line
 * fails the batch before any of its lines is written.
 */
async function recordCrossDay(root: string, held: readonly Locked[]): Promise<void> {
  const parts = Object.fromEntries(
    held.map((part) => [`day=${dayOfPart(part.path)}/${partName(part.path)}`, part.sizeBefore]),
  );
  const path = crossDayLogPath(root);
  try {
    const file = await openFile(path, { append: true, create: true });
    try {
      await writeAll(file, new TextEncoder().encode(`${JSON.stringify(parts)}\n`));
    } finally {
      file.close();
    }
  } catch (err) {
    // Named as what failed (helper-301: "Cannot write <a day's part>: ..." sent the reader to
    // the part).
    throw new WriteError(path, `${message(err)} (the log of batches over several days)`, {
      cause: err,
    });
  }
}

/** A batch over several days, as a reader found it: each part's size before it. */
export interface CrossDayBatch {
  /** `day=YYYY-MM-DD/<part>` -> its size in bytes before the batch (a whole-lines boundary). */
  parts: Map<string, number>;
}

/** Where the cross-day log stood when looked at: absent, or its file and size. */
type CrossDayMark = { ino: number | null; dev: number; size: number } | undefined;

function crossDayMark(root: string): CrossDayMark {
  try {
    const info = Deno.statSync(crossDayLogPath(root));
    return { ino: info.ino, dev: info.dev, size: info.size };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * The batches the cross-day log of `root` names between two of its marks:
 * the batches over several days that took their locks in between. Undefined
 * when that cannot be told: the log was replaced, removed or cut meanwhile,
 * cannot be read by this process, holds a line that does not parse, or more
 * than {@linkcode CROSS_DAY_READ_BYTES_MAX} bytes came.
 */
async function crossDayBatchesBetween(
  root: string,
  from: CrossDayMark,
  to: CrossDayMark,
): Promise<CrossDayBatch[] | undefined> {
  if (to === undefined) return from === undefined ? [] : undefined;
  const start = from?.size ?? 0;
  if (from !== undefined && (from.ino !== to.ino || from.dev !== to.dev)) return undefined;
  if (to.size < start || to.size - start > CROSS_DAY_READ_BYTES_MAX) return undefined;
  if (to.size === start) return [];
  const bytes = new Uint8Array(to.size - start);
  try {
    const file = await Deno.open(crossDayLogPath(root), { read: true });
    try {
      const info = await file.stat();
      if (info.ino !== to.ino || info.size < to.size) return undefined; // replaced or cut since
      await file.seek(start, Deno.SeekMode.Start);
      let offset = 0;
      while (offset < bytes.length) {
        const n = await file.read(bytes.subarray(offset));
        if (n === null) return undefined; // cut while read
        offset += n;
      }
    } finally {
      file.close();
    }
  } catch (err) {
    // Not this process's to read (another user's file under umask 077: helper-301), or no
    // longer a file: the caller lists again, then takes the listing as it is.
    if (
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied ||
      err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.IsADirectory
    ) return undefined;
    throw err;
  }
  const text = new TextDecoder().decode(bytes);
  if (!text.endsWith("\n")) return undefined;
  const batches: CrossDayBatch[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const batch = parseCrossDayLine(line);
    if (batch === undefined) return undefined;
    batches.push(batch);
  }
  return batches;
}

/** One line of the cross-day log, or undefined when it is not one. */
function parseCrossDayLine(line: string): CrossDayBatch | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const parts = new Map<string, number>();
  for (const [name, size] of Object.entries(value)) {
    if (!/^day=\d{4}-\d{2}-\d{2}\/[^/]+$/.test(name)) return undefined;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return undefined;
    parts.set(name, size);
  }
  return parts.size > 0 ? { parts } : undefined;
}

/**
 * The batch over several days whose record of the part at `partPath` (of
 * `day`) is there now, with every part its records name: a reader that had
 * to take that part's size without its lock (held past the wait: a batch
 * slower than {@linkcode READER_LOCK_WAIT_MS}) may take another part of it
 * after it committed (helper-301). Undefined for none, or a batch of one
 * part.
 */
async function inFlightBatch(
  root: string,
  day: string,
  partPath: string,
): Promise<CrossDayBatch | undefined> {
  // Every record read once: this part's names the batch, the batch's name its parts.
  const own = `day=${day}/${partName(partPath)}`;
  const byBatch = new Map<string, Map<string, number>>();
  let id: string | undefined;
  for (const { day: d, part, marker } of await pendingBatches(root)) {
    const text = await readMarkerOrUndefined(marker);
    const record = text === undefined ? undefined : parseMarker(text);
    if (record?.batch === undefined) continue;
    const file = `day=${d}/${part}`;
    if (file === own) id ??= record.batch;
    const parts = byBatch.get(record.batch) ?? new Map<string, number>();
    parts.set(file, record.size);
    byBatch.set(record.batch, parts);
  }
  const parts = id === undefined ? undefined : byBatch.get(id);
  return parts !== undefined && parts.size > 1 ? { parts } : undefined;
}

/** The text of a batch's record, or undefined when it is gone (resolved meanwhile). */
async function readMarkerOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Most listings {@linkcode listWholeBatches} takes when the cross-day log cannot be told. */
const CROSS_DAY_LISTINGS_MAX = 3;

/** How {@linkcode listWholeBatches} sees one part of a listing. */
export interface ListedPart {
  /** `day=YYYY-MM-DD/<part>`. */
  file: string;
  /** The bytes the listing takes of it (its acknowledged size when taken). */
  bytes: number;
  /** A batch over several days that held its lock when its size was taken without it. */
  inFlight?: CrossDayBatch;
}

/**
 * A listing of the log's parts in which every batch over several days is
 * whole or absent. `list` lists the parts, taking each shared part's size
 * under its lock one after another; `seen` tells how the listing took a
 * part, and `cutTo` takes fewer bytes of it. A batch that took its locks
 * during the listing named its parts and their sizes before it in the
 * cross-day log ({@linkcode CROSS_DAY_LOG_NAME}); one that held a lock past
 * the reader's wait is found by its records (`inFlight`). Such a batch in
 * one part's bytes and not in another's (helper-298, helper-301) is left
 * out of every part: each part that holds it is cut back to its size before
 * it, and so on for the batches those cuts leave half (a batch later on the
 * same part), until none is. What is left out comes with the next listing.
 * When the log cannot be told (replaced, cut, unreadable), the listing is
 * taken again, at most {@linkcode CROSS_DAY_LISTINGS_MAX} times in all,
 * then returned as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listWholeBatches } from "./shared_part.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   let listings = 0;
 *   const parts = await listWholeBatches(
 *     root,
 *     () => Promise.resolve([{ file: `day=2026-01-0${++listings}/emit-000001.jsonl`, bytes: 9 }]),
 *     (part) => part,
 *     (part, bytes) => (part.bytes = bytes),
 *   );
 *   assert.equal(listings, 1); // no batch over several days came meanwhile: one listing
 *   assert.deepEqual(parts, [{ file: "day=2026-01-01/emit-000001.jsonl", bytes: 9 }]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function listWholeBatches<T>(
  root: string,
  list: () => Promise<T[]>,
  seen: (part: T) => ListedPart,
  cutTo: (part: T, bytes: number) => void,
): Promise<T[]> {
  let parts: T[] = [];
  for (let listing = 0; listing < CROSS_DAY_LISTINGS_MAX; listing++) {
    const before = crossDayMark(root);
    parts = await list();
    const batches = await crossDayBatchesBetween(root, before, crossDayMark(root));
    if (batches === undefined) continue; // cannot be told: listed again
    for (const part of parts) {
      const inFlight = seen(part).inFlight;
      if (inFlight !== undefined) batches.push(inFlight);
    }
    leaveOutHalfBatches(parts, batches, seen, cutTo);
    return parts;
  }
  return parts;
}

/** Cut every part holding a batch that another part of the listing does not hold (see above). */
function leaveOutHalfBatches<T>(
  parts: readonly T[],
  batches: readonly CrossDayBatch[],
  seen: (part: T) => ListedPart,
  cutTo: (part: T, bytes: number) => void,
): void {
  if (batches.length === 0) return;
  const byFile = new Map(parts.map((part) => [seen(part).file, part]));
  // Each cut lowers a part to a size it had before: the loop ends.
  for (let cut = true; cut;) {
    cut = false;
    for (const batch of batches) {
      const holding: [T, number][] = [];
      let missing = false;
      for (const [file, before] of batch.parts) {
        const part = byFile.get(file);
        if (part !== undefined && seen(part).bytes > before) holding.push([part, before]);
        else missing = true; // not listed (new since), or taken before the batch
      }
      if (!missing || holding.length === 0) continue;
      for (const [part, before] of holding) cutTo(part, before);
      cut = true;
    }
  }
}

/** Where a batch on several parts records that all its lines are durable. */
function commitPath(root: string, batch: string): string {
  return `${pendingDir(root)}/${batch}${COMMIT_SUFFIX}`;
}

/** The ending of a commit record's name (no `<day>__` prefix: never taken for a marker). */
const COMMIT_SUFFIX = ".commit";

/**
 * Commit the batch `batch` (several parts): from here its markers no longer
 * cut anything, whichever of them a kill leaves behind.
 */
async function writeCommit(root: string, batch: string): Promise<void> {
  const file = await openFile(commitPath(root, batch), { write: true, createNew: true });
  file.close();
  await syncDir(pendingDir(root)); // the commit record's entry is durable from here
}

/**
 * Remove the commit record of `batch` once no marker in `dir` names the
 * batch (its writer was killed after committing, before its cleanup).
 */
async function removeCommitIfUnused(dir: string, batch: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !/^\d{4}-\d{2}-\d{2}__/.test(entry.name)) continue; // not a marker
    const text = await readMarkerOrUndefined(`${dir}/${entry.name}`); // undefined: resolved
    if (text !== undefined && parseMarker(text)?.batch === batch) return; // still needed
  }
  await removeIfPresent(`${dir}/${batch}${COMMIT_SUFFIX}`);
}

/**
 * The size the marker (content `text`, in `pendingDirPath`) cuts its part
 * back to, or undefined when it cuts nothing: it does not parse (it was being
 * written, before any append), or its batch is committed.
 */
async function uncommittedSize(
  pendingDirPath: string,
  text: string,
): Promise<number | undefined> {
  const record = parseMarker(text);
  if (record === undefined) return undefined;
  if (record.batch === undefined) return record.size;
  const committed = await exists(`${pendingDirPath}/${record.batch}${COMMIT_SUFFIX}`);
  return committed ? undefined : record.size;
}

/**
 * Resolve every marker a dead batch writer left (of any day: a batch may
 * span days nobody writes to again), each under its part's lock, waiting for
 * a live writer to finish (which removes its own). Called before this
 * process holds any lock.
 */
async function removeAbandonedBatches(
  root: string,
  days: readonly string[],
  report: SharedAppendReport,
  waiting: LockWaiting,
): Promise<void> {
  const names = await pendingNames(root); // one listing serves the markers and the commits
  for (const { day, part, marker } of batchesIn(root, names)) {
    const partPath = `${dayDir(root, day)}/${part}`;
    // Behind a link that leads nowhere now (a day moved to a disk that is offline, a loop, a
    // file): the part may be back, and its marker is kept for then (a review: removed, it let
    // the batch's unacknowledged lines be read as events once the disk returned; a loop failed
    // every emit, on any day).
    if (await isUnreachableLink(dayDir(root, day))) continue;
    // Another day's part whose lock is held: its batch is alive (or stopped), not abandoned, and
    // this append does not touch that part; its own writer, or the next one of that day, resolves
    // it (helper-298: a stopped batch of today made an emit of another day wait 60 s and fail).
    const ours = days.includes(day);
    let file: DurableFile | undefined;
    try {
      file = await lockExisting(partPath, ours ? waiting : { waitMsMax: 0, noticeAfterMs: 0 });
    } catch (err) {
      if (!ours && err instanceof PartLockHeldError) continue;
      // A part this process may not stat (a day linked out of the folders granted, see
      // namesFile): its batch is left for a writer that may, and readers go on ignoring the
      // bytes past its marker; this writer's own part is another (a review: one such marker
      // refused every emit under deno task emit, on any day).
      if (err instanceof WriteError && err.cause instanceof Deno.errors.NotCapable) continue;
      throw err;
    }
    if (file === undefined) {
      // Its part is gone (removed by hand): nothing to cut. Not under a lock: a part created
      // again under the same name before this removal would lose its own marker.
      await removeIfPresent(marker);
      continue;
    }
    try {
      report.abandonedBytesRemoved += await resolvePending(file, partPath, marker);
    } catch (err) {
      if (err instanceof WriteError) throw err;
      throw new WriteError(partPath, message(err), { cause: err });
    } finally {
      file.close();
    }
  }
  await removeUnusedCommits(root, names);
}

/**
 * Remove the commit records no marker needs any more (a writer killed after
 * removing its markers, before its commit record). Written after its
 * markers, a commit record is only ever needed while one of them is there.
 * `names`: the listing of `events/.pending` the markers were resolved from.
 */
async function removeUnusedCommits(root: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!name.endsWith(COMMIT_SUFFIX)) continue;
    await removeCommitIfUnused(pendingDir(root), name.slice(0, -COMMIT_SUFFIX.length));
  }
}

/** A batch's record of a part's size before it (see {@linkcode acknowledgedSize}). */
export interface PendingBatch {
  /** The part's day, `YYYY-MM-DD`. */
  day: string;
  /** The part's file name in its day's folder. */
  part: string;
  /** The record's path. */
  marker: string;
}

/**
 * Every part a batch has recorded a size for and not yet acknowledged (a
 * batch appending now, or one whose writer died): none on almost every
 * call, from one read of `events/.pending` (absent until a batch ran).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { pendingBatches } from "./shared_part.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   assert.deepEqual(await pendingBatches(root), []);
 *   await Deno.mkdir(`${root}/events/.pending`, { recursive: true });
 *   await Deno.writeTextFile(`${root}/events/.pending/2026-01-02__emit-000001.jsonl.size`, "{}");
 *   const [batch] = await pendingBatches(root);
 *   assert.equal(batch.day, "2026-01-02");
 *   assert.equal(batch.part, "emit-000001.jsonl");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function pendingBatches(root: string): Promise<PendingBatch[]> {
  return batchesIn(root, await pendingNames(root));
}

/** The names in `events/.pending` (none when it is absent: no batch ever ran here). */
async function pendingNames(root: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(pendingDir(root)))).map((e) => e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw new WriteError(pendingDir(root), message(err), { cause: err });
  }
}

/** The batch records among `names` (of `events/.pending`), in name order. */
function batchesIn(root: string, names: readonly string[]): PendingBatch[] {
  const batches: PendingBatch[] = [];
  for (const name of [...names].sort()) {
    // `<day>__<part>.size`, or without the suffix as the first markers were named.
    const m = /^(\d{4}-\d{2}-\d{2})__(.+?)(?:\.size)?$/.exec(name);
    if (m === null) continue; // not a marker: left alone
    batches.push({ day: m[1], part: m[2], marker: `${pendingDir(root)}/${name}` });
  }
  return batches;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
