/**
 * `ledger show RUN_ID`: one run from the index with its phases (and their
 * durations), trials and artifacts; `--json` for scripts. Reads the index
 * read-only.
 *
 * @module
 */
import { basename } from "node:path";
import { errorLine } from "./_command.ts";
import { listRefreshMarkers, refreshPendingClause } from "../indexer/refresh_marker.ts";
import type { DuckDBConnection } from "../indexer/duckdb.ts";
import {
  countRunTrials,
  getRun,
  IndexNotFoundError,
  readRunDetail,
  type RunDetail,
  trialRowOf,
} from "../indexer/queries.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  parseFlags,
  resolveRootFlag,
  UsageError,
} from "./_args.ts";
import { cutoverDateFlag, formatDuration, formatTime } from "./runs.ts";
import { equitySparklineLine } from "../report/sparkline.ts";
import { bestTrialId, tradesFileOf } from "../report/data.ts";
import { resolveRunId, streamRows, UnknownRunError, withReader } from "../indexer/query/mod.ts";
import { RUN_TRIALS_SQL } from "../indexer/schema.ts";
import { assert } from "../ledger/assert.ts";
import { jsonText } from "../indexer/query/_json.ts";
import { countOf } from "../ledger/count_text.ts";
import { asUsage, indexDbPath, legacyDbFlag, warnIfIndexMayLackRuns } from "./_query.ts";
import { escapeControl, formatTable, OutputBuffer, terminalWidth, truncate } from "./_table.ts";
import {
  activeLegacyDbPath,
  DEFAULT_CUTOVER_DATE,
  DEFAULT_LEGACY_DB_PATH,
  dualModeNotGrantedWarning,
} from "../legacy/active.ts";
import type { DualRun } from "../legacy/dual.ts";

export const FLAGS: FlagSpec = {
  "json": { type: "boolean" },
  "db": { type: "string" },
  "legacy-db": { type: "string" },
  "cutover-date": { type: "string" },
};

const USAGE = `Usage: ledger show RUN_ID [--json] [--db PATH] [--legacy-db PATH]
                   [--cutover-date YYYY-MM-DD] [--root DIR]

Show one run from the index: status and times, config, summary or error,
its phases with durations, trials and artifacts. --json prints one object
{run, phases, trials, artifacts, baselines, tags, notes, archived,
archived_reason} (the reason given to ledger archive, or null); run has
run_id, run_type, status, created_at_ms, started_at_ms, completed_at_ms,
failed_at_ms, duration_ms, phase_count, phase_names, phase_duration_ms,
last_event_at_ms, event_count, summary, error, failed_phase (the phase its
run.failed names, or null), host, pid, data_fingerprint, config and label
(its label tag, or null).

Dual mode (docs/MIGRATION.md): with ${DEFAULT_LEGACY_DB_PATH} (when it
exists) or --legacy-db PATH, a run is shown from the store \`ledger runs\`
lists it from: the legacy DuckDB for a run only it has, or one both have
that was created before the cutover (${DEFAULT_CUTOVER_DATE} or --cutover-date, as
for ledger runs); --json then prints {run, source: "legacy"}.

Exit codes: 0 ok, 1 unknown run or no index, 2 usage error.`;

/** Trials the text view lists before summarizing the rest. */
const TRIALS_SHOWN_MAX = 20;
/** Where a value starts on a `name       value` line of the text view. */
const INDENT = " ".repeat(11);
/** Longest JSON value printed inline in the text view, in characters. */
const INLINE_JSON_CHARS_MAX = 200;

