/**
 * `ledger verify [--root DIR] [--json] [--strict]`: check the event log
 * read-only (see `ledger/verify.ts` for what counts as a problem). Prints a
 * per-day report with each finding as `file:line: reason` (or the report as
 * JSON with `--json`). Exit codes: 0 the log is sound, 1 it has problems or
 * the root is missing, 2 usage error.
 *
 * @module
 */
import { formatReport, verifyLog } from "../ledger/verify.ts";
import { escapeControl } from "./_table.ts";
import { progressLine } from "./_progress_line.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  parseFlags,
  resolveRootFlag,
  UsageError,
} from "./_args.ts";

export const FLAGS: FlagSpec = {
  json: { type: "boolean" },
  strict: { type: "boolean" },
};

const USAGE = `Usage: ledger verify [--root DIR] [--json] [--strict]

Check the event log under --root (else $LEDGER_ROOT, else data/ledger)
without changing it: per day, part files, lines, events by type (each event
id once, as in the index), torn tails, invalid lines (file:line: reason),
event ids on more than one line, and runs with an impossible lifecycle
(run.completed/run.failed without run.created, phase.completed without its
phase.started); a repeated id is said to hold the same event (apart from
timestamp_ms: a retried emit) or another one (a conflict). Reported as
warnings, not counted: events after a run's end (annotations excepted), runs
with events but neither run.created nor an ending, runs completed twice or
both completed and failed, NaN/Infinity
values (read as null), repeated top-level keys (the first counts), timestamps
more than a day ahead of this clock, events in a day directory other than
their timestamp's UTC day, runs created more than once (the first counts),
runs that ended before they started, a missing or damaged _schema.json, and
files the readers skip. docs/EVENTS.md lists what makes a line valid.

  --json     print the report as JSON
  --strict   count torn tails (a crash's last line, or a line being written)
             as problems

Exit codes: 0 sound, 1 problems found (or the root is missing), 2 usage error.`;

/**
 * Run `ledger verify` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./verify.ts";
 * // The command line is `await main(args)`, e.g. main(["--root", "data/ledger", "--strict"]); it returns the exit code.
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
 * assert.equal(printed.split("\n")[0], "Usage: ledger verify [--root DIR] [--json] [--strict]");
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  }
  const root = resolveRootFlag(values);
  // On a terminal, one line that says how far the read is (a scale audit: 26 s of silence for
  // 4.8M events); on a pipe or a file, nothing.
  const line = progressLine(Deno.stderr, "verify");
  const report = await verifyLog(root, {
    strict: values.strict === true,
    onProgress: line && ((done, total) => line.read(done, total)),
  });
  line?.clear();
  // File names and quoted lines come from the log: their control characters are escaped, as
  // in every table (an audit: a file name holding ESC sequences reached the terminal raw).
  console.log(
    values.json === true
      ? JSON.stringify(snakeCase(report), null, 2)
      : formatReport(report).split("\n").map(escapeControl).join("\n"),
  );
  return report.sound ? EXIT_OK : EXIT_FAILURE;
}

/**
 * The report with snake_case keys, as everything on the wire is. Keys of
 * `eventsByType` are event types and are kept as they are.
 */
function snakeCase(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeCase(v));
  if (value === null || typeof value !== "object" || key === "eventsByType") return value;
  return Object.fromEntries(
    Object.entries(value).map((
      [k, v],
    ) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeCase(v, k)]),
  );
}
