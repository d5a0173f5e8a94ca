/**
 * A bucket changed behind ledger's back, against a real S3 server (Ceph RGW
 * on loopback): a chunk object rewritten with other bytes of the same size
 * (a plain PUT, a restore from a backup), or a part's last chunk removed.
 * A storage audit found the first passed over in silence: the listing's
 * sizes still matched, so an existing mirror kept the old bytes (even with
 * `--full`) while a fresh mirror of the same bucket fetched the new ones,
 * and two indexers of one bucket disagreed without a word. The mirror must
 * follow the bucket, and say that it changed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs } from "../_helpers.ts";
import { shipOnce } from "../../storage/ship.ts";
import {
  type CephServer,
  createBucket,
  deletePrefix,
  overwriteObject,
  overwriteObjectMultipart,
  storeOf,
} from "./_server.ts";
import { compareIndexes } from "./_compare.ts";
import { mirrorBucket } from "../../storage/bucket_index.ts";
import { fullRun, query, T0, writePart } from "../indexer/_fixtures.ts";

/** Longest a ledger command of these tests may run. */
const COMMAND_MS_MAX = 120_000;

async function rebuildFrom(
  root: string,
  url: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CLI_PATH, ["rebuild-index", "--root", root, "--from", url], [
      "--allow-net=127.0.0.1",
    ]),
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    signal: AbortSignal.timeout(COMMAND_MS_MAX),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

async function runIds(root: string): Promise<unknown[]> {
  return (await query(join(root, "index/runs.duckdb"), "SELECT run_id FROM runs_d ORDER BY 1"))
    .map((row) => row.run_id);
}

async function assertSameIndex(a: string, b: string): Promise<void> {
  const diff = await compareIndexes(join(a, "index/runs.duckdb"), join(b, "index/runs.duckdb"));
  for (const [table, d] of Object.entries(diff)) {
    assert.deepEqual([d.onlyA, d.onlyB], [0, 0], `${table} differs: ${JSON.stringify(d)}`);
  }
}

/**
 * The steps of the test, on a running server whose `AWS_*` variables are
 * set in this process, with `tmp` to work in (`ship_test.ts` runs them
 * on its server: one cluster at a time on this machine's fixed monitor ports).
 */
