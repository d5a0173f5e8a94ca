/**
 * Build or update the DuckDB index of a ledger (SPEC 7): a full rebuild reads
 * every part file; an incremental one (the default when an index exists)
 * reads only the files and bytes added since the last rebuild. Both run the
 * same SQL pipeline, so they give the same index for the same log. The new
 * index is built beside the live one and published with an atomic rename.
 *
 * @module
 */
import { type DuckDBConnection, DuckDBInstance } from "./duckdb.ts";
import { createHash } from "node:crypto";
import { basename, dirname, join, resolve, sep } from "node:path";
import { eventsDir, indexPath } from "../ledger/paths.ts";
import { assertRegularFileOrAbsent, syncFile } from "../ledger/durable_fs.ts";
import { assert } from "../ledger/assert.ts";
import { dayOfFile, listPartFiles, type PartFile } from "./_files.ts";
import {
  candidateOf,
  type LivenessProbe,
  probeLiveness,
  ProcessTableHiddenError,
} from "./_liveness.ts";
import {
  asStaged,
  BATCH_FILES_MAX,
  ingest,
  longLinesFor,
  type ScanEntry,
  STAGE_BYTES_MAX,
} from "./_pipeline.ts";
import { stageRanges, standInLength } from "./_stage.ts";
import { realPathOf } from "../ledger/real_path.ts";
import { LINE_BYTES_MAX } from "../ledger/limits.ts";
import {
  lockRebuild,
  publish,
  removeLeftovers,
  removeTemp,
  stagingPrefixFor,
  tempPathFor,
} from "./_publish.ts";
import { exec, inTransaction, jsonList, rows } from "./_sql.ts";
import {
  AFFECTED_SPAN_SQL,
  COUNT_CONFLICTS_SQL,
  COUNTS_SQL,
  CREATE_AFFECTED_RUNS_SQL,
  CREATE_LIVENESS_CANDIDATES_SQL,
  CREATE_REREAD_SQL,
  CREATE_SCHEMA_SQL,
  createDeriveGroupsSql,
  DELETE_LIVENESS_SQL,
  DERIVE_ALL_SQL,
  DERIVE_EVENTS_PER_RUN,
  DERIVE_GROUP_SPANS_SQL,
  DERIVE_SQL,
  DERIVE_WEIGHT_SQL,
  DROP_REREAD_SQL,
  EXPAND_REREAD_SQL,
  GET_META_SQL,
  INDEX_FORMAT_VERSION,
  INSERT_LIVENESS_SQL,
  INSERT_REREAD_SQL,
  KEEP_LIVENESS_SQL,
  LIVENESS_CANDIDATES_CHUNK_SQL,
  REUSED_RUN_IDS_SQL,
  SELECT_DERIVE_GROUP_SQL,
  SELECT_INGEST_FILES_SQL,
  SELECT_LIVENESS_CANDIDATES_SQL,
  SET_META_SQL,
  STALE_AFTER_MS_DEFAULT,
} from "./schema.ts";
import { exists } from "../ledger/exists.ts";
import { UnreachableDayError } from "../ledger/errors.ts";
import { countOf, shownAndMore } from "../ledger/count_text.ts";
import { readRange } from "../ledger/byte_range.ts";
import { listRefreshMarkers, removeRefreshMarkers } from "./refresh_marker.ts";
import { isDuckDbFile, openDuckDbFile, READER_CONFIG } from "./queries.ts";
import { renamedOption } from "../ledger/renamed_option.ts";
import { utcDayStartMs } from "./query/time.ts";
import {
  InvalidMemoryLimitError,
  memoryLimitBytes,
  parseMemoryLimit,
  REBUILD_MEMORY_LIMIT_MIN_BYTES,
} from "./memory_limit.ts";

export { InvalidMemoryLimitError, parseMemoryLimit };

/**
 * Default DuckDB memory limit of a rebuild. DuckDB's own allocations pass
 * its limit by up to about 0.65 GiB (measured: peak RSS 1.63 GiB at 20M
 * events with `1GB`, 1.42 GiB with `768MB`, as fast), so this keeps a full
 * rebuild under 1.5 GiB; with batches of {@linkcode STAGE_BYTES_MAX} and the
 * spill directory beside the index, more log spills instead of growing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { deriveGroupEventsFor, MEMORY_LIMIT_DEFAULT, parseMemoryLimit } from "./rebuild.ts";
 * import { memoryLimitBytes, REBUILD_MEMORY_LIMIT_MIN_BYTES } from "./memory_limit.ts";
 * assert.equal(memoryLimitBytes(MEMORY_LIMIT_DEFAULT), 768e6); // 768 MB (decimal megabytes)
 * // A size the rebuild's own check accepts; under it a full rebuild derives 2M events a pass.
 * assert.equal(parseMemoryLimit(MEMORY_LIMIT_DEFAULT, REBUILD_MEMORY_LIMIT_MIN_BYTES), "768MB");
 * assert.equal(deriveGroupEventsFor(MEMORY_LIMIT_DEFAULT), 2_000_000);
 * ```
 */
export const MEMORY_LIMIT_DEFAULT = "768MB";

/** Smallest accepted `batchBytesMax`. */
const BATCH_BYTES_MIN = 64 * 1024;

/**
 * Block size of a new index file, in bytes (DuckDB's default: 256 KiB). An
 * append to a table, and each row group a checkpoint compacts, starts a
 * segment of one block for every column and fills its validity mask a block
 * long, so an update's fixed cost grows with the block: at 256 KiB a third
 * of the CPU of a checkpoint after a small append went to those fills and
 * their page faults (perf, 2026-12-06). Measured the same day on this
 * machine, quiet, alternating: an incremental update of a 144-event index
 * 339-362 ms at 64 KiB (16 KiB alike) against 496-554 ms; on 1M events,
 * +19 events 527-586 ms against 553-674 ms, +1% 771-814 ms against 889-903
 * ms, the full rebuild 6.05-6.27 s against 5.75-6.18 s (16 KiB: 6.7-6.9 s),
 * the file 70 MiB against 75 MiB; on 5M events 30.5 and 28.0 s against 31.9
 * and 28.0 s, peak RSS 0.99 GB against 0.96-1.06 GB; on 20M events (one run
 * each, tests running beside the second) 138 s against 151 s, peak RSS 1,225
 * MiB against 1,287 MiB. DuckDB records the size
 * in the file: an index built before keeps 256 KiB until a full rebuild,
 * and every reader (DuckDB 1.5's, Python's too) reads either.
 */
export const INDEX_BLOCK_BYTES = 65_536;

/** Default silence after which a running run shows as `stale` (its home: `schema.ts`). */
export { STALE_AFTER_MS_DEFAULT } from "./schema.ts";

/**
 * Options for {@linkcode rebuildIndex}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rebuildIndex, type RebuildOptions } from "./rebuild.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const progress: string[] = [];
 *   const options: RebuildOptions = {
 *     dbPath: `${root}/elsewhere.duckdb`, // instead of <root>/index/runs.duckdb
 *     onProgress: (line) => progress.push(line),
 *   };
 *   const report = await rebuildIndex(root, options);
 *   assert.equal(report.dbPath, options.dbPath);
 *   assert.ok((await Deno.stat(`${root}/elsewhere.duckdb`)).isFile);
 *   assert.ok(progress.some((line) => line.startsWith("published")));
 *   // Checked before anything is done: a silence of 0 ms would make every run stale.
 *   await assert.rejects(rebuildIndex(root, { staleAfterMs: 0 }), RangeError);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RebuildOptions {
  /** The index file. @default {`<root>/index/runs.duckdb`} */
  dbPath?: string;
  /** Rebuild from scratch even when an index exists. @default {false} */
  full?: boolean;
  /**
   * Re-read the partitions from this UTC day (`YYYY-MM-DD`) on and keep
   * everything indexed before it. @default {undefined}
   */
  sinceDate?: string;
  /**
   * A running run with no event for this long shows as `stale`; stored in
   * the index, used by the `latest_runs` view. Not given, the index keeps
   * the value it holds (a probe: the background refresh after a backtest
   * undid the daemon's `--stale-after-hours`), or takes the default.
   * @default {the index's, else STALE_AFTER_MS_DEFAULT}
   */
  staleAfterMs?: number;
  /** Receives progress lines (files, events, errors, time). @default {undefined} */
  onProgress?: (message: string) => void;
  /**
   * Told once when another process's rebuild of the same index holds the
   * lock, before this one waits for it (whose pid, which lock file).
   * @default {undefined}
   */
  onWait?: (message: string) => void;
  /**
   * Called after each batch of the log is read, with the bytes read so far
   * and in all (for a progress line). @default {undefined}
   */
  onRead?: (doneBytes: number, totalBytes: number) => void;
  /**
   * DuckDB's memory limit (`512MB`, `1.5GB`, `2GiB`); work past it spills to
   * a directory beside the index. @default {MEMORY_LIMIT_DEFAULT}
   */
  memoryLimit?: string;
  /**
   * Most bytes read per batch, and the size of the ranges a larger file is
   * read in (at least 64 KiB). @default {the smaller of STAGE_BYTES_MAX
   * (128 MiB) and an eighth of `memoryLimit` (96,000,000 bytes at 768MB)}
   */
  batchBytesMax?: number;
  /**
   * The name of `batchBytesMax` before 0.3.0 (limits are named noun-first
   * with `Max`). @deprecated Use `batchBytesMax`.
   */
  batchBytes?: number;
  /**
   * Most files (or ranges of a larger file) read per batch, whatever their
   * bytes (an integer >= 1). @default {BATCH_FILES_MAX}
   */
  batchFilesMax?: number;
  /**
   * Most weight of events a rebuild derives the run tables of in one pass
   * (an integer >= 1; a run weighs its events and 4 more); more are derived
   * in groups of runs.
   * @default {memory limit / 384 bytes: 2M at the default 768MB}
   */
  deriveGroupEventsMax?: number;
  /**
   * The name of `deriveGroupEventsMax` before 0.3.0.
   * @deprecated Use `deriveGroupEventsMax`.
   */
  deriveGroupEvents?: number;
  /**
   * Most rows of duplicated event ids a full rebuild ranks in one pass (an
   * integer >= 1); more are ranked in passes over parts of the ids.
   * @default {(memory limit - 64 MB) / 256 bytes: 2.75M rows at the default 768MB}
   */
  dedupRowsMax?: number;
  /**
   * Where the log comes from, recorded in the index: {@linkcode LOCAL_SOURCE}
   * (this root's own log) or a bucket's `s3://bucket/prefix/` (`--from`).
   * An index recorded from a bucket is never updated from another source
   * ({@linkcode IndexSourceError}): a local rebuild of the indexer's root, or
   * a mistyped prefix, would replace every run with that source's few.
   * `full` rebuilds from this source whatever the index holds.
   * @default {LOCAL_SOURCE}
   */
  source?: string;
  /**
   * Aborting stops the rebuild at once (the running statement is
   * interrupted), removes its temporary files and throws
   * {@linkcode RebuildInterruptedError}; the previous index stays.
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Ends only the wait for another rebuild's lock (with
   * {@linkcode RebuildInterruptedError}), not a rebuild under way: the
   * daemon's stop, which lets a rebuild finish but must not wait for
   * another process's. @default {signal}
   */
  lockWaitSignal?: AbortSignal;
  /**
   * Files of the log (as `ingest_files` names them: `day=D/NAME.jsonl`) an
   * incremental rebuild reads whole again, whatever their size, time and last
   * indexed line say; names the log does not hold are ignored. A bucket's
   * mirror names the parts it fetched again because they changed in the
   * bucket: a rewritten chunk before the last indexed line of a part that
   * also grew was otherwise never read (a probe). @default {[]}
   */
  rereadFiles?: readonly string[];
}

