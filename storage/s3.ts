/**
 * {@linkcode ObjectStore} over any S3-compatible endpoint (AWS S3, MinIO,
 * Ceph RGW, R2, GCS in S3 mode) with the AWS SDK for JavaScript v3.
 *
 * Configuration comes only from the standard AWS variables and files:
 * `AWS_ENDPOINT_URL_S3` (else `AWS_ENDPOINT_URL`, else AWS itself),
 * `AWS_REGION` (else `AWS_DEFAULT_REGION`, else `us-east-1`), and the SDK's
 * default credential chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
 * `AWS_PROFILE` and `~/.aws/credentials`, ...). Credentials are never taken
 * from flags and never printed. Addressing is path-style (`endpoint/bucket/key`),
 * which every S3-compatible server accepts.
 *
 * @module
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreErrorKind,
  type PutResult,
} from "./object_store.ts";
import { resolveS3Endpoint, type S3Endpoint, s3EndpointFromEnv } from "./s3_env.ts";
import { readEnvVariable } from "../ledger/paths.ts";

export { resolveS3Endpoint, type S3Endpoint, s3EndpointFromEnv };

/** Attempts per request (the SDK retries throttling, 5xx and network errors). */
const REQUEST_ATTEMPTS_MAX = 3;
/** Time allowed to open a connection. */
const CONNECTION_TIMEOUT_MS = 5_000;
/**
 * Time a request may take until its answer starts, beyond the time its body
 * takes to send at {@linkcode UPLOAD_BYTES_PER_SECOND_MIN}. Each bound fails
 * the request (the SDK retries it, {@linkcode REQUEST_ATTEMPTS_MAX} attempts
 * in all): a server that accepted the connection and went silent made
 * `ship`, `rebuild-index --from` and `daemon --from` wait for ever (an
 * audit; the SDK only warns, unless told to throw).
 */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Slowest upload allowed for: a 16 MiB chunk may take 512 s more. The bound
 * covers the whole upload (it ends when the answer starts): at 120 s for
 * any chunk a 1 Mbit/s link could never ship one (a review).
 */
const UPLOAD_BYTES_PER_SECOND_MIN = 32 * 1024;
/**
 * Time a read may go without a byte, its answer's body included. Not set
 * for uploads: under Deno the idle timer fired while a slow upload was
 * still sending (a review).
 */
const IDLE_TIMEOUT_MS = 30_000;
/** Keys per listing page (the S3 maximum). */
const LIST_PAGE_KEYS_MAX = 1000;

/** Options for {@linkcode openS3Store}. */
export interface S3StoreOptions {
  /**
   * Endpoint and region. @default {s3EndpointFromEnv()} (the variables only:
   * pass {@linkcode resolveS3Endpoint}'s to count a profile's too, as the CLI does)
   */
  endpoint?: S3Endpoint;
  /**
   * Time a request may take until its answer starts, beyond an upload's
   * time at 32 KiB/s. @default {30000}
   */
  requestTimeoutMs?: number;
  /** Time a read may go without a byte. @default {30000} */
  idleTimeoutMs?: number;
  /** Credentials to sign with. @default {undefined} (the SDK's default chain) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Open an {@linkcode ObjectStore} on `bucket`. Nothing is sent until the
 * first call; {@linkcode ObjectStore.check} is the cheap first call.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openS3Store } from "./s3.ts";
 * const store = openS3Store("ledger-logs", { endpoint: { endpoint: "http://127.0.0.1:1", region: "us-east-1" } });
 * assert.match(store.description, /^s3:\/\/ledger-logs/);
 * ```
 */
export function openS3Store(bucket: string, options: S3StoreOptions = {}): ObjectStore {
  return new S3Store(bucket, options.endpoint ?? s3EndpointFromEnv(), {
    requestMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    idleMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    credentials: options.credentials,
  });
}

class S3Store implements ObjectStore {
  readonly description: string;
  #bucket: string;
  /** Reads: bounded until the answer starts and while its body comes. */
  #client: S3Client;
  /** Writes: bounded until the answer starts, by the body's size. */
  #putClient: S3Client;
  #requestMs: number;

