/**
 * Opening the bucket named by `--to` / `--from` (private to the CLI): parse
 * the `s3://bucket/prefix` URL (a usage error when it is not one), read the
 * endpoint from the standard AWS variables, and check the network permission
 * for that endpoint before anything is sent, so a scoped `deno run` fails
 * with one line naming the exact `--allow-net` to add.
 *
 * @module
 */
import { type BucketLocation, BucketUrlError, parseBucketUrl } from "../storage/object_store.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { resolveS3Endpoint, type S3Endpoint } from "../storage/s3_env.ts";
import { assert } from "../ledger/assert.ts";
import { UsageError } from "./_args.ts";

/** An opened bucket location. */
export interface OpenedBucket {
  /** Bucket and prefix. */
  location: BucketLocation;
  /** The endpoint URL, when not AWS itself. */
  endpoint: string | undefined;
  /** The store. */
  store: ObjectStore;
}

/**
 * Open the bucket named by `url` (the value of `flag`). Throws
 * {@linkcode UsageError} for a value that is not an `s3://` URL and
 * `Deno.errors.NotCapable` when the endpoint may not be reached.
 */
export async function openBucket(url: string, flag: string): Promise<OpenedBucket> {
  let location: BucketLocation;
  try {
    location = parseBucketUrl(url);
  } catch (err) {
    if (err instanceof BucketUrlError) throw new UsageError(`--${flag}: ${err.message}`);
    throw err;
  }
  const where = await checkPermissions();
  // Loaded only now: the AWS SDK reads the environment as soon as it is imported.
  const { openS3Store } = await import("../storage/s3.ts");
  return {
    location,
    endpoint: where.endpoint,
    store: openS3Store(location.bucket, { endpoint: where }),
  };
}

/**
 * The AWS SDK reads many `AWS_*` variables and the OS release (its user
 * agent); the endpoint needs the network. Throw one `NotCapable` naming every
 * missing flag, before anything is read or sent; else the endpoint, as the
 * SDK resolves it ({@linkcode resolveS3Endpoint}: a profile's too).
 */
async function checkPermissions(): Promise<S3Endpoint> {
  const missing: string[] = [];
  const envOk = await granted({ name: "env" });
  if (!envOk) missing.push("--allow-env");
  if (!await granted({ name: "sys", kind: "osRelease" })) missing.push("--allow-sys=osRelease");
  let where: S3Endpoint | undefined;
  if (envOk) {
    where = await resolveS3Endpoint();
    const host = netHost(where.endpoint, where.region);
    if (!await granted({ name: "net", host })) missing.push(`--allow-net=${host}`);
  } else if (!await granted({ name: "net" })) {
    missing.push("--allow-net=HOST:PORT (the endpoint of AWS_ENDPOINT_URL_S3)");
  }
  if (missing.length > 0) {
    const noun = missing.length === 1 ? "permission" : "permissions";
    throw new Deno.errors.NotCapable(
      `missing ${noun} ${missing.join(" ")} to reach the bucket`,
    );
  }
  assert(where !== undefined, "the environment is readable when nothing is missing");
  return where;
}

async function granted(descriptor: Deno.PermissionDescriptor): Promise<boolean> {
  return (await Deno.permissions.query(descriptor)).state === "granted";
}

/** `host:port` of the endpoint (AWS: the regional S3 host, port 443). */
function netHost(endpoint: string | undefined, region: string): string {
  if (endpoint === undefined) return `s3.${region}.amazonaws.com:443`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    if (err instanceof TypeError) {
      throw new UsageError(`AWS_ENDPOINT_URL_S3 is not a URL: ${JSON.stringify(endpoint)}`);
    }
    throw err;
  }
  // A probe: `ftp://...` passed here and failed in the SDK, exit 1 with its internal words.
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(
      `AWS_ENDPOINT_URL_S3 must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`,
    );
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}