/**
 * Run `ledger show` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./show.ts";
 * // The command line is `await main(args)`, e.g. main(["run-1", "--json"]); it returns the exit code.
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
 *   "Usage: ledger show RUN_ID [--json] [--db PATH] [--legacy-db PATH]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "RUN_ID is required"
        : `expected one RUN_ID, got ${positionals.length}`,
    );
  }
  const runId = positionals[0];
  if (runId === "") throw new UsageError("RUN_ID must not be empty");
  const root = resolveRootFlag(values);
  const dbPath = indexDbPath(values); // --db, else the root's; an empty --db is a usage error
  const legacyDbPath = await activeLegacyDbPath(legacyDbFlag(values), {
    onNotGranted: (path) =>
      console.error(`ledger show: warning: ${dualModeNotGrantedWarning(path)}`),
  });
  const cutoverDate = cutoverDateFlag(values);
  let detail: RunDetail | null;
  let trialCount: number | undefined; // all of them, when detail.trials holds the first few
  try {
    if (legacyDbPath === undefined) {
      // One open of the index: resolve the prefix, read the run. The table reads the trials
      // it prints and a count (a scale audit: 1.9 GB to print 20 of 1M trials).
      [detail, trialCount] = await asUsage(() =>
        withReader(dbPath, async (conn) => {
          const id = await resolvedIn(conn, runId);
          if (values.json) {
            // Written as it is read: the trials of a sweep stream (a scale audit: 4.4 GB to
            // hold 1M of them in one object).
            const head = await readRunDetail(conn, id, { trialsMax: 1 });
            if (head !== null) await writeRunDetailJson(conn, head);
            return [head, undefined] as const;
          }
          const head = await readRunDetail(conn, id, { trialsMax: TRIALS_SHOWN_MAX });
          if (head === null) return [head, undefined] as const;
          // Fewer than the table shows: those are all of them (no count query to pay).
          const count = head.trials.length < TRIALS_SHOWN_MAX
            ? head.trials.length
            : await countRunTrials(conn, id);
          return [head, count] as const;
        })
      );
      if (values.json && detail !== null) {
        await warnIfIndexMayLackRuns("show", dbPath);
        return EXIT_OK;
      }
    } else {
      const answer = await asUsage(() => dualAnswer(runId, legacyDbPath, dbPath, cutoverDate));
      if (answer.legacyRun !== null) {
        const detail = await legacyDetail(legacyDbPath, answer.legacyRun);
        // A summary the legacy row holds and the listing leaves out, said as backfill and parity
        // say it (helper-291: "summary -" beside summary_json in --json, unexplained).
        if (detail.warning !== undefined) console.error(`ledger show: warning: ${detail.warning}`);
        // What the log holds of it too (a run in both stores: its trials, tags, notes).
        const logged = await loggedOf(dbPath, answer.legacyRun.run_id);
        return printLegacyRun(answer.legacyRun, detail, logged, values.json === true);
      }
      detail = await getRun(dbPath, answer.runId);
    }
  } catch (err) {
    if (!(err instanceof IndexNotFoundError)) throw err;
    console.error(`ledger show: ${errorLine(err.message)}`);
    return EXIT_FAILURE;
  }
  if (detail === null) {
    // One line still: a refresh that has not finished is the likely reason.
    const pending = refreshPendingClause(await listRefreshMarkers(dbPath));
    console.error(
      `ledger show: ${
        errorLine(
          `run ${JSON.stringify(runId)} is not in the index ${dbPath} ` +
            (pending === undefined
              ? `(see \`ledger runs\`; new events need \`ledger rebuild-index\`)`
              : `(${pending})`),
        )
      }`,
    );
    return EXIT_FAILURE;
  }
  console.log(
    values.json ? jsonText(withLabel(detail), 2) : formatRunDetail(detail, {
      width: terminalWidth(),
      trialCount,
    }),
  );
  if (!values.json) {
    const equity = await equitySparklineLine(root, detail.run.run_id, {
      lineWidth: terminalWidth(),
      runType: detail.run.run_type,
      bestTrial: detail.run.run_type === "sweep" ? bestTrialId(detail.run.summary) : null,
      // A recorded file that is gone is said, as the report says it (a probe: no line at all).
      recorded: detail.artifacts.some((a) =>
        basename(String(a.artifact_path)) === tradesFileOf(detail.run.run_type)
      ),
    });
    if (equity !== null) console.log(`\n${equity}`);
  }
  await warnIfIndexMayLackRuns("show", dbPath);
  return EXIT_OK;
}

/**
 * Write `show --json` of `detail` (its trials aside) with every trial of its
 * run read from `conn` as a stream, to `out` (standard output by default,
 * in large writes): the same bytes as `jsonText` of the whole object with
 * all its trials, held a batch at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { readRunDetail } from "../indexer/queries.ts";
 * import { withReader } from "../indexer/query/mod.ts";
 * import { writeRunDetailJson } from "./show.ts";
 * import { OutputBuffer } from "./_table.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "s1", run_type: "sweep", data_fingerprint: "f", config: {} },
 *     { event_type: "trial.recorded", run_id: "s1", trial_id: "t1", params: { a: 1 }, metrics: { m: 2 } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   let text = "";
 *   const out = new OutputBuffer({
 *     write(p) {
 *       text += new TextDecoder().decode(p);
 *       return Promise.resolve(p.length);
 *     },
 *   });
 *   await withReader(indexPath(root), async (conn) => {
 *     const detail = (await readRunDetail(conn, "s1"))!;
 *     await writeRunDetailJson(conn, detail, out);
 *   });
 *   assert.deepEqual(JSON.parse(text).trials.map((t: { trial_id: string }) => t.trial_id), ["t1"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function writeRunDetailJson(
  conn: DuckDBConnection,
  detail: RunDetail,
  out: OutputBuffer = new OutputBuffer(),
): Promise<void> {
  const whole = jsonText(withLabel({ ...detail, trials: [] }), 2);
  // A top-level key is the only text at two spaces after a raw newline (strings escape theirs).
  const at = whole.indexOf(`\n  "trials": []`);
  assert(at >= 0, "show --json has a top-level trials key");
  await out.push(whole.slice(0, at) + `\n  "trials": [`);
  let n = 0;
  for await (const batch of streamRows(conn, RUN_TRIALS_SQL, [detail.run.run_id])) {
    for (const t of batch) {
      const text = jsonText(trialRowOf(t), 2).replaceAll("\n", "\n    ");
      await out.push(`${n++ === 0 ? "" : ","}\n    ${text}`);
    }
  }
  const rest = whole.slice(at + `\n  "trials": []`.length);
  await out.push(`${n === 0 ? "" : "\n  "}]${rest}\n`);
  await out.flush();
}

/** `--json`'s object: `run` carries its `label` tag as `label` (SPEC 11), null without one. */
function withLabel(detail: RunDetail): Record<string, unknown> {
  return { ...detail, run: { ...detail.run, label: detail.tags.label ?? null } };
}

