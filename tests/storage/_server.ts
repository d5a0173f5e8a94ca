/**
 * Helpers for the object-storage tests (private): the real S3 server
 * (`scripts/ceph_rgw.ts`), creating buckets, reading all a bucket holds.
 *
 * @module
 */
import type { CephServer } from "../../scripts/ceph_rgw.ts";
export {
  type CephServer,
  cephUnavailable,
  createBucket,
  startCeph,
} from "../../scripts/ceph_rgw.ts";
import { openS3Store } from "../../storage/s3.ts";
import type { ObjectStore } from "../../storage/object_store.ts";

/** Set the server's `AWS_*` variables in this process (the in-process SDK reads them). */
export function useServerEnv(server: CephServer): void {
  for (const [k, v] of Object.entries(server.env)) Deno.env.set(k, v);
}

/** A store on `bucket` of the server. */
export function storeOf(server: CephServer, bucket: string): ObjectStore {
  return openS3Store(bucket, { endpoint: { endpoint: server.endpoint, region: "us-east-1" } });
}

/** Every line of every object under `prefix`, with the object it came from. */
export async function bucketLines(
  store: ObjectStore,
  prefix: string,
): Promise<{ key: string; line: string }[]> {
  const out: { key: string; line: string }[] = [];
  for await (const o of store.list(prefix)) {
    const text = new TextDecoder().decode(await store.get(o.key));
    if (!text.endsWith("\n")) throw new Error(`Object ${o.key} does not end with a newline`);
    for (const line of text.slice(0, -1).split("\n")) out.push({ key: o.key, line });
  }
  return out;
}
