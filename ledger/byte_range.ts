/**
 * Byte ranges of local files, read and compared: what the shipper checks
 * against the bucket, what the mirror checks against a chunk written again,
 * and the last indexed line an incremental rebuild checks before it reads
 * on from there.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * Bytes `[start, end)` of the open `file`: fewer when the file ends before
 * `end` (the caller says what that means).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readRange } from "./byte_range.ts";
 * const path = await Deno.makeTempFile();
 * try {
 *   await Deno.writeTextFile(path, "hello\n");
 *   using file = await Deno.open(path);
 *   assert.equal(new TextDecoder().decode(await readRange(file, 1, 4)), "ell");
 *   assert.equal((await readRange(file, 4, 10)).length, 2); // the file ends at byte 6
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function readRange(
  file: Deno.FsFile,
  start: number,
  end: number,
): Promise<Uint8Array> {
  const buf = new Uint8Array(end - start);
  await file.seek(start, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) return buf.subarray(0, got);
    got += n;
  }
  return buf;
}

/**
 * Whether `a` and `b` hold the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { bytesEqual } from "./byte_range.ts";
 * assert.ok(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
 * assert.ok(!bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1])));
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
