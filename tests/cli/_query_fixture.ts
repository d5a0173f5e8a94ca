/**
 * A ledger for the query-surface tests: five runs of a small policy sweep
 * (configs, summaries with a number stored as a string and a NaN written
 * the Python way), a path-only run, a failed run, trials, a caller summary
 * artifact and a manifest with git provenance.
 *
 * @module
 */
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger } from "../_helpers.ts";

/** Run ids of the fixture, oldest first. */
export const FIXTURE_RUNS = [
  "pol-a1",
  "pol-a2",
  "pol-b1",
  "pol-b2",
  "pol-c1",
  "path-x",
  "fail-y",
] as const;

function policyRun(
  runId: string,
  t: number,
  o: { stopPct: number; fee: number; winRate: unknown; mean: number; fp?: string },
): Record<string, unknown>[] {
  return [
    ev("run.created", runId, t, {
      run_type: "policy",
      config: { policy: { type: "fixed_stop", stopPct: o.stopPct }, fee_bps: o.fee },
      data_fingerprint: o.fp ?? "fp-sample",
    }),
    ev("run.started", runId, t + 1, { host: "elsewhere", pid: 1 }),
    ev("phase.started", runId, t + 2, { phase_name: "plan", phase_order: 0 }),
    ev("phase.completed", runId, t + 12, {
      phase_name: "plan",
      duration_ms: 10,
      output_summary: {},
    }),
    ev("phase.started", runId, t + 13, { phase_name: "execute", phase_order: 1 }),
    ev("phase.completed", runId, t + 13 + o.stopPct * 1000, {
      phase_name: "execute",
      duration_ms: o.stopPct * 1000,
      output_summary: { rows_out: 3 },
    }),
    ev("trial.recorded", runId, t + 400, {
      trial_id: "t1",
      params: { stopPct: o.stopPct },
      metrics: { sharpe: o.mean / 100, calls: 3 },
    }),
    ev("trial.recorded", runId, t + 401, {
      trial_id: "t2",
      params: { stopPct: o.stopPct * 2 },
      metrics: { sharpe: o.mean / 50, calls: 3 },
    }),
    ev("artifact.created", runId, t + 450, {
      artifact_type: "caller_summary",
      artifact_path: `artifacts/runs/${runId}/caller_summary.parquet`,
      size_bytes: 100,
    }),
    ev("run.completed", runId, t + 500, {
      summary: { win_rate: o.winRate, mean_return_bps: o.mean, calls_total: 3 },
      artifact_paths: { caller_summary: `artifacts/runs/${runId}/caller_summary.parquet` },
    }),
  ];
}

