/**
 * Finding the part files of a log: `<root>/events/day=YYYY-MM-DD/*.jsonl`,
 * with their size and mtime (the cheap change signal the daemon and the
 * incremental rebuild use). Other files and directories are ignored.
 *
 * @module
 */
import { basename, join } from "node:path";
import {
  DAY_DIR_PATTERN,
  eventsDir,
  PART_FILE_PATTERN,
  SHARED_PART_PATTERN,
} from "../ledger/paths.ts";
import { isDayFolder } from "../ledger/parts.ts";
import { UnreachableDayError } from "../ledger/errors.ts";
import {
  acknowledgedSize,
  type CrossDayBatch,
  listWholeBatches,
  pendingBatches,
  stableAcknowledgedSize,
} from "../ledger/shared_part.ts";

/** One part file of the log. */
export interface PartFile {
  /** Name relative to the events directory: `day=2026-01-20/part-000001.jsonl`. */
  file: string;
  /** Absolute or root-relative path to read. */
  path: string;
  /** The UTC day of its partition, `YYYY-MM-DD`. */
  day: string;
  /**
   * Acknowledged size when listed: the file's size, or less while a batch
   * appending to it (or killed while appending) has not acknowledged its
   * lines (`events/.pending`); the next writer cuts a dead batch back to it.
   */
  sizeBytes: number;
  /** Bytes of the file past `sizeBytes` when listed: a batch not acknowledged (0 almost always). */
  pendingBytes: number;
  /** Modification time when listed, ms since epoch. */
  mtimeMs: number;
  /**
   * A shared part's torn last line (the bytes past its last whole line, up
   * to `sizeBytes`), read under its lock when listed: the next writer cuts
   * it and may append there before the part is read, so a reader reports
   * these bytes, not the file's bytes there then. Absent: none, or longer
   * than `TORN_TAIL_BYTES_MAX` (read from the file).
   */
  tail?: Uint8Array;
}

