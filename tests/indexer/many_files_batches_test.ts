/**
 * A batch reads at most 10,000 files, whatever their bytes: a review found
 * 300,000 part files of one line each (69 MB, less than one batch of the
 * default limit) read in one batch, whose `read_text` of 300,000 paths took
 * a rebuild to 1.71 GiB. Full and incremental rebuilds of a log of 20,001
 * one-line files must read it in three batches and index every line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { withTempDir } from "../_helpers.ts";

const FILES = 20_001;
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

Deno.test("a rebuild reads 20,001 one-line part files in batches of at most 10,000 files", async () => {
  await withTempDir(async (root) => {
    await writeOneLineParts(root, 0, FILES);
    const progress: string[] = [];
    const full = await rebuildIndex(root, { full: true, onProgress: (p) => progress.push(p) });
    assert.deepEqual([full.events, full.runs, full.errors], [FILES, FILES, 0]);
    assert.equal(batchesRead(progress), 3);
    // An incremental rebuild of as many new files again: three batches of new files.
    await writeOneLineParts(root, FILES, FILES);
    progress.length = 0;
    const incremental = await rebuildIndex(root, { onProgress: (p) => progress.push(p) });
    assert.equal(incremental.mode, "incremental");
    assert.deepEqual([incremental.events, incremental.errors], [2 * FILES, 0]);
    assert.equal(batchesRead(progress), 3);
  });
});
