/**
 * Benchmark item 14 (SPEC 14): ship a log to a real S3 server on loopback (a
 * throwaway single-node Ceph RGW, `scripts/ceph_rgw.ts`) and index it from
 * the bucket, next to peers measured in the same run:
 * - `ledger ship --once` throughput in MB/s vs plain 16 MiB PUTs of the same
 *   bytes from one process (the SDK and the server, without ledger);
 * - `ledger rebuild-index --from` on an empty root (fetch + index) vs the
 *   local full rebuild of the same log (target <= 2x).
 * Skipped (one row saying why) when Ceph is not installed.
 *
 * @module
 */
import { join } from "node:path";
import { cephUnavailable, createBucket, startCeph } from "../scripts/ceph_rgw.ts";
import { openS3Store } from "../storage/s3.ts";
import { generateLog } from "./rebuild.ts";
import type { BenchRow } from "./_result.ts";
import { timeProcess } from "./_stats.ts";
import { fmtCount } from "./_index.ts";

/** Options for {@linkcode benchShip}. */
export interface ShipBenchOptions {
  /** Events in the shipped log. */
  events: number;
  /** Progress lines. */
  log: (message: string) => void;
}

const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
  "--allow-net=127.0.0.1",
];
const MB = 1_000_000;
/** Size of the peer's PUTs (the shipper's chunk limit). */
const PEER_OBJECT_BYTES = 16 * 1024 * 1024;
/** Peer PUTs in flight (the shipper ships up to 4 parts at once). */
const PEER_CONCURRENT = 4;

/**
 * Item 14: ship throughput and indexing from the bucket.
 *
 * @example
 * ```ts ignore
 * // Not run by the doc tests: it starts a throwaway Ceph S3 server (about 12 s) and sets AWS_*.
 * import assert from "node:assert";
 * import { benchShip } from "./_ship.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const rows = await benchShip(dir, { events: 300, log: () => {} }); // bench/main.ts: 1M
 *   assert.deepEqual(rows.map((r) => r.name), [
 *     "ship 414 events (ledger ship --once)", // whole runs: a little over 300
 *     "index 414 events from the bucket",
 *   ]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchShip(dir: string, options: ShipBenchOptions): Promise<BenchRow[]> {
  const unavailable = cephUnavailable();
  if (unavailable !== undefined) {
    return [{ item: 14, name: "ship to S3", unit: "MB/s", median: null, note: unavailable }];
  }
  const root = join(dir, "ship-log");
  const log = await generateLog(root, { events: options.events, seed: 10 });
  options.log(
    `item 14: ${log.events} events, ${log.files} files, ${(log.bytes / MB).toFixed(0)} MB`,
  );
  const server = await startCeph();
  try {
    await createBucket(server, "bench");
    for (const [k, v] of Object.entries(server.env)) Deno.env.set(k, v); // for the peer's SDK
    const env = { ...Deno.env.toObject(), ...server.env, LEDGER_ROOT: "" };
    const ledger = async (args: string[]) => {
      const t = await timeProcess(
        ["run", "--no-prompt", ...PERMISSIONS, "cli/ledger.ts", ...args],
        {
          env,
        },
      );
      if (t.code !== 0) throw new Error(`ledger ${args[0]} failed: ${t.stderr.trim()}`);
      return t.wallMs;
    };
    const shipMs = await ledger(["ship", "--root", root, "--to", "s3://bench/ledger", "--once"]);
    const peerMs = await putPeer(root, server.endpoint);
    options.log(`  ship ${shipMs.toFixed(0)} ms, plain PUTs ${peerMs.toFixed(0)} ms`);
    const reader = join(dir, "ship-reader");
    await Deno.mkdir(reader);
    const fromMs = await ledger(["rebuild-index", "--root", reader, "--from", "s3://bench/ledger"]);
    const localMs = await ledger(["rebuild-index", "--root", root, "--full"]);
    options.log(`  index from bucket ${fromMs.toFixed(0)} ms, local full ${localMs.toFixed(0)} ms`);
    const shipMBps = log.bytes / MB / (shipMs / 1000);
    const peerMBps = log.bytes / MB / (peerMs / 1000);
    const note = `${(log.bytes / MB).toFixed(0)} MB, ${log.files} files, Ceph RGW memstore, x1`;
    return [
      {
        item: 14,
        name: `ship ${fmtCount(log.events)} events (ledger ship --once)`,
        unit: "MB/s",
        median: shipMBps,
        reference: "plain 16 MiB PUTs, 4 at once",
        referenceMedian: peerMBps,
        ratio: shipMBps / peerMBps,
        note: `${note}; process start included`,
      },
      {
        item: 14,
        name: `index ${fmtCount(log.events)} events from the bucket`,
        unit: "ms",
        median: fromMs,
        reference: "local full rebuild",
        referenceMedian: localMs,
        ratio: fromMs / localMs,
        target: "<= 2x local full rebuild",
        met: fromMs / localMs <= 2,
        note,
      },
    ];
  } finally {
    await server.stop();
  }
}

/** Time plain PUTs of the log's bytes (16 MiB objects, 4 in flight), in ms. */
async function putPeer(root: string, endpoint: string): Promise<number> {
  const bodies: Uint8Array[] = [];
  for await (const d of Deno.readDir(join(root, "events"))) {
    if (!d.isDirectory) continue;
    for await (const f of Deno.readDir(join(root, "events", d.name))) {
      const bytes = await Deno.readFile(join(root, "events", d.name, f.name));
      for (let o = 0; o < bytes.length; o += PEER_OBJECT_BYTES) {
        bodies.push(bytes.subarray(o, o + PEER_OBJECT_BYTES));
      }
    }
  }
  const store = openS3Store("bench", { endpoint: { endpoint, region: "us-east-1" } });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PEER_CONCURRENT }, async () => {
      while (next < bodies.length) {
        const i = next++;
        await store.putIfAbsent(`peer/object-${i}`, bodies[i]);
      }
    }),
  );
  return performance.now() - t0;
}