/** Build the fixture ledger under `root` and index it. */
export async function buildQueryFixture(root: string): Promise<void> {
  const lines = [
    ...policyRun("pol-a1", T0, { stopPct: 0.1, fee: 10, winRate: 0.25, mean: 50 }),
    ...policyRun("pol-a2", T0 + 60_000, { stopPct: 0.2, fee: 10, winRate: "0.3", mean: 80 }),
    ...policyRun("pol-b1", T0 + 120_000, { stopPct: 0.3, fee: 20, winRate: 0.5, mean: -20 }),
    ...policyRun("pol-b2", T0 + 86_400_000, {
      stopPct: 0.4,
      fee: 20,
      winRate: 0.75,
      mean: 120,
      fp: "fp-other",
    }),
    ...policyRun("pol-c1", T0 + 86_400_000 + 60_000, {
      stopPct: 0.5,
      fee: 5,
      winRate: 0.6,
      mean: 10,
    }),
    ev("run.created", "path-x", T0 + 2 * 86_400_000, {
      run_type: "path_only",
      config: { interval: "1m", name: 'it\'s "quoted"' },
      data_fingerprint: "fp-sample",
    }),
    ev("run.started", "path-x", T0 + 2 * 86_400_000 + 1),
    ev("run.completed", "path-x", T0 + 2 * 86_400_000 + 50, {
      summary: { hit_2x_rate: 0.4, median_peak_multiple: 1.8 },
      artifact_paths: {},
    }),
    ev("run.created", "fail-y", T0 + 3 * 86_400_000, {
      run_type: "policy",
      config: { policy: { type: "fixed_stop", stopPct: 0.9 }, fee_bps: 10 },
      data_fingerprint: "fp-sample",
    }),
    ev("run.started", "fail-y", T0 + 3 * 86_400_000 + 1),
    ev("run.failed", "fail-y", T0 + 3 * 86_400_000 + 5, { error: { message: "boom" } }),
  ];
  await writePart(root, "day=2026-01-20/part-q1.jsonl", lines);
  // A summary with NaN, as Python's json.dumps writes it.
  const nanDir = join(root, "events", "day=2026-01-20");
  await Deno.writeTextFile(
    join(nanDir, "part-q2.jsonl"),
    JSON.stringify(ev("run.created", "nan-z", T0 + 30_000, {
      run_type: "policy",
      config: { policy: { type: "fixed_stop", stopPct: 0.15 }, fee_bps: 10 },
      data_fingerprint: "fp-sample",
    })) + "\n" +
      JSON.stringify(ev("run.started", "nan-z", T0 + 30_001)) + "\n" +
      JSON.stringify(ev("run.completed", "nan-z", T0 + 30_100, {
        summary: { win_rate: "__NAN__", mean_return_bps: 1 },
        artifact_paths: {},
      })).replace('"__NAN__"', "NaN") + "\n",
  );
  await writeCallerSummaries(root);
  await writeManifest(root, "pol-a1", { commit: "abc123", branch: "main", dirty: false });
  await writeManifest(root, "pol-b2", { commit: "def456", branch: "main", dirty: true });
  await rebuildIndex(root);
}

async function writeManifest(root: string, runId: string, git: Record<string, unknown>) {
  const dir = join(root, "artifacts", "runs", runId);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({ manifest_version: 1, run_id: runId, git }, null, 2),
  );
}

async function writeCallerSummaries(root: string): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    for (const [runId, rate] of [["pol-a1", 0.2], ["pol-b2", 0.8]] as const) {
      const dir = join(root, "artifacts", "runs", runId);
      await Deno.mkdir(dir, { recursive: true });
      const path = join(dir, "caller_summary.parquet").replaceAll("'", "''");
      await conn.run(
        `COPY (SELECT * FROM (VALUES ('alice', 2::BIGINT, ${rate}::DOUBLE, 10.0::DOUBLE,
            10.0::DOUBLE, 0.5::DOUBLE), ('bob', 1::BIGINT, 1.0::DOUBLE, 30.0::DOUBLE,
            30.0::DOUBLE, NULL::DOUBLE))
          AS t(caller, count, win_rate, mean_return_bps, median_return_bps, mean_tail_capture))
        TO '${path}' (FORMAT parquet)`,
      );
    }
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

/**
 * Emit one `run.created` per entry through `ledger emit` (`config` JSON
 * text, `fingerprint` the data fingerprint, "f" unless given), then index
 * `root`; throws when a command fails.
 */
export async function emitCreatedRuns(
  root: string,
  runs: readonly { id: string; config?: string; fingerprint?: string }[],
): Promise<void> {
  for (const run of runs) {
    const r = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", run.id],
      ...["--run-type", "policy", "--config", run.config ?? "{}"],
      ...["--data-fingerprint", run.fingerprint ?? "f"],
    ]);
    if (r.code !== 0) throw new Error(`emit ${run.id}: ${r.stderr}`);
  }
  const built = await runLedger(["rebuild-index", "--root", root]);
  if (built.code !== 0) throw new Error(`rebuild-index: ${built.stderr}`);
}

/** The run ids `ledger runs --root ROOT ...args` lists, sorted; throws on a failure. */
export async function listedRunIds(root: string, args: readonly string[]): Promise<string[]> {
  const r = await runLedger(["runs", "--root", root, ...args, "--format", "jsonl"]);
  if (r.code !== 0) throw new Error(`runs ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).run_id)
    .sort();
}
