/**
 * A batch over several days (`ledger emit --stdin`) is all or nothing in
 * every listing of the log, not only on disk (SPEC 8): the indexer takes the
 * shared parts' sizes one after another, each under its lock, and a batch
 * that committed between two of them was in one day's size and not in the
 * other's (helper-298: a 17-line batch over two days indexed 9 of 17 until
 * the next rebuild). Such a batch names its parts and their sizes before it
 * in the cross-day log before it appends, and a listing that holds it on
 * one part and not another leaves it out of both. Real `ledger emit`
 * processes write here, between the listing's steps and beside it, and one
 * slower than the reader's lock wait (helper-301).
 *
 * @module
 */
import assert from "node:assert/strict";
import { listPartFiles, type PartFile } from "../../indexer/_files.ts";
import { READER_LOCK_WAIT_MS } from "../../ledger/shared_part.ts";
import { denoScriptArgs, LineCollector, logText, runLedger, withTempDir } from "../_helpers.ts";

/** The batch's days: the first is listed before the batch, the last after it. */
const DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"] as const;

/** One `emit --stdin` line of run `runId` on `day` (noon UTC). */
function noteLine(runId: string, day: string, note: string): string {
  const timestamp_ms = Date.parse(`${day}T12:00:00Z`);
  return JSON.stringify({ event_type: "run.noted", run_id: runId, note, timestamp_ms });
}

/** Emit `lines` as one batch (a real `ledger emit --stdin`). */
async function emitBatch(root: string, lines: readonly string[]): Promise<void> {
  const emitted = await runLedger(["emit", "--root", root, "--stdin"], {
    stdin: lines.join("\n") + "\n",
  });
  assert.equal(emitted.code, 0, emitted.stderr);
}

/** How many lines naming `marker` each listed part holds up to its listed size. */
function linesListed(files: readonly PartFile[], marker: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of files) {
    const bytes = Deno.readFileSync(f.path).subarray(0, f.sizeBytes);
    const text = new TextDecoder().decode(bytes);
    counts[f.day] = text.split("\n").filter((line) => line.includes(marker)).length;
  }
  return counts;
}

