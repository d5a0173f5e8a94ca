/**
 * Staging byte ranges of part files for the ingest pipeline, in bounded
 * memory: a file (or the new tail of one) larger than a batch is copied, as a
 * stream, into staging files of at most about `chunkBytes` each, every one
 * cut just after a newline, so that no batch and no `read_text` ever holds
 * more than one chunk of a large file. Small files are read in place, except
 * those a batch may be appending to: their copy holds only the bytes listed.
 *
 * A line longer than {@linkcode LINE_BYTES_MAX} is invalid whatever it
 * holds, so DuckDB is never given more of it than its first
 * {@linkcode LINE_BYTES_MAX} bytes (a stand-in, cut at a character
 * boundary): the entry lists the line and its real length
 * ({@linkcode OverlongLine}), which the ingest puts back in the stage. A
 * part ending in hundreds of MB without a newline (zeros left by a power
 * loss, a file copied in by mistake) failed every rebuild with DuckDB out of
 * memory (an audit); a file holding such a line is never read in place.
 *
 * @module
 */
import { assert } from "../ledger/assert.ts";
import { basename, join } from "node:path";
import { SHARED_PART_PATTERN } from "../ledger/paths.ts";
import type { PartFile } from "./_files.ts";
import type { OverlongLine, ScanEntry } from "./_pipeline.ts";
import { LINE_BYTES_MAX } from "../ledger/limits.ts";

const NEWLINE = 0x0a;
/** Bytes read from a part file per read call while staging. */
const READ_BUFFER_BYTES = 1024 * 1024;

/** Where a read of a part file starts. */
export interface RangeStart {
  /** Bytes of the file before the range (0 for the whole file). */
  byteBase: number;
  /** Lines of the file before the range. */
  lineBase: number;
}

