/**
 * The ingest pipeline shared by full and incremental rebuilds: given the
 * files (or staged byte ranges of files) to read, run the SQL of
 * `schema.ts` that splits them into lines, checks them, deduplicates the
 * events and records the offsets. DuckDB does the bulk work; TypeScript
 * only handles the rare file that is not valid UTF-8.
 *
 * @module
 */
import { assert } from "../ledger/assert.ts";
import type { DuckDBConnection } from "./duckdb.ts";
import { globMatchesOthers, literalGlob } from "./duckdb_glob.ts";
import { join } from "node:path";
import { exec, jsonList, rows } from "./_sql.ts";
import {
  APPEND_STAGE_EVENTS_SQL,
  CLEAN_STAGE_SQL,
  COUNT_DUP_IDS_SQL,
  COUNT_DUP_ROWS_SQL,
  CREATE_SCAN_FILES_SQL,
  DEDUP_EVENTS_SQL,
  DROP_RESUMED_TAIL_ERRORS_SQL,
  DROP_TEMP_SQL,
  FAST_APPEND_EVENTS_SQL,
  FIND_BAD_LINES_SQL,
  FIND_DUP_IDS_SQL,
  FIND_STAGE_DUP_IDS_SQL,
  INSERT_NEW_STAGE_EVENTS_SQL,
  INSERT_STAGE_ERRORS_SQL,
  KEEP_SHORT_LINES_SQL,
  LONG_LINE_BYTES,
  LONG_LINE_SLICES_SQL,
  LONG_LINES_SLICE_BYTES,
  MARK_INVALID_UTF8_SQL,
  MERGE_INGEST_FILES_SQL,
  MERGE_STAGE_EVENTS_SQL,
  NO_BAD_LINES_SQL,
  RESTORE_OVERLONG_SQL,
  SPLIT_LINES_ONCE_SQL,
  SPLIT_LINES_SQL,
  SPLIT_LONG_LINES_SQL,
  STAGE_COMPLETE_LINES_SQL,
  STAGE_COUNTS_SQL,
  STAGE_LINES_SQL,
  STAGE_LONG_SLICE_SQL,
  STAGE_LONGEST_LINE_SQL,
} from "./schema.ts";

const DROP_STAGE_LINES_SQL = "DROP TABLE IF EXISTS stage_lines";

/**
 * Most bytes read into one stage by default; larger scans run in several
 * batches, and larger files are read in ranges of this size (`_stage.ts`).
 * With DuckDB's memory limit this bounds a rebuild's memory whatever the
 * size of the log.
 */
export const STAGE_BYTES_MAX = 128 * 1024 * 1024;

/**
 * Batches of a full rebuild that may find a bad line on the fast path
 * (`appendChecked`) before the rest are staged straight away. Each such
 * batch finds its bad lines by a scan of the events indexed so far (70 ms
 * at 1M events, growing with the log), which staging does not need.
 */
const CLEAN_MISSES_MAX = 4;

/** Rows DuckDB checks at a time (its vector size): the lines one check holds at once. */
const VECTOR_ROWS = 2048;

/**
 * Memory the check of a vector of lines holds, per byte of those lines,
 * with room to spare: each JSON function parses the whole line again and
 * keeps the vector's documents (16 bytes a value, and a number in an array
 * takes two bytes of text), and the depth test splits it at every bracket.
 * Measured on lines of zeros in arrays (the densest JSON: `[0,0,...]`): the
 * longest lines a full rebuild checked in one statement grew by about 16
 * bytes a MB of limit above 72 MB (900 bytes at 128MB, 3,000 at 256MB,
 * 7,000 at 512MB, 7,900 at 640MB); 40 here puts the limit of a line at
 * about three quarters of that. One thread checks them, whatever DuckDB's
 * threads: a batch of lines that long is one row group (a review found
 * the same failures with 1, 2 and 8 threads).
 */
const CHECK_BYTES_PER_LINE_BYTE = 40;

/**
 * Memory the check of a slice of long lines holds, per byte of the slice,
 * with room to spare: four lines of about 1 MB of zeros (4 MB) ran a
 * rebuild at 256MB out of memory, four of 900 KB did not (about 45).
 */
const SLICE_BYTES_PER_LINE_BYTE = 80;

/**
 * Memory of a rebuild that is not the check's: the batch's lines, the
 * events being written, DuckDB's own (the 72 MB above, and room).
 */
const CHECK_RESERVED_BYTES = 80e6;

