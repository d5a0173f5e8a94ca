/**
 * Indexing a log from a bucket (SPEC 14): `rebuild-index --from` and
 * `daemon --from`. The chunks of each remote part are appended, in offset
 * order, to one local mirror file under `<root>/remote/<location id>/events/`
 * (a cache root with the layout of a local log), then the ordinary indexer
 * runs over that mirror with every rule of SPEC 7: incremental (a mirror file
 * only grows, so only its new bytes are read), dedup by `event_id`, bad lines
 * to `ingest_errors`, atomic publish. Each chunk object is fetched once.
 *
 * The mirror's verified sizes are kept in `mirror.json` (written atomically
 * after the appended bytes are synced); after a crash every mirror file is cut
 * back to its recorded size, so a torn append is never indexed twice.
 *
 * @module
 */
import { bytesEqual, readRange } from "../ledger/byte_range.ts";
import { dirname, join } from "node:path";
import { assert } from "../ledger/assert.ts";
import { DAY_DIR_PATTERN, eventsDir, indexPath } from "../ledger/paths.ts";
import {
  checkIndexSource,
  isSourceRefusal,
  rebuildIndex,
  type RebuildReport,
  refuseForeignIndexPath,
} from "../indexer/rebuild.ts";
import {
  acquireDaemonLock,
  changedFilesLogEntry,
  type DaemonLogEntry,
  type DaemonSummary,
  formatLogEntry,
  indexState,
  keepDaemonLock,
  lockRetakenLogEntry,
  rebuildLogEntry,
  recoveredLogEntry,
} from "../indexer/daemon.ts";
import { allRows, withReader } from "../indexer/query/reader.ts";
import { shownAndMore } from "../ledger/count_text.ts";
import { appendDurable, ensureDir, syncDir, writeFileAtomic } from "./_durable.ts";
import {
  type Chunk,
  locationId,
  MIRROR_FILE_PATTERN,
  parseChunkKey,
  remotePartFile,
} from "./_layout.ts";
import { forEachLimited } from "./_pool.ts";
import { CHUNK_BYTES_MAX } from "./ship.ts";
import { type BucketLocation, formatBucketUrl, type ObjectStore } from "./object_store.ts";

/** Remote parts mirrored at the same time. */
const PARTS_CONCURRENT_MAX = 4;
/**
 * Fewest chunks fetched between two saves of `mirror.json` within a pass: a
 * pass killed mid-fetch loses at most these, or one part in
 * {@linkcode MIRROR_CHECKPOINT_FILES_PER_SAVE} of the mirror's files when
 * that is more (and {@linkcode MIRROR_CHECKPOINT_BYTES}).
 */
export const MIRROR_CHECKPOINT_CHUNKS = 64;
/**
 * A save writes every mirror file's size and tags, so a large mirror saves
 * once per this many of its files' worth of chunks: the saves of a first
 * fetch then cost about this many times the state's size in all, not the
 * square of the mirror's files (100k files: 15 MB a save).
 */
const MIRROR_CHECKPOINT_FILES_PER_SAVE = 8;
/** Bytes fetched between two saves of `mirror.json` within a pass. */
const MIRROR_CHECKPOINT_BYTES = 64 * 1024 * 1024;
/**
 * Bytes of a bucket object held at once: a chunk `ledger ship` writes (16
 * MiB at most, {@linkcode CHUNK_BYTES_MAX}) in one request, a larger object
 * (another tool's) in ranges of this size. A probe: an object of 1.76 GB
 * fetched whole took 3.7 GB of memory, whatever --memory-limit said.
 */
export const FETCH_RANGE_BYTES = CHUNK_BYTES_MAX;
/** Format of `mirror.json`. */
const MIRROR_FORMAT = 1;

/** Options for {@linkcode rebuildIndexFromBucket}. */
export interface BucketIndexOptions {
  /** The endpoint URL (only to name the cache). @default {undefined} */
  endpoint?: string;
  /** The index file. @default {`<root>/index/runs.duckdb`} */
  dbPath?: string;
  /** Rebuild the index from scratch (the mirror is kept). @default {false} */
  full?: boolean;
  /** Re-read the partitions from this day on (see `RebuildOptions`). @default {undefined} */
  sinceDate?: string;
  /** A running run silent this long shows as stale. @default {24 h} */
  staleAfterMs?: number;
  /** DuckDB memory limit of the rebuild (see `RebuildOptions.memoryLimit`). */
  memoryLimit?: string;
  /** Bytes of a bucket object fetched at once. @default {FETCH_RANGE_BYTES} */
  fetchRangeBytes?: number;
  /** Receives progress lines. @default {undefined} */
  onProgress?: (message: string) => void;
  /**
   * Aborting stops the rebuild as `RebuildOptions.signal` does (its
   * temporary files removed, the previous index kept); checked before the
   * rebuild starts too. @default {undefined}
   */
  signal?: AbortSignal;
}

