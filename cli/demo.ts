/**
 * The README's main job, `deno task demo`: a path-only run and two policy
 * runs on the sample data in `data/sample/`, each recorded in the ledger
 * (events, Parquet artifacts, manifest), then an index rebuild, the latest
 * runs from the index and a per-caller leaderboard. Takes seconds.
 *
 * Root: `--root DIR`, else a root of its own, `data/demo` (never `$LEDGER_ROOT`
 * or `data/ledger`: the demo's runs must not mix with real ones, and
 * `rm -rf data/demo` removes every trace of them).
 *
 * @module
 */
import { parseFlags, stringFlag, UsageError } from "./_args.ts";
import { getEventEmitter } from "../ledger/emitter.ts";
import { isAbsolute, join, relative, resolve } from "node:path";
import { eventsDir, indexPath } from "../ledger/paths.ts";
import { exists } from "../ledger/exists.ts";
import { runPathOnly } from "../backtest/path_only.ts";
import { runPolicy } from "../backtest/policy.ts";
import type { RunResult } from "../backtest/workflow.ts";
import type { CallerPathSummary } from "../backtest/metrics.ts";
import type { Policy } from "../backtest/policies.ts";
import { rebuildIndex } from "../indexer/rebuild.ts";
import { listRuns } from "../indexer/queries.ts";

/** Rows of the latest-runs table. */
const LATEST_RUNS_LIMIT = 8;
/** Fees and slippage of the demo's policy runs, bps per side. */
const DEMO_COSTS = { feeBps: 25, slippageBps: 50 } as const;

/** The two policies the demo replays, with a short label each. */
export const DEMO_POLICIES: readonly { label: string; policy: Policy }[] = [
  {
    label: "stop30/tp100",
    policy: { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 },
  },
  {
    label: "trail25+12h",
    policy: {
      type: "combo",
      policies: [
        { type: "trailing_stop", activationPct: 0.5, trailPct: 0.25, hardStopPct: 0.4 },
        { type: "time_stop", maxHoldMs: 12 * 3_600_000 },
      ],
    },
  },
];

/** The demo's own root when `--root` is not given (relative to the working directory). */
export const DEMO_ROOT = "data/demo";
/** The file that marks a root the demo writes to (so `rm -rf ROOT` removes only its runs). */
export const DEMO_MARKER = ".ledger-demo";
/** Width the demo's output fits in, in columns (a terminal's default). */
const OUTPUT_COLUMNS_MAX = 80;

const USAGE = `Usage: deno task demo [--root DIR]

Runs a path-only backtest and two policy backtests on data/sample/, rebuilds
the index, and prints the latest runs and a per-caller leaderboard. The demo
writes to a root of its own (default ${DEMO_ROOT}, not the real ledger root),
so its runs never mix with yours; rm -rf ${DEMO_ROOT} removes them. A --root
that already holds a log the demo did not write is refused (exit 2).`;

/**
 * Run the demo with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./demo.ts";
 * // The command line is `await main(args)`, e.g. main(["--root", "data/ledger"]); it returns the exit code.
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
 * assert.equal(printed.split("\n")[0], "Usage: deno task demo [--root DIR]");
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {});
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = stringFlag(values, "root") ?? DEMO_ROOT;
  if (root === "") throw new UsageError("--root must not be empty");
  await claimDemoRoot(root);
  const t0 = performance.now();
  console.log(`ledger demo: sample backtests on data/sample/, demo root ${root}\n`);
  const emitter = getEventEmitter({ root });
  let truth: RunResult;
  const policies: { label: string; result: RunResult }[] = [];
  try {
    truth = await runPathOnly({ root, emitter });
    console.log(runLine("path-only", truth));
    for (const { label, policy } of DEMO_POLICIES) {
      const result = await runPolicy({ root, emitter, policy, ...DEMO_COSTS });
      policies.push({ label, result });
      console.log(runLine(label, result));
    }
  } finally {
    await emitter.close();
  }
  const report = await rebuildIndex(root, {});
  console.log(
    `\nindex rebuilt: ${report.events} events, ${report.runs} runs in ${
      Math.round(report.elapsedMs)
    } ms (${report.dbPath})\n`,
  );
  const runs = await listRuns(indexPath(root), { limit: LATEST_RUNS_LIMIT });
  console.log(`Latest runs (from the index):`);
  console.log(table(
    ["run_id", "run_type", "status", "phases", "duration"],
    runs.map((r) => [
      r.run_id,
      r.run_type ?? "-",
      r.status,
      String(r.phase_count),
      r.duration_ms === null ? "-" : `${r.duration_ms} ms`,
    ]),
  ));
  console.log("\nPer-caller leaderboard (path-only truth, then each policy's win rate and median");
  console.log(
    `net return per call after ${DEMO_COSTS.feeBps} bps fee + ${DEMO_COSTS.slippageBps} bps ` +
      "slippage per side):",
  );
  console.log(leaderboard(truth, policies));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`\ndone in ${seconds} s. Next, on the demo's root:`);
  const run = commandFor(root);
  if (!run.tasks) {
    console.log(`  (the deno tasks read data/ only; for ${root}, deno run -A:)`);
  }
  console.log(`  ${run("runs")} --root ${root}`);
  console.log(`  ${run("show")} ${policies[0].result.runId} --root ${root}`);
  console.log(reportCommand(root, policies.map((p) => p.result.runId), run));
  console.log(`Remove the demo's runs: rm -rf ${root}`);
  return 0;
}

/**
 * Refuse a root holding a log the demo did not write (the demo would mix its
 * runs into it, then print `rm -rf ROOT`), else mark the root as the demo's.
 * The default root, `data/demo`, is the demo's by name.
 */