/** Shortest line the check slices, whatever the limit: below it memory is not what fails. */
const LONG_LINE_BYTES_MIN = 256;

/**
 * Which lines a rebuild under `memoryLimitBytes`, with batches of
 * `batchBytes`, checks apart from the others, and in slices of how many
 * bytes ({@linkcode IngestOptions.longLines}):
 *
 * - `longLineBytes`: the longest line of which a whole vector is checked
 *   within the limit ({@linkcode CHECK_BYTES_PER_LINE_BYTE}), at most
 *   {@linkcode LONG_LINE_BYTES} (which the default limit of 768MB reaches).
 *   Lines of zeros in arrays just under the default's 8 KiB ran a rebuild
 *   at 512MB, 256MB and 128MB out of memory before it depended on the
 *   limit (an audit).
 * - `sliceBytes`: at most {@linkcode LONG_LINES_SLICE_BYTES} and an eighth
 *   of a batch, and what the limit leaves at
 *   {@linkcode SLICE_BYTES_PER_LINE_BYTE}. A line longer than a quarter of
 *   it is checked alone, so a statement checks a slice and a quarter at
 *   most.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { longLinesFor } from "./_pipeline.ts";
 * assert.deepEqual(longLinesFor(768e6, 96e6), { longLineBytes: 8192, sliceBytes: 8_600_000 });
 * // Lines past 550 KB are checked alone.
 * assert.deepEqual(longLinesFor(256e6, 32e6), { longLineBytes: 2148, sliceBytes: 2_200_000 });
 * assert.deepEqual(longLinesFor(128e6, 16e6), { longLineBytes: 585, sliceBytes: 600_000 });
 * ```
 */
export function longLinesFor(memoryLimitBytes: number, batchBytes: number): LongLines {
  const budget = memoryLimitBytes - CHECK_RESERVED_BYTES;
  const longest = Math.floor(budget / (VECTOR_ROWS * CHECK_BYTES_PER_LINE_BYTE));
  const byLimit = Math.floor(budget / SLICE_BYTES_PER_LINE_BYTE);
  return {
    longLineBytes: Math.max(LONG_LINE_BYTES_MIN, Math.min(LONG_LINE_BYTES, longest)),
    sliceBytes: Math.max(1, Math.min(LONG_LINES_SLICE_BYTES, Math.floor(batchBytes / 8), byLimit)),
  };
}

/** One file (or the new tail of one) to read. */
export interface ScanEntry {
  /** Name relative to the events directory. */
  file: string;
  /** What DuckDB reads: the part file, or a staging copy of its new bytes. */
  readPath: string;
  /** Lines of the file before `readPath`'s first byte. */
  lineBase: number;
  /** Bytes of the file before `readPath`'s first byte. */
  byteBase: number;
  /** Size of the part file when listed. */
  sizeBytes: number;
  /** Modification time of the part file when listed. */
  mtimeMs: number;
  /** Bytes `readPath` holds (for batching). */
  readBytes: number;
  /**
   * Bytes of the part file it stands for: `readBytes`, and more when an
   * overlong line was staged as a stand-in. @default {readBytes}
   */
  sourceBytes?: number;
  /**
   * Lines of the part longer than `LINE_BYTES_MAX` that `readPath` holds
   * only a stand-in of (their first bytes: `_stage.ts`). @default {[]}
   */
  overlong?: readonly OverlongLine[];
}

/** A line staged as a stand-in: its number in the part file and its real length. */
export interface OverlongLine {
  /** 1-based line number in the part file. */
  line: number;
  /** Its bytes without the newline. */
  rawBytes: number;
}

/** What one ingest read. */
export interface IngestCounts {
  /** Lines read (complete ones plus torn tails). */
  lines: number;
  /** Valid event lines (before deduplication). */
  events: number;
  /** Lines sent to `ingest_errors`. */
  errors: number;
  /** Batches by how they were read (see {@linkcode BatchPath}). */
  batches: Record<BatchPath, number>;
}

/** What one batch read. */
type BatchCounts = Omit<IngestCounts, "batches">;

/**
 * How a batch was read: checked straight into `events` with no bad line
 * (`clean`) or with some (`miss`: its bad lines found after), or through the
 * stage table (`staged`: an incremental rebuild's, a line too long for the
 * fast path, a file not UTF-8, or past {@linkcode CLEAN_MISSES_MAX}).
 */
export type BatchPath = "clean" | "miss" | "staged";

