/**
 * The shipper (SPEC 14): uploads what a local log has that the bucket lacks,
 * complete lines only, as immutable chunk objects (layout in `_layout.ts`).
 *
 * Resumable and idempotent:
 * - what was shipped is kept per part in `<root>/ship/<location id>.json`
 *   (written atomically after each pass); it is only a cache of the bucket;
 * - the first time a process touches a part with new bytes it lists that
 *   part's chunks from the recorded offset on, checks the content of any it
 *   finds against the local file and moves past them, so a crash between an
 *   upload and the state write, or a lost state file, costs a re-check and
 *   never a duplicate or a gap;
 * - every chunk is written with `If-None-Match: *`: a key that already exists
 *   is read back and must be a prefix of the local bytes at that offset.
 * Remote content that disagrees with the local log is a
 * {@linkcode RemoteConflictError}, never an overwrite.
 *
 * @module
 */
import { bytesEqual, readRange } from "../ledger/byte_range.ts";
import { assert } from "../ledger/assert.ts";
import { exists } from "../ledger/exists.ts";
import { basename, join } from "node:path";
import { isDayFolder } from "../ledger/parts.ts";
import { UnreachableDayError } from "../ledger/errors.ts";
import { DAY_DIR_PATTERN, eventsDir, SHARED_PART_PATTERN } from "../ledger/paths.ts";
import {
  acknowledgedSize,
  listWholeBatches,
  stableAcknowledgedSize,
  type StableSize,
} from "../ledger/shared_part.ts";
import { ensureDir, type FileLock, tryLock, writeFileAtomic } from "./_durable.ts";
import {
  type Chunk,
  chunkKey,
  fingerprintOf,
  locationId,
  parseChunkKey,
  partKeyPrefix,
  type RemotePart,
} from "./_layout.ts";
import { forEachLimited } from "./_pool.ts";
import {
  type BucketLocation,
  formatBucketUrl,
  formatObjectUrl,
  type ObjectStore,
  type PutResult,
} from "./object_store.ts";

/** Most bytes in one chunk object (and read from a part at once). */
export const CHUNK_BYTES_MAX = 16 * 1024 * 1024;
/**
 * Longest line shipped (alone in a chunk larger than {@linkcode CHUNK_BYTES_MAX}).
 * The indexer reports a line past 1 MiB as an ingest error, as locally; ship
 * must still move it, or no later line of its part would ever reach the
 * bucket (an audit: a 17 MiB line from the Python writer blocked its part).
 */
const LONG_LINE_BYTES_MAX = 256 * 1024 * 1024;
/** Parts shipped at the same time. */
const PARTS_CONCURRENT_MAX = 4;
/** Bytes read to find a part's first line (a line is at most this long). */
const FIRST_LINE_BYTES_MAX = 1024 * 1024;
/** Format of the state file. */
const STATE_FORMAT = 1;
/**
 * Bytes at the end of the last chunk the state file records that a process
 * compares with the local part before it ships more of it.
 */
const TAIL_CHECK_BYTES = 64 * 1024;

/** Options for {@linkcode shipOnce} and {@linkcode runShipper}. */
export interface ShipOptions {
  /** The endpoint URL (only to name the state file). @default {undefined} */
  endpoint?: string;
  /** Receives progress lines. @default {undefined} */
  onProgress?: (message: string) => void;
  /**
   * Compare every chunk in the bucket with the local log, byte for byte,
   * once per process (`ledger ship --verify`), instead of trusting the
   * chunks the state file records as shipped (of those, only the end of the
   * last one is compared, and only in parts with bytes to ship).
   * @default {false}
   */
  verifyAll?: boolean;
}

/** What one pass did. */
export interface ShipReport {
  /** Local part files looked at. */
  partsScanned: number;
  /** Chunk objects created. */
  chunksPut: number;
  /** Chunks found already in the bucket (after a crash or a lost state). */
  chunksFound: number;
  /** Bytes uploaded. */
  bytesShipped: number;
  /** Bytes of the local log known to be in the bucket after the pass. */
  bytesInBucket: number;
  /** One line per part that could not be shipped (conflicts), or day folder that could not be read. */
  problems: string[];
  /**
   * One line per part the state file records as shipped of which the
   * bucket holds no chunk (its day removed from the bucket, or the objects
   * lost): not uploaded again while it does not grow, and its bytes not
   * counted in {@linkcode ShipReport.bytesInBucket}; uploaded again whole
   * once it grows. Also one per gap between chunks uploaded again. Does not
   * fail the pass.
   */
  warnings: string[];
  /** Wall time. */
  elapsedMs: number;
}

/**
 * The bucket holds bytes for a part that differ from the local file (or the
 * local file lost bytes it had shipped). Never resolved by overwriting.
 */
export class RemoteConflictError extends Error {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "RemoteConflictError";
  }
}

/**
 * The warning of a pass to a server that wrote an object over itself
 * although asked not to (`If-None-Match: *`), described as `description`.
 */
export function overwritingServerWarning(description: string): string {
  return `${description} overwrote an object when asked not to (If-None-Match: *), as s3rver ` +
    "does (AWS S3, MinIO and Ceph RGW refuse): ship looks for each key before it writes it and " +
    "reads each chunk back, but two machines shipping the same part at the same moment could " +
    "still replace each other's chunk (a later ship then reports the conflict)";
}

/** Another shipper of this root to this location is running. */
export class ShipperLockedError extends Error {
  /** Create the error for the lock file at `path`. */
  constructor(path: string) {
    super(`Another ledger ship runs for this root, bucket and prefix (lock ${path})`);
    this.name = "ShipperLockedError";
  }
}

