/**
 * Shared CLI parts (SPEC 3 "short-lived writers"): `ledger emit` processes
 * and the annotation commands (`ledger tag|note|archive|restore`) do not
 * create a part file each; all of them append to the day's
 * `emit-<seq6>.jsonl`, one process at a time under an exclusive advisory
 * lock (`flock`, released by the kernel when the holder dies):
 *
 * 1. lock the part (for a batch spanning days: every day's part, in day
 *    order, so two batches never deadlock);
 * 2. repair a torn tail a writer killed while holding the lock left:
 *    truncate to just after the last `\n` (safe only under the lock: nobody
 *    else is appending);
 * 3. append the whole lines with one write call per part;
 * 4. fdatasync: the lines are durable from here (one sync for an existing
 *    part; a new part also syncs its directory once);
 * 5. unlock.
 *
 * A failed write is rolled back (truncated to the size before it, still
 * under the lock), so it acknowledges nothing and leaves nothing. A part past
 * `partBytesMax` is left for the next sequence number. Shared parts are never
 * removed (another process may be waiting on one's lock), even when empty.
 *
 * @module
 */
import type { LedgerEvent } from "./events.ts";
import { WriteError } from "./errors.ts";
import {
  dayDir,
  dayOf,
  eventsDir,
  PART_BYTES_MAX_DEFAULT,
  SHARED_PART_PATTERN,
  sharedPartFileName,
} from "./paths.ts";
import { assert } from "./assert.ts";
import {
  assertRegularFileOrAbsent,
  type DurableFile,
  ensureDirDurable,
  NotRegularFileError,
  openFile,
  syncDir,
  writeAll,
} from "./durable_fs.ts";

/** Most shared parts one day's append walks past (all full) before giving up. */
export const SHARED_PART_ATTEMPTS_MAX = 1000;
/** Bytes read per step while looking back for the last newline of a torn tail. */
const TAIL_SCAN_BYTES = 64 * 1024;

/** Options for {@linkcode appendShared}. */
export interface SharedAppendOptions {
  /** Move on to the next shared part before a write would pass this size, in bytes. @default {100 * 1024 * 1024} */
  partBytesMax?: number;
}

/** What {@linkcode appendShared} did, for tests and the bench. */
export interface SharedAppendReport {
  /** The parts appended to. */
  paths: string[];
  /** Bytes of torn tails cut off before appending. */
  tornBytesRepaired: number;
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
  const partBytesMax = options.partBytesMax ?? PART_BYTES_MAX_DEFAULT;
  const byDay = groupByDay(events, lines);
  const days = [...byDay.keys()].sort(); // lock order: never a deadlock between two batches
  await prepareRoot(root, days);
  const held: Locked[] = [];
  const report: SharedAppendReport = { paths: [], tornBytesRepaired: 0 };
  try {
    for (const day of days) {
      const bytes = byDay.get(day)!;
      const locked = await lockPartFor(root, day, bytes.length, partBytesMax, report);
      held.push({ ...locked, bytes });
    }
    await writeHeld(held);
  } finally {
    for (const part of held) part.file.close(); // closing releases the lock
  }
  report.paths = held.map((part) => part.path);
  return report;
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
  partBytesMax: number,
  report: SharedAppendReport,
): Promise<Omit<Locked, "bytes">> {
  const dir = dayDir(root, day);
  let seq = await newestSeq(dir);
  for (let attempt = 0; attempt < SHARED_PART_ATTEMPTS_MAX; attempt++, seq++) {
    const path = `${dir}/${sharedPartFileName(seq)}`;
    const file = await openShared(path);
    try {
      await file.lock(true); // exclusive: the only appender of this part from here
      const info = await file.stat();
      if (!info.isFile) throw new WriteError(path, "is not a regular file");
      const repaired = await repairTornTail(file, info.size);
      report.tornBytesRepaired += info.size - repaired;
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

async function openShared(path: string): Promise<DurableFile> {
  try {
    return await openFile(path, { read: true, write: true, createNew: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) {
      throw new WriteError(path, message(err), { cause: err });
    }
  }
  try {
    await assertRegularFileOrAbsent(path); // a FIFO would block, or take lines nobody keeps
    return await openFile(path, { read: true, write: true });
  } catch (err) {
    const reason = err instanceof NotRegularFileError
      ? `it is ${err.kind}, not a regular file: refusing to open it`
      : message(err);
    throw new WriteError(path, reason, { cause: err });
  }
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
    if (newline !== -1) {
      end = start + newline + 1;
      break;
    }
    end = start;
  }
  await file.truncate(end);
  await file.syncData(); // the repair is durable before anything is appended behind it
  return end;
}

async function readFull(file: DurableFile, buffer: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const n = await file.read(buffer.subarray(offset));
    if (n === null) throw new Error(`Unexpected end of file at byte ${offset}`);
    offset += n;
  }
}

/** Append to every held part, then sync each; on failure, roll every part back. */
async function writeHeld(held: Locked[]): Promise<void> {
  try {
    for (const part of held) {
      await part.file.seek(0, Deno.SeekMode.End);
      await writeAll(part.file, part.bytes); // whole lines, one write call
    }
    for (const part of held) {
      await part.file.syncData(); // this day's lines are durable from here
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
    const path = held.find((part) => part.path)?.path ?? "";
    const suffix = notUndone.length === 0
      ? ""
      : `; could not roll back ${notUndone.join(", ")}: lines of this failed call may remain`;
    throw new WriteError(path, `${message(err)}${suffix}`, { cause: err });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
