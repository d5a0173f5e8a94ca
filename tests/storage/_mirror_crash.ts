/**
 * `rebuild-index --from` killed (SIGKILL) in the middle of a long first
 * fetch, against a real S3 server (Ceph RGW on loopback). A storage audit
 * found every chunk fetched before the kill thrown away: `mirror.json` was
 * written once, at the end of the pass, and the next pass cut back to it,
 * so 30 kills of a 15 s fetch of 1,100 chunks never got past the start and
 * the 31st run fetched all 1,100 again. The mirror keeps what it verified
 * as it goes, so the next pass fetches only what is left, and the index
 * equals the one a fresh mirror gives.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs } from "../_helpers.ts";
import { shipOnce } from "../../storage/ship.ts";
import { MIRROR_CHECKPOINT_CHUNKS } from "../../storage/bucket_index.ts";
import { type CephServer, createBucket, storeOf } from "./_server.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

/**
 * Parts shipped, one chunk each: enough past the kill that a second run
 * fetching everything again (the bug) fetches more than the bound allows.
 */
const PARTS = 200;
/** Mirror files the first fetch must have written before it is killed. */
const KILL_AFTER_FILES = 100;
/** Longest a ledger command of this test may run. */
const COMMAND_MS_MAX = 180_000;
/** Time between two looks at the mirror while the first fetch runs. */
const POLL_MS = 20;

function rebuildArgs(root: string): string[] {
  return denoScriptArgs(CLI_PATH, ["rebuild-index", "--root", root, "--from", "s3://crash/crash"], [
    "--allow-net=127.0.0.1",
  ]);
}

async function mirrorFiles(root: string): Promise<number> {
  let n = 0;
  try {
    for await (const remote of Deno.readDir(join(root, "remote"))) {
      const events = join(root, "remote", remote.name, "events");
      for await (const day of Deno.readDir(events)) {
        if (!day.isDirectory) continue;
        for await (const _ of Deno.readDir(join(events, day.name))) n++;
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return n; // not made yet
    throw err;
  }
  return n;
}

/**
 * The test, on a running server whose `AWS_*` variables are set in this
 * process, with `tmp` to work in (`ship_test.ts` runs it on its server: one
 * cluster at a time on this machine's fixed monitor ports).
 */
export async function mirrorKeepsFetched(server: CephServer, tmp: string): Promise<void> {
  assert(KILL_AFTER_FILES > 1.5 * MIRROR_CHECKPOINT_CHUNKS && KILL_AFTER_FILES < PARTS);
  await createBucket(server, "crash");
  const worker = join(tmp, "worker");
  for (let i = 0; i < PARTS; i++) {
    const part = `day=2026-01-20/part-${String(i).padStart(6, "0")}.jsonl`;
    await writePart(worker, part, fullRun(`crash-${i}`, T0 + i).slice(0, 2));
  }
  const shipped = await shipOnce(worker, storeOf(server, "crash"), {
    bucket: "crash",
    prefix: "crash/",
  });
  assert.equal(shipped.chunksPut, PARTS);

  const reader = join(tmp, "reader");
  const child = new Deno.Command(Deno.execPath(), {
    args: rebuildArgs(reader),
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const started = Date.now();
  while ((await mirrorFiles(reader)) < KILL_AFTER_FILES) {
    assert(Date.now() - started < COMMAND_MS_MAX, "the first fetch did not get far enough");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL"); // killed mid-fetch, not finished

  const again = await new Deno.Command(Deno.execPath(), {
    args: rebuildArgs(reader),
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    signal: AbortSignal.timeout(COMMAND_MS_MAX),
  }).output();
  const stdout = new TextDecoder().decode(again.stdout);
  assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
  const fetched = Number(/fetched (\d+) new chunks/.exec(stdout)?.[1]);
  // What the kill left for the second run: at most the chunks since the last checkpoint.
  assert(
    fetched <= PARTS - KILL_AFTER_FILES + MIRROR_CHECKPOINT_CHUNKS,
    `the second run fetched ${fetched} of ${PARTS} chunks: ${stdout}`,
  );
  assert.match(stdout, new RegExp(`^Indexed ${PARTS * 2} events of ${PARTS} runs`));

  // The mirror holds every part byte for byte (a file per part: <stem>.<fingerprint>.jsonl),
  // so the index read it all; a fresh mirror would read the same bytes.
  const [remote] = [...Deno.readDirSync(join(reader, "remote"))].map((e) => e.name);
  const mirrorDay = join(reader, "remote", remote, "events", "day=2026-01-20");
  const mirrored = [...Deno.readDirSync(mirrorDay)].map((e) => e.name).sort();
  assert.equal(mirrored.length, PARTS);
  for (const name of mirrored) {
    const stem = name.replace(/\.[0-9a-f]{12}\.jsonl$/, "");
    assert.deepEqual(
      await Deno.readFile(join(mirrorDay, name)),
      await Deno.readFile(join(worker, "events", "day=2026-01-20", `${stem}.jsonl`)),
      name,
    );
  }
}
