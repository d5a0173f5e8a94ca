/**
 * Latency of a durable in-process emit against the floor of the same disk.
 *
 * - `append`: `writer.append(input)` of an `EventWriter` in durable mode
 *   (validate, fill id and time, encode, one write, fdatasync).
 * - `floor`: the same bytes written with one `write` and one `fdatasync` to a
 *   plain file opened for append in the same directory, in the same run.
 *
 * The two are measured in alternating blocks so drift of the disk hits both.
 * Prints p50/p99/mean of each and the ratio append / floor.
 *
 * Usage: `deno run --allow-read --allow-write bench/emit_latency.ts [--n 2000] [--dir /tmp]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { openWriter } from "../ledger/writer.ts";
import { completeEvent, encodeEventLine } from "../ledger/events.ts";

/** Events per measured block; blocks of append and floor alternate. */
const BLOCK_EVENTS = 100;
/** Unmeasured appends before timing, to warm up the JIT and the file system. */
const WARMUP_EVENTS = 200;

/** Percentiles of a latency sample, in milliseconds. */
export interface LatencySummary {
  /** Median, in ms. */
  p50Ms: number;
  /** 99th percentile, in ms. */
  p99Ms: number;
  /** Mean, in ms. */
  meanMs: number;
}

/**
 * Summarize a sample of latencies (ms) by nearest-rank percentiles.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarize } from "./emit_latency.ts";
 * assert.equal(summarize([1, 2, 3]).p50Ms, 2);
 * ```
 */
export function summarize(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  const meanMs = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { p50Ms: rank(0.5), p99Ms: rank(0.99), meanMs };
}

function input(i: number) {
  return {
    event_type: "phase.completed" as const,
    run_id: "bench-run-0001",
    phase_name: "compute",
    duration_ms: i,
    output_summary: { calls: 1200, rows: 86_400, skipped: 3 },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { n: { type: "string", default: "2000" }, dir: { type: "string" } },
  });
  const n = Number(values.n);
  if (!Number.isSafeInteger(n) || n < BLOCK_EVENTS) {
    throw new RangeError(`--n must be an integer >= ${BLOCK_EVENTS}, got ${values.n}`);
  }
  const dir = await Deno.makeTempDir({ dir: values.dir, prefix: "ledger_bench_" });
  try {
    const writer = await openWriter(join(dir, "ledger"), { durability: "durable" });
    const floorFile = await Deno.open(join(dir, "floor.jsonl"), { append: true, create: true });
    const lineBytes = encodeEventLine(completeEvent(input(0))).length;
    const appendMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < WARMUP_EVENTS; i++) {
      await writer.append(input(i));
      await floorFile.write(encodeEventLine(completeEvent(input(i))));
      await floorFile.syncData();
    }
    for (let done = 0; done < n; done += BLOCK_EVENTS) {
      for (let i = 0; i < BLOCK_EVENTS; i++) {
        const t0 = performance.now();
        await writer.append(input(i));
        appendMs.push(performance.now() - t0);
      }
      for (let i = 0; i < BLOCK_EVENTS; i++) {
        const bytes = encodeEventLine(completeEvent(input(i))); // same bytes, prepared untimed
        const t0 = performance.now();
        await floorFile.write(bytes);
        await floorFile.syncData();
        floorMs.push(performance.now() - t0);
      }
    }
    floorFile.close();
    await writer.close();
    const a = summarize(appendMs);
    const f = summarize(floorMs);
    const fmt = (x: number) => x.toFixed(3).padStart(8);
    console.log(
      `dir: ${dir} (temporary, removed)  events: ${appendMs.length} each  line: ${lineBytes} bytes`,
    );
    console.log(`                      p50 ms   p99 ms  mean ms`);
    console.log(`durable append     ${fmt(a.p50Ms)} ${fmt(a.p99Ms)} ${fmt(a.meanMs)}`);
    console.log(`write+fdatasync    ${fmt(f.p50Ms)} ${fmt(f.p99Ms)} ${fmt(f.meanMs)}`);
    console.log(
      `ratio append/floor ${fmt(a.p50Ms / f.p50Ms)} ${fmt(a.p99Ms / f.p99Ms)} ${
        fmt(a.meanMs / f.meanMs)
      }`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
