/**
 * Benchmark items 6-8 of issue 7: the read side of the ledger.
 *
 * 6. full rebuild at several log sizes vs a plain DuckDB `read_json` of the
 *    same files into one table (both as child processes, alternating), the
 *    peak memory (max RSS) of the rebuild process, and up to 5M events the
 *    floor under the rebuild: its events stored in a new index, the run
 *    tables derived and the file checkpointed, with no line read;
 * 7. incremental rebuild after appending 1% to the 1M log (or the largest
 *    below it) vs its full rebuild, and the floor under it: copying that
 *    index aside and publishing it, with no line read;
 *
 * plus, under item 6, the peak memory of each full rebuild against the
 * 1.5 GiB bound (sizes above {@linkcode READ_JSON_FLOOR_MAX_EVENTS} skip the
 * read_json floor: one run, time and peak memory only), and the rebuild time
 * of many one-line part files (20k and 40k: the ratio shows whether file
 * bookkeeping is linear, issue 19.7);
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
import { indexPath } from "../ledger/paths.ts";
import { listParts } from "../ledger/parts.ts";
import { publish, tempPathFor } from "../indexer/_publish.ts";
import type { BenchRow } from "./_result.ts";
import { generateRunsLog, runsLogRunId } from "./_runs_log.ts";
import { runChild, summarize, timeProcess } from "./_stats.ts";
import type { StoreFloorResult } from "./_store_floor_child.ts";

/** Seed of the log of items 6-7. */
const LOG_SEED = 7;
/** Bytes in a MiB. */
const MIB = 1024 * 1024;
/** Peak RSS bound of a full rebuild (issue 16), in MiB. */
const PEAK_RSS_TARGET_MIB = 1.5 * 1024;
/** Largest log also read with the read_json floor; larger ones are timed alone, once. */
export const READ_JSON_FLOOR_MAX_EVENTS = 20_000_000;
/** Largest log whose full rebuild is also timed against its floor (the speed target's sizes). */
const STORE_FLOOR_MAX_EVENTS = 5_000_000;
/** Log size of the incremental item (issue 16: +1% at 1M). */
const INCREMENTAL_AT_EVENTS = 1_000_000;

/** Permissions of the rebuild and read_json children. */
function childPermissions(dir: string): string[] {
  return ["--allow-read", `--allow-write=${dir}`, "--allow-env", "--allow-ffi", "--allow-sys"];
}

interface RebuildChildResult {
  phasesMs: Record<string, number>;
  elapsedMs: number;
  events: number;
  runs: number;
  mode: string;
  unchanged?: boolean;
  peakRssBytes: number;
}

interface ReadJsonChildResult {
  elapsedMs: number;
  rows: number;
  peakRssBytes: number;
}