/**
 * The entries that read `f` from `start` to its end: the file itself when
 * it is read whole and fits in `chunkBytes`, otherwise staging copies of
 * consecutive ranges, each ending after a newline (the last one holds
 * whatever follows the last newline, a torn tail included).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { listPartFiles } from "./_files.ts";
 * import { stageRanges } from "./_stage.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   const runIds = ["a1", "b2", "c3", "d4", "e5", "f6"];
 *   await writer.appendBatch(runIds.map((run_id) => ({ event_type: "run.started", run_id })));
 *   await writer.close();
 *   const [file] = await listPartFiles(root);
 *   const start = { byteBase: 0, lineBase: 0 };
 *   // A whole file that fits in a chunk is read in place.
 *   const inPlace = await stageRanges(file, start, 64 << 20, root);
 *   assert.deepEqual(inPlace.map((e) => e.readPath), [file.path]);
 *   // A larger one is copied into staging files, each cut just after a newline.
 *   const stagingDir = await Deno.makeTempDir({ dir: root });
 *   const staged = await stageRanges(file, start, Math.floor(file.sizeBytes / 3), stagingDir);
 *   const copies = await Promise.all(staged.map((e) => Deno.readTextFile(e.readPath)));
 *   assert.ok(staged.length > 1 && copies.every((c) => c.endsWith("\n")));
 *   assert.equal(copies.join(""), await Deno.readTextFile(file.path));
 *   assert.equal(staged[1].byteBase, staged[0].readBytes);
 *   assert.equal(staged[1].lineBase, copies[0].split("\n").length - 1); // lines before it
 *   // A shared CLI part, which a batch may be growing: a copy of the bytes listed, no more.
 *   const shared = { ...file, path: `${root}/emit-000001.jsonl`, sizeBytes: 10 };
 *   await Deno.copyFile(file.path, shared.path);
 *   const [copy] = await stageRanges(shared, start, 64 << 20, stagingDir);
 *   assert.notEqual(copy.readPath, shared.path);
 *   assert.equal((await Deno.readFile(copy.readPath)).length, 10);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function stageRanges(
  f: PartFile,
  start: RangeStart,
  chunkBytes: number,
  stagingDir: string,
): Promise<ScanEntry[]> {
  const inPlace = start.byteBase === 0 && f.sizeBytes <= chunkBytes && readsInPlace(f);
  if (inPlace && (f.sizeBytes <= LINE_BYTES_MAX || !await hasOverlongLine(f))) {
    return [{
      file: f.file,
      readPath: f.path,
      lineBase: start.lineBase,
      byteBase: 0,
      sizeBytes: f.sizeBytes,
      mtimeMs: f.mtimeMs,
      readBytes: f.sizeBytes,
    }];
  }
  const entries: ScanEntry[] = [];
  const source = await Deno.open(f.path, { read: true });
  let chunk: Chunk | undefined;
  let byteBase = start.byteBase;
  let lineBase = start.lineBase;
  try {
    await source.seek(start.byteBase, Deno.SeekMode.Start);
    const buffer = new Uint8Array(Math.min(READ_BUFFER_BYTES, chunkBytes));
    const cutter = new LineCutter();
    // Only the bytes listed (acknowledged): what a batch appends after the listing is its own.
    // A torn last line read under the part's lock when listed is taken as read then: the next
    // writer may have cut it and appended since.
    const fileEnd = f.sizeBytes - (f.tail?.length ?? 0);
    let unread = Math.max(0, fileEnd - start.byteBase);
    const feed = async (bytes: Uint8Array) => {
      for (const segment of cutter.feed(bytes)) {
        chunk ??= await openChunk(stagingDir, byteBase, lineBase);
        if (segment.kind === "skip") {
          chunk.sourceBytes += segment.bytes;
          continue;
        }
        if (segment.kind === "overlong") {
          // Its newline is not written yet: the line is the chunk's next one.
          chunk.overlong.push({ line: lineBase + chunk.lines + 1, rawBytes: segment.bytes });
          continue;
        }
        let piece = segment.bytes;
        if (chunk.bytes + piece.length > chunkBytes) {
          const nl = piece.lastIndexOf(NEWLINE);
          if (nl >= 0) {
            await chunk.write(piece.subarray(0, nl + 1));
            piece = piece.subarray(nl + 1);
            entries.push(chunk.close(f));
            assert(chunk.sourceBytes > 0, "a staged range moves the offset forward");
            byteBase += chunk.sourceBytes;
            lineBase += chunk.lines;
            chunk = await openChunk(stagingDir, byteBase, lineBase);
          } // no newline in this read: the line goes on, the chunk grows past its size
        }
        await chunk.write(piece);
      }
    };
    while (unread > 0) {
      const n = await source.read(buffer.subarray(0, Math.min(buffer.length, unread)));
      if (n === null) break;
      unread -= n;
      await feed(buffer.subarray(0, n));
    }
    // Not after a file cut below its listed lines (by hand): the tail would land elsewhere.
    if (f.tail !== undefined && unread === 0) {
      await feed(f.tail.subarray(Math.max(0, start.byteBase - fileEnd)));
    }
    if (chunk !== undefined && (chunk.sourceBytes > 0 || entries.length === 0)) {
      entries.push(chunk.close(f));
    } else chunk?.close(f);
    chunk = undefined;
  } finally {
    chunk?.close(f);
    source.close();
  }
  if (entries.length === 0) {
    // Nothing past the offset: an empty read still records the file's new size and mtime.
    const empty = await openChunk(stagingDir, byteBase, lineBase);
    entries.push(empty.close(f));
  }
  return entries;
}

/**
 * Whether DuckDB may read `f` in place, whole, as it is when read: not a
 * part a batch can append to (`emit --stdin` appends only to the shared CLI
 * parts, `emit-<seq>.jsonl`) nor one that holds a batch's lines now. A batch
 * that starts between the listing and the read would otherwise have its
 * unacknowledged lines indexed (an audit: 3 of 10 full rebuilds started
 * just before a batch published part of it); such a part is read through a
 * copy of its listed bytes instead.
 */
function readsInPlace(f: PartFile): boolean {
  return f.pendingBytes === 0 && !SHARED_PART_PATTERN.test(basename(f.path));
}