/** What one mirror pass did. */
export interface MirrorReport {
  /** Chunk objects listed under the prefix. */
  chunksListed: number;
  /** Chunk objects fetched (the new ones). */
  chunksFetched: number;
  /** Bytes fetched. */
  bytesFetched: number;
  /** Remote parts (mirror files). */
  parts: number;
  /** Keys under `events/` that are not chunks of this layout (ignored). */
  foreignKeys: number;
  /**
   * Those of them that any engine reading `events/day=*\/*.jsonl` would read
   * (e.g. a log copied in with `aws s3 sync`), which the index leaves out:
   * the first {@linkcode STALLED_SHOWN_MAX} keys; `foreignKeys` counts all.
   */
  foreignLogKeys: { shown: string[]; count: number };
  /** Mirror files removed (gone from the bucket) or reset. */
  filesRemoved: number;
  /** Whether any mirror file changed. */
  changed: boolean;
  /**
   * Parts whose chain of chunks has a gap: the mirror (and so the index)
   * stops at `fromByte` until the missing chunk is in the bucket.
   */
  stalled: { part: string; fromByte: number }[];
  /**
   * Chunk keys whose start falls inside bytes the part's chain already has
   * (the shipper never writes such a key: something else did). Ignored, so
   * that every mirror of the bucket, fresh or old, holds the same bytes.
   */
  overlapping: { key: string; part: string; startByte: number }[];
  /**
   * Mirror files dropped and fetched again because their part changed in the
   * bucket after it was mirrored: a chunk written again with other bytes
   * (`key`, seen by its entity tag, as the size may not change) or chunks
   * removed (`key` undefined). `ledger ship` never does either: something
   * else wrote to the bucket. The index re-reads those parts.
   */
  changedParts: { part: string; key: string | undefined }[];
  /**
   * Mirror files dropped (changed in the bucket, gone from it, or cut short
   * by a crash) since the last rebuild that read them, each with the token
   * of the pass that dropped it: the index reads them whole again
   * (`RebuildOptions.rereadFiles`), as one fetched again can hold other
   * bytes before the offset the index had reached. Kept in `mirror.json`
   * until {@linkcode forgetReread} is called after a rebuild that read
   * them, so a rebuild that fails or is killed does not lose them.
   */
  reread: Record<string, string>;
  /**
   * The mirror's content after the pass: every mirror file with its size,
   * sorted. Another `--from` process on the same root can fetch chunks
   * first (`changed` is then false here), so a daemon compares this with
   * what it last indexed.
   */
  state: string;
}

/**
 * One line when the bucket prefix holds nothing under `events/`, or
 * undefined: a mistyped `--from` prefix gave exit 0 and an empty index
 * without a word (an audit), where a mistyped `--root` is refused. Not
 * refused here: a daemon may be set up before the first ship.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { emptyPrefixWarning, type MirrorReport } from "./bucket_index.ts";
 * const none = { chunksListed: 0, foreignKeys: 0 } as MirrorReport;
 * assert.match(emptyPrefixWarning(none)!, /holds nothing under events\/ \(a mistyped --from prefix/);
 * assert.equal(emptyPrefixWarning({ ...none, chunksListed: 1 }), undefined);
 * ```
 */
export function emptyPrefixWarning(report: MirrorReport): string | undefined {
  if (report.chunksListed > 0 || report.foreignKeys > 0) return undefined;
  return "the bucket prefix holds nothing under events/ (a mistyped --from prefix, or nothing " +
    "shipped there yet): the index holds no event from it";
}

/**
 * One line naming the parts a mirror waits on, or undefined when none: a
 * missing chunk leaves every later event of its part out of the index, which
 * must not pass unsaid (an audit: exit 0 and an ordinary summary).
 */
export function stalledWarning(report: MirrorReport): string | undefined {
  if (report.stalled.length === 0) return undefined;
  const shown = report.stalled.slice(0, STALLED_SHOWN_MAX)
    .map((s) => `${s.part} from byte ${s.fromByte}`);
  return `${report.stalled.length} part(s) wait for a chunk missing from the bucket; the index ` +
    `lacks their events from there: ${shownAndMore(shown, report.stalled.length)}`;
}

/**
 * One line naming the chunk keys a mirror ignored because they overlap their
 * part's chain (see {@linkcode MirrorReport.overlapping}), or undefined when
 * none: a fresh mirror once spliced such an object in at the wrong offset
 * while an older one ignored it, silently (an audit).
 */
export function overlapWarning(report: MirrorReport): string | undefined {
  if (report.overlapping.length === 0) return undefined;
  const shown = report.overlapping.slice(0, STALLED_SHOWN_MAX)
    .map((o) => `${o.key} (starts at byte ${o.startByte} of ${o.part})`);
  return `${report.overlapping.length} bucket object(s) overlap bytes their part already has ` +
    `(written by something other than ledger ship) and are ignored: ` +
    shownAndMore(shown, report.overlapping.length);
}

/**
 * One line naming the `.jsonl` objects of the bucket's day folders that are
 * not ledger chunks, or undefined when none: DuckDB or Spark reading the
 * bucket's `events/day=*\/*.jsonl` reads them, the index does not (an
 * audit: a log copied in with `aws s3 sync` was left out in silence).
 */
export function foreignLogWarning(report: MirrorReport): string | undefined {
  const { shown, count } = report.foreignLogKeys;
  if (count === 0) return undefined;
  return `${count} .jsonl object(s) in the bucket's day folders are not chunks written by ` +
    `ledger ship, so the index leaves them out (ship a log with ledger ship instead of copying ` +
    `it in): ${shownAndMore(shown, count)}`;
}

/**
 * One line naming the parts the mirror fetched again because they changed in
 * the bucket (see {@linkcode MirrorReport.changedParts}), or undefined when
 * none: an audit found a chunk rewritten with bytes of the same size kept as
 * it was by an existing mirror, even with `--full`, while a fresh mirror
 * fetched the new bytes; two indexers of one bucket disagreed, silently.
 */