/** Sizes of the read-side items. */
export interface IndexBenchOptions {
  /** Log sizes of item 6, in events; item 7 appends 1% to the 1M one (or the largest below). */
  sizes: number[];
  /** Part-file counts of the many-files rows (one line each). @default {[]} */
  manyFiles?: number[];
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
 * ```ts
 * import assert from "node:assert";
 * import { benchRebuild } from "./_index.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const lines: string[] = [];
 *   const rows = await benchRebuild(dir, {
 *     sizes: [300], // bench/main.ts: up to 50M events
 *     repeat: 1,
 *     runs: 1000, // runs and processRuns are item 8's (benchQueries)
 *     processRuns: 3,
 *     log: (line) => lines.push(line),
 *   });
 *   assert.match(lines[0], /^item 6: 303 events, 4 files/); // whole runs: a little over 300
 *   assert.deepEqual(rows.map((r) => r.name), [
 *     "full rebuild 303 events",
 *     "rebuild peak memory 303",
 *     "store and derive floor 303 events",
 *     "verify 303 events",
 *     "verify peak memory 303",
 *     "incremental +1% to 303",
 *     "incremental +17 events to 303", // one whole run: the fixed cost
 *     "incremental +19 events and 1 retried line to 303",
 *     "publish floor of the 303 index",
 *     "rebuild with nothing new, 303",
 *   ]);
 *   assert.ok(rows.every((r) => r.median !== null && r.median > 0));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchRebuild(dir: string, options: IndexBenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const incrementalAt = Math.max(
    ...options.sizes.filter((n) => n <= INCREMENTAL_AT_EVENTS),
    Math.min(...options.sizes),
  );
  for (const size of options.sizes) {
    const root = join(dir, `log-${size}`);
    const log = await generateLog(root, { events: size, seed: LOG_SEED });
    options.log(
      `item 6: ${log.events} events, ${log.files} files, ${(log.bytes / MIB).toFixed(0)} MiB`,
    );
    const withFloor = size <= READ_JSON_FLOOR_MAX_EVENTS;
    const repeat = size > 5_000_000 ? 1 : options.repeat;
    const full: number[] = [];
    const plain: number[] = [];
    const peak: number[] = [];
    const plainPeak: number[] = [];
    const floor: StoreFloorResult[] = [];
    let phases: Record<string, number> = {};
    for (let r = 0; r < repeat; r++) {
      if (withFloor) {
        const p = await runChild<ReadJsonChildResult>(
          "bench/_read_json_child.ts",
          childPermissions(dir),
          [root, join(dir, "plain.duckdb")],
        );
        await Deno.remove(join(dir, "plain.duckdb"));
        plain.push(p.elapsedMs);
        plainPeak.push(p.peakRssBytes / MIB);
      }
      const f = await rebuild(dir, root, "full");
      full.push(f.elapsedMs);
      peak.push(f.peakRssBytes / MIB);
      phases = f.phasesMs;
      if (withFloor && size <= STORE_FLOOR_MAX_EVENTS) {
        floor.push(await storeFloor(dir, root, f.events));
      }
      options.log(
        `  read_json ${plain.at(-1)?.toFixed(0) ?? "-"} ms, full rebuild ${f.elapsedMs} ms, ` +
          `peak ${(f.peakRssBytes / MIB).toFixed(0)} MiB` +
          (floor.length > 0
            ? `, store and derive floor ${floor.at(-1)!.elapsedMs.toFixed(0)} ms`
            : ""),
      );
    }
    const f = summarize(full).p50;
    const p = withFloor ? summarize(plain).p50 : null;
    const speedTarget = size >= 1_000_000 && size <= 5_000_000;
    rows.push({
      item: 6,
      name: `full rebuild ${fmtCount(log.events)} events`,
      unit: "ms",
      median: f,
      reference: withFloor ? "DuckDB read_json" : undefined,
      referenceMedian: p,
      ratio: p === null ? null : f / p,
      target: speedTarget ? "<= 1.5x read_json" : undefined,
      met: speedTarget && p !== null ? f / p <= 1.5 : undefined,
      note: `${(log.bytes / MIB).toFixed(0)} MiB, ${log.files} files, x${repeat}` +
        (withFloor ? "" : ", read_json floor not run at this size") +
        `; time went to ${phaseShares(phases)}`,
    });
    const peakMib = Math.max(...peak);
    rows.push({
      item: 6,
      name: `rebuild peak memory ${fmtCount(log.events)}`,
      unit: "MiB",
      median: peakMib,
      reference: withFloor ? "read_json process" : undefined,
      referenceMedian: withFloor ? Math.max(...plainPeak) : null,
      ratio: withFloor ? peakMib / Math.max(...plainPeak) : null,
      target: `<= ${PEAK_RSS_TARGET_MIB} MiB`,
      met: peakMib <= PEAK_RSS_TARGET_MIB,
      note: "max RSS (VmHWM) of the whole rebuild process, highest of the runs",
    });
    if (floor.length > 0 && p !== null) rows.push(storeFloorRow(log.events, floor, p));
    if (size === incrementalAt) {
      rows.push(...await benchVerify(dir, root, log.events, f, Math.max(...peak)));
      rows.push(await benchIncremental(dir, root, log.events, f, options));
      const fixedCost = await benchIncremental(
        dir,
        root,
        log.events,
        f,
        options,
        FIXED_COST_EVENTS,
      );
      rows.push(fixedCost);
      rows.push(
        await benchIncremental(dir, root, log.events, f, options, FIXED_COST_EVENTS, true),
      );
      const publishFloor = await benchPublishFloor(root, log.events, f, options);
      rows.push(publishFloor, await benchUnchanged(root, log.events, fixedCost, dir, options));
    }
    await Deno.remove(root, { recursive: true });
  }
  if ((options.manyFiles ?? []).length > 0) {
    rows.push(...await benchManyFiles(dir, options.manyFiles!, options));
  }
  return rows;
}

/**
 * Item 6's floor, in the same run as the full rebuild of `root` it follows:
 * the rebuild's own events stored into a new index, derived and
 * checkpointed, with no line read (`bench/_store_floor_child.ts`).
 */
async function storeFloor(dir: string, root: string, events: number): Promise<StoreFloorResult> {
  const out = join(dir, "floor.duckdb");
  const r = await runChild<StoreFloorResult>("bench/_store_floor_child.ts", childPermissions(dir), [
    indexPath(root),
    out,
  ]);
  await Deno.remove(out);
  if (r.events !== events) {
    throw new Error(`Floor stored ${r.events} events, the rebuild ${events}`);
  }
  return r;
}

/** The floor row: its time against read_json, and what 1.5x read_json leaves for the lines. */
function storeFloorRow(events: number, floor: StoreFloorResult[], readJsonMs: number): BenchRow {
  const m = summarize(floor.map((r) => r.elapsedMs)).p50;
  const part = (pick: (r: StoreFloorResult) => number) => summarize(floor.map(pick)).p50.toFixed(0);
  const left = 1.5 * readJsonMs - m;
  return {
    item: 6,
    name: `store and derive floor ${fmtCount(events)} events`,
    unit: "ms",
    median: m,
    reference: "DuckDB read_json",
    referenceMedian: readJsonMs,
    ratio: m / readJsonMs,
    note: `what limits the full rebuild: its events stored again in a new index with no line ` +
      `read (${part((r) => r.storeMs)} ms), the run tables derived ` +
      `(${part((r) => r.deriveMs)} ms), checkpoint and close ` +
      `(${part((r) => r.checkpointMs)} ms), x${floor.length}; 1.5x read_json leaves ` +
      `${left.toFixed(0)} ms to split, parse and check ${fmtCount(events)} lines`,
  };
}

/**
 * Full rebuild of `counts[i]` one-line part files each: the time per count,
 * and the ratio of each to the first scaled by the count (1.0 = linear).
 */
async function benchManyFiles(
  dir: string,
  counts: number[],
  options: IndexBenchOptions,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let firstMsPerFile: number | null = null;
  for (const count of counts) {
    const root = join(dir, `files-${count}`);
    await writeOneLineParts(root, count);
    const r = await rebuild(dir, root, "full");
    if (r.events !== count) throw new Error(`Expected ${count} events, indexed ${r.events}`);
    const msPerFile = r.elapsedMs / count;
    firstMsPerFile ??= msPerFile;
    options.log(`item 6: ${count} one-line part files, full rebuild ${r.elapsedMs} ms`);
    rows.push({
      item: 6,
      name: `full rebuild ${fmtCount(count)} one-line files`,
      unit: "ms",
      median: r.elapsedMs,
      reference: `${fmtCount(counts[0])} files, scaled by count`,
      referenceMedian: firstMsPerFile * count,
      ratio: msPerFile / firstMsPerFile,
      target: count === counts[0] ? undefined : "linear: per-file time <= 1.5x (was 8x at 40k)",
      met: count === counts[0] ? undefined : msPerFile / firstMsPerFile <= 1.5,
      note: `peak ${(r.peakRssBytes / MIB).toFixed(0)} MiB, x1`,
    });
    await Deno.remove(root, { recursive: true });
  }
  return rows;
}

/** `count` part files of one valid event each, in one day folder (as many CLI emits left). */
async function writeOneLineParts(root: string, count: number): Promise<void> {
  const dayDir = join(root, "events", "day=2026-01-20");
  await Deno.mkdir(dayDir, { recursive: true });
  const t0 = Date.UTC(2026, 0, 20);
  const encoder = new TextEncoder();
  for (let i = 0; i < count; i++) {
    const event = {
      event_type: i % 2 === 0 ? "run.created" : "run.started",
      event_id: `many-${i}`,
      timestamp_ms: t0 + i,
      run_id: `many-run-${Math.floor(i / 2)}`,
      schema_version: 1,
      ...(i % 2 === 0 ? { run_type: "path-only", config: {}, data_fingerprint: "x" } : {}),
    };
    const name = `part-${String(i).padStart(7, "0")}.jsonl`;
    await Deno.writeFile(join(dayDir, name), encoder.encode(JSON.stringify(event) + "\n"));
  }
}

/**
 * Events appended for item 7's second row: an incremental rebuild of so few
 * events is what any incremental pays whatever it reads (opening and copying
 * the index, planning the check query, probing the event ids, deriving,
 * checkpointing, publishing).
 */
const FIXED_COST_EVENTS = 10;

interface VerifyChildResult {
  elapsedMs: number;
  events: number;
  sound: boolean;
  peakRssBytes: number;
}

/**
 * Item 6's `ledger verify` rows, on the log just rebuilt: its time against
 * the full rebuild's, and its peak memory (an 8-byte fingerprint per event
 * and what each run needs) against the rebuild's.
 */
async function benchVerify(
  dir: string,
  root: string,
  events: number,
  fullMs: number,
  rebuildPeakMib: number,
): Promise<BenchRow[]> {
  const v = await runChild<VerifyChildResult>("bench/_verify_child.ts", childPermissions(dir), [
    root,
  ]);
  if (v.events !== events || !v.sound) {
    throw new Error(`verify counted ${v.events} events (sound: ${v.sound}), the log has ${events}`);
  }
  const peakMib = v.peakRssBytes / MIB;
  return [{
    item: 6,
    name: `verify ${fmtCount(events)} events`,
    unit: "ms",
    median: v.elapsedMs,
    reference: "full rebuild",
    referenceMedian: fullMs,
    ratio: v.elapsedMs / fullMs,
    note: "ledger verify (ledger/verify.ts), one process, x1: every line parsed and checked in " +
      "TypeScript, on one core",
  }, {
    item: 6,
    name: `verify peak memory ${fmtCount(events)}`,
    unit: "MiB",
    median: peakMib,
    reference: "full rebuild",
    referenceMedian: rebuildPeakMib,
    ratio: peakMib / rebuildPeakMib,
    note: "max RSS (VmHWM) of the verify process: 8 bytes an event id, plus each run's state",
  }];
}

/**
 * Item 7: append to the log (index up to date), then an incremental rebuild:
 * 1% of the log, or `fixedCostEvents` for the row that shows the fixed cost,
 * with a copy of an indexed line (`retried`: a retried emit, whose id the
 * update ranks again) for the row that shows what a duplicate adds.
 */
async function benchIncremental(
  dir: string,
  root: string,
  events: number,
  fullMs: number | null,
  options: IndexBenchOptions,
  fixedCostEvents?: number,
  retried = false,
): Promise<BenchRow> {
  const incremental: number[] = [];
  let phases: Record<string, number> = {};
  let added = 0;
  for (let r = 0; r < options.repeat; r++) {
    // New runs appended to existing part files of the first days (tails) and new ones.
    const log = fixedCostEvents === undefined
      ? await generateLog(root, {
        events: Math.floor(events / 100),
        seed: 100 + r,
        runPrefix: `more${r}`,
      })
      : await generateLog(root, {
        events: fixedCostEvents,
        seed: (retried ? 300 : 200) + r,
        runPrefix: `${retried ? "retry" : "few"}${r}`,
      });
    added = log.events;
    if (retried) await appendRetriedLine(root, r);
    const i = await rebuild(dir, root, "incremental");
    if (i.mode !== "incremental") throw new Error(`Expected an incremental rebuild, got ${i.mode}`);
    incremental.push(i.elapsedMs);
    phases = i.phasesMs;
    options.log(`item 7: +${added} events, incremental ${i.elapsedMs} ms`);
  }
  const m = summarize(incremental).p50;
  const ratio = fullMs === null ? null : m / fullMs;
  const row = {
    item: 7,
    unit: "ms",
    median: m,
    reference: "full rebuild",
    referenceMedian: fullMs,
    ratio,
  };
  if (retried) {
    return {
      ...row,
      name: `incremental +${added} events and 1 retried line to ${fmtCount(events)}`,
      note: `x${options.repeat}: a copy of an indexed line (an id already in the index) in a ` +
        `new part: only that id's copies are ranked again; time went to ${phaseShares(phases)}`,
    };
  }
  if (fixedCostEvents !== undefined) {
    return {
      ...row,
      name: `incremental +${added} events to ${fmtCount(events)}`,
      note: `x${options.repeat}: the fixed cost of any incremental rebuild; ` +
        `time went to ${phaseShares(phases)}`,
    };
  }
  return {
    ...row,
    name: `incremental +1% to ${fmtCount(events)}`,
    target: "<= 5% of full",
    met: ratio === null ? null : ratio <= 0.05,
    note: `+${added} events x${options.repeat}; time went to ${phaseShares(phases)}`,
  };
}

