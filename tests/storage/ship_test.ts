/**
 * `ledger ship`, `rebuild-index --from` and `daemon --from` against a real S3
 * server: a throwaway single-node Ceph RGW on 127.0.0.1 started by
 * `scripts/ceph_rgw.sh` (no fake of S3). Three roots stand for three
 * machines emitting and shipping at once through a gateway restart, a
 * SIGKILLed shipper and a lost state file; a fourth root indexes the bucket;
 * its index must equal the full rebuild of the union of the three logs.
 *
 * `deno task test` runs the core of it (bad input, a crash between an upload
 * and its state write, a conflict, a killed batch, the three machines); the
 * edge cases of conflicts, mirrors and `daemon --from` run in
 * `deno task test:long`, which starts the same server: together they took
 * nearly two minutes, the tail of every run of the suite on a 2-core machine.
 */
import { mirrorFollowsChanges } from "./_mirror_changed.ts";
import { mirrorKeepsFetched } from "./_mirror_crash.ts";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { CLI_PATH, denoScriptArgs, hashTree, longOnly } from "../_helpers.ts";
import { chunkKey, fingerprintOf, remotePartFile } from "../../storage/_layout.ts";
import { shipOnce, Shipper, ShipperLockedError } from "../../storage/ship.ts";
import { mirrorBucket, rebuildIndexFromBucket } from "../../storage/bucket_index.ts";
import { EmptyLogError, rebuildIndex } from "../../indexer/rebuild.ts";
import { exists } from "../../ledger/exists.ts";
import type { ObjectStore, PutResult } from "../../storage/object_store.ts";
import {
  bucketLines,
  type CephServer,
  cephUnavailable,
  createBucket,
  deletePrefix,
  overwriteObject,
  startCeph,
  storeOf,
  useServerEnv,
} from "./_server.ts";
import { compareIndexes } from "./_compare.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { INDEX_FORMAT_VERSION } from "../../indexer/schema.ts";
import { fullRun, query, T0, writePart } from "../indexer/_fixtures.ts";

const unavailable = cephUnavailable();
if (unavailable !== undefined) {
  console.error(`tests/storage/ship_test.ts ignored: ${unavailable}`);
}
/** Whether this run leaves out the edge-case steps (they run in `deno task test:long`). */
const LONG_ONLY = unavailable === undefined && longOnly(import.meta.url);

/** Runs each machine's writer emits while its shipper runs. */
const RUNS_PER_MACHINE = 80;
const EMIT_CHILD = new URL("./_emit_child.ts", import.meta.url).pathname;