  constructor(
    bucket: string,
    where: S3Endpoint,
    options: {
      requestMs: number;
      idleMs: number;
      credentials?: { accessKeyId: string; secretAccessKey: string };
    },
  ) {
    this.#bucket = bucket;
    this.description = `s3://${bucket} at ${
      where.endpoint === undefined ? "AWS" : withoutUserInfo(where.endpoint)
    }`;
    this.#requestMs = options.requestMs;
    const client = (idleMs: number | undefined) =>
      new S3Client({
        region: where.region,
        endpoint: where.endpoint,
        forcePathStyle: true,
        credentials: options.credentials,
        maxAttempts: REQUEST_ATTEMPTS_MAX,
        // Ceph RGW 16 rejects the SDK's default streamed checksums (PITFALLS).
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        requestHandler: {
          connectionTimeout: CONNECTION_TIMEOUT_MS,
          requestTimeout: options.requestMs,
          throwOnRequestTimeout: true,
          socketTimeout: idleMs,
        },
      });
    this.#client = client(options.idleMs);
    this.#putClient = client(undefined);
  }

  async check(signal?: AbortSignal): Promise<void> {
    let out;
    try {
      // A prefix no key has: a listing that is never truncated. s3rver fails (HTTP 500) to make
      // the continuation token of a truncated one on runtimes without DES (Deno, Node >= 17),
      // so a check of the whole bucket at MaxKeys 1 failed every ship once it held two objects.
      const prefix = `.ledger-check-${crypto.randomUUID()}/`;
      out = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: 1 }),
        { abortSignal: signal },
      );
    } catch (err) {
      // Stopped (SIGINT, SIGTERM) while a server held the request: said as no answer, at once
      // (a review: a hung endpoint held `ship` for three 30 s timeouts after the signal).
      if (signal?.aborted) {
        throw new ObjectStoreError(
          "unreachable",
          `Stopped before ${this.description} answered`,
          { cause: err },
        );
      }
      throw this.#translate(err, undefined, "listing");
    }
    // Every S3 listing names its bucket. A web server on the wrong port answers 200 with no
    // such field, and the SDK reads that as an empty bucket (an audit: ship said "Shipped",
    // and rebuild-index --from published an empty index over a good one).
    if (out.Name === undefined) throw this.#notS3("a listing without the bucket's name");
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: prefix,
            StartAfter: token === undefined ? options.startAfter : undefined,
            ContinuationToken: token,
            MaxKeys: LIST_PAGE_KEYS_MAX,
          }),
        );
      } catch (err) {
        throw this.#translate(err, prefix, "listing");
      }
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, sizeBytes: o.Size ?? 0, etag: o.ETag };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Uint8Array> {
    if (range !== undefined && range.end <= range.start) return new Uint8Array(0);
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Range: range === undefined ? undefined : `bytes=${range.start}-${range.end - 1}`,
        }),
      );
      if (out.Body === undefined) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (err) {
      // A range starting at or past the object's end has no bytes (HTTP 416): the caller
      // compares what it got with what it asked (a probe: an object that shrank since its
      // listing failed the mirror with the server's "InvalidRange").
      if (range !== undefined && statusOf(err) === 416) return new Uint8Array(0);
      throw this.#translate(err, key);
    }
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<PutResult> {
    // Until the answer starts: the body's time at the slowest rate allowed for, and more. The
    // whole call (its answer's body and the SDK's retries too) ends within the attempts' sum:
    // a server that sent its headers and went silent held an upload for ever (a review).
    const attemptMs = this.#requestMs + Math.ceil(body.length / UPLOAD_BYTES_PER_SECOND_MIN * 1000);
    const wholeMs = REQUEST_ATTEMPTS_MAX * (attemptMs + this.#requestMs);
    const deadline = AbortSignal.timeout(wholeMs);
    try {
      const out = await this.#putClient.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: "application/x-ndjson",
          IfNoneMatch: "*",
        }),
        { requestTimeout: attemptMs, abortSignal: deadline },
      );
      // S3 answers every stored object with its ETag: without one, nothing says it was stored.
      if (out.ETag === undefined) throw this.#notS3(`a PUT of ${key} answered with no ETag`);
      return "created";
    } catch (err) {
      if (err instanceof ObjectStoreError) throw err;
      if (deadline.aborted) {
        throw new ObjectStoreError(
          "unreachable",
          `Cannot reach ${this.description}: the upload of ${key} got no whole answer in ` +
            `${Math.round(wholeMs / 1000)} s`,
          { cause: err },
        );
      }
      if (statusOf(err) === 412) return "exists";
      throw this.#translate(err, key);
    }
  }

  async head(key: string): Promise<number | null> {
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: key }),
      );
      return out.ContentLength ?? 0;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw this.#translate(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
    } catch (err) {
      throw this.#translate(err, key);
    }
  }

  #notS3(what: string): ObjectStoreError {
    return new ObjectStoreError(
      "other",
      `${this.description} does not answer as an S3 server (${what}): check AWS_ENDPOINT_URL_S3`,
    );
  }

  #translate(err: unknown, key: string | undefined, request?: "listing"): ObjectStoreError {
    const kind = classify(err);
    // A listing has no key to be missing: a bare 404 with no S3 error code (no bucket says
    // NoSuchBucket) is a server that is not S3, or an endpoint with a wrong path (helper-300:
    // "Not found: s3://bkt at http://...").
    if (kind === "not-found" && request === "listing") {
      return this.#notS3("HTTP 404 to a listing, with no S3 error code");
    }
    // A web server on the wrong port answers a page the SDK cannot parse as S3's XML (a probe:
    // "@aws-sdk XML parse error: mismatched tags <meta> and </head>. (HTTP 404)").
    if (kind === "other" && /XML parse error/i.test((err as SdkErrorShape | null)?.message ?? "")) {
      const status = statusOf(err);
      return this.#notS3(
        `${status === undefined ? "" : `HTTP ${status}, `}no S3 XML in its answer`,
      );
    }
    const where = key === undefined ? this.description : `${this.description}, key ${key}`;
    const detail = detailOf(err);
    const message = {
      "no-bucket": `Bucket does not exist: ${this.description}`,
      "access-denied":
        `Access denied by ${this.description} (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile): ${detail}`,
      "no-credentials": `No AWS credentials found for ${this.description} (${credentialsAdvice()})`,
      "unreachable": `Cannot reach ${this.description}: ${detail}`,
      "not-found": `Not found: ${where}`,
      "other": `Request to ${where} failed: ${detail}`,
    }[kind];
    return new ObjectStoreError(kind, message, { cause: err });
  }
}

