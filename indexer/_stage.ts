/**
 * Staging byte ranges of part files for the ingest pipeline, in bounded
 * memory: a file (or the new tail of one) larger than a batch is copied, as a
 * stream, into staging files of at most about `chunkBytes` each, every one
 * cut just after a newline, so that no batch and no `read_text` ever holds
 * more than one chunk of a large file. Small files are read in place, except
 * those a batch may be appending to: their copy holds only the bytes listed.
 *
 * @module
 */
import { assert } from "../ledger/assert.ts";
import { basename, join } from "node:path";
import { SHARED_PART_PATTERN } from "../ledger/paths.ts";
import type { PartFile } from "./_files.ts";
import type { ScanEntry } from "./_pipeline.ts";

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
  if (start.byteBase === 0 && f.sizeBytes <= chunkBytes && readsInPlace(f)) {
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
    // Only the bytes listed (acknowledged): what a batch appends after the listing is its own.
    let unread = f.sizeBytes - start.byteBase;
    while (unread > 0) {
      const n = await source.read(buffer.subarray(0, Math.min(buffer.length, unread)));
      if (n === null) break;
      unread -= n;
      let piece = buffer.subarray(0, n);
      chunk ??= await openChunk(stagingDir, byteBase, lineBase);
      if (chunk.bytes + piece.length > chunkBytes) {
        const nl = piece.lastIndexOf(NEWLINE);
        if (nl >= 0) {
          await chunk.write(piece.subarray(0, nl + 1));
          piece = piece.subarray(nl + 1);
          entries.push(chunk.close(f));
          assert(chunk.bytes > 0, "a staged range moves the offset forward");
          byteBase += chunk.bytes;
          lineBase += chunk.lines;
          chunk = await openChunk(stagingDir, byteBase, lineBase);
        } // no newline in this read: the line goes on, the chunk grows past its size
      }
      await chunk.write(piece);
    }
    if (chunk !== undefined && (chunk.bytes > 0 || entries.length === 0)) {
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

interface Chunk {
  bytes: number;
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
    lines: 0,
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      chunk.bytes += bytes.length;
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
      };
    },
  };
  return chunk;
}