/**
 * The full id a unique prefix stands for; an unknown id is returned as is
 * (the legacy DuckDB may know it), and so is any id when there is no index
 * (reading the run then says so). An ambiguous prefix is a usage error.
 */
async function resolvedId(dbPath: string, runId: string): Promise<string> {
  try {
    return await asUsage(() => withReader(dbPath, (conn) => resolvedIn(conn, runId)));
  } catch (err) {
    if (err instanceof IndexNotFoundError) return runId;
    throw err;
  }
}

/** {@linkcode resolvedId} in the index open on `conn`. */
async function resolvedIn(conn: DuckDBConnection, runId: string): Promise<string> {
  try {
    return await resolveRunId(conn, runId);
  } catch (err) {
    if (err instanceof UnknownRunError) return runId;
    throw err;
  }
}

/**
 * The run id to show and, when the legacy DuckDB answers for it, the legacy
 * run. Outside dual mode: the id a prefix stands for in the index. In dual
 * mode the one rule of `answerForRun` (the one `ledger runs` lists with)
 * decides, for the id as given when a store has it, else for the index run
 * a unique prefix stands for: a run both stores hold is shown from the
 * legacy store when created before the cutover, whichever way it is named.
 */
async function dualAnswer(
  runId: string,
  legacyDbPath: string,
  indexDbPath: string,
  cutoverDate: string | undefined,
): Promise<{ runId: string; legacyRun: DualRun | null }> {
  // Loaded only in dual mode: the legacy reader is not what a plain `show` waits for.
  const { answerForRun } = await import("../legacy/dual.ts");
  const options = { legacyDbPath, indexDbPath, cutoverDate };
  let id = runId;
  let answer = await answerForRun(id, options);
  if (answer.source === null) {
    id = await resolvedId(indexDbPath, runId);
    if (id !== runId) answer = await answerForRun(id, options);
  }
  for (const w of answer.warnings) console.error(`ledger show: warning: ${w}`);
  // answerForRun resolves a unique prefix of either store itself: show the run it found.
  return {
    runId: answer.run?.run_id ?? id,
    legacyRun: answer.source === "legacy" ? answer.run : null,
  };
}

/** What the legacy row adds to a dual-mode run: JSON columns read as dual mode maps them. */
interface LegacyDetail {
  data_fingerprint: string | null;
  config: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  /** Why the row's `summary_json` is not its summary (the run has not ended), if so. */
  warning: string | undefined;
}

