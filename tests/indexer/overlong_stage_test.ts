/**
 * Lines longer than `LINE_BYTES_MAX` are staged as stand-ins (`_stage.ts`):
 * DuckDB never holds more of one than its first bytes, so a part ending in
 * many MB without a newline (zeros a power loss left, a file copied in by
 * mistake) no longer fails every rebuild with DuckDB out of memory (an
 * audit: a 200 MB zero tail failed the incremental and the full rebuild at
 * the default limit, and the daemon at every interval). The lines keep
 * their numbers, real lengths and reasons, and an incremental rebuild after
 * an append resumes past an overlong last line as it does past any other.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LineCutter, standInLength } from "../../indexer/_stage.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { LINE_BYTES_MAX } from "../../ledger/limits.ts";
import { verifyLog } from "../../ledger/verify.ts";
import { dumpTables, ev, query, T0 } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

const encoder = new TextEncoder();
const NL = 0x0a;

/** Bytes appended one array at a time (a spread of MBs overflows the stack). */
class Bytes {
  #buffer = new Uint8Array(1024);
  length = 0;
  push(bytes: Uint8Array | number[]): void {
    while (this.length + bytes.length > this.#buffer.length) {
      const grown = new Uint8Array(this.#buffer.length * 2);
      grown.set(this.#buffer);
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.length);
  }
}

/** What LineCutter should make of `bytes`, computed on the whole buffer. */
function expected(bytes: Uint8Array): { staged: Uint8Array; overlong: number[] } {
  const staged = new Bytes();
  const overlong: number[] = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(NL, start);
    const line = bytes.subarray(start, nl < 0 ? bytes.length : nl);
    staged.push(line.subarray(0, standInLength(line)));
    if (nl < 0) break;
    if (line.length > LINE_BYTES_MAX) overlong.push(line.length);
    staged.push([NL]);
    start = nl + 1;
  }
  return { staged: staged.bytes, overlong };
}

Deno.test("LineCutter stages what standInLength says, whatever the pieces", () => {
  const euro = encoder.encode("€");
  const lines: Uint8Array[] = [
    new Uint8Array(10).fill(0x61),
    new Uint8Array(LINE_BYTES_MAX - 1).fill(0x62),
    new Uint8Array(LINE_BYTES_MAX).fill(0x63), // exactly the limit: passes whole
    new Uint8Array(LINE_BYTES_MAX + 1).fill(0x64),
    new Uint8Array(3 * LINE_BYTES_MAX + 7).fill(0x65),
    new Uint8Array(0),
  ];
  const across = new Uint8Array(LINE_BYTES_MAX + 100).fill(0x66);
  across.set(euro, LINE_BYTES_MAX - 1); // a character cut by the stand-in's end
  lines.push(across);
  const runOn = new Uint8Array(LINE_BYTES_MAX + 100).fill(0x80); // continuation bytes only
  lines.push(runOn);
  const parts = new Bytes();
  for (const line of lines) {
    parts.push(line);
    parts.push([NL]);
  }
  parts.push(new Uint8Array(2 * LINE_BYTES_MAX + 5)); // a torn tail of zeros
  const bytes = parts.bytes;
  const want = expected(bytes);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const pieceMax of [1, 3, 4096, 65_537, LINE_BYTES_MAX]) {
    const cutter = new LineCutter();
    const staged = new Bytes();
    const overlong: number[] = [];
    let skipped = 0;
    let at = 0;
    // Byte by byte, a prefix is enough (a million calls per MiB).
    const end = pieceMax === 1 ? 3 * LINE_BYTES_MAX + 50 : bytes.length;
    while (at < end) {
      const size = pieceMax < 16 ? pieceMax : 1 + Math.floor(random() * pieceMax);
      const piece = bytes.subarray(at, Math.min(end, at + size));
      at += piece.length;
      for (const s of cutter.feed(piece)) {
        if (s.kind === "copy") staged.push(s.bytes);
        else if (s.kind === "skip") skipped += s.bytes;
        else overlong.push(s.bytes);
      }
    }
    const got = staged.bytes;
    const wanted = pieceMax === 1 ? want.staged.subarray(0, got.length) : want.staged;
    assert.equal(got.length, wanted.length, `pieces of ${pieceMax}`);
    assert.ok(got.every((b, i) => b === wanted[i]), `pieces of ${pieceMax}`);
    assert.equal(got.length + skipped, end);
    assert.ok(cutter.cutAny);
    if (pieceMax > 1) assert.deepEqual(overlong, want.overlong);
  }
  assert.deepEqual(want.overlong, [
    LINE_BYTES_MAX + 1,
    3 * LINE_BYTES_MAX + 7,
    LINE_BYTES_MAX + 100,
    LINE_BYTES_MAX + 100,
  ]);
});