export function changedWarning(report: MirrorReport): string | undefined {
  const changed = report.changedParts;
  if (changed.length === 0) return undefined;
  const shown = changed.slice(0, STALLED_SHOWN_MAX)
    .map((c) => c.key === undefined ? `${c.part} (chunks removed)` : `${c.part} (${c.key})`);
  // Ship itself removes a chunk cut off mid-upload (`ship.ts`): a probe saw this warning blame
  // "something other than ledger ship" for its repair.
  return `${changed.length} part(s) changed in the bucket after they were mirrored (an object ` +
    `written again or removed: by something other than ledger ship, or a chunk cut off ` +
    `mid-upload that ship replaced); fetched again, and the index re-reads them: ` +
    shownAndMore(shown, changed.length);
}

/** The warnings of a mirror pass, each one line. */
export function mirrorWarnings(report: MirrorReport): string[] {
  const lines = mirrorWarningEntries(report).flatMap((w) => w.msg === undefined ? [] : [w.msg]);
  const changed = changedWarning(report);
  return changed === undefined ? lines : [changed, ...lines];
}

/** Each kind of mirror warning: its line (undefined: none), log fields, and what ends it. */
function mirrorWarningEntries(report: MirrorReport): {
  key: string;
  msg: string | undefined;
  fields: Record<string, number>;
  over: string;
}[] {
  return [{
    key: "stalled",
    msg: stalledWarning(report),
    fields: { stalled_parts: report.stalled.length },
    over: "no part waits for a missing chunk any more",
  }, {
    key: "overlapping",
    msg: overlapWarning(report),
    fields: { overlapping_objects: report.overlapping.length },
    over: "no bucket object overlaps its part any more",
  }, {
    key: "empty",
    msg: emptyPrefixWarning(report),
    fields: { chunks_listed: report.chunksListed },
    over: "the bucket prefix holds chunks now",
  }, {
    key: "foreign",
    msg: foreignLogWarning(report),
    fields: { foreign_log_objects: report.foreignLogKeys.count },
    over: "every .jsonl object in the bucket's day folders is a ledger chunk again",
  }];
}

/** Stalled parts (or keys) a warning names before "and N more". */
const STALLED_SHOWN_MAX = 5;

/** A key (below the prefix) that engines read as part of the log: `events/day=D/*.jsonl`. */
const FOREIGN_LOG_KEY = /^events\/day=[^/]+\/[^/]+\.jsonl$/;

/**
 * The cache root that mirrors `location` for the ledger at `root`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { cacheRootFor } from "./bucket_index.ts";
 * const dir = cacheRootFor("/srv/ledger", undefined, { bucket: "logs", prefix: "" });
 * assert.match(dir, /^\/srv\/ledger\/remote\//);
 * ```
 */
export function cacheRootFor(
  root: string,
  endpoint: string | undefined,
  location: BucketLocation,
): string {
  return join(root, "remote", locationId(endpoint, location.bucket, location.prefix));
}

/**
 * Bring the mirror at `cacheRoot` up to date with the bucket: fetch only the
 * chunks it lacks, remove what the bucket no longer has.
 *
 * @example Needs an S3 server (`tests/storage/ship_test.ts` runs these calls against Ceph RGW)
 * ```ts ignore
 * // Not run by the doc tests: it needs an S3 server and the AWS_* variables
 * // (tests/storage runs the same calls against a real one: Ceph RGW on loopback).
 * import { openS3Store } from "./s3.ts";
 * import { mirrorBucket } from "./bucket_index.ts";
 * await mirrorBucket(openS3Store("logs"), { bucket: "logs", prefix: "" }, "/tmp/mirror");
 * ```
 */
export async function mirrorBucket(
  store: ObjectStore,
  location: BucketLocation,
  cacheRoot: string,
  options: Pick<BucketIndexOptions, "onProgress" | "fetchRangeBytes"> = {},
): Promise<MirrorReport> {
  const progress = options.onProgress ?? (() => {});
  const rangeBytes = options.fetchRangeBytes ?? FETCH_RANGE_BYTES;
  assert(Number.isSafeInteger(rangeBytes) && rangeBytes > 0, `fetch range of ${rangeBytes} bytes`);
  return await withMirrorLock(
    cacheRoot,
    () => new Mirror(store, cacheRoot, progress, rangeBytes).pass(location),
  );
}

/**
 * After a rebuild that read the files of `reread` (a pass's
 * {@linkcode MirrorReport.reread}) whole: forget them, except those a later
 * pass dropped again (another token), which the next rebuild reads.
 */
export async function forgetReread(
  cacheRoot: string,
  reread: Readonly<Record<string, string>>,
): Promise<void> {
  if (Object.keys(reread).length === 0) return;
  await withMirrorLock(cacheRoot, async () => {
    const path = join(cacheRoot, MIRROR_STATE_FILE);
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      // No state, or one a pass will start over from: nothing recorded to forget.
      if (err instanceof Deno.errors.NotFound || err instanceof SyntaxError) return;
      throw err;
    }
    const pending = raw?.reread;
    if (typeof pending !== "object" || pending === null) return;
    const left = Object.entries(pending).filter(([name, token]) => reread[name] !== token);
    if (left.length === Object.keys(pending).length) return;
    raw.reread = Object.fromEntries(left);
    const text = JSON.stringify(raw, null, 1) + "\n";
    await writeFileAtomic(path, new TextEncoder().encode(text));
  });
}

