/**
 * Benchmark items 1-5 of issue 7: the write side of the ledger.
 *
 * 1. durable in-process emit latency vs one `write` + `fdatasync` of the same
 *    bytes on the same disk (alternating blocks, same run);
 * 2. relaxed (group commit) emit throughput vs `npm:pino` writing the same
 *    objects to a file through its default destination (SonicBoom);
 * 3. 8 concurrent writer processes in durable mode;
 * 4. one spawned `ledger emit` process per event vs the in-process emitter;
 * 5. `ledger emit` cold start vs `deno run` of an empty file, with where
 *    the time goes (imports and first validation, measured in a child) and
 *    how many part files the emits left (SPEC 3: one shared part per day).
 *
 * @module
 */
import { join } from "node:path";
import { once } from "node:events";
import pino from "pino";
import { EventEmitter } from "../ledger/emitter.ts";
import { completeEvent, encodeEventLine } from "../ledger/events.ts";
import { LineArena } from "../ledger/line_arena.ts";
import { EMIT_BUNDLE_ENTRY, EMIT_ENTRY } from "../scripts/bundle_emit.ts";
import { BENCH_RUN_ID, benchFields } from "./_event.ts";
import type { BenchRow } from "./_result.ts";
import { summarize, timeProcess } from "./_stats.ts";

/** Durable emits per measured block; emitter and floor blocks alternate. */
const BLOCK_EVENTS = 50;
/** Unmeasured emits before timing (JIT, first part file). */
const WARMUP_EVENTS = 100;
/** Writer processes of item 3. */
export const CONCURRENT_WRITERS = 8;
/** Time the writer children of item 3 get to start before they all begin, in ms. */
const CHILD_START_DELAY_MS = 3000;

/**
 * Item 1: durable emit p50/p99 vs write+fdatasync of the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchDurable } from "./_emit.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const rows = await benchDurable(dir, 20);
 *   assert(rows[0].item === 1 && rows[0].median! > 0);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchDurable(dir: string, events: number): Promise<BenchRow[]> {
  const emitter = new EventEmitter({ root: join(dir, "durable"), durability: "durable" });
  const floorFile = await Deno.open(join(dir, "floor.jsonl"), { append: true, create: true });
  const emitMs: number[] = [];
  const floorMs: number[] = [];
  try {
    const line = (i: number) =>
      encodeEventLine(
        completeEvent({ event_type: "phase.completed", run_id: BENCH_RUN_ID, ...benchFields(i) }),
      );
    for (let i = 0; i < WARMUP_EVENTS; i++) {
      await emitter.phaseCompleted(BENCH_RUN_ID, benchFields(i));
      await floorFile.write(line(i));
      await floorFile.syncData();
    }
    for (let done = 0; done < events; done += BLOCK_EVENTS) {
      for (let i = 0; i < BLOCK_EVENTS; i++) {
        const t0 = performance.now();
        await emitter.phaseCompleted(BENCH_RUN_ID, benchFields(i));
        emitMs.push(performance.now() - t0);
      }
      for (let i = 0; i < BLOCK_EVENTS; i++) {
        const bytes = line(i); // the same bytes, prepared untimed
        const t0 = performance.now();
        await floorFile.write(bytes);
        await floorFile.syncData(); // the floor: one write, one fdatasync
        floorMs.push(performance.now() - t0);
      }
    }
  } finally {
    floorFile.close();
    await emitter.close();
  }
  if (emitter.stats().failed > 0) {
    throw new Error(`Durable emits failed: ${emitter.stats().lastError}`);
  }
  const e = summarize(emitMs);
  const f = summarize(floorMs);
  const common = { item: 1, unit: "ms", reference: "write+fdatasync", note: `${e.count} each` };
  return [
    {
      ...common,
      name: "durable emit p50",
      median: e.p50,
      referenceMedian: f.p50,
      ratio: e.p50 / f.p50,
    },
    {
      ...common,
      name: "durable emit p99",
      median: e.p99,
      referenceMedian: f.p99,
      ratio: e.p99 / f.p99,
      target: "p99 <= 1.5x floor",
      met: e.p99 / f.p99 <= 1.5,
    },
  ];
}

/** One timed pass of the ledger's relaxed emitter; returns events/s. */
async function relaxedPass(root: string, events: number): Promise<number> {
  const emitter = new EventEmitter({ root, durability: "relaxed" });
  const t0 = performance.now();
  for (let i = 0; i < events; i++) await emitter.phaseCompleted(BENCH_RUN_ID, benchFields(i));
  await emitter.close(); // flushes: every event is durable from here
  const ms = performance.now() - t0;
  if (emitter.stats().failed > 0) {
    throw new Error(`Relaxed emits failed: ${emitter.stats().lastError}`);
  }
  return events / (ms / 1000);
}

