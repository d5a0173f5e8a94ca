/**
 * `ledger backtest path-only|policy`: run a backtest on calls and candles,
 * record it in the ledger, and refresh the index in the background.
 *
 * @module
 */
import { errorLine } from "./_command.ts";
import { messageValue } from "../ledger/control_text.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  decimalNumber,
  durationMsFlag,
  EXIT_FAILURE,
  EXIT_OK,
  type ParsedFlags,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  textPath,
  UsageError,
} from "./_args.ts";
import { type EmitterStats, type EventEmitter, getEventEmitter } from "../ledger/emitter.ts";
import {
  grantFlags,
  LIVENESS_NEEDS,
  REBUILD_INDEX_NEEDS,
  UnsafePermissionPathError,
} from "./_permissions.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { indexPath } from "../ledger/paths.ts";
import { fileOnPath } from "../ledger/exists.ts";
import { writeRefreshMarker } from "../indexer/refresh_marker.ts";
import { EPOCH_MS_MIN, fileFormat, isInterval } from "../backtest/data.ts";
import { InstantFormatError, parseInstant } from "../indexer/query/time.ts";
import {
  COST_BPS_MAX,
  costSumMessage,
  GAP_FILLS,
  type GapFill,
  isGapFill,
} from "../backtest/executor.ts";
import {
  type BacktestOptions,
  DATE_MS_MAX,
  type InterruptInfo,
  type PhaseEvent,
  RunFailedError,
  RunIdTakenError,
  type RunResult,
} from "../backtest/workflow.ts";
import { runPathOnly } from "../backtest/path_only.ts";
import { runPolicy } from "../backtest/policy.ts";
import { parsePolicy } from "../backtest/policies.ts";
import { InputError, PolicyError } from "../backtest/errors.ts";

/** Width of the progress bar, in characters. */
const PROGRESS_BAR_WIDTH = 30;
/** Width of the phase name column of the phase display, in characters. */
const PHASE_NAME_WIDTH = 10;
/** Most bytes a `--policy @file` or `--grid @file` may have. */
const JSON_FILE_BYTES_MAX = 64 * 1024;