/**
 * What a rebuild did.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rebuildIndex, type RebuildReport } from "./rebuild.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "r1" });
 *   await writer.close();
 *   const first: RebuildReport = await rebuildIndex(root);
 *   assert.deepEqual([first.mode, first.eventsRead, first.runs], ["full", 1, 1]); // no index yet
 *   const again: RebuildReport = await rebuildIndex(root);
 *   // The index exists and the log has not grown: nothing is read, the run is still there.
 *   assert.deepEqual([again.mode, again.filesRead, again.runs], ["incremental", 0, 1]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RebuildReport {
  /** `full` or `incremental`. */
  mode: "full" | "incremental";
  /** The index file published. */
  dbPath: string;
  /** Part files in the log. */
  filesScanned: number;
  /** Files (or new tails of files) read, each once however many ranges it was read in. */
  filesRead: number;
  /** Bytes read. */
  bytesRead: number;
  /** Lines read (complete ones and torn tails). */
  linesRead: number;
  /** Valid event lines read (before deduplication). */
  eventsRead: number;
  /** Bad lines found in what was read. */
  errorsFound: number;
  /** Events in the index (deduplicated). */
  events: number;
  /** Runs in the index. */
  runs: number;
  /** Rows of `ingest_errors`. */
  errors: number;
  /** Rows of `event_duplicates`. */
  duplicates: number;
  /**
   * Event ids in the index with a later copy that says something else than
   * the copy kept (more than the time): two events under one id, one kept
   * (the smallest `(timestamp_ms, file, line)`). `ledger verify` lists them.
   */
  conflicts: number;
  /**
   * Run ids with more than one `run.created` in the index: two runs given one
   * id, merged into one (one's config, the other's summary): the first
   * {@linkcode REUSED_RUN_IDS_SHOWN} in id order, and how many there are.
   */
  reusedRuns: { shown: string[]; count: number };
  /**
   * Part files an incremental rebuild found changed where they were already
   * indexed: gone from the log, shrunk, rewritten at the same size, or with
   * their last indexed line changed. The log is append-only, so each is an
   * edit, a truncation or a removal by hand; what the file held left the
   * index and what it holds now was read. The first
   * {@linkcode CHANGED_FILES_SHOWN}, each with what changed, and how many
   * there are. Files the caller named in `rereadFiles` are counted only when
   * gone (the bucket mirror names the parts that changed in the bucket; one
   * removed from the bucket leaves the index as a removed local file does).
   */
  changedFiles: { shown: string[]; count: number };
  /**
   * Entries of the events directory that look like the log's and are not
   * read, each with why: a folder named `day=` that is not `day=YYYY-MM-DD`
   * (`day=2026-1-5`, `day=20260120`), a part file that is not a regular
   * file. Events in them never reach the index, so the CLI says so without
   * `--verbose` (a probe: `day=2026-1-5` was passed over unsaid). The first
   * {@linkcode CHANGED_FILES_SHOWN} and how many there are.
   */
  notRead?: { shown: string[]; count: number };
  /** Why the pid liveness check was skipped, if it was. */
  livenessSkipped?: string;
  /**
   * True when nothing the index was built from changed (an incremental
   * rebuild of the same part files, sizes and modification times, and no
   * run's process ended since it was checked): the index was left as it
   * was, neither copied nor published again.
   */
  unchanged?: boolean;
  /**
   * Why the existing index was rebuilt in full rather than updated, when it
   * could be read: its format changed, or it was built from another root
   * (the root was moved or copied, or `--db` names another root's index).
   */
  fullBecause?: string;
  /**
   * Why the existing index could not be updated (damaged, unreadable), when
   * the rebuild fell back to a full one from the log.
   */
  recoveredFrom?: string;
  /** Wall time of the rebuild. */
  elapsedMs: number;
  /**
   * Where the time went, in ms per step: `check` (whether the index is up to
   * date already, {@linkcode RebuildReport.unchanged}), `copy` (of the live
   * index, for an incremental rebuild), `plan`, `ingest` (read, check, deduplicate),
   * `derive`, `liveness`, `checkpoint`, `close`, `publish`.
   */
  phasesMs: Record<string, number>;
}

/**
 * The warning of a rebuild that passed over entries of the events directory
 * ({@linkcode RebuildReport.notRead}), or undefined for none: events there
 * never reach the index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { notReadWarning } from "./rebuild.ts";
 * assert.equal(notReadWarning(undefined), undefined);
 * const shown = ["day=2026-1-5: not a day folder (a directory day=YYYY-MM-DD)"];
 * assert.match(notReadWarning({ shown, count: 1 })!, /^1 entry of the events directory is not/);
 * ```
 */
export function notReadWarning(notRead: RebuildReport["notRead"]): string | undefined {
  if (notRead === undefined || notRead.count === 0) return undefined;
  const more = notRead.count > notRead.shown.length
    ? `, and ${notRead.count - notRead.shown.length} more`
    : "";
  return `${notRead.count === 1 ? "1 entry" : `${notRead.count} entries`} of the events ` +
    `directory ${notRead.count === 1 ? "is" : "are"} not part of the log, and no event in ` +
    `${notRead.count === 1 ? "it" : "them"} is indexed: ${notRead.shown.join("; ")}${more}`;
}

/** Reused run ids a {@linkcode RebuildReport} names ({@linkcode RebuildReport.reusedRuns}). */
export const REUSED_RUN_IDS_SHOWN = 5;

/** Changed part files a {@linkcode RebuildReport} names ({@linkcode RebuildReport.changedFiles}). */
export const CHANGED_FILES_SHOWN = 5;

/**
 * The warning of a rebuild that found part files changed where they were
 * already indexed ({@linkcode RebuildReport.changedFiles}), or undefined for
 * none. A probe: a part file cut back by hand, or a day folder removed, took
 * its events out of the index and nothing said so.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { changedFilesWarning } from "./rebuild.ts";
 * assert.equal(changedFilesWarning({ shown: [], count: 0 }), undefined);
 * const shown = ["day=2026-01-20/a.jsonl (gone from the log)"];
 * assert.match(changedFilesWarning({ shown, count: 1 })!, /^1 part file changed where/);
 * ```
 */
export function changedFilesWarning(
  changed: RebuildReport["changedFiles"],
): string | undefined {
  if (changed.count === 0) return undefined;
  return `${countOf(changed.count, "part file")} changed where ${
    changed.count === 1 ? "it was" : "they were"
  } already indexed (the log is append-only: edited, cut back or removed by hand?); the ` +
    `events ${changed.count === 1 ? "it" : "they"} held left the index and what ${
      changed.count === 1 ? "it holds" : "they hold"
    } now was read: ${shownAndMore(changed.shown, changed.count)}`;
}

/**
 * `--since-date` is not a real `YYYY-MM-DD` day.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { InvalidDateError, parseDay } from "./rebuild.ts";
 * assert.throws(() => parseDay("2026-02-30"), (err) => err instanceof InvalidDateError);
 * ```
 */
export class InvalidDateError extends Error {
  /** The value given. */
  readonly value: string;
  /** Create the error for `value`. */
  constructor(value: string) {
    super(`Invalid --since-date ${JSON.stringify(value)}: expected a real day as YYYY-MM-DD`);
    this.name = "InvalidDateError";
    this.value = value;
  }
}

/**
 * A rebuild was stopped by its abort signal; its temporary files are removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RebuildInterruptedError } from "./rebuild.ts";
 * // What rebuildIndex throws when its signal aborts it mid-build (SIGINT in the CLI).
 * const err = new RebuildInterruptedError("data/ledger/index/runs.duckdb");
 * assert.match(err.message, /interrupted; the previous index is unchanged/);
 * ```
 */
export class RebuildInterruptedError extends Error {
  /** Create the error, keeping the abort reason as cause. */
  constructor(dbPath: string, options?: ErrorOptions) {
    super(`Rebuild of ${dbPath} interrupted; the previous index is unchanged`, options);
    this.name = "RebuildInterruptedError";
  }
}

/**
 * There is no log where the rebuild reads one (the root's `events`
 * directory is missing: moved, renamed, an unmounted volume; or the bucket
 * lists no part under its prefix) while the index the rebuild would replace
 * holds events. Publishing would have emptied the index without a word (an
 * audit: a daemon whose events directory was moved away published an empty
 * index); the rebuild is refused and the index kept, as a missing root is.
 * An `events` directory that is there and holds no part file is a log that
 * retention emptied: indexed as it is. To index a missing log as empty on
 * purpose, delete the index first.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EmptyLogError } from "./rebuild.ts";
 * const err = new EmptyLogError("/lab/ledger/events", false, 3, 1200);
 * assert.match(err.message, /^The log \/lab\/ledger\/events does not exist, but the index holds 1200 events/);
 * ```
 */
export class EmptyLogError extends Error {
  /** The log listed: the local events directory, or the bucket source. */
  readonly log: string;
  /** Part files the index holds events of. */
  readonly indexedFiles: number;
  /** Events the index holds. */
  readonly indexedEvents: number;
  /** Create the error; `logExists` says whether the log is there, empty. */
  constructor(log: string, logExists: boolean, indexedFiles: number, indexedEvents: number) {
    super(
      `The log ${log} ${logExists ? "has no part file" : "does not exist"}, but the index ` +
        `holds ${indexedEvents} events from ${indexedFiles} part ` +
        `${indexedFiles === 1 ? "file" : "files"}: not publishing an empty ` +
        `index (a moved or unmounted log?); restore the log, or delete the index to index an ` +
        `empty log`,
    );
    this.name = "EmptyLogError";
    this.log = log;
    this.indexedFiles = indexedFiles;
    this.indexedEvents = indexedEvents;
  }
}

/**
 * The index path names a file that is not a ledger index: a part of the log
 * (anywhere under `events/`), a file that is not a DuckDB database, or a
 * DuckDB database without the index's `index_meta` (the legacy file of
 * SPEC 10, say). The rebuild is refused and the file left as it is (an
 * audit: `--db` at a part file, at notes, at the legacy file replaced each
 * with an index, exit 0). A file at the root's own index path, or named
 * `*.duckdb`, that is not a DuckDB database is a damaged index, rebuilt from
 * the log as before.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ForeignIndexFileError } from "./rebuild.ts";
 * const err = new ForeignIndexFileError("/lab/notes.txt", "is not a DuckDB database");
 * assert.match(err.message, /^\/lab\/notes\.txt is not a DuckDB database: not replacing it/);
 * ```
 */
export class ForeignIndexFileError extends Error {
  /** The index path given. */
  readonly path: string;
  /** Create the error; `why` says what the file is, `then` what is done and what to give. */
  constructor(
    path: string,
    why: string,
    then = "not replacing it with an index (give a new path or an index's)",
  ) {
    super(`${path} ${why}: ${then}`);
    this.name = "ForeignIndexFileError";
    this.path = path;
  }
}

function foreignRefusal(err: ForeignIndexFileError): RebuildError {
  return new RebuildError(`Rebuild refused (nothing was changed): ${err.message}`, { cause: err });
}

/**
 * The refusals of an index path that need no log and no index, made by an
 * update from a bucket before anything is fetched or made (a storage probe:
 * `--from ... --db` at a part file of the root's log was written, and one at
 * a file that is no DuckDB database was refused only after the whole bucket
 * was mirrored, while saying nothing was changed): a path under `root`'s
 * `events/`, and a file that is not a DuckDB database (unless it sits at the
 * root's own index path or is named `*.duckdb`: a damaged index, rebuilt).
 * Throws a {@linkcode RebuildError} ("Rebuild refused (nothing was changed)").
 */
export async function refuseForeignIndexPath(dbPath: string, root: string): Promise<void> {
  try {
    await refuseIndexInLog(dbPath, root);
    if (resolve(dbPath) === resolve(indexPath(root)) || dbPath.endsWith(".duckdb")) return;
    if (await isDuckDbFile(dbPath) === false) {
      throw new ForeignIndexFileError(dbPath, "is not a DuckDB database");
    }
  } catch (err) {
    throw err instanceof ForeignIndexFileError ? foreignRefusal(err) : err;
  }
}

/**
 * Refuse an index path under the log's `events/` directory (resolved
 * through symbolic links, before anything is made there).
 */
async function refuseIndexInLog(dbPath: string, root: string): Promise<void> {
  const events = await realPathOf(eventsDir(root));
  if (isAtOrUnder(await realPathOf(dbPath), events)) {
    throw new ForeignIndexFileError(dbPath, "is inside the log's events directory");
  }
}

/**
 * Refuse a file at `dbPath` that is not a ledger index (see
 * {@linkcode ForeignIndexFileError}): one without DuckDB's header, unless it
 * sits at the root's own index path or is named `*.duckdb`; with `full`, also a DuckDB database
 * that opens and has tables but no `index_meta` (an incremental rebuild
 * checks its copy instead, in `buildWith`); and, without `full`, away from
 * the root's own index path, the index of another root's log that is still
 * there (when `source` is this root's log). An empty
 * file, or a DuckDB file that does not open, is left to the rebuild (a
 * damaged index).
 */