/** How {@linkcode ingest} runs. */
export interface IngestOptions {
  /**
   * Append each batch's events as they are and deduplicate once at the end
   * (a full rebuild into an empty index); otherwise each batch is merged
   * into `events` and the runs it touches go to `affected_runs`.
   */
  deferDedup: boolean;
  /** Most bytes per batch. @default {STAGE_BYTES_MAX} */
  batchBytes?: number;
  /** Most files (ranges) per batch. @default {BATCH_FILES_MAX} */
  batchFiles?: number;
  /**
   * Which lines are checked apart from the others, in slices of how many
   * bytes ({@linkcode longLinesFor} the memory limit).
   */
  longLines: LongLines;
  /**
   * Most rows of duplicated event ids the deduplication after a full
   * rebuild's batches ranks in one pass; more are ranked in passes over
   * parts of the ids (by a hash of the id).
   */
  dedupRows: number;
  /**
   * The files are a bucket's mirror files (`<stem>.<fingerprint>.jsonl`):
   * copies of one event id tied on time are ranked by their parts' names, as
   * the local rebuild ranks them (see `DEDUP_EVENTS_SQL`). @default {false}
   */
  mirrorFiles?: boolean;
  /** Called after each batch with the bytes read so far and in all. */
  onBatch?: (doneBytes: number, totalBytes: number) => void;
  /** Checked between batches: an aborted signal stops the ingest (throws its reason). */
  signal?: AbortSignal;
}

/**
 * Read `entries` into the index open on `conn`, in batches of at most
 * `batchBytes`; two ranges of one file never share a batch. `stagingDir`
 * receives sanitized copies of files that are not valid UTF-8. Without
 * `deferDedup` the runs touched are added to `affected_runs` (which must
 * exist).
 */
export async function ingest(
  conn: DuckDBConnection,
  entries: readonly ScanEntry[],
  stagingDir: string,
  options: IngestOptions,
): Promise<IngestCounts> {
  const total: IngestCounts = {
    lines: 0,
    events: 0,
    errors: 0,
    batches: { clean: 0, miss: 0, staged: 0 },
  };
  const totalBytes = entries.reduce((n, e) => n + e.readBytes, 0);
  let doneBytes = 0;
  const batchBytes = options.batchBytes ?? STAGE_BYTES_MAX;
  const lines = options.longLines;
  assert(lines.longLineBytes >= 1 && lines.longLineBytes <= LONG_LINE_BYTES, "lines are sliced");
  assert(lines.sliceBytes >= 1, "a slice holds a line");
  const batchFiles = options.batchFiles ?? BATCH_FILES_MAX;
  for (const batch of batches(entries, batchBytes, batchFiles)) {
    options.signal?.throwIfAborted();
    const tryClean = options.deferDedup && total.batches.miss < CLEAN_MISSES_MAX;
    const { counts, path } = await ingestBatch(conn, batch, stagingDir, {
      deferDedup: options.deferDedup,
      lines,
      tryClean,
      mirrorFiles: options.mirrorFiles ?? false,
    });
    total.batches[path] += 1;
    total.lines += counts.lines;
    total.events += counts.events;
    total.errors += counts.errors;
    doneBytes += batch.reduce((n, e) => n + e.readBytes, 0);
    options.onBatch?.(doneBytes, totalBytes);
  }
  options.signal?.throwIfAborted();
  if (options.deferDedup) {
    await exec(conn, FIND_DUP_IDS_SQL);
    const [{ rows: dupRows }] = await rows(conn, COUNT_DUP_ROWS_SQL);
    // In passes over parts of the ids, by a hash of the id: a probe's 3M duplicate rows at
    // 128MB ran one pass out of memory.
    assert(Number.isSafeInteger(options.dedupRows) && options.dedupRows >= 1, "a pass ranks a row");
    const passes = Math.ceil(Number(dupRows) / options.dedupRows);
    for (let part = 0; part < passes; part++) {
      options.signal?.throwIfAborted();
      await exec(conn, DEDUP_EVENTS_SQL, [passes, part, options.mirrorFiles ?? false]);
    }
    await exec(conn, "DROP TABLE dup_ids");
  }
  return total;
}

/** Whether `dup_ids` holds any id: without one, the ranking's scans of `events` are skipped. */
async function hasDupIds(conn: DuckDBConnection): Promise<boolean> {
  const [{ n }] = await rows(conn, COUNT_DUP_IDS_SQL);
  return Number(n) > 0;
}