/**
 * Whether some line of `f`'s listed bytes (the text after its last newline
 * included) is longer than {@linkcode LINE_BYTES_MAX}: one read of the file,
 * a few searches per MiB.
 */
async function hasOverlongLine(f: PartFile): Promise<boolean> {
  using source = await Deno.open(f.path, { read: true });
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  const cutter = new LineCutter();
  let unread = f.sizeBytes;
  while (unread > 0) {
    const n = await source.read(buffer.subarray(0, Math.min(buffer.length, unread)));
    if (n === null) break;
    unread -= n;
    cutter.feed(buffer.subarray(0, n));
    if (cutter.cutAny) return true;
  }
  return false;
}

/** What {@linkcode LineCutter.feed} gives for a piece of a file. */
export type CutSegment =
  /** Bytes to stage as they are. */
  | { kind: "copy"; bytes: Uint8Array }
  /** Bytes of an overlong line past its stand-in, left out. */
  | { kind: "skip"; bytes: number }
  /** An overlong line ends here (its newline comes next): its real length without the newline. */
  | { kind: "overlong"; bytes: number };

const CONTINUATION_MASK = 0xc0;
const CONTINUATION_BITS = 0x80;
/** Continuation bytes of a UTF-8 character after its first byte, at most. */
const CHARACTER_REST_MAX = 3;

function isContinuation(byte: number): boolean {
  return (byte & CONTINUATION_MASK) === CONTINUATION_BITS;
}

/**
 * Cuts every line longer than {@linkcode LINE_BYTES_MAX} down to a stand-in
 * of its first {@linkcode LINE_BYTES_MAX} bytes (plus the rest of a UTF-8
 * character cut there: at most 3 continuation bytes), streaming: feed it a file's bytes in order, pieces
 * of at most {@linkcode LINE_BYTES_MAX} bytes each. A line of at most
 * {@linkcode LINE_BYTES_MAX} bytes passes whole; a stand-in is as long as
 * {@linkcode standInLength} says.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LineCutter } from "./_stage.ts";
 * import { LINE_BYTES_MAX } from "../ledger/limits.ts";
 * const cutter = new LineCutter();
 * const line = new Uint8Array(LINE_BYTES_MAX + 10).fill(0x61);
 * const segments = [...cutter.feed(line.subarray(0, LINE_BYTES_MAX)),
 *   ...cutter.feed(new Uint8Array([...line.subarray(LINE_BYTES_MAX), 0x0a]))];
 * assert.deepEqual(segments.map((s) => s.kind), ["copy", "skip", "overlong", "copy"]);
 * assert.equal(segments[2].kind === "overlong" && segments[2].bytes, LINE_BYTES_MAX + 10);
 * assert.ok(cutter.cutAny);
 * ```
 */
export class LineCutter {
  /** Whether some line was cut so far. */
  cutAny = false;
  /** Bytes of the current line fed so far. */
  #lineBytes = 0;
  /** Past the stand-in's end: the line's bytes are left out. */
  #cutting = false;
  /** Just past the stand-in's end: continuation bytes of a character cut there are kept. */
  #finishing = false;
  /** Continuation bytes kept after the stand-in's first LINE_BYTES_MAX bytes. */
  #restBytes = 0;

