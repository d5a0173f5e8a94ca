/**
 * Helpers for the object-storage tests (private): the real S3 server
 * (`scripts/ceph_rgw.ts`), creating buckets, reading all a bucket holds.
 *
 * @module
 */
import { type CephServer, withS3Client } from "../../scripts/ceph_rgw.ts";
export {
  type CephServer,
  cephUnavailable,
  createBucket,
  startCeph,
} from "../../scripts/ceph_rgw.ts";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
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

/**
 * Write `body` to `key`, over any object there (a plain PUT, as `aws s3 cp`
 * or a restore from a backup would): a bucket changed behind ledger's back.
 */
export async function overwriteObject(
  server: CephServer,
  bucket: string,
  key: string,
  body: Uint8Array,
): Promise<void> {
  await withS3Client(
    server,
    (client) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
  );
}

/**
 * Write `body` to `key` again as a one-part multipart upload: the same bytes
 * get another ETag (`<md5 of the part md5s>-1`), as large copies and some
 * encryption modes give them.
 */
export async function overwriteObjectMultipart(
  server: CephServer,
  bucket: string,
  key: string,
  body: Uint8Array,
): Promise<void> {
  await withS3Client(server, async (client) => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    );
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: body }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] },
      }),
    );
  });
}

/** Delete every object under `prefix` (retention by day prefix, as an operator would). */
export async function deletePrefix(
  server: CephServer,
  bucket: string,
  prefix: string,
): Promise<number> {
  const store = storeOf(server, bucket);
  return await withS3Client(server, async (client) => {
    let n = 0;
    for await (const o of store.list(prefix)) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }));
      n++;
    }
    return n;
  });
}