function denoArgs(script: string, args: readonly string[]): string[] {
  return denoScriptArgs(script, args, ["--allow-net=127.0.0.1"]);
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Longest a ledger command of these tests may run (a daemon that should exit at once). */
const COMMAND_MS_MAX = 120_000;

async function ledger(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoArgs(CLI_PATH, args),
    env: { LEDGER_ROOT: "", ...env },
    stdin: "null",
    signal: AbortSignal.timeout(COMMAND_MS_MAX), // killed: its code says so, not a hang
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** A long-running child whose stdout is collected line by line. */
class Child {
  readonly process: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly errLines: string[] = [];
  readonly done: Promise<void>;

  constructor(script: string, args: string[]) {
    const process = new Deno.Command(Deno.execPath(), {
      args: denoArgs(script, args),
      env: { LEDGER_ROOT: "" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.process = process;
    this.done = Promise.all([
      collect(process.stdout, this.lines),
      collect(process.stderr, this.errLines),
    ]).then(() => undefined);
  }

  /** Everything the child printed on stderr so far. */
  get stderr(): string {
    return this.errLines.join("\n");
  }

  /** Whether a long-running command printed its start banner (its signal handlers are set). */
  get started(): boolean {
    // ledger ship says it on stderr, the daemon in its log on stdout.
    return [...this.errLines, ...this.lines].some((l) => l.includes("SIGINT/SIGTERM to stop"));
  }

  async stop(signal: Deno.Signal): Promise<Deno.CommandStatus> {
    try {
      this.process.kill(signal);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // already exited
    }
    const status = await this.process.status;
    await this.done;
    return status;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    into.push(...parts);
  }
  if (rest !== "") into.push(rest);
}

/** Wait until `ok()` holds, at most 30 s. */
async function waitFor(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function oneLine(text: string): string {
  const lines = text.trim().split("\n");
  assert.equal(lines.length, 1, `expected one stderr line, got: ${text}`);
  return lines[0];
}

async function localParts(root: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const events = join(root, "events");
  for await (const d of Deno.readDir(events)) {
    // A linked day folder is a day of the log (`isDayFolder` of ledger/parts.ts).
    if (!(d.isDirectory || d.isSymlink) || !d.name.startsWith("day=")) continue;
    for await (const f of Deno.readDir(join(events, d.name))) {
      if (f.name.endsWith(".jsonl")) {
        out.set(`${d.name}/${f.name}`, await Deno.readFile(join(events, d.name, f.name)));
      }
    }
  }
  return out;
}

Deno.test({
  name: "object storage: ship and index from a real S3 server (Ceph RGW)",
  ignore: unavailable !== undefined,
  // The SDK keeps idle keep-alive sockets; the server is stopped at the end.
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  const server = await startCeph();
  const tmp = await Deno.makeTempDir({ prefix: "ledger_s3_test_" });
  const savedEnv = Object.fromEntries(
    Object.keys(server.env).map((k) => [k, Deno.env.get(k)] as const),
  );
  useServerEnv(server);
  try {
    await createBucket(server, "fleet");
    await t.step("bad input: one line, exit 1 or 2, nothing changed", async () => {
      await badInput(server, tmp);
    });
    await t.step("a crash between an upload and the state write duplicates nothing", async () => {
      await crashAfterUpload(server, tmp);
    });
    await t.step("remote content that disagrees is an error, never overwritten", async () => {
      await conflict(server, tmp);
    });
    await t.step(
      "ship --interval says a warning is one, and each summary a problem that stays",
      async () => {
        await intervalSaysProblems(server, tmp);
      },
    );
    await t.step({
      name: "a part cut back and grown to its shipped size stays a conflict",
      ignore: LONG_ONLY,
      fn: async () => {
        await shrunkAndRegrown(tmp);
      },
    });
    await t.step({
      name: "a part edited to the same size is a conflict on the next ship",
      ignore: LONG_ONLY,
      fn: async () => {
        await editedSameSize(tmp);
      },
    });
    await t.step({
      name: "a part emptied or cut into its first line is a conflict",
      ignore: LONG_ONLY,
      fn: async () => {
        await emptiedPart(server, tmp);
      },
    });
    await t.step({
      name: "a state file that points into a line or trusts changed bytes",
      ignore: LONG_ONLY,
      fn: async () => {
        await wrongState(server, tmp);
      },
    });
    await t.step({
      name: "a part replaced or edited under a running shipper is a conflict",
      ignore: LONG_ONLY,
      fn: async () => {
        await replacedUnderShipper(server, tmp);
      },
    });
    await t.step({
      name: "a part whose first line is over 1 MiB ships with the lines after it",
      ignore: LONG_ONLY,
      fn: async () => {
        await longFirstLine(server, tmp);
      },
    });
    await t.step("a batch killed before it was acknowledged never reaches the bucket", async () => {
      await killedBatch(server, tmp);
    });
    await t.step("a batch over two days ships whole in every pass, beside its writer", async () => {
      await crossDayBatches(server, tmp);
    });
    await t.step("daemon --from says a failed rebuild once, not every pass", async () => {
      await emptiedBucket(server, tmp);
    });
    await t.step({
      name: "retention by day prefix: the index from the bucket follows",
      ignore: LONG_ONLY,
      fn: async () => {
        await retention(server, tmp);
      },
    });
    await t.step({
      name: "a key naming a path outside the mirror is not a chunk",
      ignore: LONG_ONLY,
      fn: async () => {
        await traversalKeys(server, tmp);
      },
    });
    await t.step({
      name: "one run id created on two machines is said",
      ignore: LONG_ONLY,
      fn: async () => {
        await sharedRunId(server, tmp);
      },
    });
    await t.step({
      name: "copies of an id tied on time are ranked as the local rebuild ranks them",
      ignore: LONG_ONLY,
      fn: async () => {
        await tiedCopies(server, tmp);
      },
    });
    await t.step({
      name: "ship --verify says which shipped parts the bucket no longer holds",
      ignore: LONG_ONLY,
      fn: async () => {
        await bucketDayGone(server, tmp);
      },
    });
    await t.step({
      name: "an index built from the bucket is never replaced from another source",
      ignore: LONG_ONLY,
      fn: async () => {
        await bucketIndexGuard(tmp);
      },
    });
    await t.step({
      name: "--from refuses the --db paths a local rebuild refuses, before any request",
      ignore: LONG_ONLY,
      fn: async () => {
        await foreignDbFromBucket(tmp);
      },
    });
    await t.step({
      name: "a chunk missing from the bucket is said, not passed over",
      ignore: LONG_ONLY,
      fn: async () => {
        await missingChunk(server, tmp);
      },
    });
    await t.step({
      name: "a conflict --verify found stays until the bucket agrees again",
      ignore: LONG_ONLY,
      fn: async () => {
        await conflictKept(server, tmp);
      },
    });
    // On this server: a second cluster cannot start beside it (fixed monitor ports).
    await t.step({
      name: "a mirror follows chunks changed behind ledger's back",
      ignore: LONG_ONLY,
      fn: async (t) => {
        const dir = join(tmp, "mirror-changed");
        await Deno.mkdir(dir);
        await mirrorFollowsChanges(t, server, dir);
      },
    });
    await t.step({
      name: "a mirror killed mid-fetch keeps what it fetched",
      ignore: LONG_ONLY,
      fn: async () => {
        const dir = join(tmp, "mirror-crash");
        await Deno.mkdir(dir);
        await mirrorKeepsFetched(server, dir);
      },
    });
    await t.step({
      name: "an object overlapping its part's chunks is ignored by every mirror",
      ignore: LONG_ONLY,
      fn: async () => {
        await overlappingObject(server, tmp);
      },
    });
    await t.step({
      name: "daemon --from follows chunks another --from run fetched first",
      ignore: LONG_ONLY,
      fn: async () => {
        await fetchedByAnother(server, tmp);
      },
    });
    await t.step({
      name: "daemon --from takes its lock again, and rebuilds, when index/ or its root goes",
      ignore: LONG_ONLY,
      fn: async () => {
        await bucketDaemonLockRetaken(server, tmp);
      },
    });
    await t.step("three machines ship while a fourth indexes the bucket", async () => {
      await threeMachines(server, tmp);
    });
    await t.step("an index of a bucket is not replaced through another endpoint", async () => {
      await otherEndpoint(server, tmp);
    });
    await t.step(
      "a bucket's index of an older format is rebuilt in full, and says so",
      async () => {
        await olderFormatSaid(tmp);
      },
    );
    await t.step("a day folder linked from another disk is shipped", async () => {
      await linkedDay(server, tmp);
    });
    await t.step("parts named with a line break or 255 bytes long ship and index", async () => {
      await oddPartNames(tmp);
    });
    await t.step("a part the bucket lost and that grew since ships again whole", async () => {
      await lostPartGrew(server, tmp);
    });
    await t.step(
      "an object past a fetch range is mirrored in ranges; an empty one is none",
      async () => {
        await largeAndEmptyObjects(server, tmp);
      },
    );
    await t.step(
      "a part found missing is not counted after, and ships whole when it grows",
      async () => {
        await missingPartKept(server, tmp);
      },
    );
  } finally {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
    await server.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * A probe: `rebuild-index --from` replaced an index of format 9 in full and
 * did not say why, where a local rebuild says "the index format changed:
 * rebuilt in full".
 */
async function olderFormatSaid(tmp: string): Promise<void> {
  const worker = join(tmp, "format-worker");
  await emitRuns(worker, "format", 2);
  const shipped = await ledger(["ship", "--root", worker, "--to", "s3://fleet/format", "--once"]);
  assert.equal(shipped.code, 0, shipped.stderr);
  const idx = join(tmp, "format-idx");
  await Deno.mkdir(idx);
  const args = ["rebuild-index", "--root", idx, "--from", "s3://fleet/format"];
  const first = await ledger(args);
  assert.equal(first.code, 0, first.stderr);
  assert.doesNotMatch(first.stderr, /rebuilt in full/);
  const db = join(idx, "index", "runs.duckdb");
  const set = async (sql: string) => {
    const instance = await DuckDBInstance.create(db);
    const conn = await instance.connect();
    try {
      return (await conn.runAndReadAll(sql)).getRows();
    } finally {
      conn.disconnectSync();
      instance.closeSync();
    }
  };
  await set("UPDATE index_meta SET value = '9' WHERE key = 'format_version'");
  const again = await ledger(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^ledger rebuild-index: the index format changed: rebuilt in full$/m);
  assert.match(again.stdout, /\(full: /);
  const format = await set("SELECT value FROM index_meta WHERE key = 'format_version'");
  assert.equal(String(format[0][0]), String(INDEX_FORMAT_VERSION));
}

/**
 * A storage audit: on the indexer's root, `ledger tag` refreshed the index
 * from that root's own log, so every shipped run vanished (and the daemon
 * kept it so). The index records its source; a local rebuild or another
 * prefix is refused, an annotation leaves it to the bucket, `--full` is
 * the explicit way to rebuild it from elsewhere.
 */
async function bucketIndexGuard(tmp: string): Promise<void> {
  const worker = join(tmp, "guard-worker");
  await emitRuns(worker, "guard", 3);
  const shipped = await ledger(["ship", "--root", worker, "--to", "s3://fleet/guard", "--once"]);
  assert.equal(shipped.code, 0, shipped.stderr);
  const idx = join(tmp, "guard-idx");
  await Deno.mkdir(idx);
  const built = await ledger(["rebuild-index", "--root", idx, "--from", "s3://fleet/guard"]);
  assert.equal(built.code, 0, built.stderr);
  const runIds = async () => {
    const r = await ledger(["runs", "--root", idx, "--all", "--format", "jsonl"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n");
    return lines.map((l) => JSON.parse(l).run_id as string).sort();
  };
  const shippedRuns = await runIds();
  assert.equal(shippedRuns.length, 3);
  // The indexer's root has no log of its own yet: the refusal names the bucket too (it spoke
  // of "a moved or unmounted log?" there, a docs audit).
  const noLog = await ledger(["rebuild-index", "--root", idx]);
  assert.equal(noLog.code, 1, noLog.stdout);
  assert.match(noLog.stderr, /is built from s3:\/\/fleet\/guard\/, not this root's log/);
  const tagged = await ledger(["tag", "--root", idx, shippedRuns[0], "label=best"]);
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.match(tagged.stderr, /is built from s3:\/\/fleet\/guard\/.*ledger ship --to/);
  assert.deepEqual(await runIds(), shippedRuns, "the tag left the bucket's index alone");
  // The daemons too, which kept running and logging the refusal every interval (an audit);
  // and --from a typo left an empty mirror folder behind: nothing is made now.
  const mirrors = () => [...Deno.readDirSync(join(idx, "remote"))].map((e) => e.name).sort();
  const mirrorsBefore = mirrors();
  for (
    const args of [
      ["rebuild-index"],
      ["rebuild-index", "--from", "s3://fleet/guard-typo"],
      ["daemon", "--interval", "0.2"],
      ["daemon", "--interval", "0.2", "--from", "s3://fleet/guard-typo"],
    ]
  ) {
    const refused = await ledger([...args, "--root", idx]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.match(refused.stderr, /refused .*built from s3:\/\/fleet\/guard\/.*--full/);
    assert.deepEqual(await runIds(), shippedRuns, args.join(" "));
    assert.deepEqual(mirrors(), mirrorsBefore, `${args.join(" ")}: no mirror folder made`);
  }
  // Asked for explicitly: the index of this root's own log, which holds only the tag (and
  // annotations alone make no run).
  const full = await ledger(["rebuild-index", "--root", idx, "--full"]);
  assert.equal(full.code, 0, full.stderr);
  assert.match(full.stdout, /Indexed 1 events of 0 runs/);
  assert.deepEqual(await runIds(), []);
  // The other way round (a storage audit): the index of a root with a log of its own is not
  // replaced by the bucket's, which dropped the root's unshipped runs and was called
  // "incremental"; a file of its own (--db) or --full does it.
  const before = await hashTree(join(idx, "index"));
  for (const args of [["rebuild-index"], ["daemon", "--interval", "0.2"]]) {
    const refused = await ledger([...args, "--root", idx, "--from", "s3://fleet/guard"]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /is built from this root's log, not s3:\/\/fleet\/guard\/: .*--db/,
    );
    assert.deepEqual(await hashTree(join(idx, "index")), before, args.join(" "));
  }
  const own = join(idx, "bucket.duckdb");
  const apart = await ledger([
    "rebuild-index",
    "--root",
    idx,
    "--from",
    "s3://fleet/guard",
    "--db",
    own,
  ]);
  assert.equal(apart.code, 0, apart.stderr);
  const replaced = await ledger([
    "rebuild-index",
    "--root",
    idx,
    "--from",
    "s3://fleet/guard",
    "--full",
  ]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual(await runIds(), shippedRuns);
}

/**
 * A storage probe: `--from` with `--db` skipped refusals a local rebuild
 * makes. Another root's index (its log still there) was replaced by the
 * bucket's, exit 0, and that root's own rebuilds were then refused; a
 * `--db` under the root's `events/` was written into the log; a `--db` at a
 * part file was refused only after the whole bucket was mirrored. Each is
 * now refused, exit 1, one line, before anything is fetched or made.
 */
async function foreignDbFromBucket(tmp: string): Promise<void> {
  const worker = join(tmp, "fdb-worker");
  await emitRuns(worker, "fdb", 2);
  const shipped = await ledger(["ship", "--root", worker, "--to", "s3://fleet/fdb", "--once"]);
  assert.equal(shipped.code, 0, shipped.stderr);
  const other = join(tmp, "fdb-other");
  await emitRuns(other, "fdbo", 1);
  const builtOther = await ledger(["rebuild-index", "--root", other]);
  assert.equal(builtOther.code, 0, builtOther.stderr);
  const otherIndex = join(other, "index", "runs.duckdb");
  const before = await Deno.readFile(otherIndex);
  const idx = join(tmp, "fdb-idx");
  for (const args of [["rebuild-index"], ["daemon", "--interval", "0.2"]]) {
    const r = await ledger([
      ...args,
      "--root",
      idx,
      "--from",
      "s3://fleet/fdb",
      "--db",
      otherIndex,
    ]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      oneLine(r.stderr),
      /Rebuild refused \(nothing was changed\): \S+ is the index of the root \S+fdb-other, whose log is still there: not replacing it with the index of s3:\/\/fleet\/fdb\//,
    );
    assert.deepEqual(await Deno.readFile(otherIndex), before, args.join(" "));
    assert.equal(await exists(idx), false, `${args.join(" ")}: nothing made`);
  }
  const rebuiltOther = await ledger(["rebuild-index", "--root", other]);
  assert.equal(rebuiltOther.code, 0, rebuiltOther.stderr);
  const day = [...Deno.readDirSync(join(worker, "events"))].find((e) => e.name.startsWith("day="));
  assert.ok(day !== undefined);
  const inLog = join(worker, "events", day.name, "idx.duckdb");
  const r = await ledger([
    "rebuild-index",
    "--root",
    worker,
    "--from",
    "s3://fleet/fdb",
    "--db",
    inLog,
  ]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(oneLine(r.stderr), /is inside the log's events directory/);
  assert.equal(await exists(inLog), false);
  const part = [...Deno.readDirSync(join(worker, "events", day.name))]
    .find((e) => e.name.endsWith(".jsonl"));
  assert.ok(part !== undefined);
  const fresh = join(tmp, "fdb-fresh");
  const partPath = join(worker, "events", day.name, part.name);
  const partBefore = await Deno.readFile(partPath);
  const notDb = await ledger([
    "rebuild-index",
    "--root",
    fresh,
    "--from",
    "s3://fleet/fdb",
    "--db",
    partPath,
  ]);
  assert.equal(notDb.code, 1, notDb.stdout);
  assert.match(
    oneLine(notDb.stderr),
    /Rebuild refused \(nothing was changed\): .* is not a DuckDB database/,
  );
  assert.equal(await exists(fresh), false, "no mirror fetched, no root made");
  assert.deepEqual(await Deno.readFile(partPath), partBefore);
}

/**
 * A probe: the writers append through a day folder that is a symbolic link
 * (old days moved to another disk), and `ship` skipped it, exit 0: those
 * events never reached the bucket. Every line of the log reaches it.
 */
async function linkedDay(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "linked");
  await emitRuns(root, "linked", 2);
  const events = join(root, "events");
  const days = [...Deno.readDirSync(events)].filter((e) => e.isDirectory).map((e) => e.name);
  assert.ok(days.length >= 1, "the runs made a day folder");
  const moved = join(tmp, "linked-other-disk", days[0]);
  await Deno.mkdir(dirname(moved), { recursive: true });
  await Deno.rename(join(events, days[0]), moved);
  await Deno.symlink(moved, join(events, days[0]));
  const shipped = await ledger(["ship", "--root", root, "--to", "s3://fleet/linked", "--once"]);
  assert.equal(shipped.code, 0, shipped.stderr);
  const local: string[] = [];
  for (const part of (await localParts(root)).values()) {
    const text = new TextDecoder().decode(part);
    local.push(...text.split("\n").filter((l) => l !== ""));
  }
  assert.ok(local.length > 0);
  const remote = (await bucketLines(storeOf(server, "fleet"), "linked/events/")).map((l) => l.line);
  assert.deepEqual(remote.sort(), local.sort());
  // Its disk not mounted: said, exit 1 with --once, and what was shipped of the day is kept in
  // the state (forgotten, the day's parts were compared again whole once the disk was back).
  const stateFiles = async () => {
    const texts: string[] = [];
    for await (const e of Deno.readDir(join(root, "ship"))) {
      if (e.name.endsWith(".json")) texts.push(await Deno.readTextFile(join(root, "ship", e.name)));
    }
    return texts;
  };
  assert.ok((await stateFiles()).some((text) => text.includes(`${days[0]}/`)));
  await Deno.rename(moved, `${moved}.offline`);
  const offline = await ledger(["ship", "--root", root, "--to", "s3://fleet/linked", "--once"]);
  // Running on: said at the first pass, not at every one (a review: one line a second).
  const running = new Child(CLI_PATH, [
    ...["ship", "--root", root, "--to", "s3://fleet/linked", "--interval", "0.2"],
  ]);
  await waitFor("the first pass said it", () => running.stderr.includes("leads to no folder"));
  await sleep(1200); // several passes
  const stopped = await running.stop("SIGTERM");
  assert.equal(stopped.code, 0, running.stderr);
  assert.equal(running.errLines.filter((l) => l.includes("leads to no folder")).length, 1);
  await Deno.rename(`${moved}.offline`, moved);
  assert.equal(offline.code, 1, offline.stderr);
  assert.match(
    offline.stderr,
    /events\/day=\S+ is a link to .*, which leads to no folder now \(not there\).*not shipped, its state kept/,
  );
  assert.ok((await stateFiles()).some((text) => text.includes(`${days[0]}/`)), "state kept");
  const back = await ledger(["ship", "--root", root, "--to", "s3://fleet/linked", "--once"]);
  assert.equal(back.code, 0, back.stderr);
  const after = (await bucketLines(storeOf(server, "fleet"), "linked/events/")).map((l) => l.line);
  assert.deepEqual(after.sort(), local.sort());
}

/**
 * A storage probe: a part named with `\n`, `\r` or U+2028 was never shipped
 * (exit 0, nothing said), and one of 243 to 255 bytes shipped but made every
 * `rebuild-index --from` of its prefix fail (its mirror file's name, 13 bytes
 * longer, was too long), the other parts' events with it. Each part holds one
 * run; the bucket's index has every one the local index has.
 */
async function oddPartNames(tmp: string): Promise<void> {
  const root = join(tmp, "odd-names");
  const day = join(root, "events", "day=2026-12-06");
  await Deno.mkdir(day, { recursive: true });
  const names = [
    "part-000001.jsonl",
    "line\nbreak.jsonl",
    "carriage\rreturn.jsonl",
    "line\u2028separator.jsonl",
    "L".repeat(249) + ".jsonl", // 255 bytes
    "é".repeat(120) + ".jsonl", // 246 bytes
  ];
  for (const [i, name] of names.entries()) {
    const event = {
      event_type: "run.created",
      event_id: `odd-e${i}`,
      run_id: `odd-${i}`,
      run_type: "x",
      config: {},
      data_fingerprint: "f",
      timestamp_ms: Date.UTC(2026, 11, 6) + i,
      schema_version: 1,
    };
    await Deno.writeTextFile(join(day, name), JSON.stringify(event) + "\n");
  }
  // A name that is not UTF-8 (Latin-1 é), which no path Deno can give reaches: it was left out
  // unsaid (a review); the index does not read it either, and says so.
  const latin1 = await new Deno.Command("sh", {
    args: ["-c", `cp "$1/part-000001.jsonl" "$(printf '%s/latin1-\\351.jsonl' "$1")"`, "sh", day],
  }).output();
  assert.equal(latin1.code, 0, new TextDecoder().decode(latin1.stderr));
  const shipped = await ledger(["ship", "--root", root, "--to", "s3://fleet/odd", "--once"]);
  assert.equal(shipped.code, 0, shipped.stderr);
  assert.match(
    shipped.stderr,
    /warning: events\/day=2026-12-06\/latin1-\uFFFD\.jsonl: its name is not valid UTF-8, so no path reaches it: not shipped/,
  );
  const idx = join(tmp, "odd-idx");
  await Deno.mkdir(idx);
  const built = await ledger(["rebuild-index", "--root", idx, "--from", "s3://fleet/odd"]);
  assert.equal(built.code, 0, built.stderr);
  const runs = await ledger(["runs", "--root", idx, "--all", "--format", "json"]);
  assert.equal(runs.code, 0, runs.stderr);
  const ids = (JSON.parse(runs.stdout) as { run_id: string }[]).map((r) => r.run_id).sort();
  assert.deepEqual(ids, names.map((_, i) => `odd-${i}`));
}

async function emitRuns(root: string, tag: string, runs: number): Promise<string[]> {
  const child = new Child(EMIT_CHILD, [root, tag, String(runs)]);
  const status = await child.process.status;
  await child.done;
  assert.equal(status.code, 0, child.stderr);
  return child.lines;
}

async function badInput(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "bad");
  await emitRuns(root, "bad", 2);
  const reader = join(tmp, "bad-reader");
  await Deno.mkdir(reader);
  const before = await hashTree(root);
  const beforeReader = await hashTree(reader);
  const cases: { args: string[]; env?: Record<string, string>; code: number; says: RegExp }[] = [
    { args: ["ship", "--to", "http://fleet/x", "--once"], code: 2, says: /s3:\/\// },
    { args: ["ship", "--to", "s3://no-such-bucket/x", "--once"], code: 1, says: /does not exist/ },
    {
      args: ["ship", "--to", "s3://fleet/x", "--once"],
      env: { AWS_SECRET_ACCESS_KEY: "wrong-secret-value" },
      code: 1,
      says: /Access denied/,
    },
    {
      args: ["ship", "--to", "s3://fleet/x", "--once"],
      env: { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9" },
      code: 1,
      says: /Cannot reach/,
    },
  ];
  // Independent cases, run at once: each must leave the root as it was.
  const results = await Promise.all(
    cases.map((c) => ledger([...c.args, "--root", root], { ...server.env, ...c.env })),
  );
  for (const [i, c] of cases.entries()) {
    const r = results[i];
    assert.equal(r.code, c.code, `${c.args.join(" ")}: ${r.stderr}`);
    const line = oneLine(r.stderr);
    assert.match(line, c.says);
    assert.ok(!line.includes(server.env.AWS_SECRET_ACCESS_KEY), "the secret is never printed");
    assert.ok(!line.includes("wrong-secret-value"), "the secret is never printed");
    assert.equal(await hashTree(root), before, `${c.args.join(" ")} changed the root`);
  }
  // A network grant that does not cover the endpoint: one line with the exact flag to add.
  const scoped = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(
      CLI_PATH,
      ["ship", "--root", root, "--to", "s3://fleet/x", "--once"],
      ["--allow-net=example.com:443"],
    ),
    env: { ...server.env, LEDGER_ROOT: "" },
    stdin: "null",
  }).output();
  assert.equal(scoped.code, 1);
  const port = new URL(server.endpoint).port;
  assert.match(
    oneLine(new TextDecoder().decode(scoped.stderr)),
    new RegExp(`missing permission --allow-net=127\\.0\\.0\\.1:${port}`),
  );
  assert.equal(await hashTree(root), before, "a refused permission changed the root");
  // A failure exits 1, a usage error 2 (as rebuild-index without --from).
  const fromCases = [
    { args: ["--from", "s3://no-such-bucket/x"], code: 1, says: /does not exist/ },
    { args: ["--from", "file:///tmp/x"], code: 2, says: /s3:\/\// },
    { args: ["--from", "s3://fleet/x", "--bogus"], code: 2, says: /unknown flag --bogus/ },
    {
      args: ["--from", "s3://fleet/x", "--since-date", "2026-13-45"],
      code: 2,
      says: /2026-13-45/,
    },
    {
      args: ["--from", "s3://fleet/x", "--memory-limit", "lots"],
      code: 2,
      says: /--memory-limit "lots"/,
    },
    { args: ["--from", "--full"], code: 2, says: /--from needs a value/ },
  ];
  for (const c of fromCases) {
    const r = await ledger(["rebuild-index", "--root", reader, ...c.args], server.env);
    assert.equal(r.code, c.code, `${c.args.join(" ")}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), c.says);
    assert.equal(await hashTree(reader), beforeReader, "rebuild-index --from changed the root");
  }
}

/** A real store that reports the process as dead right after one upload succeeded. */
class CrashAfterPuts implements ObjectStore {
  readonly description: string;
  #inner: ObjectStore;
  #left: number;
  constructor(inner: ObjectStore, puts: number) {
    this.#inner = inner;
    this.#left = puts;
    this.description = inner.description;
  }
  check() {
    return this.#inner.check();
  }
  list(prefix: string, options?: { startAfter?: string }) {
    return this.#inner.list(prefix, options);
  }
  get(key: string, range?: { start: number; end: number }) {
    return this.#inner.get(key, range);
  }
  head(key: string) {
    return this.#inner.head(key);
  }
  delete(key: string) {
    return this.#inner.delete(key);
  }
  async putIfAbsent(key: string, body: Uint8Array): Promise<PutResult> {
    const result = await this.#inner.putIfAbsent(key, body);
    if (--this.#left <= 0) throw new Error("simulated crash after the upload");
    return result;
  }
}

async function crashAfterUpload(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "crash");
  const acked = await emitRuns(root, "crash", 20);
  const location = { bucket: "fleet", prefix: "crash/" };
  const store = storeOf(server, "fleet");
  const first = new Shipper(root, new CrashAfterPuts(store, 1), location);
  await first.open();
  await assert.rejects(first.pass(), /simulated crash/);
  first.close();
  // The state file says nothing was shipped, the bucket has one chunk: a re-check finds it.
  await emitRuns(root, "crash2", 5).then((ids) => acked.push(...ids));
  const second = new Shipper(root, store, location);
  await second.open();
  const report = await second.pass();
  second.close();
  assert.ok(report.chunksFound >= 1, `the chunk uploaded before the crash is found`);
  assert.deepEqual(report.problems, []);
  const lines = await bucketLines(store, "crash/");
  const ids = lines.map((l) => JSON.parse(l.line).event_id as string);
  assert.equal(ids.length, new Set(ids).size, "no line twice in the bucket");
  assert.deepEqual(new Set(ids), new Set(acked), "every acknowledged event in the bucket");
  // Losing the state file costs a re-check only.
  await Deno.remove(second.statePath);
  const third = new Shipper(root, store, location);
  await third.open();
  const again = await third.pass();
  third.close();
  assert.equal(again.chunksPut, 0);
  assert.equal((await bucketLines(store, "crash/")).length, ids.length);
  // One shipper per root and location however the endpoint is written (a storage audit: three
  // spellings were three locks, and the shippers raced to false conflicts).
  const one = new Shipper(root, store, location, { endpoint: "http://127.0.0.1:7480" });
  await one.open();
  try {
    for (const endpoint of ["http://localhost:7480/", undefined]) {
      const other = new Shipper(root, store, location, { endpoint });
      await assert.rejects(other.open(), ShipperLockedError, String(endpoint));
    }
  } finally {
    one.close();
  }
}

async function conflict(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "conflict");
  await emitRuns(root, "conflict", 3);
  const [[name, bytes]] = [...await localParts(root)];
  const text = new TextDecoder().decode(bytes);
  const firstLine = text.slice(0, text.indexOf("\n"));
  const part = {
    day: name.slice(4, 14),
    stem: name.slice(15, -".jsonl".length),
    fingerprint: fingerprintOf(new TextEncoder().encode(firstLine)),
  };
  const key = chunkKey("conflict/", part, 0);
  const foreign = new TextEncoder().encode(firstLine + "\n" + '{"not":"ours"}\n');
  const store = storeOf(server, "fleet");
  assert.equal(await store.putIfAbsent(key, foreign), "created");
  const r = await ledger(["ship", "--root", root, "--to", "s3://fleet/conflict", "--once"]);
  assert.equal(r.code, 1, r.stderr);
  // The whole URL, bucket and all: the key alone did not say where to look.
  assert.ok(
    oneLine(r.stderr).includes(`Bucket object s3://fleet/${key} differs from the local log`),
    r.stderr,
  );
  assert.deepEqual(await store.get(key), foreign, "the bucket object is not overwritten");
}

/**
 * helper-289: `ship --interval` said a re-upload's warning in an error's words (no `warning:`,
 * which `--once` gives), and a conflict once, then a clean-looking summary every pass while
 * the part stayed stuck. A middle chunk deleted (uploaded again: a warning) and a foreign
 * object at the next chunk's key (a conflict: a problem), with a pass every 0.2 s.
 */
async function intervalSaysProblems(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "interval-said");
  const location = { bucket: "fleet", prefix: "interval-said/" };
  const store = storeOf(server, "fleet");
  const part = "day=2026-01-20/part-000001.jsonl";
  const path = join(root, "events", part);
  for (let i = 0; i < 3; i++) {
    await writePart(root, part, fullRun(`said-${i}`, T0 + i * 1000), { append: i > 0 });
    assert.equal((await shipOnce(root, store, location)).chunksPut, 1); // one chunk per pass
  }
  /**
   * `ship --interval 0.2` until its `summaries`-th summary and 1 s more (5 passes), then
   * SIGTERM: its lines, but the banner. A pass with nothing to ship says nothing.
   */
  const passes = async (summaries: number) => {
    const child = new Child(CLI_PATH, [
      ...["ship", "--root", root, "--to", "s3://fleet/interval-said", "--interval", "0.2"],
    ]);
    const deadline = Date.now() + COMMAND_MS_MAX;
    while (child.lines.filter((l) => l.startsWith("Shipped")).length < summaries) {
      assert.ok(Date.now() < deadline, `no summary ${summaries}: ${child.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const status = await child.stop("SIGTERM");
    assert.equal(status.code, 0, child.stderr);
    const stderr = child.errLines.filter((l) => !l.includes("SIGINT/SIGTERM to stop"));
    return { summaries: child.lines.filter((l) => l.startsWith("Shipped")), stderr };
  };

  // A middle chunk lost, and a new run to ship: uploaded again, with a warning that says so.
  const keys = (await Array.fromAsync(store.list("interval-said/events/"))).map((o) => o.key);
  await store.delete(keys.sort()[1]);
  await writePart(root, part, fullRun("said-3", T0 + 3000), { append: true });
  const repaired = await passes(1);
  assert.equal(repaired.stderr.length, 1, repaired.stderr.join("\n"));
  assert.match(
    repaired.stderr[0],
    /^ledger ship: warning: day=2026-01-20\/part-000001\.jsonl: bytes \d+-\d+ were missing from the bucket/,
  );
  for (const line of repaired.summaries) assert.doesNotMatch(line, /not all shipped/);

  // A foreign object where the next chunk goes: a conflict, said once, and by every summary.
  const shipped = (await Deno.stat(path)).size;
  await writePart(root, part, fullRun("said-4", T0 + 4000), { append: true });
  const text = await Deno.readTextFile(path);
  const key = chunkKey(location.prefix, {
    day: "2026-01-20",
    stem: "part-000001",
    fingerprint: fingerprintOf(new TextEncoder().encode(text.slice(0, text.indexOf("\n")))),
  }, shipped);
  const foreign = new TextEncoder().encode('{"not":"ours"}\n');
  assert.equal(await store.putIfAbsent(key, foreign), "created");
  const stuck = await passes(3);
  assert.equal(stuck.stderr.length, 1, stuck.stderr.join("\n"));
  assert.match(stuck.stderr[0], /^ledger ship: Bucket object .* differs from the local log/);
  for (const line of stuck.summaries) {
    assert.match(line, /; not all shipped: 1 problem, said when first found$/);
  }
  assert.deepEqual(await store.get(key), foreign, "the bucket object is not overwritten");
}

/**
 * A storage audit: a worker's part cut back below what was shipped (a restore from a backup)
 * was a conflict once; grown again to exactly the shipped size it exited 0 ever after, and its
 * new lines never reached the bucket. The conflict is kept in the state file until the part and
 * the bucket agree again.
 */
async function shrunkAndRegrown(tmp: string): Promise<void> {
  const root = join(tmp, "regrown");
  await emitRuns(root, "regrown", 2);
  const ship = () => ledger(["ship", "--root", root, "--to", "s3://fleet/regrown", "--once"]);
  assert.equal((await ship()).code, 0);
  const [[name, bytes]] = [...await localParts(root)];
  const path = join(root, "events", name);
  const text = new TextDecoder().decode(bytes);
  const first = text.slice(0, text.indexOf("\n") + 1);
  await Deno.writeTextFile(path, first); // restored from before the last lines
  const cut = await ship();
  assert.equal(cut.code, 1, cut.stderr);
  assert.match(oneLine(cut.stderr), /has only|shrank/);
  // One new line that brings the part back to exactly the size shipped.
  const pad = bytes.length - first.length - '{"pad":""}\n'.length;
  assert.ok(pad > 0);
  await Deno.writeTextFile(path, `{"pad":"${"x".repeat(pad)}"}\n`, { append: true });
  assert.equal((await Deno.stat(path)).size, bytes.length);
  for (const pass of [1, 2]) {
    const again = await ship();
    assert.equal(again.code, 1, `pass ${pass}: ${again.stderr}`);
    assert.match(oneLine(again.stderr), /differs from the local log/);
  }
}

/**
 * A probe: a shipped part rewritten with one digit changed in a middle line (`sed -i`), or
 * edited in place, kept its size, so every later `ship --once` took it for shipped: exit 0,
 * the bucket holding other bytes. Its time changed: it is compared with the bucket whole.
 * A part only touched agrees, and is not uploaded again.
 */
async function editedSameSize(tmp: string): Promise<void> {
  const cases = [
    { tag: "same-size-replaced", inPlace: false },
    { tag: "same-size-in-place", inPlace: true },
  ];
  for (const { tag, inPlace } of cases) {
    const root = join(tmp, tag);
    await emitRuns(root, tag, 3);
    const ship = () => ledger(["ship", "--root", root, "--to", `s3://fleet/${tag}`, "--once"]);
    const first = await ship();
    assert.equal(first.code, 0, first.stderr);
    const [[name, bytes]] = [...await localParts(root)];
    const path = join(root, "events", name);
    // Touched only: compared, found equal, nothing uploaded.
    await Deno.utime(path, new Date(), new Date(Date.now() + 5_000));
    const touched = await ship();
    assert.equal(touched.code, 0, touched.stderr);
    assert.match(touched.stdout, /Shipped 0 bytes/);
    const text = new TextDecoder().decode(bytes);
    const lines = text.split("\n");
    const middle = Math.floor(lines.length / 2);
    assert.match(lines[middle], /"timestamp_ms":\d/);
    lines[middle] = lines[middle].replace(
      /"timestamp_ms":(\d)/,
      (_, d) => `"timestamp_ms":${(Number(d) + 1) % 10}`,
    );
    const edited = lines.join("\n");
    assert.equal(new TextEncoder().encode(edited).length, bytes.length);
    if (inPlace) {
      using file = await Deno.open(path, { write: true });
      await file.write(new TextEncoder().encode(edited));
    } else {
      await Deno.writeTextFile(`${path}.new`, edited);
      await Deno.rename(`${path}.new`, path);
    }
    await Deno.utime(path, new Date(), new Date(Date.now() + 10_000)); // a coarse clock's tick
    for (const pass of [1, 2]) {
      const again = await ship();
      assert.equal(again.code, 1, `${tag} pass ${pass}: ${again.stderr}`);
      assert.match(oneLine(again.stderr), /differs from the local log/);
    }
  }
}

/**
 * A storage audit: a shipped part emptied, or cut inside its first line, has no complete
 * line, and ship returned before comparing it with what it had shipped: `--verify` exited 0.
 */
async function emptiedPart(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "emptied");
  await emitRuns(root, "emptied", 2);
  const ship = (...more: string[]) =>
    ledger(["ship", "--root", root, "--to", "s3://fleet/emptied", "--once", ...more]);
  assert.equal((await ship()).code, 0);
  const [[name, bytes]] = [...await localParts(root)];
  const path = join(root, "events", name);
  for (const size of [0, 100]) {
    await Deno.truncate(path, size);
    const r = await ship("--verify");
    assert.equal(r.code, 1, `cut to ${size} bytes: ${r.stderr}`);
    assert.match(
      oneLine(r.stderr),
      new RegExp(`has ${size} bytes but ${bytes.length} were shipped`),
    );
  }
  // The bucket no longer holds the part (its day removed there too): a part with no complete
  // line is one recreated after retention, its first batch pending, and waits (a review: it
  // was a conflict for that pass).
  assert.ok(await deletePrefix(server, "fleet", "emptied/events/") > 0);
  const waits = await ship("--verify");
  assert.equal(waits.code, 0, waits.stderr);
}

/**
 * One shipper process, two passes: between them the part is rewritten without one of its
 * shipped lines (as `sed -i` does: a new file under the same name) and grows. The second
 * pass shipped the new file from the old offset, a chunk starting inside a line, and an
 * event was lost from the bucket's index. It is a conflict now, and nothing is uploaded;
 * the same for an edit in place (same file) before the shipped offset.
 */
async function replacedUnderShipper(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "replaced");
  await emitRuns(root, "replaced", 3);
  const [[name]] = [...await localParts(root)];
  const path = join(root, "events", name);
  const store = storeOf(server, "fleet");
  const location = { bucket: "fleet", prefix: "replaced/" };
  const shipper = new Shipper(root, store, location);
  await shipper.open();
  try {
    const first = await shipper.pass();
    assert.deepEqual(first.problems, []);
    const before = await bucketLines(store, "replaced/");
    // Replace: a new file without the second line, then more lines appended.
    const lines = (await Deno.readTextFile(path)).split("\n");
    lines.splice(1, 1);
    await Deno.writeTextFile(`${path}.new`, lines.join("\n"));
    await Deno.rename(`${path}.new`, path);
    await Deno.writeTextFile(path, moreLines("replaced"), { append: true });
    const second = await shipper.pass();
    assert.equal(second.chunksPut, 0);
    assert.equal(second.problems.length, 1, second.problems.join("; "));
    assert.match(second.problems[0], /no longer|differs|changed/);
    assert.deepEqual(await bucketLines(store, "replaced/"), before, "nothing uploaded");
    // The summary's "bytes in the bucket" after the conflict: what the bucket holds (an
    // audit: a conflicting pass said part of it, and the next pass 0).
    let inBucket = 0;
    for await (const o of store.list("replaced/")) inBucket += o.sizeBytes;
    assert.equal(first.bytesInBucket, inBucket);
    assert.equal(second.bytesInBucket, inBucket);
    assert.equal((await shipper.pass()).bytesInBucket, inBucket);
  } finally {
    shipper.close();
  }
  // Edited in place (same inode) under a shipper that checked it: a conflict too.
  const root2 = join(tmp, "edited");
  await emitRuns(root2, "edited", 3);
  const [[name2]] = [...await localParts(root2)];
  const path2 = join(root2, "events", name2);
  const location2 = { bucket: "fleet", prefix: "edited/" };
  const shipper2 = new Shipper(root2, store, location2);
  await shipper2.open();
  try {
    assert.deepEqual((await shipper2.pass()).problems, []);
    const before = await bucketLines(store, "edited/");
    const text = await Deno.readTextFile(path2);
    const cut = text.lastIndexOf("\n", text.length - 2) + 1; // the last line moves back 3 bytes
    await Deno.writeTextFile(path2, text.slice(0, cut - 4) + "\n" + text.slice(cut));
    await Deno.writeTextFile(path2, moreLines("edited"), { append: true });
    const second = await shipper2.pass();
    assert.equal(second.chunksPut, 0);
    assert.equal(second.problems.length, 1, second.problems.join("; "));
    assert.deepEqual(await bucketLines(store, "edited/"), before, "nothing uploaded");
  } finally {
    shipper2.close();
  }
}

/** Two trial lines to append to a part by hand. */
function moreLines(tag: string): string {
  return [1, 2].map((i) =>
    JSON.stringify({
      event_type: "trial.recorded",
      event_id: `${tag}-more-${i}`,
      timestamp_ms: T0 + i,
      run_id: `${tag}-more`,
      trial_id: `t${i}`,
      params: {},
      metrics: {},
    }) + "\n"
  ).join("");
}

/**
 * A Python writer's part whose first line is longer than a line may be (a bad line the
 * indexer records): ship found no first line in its first 1 MiB and shipped nothing of the
 * part, forever, with exit 0. The lines after it now reach the bucket.
 */
async function longFirstLine(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "long");
  const long = JSON.stringify({
    event_type: "run.created",
    event_id: "long-0",
    timestamp_ms: T0,
    run_id: "long",
    run_type: "policy",
    config: { blob: "x".repeat(1_500_000) },
    data_fingerprint: "f",
  });
  const good = [1, 2, 3].map((i) =>
    JSON.stringify({
      event_type: "trial.recorded",
      event_id: `long-t${i}`,
      timestamp_ms: T0 + i,
      run_id: "long",
      trial_id: `t${i}`,
      params: {},
      metrics: {},
    })
  );
  await Deno.mkdir(join(root, "events", "day=2026-01-20"), { recursive: true });
  await Deno.writeTextFile(
    join(root, "events", "day=2026-01-20", "part-000001.jsonl"),
    [long, ...good].join("\n") + "\n",
  );
  const store = storeOf(server, "fleet");
  const report = await shipOnce(root, store, { bucket: "fleet", prefix: "long/" });
  assert.deepEqual(report.problems, []);
  const lines = (await bucketLines(store, "long/")).map((l) => l.line);
  assert.deepEqual(lines, [long, ...good]);
  // A line longer than a chunk (17 MiB, a Python writer's) ships alone, and the lines after it
  // follow (an audit: it blocked its part for good); the index reports it as a bad line.
  const huge = JSON.stringify({
    ...JSON.parse(long),
    event_id: "long-huge",
    config: {
      blob: "y".repeat(17 * 1024 * 1024),
    },
  });
  const after = good.map((l) => l.replace(/long-t(\d)/, "long-a$1").replace(/"t(\d)"/, '"a$1"'));
  await Deno.writeTextFile(
    join(root, "events", "day=2026-01-20", "part-000002.jsonl"),
    [good[0].replace("long-t1", "long-b1"), huge, ...after].join("\n") + "\n",
  );
  const again = await shipOnce(root, store, { bucket: "fleet", prefix: "long/" });
  assert.deepEqual(again.problems, []);
  const shipped = (await bucketLines(store, "long/")).map((l) => l.line);
  assert.equal(shipped.length, 4 + 5);
  assert.ok(shipped.includes(huge) && after.every((l) => shipped.includes(l)));
  const reader = join(tmp, "long-reader");
  const built = await rebuildIndexFromBucket(reader, store, { bucket: "fleet", prefix: "long/" });
  // Both lines past the indexer's 1 MiB (the 1.5 MB first line too) are ingest errors, as
  // locally; every other line is an event.
  assert.equal(built.index.errors, 2);
  assert.equal(built.index.events, 3 + 4);
}

/**
 * An `emit --stdin` batch SIGKILLed mid-append leaves lines that were never acknowledged, and
 * the next writer cuts them back. Ship shipped them (the bucket kept events the log no longer
 * has), and every pass after the cut was a conflict, so no later event of that part reached
 * the bucket. Ship now stops at the size the batch recorded before its first byte.
 */
async function killedBatch(server: CephServer, tmp: string): Promise<void> {
  const batch = Array.from({ length: 20_000 }, (_, i) =>
    JSON.stringify({
      event_type: "trial.recorded",
      run_id: "k",
      trial_id: `t${i}`,
      params: { pad: "x".repeat(1_000) },
      metrics: {},
    })).join("\n") + "\n";
  for (let attempt = 0; attempt < 6; attempt++) {
    const root = join(tmp, `killed-${attempt}`);
    const to = `s3://fleet/killed-${attempt}`;
    const created = await ledger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "k"],
      ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(created.code, 0, created.stderr);
    const acked = [created.stdout.trim()];
    const [[partName]] = [...await localParts(root)];
    const partPath = join(root, "events", partName);
    const before = Deno.statSync(partPath).size;
    const child = new Deno.Command(Deno.execPath(), {
      args: denoArgs(CLI_PATH, ["emit", "--root", root, "--stdin"]),
      env: { LEDGER_ROOT: "" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const printed = new Response(child.stdout).text();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(batch));
    await writer.close();
    for (let i = 0; i < 60_000 && Deno.statSync(partPath).size === before; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    const pending = [...Deno.readDirSync(join(root, "events", ".pending"))];
    if (status.signal !== "SIGKILL" || (await printed).trim() !== "" || pending.length === 0) {
      continue; // the batch was acknowledged before the kill: try again
    }
    assert(Deno.statSync(partPath).size > before, "lines of the killed batch are in the part");
    // A marker is no `*.jsonl`: a reader globbing the log's .jsonl files would read it as a part.
    assert(pending.every((e) => !e.name.endsWith(".jsonl")), pending.map((e) => e.name).join());
    let r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
    assert.equal(r.code, 0, r.stderr);
    const store = storeOf(server, "fleet");
    const ids = async () =>
      (await bucketLines(store, `killed-${attempt}/`)).map((l) => JSON.parse(l.line).event_id);
    assert.deepEqual(await ids(), acked, "only acknowledged lines are shipped");
    const next = await ledger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.started",
      "--run-id",
      "k",
    ]);
    assert.equal(next.code, 0, next.stderr); // cuts the batch back
    acked.push(next.stdout.trim());
    r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await ids(), acked);
    return;
  }
  assert.fail("no kill landed inside the batch's append in 6 attempts");
}

/** Two-day batches the writer of {@linkcode crossDayBatches} emits, and the days its log has. */
const CROSS_DAY_BATCHES = 40;
const CROSS_DAY_DAYS = 60;

/**
 * A pass takes the shared parts' sizes one after another: a batch of `emit --stdin` over two
 * days that committed between two of them was shipped for one day and not the other until
 * the next pass (helper-298 found it in the indexer's listing; ship sized parts the same way).
 * Real `emit --stdin` processes write two-day batches while passes run; after each pass the
 * bucket holds every batch whole or not at all.
 */
async function crossDayBatches(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "cross-day");
  const days = Array.from(
    { length: CROSS_DAY_DAYS },
    (_, i) => new Date(T0 + i * 86_400_000).toISOString().slice(0, 10),
  );
  const line = (runId: string, day: string) =>
    JSON.stringify({
      event_type: "run.noted",
      run_id: runId,
      note: day,
      timestamp_ms: Date.parse(`${day}T12:00:00Z`),
    });
  const emitBatch = async (lines: string[]) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: denoArgs(CLI_PATH, ["emit", "--root", root, "--stdin"]),
      env: { LEDGER_ROOT: "" },
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    await writer.close();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  };
  await emitBatch(days.map((day) => line("seed", day)));
  const store = storeOf(server, "fleet");
  const location = { bucket: "fleet", prefix: "cross-day/" };
  await shipOnce(root, store, location); // every day's part in the bucket: a pass ships two
  const [first, last] = [days[0], days[days.length - 1]];
  let writing = true;
  const writer = (async () => {
    try {
      for (let i = 0; i < CROSS_DAY_BATCHES; i++) {
        await emitBatch([line(`b${i}`, first), line(`b${i}`, last)]);
        // A line on every day now and then: a pass then has every part to ship, one after
        // another, and the first day's and the last day's sizes are taken far apart.
        if (i % 4 === 0) await emitBatch(days.map((day) => line(`f${i}`, day)));
      }
    } finally {
      writing = false;
    }
  })();
  let passes = 0;
  let partly = 0;
  let whole = 0;
  const check = async () => {
    const report = await shipOnce(root, store, location);
    assert.deepEqual(report.problems, []);
    passes++;
    const runs: string[] = [];
    for (const day of [first, last]) {
      for (const { line } of await bucketLines(store, `cross-day/events/day=${day}/`)) {
        runs.push(JSON.parse(line).run_id);
      }
    }
    for (let i = 0; i < CROSS_DAY_BATCHES; i++) {
      for (const id of [`b${i}`, `f${i}`]) {
        const held = runs.filter((run) => run === id).length;
        if (held === 1) partly++;
        if (held === 2) whole++;
      }
    }
  };
  while (writing) await check();
  await writer;
  await check();
  assert.equal(partly, 0, `a batch was in the bucket for one day only ${partly} times`);
  assert.ok(passes > 2 && whole > 0, `${passes} passes`);
}

/**
 * A state file is only a cache of what the bucket holds: one edited to point into a line
 * must not make ship upload a chunk that starts mid-line (it did: the bucket then held a
 * torn line and the incremental and full indexes of it differed), and `--verify` compares
 * the chunks the state file trusts.
 */
async function wrongState(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "state");
  const acked = await emitRuns(root, "state", 3);
  const to = "s3://fleet/state";
  let r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  const shipDir = join(root, "ship");
  const stateName = [...Deno.readDirSync(shipDir)].find((e) => e.name.endsWith(".json"))!.name;
  const statePath = join(shipDir, stateName);
  const state = JSON.parse(await Deno.readTextFile(statePath));
  const [[partName, partBytes]] = [...await localParts(root)];
  const midLine = new TextDecoder().decode(partBytes).indexOf("\n") + 10;
  state.parts[partName].shipped_bytes = midLine;
  await Deno.writeTextFile(statePath, JSON.stringify(state));
  acked.push(...await emitRuns(root, "state2", 2));
  r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  const store = storeOf(server, "fleet");
  const lines = await bucketLines(store, "state/");
  const ids = lines.map((l) => JSON.parse(l.line).event_id as string); // a torn line throws
  assert.equal(ids.length, new Set(ids).size, "no line twice in the bucket");
  assert.deepEqual(new Set(ids), new Set(acked), "every acknowledged event, once");
  // A shipped byte changed locally (same length): the part's time changed, so a pass with
  // nothing new compares it whole and refuses (it trusted the state file, exit 0, before
  // 0.6.0), as --verify does; the bucket is not overwritten.
  const path = join(root, "events", partName);
  const text = await Deno.readTextFile(path);
  assert.ok(text.includes('"state-'), text.slice(0, 200));
  const at = text.lastIndexOf('"state-'); // not in the first line: that names another part
  await Deno.writeTextFile(path, text.slice(0, at) + '"stAte-' + text.slice(at + 7));
  await Deno.utime(path, new Date(), new Date(Date.now() + 10_000)); // a coarse clock's tick
  const before = await bucketLines(store, "state/");
  r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneLine(r.stderr), /differs from the local log/);
  r = await ledger(["ship", "--root", root, "--to", to, "--once", "--verify"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneLine(r.stderr), /differs from the local log/);
  assert.deepEqual(await bucketLines(store, "state/"), before, "the bucket is unchanged");
  // The first line changed (the file replaced or edited): not a new part shipped again whole
  // beside the old one (it was, under the new line's fingerprint), but an error; the bucket
  // is unchanged.
  const edited = await Deno.readTextFile(path);
  const first = edited.indexOf('"state-');
  assert.ok(first >= 0 && first < edited.indexOf("\n"), "the first line names the run");
  await Deno.writeTextFile(path, edited.slice(0, first) + '"stAtE-' + edited.slice(first + 7));
  r = await ledger(["ship", "--root", root, "--to", to, "--once", "--verify"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneLine(r.stderr), /no longer starts with the line shipped from it/);
  assert.match(oneLine(r.stderr), /\(keys s3:\/\/fleet\/state\/events\/day=/);
  assert.deepEqual(await bucketLines(store, "state/"), before, "nothing shipped again");
}

/** A pass's summary line: ledger ship's own, or the same message in the daemon's log. */
function shipped(line: string): boolean {
  return /^(\S+Z info )?Shipped \d+ bytes/.test(line);
}

/** A rebuild line of the bucket daemon's log. */
function indexed(line: string): boolean {
  return /^\S+Z info fetched \d+ chunks \(\d+ bytes\); rebuild (full|incremental): /.test(line);
}

async function threeMachines(server: CephServer, tmp: string): Promise<void> {
  const machines = ["m1", "m2", "m3"].map((m) => join(tmp, m));
  const reader = join(tmp, "reader");
  const to = "s3://fleet/ledger";
  await Deno.mkdir(reader);
  for (const m of machines) await Deno.mkdir(join(m, "events"), { recursive: true });
  // m1 ships with the daemon's ship mode (it also indexes its own log); m2 and m3 with ledger ship.
  const shipArgs = (root: string) =>
    root === machines[0]
      ? ["daemon", "--root", root, "--to", to, "--interval", "0.2"]
      : ["ship", "--root", root, "--to", to, "--interval", "0.2"];
  const writers = machines.map((m, i) =>
    new Child(EMIT_CHILD, [m, `m${i + 1}`, String(RUNS_PER_MACHINE), "20"])
  );
  const shippers = machines.map((m) => new Child(CLI_PATH, shipArgs(m)));
  const daemon = new Child(CLI_PATH, [
    "daemon",
    "--root",
    reader,
    "--from",
    to,
    "--interval",
    "0.5",
  ]);
  try {
    await waitFor("every shipper shipped once", () => shippers.every((s) => s.lines.some(shipped)));
    await server.stopGateway(); // the server goes away in the middle of shipping
    await sleep(1500);
    await server.startGateway();
    await sleep(500);
    await shippers[1].stop("SIGKILL"); // mid-upload or between passes: either must be safe
    shippers[1] = new Child(CLI_PATH, shipArgs(machines[1]));
    const stopped = await shippers[2].stop("SIGTERM");
    assert.equal(stopped.code, 0, shippers[2].stderr);
    const states = [...Deno.readDirSync(join(machines[2], "ship"))].filter((e) =>
      e.name.endsWith(".json")
    );
    assert.equal(states.length, 1);
    await Deno.remove(join(machines[2], "ship", states[0].name)); // the state file is lost
    shippers[2] = new Child(CLI_PATH, shipArgs(machines[2]));
    // A bad (but complete) line in one log goes to ingest_errors on both sides.
    const day = [...Deno.readDirSync(join(machines[0], "events"))].find((e) =>
      e.name.startsWith("day=")
    )!.name;
    await Deno.writeTextFile(
      join(machines[0], "events", day, "part-zz-handmade-000001.jsonl"),
      '{"event_type": "run.created", "broken\nnot json at all\n',
    );
    for (const w of writers) {
      const status = await w.process.status;
      await w.done;
      assert.equal(status.code, 0, w.stderr);
    }
    await waitFor("the reader's daemon indexed", () => daemon.lines.some(indexed));
    await waitFor("the restarted shippers run", () => shippers.every((s) => s.started));
  } finally {
    for (const s of shippers) {
      const status = await s.stop("SIGTERM");
      assert.equal(status.code, 0, s.stderr);
    }
    const stopped = await daemon.stop("SIGTERM");
    assert.equal(stopped.code, 0, daemon.stderr);
  }
  assert.ok(daemon.lines.some(indexed), `the daemon indexed: ${daemon.stderr}`);
  assert.ok(shippers[0].lines.some(shipped), "the daemon shipped");
  // The daemon logs in one format: every stdout line is "<time> <level> <message>".
  for (const d of [daemon, shippers[0]]) {
    const odd = d.lines.filter((l) =>
      !/^\d{4}-\d\d-\d\dT[\d:.]+Z (debug|info|warn|error) /.test(l)
    );
    assert.deepEqual(odd, [], "daemon log lines");
  }
  assert.ok(await Deno.stat(join(machines[0], "index/runs.duckdb")), "and indexed its own log");
  const acked = writers.flatMap((w) => w.lines);
  assert.equal(acked.length, 3 * RUNS_PER_MACHINE * 6); // six events per run
  for (const m of machines) {
    const r = await ledger(["ship", "--root", m, "--to", to, "--once"]);
    assert.equal(r.code, 0, r.stderr);
  }
  // Every acknowledged event is in the bucket exactly once; every object is whole lines.
  const store = storeOf(server, "fleet");
  const lines = await bucketLines(store, "ledger/events/");
  const counts = new Map<string, number>();
  for (const { line } of lines) {
    try {
      const id = JSON.parse(line).event_id as string;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  for (const id of acked) assert.equal(counts.get(id), 1, `event ${id} in the bucket once`);
  assert.equal(lines.length, acked.length + 2, "the bucket holds the logs' lines and no more");
  // The reader's index (daemon, then one more incremental pass) equals the union's full rebuild.
  const union = join(tmp, "union");
  for (const m of machines) {
    for (const [name, bytes] of await localParts(m)) {
      await Deno.mkdir(join(union, "events", name, ".."), { recursive: true });
      await Deno.writeFile(join(union, "events", name), bytes, { createNew: true });
    }
  }
  const full = await ledger(["rebuild-index", "--root", union, "--full"]);
  assert.equal(full.code, 0, full.stderr);
  const incremental = await ledger(["rebuild-index", "--root", reader, "--from", to]);
  assert.equal(incremental.code, 0, incremental.stderr);
  assert.match(incremental.stdout, /incremental/);
  await assertSameIndex(join(reader, "index/runs.duckdb"), join(union, "index/runs.duckdb"));
  // The mirror is byte for byte the union of the logs.
  const [cache] = [...Deno.readDirSync(join(reader, "remote"))];
  const mirror = await localParts(join(reader, "remote", cache.name));
  const local = new Map<string, Uint8Array>();
  for (const m of machines) for (const [k, v] of await localParts(m)) local.set(k, v);
  assert.equal(mirror.size, local.size);
  for (const [name, bytes] of mirror) {
    const localName = name.replace(/\.[0-9a-f]{12}\.jsonl$/, ".jsonl");
    assert.deepEqual(bytes, local.get(localName), `${name} mirrors ${localName}`);
  }
  // A torn append left in the mirror by a crash is cut back, never indexed.
  const [victim] = mirror.keys();
  await Deno.writeTextFile(join(reader, "remote", cache.name, "events", victim), '{"torn', {
    append: true,
  });
  const after = await ledger(["rebuild-index", "--root", reader, "--from", to]);
  assert.equal(after.code, 0, after.stderr);
  await assertSameIndex(join(reader, "index/runs.duckdb"), join(union, "index/runs.duckdb"));
}

/**
 * A storage audit: with a middle chunk gone, `rebuild-index --from` exited 0
 * with an ordinary summary while the index lacked every later event of the
 * part. The mirror stops at the gap as before, and says so.
 */
async function missingChunk(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "gap");
  const location = { bucket: "fleet", prefix: "gap/" };
  const store = storeOf(server, "fleet");
  for (let i = 0; i < 3; i++) {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun(`gap-${i}`, T0 + i * 1000), {
      append: i > 0,
    });
    assert.equal((await shipOnce(root, store, location)).chunksPut, 1); // one chunk per pass
  }
  const keys: string[] = [];
  for await (const o of store.list("gap/events/")) keys.push(o.key);
  assert.equal(keys.length, 3);
  assert.equal(await deletePrefix(server, "fleet", keys.sort()[1]), 1);
  const reader = join(tmp, "gap-reader");
  await Deno.mkdir(reader);
  const r = await ledger(["rebuild-index", "--root", reader, "--from", "s3://fleet/gap"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: 1 part\(s\) wait for a chunk missing from the bucket; the index lacks their events from there: day=2026-01-20\/part-000001\.[0-9a-f]{12}\.jsonl from byte \d+/,
  );
  // A damaged index is rebuilt from the mirror, with the warning a local rebuild gives.
  const index = join(reader, "index", "runs.duckdb");
  await Deno.writeFile(index, crypto.getRandomValues(new Uint8Array(5000)));
  const recovered = await ledger(["rebuild-index", "--root", reader, "--from", "s3://fleet/gap"]);
  assert.equal(recovered.code, 0, recovered.stderr);
  assert.match(recovered.stderr, /warning: the index could not be updated .*rebuilt it in full/);
  // Stopped (SIGINT/SIGTERM in the CLI): no temporary file left, the index as it was.
  const before = await Deno.readFile(index);
  await assert.rejects(
    rebuildIndexFromBucket(reader, store, location, { signal: AbortSignal.abort() }),
  );
  assert.deepEqual([...Deno.readDirSync(join(reader, "index"))].map((e) => e.name).sort(), [
    ".runs.duckdb.rebuild.lock",
    "runs.duckdb",
  ]);
  assert.deepEqual(await Deno.readFile(index), before);
  // The worker still has those bytes: `ship --verify` uploads them again, and says so (a
  // storage audit: it could only fail, and the rest of the part never reached an index).
  const repaired = await shipOnce(root, store, location, { verifyAll: true });
  assert.deepEqual(repaired.problems, []);
  assert.equal(repaired.chunksPut, 1);
  assert.equal(repaired.warnings.length, 1, repaired.warnings.join("\n"));
  assert.match(
    repaired.warnings[0],
    /^day=2026-01-20\/part-000001\.jsonl: bytes \d+-\d+ were missing from the bucket \(before gap\/events\/.*\); uploaded again from the local log$/,
  );
  const local = await Deno.readTextFile(join(root, "events/day=2026-01-20/part-000001.jsonl"));
  assert.deepEqual(
    (await bucketLines(store, "gap/events/")).map((l) => l.line + "\n").join(""),
    local,
  );
  const healed = await ledger(["rebuild-index", "--root", reader, "--from", "s3://fleet/gap"]);
  assert.equal(healed.code, 0, healed.stderr);
  assert.doesNotMatch(healed.stderr, /wait for a chunk/);
  assert.deepEqual(
    (await query(index, "SELECT run_id FROM runs_d ORDER BY 1")).map((r) => r.run_id),
    ["gap-0", "gap-1", "gap-2"],
  );
  const again = await shipOnce(root, store, location, { verifyAll: true });
  assert.deepEqual([again.chunksPut, again.warnings, again.problems], [0, [], []]);
}

/**
 * A storage audit: an object whose key starts inside bytes its part's chunks
 * already cover (never written by `ledger ship`) was spliced in at the end
 * of a fresh mirror, and indexed, while an existing mirror ignored it: two
 * indexers of one bucket disagreed, silently. Both ignore it and warn.
 */
/**
 * Objects another tool put (a helper's probe): one larger than a fetch
 * range was read whole into memory (1.76 GB took 3.7 GB, whatever
 * --memory-limit said); it is fetched in ranges (`FETCH_RANGE_BYTES`, 16
 * MiB; 1,000 bytes here) and mirrors the same bytes. An empty object with a
 * chunk's key was fetched on every pass as a change: `daemon --from`
 * rebuilt and published the index every interval for it.
 */
async function largeAndEmptyObjects(server: CephServer, tmp: string): Promise<void> {
  const store = storeOf(server, "fleet");
  const location = { bucket: "fleet", prefix: "large/" };
  const name = "day=2026-01-20/part-000001.jsonl";
  const lines = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({
      event_type: "run.created",
      event_id: `big-${i}`,
      run_id: `big-${String(i).padStart(3, "0")}`,
      timestamp_ms: T0 + i,
      schema_version: 1,
      run_type: "policy",
      config: { pad: "x".repeat(200) },
      data_fingerprint: "f",
    }));
  const body = new TextEncoder().encode(lines.join("\n") + "\n");
  const rangeBytes = 1000;
  assert(body.length > 5 * rangeBytes, `${body.length} bytes`);
  const part = {
    day: name.slice(4, 14),
    stem: name.slice(15, -".jsonl".length),
    fingerprint: fingerprintOf(new TextEncoder().encode(lines[0])),
  };
  // One object for the whole part, as `aws s3 cp` of a renamed file would put it.
  assert.equal(await store.putIfAbsent(chunkKey("large/", part, 0), body), "created");
  const cacheRoot = join(tmp, "large-mirror");
  const first = await mirrorBucket(store, location, cacheRoot, { fetchRangeBytes: rangeBytes });
  assert.deepEqual([first.chunksFetched, first.bytesFetched], [1, body.length]);
  assert.deepEqual(await Deno.readFile(join(cacheRoot, "events", remotePartFile(part))), body);
  // An empty object with a chunk's key: no change, pass after pass.
  const empty = { ...part, stem: "empty" };
  assert.equal(
    await store.putIfAbsent(chunkKey("large/", empty, 0), new Uint8Array(0)),
    "created",
  );
  for (let pass = 0; pass < 2; pass++) {
    const again = await mirrorBucket(store, location, cacheRoot, { fetchRangeBytes: rangeBytes });
    assert.deepEqual([again.changed, again.chunksFetched], [false, 0], `pass ${pass}`);
  }
  // The object replaced by a longer one after the listing is said, not mirrored in part.
  const other = join(tmp, "large-mirror-2");
  const grown = new Uint8Array([...body, ...new TextEncoder().encode(lines[0] + "\n")]);
  let listed = 0;
  const racing: ObjectStore = {
    description: store.description,
    check: () => store.check(),
    list: (prefix, options) => store.list(prefix, options),
    get: async (key, range) => {
      if (listed++ === 0) await overwriteObject(server, "fleet", key, grown);
      return await store.get(key, range);
    },
    putIfAbsent: (key, body) => store.putIfAbsent(key, body),
    head: (key) => store.head(key),
    delete: (key) => store.delete(key),
  };
  await assert.rejects(
    mirrorBucket(racing, location, other, { fetchRangeBytes: rangeBytes }),
    new RegExp(`has ${body.length + 1} or more bytes, listed ${body.length}$`),
  );
  // Replaced by a shorter one: mid-range, the bytes it has; past a range's start, "or fewer"
  // (the server's 416 InvalidRange was the message).
  for (const [at, size, said] of [[0, 500, "500"], [1, 500, `${rangeBytes} or fewer`]] as const) {
    const shrunk = body.slice(0, size);
    let gets = 0;
    const shrinking: ObjectStore = {
      ...racing,
      get: async (key, range) => {
        if (gets++ === at) await overwriteObject(server, "fleet", key, shrunk);
        return await store.get(key, range);
      },
    };
    await overwriteObject(server, "fleet", chunkKey("large/", part, 0), body);
    await assert.rejects(
      mirrorBucket(shrinking, location, join(tmp, `large-mirror-shrunk-${at}`), {
        fetchRangeBytes: rangeBytes,
      }),
      new RegExp(`has ${said} bytes, listed ${body.length}$`),
    );
  }
}

async function overlappingObject(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "overlap");
  const location = { bucket: "fleet", prefix: "overlap/" };
  const store = storeOf(server, "fleet");
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("overlap-run", T0));
  assert.equal((await shipOnce(root, store, location)).chunksPut, 1);
  const [chunk] = await bucketLines(store, "overlap/events/");
  const old = join(tmp, "overlap-old");
  const fresh = join(tmp, "overlap-fresh");
  let r = await ledger(["rebuild-index", "--root", old, "--from", "s3://fleet/overlap"]);
  assert.equal(r.code, 0, r.stderr);
  const foreignKey = chunk.key.replace(/\.0{16}\.jsonl$/, ".0000000000000100.jsonl");
  assert.notEqual(foreignKey, chunk.key);
  const foreign = JSON.stringify(fullRun("foreign-run", T0)[0]) + "\n";
  assert.equal(await store.putIfAbsent(foreignKey, new TextEncoder().encode(foreign)), "created");
  const runs = async (reader: string) =>
    (await query(join(reader, "index/runs.duckdb"), "SELECT run_id FROM runs_d ORDER BY 1"))
      .map((row) => row.run_id);
  for (const reader of [old, fresh]) {
    r = await ledger(["rebuild-index", "--root", reader, "--from", "s3://fleet/overlap"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      oneLine(r.stderr),
      /warning: 1 bucket object\(s\) overlap bytes their part already has .* are ignored: \S+\.0000000000000100\.jsonl \(starts at byte 100 of day=2026-01-20\/part-000001\./,
    );
    assert.deepEqual(await runs(reader), ["overlap-run"], reader);
  }
  // A log copied into a day folder (aws s3 sync): engines reading events/day=*/*.jsonl read
  // it, the index does not; that was said only with --verbose.
  const copied = "overlap/events/day=2026-01-20/part-000001.jsonl";
  assert.equal(await store.putIfAbsent(copied, new TextEncoder().encode(foreign)), "created");
  r = await ledger(["rebuild-index", "--root", old, "--from", "s3://fleet/overlap"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 2, r.stderr); // the overlap's, and this
  assert.match(
    r.stderr,
    /warning: 1 \.jsonl object\(s\) in the bucket's day folders are not chunks written by ledger ship, so the index leaves them out .*: overlap\/events\/day=2026-01-20\/part-000001\.jsonl$/m,
  );
  // The daemon says both, once each, in its log.
  const daemon = new Child(CLI_PATH, [
    "daemon",
    "--root",
    old,
    "--from",
    "s3://fleet/overlap",
    "--interval",
    "0.5",
    "--log-json",
  ]);
  try {
    await waitFor("the warnings", () => daemon.lines.some((l) => l.includes("foreign_log")));
    await sleep(1200); // more passes: each warning is said once, not every pass
  } finally {
    const stopped = await daemon.stop("SIGTERM");
    assert.equal(stopped.code, 0, daemon.stderr);
  }
  const warns = daemon.lines.map((l) => JSON.parse(l)).filter((e) => e.level === "warn");
  assert.deepEqual(warns.map((e) => Object.keys(e).filter((k) => k.endsWith("_objects"))), [
    ["overlapping_objects"],
    ["foreign_log_objects"],
  ]);
  assert.deepEqual(await runs(old), ["overlap-run"]);
}

/**
 * helper-300: with every object of its prefix removed from the bucket (retention, a lifecycle
 * rule), `daemon --from` failed its rebuild and logged it on every pass (2,900 error lines a day
 * at --interval 30), where the local daemon says it once and rebuilds when the log changes.
 */
async function emptiedBucket(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "emptied");
  const reader = join(tmp, "emptied-reader");
  const store = storeOf(server, "fleet");
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("emptied-1", T0));
  await shipOnce(root, store, { bucket: "fleet", prefix: "emptied/" });
  const first = await ledger(["rebuild-index", "--root", reader, "--from", "s3://fleet/emptied"]);
  assert.equal(first.code, 0, first.stderr);
  await deletePrefix(server, "fleet", "emptied/");
  const daemon = new Child(CLI_PATH, [
    ...["daemon", "--root", reader, "--from", "s3://fleet/emptied", "--interval", "0.2"],
    "--log-json",
  ]);
  try {
    await waitFor("the failed rebuild", () => daemon.lines.some((l) => l.includes('"error"')));
    await sleep(1500); // several more passes
  } finally {
    const stopped = await daemon.stop("SIGTERM");
    assert.equal(stopped.code, 0, daemon.stderr);
  }
  const entries = daemon.lines.map((l) => JSON.parse(l));
  const errors = entries.filter((e) => e.level === "error");
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0].msg, /^update from the bucket failed: /);
}

/**
 * A storage audit: when another `--from` run on the root (an analyst's
 * `--db snapshot.duckdb`) fetched the new chunks first, the daemon saw no new
 * chunk and left its index stale. It compares the mirror with what it last
 * indexed now.
 */
async function fetchedByAnother(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "follow");
  const location = { bucket: "fleet", prefix: "follow/" };
  const store = storeOf(server, "fleet");
  const [created, ...rest] = fullRun("follow-1", T0);
  await writePart(root, "day=2026-01-20/part-000001.jsonl", [created]);
  await shipOnce(root, store, location);
  const reader = join(tmp, "follow-reader");
  await Deno.mkdir(reader);
  const daemon = new Child(CLI_PATH, [
    "daemon",
    "--root",
    reader,
    "--from",
    "s3://fleet/follow",
    // Long enough for the snapshot below to fetch the new chunk before the daemon's next pass.
    "--interval",
    "6",
  ]);
  const runs = async (db: string) => {
    const r = await ledger(["runs", "--root", reader, "--db", db, "--format", "jsonl"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n").map((l) => JSON.parse(l).status);
  };
  const live = join(reader, "index", "runs.duckdb");
  try {
    await waitFor("the first rebuild", () => daemon.lines.some(indexed));
    assert.deepEqual(await runs(live), ["pending"]);
    await writePart(root, "day=2026-01-20/part-000001.jsonl", rest, { append: true });
    await shipOnce(root, store, location);
    const snapshot = join(tmp, "follow-snapshot.duckdb");
    const other = await ledger([
      "rebuild-index",
      "--root",
      reader,
      "--from",
      "s3://fleet/follow",
      "--db",
      snapshot,
    ]);
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual(await runs(snapshot), ["completed"]);
    await waitFor("the daemon's second rebuild", () => daemon.lines.filter(indexed).length >= 2);
  } finally {
    const stopped = await daemon.stop("SIGTERM");
    assert.equal(stopped.code, 0, daemon.stderr);
  }
  assert.deepEqual(await runs(live), ["completed"]);
}

/**
 * An ops audit of the local daemon, found again in the bucket daemon: with
 * `index/` deleted under it, its lock file went too and a second daemon on
 * the same root started beside it. And with the whole root deleted, the
 * daemon made it again (mirror, index) without its lock.
 */
async function bucketDaemonLockRetaken(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "relock");
  const location = { bucket: "fleet", prefix: "relock/" };
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("relock-1", T0));
  await shipOnce(root, storeOf(server, "fleet"), location);
  const reader = join(tmp, "relock-reader");
  await Deno.mkdir(reader);
  const from = ["--root", reader, "--from", "s3://fleet/relock"];
  // Passes 2 s apart: each removal below lands between two passes, right after one logs.
  const daemon = new Child(CLI_PATH, ["daemon", ...from, "--interval", "2"]);
  /** The lines logged from `from` on: a retake, and the rebuild that follows it in its pass. */
  const retakeThenRebuild = async (what: string, from: number) => {
    await waitFor(what, () => daemon.lines.slice(from).some(indexed));
    const after = daemon.lines.slice(from);
    const retaken = after.findIndex((l) => /took it again/.test(l));
    assert.ok(retaken >= 0 && retaken < after.findIndex(indexed), after.join("\n"));
  };
  try {
    await waitFor("the first rebuild", () => daemon.lines.some(indexed));
    // index/ deleted: the lock is taken again and the index rebuilt (it came back only with the
    // bucket's next chunk before).
    let before = daemon.lines.length;
    await Deno.remove(join(reader, "index"), { recursive: true });
    await retakeThenRebuild("the index rebuilt", before);
    assert.ok(await exists(join(reader, "index", "runs.duckdb")), "the index is back");
    // The root deleted whole (a review): the pass that makes it again (mirror, index) takes the
    // lock first, so no second daemon can take the new root between that pass and the next.
    before = daemon.lines.length;
    await Deno.remove(reader, { recursive: true });
    await retakeThenRebuild("a rebuild after the removal", before);
    const second = await ledger(["daemon", ...from, "--interval", "0.2"]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /Another daemon is already running for this root/);
  } finally {
    const stopped = await daemon.stop("SIGTERM");
    assert.equal(stopped.code, 0, daemon.stderr);
  }
}

async function retention(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "retention");
  const dayMs = 24 * 3_600_000;
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("old-run", T0));
  await writePart(root, "day=2026-01-21/part-000001.jsonl", fullRun("new-run", T0 + dayMs));
  const location = { bucket: "fleet", prefix: "retention/" };
  const store = storeOf(server, "fleet");
  const reader = join(tmp, "retention-reader");
  assert.equal((await shipOnce(root, store, location)).chunksPut, 2);
  const first = await rebuildIndexFromBucket(reader, store, location);
  assert.equal(first.mirror.parts, 2);
  // The operator drops the old day: in the log first, then in the bucket.
  await Deno.remove(join(root, "events/day=2026-01-20"), { recursive: true });
  assert.equal(await deletePrefix(server, "fleet", "retention/events/day=2026-01-20/"), 1);
  const after = await rebuildIndexFromBucket(reader, store, location);
  assert.equal(after.mirror.filesRemoved, 1);
  assert.equal(after.index.mode, "incremental");
  await rebuildIndex(root, { full: true });
  await assertSameIndex(join(reader, "index/runs.duckdb"), join(root, "index/runs.duckdb"), 0);
  // A storage audit: a backfilled event for the removed day, before the shipper's next pass,
  // recreated the part under its old name, and every pass failed ("the bucket holds" what it
  // was, which it no longer did). It is a new part: its first line gives it other keys.
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("backfill", T0 + 5_000));
  const again = await shipOnce(root, store, location);
  assert.deepEqual(again.problems, []);
  assert.equal(again.chunksPut, 1, "the recreated part, and not the deleted day again");
  const lines = await bucketLines(store, "retention/events/day=2026-01-20/");
  assert.ok(lines.length > 0 && lines.every((l) => l.line.includes('"backfill"')));
  await rebuildIndexFromBucket(reader, store, location);
  await rebuildIndex(root);
  await assertSameIndex(join(reader, "index/runs.duckdb"), join(root, "index/runs.duckdb"), 0);
  // Retention in the log only, the bucket keeping the day: the part recreated under its old
  // name is refused, saying what the bucket holds and how to ship it; nothing is uploaded.
  await Deno.remove(join(root, "events/day=2026-01-20"), { recursive: true });
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("backfill-2", T0 + 9_000));
  const refused = await shipOnce(root, store, location);
  assert.equal(refused.chunksPut, 0);
  assert.equal(refused.problems.length, 1, refused.problems.join("\n"));
  assert.match(
    refused.problems[0],
    /still holds the part as it was \(keys s3:\/\/fleet\/retention\/events\//,
  );
  assert.match(refused.problems[0], /ships once its day is removed from the bucket too/);
  assert.deepEqual(await bucketLines(store, "retention/events/day=2026-01-20/"), lines);
  // Every day gone from the bucket (a wrong lifecycle rule, say): the reader's index, which
  // holds them, is not replaced by an empty one; the refusal names the bucket.
  await deletePrefix(server, "fleet", "retention/events/");
  await assert.rejects(
    rebuildIndexFromBucket(reader, store, location),
    (err: Error) =>
      err.cause instanceof EmptyLogError && err.cause.log === "s3://fleet/retention/" &&
      /^Rebuild of .* refused \(the index is unchanged\): The log s3:\/\/fleet\/retention\/ has no part file, but the index holds \d+ events/
        .test(err.message),
  );
  const kept = await query(join(reader, "index/runs.duckdb"), "SELECT run_id FROM runs_d");
  assert.ok(kept.length > 0, "the reader's index kept its runs");
}

/**
 * A storage audit: a key whose part name held `../` was mirrored to that path, so anyone
 * who could write to the bucket created files outside the indexer's root, or appended
 * events to another root's log. A part name is one file name: such keys are not chunks.
 */
async function traversalKeys(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "traversal");
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("honest", T0));
  const location = { bucket: "fleet", prefix: "traversal/" };
  const store = storeOf(server, "fleet");
  assert.equal((await shipOnce(root, store, location)).chunksPut, 1);
  const outside = join(tmp, "traversal-outside");
  await Deno.mkdir(outside);
  const line = new TextEncoder().encode(
    JSON.stringify({
      event_type: "run.created",
      run_id: "pwn",
      run_type: "manual",
      config: {},
      data_fingerprint: "f",
      timestamp_ms: T0,
      event_id: "pwn-1",
      schema_version: 1,
    }) + "\n",
  );
  const up = "../".repeat(12);
  const evil = [
    `traversal/events/day=2026-01-20/${up}${outside.slice(1)}/PWNED.aaaaaaaaaaaa.${
      "0".repeat(16)
    }.jsonl`,
    // A location nested under this one: its chunks are not this location's parts.
    `traversal/events/day=2026-01-20/events/day=2026-01-20/x.aaaaaaaaaaaa.${"0".repeat(16)}.jsonl`,
  ];
  for (const key of evil) assert.equal(await store.putIfAbsent(key, line), "created");
  const listed: string[] = [];
  for await (const o of store.list("traversal/")) listed.push(o.key);
  assert.ok(evil.every((k) => listed.includes(k)), `the server kept the keys: ${listed}`);
  const reader = join(tmp, "traversal-reader");
  const built = await rebuildIndexFromBucket(reader, store, location);
  assert.deepEqual([...Deno.readDirSync(outside)], [], "nothing written outside the root");
  assert.equal(built.mirror.parts, 1);
  assert.equal(built.mirror.foreignKeys, 2);
  const runs = await query(join(reader, "index/runs.duckdb"), "SELECT run_id FROM runs_d");
  assert.deepEqual(runs.map((r) => r.run_id), ["honest"]);
}

/**
 * A storage audit: two machines that used one run id are merged by the bucket's index into
 * one hybrid run (one's config, the other's summary), and nothing that reads the bucket said
 * so. `rebuild-index --from` names such ids now.
 */
async function sharedRunId(server: CephServer, tmp: string): Promise<void> {
  const store = storeOf(server, "fleet");
  const location = { bucket: "fleet", prefix: "shared/" };
  // Machine b also holds a line with the id of a's own run's run.completed, saying another thing.
  let completedOfA: Record<string, unknown> | undefined;
  for (const [machine, startMs] of [["a", T0], ["b", T0 + 60_000]] as const) {
    const root = join(tmp, `shared-${machine}`);
    const own = fullRun(`own-${machine}`, startMs + 10_000);
    completedOfA ??= own.find((e) => e.event_type === "run.completed");
    const conflict = machine === "a" ? [] : [{
      ...completedOfA!,
      event_type: "run.failed",
      summary: undefined,
      artifact_paths: undefined,
      error: { message: "other" },
    }];
    await writePart(root, "day=2026-01-20/part-000001.jsonl", [
      ...fullRun("same", startMs),
      ...own,
      ...conflict,
    ]);
    assert.equal((await shipOnce(root, store, location)).chunksPut, 1);
  }
  const reader = join(tmp, "shared-reader");
  // Through the endpoint the command below uses: an index of a bucket is not updated through
  // another (this test built it with none and failed in long mode since that refusal).
  const built = await rebuildIndexFromBucket(reader, store, location, {
    endpoint: server.endpoint,
  });
  assert.deepEqual(built.sharedRuns, { shown: ["same"], count: 1 });
  const r = await ledger(["rebuild-index", "--root", reader, "--from", "s3://fleet/shared"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^ledger rebuild-index: warning: 1 run id\(s\) have run\.created events in more than one part file .*: "same"$/m,
  );
  // Two events under one id, from two machines: said as by a local rebuild (a probe).
  assert.match(
    r.stderr,
    /^ledger rebuild-index: warning: 1 event id has copies that differ \(more than the time\)/m,
  );
}

/**
 * A probe: two copies of one event id at one millisecond, in `p.jsonl` and `p.g.jsonl`. The
 * local rebuild keeps `p.g`'s (SPEC 7: the smallest `(timestamp_ms, file, line)`); the bucket's
 * index ranked its mirror files `p.<fingerprint>.jsonl` and `p.g.<fingerprint>.jsonl`, hex
 * before `g`, and kept the other. Mirror files are ranked by their parts' names now.
 */
async function tiedCopies(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "tied");
  const run = fullRun("tied", T0);
  const created = run.find((e) => e.event_type === "run.created")!;
  await writePart(root, "day=2026-01-20/p.jsonl", run);
  await writePart(root, "day=2026-01-20/p.g.jsonl", [{ ...created, run_type: "other" }]);
  const local = await rebuildIndex(root, { full: true });
  assert.equal(local.conflicts, 1);
  const store = storeOf(server, "fleet");
  const location = { bucket: "fleet", prefix: "tied/" };
  assert.equal((await shipOnce(root, store, location)).chunksPut, 2);
  const reader = join(tmp, "tied-reader");
  const built = await rebuildIndexFromBucket(reader, store, location);
  assert.equal(built.index.conflicts, 1);
  const types = (db: string) => query(db, "SELECT run_type FROM runs_d");
  assert.deepEqual(await types(join(root, "index/runs.duckdb")), [{ run_type: "other" }]);
  assert.deepEqual(await types(join(reader, "index/runs.duckdb")), [{ run_type: "other" }]);
  const diff = await compareIndexes(
    join(root, "index/runs.duckdb"),
    join(reader, "index/runs.duckdb"),
  );
  for (const [table, d] of Object.entries(diff)) {
    assert.deepEqual([d.onlyA, d.onlyB], [0, 0], `${table} differs: ${JSON.stringify(d)}`);
  }
}

/**
 * A storage audit: with a day removed from the bucket while the local log keeps it,
 * `ship --verify` exited 0 and counted the part's bytes as in the bucket. It says so now (a
 * warning: retention may have removed the day on purpose) and counts only what it found.
 */
async function bucketDayGone(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "day-gone");
  const dayMs = 24 * 3_600_000;
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("gone-run", T0));
  await writePart(root, "day=2026-01-21/part-000001.jsonl", fullRun("kept-run", T0 + dayMs));
  const kept = (await Deno.stat(join(root, "events/day=2026-01-21/part-000001.jsonl"))).size;
  const to = "s3://fleet/day-gone";
  let r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await deletePrefix(server, "fleet", "day-gone/events/day=2026-01-20/"), 1);
  const store = storeOf(server, "fleet");
  const before = await bucketLines(store, "day-gone/");
  r = await ledger(["ship", "--root", root, "--to", to, "--once", "--verify"]);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("ledger ship: warning: "));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /day=2026-01-20\/part-000001\.jsonl: the state file records \d+ bytes/);
  assert.match(warnings[0], /the bucket holds no chunk of this part/);
  assert.match(r.stdout, new RegExp(`, ${kept} bytes in the bucket\\)`), r.stdout);
  assert.deepEqual(await bucketLines(store, "day-gone/"), before, "nothing uploaded again");
}