  /** The segments `piece` turns into, in order. */
  feed(piece: Uint8Array): CutSegment[] {
    assert(piece.length <= LINE_BYTES_MAX, "a piece holds at most one line's worth of bytes");
    const out: CutSegment[] = [];
    let copyFrom = 0;
    let i = 0;
    const n = piece.length;
    while (i < n) {
      if (!this.#cutting) {
        const nl = piece.indexOf(NEWLINE, i);
        const room = LINE_BYTES_MAX - this.#lineBytes;
        if ((nl >= 0 ? nl - i : n - i) <= room) {
          // The current line ends in time (or the piece does); any later line of the piece
          // is shorter than the piece, so at most LINE_BYTES_MAX.
          const last = nl < 0 ? -1 : piece.lastIndexOf(NEWLINE);
          this.#lineBytes = last < 0 ? this.#lineBytes + n - i : n - (last + 1);
          i = n;
          break;
        }
        // The line passes the limit in this piece: its stand-in ends here.
        const cut = i + room;
        if (cut > copyFrom) out.push({ kind: "copy", bytes: piece.subarray(copyFrom, cut) });
        this.#lineBytes += room;
        this.#cutting = true;
        this.#finishing = true;
        this.#restBytes = 0;
        this.cutAny = true;
        i = cut;
        copyFrom = cut;
        continue;
      }
      const nl = piece.indexOf(NEWLINE, i);
      const end = nl < 0 ? n : nl;
      let kept = i;
      while (this.#finishing && kept < end) {
        if (this.#restBytes < CHARACTER_REST_MAX && isContinuation(piece[kept])) {
          kept++;
          this.#restBytes++;
        } else this.#finishing = false;
      }
      if (kept > i) out.push({ kind: "copy", bytes: piece.subarray(i, kept) });
      if (end > kept) out.push({ kind: "skip", bytes: end - kept });
      this.#lineBytes += end - i;
      i = end;
      copyFrom = end;
      if (nl < 0) break;
      out.push({ kind: "overlong", bytes: this.#lineBytes });
      this.#cutting = false;
      this.#finishing = false;
      this.#lineBytes = 0; // the newline at `nl` starts the next copy
    }
    if (!this.#cutting && n > copyFrom) {
      out.push({ kind: "copy", bytes: piece.subarray(copyFrom, n) });
    }
    return out;
  }
}

/**
 * Bytes of the stand-in {@linkcode LineCutter} stages for `line` (without
 * its newline): all of it up to {@linkcode LINE_BYTES_MAX} bytes, otherwise
 * the first {@linkcode LINE_BYTES_MAX} plus the continuation bytes that
 * follow (at most 3). The incremental rebuild hashes the same bytes of a file's last
 * indexed line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { standInLength } from "./_stage.ts";
 * import { LINE_BYTES_MAX } from "../ledger/limits.ts";
 * assert.equal(standInLength(new Uint8Array(10)), 10);
 * const cutInEuro = new Uint8Array(LINE_BYTES_MAX + 5).fill(0x61);
 * cutInEuro.set([0xe2, 0x82, 0xac], LINE_BYTES_MAX - 1); // "€" across the cut
 * assert.equal(standInLength(cutInEuro), LINE_BYTES_MAX + 2);
 * ```
 */
export function standInLength(line: Uint8Array): number {
  if (line.length <= LINE_BYTES_MAX) return line.length;
  let end = LINE_BYTES_MAX;
  const most = Math.min(line.length, LINE_BYTES_MAX + CHARACTER_REST_MAX);
  while (end < most && isContinuation(line[end])) end++;
  return end;
}

interface Chunk {
  /** Bytes written to the staging file. */
  bytes: number;
  /** Bytes of the part file they stand for (more when an overlong line was cut). */
  sourceBytes: number;
  /** Overlong lines cut in it, by line number in the part file. */
  overlong: OverlongLine[];
  lines: number;
  write(bytes: Uint8Array): Promise<void>;
  close(f: PartFile): ScanEntry;
}

async function openChunk(stagingDir: string, byteBase: number, lineBase: number): Promise<Chunk> {
  const path = join(stagingDir, `range-${crypto.randomUUID()}.jsonl`);
  const file = await Deno.open(path, { write: true, createNew: true });
  let closed = false;
  const chunk: Chunk = {
    bytes: 0,
    sourceBytes: 0,
    overlong: [],
    lines: 0,
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      chunk.bytes += bytes.length;
      chunk.sourceBytes += bytes.length;
      for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, i + 1)) {
        chunk.lines++;
      }
    },
    close(f) {
      if (!closed) file.close();
      closed = true;
      return {
        file: f.file,
        readPath: path,
        lineBase,
        byteBase,
        sizeBytes: f.sizeBytes,
        mtimeMs: f.mtimeMs,
        readBytes: chunk.bytes,
        sourceBytes: chunk.sourceBytes,
        overlong: chunk.overlong,
      };
    },
  };
  return chunk;
}