/** The legacy row's config, fingerprint and error of `run`, and its summary, read. */
async function legacyDetail(legacyDbPath: string, run: DualRun): Promise<LegacyDetail> {
  const { readLegacyRows } = await import("../legacy/read.ts");
  const { expectedRun, unendedSummaryWarning } = await import("../legacy/backfill.ts");
  const row = (await readLegacyRows(legacyDbPath, { runId: run.run_id })).rows[0] ?? null;
  // The backfill's mapping, as `runs` has it and the index will after a backfill: config `{}`
  // for NULL, a summary only once completed (an audit: show printed a running run's summary).
  const expected = row === null ? null : expectedRun(row);
  return {
    data_fingerprint: row?.data_fingerprint ?? null,
    config: expected?.config ?? null,
    summary: expected?.summary ?? null,
    error: expected?.error ?? null,
    warning: row === null ? undefined : unendedSummaryWarning(row),
  };
}

/**
 * A run only the legacy DuckDB answers for: what the dual-mode list has,
 * and from the legacy row its config, data fingerprint and error (`NaN` read
 * as null, SPEC 3). `--json` adds them beside the adapter's fields.
 */
/**
 * The log's record of a run answered from the legacy DuckDB: its phases,
 * trials, artifacts, baselines, tags and notes when the index has the run
 * too, else none (no index: none either).
 */
async function loggedOf(dbPath: string, runId: string): Promise<Omit<RunDetail, "run">> {
  let found: RunDetail | null = null;
  try {
    found = await getRun(dbPath, runId);
  } catch (err) {
    if (!(err instanceof IndexNotFoundError)) throw err;
  }
  if (found === null) {
    return {
      phases: [],
      trials: [],
      artifacts: [],
      baselines: [],
      tags: {},
      notes: [],
      archived: false,
      archived_reason: null,
    };
  }
  const { run: _run, ...rest } = found;
  return rest;
}

/**
 * A run answered from the legacy DuckDB. `--json` has the keys of any run's
 * (a probe: `{run, source}` alone, so `d["trials"]` failed in a script), the
 * lists from the log when it holds the run too.
 */
function printLegacyRun(
  run: DualRun,
  detail: LegacyDetail,
  logged: Omit<RunDetail, "run">,
  json: boolean,
): number {
  if (json) {
    const whole = {
      run: { ...run, ...detail, label: logged.tags.label ?? null },
      ...logged,
      source: "legacy",
    };
    console.log(jsonText(whole, 2));
    return EXIT_OK;
  }
  const text = (v: unknown) => (v === null || v === undefined ? "-" : JSON.stringify(v));
  const held = [
    countOf(logged.phases.length, "phase"),
    countOf(logged.trials.length, "trial"),
    countOf(logged.artifacts.length, "artifact"),
  ];
  const where = logged.phases.length + logged.trials.length + logged.artifacts.length === 0
    ? "legacy DuckDB: no phases, trials or artifacts recorded"
    : `legacy DuckDB; the log holds ${held.join(", ")} of it: ledger trials --run ${run.run_id}`;
  // The log's annotations too (a probe: a legacy run's notes, archived state and label were in
  // --json and missing here).
  const archived = logged.archived ? "   (archived)" : "";
  const width = terminalWidth();
  const lines = [
    `run        ${escapeControl(run.run_id)}${archived}   (${where})`,
    ...annotationHeadLines(logged, width),
    `type       ${escapeControl(run.run_type ?? "-")}`,
    `status     ${escapeControl(run.status)}`,
    `created    ${formatTime(run.created_at_ms)}`,
    `started    ${formatTime(run.started_at_ms)}`,
    `completed  ${formatTime(run.completed_at_ms)}`,
  ];
  if (run.failed_at_ms !== null) lines.push(`failed     ${formatTime(run.failed_at_ms)}`);
  lines.push(
    `data       ${escapeControl(detail.data_fingerprint ?? "-")}`,
    `config     ${escapeControl(text(detail.config))}`,
    `summary    ${escapeControl(text(detail.summary))}`,
  );
  if (detail.error !== null) lines.push(`error      ${escapeControl(text(detail.error))}`);
  const tags = Object.entries(logged.tags);
  if (tags.length > 0) {
    lines.push(`tags       ${escapeControl(tags.map(([k, v]) => `${k}=${v}`).join(" "))}`);
  }
  lines.push(...notesLines(logged.notes, width));
  console.log(lines.join("\n"));
  return EXIT_OK;
}

