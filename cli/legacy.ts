/**
 * `ledger legacy`: the migration that ends dual mode (SPEC 10).
 *
 * - `backfill` writes the legacy runs into the event log (idempotent) and
 *   refreshes the index;
 * - `parity` compares the legacy file with the index and exits 1 on any
 *   difference;
 * - `archive` moves the legacy file aside once parity holds.
 *
 * @module
 */
import {
  EXIT_FAILURE,
  EXIT_OK,
  type ParsedFlags,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import {
  archiveLegacy,
  archiveRecordPath,
  backfillLegacy,
  checkParity,
  DEFAULT_LEGACY_DB_PATH,
  ParityError,
  type ParityReport,
} from "../legacy/dual.ts";

const USAGE = `Usage: ledger legacy <backfill|parity|archive> [flags]

Dual mode ends in three steps (see docs/MIGRATION.md):
  backfill   write every legacy run into the event log as run.created,
             run.started, run.completed / run.failed events (with the legacy
             timestamps and deterministic event ids: a second backfill writes
             nothing), then refresh the index
  parity     bring the index up to date with the log, then compare every
             legacy run with it; print the differences; exit 1 if there are
             any, 0 when parity holds
  archive    when parity holds (checked as parity does), move the legacy
             file to <file>.archived-<UTC stamp> (never deleted); readers
             then see the event log only

Flags:
  --legacy-db PATH   the legacy DuckDB file
                     (default ${DEFAULT_LEGACY_DB_PATH})
  --root DIR         the ledger root (default $LEDGER_ROOT, else data/ledger)
  --allow-skipped    parity/archive: legacy runs the backfill cannot write
                     (run id not valid in the event log, no created_at_ms,
                     events that would not validate, several rows of one
                     run id) do not count as differences (still listed)
  --no-index         backfill: do not refresh the index afterwards
  --dry-run          backfill: count what would be written, write nothing
  --json             print the report as JSON on stdout
  --help             this text

Exit codes: 0 done (parity holds), 1 failure (parity does not hold, archive
refused, the legacy file missing or unreadable), 2 usage error.`;

export const FLAGS = {
  "legacy-db": { type: "string" },
  "allow-skipped": { type: "boolean" },
  "no-index": { type: "boolean" },
  "dry-run": { type: "boolean" },
  "json": { type: "boolean" },
} as const;

const SUBCOMMANDS: Record<string, (values: ParsedFlags["values"]) => Promise<number>> = {
  backfill,
  parity,
  archive,
};

/**
 * Run `ledger legacy` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./legacy.ts";
 * // The command line is `await main(args)`, e.g. main(["parity", "--legacy-db", "data/baseline_results.duckdb"]); it returns the exit code.
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
 * assert.equal(printed.split("\n")[0], "Usage: ledger legacy <backfill|parity|archive> [flags]");
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (positionals.length === 0) {
    throw new UsageError("needs a subcommand: backfill, parity or archive");
  }
  if (positionals.length > 1) {
    throw new UsageError(`takes one subcommand, got ${JSON.stringify(positionals.join(" "))}`);
  }
  const run = SUBCOMMANDS[positionals[0]];
  if (!run) {
    throw new UsageError(
      `unknown subcommand ${JSON.stringify(positionals[0])}; use backfill, parity or archive`,
    );
  }
  const onlyFor: Record<string, string[]> = {
    "no-index": ["backfill"],
    "dry-run": ["backfill"],
    "allow-skipped": ["parity", "archive"],
  };
  for (const [flag, commands] of Object.entries(onlyFor)) {
    if (values[flag] && !commands.includes(positionals[0])) {
      throw new UsageError(`--${flag} applies to ${commands.join(" and ")} only`);
    }
  }
  return await run(values);
}

function legacyDbFlag(values: ParsedFlags["values"]): string {
  const path = stringFlag(values, "legacy-db") ?? DEFAULT_LEGACY_DB_PATH;
  if (path === "") throw new UsageError("--legacy-db must not be empty");
  return path;
}

async function backfill(values: ParsedFlags["values"]): Promise<number> {
  const root = resolveRootFlag(values);
  const legacyDbPath = legacyDbFlag(values);
  const dryRun = values["dry-run"] === true;
  const report = await backfillLegacy(root, { legacyDbPath, dryRun });
  printWarnings(report.warnings);
  let index = "not refreshed (--no-index)";
  if (dryRun) index = "not refreshed (--dry-run)";
  else if (!values["no-index"]) index = await refreshIndex(root);
  if (values.json) {
    console.log(JSON.stringify({ ...report, legacyDbPath, root, index }));
    return EXIT_OK;
  }
  const verb = dryRun ? "would write" : "written";
  console.log(`legacy database: ${legacyDbPath}`);
  console.log(`legacy runs: ${report.legacyRuns}`);
  // A dry run writes nothing: it says what a real one would do.
  // A second backfill wrote nothing: "runs backfilled: 17" beside "events written: 0" read
  // as a contradiction (a probe), so the runs already in the log are counted on the line.
  const present = report.runsAlreadyPresent > 0
    ? ` (already in the log: ${report.runsAlreadyPresent})`
    : "";
  console.log(
    `${dryRun ? "runs to backfill" : "runs backfilled"}: ${report.backfillableRuns}${present}`,
  );
  console.log(`runs skipped: ${report.skipped.length}`);
  console.log(`events planned: ${report.eventsPlanned}`);
  console.log(
    `events ${verb}: ${
      dryRun ? report.eventsPlanned - report.eventsAlreadyPresent : report.eventsWritten
    }`,
  );
  console.log(`events already in the log: ${report.eventsAlreadyPresent}`);
  if (report.unreadableLogLines > 0) {
    console.log(`torn or invalid log lines seen: ${report.unreadableLogLines}`);
  }
  for (const s of report.skipped) {
    console.log(`skipped ${JSON.stringify(s.run_id)}: ${s.reason}`);
  }
  console.log(`index: ${index}`);
  return EXIT_OK;
}

/** Rebuild the index after a backfill; a failure is reported, not fatal. */
async function refreshIndex(root: string): Promise<string> {
  try {
    // Loaded here: parity and archive never load the indexer.
    const { rebuildIndex } = await import("../indexer/rebuild.ts");
    await rebuildIndex(root, { onWait: sayWait });
    return "refreshed";
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    console.error(
      `ledger legacy: the events are written but the index refresh failed: ${message}; ` +
        "run ledger rebuild-index",
    );
    return `refresh failed: ${message}`;
  }
}

async function parity(values: ParsedFlags["values"]): Promise<number> {
  const root = resolveRootFlag(values);
  const legacyDbPath = legacyDbFlag(values);
  const report = await checkParity({
    legacyDbPath,
    root,
    allowSkipped: values["allow-skipped"] === true,
    onWait: sayWait,
  });
  printWarnings(report.warnings);
  if (values.json) {
    console.log(JSON.stringify({ ...report, legacyDbPath, root }));
  } else {
    printParity(legacyDbPath, report);
  }
  return report.holds ? EXIT_OK : EXIT_FAILURE;
}

function printParity(legacyDbPath: string, report: ParityReport): void {
  console.log(`legacy database: ${legacyDbPath}`);
  console.log(`legacy runs: ${report.legacyRuns}, compared with the index: ${report.comparedRuns}`);
  const counted = new Set(
    report.differences.filter((d) => d.field === "skipped").map((d) => d.run_id),
  );
  for (const s of report.skipped) {
    const note = counted.has(s.run_id) ? " (a difference unless --allow-skipped)" : "";
    console.log(`skipped ${JSON.stringify(s.run_id)}: ${s.reason}${note}`);
  }
  for (const d of report.differences) {
    if (d.field === "skipped") continue;
    if (d.field === "missing_column") {
      console.log(
        `difference: the legacy file has no ${
          String(d.legacy).includes(".") ? "column" : "table"
        } ${d.legacy} (read as NULL, so nothing shows its values reached the log): add it with ` +
          `its values (or rename the ${String(d.legacy).includes(".") ? "column" : "table"} that ` +
          "holds them)",
      );
      continue;
    }
    console.log(
      `difference ${JSON.stringify(d.run_id)} ${d.field}: legacy ${JSON.stringify(d.legacy)}, ` +
        `index ${JSON.stringify(d.index)}`,
    );
  }
  console.log(
    report.holds
      ? "parity holds"
      : `parity does not hold: ${report.differences.length} difference(s)`,
  );
}

async function archive(values: ParsedFlags["values"]): Promise<number> {
  const root = resolveRootFlag(values);
  const legacyDbPath = legacyDbFlag(values);
  try {
    const report = await archiveLegacy({
      legacyDbPath,
      root,
      allowSkipped: values["allow-skipped"] === true,
      onWait: sayWait,
    });
    printWarnings(report.parity.warnings);
    if (values.json) {
      console.log(JSON.stringify({ ...report, legacyDbPath, root }));
      return EXIT_OK;
    }
    const { comparedRuns, legacyRuns, skipped } = report.parity;
    if (report.resumed) {
      console.log(`finishing the archive interrupted earlier (${archiveRecordPath(legacyDbPath)})`);
    }
    console.log(`parity holds for ${comparedRuns} of ${legacyRuns} legacy run(s)`);
    // Skipped runs (--allow-skipped) are in no listing once the file is archived: each is named
    // (a probe: "parity holds for 18" of 24, the 6 others unsaid).
    for (const s of skipped) {
      console.log(
        `left out ${JSON.stringify(s.run_id)}: ${s.reason} (in the archived file only from now)`,
      );
    }
    console.log(`archived ${legacyDbPath} -> ${report.archivedPath}`);
    for (const also of report.movedAlso) console.log(`moved also: ${also}`);
    console.log("dual mode has ended: readers now see the event log only");
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ParityError)) throw err;
    printWarnings(err.report.warnings);
    // --json keeps its promise when archive refuses: the same object, nothing archived (a probe
    // found the text report on stdout, which a script's JSON.parse fails on).
    if (values.json) {
      console.log(
        JSON.stringify({
          archivedPath: null,
          movedAlso: [],
          parity: err.report,
          resumed: false,
          legacyDbPath,
          root,
        }),
      );
    } else {
      printParity(legacyDbPath, err.report);
    }
    console.error(`ledger legacy: ${err.message}; nothing was moved`);
    return EXIT_FAILURE;
  }
}

/** Said while the index refresh of backfill, parity or archive waits for another rebuild. */
function sayWait(message: string): void {
  console.error(`ledger legacy: ${message}`);
}

function printWarnings(warnings: string[]): void {
  for (const w of warnings) console.error(`ledger legacy: warning: ${w}`);
}
