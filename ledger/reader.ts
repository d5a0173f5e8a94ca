/**
 * Stream the event log back (SPEC 3, 6): every `day=*\/*.jsonl` in a
 * deterministic order (day, then file name), line by line. Bad content never
 * throws: a last line without `\n` is reported as `torn`, and a line that is
 * empty, holds NUL bytes, is not UTF-8 or JSON, or is not a valid event is
 * reported as `invalid` with the reason. Line numbers are 1-based; `file` is
 * relative to the events directory (`day=2026-01-23/part-x-000001.jsonl`).
 *
 * A part file that a live writer is appending to can end in a line that is
 * still being written: it is reported as `torn` and may be complete later.
 *
 * @module
 */
import { type LedgerEvent, LINE_BYTES_MAX, type ValidationMode } from "./events.ts";
import { checkEventLine } from "./event_line.ts";
import { listParts, type ListPartsOptions } from "./parts.ts";

export { listParts, type ListPartsOptions, type PartFile } from "./parts.ts";

/** Size of each read from a part file, in bytes. */
const READ_CHUNK_BYTES = 256 * 1024;
/**
 * Longest valid line, newline included, in bytes: {@linkcode LINE_BYTES_MAX},
 * the writer's limit (one definition of a valid line). Longer lines are
 * reported as invalid without being buffered whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { READ_LINE_BYTES_MAX, readPartFile } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const path = `${root}/part-000001.jsonl`;
 *   // READ_LINE_BYTES_MAX bytes and the newline: one byte over the limit.
 *   await Deno.writeTextFile(path, "x".repeat(READ_LINE_BYTES_MAX) + "\n");
 *   const [record] = await Array.fromAsync(readPartFile(path));
 *   assert.ok(record.kind === "invalid");
 *   assert.match(record.reason, /longer than the limit of 1048576 bytes/);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const READ_LINE_BYTES_MAX: number = LINE_BYTES_MAX;

/**
 * Where a record came from.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readPartFile, type RecordPosition } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const path = `${root}/part-000001.jsonl`;
 *   const first = '{"event_type":"run.started","run_id":"r1","event_id":"e1","timestamp_ms":1}\n';
 *   await Deno.writeTextFile(path, first + "not json\n");
 *   const where = ({ line, offset }: RecordPosition) => `line ${line} at byte ${offset}`;
 *   const places = (await Array.fromAsync(readPartFile(path))).map(where);
 *   assert.deepEqual(places, ["line 1 at byte 0", `line 2 at byte ${first.length}`]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RecordPosition {
  /** The part file, relative to the events directory. */
  file: string;
  /** 1-based line number within the file. */
  line: number;
  /** Byte offset of the start of the line within the file. */
  offset: number;
}

/**
 * One line of the log: a valid event, or a torn or invalid line with the
 * reason. `nonFiniteCount` counts the `NaN`/`Infinity` values of an event's
 * line, read as `null`; `repeatedKey` tells that a top-level key appeared
 * twice (the first value counts). `verify` warns about both.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type LogRecord, readPartFile } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const path = `${root}/part-000001.jsonl`;
 *   const event = '{"event_type":"run.started","run_id":"r1","event_id":"e1","timestamp_ms":1}';
 *   await Deno.writeTextFile(path, `${event}\n{"event_type":"run.started"}\n{"event_t`);
 *   // `kind` tells them apart: an event record holds the event, the others a reason.
 *   const describe = (record: LogRecord) =>
 *     record.kind === "event" ? `event of ${record.event.run_id}` : record.kind;
 *   const records = await Array.fromAsync(readPartFile(path));
 *   assert.deepEqual(records.map(describe), ["event of r1", "invalid", "torn"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export type LogRecord =
  | (
    & { kind: "event"; event: LedgerEvent; nonFiniteCount: number; repeatedKey: boolean }
    & RecordPosition
  )
  | ({ kind: "torn" | "invalid"; reason: string } & RecordPosition);

/**
 * Options for {@linkcode readLog}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readLog, type ReadLogOptions } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   // A line of an older writer: its run id is not a safe path segment.
 *   await Deno.mkdir(`${root}/events/day=2026-01-23`, { recursive: true });
 *   await Deno.writeTextFile(
 *     `${root}/events/day=2026-01-23/part-000001.jsonl`,
 *     '{"event_type":"run.started","run_id":"run 7/b","event_id":"e1","timestamp_ms":1}\n',
 *   );
 *   const kinds = async (options: ReadLogOptions) =>
 *     (await Array.fromAsync(readLog(root, options))).map((record) => record.kind);
 *   assert.deepEqual(await kinds({}), ["event"]); // read mode by default
 *   assert.deepEqual(await kinds({ mode: "write" }), ["invalid"]);
 *   assert.deepEqual(await kinds({ fromDay: "2026-01-24" }), []); // earlier days are skipped
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface ReadLogOptions extends ListPartsOptions {
  /** Validation mode; `"read"` accepts run ids of older writers. @default {"read"} */
  mode?: ValidationMode;
}

