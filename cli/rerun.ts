/**
 * `ledger rerun RUN_ID`: repeat a path-only, policy or sweep run from its
 * manifest (config, input hashes), refusing when an input changed, and say
 * whether the results are identical (same artifact sha256).
 *
 * @module
 */
import { errorLine } from "./_command.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  parseFlags,
  requireExistingRoot,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import { interruptLine, prepareIndexRefresh } from "./backtest.ts";
import { getEventEmitter } from "../ledger/emitter.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { assert } from "../ledger/assert.ts";
import { RunFailedError, RunIdTakenError } from "../backtest/workflow.ts";
import {
  type ArtifactComparison,
  RerunError,
  type RerunReport,
  rerunRun,
} from "../backtest/rerun.ts";
import { AmbiguousRunError, CANDIDATES_SHOWN_MAX } from "../indexer/query/resolve.ts";

export const FLAGS = {
  "run-id": { type: "string" },
  "no-index": { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** Usage text of `ledger rerun`. */
export const USAGE = `Usage: ledger rerun RUN_ID [flags]

Repeats a path-only, policy or sweep run from its manifest.json: the same
config on the same input files. Refuses (exit 1, nothing written) when an
input's sha256 differs from the one recorded, and a run that did not complete
(failed, interrupted or killed: no results to compare; run it again with ledger
backtest or ledger sweep and the config of its manifest.json). The new run is
an ordinary run; the report says whether its artifacts are byte-identical to
the original's as the run wrote them (the sha256s of its manifest;
manifest.json aside: it records times), whether a file of the run changed
since, and whether the git commit is the same.
RUN_ID may be a unique prefix of a run folder under <root>/artifacts/runs/
(one without a manifest.json counts: a prefix of it and of another is
ambiguous).

Flags:
  --run-id ID          id of the new run
                       (default <run_type>-<yyyymmddThhmmss>-<6 hex>)
  --no-index           do not refresh the index in the background afterwards
  --json               print the report as JSON on stdout
  --root DIR           ledger root (default $LEDGER_ROOT, else data/ledger)
  -h, --help           show this help

Exit codes: 0 rerun completed (identical or not: see the report), 1 unknown
run, a run not completed, inputs changed or the rerun failed, 2 usage error
or ambiguous prefix, 130 or 143 stopped by SIGINT or SIGTERM (the new run
recorded as run.failed; a signal that comes as it records its own end waits
for it).`;

/**
 * Run `ledger rerun` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./rerun.ts";
 * // The command line is `await main(args)`, e.g. main(["policy-20260123T101500-a1b2c3"]); it returns the exit code.
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
 * assert.equal(printed.split("\n")[0], "Usage: ledger rerun RUN_ID [flags]");
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const runId = positionals[0];
  if (runId === undefined) throw new UsageError("name the run to rerun: ledger rerun RUN_ID");
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  }
  for (const [flag, id] of [["RUN_ID", runId], ["--run-id", stringFlag(values, "run-id")]]) {
    if (id !== undefined && !RUN_ID_PATTERN.test(id)) {
      throw new UsageError(
        `${flag} must match ${RUN_ID_PATTERN.source}, got ${JSON.stringify(id)}`,
      );
    }
  }
  const root = resolveRootFlag(values);
  await requireExistingRoot(root); // a file as the root: said, not "Not a directory (os error 20)"
  const emitter = getEventEmitter({ root });
  const refresh = values["no-index"] === true ? undefined : await prepareIndexRefresh(root);
  let report: RerunReport | undefined;
  let failedRunId: string | undefined;
  try {
    ({ report } = await rerunRun(runId, {
      root,
      emitter,
      runId: stringFlag(values, "run-id"),
      onInterrupt: (i) => {
        console.error(interruptLine("rerun", i));
        refresh?.(i.runId);
      },
    }));
  } catch (err) {
    if (err instanceof RerunError) {
      if (err.kind === "ambiguous") throw new UsageError(ambiguousMessage(runId, err.candidates));
      // An unknown run, a manifest missing or unreadable, changed inputs: exit 1 (SPEC 11).
      console.error(`ledger rerun: ${errorLine(err.message)}`);
      return EXIT_FAILURE;
    }
    if (err instanceof RunIdTakenError) throw new UsageError(err.message);
    if (!(err instanceof RunFailedError)) throw err;
    const where = err.phaseName === null ? "" : ` in phase ${err.phaseName}`;
    console.error(`ledger rerun: ${errorLine(err.message)} (run ${err.runId} failed${where})`);
    failedRunId = err.runId;
  } finally {
    await emitter.close();
  }
  if (report === undefined) {
    assert(failedRunId !== undefined, "a rerun without a report recorded run.failed");
    // Listed as failed, not missing: refreshed as a completed rerun is (a probe).
    refresh?.(failedRunId);
    return EXIT_FAILURE;
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(describeReport(report));
  refresh?.(report.rerun_run_id);
  return EXIT_OK;
}

/** An ambiguous run id prefix in the words `show` and the other query commands use. */
function ambiguousMessage(prefix: string, candidates: readonly string[]): string {
  return new AmbiguousRunError(
    prefix,
    candidates.slice(0, CANDIDATES_SHOWN_MAX),
    candidates.length,
  ).message;
}

/** ` with uncommitted changes` for a dirty tree, nothing otherwise. */
function dirty(d: boolean | null): string {
  return d === true ? " with uncommitted changes" : "";
}

function short(sha: string | null): string {
  return sha === null ? "none" : sha.slice(0, 12);
}

/**
 * Whether the comparison of `a` cannot be made: the run's file changed (or
 * went) and its manifest, older than 0.8, has no sha256 of what it wrote.
 */
function unknowable(a: ArtifactComparison): boolean {
  return a.original_changed === true && a.recorded_sha256 === null;
}

/** What a line of the report adds when the run's file is not as the run wrote it. */
function changedNote(a: ArtifactComparison): string {
  if (a.original_changed !== true) return "";
  const what = a.original_sha256 === null
    ? "is gone"
    : a.recorded_sha256 === null
    ? "changed since the run (its size is not the recorded one)"
    : `changed since the run (now ${short(a.original_sha256)})`;
  return unknowable(a)
    ? `; the run's file ${what}, and no sha256 of it was recorded: not known`
    : `; the run's file ${what}`;
}

function describeReport(r: RerunReport): string {
  const names = Object.keys(r.artifacts);
  const lines = [
    `rerun of ${r.original_run_id} (${r.run_type}) as ${r.rerun_run_id}: ${
      r.identical
        ? `identical (${names.length} artifact${names.length === 1 ? "" : "s"}, same sha256)`
        : Object.values(r.artifacts).every((a) => a.same || unknowable(a))
        ? "NOT known to be identical (a file of the run changed since, and its manifest has no " +
          "sha256 of it)"
        : "NOT identical (artifacts differ)"
    }`,
  ];
  for (const [name, a] of Object.entries(r.artifacts)) {
    const written = a.recorded_sha256 ?? a.original_sha256;
    lines.push(
      `  ${name}: ${a.same ? "same" : "differs"} (${short(written)} -> ${short(a.rerun_sha256)})${
        changedNote(a)
      }`,
    );
  }
  lines.push(
    `  inputs: ${
      Object.entries(r.inputs).map(([n, i]) => `${n} ${short(i.sha256)}`).join(", ")
    } (unchanged)`,
    r.git.recorded_commit === null && r.git.current_commit === null
      ? "  git: unknown (not run from a git checkout)"
      : `  git: recorded ${short(r.git.recorded_commit)}${dirty(r.git.recorded_dirty)}, now ${
        short(r.git.current_commit)
      }${dirty(r.git.current_dirty)}${
        r.git.same
          ? " (same)"
          : r.git.recorded_commit === r.git.current_commit
          ? " (same commit, but uncommitted changes: the code may differ)"
          : " (different: results may differ)"
      }`,
  );
  return lines.join("\n");
}