interface PartMemory {
  fingerprint: string | undefined;
  shippedBytes: number;
  /** Checked against the bucket by this process. */
  verified: boolean;
  /** The local file's inode when it was checked (a file replaced since has another). */
  ino?: number | null;
  /** The last bytes shipped (up to {@linkcode SHIPPED_TAIL_BYTES}), as the bucket holds them. */
  tail?: Uint8Array;
  /**
   * The last pass found this part in conflict with the bucket (kept in the
   * state file): it is compared with the bucket on every pass until that
   * passes, even when its size is the size shipped. A part cut back below
   * what was shipped and grown again to that size had exited 0 ever after,
   * its new lines never shipped (a storage audit).
   */
  conflicted?: boolean;
  /**
   * The last check found no chunk of this part in the bucket (its day
   * removed by retention, or the objects lost; kept in the state file): its
   * bytes are not counted in {@linkcode ShipReport.bytesInBucket}, and it is
   * checked again when it grows (then shipped again whole). A probe: the
   * next passes counted its bytes as in the bucket, and a long-running
   * shipper uploaded its new lines past the missing start, a chunk no index
   * can read.
   */
  missing?: boolean;
  /**
   * The part's modification time when its size was last the size shipped
   * (kept in the state file; undefined in one written before 0.6.0). A part
   * whose size is the size shipped but whose time is not was rewritten or
   * edited since (`sed -i`, an editor): the log is append-only, so it is
   * compared with the bucket whole ({@linkcode PartMemory.recheck}). A probe:
   * a part edited to the same size passed every later ship, exit 0, with the
   * bucket holding other bytes.
   */
  mtimeMs?: number | null;
  /** This pass compares every chunk of the part, as `--verify` does (its time changed). */
  recheck?: boolean;
}

/**
 * Bytes before a checked part's shipped offset that a long-running shipper
 * compares with the local file before it ships more of it (no request): an
 * edit in place (same inode) that moved the line ends there is caught.
 */
const SHIPPED_TAIL_BYTES = 4096;

/** A shipper bound to one root and one bucket location; keeps what it learnt between passes. */
export class Shipper {
  #root: string;
  #store: ObjectStore;
  #location: BucketLocation;
  #statePath: string;
  #lockPath: string;
  #lock: FileLock | null = null;
  #parts = new Map<string, PartMemory>();
  #loaded = false;
  #progress: (message: string) => void;
  #verifyAll: boolean;
  /**
   * Whether the server refused to write a chunk this process had just
   * written (`If-None-Match: *`): unknown until the first upload, checked
   * once and kept in the state file. To a server that overwrites, a chunk
   * is written only after a look for its key, and read back after.
   */
  #refusesOverwrite: boolean | undefined;
  /** Whether this process said that the server overwrites (once). */
  #warnedOverwrite = false;
  /** While that is unknown: the one upload in flight, which finds it out. */
  #probing: Promise<void> | undefined;

  /**
   * An object's whole URL for a message: a conflict named the key alone, and the
   * bucket is what one needs to look at it (noticed in an earlier stop).
   */
  #objectUrl(key: string): string {
    return formatObjectUrl(this.#location, key);
  }

  /** Create a shipper; nothing is read or written until {@linkcode Shipper.pass}. */
  constructor(
    root: string,
    store: ObjectStore,
    location: BucketLocation,
    options: ShipOptions = {},
  ) {
    this.#root = root;
    this.#store = store;
    this.#location = location;
    const id = locationId(options.endpoint, location.bucket, location.prefix);
    this.#statePath = join(root, "ship", `${id}.json`);
    // One shipper per root, bucket and prefix, however the endpoint is written: keyed on the
    // endpoint as typed, `http://127.0.0.1:9000`, `.../` and `localhost` were three locks, and
    // three shippers of one root raced to false conflicts (a storage audit).
    const lockId = locationId("any endpoint", location.bucket, location.prefix);
    this.#lockPath = join(root, "ship", `${lockId}.lock`);
    this.#progress = options.onProgress ?? (() => {});
    this.#verifyAll = options.verifyAll ?? false;
  }

  /** The state file of this root and location. */
  get statePath(): string {
    return this.#statePath;
  }

