/**
 * `ledger rebuild-index`: build or update the DuckDB index from the log.
 * Incremental when an index exists (only new files and bytes are read),
 * full with `--full`; the new index is published atomically. Exits 0 on
 * success, 1 on a failure (SPEC 8) and 2 on a usage error (a bad flag or date).
 *
 * @module
 */
import { countOf, shownAndMore } from "../ledger/count_text.ts";
import { errorLine } from "./_command.ts";
import { resolve } from "node:path";
import { eventsDir, indexPath } from "../ledger/paths.ts";
import { exists } from "../ledger/exists.ts";
import {
  changedFilesWarning,
  InvalidDateError,
  MEMORY_LIMIT_DEFAULT,
  notReadWarning,
  parseDay,
  rebuildIndex,
  RebuildInterruptedError,
  type RebuildOptions,
  type RebuildReport,
} from "../indexer/rebuild.ts";
import { progressLine } from "./_progress_line.ts";
import { rebuildInterruptedLine, STOP_EXIT_CODES, stopOnSignals } from "./_stop.ts";
import { recoveredLogEntry } from "../indexer/daemon.ts";
import {
  EXIT_OK,
  EXIT_USAGE,
  type FlagSpec,
  parseFlags,
  pathFlag,
  rebuildMemoryLimitFlag,
  requireExistingRoot,
  resolveRootFlag,
  sinceDateIgnoredWarning,
  staleAfterMsFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";

export const FLAGS: FlagSpec = {
  "db": { type: "string" },
  "since-date": { type: "string" },
  "full": { type: "boolean" },
  "verbose": { type: "boolean", short: "v" },
  "stale-after-hours": { type: "string" },
  "memory-limit": { type: "string" },
};

const USAGE = `Usage: ledger rebuild-index [--db PATH] [--since-date YYYY-MM-DD] [--full]
                            [--verbose] [--stale-after-hours H]
                            [--memory-limit SIZE] [--root DIR]
       ledger rebuild-index --from s3://BUCKET/PREFIX [...]

Build or update the DuckDB index (default <root>/index/runs.duckdb) from the
event log. Without --full an existing index is updated incrementally: only
files and bytes added since the last rebuild are read. --since-date D re-reads
the day partitions from D on and keeps what was indexed before D (with --full,
which reads every day, it is ignored with a warning). The new
index is built beside the live one and renamed over it, so readers never see
a half-built index. Bad lines go to the ingest_errors table, never fail the
rebuild. --db never replaces a file that is not an index (a part of the log,
a file that is not a DuckDB database, another DuckDB database): refused; nor,
without --full, the index of another root whose log is still there. An empty
file, and one named *.duckdb that is not a DuckDB database (a damaged index),
are rebuilt.

  --stale-after-hours H   a running run silent this long shows as stale
                          (default: what the index holds, else 24)
  --memory-limit SIZE     DuckDB memory limit; more spills to disk beside the
                          index (default ${MEMORY_LIMIT_DEFAULT}; e.g. 512MB, 4GB)
  --verbose               progress on stderr (files, events, errors, time);
                          without it a terminal shows one updating progress line
  --from s3://BUCKET/P    index the log shipped to a bucket (ledger ship);
                          see ledger rebuild-index --from s3://B/P --help

SIGINT or SIGTERM stop the rebuild, remove its temporary files, keep the
previous index and exit 130 or 143.

Exit codes: 0 success, 1 failure, 2 usage (a bad flag or date).`;

/**
 * Run `ledger rebuild-index` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./rebuild_index.ts";
 * // The command line is `await main(args)`, e.g. main(["--root", "data/ledger", "--verbose"]); it returns the exit code.
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
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger rebuild-index [--db PATH] [--since-date YYYY-MM-DD] [--full]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  if (args.some((a) => a === "--from" || a.startsWith("--from="))) {
    return await (await import("./_from_bucket.ts")).rebuildIndexMain(args); // SPEC 14
  }
  let options;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof InvalidDateError) {
      console.error(`ledger rebuild-index: ${errorLine(err.message)}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (options === "help") {
    console.log(USAGE);
    return EXIT_OK;
  }
  await requireExistingRoot(options.root);
  if (options.sinceDateIgnored !== undefined) {
    console.error(`ledger rebuild-index: ${options.sinceDateIgnored}`);
  }
  const started = performance.now();
  // One updating line on a terminal when not verbose; nothing at all on a pipe.
  const line = options.verbose ? undefined : progressLine(Deno.stderr, "rebuild-index");
  const rebuildOptions: RebuildOptions = {
    dbPath: options.dbPath,
    full: options.full,
    sinceDate: options.sinceDate,
    staleAfterMs: options.staleAfterMs,
    memoryLimit: options.memoryLimit,
    onProgress: options.verbose
      ? (m) => console.error(`[${Math.round(performance.now() - started)} ms] ${m}`)
      : line?.message,
    onRead: line?.read,
    // Said with or without --verbose: a silent wait looks like a hang.
    onWait: (m) => console.error(`ledger rebuild-index: ${m}`),
  };
  let report;
  {
    using stop = stopOnSignals();
    try {
      report = await rebuildIndex(options.root, { ...rebuildOptions, signal: stop.signal });
    } catch (err) {
      line?.clear();
      if (err instanceof RebuildInterruptedError && stop.caught !== undefined) {
        console.error(rebuildInterruptedLine(stop.caught));
        return STOP_EXIT_CODES[stop.caught];
      }
      throw err;
    }
  }
  line?.clear();
  if (report.recoveredFrom !== undefined) {
    console.error(`ledger rebuild-index: warning: ${recoveredLogEntry(report.recoveredFrom).msg}`);
  }
  if (report.filesScanned === 0 && !(await exists(eventsDir(options.root)))) {
    // A mistyped root that exists (--root data for data/ledger) gave an empty index without a
    // word (an audit). Not refused: a new ledger's first rebuild may come before its first event.
    console.error(
      `ledger rebuild-index: warning: ${options.root} has no events/ directory (is --root the ` +
        "ledger root, the folder that holds events/?): the index holds no event",
    );
  }
  if (report.fullBecause !== undefined) {
    // Else only --verbose said it (a review: a moved root's every run read in full, unsaid).
    console.error(`ledger rebuild-index: ${report.fullBecause}: rebuilt in full`);
  }
  console.log(
    `Indexed ${report.events} events of ${report.runs} runs into ${report.dbPath} ` +
      `(${report.mode}: read ${report.filesRead} of ${report.filesScanned} files, ` +
      // "read", not "new": a --since-date rebuild reads its days' known bad lines again (a probe).
      `${report.errorsFound} bad lines read, ${report.errors} in ingest_errors) ` +
      `in ${report.elapsedMs} ms`,
  );
  printIndexWarnings(report);
  return EXIT_OK;
}

/**
 * Print the warnings of a rebuild: part files found changed where they were
 * indexed, and of what its index holds: event ids with copies
 * that differ, and run ids with more than one `run.created` (those beyond
 * `reusedSaid`, the ones a caller said already: a bucket's run ids created on
 * two machines).
 */
export function printIndexWarnings(
  report: Pick<RebuildReport, "conflicts" | "reusedRuns" | "changedFiles" | "notRead">,
  reusedSaid = 0,
): void {
  const changed = changedFilesWarning(report.changedFiles);
  if (changed !== undefined) console.error(`ledger rebuild-index: warning: ${changed}`);
  const notRead = notReadWarning(report.notRead);
  if (notRead !== undefined) console.error(`ledger rebuild-index: warning: ${notRead}`);
  const conflicts = conflictsWarning(report.conflicts);
  if (conflicts !== undefined) console.error(`ledger rebuild-index: warning: ${conflicts}`);
  if (report.reusedRuns.count <= reusedSaid) return;
  const reused = reusedRunsWarning(report.reusedRuns);
  if (reused !== undefined) console.error(`ledger rebuild-index: warning: ${reused}`);
}

/**
 * The warning of a rebuild whose index holds `conflicts` event ids with
 * copies that differ, or undefined for none. Not a failure (the rule keeps
 * one copy, SPEC 7), but two events under one id: a status may have changed
 * with nothing else said (a probe). Said while the log holds them.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { conflictsWarning } from "./rebuild_index.ts";
 * assert.equal(conflictsWarning(0), undefined);
 * assert.match(conflictsWarning(2)!, /^2 event ids have copies that differ/);
 * ```
 */
export function conflictsWarning(conflicts: number): string | undefined {
  if (conflicts === 0) return undefined;
  return `${countOf(conflicts, "event id")} ${conflicts === 1 ? "has" : "have"} copies that ` +
    "differ (more than the time): the copy with the smallest (timestamp_ms, file, line) " +
    "counts; `ledger verify` lists them";
}

/**
 * The warning of a rebuild whose index holds run ids with more than one
 * `run.created` ({@linkcode RebuildReport.reusedRuns}), or undefined for none:
 * two runs given one id, which the index merges into one (a probe: a script
 * with a fixed run id, run twice, became one run with the first run's
 * config and the second's summary, and nothing said so).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { reusedRunsWarning } from "./rebuild_index.ts";
 * assert.equal(reusedRunsWarning({ shown: [], count: 0 }), undefined);
 * assert.match(reusedRunsWarning({ shown: ["s1"], count: 1 })!, /^1 run id has more than one run\.created/);
 * ```
 */
export function reusedRunsWarning(reused: RebuildReport["reusedRuns"]): string | undefined {
  if (reused.count === 0) return undefined;
  return `${countOf(reused.count, "run id")} ${reused.count === 1 ? "has" : "have"} more than ` +
    "one run.created (two runs given one id, merged into one run in the index: give each run " +
    "its own id; `ledger verify` lists the lines): " +
    shownAndMore(reused.shown.map((id) => JSON.stringify(id)), reused.count);
}

interface Options {
  root: string;
  dbPath: string;
  full: boolean;
  sinceDate?: string;
  staleAfterMs?: number;
  memoryLimit?: string;
  verbose: boolean;
  /** The warning for `--full` with `--since-date`, or undefined. */
  sinceDateIgnored?: string;
}

function parseOptions(args: string[]): Options | "help" {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) return "help";
  const root = resolveRootFlag(values);
  const db = pathFlag(values, "db");
  if (db === "") throw new UsageError("--db must not be empty");
  const sinceDate = stringFlag(values, "since-date");
  if (sinceDate !== undefined) {
    parseDay(sinceDate); // checked before anything is opened; throws InvalidDateError
  }
  return {
    root,
    dbPath: db === undefined ? indexPath(root) : resolve(db),
    full: values.full === true,
    sinceDate,
    staleAfterMs: staleAfterMsFlag(values, "hours"),
    memoryLimit: rebuildMemoryLimitFlag(values),
    verbose: values.verbose === true,
    sinceDateIgnored: sinceDateIgnoredWarning(values),
  };
}