async function refuseForeignFile(
  dbPath: string,
  root: string,
  full: boolean,
  source: string,
): Promise<void> {
  const duckDb = await isDuckDbFile(dbPath);
  if (duckDb === undefined) return; // none, or empty: DuckDB makes a new database in it
  if (!duckDb) {
    // A damaged index, rebuilt from the log: at the root's own index path, or named like one
    // (a bucket's index is not at its mirror's index path).
    if (resolve(dbPath) === resolve(indexPath(root)) || dbPath.endsWith(".duckdb")) return;
    throw new ForeignIndexFileError(dbPath, "is not a DuckDB database");
  }
  // The index of another root's log, given as --db to an update from a local log: not replaced
  // unless asked for with --full (a review: `rebuild-index --root B --db A/index/runs.duckdb`
  // turned A's index into B's, exit 0, and A's readers and annotations then took B's runs for
  // A's). See isAnotherRootsIndex for what is not another root's (the root's own index path
  // never is: no open of it here, which every incremental rebuild would pay).
  const otherRoot = !full && source === LOCAL_SOURCE &&
    resolve(dbPath) !== resolve(indexPath(root));
  if (!full && !otherRoot) return;
  let instance: DuckDBInstance;
  try {
    instance = await openDuckDbFile(dbPath, { ...READER_CONFIG }); // a link's target, really
  } catch (err) {
    if (err instanceof Error && /IO Error|Serialization Error|Corrupt/i.test(err.message)) return;
    throw err;
  }
  try {
    const conn = await instance.connect();
    try {
      if (full) await refuseForeignTables(conn, dbPath);
      const recordedSource = otherRoot ? await indexSource(conn) : undefined;
      const recorded = otherRoot && (recordedSource ?? LOCAL_SOURCE) === LOCAL_SOURCE
        ? await indexRoot(conn)
        : undefined;
      if (recorded !== undefined && await isAnotherRootsIndex(dbPath, recorded, root)) {
        throw new ForeignIndexFileError(
          dbPath,
          `is the index of the root ${recorded}, whose log is still there`,
          `not replacing it with this root's index (give --root ${recorded}, or --full to ` +
            "replace it)",
        );
      }
    } finally {
      conn.disconnectSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** The views of an index (`CREATE OR REPLACE VIEW`), made again on every incremental rebuild. */
const INDEX_VIEWS_SQL: readonly string[] = CREATE_SCHEMA_SQL.filter((sql) =>
  sql.startsWith("CREATE OR REPLACE VIEW ")
);
const INDEX_VIEW_NAMES: readonly string[] = INDEX_VIEWS_SQL.map((sql) =>
  /^CREATE OR REPLACE VIEW (\w+)/.exec(sql)![1]
);

/**
 * A previous index holds objects no index of this code has: a user function
 * (a macro, which can shadow a built-in such as `from_json`), a user type,
 * or a view under a name other than {@linkcode INDEX_VIEW_NAMES} (one of its
 * tables replaced by a view). The incremental rebuild, which runs with
 * external access on, does not use such a file: it builds a new index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CraftedIndexError } from "./rebuild.ts";
 * assert.match(new CraftedIndexError("/r/runs.duckdb", "1 function").message, /no index ledger builds/);
 * ```
 */
export class CraftedIndexError extends Error {
  /** Create the error for the index at `dbPath`, which holds `what`. */
  constructor(dbPath: string, what: string) {
    super(`${dbPath} holds ${what} that no index ledger builds has`);
    this.name = "CraftedIndexError";
  }
}

/**
 * Throw {@linkcode CraftedIndexError} when the database on `conn` holds a
 * user function, a user type or a view that is not one of ours. Asked of
 * DuckDB's own catalog functions by their qualified names
 * (`system.main.duckdb_functions()`), which a macro cannot shadow. About
 * 10 ms (DuckDB lists its built-in functions to filter them).
 */
async function refuseCraftedCatalog(conn: DuckDBConnection, dbPath: string): Promise<void> {
  const views = INDEX_VIEW_NAMES.map((name) => `'${name}'`).join(", ");
  const [found] = await rows(
    conn,
    `SELECT
      (SELECT count(*) FROM system.main.duckdb_functions() WHERE NOT internal) AS functions,
      (SELECT count(*) FROM system.main.duckdb_types() WHERE NOT internal) AS types,
      (SELECT count(*) FROM system.main.duckdb_views()
        WHERE NOT internal AND view_name NOT IN (${views})) AS views`,
  );
  const what = [
    [Number(found.functions), "function"],
    [Number(found.types), "type"],
    [Number(found.views), "view"],
  ].filter(([n]) => (n as number) > 0).map(([n, kind]) => countOf(n as number, kind as string));
  if (what.length === 0) return;
  // Not an index of ours at all (tables and no index_meta: the legacy file, someone's own
  // database): refused and kept, not rebuilt over as a damaged index (a review: one with a view
  // of its own was replaced by an update, where --full refused it).
  await refuseForeignTables(conn, dbPath);
  throw new CraftedIndexError(dbPath, what.join(", "));
}

/** Throw {@linkcode ForeignIndexFileError} when the database on `conn` has tables but no `index_meta`. */
async function refuseForeignTables(conn: DuckDBConnection, dbPath: string): Promise<void> {
  if (await hasMeta(conn)) return;
  const [{ n }] = await rows(
    conn,
    `SELECT count(*) AS n FROM system.main.duckdb_tables()
      WHERE NOT temporary AND database_name = current_database()`,
  );
  if (Number(n) > 0) {
    throw new ForeignIndexFileError(
      dbPath,
      "is a DuckDB database but not a ledger index (it has tables and no index_meta)",
    );
  }
}

/** Whether `path` is a directory (through links); false when it or its folder is not there. */
async function isDirectoryPath(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw err;
  }
}

/**
 * The tables and views of the index the earlier Python indexer built
 * (quantBot's `tools/ledger/indexer.py`, SPEC 7), and its errors table.
 */
const EARLIER_INDEX_OBJECTS: ReadonlySet<string> = new Set([
  "runs_d",
  "runs_status",
  "phase_timings",
  "trial_results",
  "artifacts_catalog",
  "latest_runs",
  "run_phase_summary",
  "ingest_errors",
]);

/**
 * Every schema other than `main`, and every table, view, sequence, macro and
 * type, of the database open on a connection: `schema_name` and `name`.
 */
const EARLIER_INDEX_OBJECTS_SQL = [
  "SELECT schema_name, schema_name AS name FROM duckdb_schemas() WHERE NOT internal",
  "  AND database_name = current_database() AND schema_name <> 'main'",
  "UNION ALL SELECT schema_name, table_name FROM duckdb_tables()",
  "  WHERE NOT temporary AND database_name = current_database()",
  "UNION ALL SELECT schema_name, view_name FROM duckdb_views()",
  "  WHERE NOT internal AND NOT temporary AND database_name = current_database()",
  "UNION ALL SELECT schema_name, sequence_name FROM duckdb_sequences()",
  "  WHERE NOT temporary AND database_name = current_database()",
  "UNION ALL SELECT schema_name, function_name FROM duckdb_functions()",
  "  WHERE NOT internal AND database_name = current_database()",
  "UNION ALL SELECT schema_name, type_name FROM duckdb_types()",
  "  WHERE NOT internal AND database_name = current_database()",
].join("\n");

/** Why a rebuild replaces the earlier indexer's index ({@linkcode RebuildReport.fullBecause}). */
const EARLIER_INDEX_REASON =
  "the index is the earlier Python indexer's (its tables, no index_meta)";

/**
 * Whether the file at `dbPath`, which must be `root`'s own index path, is
 * the index the earlier Python indexer built there: a DuckDB database
 * without `index_meta` whose tables and views are among
 * {@linkcode EARLIER_INDEX_OBJECTS}, `runs_d` one of them. It indexes the
 * same log, and a full rebuild replaces it (a probe: it was refused as "not
 * a ledger index", and every command that reads the index then said to run
 * `rebuild-index`, which refused it again). Any other table keeps it
 * refused: a file of someone's own is not taken for an index.
 */
async function isEarlierIndexersIndex(dbPath: string, root: string): Promise<boolean> {
  if (resolve(dbPath) !== resolve(indexPath(root))) return false;
  if (await isDuckDbFile(dbPath) !== true) return false;
  const read = await readLiveIndex(dbPath, async (conn) => {
    if (await hasMeta(conn)) return false;
    // Every object of the file, in every schema: the legacy DuckDB's optimizer.runs_d is no
    // index's (a review: it was taken for one, and its runs were replaced), nor is a macro, a
    // sequence or a type of someone's own.
    const objects = (await rows(conn, EARLIER_INDEX_OBJECTS_SQL)).map((r) =>
      `${String(r.schema_name)}.${String(r.name)}`
    );
    return objects.includes("main.runs_d") &&
      objects.every((o) => o.startsWith("main.") && EARLIER_INDEX_OBJECTS.has(o.slice(5)));
  });
  return read.ok && read.value; // one DuckDB cannot read keeps its refusal
}

/**
 * {@linkcode RebuildOptions.source} of a rebuild from the root's own log
 * (the default); the other sources are buckets, `s3://bucket/prefix/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkRebuildOptions, LOCAL_SOURCE } from "./rebuild.ts";
 * assert.equal(checkRebuildOptions({}).source, LOCAL_SOURCE);
 * assert.equal(checkRebuildOptions({ source: "s3://logs/team-a/" }).source, "s3://logs/team-a/");
 * ```
 */
export const LOCAL_SOURCE = "local";

/**
 * The index was built from a bucket and this rebuild reads another source
 * (the local log, or another bucket or prefix): nothing is changed.
 */
export class IndexSourceError extends Error {
  /** The source the index was built from. */
  readonly recorded: string;
  /** The source this rebuild reads. */
  readonly requested: string;
  /**
   * Create the error for the index at `dbPath`; `localLog` false when the
   * root has no log of its own (an indexer's root), which --full could not
   * rebuild it from.
   */
  constructor(dbPath: string, recorded: string, requested: string, localLog = true) {
    const other = requested === LOCAL_SOURCE ? "this root's log" : requested;
    if (recorded === LOCAL_SOURCE) {
      // A worker's own index, asked to follow a bucket: its unshipped runs would leave it.
      super(
        `${dbPath} is built from this root's log, not ${other}: index the bucket into a file ` +
          `of its own with --db PATH (or --full to replace this index with the bucket's; ` +
          `runs of this root's log not in the bucket leave it)`,
      );
      this.name = "IndexSourceError";
      this.recorded = recorded;
      this.requested = requested;
      return;
    }
    // The recorded source is the file's: said only when it reads as one (a bucket URL).
    const shown = /^s3:\/\/[\w.-]+\/[\x21-\x7e]{0,1024}$/.test(recorded)
      ? recorded
      : "another source";
    super(
      `${dbPath} is built from ${shown}, not ${other}: rebuild it with --from ${shown}` +
        (requested === LOCAL_SOURCE && !localLog
          ? " (this root has no log of its own)"
          : ` (or --full to rebuild it from ${other} instead)`),
    );
    this.name = "IndexSourceError";
    this.recorded = recorded;
    this.requested = requested;
  }
}

/**
 * The index was built from the same bucket and prefix through another
 * endpoint (another server, or the same one spelled otherwise): its mirror
 * is another folder of `<root>/remote/`. Refused as another source, since
 * the bucket of another server is another log (a probe: `--from` the same
 * `s3://bucket/prefix` on a second server replaced every run, exit 0).
 */
export class IndexEndpointError extends IndexSourceError {
  /** Create the error for the index at `dbPath`, whose mirror is `recordedMirror`. */
  constructor(
    dbPath: string,
    source: string,
    recordedMirror: string,
    endpoint: string | undefined,
  ) {
    super(dbPath, source, source);
    const here = endpoint === undefined ? "AWS's own endpoint" : endpoint;
    this.message = `${dbPath} is built from ${source} through another endpoint than ${here} ` +
      `(its mirror is ${recordedMirror}): set AWS_ENDPOINT_URL_S3 to that endpoint (or --full ` +
      `to rebuild it from ${source} at ${here} instead)`;
    this.name = "IndexEndpointError";
  }
}

/**
 * Whether an index recording `recorded` as its source may not be updated
 * from `requested` ({@linkcode IndexSourceError}): only a bucket's index is
 * guarded, since it holds other machines' runs that no local log has.
 */
function refusesSource(recorded: string | undefined, requested: string): recorded is string {
  return recorded !== undefined && recorded !== LOCAL_SOURCE && recorded !== requested;
}

/**
 * Whether `err` is a rebuild refused because the index records another
 * source ({@linkcode IndexSourceError}): not a passing failure, so a daemon
 * stops on it (exit 1) instead of retrying every interval (an audit).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { IndexSourceError, isSourceRefusal, RebuildError } from "./rebuild.ts";
 * const cause = new IndexSourceError("runs.duckdb", "s3://lab/p/", "local");
 * assert.ok(isSourceRefusal(new RebuildError("refused", { cause })));
 * assert.ok(!isSourceRefusal(new RebuildError("disk full")));
 * ```
 */
export function isSourceRefusal(err: unknown): err is RebuildError {
  return err instanceof RebuildError && err.cause instanceof IndexSourceError;
}

/**
 * Whether `err` is a rebuild refused because the log is empty and the index
 * is not ({@linkcode EmptyLogError}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EmptyLogError, isEmptyLogRefusal, RebuildError } from "./rebuild.ts";
 * const cause = new EmptyLogError("/lab/events", true, 1, 10);
 * assert.ok(isEmptyLogRefusal(new RebuildError("refused", { cause })));
 * assert.ok(!isEmptyLogRefusal(new RebuildError("disk full")));
 * ```
 */
export function isEmptyLogRefusal(err: unknown): err is RebuildError {
  return err instanceof RebuildError && err.cause instanceof EmptyLogError;
}

/**
 * Refuse, before anything is fetched or created, a rebuild of the index at
 * `dbPath` from `source` when the index records another one (the check an
 * incremental rebuild makes, made early: an audit found `--from` a mistyped
 * prefix leaving an empty mirror folder behind). With `root`, an index of
 * that root's own log (which it has) is refused to a bucket too. An index
 * that is missing or cannot be opened is left to the rebuild, which
 * rebuilds or reports it. With `mirror` (the folder a bucket's rebuild reads,
 * one per endpoint), an index of the same bucket built through another
 * endpoint is refused too ({@linkcode IndexEndpointError}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkIndexSource } from "./rebuild.ts";
 * await checkIndexSource("/no/such/runs.duckdb", "s3://lab/p/"); // nothing to refuse
 * assert.ok(true);
 * ```
 */
export async function checkIndexSource(
  dbPath: string,
  source: string,
  root?: string,
  mirror?: { path: string; endpoint: string | undefined },
): Promise<void> {
  if (!await exists(dbPath, { isFile: true })) return;
  const read = await readLiveIndex(dbPath, async (conn) => ({
    source: await indexSource(conn),
    root: await indexRoot(conn),
  }));
  // Not a readable index (damaged, another version): the rebuild recovers or says so.
  if (!read.ok) return;
  const recorded = read.value.source;
  const recordedRoot = read.value.root;
  // The index of another root whose log is still there, given as --db to a bucket's update: as
  // from a local log (refuseForeignFile), not replaced (a storage probe: `--from ... --db
  // A/index/runs.duckdb` made A's index the bucket's, exit 0, and A's own rebuilds were refused).
  if (
    (recorded ?? LOCAL_SOURCE) === LOCAL_SOURCE && source !== LOCAL_SOURCE && root !== undefined &&
    recordedRoot !== undefined && await isAnotherRootsIndex(dbPath, recordedRoot, root)
  ) {
    throw foreignRefusal(
      new ForeignIndexFileError(
        dbPath,
        `is the index of the root ${recordedRoot}, whose log is still there`,
        `not replacing it with the index of ${source} (give --db a path of its own, or ` +
          "rebuild-index --full to replace it)",
      ),
    );
  }
  // A root's own index asked to follow a bucket, while the root has a log (a storage audit:
  // `rebuild-index --from` replaced a worker's index and called it incremental; its
  // unshipped runs were gone, and every later local refresh was refused).
  const replacesLocal = recorded === LOCAL_SOURCE && source !== LOCAL_SOURCE &&
    root !== undefined && await exists(eventsDir(root));
  if (replacesLocal || refusesSource(recorded, source)) {
    const cause = new IndexSourceError(dbPath, recorded, source);
    throw new RebuildError(
      `Rebuild of ${dbPath} refused (the index is unchanged): ${cause.message}`,
      { cause },
    );
  }
  // The same bucket through another endpoint: the index's root is another mirror of this root.
  if (mirror === undefined || recorded !== source || recordedRoot === undefined) return;
  const mirrorPath = await realPathOf(mirror.path);
  if (dirname(recordedRoot) === dirname(mirrorPath) && recordedRoot !== mirrorPath) {
    const cause = new IndexEndpointError(dbPath, source, recordedRoot, mirror.endpoint);
    throw new RebuildError(
      `Rebuild of ${dbPath} refused (the index is unchanged): ${cause.message}`,
      { cause },
    );
  }
}

/**
 * The source the index open on `conn` records (see
 * {@linkcode RebuildOptions.source}), or undefined when it records none (an
 * index built before sources were recorded, or an empty file).
 */
export async function indexSource(conn: DuckDBConnection): Promise<string | undefined> {
  return await hasMeta(conn) ? await metaValue(conn, SOURCE_META_KEY) : undefined;
}

/** The `index_meta` key of {@linkcode RebuildOptions.source}. */
const SOURCE_META_KEY = "source";

/**
 * The root (its real path) whose log the index open on `conn` was built
 * from, or undefined when it records none (an index built before roots were
 * recorded, or an empty file). A command given `--db` compares it with its
 * `--root` (a probe: `tag --root A --db B/index/runs.duckdb` found a run in
 * B's index, wrote the tag into A's log and rebuilt B's index from A's log).
 */
export async function indexRoot(conn: DuckDBConnection): Promise<string | undefined> {
  return await hasMeta(conn) ? await metaValue(conn, ROOT_META_KEY) : undefined;
}

/**
 * Whether the index at `dbPath`, which records `recorded` as its root
 * ({@linkcode indexRoot}), is another root's than `root`: what
 * `rebuild-index` (without `--full`) and the annotation commands refuse to
 * take as `--db`. Not when `recorded` is `root`; not for an index inside
 * `root`'s folder (a root moved or copied keeps its index, which records the
 * old path; a review: a custom `--db` inside a copied root was refused)
 * unless it is inside the recorded root too (a root nested in this one); not
 * when the recorded root's log is gone, or cannot be looked at by this
 * command (a root moved under `data/`, whose old place `deno task
 * rebuild-index` may not read: a review saw that refused for a permission).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isAnotherRootsIndex } from "./rebuild.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   assert.equal(await isAnotherRootsIndex(`${root}/index/runs.duckdb`, "/gone/root", root), false);
 *   assert.equal(await isAnotherRootsIndex(`${root}/index/runs.duckdb`, root, root), false);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function isAnotherRootsIndex(
  dbPath: string,
  recorded: string,
  root: string,
): Promise<boolean> {
  const rootPath = await realPathOf(root); // a bucket's indexer root may not be made yet
  if (recorded === rootPath) return false;
  let recordedLog: boolean;
  try {
    recordedLog = await exists(join(recorded, "events"));
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return false; // cannot tell: not refused
    }
    throw err;
  }
  if (!recordedLog) return false;
  const dbDir = dirname(await realPathOf(dbPath));
  // Inside the recorded root (a root nested in this one: a review saw its index let through),
  // it is that root's; else inside this root, a copy's.
  return isAtOrUnder(dbDir, recorded) || !isAtOrUnder(dbDir, rootPath);
}

/** Whether the real path `path` is the folder `dir` or inside it. */
function isAtOrUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + sep);
}