/** Options for {@linkcode formatRunDetail}. */
export interface FormatRunDetailOptions {
  /** Wrap config and summary at this width. @default {80} */
  width?: number;
  /**
   * How many trials the run has, when `detail.trials` holds only the first
   * ones (`readRunDetail`'s `trialsMax`): the count shown, and the "more" line.
   * @default {detail.trials.length}
   */
  trialCount?: number;
}

/**
 * The text view of one run: config and summary whole (pretty JSON wrapped
 * at the width), phases, trials, artifacts in aligned columns, tags and
 * notes. Control characters in every stored value (ids, type, host,
 * fingerprint, tags, phase names, paths, JSON) are escaped, so a log line
 * cannot send escape sequences to the terminal.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatRunDetail } from "./show.ts";
 * import { getRun } from "../indexer/queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const run_id = "bt-0001";
 *   const t = Date.UTC(2026, 0, 20, 12);
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id, timestamp_ms: t, run_type: "policy",
 *       config: { fee_bps: 10 }, data_fingerprint: "fp1" },
 *     { event_type: "run.started", run_id, timestamp_ms: t, host: "box", pid: 42 },
 *     { event_type: "phase.started", run_id, timestamp_ms: t, phase_name: "execute",
 *       phase_order: 0 },
 *     { event_type: "phase.completed", run_id, timestamp_ms: t + 12_000, phase_name: "execute",
 *       duration_ms: 12_000, output_summary: { calls: 100 } },
 *     { event_type: "run.completed", run_id, timestamp_ms: t + 12_300,
 *       summary: { win_rate: 0.5 }, artifact_paths: {} },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const detail = await getRun(indexPath(root), run_id); // what `ledger show` prints
 *   assert.ok(detail !== null);
 *   assert.equal(formatRunDetail(detail, { width: 100 }), `run        bt-0001
 * type       policy
 * status     completed
 * created    2026-01-20T12:00:00Z
 * started    2026-01-20T12:00:00Z
 * completed  2026-01-20T12:00:12Z
 * duration   12.3 s
 * process    box pid 42
 * last event 2026-01-20T12:00:12Z (5 events)
 * data       fp1
 * config
 *   {
 *     "fee_bps": 10
 *   }
 * summary
 *   {
 *     "win_rate": 0.5
 *   }
 *
 * phases (1)
 *    0  execute          12.0 s  {"calls":100}
 *
 * trials (0)
 *
 * artifacts (0)`);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function formatRunDetail(detail: RunDetail, options: FormatRunDetailOptions = {}): string {
  const width = options.width ?? 80;
  const r = detail.run;
  const text = escapeControl;
  const lines = [
    `run        ${text(r.run_id)}${detail.archived ? "   (archived)" : ""}`,
    ...annotationHeadLines(detail, width),
    `type       ${text(r.run_type ?? "-")}`,
    `status     ${r.status}`,
    `created    ${formatTime(r.created_at_ms)}`,
    `started    ${formatTime(r.started_at_ms)}`,
  ];
  if (r.completed_at_ms !== null) lines.push(`completed  ${formatTime(r.completed_at_ms)}`);
  if (r.failed_at_ms !== null) {
    // The phase it failed in, as run.failed names it (a probe: neither show nor the UI said it).
    const phase = r.failed_phase === null ? "" : ` in phase ${text(r.failed_phase)}`;
    lines.push(`failed     ${formatTime(r.failed_at_ms)}${phase}`);
  }
  lines.push(`duration   ${formatDuration(r.duration_ms)}`);
  if (r.host !== null || r.pid !== null) {
    lines.push(`process    ${text(r.host ?? "?")} pid ${r.pid ?? "?"}`);
  }
  lines.push(`last event ${formatTime(r.last_event_at_ms)} (${r.event_count} events)`);
  if (r.data_fingerprint !== null) lines.push(`data       ${text(r.data_fingerprint)}`);
  const tags = Object.entries(detail.tags).map(([k, v]) => `${text(k)}=${text(v)}`);
  if (tags.length > 0) lines.push(`tags       ${tags.join(", ")}`);
  if (r.config !== null) lines.push(...block("config", r.config, width));
  if (r.summary !== null) lines.push(...block("summary", r.summary, width));
  if (r.error !== null) lines.push(...block("error", r.error, width));
  // One line each, cut at the width with an ellipsis (issue 15: an audit found phase lines
  // of 142 characters and trial lines of 306 on an 80-column terminal); --json has them whole.
  lines.push("", `phases (${detail.phases.length})`);
  for (const p of detail.phases) {
    lines.push(truncate(
      `  ${String(p.phase_order ?? "-").padStart(2)}  ${text(p.phase_name).padEnd(12)} ` +
        `${formatDuration(p.duration_ms).padStart(10)}  ${
          p.completed_at_ms === null ? "not completed" : inline(p.output_summary)
        }`,
      width,
    ));
  }
  const trialCount = options.trialCount ?? detail.trials.length;
  lines.push("", `trials (${trialCount})`);
  for (const t of detail.trials.slice(0, TRIALS_SHOWN_MAX)) {
    lines.push(truncate(
      `  ${text(t.trial_id)}  params ${inline(t.params)}  metrics ${inline(t.metrics)}`,
      width,
    ));
  }
  if (trialCount > TRIALS_SHOWN_MAX) {
    lines.push(`  ... ${trialCount - TRIALS_SHOWN_MAX} more (use --json)`);
  }
  lines.push("", `artifacts (${detail.artifacts.length})`);
  if (detail.artifacts.length > 0) {
    const table = formatTable(
      ["TYPE", "PATH", "SIZE"],
      detail.artifacts.map((a) => [a.artifact_type, a.artifact_path, `${a.size_bytes} bytes`]),
      { width: width - 2, alignRight: [2] }, // indented by two below
    );
    lines.push(...table.split("\n").map((l) => `  ${l}`));
  }
  if (detail.baselines.length > 0) {
    lines.push("", `baselines (${detail.baselines.length})`);
    for (const b of detail.baselines) {
      lines.push(`  ${b.alerts_ok}/${b.alerts_total} alerts ok  ${text(b.artifact_path)}`);
    }
  }
  lines.push(...notesLines(detail.notes, width));
  return lines.join("\n");
}

/**
 * The lines under a run's first one that say what people wrote about it:
 * why it was archived (`ledger archive --reason`, wrapped as a note is) and
 * its label.
 */
