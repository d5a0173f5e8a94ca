/**
 * Benchmark items 6-8 of issue 7: the read side of the ledger.
 *
 * 6. full rebuild at several log sizes vs a plain DuckDB `read_json` of the
 *    same files into one table (both as child processes, alternating), and
 *    the peak memory (max RSS) of the rebuild process;
 * 7. incremental rebuild after appending 1% to the largest log vs its full
 *    rebuild;
 * 8. `ledger runs` and `ledger show` as whole processes on an index of many
 *    runs, next to `deno run` of an empty file.
 *
 * The logs come from seeded generators in the repo (`generateLog` of
 * `bench/rebuild.ts`, `generateRunsLog` of `bench/_runs_log.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { generateLog } from "./rebuild.ts";
import type { BenchRow } from "./_result.ts";
import { generateRunsLog, runsLogRunId } from "./_runs_log.ts";
import { runChild, summarize, timeProcess } from "./_stats.ts";

/** Seed of the log of items 6-7. */
const LOG_SEED = 7;
/** Bytes in a MiB. */
const MIB = 1024 * 1024;

/** Permissions of the rebuild and read_json children. */
function childPermissions(dir: string): string[] {
  return ["--allow-read", `--allow-write=${dir}`, "--allow-env", "--allow-ffi", "--allow-sys"];
}

interface RebuildChildResult {
  elapsedMs: number;
  events: number;
  runs: number;
  mode: string;
  peakRssBytes: number;
}

interface ReadJsonChildResult {
  elapsedMs: number;
  rows: number;
  peakRssBytes: number;
}

/** Sizes of the read-side items. */
export interface IndexBenchOptions {
  /** Log sizes of item 6, in events; item 7 appends 1% to the last. */
  sizes: number[];
  /** Repetitions of each measurement of items 6 and 7. */
  repeat: number;
  /** Runs in the index of item 8. */
  runs: number;
  /** Whole-process runs of each command of item 8. */
  processRuns: number;
  /** Receives progress lines. */
  log: (message: string) => void;
}

function rebuild(dir: string, root: string, mode: "full" | "incremental") {
  return runChild<RebuildChildResult>("bench/_rebuild_child.ts", childPermissions(dir), [
    root,
    mode,
  ]);
}

/**
 * Items 6 and 7: full rebuild vs read_json at each size, peak memory, then
 * incremental after +1% to the largest log.
 *
 * @example
 * ```ts ignore
 * import { benchRebuild } from "./_index.ts";
 * const rows = await benchRebuild("/tmp/bench", {
 *   sizes: [10_000], repeat: 1, runs: 1000, processRuns: 3, log: console.error,
 * });
 * ```
 */
export async function benchRebuild(dir: string, options: IndexBenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let lastFullMs: number | null = null;
  let lastRoot = "";
  let lastEvents = 0;
  for (const size of options.sizes) {
    const root = join(dir, `log-${size}`);
    const log = await generateLog(root, { events: size, seed: LOG_SEED });
    options.log(
      `item 6: ${log.events} events, ${log.files} files, ${(log.bytes / MIB).toFixed(0)} MiB`,
    );
    const full: number[] = [];
    const plain: number[] = [];
    const peak: number[] = [];
    const plainPeak: number[] = [];
    for (let r = 0; r < options.repeat; r++) {
      const p = await runChild<ReadJsonChildResult>(
        "bench/_read_json_child.ts",
        childPermissions(dir),
        [root, join(dir, "plain.duckdb")],
      );
      plain.push(p.elapsedMs);
      plainPeak.push(p.peakRssBytes / MIB);
      const f = await rebuild(dir, root, "full");
      full.push(f.elapsedMs);
      peak.push(f.peakRssBytes / MIB);
      options.log(`  read_json ${p.elapsedMs.toFixed(0)} ms, full rebuild ${f.elapsedMs} ms`);
    }
    const f = summarize(full).p50;
    const p = summarize(plain).p50;
    const isLargest = size === Math.max(...options.sizes);
    rows.push({
      item: 6,
      name: `full rebuild ${fmtCount(log.events)} events`,
      unit: "ms",
      median: f,
      reference: "DuckDB read_json",
      referenceMedian: p,
      ratio: f / p,
      target: isLargest ? "<= 1.5x read_json" : undefined,
      met: isLargest ? f / p <= 1.5 : undefined,
      note: `${(log.bytes / MIB).toFixed(0)} MiB, ${log.files} files, x${options.repeat}`,
    });
    rows.push({
      item: 6,
      name: `rebuild peak memory ${fmtCount(log.events)}`,
      unit: "MiB",
      median: summarize(peak).p50,
      reference: "read_json process",
      referenceMedian: summarize(plainPeak).p50,
      ratio: summarize(peak).p50 / summarize(plainPeak).p50,
      note: "max RSS (VmHWM) of the whole process",
    });
    if (isLargest) {
      lastFullMs = f;
      lastRoot = root;
      lastEvents = log.events;
    } else {
      await Deno.remove(root, { recursive: true });
    }
  }
  rows.push(await benchIncremental(dir, lastRoot, lastEvents, lastFullMs, options));
  await Deno.remove(lastRoot, { recursive: true });
  return rows;
}