/**
 * A probe: with every chunk of a part gone from the bucket (a prefix deleted by mistake, a
 * bucket recreated), `ship --once` uploaded the part's new lines as a chunk at the old offset
 * and said all its bytes were in the bucket, exit 0; an index of the bucket waited for the
 * missing chunk from byte 0 and held none of the part's events. The part ships whole again.
 */
async function lostPartGrew(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "lost-grew");
  const path = await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("lost-1", T0));
  const to = "s3://fleet/lost-grew";
  let r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(await deletePrefix(server, "fleet", "lost-grew/events/") >= 1);
  await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("lost-2", T0 + 60_000), {
    append: true,
  });
  r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("ledger ship: warning: "));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /no chunk of this part .*uploaded again whole from the local log/);
  const size = (await Deno.stat(path)).size;
  assert.match(r.stdout, new RegExp(`, ${size} bytes in the bucket\\)`), r.stdout);
  const store = storeOf(server, "fleet");
  const remote = (await bucketLines(store, "lost-grew/events/")).map((l) => l.line);
  const local = (await Deno.readTextFile(path)).trimEnd().split("\n");
  assert.deepEqual(remote, local);
  const reader = join(tmp, "lost-grew-reader");
  const built = await rebuildIndexFromBucket(reader, store, {
    bucket: "fleet",
    prefix: "lost-grew/",
  });
  assert.equal(built.index.events, local.length);
}