/**
 * Most files (or ranges of files) one batch reads, whatever their bytes: a
 * batch's `read_text` of a list of paths and its `scan_files` hold about
 * 4.5 KB a path (a review: 300,000 part files of one line each, 69 MB, went
 * into one batch and took a rebuild to 1.71 GiB).
 */
export const BATCH_FILES_MAX = 10_000;

function* batches(
  entries: readonly ScanEntry[],
  batchBytes: number,
  batchFiles: number,
): Generator<ScanEntry[]> {
  let batch: ScanEntry[] = [];
  let files = new Set<string>();
  let bytes = 0;
  for (const entry of entries) {
    const full = batch.length > 0 &&
      (bytes + entry.readBytes > batchBytes || batch.length >= batchFiles);
    if (full || files.has(entry.file)) {
      yield batch;
      batch = [];
      files = new Set();
      bytes = 0;
    }
    batch.push(entry);
    files.add(entry.file);
    bytes += entry.readBytes;
  }
  if (batch.length > 0) yield batch;
}

async function ingestBatch(
  conn: DuckDBConnection,
  batch: ScanEntry[],
  stagingDir: string,
  { deferDedup, lines, tryClean, mirrorFiles }: {
    deferDedup: boolean;
    lines: LongLines;
    tryClean: boolean;
    mirrorFiles: boolean;
  },
): Promise<{ counts: BatchCounts; path: BatchPath }> {
  let invalid: InvalidLines = { files: [], lines: [] };
  try {
    await splitLines(conn, batch);
  } catch (err) {
    if (!isUtf8Error(err)) throw err;
    // Rare path: some file is not UTF-8. Copy those files with their bad lines
    // made readable (same byte length, so offsets stay right) and mark the lines.
    invalid = await sanitizeFiles(batch, stagingDir);
    await splitLines(conn, batch, new Set(invalid.files));
  }
  const [{ longest }] = await rows(conn, STAGE_LONGEST_LINE_SQL);
  const overlong = batch.some((e) => (e.overlong ?? []).length > 0);
  const short = Number(longest) <= lines.longLineBytes;
  if (tryClean && invalid.files.length === 0 && !overlong && short) {
    const clean = await appendChecked(conn);
    return {
      counts: await finishBatch(conn, "inserted", mirrorFiles),
      path: clean ? "clean" : "miss",
    };
  }
  await checkLines(conn, batch, Number(longest), lines);
  if (invalid.files.length > 0) {
    const marks = invalid.files.map((file, i) => ({ file, line: invalid.lines[i] }));
    await exec(conn, MARK_INVALID_UTF8_SQL, [JSON.stringify(marks)]);
  }
  return {
    counts: await finishBatch(conn, deferDedup ? "append" : "merge", mirrorFiles),
    path: "staged",
  };
}

/**
 * How a batch's events reach `events` from `stage`: already `inserted`
 * ({@linkcode appendChecked}), `append`ed as they are (a full rebuild
 * deduplicates at the end), or `merge`d against the events indexed before.
 */
type StageEvents = "inserted" | "append" | "merge";

/**
 * The steps after the check, from `stage`: its bad lines to `ingest_errors`,
 * its events to `events` (see {@linkcode StageEvents}), the files' offsets;
 * the batch's counts.
 */
async function finishBatch(
  conn: DuckDBConnection,
  events: StageEvents,
  mirrorFiles: boolean,
): Promise<BatchCounts> {
  await exec(conn, DROP_RESUMED_TAIL_ERRORS_SQL);
  await exec(conn, INSERT_STAGE_ERRORS_SQL);
  const [counts] = await rows(conn, STAGE_COUNTS_SQL);
  if (events === "append") await exec(conn, APPEND_STAGE_EVENTS_SQL);
  else if (events === "merge") {
    await exec(conn, FIND_STAGE_DUP_IDS_SQL);
    if (await hasDupIds(conn)) await exec(conn, MERGE_STAGE_EVENTS_SQL, [mirrorFiles]);
    else await exec(conn, INSERT_NEW_STAGE_EVENTS_SQL);
  }
  await exec(conn, MERGE_INGEST_FILES_SQL);
  await exec(conn, DROP_TEMP_SQL);
  return {
    lines: Number(counts.lines),
    events: Number(counts.events),
    errors: Number(counts.errors),
  };
}

