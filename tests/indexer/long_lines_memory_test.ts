/**
 * A full rebuild at the smallest memory limit reads a log whose batches
 * each hold a line of about 1 MB that is costly to parse (an array of half
 * a million numbers) beside costly short lines. Such a batch is staged, its
 * long line checked in a statement of its own: a review of 3153fa4, which
 * let a batch's long lines (up to a slice in all) go through the fast
 * path's one statement, found this log out of memory at 128MB there (a
 * vector held the long line and about 2,040 short ones) and indexed by the
 * code before it; that commit is reverted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { LINE_BYTES_MAX } from "../../ledger/limits.ts";
import { longOnly, withTempDir } from "../_helpers.ts";

const FILES = 4;
/** Bytes of short lines a file holds: most of a 16 MiB batch (the batch size at 128MB). */
const SHORT_BYTES = 14_500_000;
const T0 = Date.UTC(2026, 0, 20);

let counter = 0;
function event(type: string, runId: string, ts: number, fields: Record<string, unknown>): string {
  counter += 1;
  const id = `${ts}_${counter.toString(16).padStart(8, "0")}`;
  return JSON.stringify({
    event_type: type,
    event_id: id,
    timestamp_ms: ts,
    run_id: runId,
    ...fields,
  });
}

/** A trial whose params hold an array of `n` zeros (2 bytes each in the text). */
function arrayTrial(runId: string, ts: number, trialId: string, n: number): string {
  return event("trial.recorded", runId, ts, {
    trial_id: trialId,
    params: { a: new Array(n).fill(0) },
    metrics: { s: 1 },
  });
}

Deno.test({
  name: "a full rebuild at 128MB reads batches of a 1 MB array line beside costly short lines",
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    let events = 0;
    for (let i = 0; i < FILES; i++) {
      const runId = `run-${i}`;
      const t = T0 + i * 10_000_000;
      const long = arrayTrial(runId, t + 2, "L", 519_000);
      assert.ok(long.length > 1_000_000 && long.length < LINE_BYTES_MAX, String(long.length));
      const lines = [
        event("run.created", runId, t, { run_type: "sweep", config: { i }, data_fingerprint: "f" }),
        event("run.started", runId, t + 1, {}),
        long,
      ];
      let bytes = 0;
      for (let k = 0; bytes < SHORT_BYTES; k++) {
        const line = arrayTrial(runId, t + 3 + k, `t${k}`, 500);
        lines.push(line);
        bytes += line.length + 1;
      }
      events += lines.length;
      await Deno.writeTextFile(join(day, `part-${i}.jsonl`), lines.join("\n") + "\n");
    }
    const progress: string[] = [];
    const report = await rebuildIndex(root, {
      full: true,
      memoryLimit: "128MB",
      onProgress: (line) => progress.push(line),
    });
    assert.equal(report.events, events);
    assert.equal(report.errors, 0);
    // Every batch holds a long line: staged, the long line checked apart.
    assert.match(
      progress.find((line) => line.startsWith("read ")) ?? "",
      /checked straight into events: 0 \(0 with bad lines\), staged: [1-9]\d*$/,
    );
  });
});
