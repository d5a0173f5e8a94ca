/**
 * Event ids held as 8-byte fingerprints, so that `ledger verify` finds ids
 * on more than one line in memory that grows by 8 bytes per event, not by
 * the id and its place (about 400 bytes per event in a `Map`: 464 MB at 1.1M
 * events, so a year's log of 50M events would not fit this machine).
 *
 * A fingerprint is 53 bits of two 32-bit FNV-1a hashes of the id's UTF-16
 * units. Two ids may share one (about 0.14 for one pair among 50M ids), so a
 * repeated fingerprint is only a candidate: the caller reads the log again
 * and compares the ids themselves.
 *
 * @module
 */
import { assert } from "./assert.ts";

/** Fingerprints per chunk: 8 MiB each, so memory grows in steps of 8 MiB. */
export const FINGERPRINTS_PER_CHUNK = 1 << 20;

/**
 * The fingerprint of `id`: an integer in `[0, 2^53)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { idFingerprint } from "./_id_fingerprints.ts";
 * const a = idFingerprint("0190a1b2-0000-7000-8000-000000000001");
 * assert.equal(a, idFingerprint("0190a1b2-0000-7000-8000-000000000001"));
 * assert.notEqual(a, idFingerprint("0190a1b2-0000-7000-8000-000000000002"));
 * assert.ok(Number.isSafeInteger(a) && a >= 0);
 * ```
 */
export function idFingerprint(id: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ unit, 0x01000193);
    h2 = Math.imul(h2 ^ unit, 0x01000193) ^ (h2 >>> 15);
  }
  // 32 bits of h1 above 21 bits of h2: exact in a double.
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

/**
 * A multiset of fingerprints that says which of them repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { IdFingerprints } from "./_id_fingerprints.ts";
 * const ids = new IdFingerprints(4); // tiny chunks, to show repeats across them
 * for (const id of ["a", "b", "c", "d", "e", "b", "f", "a", "a"]) ids.add(id);
 * assert.equal(ids.size, 9);
 * const repeated = ids.repeated();
 * assert.equal(repeated.size, 2); // "a" and "b"
 * assert.ok(ids.isCandidate(repeated, "a") && !ids.isCandidate(repeated, "c"));
 * ```
 */
export class IdFingerprints {
  #chunkSize: number;
  #chunks: Float64Array[] = [];
  /** Fingerprints in the last chunk. */
  #filled = 0;

  /** Chunks of `chunkSize` fingerprints. @param chunkSize {@linkcode FINGERPRINTS_PER_CHUNK} by default */
  constructor(chunkSize: number = FINGERPRINTS_PER_CHUNK) {
    assert(Number.isSafeInteger(chunkSize) && chunkSize > 0, "a chunk holds fingerprints");
    this.#chunkSize = chunkSize;
  }

  /** How many ids were added. */
  get size(): number {
    const full = Math.max(0, this.#chunks.length - 1);
    return full * this.#chunkSize + (this.#chunks.length === 0 ? 0 : this.#filled);
  }

  /** Add one occurrence of `id`. */
  add(id: string): void {
    if (this.#chunks.length === 0 || this.#filled === this.#chunkSize) {
      this.#chunks.push(new Float64Array(this.#chunkSize));
      this.#filled = 0;
    }
    this.#chunks[this.#chunks.length - 1][this.#filled] = idFingerprint(id);
    this.#filled += 1;
  }

  /** Whether `id`'s fingerprint is among `repeated` (what {@linkcode repeated} returned). */
  isCandidate(repeated: ReadonlySet<number>, id: string): boolean {
    return repeated.size > 0 && repeated.has(idFingerprint(id));
  }

  /**
   * The fingerprints added more than once. Sorts each chunk in place, then
   * merges the chunks' runs of equal values; no chunk is copied.
   */
  repeated(): Set<number> {
    const chunks = this.#chunks.map((chunk, i) =>
      i === this.#chunks.length - 1 ? chunk.subarray(0, this.#filled) : chunk
    );
    for (const chunk of chunks) chunk.sort();
    const repeated = new Set<number>();
    const at = new Array<number>(chunks.length).fill(0);
    // A k-way merge over the sorted chunks by a scan of their heads: k is one chunk per 1M
    // events (50 at 50M), a few seconds against the 25 minutes such a log takes to read.
    let previous = -1;
    for (;;) {
      let best = -1;
      let bestValue = Infinity;
      for (let c = 0; c < chunks.length; c++) {
        if (at[c] < chunks[c].length && chunks[c][at[c]] < bestValue) {
          best = c;
          bestValue = chunks[c][at[c]];
        }
      }
      if (best === -1) break;
      // Take the whole run of equal values from this chunk at once.
      const chunk = chunks[best];
      let i = at[best] + 1;
      while (i < chunk.length && chunk[i] === bestValue) i++;
      if (i - at[best] > 1 || bestValue === previous) repeated.add(bestValue);
      at[best] = i;
      previous = bestValue;
    }
    return repeated;
  }
}
