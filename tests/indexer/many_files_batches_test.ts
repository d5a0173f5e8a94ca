/**
 * A batch reads at most 10,000 files, whatever their bytes: a review found
 * 300,000 part files of one line each (69 MB, less than one batch of the
 * default limit) read in one batch, whose `read_text` of 300,000 paths took
 * a rebuild to 1.71 GiB. Full and incremental rebuilds of a log of twice the
 * files of a batch, and one more, must read it in three batches and index
 * every line. Run with `batchFilesMax` at 100 (201 files; 20,001 files at the
 * default took 30 s of the test suite), and the default checked apart.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkRebuildOptions, rebuildIndex } from "../../indexer/rebuild.ts";
import { withTempDir } from "../_helpers.ts";

/** Files per batch in this test. */
const BATCH_FILES = 100;
const FILES = 2 * BATCH_FILES + 1;
const T0 = Date.UTC(2026, 0, 20);

/** One `run.created` line in a part file of its own, spread over 100 days. */
async function writeOneLineParts(root: string, first: number, count: number): Promise<void> {
  for (let i = first; i < first + count; i++) {
    const day = new Date(T0 + (i % 100) * 86_400_000).toISOString().slice(0, 10);
    const dir = join(root, "events", `day=${day}`);
    if (i < first + 100) await Deno.mkdir(dir, { recursive: true });
    const line = JSON.stringify({
      event_type: "run.created",
      event_id: `e-${i}`,
      timestamp_ms: T0 + (i % 100) * 86_400_000 + i,
      run_id: `r-${i}`,
      run_type: "path_only",
      config: {},
      data_fingerprint: "f",
    });
    await Deno.writeTextFile(join(dir, `part-${String(i).padStart(6, "0")}.jsonl`), line + "\n");
  }
}

/** The batches a rebuild's progress line says it read. */
function batchesRead(progress: string[]): number {
  const line = progress.find((p) => p.startsWith("read ")) ?? "";
  const m = /checked straight into events: (\d+) .*, staged: (\d+)$/.exec(line);
  assert.ok(m !== null, line);
  return Number(m[1]) + Number(m[2]);
}

Deno.test("a batch reads at most 10,000 files by default", () => {
  assert.equal(checkRebuildOptions({}).batchFiles, 10_000);
  assert.throws(() => checkRebuildOptions({ batchFilesMax: 0 }), /batchFilesMax must be/);
});

Deno.test("a rebuild reads 201 one-line part files in batches of at most 100 files", async () => {
  await withTempDir(async (root) => {
    await writeOneLineParts(root, 0, FILES);
    const progress: string[] = [];
    const options = { batchFilesMax: BATCH_FILES, onProgress: (p: string) => progress.push(p) };
    const full = await rebuildIndex(root, { ...options, full: true });
    assert.deepEqual([full.events, full.runs, full.errors], [FILES, FILES, 0]);
    assert.equal(batchesRead(progress), 3);
    // An incremental rebuild of as many new files again: three batches of new files.
    await writeOneLineParts(root, FILES, FILES);
    progress.length = 0;
    const incremental = await rebuildIndex(root, options);
    assert.equal(incremental.mode, "incremental");
    assert.deepEqual([incremental.events, incremental.errors], [2 * FILES, 0]);
    assert.equal(batchesRead(progress), 3);
  });
});
