/**
 * How the log is laid out in a bucket (private). Every local part file is
 * shipped as immutable chunk objects of whole lines:
 *
 * ```
 * <prefix>events/day=YYYY-MM-DD/<part stem>.<fingerprint>.<start byte, 16 digits>.jsonl
 * ```
 *
 * - the `day=` folder and the `.jsonl` suffix keep the bucket a Hive-style
 *   log that DuckDB, Spark or Trino read as they read a local root;
 * - `<fingerprint>` (12 hex digits of the SHA-256 of the part's first line)
 *   tells apart two machines' parts of the same name (every Python writer
 *   starts at `part-000001.jsonl`) and a part replaced by a new file;
 * - the start offset makes each key owned by exactly one byte range of one
 *   part: a chunk is never rewritten, so no two writers ever race on a key,
 *   and the chunks of a part sort by offset.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * A chunk key relative to the prefix: day, stem, fingerprint, start offset.
 * The stem is one file name (no `/`, no NUL), as a local part's is: it names
 * the mirror file, and a key whose stem held `../` was mirrored outside the
 * root (a storage audit wrote into another root's log that way).
 */
const CHUNK_KEY_PATTERN =
  /^events\/day=(\d{4}-\d{2}-\d{2})\/([^/\0]+)\.([0-9a-f]{12})\.(\d{16})\.jsonl$/;

/** A mirror file's name under its events folder, as {@linkcode remotePartFile} gives it. */
export const MIRROR_FILE_PATTERN = /^day=\d{4}-\d{2}-\d{2}\/[^/\0]+\.jsonl$/;

/** Digits of the start offset in a key (zero-padded, so keys sort by offset). */
const OFFSET_DIGITS = 16;

/** The identity of one shipped part: its day, file stem and fingerprint. */
export interface RemotePart {
  /** UTC day of the partition, `YYYY-MM-DD`. */
  day: string;
  /** The local file name without `.jsonl`. */
  stem: string;
  /** 12 hex digits of the SHA-256 of the part's first line. */
  fingerprint: string;
}

/** One chunk object: the bytes `[startByte, startByte + sizeBytes)` of a part. */
export interface Chunk extends RemotePart {
  /** Offset of the chunk's first byte in the local part file. */
  startByte: number;
  /** The object's size. */
  sizeBytes: number;
  /** The full key. */
  key: string;
  /** The object's entity tag, when the listing gave one. */
  etag?: string;
}

/** The key of the chunk of `part` starting at `startByte`. */
export function chunkKey(prefix: string, part: RemotePart, startByte: number): string {
  if (!Number.isSafeInteger(startByte) || startByte < 0) {
    throw new RangeError(`Chunk offset must be a non-negative integer, got ${startByte}`);
  }
  return `${partKeyPrefix(prefix, part)}${String(startByte).padStart(OFFSET_DIGITS, "0")}.jsonl`;
}

/** The common prefix of every chunk key of `part` (ends with `.`). */
export function partKeyPrefix(prefix: string, part: RemotePart): string {
  return `${prefix}events/day=${part.day}/${part.stem}.${part.fingerprint}.`;
}

/** Parse a listed key under `prefix`; `null` for keys that are not chunks. */
export function parseChunkKey(
  prefix: string,
  key: string,
  sizeBytes: number,
  etag?: string,
): Chunk | null {
  if (!key.startsWith(prefix)) return null;
  const m = CHUNK_KEY_PATTERN.exec(key.slice(prefix.length));
  if (m === null) return null;
  return {
    day: m[1],
    stem: m[2],
    fingerprint: m[3],
    startByte: Number(m[4]),
    sizeBytes,
    key,
    ...(etag === undefined ? {} : { etag }),
  };
}

/** Bytes of a file name that ext4, XFS and the other common file systems take, at most. */
const FILE_NAME_BYTES_MAX = 255;
/** Hex digits of the SHA-256 of a stem that stand for the part of it cut off. */
const CUT_STEM_HASH_DIGITS = 8;

/**
 * A stable string for a remote part: `day=D/<stem>.<fingerprint>.jsonl` (its
 * mirror file). A stem too long for that name to be one file name (a local
 * part of 243 to 255 bytes: the fingerprint adds 13) is cut on a character
 * and followed by `~` and 8 hex digits of its SHA-256, so the name fits in
 * 255 bytes and still names one part (a storage probe: such a part shipped,
 * and every `rebuild-index --from` of the bucket then failed on it, the
 * other parts with it).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { remotePartFile } from "./_layout.ts";
 * const part = { day: "2026-12-06", fingerprint: "0123456789ab" };
 * assert.equal(
 *   remotePartFile({ ...part, stem: "part-000001" }),
 *   "day=2026-12-06/part-000001.0123456789ab.jsonl",
 * );
 * const long = remotePartFile({ ...part, stem: "é".repeat(125) }); // 250 bytes
 * const name = long.slice("day=2026-12-06/".length);
 * assert.equal(new TextEncoder().encode(name).length <= 255, true);
 * assert.match(name, /^(é)+~[0-9a-f]{8}\.0123456789ab\.jsonl$/);
 * assert.notEqual(long, remotePartFile({ ...part, stem: "é".repeat(124) + "e" }));
 * ```
 */
export function remotePartFile(part: RemotePart): string {
  const tail = `.${part.fingerprint}.jsonl`;
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  let stem = part.stem;
  if (bytes(stem) + bytes(tail) > FILE_NAME_BYTES_MAX) {
    const hash = createHash("sha256").update(stem).digest("hex").slice(0, CUT_STEM_HASH_DIGITS);
    const room = FILE_NAME_BYTES_MAX - bytes(tail) - 1 - hash.length;
    let kept = "";
    let used = 0;
    for (const char of stem) {
      used += bytes(char);
      if (used > room) break;
      kept += char;
    }
    stem = `${kept}~${hash}`;
  }
  return `day=${part.day}/${stem}${tail}`;
}

/** The fingerprint of a part from its first line (without the `\n`). */
export function fingerprintOf(firstLine: Uint8Array): string {
  return createHash("sha256").update(firstLine).digest("hex").slice(0, 12);
}

/**
 * A short stable name for a bucket location (state and cache file names).
 * The endpoint is named as a URL reads it (scheme and host in lower case, no
 * default port, no trailing `/`), so spellings of one endpoint share one
 * state file and one mirror (an audit: `http://127.0.0.1:9000/` made a
 * second mirror beside that of `http://127.0.0.1:9000`, fetched whole).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { locationId } from "./_layout.ts";
 * const id = locationId("http://127.0.0.1:9000", "logs", "");
 * assert.equal(locationId("HTTP://127.0.0.1:9000/", "logs", ""), id);
 * assert.notEqual(locationId("http://127.0.0.1:9001", "logs", ""), id);
 * ```
 */
export function locationId(endpoint: string | undefined, bucket: string, prefix: string): string {
  const named = endpoint === undefined ? "aws" : endpointName(endpoint);
  return createHash("sha256").update(`${named}\n${bucket}\n${prefix}`).digest("hex").slice(0, 16);
}

/** `endpoint` as a URL reads it, without a trailing `/`; as given when it is no URL. */
function endpointName(endpoint: string): string {
  if (!URL.canParse(endpoint)) return endpoint; // refused by the CLI before it is used
  const url = new URL(endpoint);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
