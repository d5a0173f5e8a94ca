/**
 * Runs whose `config` and `summary` are large (100 KB each, well under the
 * line limit) at the smallest memory limit. A probe: the derive ranked the
 * `run.created` rows whole and kept each run's summary in an aggregate
 * state, so every config or summary was held at once; 2,000 such runs (400
 * MB of log) failed a full rebuild at the default limit and 300 at 128MB.
 * The derive now picks rows by their small columns and reads the picked
 * rows' JSON after.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { longOnly, withTempDir } from "../_helpers.ts";
import { query } from "./_fixtures.ts";

/** Runs of the first file: the 128MB failure began between 200 and 300 (probe). */
const RUNS = 300;
/** Runs the incremental rebuild adds. */
const MORE_RUNS = 40;
const VALUE_BYTES = 100_000;
const T0 = Date.UTC(2026, 0, 20);

/** Two lines of run `i`: its creation with a large config, its completion with a large summary. */
function runLines(i: number): string {
  const runId = `big-${String(i).padStart(4, "0")}`;
  const blob = String.fromCharCode(97 + (i % 26)).repeat(VALUE_BYTES);
  const t = T0 + 2 * i;
  return JSON.stringify({
    event_type: "run.created",
    event_id: `${runId}-c`,
    timestamp_ms: t,
    run_id: runId,
    run_type: "sweep",
    config: { blob, i },
    data_fingerprint: "f",
  }) + "\n" + JSON.stringify({
    event_type: "run.completed",
    event_id: `${runId}-d`,
    timestamp_ms: t + 1,
    run_id: runId,
    summary: { blob, i },
    artifact_paths: { report: `reports/${runId}.html` },
  }) + "\n";
}

async function writeRuns(path: string, from: number, to: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  for (let i = from; i < to; i++) await file.write(encoder.encode(runLines(i)));
}

/** What the index holds of each run's config and summary: their length and their `i`. */
async function picked(db: string): Promise<Record<string, unknown>[]> {
  return await query(
    db,
    `SELECT d.run_id, strlen(d.config) AS config_bytes, d.config->>'$.i' AS config_i,
      strlen(s.summary_json) AS summary_bytes, s.summary_json->>'$.i' AS summary_i,
      s.artifact_paths_json->>'$.report' AS report
    FROM runs_d d JOIN runs_status s USING (run_id) ORDER BY d.run_id`,
  );
}

Deno.test({
  name: "the run tables of runs with 100 KB configs and summaries derive at 128MB",
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    await writeRuns(join(day, "part-000001.jsonl"), 0, RUNS);
    const db = join(root, "index", "runs.duckdb");
    const full = await rebuildIndex(root, { full: true, memoryLimit: "128MB" });
    assert.equal(full.runs, RUNS);
    assert.equal(full.errors, 0);
    // A second file: the incremental derive reads the new runs' span only.
    await writeRuns(join(day, "part-000002.jsonl"), RUNS, RUNS + MORE_RUNS);
    const more = await rebuildIndex(root, { memoryLimit: "128MB" });
    assert.equal(more.mode, "incremental");
    assert.equal(more.runs, RUNS + MORE_RUNS);
    const rows = await picked(db);
    assert.equal(rows.length, RUNS + MORE_RUNS);
    for (const [k, row] of rows.entries()) {
      const i = String(k);
      const valueBytes = JSON.stringify({ blob: "", i: k }).length + VALUE_BYTES;
      assert.deepEqual(row, {
        run_id: `big-${i.padStart(4, "0")}`,
        config_bytes: valueBytes,
        config_i: i,
        summary_bytes: valueBytes,
        summary_i: i,
        report: `reports/big-${i.padStart(4, "0")}.html`,
      });
    }
  });
});

/** Trials of the sweep below, each recorded COPIES times with PARAMS_BYTES of params. */
const TRIALS = 26;
const COPIES = 3;
/** Near the line limit: the probe's trials were 900 KB (old code failed from 24 trials here). */
const PARAMS_BYTES = 900_000;

// A probe: a sweep whose trials were recorded again (a retry with new ids) ranked the copies of
// each trial with their params, so every copy's 900 KB was held at once: 60 trials recorded three
// times (155 MB of log) ran out of memory at 256MB, and 11 times (567 MB) at the default limit.
// The copies are now ranked by their small columns and only the picked rows' JSON is read.
Deno.test({
  name: "trials recorded more than once with 900 KB params derive at 128MB",
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    using file = await Deno.open(join(day, "part-000001.jsonl"), { write: true, create: true });
    const encoder = new TextEncoder();
    const line = (event: Record<string, unknown>) => encoder.encode(JSON.stringify(event) + "\n");
    await file.write(line({
      event_type: "run.created",
      event_id: "sweep-c",
      timestamp_ms: T0,
      run_id: "sweep",
      run_type: "sweep",
      config: {},
      data_fingerprint: "f",
    }));
    for (let copy = 0; copy < COPIES; copy++) {
      for (let t = 0; t < TRIALS; t++) {
        await file.write(line({
          event_type: "trial.recorded",
          event_id: `t${t}-${copy}`,
          timestamp_ms: T0 + 1 + copy,
          run_id: "sweep",
          trial_id: `t${t}`,
          params: { blob: "p".repeat(PARAMS_BYTES), copy },
          metrics: { copy },
        }));
      }
    }
    const report = await rebuildIndex(root, { full: true, memoryLimit: "128MB" });
    assert.equal(report.events, 1 + TRIALS * COPIES);
    const rows = await query(
      join(root, "index", "runs.duckdb"),
      `SELECT count(*) AS trials, min(params->>'$.copy') AS low, max(params->>'$.copy') AS high,
        min(strlen(params)) AS bytes, min(metrics->>'$.copy') AS metrics_copy
      FROM trial_results`,
    );
    const last = String(COPIES - 1);
    const bytes = JSON.stringify({ blob: "", copy: 0 }).length + PARAMS_BYTES;
    // One row per trial, its last copy's params and metrics.
    assert.deepEqual(rows, [{ trials: TRIALS, low: last, high: last, bytes, metrics_copy: last }]);
  });
});
