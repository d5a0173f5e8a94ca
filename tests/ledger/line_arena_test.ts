/**
 * The writer's line arena (`ledger/line_arena.ts`): lines encoded once into
 * blocks are written byte for byte as `encodeEventLine` makes them, whether
 * a chunk is a view of one block or a copy of lines apart (two days
 * interleaved, lines across blocks, a line longer than a block, multibyte
 * text), and a refused line places nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ARENA_BLOCK_BYTES, LineArena, linesData } from "../../ledger/line_arena.ts";
import { completeEvent, encodeEventLine, type LedgerEvent } from "../../ledger/events.ts";
import { EventTooLargeError } from "../../ledger/errors.ts";
import { LINE_BYTES_MAX } from "../../ledger/limits.ts";
import { openWriter } from "../../ledger/writer.ts";
import { listParts } from "../../ledger/parts.ts";
import { withTempDir } from "./_helpers.ts";

const DAY_MS = 86_400_000;
const FIRST_DAY_MS = Date.UTC(2026, 11, 3);
const decoder = new TextDecoder();

function noted(i: number, note: string): LedgerEvent {
  return completeEvent({
    event_type: "run.noted",
    run_id: `r${i % 7}`,
    note,
    timestamp_ms: FIRST_DAY_MS + (i % 2) * DAY_MS + i,
  });
}

function lineText(event: LedgerEvent): string {
  return decoder.decode(encodeEventLine(event));
}

Deno.test("line arena: lines side by side are a view, lines apart a copy, both exact", () => {
  const arena = new LineArena();
  const events = Array.from({ length: 6 }, (_, i) => noted(i, `n${i} größer ✓ 𝄞`));
  const lines = events.map((event) => arena.encode(event, "d"));
  const size = (chosen: typeof lines) => chosen.reduce((sum, line) => sum + line.bytes, 0);
  const all = linesData(lines, size(lines));
  assert.equal(all.buffer, lines[0].block.buffer, "adjacent lines are written from their block");
  assert.equal(decoder.decode(all), events.map(lineText).join(""));
  const apart = [lines[0], lines[2], lines[5]];
  const copy = linesData(apart, size(apart));
  assert.notEqual(copy.buffer, lines[0].block.buffer, "lines apart are copied");
  assert.equal(decoder.decode(copy), [0, 2, 5].map((i) => lineText(events[i])).join(""));
});

Deno.test("line arena: a line past the limit throws and places nothing", () => {
  const arena = new LineArena();
  const before = arena.encode(noted(0, "a"), "d");
  assert.throws(
    () => arena.encode(noted(1, "x".repeat(LINE_BYTES_MAX)), "d"),
    EventTooLargeError,
  );
  const after = arena.encode(noted(2, "b"), "d");
  assert.equal(after.block, before.block);
  assert.equal(after.start, before.start + before.bytes, "the refused line left no bytes behind");
});

Deno.test("line arena: a line longer than a block gets a block of its own size", () => {
  const arena = new LineArena();
  const small = arena.encode(noted(0, "a"), "d");
  const long = arena.encode(noted(1, "é".repeat(ARENA_BLOCK_BYTES)), "d"); // 2 bytes each
  assert.notEqual(long.block, small.block);
  assert.equal(long.start, 0);
  assert.equal(long.block.length, long.bytes);
  assert.ok(long.bytes > 2 * ARENA_BLOCK_BYTES);
  const next = arena.encode(noted(2, "b"), "d");
  assert.notEqual(next.block, long.block, "a full block takes no more lines");
});

Deno.test("line arena: a relaxed writer's parts hold every line byte for byte", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root, { durability: "relaxed" });
    const expected = new Map<string, string[]>();
    // Two days interleaved (each day's chunk is a copy), lines across many blocks, some
    // multibyte, some longer than a block.
    for (let i = 0; i < 3000; i++) {
      const note = i % 500 === 7
        ? "ü".repeat(ARENA_BLOCK_BYTES / 2 + i)
        : `note ${i} ${i % 3 === 0 ? "größer 𝄞" : "plain"}`;
      const appended = writer.appendNow({
        event_type: "run.noted",
        run_id: `r${i % 7}`,
        note,
        timestamp_ms: FIRST_DAY_MS + (i % 2) * DAY_MS + i,
      });
      const event = appended instanceof Promise ? await appended : appended;
      const day = new Date(event.timestamp_ms).toISOString().slice(0, 10);
      expected.set(day, [...(expected.get(day) ?? []), lineText(event)]);
    }
    await writer.close();
    const parts = await listParts(root);
    const written = new Map<string, string>();
    for (const part of parts) {
      const text = await Deno.readTextFile(part.path);
      written.set(part.day, (written.get(part.day) ?? "") + text);
    }
    assert.deepEqual([...written.keys()].sort(), ["2026-12-03", "2026-12-04"]);
    for (const [day, lines] of expected) {
      assert.equal(
        written.get(day),
        lines.join(""),
        `${day}: the lines as encodeEventLine makes them`,
      );
    }
  });
});