/** One timed pass of pino to a file through `pino.destination(path)`; returns events/s. */
async function pinoPass(path: string, events: number): Promise<number> {
  const destination = pino.destination(path); // pino's default destination: SonicBoom, async
  await once(destination, "ready");
  const logger = pino(destination);
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    logger.info({ event_type: "phase.completed", run_id: BENCH_RUN_ID, ...benchFields(i) });
  }
  const closed = once(destination, "close");
  destination.end(); // writes what is buffered, then closes (pino never fsyncs)
  await closed;
  return events / ((performance.now() - t0) / 1000);
}

/**
 * Item 2: relaxed emit throughput vs pino, alternating passes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchRelaxed } from "./_emit.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const rows = await benchRelaxed(dir, 500, 1);
 *   assert(rows.every((r) => r.item === 2));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchRelaxed(
  dir: string,
  events: number,
  repeat: number,
): Promise<BenchRow[]> {
  const ledger: number[] = [];
  const peer: number[] = [];
  for (let r = 0; r < repeat; r++) {
    ledger.push(await relaxedPass(join(dir, `relaxed-${r}`), events));
    peer.push(await pinoPass(join(dir, `pino-${r}.log`), events));
  }
  const l = summarize(ledger);
  const p = summarize(peer);
  const cost = perEventCost(Math.min(events, 20_000));
  const ledgerUs = 1e6 / l.p50;
  const pinoUs = 1e6 / p.p50;
  const breakdown = (name: string, us: number): BenchRow => ({
    item: 2,
    name: `relaxed emit per event: ${name}`,
    unit: "us/event",
    median: us,
    reference: "pino, whole event",
    referenceMedian: pinoUs,
    ratio: us / pinoUs,
    note: "what limits relaxed throughput (same run)",
  });
  return [
    breakdown("validation (completeEvent: zod-free fast path)", cost.validateUs),
    breakdown("encoding (JSON into a block, LineArena.encode)", cost.encodeUs),
    breakdown(
      "writer, by difference (buffer, group commit, fdatasync)",
      Math.max(0, ledgerUs - cost.validateUs - cost.encodeUs),
    ),
    {
      item: 2,
      name: "relaxed emit throughput",
      unit: "events/s",
      median: l.p50,
      reference: "pino to a file",
      referenceMedian: p.p50,
      ratio: l.p50 / p.p50,
      target: ">= pino",
      met: l.p50 >= p.p50,
      note: `${events} events x ${repeat}; group commit every 10 ms (fdatasync); pino never syncs`,
    },
  ];
}

/** Passes of {@linkcode perEventCost}: the first warms the JIT up, the median is kept. */
const PER_EVENT_COST_PASSES = 5;

/**
 * Microseconds per event of validation and of encoding, measured apart: the
 * median of {@linkcode PER_EVENT_COST_PASSES} passes over the same events.
 * One cold pass counted the JIT's warm-up, which the throughput row's
 * 600,000 events do not: its parts summed to more than the whole (1.18 +
 * 2.15 us against 2.94 us an event, 4 December), and the writer's share by
 * difference read 0.
 */
function perEventCost(events: number): { validateUs: number; encodeUs: number } {
  const inputs = Array.from(
    { length: events },
    (_, i) => ({ event_type: "phase.completed", run_id: BENCH_RUN_ID, ...benchFields(i) }),
  );
  const validate: number[] = [];
  const encode: number[] = [];
  for (let pass = 0; pass < PER_EVENT_COST_PASSES; pass++) {
    let t0 = performance.now();
    const done = inputs.map((input) => completeEvent(input));
    validate.push(((performance.now() - t0) * 1000) / events);
    t0 = performance.now();
    const arena = new LineArena(); // as the writer does: each line encoded once, into a block
    for (const event of done) arena.encode(event, "2026-12-04");
    encode.push(((performance.now() - t0) * 1000) / events);
  }
  return { validateUs: summarize(validate).p50, encodeUs: summarize(encode).p50 };
}