/**
 * A full rebuild's fast path for a batch of `stage_lines` that holds no
 * long line: the valid events go into `events` as they are checked
 * (`FAST_APPEND_EVENTS_SQL`), not through the stage table, and the stage
 * gets only what the later steps read. DuckDB's count of the rows inserted
 * against the complete lines read says whether a line was bad (returns
 * false); only then are the lines left out found and checked again, alone,
 * for their reasons.
 *
 * A batch with a long line (`IngestOptions.longLines`) is staged instead (the
 * caller's choice). Measured on the 1M log with a 10 KB line in each file,
 * putting those lines' events through a stage of their own, in the same
 * insert (`UNION ALL`) or in one of their own, made the final checkpoint take
 * 1.0-2.1 s against 0.1-0.9 s (a loaded machine) and the index 130 MB
 * against 108 MB. Letting a slice's worth of them into this one statement
 * (3153fa4, reverted) put a 1 MB array line beside about 2,040 short ones
 * in one vector: out of memory at 128MB where staging is not
 * (`tests/indexer/long_lines_memory_test.ts`).
 */
async function appendChecked(conn: DuckDBConnection): Promise<boolean> {
  const inserted = (await conn.run(FAST_APPEND_EVENTS_SQL)).rowsChanged;
  const [{ n }] = await rows(conn, STAGE_COMPLETE_LINES_SQL);
  const clean = inserted === Number(n);
  if (clean) await exec(conn, NO_BAD_LINES_SQL);
  else await checkBadLines(conn, Number(n) - inserted);
  await exec(conn, CLEAN_STAGE_SQL);
  await exec(conn, DROP_STAGE_LINES_SQL);
  return clean;
}

/**
 * The reasons of the lines of `stage_lines` that the fast path left out of
 * `events` (`missing` of them), into `stage_bad`: {@linkcode STAGE_LINES_SQL}
 * over those lines alone (each line's verdict is its own), `stage_lines` as
 * it was.
 */
async function checkBadLines(conn: DuckDBConnection, missing: number): Promise<void> {
  await exec(conn, [
    FIND_BAD_LINES_SQL,
    "ALTER TABLE stage_lines RENAME TO stage_all_lines",
    "ALTER TABLE stage_bad_lines RENAME TO stage_lines",
    STAGE_LINES_SQL,
    "DROP TABLE stage_lines",
    "ALTER TABLE stage_all_lines RENAME TO stage_lines",
    "ALTER TABLE stage RENAME TO stage_bad",
  ]);
  const [{ good, found }] = await rows(
    conn,
    "SELECT count(*) FILTER (WHERE reason IS NULL) AS good, count(*) AS found FROM stage_bad",
  );
  assert(Number(good) === 0, "a line the fast path left out is bad when checked alone");
  assert(Number(found) === missing, "the lines left out are as many as the rows not inserted");
}

/** A `scan_files` row of `entry`. */
function scanFile(entry: ScanEntry, keepRaw: boolean) {
  return {
    read_path: entry.readPath,
    file: entry.file,
    line_base: entry.lineBase,
    byte_base: entry.byteBase,
    size_bytes: entry.sizeBytes,
    mtime_ms: entry.mtimeMs,
    keep_raw: keepRaw,
  };
}

/**
 * Split the files of `batch` into numbered lines in `stage_lines`; lines of
 * the files in `keepRaw` keep their text (they may be marked bad).
 */
async function splitLines(
  conn: DuckDBConnection,
  batch: ScanEntry[],
  keepRaw: ReadonlySet<string> = new Set(),
): Promise<void> {
  const scanFiles = batch.map((e) => scanFile(e, keepRaw.has(e.file)));
  await exec(conn, CREATE_SCAN_FILES_SQL, [JSON.stringify(scanFiles)]);
  const once = batch.some((e) => globMatchesOthers(e.readPath));
  await exec(conn, once ? SPLIT_LINES_ONCE_SQL : SPLIT_LINES_SQL, [
    jsonList(batch.map((e) => literalGlob(e.readPath))),
  ]);
}

/** Which lines are checked apart from the others, and in slices of how many bytes. */
export interface LongLines {
  /** Lines longer than this are long. */
  longLineBytes: number;
  /**
   * Most bytes of long lines one statement checks, but for one more line of
   * at most a quarter of it; a longer line is checked alone.
   */
  sliceBytes: number;
}

/**
 * Check the lines of `stage_lines` (the batch's, the longest `longest`
 * bytes) into `stage`. Long lines are checked in slices.
 */