Deno.test("a part with overlong lines and a long zero tail indexes in a small memory limit", async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    const part = join(day, "part-000001.jsonl");
    const line = (e: Record<string, unknown>) => JSON.stringify(e) + "\n";
    const huge = `{"note":"${"€".repeat(2 * LINE_BYTES_MAX)}"}`; // 6 MiB, cut inside a "€"
    const text = line(ev("run.started", "r1", T0)) + huge + "\n" +
      line(ev("run.started", "r2", T0 + 1)) + "x".repeat(LINE_BYTES_MAX + 1) + "\n" +
      line(ev("run.started", "r3", T0 + 2));
    await Deno.writeTextFile(part, text);
    // What ext4 can leave after a power loss: zeros past the last newline, 48 MiB.
    await Deno.writeFile(part, new Uint8Array(48 << 20), { append: true });
    const memoryLimit = "128MB";
    const first = await rebuildIndex(root, { memoryLimit });
    assert.equal(first.events, 3);
    const dbPath = first.dbPath;
    const errors = await query(dbPath, "SELECT line, reason FROM ingest_errors ORDER BY line");
    const hugeBytes = encoder.encode(huge).length;
    const said = (bytes: number) =>
      `line of ${bytes + 1} bytes is longer than the limit of ${LINE_BYTES_MAX} bytes ` +
      "(newline included)";
    assert.deepEqual(errors, [
      { line: 2, reason: said(hugeBytes) },
      { line: 4, reason: said(LINE_BYTES_MAX + 1) },
      { line: 6, reason: "torn tail: no newline at end of file" },
    ]);
    // verify reads the same lines the same way.
    const report = await verifyLog(root);
    const invalid = report.days.flatMap((d) => d.invalid);
    assert.deepEqual(invalid.map((f) => [f.line, f.reason]), [
      [2, said(hugeBytes)],
      [4, said(LINE_BYTES_MAX + 1)],
    ]);
    // The zero tail is cut back to complete lines and the part grows: an incremental
    // rebuild resumes where the last complete line ended (its stand-in's md5 matches).
    await Deno.truncate(part, encoder.encode(text).length);
    const more = "y".repeat(LINE_BYTES_MAX + 10) + "\n" + line(ev("run.started", "r4", T0 + 3));
    await Deno.writeTextFile(part, more, { append: true });
    const second = await rebuildIndex(root, { memoryLimit });
    assert.equal(second.mode, "incremental");
    assert.equal(second.bytesRead, encoder.encode(more).length, "resumed, not read again whole");
    await Deno.writeTextFile(part, "y".repeat(LINE_BYTES_MAX + 10) + "\n", { append: true });
    const third = await rebuildIndex(root, { memoryLimit });
    assert.equal(third.bytesRead, LINE_BYTES_MAX + 11, "resumed past an overlong last line");
    const incremental = await dumpTables(dbPath);
    const full = await rebuildIndex(root, { memoryLimit, full: true });
    assert.equal(full.events, 4);
    const whole = await dumpTables(dbPath);
    assert.deepEqual(incremental, whole, "incremental and full give the same index");
    const files = await query(dbPath, "SELECT bytes_indexed, lines_indexed FROM ingest_files");
    assert.deepEqual(files, [{
      bytes_indexed: (await Deno.stat(part)).size,
      lines_indexed: 8,
    }]);
  });
});