export const FLAGS = {
  calls: { type: "string" },
  candles: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  interval: { type: "string" },
  "max-entry-delay": { type: "string" },
  policy: { type: "string" },
  "fee-bps": { type: "string" },
  "slippage-bps": { type: "string" },
  "gap-fill": { type: "string" },
  "run-id": { type: "string" },
  "no-index": { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** Usage text of `ledger backtest`. */
export const USAGE = `Usage: ledger backtest path-only|policy [flags]

Runs a backtest on calls and candles and records it in the ledger: events in
<root>/events, Parquet outputs and manifest.json in
<root>/artifacts/runs/<run_id>/.

Workflows:
  path-only   per call: p0, 2x/3x/4x first touch, drawdowns, activity,
              peak multiple
  policy      replay an exit policy per call; per-caller win rate and returns

Flags:
  --calls FILE         calls (CSV, JSONL, Parquet: call_id, caller, mint,
                       chain, alert_ts); default data/sample/calls.csv
  --candles FILE       candles (CSV, JSONL, Parquet: mint, ts, open, high, low,
                       close, volume); default data/sample/candles_1m.parquet
  --from ISO           keep calls alerted at or after this time (ISO-8601 or
                       epoch ms; without an offset the time is UTC)
  --to ISO             keep calls alerted before this time
  --interval I         1m, 5m, 15m or 1h: select (interval column) or resample
                       finer candles
  --max-entry-delay D  leave out a call whose anchor (entry) candle opens more
                       than D after its alert (D itself is kept): ms, or with
                       a unit s, m, h or d (90s, 1.5h, 30d); counted as
                       calls_entry_late; default no bound
  --policy JSON|@FILE  policy runs, e.g.
                       '{"type":"fixed_stop","stopPct":0.3,"takeProfitPct":1}'
                       ("kind" as in quantBot's RiskPolicy works too;
                       docs/QUANTBOT.md). Types: fixed_stop {stopPct,
                       takeProfitPct?}, time_stop {maxHoldMs, takeProfitPct?},
                       trailing_stop {activationPct, trailPct, hardStopPct?},
                       ladder {levels:[{multiple, fraction}], stopPct?},
                       combo {policies}
  --fee-bps N          fee per side in bps (policy runs; default 0)
  --slippage-bps N     slippage per side in bps (policy runs; default 0; with
                       --fee-bps below 10000)
  --gap-fill F         where a stop the candle opens beyond fills: level (at
                       the stop: the default, as quantBot) or open (at that
                       open, what a stop order would get; policy runs)
  --run-id ID          run id (default <run_type>-<yyyymmddThhmmss>-<6 hex>)
  --no-index           do not refresh the index in the background afterwards
  --json               print the result as JSON on stdout
  --root DIR           ledger root (default $LEDGER_ROOT, else data/ledger)
  -h, --help           show this help

Exit codes: 0 completed, 1 failed (run.failed is recorded once the run
exists), 2 usage error (a --calls, --candles or --policy @file that does not
exist included), 130 or 143 stopped by SIGINT or SIGTERM (recorded as
run.failed; a signal that comes as the run records its own end waits for it,
and the run stays as recorded).`;

/**
 * Run `ledger backtest` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./backtest.ts";
 * // The command line is `await main(args)`, e.g. main(["path-only", "--no-index"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(printed.split("\n")[0], "Usage: ledger backtest path-only|policy [flags]");
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
  await refuseMissingInputs(options);
  const policyFlag = stringFlag(values, "policy");
  if (workflow === "path-only") {
    // Before any of them is read: given to path-only, the flag itself is the mistake (a review:
    // `--fee-bps abc` got the range message).
    for (const flag of ["policy", "fee-bps", "slippage-bps", "gap-fill"] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag} applies to policy runs only`);
      }
    }
  }
  const feeBps = bpsFlag(values, "fee-bps");
  const slippageBps = bpsFlag(values, "slippage-bps");
  const gapFill = gapFillFlag(values);
  if (workflow !== "path-only") {
    if (policyFlag === undefined) {
      throw new UsageError("policy runs need --policy JSON or --policy @file.json");
    }
    checkCostSum(feeBps, slippageBps);
  }
  let policy: string | undefined;
  if (policyFlag !== undefined) {
    policy = await readPolicyFlag(policyFlag);
    checkPolicy(policy, jsonFlagName(policyFlag, "policy"));
  }
  const emitter = getEventEmitter({ root });
  const progress = Deno.stderr.isTerminal() ? phaseDisplay() : undefined;
  const refresh = values["no-index"] === true ? undefined : await prepareIndexRefresh(root);
  const ended = await runRecorded(
    "backtest",
    (hooks) =>
      workflow === "path-only"
        ? runPathOnly({ ...options, ...hooks })
        : runPolicy({ ...options, ...hooks, policy, feeBps, slippageBps, gapFill }),
    { emitter, progress, json: values.json === true, refresh },
  );
  if (typeof ended === "number") return ended;
  const result = ended;
  progress?.done();
  const unrecorded = unrecordedExit("backtest", result, emitter.stats(), values.json === true);
  if (unrecorded !== undefined) return unrecorded;
  if (values.json) console.log(JSON.stringify(resultJson(result), null, 2));
  else console.log(describeResult(result));
  refresh?.(result.runId);
  return EXIT_OK;
}

/** The hooks {@linkcode runRecorded} gives a run: its events, its progress, its interrupt. */
export type RunHooks =
  & Pick<BacktestOptions, "onProgress" | "onPhase" | "onInterrupt">
  & { emitter: EventEmitter };

/**
 * Run a backtest or sweep of `ledger <command>` with the hooks that record
 * its events (`emitter`, closed after), show its progress, say its interrupt
 * and start the index refresh after it (`refresh`, undefined with
 * `--no-index`). Resolves to its result, or to the exit code of a run that
 * recorded `run.failed` ({@linkcode failedRunExit}), whose index refresh
 * starts once the emitter is closed, as a completed run's does.
 */
export async function runRecorded(
  command: string,
  run: (hooks: RunHooks) => Promise<RunResult>,
  options: {
    emitter: EventEmitter;
    progress: PhaseDisplay | undefined;
    json: boolean;
    refresh: ((runId: string) => void) | undefined;
  },
): Promise<RunResult | number> {
  const { emitter, progress, refresh } = options;
  let failed: { exit: number; runId: string };
  try {
    return await run({
      emitter,
      onProgress: progress?.progress,
      onPhase: progress?.phase,
      onInterrupt: (i: InterruptInfo) => {
        progress?.done();
        console.error(interruptLine(command, i));
        // --json keeps its promise as for a failed run (helper-294: nothing on stdout).
        if (options.json) console.log(JSON.stringify(interruptJson(i)));
        refresh?.(i.runId);
      },
    });
  } catch (err) {
    progress?.done();
    failed = failedRunExit(command, err, options.json);
  } finally {
    await emitter.close();
  }
  refresh?.(failed.runId);
  return failed.exit;
}

/**
 * How `ledger backtest` and `ledger sweep` end on a run whose computation
 * finished while some of its events could not be written (a read-only or
 * full disk): the emitter never throws into a run (SPEC 6), so the run ends
 * and its artifacts exist, but the ledger holds no complete record of it.
 * One stderr line (and the run as failed with `--json`), exit 1; undefined
 * when every event was written. An audit: such runs printed "completed" and
 * exited 0.
 */
export function unrecordedExit(
  command: string,
  result: RunResult,
  stats: EmitterStats,
  json: boolean,
): number | undefined {
  if (stats.failed === 0) return undefined;
  const message = `${stats.failed} of the run's events could not be written to the log ` +
    `(${errorLine(stats.lastError ?? "unknown error")}): the ledger has no complete record of it`;
  console.error(
    `ledger ${command}: ${message} (run ${result.runId}, outputs in ${
      messageValue(result.runDir)
    })`,
  );
  if (json) {
    console.log(JSON.stringify(failedRunJson(result.runId, { message }, null)));
  }
  return EXIT_FAILURE;
}

/**
 * How `ledger backtest` and `ledger sweep` end on a run that failed: a taken
 * run id is a usage error (thrown); a run that recorded `run.failed` is one
 * stderr line (and the failure as JSON with `--json`), exit 1, its index
 * refreshed like a completed run's (a probe: `ledger runs` left a failed run
 * out until some later rebuild); anything else is rethrown.
 */
export function failedRunExit(
  command: string,
  err: unknown,
  json: boolean,
): { exit: number; runId: string } {
  if (err instanceof RunIdTakenError) throw new UsageError(err.message);
  if (!(err instanceof RunFailedError)) throw err;
  const where = err.phaseName === null ? "" : ` in phase ${err.phaseName}`;
  console.error(`ledger ${command}: ${errorLine(err.message)} (run ${err.runId} failed${where})`);
  if (json) {
    console.log(JSON.stringify(failedRunJson(err.runId, { message: err.message }, err.phaseName)));
  }
  return { exit: EXIT_FAILURE, runId: err.runId };
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
    calls: inputFileFlag(values, "calls"),
    candles: inputFileFlag(values, "candles"),
    fromMs,
    toMs,
    interval: interval as BacktestOptions["interval"],
    maxEntryDelayMs: durationMsFlag(values, "max-entry-delay"),
    runId,
  };
}

function nonEmpty(values: ParsedFlags["values"], name: string): string | undefined {
  const v = stringFlag(values, name);
  if (v !== undefined && v.trim() === "") throw new UsageError(`--${name} must not be empty`);
  return v;
}

/**
 * `--calls`/`--candles`: a file name whose extension names a format the
 * loader reads. Known from the name alone, so a usage error before the run
 * exists (an audit: `--calls calls.txt` recorded a failed run), as a
 * missing file is.
 */
function inputFileFlag(
  values: ParsedFlags["values"],
  name: "calls" | "candles",
): string | undefined {
  const given = nonEmpty(values, name);
  if (given === undefined) return undefined;
  // Its `..` as text, as the run reads it (a review: the check before the run went through a
  // link under `deno run -A`, and said a file the run would read did not exist).
  const path = textPath(given);
  try {
    fileFormat(path, name === "calls" ? "Calls" : "Candles");
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
  return path;
}

/**
 * "`what` file PATH does not exist" for the error `err` of a stat of `path`,
 * naming the file that stands on its path when one does (`--calls
 * notes.txt/calls.csv`: a probe got "Not a directory (os error 20): stat
 * ..."); undefined for any other error.
 */
async function missingFileMessage(
  what: string,
  path: string,
  err: unknown,
): Promise<string | undefined> {
  const missing = `${what} file ${messageValue(path)} does not exist`;
  if (err instanceof Deno.errors.NotFound) return missing;
  if (!(err instanceof Deno.errors.NotADirectory)) return undefined;
  return `${missing}: ${messageValue(await fileOnPath(path))} is a file`;
}

/**
 * Refuse a `--calls`/`--candles` file that does not exist, as a usage error
 * (exit 2) before the run exists, as a missing `--policy @file` is: it was
 * exit 1 from the library's check (a probe), against the comment above and
 * the help's exit codes. Only files named on the command line: a default
 * (the sample data) or a rerun's manifest that lacks one is a failure (the
 * library's {@linkcode InputError}, exit 1).
 */
export async function refuseMissingInputs(options: BacktestOptions): Promise<void> {
  for (const name of ["calls", "candles"] as const) {
    const path = options[name];
    if (path === undefined) continue;
    try {
      await Deno.stat(path);
    } catch (err) {
      const missing = await missingFileMessage(name === "calls" ? "Calls" : "Candles", path, err);
      if (missing === undefined) throw err;
      throw new UsageError(`--${name}: ${missing}`);
    }
  }
}

/**
 * The epoch ms of `--from`/`--to`: epoch ms digits, or a date or instant in
 * the query surface's grammar ({@linkcode parseInstant}: `2026-01-05`,
 * `2026-01-05T04:00[:ss[.fffffffff]]` with `T`, `t` or a space, an optional
 * `Z`/`z`/`+hh:mm`, UTC without an offset). Calls are alerted at whole
 * milliseconds, so an instant finer than one is rounded up: "before
 * 06:30:00.0005" keeps a call at 06:30:00.000 as "before 06:30:00.001" does,
 * and "at or after 06:30:00.0005" starts at 06:30:00.001. A usage error
 * naming the flag and the value as typed otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { timeFlag } from "./backtest.ts";
 * assert.equal(timeFlag({ to: "1970-01-01T00:00:00.0005Z" }, "to"), 1);
 * assert.equal(timeFlag({ from: "1970-01-01t00:01z" }, "from"), 60_000);
 * assert.equal(timeFlag({ from: "1767225600000" }, "from"), 1_767_225_600_000);
 * assert.throws(() => timeFlag({ from: "1767225600" }, "from"), /looks like epoch seconds/);
 * assert.throws(() => timeFlag({ to: "99999999999999999999" }, "to"), /--to "99999999999999999999"/);
 * ```
 */
export function timeFlag(values: ParsedFlags["values"], name: "from" | "to"): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    // As in a data file (a probe: `--from 1772953200`, epoch seconds of 2026, was read as a time
    // in 1970 and kept every call).
    if (ms < EPOCH_MS_MIN) {
      throw new UsageError(
        `--${name} ${JSON.stringify(raw)} looks like epoch seconds (as epoch ms it is before ` +
          `${new Date(EPOCH_MS_MIN).toISOString()}); epoch milliseconds are expected`,
      );
    }
    if (ms > DATE_MS_MAX) {
      throw new UsageError(
        `--${name} ${JSON.stringify(raw)} is past the last time in epoch ms (${DATE_MS_MAX})`,
      );
    }
    return ms;
  }
  try {
    return Math.ceil(parseInstant(text));
  } catch (err) {
    if (!(err instanceof InstantFormatError)) throw err;
    throw new UsageError(
      `--${name} must be an ISO-8601 time (2026-01-05T00:00:00Z) or epoch ms, got ${
        JSON.stringify(raw)
      }`,
    );
  }
}