async function checkLines(
  conn: DuckDBConnection,
  batch: ScanEntry[],
  longest: number,
  lines: LongLines,
): Promise<void> {
  if (longest <= lines.longLineBytes) await exec(conn, STAGE_LINES_SQL);
  else await checkLongLinesApart(conn, lines);
  await exec(conn, DROP_STAGE_LINES_SQL); // the stage has what is needed: free the text
  const overlong = batch.flatMap((e) =>
    (e.overlong ?? []).map((o) => ({ file: e.file, line: o.line, raw_bytes: o.rawBytes }))
  );
  // The stand-ins' rows take their lines' real lengths (offsets, the reason's size).
  if (overlong.length > 0) await exec(conn, RESTORE_OVERLONG_SQL, [JSON.stringify(overlong)]);
}

/**
 * {@linkcode STAGE_LINES_SQL} over `stage_lines` when some line is long: the
 * shorter lines in one statement, the longer ones in slices, into one
 * `stage`. Bounds what DuckDB holds while it checks a vector of long lines.
 */
async function checkLongLinesApart(conn: DuckDBConnection, lines: LongLines): Promise<void> {
  await exec(conn, SPLIT_LONG_LINES_SQL, [lines.sliceBytes, lines.longLineBytes]);
  await exec(conn, KEEP_SHORT_LINES_SQL, [lines.longLineBytes]);
  await exec(conn, STAGE_LINES_SQL);
  // Renamed, not copied: the short lines' stage is most of the batch.
  await exec(conn, "ALTER TABLE stage RENAME TO stage_checked");
  for (const { slice } of await rows(conn, LONG_LINE_SLICES_SQL)) {
    await exec(conn, STAGE_LONG_SLICE_SQL, [Number(slice)]);
    await exec(conn, STAGE_LINES_SQL);
    await exec(conn, "INSERT INTO stage_checked SELECT * FROM stage");
  }
  await exec(conn, [
    "DROP TABLE IF EXISTS stage",
    "ALTER TABLE stage_checked RENAME TO stage",
    "DROP TABLE stage_long_lines",
  ]);
}

function isUtf8Error(err: unknown): boolean {
  return err instanceof Error && /UTF-8/i.test(err.message);
}

interface InvalidLines {
  files: string[];
  lines: number[];
}

const NEWLINE = 0x0a;
const QUESTION_MARK = 0x3f;
const ASCII_MAX = 0x7f;

/**
 * For each entry whose bytes are not valid UTF-8, write a copy to
 * `stagingDir` in which every byte above 0x7F of a bad line becomes `?`,
 * point the entry at it, and return the bad lines.
 */
async function sanitizeFiles(batch: ScanEntry[], stagingDir: string): Promise<InvalidLines> {
  const out: InvalidLines = { files: [], lines: [] };
  for (const [i, entry] of batch.entries()) {
    const bytes = await Deno.readFile(entry.readPath);
    if (isUtf8(bytes)) continue;
    let start = 0;
    let line = entry.lineBase;
    while (start < bytes.length) {
      const nl = bytes.indexOf(NEWLINE, start);
      const end = nl < 0 ? bytes.length : nl;
      line += 1;
      const slice = bytes.subarray(start, end);
      const staged = asStaged(slice);
      if (staged !== slice) {
        slice.set(staged);
        out.files.push(entry.file);
        out.lines.push(line);
      }
      start = end + 1;
    }
    const copy = join(stagingDir, `utf8-${i}-${crypto.randomUUID()}.jsonl`);
    await Deno.writeFile(copy, bytes);
    batch[i] = { ...entry, readPath: copy };
  }
  return out;
}

/**
 * A line (without its newline) as the stage holds it: itself when it is
 * UTF-8, otherwise a copy with every byte above 0x7F made `?` (the same
 * length). `ingest_files.last_line_md5` is the md5 of this, so the check
 * that a part's indexed prefix is unchanged hashes the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { asStaged } from "./_pipeline.ts";
 * const utf8 = new TextEncoder().encode("café");
 * assert.equal(asStaged(utf8), utf8);
 * const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]);
 * assert.deepEqual(asStaged(latin1), new TextEncoder().encode("caf?"));
 * ```
 */
export function asStaged(line: Uint8Array): Uint8Array {
  if (isUtf8(line)) return line;
  return line.map((b) => (b > ASCII_MAX ? QUESTION_MARK : b));
}

/** Decodes whole inputs only (no `stream`), so one instance serves every check. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
}
