/**
 * `ledger report [RUN...] --out FILE.html`: write one self-contained HTML
 * file (runs overview, a page per run, compare, sweep heatmap) from the
 * index. The file makes no network request and opens from disk. The file is
 * written aside and renamed into place: a failed report leaves an existing
 * file as it was.
 *
 * @module
 */
import { DEFAULT_LEGACY_DB_PATH } from "../legacy/read.ts";
import { errorLine } from "./_command.ts";
import { messageValue } from "../ledger/control_text.ts";
import { dirname } from "node:path";
import { exists } from "../ledger/exists.ts";
import { buildReport, REPORT_RUNS_MAX, REPORT_TRIALS_MAX } from "../report/build.ts";
import { COMPARE_RUNS_MAX } from "../report/html.ts";
import {
  AmbiguousRunError,
  IndexNotFoundError,
  RunNamedTwiceError,
  RunNotFoundError,
  TRIALS_MAX,
} from "../report/data.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import { whereFilter } from "./_report_where.ts";
import {
  indexDbPath,
  legacyDbFlagPath,
  refuseLedgerOut,
  refuseUnwritableOut,
  resolveBesideLegacy,
  warnIfIndexMayLackRuns,
} from "./_query.ts";
import { UnknownRunError } from "../indexer/query/resolve.ts";

export const FLAGS: FlagSpec = {
  "out": { type: "string", short: "o" },
  "where": { type: "string", multiple: true },
  "db": { type: "string" },
  "legacy-db": { type: "string" },
  "title": { type: "string" },
  "all": { type: "boolean" },
};

const USAGE = `Usage: ledger report [RUN...] --out FILE.html [--where EXPR] [--all] [--db PATH]
                     [--title TEXT] [--legacy-db PATH] [--root DIR]

Write one self-contained HTML file: the runs overview (sortable, filterable,
runs per day by status), a page per run (phase timeline, equity curve,
return and adverse-excursion histograms, per-caller results, config and
provenance), a compare of the runs named (two or more) and, for sweeps, a
heatmap over two chosen parameters. Scripts, styles and data are inline: the
file makes no network request and opens from disk.

RUN is a run id or a unique prefix; without RUN the newest runs are shown
(at most ${REPORT_RUNS_MAX}); a run named twice, or more than ${REPORT_RUNS_MAX} runs, is refused. The
compare holds the first ${COMPARE_RUNS_MAX} runs named (said when more are; ledger compare
takes them all). --where EXPR keeps runs matching EXPR (see ledger runs
--help). Archived runs are left out (and counted) unless named or --all.
In dual mode a prefix must also be unique among the legacy DuckDB's runs
(--legacy-db PATH, else ${DEFAULT_LEGACY_DB_PATH} when there).
--title TEXT names the report (default: ledger report). -o is --out.

A report of one sweep holds its first ${TRIALS_MAX} trials; the sweeps of a report of
several runs share ${REPORT_TRIALS_MAX} trials in all (each page says how many of its
trials it holds; ledger ui and ledger trials show more).

An artifact of a run that cannot be read (or that the run recorded and is
gone) is said on that run's page, in place of what it would show, and in a
warning line on stderr; the report is written all the same.

The page is written aside and renamed into place (an --out that is a
symbolic link: over the file it leads to; a link to a process's open file,
such as /dev/stdout, is refused).

Exit codes: 0 written, 1 no index (or a --db that is none), unknown run, or
the file cannot be written, 2 usage error (an --out in a folder that does not
exist, a folder, a device or a link to a process's open file included, an
ambiguous prefix or a run named twice).`;

