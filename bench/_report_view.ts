/**
 * Benchmark of issue 13 (`ledger report`, `ledger ui`): the report of 100
 * policy runs (target <= 3 s) and a UI page on an index of 100k runs (target
 * <= 300 ms), each beside a peer measured in the same run: reading the same
 * runs through `getRun` (what `ledger show` does) for the report, and
 * `listRuns` of one page (what `ledger runs` does) for the UI.
 *
 * The 100 runs copy one real policy run on the sample data (its Parquet
 * artifacts under 100 run ids, events in one part file), so the report reads
 * 100 real artifacts.
 *
 * @module
 */
import { join } from "node:path";
import { getEventEmitter } from "../ledger/emitter.ts";
import { indexPath, runDir } from "../ledger/paths.ts";
import { runPolicy } from "../backtest/policy.ts";
import { rebuildIndex } from "../indexer/rebuild.ts";
import { getRun, listRuns } from "../indexer/queries.ts";
import { buildReport } from "../report/build.ts";
import { LiveIndex } from "../report/data.ts";
import { uiHandler } from "../report/server.ts";
import { generateRunsLog, runsLogRunId } from "./_runs_log.ts";
import type { BenchRow } from "./_result.ts";
import { summarize } from "./_stats.ts";

/** Item number in the bench table: the number. */
const ITEM = 13;
/** Target of the report of 100 runs, ms. */
const REPORT_TARGET_MS = 3_000;
/** Target of one UI page, ms. */
const PAGE_TARGET_MS = 300;

/** Options for {@linkcode benchReportViews}. */
export interface ReportBenchOptions {
  /** Runs in the report. @default {100} */
  reportRuns?: number;
  /** Runs in the UI's index. @default {100_000} */
  uiRuns?: number;
  /** Timed repetitions (after one warm-up). @default {5} */
  repeat?: number;
  /** Progress lines. */
  log: (message: string) => void;
}