/** Run `body` holding the mirror's lock: one pass (or forget) per cache at a time. */
async function withMirrorLock<T>(cacheRoot: string, body: () => Promise<T>): Promise<T> {
  await ensureDir(cacheRoot);
  const lockFile = await Deno.open(join(cacheRoot, ".mirror.lock"), {
    read: true,
    write: true,
    create: true,
  });
  try {
    await lockFile.lock(true);
    return await body();
  } finally {
    lockFile.close();
  }
}

/** The mirror's state file in its cache root. */
const MIRROR_STATE_FILE = "mirror.json";

class Mirror {
  #store: ObjectStore;
  #cacheRoot: string;
  #progress: (message: string) => void;
  #sizes = new Map<string, number>();
  /** Per mirror file: the entity tag of each chunk it holds, by start byte. */
  #etags = new Map<string, Map<number, string>>();
  /** Entity tags learnt for chunks mirrored before they were recorded (state to save). */
  #etagsLearnt = false;
  /** Mirror files the index must read whole again, each with its pass's token. */
  #reread = new Map<string, string>();
  /** This pass's token in {@linkcode MirrorReport.reread}. */
  #passToken = crypto.randomUUID();
  /** Chunks and bytes fetched since `mirror.json` was last saved. */
  #unsaved = { chunks: 0, bytes: 0 };
  /** The save in progress: saves run one after the other. */
  #saving: Promise<void> = Promise.resolve();

  /** Bytes of an object fetched at once ({@linkcode FETCH_RANGE_BYTES}). */
  #rangeBytes: number;

  constructor(
    store: ObjectStore,
    cacheRoot: string,
    progress: (message: string) => void,
    rangeBytes: number,
  ) {
    this.#store = store;
    this.#cacheRoot = cacheRoot;
    this.#progress = progress;
    this.#rangeBytes = rangeBytes;
  }