function annotationHeadLines(
  detail: Pick<RunDetail, "archived_reason" | "tags">,
  width: number,
): string[] {
  const reason = detail.archived_reason;
  return [
    ...(reason === null || reason === ""
      ? []
      : wrap(`archived   ${escapeControl(reason)}`, width, INDENT)),
    ...(detail.tags.label === undefined ? [] : [`label      ${escapeControl(detail.tags.label)}`]),
  ];
}

/** A run's notes section (a blank line, `notes (N)`, one wrapped entry each), or none. */
function notesLines(notes: RunDetail["notes"], width: number): string[] {
  if (notes.length === 0) return [];
  const lines = ["", `notes (${notes.length})`];
  for (const n of notes) {
    lines.push(...wrap(`  ${formatTime(n.noted_at_ms)}  ${escapeControl(n.note)}`, width, "    "));
  }
  return lines;
}

/** `label` and the value as indented pretty JSON, every line wrapped at `width`. */
function block(label: string, value: unknown, width: number): string[] {
  const text = jsonText(value, 2) ?? "null";
  const out = [`${label}`];
  for (const line of text.split("\n")) {
    out.push(...wrap(`  ${escapeControl(line)}`, width, "      "));
  }
  return out;
}

/** Hard-wrap `line` at `width` characters, continuation lines starting with `indent`. */
function wrap(line: string, width: number, indent: string): string[] {
  const chars = [...line];
  if (chars.length <= width || width <= indent.length + 10) return [line];
  const out = [chars.slice(0, width).join("")];
  const room = width - indent.length;
  // Slice by offset: copying the rest for every line made a note of 1 MB take 38 s.
  for (let at = width; at < chars.length; at += room) {
    out.push(indent + chars.slice(at, at + room).join(""));
  }
  return out;
}

function inline(value: unknown): string {
  const text = escapeControl(jsonText(value) ?? "null");
  return text.length > INLINE_JSON_CHARS_MAX ? `${text.slice(0, INLINE_JSON_CHARS_MAX)}...` : text;
}