/**
 * Probes: a part `ship --verify` found missing from the bucket was counted as in the bucket by
 * every later pass (no request is made for a part with nothing new); and a long-running
 * shipper that had found it missing uploaded its next lines past the missing start, a chunk no
 * index can read. The state file keeps the part missing until it is found or shipped again.
 */
/**
 * A probe: the index records its bucket as `s3://bucket/prefix/`, without the
 * endpoint, so `--from` the same bucket on another server (staging for
 * production) replaced every run, exit 0. The same server spelled otherwise
 * (`localhost` for `127.0.0.1`) stands for that here: another mirror folder,
 * refused; `--full` rebuilds from it on purpose.
 */
async function otherEndpoint(server: CephServer, tmp: string): Promise<void> {
  const worker = join(tmp, "endpoint-worker");
  await emitRuns(worker, "endpoint", 2);
  const to = "s3://fleet/endpoint";
  let r = await ledger(["ship", "--root", worker, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  const idx = join(tmp, "endpoint-idx");
  await Deno.mkdir(idx);
  r = await ledger(["rebuild-index", "--root", idx, "--from", to]);
  assert.equal(r.code, 0, r.stderr);
  const db = join(idx, "index", "runs.duckdb");
  const before = await Deno.readFile(db);
  const elsewhere = async (args: string[]): Promise<Result> => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, args, ["--allow-net=127.0.0.1,localhost"]),
      env: {
        LEDGER_ROOT: "",
        AWS_ENDPOINT_URL_S3: server.endpoint.replace("127.0.0.1", "localhost"),
      },
      stdin: "null",
      signal: AbortSignal.timeout(COMMAND_MS_MAX),
    }).output();
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  };
  for (const args of [["rebuild-index"], ["daemon", "--interval", "0.2"]]) {
    r = await elsewhere([...args, "--root", idx, "--from", to]);
    assert.equal(r.code, 1, `${args[0]}: ${r.stdout}`);
    assert.match(
      r.stderr,
      /built from s3:\/\/fleet\/endpoint\/ through another endpoint than http:\/\/localhost:\d+ \(its mirror is .*\/remote\/[0-9a-f]+\): set AWS_ENDPOINT_URL_S3 .*--full/,
    );
    assert.deepEqual(await Deno.readFile(db), before, `${args[0]}: the index is unchanged`);
  }
  r = await elsewhere(["rebuild-index", "--root", idx, "--from", to, "--full"]);
  assert.equal(r.code, 0, r.stderr);
  r = await elsewhere(["rebuild-index", "--root", idx, "--from", to]);
  assert.equal(r.code, 0, r.stderr); // from here it is the index of that endpoint
}