/**
 * List the part files under `root`, sorted by name (day, then file), each
 * with its acknowledged size: the lines of a batch that has not printed its
 * ids are not events yet (SPEC 8: all or nothing), so no index shows them.
 * A missing events directory is an empty log. `onSkip` hears of a `day=`
 * entry that is no day folder and a `*.jsonl` entry that is no regular file.
 * A day folder that is a link to no folder throws `UnreachableDayError`,
 * or, with `onUnreachableDay`, is told to it and left out. A batch over
 * several days is listed whole or not at all: one that committed while the
 * sizes were taken is left out of every part (`listWholeBatches`), for the
 * next listing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { listPartFiles } from "./_files.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([ // partitioned by the events' UTC day
 *     { event_type: "run.started", run_id: "a1", timestamp_ms: Date.UTC(2026, 0, 21, 9) },
 *     { event_type: "run.started", run_id: "b2", timestamp_ms: Date.UTC(2026, 0, 20, 9) },
 *   ]);
 *   await writer.close();
 *   await Deno.writeTextFile(`${root}/events/day=2026-01-20/notes.txt`, "not a part file");
 *   const files = await listPartFiles(root);
 *   assert.deepEqual(files.map((f) => f.day), ["2026-01-20", "2026-01-21"]);
 *   assert.ok(files[0].file.startsWith("day=2026-01-20/") && files[0].file.endsWith(".jsonl"));
 *   assert.equal(files[0].sizeBytes, (await Deno.stat(files[0].path)).size);
 *   assert.deepEqual(await listPartFiles(`${root}/empty`), []); // no events directory
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function listPartFiles(
  root: string,
  onSkip?: (entry: string, why: string) => void,
  onUnreachableDay?: (err: UnreachableDayError) => void,
  hooks: ListingHooks = {},
): Promise<PartFile[]> {
  // A listing taken again tells each skipped entry once.
  const told = new Set<string>();
  const skip = onSkip && ((entry: string, why: string) => {
    if (told.has(`${entry}\n${why}`)) return;
    told.add(`${entry}\n${why}`);
    onSkip(entry, why);
  });
  const unreachable = onUnreachableDay && ((err: UnreachableDayError) => {
    if (told.has(err.message)) return;
    told.add(err.message);
    onUnreachableDay(err);
  });
  // The shared parts' sizes are taken one after another: a batch over several days that
  // committed between two of them is left out of all (helper-298, helper-301).
  let first = true;
  const inFlight = new Map<PartFile, CrossDayBatch>();
  const files = await listWholeBatches(
    root,
    () => {
      const afterShared = first ? hooks.afterShared : undefined;
      first = false;
      inFlight.clear();
      return listOnce(root, skip, unreachable, inFlight, afterShared);
    },
    (f) => ({ file: f.file, bytes: f.sizeBytes, inFlight: inFlight.get(f) }),
    (f, bytes) => {
      f.pendingBytes += f.sizeBytes - bytes; // left for the next listing, as a batch's are
      f.sizeBytes = bytes;
      delete f.tail; // a size before a batch ends a whole line
    },
  );
  // Any other part a batch's record names (none is written for one): the sizes first, then
  // the records; a batch that records after a size was taken appends after it.
  const batches = await pendingBatches(root);
  if (batches.length > 0) {
    const byName = new Map(files.map((f) => [f.file, f]));
    for (const b of batches) {
      const f = byName.get(`day=${b.day}/${b.part}`);
      if (f === undefined || SHARED_PART_PATTERN.test(b.part)) continue; // gone, or taken above
      // From the size as listed: a part may have two records (the first markers' name too).
      const listed = f.sizeBytes + f.pendingBytes;
      const acknowledged = await acknowledgedSize(root, f.day, f.path, listed);
      f.pendingBytes = listed - acknowledged;
      f.sizeBytes = acknowledged;
    }
  }
  return files;
}

/** Where a test steps into {@linkcode listPartFiles}. */
export interface ListingHooks {
  /** Called once a shared part's size is taken, in the first pass only (a test runs a writer here). */
  afterShared?: (file: PartFile) => Promise<void>;
}