/**
 * Options for {@linkcode readPartFile}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readPartFile, type ReadPartFileOptions } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const path = `${root}/part-000001.jsonl`;
 *   const line = (id: string) =>
 *     `{"event_type":"run.started","run_id":"r1","event_id":"${id}","timestamp_ms":1}\n`;
 *   await Deno.writeTextFile(path, line("e1") + line("e2"));
 *   // Go on from where an earlier read stopped: after line 1.
 *   const options: ReadPartFileOptions = { startOffset: line("e1").length, startLine: 2 };
 *   const records = await Array.fromAsync(readPartFile(path, options));
 *   assert.equal(records.length, 1);
 *   assert.ok(records[0].kind === "event" && records[0].line === 2);
 *   assert.equal(records[0].event.event_id, "e2");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface ReadPartFileOptions {
  /** Name reported in records' `file`. @default {path} */
  file?: string;
  /** Start reading at this byte offset (must be the start of a line). @default {0} */
  startOffset?: number;
  /** Line number of the line at `startOffset`. @default {1} */
  startLine?: number;
  /** Validation mode. @default {"read"} */
  mode?: ValidationMode;
}

/**
 * Stream every record of the log under `root` (or from `fromDay` on).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readLog } from "./reader.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "r1" });
 *   await writer.close();
 *   const kinds: string[] = [];
 *   for await (const record of readLog(root)) kinds.push(record.kind); // torn/invalid name file:line
 *   assert.deepEqual(kinds, ["event"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* readLog(
  root: string,
  options: ReadLogOptions = {},
): AsyncGenerator<LogRecord> {
  for (const part of await listParts(root, options)) {
    yield* readPartFile(part.path, { file: part.file, mode: options.mode });
  }
}

/**
 * Stream the records of one part file, optionally from a byte offset (for
 * incremental readers). A file that vanished yields nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readPartFile } from "./reader.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const path = `${root}/part-000001.jsonl`; // a Python-writer part, last line torn
 *   await Deno.writeTextFile(
 *     path,
 *     '{"event_type":"run.started","run_id":"r1","event_id":"e1","timestamp_ms":1}\n{"event_t',
 *   );
 *   const kinds: string[] = [];
 *   for await (const r of readPartFile(path)) kinds.push(`${r.kind}@${r.line}`);
 *   assert.deepEqual(kinds, ["event@1", "torn@2"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* readPartFile(
  path: string,
  options: ReadPartFileOptions = {},
): AsyncGenerator<LogRecord> {
  const name = options.file ?? path;
  const mode = options.mode ?? "read";
  const start = options.startOffset ?? 0;
  if (!(Number.isSafeInteger(start) && start >= 0)) {
    throw new RangeError(`startOffset must be an integer >= 0, got ${start}`);
  }
  const startLine = options.startLine ?? 1;
  if (!(Number.isSafeInteger(startLine) && startLine >= 1)) {
    throw new RangeError(`startLine must be an integer >= 1, got ${startLine}`);
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  try {
    let offset = start;
    let line = startLine;
    if (offset > 0) {
      // The byte before must end a line: from the middle of one, its rest would read as a line.
      await file.seek(offset - 1, Deno.SeekMode.Start);
      const before = new Uint8Array(1);
      if ((await file.read(before)) !== 1 || before[0] !== 0x0a) {
        throw new RangeError(`startOffset ${offset} of ${name} is not the start of a line`);
      }
    }
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let overlong = false;
    const buf = new Uint8Array(READ_CHUNK_BYTES);
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      let start = 0;
      while (start < n) {
        const newline = buf.subarray(start, n).indexOf(0x0a);
        const end = newline === -1 ? n : start + newline;
        if (!overlong) pending.push(buf.slice(start, end));
        pendingBytes += end - start;
        if (pendingBytes >= READ_LINE_BYTES_MAX && !overlong) {
          overlong = true; // stop buffering; report once the line ends
          pending = [];
        }
        if (newline === -1) break;
        const pos = { file: name, line, offset };
        yield overlong
          ? {
            kind: "invalid",
            ...pos,
            reason: `line of ${pendingBytes + 1} bytes is longer than the limit of ` +
              `${READ_LINE_BYTES_MAX} bytes (newline included)`,
          }
          : classify(concat(pending, pendingBytes), pos, mode);
        offset += pendingBytes + 1;
        line += 1;
        pending = [];
        pendingBytes = 0;
        overlong = false;
        start = end + 1;
      }
    }
    if (pendingBytes > 0) {
      const zeros = !overlong && concat(pending, pendingBytes).every((b) => b === 0);
      const reason = `torn last line: ${pendingBytes} bytes without a newline` +
        (zeros ? " (all NUL bytes)" : "");
      yield { kind: "torn", file: name, line, offset, reason };
    }
  } finally {
    file.close();
  }
}

function classify(bytes: Uint8Array, pos: RecordPosition, mode: ValidationMode): LogRecord {
  const verdict = checkEventLine(bytes, { mode, startOfFile: pos.offset === 0 });
  return verdict.ok
    ? {
      kind: "event",
      ...pos,
      event: verdict.event,
      nonFiniteCount: verdict.nonFiniteCount,
      repeatedKey: verdict.repeatedKey,
    }
    : { kind: "invalid", ...pos, reason: verdict.reason };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
