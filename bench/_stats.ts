/**
 * Small statistics and process helpers shared by the benchmark items of
 * `bench/main.ts`: nearest-rank percentiles, whole-process timing of a child
 * `deno` process, and the JSON line protocol of the bench child scripts.
 *
 * @module
 */
import process from "node:process";

/** Percentiles of a sample, in the unit of the sample. */
export interface SampleSummary {
  /** Number of samples. */
  count: number;
  /** Median (nearest rank). */
  p50: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * Nearest-rank percentile `p` (0..1) of `samples`; `NaN` for an empty sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { percentile } from "./_stats.ts";
 * assert.equal(percentile([3, 1, 2], 0.5), 2);
 * ```
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/**
 * Median, p99 and mean of `samples`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { summarize } from "./_stats.ts";
 * assert.equal(summarize([1, 2, 3]).p50, 2);
 * ```
 */
export function summarize(samples: readonly number[]): SampleSummary {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    count: samples.length,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    mean,
  };
}

/** Options for {@linkcode timeProcess}. */
export interface TimeProcessOptions {
  /** Working directory of the child. @default {Deno.cwd()} */
  cwd?: string;
  /** Extra environment variables of the child. @default {{}} */
  env?: Record<string, string>;
  /**
   * Start the child from a small `sh` rather than from this process. Linux
   * carries the peak RSS (`ru_maxrss`) of the forked parent's memory across
   * `execve`, so a child forked directly from a big bench process reports
   * the bench's peak as its own; one forked from a fresh `sh` does not.
   * @default {false}
   */
  viaShell?: boolean;
}

/** What {@linkcode timeProcess} measured. */
export interface ProcessTiming {
  /** Wall time from spawn to exit, in ms. */
  wallMs: number;
  /** Exit code. */
  code: number;
  /** Standard output, as text. */
  stdout: string;
  /** Standard error, as text. */
  stderr: string;
}

/**
 * Run `deno` (this executable) with `args` to completion and time it as a
 * whole process, from spawn to exit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { timeProcess } from "./_stats.ts";
 * const t = await timeProcess(["eval", "console.log('hi')"]);
 * assert(t.code === 0 && t.stdout === "hi\n" && t.wallMs > 0);
 * ```
 */
export async function timeProcess(
  args: readonly string[],
  options: TimeProcessOptions = {},
): Promise<ProcessTiming> {
  // `; exit $?` keeps sh from exec'ing deno in its own place (which would keep the inherited peak).
  const [program, programArgs] = options.viaShell
    ? ["sh", ["-c", '"$0" "$@"; exit $?', Deno.execPath(), ...args]]
    : [Deno.execPath(), [...args]];
  const command = new Deno.Command(program, {
    args: programArgs,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const t0 = performance.now();
  const out = await command.output();
  const wallMs = performance.now() - t0;
  const decoder = new TextDecoder();
  return {
    wallMs,
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** A bench child script failed (non-zero exit or no JSON result). */
export class BenchChildError extends Error {
  /** Create the error for `script`, keeping its last stderr line. */
  constructor(script: string, code: number, stderr: string) {
    const last = stderr.trim().split("\n").at(-1) ?? "";
    super(`Bench child ${script} exited ${code}: ${last}`);
    this.name = "BenchChildError";
  }
}

/**
 * Run a bench child script (`bench/_*_child.ts`) with `permissions` and
 * `args`, and parse the JSON object it prints as its last stdout line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runChild } from "./_stats.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = `${dir}/child.ts`;
 *   await Deno.writeTextFile(path, "console.log(JSON.stringify({ answer: 42 }));");
 *   const r = await runChild<{ answer: number }>(path, [], []);
 *   assert(r.answer === 42 && r.wallMs > 0);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function runChild<T>(
  script: string,
  permissions: readonly string[],
  args: readonly string[],
): Promise<T & { wallMs: number }> {
  const t = await timeProcess(["run", "--no-prompt", ...permissions, script, ...args], {
    viaShell: true, // so that its peak RSS is its own (see TimeProcessOptions.viaShell)
  });
  const last = t.stdout.trim().split("\n").at(-1) ?? "";
  if (t.code !== 0 || !last.startsWith("{")) throw new BenchChildError(script, t.code, t.stderr);
  return { ...(JSON.parse(last) as T), wallMs: t.wallMs };
}

/**
 * Peak resident memory of this process so far (`getrusage` max RSS, the
 * kernel's `VmHWM`), in bytes. Read through `node:process` because Deno only
 * lets `--allow-all` read `/proc`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { peakRssBytes } from "./_stats.ts";
 * assert(peakRssBytes() > 0);
 * ```
 */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
}
