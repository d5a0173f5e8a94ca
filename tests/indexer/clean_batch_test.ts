/**
 * A full rebuild inserts each batch's valid events into `events` as they are
 * checked, without the stage table (`appendChecked` of `_pipeline.ts`), and
 * finds the bad lines of a batch only when DuckDB's count of the rows
 * inserted falls short of the lines read; after a few such batches it
 * stages the rest. Whichever way a batch went, the index must be the one
 * the stage gives: here the same log is indexed in full (batches of one
 * file: clean ones, seven with bad lines, long lines, a torn tail, an event
 * id written twice) and, from an empty index, file by file through
 * incremental rebuilds, which always stage.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, query, T0 } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

/** Files of the log, each its own batch (each is larger than the batch size). */
const FILES = 10;
/** Files holding bad lines: more than the batches that may find them on the fast path. */
const BAD_FILES = new Set([1, 3, 5, 6, 7, 8, 9]);
/** The smallest batch size a rebuild accepts. */
const BATCH_BYTES = 64 * 1024;

/** The lines of file `i`: a run's trials padded past one batch, bad lines where listed. */
function fileLines(i: number): string[] {
  const runId = `run-${i}`;
  const t = T0 + i * 1_000_000;
  const lines = [
    JSON.stringify(ev("run.created", runId, t, {
      run_type: "sweep",
      config: { i },
      data_fingerprint: "fp",
    })),
    JSON.stringify(ev("run.started", runId, t + 1)),
  ];
  for (let k = 0; k < 300; k++) {
    lines.push(JSON.stringify(ev("trial.recorded", runId, t + 2 + k, {
      trial_id: `t${k}`,
      params: { k, pad: "x".repeat(200) },
      metrics: { sharpe: k / 100 },
    })));
  }
  lines.push(
    JSON.stringify(ev("run.completed", runId, t + 400, { summary: {}, artifact_paths: {} })),
  );
  if (i === 9) lines.push(lines[2]); // a trial written twice: one copy loses deduplication
  // Lines past LONG_LINE_BYTES (8 KiB), checked in slices: valid ones, and a bad one in file 5.
  if (i === 0 || i === 3) {
    lines.splice(20, 0, JSON.stringify(ev("run.noted", runId, t + 7, { note: "n".repeat(9_000) })));
  }
  if (i === 5) {
    lines.splice(
      30,
      0,
      JSON.stringify(ev("run.noted", runId, t + 8, { note: 5, pad: "p".repeat(9_000) })),
    );
  }
  if (BAD_FILES.has(i)) {
    lines.splice(5 + i, 0, "not json at all");
    lines.splice(40, 0, JSON.stringify({ ...ev("run.noted", runId, t + 3), event_type: "bogus" }));
    lines.splice(41, 0, JSON.stringify(ev("run.started", runId, t + 5, { timestamp_ms: "soon" })));
  }
  return lines;
}

function partPath(root: string, i: number): string {
  return join(root, "events", "day=2026-01-20", `part-${String(i).padStart(2, "0")}.jsonl`);
}

/** The text of every file, made once: event ids come from a counter. */
const TEXTS = Array.from({ length: FILES }, (_, i) => {
  const text = fileLines(i).join("\n") + "\n";
  return i === 2 ? text + '{"event_type": "run.noted", "ru' : text; // torn: a writer mid-line
});

async function writeLog(root: string, upTo: number): Promise<void> {
  await Deno.mkdir(join(root, "events", "day=2026-01-20"), { recursive: true });
  for (let i = 0; i < upTo; i++) {
    await Deno.writeTextFile(partPath(root, i), TEXTS[i]);
    await Deno.utime(partPath(root, i), 1_800_000_000 + i, 1_800_000_000 + i);
  }
}

Deno.test("a full rebuild's clean and unclean batches index what staging every batch does", async () => {
  await withTempDir(async (dir) => {
    const fullRoot = join(dir, "full");
    await writeLog(fullRoot, FILES);
    const progress: string[] = [];
    const full = await rebuildIndex(fullRoot, {
      full: true,
      batchBytesMax: BATCH_BYTES,
      onProgress: (line) => progress.push(line),
    });
    // 11 batches (part-02's torn tail is one of its own): those of part-00, -03 and -05 hold a
    // line past 8 KiB and are staged (no miss); part-01, -06, -07 and -08 take the fast path and
    // find their bad lines after; part-09 comes after those 4 misses and is staged.
    // Files, then the ranges they are read in (a probe: ranges were said as files).
    const reading = progress.filter((line) => line.startsWith("reading "));
    assert.equal(reading.length, 1);
    assert.match(reading[0], /^reading 10 files in 11 ranges, \d+ bytes$/);
    assert.deepEqual(progress.filter((line) => line.startsWith("read ")), [
      "read 3056 lines: 3033 events, 23 errors; batches checked straight into events: 7 " +
      "(4 with bad lines), staged: 4",
    ]);
    // The reference: an empty index, then every file through an incremental rebuild.
    const stagedRoot = join(dir, "staged");
    await writeLog(stagedRoot, 0);
    await rebuildIndex(stagedRoot, { full: true, batchBytesMax: BATCH_BYTES });
    for (let upTo = 1; upTo <= FILES; upTo++) {
      await writeLog(stagedRoot, upTo);
      const report = await rebuildIndex(stagedRoot, { full: false, batchBytesMax: BATCH_BYTES });
      assert.equal(report.mode, "incremental");
    }
    assert.equal(full.filesRead, FILES);
    assert.equal(full.errorsFound, BAD_FILES.size * 3 + 2); // the long bad line, the torn tail
    const errors = await query(
      full.dbPath,
      "SELECT file, line, reason FROM ingest_errors ORDER BY file, line",
    );
    assert.deepEqual(errors.slice(0, 3), [
      { file: "day=2026-01-20/part-01.jsonl", line: 7, reason: "not JSON" },
      {
        file: "day=2026-01-20/part-01.jsonl",
        line: 41,
        reason: 'unknown event_type "bogus"',
      },
      {
        file: "day=2026-01-20/part-01.jsonl",
        line: 42,
        reason: "invalid field timestamp_ms: expected an integer between 0 and " +
          '253402300799999, got "soon"',
      },
    ]);
    assert.deepEqual(
      errors.filter((e) => String(e.reason).startsWith("torn tail")).map((e) => e.file),
      ["day=2026-01-20/part-02.jsonl"],
    );
    const [{ n }] = await query(full.dbPath, "SELECT count(*)::INTEGER AS n FROM events");
    assert.equal(n, FILES * 303 + 2);
    assert.equal(full.duplicates, 1);
    assert.deepEqual(
      await dumpTables(full.dbPath),
      await dumpTables(join(stagedRoot, "index", "runs.duckdb")),
    );
  });
});
