/**
 * A batch over several days (`ledger emit --stdin`) is all or nothing in
 * every listing of the log, not only on disk (SPEC 8): the indexer takes the
 * shared parts' sizes one after another, each under its lock, and a batch
 * that committed between two of them was in one day's size and not in the
 * other's (helper-298: a 17-line batch over two days indexed 9 of 17 until
 * the next rebuild). Such a batch names its parts in the cross-day log
 * before it appends, and the listing takes them again. Real `ledger emit`
 * processes write here, between the listing's steps and beside it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { listPartFiles, type PartFile } from "../../indexer/_files.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

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

Deno.test("listing: a two-day batch committed between two parts' sizes is listed whole", async () => {
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
    // Whole: both of its lines listed (its writer acknowledged them before the listing ended).
    assert.deepEqual(linesListed(files, '"batch"'), {
      [DAYS[0]]: 1,
      [DAYS[1]]: 0,
      [DAYS[2]]: 1,
    });
    for (const f of files) assert.equal(f.sizeBytes, Deno.statSync(f.path).size, f.file);
    // The log the batch left for readers is no batch record: verify says nothing of it.
    const verified = await runLedger(["verify", "--root", root, "--strict"]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.doesNotMatch(verified.stdout, /\.pending/);
  });
});

Deno.test("listing: a two-day batch that makes a new day meanwhile is listed whole", async () => {
  await withTempDir(async (root) => {
    await emitBatch(root, [noteLine("seed", DAYS[0], "seed"), noteLine("seed", DAYS[1], "seed")]);
    let ran = 0;
    const files = await listPartFiles(root, undefined, undefined, {
      afterShared: async (f) => {
        if (f.day !== DAYS[0] || ran++ > 0) return;
        // The events folder was read before this day existed.
        await emitBatch(root, [noteLine("batch", DAYS[0], "b0"), noteLine("batch", DAYS[2], "b2")]);
      },
    });
    assert.equal(ran, 1, "the batch ran inside the listing");
    assert.deepEqual(linesListed(files, '"batch"'), {
      [DAYS[0]]: 1,
      [DAYS[1]]: 0,
      [DAYS[2]]: 1,
    });
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
