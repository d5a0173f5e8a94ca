/**
 * Benchmark of the indexer: generates a seeded synthetic log (flat events of
 * every type, several writers per day, Python-style ids mixed in), then times
 *
 * - a full rebuild (`rebuildIndex(root, {full: true})`),
 * - a plain DuckDB `read_json` of the same files into one table (explicit
 *   columns, `ignore_errors`), the floor a rebuild can be compared with,
 * - an incremental rebuild after appending 1% more events.
 *
 * Prints medians and ratios. Run:
 *
 * ```sh
 * deno run -A bench/rebuild.ts --events 10000,1000000 --repeat 3
 * ```
 *
 * @module
 */
import { DuckDBInstance } from "../indexer/duckdb.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { rebuildIndex } from "../indexer/rebuild.ts";
import { mulberry32 } from "../backtest/sample_data.ts";

/** Options for {@linkcode generateLog}. */
export interface GenerateLogOptions {
  /** Events to write (approximately: whole runs are written). @default {10_000} */
  events?: number;
  /** PRNG seed: the same seed gives the same log. @default {42} */
  seed?: number;
  /** Writer processes (part files) per day. @default {4} */
  writersPerDay?: number;
  /** Runs per day. @default {200} */
  runsPerDay?: number;
  /** Time of the first event. @default {Date.UTC(2026, 0, 20)} */
  startMs?: number;
  /** Prefix of run ids (distinct batches of the same log must not collide). @default {"run"} */
  runPrefix?: string;
  /** Part file name suffix (a second batch writes new files). @default {""} */
  partSuffix?: string;
}

/** What {@linkcode generateLog} wrote. */
export interface GeneratedLog {
  /** Events written. */
  events: number;
  /** Runs written. */
  runs: number;
  /** Part files written. */
  files: number;
  /** Bytes written. */
  bytes: number;
}

const PHASES = ["plan", "coverage", "slice", "load", "execute", "store", "aggregate"];
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Write a synthetic log under `root/events`: runs of every event type with
 * trials, artifacts, completions and a few failures, spread over days and
 * writers. Deterministic for a seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateLog } from "./rebuild.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const log = await generateLog(root, { events: 500, seed: 1 });
 *   // Whole runs: a little over the 500 asked for, the same numbers for the same seed.
 *   assert.deepEqual(log, { events: 604, runs: 12, files: 4, bytes: 141_986 });
 *   const report = await rebuildIndex(root, {}); // every generated line is a valid event
 *   assert.equal(report.events, log.events);
 *   assert.equal(report.runs, log.runs);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function generateLog(
  root: string,
  options: GenerateLogOptions = {},
): Promise<GeneratedLog> {
  const target = options.events ?? 10_000;
  const rand = mulberry32(options.seed ?? 42);
  const writers = options.writersPerDay ?? 4;
  const runsPerDay = options.runsPerDay ?? 200;
  const startMs = options.startMs ?? Date.UTC(2026, 0, 20);
  const prefix = options.runPrefix ?? "run";
  const suffix = options.partSuffix ?? "";
  const buffers = new Map<string, string[]>();
  const hex = () => Math.floor(rand() * 0xffffffff).toString(16).padStart(8, "0");
  let events = 0;
  let runs = 0;
  let bytes = 0;
  let bufferedDay = 0;
  // Written a day at a time (runs are generated day by day), so memory stays flat at 50M events.
  const flush = async () => {
    for (const [file, lines] of buffers) {
      const path = join(root, "events", file);
      await Deno.mkdir(join(path, ".."), { recursive: true });
      const text = lines.join("\n") + "\n";
      const data = new TextEncoder().encode(text);
      bytes += data.length;
      await Deno.writeFile(path, data, { append: true });
      files.add(file);
    }
    buffers.clear();
  };
  const files = new Set<string>();
  while (events < target) {
    const day = Math.floor(runs / runsPerDay);
    if (day !== bufferedDay) {
      await flush();
      bufferedDay = day;
    }
    let t = startMs + day * DAY_MS + Math.floor(rand() * (DAY_MS - 3_600_000));
    const dayName = new Date(startMs + day * DAY_MS).toISOString().slice(0, 10);
    const file = `day=${dayName}/part-w${Math.floor(rand() * writers)}${suffix}.jsonl`;
    const lines = buffers.get(file) ?? [];
    buffers.set(file, lines);
    const runId = `${prefix}-${String(runs).padStart(7, "0")}`;
    const python = rand() < 0.2;
    const emit = (type: string, fields: Record<string, unknown>) => {
      t += 1 + Math.floor(rand() * 50);
      const id = python ? `${t}_${hex()}` : `0190${hex()}-${hex().slice(0, 4)}-7${hex()}`;
      const envelope = python
        ? { event_type: type, event_id: id, timestamp_ms: t, run_id: runId }
        : { event_type: type, event_id: id, timestamp_ms: t, run_id: runId, schema_version: 1 };
      lines.push(JSON.stringify({ ...envelope, ...fields }));
      events++;
    };
    const optimizer = rand() < 0.3;
    emit("run.created", {
      run_type: optimizer ? "optimizer" : rand() < 0.5 ? "path-only" : "policy",
      config: { interval: "1m", callers: Math.floor(rand() * 50), policy: { stopPct: 0.2 } },
      data_fingerprint: `sha256:${hex()}${hex()}`,
    });
    emit("run.started", { host: `host-${Math.floor(rand() * 4)}`, pid: 1000 + runs });
    const phases = PHASES.slice(0, 5 + Math.floor(rand() * 3));
    for (const [order, phase] of phases.entries()) {
      emit("phase.started", { phase_name: phase, phase_order: order });
      emit("phase.completed", {
        phase_name: phase,
        duration_ms: Math.floor(rand() * 5000),
        output_summary: { rows: Math.floor(rand() * 1e6) },
      });
    }
    const trials = optimizer ? Math.floor(rand() * 200) : 0;
    for (let i = 0; i < trials; i++) {
      emit("trial.recorded", {
        trial_id: `t${i}`,
        params: { stop: Math.round(rand() * 100) / 100, tp: Math.round(rand() * 500) / 100 },
        metrics: { sharpe: rand() * 3, ret_bps: Math.floor(rand() * 2000 - 1000) },
      });
    }
    for (const kind of ["calls", "paths"]) {
      emit("artifact.created", {
        artifact_type: kind,
        artifact_path: `artifacts/runs/${runId}/${kind}.parquet`,
        size_bytes: Math.floor(rand() * 1e7),
      });
    }
    if (rand() < 0.05) {
      emit("run.failed", { error: { message: "out of candles" }, phase_name: "load" });
    } else {
      emit("run.completed", {
        summary: { calls: Math.floor(rand() * 500), ok: true },
        artifact_paths: { calls: `artifacts/runs/${runId}/calls.parquet` },
      });
    }
    runs++;
  }
  await flush();
  return { events, runs, files: files.size, bytes };
}