/** The `index_meta` key of {@linkcode indexRoot}. */
const ROOT_META_KEY = "root";

/**
 * A rebuild failed; the previous index is still in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rebuildIndex, RebuildError } from "./rebuild.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   // A directory where the rebuild lock file goes: the rebuild cannot start.
 *   await Deno.mkdir(`${root}/index/.runs.duckdb.rebuild.lock`, { recursive: true });
 *   await assert.rejects(rebuildIndex(root, {}), (err) => err instanceof RebuildError);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class RebuildError extends Error {
  /** Create the error, keeping the cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RebuildError";
  }
}

/**
 * Make the index's folder `dir` (and its parents). A file where a folder
 * must be is a {@linkcode RebuildError} naming it (a probe: "File exists
 * (os error 17): mkdir 'ix/index'" for an `index` that was a file, and the
 * same for a `--db` under a file).
 */
async function makeIndexFolder(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists || err instanceof Deno.errors.NotADirectory)) {
      throw err;
    }
    let blocking = dir; // the nearest of dir and its parents that is there: a file
    let link = false;
    for (let up = dir; up !== dirname(up); up = dirname(up)) {
      const info = await Deno.lstat(up).catch((e) => {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
          return null;
        }
        throw e;
      });
      if (info !== null) {
        blocking = up;
        link = info.isSymlink;
        break;
      }
    }
    const what = link ? "is a link to no folder" : "is a file, not a folder";
    throw new RebuildError(
      `Cannot make the index's folder ${dir}: ${blocking} ${what} (nothing was changed)`,
      { cause: err },
    );
  }
}

/** {@linkcode RebuildOptions} checked, with their defaults. */
export interface CheckedRebuildOptions {
  /** `sinceDate`, checked. */
  sinceDate: string | undefined;
  /** `staleAfterMs` or its default. */
  staleAfterMs: number;
  /** Whether `staleAfterMs` was given (else the index's own value is kept). */
  staleAfterGiven: boolean;
  /** `memoryLimit` or its default, as DuckDB takes it. */
  memoryLimit: string;
  /** `batchBytesMax` or its default. */
  batchBytes: number;
  /** `batchFilesMax` or its default. */
  batchFiles: number;
  /** `deriveGroupEventsMax` or its default. */
  deriveGroupEvents: number;
  /** `dedupRowsMax` or its default. */
  dedupRows: number;
  /** `source` or {@linkcode LOCAL_SOURCE}. */
  source: string;
  /** `rereadFiles`, as a set. */
  rereadFiles: ReadonlySet<string>;
}

/**
 * Check every option of a rebuild before anything is made, naming the one
 * that is wrong (`RangeError`, `TypeError`, `InvalidMemoryLimitError`,
 * `InvalidDateError`), and return them with their defaults. `rebuildIndex`
 * calls it first, and `runDaemon` before it takes its lock, so that a daemon
 * given a bad option stops at once instead of failing every rebuild.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkRebuildOptions, MEMORY_LIMIT_DEFAULT } from "./rebuild.ts";
 * assert.equal(checkRebuildOptions({}).memoryLimit, MEMORY_LIMIT_DEFAULT);
 * assert.throws(() => checkRebuildOptions({ memoryLimit: "96MB" }), /at least 128MB/);
 * assert.throws(() => checkRebuildOptions({ staleAfterMs: 0 }), RangeError);
 * assert.throws(() => checkRebuildOptions({ source: "Local" }), /source must be "local"/);
 * ```
 */
export function checkRebuildOptions(options: RebuildOptions): CheckedRebuildOptions {
  const sinceDate = options.sinceDate === undefined ? undefined : parseDay(options.sinceDate);
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS_DEFAULT;
  if (!Number.isSafeInteger(staleAfterMs) || staleAfterMs <= 0) {
    throw new RangeError(`staleAfterMs must be a positive integer, got ${staleAfterMs}`);
  }
  const memoryLimit = parseMemoryLimit(
    options.memoryLimit ?? MEMORY_LIMIT_DEFAULT,
    REBUILD_MEMORY_LIMIT_MIN_BYTES,
  );
  const batchBytes =
    renamedOption(options.batchBytesMax, options.batchBytes, "batchBytesMax", "batchBytes") ??
      defaultBatchBytes(memoryLimit);
  if (!Number.isSafeInteger(batchBytes) || batchBytes < BATCH_BYTES_MIN) {
    throw new RangeError(
      `batchBytesMax must be an integer >= ${BATCH_BYTES_MIN}, got ${batchBytes}`,
    );
  }
  const batchFiles = countAtLeastOne(
    "batchFilesMax",
    options.batchFilesMax ?? BATCH_FILES_MAX,
  );
  const deriveGroupEvents = countAtLeastOne(
    "deriveGroupEventsMax",
    renamedOption(
      options.deriveGroupEventsMax,
      options.deriveGroupEvents,
      "deriveGroupEventsMax",
      "deriveGroupEvents",
    ) ?? deriveGroupEventsFor(memoryLimit),
  );
  const dedupRows = countAtLeastOne(
    "dedupRowsMax",
    options.dedupRowsMax ?? Math.max(
      1,
      Math.floor((memoryLimitBytes(memoryLimit) - DEDUP_RESERVED_BYTES) / DEDUP_BYTES_PER_ROW),
    ),
  );
  const source = options.source ?? LOCAL_SOURCE;
  if (source !== LOCAL_SOURCE && !/^s3:\/\/[^/\s]+\//.test(source)) {
    // Recorded in the index: a misspelt "local" would refuse every later plain rebuild.
    throw new RangeError(
      `source must be "${LOCAL_SOURCE}" or s3://bucket/prefix/, got ${JSON.stringify(source)}`,
    );
  }
  if (options.dbPath === "") throw new RangeError("dbPath must not be empty");
  // Every callback and signal too: `onRead: 5` failed mid-rebuild naming an inner option, and
  // `onWait: 5`, `lockWaitSignal: "x"` were taken (a probe of the library).
  for (const name of ["onProgress", "onWait", "onRead"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`${name} must be a function, got ${typeof value}`);
    }
  }
  for (const name of ["signal", "lockWaitSignal"] as const) {
    const value: unknown = options[name];
    if (value !== undefined && !(value instanceof AbortSignal)) {
      throw new TypeError(`${name} must be an AbortSignal, got ${typeof value}`);
    }
  }
  return {
    sinceDate,
    staleAfterMs,
    staleAfterGiven: options.staleAfterMs !== undefined,
    memoryLimit,
    batchBytes,
    batchFiles,
    deriveGroupEvents,
    dedupRows,
    source,
    rereadFiles: new Set(options.rereadFiles ?? []),
  };
}