async function missingPartKept(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "missing");
  const a = await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("miss-a", T0));
  const b = await writePart(
    root,
    "day=2026-01-21/part-000001.jsonl",
    fullRun("miss-b", T0 + 86_400_000),
  );
  const to = "s3://fleet/missing";
  const location = { bucket: "fleet", prefix: "missing/" };
  let r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(await deletePrefix(server, "fleet", "missing/events/day=2026-01-20/") >= 1);
  const sizeB = (await Deno.stat(b)).size;
  r = await ledger(["ship", "--root", root, "--to", to, "--once", "--verify"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /day=2026-01-20\/part-000001\.jsonl: .*holds no chunk of this part/);
  assert.match(r.stdout, new RegExp(`, ${sizeB} bytes in the bucket\\)`), r.stdout);
  r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`, ${sizeB} bytes in the bucket\\)`), "still not counted");
  // A long-running shipper (with --verify: it looks at every part) finds it missing, then the
  // part grows: it ships again whole, not from the old offset.
  const store = storeOf(server, "fleet");
  const shipper = new Shipper(root, store, location, {
    endpoint: server.endpoint,
    verifyAll: true,
  });
  await shipper.open();
  try {
    const first = await shipper.pass();
    assert.equal(first.bytesInBucket, sizeB);
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("miss-c", T0 + 60_000), {
      append: true,
    });
    const second = await shipper.pass();
    assert.deepEqual(second.problems, []);
    assert.equal(second.bytesInBucket, sizeB + (await Deno.stat(a)).size);
  } finally {
    shipper.close();
  }
  const remote = (await bucketLines(store, "missing/events/day=2026-01-20/")).map((l) => l.line);
  assert.deepEqual(remote, (await Deno.readTextFile(a)).trimEnd().split("\n"));
  // The log gone (an unmounted disk): nothing shipped, the state kept, exit 1. A probe: such a
  // pass exited 0 and forgot every part, so a day removed from the bucket came back with the log.
  const [state] = [...Deno.readDirSync(join(root, "ship"))].filter((e) => e.name.endsWith(".json"));
  const statePath = join(root, "ship", state.name);
  const before = await Deno.readTextFile(statePath);
  await Deno.rename(join(root, "events"), join(root, "events.off"));
  r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stderr,
    /No log at .*events, which 2 shipped parts were read from: nothing shipped/,
  );
  // Its stdout line says so too (it read as a pass that was done).
  assert.match(r.stdout, /^Shipped 0 bytes .*; not all shipped: 1 problem, said on stderr$/m);
  assert.equal(await Deno.readTextFile(statePath), before, "the state is kept");
  await Deno.rename(join(root, "events.off"), join(root, "events"));
  r = await ledger(["ship", "--root", root, "--to", to, "--once"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Shipped 0 bytes in 0 new chunks/);
}