/**
 * Copy the first line of the log's first part file into a new part of its
 * day (`part-retry-<n>.jsonl`): a retried emit, one event id twice.
 */
async function appendRetriedLine(root: string, n: number): Promise<void> {
  const [first] = await listParts(root);
  const text = await Deno.readTextFile(first.path);
  const line = text.slice(0, text.indexOf("\n") + 1);
  await Deno.writeTextFile(join(first.path, "..", `part-retry-${n}.jsonl`), line);
}

/**
 * Item 7's floor, in the same run: what publishing a rebuilt copy of the
 * index costs before a line is read. An incremental rebuild copies the live
 * index aside and publishes it whole (SPEC 7: readers never see a
 * half-built index); this times the same copy and the same `publish` (fsync
 * of the copy, rename over the live file, fsync of the folder) on the index
 * item 7 left, whose content it leaves as it is.
 */
async function benchPublishFloor(
  root: string,
  events: number,
  fullMs: number | null,
  options: IndexBenchOptions,
): Promise<BenchRow> {
  const dbPath = indexPath(root);
  const tempPath = tempPathFor(dbPath);
  const floor: number[] = [];
  for (let r = 0; r < options.repeat; r++) {
    const t0 = performance.now();
    await Deno.copyFile(dbPath, tempPath);
    await publish(tempPath, dbPath);
    floor.push(performance.now() - t0);
  }
  const sizeMib = (await Deno.stat(dbPath)).size / MIB;
  const m = summarize(floor).p50;
  options.log(`item 7: publish floor ${m.toFixed(0)} ms for a ${sizeMib.toFixed(0)} MiB index`);
  return {
    item: 7,
    name: `publish floor of the ${fmtCount(events)} index`,
    unit: "ms",
    median: m,
    reference: "full rebuild",
    referenceMedian: fullMs,
    ratio: fullMs === null ? null : m / fullMs,
    note: `copy and publish of the ${sizeMib.toFixed(0)} MiB index x${options.repeat}: ` +
      `what an incremental rebuild pays before reading a line`,
  };
}