/**
 * `--gap-fill level|open` (where a stop the candle opens beyond fills), or
 * undefined when not given; anything else is a usage error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { gapFillFlag } from "./backtest.ts";
 * assert.equal(gapFillFlag({ "gap-fill": "open" }), "open");
 * assert.equal(gapFillFlag({}), undefined);
 * assert.throws(() => gapFillFlag({ "gap-fill": "close" }), /--gap-fill must be one of level, open/);
 * ```
 */
export function gapFillFlag(values: ParsedFlags["values"]): GapFill | undefined {
  const raw = stringFlag(values, "gap-fill");
  if (raw === undefined) return undefined;
  if (!isGapFill(raw)) {
    throw new UsageError(
      `--gap-fill must be one of ${GAP_FILLS.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/**
 * `--fee-bps` and `--slippage-bps`, each checked by {@linkcode bpsFlag} and
 * together below 10000 (both are paid on each side: at 100% a sale returns
 * nothing). A usage error otherwise, before anything is written.
 */
export function costFlags(
  values: ParsedFlags["values"],
): { feeBps: number | undefined; slippageBps: number | undefined } {
  const feeBps = bpsFlag(values, "fee-bps");
  const slippageBps = bpsFlag(values, "slippage-bps");
  checkCostSum(feeBps, slippageBps);
  return { feeBps, slippageBps };
}

/** A usage error when `--fee-bps` and `--slippage-bps` together reach 10000. */
function checkCostSum(feeBps: number | undefined, slippageBps: number | undefined): void {
  if ((feeBps ?? 0) + (slippageBps ?? 0) >= COST_BPS_MAX) {
    throw new UsageError(
      costSumMessage("--fee-bps", "--slippage-bps", feeBps ?? 0, slippageBps ?? 0),
    );
  }
}

export function bpsFlag(values: ParsedFlags["values"], name: string): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  // An audit: `--fee-bps 0x10` was taken as 16 bps.
  const n = decimalNumber(raw);
  if (n === undefined || n < 0 || n >= COST_BPS_MAX) {
    throw new UsageError(
      `--${name} must be a number of bps >= 0 and < 10000, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/**
 * A bad policy is a usage error (exit 2) found before anything is written;
 * the message starts with `flagName` (see {@linkcode jsonFlagName}).
 */
function checkPolicy(policy: string, flagName: string): void {
  try {
    parsePolicy(policy);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(`${flagName}: ${err.message}`);
    throw err;
  }
}

/**
 * How a message names a flag that takes `JSON` or `@file`: `--policy`, or
 * `--policy @FILE` when the value came from a file, so an error in the
 * file's text (`at line 3 column 13`) says which file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { jsonFlagName } from "./backtest.ts";
 * assert.equal(jsonFlagName('{"type":"fixed_stop"}', "policy"), "--policy");
 * assert.equal(jsonFlagName("@grid.json", "grid"), "--grid @grid.json");
 * ```
 */
export function jsonFlagName(flag: string, what: "policy" | "grid"): string {
  return flag.startsWith("@") ? `--${what} ${flag}` : `--${what}`;
}

async function readPolicyFlag(flag: string): Promise<string> {
  return await readJsonFlag(flag, "policy");
}

/**
 * The JSON text of a flag that takes `JSON` or `@file` (`--policy`,
 * `--grid`): the text itself, or the file's content, refused past
 * {@linkcode JSON_FILE_BYTES_MAX}, when the file is missing or when it is
 * not a file (a directory). A leading byte order mark is dropped.
 */
export async function readJsonFlag(flag: string, what: "policy" | "grid"): Promise<string> {
  if (!flag.startsWith("@")) return flag;
  // Its `..` as text, as every path ledger is given (a review: under `deno run -A` the system
  // went through a link and read another policy than a task reads for the same words).
  const path = textPath(flag.slice(1));
  if (path === "") throw new UsageError(`--${what} @file needs a file name after @`);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    const missing = await missingFileMessage(what, path, err);
    if (missing === undefined) throw err;
    throw new UsageError(missing);
  }
  if (!info.isFile) {
    throw new UsageError(
      `${what} file ${messageValue(path)} is not a file (--${what} @FILE reads a JSON file)`,
    );
  }
  if (info.size > JSON_FILE_BYTES_MAX) {
    throw new UsageError(
      `${what} file ${messageValue(path)} is larger than ${JSON_FILE_BYTES_MAX} bytes`,
    );
  }
  const text = await Deno.readTextFile(path);
  // A byte order mark, as Windows editors save, is not part of the JSON (RFC 8259 lets a reader
  // ignore it): refused, it was "Unexpected token" naming a character no one sees (a probe).
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

/** The `--json` output of a finished backtest or sweep run. */
export function resultJson(r: RunResult): Record<string, unknown> {
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

/** `text` and its unit, or `-` alone when the value is missing. */
function unit(text: string, suffix: string): string {
  return text === "-" ? text : `${text}${suffix}`;
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
        // No unit after a missing value (a probe: "median peak -x").
        `, median peak ${unit(num(s.median_peak_multiple, 2), "x")}, median drawdown ${
          unit(num(s.median_dd_bps), " bps")
        }`,
      // What the rates are over: covered calls without an anchor, or late, are counted apart.
      `  computed: ${num(s.calls_computed)}${
        leftOut(s.calls_skipped, s, "with candles but no anchor price")
      }`,
    );
  } else {
    lines.push(
      `  ${s.policy_type}: win rate ${pct(s.win_rate)}, mean ${
        unit(num(s.mean_return_bps), " bps")
      }, median ${unit(num(s.median_return_bps), " bps")}, stop-outs ${pct(s.stop_out_rate)}`,
      // What the rates are over: calls without an entry are counted apart (QUANTBOT.md).
      `  trades: ${num(s.count)}${leftOut(s.calls_no_entry, s, "without an entry")}`,
    );
  }
  lines.push(`  ${entryDelayText(s)}`, `  artifacts: ${r.runDir}/`);
  return lines.join("\n");
}

/**
 * ` (and 3 without an entry, left out of the rates)`, the late calls named
 * apart when there are any: ` (and 3 left out of the rates: 1 without an
 * entry, 2 entered more than --max-entry-delay after the alert)`; empty
 * when nothing was left out.
 */
function leftOut(count: unknown, s: Record<string, unknown>, what: string): string {
  if (typeof count !== "number" || count <= 0) return "";
  const late = typeof s.calls_entry_late === "number" ? s.calls_entry_late : 0;
  if (late === 0) return ` (and ${count} ${what}, left out of the rates)`;
  const parts = count > late ? [`${count - late} ${what}`] : [];
  parts.push(`${late} entered more than --max-entry-delay after the alert`);
  return ` (and ${count} left out of the rates: ${parts.join(", ")})`;
}

/**
 * The largest alert-to-entry delay of a run's computed calls, in ms and in
 * the largest unit it holds twice (s, min, h, days): a call priced long after
 * its alert shows here at a glance.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { entryDelayText } from "./backtest.ts";
 * assert.equal(
 *   entryDelayText({ entry_delay_ms_max: 2_592_000_000 }),
 *   "largest alert-to-entry delay: 2592000000 ms (30 days)",
 * );
 * assert.equal(
 *   entryDelayText({ entry_delay_ms_max: 90_000 }),
 *   "largest alert-to-entry delay: 90000 ms (90 s)",
 * );
 * assert.equal(entryDelayText({ entry_delay_ms_max: 0 }), "largest alert-to-entry delay: 0 ms");
 * assert.equal(entryDelayText({}), "largest alert-to-entry delay: -");
 * ```
 */
export function entryDelayText(s: Record<string, unknown>): string {
  const ms = s.entry_delay_ms_max;
  if (typeof ms !== "number") return "largest alert-to-entry delay: -";
  const unit = DELAY_UNITS.find(([, size]) => ms >= 2 * size);
  const shown = unit === undefined ? "" : ` (${Number((ms / unit[1]).toFixed(1))} ${unit[0]})`;
  return `largest alert-to-entry delay: ${ms} ms${shown}`;
}

/** Units of {@linkcode entryDelayText}, largest first, with their size in ms. */
const DELAY_UNITS: readonly [string, number][] = [
  ["days", 86_400_000],
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1_000],
];

/** What the terminal shows while a run is going: phases, elapsed times, the execute bar. */
export interface PhaseDisplay {
  /** A phase started or completed. */
  phase(event: PhaseEvent): void;
  /** Calls done in the compute/execute phase. */
  progress(done: number, total: number): void;
  /** Finish the current line (before an error or the result). */
  done(): void;
}

/**
 * The phase display on stderr: each phase by name, then its elapsed time
 * (`  plan        12 ms`), and a progress bar during compute/execute. Only
 * used when stderr is a terminal; a pipe gets nothing.
 */
export function phaseDisplay(unit = "calls"): PhaseDisplay {
  const enc = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(enc.encode(text));
  let open: { name: string; t0: number } | null = null;
  const label = (name: string) => `  ${name.padEnd(PHASE_NAME_WIDTH)}`;
  return {
    phase(event) {
      if (event.state === "started") {
        open = { name: event.name, t0: performance.now() };
        write(`\r\x1b[K${label(event.name)} ...`);
      } else {
        write(`\r\x1b[K${label(event.name)} ${event.elapsedMs} ms\n`);
        open = null;
      }
    },
    progress(done, total) {
      if (open === null) return;
      const filled = total === 0
        ? PROGRESS_BAR_WIDTH
        : Math.round((done / total) * PROGRESS_BAR_WIDTH);
      const bar = "#".repeat(filled) + "-".repeat(PROGRESS_BAR_WIDTH - filled);
      const elapsed = Math.round(performance.now() - open.t0);
      write(`\r\x1b[K${label(open.name)} [${bar}] ${done}/${total} ${unit}, ${elapsed} ms`);
    },
    done() {
      if (open !== null) write("\n");
      open = null;
    },
  };
}

/** How to start the background refresh: program, arguments, working directory. */
export interface RefreshCommand {
  /** The program: the running deno (or `deno` from PATH), or the compiled binary. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Its working directory: the ledger root under `deno run`; inherited when absent. */
  cwd?: string;
}

/**
 * The command of the background `rebuild-index` for `root`, or the reason
 * there is none. Under `deno run` the child gets exactly what
 * `rebuild-index` needs plus the liveness check's `ps` and host name, from
 * the one list in `_permissions.ts`; it runs with the root as its working
 * directory and is granted `.`, so no character of `--root` (a comma above
 * all, which Deno would read as a second path) ever reaches a permission
 * flag. The compiled binary carries its own permissions.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { refreshCommand } from "./backtest.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const r = await refreshCommand(root);
 *   if ("reason" in r) throw new Error(r.reason);
 *   assert.equal(r.cwd, root); // runs in the root, so the child is granted "." only
 *   assert.deepEqual(r.args.slice(-3), ["rebuild-index", "--root", "."]);
 *   assert.ok(r.args.includes("--allow-write=."));
 *   const { code } = await new Deno.Command(r.command, { args: r.args, cwd: r.cwd }).output();
 *   assert.equal(code, 0);
 *   assert.ok((await Deno.stat(`${root}/index/runs.duckdb`)).isFile);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function refreshCommand(root: string): Promise<RefreshCommand | { reason: string }> {
  const exe = Deno.execPath();
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  const underDeno = /^deno(\.exe)?$/i.test(base);
  const here = new URL("./ledger.ts", import.meta.url);
  if (!underDeno || here.protocol !== "file:") {
    // Its permissions were fixed at compile time (relative to the working
    // directory, so that stays as it is); --root is an argument, never a grant.
    if (!await canRun(exe)) return { reason: `no permission to run ${exe}` };
    return { command: exe, args: ["rebuild-index", "--root", root] };
  }
  // deno task grants --allow-run=deno: the deno on PATH, which the running
  // one (reached through a symlink or npx) may not match by path.
  const command = await canRun(exe) ? exe : await canRun("deno") ? "deno" : null;
  if (command === null) return { reason: `no permission to run ${exe} (or deno)` };
  let flags: string[];
  try {
    flags = grantFlags([...REBUILD_INDEX_NEEDS, ...LIVENESS_NEEDS], { root: "." });
  } catch (err) {
    if (err instanceof UnsafePermissionPathError) return { reason: err.message };
    throw err;
  }
  return {
    command,
    args: [
      "run",
      "--no-prompt",
      `--config=${fromFileUrl(new URL("../deno.json", import.meta.url))}`,
      ...flags,
      fromFileUrl(here),
      "rebuild-index",
      "--root",
      ".",
    ],
    cwd: root,
  };
}

async function canRun(command: string): Promise<boolean> {
  return (await Deno.permissions.query({ name: "run", command })).state === "granted";
}

/**
 * Make ready the index refresh after a run, before the run starts: the
 * returned function starts the background `rebuild-index` of
 * {@linkcode refreshCommand} as a detached child and returns at once,
 * synchronously, so a command's interrupt handler can start it just before
 * the process exits (after a completed, failed or interrupted run: SPEC 9; a
 * probe found a failed run missing from `ledger runs`). Failures are said on
 * stderr, never thrown: the daemon or the next rebuild catches up. A refresh
 * marker for the run is written first (`indexer/refresh_marker.ts`): until
 * a rebuild removes it, `ledger runs` and the other readers warn that the
 * index may lack the run, so a refresh that fails where nobody reads its
 * output is not silent.
 */
export async function prepareIndexRefresh(root: string): Promise<(runId: string) => void> {
  const refresh = await refreshCommand(root);
  return (runId: string) => {
    try {
      writeRefreshMarker(indexPath(root), runId);
    } catch (err) {
      // Not a reason to skip the refresh: only a later warning is lost.
      console.error(
        `ledger backtest: warning: no refresh marker for run ${runId}: ${errorLine(String(err))}`,
      );
    }
    if ("reason" in refresh) {
      console.error(
        `ledger backtest: index not refreshed (${refresh.reason}); run ledger rebuild-index or the daemon`,
      );
      return;
    }
    try {
      const child = new Deno.Command(refresh.command, {
        args: refresh.args,
        cwd: refresh.cwd,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      child.unref();
    } catch (err) {
      console.error(`ledger backtest: index not refreshed: ${errorLine(String(err))}`);
    }
  };
}

/**
 * The `--json` object of an interrupted run: a failed run's
 * ({@linkcode failedRunExit}), its error the run.failed's (`interrupted`,
 * the signal); a run that was recording its own end as the signal came ends
 * as that end says (`completed` with the signal, no summary).
 */
export function interruptJson(i: InterruptInfo): Record<string, unknown> {
  if (i.ended === undefined) {
    return failedRunJson(i.runId, { message: "interrupted", signal: i.signal }, i.phaseName);
  }
  const { end, recorded, error } = i.ended;
  if (recorded && end === "completed") {
    return { run_id: i.runId, status: "completed", signal: i.signal };
  }
  const why = error === undefined ? "" : `: ${errorLine(error)}`;
  const message = recorded ? errorLine(error ?? "failed") : `its run.${end} could not be ` +
    `written to the log${why}`;
  return failedRunJson(i.runId, { message }, null);
}

/** The `--json` object of a failed run: `run_id`, `status` "failed", `error`, `phase_name`. */
function failedRunJson(
  runId: string,
  error: { message: string; signal?: string },
  phaseName: string | null,
): Record<string, unknown> {
  return { run_id: runId, status: "failed", error, phase_name: phaseName };
}

/**
 * The one line a command prints when SIGINT/SIGTERM interrupted its run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { interruptLine } from "./backtest.ts";
 * const info = {
 *   runId: "s-1", signal: "SIGINT" as const, phaseName: "execute", removed: [], exitCode: 130,
 * };
 * const line = interruptLine("sweep", info);
 * assert.equal(
 *   line,
 *   "ledger sweep: interrupted by SIGINT in phase execute; run s-1 recorded as failed",
 * );
 * // A signal that came as the run recorded its own end: the run ended as recorded.
 * assert.equal(
 *   interruptLine("sweep", { ...info, phaseName: null, ended: { end: "completed", recorded: true } }),
 *   "ledger sweep: SIGINT came as run s-1 ended; it is recorded as completed",
 * );
 * // A failed run's reason is said (the signal ends the process before the command could).
 * assert.equal(
 *   interruptLine("sweep", {
 *     ...info, phaseName: null, ended: { end: "failed", recorded: true, error: "no candles" },
 *   }),
 *   "ledger sweep: SIGINT came as run s-1 ended; it is recorded as failed: no candles",
 * );
 * ```
 */
export function interruptLine(command: string, i: InterruptInfo): string {
  if (i.ended !== undefined) {
    const { end, recorded, error } = i.ended;
    const why = error === undefined ? "" : `: ${errorLine(error)}`;
    const said = recorded
      ? `it is recorded as ${end}${why}`
      : `its run.${end} could not be written to the log${why}`;
    return `ledger ${command}: ${i.signal} came as run ${i.runId} ended; ${said}`;
  }
  const where = i.phaseName === null ? "" : ` in phase ${i.phaseName}`;
  return `ledger ${command}: interrupted by ${i.signal}${where}; run ${i.runId} recorded as failed`;
}