async function assertSameIndex(a: string, b: string, ingestErrors = 2): Promise<void> {
  const diff = await compareIndexes(a, b);
  for (const [table, d] of Object.entries(diff)) {
    assert.equal(
      d.onlyA + d.onlyB,
      0,
      `${table}: ${d.onlyA} rows only in ${a}, ${d.onlyB} in ${b}`,
    );
  }
  assert.ok(
    diff.events.rowsA > 0 && diff.ingest_errors.rowsA === ingestErrors,
    JSON.stringify(diff),
  );
}

/**
 * A probe: a chunk changed in the bucket, found by `ship --verify` (exit 1), was passed by the
 * next plain pass (exit 0), which cleared the conflict mark while the bucket still held the
 * other bytes; and a last chunk deleted from the bucket was uploaded again without a word.
 */
async function conflictKept(server: CephServer, tmp: string): Promise<void> {
  const root = join(tmp, "kept");
  const location = { bucket: "fleet", prefix: "kept/" };
  const store = storeOf(server, "fleet");
  const part = "day=2026-01-20/part-000001.jsonl";
  for (let i = 0; i < 3; i++) {
    await writePart(root, part, fullRun(`kept-${i}`, T0 + i * 1000), { append: i > 0 });
    assert.equal((await shipOnce(root, store, location)).chunksPut, 1); // one chunk per pass
  }
  const keys = (await Array.fromAsync(store.list("kept/events/"))).map((o) => o.key).sort();
  assert.equal(keys.length, 3);
  const middle = await store.get(keys[1]);
  const edited = new TextEncoder().encode(
    new TextDecoder().decode(middle).replaceAll("kept-1", "kept-X"),
  );
  assert.equal(edited.length, middle.length);
  await overwriteObject(server, "fleet", keys[1], edited);
  const ship = (...flags: string[]) =>
    ledger(["ship", "--root", root, "--to", "s3://fleet/kept", "--once", ...flags]);
  const verified = await ship("--verify");
  assert.equal(verified.code, 1, verified.stderr);
  assert.ok(
    oneLine(verified.stderr).includes(`s3://fleet/${keys[1]} differs from the local log`),
    verified.stderr,
  );
  for (const pass of [1, 2]) {
    const plain = await ship();
    assert.equal(plain.code, 1, `plain pass ${pass} after --verify: ${plain.stderr}`);
    assert.match(oneLine(plain.stderr), new RegExp(`${keys[1]} differs from the local log`));
  }
  assert.deepEqual(await store.get(keys[1]), edited, "the bucket object is not overwritten");
  // The bucket put right: the next pass agrees, and the mark is gone.
  await overwriteObject(server, "fleet", keys[1], middle);
  for (const pass of [1, 2]) {
    const plain = await ship();
    assert.equal(plain.code, 0, `pass ${pass} with the bucket put right: ${plain.stderr}`);
  }
  // The last chunk deleted: uploaded again with the part's next lines, and said.
  assert.equal(await deletePrefix(server, "fleet", keys[2]), 1);
  await writePart(root, part, fullRun("kept-3", T0 + 3000), { append: true });
  const refilled = await shipOnce(root, store, location);
  assert.deepEqual(refilled.problems, []);
  assert.equal(refilled.warnings.length, 1, refilled.warnings.join("\n"));
  assert.match(
    refilled.warnings[0],
    /^day=2026-01-20\/part-000001\.jsonl: the state file records \d+ bytes shipped, but the bucket's chunks end at byte \d+ \(last kept\/events\/.*\): bytes \d+-\d+ were missing from the bucket; uploaded again from the local log$/,
  );
  assert.deepEqual(
    (await bucketLines(store, "kept/events/")).map((l) => l.line + "\n").join(""),
    await Deno.readTextFile(join(root, "events", part)),
  );
}
