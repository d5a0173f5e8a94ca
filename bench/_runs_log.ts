/**
 * Seeded generator of a log with many small runs, for benchmark item 8
 * (`ledger runs` / `ledger show` on an index of 100k runs). Each run has
 * `run.created`, `run.started`, one phase started and completed, one
 * artifact, and ends completed (90%), failed (5%) or still running (5%).
 * The same seed gives the same bytes. (The log of items 6-7, a realistic mix
 * with optimizer trials, comes from `generateLog` in `bench/rebuild.ts`.)
 *
 * @module
 */
import { join } from "node:path";
import { mulberry32 } from "../backtest/sample_data.ts";

/** Options for {@linkcode generateRunsLog}. */
export interface RunsLogOptions {
  /** PRNG seed. @default {11} */
  seed?: number;
  /** Runs per UTC day (one part file per day). @default {5000} */
  runsPerDay?: number;
  /** Time of the first event, epoch ms. @default {Date.UTC(2026, 0, 1)} */
  startMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The run id of run number `n` of a generated runs log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runsLogRunId } from "./_runs_log.ts";
 * assert.equal(runsLogRunId(42), "bench-0000042");
 * ```
 */
export function runsLogRunId(n: number): string {
  return `bench-${String(n).padStart(7, "0")}`;
}

/**
 * Write `runs` small runs under `<root>/events`; resolves to the number of
 * events written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateRunsLog } from "./_runs_log.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const events = await generateRunsLog(dir, 3);
 *   assert(events >= 3, "at least one event per run");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function generateRunsLog(
  root: string,
  runs: number,
  options: RunsLogOptions = {},
): Promise<number> {
  const rand = mulberry32(options.seed ?? 11);
  const runsPerDay = options.runsPerDay ?? 5000;
  const startMs = options.startMs ?? Date.UTC(2026, 0, 1);
  let events = 0;
  for (let first = 0; first < runs; first += runsPerDay) {
    const dayStartMs = startMs + (first / runsPerDay) * DAY_MS;
    const day = new Date(dayStartMs).toISOString().slice(0, 10);
    const lines: string[] = [];
    for (let n = first; n < Math.min(runs, first + runsPerDay); n++) {
      const runId = runsLogRunId(n);
      let t = dayStartMs + Math.floor(((n - first) / runsPerDay) * (DAY_MS - 60_000));
      const emit = (type: string, fields: Record<string, unknown>) => {
        t += 1 + Math.floor(rand() * 20);
        const id = `${t}_${Math.floor(rand() * 0xffffffff).toString(16).padStart(8, "0")}`;
        lines.push(JSON.stringify({
          event_type: type,
          event_id: id,
          timestamp_ms: t,
          run_id: runId,
          schema_version: 1,
          ...fields,
        }));
        events++;
      };
      emit("run.created", {
        run_type: rand() < 0.5 ? "path-only" : "policy",
        config: { interval: "1m", policy: { type: "fixed_stop", stopPct: 0.2 } },
        data_fingerprint: `sha256:${n.toString(16)}`,
      });
      emit("run.started", { host: "bench-host", pid: 100 + (n % 30000) });
      emit("phase.started", { phase_name: "compute", phase_order: 0 });
      emit("phase.completed", {
        phase_name: "compute",
        duration_ms: Math.floor(rand() * 5000),
        output_summary: { calls: Math.floor(rand() * 500) },
      });
      emit("artifact.created", {
        artifact_type: "paths",
        artifact_path: `artifacts/runs/${runId}/paths.parquet`,
        size_bytes: Math.floor(rand() * 1e6),
      });
      const end = rand();
      if (end < 0.9) {
        emit("run.completed", {
          summary: { calls: 100, ok: true },
          artifact_paths: { paths: `artifacts/runs/${runId}/paths.parquet` },
        });
      } else if (end < 0.95) {
        emit("run.failed", { error: { message: "out of candles" }, phase_name: "compute" });
      }
    }
    const dir = join(root, "events", `day=${day}`);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-bench-000001.jsonl"), lines.join("\n") + "\n");
  }
  return events;
}