/**
 * Item 7's last row: a rebuild with nothing new to read (the index item 7
 * left, up to date), which leaves the index as it is
 * (`RebuildReport.unchanged`), against the fixed cost of an update
 * (`fixedCost`, the +19-event row), which it paid before: what `ledger
 * rebuild-index`, the daemon after another process's rebuild and each
 * annotation command's first refresh pay on a current index. Both are
 * whole rebuild processes (each opens DuckDB once).
 */
async function benchUnchanged(
  root: string,
  events: number,
  fixedCost: BenchRow,
  dir: string,
  options: IndexBenchOptions,
): Promise<BenchRow> {
  const times: number[] = [];
  const checks: number[] = [];
  for (let r = 0; r < options.repeat; r++) {
    const i = await rebuild(dir, root, "incremental");
    if (i.unchanged !== true) throw new Error("Expected the index to be left as it is");
    times.push(i.elapsedMs);
    checks.push(i.phasesMs.check ?? 0);
  }
  const m = summarize(times).p50;
  options.log(`item 7: nothing new, ${m.toFixed(0)} ms`);
  return {
    item: 7,
    name: `rebuild with nothing new, ${fmtCount(events)}`,
    unit: "ms",
    median: m,
    reference: "incremental, a few events",
    referenceMedian: fixedCost.median,
    ratio: fixedCost.median === null ? null : m / fixedCost.median,
    note: `x${options.repeat}: the index left as it is: the log listed, then ` +
      `${summarize(checks).p50.toFixed(0)} ms to open it read-only and compare its bookkeeping ` +
      "(and the pid check)",
  };
}

