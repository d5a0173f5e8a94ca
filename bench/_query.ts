/**
 * Benchmark item 12: the query surface (issue 11) on an index of 100k
 * policy runs and 1M trials: `runs --where --sort --limit 50`, `compare` of
 * 3 runs, `trials --sort --limit 20` and `export runs --format parquet`,
 * each a whole `ledger` process, as a ratio to an empty `deno run`
 * measured in the same run. Targets (issue 11): 0.5 s, 0.4 s, 0.6 s, 3 s.
 * A first row, `ledger sql 'SELECT 1'`, is what each of them pays before its
 * query (start, DuckDB, the index opened); each row says how far above it it is.
 *
 * @module
 */
import { join } from "node:path";
import { mulberry32 } from "../backtest/sample_data.ts";
import { rebuildIndex } from "../indexer/rebuild.ts";
import { fmtCount } from "./_index.ts";
import type { BenchRow } from "./_result.ts";
import { summarize, timeProcess } from "./_stats.ts";

/** Options for {@linkcode benchQuerySurface}. */
export interface QueryBenchOptions {
  /** Runs in the index. */
  runs: number;
  /** Trials per run. */
  trialsPerRun: number;
  /** Timed processes per command (after one warm-up). */
  processRuns: number;
  /** Progress lines. */
  log: (message: string) => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const RUNS_PER_DAY = 5000;

/** The run id of run `n` of the generated log. */
export function queryRunId(n: number): string {
  return `q-${String(n).padStart(7, "0")}`;
}

/**
 * Write a log of `runs` completed policy runs with `trialsPerRun` trials
 * each (seeded); returns the number of events.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateQueryLog, queryRunId } from "./_query.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { listRuns } from "../indexer/queries.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const events = await generateQueryLog(root, 3, 2); // 3 runs of 2 trials each
 *   // Each run: created, started, 4 phases (started, completed), 2 trials, completed.
 *   assert.equal(events, 3 * (2 + 4 * 2 + 2 + 1));
 *   const report = await rebuildIndex(root, {});
 *   assert.equal(report.events, events);
 *   const runs = await listRuns(indexPath(root));
 *   assert.deepEqual(runs.map((r) => [r.run_id, r.status]), [
 *     [queryRunId(2), "completed"],
 *     [queryRunId(1), "completed"],
 *     [queryRunId(0), "completed"],
 *   ]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function generateQueryLog(
  root: string,
  runs: number,
  trialsPerRun: number,
): Promise<number> {
  const rand = mulberry32(23);
  const startMs = Date.UTC(2026, 0, 1);
  let events = 0;
  for (let first = 0; first < runs; first += RUNS_PER_DAY) {
    const dayStartMs = startMs + (first / RUNS_PER_DAY) * DAY_MS;
    const lines: string[] = [];
    for (let n = first; n < Math.min(runs, first + RUNS_PER_DAY); n++) {
      const runId = queryRunId(n);
      let t = dayStartMs + (n - first) * 10_000;
      const emit = (type: string, fields: Record<string, unknown>) => {
        t += 1;
        lines.push(JSON.stringify({
          event_type: type,
          event_id: `${t}_${n.toString(16).padStart(8, "0")}`,
          timestamp_ms: t,
          run_id: runId,
          ...fields,
        }));
        events++;
      };
      const stopPct = [0.1, 0.2, 0.3, 0.4, 0.5][n % 5];
      emit("run.created", {
        run_type: "policy",
        config: {
          policy: { type: "fixed_stop", stopPct, takeProfitPct: 1 },
          fee_bps: [5, 10, 20][n % 3],
          slippage_bps: 5,
        },
        data_fingerprint: `fp-${n % 7}`,
      });
      emit("run.started", { host: "bench", pid: 1 });
      for (const [i, phase] of ["plan", "load", "execute", "aggregate"].entries()) {
        emit("phase.started", { phase_name: phase, phase_order: i });
        emit("phase.completed", {
          phase_name: phase,
          duration_ms: Math.floor(rand() * 1000),
          output_summary: { rows_out: 10 },
        });
      }
      for (let k = 0; k < trialsPerRun; k++) {
        emit("trial.recorded", {
          trial_id: `t${k}`,
          params: { stopPct: stopPct + k / 100 },
          metrics: { sharpe: rand() * 3, win_rate: rand(), calls: 100 },
        });
      }
      emit("run.completed", {
        summary: {
          win_rate: rand(),
          mean_return_bps: rand() * 400 - 100,
          median_return_bps: rand() * 300 - 100,
          calls_total: 100,
        },
        artifact_paths: {},
      });
    }
    const day = new Date(dayStartMs).toISOString().slice(0, 10);
    const dir = join(root, "events", `day=${day}`);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-bench-query-1.jsonl"), lines.join("\n") + "\n");
  }
  return events;
}

/**
 * Measure the query commands on a generated index.
 *
 * @example
 * ```ts ignore
 * // Not run by the doc tests: it times 8 whole `ledger` processes (about 4 s), over their budget.
 * import assert from "node:assert";
 * import { benchQuerySurface } from "./_query.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Tiny sizes; bench/main.ts: 100k runs of 10 trials, 5 timed processes per command.
 *   const rows = await benchQuerySurface(dir, {
 *     runs: 20,
 *     trialsPerRun: 2,
 *     processRuns: 1,
 *     log: () => {},
 *   });
 *   assert.deepEqual(rows.map((r) => r.name), [
 *     "runs --where --sort --limit 50",
 *     "compare 3 runs",
 *     "trials --sort --limit 20",
 *     "export runs --format parquet",
 *   ]);
 *   assert.ok(rows.every((r) => r.median !== null && r.median > 0)); // no command failed
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchQuerySurface(
  dir: string,
  options: QueryBenchOptions,
): Promise<BenchRow[]> {
  const root = join(dir, "query");
  const events = await generateQueryLog(root, options.runs, options.trialsPerRun);
  const t0 = performance.now();
  await rebuildIndex(root, { full: true });
  options.log(
    `item 12: ${fmtCount(options.runs)} runs, ${
      fmtCount(options.runs * options.trialsPerRun)
    } trials (${events} events) indexed in ${Math.round(performance.now() - t0)} ms`,
  );
  const base = [
    "run",
    "--no-prompt",
    `--allow-read=${dir},data`,
    `--allow-write=${dir}`,
    "--allow-env=LEDGER_ROOT",
    "--allow-ffi=node_modules",
    "cli/ledger.ts",
  ];
  const mid = Math.floor(options.runs / 2);
  // What every query command pays before its query: Deno's start, DuckDB's native library and
  // its JavaScript API, the index opened, one trivial statement.
  const floorName = "floor: ledger sql 'SELECT 1'";
  const commands: [string, string[], number | undefined][] = [
    [floorName, [...base, "sql", "--root", root, "SELECT 1"], undefined],
    ["runs --where --sort --limit 50", [
      ...base,
      "runs",
      "--root",
      root,
      "--where",
      "summary.win_rate > 0.5 and config.fee_bps = 10",
      "--sort",
      "summary.mean_return_bps:desc",
      "--limit",
      "50",
    ], 500],
    ["compare 3 runs", [
      ...base,
      "compare",
      "--root",
      root,
      queryRunId(1),
      queryRunId(mid),
      queryRunId(options.runs - 1),
      "--json",
    ], 400],
    ["trials --sort --limit 20", [
      ...base,
      "trials",
      "--root",
      root,
      "--sort",
      "metrics.sharpe:desc",
      "--limit",
      "20",
    ], 600],
    ["export runs --format parquet", [
      ...base,
      "export",
      "runs",
      "--root",
      root,
      "--format",
      "parquet",
      "--out",
      join(dir, "runs.parquet"),
    ], 3000],
  ];
  const emptyArgs = ["run", "--no-prompt", "bench/_empty.ts"];
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  const failures = new Map<string, string>();
  const empty: number[] = [];
  for (let i = 0; i < options.processRuns + 1; i++) {
    for (const [name, args] of commands) {
      if (failures.has(name)) continue;
      const t = await timeProcess(args);
      if (t.code !== 0) failures.set(name, `exit ${t.code}: ${t.stderr.trim().split("\n")[0]}`);
      else if (i > 0) samples.get(name)!.push(t.wallMs); // the first run warms the cache
    }
    const e = await timeProcess(emptyArgs);
    if (i > 0) empty.push(e.wallMs);
  }
  await Deno.remove(root, { recursive: true });
  const z = summarize(empty);
  const floorSamples = samples.get(floorName)!;
  const floorMs = floorSamples.length > 0 ? summarize(floorSamples).p50 : null;
  return commands.map(([name, , targetMs]) => {
    const failure = failures.get(name);
    if (failure !== undefined) {
      return { item: 12, name, unit: "ms", median: null, note: `not measured: ${failure}` };
    }
    const s = summarize(samples.get(name)!);
    return {
      item: 12,
      name,
      unit: "ms",
      median: s.p50,
      p99: s.p99,
      reference: "deno run empty file",
      referenceMedian: z.p50,
      ratio: s.p50 / z.p50,
      target: targetMs === undefined ? undefined : `<= ${targetMs} ms whole process`,
      met: targetMs === undefined ? undefined : s.p50 <= targetMs,
      note:
        `${fmtCount(options.runs)} runs, ${
          fmtCount(options.runs * options.trialsPerRun)
        } trials; ${s.count} runs` + (targetMs === undefined
          ? "; what limits the rows below: every query command pays it before its query"
          : floorMs === null
          ? ""
          : `; ${Math.round(s.p50 - floorMs)} ms above the floor`),
    };
  });
}