Deno.test("listing: a two-day batch committed between two parts' sizes is not listed half", async () => {
  await withTempDir(async (root) => {
    // One line on each day first, so each day has its shared part before the listing.
    await emitBatch(root, DAYS.map((day) => noteLine("seed", day, "seed")));
    let ran = 0;
    const files = await listPartFiles(root, undefined, undefined, {
      afterShared: async (f) => {
        if (f.day !== DAYS[0] || ran++ > 0) return;
        // The first day's size is taken: a batch over the first and last days commits now,
        // before the listing reaches the last day.
        await emitBatch(root, [noteLine("batch", DAYS[0], "b0"), noteLine("batch", DAYS[2], "b2")]);
      },
    });
    assert.equal(ran, 1, "the batch ran inside the listing");
    assert.deepEqual(files.map((f) => f.day), [...DAYS]);
    // Not half: the first day's size was taken before it, so it is left out of the last day's
    // too (its lines there wait for the next listing, as a batch being written does).
    assert.deepEqual(linesListed(files, '"batch"'), { [DAYS[0]]: 0, [DAYS[1]]: 0, [DAYS[2]]: 0 });
    const last = files.find((f) => f.day === DAYS[2])!;
    assert.ok(last.pendingBytes > 0, "the last day's part holds more than is listed");
    // The next listing has all of it.
    const next = await listPartFiles(root);
    assert.deepEqual(linesListed(next, '"batch"'), { [DAYS[0]]: 1, [DAYS[1]]: 0, [DAYS[2]]: 1 });
    for (const f of next) assert.equal(f.sizeBytes, Deno.statSync(f.path).size, f.file);
    // The log the batch left for readers is no batch record: verify says nothing of it.
    const verified = await runLedger(["verify", "--root", root, "--strict"]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.doesNotMatch(verified.stdout, /\.pending/);
  });
});

Deno.test("listing: a two-day batch that makes a new day meanwhile is not listed half", async () => {
  await withTempDir(async (root) => {
    await emitBatch(root, [noteLine("seed", DAYS[0], "seed"), noteLine("seed", DAYS[1], "seed")]);
    let ran = 0;
    const files = await listPartFiles(root, undefined, undefined, {
      afterShared: async (f) => {
        if (f.day !== DAYS[0] || ran++ > 0) return;
        // On the day listed next, and on a day the events folder was read without.
        await emitBatch(root, [noteLine("batch", DAYS[1], "b1"), noteLine("batch", DAYS[2], "b2")]);
      },
    });
    assert.equal(ran, 1, "the batch ran inside the listing");
    // Its new day's part is not in the listing: left out of the day listed after it too.
    assert.deepEqual(linesListed(files, '"batch"'), { [DAYS[0]]: 0, [DAYS[1]]: 0 });
    const next = await listPartFiles(root);
    assert.deepEqual(linesListed(next, '"batch"'), { [DAYS[0]]: 0, [DAYS[1]]: 1, [DAYS[2]]: 1 });
  });
});

/** A child appending a batch over two days whose second fdatasync is held (a slow disk). */
const SLOW_BATCH_CHILD = new URL("./_slow_batch_child.ts", import.meta.url).pathname;

Deno.test("listing: a batch holding its locks past the reader's wait is not listed half", async () => {
  await withTempDir(async (root) => {
    await emitBatch(root, [noteLine("seed", DAYS[0], "seed"), noteLine("seed", DAYS[2], "seed")]);
    // Held past the reader's wait on the first day's part, released during its wait on the
    // last day's (helper-301: the first taken without the lock, before the batch; the last
    // with it, after).
    const holdMs = READER_LOCK_WAIT_MS + 1_500;
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(SLOW_BATCH_CHILD, [root, DAYS[0], DAYS[2], String(holdMs)]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const said = new LineCollector(child.stdout);
    const stderr = new Response(child.stderr).text();
    await said.waitFor(1, 30_000);
    assert.deepEqual(said.lines, ["syncing"]);
    const started = performance.now();
    const files = await listPartFiles(root);
    const tookMs = performance.now() - started;
    const status = await child.status;
    assert.equal(status.code, 0, await stderr);
    assert.ok(tookMs >= READER_LOCK_WAIT_MS, `the listing waited past its wait (${tookMs} ms)`);
    const listed = linesListed(files, '"slow"');
    assert.ok(listed[DAYS[0]] === listed[DAYS[2]], `half a batch: ${JSON.stringify(listed)}`);
    const next = await listPartFiles(root);
    assert.deepEqual(linesListed(next, '"slow"'), { [DAYS[0]]: 1, [DAYS[2]]: 1 });
  });
});

/** Concurrent listings beside writers: how many. */
const STRESS_BATCHES = 40;
/** Day folders the listing walks (a slower listing, more room for a batch between two parts). */
const STRESS_DAYS = 120;

Deno.test("listing: no listing holds part of a two-day batch, beside real writers", async () => {
  await withTempDir(async (root) => {
    const days = Array.from(
      { length: STRESS_DAYS },
      (_, i) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
    );
    await emitBatch(root, days.map((day) => noteLine("seed", day, "seed")));
    const first = days[0];
    const last = days[days.length - 1];
    let writing = true;
    const writer = (async () => {
      try {
        for (let i = 0; i < STRESS_BATCHES; i++) {
          await emitBatch(root, [noteLine(`b${i}`, first, "x"), noteLine(`b${i}`, last, "y")]);
        }
      } finally {
        writing = false;
      }
    })();
    let listings = 0;
    let seenPartly = 0;
    let seenWhole = 0;
    while (writing) {
      const files = await listPartFiles(root);
      listings++;
      const ends = files.filter((f) => f.day === first || f.day === last);
      assert.equal(ends.length, 2);
      const texts = ends.map((f) =>
        new TextDecoder().decode(Deno.readFileSync(f.path).subarray(0, f.sizeBytes))
      );
      for (let i = 0; i < STRESS_BATCHES; i++) {
        const held = texts.filter((text) => text.includes(`"b${i}"`)).length;
        if (held === 1) seenPartly++;
        if (held === 2) seenWhole++;
      }
    }
    await writer;
    assert.equal(
      seenPartly,
      0,
      `${seenPartly} batches seen on one day only in ${listings} listings`,
    );
    assert.ok(seenWhole > 0 && listings > 1, `${listings} listings beside the writer saw no batch`);
  });
});

Deno.test("emit: a cross-day log that is no file fails a two-day batch whole, and says so", async () => {
  await withTempDir(async (root) => {
    await emitBatch(root, [noteLine("seed", DAYS[0], "seed"), noteLine("seed", DAYS[2], "seed")]);
    const log = `${root}/events/.pending/cross-day.log`;
    await Deno.remove(log);
    await Deno.mkdir(log);
    const before = await logText(root);
    const r = await runLedger(["emit", "--root", root, "--stdin"], {
      stdin: `${noteLine("b", DAYS[0], "x")}\n${noteLine("b", DAYS[2], "y")}\n`,
    });
    assert.equal(r.code, 1, r.stderr);
    // Named as what failed, not as the first day's part (helper-301).
    assert.match(r.stderr, /^ledger emit: .*Cannot write \S+\/cross-day\.log: .*several days/m);
    assert.equal(await logText(root), before, "nothing of the batch written");
    const verified = await runLedger(["verify", "--root", root]);
    assert.match(verified.stdout, /cross-day\.log is not a regular file: every emit --stdin batch/);
  });
});