/** `value`, the option `name`, unless it is not an integer >= 1 (a `RangeError` naming it). */
function countAtLeastOne(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  }
  return value;
}

/**
 * Memory per row a full rebuild's deduplication ranks in one pass (every
 * column of each occurrence of a duplicated id, and its window state),
 * beside {@linkcode DEDUP_RESERVED_BYTES}. A probe: 4M lines of 1M ids (3M
 * rows of duplicated ids) ran one pass out of memory at 128MB; in passes of
 * 250k rows it indexed in 62 s, of 500k it failed. 250k at 128MB, 2.75M at
 * the default 768MB (whose one pass held 12M such rows at 1.14 GiB).
 */
const DEDUP_BYTES_PER_ROW = 256;
/** Memory of a full rebuild that its deduplication does not have. */
const DEDUP_RESERVED_BYTES = 64e6;

/**
 * Throw {@linkcode RebuildError} unless `root` is an existing directory: a
 * mistyped root would otherwise become a new, empty index that reports
 * success (the command line refuses it the same way).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RebuildError, requireRootDirectory } from "./rebuild.ts";
 * await requireRootDirectory(Deno.cwd());
 * await assert.rejects(requireRootDirectory("/no/such/ledger"), RebuildError);
 * ```
 */
export async function requireRootDirectory(root: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new RebuildError(`Ledger root ${root} does not exist: nothing to index`, {
        cause: err,
      });
    }
    throw err;
  }
  if (!info.isDirectory) throw new RebuildError(`Ledger root ${root} is not a directory`);
}

/**
 * Check that `value` is a real UTC day `YYYY-MM-DD` (2026-02-30 is not);
 * throws {@linkcode InvalidDateError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseDay } from "./rebuild.ts";
 * assert.equal(parseDay("2026-01-23"), "2026-01-23");
 * assert.equal(parseDay("0001-01-01"), "0001-01-01"); // a year below 100 as written
 * ```
 */
export function parseDay(value: string): string {
  if (utcDayStartMs(value) === undefined) throw new InvalidDateError(value);
  return value;
}

/**
 * Build or update the index of the ledger at `root` and publish it
 * atomically. Incremental unless `full` is set or no usable index exists.
 * On failure throws {@linkcode RebuildError} and leaves the previous index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({
 *     event_type: "run.created",
 *     run_id: "r1",
 *     run_type: "policy",
 *     config: {},
 *     data_fingerprint: "fp",
 *   });
 *   await writer.close();
 *   const report = await rebuildIndex(root, { full: true });
 *   assert.equal(report.events, 1);
 *   assert.equal(report.runs, 1);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function rebuildIndex(
  root: string,
  options: RebuildOptions = {},
): Promise<RebuildReport> {
  try {
    return await rebuildOnce(root, options, false);
  } catch (err) {
    // Refused as no index of ours: the earlier Python indexer's index at the root's own path
    // is this log's index all the same, replaced by a full rebuild. Looked at only once
    // refused: opening the index for it cost every rebuild about 40 ms at 1M events.
    if (!(err instanceof RebuildError && err.cause instanceof ForeignIndexFileError)) throw err;
    const dbPath = options.dbPath ?? indexPath(root);
    if ((options.source ?? LOCAL_SOURCE) !== LOCAL_SOURCE) throw err;
    if (!await isEarlierIndexersIndex(dbPath, root)) throw err;
    return await rebuildOnce(root, options, true);
  }
}

/**
 * {@linkcode rebuildIndex}, once; `earlier`: the file at the root's own
 * index path is the earlier indexer's index, replaced by a full rebuild.
 */
