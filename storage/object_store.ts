/**
 * The object-store interface the shipper and the bucket indexer use: the five
 * operations they need (list, ranged get, put-if-absent, head, delete) and the typed
 * errors they turn into one-line messages. The S3 implementation lives in
 * `s3.ts`; anything else (a test double, another SDK) implements the same
 * interface.
 *
 * @module
 */

/** One object of a listing. */
export interface ObjectInfo {
  /** The full key. */
  key: string;
  /** Size in bytes. */
  sizeBytes: number;
  /**
   * The entity tag, when the store gives one: it changes when the object is
   * written again, also with bytes of the same size. @default {undefined}
   */
  etag?: string;
}

/** Options for {@linkcode ObjectStore.list}. */
export interface ListOptions {
  /** List only keys after this one (keys sort by UTF-8 bytes). @default {undefined} */
  startAfter?: string;
}

/** What {@linkcode ObjectStore.putIfAbsent} did. */
export type PutResult = "created" | "exists";

/**
 * The few operations of an object store that ledger uses. Keys are full keys
 * (the prefix included).
 */
export interface ObjectStore {
  /** A name for messages (`s3://bucket` at an endpoint); never holds a secret. */
  readonly description: string;
  /**
   * Check that the bucket exists and the credentials may list it. `signal`
   * stops a check that waits for an answer: it then throws an
   * {@linkcode ObjectStoreError} of kind `unreachable`.
   */
  check(signal?: AbortSignal): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /**
   * The bytes of `key`, or of `[start, end)` of it when a range is given: fewer when the object
   * ends before `end`, none when it ends at or before `start`.
   */
  get(key: string, range?: { start: number; end: number }): Promise<Uint8Array>;
  /** Create `key` with `body` unless it exists (then nothing is written). */
  putIfAbsent(key: string, body: Uint8Array): Promise<PutResult>;
  /** The size of `key`, or `null` when it does not exist. */
  head(key: string): Promise<number | null>;
  /**
   * Remove `key` (nothing when it does not exist). The shipper removes only
   * a chunk cut off mid-upload that a server kept (`ship.ts`).
   */
  delete(key: string): Promise<void>;
}

/** Why an object-store call failed. */
export type ObjectStoreErrorKind =
  | "no-bucket"
  | "access-denied"
  | "no-credentials"
  | "unreachable"
  | "not-found"
  | "other";

/**
 * An object-store call failed. The message is one line naming the bucket,
 * the key when there is one, and what went wrong; it never holds a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ObjectStoreError } from "./object_store.ts";
 * const err = new ObjectStoreError("no-bucket", "Bucket s3://nope does not exist");
 * assert.equal(err.kind, "no-bucket");
 * ```
 */
export class ObjectStoreError extends Error {
  /** What kind of failure this is. */
  readonly kind: ObjectStoreErrorKind;
  /** Create the error; `cause` keeps the SDK's error. */
  constructor(kind: ObjectStoreErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ObjectStoreError";
    this.kind = kind;
  }
}

/** A parsed `s3://bucket/prefix` location. */
export interface BucketLocation {
  /** The bucket name. */
  bucket: string;
  /** The key prefix, empty or ending in `/`. */
  prefix: string;
}

/**
 * `--to`/`--from` is not an `s3://bucket[/prefix]` URL (a usage error).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BucketUrlError } from "./object_store.ts";
 * assert.match(new BucketUrlError("x", "why").message, /"x"/);
 * ```
 */
export class BucketUrlError extends Error {
  /** The value given. */
  readonly value: string;
  /** Create the error for `value`. */
  constructor(value: string, why: string) {
    super(`Not an s3://bucket/prefix URL: ${JSON.stringify(value)} (${why})`);
    this.name = "BucketUrlError";
    this.value = value;
  }
}

/** Bucket names as S3 allows them: 3-63 of lower-case letters, digits, dots, hyphens. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parse `s3://bucket[/prefix]` into bucket and prefix (normalized to end in
 * `/`, or empty). Throws {@linkcode BucketUrlError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseBucketUrl } from "./object_store.ts";
 * const loc = parseBucketUrl("s3://ledger-logs/team-a");
 * assert.equal(loc.bucket, "ledger-logs");
 * assert.equal(loc.prefix, "team-a/");
 * assert.throws(() => parseBucketUrl("s3://ledger-logs/team\na"), /no control character/);
 * ```
 */
export function parseBucketUrl(value: string): BucketLocation {
  // `[^]`, not `.`: a newline in the prefix was "it must start with s3://" (a probe).
  const m = /^s3:\/\/([^/]*)(?:\/([^]*))?$/.exec(value);
  if (m === null) throw new BucketUrlError(value, "it must start with s3://");
  const bucket = m[1];
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new BucketUrlError(value, `bucket name ${JSON.stringify(bucket)} is not valid`);
  }
  // Control characters (a newline, a tab) in a key: a paste gone wrong, and keys no listing shows
  // plainly (a probe shipped under `tab\tx/`).
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(m[2] ?? "")) {
    throw new BucketUrlError(value, "no control character (a newline, a tab) in the prefix");
  }
  // A probe: `s3://b/p?x=1` wrote keys under `p?x=1/`; a query or fragment is a typo, not a prefix.
  if (/[?#]/.test(m[2] ?? "")) {
    throw new BucketUrlError(value, "no ? or # in the prefix (an s3:// URL takes no query)");
  }
  const parts = (m[2] ?? "").split("/").filter((p) => p !== "");
  for (const p of parts) {
    if (p === "." || p === "..") throw new BucketUrlError(value, "no . or .. in the prefix");
  }
  return { bucket, prefix: parts.length === 0 ? "" : parts.join("/") + "/" };
}

/**
 * The URL of a location, as the user would write it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatBucketUrl } from "./object_store.ts";
 * assert.equal(formatBucketUrl({ bucket: "b0b", prefix: "p/" }), "s3://b0b/p/");
 * ```
 */
export function formatBucketUrl(location: BucketLocation): string {
  return `s3://${location.bucket}/${location.prefix}`;
}

/**
 * The whole URL of the object `key` (a key with the location's prefix in it)
 * in `location`'s bucket, as a message names it: what `aws s3 cp` takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatObjectUrl } from "./object_store.ts";
 * const location = { bucket: "lab", prefix: "ledger/" };
 * assert.equal(formatObjectUrl(location, "ledger/events/x"), "s3://lab/ledger/events/x");
 * ```
 */
export function formatObjectUrl(location: BucketLocation, key: string): string {
  return `s3://${location.bucket}/${key}`;
}