async function claimDemoRoot(root: string): Promise<void> {
  const marker = join(root, DEMO_MARKER);
  if (root !== DEMO_ROOT && !(await exists(marker))) {
    let holdsLog = false;
    try {
      for await (const _ of Deno.readDir(eventsDir(root))) {
        holdsLog = true;
        break;
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (holdsLog) {
      throw new UsageError(
        `--root ${root} already holds a ledger (${eventsDir(root)}) the demo did not write; ` +
          `the demo writes its sample runs to a root of its own: give a new or empty folder, ` +
          `or leave out --root (${DEMO_ROOT})`,
      );
    }
  }
  await Deno.mkdir(root, { recursive: true });
  await Deno.writeTextFile(marker, "a root written by deno task demo: rm -rf it to remove them\n");
}

/**
 * How the printed commands run `command` on `root`: `deno task COMMAND`, whose
 * permissions read `data/` only, for a root there; else `deno run -A
 * cli/ledger.ts COMMAND` (a contract check: `demo --root /tmp/x` printed
 * `deno task ui --root /tmp/x`, which its permissions refuse). `tasks` says which.
 */
function commandFor(root: string): ((command: string) => string) & { tasks: boolean } {
  const rel = relative(resolve("data"), resolve(root));
  const tasks = !rel.startsWith("..") && !isAbsolute(rel);
  const run = (command: string) =>
    tasks ? `deno task ${command}` : `deno run -A cli/ledger.ts ${command}`;
  return Object.assign(run, { tasks });
}

/** The command that writes the HTML report of the demo's policy runs (and how to browse live). */
function reportCommand(root: string, runIds: string[], run: (command: string) => string): string {
  const rootFlag = ` --root ${root}`;
  return [
    "See them: one offline HTML file (open data/report.html), or live in a browser:",
    `  ${run("report")}${rootFlag} --out data/report.html \\`,
    `    ${runIds.join(" ")}`,
    `  ${run("ui")}${rootFlag}`,
  ].join("\n");
}

function runLine(label: string, r: RunResult): string {
  const s = r.summary;
  const ms = r.phases.reduce((sum, p) => sum + p.durationMs, 0);
  const detail = r.runType === "path_only"
    ? `2x hit rate ${pct(s.hit_2x_rate)}, median peak ${fixed(s.median_peak_multiple, 2)}x`
    : `win rate ${pct(s.win_rate)}, median ${fixed(s.median_return_bps, 0)} bps, ` +
      `stop-outs ${pct(s.stop_out_rate)}`;
  return `  ${label.padEnd(13)} ${r.runId} (${ms} ms)\n  ${"".padEnd(13)} ${detail}`;
}

function leaderboard(
  truth: RunResult,
  policies: readonly { label: string; result: RunResult }[],
): string {
  const paths = truth.summary.by_caller as Record<string, CallerPathSummary>;
  const perPolicy = policies.map((p) =>
    p.result.summary.by_caller as Record<
      string,
      { win_rate: number; median_return_bps: number | null }
    >
  );
  const callers = Object.keys(paths).sort((a, b) =>
    paths[b].hit_2x_rate - paths[a].hit_2x_rate ||
    (paths[b].median_peak_multiple ?? 0) - (paths[a].median_peak_multiple ?? 0)
  );
  const keys = policies.map((_, i) => String.fromCharCode(65 + i)); // A, B, ...
  const legend = policies.map((p, i) => `${keys[i]} = ${p.label}`).join(", ");
  return legend + "\n" + table(
    [
      "caller",
      "calls",
      "2x hit",
      "med. peak",
      ...keys.flatMap((k) => [`${k} win`, `${k} bps`]),
    ],
    callers.map((c) => [
      c,
      String(paths[c].count),
      pct(paths[c].hit_2x_rate),
      `${fixed(paths[c].median_peak_multiple, 2)}x`,
      ...perPolicy.flatMap((by) => [
        pct(by[c]?.win_rate ?? null),
        fixed(by[c]?.median_return_bps ?? null, 0),
      ]),
    ]),
  );
}

function pct(x: unknown): string {
  return typeof x === "number" ? `${(x * 100).toFixed(1)}%` : "-";
}

function fixed(x: unknown, digits: number): string {
  return typeof x === "number" ? x.toFixed(digits) : "-";
}

/**
 * A plain text table: text columns left-aligned, numbers (and dashes)
 * right-aligned, cells cut with an ellipsis so a row fits the output width.
 */
function table(header: string[], fullRows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...fullRows.map((r) => r[i].length)));
  const gapsColumns = 2 + 2 * (header.length - 1);
  while (widths.reduce((a, b) => a + b, gapsColumns) > OUTPUT_COLUMNS_MAX) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= CELL_COLUMNS_MIN) break;
    widths[widest] -= 1;
  }
  const rows = fullRows.map((r) => r.map((c, i) => cut(c, widths[i])));
  const numeric = header.map((_, i) => rows.every((r) => /^[-+\d.,%x ms]*$/.test(r[i])));
  const line = (cells: string[]) =>
    "  " +
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Narrowest a column is cut to when the table is too wide, in columns. */
const CELL_COLUMNS_MIN = 8;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`ledger demo: ${message.split("\n")[0]}`);
    Deno.exit(err instanceof UsageError ? 2 : 1);
  }
}
