/**
 * Start and stop a throwaway single-node Ceph cluster with its RADOS Gateway
 * (S3) on 127.0.0.1 from TypeScript, through `scripts/ceph_rgw.sh` (which
 * has the facts that make it start in seconds; see PITFALLS). Used by the
 * object-storage tests and the ship bench.
 *
 * @module
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { join } from "node:path";

const SCRIPT = new URL("./ceph_rgw.sh", import.meta.url).pathname;
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
  const port = freePort();
  const parent = await Deno.makeTempDir({ prefix: "ledger_ceph_" });
  const dir = join(parent, "cluster");
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

/**
 * Run `fn` with a client of the server (its test keys, path-style as
 * ledger's own), destroyed afterwards.
 */
export async function withS3Client<T>(
  server: CephServer,
  fn: (client: S3Client) => Promise<T>,
): Promise<T> {
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
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/** Create `bucket` on the server. */
export async function createBucket(server: CephServer, bucket: string): Promise<void> {
  await withS3Client(server, (client) => client.send(new CreateBucketCommand({ Bucket: bucket })));
}