  /**
   * Check the bucket, then take the lock of this root and location. Nothing
   * is written locally before the bucket answered. `signal` stops the wait
   * for that answer (see `ObjectStore.check`).
   */
  async open(signal?: AbortSignal): Promise<void> {
    await this.#store.check(signal);
    await ensureDir(join(this.#root, "ship"));
    this.#lock = await tryLock(this.#lockPath);
    if (this.#lock === null) throw new ShipperLockedError(this.#lockPath);
  }

  /** Release the lock. */
  close(): void {
    this.#lock?.release();
    this.#lock = null;
  }

  /** Ship every complete line not yet in the bucket; save the state. */
  async pass(): Promise<ShipReport> {
    assert(this.#lock !== null, "Shipper.open before Shipper.pass");
    const started = performance.now();
    if (!this.#loaded) await this.#loadState();
    const unreachable: UnreachableDayError[] = [];
    const notUtf8: string[] = [];
    // One cut of the shared parts' sizes for the pass: a batch of `emit --stdin` over several
    // days ships whole or not at all (a batch that committed between two parts' sizes was
    // shipped for one day only until the next pass, as the indexer once indexed it: helper-298).
    const cut = new Map<string, StableSize>();
    const files = await listWholeBatches(
      this.#root,
      async () => {
        unreachable.length = 0;
        notUtf8.length = 0;
        cut.clear();
        const kept: LocalPart[] = [];
        for (const f of await listLocalParts(this.#root, unreachable, notUtf8)) {
          if (await takeCut(this.#root, f, cut)) kept.push(f);
        }
        return kept;
      },
      (f) => {
        const taken = cut.get(f.file);
        return { file: f.file, bytes: taken?.acknowledgedBytes ?? 0, inFlight: taken?.inFlight };
      },
      (f, bytes) => {
        const taken = cut.get(f.file)!; // only a shared part holds a batch's lines
        const wholeLinesBytes = Math.min(taken.wholeLinesBytes, bytes);
        cut.set(f.file, { ...taken, acknowledgedBytes: bytes, wholeLinesBytes });
      },
    );
    const report: ShipReport = {
      partsScanned: files.length,
      chunksPut: 0,
      chunksFound: 0,
      bytesShipped: 0,
      bytesInBucket: 0,
      problems: [],
      warnings: [],
      elapsedMs: 0,
    };
    if (files.length === 0 && this.#parts.size > 0 && !(await exists(eventsDir(this.#root)))) {
      // The log is gone (an unmounted disk, a moved folder): a pass would forget every part it
      // shipped, their `missing` and `conflict` marks with them, and ship them whole again when
      // the log is back (a probe: a day removed from the bucket came back). Nothing is changed.
      report.problems.push(
        `No log at ${eventsDir(this.#root)}, which ${this.#parts.size} shipped part` +
          `${this.#parts.size === 1 ? " was" : "s were"} read from: nothing shipped, and ` +
          `${this.#statePath} keeps what was (is the log's disk mounted?)`,
      );
      report.bytesInBucket = this.#bytesInBucket();
      report.elapsedMs = Math.round(performance.now() - started);
      return report;
    }
    for (const file of notUtf8) {
      // As the indexer says it: no path reaches the file, and it is no part of the log.
      report.warnings.push(
        `events/${file}: its name is not valid UTF-8, so no path reaches it: not shipped ` +
          "(rename it)",
      );
    }
    // A day on a disk not mounted keeps what was shipped of it: forgotten, its parts were
    // compared again whole once the disk was back.
    for (const err of unreachable) {
      report.problems.push(
        `${err.message.replace(/; mount .*$/, "")}; not shipped, its state kept`,
      );
    }
    const gone = new Set(unreachable.map((err) => `${err.entry}/`));
    const present = new Set(files.map((f) => f.file));
    for (const name of this.#parts.keys()) {
      if (!present.has(name) && !gone.has(name.slice(0, name.indexOf("/") + 1))) {
        this.#parts.delete(name);
      }
    }
    let failure: unknown;
    await forEachLimited(files, PARTS_CONCURRENT_MAX, async (f) => {
      try {
        await this.#shipPart(f, report, cut.get(f.file));
      } catch (err) {
        if (err instanceof RemoteConflictError) report.problems.push(err.message);
        else failure ??= err;
      }
    });
    await this.#saveState(); // even after a failure: what did upload is recorded
    if (this.#refusesOverwrite === false && !this.#warnedOverwrite) {
      this.#warnedOverwrite = true;
      report.warnings.push(overwritingServerWarning(this.#store.description));
    }
    if (failure !== undefined) throw failure;
    report.bytesInBucket = this.#bytesInBucket();
    report.elapsedMs = Math.round(performance.now() - started);
    return report;
  }

  /** Bytes the parts this shipper knows of have in the bucket (a part found missing has none). */
  #bytesInBucket(): number {
    let bytes = 0;
    for (const m of this.#parts.values()) if (!m.missing) bytes += m.shippedBytes;
    return bytes;
  }

  /** Ship the new lines of `f`; a shared part up to `taken`, its size in the pass's cut. */
  async #shipPart(f: LocalPart, report: ShipReport, taken?: StableSize): Promise<void> {
    let mem = this.#parts.get(f.file);
    // Nothing new: no request at all (the bucket cannot hold more than the file has),
    // unless every chunk is to be compared and this one was not yet, or the file was
    // written to since without growing (its time changed): then it is compared whole.
    if (
      mem !== undefined && f.sizeBytes === mem.shippedBytes && !mem.conflicted &&
      (mem.verified || !this.#verifyAll)
    ) {
      if (mem.mtimeMs === undefined) mem.mtimeMs = f.mtimeMs; // a state file of 0.5.0
      if (mem.mtimeMs === f.mtimeMs) return;
      mem.verified = false;
      mem.recheck = true;
    }
    const file = await Deno.open(f.path, { read: true });
    try {
      // Only acknowledged lines: a batch of `emit --stdin` killed while appending is cut back
      // by the next writer, so its lines must never reach the bucket (SPEC 8, all or nothing).
      // A shared part's are taken under its lock, or a cut between the size and the batch's
      // record let a later dead batch's lines through (a probe: 15,834 of them uploaded).
      const { info, size } = await acknowledgedOf(this.#root, f, file, taken);
      // Checked by this process before: the same file still, with the bytes shipped last in
      // place? A part replaced since (`sed -i` writes a new file) is checked again against the
      // bucket; one edited in place before its shipped offset is a conflict. Either way no
      // chunk ever starts inside a line.
      if (mem?.verified && mem.ino !== info.ino) mem.verified = false;
      if (mem?.verified && mem.tail !== undefined && size >= mem.shippedBytes) {
        const local = await readLocalRange(
          file,
          mem.shippedBytes - mem.tail.length,
          mem.shippedBytes,
        );
        if (!bytesEqual(local, mem.tail)) {
          throw new RemoteConflictError(
            `Local part ${f.file} changed before byte ${mem.shippedBytes}, which the bucket ` +
              `holds: the file was edited`,
          );
        }
      }
      if (mem === undefined || !mem.verified) {
        const fingerprint = await firstLineFingerprint(file, size);
        if (fingerprint === undefined) {
          // No complete line: a new part not yet ready (one recreated after retention, its
          // first batch pending), or one cut back below what the bucket still holds of it (a
          // storage audit: emptied or cut into its first line, it passed `--verify`, exit 0).
          if (
            mem?.fingerprint !== undefined && mem.shippedBytes > size &&
            await this.#hasChunks({ day: f.day, stem: f.stem, fingerprint: mem.fingerprint })
          ) throw shrankError(f.file, size, mem);
          return;
        }
        // The log is append-only: a part whose first line changed while the bucket holds
        // chunks of what it was was replaced or edited. With none there (its day removed
        // from the bucket by retention, the part recreated by a later event), it is a new
        // part: its first line gives it other keys, so nothing is overwritten.
        if (
          mem?.fingerprint !== undefined && mem.fingerprint !== fingerprint &&
          await this.#hasChunks({ day: f.day, stem: f.stem, fingerprint: mem.fingerprint })
        ) {
          const old = partKeyPrefix(this.#location.prefix, { ...f, fingerprint: mem.fingerprint });
          const keys = `${this.#objectUrl(old)}*`;
          throw new RemoteConflictError(
            `Local part ${f.file} no longer starts with the line shipped from it, and the ` +
              `bucket still holds the part as it was (keys ${keys}): the file was replaced or ` +
              `edited. A part recreated after retention ships once its day is removed from ` +
              `the bucket too, or under another file name`,
          );
        }
        if (mem === undefined || mem.fingerprint !== fingerprint) {
          mem = { fingerprint, shippedBytes: 0, verified: false }; // new
        }
        this.#parts.set(f.file, mem);
        const part = { day: f.day, stem: f.stem, fingerprint };
        const found = await this.#reconcile(file, size, part, mem, report);
        mem.missing = !found;
        mem.verified = found; // a missing part is looked for again when it grows
        mem.ino = info.ino;
        mem.tail = await shippedTail(file, mem.shippedBytes);
      }
      if (size < mem.shippedBytes) {
        mem.verified = false;
        throw shrankError(f.file, size, mem);
      }
      const part = { day: f.day, stem: f.stem, fingerprint: mem.fingerprint! };
      await this.#upload(file, size, part, mem, report);
      mem.conflicted = false;
      mem.recheck = false;
      // The time that goes with the size shipped; a part still growing gets it next pass.
      mem.mtimeMs = size === info.size ? (info.mtime?.getTime() ?? null) : null;
    } catch (err) {
      if (mem !== undefined) mem.verified = false; // look at the bucket again next time
      if (err instanceof RemoteConflictError) {
        // Kept until a pass finds the part and the bucket agreeing again.
        const known = this.#parts.get(f.file);
        if (known !== undefined) known.conflicted = true;
      }
      throw err;
    } finally {
      file.close();
    }
  }

  /** The chunks of `part` in the bucket, in key order (so by start byte). */
  async *#chunksOf(part: RemotePart): AsyncGenerator<Chunk> {
    const { prefix } = this.#location;
    for await (const o of this.#store.list(partKeyPrefix(prefix, part))) {
      const c = parseChunkKey(prefix, o.key, o.sizeBytes);
      if (c !== null && c.stem === part.stem && c.fingerprint === part.fingerprint) yield c;
    }
  }

  /** Whether the bucket holds a chunk of `part`. */
  async #hasChunks(part: RemotePart): Promise<boolean> {
    for await (const _ of this.#chunksOf(part)) return true;
    return false;
  }

  /**
   * Set `mem.shippedBytes` to the end of the part's chunks in the bucket,
   * which must follow each other from byte 0 with no gap or overlap. The
   * chunks up to the state file's offset are trusted, but that offset must
   * end a chunk and the end of that chunk must still equal the local bytes
   * (a state file ahead of the bucket, or one that points into a line, would
   * otherwise ship a chunk that starts mid-line); the chunks after it are
   * compared byte for byte. An offset that ends no chunk is not trusted:
   * every chunk is compared. A part with no chunk at all keeps its offset
   * (its day may have been removed from the bucket on purpose): false when
   * that offset is past 0, with a warning in `report`; but a part that grew
   * since (`size` past the offset) ships again from byte 0, with a warning.
   */
  async #reconcile(
    file: Deno.FsFile,
    size: number,
    part: RemotePart,
    mem: PartMemory,
    report: ShipReport,
  ): Promise<boolean> {
    const chunks: { key: string; start: number; length: number }[] = [];
    const gaps: { start: number; end: number; next: string }[] = [];
    let end = 0;
    for await (const c of this.#chunksOf(part)) {
      // A chunk missing (deleted from the bucket) is uploaded again from the local log,
      // where it starts and ends a line there (a storage audit: ship only failed, and the
      // index left out every line of the part after it).
      let missing = c.startByte > end &&
        await this.#refillable(file, size, end, c.startByte);
      const prev = chunks.at(-1);
      if (
        c.startByte > end && !missing && prev !== undefined &&
        await this.#refillable(file, size, prev.start, c.startByte) &&
        await this.#removeTorn(file, size, part, prev.key, prev.start, prev.length, report)
      ) {
        // The chunk before the gap was cut off while it was being uploaded again (a missing
        // chunk's refill, killed): it ends mid-line, so the gap after it could not be filled,
        // and every later ship failed on it (a probe). Removed: the gap runs from its start.
        chunks.pop();
        end = prev.start;
        missing = true;
      }
      if (c.startByte !== end && !missing) {
        const url = this.#objectUrl(c.key);
        throw new RemoteConflictError(
          `Bucket object ${url} starts at byte ${c.startByte} but the part's chunks end at ` +
            `${end}: the bucket was changed by something else`,
        );
      }
      if (missing) gaps.push({ start: end, end: c.startByte, next: c.key });
      chunks.push({ key: c.key, start: c.startByte, length: c.sizeBytes });
      end = c.startByte + c.sizeBytes;
    }
    if (chunks.length === 0) {
      if (mem.shippedBytes === 0) return true;
      if (size > mem.shippedBytes) {
        // The part grew: a chunk past bytes the bucket lacks could never be read (the index
        // waits for the part's chunk from byte 0). A probe: the new lines went up as a chunk
        // at the old offset, the pass said all the part's bytes were in the bucket, exit 0,
        // and an index of the bucket held none of the part's events. Whole again instead.
        report.warnings.push(
          `${remoteName(part)}: the state file records ${mem.shippedBytes} bytes shipped, but ` +
            `the bucket holds no chunk of this part (its day removed from the bucket, or the ` +
            `objects lost); it has new lines, so it is uploaded again whole from the local log`,
        );
        mem.shippedBytes = 0;
        return true;
      }
      // Said, not failed: retention may have removed the day from the bucket on purpose
      // (OPERATIONS.md 7), but `ship --verify` must not count bytes it did not find (a
      // storage audit: it exited 0 and counted a deleted part's bytes as in the bucket).
      report.warnings.push(
        `${remoteName(part)}: the state file records ${mem.shippedBytes} bytes shipped, but ` +
          `the bucket holds no chunk of this part (its day removed from the bucket, or the ` +
          `objects lost); they are not uploaded again`,
      );
      return false;
    }
    // A part marked conflicted is compared whole, as --verify does: the shallow check trusts
    // the recorded chunks, which is where --verify found the conflict (a probe: the next plain
    // pass passed it, exit 0, and cleared the mark while the bucket still held other bytes).
    const stated = this.#verifyAll || mem.conflicted || mem.recheck ? 0 : mem.shippedBytes;
    const trusted = stated === 0 || chunks.some((c) => c.start + c.length === stated) ? stated : 0;
    if (trusted !== stated) {
      this.#progress(
        `${remoteName(part)}: the state file's ${stated} bytes end no chunk of the bucket ` +
          `(${end} bytes): comparing every chunk`,
      );
    }
    // Set once every chunk agrees: a conflict leaves the offset as it was, so the pass's
    // summary and the state file do not count part of the bucket (an audit saw 6,029 and then
    // 0 "bytes in the bucket" said of a part whose 6,259 bytes were all there).
    let agreed = 0;
    for (const c of chunks) {
      const chunkEnd = c.start + c.length;
      if (chunkEnd < trusted) {
        agreed = chunkEnd; // trusted: recorded as shipped, and it ends a chunk
        continue;
      }
      try {
        if (chunkEnd === trusted) {
          await this.#verifyRemote(file, size, c.key, c.start, c.length, TAIL_CHECK_BYTES);
        } else {
          await this.#verifyRemote(file, size, c.key, c.start, c.length);
          report.chunksFound++;
        }
      } catch (err) {
        // The last chunk only: one cut off mid-upload ends mid-line, so no ship put one after.
        const last = c === chunks.at(-1);
        if (!(err instanceof RemoteConflictError) || !last) throw err;
        if (!await this.#removeTorn(file, size, part, c.key, c.start, c.length, report)) throw err;
        end = c.start; // shipped again from here, below
        break;
      }
      agreed = chunkEnd; // known to be in the bucket from here
    }
    for (const g of gaps) {
      await this.#uploadRange(file, size, part, g.start, g.end, report);
      report.warnings.push(
        `${remoteName(part)}: bytes ${g.start}-${g.end} were missing from the bucket (before ` +
          `${g.next}); uploaded again from the local log`,
      );
    }
    if (agreed < mem.shippedBytes) {
      // The bucket lost the end of what was shipped (its last chunk deleted or cut short by
      // something else): uploaded again below, and said, as a gap is (a probe: silent).
      report.warnings.push(
        `${remoteName(part)}: the state file records ${mem.shippedBytes} bytes shipped, but ` +
          `the bucket's chunks end at byte ${agreed} (last ${chunks.at(-1)!.key}): bytes ` +
          `${agreed}-${mem.shippedBytes} were missing from the bucket; uploaded again from the ` +
          `local log`,
      );
    }
    mem.shippedBytes = agreed;
    if (end !== trusted) {
      this.#progress(`${remoteName(part)}: bucket already had bytes ${trusted}-${end}`);
    }
    return true;
  }

  /**
   * Whether the local bytes `[start, end)` can fill a gap between chunks:
   * the file has them, and they start and end a line.
   */
  async #refillable(
    file: Deno.FsFile,
    size: number,
    start: number,
    end: number,
  ): Promise<boolean> {
    if (end > size) return false;
    const last = await readLocalRange(file, end - 1, end);
    if (last[0] !== NEWLINE) return false;
    if (start === 0) return true;
    const before = await readLocalRange(file, start - 1, start);
    return before[0] === NEWLINE;
  }

  /** Upload the local bytes `[start, end)` (whole lines: a gap's) as chunks. */
  async #uploadRange(
    file: Deno.FsFile,
    size: number,
    part: RemotePart,
    start: number,
    end: number,
    report: ShipReport,
  ): Promise<void> {
    for (let at = start; at < end;) {
      const shipped = await this.#shipChunk(file, size, part, at, end, report);
      assert(shipped !== undefined, `a line ends at byte ${end} of ${remoteName(part)}`);
      at = shipped.end;
    }
  }

  /**
   * Remove the object `key` at byte `start` of `part` when it is an upload
   * cut off: no bytes, or bytes that equal the local ones there and end
   * mid-line. No whole upload is either (a chunk is whole lines), and the
   * bytes are this part's own, so nothing shipped is lost; the caller ships
   * the lines again from `start`. A server that keeps the body of a PUT whose
   * sender died (s3rver) left one, and every later ship of the part failed
   * on it, exit 1, its new lines never shipped (a probe: a ship killed with
   * SIGKILL mid-upload). `length` is its size as listed or looked up by the
   * caller. True when removed, with a warning in `report`.
   */
  async #removeTorn(
    file: Deno.FsFile,
    size: number,
    part: RemotePart,
    key: string,
    start: number,
    length: number,
    report: ShipReport,
  ): Promise<boolean> {
    // Its last byte first: a chunk found whole (a crash after its upload) costs one byte more.
    if (length > 0) {
      const last = await this.#store.get(key, { start: length - 1, end: length });
      if (last[0] === NEWLINE) return false;
    }
    const remote = await this.#store.get(key);
    if (remote.length > 0 && remote[remote.length - 1] === NEWLINE) return false;
    if (start + remote.length > size) return false;
    const local = await readLocalRange(file, start, start + remote.length);
    if (!bytesEqual(remote, local)) return false;
    await this.#store.delete(key);
    const held = remote.length === 0 ? "was empty" : `held ${remote.length} bytes ending mid-line`;
    report.warnings.push(
      `${remoteName(part)}: bucket object ${key} ${held} (an upload cut off, kept by the ` +
        `server); removed, and its lines shipped again from the local log`,
    );
    return true;
  }

  /**
   * The object `key` must equal the local bytes at `[start, start + length)`;
   * with `lastBytes`, only its last `lastBytes` are fetched and compared (the
   * end of a chunk the state file records).
   */
  async #verifyRemote(
    file: Deno.FsFile,
    size: number,
    key: string,
    start: number,
    length: number,
    lastBytes = length,
  ): Promise<void> {
    if (start + length > size) {
      const url = this.#objectUrl(key);
      throw new RemoteConflictError(
        `Bucket object ${url} holds bytes ${start}-${start + length} but the local part has ` +
          `only ${size} bytes`,
      );
    }
    const from = Math.max(0, length - lastBytes);
    const remote = await this.#store.get(
      key,
      from === 0 ? undefined : { start: from, end: length },
    );
    const local = await readLocalRange(file, start + from, start + length);
    if (!bytesEqual(remote, local) || remote[remote.length - 1] !== NEWLINE) {
      const url = this.#objectUrl(key);
      throw new RemoteConflictError(
        `Bucket object ${url} differs from the local log at bytes ${start + from}-${
          start + length
        }${firstDifference(remote, local, start + from, from === 0)}`,
      );
    }
  }

  async #upload(
    file: Deno.FsFile,
    size: number,
    part: RemotePart,
    mem: PartMemory,
    report: ShipReport,
  ): Promise<void> {
    while (mem.shippedBytes < size) {
      const shipped = await this.#shipChunk(file, size, part, mem.shippedBytes, size, report);
      if (shipped === undefined) return; // only an incomplete last line: it ships once complete
      mem.shippedBytes = shipped.end; // this chunk is in the bucket from here
      mem.tail = shipped.created !== undefined
        ? shipped.created.slice(Math.max(0, shipped.created.length - SHIPPED_TAIL_BYTES))
        : await shippedTail(file, shipped.end);
    }
  }

  /**
   * Ship one chunk of the whole lines of `[start, end)` from `start`: at most
   * {@linkcode CHUNK_BYTES_MAX}, or one line longer than that alone. The
   * chunk's end, with its bytes when this call created it; a key found
   * already there (an upload before a crash, or another shipper's repair)
   * must be a prefix of the local bytes. Undefined when only an incomplete
   * line is there.
   */
  async #shipChunk(
    file: Deno.FsFile,
    size: number,
    part: RemotePart,
    start: number,
    end: number,
    report: ShipReport,
  ): Promise<{ end: number; created?: Uint8Array } | undefined> {
    let bytes = await readLocalRange(file, start, Math.min(end, start + CHUNK_BYTES_MAX));
    let cut = bytes.lastIndexOf(NEWLINE) + 1;
    if (cut === 0 && start + bytes.length < end) {
      // One line longer than a chunk: it ships alone, in a chunk of its own size.
      const lineEndAt = await lineEnd(file, start + bytes.length, end, start + LONG_LINE_BYTES_MAX);
      if (lineEndAt === "too long") {
        throw new RemoteConflictError(
          `A line of day=${part.day}/${part.stem}.jsonl at byte ${start} is longer than ` +
            `${LONG_LINE_BYTES_MAX} bytes`,
        );
      }
      if (lineEndAt !== "incomplete") {
        bytes = await readLocalRange(file, start, lineEndAt);
        cut = bytes.length;
      }
    }
    if (cut === 0) return undefined;
    const body = bytes.subarray(0, cut);
    const key = chunkKey(this.#location.prefix, part, start);
    let put = await this.#put(key, body);
    let existing = put === "exists" ? await this.#store.head(key) : null;
    if (
      existing !== null &&
      await this.#removeTorn(file, size, part, key, start, existing, report)
    ) {
      put = await this.#put(key, body);
      existing = put === "exists" ? await this.#store.head(key) : null;
    }
    if (put === "created") {
      report.chunksPut++;
      report.bytesShipped += body.length;
      return { end: start + body.length, created: body };
    }
    if (existing === null) throw new Error(`Bucket reported ${key} as existing, then not found`);
    await this.#verifyRemote(file, size, key, start, existing);
    report.chunksFound++;
    return { end: start + existing };
  }

  /**
   * `putIfAbsent`, once the server is known to refuse an overwrite. Until
   * then one upload at a time: the first chunk created is written again with
   * `If-None-Match: *`, which must be refused. A server that writes it (the
   * same bytes: nothing changes) ignores conditional writes (s3rver): there
   * a chunk is written only when a look finds no object at its key, and read
   * back after, so that one ship never replaces another's chunk it could
   * see. Two ships of one key at the same moment can still race (a storage
   * audit had two machines' ships of one part to s3rver overwrite 19,001
   * lines); the pass warns of it, and the next ship of the losing part finds
   * its chunk differing from the local log (a conflict, exit 1).
   */
  async #put(key: string, body: Uint8Array): Promise<PutResult> {
    while (this.#refusesOverwrite === undefined && this.#probing !== undefined) {
      await this.#probing.catch(() => undefined); // its own caller reports its failure
    }
    if (this.#refusesOverwrite === false) return await this.#putChecked(key, body);
    if (this.#refusesOverwrite === true) return await this.#store.putIfAbsent(key, body);
    let result: PutResult | undefined;
    const probe = (async () => {
      result = await this.#store.putIfAbsent(key, body);
      if (result !== "created") return; // it was there: nothing learned yet
      this.#refusesOverwrite = await this.#store.putIfAbsent(key, body) === "exists";
    })();
    this.#probing = probe;
    try {
      await probe;
    } finally {
      this.#probing = undefined;
    }
    return result!;
  }

  /**
   * Write `body` at `key` on a server that ignores `If-None-Match: *`: only
   * when no object is there, then read back. An object found there, or found
   * other than written (another ship's, written meanwhile), is "exists": the
   * caller compares it with the local log.
   */
  async #putChecked(key: string, body: Uint8Array): Promise<PutResult> {
    if (await this.#store.head(key) !== null) return "exists";
    await this.#store.putIfAbsent(key, body);
    return bytesEqual(await this.#store.get(key), body) ? "created" : "exists";
  }

  async #loadState(): Promise<void> {
    this.#loaded = true;
    let text: string;
    try {
      text = await Deno.readTextFile(this.#statePath);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        this.#progress(`no state file ${this.#statePath}: checking the bucket part by part`);
        return;
      }
      throw err;
    }
    const state = parseState(text);
    if (state === undefined) {
      this.#progress(`state file ${this.#statePath} is unreadable: checking the bucket instead`);
      return;
    }
    if (state.refuses_overwrite === false) this.#refusesOverwrite = false;
    for (const [name, p] of Object.entries(state.parts)) {
      this.#parts.set(name, {
        fingerprint: p.fingerprint,
        shippedBytes: p.shipped_bytes,
        verified: false,
        conflicted: p.conflict === true,
        missing: p.missing === true,
        ...(p.mtime_ms === undefined ? {} : { mtimeMs: p.mtime_ms }),
      });
    }
  }

  async #saveState(): Promise<void> {
    const parts: Record<string, StatePart> = {};
    for (const [name, m] of [...this.#parts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (m.fingerprint === undefined) continue;
      parts[name] = {
        fingerprint: m.fingerprint,
        shipped_bytes: m.shippedBytes,
        ...(m.mtimeMs === undefined ? {} : { mtime_ms: m.mtimeMs }),
        ...(m.conflicted ? { conflict: true } : {}),
        ...(m.missing ? { missing: true } : {}),
      };
    }
    const state: StateFile = {
      format: STATE_FORMAT,
      target: formatBucketUrl(this.#location),
      saved_at_ms: Date.now(),
      ...(this.#refusesOverwrite === false ? { refuses_overwrite: false } : {}),
      parts,
    };
    const text = JSON.stringify(state, null, 1) + "\n";
    await writeFileAtomic(this.#statePath, new TextEncoder().encode(text));
  }
}

interface StatePart {
  fingerprint: string;
  shipped_bytes: number;
  /** The last pass found the part in conflict with the bucket ({@linkcode PartMemory}). */
  conflict?: boolean;
  /** The last check found no chunk of the part in the bucket ({@linkcode PartMemory.missing}). */
  missing?: boolean;
  /** {@linkcode PartMemory.mtimeMs}. */
  mtime_ms?: number | null;
}

interface StateFile {
  format: number;
  target: string;
  saved_at_ms: number;
  /** The server wrote an object over itself when asked not to ({@linkcode overwritingServerWarning}). */
  refuses_overwrite?: false;
  parts: Record<string, StatePart>;
}

function parseState(text: string): StateFile | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const s = raw as Partial<StateFile> | null;
  if (s === null || typeof s !== "object" || s.format !== STATE_FORMAT) return undefined;
  if (typeof s.parts !== "object" || s.parts === null) return undefined;
  for (const p of Object.values(s.parts)) {
    if (typeof p?.fingerprint !== "string" || !Number.isSafeInteger(p.shipped_bytes)) {
      return undefined;
    }
    if (p.mtime_ms !== undefined && p.mtime_ms !== null && !Number.isFinite(p.mtime_ms)) {
      return undefined;
    }
  }
  return s as StateFile;
}

/**
 * Ship once: check the bucket, lock, one pass, unlock.
 *
 * @example Needs an S3 server (`tests/storage/ship_test.ts` runs these calls against Ceph RGW)
 * ```ts ignore
 * // Not run by the doc tests: it needs an S3 server and the AWS_* variables
 * // (tests/storage runs the same calls against a real one: Ceph RGW on loopback).
 * import { openS3Store } from "./s3.ts";
 * import { shipOnce } from "./ship.ts";
 * const report = await shipOnce("data/ledger", openS3Store("logs"), { bucket: "logs", prefix: "" });
 * console.log(report.bytesShipped);
 * ```
 */
export async function shipOnce(
  root: string,
  store: ObjectStore,
  location: BucketLocation,
  options: ShipOptions = {},
): Promise<ShipReport> {
  const shipper = new Shipper(root, store, location, options);
  await shipper.open();
  try {
    return await shipper.pass();
  } finally {
    shipper.close();
  }
}

/**
 * Take the size of `f` into the pass's `cut` when it is a shared part (under
 * its lock, {@linkcode stableAcknowledgedSize}), with its size and time as
 * the lock saw them. False when it is gone.
 */
async function takeCut(root: string, f: LocalPart, cut: Map<string, StableSize>): Promise<boolean> {
  if (!SHARED_PART_PATTERN.test(basename(f.path))) return true;
  const stable = await stableAcknowledgedSize(root, f.day, f.path);
  if (stable === undefined) return false; // removed since it was listed: not part of this pass
  cut.set(f.file, stable);
  f.sizeBytes = stable.info.size;
  f.mtimeMs = stable.info.mtime?.getTime() ?? null;
  return true;
}

/**
 * The stat of `f` (open as `file`) and its acknowledged bytes: a shared
 * part's whole lines as the pass's cut took them (`taken`, when `file` is
 * still that file: no writer cuts below them) or else under its lock
 * ({@linkcode stableAcknowledgedSize}); any other part's are its size, cut
 * to a batch's record if one names it.
 */
async function acknowledgedOf(
  root: string,
  f: LocalPart,
  file: Deno.FsFile,
  taken?: StableSize,
): Promise<{ info: Deno.FileInfo; size: number }> {
  if (SHARED_PART_PATTERN.test(basename(f.path))) {
    if (taken !== undefined) {
      const info = await file.stat();
      if (info.ino === taken.info.ino && info.dev === taken.info.dev) {
        return { info, size: taken.wholeLinesBytes };
      }
    }
    const stable = await stableAcknowledgedSize(root, f.day, f.path, { file });
    assert(stable !== undefined, "an open file is there");
    // Whole lines only: a torn tail is cut by the next writer, and a batch could then append
    // where it was (ship sends whole lines anyway).
    return { info: stable.info, size: stable.wholeLinesBytes };
  }
  const info = await file.stat();
  return { info, size: await acknowledgedSize(root, f.day, f.path, info.size) };
}

/** One local part file. */
interface LocalPart {
  /** `day=D/<name>.jsonl`. */
  file: string;
  path: string;
  day: string;
  stem: string;
  sizeBytes: number;
  /** Modification time when listed, ms (null where the file system has none). */
  mtimeMs: number | null;
}

/**
 * What is shipped: every `*.jsonl` of a day folder except hidden files
 * (temporary files), whatever the writer named it (ledger, Python, or an
 * import); the indexer decides what it reads. A name may hold a line break
 * (`s`: without it, a part named with `\n`, `\r` or U+2028 was left out
 * unsaid, where the local index read it: a storage probe).
 */
const SHIPPED_FILE_PATTERN = /^[^.].*\.jsonl$/s;

/**
 * Every `*.jsonl` part under `<root>/events/day=*` (names do not matter),
 * sorted; a day folder that is a link to no folder is put in `unreachable`,
 * a part whose name is not UTF-8 (listed with U+FFFD) in `notUtf8`.
 */
async function listLocalParts(
  root: string,
  unreachable: UnreachableDayError[],
  notUtf8: string[],
): Promise<LocalPart[]> {
  const base = eventsDir(root);
  const out: LocalPart[] = [];
  for (const dayEntry of await readDirOrEmpty(base)) {
    const m = DAY_DIR_PATTERN.exec(dayEntry.name);
    if (m === null) continue;
    try {
      if (!(await isDayFolder(base, dayEntry))) continue;
    } catch (err) {
      if (!(err instanceof UnreachableDayError)) throw err;
      unreachable.push(err);
      continue;
    }
    const names = new Set<string>();
    for (const e of await readDirOrEmpty(join(base, dayEntry.name))) {
      if (!e.isFile || !SHIPPED_FILE_PATTERN.test(e.name)) continue;
      const path = join(base, dayEntry.name, e.name);
      // Beside a file named so in UTF-8, the path reaches that one only (a review).
      const again = names.has(e.name);
      names.add(e.name);
      if (again && e.name.includes("\uFFFD")) {
        notUtf8.push(`${dayEntry.name}/${e.name}`);
        continue;
      }
      let sizeBytes: number;
      let mtimeMs: number | null;
      try {
        const info = await Deno.stat(path);
        sizeBytes = info.size;
        mtimeMs = info.mtime?.getTime() ?? null;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        // Its name not UTF-8, or removed since listed.
        if (e.name.includes("\uFFFD")) notUtf8.push(`${dayEntry.name}/${e.name}`);
        continue;
      }
      const stem = e.name.slice(0, -".jsonl".length);
      out.push({ file: `${dayEntry.name}/${e.name}`, path, day: m[1], stem, sizeBytes, mtimeMs });
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

async function readDirOrEmpty(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

const NEWLINE = 0x0a;

/**
 * Where `remote` and `local`, both read from byte `at` of a part (a line's
 * start when `atLineStart`), first differ, as a clause for a conflict's
 * message: the byte, and where the local line holding it starts. A probe:
 * the message named a 16 MiB chunk's whole range, not the line that differed.
 */
function firstDifference(
  remote: Uint8Array,
  local: Uint8Array,
  at: number,
  atLineStart: boolean,
): string {
  const n = Math.min(remote.length, local.length);
  let i = 0;
  while (i < n && remote[i] === local[i]) i++;
  if (i === n && remote.length === local.length) {
    return "; the bucket's bytes end mid-line (an upload cut off, or bytes added to it)";
  }
  const which = i < n
    ? `first at byte ${at + i}`
    : `the ${remote.length < local.length ? "bucket's" : "local"} bytes end at byte ${at + n}`;
  const lineStart = i === 0 ? -1 : local.lastIndexOf(NEWLINE, i - 1);
  const line = lineStart === -1 && !atLineStart
    ? `the local line holding byte ${at}`
    : `the local line from byte ${at + lineStart + 1}`;
  return `; ${which}, in ${line}`;
}

/**
 * The fingerprint of a part's first line, or undefined while it has no
 * complete line. A first line longer than {@linkcode FIRST_LINE_BYTES_MAX}
 * (a bad line the indexer records, followed by good ones a Python writer
 * may have written) is fingerprinted by its first bytes, which an
 * append-only file never changes.
 */
async function firstLineFingerprint(file: Deno.FsFile, size: number): Promise<string | undefined> {
  const head = await readLocalRange(file, 0, Math.min(size, FIRST_LINE_BYTES_MAX));
  const end = head.indexOf(NEWLINE);
  if (end >= 0) return fingerprintOf(head.subarray(0, end));
  return size > FIRST_LINE_BYTES_MAX ? fingerprintOf(head) : undefined;
}

/** The last {@linkcode SHIPPED_TAIL_BYTES} before `shippedBytes` (what the bucket holds there). */
function shippedTail(file: Deno.FsFile, shippedBytes: number): Promise<Uint8Array> {
  return readLocalRange(file, Math.max(0, shippedBytes - SHIPPED_TAIL_BYTES), shippedBytes);
}

/**
 * The offset just after the first newline at or after `from` (before
 * `size`), "incomplete" when there is none, "too long" when there is none
 * before `limit`.
 */
async function lineEnd(
  file: Deno.FsFile,
  from: number,
  size: number,
  limit: number,
): Promise<number | "incomplete" | "too long"> {
  for (let at = from; at < size; at += CHUNK_BYTES_MAX) {
    if (at >= limit) return "too long";
    const piece = await readLocalRange(file, at, Math.min(size, at + CHUNK_BYTES_MAX));
    const nl = piece.indexOf(NEWLINE);
    if (nl >= 0) return at + nl + 1 > limit ? "too long" : at + nl + 1;
  }
  return "incomplete";
}

/** Read exactly `[start, end)` of `file` (the caller knows the file has it). */
async function readLocalRange(file: Deno.FsFile, start: number, end: number): Promise<Uint8Array> {
  const bytes = await readRange(file, start, end);
  if (bytes.length < end - start) {
    throw new RemoteConflictError(
      `The local part ended at byte ${start + bytes.length}, expected ${end}`,
    );
  }
  return bytes;
}

/** A local part now shorter than what the bucket holds of it. */
function shrankError(file: string, size: number, mem: PartMemory): RemoteConflictError {
  return new RemoteConflictError(
    `Local part ${file} has ${size} bytes but ${mem.shippedBytes} were shipped ` +
      `(the file shrank or was replaced)`,
  );
}

function remoteName(part: RemotePart): string {
  return `day=${part.day}/${part.stem}.jsonl`;
}