export async function mirrorFollowsChanges(
  t: Deno.TestContext,
  server: CephServer,
  tmp: string,
): Promise<void> {
  await createBucket(server, "changed");
  const store = storeOf(server, "changed");
  const root = join(tmp, "worker");
  const location = { bucket: "changed", prefix: "changed/" };
  const part = "day=2026-01-20/part-000001.jsonl";
  await writePart(root, part, fullRun("run-aaaa", T0));
  assert.equal((await shipOnce(root, store, location)).chunksPut, 1);
  await writePart(root, part, fullRun("run-bbbb", T0 + 1000), { append: true });
  assert.equal((await shipOnce(root, store, location)).chunksPut, 1);
  const keys: string[] = [];
  for await (const o of store.list("changed/events/")) keys.push(o.key);
  keys.sort();
  assert.equal(keys.length, 2);
  const old = join(tmp, "old-reader");
  let r = await rebuildFrom(old, "s3://changed/changed");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await runIds(old), ["run-aaaa", "run-bbbb"]);

  await t.step("the same bytes written again under another ETag are no change", async () => {
    const before = await store.get(keys[0]);
    await overwriteObjectMultipart(server, "changed", keys[0], before);
    r = await rebuildFrom(old, "s3://changed/changed");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, ""); // nothing changed: no warning
    assert.match(r.stdout, /fetched 0 new chunks/);
    assert.deepEqual(await runIds(old), ["run-aaaa", "run-bbbb"]);
  });

  await t.step("a chunk rewritten with other bytes of the same size", async () => {
    const before = await store.get(keys[0]);
    const text = new TextDecoder().decode(before).replaceAll("run-aaaa", "run-cccc");
    const after = new TextEncoder().encode(text);
    assert.equal(after.length, before.length); // the listing's size says nothing
    await overwriteObject(server, "changed", keys[0], after);
    r = await rebuildFrom(old, "s3://changed/changed");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr.replaceAll("\n", " "),
      /warning: 1 part\(s\) changed in the bucket after they were mirrored .*: day=2026-01-20\/part-000001\.[0-9a-f]{12}\.jsonl \(changed\/events\/day=2026-01-20\/part-000001\.[0-9a-f]{12}\.0{16}\.jsonl\)/,
    );
    assert.deepEqual(await runIds(old), ["run-bbbb", "run-cccc"]);
    // Every mirror of the bucket holds the same bytes: a fresh one gives the same index.
    const fresh = join(tmp, "fresh-reader");
    r = await rebuildFrom(fresh, "s3://changed/changed");
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /changed in the bucket/); // nothing was mirrored before
    await assertSameIndex(old, fresh);
    // Said once: the next pass finds the bucket as the mirror holds it.
    r = await rebuildFrom(old, "s3://changed/changed");
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /changed in the bucket/);
  });

  await t.step("a part's last chunk removed", async () => {
    assert.equal(await deletePrefix(server, "changed", keys[1]), 1);
    r = await rebuildFrom(old, "s3://changed/changed");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr.replaceAll("\n", " "),
      /warning: 1 part\(s\) changed in the bucket after they were mirrored .*: day=2026-01-20\/part-000001\.[0-9a-f]{12}\.jsonl/,
    );
    assert.deepEqual(await runIds(old), ["run-cccc"]);
    const fresh = join(tmp, "fresh-reader-2");
    r = await rebuildFrom(fresh, "s3://changed/changed");
    assert.equal(r.code, 0, r.stderr);
    await assertSameIndex(old, fresh);
  });
  await t.step(
    "a chunk rewritten while its part grew: the index reads the part again",
    async () => {
      // A probe: the mirror fetched the part again, but the index saw a file that grew with its
      // last indexed line unchanged and read only the new bytes: the rewritten event stayed as it
      // was (exit 0, while the warning said the index re-reads it), unlike a fresh index.
      const worker = join(tmp, "grown-worker");
      const grown = { bucket: "changed", prefix: "grown/" };
      await writePart(worker, part, fullRun("run-dddd", T0));
      assert.equal((await shipOnce(worker, store, grown)).chunksPut, 1);
      const reader = join(tmp, "grown-reader");
      r = await rebuildFrom(reader, "s3://changed/grown");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await runIds(reader), ["run-dddd"]);
      await writePart(worker, part, fullRun("run-ffff", T0 + 1000), { append: true });
      assert.equal((await shipOnce(worker, store, grown)).chunksPut, 1);
      const [first] = (await Array.fromAsync(store.list("grown/events/"))).map((o) => o.key).sort();
      const before = new TextDecoder().decode(await store.get(first));
      await overwriteObject(
        server,
        "changed",
        first,
        new TextEncoder().encode(before.replaceAll("run-dddd", "run-eeee")),
      );
      // The mirror's pass alone, as in a rebuild killed after it: what to read again is kept.
      const [cacheRoot] = (await Array.fromAsync(Deno.readDir(join(reader, "remote"))))
        .map((d) => join(reader, "remote", d.name));
      const pass = await mirrorBucket(store, grown, cacheRoot);
      assert.equal(pass.chunksFetched, 2);
      assert.deepEqual(Object.keys(pass.reread), [pass.changedParts[0].part]);
      const stateOf = async () =>
        JSON.parse(await Deno.readTextFile(join(cacheRoot, "mirror.json"))).reread;
      assert.deepEqual(await stateOf(), pass.reread);
      r = await rebuildFrom(reader, "s3://changed/grown");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /fetched 0 new chunks/); // the pass above fetched them
      assert.deepEqual(await runIds(reader), ["run-eeee", "run-ffff"]);
      assert.deepEqual(await stateOf(), {}); // read: forgotten
      const fresh = join(tmp, "grown-fresh");
      r = await rebuildFrom(fresh, "s3://changed/grown");
      assert.equal(r.code, 0, r.stderr);
      await assertSameIndex(reader, fresh);
    },
  );
}
