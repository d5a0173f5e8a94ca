/**
 * The bytes of lines waiting to be written, encoded once: an event's JSON is
 * encoded as UTF-8 straight into a block of memory, newline included, and
 * the line keeps only where it sits. A group of lines that sit side by side
 * is written from its block as it is, without copying.
 *
 * Why (issue 16, relaxed emit against pino): the writer used to keep each
 * line's JSON text until its group was written, then join the texts and
 * encode them again. Those texts outlived V8's young-generation collections
 * and were copied by each (scavenges of 2-12 ms, 20-35% of a relaxed emit
 * loop spent in pauses of over a millisecond), and each line was encoded
 * twice (once to count its bytes). Blocks are never reused: a block lives
 * while a line in it waits, so a written range never changes under a write.
 *
 * @module
 */
import type { LedgerEvent } from "./events.ts";
import { lineBytesOf } from "./event_write.ts";
import { LINE_BYTES_MAX } from "./limits.ts";
import { assert } from "./assert.ts";

/**
 * Size of a block, in bytes: about a thousand lines of a few hundred bytes
 * (one group commit's worth). A longer line gets a block of its own size.
 */
export const ARENA_BLOCK_BYTES = 256 * 1024;
// A line encoded without being counted first fits a block, so it is under the line limit.
assert(ARENA_BLOCK_BYTES <= LINE_BYTES_MAX, "a line that fits a block is under the line limit");

/** UTF-8 bytes a UTF-16 code unit can take at most (a surrogate pair: 4 for 2). */
const UTF8_BYTES_PER_UNIT_MAX = 3;

const NEWLINE = 0x0a;

const textEncoder = new TextEncoder();

/** An encoded line: `bytes` bytes (newline included) from `start` of `block`, bound for `day`. */
export interface ArenaLine {
  /** The day directory (`YYYY-MM-DD`) the line goes to. */
  day: string;
  /** The block that holds the line's bytes. */
  block: Uint8Array;
  /** Offset of the line's first byte in `block`. */
  start: number;
  /** UTF-8 bytes of the line, newline included. */
  bytes: number;
}

/**
 * Where a writer encodes its lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { completeEvent } from "./events.ts";
 * import { encodeEventLine } from "./event_write.ts";
 * import { LineArena, linesData } from "./line_arena.ts";
 * const arena = new LineArena();
 * const events = ["größer", "plain"].map((note) =>
 *   completeEvent({ event_type: "run.noted", run_id: "r1", note })
 * );
 * const lines = events.map((event) => arena.encode(event, "2026-12-04"));
 * const size = lines[0].bytes + lines[1].bytes;
 * const expected = events.map((event) => new TextDecoder().decode(encodeEventLine(event))).join("");
 * assert.equal(new TextDecoder().decode(linesData(lines, size)), expected);
 * ```
 */
export class LineArena {
  #block: Uint8Array | undefined;
  #used = 0;

  /**
   * Encode `event` as one line bound for `day`. Throws `EventTooLargeError`
   * (from {@linkcode lineBytesOf}) past {@linkcode LINE_BYTES_MAX}, having
   * placed nothing.
   */
  encode(event: LedgerEvent, day: string): ArenaLine {
    const json = JSON.stringify(event);
    let block = this.#block;
    let start = this.#used;
    if (block === undefined || block.length - start < json.length * UTF8_BYTES_PER_UNIT_MAX + 1) {
      // It may not fit: count its bytes exactly (this throws past the limit), then take a new
      // block unless it fits after all.
      const bytes = lineBytesOf(json, event.event_type);
      if (block === undefined || block.length - start < bytes) {
        block = new Uint8Array(Math.max(ARENA_BLOCK_BYTES, bytes));
        start = 0;
        this.#block = block;
      }
    }
    const { read, written } = textEncoder.encodeInto(
      json,
      start === 0 ? block : block.subarray(start),
    );
    assert(read === json.length, "a line is encoded whole into room counted for it");
    const bytes = written + 1;
    // Counted (and refused past the limit) above, or placed in room of a block.
    assert(bytes <= LINE_BYTES_MAX, "an encoded line is within the line limit");
    block[start + written] = NEWLINE;
    this.#used = start + bytes;
    return { day, block, start, bytes };
  }
}

/**
 * The bytes of `lines` in order, `size` bytes in all: a view of their block
 * when they sit side by side in one (the usual case: one group, one day), else
 * a copy.
 */
export function linesData(lines: readonly ArenaLine[], size: number): Uint8Array {
  assert(lines.length > 0, "a chunk has lines");
  const first = lines[0];
  let end = first.start;
  let adjacent = true;
  for (let i = 0; i < lines.length && adjacent; i++) {
    const line = lines[i];
    adjacent = line.block === first.block && line.start === end;
    end += line.bytes;
  }
  if (adjacent) {
    assert(end - first.start === size, "the chunk's size is its lines' bytes");
    return first.block.subarray(first.start, end);
  }
  const data = new Uint8Array(size);
  let offset = 0;
  for (const line of lines) {
    data.set(line.block.subarray(line.start, line.start + line.bytes), offset);
    offset += line.bytes;
  }
  assert(offset === size, "the chunk's size is its lines' bytes");
  return data;
}