/**
 * Item 8: `ledger runs` / `ledger show` whole-process time on an index of many runs.
 *
 * @example
 * ```ts ignore
 * // Not run by the doc tests: it times 6 whole `ledger` processes (about 3 s), over their budget.
 * import assert from "node:assert";
 * import { benchQueries } from "./_index.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const rows = await benchQueries(dir, {
 *     runs: 20, // bench/main.ts: 100k
 *     processRuns: 1,
 *     sizes: [], // sizes and repeat are items 6 and 7's (benchRebuild)
 *     repeat: 1,
 *     log: () => {},
 *   });
 *   assert.deepEqual(rows.map((r) => r.name), ["ledger runs", "ledger runs --json", "ledger show"]);
 *   assert.ok(rows.every((r) => r.median !== null && r.median > 0)); // no command failed
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
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
 * import assert from "node:assert";
 * import { fmtCount } from "./_index.ts";
 * assert.equal(fmtCount(1_000_000), "1M");
 * ```
 */
export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e6 < 1e4) return `${Math.round(n / 1e6)}M`;
  if (n >= 1e3 && n % 1e3 < 50) return `${Math.round(n / 1e3)}k`;
  return String(n);
}

/** `ingest 61%, derive 20%, ...`: the largest steps of a rebuild report, as shares. */
function phaseShares(phasesMs: Record<string, number>): string {
  const total = Object.values(phasesMs).reduce((a, b) => a + b, 0);
  if (total === 0) return "(no breakdown)";
  return Object.entries(phasesMs)
    .sort((a, b) => b[1] - a[1])
    .filter(([, ms]) => ms / total >= 0.03)
    .map(([phase, ms]) => `${phase} ${Math.round((ms / total) * 100)}%`)
    .join(", ");
}
