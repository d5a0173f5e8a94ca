/**
 * A real S3 server for the object-storage tests (private): a throwaway
 * single-node Ceph cluster with its RADOS Gateway on 127.0.0.1, brought up
 * and down by `scripts/ceph_rgw.sh` (see PITFALLS). Also helpers to create
 * buckets and read everything a bucket holds.
 *
 * @module
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { join } from "node:path";
import { REPO_ROOT } from "../ledger/_helpers.ts";
import { openS3Store } from "../../storage/s3.ts";
import type { ObjectStore } from "../../storage/object_store.ts";

const SCRIPT = join(REPO_ROOT, "scripts/ceph_rgw.sh");
const CEPH_PROGRAMS = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph"];

/**
 * Why the Ceph tests cannot run here, or `undefined` when they can: the
 * programs must be installed (`scripts/ceph_rgw.sh install`, run by
 * `.ci/run`) and the monitor ports free.
 */
export function cephUnavailable(): string | undefined {
  const path = (Deno.env.get("PATH") ?? "/usr/bin").split(":");
  for (const program of CEPH_PROGRAMS) {
    const found = path.some((dir) => {
      try {
        return Deno.statSync(join(dir, program)).isFile;
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return false;
        throw err;
      }
    });
    if (!found) {
      return `${program} is not installed (run: bash scripts/ceph_rgw.sh install, as root)`;
    }
  }
  return undefined;
}

/** A running cluster. */
export interface CephServer {
  /** The `AWS_*` variables that reach it. */
  env: Record<string, string>;
  /** The S3 endpoint URL. */
  endpoint: string;
  /** Kill the gateway only (the data stays). */
  stopGateway(): Promise<void>;
  /** Start the gateway again on the same port. */
  startGateway(): Promise<void>;
  /** Kill everything and remove the cluster directory. */
  stop(): Promise<void>;
}

async function script(args: string[]): Promise<string> {
  const out = await new Deno.Command("bash", { args: [SCRIPT, ...args], stdin: "null" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`ceph_rgw.sh ${args[0]} failed (${out.code}): ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** Start a cluster in a new temporary directory on a free port. */
export async function startCeph(): Promise<CephServer> {
  const parent = await Deno.makeTempDir({ prefix: "ledger_ceph_" });
  const dir = join(parent, "cluster");
  const port = freePort();
  let text: string;
  try {
    text = await script(["start", dir, String(port)]);
  } catch (err) {
    await script(["stop", dir]).catch(() => undefined); // best effort: the start error matters
    await Deno.remove(parent, { recursive: true });
    throw err;
  }
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(AWS_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m !== null) env[m[1]] = m[2];
  }
  return {
    env,
    endpoint: env.AWS_ENDPOINT_URL_S3,
    stopGateway: async () => void await script(["stop-rgw", dir]),
    startGateway: async () => void await script(["start-rgw", dir]),
    stop: async () => {
      await script(["stop", dir]);
      await Deno.remove(parent, { recursive: true });
    },
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Set the server's `AWS_*` variables in this process (the in-process SDK reads them). */
export function useServerEnv(server: CephServer): void {
  for (const [k, v] of Object.entries(server.env)) Deno.env.set(k, v);
}

/** Create `bucket` on the server. */
export async function createBucket(server: CephServer, bucket: string): Promise<void> {
  const client = new S3Client({
    region: server.env.AWS_REGION,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: server.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
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