/** Remove `path` (recursively); a path that is not there is fine, any other error is not. */
/**
 * Remove the bench's scratch file or tree, if there: not a durability helper
 * (nothing here is synced; `ledger/durable_fs.ts` removeIfPresent is the
 * library's, for single files behind the fault seam).
 */
async function removeScratch(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** The baseline: a plain `read_json` of the same files into one table, in a new file. */
async function plainReadJson(root: string, dbPath: string): Promise<number> {
  await removeScratch(dbPath);
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(dbPath);
  const conn = await instance.connect();
  await conn.run(
    `CREATE TABLE raw AS SELECT * FROM read_json($1, format = 'newline_delimited',
      ignore_errors = true, columns = {event_type: 'VARCHAR', event_id: 'VARCHAR',
      timestamp_ms: 'BIGINT', run_id: 'VARCHAR', schema_version: 'INTEGER', run_type: 'VARCHAR',
      config: 'JSON', data_fingerprint: 'VARCHAR', host: 'VARCHAR', pid: 'BIGINT',
      phase_name: 'VARCHAR', phase_order: 'BIGINT', duration_ms: 'BIGINT', output_summary: 'JSON',
      trial_id: 'VARCHAR', params: 'JSON', metrics: 'JSON', artifact_type: 'VARCHAR',
      artifact_path: 'VARCHAR', size_bytes: 'BIGINT', alerts_total: 'BIGINT', alerts_ok: 'BIGINT',
      summary: 'JSON', artifact_paths: 'JSON', error: 'JSON'})`,
    [join(root, "events", "day=*", "part-*.jsonl")],
  );
  await conn.run("CHECKPOINT");
  conn.disconnectSync();
  instance.closeSync();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function benchSize(base: string, events: number, repeat: number): Promise<string> {
  const root = join(base, `log-${events}`);
  await removeScratch(root);
  const t0 = performance.now();
  const log = await generateLog(root, { events, seed: 7 });
  const genMs = performance.now() - t0;
  console.error(
    `${events}: generated ${log.events} events, ${log.files} files, ` +
      `${(log.bytes / 1e6).toFixed(1)} MB in ${genMs.toFixed(0)} ms`,
  );
  const full: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < repeat; i++) {
    plain.push(await plainReadJson(root, join(base, "plain.duckdb")));
    const r = await rebuildIndex(root, { full: true });
    full.push(r.elapsedMs);
    console.error(
      `  run ${i + 1}: read_json ${plain.at(-1)!.toFixed(0)} ms, full ${r.elapsedMs} ms`,
    );
  }
  const lines = [
    `| ${log.events} | ${(log.bytes / 1e6).toFixed(0)} MB | read_json ${
      median(plain).toFixed(0)
    } ms | ` +
    `full ${median(full).toFixed(0)} ms | ratio ${(median(full) / median(plain)).toFixed(2)} |`,
  ];
  if (events >= 100_000) {
    const incr: number[] = [];
    for (let i = 0; i < repeat; i++) {
      await rebuildIndex(root, { full: true });
      const added = await generateLog(root, {
        events: Math.floor(log.events / 100),
        seed: 100 + i,
        runPrefix: `more${i}`, // appended to the existing part files of the first days
      });
      const r = await rebuildIndex(root, {});
      incr.push(r.elapsedMs);
      console.error(`  incremental +${added.events} events: ${r.elapsedMs} ms (${r.mode})`);
    }
    lines.push(
      `| +1% (${Math.floor(log.events / 100)}) | | | incremental ${median(incr).toFixed(0)} ms | ` +
        `vs full ${(median(incr) / median(full)).toFixed(2)} |`,
    );
  }
  await Deno.remove(root, { recursive: true });
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      events: { type: "string", default: "10000,1000000" },
      repeat: { type: "string", default: "3" },
      dir: { type: "string" },
    },
  });
  const base = values.dir ?? await Deno.makeTempDir({ prefix: "ledger-bench-" });
  const out: string[] = [];
  for (const n of values.events.split(",").map(Number)) {
    out.push(await benchSize(base, n, Number(values.repeat)));
  }
  console.log(out.join("\n"));
  if (values.dir === undefined) await Deno.remove(base, { recursive: true });
}