/**
 * Measure the report and the UI pages; rows of item 13.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchReportViews } from "./_report_view.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Tiny sizes; bench/main.ts uses the defaults (100 and 100k runs, 5 repetitions).
 *   const rows = await benchReportViews(dir, {
 *     reportRuns: 2,
 *     uiRuns: 50,
 *     repeat: 1,
 *     log: () => {},
 *   });
 *   assert.deepEqual(rows.map((r) => r.name), [
 *     "ledger report, 2 runs",
 *     "ui overview page",
 *     "ui overview page, offset half way",
 *     "ui run page",
 *   ]);
 *   assert.ok(rows.every((r) => r.median !== null && r.median > 0));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchReportViews(
  dir: string,
  options: ReportBenchOptions,
): Promise<BenchRow[]> {
  const repeat = options.repeat ?? 5;
  const rows = await benchReport(join(dir, "report"), options.reportRuns ?? 100, repeat, options);
  rows.push(...await benchUi(join(dir, "ui"), options.uiRuns ?? 100_000, repeat, options));
  return rows;
}

async function timed(repeat: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up: module loads, file cache
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function benchReport(
  root: string,
  runs: number,
  repeat: number,
  options: ReportBenchOptions,
): Promise<BenchRow[]> {
  const ids = await copiesOfOnePolicyRun(root, runs);
  options.log(`item ${ITEM}: ${ids.length} policy runs made for the report`);
  let bytes = 0;
  const report = summarize(
    await timed(repeat, async () => {
      const built = await buildReport(root);
      bytes = new TextEncoder().encode(built.html).length;
    }),
  );
  const dbPath = indexPath(root);
  // One pass is enough for the peer: it opens the index once per run, 100 times.
  const t0 = performance.now();
  for (const id of ids) await getRun(dbPath, id);
  const peer = summarize([performance.now() - t0]);
  return [{
    item: ITEM,
    name: `ledger report, ${ids.length} runs`,
    unit: "ms",
    median: report.p50,
    p99: report.p99,
    reference: `getRun x ${ids.length} (ledger show's read)`,
    referenceMedian: peer.p50,
    ratio: report.p50 / peer.p50,
    target: `<= ${REPORT_TARGET_MS} ms`,
    met: report.p50 <= REPORT_TARGET_MS,
    note: `${(bytes / 1024 / 1024).toFixed(2)} MiB file (limit 3 MB); ${report.count} runs, ` +
      "in process",
  }];
}

async function benchUi(
  root: string,
  runs: number,
  repeat: number,
  options: ReportBenchOptions,
): Promise<BenchRow[]> {
  const events = await generateRunsLog(root, runs);
  const built = await rebuildIndex(root, {});
  options.log(`item ${ITEM}: ${built.runs} runs (${events} events) indexed for the UI`);
  const live = new LiveIndex(root);
  const handle = uiHandler(live);
  const get = async (path: string) => {
    const res = await handle(new Request(`http://127.0.0.1${path}`));
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    await res.text();
  };
  try {
    const pages: [string, string][] = [
      ["ui overview page", "/"],
      ["ui overview page, offset half way", `/?offset=${Math.floor(runs / 2)}`],
      ["ui run page", `/run/${runsLogRunId(Math.floor(runs / 2))}`],
    ];
    const dbPath = indexPath(root);
    const peer = summarize(await timed(repeat, () => listRuns(dbPath, { limit: 50 })));
    const rows: BenchRow[] = [];
    for (const [name, path] of pages) {
      const s = summarize(await timed(repeat, () => get(path)));
      rows.push({
        item: ITEM,
        name,
        unit: "ms",
        median: s.p50,
        p99: s.p99,
        reference: "listRuns limit 50 (ledger runs' read, opens the index)",
        referenceMedian: peer.p50,
        ratio: s.p50 / peer.p50,
        target: `<= ${PAGE_TARGET_MS} ms`,
        met: s.p50 <= PAGE_TARGET_MS,
        note: `${built.runs} runs in the index, ${s.count} requests, handler in process`,
      });
    }
    return rows;
  } finally {
    live.close();
  }
}

/** One real policy run on the sample data, then `count - 1` copies of it; the run ids. */
async function copiesOfOnePolicyRun(root: string, count: number): Promise<string[]> {
  const emitter = getEventEmitter({ root });
  let first: string;
  try {
    const result = await runPolicy({
      root,
      emitter,
      policy: { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 },
    });
    first = result.runId;
  } finally {
    await emitter.close();
  }
  const template = runDir(root, first);
  const ids = [first];
  const lines: string[] = [];
  const t0 = Date.now();
  for (let n = 1; n < count; n++) {
    const runId = `bench-report-${String(n).padStart(4, "0")}`;
    ids.push(runId);
    await Deno.mkdir(runDir(root, runId), { recursive: true });
    for await (const entry of Deno.readDir(template)) {
      await Deno.copyFile(join(template, entry.name), join(runDir(root, runId), entry.name));
    }
    const at = t0 - n * 3_600_000;
    const ev = (type: string, dt: number, fields: Record<string, unknown>) =>
      lines.push(JSON.stringify({
        event_type: type,
        event_id: `bench-report-${n}-${dt}`,
        run_id: runId,
        timestamp_ms: at + dt,
        schema_version: 1,
        ...fields,
      }));
    ev("run.created", 0, { run_type: "policy", config: { n }, data_fingerprint: "bench" });
    ev("run.started", 1, {});
    ev("phase.started", 2, { phase_name: "execute", phase_order: 0 });
    ev("phase.completed", 90, { phase_name: "execute", duration_ms: 88, output_summary: {} });
    ev("run.completed", 100, { summary: { count: 320, win_rate: 0.3 }, artifact_paths: {} });
  }
  const day = new Date(t0).toISOString().slice(0, 10);
  const dayDir = join(root, "events", `day=${day}`);
  await Deno.mkdir(dayDir, { recursive: true });
  await Deno.writeTextFile(join(dayDir, "part-bench-report.jsonl"), lines.join("\n") + "\n");
  await rebuildIndex(root, {});
  return ids;
}
