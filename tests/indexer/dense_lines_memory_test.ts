/**
 * Rebuilds at small memory limits read logs of lines that are costly to
 * check for their length: trials whose params hold arrays of zeros, the
 * densest JSON there is (`[0,0,...]`: a value every two bytes). DuckDB
 * checks 2048 lines at a time on each thread and every JSON function keeps
 * a vector's parsed documents, so such lines of 1-8 KB, checked in one
 * statement, ran full rebuilds at 128MB, 256MB and 512MB out of memory
 * (a review: 6 MB of 2 KB lines at 128MB). Lines longer than
 * `longLinesFor` the limit are now checked in slices, and a slice holds
 * what the limit leaves: four lines of 1 MB of zeros in one
 * slice of 4 MB ran a rebuild at 256MB out of memory (a second review).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { longLinesFor } from "../../indexer/_pipeline.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { memoryLimitBytes } from "../../indexer/memory_limit.ts";
import { longOnly, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);
/** Bytes of trial lines per file: several vectors of lines on each thread. */
const FILE_BYTES = 6_000_000;

/** A trial line of `bytes` bytes at most (and within 2 of it) whose params hold zeros. */
function zerosTrial(runId: string, ts: number, k: number, bytes: number): string {
  const base = {
    event_type: "trial.recorded",
    event_id: `${ts}_${k.toString(16).padStart(8, "0")}`,
    timestamp_ms: ts,
    run_id: runId,
    trial_id: `t${k}`,
    params: { a: [0] },
    metrics: { s: k },
  };
  const text = JSON.stringify(base);
  const zeros = Math.floor((bytes - text.length) / 2);
  const line = text.replace('"a":[0]', `"a":[0${",0".repeat(zeros)}]`);
  assert.ok(line.length <= bytes && line.length >= bytes - 2, `${line.length} for ${bytes}`);
  return line;
}

/**
 * Write a run of trials of lines of `bytes` bytes, about `fileBytes` of
 * them; the lines written.
 */
async function writeRun(
  root: string,
  index: number,
  bytes: number,
  fileBytes = FILE_BYTES,
): Promise<number> {
  const day = join(root, "events", "day=2026-01-20");
  await Deno.mkdir(day, { recursive: true });
  const runId = `run-${index}`;
  const t = T0 + index * 10_000_000;
  const lines = [JSON.stringify({
    event_type: "run.created",
    event_id: `${t}_created`,
    timestamp_ms: t,
    run_id: runId,
    run_type: "sweep",
    config: {},
    data_fingerprint: "f",
  })];
  for (let k = 0, size = 0; size < fileBytes; k++) {
    const line = zerosTrial(runId, t + 1 + k, index * 1_000_000 + k, bytes);
    lines.push(line);
    size += line.length + 1;
  }
  await Deno.writeTextFile(join(day, `part-${index}.jsonl`), lines.join("\n") + "\n");
  return lines.length;
}

for (const limit of ["128MB", "256MB"]) {
  Deno.test({
    name: `rebuilds at ${limit} read dense lines up to 8 KiB, one statement or sliced`,
    ignore: longOnly(import.meta.url),
  }, async () => {
    const bytes = memoryLimitBytes(limit);
    const longest = longLinesFor(bytes, bytes / 8).longLineBytes;
    assert.ok(longest < 4_000, `${limit} slices lines shorter than the 8 KiB default: ${longest}`);
    await withTempDir(async (root) => {
      // The longest lines checked in one statement, then lines sliced up to the default's 8 KiB.
      let events = await writeRun(root, 0, longest);
      events += await writeRun(root, 1, 8_000);
      const full = await rebuildIndex(root, { full: true, memoryLimit: limit });
      assert.equal(full.mode, "full");
      assert.deepEqual([full.events, full.errors], [events, 0]);
      // The incremental rebuild's check, as much of each: the stage path.
      events += await writeRun(root, 2, longest);
      events += await writeRun(root, 3, 2_000);
      const incremental = await rebuildIndex(root, { memoryLimit: limit });
      assert.equal(incremental.mode, "incremental");
      assert.deepEqual([incremental.events, incremental.errors], [events, 0]);
    });
  });
}

for (const limit of ["192MB", "256MB"]) {
  Deno.test(`a rebuild at ${limit} reads lines of 1 MB of zeros, a few in a batch`, async () => {
    await withTempDir(async (root) => {
      // Four lines of just under the line limit (1 MiB): 4 MB, one batch.
      const events = await writeRun(root, 0, 1_040_000, 4_000_000);
      assert.equal(events, 1 + 4);
      const full = await rebuildIndex(root, { full: true, memoryLimit: limit });
      assert.deepEqual([full.events, full.errors], [events, 0]);
    });
  });
}