/** One listing of the part files, each shared part's size taken under its lock (see listPartFiles). */
async function listOnce(
  root: string,
  onSkip: ((entry: string, why: string) => void) | undefined,
  onUnreachableDay: ((err: UnreachableDayError) => void) | undefined,
  inFlight: Map<PartFile, CrossDayBatch>,
  afterShared?: (file: PartFile) => Promise<void>,
): Promise<PartFile[]> {
  const base = eventsDir(root);
  const files: PartFile[] = [];
  for (const dayEntry of await readDirOrEmpty(base)) {
    const m = DAY_DIR_PATTERN.exec(dayEntry.name);
    let isDay: boolean;
    try {
      isDay = m !== null && await isDayFolder(base, dayEntry);
    } catch (err) {
      // A link to no folder: thrown, unless the caller takes it (the rebuild, which needs
      // only the days of its window).
      if (!(err instanceof UnreachableDayError) || onUnreachableDay === undefined) throw err;
      onUnreachableDay(err);
      continue;
    }
    if (m === null || !isDay) {
      // What looks like a day but is not read, said (an audit: verify listed these and
      // rebuild-index --verbose did not).
      if (dayEntry.name.startsWith("day=")) {
        onSkip?.(dayEntry.name, "not a day folder (a directory day=YYYY-MM-DD): not read");
      }
      continue;
    }
    const names = new Set<string>();
    for (const entry of await readDirOrEmpty(join(base, dayEntry.name))) {
      // A name that is not UTF-8 is listed with U+FFFD in place of its bytes: beside a file
      // named so in UTF-8, the path reaches that one only, which would be read twice (a review).
      const again = names.has(entry.name);
      names.add(entry.name);
      if (again && entry.name.includes("\uFFFD")) {
        onSkip?.(
          `${dayEntry.name}/${entry.name}`,
          "its name is not valid UTF-8, so no path reaches it (rename it): not read",
        );
        continue;
      }
      if (!entry.isFile || !PART_FILE_PATTERN.test(entry.name)) {
        if (!entry.isFile && PART_FILE_PATTERN.test(entry.name)) {
          onSkip?.(
            `${dayEntry.name}/${entry.name}`,
            "not a regular file (a symbolic link, FIFO or directory): not read",
          );
        }
        continue;
      }
      const path = join(base, dayEntry.name, entry.name);
      const stat = statOrNull(path);
      if (stat === null) {
        // Deno names a file whose name is not UTF-8 with U+FFFD in its place: no path reaches it
        // (a probe: its events left out of the index, with no word, where verify warned). Else
        // removed between listing and stat: not part of this scan.
        if (entry.name.includes("\uFFFD")) {
          onSkip?.(
            `${dayEntry.name}/${entry.name}`,
            "its name is not valid UTF-8, so no path reaches it (rename it): not read",
          );
        }
        continue;
      }
      files.push({
        file: `${dayEntry.name}/${entry.name}`,
        path,
        day: m[1],
        sizeBytes: stat.size,
        pendingBytes: 0,
        mtimeMs: stat.mtime?.getTime() ?? 0,
      });
    }
  }
  files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  // A shared part (short-lived writers, batches, cut-backs): its size and batch record taken
  // under its lock, so no writer cuts it back below a batch's record afterwards (a storage
  // probe: a size taken before a dead batch was cut back, its record read after, reached over
  // a later dead batch's lines). A torn last line stays in, to be reported (SPEC 6), as the
  // bytes read under the lock (a review: read later, the next writer had cut it and a batch
  // that died had appended there, and its lines were indexed).
  const listed: PartFile[] = [];
  for (const f of files) {
    if (!await takeShared(root, f, inFlight)) continue;
    listed.push(f);
    if (afterShared !== undefined && SHARED_PART_PATTERN.test(basename(f.path))) {
      await afterShared(f);
    }
  }
  return listed;
}

/**
 * Take the size of `f` when it is a shared part (short-lived writers, batches,
 * cut-backs): its size and batch record under its lock, so no writer cuts it back below a
 * batch's record afterwards (a storage probe: a size taken before a dead batch was cut back,
 * its record read after, reached over a later dead batch's lines). A torn last line stays in,
 * to be reported (SPEC 6), as the bytes read under the lock (a review: read later, the next
 * writer had cut it and a batch that died had appended there, and its lines were indexed).
 * False when it is gone (removed since it was listed: not part of this scan).
 */
async function takeShared(
  root: string,
  f: PartFile,
  inFlight: Map<PartFile, CrossDayBatch>,
): Promise<boolean> {
  if (!SHARED_PART_PATTERN.test(basename(f.path))) return true;
  const stable = await stableAcknowledgedSize(root, f.day, f.path, { tail: true });
  if (stable === undefined) return false;
  if (stable.inFlight !== undefined) inFlight.set(f, stable.inFlight);
  f.sizeBytes = stable.acknowledgedBytes;
  if (stable.tail !== undefined) f.tail = stable.tail;
  else delete f.tail;
  f.pendingBytes = stable.listedBytes - stable.acknowledgedBytes;
  f.mtimeMs = stable.info.mtime?.getTime() ?? 0;
  return true;
}

/** The day (`YYYY-MM-DD`) of a relative part file name, or undefined. */
export function dayOfFile(file: string): string | undefined {
  return DAY_DIR_PATTERN.exec(file.split("/")[0])?.[1];
}

async function readDirOrEmpty(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/**
 * Synchronous on purpose: hundreds of local stats, one after the other, are
 * several times faster without an async round trip each (the daemon's
 * change check and every incremental rebuild start with this listing).
 */
function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}