/** What one writer child of item 3 reports. */
interface WriterChildResult {
  latenciesMs: number[];
  startMs: number;
  endMs: number;
  failed: number;
}

/**
 * Item 3: 8 writer processes appending durably at the same time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchConcurrent } from "./_emit.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const [aggregate, latency] = await benchConcurrent(dir, 5); // children start together after 3 s
 *   assert(aggregate.unit === "events/s" && latency.unit === "ms");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchConcurrent(dir: string, eventsEach: number): Promise<BenchRow[]> {
  const root = join(dir, "concurrent");
  await Deno.mkdir(root); // the children may only read/write inside it
  const startAtMs = Date.now() + CHILD_START_DELAY_MS;
  const children = Array.from({ length: CONCURRENT_WRITERS }, (_, k) =>
    timeProcess([
      "run",
      "--no-prompt",
      `--allow-read=${root}`,
      `--allow-write=${root}`,
      "bench/_writer_child.ts",
      root,
      String(eventsEach),
      String(startAtMs),
      `w${k}`,
    ]));
  const results: WriterChildResult[] = [];
  for (const t of await Promise.all(children)) {
    const last = t.stdout.trim().split("\n").at(-1) ?? "";
    if (t.code !== 0) throw new Error(`Writer child exited ${t.code}: ${t.stderr.trim()}`);
    results.push(JSON.parse(last) as WriterChildResult);
  }
  const all = results.flatMap((r) => r.latenciesMs);
  const spanMs = Math.max(...results.map((r) => r.endMs)) -
    Math.min(...results.map((r) => r.startMs));
  const failed = results.reduce((a, r) => a + r.failed, 0);
  const s = summarize(all);
  const note = `${CONCURRENT_WRITERS} x ${eventsEach} events` +
    (failed > 0 ? `, ${failed} failed` : "");
  return [
    {
      item: 3,
      name: `${CONCURRENT_WRITERS} writer processes, aggregate`,
      unit: "events/s",
      median: all.length / (spanMs / 1000),
      note,
    },
    {
      item: 3,
      name: `${CONCURRENT_WRITERS} writer processes, latency`,
      unit: "ms",
      median: s.p50,
      p99: s.p99,
      note,
    },
  ];
}

/**
 * Items 4 and 5: whole `ledger emit` processes vs empty `deno run`, alternating;
 * `inProcessMedianMs` is the median of item 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { benchProcesses } from "./_emit.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const rows = await benchProcesses(dir, 1, null);
 *   assert(rows.some((r) => r.item === 4) && rows.some((r) => r.item === 5));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function benchProcesses(
  dir: string,
  runs: number,
  inProcessMedianMs: number | null,
): Promise<BenchRow[]> {
  const root = join(dir, "cli");
  await Deno.mkdir(root); // the process may only read/write inside it
  const perms = [
    "run",
    "--no-prompt",
    `--allow-read=${root}`,
    `--allow-write=${root}`,
    "--allow-env=LEDGER_ROOT",
  ];
  const flags = [
    "--root",
    root,
    "--event-type",
    "phase.completed",
    "--run-id",
    BENCH_RUN_ID,
    "--phase-name",
    "compute",
    "--duration-ms",
    "5",
    "--output-summary",
    JSON.stringify(benchFields(5).output_summary),
  ];
  // What `deno task emit` runs (the bundle), its source, and the same command
  // through the dispatcher (`deno task ledger emit`, the compiled binary's path).
  const emitArgs = [...perms, EMIT_BUNDLE_ENTRY, ...flags];
  const sourceArgs = [...perms, EMIT_ENTRY, ...flags];
  const dispatcherArgs = [...perms, "cli/ledger.ts", "emit", ...flags];
  const emptyArgs = ["run", "--no-prompt", "bench/_empty.ts"];
  await timeProcess(emitArgs); // warm the module cache of each
  await timeProcess(sourceArgs);
  await timeProcess(dispatcherArgs);
  await timeProcess(emptyArgs);
  const emitMs: number[] = [];
  const sourceMs: number[] = [];
  const dispatcherMs: number[] = [];
  const emptyMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const e = await timeProcess(emitArgs);
    if (e.code !== 0) throw new Error(`ledger emit exited ${e.code}: ${e.stderr.trim()}`);
    emitMs.push(e.wallMs);
    const s = await timeProcess(sourceArgs);
    if (s.code !== 0) throw new Error(`ledger emit exited ${s.code}: ${s.stderr.trim()}`);
    sourceMs.push(s.wallMs);
    const d = await timeProcess(dispatcherArgs);
    if (d.code !== 0) throw new Error(`ledger emit exited ${d.code}: ${d.stderr.trim()}`);
    dispatcherMs.push(d.wallMs);
    emptyMs.push((await timeProcess(emptyArgs)).wallMs);
  }
  const e = summarize(emitMs);
  const source = summarize(sourceMs);
  const dispatcher = summarize(dispatcherMs);
  const z = summarize(emptyMs);
  const perSecond = 1000 / e.p50;
  const files = await countPartFiles(join(root, "events"));
  const imports = await timeProcess(["run", "--no-prompt", "bench/_emit_imports.ts"]);
  if (imports.code !== 0) throw new Error(`_emit_imports.ts exited ${imports.code}`);
  const costs = JSON.parse(imports.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
  const costRows: BenchRow[] = Object.entries(costs).map(([name, ms]) => ({
    item: 5,
    name: `ledger emit cold start: ${name.replace(/Ms$/, "")}`,
    unit: "ms",
    median: ms,
    reference: "deno run empty file",
    referenceMedian: z.p50,
    ratio: ms / z.p50,
    note: name.startsWith("notLoaded")
      ? "one child: what a valid event no longer loads (0.2.0 did)"
      : "one child, in load order: what limits the cold start",
  }));
  return [
    {
      item: 4,
      name: "one CLI process per event",
      unit: "ms/event",
      median: e.p50,
      reference: "in-process durable emit",
      referenceMedian: inProcessMedianMs,
      ratio: inProcessMedianMs === null ? null : e.p50 / inProcessMedianMs,
      note: `${
        perSecond.toFixed(0)
      } events/s by process; ratio = what the in-process emitter gains`,
    },
    {
      item: 5,
      name: "ledger emit cold start",
      unit: "ms",
      median: e.p50,
      p99: e.p99,
      reference: "deno run empty file",
      referenceMedian: z.p50,
      referenceP99: z.p99,
      ratio: e.p50 / z.p50,
      target: "<= 2x empty",
      met: e.p50 / z.p50 <= 2,
      note: `${runs} runs each, whole process: deno task emit (${EMIT_BUNDLE_ENTRY})`,
    },
    {
      item: 5,
      name: "ledger emit cold start from source",
      unit: "ms",
      median: source.p50,
      p99: source.p99,
      reference: "deno run empty file",
      referenceMedian: z.p50,
      referenceP99: z.p99,
      ratio: source.p50 / z.p50,
      note: `${EMIT_ENTRY}, which the bundle is made from: Deno finds, reads and compiles ` +
        "each of its modules before the first line runs",
    },
    {
      item: 5,
      name: "ledger emit cold start through the dispatcher",
      unit: "ms",
      median: dispatcher.p50,
      p99: dispatcher.p99,
      reference: "deno run empty file",
      referenceMedian: z.p50,
      referenceP99: z.p99,
      ratio: dispatcher.p50 / z.p50,
      note: "cli/ledger.ts emit: Deno resolves every command's lazy imports first",
    },
    ...costRows,
    {
      item: 5,
      name: "part files left by the emits",
      unit: "files/day",
      median: files.perDayMax,
      target: "a few per day (SPEC 3)",
      met: files.perDayMax <= 2,
      note: `${runs + 1} ledger emit processes; ${files.total} file(s) in ${files.days} day(s)`,
    },
  ];
}

/** Part files under an events directory: total, days, and the most in one day. */
async function countPartFiles(
  events: string,
): Promise<{ total: number; days: number; perDayMax: number }> {
  let total = 0;
  let days = 0;
  let perDayMax = 0;
  for await (const day of Deno.readDir(events)) {
    if (!day.isDirectory) continue;
    days += 1;
    let count = 0;
    for await (const entry of Deno.readDir(join(events, day.name))) {
      if (entry.isFile && entry.name.endsWith(".jsonl")) count += 1;
    }
    total += count;
    perDayMax = Math.max(perDayMax, count);
  }
  return { total, days, perDayMax };
}