/**
 * Where the SDK looked for credentials, for the message that found none. A
 * profile named by `AWS_PROFILE` is said with the files it was looked for in
 * (a probe: `AWS_PROFILE=nope`, a typo, got only "No AWS credentials found").
 */
function credentialsAdvice(): string {
  const keys = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  const profile = nonEmptyEnv("AWS_PROFILE");
  if (profile === undefined) return `set ${keys}, or a profile (AWS_PROFILE)`;
  const files = [
    nonEmptyEnv("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials",
    nonEmptyEnv("AWS_CONFIG_FILE") ?? "~/.aws/config",
  ];
  return `no profile ${JSON.stringify(profile)} (AWS_PROFILE) with credentials in ` +
    `${files.join(" or ")}, and not both of ${keys} set`;
}

/**
 * `endpoint` without a user name and password in it (`http://u:p@host` as
 * `http://***@host`), for messages: a review found the password printed.
 */
function withoutUserInfo(endpoint: string): string {
  return endpoint.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, "$1***@");
}

function nonEmptyEnv(name: string): string | undefined {
  const value = readEnvVariable(name);
  return value === "" ? undefined : value;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

const ACCESS_NAMES = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/**
 * Statuses of an endpoint that is there but cannot answer now (a load balancer
 * or gateway before a server that is down or starting; S3's SlowDown): the
 * server is not reached, as when nothing listens. A probe: `ship --interval`
 * and `daemon --from` exited 1 at their start on a 503, where a running one
 * rides it out and one started before its server retries.
 */
const UNAVAILABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

function classify(err: unknown): ObjectStoreErrorKind {
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? "";
  if (name === "NoSuchBucket" || e.Code === "NoSuchBucket") return "no-bucket";
  if (ACCESS_NAMES.has(name) || statusOf(err) === 403) return "access-denied";
  if (name === "CredentialsProviderError") return "no-credentials";
  if (name === "NoSuchKey" || name === "NotFound") return "not-found";
  if (isNetworkError(err) || UNAVAILABLE_STATUSES.has(statusOf(err) ?? 0)) return "unreachable";
  return "other";
}

function isNetworkError(err: unknown): boolean {
  for (let e = err as SdkErrorShape | undefined, depth = 0; e && depth < 4; depth++) {
    if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
    if (e.name === "TimeoutError" || e.name === "ConnectionRefused") return true;
    if (/connection refused|ECONNREFUSED|connect ETIMEDOUT/i.test(e.message ?? "")) return true;
    e = e.cause as SdkErrorShape | undefined;
  }
  return false;
}

function detailOf(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  const status = statusOf(err);
  // The HTTP layer's timeouts name the package first: the reason is what follows.
  const raw = (e.message ?? String(err)).split("\n")[0]
    .replace(/^@smithy\/node-http-handler - (?:\[ERROR\] )?/, "");
  // The SDK says "UnknownError" when the server sent no message body.
  const text = raw === "UnknownError" ? "" : raw;
  const name = e.name && e.name !== "Error" ? e.name : "";
  const both = name !== "" && text !== "" ? `${name}: ${text}` : name + text;
  return `${both}${status === undefined ? "" : ` (HTTP ${status})`}`;
}