/**
 * Run `ledger report` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./report.ts";
 * // The command line is `await main(args)`, e.g. main(["--out", "report.html"]); it returns the exit code.
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
 *   "Usage: ledger report [RUN...] --out FILE.html [--where EXPR] [--all] [--db PATH]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const out = stringFlag(values, "out");
  if (out === undefined) throw new UsageError("--out FILE.html is required");
  if (out === "") throw new UsageError("--out must not be empty");
  const dbPath = indexDbPath(values);
  for (const id of positionals) if (id === "") throw new UsageError("RUN must not be empty");
  if (positionals.length > REPORT_RUNS_MAX) {
    // A probe: 601 runs named made a report of 500, "the newest; name runs ... for others".
    throw new UsageError(
      `${positionals.length} runs named: a report holds at most ${REPORT_RUNS_MAX} ` +
        "(name fewer, or see them all with ledger ui or ledger runs)",
    );
  }
  const legacyDbPath = await legacyDbFlagPath(values);
  const root = resolveRootFlag(values);
  await refuseLedgerOut(out, root, dbPath);
  const target = await refuseUnwritableOut(out, "report.html", "HTML file");
  const where = (values.where ?? []) as string[];
  const includeArchived = values.all === true;
  const filterRunIds = where.length === 0 ? undefined : whereFilter(where, includeArchived);
  const started = performance.now();
  let built;
  try {
    built = await buildReport(root, {
      runIds: positionals,
      resolveRunIds: (given, resolve) =>
        resolveBesideLegacy(given, resolve, "report", legacyDbPath),
      dbPath,
      title: stringFlag(values, "title"),
      filterRunIds,
      includeArchived,
    });
  } catch (err) {
    if (err instanceof AmbiguousRunError || err instanceof RunNamedTwiceError) {
      throw new UsageError(err.message);
    }
    if (
      err instanceof IndexNotFoundError || err instanceof RunNotFoundError ||
      err instanceof UnknownRunError
    ) {
      console.error(`ledger report: ${errorLine(err.message)}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
  const bytes = await writeReplacing(target, built.parts);
  // Said on the run's view too; one line per file here, so a script sees it.
  for (const problem of built.artifactProblems) {
    console.error(`ledger report: warning: run ${problem.run_id}: ${problem.message}`);
  }
  // A run named and then left out by --where is said (a probe: a report of 0 runs, no word why).
  const { runs: named, leftOut } = built.named;
  if (leftOut > 0) {
    console.error(
      `ledger report: warning: ${leftOut} of the ${named} runs named ${
        leftOut === 1 ? "does" : "do"
      } not match --where: left out`,
    );
  }
  // The compare's first 12 of more runs named, said (a probe: 13 named, "Compare 12 runs").
  if (built.compared && built.comparedRuns < built.runs.length) {
    console.error(
      `ledger report: warning: the compare holds the first ${built.comparedRuns} of the ` +
        `${built.runs.length} runs named${leftOut > 0 ? " that match --where" : ""} (at most ` +
        `${COMPARE_RUNS_MAX}); each has its page`,
    );
  }
  const kb = (bytes / 1024).toFixed(0);
  // As ledger runs says it (a probe: --where matching only an archived run wrote "0 runs").
  const hidden = built.archivedHidden === 0
    ? []
    : [`${built.archivedHidden} archived, shown with --all`];
  // Past the report's 500, which runs it holds (the page says it too; a probe: "500 runs").
  const held = built.runsTotal > built.runs.length
    ? `${built.runs.length} of ${built.runsTotal} runs (${
      ["the newest; name runs or use --where for others", ...hidden].join("; ")
    })`
    : `${built.runs.length} run${built.runs.length === 1 ? "" : "s"}${
      hidden.length === 0 ? "" : ` (${hidden[0]})`
    }`;
  const compare = !built.compared
    ? ""
    : built.comparedRuns < built.runs.length
    ? ` and the compare of the first ${built.comparedRuns}`
    : " and their compare";
  console.log(
    `Wrote ${out}: ${held}${compare}, ` +
      `${kb} KiB in ${Math.round(performance.now() - started)} ms (open it in a browser)`,
  );
  await warnIfIndexMayLackRuns("report", dbPath);
  return EXIT_OK;
}

/**
 * Write the pieces of a page beside `path`, then rename the file over
 * `path`; returns its size in bytes. One piece at a time: the page may be
 * longer than a JavaScript string can be.
 */
async function writeReplacing(path: string, parts: readonly string[]): Promise<number> {
  const tmp = `${dirname(path)}/.${crypto.randomUUID().slice(0, 8)}.report.tmp`;
  let created = false;
  try {
    let bytes = 0;
    const file = await Deno.open(tmp, { write: true, createNew: true });
    created = true;
    try {
      const encoder = new TextEncoder();
      for (const part of parts) {
        const chunk = encoder.encode(part);
        for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
        bytes += chunk.length;
      }
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
    return bytes;
  } catch (err) {
    await Deno.remove(tmp).catch((cleanup) => {
      if (!(cleanup instanceof Deno.errors.NotFound)) throw cleanup;
    });
    // Only when the folder is gone: /proc/version's folder is there, and cannot be written.
    if (err instanceof Deno.errors.NotFound && !(await exists(dirname(path)))) {
      throw new UsageError(
        `--out ${messageValue(path)}: the folder ${messageValue(dirname(path))} does not exist`,
      );
    }
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
      // The report is written beside --out, then renamed: a folder that takes no new file is
      // said as such (a probe: the message named the temporary file, never asked for).
      const why = err.message.split("\n")[0].replace(/: \w+ '.*$/, "");
      const where = created
        ? why
        : `its folder ${messageValue(dirname(path))} takes no new file: ${why}`;
      throw new Error(`cannot write ${messageValue(path)}: ${where}`, { cause: err });
    }
    // Any other failure of the write (a full disk, a quota, an I/O error) names the file too
    // (a probe: "No space left on device (os error 28)" alone).
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new Error(`cannot write ${messageValue(path)}: ${why}`, { cause: err });
  }
}
