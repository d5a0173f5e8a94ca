/**
 * `ledger backtest path-only|policy`: run a backtest on calls and candles,
 * record it in the ledger, and refresh the index in the background.
 *
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type ParsedFlags,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import { getEventEmitter } from "../ledger/emitter.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { isInterval } from "../backtest/data.ts";
import { type BacktestOptions, RunFailedError, type RunResult } from "../backtest/_workflow.ts";
import { runPathOnly } from "../backtest/path_only.ts";
import { runPolicy } from "../backtest/policy.ts";

/** Width of the progress bar, in characters. */
const PROGRESS_BAR_WIDTH = 30;
/** Most bytes a `--policy @file` may have. */
const POLICY_FILE_BYTES_MAX = 64 * 1024;

const FLAGS = {
  calls: { type: "string" },
  candles: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  interval: { type: "string" },
  policy: { type: "string" },
  "fee-bps": { type: "string" },
  "slippage-bps": { type: "string" },
  "run-id": { type: "string" },
  "no-index": { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** Usage text of `ledger backtest`. */
export const USAGE = `Usage: ledger backtest path-only|policy [flags]

Runs a backtest on calls and candles and records it in the ledger: events in
<root>/events, Parquet outputs and manifest.json in <root>/artifacts/runs/<run_id>/.

Workflows:
  path-only   per call: p0, 2x/3x/4x first touch, drawdowns, activity, peak multiple
  policy      replay an exit policy per call; per-caller win rate and returns

Flags:
  --calls FILE         calls (CSV, JSONL, Parquet: call_id, caller, mint, chain, alert_ts)
                       default data/sample/calls.csv
  --candles FILE       candles (CSV, JSONL, Parquet: mint, ts, open, high, low, close, volume)
                       default data/sample/candles_1m.parquet
  --from ISO           keep calls alerted at or after this time (ISO-8601 or epoch ms)
  --to ISO             keep calls alerted before this time
  --interval I         1m, 5m, 15m or 1h: select (interval column) or resample finer candles
  --policy JSON|@FILE  policy runs: e.g. '{"type":"fixed_stop","stopPct":0.3,"takeProfitPct":1}'
                       types: fixed_stop {stopPct, takeProfitPct?}, time_stop {maxHoldMs,
                       takeProfitPct?}, trailing_stop {activationPct, trailPct, hardStopPct?},
                       ladder {levels:[{multiple, fraction}], stopPct?}, combo {policies}
  --fee-bps N          fee per side in bps (policy runs; default 0)
  --slippage-bps N     slippage per side in bps (policy runs; default 0)
  --run-id ID          run id (default <run_type>-<yyyymmddThhmmss>-<6 hex>)
  --no-index           do not refresh the index in the background afterwards
  --json               print the result as JSON on stdout
  --root DIR           ledger root (default $LEDGER_ROOT, else data/ledger)
  -h, --help           show this help

Exit codes: 0 completed, 1 failed (run.failed is recorded once the run exists), 2 usage error.`;

/**
 * Run `ledger backtest` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./backtest.ts";
 * Deno.exit(await main(["path-only", "--no-index"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const workflow = positionals[0];
  if (workflow !== "path-only" && workflow !== "policy") {
    throw new UsageError(
      workflow === undefined
        ? "name a workflow: path-only or policy"
        : `unknown workflow ${JSON.stringify(workflow)}; use path-only or policy`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  }
  const root = resolveRootFlag(values);
  const options = backtestOptions(values, root);
  const policyFlag = stringFlag(values, "policy");
  const feeBps = bpsFlag(values, "fee-bps");
  const slippageBps = bpsFlag(values, "slippage-bps");
  if (workflow === "path-only") {
    for (
      const [flag, v] of [["policy", policyFlag], ["fee-bps", feeBps], [
        "slippage-bps",
        slippageBps,
      ]] as const
    ) {
      if (v !== undefined) throw new UsageError(`--${flag} applies to policy runs only`);
    }
  } else if (policyFlag === undefined) {
    throw new UsageError("policy runs need --policy JSON or --policy @file.json");
  }
  const policy = policyFlag === undefined ? undefined : await readPolicyFlag(policyFlag);
  const emitter = getEventEmitter({ root });
  const progress = Deno.stderr.isTerminal() ? progressBar() : undefined;
  let result: RunResult;
  try {
    result = workflow === "path-only"
      ? await runPathOnly({ ...options, emitter, onProgress: progress?.update })
      : await runPolicy({
        ...options,
        emitter,
        onProgress: progress?.update,
        policy,
        feeBps,
        slippageBps,
      });
  } catch (err) {
    progress?.done();
    if (!(err instanceof RunFailedError)) throw err;
    const where = err.phaseName === null ? "" : ` in phase ${err.phaseName}`;
    console.error(`ledger backtest: ${firstLine(err.message)} (run ${err.runId} failed${where})`);
    if (values.json) {
      console.log(JSON.stringify({
        run_id: err.runId,
        status: "failed",
        error: { message: err.message },
        phase_name: err.phaseName,
      }));
    }
    return EXIT_FAILURE;
  } finally {
    await emitter.close();
  }
  progress?.done();
  if (values.json) console.log(JSON.stringify(resultJson(result), null, 2));
  else console.log(describeResult(result));
  if (!values["no-index"]) await refreshIndexInBackground(root);
  return EXIT_OK;
}

export function backtestOptions(values: ParsedFlags["values"], root: string): BacktestOptions {
  const interval = stringFlag(values, "interval");
  if (interval !== undefined && !isInterval(interval)) {
    throw new UsageError(
      `--interval must be one of 1m, 5m, 15m, 1h, got ${JSON.stringify(interval)}`,
    );
  }
  const runId = stringFlag(values, "run-id");
  if (runId !== undefined && !RUN_ID_PATTERN.test(runId)) {
    throw new UsageError(
      `--run-id must match ${RUN_ID_PATTERN.source} (letters, digits, '.', '_', '-'), got ${
        JSON.stringify(runId)
      }`,
    );
  }
  const fromMs = timeFlag(values, "from");
  const toMs = timeFlag(values, "to");
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw new UsageError("--from must be before --to");
  }
  return {
    root,
    calls: nonEmpty(values, "calls"),
    candles: nonEmpty(values, "candles"),
    fromMs,
    toMs,
    interval: interval as BacktestOptions["interval"],
    runId,
  };
}

function nonEmpty(values: ParsedFlags["values"], name: string): string | undefined {
  const v = stringFlag(values, name);
  if (v !== undefined && v.trim() === "") throw new UsageError(`--${name} must not be empty`);
  return v;
}

function timeFlag(values: ParsedFlags["values"], name: string): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const ms = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Date.parse(raw);
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `--${name} must be an ISO-8601 time (2026-01-05T00:00:00Z) or epoch ms, got ${
        JSON.stringify(raw)
      }`,
    );
  }
  return ms;
}

export function bpsFlag(values: ParsedFlags["values"], name: string): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0 || n >= 10_000) {
    throw new UsageError(
      `--${name} must be a number of bps >= 0 and < 10000, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

async function readPolicyFlag(flag: string): Promise<string> {
  if (!flag.startsWith("@")) return flag;
  const path = flag.slice(1);
  if (path === "") throw new UsageError("--policy @file needs a file name after @");
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new UsageError(`policy file ${path} does not exist`);
    }
    throw err;
  }
  if (info.size > POLICY_FILE_BYTES_MAX) {
    throw new UsageError(`policy file ${path} is larger than ${POLICY_FILE_BYTES_MAX} bytes`);
  }
  return await Deno.readTextFile(path);
}

function resultJson(r: RunResult): Record<string, unknown> {
  return {
    run_id: r.runId,
    run_type: r.runType,
    status: "completed",
    run_dir: r.runDir,
    summary: r.summary,
    artifact_paths: r.artifactPaths,
    phases: r.phases.map((p) => ({
      phase_name: p.name,
      phase_order: p.order,
      duration_ms: p.durationMs,
      output_summary: p.summary,
    })),
  };
}

function pct(x: unknown): string {
  return typeof x === "number" ? `${(x * 100).toFixed(1)}%` : "-";
}

function num(x: unknown, digits = 0): string {
  return typeof x === "number" ? x.toFixed(digits) : "-";
}

function describeResult(r: RunResult): string {
  const s = r.summary;
  const totalMs = r.phases.reduce((sum, p) => sum + p.durationMs, 0);
  const lines = [
    `run ${r.runId} completed (${r.runType}, ${totalMs} ms)`,
    `  calls: ${s.calls_total} (with candles ${s.calls_covered}, without ${s.calls_no_candles}), interval ${s.interval}`,
  ];
  if (r.runType === "path_only") {
    lines.push(
      `  2x/3x/4x hit rate: ${pct(s.hit_2x_rate)} / ${pct(s.hit_3x_rate)} / ${pct(s.hit_4x_rate)}` +
        `, median peak ${num(s.median_peak_multiple, 2)}x, median drawdown ${
          num(s.median_dd_bps)
        } bps`,
    );
  } else {
    lines.push(
      `  ${s.policy_type}: win rate ${pct(s.win_rate)}, mean ${num(s.mean_return_bps)} bps, ` +
        `median ${num(s.median_return_bps)} bps, stop-outs ${pct(s.stop_out_rate)}`,
    );
  }
  lines.push(`  artifacts: ${r.runDir}/`);
  return lines.join("\n");
}

/** A stderr progress bar (only used when stderr is a terminal). */
function progressBar(): { update: (done: number, total: number) => void; done: () => void } {
  const enc = new TextEncoder();
  let drawn = false;
  return {
    update(done, total) {
      const filled = total === 0
        ? PROGRESS_BAR_WIDTH
        : Math.round((done / total) * PROGRESS_BAR_WIDTH);
      const bar = "#".repeat(filled) + "-".repeat(PROGRESS_BAR_WIDTH - filled);
      Deno.stderr.writeSync(enc.encode(`\r[${bar}] ${done}/${total} calls`));
      drawn = true;
    },
    done() {
      if (drawn) Deno.stderr.writeSync(enc.encode("\n"));
      drawn = false;
    },
  };
}

/**
 * Start `ledger rebuild-index --root ROOT` as a detached child and return at
 * once. Under `deno run` the child is `deno run ... cli/ledger.ts`; in the
 * compiled binary it is the binary itself. Failures are logged, never thrown:
 * the daemon or the next rebuild catches up.
 */
export async function refreshIndexInBackground(root: string): Promise<void> {
  const exe = Deno.execPath();
  const status = await Deno.permissions.query({ name: "run", command: exe });
  if (status.state !== "granted") {
    console.error(
      "ledger backtest: index not refreshed (no permission to run " +
        `${exe}); run ledger rebuild-index or the daemon`,
    );
    return;
  }
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  const underDeno = /^deno(\.exe)?$/i.test(base);
  const here = new URL("./ledger.ts", import.meta.url);
  const args = underDeno && here.protocol === "file:"
    ? [
      "run",
      "--no-prompt",
      `--config=${fromFileUrl(new URL("../deno.json", import.meta.url))}`,
      `--allow-read=${root},/proc`,
      `--allow-write=${root}`,
      "--allow-env=LEDGER_ROOT,LEDGER_PROFILE",
      "--allow-ffi",
      "--allow-sys=hostname",
      fromFileUrl(here),
      "rebuild-index",
      "--root",
      root,
    ]
    : ["rebuild-index", "--root", root];
  try {
    const child = new Deno.Command(exe, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
  } catch (err) {
    console.error(`ledger backtest: index not refreshed: ${firstLine(String(err))}`);
  }
}

export function firstLine(message: string): string {
  return message.split("\n")[0];
}