async function rebuildOnce(
  root: string,
  options: RebuildOptions,
  earlier: boolean,
): Promise<RebuildReport> {
  const startMs = performance.now();
  const checked = checkRebuildOptions(options);
  const { sinceDate, source } = checked;
  const dbPath = options.dbPath ?? indexPath(root);
  const progress = options.onProgress ?? (() => {});
  const signal = options.signal;
  const lockWaitSignal = options.lockWaitSignal ?? signal;
  signal?.throwIfAborted();
  await requireRootDirectory(root);
  await refuseIndexInLog(dbPath, root).catch((err) => {
    throw err instanceof ForeignIndexFileError ? foreignRefusal(err) : err;
  }); // before anything is made there
  // A folder given as the index (`--db data`) is refused before the folder holding it is made
  // or written (a probe: under deno task rebuild-index that asked for write access to `.`).
  if (await isDirectoryPath(dbPath)) await assertRegularFileOrAbsent(dbPath);
  await makeIndexFolder(dirname(dbPath));
  await assertRegularFileOrAbsent(dbPath); // a FIFO here would hang the copy aside forever
  let lock;
  try {
    lock = await lockRebuild(dbPath, options.onWait, lockWaitSignal);
  } catch (err) {
    if (lockWaitSignal?.aborted) {
      throw new RebuildInterruptedError(dbPath, { cause: lockWaitSignal.reason });
    }
    // A full disk fails the lock file's pid write: the same one-line failure.
    throw new RebuildError(
      `Rebuild of ${dbPath} failed (the previous index is unchanged): ` +
        `cannot take the rebuild lock: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const tempPath = tempPathFor(dbPath);
  let published = false;
  let refusedForeign = false;
  // The copy an update builds on, made while the log is listed (settles to its error, never
  // rejects, so that a failed listing still waits for it before removing it).
  let copied: Promise<unknown> = Promise.resolve(null);
  try {
    if (earlier) progress(`${dbPath}: ${EARLIER_INDEX_REASON}`);
    else await refuseForeignFile(dbPath, root, options.full === true, source);
    const leftovers = await removeLeftovers(dbPath);
    if (leftovers.length > 0) progress(`removed leftovers of crashed rebuilds: ${leftovers}`);
    const updates = !options.full && !earlier && (await exists(dbPath));
    // Listed before the log: the runs they stand for were on disk before them.
    const markers = source === LOCAL_SOURCE ? await listRefreshMarkers(dbPath) : [];
    const notRead: string[] = [];
    const unreachable: UnreachableDayError[] = [];
    const files = await listPartFiles(root, (entry, why) => {
      progress(`skipped ${entry}: ${why}`);
      notRead.push(`${entry}: ${why.replace(/: not read$/, "")}`);
    }, (err) => unreachable.push(err));
    // A day the rebuild would read, or drop, cannot be left out: every day, but with
    // --since-date only those from it on (the days before stay as indexed; a review: a cron's
    // `--since-date` failed while an old day's disk was offline). Once the mode is known, a
    // rebuild that turned full checks the rest (buildInto).
    const lost = unreachable.find((err) =>
      options.full === true || sinceDate === undefined || err.day >= sinceDate
    );
    if (lost !== undefined) throw lost;
    progress(`log: ${files.length} part files`);
    // With a --since-date window the days before it stay as indexed: nothing is emptied.
    const dropsAll = options.full === true || sinceDate === undefined;
    if (files.length === 0 && dropsAll) {
      await refuseEmptying(dbPath, root, source, options.full === true);
    }
    const phasesMs: Record<string, number> = {};
    const ctx = {
      ...checked,
      phasesMs,
      dbPath,
      rootPath: await Deno.realPath(root),
      progress,
      onRead: options.onRead,
      signal,
      stagingPrefix: stagingPrefixFor(dbPath),
      unreachableDays: unreachable,
    };
    if (
      updates && sinceDate === undefined && source === LOCAL_SOURCE && markers.length === 0 &&
      checked.rereadFiles.size === 0 // files to read again whatever their size (a review)
    ) {
      // Nothing to read: the index stays as it is, not copied and published again (each
      // annotation command refreshes before it writes; a copy of a 1M-event index is 72 MB).
      const checkStart = performance.now();
      const unchanged = await unchangedIndex(files, ctx);
      if (unchanged !== undefined) {
        phasesMs.check = Math.round(performance.now() - checkStart);
        if (unchanged.livenessSkipped !== undefined) {
          progress(`pid check skipped: ${unchanged.livenessSkipped}`);
        }
        const elapsedMs = Math.round(performance.now() - startMs);
        progress(`${dbPath} is up to date with the log: left as it is, ${elapsedMs} ms`);
        return {
          ...unchanged,
          dbPath,
          filesScanned: files.length,
          elapsedMs,
          phasesMs,
          ...notReadOf(notRead),
        };
      }
    }
    const copyStart = performance.now();
    if (updates) copied = Deno.copyFile(dbPath, tempPath).then(() => null, (err: unknown) => err);
    let built: Built;
    let recoveredFrom: string | undefined;
    if (updates) {
      let copySynced: Promise<unknown> = Promise.resolve(null);
      try {
        const copyError = await copied;
        if (copyError !== null) throw copyError;
        // ext4 writes a new file's bytes before the first commit that touches it: syncing
        // the copy now puts that write beside the plan and the check query instead of
        // in front of the copy's first commit (settles to its error, never rejects).
        copySynced = syncFile(tempPath).then(() => null, (err: unknown) => err);
        phasesMs.copy = Math.round(performance.now() - copyStart); // the listing beside it too
        built = await buildInto(tempPath, files, { ...ctx, mode: "incremental" });
        const syncError = await copySynced;
        if (syncError !== null) throw syncError;
      } catch (err) {
        await copySynced; // done with the copy before it is removed
        if (signal?.aborted || err instanceof IndexSourceError) throw err;
        if (err instanceof ForeignIndexFileError) throw err;
        // The log is the truth: an index that cannot be updated is rebuilt from it.
        await removeTemp(tempPath);
        // The copy holds the index's bytes: what is wrong with it is the index's (helper-300:
        // "runs.duckdb.tmp-N ... is not a valid DuckDB database file" named the copy).
        recoveredFrom = describeError(err, tempPath).replaceAll(
          `${tempPath} (the new index being built beside ${basename(dbPath)}, removed)`,
          `${dbPath} (as copied to be updated)`,
        );
        progress(`the index could not be updated (${recoveredFrom}): rebuilding in full`);
        built = await buildInto(tempPath, files, { ...ctx, mode: "full" });
      }
    } else {
      built = await buildInto(tempPath, files, { ...ctx, mode: "full" });
    }
    signal?.throwIfAborted();
    const publishStart = performance.now();
    await publish(tempPath, dbPath);
    published = true;
    phasesMs.publish = Math.round(performance.now() - publishStart);
    try {
      await removeRefreshMarkers(markers);
    } catch (err) {
      throw new RebuildError(
        `Published ${dbPath}, but could not remove its refresh markers (readers will warn that ` +
          `it may lack runs until a rebuild removes them): ${describeError(err, tempPath)}`,
        { cause: err },
      );
    }
    const elapsedMs = Math.round(performance.now() - startMs);
    progress(
      `published ${dbPath} (${built.mode}): ${built.events} events, ${built.runs} runs, ` +
        `${built.errors} ingest errors, ${elapsedMs} ms`,
    );
    return {
      ...built,
      ...(earlier ? { fullBecause: EARLIER_INDEX_REASON } : {}),
      dbPath,
      filesScanned: files.length,
      elapsedMs,
      recoveredFrom,
      phasesMs,
      ...notReadOf(notRead),
    };
  } catch (err) {
    await copied; // done with the copy before it is removed
    await removeTemp(tempPath);
    if (published) throw err; // said after the index was published
    if (signal?.aborted) throw new RebuildInterruptedError(dbPath, { cause: signal.reason });
    if (err instanceof InvalidDateError) throw err;
    if (err instanceof ForeignIndexFileError) {
      refusedForeign = true;
      throw foreignRefusal(err);
    }
    if (
      err instanceof IndexSourceError || err instanceof EmptyLogError ||
      err instanceof UnreachableDayError
    ) {
      throw new RebuildError(
        `Rebuild of ${dbPath} refused (the index is unchanged): ${err.message}`,
        { cause: err },
      );
    }
    throw new RebuildError(
      `Rebuild of ${dbPath} failed (the previous index is unchanged): ` +
        describeError(err, tempPath),
      { cause: err },
    );
  } finally {
    // Refused as no index (nothing was changed): the lock file made for it goes too.
    if (refusedForeign) await lock.releaseAndForget();
    else lock.release();
  }
}

/** The report's {@linkcode RebuildReport.notRead} of the entries the listing passed over. */
function notReadOf(notRead: string[]): Pick<RebuildReport, "notRead"> {
  if (notRead.length === 0) return {};
  // In name order, as files are listed (readDir's order is the file system's).
  return {
    notRead: { shown: notRead.sort().slice(0, CHANGED_FILES_SHOWN), count: notRead.length },
  };
}

/**
 * Unfinished runs of this host whose processes {@linkcode unchangedIndex}
 * checks; with more, the rebuild goes the ordinary way, which checks them
 * in chunks.
 */
const UNCHANGED_CHECK_PROCESSES_MAX = 10_000;

/**
 * What an incremental update of the index at `ctx.dbPath` would report when
 * it would change nothing, or undefined when it would (or the index cannot
 * be read: the ordinary way then says why, or rebuilds it): the index is of
 * this format and schema, built from this root's log, with the same
 * `stale_after_ms` when one is given, its bookkeeping names exactly the
 * listed part files with the same sizes and modification times (as
 * {@linkcode planScan} skips a file), no file is to be read again
 * (`rereadFiles`; checked by the caller), its liveness rows are this
 * host's only, and no process of an unfinished run on this host ended
 * since it was recorded alive. Read on a read-only
 * connection: the index is neither copied nor published again.
 */
async function unchangedIndex(
  files: PartFile[],
  ctx: Omit<BuildContext, "mode">,
): Promise<Built | undefined> {
  const read = await readLiveIndex(ctx.dbPath, async (conn): Promise<Built | undefined> => {
    await refuseForeignTables(conn, ctx.dbPath);
    const made = await madeWith(conn);
    if (!made.formatMatches || !made.schemaCurrent) return undefined;
    if (made.source !== ctx.source || made.root !== ctx.rootPath) return undefined;
    if (
      ctx.staleAfterGiven &&
      await metaValue(conn, "stale_after_ms") !== String(ctx.staleAfterMs)
    ) return undefined;
    const indexed = await rows(conn, SELECT_INGEST_FILES_SQL);
    if (indexed.length !== files.length) return undefined;
    const listed = new Map(files.map((f) => [f.file, f]));
    for (const r of indexed) {
      const f = listed.get(String(r.file));
      if (f === undefined) return undefined;
      if (f.sizeBytes !== Number(r.size_bytes) || f.mtimeMs !== Number(r.mtime_ms)) {
        return undefined;
      }
    }
    const livenessSkipped = await livenessUnchanged(conn);
    if (livenessSkipped === false) return undefined;
    // Asked only of an index answered as it is: one that changes is asked on its copy, before
    // the update runs a statement there (the check lists DuckDB's functions: asked twice, it
    // was 46-147 ms of an incremental's fixed cost, issue 16). This connection is read-only,
    // without external access, so nothing before it could read or write a file.
    await refuseCraftedCatalog(conn, ctx.dbPath);
    return {
      mode: "incremental",
      unchanged: true,
      filesRead: 0,
      bytesRead: 0,
      linesRead: 0,
      eventsRead: 0,
      errorsFound: 0,
      ...await indexTotals(conn),
      changedFiles: { shown: [], count: 0 },
      ...(livenessSkipped === true ? {} : { livenessSkipped }),
    };
  });
  return read.ok ? read.value : undefined;
}

/**
 * Whether the liveness the index open on `conn` records still holds: true,
 * false when a process of an unfinished run of this host ended (or there
 * are too many to check here), or why it could not be checked (as a
 * rebuild would say it skipped the check).
 */
async function livenessUnchanged(conn: DuckDBConnection): Promise<boolean | string> {
  const probe = probeLiveness();
  if (probe.kind === "skipped") return probe.reason;
  const [count] = await rows(
    conn,
    `SELECT count(*) AS n FROM (${SELECT_LIVENESS_CANDIDATES_SQL})`,
    [probe.host],
  );
  if (Number(count.n) > UNCHANGED_CHECK_PROCESSES_MAX) return false;
  // A rebuild keeps this host's rows only: rows of another (the host renamed, or an index
  // built elsewhere) are dropped by the ordinary way (a review: the run stayed stale).
  const [others] = await rows(
    conn,
    `SELECT count(*) AS n FROM process_liveness WHERE host IS DISTINCT FROM $1`,
    [probe.host],
  );
  if (Number(others.n) > 0) return false;
  try {
    return (await endedRunProcesses(conn, probe)).length === 0;
  } catch (err) {
    if (!(err instanceof ProcessTableHiddenError)) throw err;
    return err.message;
  }
}

/**
 * The first line of an error, with the temporary file named for what it is
 * (a DuckDB error about `runs.duckdb.tmp-123` means the copy being built).
 */
function describeError(err: unknown, tempPath: string): string {
  const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return message.replaceAll(
    tempPath,
    `${tempPath} (the new index being built beside ${
      basename(tempPath.replace(/\.tmp-\d+$/, ""))
    }, removed)`,
  );
}

interface BuildContext extends CheckedRebuildOptions {
  phasesMs: Record<string, number>;
  dbPath: string;
  /** The real path of the root whose log this is ({@linkcode indexRoot}). */
  rootPath: string;
  mode: "full" | "incremental";
  progress: (message: string) => void;
  onRead: ((doneBytes: number, totalBytes: number) => void) | undefined;
  signal: AbortSignal | undefined;
  stagingPrefix: string;
  /** Day folders of the log that lead to no folder, before `sinceDate` (see rebuildOnce). */
  unreachableDays: readonly UnreachableDayError[];
}

type Built = Omit<RebuildReport, "dbPath" | "filesScanned" | "elapsedMs" | "phasesMs">;

async function buildInto(tempPath: string, files: PartFile[], ctx: BuildContext): Promise<Built> {
  const stagingDir = await Deno.makeTempDir({ dir: dirname(tempPath), prefix: ctx.stagingPrefix });
  try {
    // Work past the memory limit spills into the staging directory, removed below.
    const instance = await DuckDBInstance.create(tempPath, {
      memory_limit: ctx.memoryLimit,
      temp_directory: join(stagingDir, "spill"),
      // A new file only (a full rebuild); an incremental update's copy keeps its own.
      default_block_size: String(INDEX_BLOCK_BYTES),
    });
    try {
      const conn = await instance.connect();
      const interrupt = () => conn.interrupt();
      ctx.signal?.addEventListener("abort", interrupt, { once: true });
      try {
        ctx.signal?.throwIfAborted();
        return await buildWith(conn, files, ctx, stagingDir);
      } finally {
        ctx.signal?.removeEventListener("abort", interrupt);
        conn.disconnectSync();
      }
    } finally {
      const closeStart = performance.now();
      instance.closeSync(); // with the CHECKPOINT done, the file is complete and the .wal empty
      ctx.phasesMs.close = Math.round(performance.now() - closeStart);
    }
  } finally {
    await Deno.remove(stagingDir, { recursive: true });
  }
}

async function buildWith(
  conn: DuckDBConnection,
  files: PartFile[],
  ctx: BuildContext,
  stagingDir: string,
): Promise<Built> {
  let lapStart = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    ctx.phasesMs[phase] = Math.round(now - lapStart);
    lapStart = now;
  };
  // Row order in tables carries no meaning here (line numbers are computed); letting
  // DuckDB insert out of order makes the bulk inserts faster.
  await exec(conn, "SET preserve_insertion_order = false");
  let mode = ctx.mode;
  let fullBecause: string | undefined;
  // The copy is the previous index, opened with external access on (the rebuild reads the
  // log): before any statement of ours runs on it, a macro or view no index of ours has is
  // refused (a crafted index shadowed from_json and read another file into the index: an
  // audit), and the rebuild starts over in a new file.
  if (mode === "incremental") {
    await refuseCraftedCatalog(conn, ctx.dbPath);
    await refuseForeignTables(conn, ctx.dbPath); // the copy's
  }
  const made = mode === "incremental" ? await madeWith(conn) : undefined;
  const recorded = made?.source;
  if (refusesSource(recorded, ctx.source)) {
    throw new IndexSourceError(ctx.dbPath, recorded, ctx.source);
  }
  if (made !== undefined && !made.formatMatches) {
    fullBecause = "the index format changed";
    ctx.progress(`${fullBecause}: rebuilding in full`);
    mode = "full";
    await dropEverything(conn);
  } else if (made?.root !== undefined && made.root !== ctx.rootPath) {
    // Another root's index (`--db` of another root, or the root moved): what it holds of files
    // is about another log, so it is rebuilt from this one, not updated.
    fullBecause = `the index was built from the root ${made.root}`;
    ctx.progress(`${fullBecause}: rebuilding in full`);
    mode = "full";
    await dropEverything(conn);
  }
  // The same schema SQL has nothing to create. Skipping it also leaves the copy's first
  // commit (which waits for the copy's bytes to reach the disk) until after the check query.
  if (mode === "full" || !made?.schemaCurrent) await exec(conn, CREATE_SCHEMA_SQL);
  else await exec(conn, INDEX_VIEWS_SQL); // ours, whatever the copy held under their names
  await exec(conn, CREATE_AFFECTED_RUNS_SQL);
  // A full rebuild reads everything: there is nothing indexed before sinceDate to keep, and
  // no day it cannot read may be left out.
  const sinceDate = mode === "full" ? undefined : ctx.sinceDate;
  if (mode === "full" && ctx.unreachableDays.length > 0) throw ctx.unreachableDays[0];
  const changedFiles: string[] = [];
  const entries = await planScan(
    conn,
    files,
    { ...ctx, mode, sinceDate },
    stagingDir,
    changedFiles,
  );
  const readBytes = entries.reduce((n, e) => n + (e.sourceBytes ?? e.readBytes), 0);
  // Files, not ranges: a large file is read in several staged ranges (a probe: "reading 4
  // files" of one new file, where the report said 1).
  const readFiles = new Set(entries.map((e) => e.file)).size;
  const ranges = entries.length === readFiles ? "" : ` in ${entries.length} ranges`;
  ctx.progress(`reading ${countOf(readFiles, "file")}${ranges}, ${readBytes} bytes`);
  lap("plan");
  const counts = await ingest(conn, entries, stagingDir, {
    deferDedup: mode === "full",
    mirrorFiles: ctx.source !== LOCAL_SOURCE, // a bucket's index reads its mirror
    batchBytes: ctx.batchBytes,
    batchFiles: ctx.batchFiles,
    longLines: longLinesFor(memoryLimitBytes(ctx.memoryLimit), ctx.batchBytes),
    dedupRows: ctx.dedupRows,
    onBatch: ctx.onRead,
    signal: ctx.signal,
  });
  const { clean, miss, staged } = counts.batches;
  ctx.progress(
    `read ${counts.lines} lines: ${counts.events} events, ${counts.errors} errors; batches ` +
      `checked straight into events: ${clean + miss} (${miss} with bad lines), staged: ${staged}`,
  );
  lap("ingest");
  if (mode === "full") await deriveAll(conn, ctx.deriveGroupEvents, ctx);
  else await deriveAffected(conn, ctx.deriveGroupEvents, ctx);
  lap("derive");
  const livenessSkipped = await recordLiveness(conn, { ...ctx, mode });
  lap("liveness");
  if (livenessSkipped !== undefined) ctx.progress(`pid check skipped: ${livenessSkipped}`);
  const staleAfterMs = await staleAfterMsOf(conn, ctx, mode);
  // One commit for the bookkeeping: ten statements of their own were ten commits, each a WAL
  // write and sync (50 ms of a full rebuild of 59 events here, against 11 in one).
  await inTransaction(conn, async () => {
    await exec(conn, SET_META_SQL, ["format_version", String(INDEX_FORMAT_VERSION)]);
    await exec(conn, SET_META_SQL, ["schema_sha256", SCHEMA_SQL_SHA256]);
    await exec(conn, SET_META_SQL, ["stale_after_ms", String(staleAfterMs)]);
    await exec(conn, SET_META_SQL, [SOURCE_META_KEY, ctx.source]);
    await exec(conn, SET_META_SQL, [ROOT_META_KEY, ctx.rootPath]);
  });
  await exec(conn, "DROP TABLE IF EXISTS affected_runs");
  const totals = await indexTotals(conn);
  await exec(conn, "CHECKPOINT"); // everything is in the file, no .wal needed from here
  lap("checkpoint");
  return {
    mode,
    // A large file is read in several ranges (entries): count it once.
    filesRead: new Set(entries.map((e) => e.file)).size,
    bytesRead: readBytes,
    linesRead: counts.lines,
    eventsRead: counts.events,
    errorsFound: counts.errors,
    ...totals,
    changedFiles: {
      shown: changedFiles.slice(0, CHANGED_FILES_SHOWN),
      count: changedFiles.length,
    },
    livenessSkipped,
    fullBecause,
  };
}

/** What the index open on `conn` holds, as a {@linkcode RebuildReport} counts it. */
async function indexTotals(conn: DuckDBConnection): Promise<
  Pick<RebuildReport, "events" | "runs" | "errors" | "duplicates" | "conflicts" | "reusedRuns">
> {
  const [totals] = await rows(conn, COUNTS_SQL);
  const conflicts = Number(totals.duplicates) === 0
    ? 0
    : Number((await rows(conn, COUNT_CONFLICTS_SQL))[0].conflicts);
  const reused = await rows(conn, REUSED_RUN_IDS_SQL, [REUSED_RUN_IDS_SHOWN]);
  return {
    events: Number(totals.events),
    runs: Number(totals.runs),
    errors: Number(totals.errors),
    duplicates: Number(totals.duplicates),
    conflicts,
    reusedRuns: {
      shown: reused.map((r) => String(r.run_id)),
      count: reused.length === 0 ? 0 : Number(reused[0].n),
    },
  };
}

/**
 * Derive every run after a full rebuild: in one pass without the per-run
 * filter when its events and runs weigh at most `groupEvents` (a run counts
 * as `DERIVE_EVENTS_PER_RUN` events beside its own), otherwise in groups of
 * runs of about that weight (bounded memory for the aggregates and
 * windows), each reading only the span of `events` its runs occupy. The
 * index open on `conn` needs the temp table `affected_runs`
 * (`CREATE_AFFECTED_RUNS_SQL`). Exported for the benchmark's floor of a full
 * rebuild (`bench/_store_floor_child.ts`), which derives the same way.
 */
export async function deriveAll(
  conn: DuckDBConnection,
  groupEvents: number,
  options: { progress?: (message: string) => void; signal?: AbortSignal } = {},
): Promise<void> {
  assert(Number.isSafeInteger(groupEvents) && groupEvents > 0, "groupEvents is a positive integer");
  const [{ weight }] = await rows(conn, DERIVE_WEIGHT_SQL);
  if (Number(weight) <= groupEvents) {
    // Every run is affected: derive without the per-run filter.
    await exec(conn, DERIVE_ALL_SQL);
    return;
  }
  await deriveInGroups(conn, groupEvents, false, options);
}

/**
 * Derive every run of `events` (or, `affected`, those of `affected_runs`)
 * in groups of about `groupEvents` of weight (`createDeriveGroupsSql`),
 * each reading the span of `events` its runs occupy.
 */
async function deriveInGroups(
  conn: DuckDBConnection,
  groupEvents: number,
  affected: boolean,
  options: { progress?: (message: string) => void; signal?: AbortSignal },
): Promise<void> {
  // One transaction from reading the spans to the last group: a checkpoint between two
  // statements (the log's writes outgrowing the WAL threshold) could compact `events`, whose
  // deduplication deleted rows, and renumber the rowids the spans hold.
  await inTransaction(conn, async () => {
    await exec(conn, createDeriveGroupsSql(affected), [groupEvents]);
    const spans = await rows(conn, DERIVE_GROUP_SPANS_SQL);
    for (const [i, { g, lo, hi }] of spans.entries()) {
      options.signal?.throwIfAborted();
      options.progress?.(`deriving run tables: group ${i + 1} of ${spans.length}`);
      await exec(conn, SELECT_DERIVE_GROUP_SQL, [Number(g)]);
      await exec(conn, DERIVE_SQL, [Number(lo), Number(hi)]);
    }
    await exec(conn, "DROP TABLE derive_groups");
  });
}

/**
 * Derive the runs of `affected_runs` again, reading only the span of `events`
 * they occupy: read and used in one transaction, as in {@linkcode deriveAll}.
 * So many runs that they alone weigh more than `groupEvents` (a probe:
 * 500,000 new runs of one event at 128MB ran out of memory in one pass) are
 * derived in groups. Exported for its test.
 */
export async function deriveAffected(
  conn: DuckDBConnection,
  groupEvents: number = Number.MAX_SAFE_INTEGER,
  options: { progress?: (message: string) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const [{ runs }] = await rows(conn, "SELECT count(*) AS runs FROM affected_runs");
  // Every statement of DERIVE_SQL is limited to the affected runs: with none (an update that
  // read nothing new), its 20 statements change nothing and took 50-60 ms to plan and run.
  if (Number(runs) === 0) return;
  if (Number(runs) * DERIVE_EVENTS_PER_RUN > groupEvents) {
    await deriveInGroups(conn, groupEvents, true, options);
    return;
  }
  await inTransaction(conn, async () => {
    const [{ lo, hi }] = await rows(conn, AFFECTED_SPAN_SQL);
    await exec(conn, DERIVE_SQL, [Number(lo), Number(hi)]);
  });
}

/** Most events a full rebuild derives in one pass under `memoryLimit` (DuckDB's syntax). */
export function deriveGroupEventsFor(memoryLimit: string): number {
  return Math.max(1, Math.floor(memoryLimitBytes(memoryLimit) / DERIVE_BYTES_PER_EVENT));
}

/**
 * Memory budget per event when deriving in one pass (aggregate states and
 * window rows with their JSON text); above it the runs are derived in groups
 * (2M events each at the default 768MB). Measured at 50M events, when every
 * group scanned all events: groups of 3M (256 bytes) peaked at 1573 MiB RSS
 * in 750 s, groups of 2M at 1298 MiB in 914 s; with each group reading its
 * span, in one transaction, groups of 2M: 1195 MiB in 485 s.
 */
const DERIVE_BYTES_PER_EVENT = 384;

/** The default batch: an eighth of the memory limit, at most {@linkcode STAGE_BYTES_MAX}. */
function defaultBatchBytes(memoryLimit: string): number {
  const eighth = Math.floor(memoryLimitBytes(memoryLimit) / 8);
  return Math.max(BATCH_BYTES_MIN, Math.min(STAGE_BYTES_MAX, eighth));
}

/** SHA-256 of the schema SQL, kept in `index_meta`: an index made with other SQL gets it run. */
const SCHEMA_SQL_SHA256 = createHash("sha256").update(CREATE_SCHEMA_SQL.join("\n;\n"))
  .digest("hex");

/**
 * Whether the index open on `conn` has this code's format and this code's
 * schema SQL, and the source it records.
 */
async function madeWith(conn: DuckDBConnection): Promise<
  {
    formatMatches: boolean;
    schemaCurrent: boolean;
    source: string | undefined;
    root: string | undefined;
  }
> {
  if (!await hasMeta(conn)) {
    return { formatMatches: false, schemaCurrent: false, source: undefined, root: undefined };
  }
  return {
    formatMatches: await metaValue(conn, "format_version") === String(INDEX_FORMAT_VERSION),
    schemaCurrent: await metaValue(conn, "schema_sha256") === SCHEMA_SQL_SHA256,
    source: await metaValue(conn, SOURCE_META_KEY),
    root: await metaValue(conn, ROOT_META_KEY),
  };
}

/** Whether the index open on `conn` has its `index_meta` table (an empty file has not). */
async function hasMeta(conn: DuckDBConnection): Promise<boolean> {
  const tables = await rows(
    conn,
    `SELECT count(*) AS n FROM system.main.duckdb_tables() WHERE table_name = 'index_meta'`,
  );
  return Number(tables[0].n) > 0;
}

/** The value of `key` in `index_meta`, or undefined unless it is there exactly once. */
async function metaValue(conn: DuckDBConnection, key: string): Promise<string | undefined> {
  const meta = await rows(conn, GET_META_SQL, [key]);
  return meta.length === 1 ? String(meta[0].value) : undefined;
}

async function dropEverything(conn: DuckDBConnection) {
  const views = await rows(conn, `SELECT view_name FROM duckdb_views() WHERE NOT internal`);
  for (const v of views) await exec(conn, `DROP VIEW IF EXISTS "${String(v.view_name)}"`);
  const tables = await rows(conn, `SELECT table_name FROM duckdb_tables() WHERE NOT temporary`);
  for (const t of tables) await exec(conn, `DROP TABLE IF EXISTS "${String(t.table_name)}"`);
}

interface IndexedFile {
  sizeBytes: number;
  mtimeMs: number;
  bytesIndexed: number;
  linesIndexed: number;
  lastLineMd5: string | null;
  lastLineBytes: number;
}

/**
 * Decide what to read. Full: every file. Incremental: new files whole;
 * grown files from their offset (staged); files that shrank, were rewritten
 * (the same size with another modification time), or whose last indexed
 * line changed, and files that vanished, are dropped and read again whole,
 * as are the days from `sinceDate` on. An edit before the last indexed line
 * of a file that also grew is not seen (the log is append-only; reading
 * every grown file whole to find one would cost what a full rebuild does):
 * `--full` reads it. Days before `sinceDate` are left as indexed,
 * files since removed included (issue 3: `--since-date` keeps everything
 * indexed before its day; how old days are archived, docs/OPERATIONS.md).
 * Each file found changed where it was indexed (not a day `sinceDate`
 * reads again, nor one the caller named unless it is gone) is pushed to
 * `changed`, with what changed.
 */
async function planScan(
  conn: DuckDBConnection,
  files: PartFile[],
  ctx: BuildContext,
  stagingDir: string,
  changed: string[],
): Promise<ScanEntry[]> {
  const indexed = new Map<string, IndexedFile>();
  for (const r of await rows(conn, SELECT_INGEST_FILES_SQL)) {
    indexed.set(String(r.file), {
      sizeBytes: Number(r.size_bytes),
      mtimeMs: Number(r.mtime_ms),
      bytesIndexed: Number(r.bytes_indexed),
      linesIndexed: Number(r.lines_indexed),
      lastLineMd5: r.last_line_md5 === null ? null : String(r.last_line_md5),
      lastLineBytes: Number(r.last_line_bytes),
    });
  }
  const current = new Map(files.map((f) => [f.file, f]));
  const reread = new Set<string>();
  const resume = new Map<string, IndexedFile>();
  const keep = new Set<string>(); // vanished before the window: kept as indexed
  for (const [name, old] of indexed) {
    const f = current.get(name);
    const day = dayOfFile(name);
    const beforeWindow = ctx.sinceDate !== undefined && day !== undefined && day < ctx.sinceDate;
    if (f === undefined && beforeWindow) keep.add(name);
    else if (f === undefined) {
      reread.add(name); // vanished: drop what it held
      changed.push(`${name} (gone from the log)`);
    } else if (ctx.rereadFiles.has(name)) reread.add(name); // changed where it was indexed
    else if (ctx.sinceDate !== undefined && day !== undefined && day >= ctx.sinceDate) {
      reread.add(name);
    } else if (ctx.sinceDate !== undefined) continue; // before the window: keep as indexed
    else if (f.sizeBytes === old.sizeBytes && f.mtimeMs === old.mtimeMs) continue;
    // A batch appending past the acknowledged size (or killed there) moved the time: nothing
    // new to read while its last indexed line is as it was (a probe: every rebuild in that
    // window said "rewritten at the same size" and read the part again from byte 0). As for a
    // grown file, an edit by hand before that line is not seen (docs/OPERATIONS.md: --full).
    else if (
      f.sizeBytes === old.sizeBytes && f.pendingBytes > 0 && await prefixUnchanged(f, old)
    ) resume.set(name, old);
    // An append always grows a file: the same size with a new time is a rewrite in place
    // (a line fixed by hand, lines reordered), whatever its last line says.
    else if (f.sizeBytes === old.sizeBytes) {
      reread.add(name);
      // With a torn tail when indexed, a writer's repair (cut the tail, append a line) can
      // leave the same size: read again, but nothing to say.
      if (old.bytesIndexed === old.sizeBytes) {
        changed.push(`${name} (rewritten at the same size: another modification time)`);
      }
    } else if (await prefixUnchanged(f, old)) resume.set(name, old);
    else {
      reread.add(name);
      changed.push(
        f.sizeBytes < old.bytesIndexed
          ? `${name} (cut back from ${old.bytesIndexed} indexed bytes to ${f.sizeBytes})`
          : `${name} (its last indexed line, line ${old.linesIndexed}, changed)`,
      );
    }
  }
  for (const name of await expandReread(conn, reread, keep)) {
    reread.add(name);
    resume.delete(name);
  }
  const entries: ScanEntry[] = [];
  for (const f of files) {
    ctx.signal?.throwIfAborted();
    const old = resume.get(f.file);
    if (old !== undefined) {
      // Only the new bytes, streamed into staging files of bounded size.
      assert(
        old.bytesIndexed <= f.sizeBytes && old.linesIndexed >= 0,
        "a resumed part's indexed offset never moves backwards past its size",
      );
      const start = { byteBase: old.bytesIndexed, lineBase: old.linesIndexed };
      entries.push(...await stageRanges(f, start, ctx.batchBytes, stagingDir));
    } else if (!indexed.has(f.file) || reread.has(f.file)) {
      if (ctx.sinceDate !== undefined && f.day < ctx.sinceDate && !reread.has(f.file)) continue;
      const start = { byteBase: 0, lineBase: 0 };
      entries.push(...await stageRanges(f, start, ctx.batchBytes, stagingDir));
    }
  }
  return entries;
}

/**
 * Grow the re-read set to a fixpoint, drop what it indexed, return it. A
 * file of `keep` (gone from the log, kept as indexed) is never added: it
 * cannot be read again, so dropping it would lose its events.
 */
async function expandReread(
  conn: DuckDBConnection,
  reread: Set<string>,
  keep: ReadonlySet<string>,
): Promise<string[]> {
  await exec(conn, CREATE_REREAD_SQL);
  if (reread.size === 0) return [];
  await exec(conn, INSERT_REREAD_SQL, [JSON.stringify([...reread])]);
  for (let round = 0; round < REREAD_ROUNDS_MAX; round++) {
    const added = await rows(conn, EXPAND_REREAD_SQL);
    if (keep.size > 0) {
      await exec(conn, `DELETE FROM reread WHERE list_contains($1::JSON::VARCHAR[], file)`, [
        jsonList([...keep]),
      ]);
    }
    if (added.every((r) => keep.has(String(r.file)))) break;
  }
  const all = (await rows(conn, `SELECT file FROM reread ORDER BY file`)).map((r) =>
    String(r.file)
  );
  await exec(conn, DROP_REREAD_SQL);
  return all;
}

/** Bound on re-read expansion rounds (each adds files; the log has finitely many). */
const REREAD_ROUNDS_MAX = 10_000;

/** Is the indexed prefix of `f` what was indexed (same size floor, same last line)? */
/** Bytes read of a file's last indexed line to hash its stand-in: the limit and a character's rest. */
const STAND_IN_READ_MAX = LINE_BYTES_MAX + 3;

async function prefixUnchanged(f: PartFile, old: IndexedFile): Promise<boolean> {
  if (f.sizeBytes < old.bytesIndexed) return false;
  if (old.lastLineMd5 === null || old.lastLineBytes === 0) return true;
  using file = await Deno.open(f.path, { read: true });
  const lineStart = old.bytesIndexed - old.lastLineBytes;
  const newline = await readRange(file, old.bytesIndexed - 1, old.bytesIndexed);
  if (newline.length < 1 || newline[0] !== 0x0a) return false;
  // The md5 is of the line as staged: an overlong line's stand-in (at most LINE_BYTES_MAX
  // bytes and a character's rest: no more is read), a line that is not UTF-8 with `?`s.
  const rawBytes = old.lastLineBytes - 1;
  const head = await readRange(file, lineStart, lineStart + Math.min(rawBytes, STAND_IN_READ_MAX));
  if (head.length < Math.min(rawBytes, STAND_IN_READ_MAX)) return false;
  const line = rawBytes <= LINE_BYTES_MAX ? head : head.subarray(0, standInLength(head));
  const md5 = createHash("md5").update(asStaged(line)).digest("hex");
  return md5 === old.lastLineMd5;
}

/**
 * Record which running runs on this host have lost their process. When the
 * check cannot run (no `/proc`, no `ps`), what is known stays: an incremental
 * rebuild keeps the rows it copied, a full one takes them from the index it
 * replaces, so runs already found stale never come back as running.
 */
async function recordLiveness(
  conn: DuckDBConnection,
  ctx: BuildContext,
): Promise<string | undefined> {
  const probe = probeLiveness();
  if (probe.kind === "skipped") {
    if (ctx.mode === "full") await keepKnownLiveness(conn, ctx);
    return probe.reason;
  }
  let look;
  try {
    look = await probe.look(); // before anything recorded is dropped
  } catch (err) {
    if (!(err instanceof ProcessTableHiddenError)) throw err;
    if (ctx.mode === "full") await keepKnownLiveness(conn, ctx);
    return err.message;
  }
  // In chunks: a probe found a million unfinished runs of this host (a log copied from it, or
  // runs that crashed) put into one JSON parameter, 71 MB, past 1.5 GiB; two million ran out of
  // memory, eight million past the longest string V8 makes, in full and incremental rebuilds.
  await exec(conn, CREATE_LIVENESS_CANDIDATES_SQL, [probe.host]);
  await exec(conn, DELETE_LIVENESS_SQL);
  const checkedAtMs = Date.now();
  for (let first = 1;; first += LIVENESS_CHUNK_ROWS) {
    const chunk = await rows(conn, LIVENESS_CANDIDATES_CHUNK_SQL, [
      first,
      first + LIVENESS_CHUNK_ROWS - 1,
    ]);
    if (chunk.length === 0) break;
    const candidates = chunk.map(candidateOf);
    const alive = look.check(candidates);
    const checked = candidates.map((c, i) => ({
      host: probe.host,
      pid: c.pid,
      started_at_ms: c.startedAtMs,
      alive: alive[i],
    }));
    await exec(conn, INSERT_LIVENESS_SQL, [JSON.stringify(checked), checkedAtMs]);
  }
  await exec(conn, "DROP TABLE liveness_candidates");
  return undefined;
}

/**
 * The pids of this host's unfinished runs whose processes ended since the
 * index open on `conn` recorded them alive, or that it never checked: what
 * a rebuild's liveness check ({@linkcode recordLiveness}) would now record
 * differently. Throws {@linkcode ProcessTableHiddenError} when the process
 * table cannot be trusted. The daemon asks this of an unchanged log (a run
 * killed writes nothing), and so does a rebuild before it leaves an
 * unchanged index as it is.
 */
export async function endedRunProcesses(
  conn: DuckDBConnection,
  probe: Extract<LivenessProbe, { kind: "ok" }>,
): Promise<number[]> {
  const recorded = await rows(
    conn,
    `SELECT c.pid, c.started_at_ms, p.alive
      FROM (${SELECT_LIVENESS_CANDIDATES_SQL}) c
      LEFT JOIN process_liveness p ON p.host = c.host AND p.pid = c.pid
        AND p.started_at_ms IS NOT DISTINCT FROM c.started_at_ms`,
    [probe.host],
  );
  if (recorded.length === 0) return [];
  const alive = (await probe.look()).check(recorded.map(candidateOf));
  return recorded.filter((r, i) => r.alive !== false && !alive[i]).map((r) => Number(r.pid));
}

/** Liveness rows checked and written per statement: about 3.5 MB of JSON. */
const LIVENESS_CHUNK_ROWS = 50_000;

/**
 * Read something of the live index at `dbPath`, opened read-only and closed
 * again; `ok: false` with the error when DuckDB cannot open or read it (a
 * damaged index, or one of another version), which the caller decides about.
 */
async function readLiveIndex<T>(
  dbPath: string,
  read: (conn: DuckDBConnection) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  try {
    const instance = await openDuckDbFile(dbPath, { ...READER_CONFIG }); // a link's target, really
    try {
      const conn = await instance.connect();
      try {
        return { ok: true, value: await read(conn) };
      } finally {
        conn.disconnectSync();
      }
    } finally {
      instance.closeSync();
    }
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return { ok: false, error: err };
  }
}

/**
 * Throw {@linkcode EmptyLogError} when the log (listed empty) is missing and
 * the index at `dbPath` holds events. An index that is missing or cannot be
 * read has nothing to lose: the rebuild goes on.
 */
async function refuseEmptying(
  dbPath: string,
  root: string,
  source: string,
  full: boolean,
): Promise<void> {
  if (!(await exists(dbPath, { isFile: true }))) return;
  const read = await readLiveIndex(dbPath, async (conn) => {
    const [held] = await rows(conn, `SELECT count(*) AS files FROM ingest_files`);
    const [events] = await rows(conn, `SELECT count(*) AS n FROM events`);
    const recorded = await indexSource(conn);
    return { files: Number(held.files), events: Number(events.n), recorded };
  });
  if (!read.ok || read.value.files === 0) return;
  // A bucket's index on an indexer root (no log of its own): the source is what is wrong,
  // as when the root has a log (a docs audit: this said "a moved or unmounted log?").
  if (!full && refusesSource(read.value.recorded, source)) {
    throw new IndexSourceError(dbPath, read.value.recorded, source, await exists(eventsDir(root)));
  }
  // A bucket's mirror is the bucket as listed: name the bucket, which is what was emptied.
  if (source !== LOCAL_SOURCE) {
    throw new EmptyLogError(source, true, read.value.files, read.value.events);
  }
  const dir = eventsDir(root);
  // There and empty: retention removed every day, and the index follows the log.
  if (await exists(dir)) return;
  throw new EmptyLogError(dir, false, read.value.files, read.value.events);
}

/**
 * The `stale_after_ms` to record: the one given, else the one the index
 * holds (the copy's in an incremental rebuild, the replaced index's in a
 * full one), else the default.
 */
async function staleAfterMsOf(
  conn: DuckDBConnection,
  ctx: BuildContext,
  mode: "full" | "incremental",
): Promise<number> {
  if (ctx.staleAfterGiven) return ctx.staleAfterMs;
  let held: string | undefined;
  if (mode === "incremental") held = await metaValue(conn, "stale_after_ms");
  else if (await exists(ctx.dbPath)) {
    const read = await readLiveIndex(ctx.dbPath, (c) => metaValue(c, "stale_after_ms"));
    held = read.ok ? read.value : undefined; // a damaged index has no value to keep
  }
  const kept = Number(held);
  return held !== undefined && Number.isSafeInteger(kept) && kept > 0 ? kept : ctx.staleAfterMs;
}

/** Copy the liveness rows of the index being replaced (if it is there and readable). */
async function keepKnownLiveness(conn: DuckDBConnection, ctx: BuildContext): Promise<void> {
  if (!(await exists(ctx.dbPath))) return;
  const read = await readLiveIndex(
    ctx.dbPath,
    (c) => rows(c, `SELECT host, pid, alive, checked_at_ms, started_at_ms FROM process_liveness`),
  );
  if (!read.ok) {
    // A damaged or older index has nothing usable to keep; the rebuild goes on without it.
    ctx.progress(`previous liveness not kept: ${describeError(read.error, ctx.dbPath)}`);
    return;
  }
  const known = read.value;
  await exec(conn, DELETE_LIVENESS_SQL);
  for (let start = 0; start < known.length; start += LIVENESS_CHUNK_ROWS) {
    const chunk = known.slice(start, start + LIVENESS_CHUNK_ROWS);
    await exec(conn, KEEP_LIVENESS_SQL, [JSON.stringify(chunk)]);
  }
}