/** Item 7: append 1% to the log (index up to date), then an incremental rebuild. */
async function benchIncremental(
  dir: string,
  root: string,
  events: number,
  fullMs: number | null,
  options: IndexBenchOptions,
): Promise<BenchRow> {
  const incremental: number[] = [];
  const added = Math.floor(events / 100);
  for (let r = 0; r < options.repeat; r++) {
    // New runs appended to existing part files of the first days (tails) and new ones.
    await generateLog(root, { events: added, seed: 100 + r, runPrefix: `more${r}` });
    const i = await rebuild(dir, root, "incremental");
    if (i.mode !== "incremental") throw new Error(`Expected an incremental rebuild, got ${i.mode}`);
    incremental.push(i.elapsedMs);
    options.log(`item 7: +${added} events, incremental ${i.elapsedMs} ms`);
  }
  const m = summarize(incremental).p50;
  return {
    item: 7,
    name: `incremental +1% to ${fmtCount(events)}`,
    unit: "ms",
    median: m,
    reference: "full rebuild",
    referenceMedian: fullMs,
    ratio: fullMs === null ? null : m / fullMs,
    target: "< 10% of full",
    met: fullMs === null ? null : m / fullMs < 0.1,
    note: `+${added} events x${options.repeat}`,
  };
}

/**
 * Item 8: `ledger runs` / `ledger show` whole-process time on an index of many runs.
 *
 * @example
 * ```ts ignore
 * import { benchQueries } from "./_index.ts";
 * const rows = await benchQueries("/tmp/bench", {
 *   sizes: [], repeat: 1, runs: 1000, processRuns: 3, log: console.error,
 * });
 * ```
 */
export async function benchQueries(dir: string, options: IndexBenchOptions): Promise<BenchRow[]> {
  const root = join(dir, "runs");
  const events = await generateRunsLog(root, options.runs);
  const built = await rebuild(dir, root, "full");
  options.log(`item 8: ${built.runs} runs (${events} events) indexed in ${built.elapsedMs} ms`);
  const perms = [
    "run",
    "--no-prompt",
    `--allow-read=${root},data`,
    "--allow-env=LEDGER_ROOT",
    "--allow-ffi=node_modules",
    "cli/ledger.ts",
  ];
  const commands: [string, string[]][] = [
    ["ledger runs", [...perms, "runs", "--root", root]],
    ["ledger runs --json", [...perms, "runs", "--root", root, "--json"]],
    ["ledger show", [...perms, "show", runsLogRunId(Math.floor(options.runs / 2)), "--root", root]],
  ];
  const emptyArgs = ["run", "--no-prompt", "bench/_empty.ts"];
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  const empty: number[] = [];
  const failures = new Map<string, string>();
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
  return commands.map(([name]) => {
    const failure = failures.get(name);
    if (failure !== undefined) {
      return { item: 8, name, unit: "ms", median: null, note: `not measured: ${failure}` };
    }
    const s = summarize(samples.get(name)!);
    return {
      item: 8,
      name,
      unit: "ms",
      median: s.p50,
      p99: s.p99,
      reference: "deno run empty file",
      referenceMedian: z.p50,
      ratio: s.p50 / z.p50,
      note: `${fmtCount(built.runs)} runs in the index, ${s.count} runs, whole process`,
    };
  });
}

/**
 * `1000000` -> `1M`, `100000` -> `100k`, other counts as they are.
 *
 * @example
 * ```ts
 * import { fmtCount } from "./_index.ts";
 * console.assert(fmtCount(1_000_000) === "1M");
 * ```
 */
export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e6 < 1e4) return `${Math.round(n / 1e6)}M`;
  if (n >= 1e3 && n % 1e3 < 50) return `${Math.round(n / 1e3)}k`;
  return String(n);
}