  async pass(location: BucketLocation): Promise<MirrorReport> {
    const report: MirrorReport = {
      chunksListed: 0,
      chunksFetched: 0,
      bytesFetched: 0,
      parts: 0,
      foreignKeys: 0,
      foreignLogKeys: { shown: [], count: 0 },
      filesRemoved: 0,
      changed: false,
      stalled: [],
      overlapping: [],
      changedParts: [],
      reread: {},
      state: "",
    };
    await this.#recover(report);
    const groups = new Map<string, Chunk[]>();
    for await (const o of this.#store.list(`${location.prefix}events/`)) {
      const c = parseChunkKey(location.prefix, o.key, o.sizeBytes, o.etag);
      if (c === null) {
        report.foreignKeys++;
        if (FOREIGN_LOG_KEY.test(o.key.slice(location.prefix.length))) {
          const foreign = report.foreignLogKeys;
          if (foreign.shown.length < STALLED_SHOWN_MAX) foreign.shown.push(o.key);
          foreign.count++;
        }
        continue;
      }
      report.chunksListed++;
      const name = remotePartFile(c);
      const list = groups.get(name);
      if (list === undefined) groups.set(name, [c]);
      else list.push(c);
    }
    report.parts = groups.size;
    if (report.foreignKeys > 0) {
      this.#progress(`ignored ${report.foreignKeys} keys that are not ledger chunks`);
    }
    for (const name of [...this.#sizes.keys()]) {
      if (!groups.has(name)) await this.#remove(name, "gone from the bucket", report);
    }
    let failure: unknown;
    await forEachLimited([...groups], PARTS_CONCURRENT_MAX, async ([name, chunks]) => {
      try {
        await this.#follow(name, chunks, report);
      } catch (err) {
        failure ??= err;
      }
    });
    // After every appended byte is synced.
    if (report.changed || this.#etagsLearnt) await this.#saveState();
    if (failure !== undefined) throw failure;
    report.state = JSON.stringify(
      [...this.#sizes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    report.reread = Object.fromEntries([...this.#reread].sort(([a], [b]) => (a < b ? -1 : 1)));
    return report;
  }

  /** Load `mirror.json` and cut every mirror file back to its recorded size. */
  async #recover(report: MirrorReport): Promise<void> {
    const state = await this.#loadState();
    this.#reread = new Map(state?.reread ?? []);
    const recorded = state?.sizes;
    const onDisk = await listMirrorFiles(this.#cacheRoot);
    if (recorded === undefined && onDisk.length > 0) {
      this.#progress("mirror state missing: starting the mirror over");
    }
    for (const name of onDisk) {
      const want = recorded?.get(name);
      const path = this.#path(name);
      const size = (await Deno.stat(path)).size;
      if (want === undefined || size < want) {
        await Deno.remove(path); // not recorded (a crash before the state write) or lost bytes
        this.#reread.set(name, this.#passToken);
        report.filesRemoved++;
        report.changed = true;
        continue;
      }
      if (size > want) {
        // Bytes appended before a crash, not yet recorded: cut them, fetch them again.
        const file = await Deno.open(path, { write: true });
        try {
          await file.truncate(want);
          await file.syncData();
        } finally {
          file.close();
        }
      }
      this.#sizes.set(name, want);
      this.#etags.set(name, state?.etags.get(name) ?? new Map());
    }
    if (recorded !== undefined) {
      for (const name of recorded.keys()) {
        if (!this.#sizes.has(name)) report.changed = true; // recorded but vanished
      }
    }
  }

  /** Append the chunks of one remote part that the mirror lacks, in order. */
  async #follow(name: string, chunks: Chunk[], report: MirrorReport): Promise<void> {
    chunks.sort((a, b) => a.startByte - b.startByte);
    let have = this.#sizes.get(name) ?? 0;
    const ends = new Set<number>([0]);
    // The chain: the chunks that follow each other from byte 0. A key starting inside it
    // overlaps it and is ignored; one starting past its end waits for the missing bytes.
    const chain: Chunk[] = [];
    let chainEnd = 0;
    let gap = false;
    for (const c of chunks) {
      // An empty object holds no bytes of the part: fetched on every pass, it made each a change
      // (a probe: daemon --from rebuilt the index every interval for one such object).
      if (c.sizeBytes === 0) continue;
      if (c.startByte < chainEnd) {
        this.#progress(`${name}: ignoring ${c.key}, which overlaps the part's chunks`);
        report.overlapping.push({ key: c.key, part: name, startByte: c.startByte });
      } else if (c.startByte > chainEnd || gap) {
        gap = true;
      } else {
        chain.push(c);
        chainEnd += c.sizeBytes;
        ends.add(chainEnd);
      }
    }
    const rewritten = ends.has(have) ? await this.#rewrittenChunk(name, chain, have) : undefined;
    if (rewritten !== undefined || !ends.has(have)) {
      // A chunk the mirror holds was written again, or the mirror does not end on a chunk
      // boundary of the bucket (chunks removed or resized): the part was changed.
      report.changedParts.push({ part: name, key: rewritten });
      await this.#remove(
        name,
        rewritten === undefined ? "no longer matches the bucket" : `${rewritten} was written again`,
        report,
      );
      have = 0;
    }
    if (gap) {
      this.#progress(`${name}: waiting for bytes from ${chainEnd} (a chunk is missing)`);
      report.stalled.push({ part: name, fromByte: chainEnd });
    }
    const todo = chain.filter((c) => c.startByte >= have);
    if (todo.length === 0) return;
    const path = this.#path(name);
    const created = have === 0;
    await ensureDir(dirname(path));
    const file = await Deno.open(path, { write: true, append: true, create: true });
    try {
      if (created) await syncDir(dirname(path)); // the new mirror file's entry is durable
      for (const c of todo) {
        // A range at a time; a kill or a failure mid-object leaves bytes past the recorded size,
        // which the next pass's recovery cuts.
        for await (const bytes of fetchObject(this.#store, c, this.#rangeBytes)) {
          await appendDurable(file, bytes);
        }
        have += c.sizeBytes;
        this.#sizes.set(name, have);
        this.#recordEtag(name, c);
        report.chunksFetched++;
        report.bytesFetched += c.sizeBytes;
        report.changed = true;
        this.#unsaved.chunks++;
        this.#unsaved.bytes += c.sizeBytes;
        const chunksPerSave = Math.max(
          MIRROR_CHECKPOINT_CHUNKS,
          Math.floor(this.#sizes.size / MIRROR_CHECKPOINT_FILES_PER_SAVE),
        );
        if (
          this.#unsaved.chunks >= chunksPerSave || this.#unsaved.bytes >= MIRROR_CHECKPOINT_BYTES
        ) await this.#saveState(); // a kill from here keeps what is verified so far
      }
    } finally {
      file.close();
    }
  }

  /**
   * The key of the first chunk of `chain` the mirror holds (`have` ends one
   * of them) whose bytes changed since it was fetched, or undefined. A
   * chunk whose entity tag differs from the recorded one is fetched and
   * compared with the mirror: a store may give the same bytes a new tag (a
   * copy onto itself, a multipart upload), which is no change. A chunk
   * mirrored before tags were recorded gets its tag now.
   */
  async #rewrittenChunk(name: string, chain: Chunk[], have: number): Promise<string | undefined> {
    let known = this.#etags.get(name);
    if (known === undefined) this.#etags.set(name, known = new Map());
    for (const c of chain) {
      if (c.startByte >= have) break;
      if (c.etag === undefined) continue; // a store without tags: sizes only
      const was = known.get(c.startByte);
      if (was === c.etag) continue;
      if (was !== undefined) {
        let at = c.startByte;
        for await (const remote of fetchObject(this.#store, c, this.#rangeBytes)) {
          const mirrored = await readMirrorRange(this.#path(name), at, at + remote.length);
          if (!bytesEqual(remote, mirrored)) return c.key;
          at += remote.length;
        }
      }
      known.set(c.startByte, c.etag);
      this.#etagsLearnt = true;
    }
    return undefined;
  }

  #recordEtag(name: string, c: Chunk): void {
    let known = this.#etags.get(name);
    if (known === undefined) this.#etags.set(name, known = new Map());
    if (c.etag === undefined) known.delete(c.startByte);
    else known.set(c.startByte, c.etag);
  }

  async #remove(name: string, why: string, report: MirrorReport): Promise<void> {
    this.#progress(`${name}: ${why}; dropped from the mirror`);
    // Forgotten first: a save while the file is removed must not record it.
    this.#sizes.delete(name);
    this.#etags.delete(name);
    this.#reread.set(name, this.#passToken);
    try {
      await Deno.remove(this.#path(name));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    report.filesRemoved++;
    report.changed = true;
  }

  #path(name: string): string {
    // Never a path outside the mirror, whatever a key or mirror.json says.
    assert(MIRROR_FILE_PATTERN.test(name), `mirror file name ${JSON.stringify(name)}`);
    return join(eventsDir(this.#cacheRoot), name);
  }

  get #statePath(): string {
    return join(this.#cacheRoot, MIRROR_STATE_FILE);
  }

  async #loadState(): Promise<MirrorState | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#statePath);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
    let raw: {
      format?: number;
      files?: Record<string, number>;
      etags?: Record<string, Record<string, string>>;
      reread?: Record<string, unknown>;
    };
    try {
      raw = JSON.parse(text);
    } catch (err) {
      if (err instanceof SyntaxError) return undefined;
      throw err;
    }
    if (raw?.format !== MIRROR_FORMAT || typeof raw.files !== "object" || raw.files === null) {
      return undefined;
    }
    const sizes = new Map(Object.entries(raw.files).filter(([, v]) => Number.isSafeInteger(v)));
    // Entity tags were added to the format later: a state without them compares nothing.
    const etags = new Map<string, Map<number, string>>();
    for (const [name, byStart] of Object.entries(raw.etags ?? {})) {
      if (typeof byStart !== "object" || byStart === null) continue;
      const known = new Map<number, string>();
      for (const [start, tag] of Object.entries(byStart)) {
        if (Number.isSafeInteger(Number(start)) && typeof tag === "string") {
          known.set(Number(start), tag);
        }
      }
      etags.set(name, known);
    }
    // Added to the format later too: a state without it has nothing to read again.
    const reread = new Map<string, string>();
    for (const [name, token] of Object.entries(raw.reread ?? {})) {
      if (MIRROR_FILE_PATTERN.test(name) && typeof token === "string") reread.set(name, token);
    }
    return { sizes, etags, reread };
  }

  /**
   * Save `mirror.json` (after the save in progress, if any). Every size it
   * records is synced in its mirror file and ends a chunk (sizes are set
   * after each append is durable), so it holds mid-pass too.
   */
  #saveState(): Promise<void> {
    this.#saving = this.#saving.then(() => this.#writeState());
    return this.#saving;
  }

  async #writeState(): Promise<void> {
    this.#unsaved = { chunks: 0, bytes: 0 };
    const files: Record<string, number> = {};
    const etags: Record<string, Record<string, string>> = {};
    for (const name of [...this.#sizes.keys()].sort()) {
      files[name] = this.#sizes.get(name)!;
      const known = this.#etags.get(name);
      if (known !== undefined && known.size > 0) {
        etags[name] = Object.fromEntries([...known].sort(([a], [b]) => a - b));
      }
    }
    const reread = Object.fromEntries([...this.#reread].sort(([a], [b]) => (a < b ? -1 : 1)));
    const text = JSON.stringify({ format: MIRROR_FORMAT, files, etags, reread }, null, 1) + "\n";
    await writeFileAtomic(this.#statePath, new TextEncoder().encode(text));
  }
}

/**
 * The bytes of the chunk `c`, in ranges of at most `rangeBytes`. Throws
 * when the object does not have the size listed: the last range asks for
 * one byte more, so an object grown (or replaced) since the listing is
 * said, as a whole fetch said it.
 */
async function* fetchObject(
  store: ObjectStore,
  c: Chunk,
  rangeBytes: number,
): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < c.sizeBytes; start += rangeBytes) {
    const end = Math.min(start + rangeBytes, c.sizeBytes);
    const asked = end === c.sizeBytes ? end + 1 : end;
    const bytes = await store.get(c.key, { start, end: asked });
    if (bytes.length !== end - start) {
      // None at all past the first range: the object ends at or before `start` (it shrank).
      const bound = bytes.length > end - start
        ? " or more"
        : bytes.length === 0 && start > 0
        ? " or fewer"
        : "";
      throw new Error(
        `Bucket object ${c.key} has ${start + bytes.length}${bound} bytes, listed ${c.sizeBytes}`,
      );
    }
    yield bytes;
  }
}

/** Bytes `[start, end)` of the file at `path` (the caller knows it has them). */
async function readMirrorRange(path: string, start: number, end: number): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const bytes = await readRange(file, start, end);
  assert(
    bytes.length === end - start,
    `mirror file ${path} ended at byte ${start + bytes.length}, before ${end}`,
  );
  return bytes;
}

/** What `mirror.json` records. */
interface MirrorState {
  /** Verified size of each mirror file. */
  sizes: Map<string, number>;
  /** Per mirror file, the entity tag of each chunk it holds, by start byte. */
  etags: Map<string, Map<number, string>>;
  /** {@linkcode MirrorReport.reread} as the last pass left it. */
  reread: Map<string, string>;
}

/** `day=D/<name>.jsonl` of every file in the mirror's events directory. */
async function listMirrorFiles(cacheRoot: string): Promise<string[]> {
  const out: string[] = [];
  const base = eventsDir(cacheRoot);
  for (const d of await readDirOrEmpty(base)) {
    if (!d.isDirectory || !DAY_DIR_PATTERN.test(d.name)) continue;
    for (const f of await readDirOrEmpty(join(base, d.name))) {
      if (f.isFile && f.name.endsWith(".jsonl")) out.push(`${d.name}/${f.name}`);
    }
  }
  return out.sort();
}

async function readDirOrEmpty(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** What {@linkcode rebuildIndexFromBucket} did. */
export interface BucketIndexReport {
  /** The mirror pass. */
  mirror: MirrorReport;
  /** The index rebuild over the mirror. */
  index: RebuildReport;
  /** Run ids created in more than one part (see {@linkcode sharedRunIds}). */
  sharedRuns: SharedRunIds;
}

/** Run ids whose `run.created` events are in more than one part file. */
export interface SharedRunIds {
  /** The first ids, in order. */
  shown: string[];
  /** How many there are. */
  count: number;
}

/**
 * The run ids of the index at `dbPath` created in more than one part file:
 * in a bucket's index, most often two machines that used one run id (a
 * `--run-id nightly-2026-12-01` on each worker), whose events the index
 * merges into one run. A storage audit found such a hybrid run (one
 * machine's config, the other's summary) said by nothing that reads the
 * bucket, while `ledger verify` warns of it in one machine's log.
 */
export async function sharedRunIds(dbPath: string): Promise<SharedRunIds> {
  return await withReader(dbPath, async (conn) => {
    const rows = await allRows(
      conn,
      `SELECT run_id, count(*) OVER () AS n FROM events WHERE event_type = 'run.created'
        GROUP BY run_id HAVING count(DISTINCT file) > 1 ORDER BY run_id LIMIT ?`,
      [STALLED_SHOWN_MAX],
    );
    return {
      shown: rows.map((r) => String(r.run_id)),
      count: rows.length === 0 ? 0 : Number(rows[0].n),
    };
  });
}

/** One line naming {@linkcode SharedRunIds}, or undefined when there are none. */
export function sharedRunsWarning(shared: SharedRunIds): string | undefined {
  if (shared.count === 0) return undefined;
  return `${shared.count} run id(s) have run.created events in more than one part file ` +
    `(two machines that used one run id: the index merges their events into one run; give ` +
    `each machine its own run ids): ` +
    shownAndMore(shared.shown.map((id) => JSON.stringify(id)), shared.count);
}

/**
 * Update the mirror of `location`, then build or update the index of `root`
 * from it (incremental unless `full`).
 *
 * @example Needs an S3 server (`tests/storage/ship_test.ts` runs these calls against Ceph RGW)
 * ```ts ignore
 * // Not run by the doc tests: it needs an S3 server and the AWS_* variables
 * // (tests/storage runs the same calls against a real one: Ceph RGW on loopback).
 * import { openS3Store } from "./s3.ts";
 * import { rebuildIndexFromBucket } from "./bucket_index.ts";
 * const r = await rebuildIndexFromBucket("data/ledger", openS3Store("logs"), { bucket: "logs", prefix: "" });
 * console.log(r.index.events);
 * ```
 */
export async function rebuildIndexFromBucket(
  root: string,
  store: ObjectStore,
  location: BucketLocation,
  options: BucketIndexOptions = {},
): Promise<BucketIndexReport> {
  const dbPath = options.dbPath ?? indexPath(root);
  await refuseForeignIndexPath(dbPath, root); // a wrong --db: before any request
  try {
    await store.check(options.signal); // before anything is created locally
  } catch (err) {
    // A signal stops a check held by a hung server at once (a review: 88 s), and is said as a
    // signal is (130 or 143), not as an unreachable bucket.
    options.signal?.throwIfAborted();
    throw err;
  }
  const cacheRoot = cacheRootFor(root, options.endpoint, location);
  if (!options.full) {
    await checkIndexSource(dbPath, formatBucketUrl(location), root, {
      path: cacheRoot,
      endpoint: options.endpoint,
    }); // likewise
  }
  const mirror = await mirrorBucket(store, location, cacheRoot, options);
  options.onProgress?.(
    `mirror: ${mirror.chunksFetched} new chunks (${mirror.bytesFetched} bytes) of ` +
      `${mirror.chunksListed} listed, ${mirror.parts} parts`,
  );
  options.signal?.throwIfAborted();
  const index = await rebuildIndex(cacheRoot, {
    signal: options.signal,
    source: formatBucketUrl(location),
    dbPath,
    full: options.full,
    sinceDate: options.sinceDate,
    staleAfterMs: options.staleAfterMs,
    memoryLimit: options.memoryLimit,
    onProgress: options.onProgress,
    rereadFiles: Object.keys(mirror.reread),
  });
  await forgetReread(cacheRoot, mirror.reread); // read: from here the index holds them
  return { mirror, index, sharedRuns: await sharedRunIds(dbPath) };
}

/** Options for {@linkcode runBucketDaemon}. */
export interface BucketDaemonOptions
  extends Omit<BucketIndexOptions, "full" | "sinceDate" | "onProgress"> {
  /** Time between two checks of the bucket. @default {30_000} */
  intervalMs?: number;
  /** Stops the daemon after the current step. @default {undefined} */
  signal?: AbortSignal;
  /**
   * Receives the log entries, as the local daemon's `log` does: one per
   * rebuild (`event: "rebuild"`, with the mirror's `chunks_fetched` and
   * `bytes_fetched`), one per failure (level `error`), progress as `debug`.
   * @default {non-debug entries printed with `formatLogEntry`}
   */
  log?: (entry: DaemonLogEntry) => void;
  /** Called once the daemon holds the root's lock (as `DaemonOptions.onStart`). @default {undefined} */
  onStart?: () => void;
}

/**
 * Keep the index of `root` up to date from the bucket: every interval, fetch
 * the new chunks and, when any arrived, update the index. One daemon per
 * root (the same lock as the local daemon).
 *
 * @example Needs an S3 server (`tests/storage/ship_test.ts` runs these calls against Ceph RGW)
 * ```ts ignore
 * // Not run by the doc tests: it needs an S3 server and the AWS_* variables
 * // (tests/storage runs the same calls against a real one: Ceph RGW on loopback).
 * import { openS3Store } from "./s3.ts";
 * import { runBucketDaemon } from "./bucket_index.ts";
 * const stop = new AbortController();
 * await runBucketDaemon("data/ledger", openS3Store("logs"), { bucket: "logs", prefix: "" }, {
 *   signal: stop.signal,
 * });
 * ```
 */
export async function runBucketDaemon(
  root: string,
  store: ObjectStore,
  location: BucketLocation,
  options: BucketDaemonOptions = {},
): Promise<DaemonSummary> {
  const intervalMs = options.intervalMs ?? 30_000;
  const log = options.log ??
    ((entry: DaemonLogEntry) => {
      if (entry.level !== "debug") console.log(formatLogEntry(entry, false));
    });
  const debug = (msg: string) => log({ level: "debug", msg });
  const dbPath = options.dbPath ?? indexPath(root);
  // A wrong --db, or an index from another source, is refused at once, before a mirror folder
  // is made.
  await refuseForeignIndexPath(dbPath, root);
  const cacheRoot = cacheRootFor(root, options.endpoint, location);
  await checkIndexSource(dbPath, formatBucketUrl(location), root, {
    path: cacheRoot,
    endpoint: options.endpoint,
  });
  let lock = await acquireDaemonLock(root);
  const summary: DaemonSummary = { checks: 0, rebuilds: 0, failures: 0 };
  let first = true;
  const lastWarnings = new Map<string, string | undefined>();
  let indexedState: string | undefined; // the mirror as the last rebuild read it
  let indexLeft: string | undefined; // the index file as the last rebuild left it
  try {
    options.onStart?.();
    while (!options.signal?.aborted) {
      summary.checks++;
      // As the local daemon (an ops audit there): index/ deleted under it took its lock file
      // with it, and a second daemon could start beside it. A root deleted whole is made again
      // with its lock at once: this pass's mirror and index would make it anyway, lockless
      // until the next pass (a review: a second daemon took the root in between).
      const kept = await keepDaemonLock(root, lock, { createRoot: true });
      if (kept !== lock) {
        lock = kept;
        log(lockRetakenLogEntry());
      }
      // The bucket's state a failed rebuild was of: not rebuilt again until the bucket or the
      // index changes, as the local daemon (helper-300: an emptied bucket failed every pass,
      // one error line each, 2,900 a day at --interval 30).
      let rebuilding: string | undefined;
      try {
        const mirror = await mirrorBucket(store, location, cacheRoot, { onProgress: debug });
        // Said on the pass that found it: the mirror follows the bucket from then on.
        const changed = changedWarning(mirror);
        if (changed !== undefined) {
          log({
            level: "warn",
            msg: changed,
            fields: { changed_parts: mirror.changedParts.length },
          });
        }
        // Each said when it starts or changes (not every pass), and when it is over.
        for (const w of mirrorWarningEntries(mirror)) {
          if (w.msg === lastWarnings.get(w.key)) continue;
          if (w.msg !== undefined) log({ level: "warn", msg: w.msg, fields: w.fields });
          else if (lastWarnings.get(w.key) !== undefined) log({ level: "info", msg: w.over });
          lastWarnings.set(w.key, w.msg);
        }
        // Also when another --from process on this root fetched the new chunks first (an
        // audit: this daemon's index then stayed stale until some later chunk arrived).
        // And when the index was deleted or replaced by hand, as the local daemon (a review: with
        // index/ deleted, the index came back only with the bucket's next chunk).
        if (
          mirror.changed || first || mirror.state !== indexedState ||
          await indexState(dbPath) !== indexLeft
        ) {
          summary.rebuilds++;
          rebuilding = mirror.state;
          const index = await rebuildIndex(cacheRoot, {
            source: formatBucketUrl(location),
            dbPath,
            staleAfterMs: options.staleAfterMs,
            memoryLimit: options.memoryLimit,
            onProgress: debug,
            rereadFiles: Object.keys(mirror.reread),
          });
          await forgetReread(cacheRoot, mirror.reread); // read: from here the index holds them
          indexedState = mirror.state;
          indexLeft = await indexState(dbPath);
          if (index.recoveredFrom !== undefined) log(recoveredLogEntry(index.recoveredFrom));
          const changed = changedFilesLogEntry(index);
          if (changed !== undefined) log(changed);
          const shared = await sharedRunIds(dbPath);
          const sharedMsg = sharedRunsWarning(shared);
          if (sharedMsg !== lastWarnings.get("shared")) {
            if (sharedMsg !== undefined) {
              log({ level: "warn", msg: sharedMsg, fields: { shared_run_ids: shared.count } });
            } else log({ level: "info", msg: "no run id is created in two part files any more" });
            lastWarnings.set("shared", sharedMsg);
          }
          const entry = rebuildLogEntry(index);
          log({
            ...entry,
            msg:
              `fetched ${mirror.chunksFetched} chunks (${mirror.bytesFetched} bytes); ${entry.msg}`,
            fields: {
              ...entry.fields,
              chunks_fetched: mirror.chunksFetched,
              bytes_fetched: mirror.bytesFetched,
            },
          });
        } else {
          debug("no new chunks in the bucket");
        }
        first = false;
      } catch (err) {
        if (isSourceRefusal(err)) throw err; // every pass would be refused: exit 1
        summary.failures++;
        if (rebuilding !== undefined) {
          indexedState = rebuilding;
          indexLeft = await indexState(dbPath);
          first = false;
        }
        const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
        log({
          level: "error",
          msg: `update from the bucket failed: ${message}`,
          fields: { error: message },
        });
      }
      await sleep(intervalMs, options.signal);
    }
  } finally {
    lock.release();
  }
  return summary;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
