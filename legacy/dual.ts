/**
 * Dual mode (SPEC 10): one list of runs over the legacy DuckDB file
 * (`data/baseline_results.duckdb`, schema `optimizer`) and the event-log
 * index, until the legacy file is backfilled, checked and archived.
 *
 * - A run present in both stores appears once: created before the cutover
 *   (2026-01-23T00:00:00Z by default) it is answered from the legacy store,
 *   later from the event log. A run in one store only is answered from it.
 *   Every row says where it came from in `source`. {@linkcode getSourceForRun}
 *   and {@linkcode answerForRun} apply the same rule to one run.
 * - {@linkcode queryMergedRuns} is `ledger runs` in dual mode: the index's
 *   whole query surface (SPEC 11) over the merged list, rows shaped as the
 *   index alone gives them.
 * - Both files are opened read-only and closed before a call returns; a
 *   missing file, table or column is a warning in the result, not an error.
 * - Every value reaches SQL as a bound parameter.
 *
 * The migration that ends dual mode lives beside it and is re-exported here:
 * {@linkcode backfillLegacy}, {@linkcode checkParity}, {@linkcode archiveLegacy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2026, 0, 2) }]);
 *   const filter = { sinceDate: "2026-01-01" };
 *   const { runs, warnings } = await queryRuns(filter, { legacyDbPath, root: dir });
 *   assert(runs[0].run_id === "old-1" && runs[0].source === "legacy");
 *   assert(warnings.length === 1); // the event-log index does not exist yet
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @module
 */
import {
  DEFAULT_LEGACY_DB_PATH,
  defaultIndexDbPath,
  defaultRoot,
  firstLine,
  type IndexRow,
  type LegacyRow,
  type ReadFilter,
  readIndexRows,
  readLegacyRows,
  type RunStatus,
} from "./read.ts";
import { endedStatus, expectedRun } from "./backfill.ts";
import {
  checkListOptions,
  IndexDamagedError,
  IndexFormatError,
  IndexNotFoundError,
  listRuns,
  NotAnIndexError,
  type RunRow,
} from "../indexer/queries.ts";
import { NotRegularFileError } from "../ledger/durable_fs.ts";
import { clockMs } from "../ledger/clock.ts";
import { FUTURE_TIMESTAMP_TOLERANCE_MS } from "../ledger/limits.ts";
import { normalizeJsonText } from "../ledger/json_text.ts";
import { STALE_AFTER_MS_DEFAULT } from "../indexer/schema.ts";
import { type RunQuery, type RunRecord, streamRuns } from "../indexer/query/runs.ts";
import { AmbiguousRunError, CANDIDATES_SHOWN_MAX } from "../indexer/query/resolve.ts";
import { type MergedContent, type MergedRun, readIndexContent, withMergedDb } from "./_merged.ts";

export type { LegacyRow, RunStatus } from "./read.ts";
export { RUN_STATUSES, type RunRow } from "../indexer/queries.ts";
export type { RunQuery, RunRecord, SortKey } from "../indexer/query/runs.ts";
export {
  archivedName,
  ArchiveExistsError,
  archiveLegacy,
  ArchiveMoveError,
  type ArchiveOptions,
  archiveRecordPath,
  type ArchiveReport,
  checkParity,
  DUCKDB_COMPANION_SUFFIXES,
  IndexRefreshError,
  IndexUnavailableError,
  type ParityDifference,
  ParityError,
  type ParityOptions,
  type ParityReport,
} from "./parity.ts";
export {
  type BackfillEvent,
  backfillLegacy,
  type BackfillOptions,
  type BackfillReport,
  type ExpectedRun,
  expectedRun,
  jsonObject,
  legacyEventId,
  type LegacyMapping,
  legacyRowToEvents,
  LegacyUnavailableError,
  type SkippedRun,
} from "./backfill.ts";

export { DEFAULT_LEGACY_DB_PATH, LegacyReadError } from "./read.ts";
export {
  type ActiveLegacyDbOptions,
  activeLegacyDbPath,
  DateFormatError,
  dayStartMs,
  DEFAULT_CUTOVER_DATE,
  LegacyDbNotFoundError,
} from "./active.ts";
import { dayStartMs, DEFAULT_CUTOVER_DATE } from "./active.ts";

/**
 * Which store answered for a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type RunSource, sourceForCreatedAt } from "./dual.ts";
 * const source: RunSource = sourceForCreatedAt(Date.UTC(2025, 5, 1));
 * // A caption for each store, as a listing could show where each row came from.
 * const caption: Record<RunSource, string> = { legacy: "legacy DuckDB", event_log: "event log" };
 * assert.equal(caption[source], "legacy DuckDB");
 * ```
 */
export type RunSource = "legacy" | "event_log";

/**
 * A legacy run that started and has been silent this long shows as `stale`: the index's
 * default, {@linkcode STALE_AFTER_MS_DEFAULT}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LEGACY_SILENCE_MS_MAX, legacyStatus } from "./dual.ts";
 * import { STALE_AFTER_MS_DEFAULT } from "../indexer/schema.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * // Started and silent since: running for that long, stale one millisecond later.
 * assert.equal(legacyStatus(row, row.started_at_ms + LEGACY_SILENCE_MS_MAX), "running");
 * assert.equal(legacyStatus(row, row.started_at_ms + LEGACY_SILENCE_MS_MAX + 1), "stale");
 * assert.equal(LEGACY_SILENCE_MS_MAX, STALE_AFTER_MS_DEFAULT); // 24 h in ms, as the index's
 * // Started more than a day ahead of the clock: stale, as the index has it.
 * assert.equal(legacyStatus(row, row.started_at_ms - 2 * LEGACY_SILENCE_MS_MAX), "stale");
 * assert.equal(legacyStatus({ ...row, started_at_ms: null }, row.created_at_ms - 2 * LEGACY_SILENCE_MS_MAX), "stale");
 * ```
 */
export const LEGACY_SILENCE_MS_MAX: number = STALE_AFTER_MS_DEFAULT;

/**
 * Where the two stores are, and the cutover between them.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import {
 *   type DualModeOptions,
 *   queryRuns,
 *   resolveDualPaths,
 *   sourceForCreatedAt,
 * } from "./dual.ts";
 * const options: DualModeOptions = { root: "/srv/ledger", cutoverDate: "2025-06-01" };
 * assert.equal(resolveDualPaths(options).indexDbPath, "/srv/ledger/index/runs.duckdb");
 * // With the cutover moved back, a run of December 2025 belongs to the event log.
 * assert.equal(sourceForCreatedAt(Date.UTC(2025, 11, 1), options), "event_log");
 * // Both stores left out: neither file is looked for, so nothing is missing.
 * const { warnings } = await queryRuns({}, { ...options, skipLegacy: true, skipIndex: true });
 * assert.deepEqual(warnings, []);
 * ```
 */
export interface DualModeOptions {
  /** The legacy DuckDB file. @default {"data/baseline_results.duckdb"} */
  legacyDbPath?: string;
  /**
   * The ledger root, whose index is `<root>/index/runs.duckdb`.
   * @default {Deno.env.get("LEDGER_ROOT") ?? "data/ledger"}
   */
  root?: string;
  /** The event-log index file; overrides `root`. @default {indexPath(root)} */
  indexDbPath?: string;
  /** The cutover day, `YYYY-MM-DD`, at UTC midnight. @default {"2026-01-23"} */
  cutoverDate?: string;
  /** Leave the legacy store out entirely (dual mode has ended). @default {false} */
  skipLegacy?: boolean;
  /** Leave the event-log index out entirely. @default {false} */
  skipIndex?: boolean;
  /** The clock used to tell a silent legacy run (`stale`). @default {Date.now()} */
  nowMs?: number;
}

/**
 * One run of the dual-mode list. Field names are those of the index (snake_case).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DualRun, queryRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const startedAtMs = Date.UTC(2025, 11, 1);
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: startedAtMs, started_at_ms: startedAtMs },
 *   ]);
 *   // Seen two days later, the legacy run that started and never ended is stale.
 *   const nowMs = startedAtMs + 2 * 24 * 60 * 60 * 1000;
 *   const [run]: DualRun[] = (await queryRuns({}, { legacyDbPath, root: dir, nowMs })).runs;
 *   assert.deepEqual([run.run_id, run.status, run.source], ["old-1", "stale", "legacy"]);
 *   assert.equal(run.completed_at_ms, null);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface DualRun {
  /** The run id. */
  run_id: string;
  /** The run type (`path-only`, `policy`, ...). */
  run_type: string | null;
  /** When the run was created, ms since the epoch (UTC). */
  created_at_ms: number | null;
  /** When it started, or `null`. */
  started_at_ms: number | null;
  /** When it completed, or `null`. */
  completed_at_ms: number | null;
  /** When it failed, or `null`. */
  failed_at_ms: number | null;
  /** The completion summary as JSON text (`NaN`, `Infinity` as `null`), or `null`. */
  summary_json: string | null;
  /** `completed`, `failed`, `running`, `pending` or `stale`. */
  status: RunStatus | string;
  /** Which store answered: `legacy` or `event_log`. */
  source: RunSource;
}

/**
 * One run's status in the dual-mode view.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DualRunStatus, queryRunStatus } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const createdAtMs = Date.UTC(2025, 11, 1);
 *   await createLegacyDb(legacyDbPath, [{
 *     run_id: "old-1",
 *     created_at_ms: createdAtMs,
 *     started_at_ms: createdAtMs + 1000,
 *     error_json: '{"message":"no candles"}', // an error, but no failure time
 *   }]);
 *   const { statuses } = await queryRunStatus({}, { legacyDbPath, root: dir });
 *   const status: DualRunStatus = statuses[0];
 *   assert.equal(status.status, "failed");
 *   assert.equal(status.failed_at_ms, createdAtMs + 1000); // dated by its start
 *   assert.equal(JSON.parse(status.error_json!).message, "no candles");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface DualRunStatus {
  /** The run id. */
  run_id: string;
  /** When it started, or `null`. */
  started_at_ms: number | null;
  /** When it completed, or `null`. */
  completed_at_ms: number | null;
  /** When it failed, or `null`. */
  failed_at_ms: number | null;
  /** The completion summary as JSON text (`NaN`, `Infinity` as `null`), or `null`. */
  summary_json: string | null;
  /** The failure's error object as JSON text (`NaN`, `Infinity` as `null`), or `null`. */
  error_json: string | null;
  /** `completed`, `failed`, `running`, `pending` or `stale`. */
  status: RunStatus | string;
  /** Which store answered: `legacy` or `event_log`. */
  source: RunSource;
}

/**
 * Filter for {@linkcode queryRuns}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRuns, type QueryRunsFilter } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", run_type: "sweep", created_at_ms: Date.UTC(2025, 11, 1) },
 *     { run_id: "old-2", run_type: "policy", created_at_ms: Date.UTC(2025, 11, 2) },
 *     { run_id: "old-3", run_type: "sweep", created_at_ms: Date.UTC(2025, 11, 3) },
 *     { run_id: "old-4", run_type: "sweep", created_at_ms: Date.UTC(2025, 11, 4) },
 *   ]);
 *   const filter: QueryRunsFilter = { runType: "sweep", sinceDate: "2025-12-02", limit: 1 };
 *   const { runs } = await queryRuns(filter, { legacyDbPath, root: dir });
 *   assert.deepEqual(runs.map((r) => r.run_id), ["old-4"]); // the newest sweep since Dec 2
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface QueryRunsFilter {
  /** Only runs created on or after this UTC day (`YYYY-MM-DD`). @default {undefined} */
  sinceDate?: string;
  /** Only runs of this type. @default {undefined} */
  runType?: string;
  /** Only runs with this status. @default {undefined} */
  status?: string;
  /** Only this run. @default {undefined} */
  runId?: string;
  /** At most this many runs, newest first. @default {undefined} (all) */
  limit?: number;
}

/**
 * What {@linkcode queryRuns} found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRuns, type QueryRunsResult } from "./dual.ts";
 * // Neither store exists: no runs, and one warning per store instead of an error.
 * const options = { legacyDbPath: "/no/such/old.duckdb", root: "/no/such/ledger" };
 * const result: QueryRunsResult = await queryRuns({}, options);
 * assert.deepEqual(result.runs, []);
 * assert.equal(result.warnings.length, 2);
 * assert.match(result.warnings[0], /old\.duckdb does not exist/);
 * ```
 */
export interface QueryRunsResult {
  /** The runs, newest first (by `created_at_ms`, then `run_id`). */
  runs: DualRun[];
  /** One sentence per store that could not be read (missing file or table). */
  warnings: string[];
}

/**
 * Filter for {@linkcode queryRunStatus}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRunStatus, type QueryRunStatusFilter } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) },
 *     { run_id: "old-2", created_at_ms: Date.UTC(2025, 11, 2) },
 *   ]);
 *   const filter: QueryRunStatusFilter = { runId: "old-2" };
 *   const options = { legacyDbPath, root: dir };
 *   const { statuses } = await queryRunStatus(filter, options);
 *   assert.deepEqual(statuses.map((s) => s.run_id), ["old-2"]);
 *   // The whole run id: a prefix is not looked up here.
 *   assert.deepEqual((await queryRunStatus({ runId: "old" }, options)).statuses, []);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface QueryRunStatusFilter {
  /** Only this run. @default {undefined} (all runs) */
  runId?: string;
}

/**
 * What {@linkcode queryRunStatus} found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRunStatus, type QueryRunStatusResult } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "b-run", created_at_ms: Date.UTC(2025, 11, 1) },
 *     { run_id: "a-run", created_at_ms: Date.UTC(2025, 11, 2) },
 *   ]);
 *   const result: QueryRunStatusResult = await queryRunStatus({}, { legacyDbPath, root: dir });
 *   assert.deepEqual(result.statuses.map((s) => s.run_id), ["a-run", "b-run"]); // by run id
 *   assert.equal(result.warnings.length, 1); // no event-log index yet
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface QueryRunStatusResult {
  /** One row per run, sorted by run id. */
  statuses: DualRunStatus[];
  /** One sentence per store that could not be read (missing file or table). */
  warnings: string[];
}

/**
 * What {@linkcode getSourceForRun} decided.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getSourceForRun, type SourceResult } from "./dual.ts";
 * // Neither store could be read: no store answers, and the warnings say why.
 * const options = { legacyDbPath: "/no/such/old.duckdb", root: "/no/such/ledger" };
 * const result: SourceResult = await getSourceForRun("run-42", undefined, options);
 * assert.equal(result.source, null);
 * assert.equal(result.warnings.length, 2);
 * ```
 */
export interface SourceResult {
  /** The store that answers for the run, or `null` when neither has it. */
  source: RunSource | null;
  /** One sentence per store that could not be read (missing file or table). */
  warnings: string[];
}

/**
 * The cutover instant of `options` in milliseconds (UTC midnight of the day).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { cutoverMs } from "./dual.ts";
 * assert.equal(cutoverMs(), Date.UTC(2026, 0, 23));
 * ```
 */
export function cutoverMs(options: Pick<DualModeOptions, "cutoverDate"> = {}): number {
  return dayStartMs(options.cutoverDate ?? DEFAULT_CUTOVER_DATE, "The cutover date");
}

/**
 * The store that answers for a run created at `createdAtMs`: `legacy` before
 * the cutover, `event_log` from it on.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sourceForCreatedAt } from "./dual.ts";
 * assert.equal(sourceForCreatedAt(Date.UTC(2025, 5, 1)), "legacy");
 * assert.equal(sourceForCreatedAt(Date.UTC(2026, 0, 23)), "event_log");
 * ```
 */
export function sourceForCreatedAt(
  createdAtMs: number,
  options: Pick<DualModeOptions, "cutoverDate"> = {},
): RunSource {
  return createdAtMs < cutoverMs(options) ? "legacy" : "event_log";
}

/**
 * List runs from both stores as one list, newest first; a run present in
 * both appears once, answered by the store its creation time selects.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) },
 *     { run_id: "old-2", created_at_ms: Date.UTC(2025, 11, 2) },
 *   ]);
 *   const { runs } = await queryRuns({ limit: 20 }, { legacyDbPath, root: dir });
 *   assert.deepEqual(runs.map((r) => `${r.run_id} ${r.source}`), ["old-2 legacy", "old-1 legacy"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function queryRuns(
  filter: QueryRunsFilter = {},
  options: DualModeOptions = {},
): Promise<QueryRunsResult> {
  checkListOptions(filter);
  const cut = cutoverMs(options);
  const sinceMs = filter.sinceDate === undefined
    ? undefined
    : dayStartMs(filter.sinceDate, "The since date");
  const { legacy, index, warnings } = await readBoth(filter.runId, options);
  const nowMs = clockMs(options.nowMs);
  const merged = new Map<string, DualRun>();
  for (const row of index) merged.set(row.run_id, fromIndex(row));
  for (const row of legacy) {
    if (answeringStore(row, merged.get(row.run_id), { cutMs: cut }) !== "legacy") continue;
    merged.set(row.run_id, fromLegacy(row, nowMs));
  }
  let runs = [...merged.values()].filter((r) =>
    (sinceMs === undefined || (r.created_at_ms !== null && r.created_at_ms >= sinceMs)) &&
    (filter.runType === undefined || r.run_type === filter.runType) &&
    (filter.status === undefined || r.status === filter.status)
  );
  runs.sort(newestFirst);
  if (filter.limit !== undefined) runs = runs.slice(0, filter.limit);
  return { runs, warnings };
}

/**
 * The status rows of all runs, or of one (`runId`), from the store that
 * answers for each run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryRunStatus } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const run42 = { run_id: "run-42", created_at_ms: Date.UTC(2025, 11, 1) };
 *   await createLegacyDb(legacyDbPath, [{ ...run42, completed_at_ms: Date.UTC(2025, 11, 2) }]);
 *   const { statuses } = await queryRunStatus({ runId: "run-42" }, { legacyDbPath, root: dir });
 *   assert(statuses[0].status === "completed" && statuses[0].source === "legacy");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function queryRunStatus(
  filter: QueryRunStatusFilter = {},
  options: DualModeOptions = {},
): Promise<QueryRunStatusResult> {
  const cut = cutoverMs(options);
  const { legacy, index, warnings } = await readBoth(filter.runId, options);
  const nowMs = clockMs(options.nowMs);
  const merged = new Map<string, DualRunStatus>();
  const createdById = new Map<string, number | null>();
  for (const row of index) {
    createdById.set(row.run_id, row.created_at_ms);
    merged.set(row.run_id, {
      run_id: row.run_id,
      started_at_ms: row.started_at_ms,
      completed_at_ms: row.completed_at_ms,
      failed_at_ms: row.failed_at_ms,
      summary_json: parseableJson(row.summary_json),
      error_json: parseableJson(row.error_json),
      status: row.status ?? "pending",
      source: "event_log",
    });
  }
  for (const row of legacy) {
    const inIndex = createdById.has(row.run_id)
      ? { created_at_ms: createdById.get(row.run_id) ?? null }
      : undefined;
    if (answeringStore(row, inIndex, { cutMs: cut }) !== "legacy") continue;
    merged.set(row.run_id, {
      run_id: row.run_id,
      started_at_ms: row.started_at_ms,
      completed_at_ms: row.completed_at_ms,
      failed_at_ms: expectedRun(row).failed_at_ms, // as runs, show and backfill have it
      summary_json: parseableJson(row.summary_json),
      error_json: parseableJson(row.error_json),
      status: legacyStatus(row, nowMs),
      source: "legacy",
    });
  }
  const statuses = [...merged.values()].sort((a, b) => compareText(a.run_id, b.run_id));
  return { statuses, warnings };
}

/**
 * The store that answers for `runId`, by the one rule of dual mode: both
 * stores are looked up; a run found in only one is answered by it whatever
 * its date; a run both hold is answered by the store its creation time
 * selects (legacy before the cutover); `null` when neither has it (or
 * neither could be read: see `warnings`). `createdAtMs` is the run's
 * creation time as the caller knows it: it decides only for a run both
 * stores hold when neither records a creation time. For the cutover alone,
 * without looking at the stores, use {@linkcode sourceForCreatedAt}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getSourceForRun } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   // Created after the cutover, yet only the legacy store has it: legacy answers.
 *   await createLegacyDb(legacyDbPath, [{ run_id: "late-1", created_at_ms: Date.UTC(2026, 1, 1) }]);
 *   const options = { legacyDbPath, root: dir };
 *   const { source } = await getSourceForRun("late-1", Date.UTC(2026, 1, 1), options);
 *   assert.strictEqual(source, "legacy");
 *   assert.strictEqual((await getSourceForRun("nobody", undefined, options)).source, null);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function getSourceForRun(
  runId: string,
  createdAtMs?: number | null,
  options: DualModeOptions = {},
): Promise<SourceResult> {
  const cutMs = cutoverMs(options);
  const { legacy, index, warnings } = await readBoth(runId, options);
  const source = answeringStore(
    legacy.find((r) => r.run_id === runId),
    index.find((r) => r.run_id === runId),
    { cutMs, createdAtMs },
  );
  return { source, warnings };
}

/**
 * What {@linkcode answerForRun} found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { answerForRun, type RunAnswer } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const run = { run_id: "old-1234", created_at_ms: Date.UTC(2025, 11, 1) };
 *   await createLegacyDb(legacyDbPath, [run]);
 *   // A unique prefix of a run id answers for that run, as `ledger show old-12` does.
 *   const answer: RunAnswer = await answerForRun("old-12", { legacyDbPath, root: dir });
 *   assert.equal(answer.source, "legacy");
 *   assert.equal(answer.run?.run_id, "old-1234");
 *   assert.equal(answer.warnings.length, 1); // no event-log index yet
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface RunAnswer {
  /** The store that answers for the run, or `null` when neither has it. */
  source: RunSource | null;
  /** The run as that store answers it, or `null`. */
  run: DualRun | null;
  /** Problems met while reading either store. */
  warnings: string[];
}

/**
 * The one rule that decides which store answers for `runId`, used by every
 * reader (`ledger runs` lists with it, `ledger show` picks with it): both
 * stores are read, and a run both have is answered by the store its creation
 * time selects (legacy before the cutover).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { answerForRun } from "./dual.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const answer = await answerForRun("run-42", {
 *     legacyDbPath: `${dir}/missing.duckdb`,
 *     root: dir,
 *   });
 *   assert.strictEqual(answer.source, null);
 *   assert.strictEqual(answer.run, null);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function answerForRun(
  runId: string,
  options: DualModeOptions = {},
): Promise<RunAnswer> {
  const { runs, warnings } = await queryRuns({ runId }, options);
  const run = runs.find((r) => r.run_id === runId) ?? null;
  if (run !== null || runId === "") return { source: run?.source ?? null, run, warnings };
  // Not a run id of either store: a unique prefix of one (SPEC 11), whichever store has it.
  const prefixed = await readBoth({ runIdPrefix: runId }, options);
  const { legacy, index } = prefixed;
  // A store the prefix could not be looked up in says why, not only that the run is unknown.
  for (const w of prefixed.warnings) if (!warnings.includes(w)) warnings.push(w);
  const ids = [...new Set([...legacy, ...index].map((r) => r.run_id))].sort();
  if (ids.length > 1) {
    throw new AmbiguousRunError(
      runId,
      ids.slice(0, CANDIDATES_SHOWN_MAX),
      ids.length,
    );
  }
  if (ids.length === 0) return { source: null, run: null, warnings };
  return await answerForRun(ids[0], options);
}

/**
 * Options for {@linkcode listDualRuns}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listDualRuns, type ListDualRunsOptions } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const day = Date.UTC(2025, 11, 1);
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: day, started_at_ms: day },
 *     { run_id: "old-2", created_at_ms: day, started_at_ms: day, completed_at_ms: day + 1000 },
 *   ]);
 *   // Seen two days later, the run that started and never ended is stale.
 *   const nowMs = day + 2 * 24 * 60 * 60 * 1000;
 *   const options: ListDualRunsOptions = { legacyDbPath, status: "stale", nowMs };
 *   const { runs } = await listDualRuns(`${dir}/index/runs.duckdb`, options);
 *   assert.deepEqual(runs.map((r) => r.run_id), ["old-1"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ListDualRunsOptions {
  /** The legacy DuckDB file. @default {"data/baseline_results.duckdb"} */
  legacyDbPath?: string;
  /** The cutover day, `YYYY-MM-DD`, at UTC midnight. @default {"2026-01-23"} */
  cutoverDate?: string;
  /** Only runs with this status. @default {undefined} (all) */
  status?: string;
  /** At most this many runs, newest first. @default {undefined} (all) */
  limit?: number;
  /** The clock used to tell a silent legacy run (`stale`). @default {Date.now()} */
  nowMs?: number;
}

/**
 * A row of `ledger runs` in dual mode: the index's run row plus where it came from.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DualRunRow, listDualRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const day = Date.UTC(2025, 11, 1);
 *   const run = { run_id: "old-1", created_at_ms: day, completed_at_ms: day };
 *   await createLegacyDb(legacyDbPath, [{ ...run, summary_json: '{"win_rate":0.6}' }]);
 *   const { runs } = await listDualRuns(`${dir}/index/runs.duckdb`, { legacyDbPath });
 *   const [row]: DualRunRow[] = runs;
 *   // Shaped as the index's RunRow (the summary parsed, no phases), plus where it came from.
 *   assert.deepEqual(row.summary, { win_rate: 0.6 });
 *   assert.equal(row.phase_count, 0);
 *   assert.equal(row.source, "legacy");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export type DualRunRow = RunRow & {
  /** Which store answered: `legacy` or `event_log`. */
  source: RunSource;
};

/**
 * The `ledger runs` list in dual mode: the index's rows (as
 * `indexer/queries.ts` `listRuns` gives them) and the legacy runs in the
 * same shape, each run once, newest first, each with its `source`. A
 * missing index or legacy file is a warning, not an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listDualRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) }]);
 *   const { runs, warnings } = await listDualRuns(`${dir}/index/runs.duckdb`, { legacyDbPath });
 *   assert(runs.length === 1 && runs[0].source === "legacy");
 *   assert(warnings.length === 1); // no index yet: a warning, not an error
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function listDualRuns(
  indexDbPath: string,
  options: ListDualRunsOptions = {},
): Promise<{ runs: DualRunRow[]; warnings: string[] }> {
  checkListOptions(options);
  const cut = cutoverMs(options);
  const nowMs = clockMs(options.nowMs);
  const warnings: string[] = [];
  let indexRows: RunRow[] = [];
  try {
    indexRows = await listRuns(indexDbPath, {});
  } catch (err) {
    warnings.push(indexUnreadable(err, indexDbPath)); // the legacy runs are still listed
  }
  const legacy = await readLegacyRows(options.legacyDbPath ?? DEFAULT_LEGACY_DB_PATH);
  warnings.push(...legacy.warnings);
  const merged = new Map<string, DualRunRow>();
  for (const row of indexRows) merged.set(row.run_id, { ...row, source: "event_log" });
  for (const row of legacy.rows) {
    if (answeringStore(row, merged.get(row.run_id), { cutMs: cut }) !== "legacy") continue;
    merged.set(row.run_id, legacyRunRow(row, nowMs));
  }
  let runs = [...merged.values()].filter((r) =>
    options.status === undefined || r.status === options.status
  );
  runs.sort(newestFirst);
  if (options.limit !== undefined) runs = runs.slice(0, options.limit);
  return { runs, warnings };
}

/**
 * What {@linkcode queryMergedRuns} found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type MergedRunsResult, queryMergedRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) },
 *     { run_id: "old-2", created_at_ms: Date.UTC(2025, 11, 2) },
 *   ]);
 *   const options = { legacyDbPath, root: dir };
 *   const result: MergedRunsResult = await queryMergedRuns({ limit: 1 }, options);
 *   assert.deepEqual(result.runs.map((r) => r.run_id), ["old-2"]); // newest first
 *   assert.equal(result.runsTotal, 2); // counted before any filter or limit
 *   assert.equal(result.archivedTotal, 0); // only the event log archives runs
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface MergedRunsResult {
  /**
   * The runs that match, in the query's order, each run once, as the index
   * alone lists them (the keys of `RunRecord`, extra columns included),
   * `source` saying which store answered.
   */
  runs: RunRecord[];
  /** Runs of the merged list before any filter (archived ones included). */
  runsTotal: number;
  /**
   * Archived runs of the merged list that the query matches but hides (0
   * with `includeArchived`; only the event log archives runs).
   */
  archivedTotal: number;
  /** One sentence per store that could not be read (missing file or table). */
  warnings: string[];
}

/**
 * The `ledger runs` list in dual mode: the whole query surface of SPEC 11
 * (types, statuses, `sinceMs`/`untilMs`, `--where`, `--sort`, `--columns`,
 * limit, archived runs hidden unless `includeArchived`) applied to one list
 * of runs from both stores, each run once by the one rule (see
 * {@linkcode getSourceForRun}). Rows have the keys and values the index
 * alone gives; a legacy run has what the legacy file knows: its creation
 * time (null when the file has none), no phases, and the label, tags and
 * archive of the index when it holds the run too (annotations are in the
 * event log only; none otherwise). The filters are the index's own SQL, run over an in-memory
 * copy of the merged list, so they mean the same in both modes. A missing
 * index or legacy file is a warning; a query error (unknown field, bad
 * regex) is thrown as the index alone throws it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { queryMergedRuns } from "./dual.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: Date.UTC(2025, 11, 1),
 *       summary_json: '{"win_rate":0.4}' },
 *     { run_id: "old-2", created_at_ms: Date.UTC(2025, 11, 2), completed_at_ms: Date.UTC(2025, 11, 2),
 *       summary_json: '{"win_rate":0.7}' },
 *   ]);
 *   const query = { where: ["summary.win_rate > 0.5"], columns: ["summary.win_rate"] };
 *   const { runs, warnings } = await queryMergedRuns(query, { legacyDbPath, root: dir });
 *   assert.deepEqual(runs.map((r) => [r.run_id, r.created_at, r.label, r.archived, r.source]), [
 *     ["old-2", "2025-12-02T00:00:00.000Z", null, false, "legacy"],
 *   ]);
 *   assert.equal(runs[0]["summary.win_rate"], 0.7);
 *   assert.equal(warnings.length, 1); // no index yet: a warning, not an error
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function queryMergedRuns(
  query: RunQuery = {},
  options: DualModeOptions = {},
): Promise<MergedRunsResult> {
  const cutMs = cutoverMs(options);
  const nowMs = clockMs(options.nowMs);
  const paths = resolveDualPaths(options);
  const warnings: string[] = [];
  let index: MergedContent = { runs: [], tags: [], phaseCounts: new Map() };
  if (!options.skipIndex) {
    try {
      index = await readIndexContent(paths.indexDbPath);
    } catch (err) {
      warnings.push(indexUnreadable(err, paths.indexDbPath)); // the legacy runs are still listed
    }
  }
  const legacy = options.skipLegacy ? [] : await readLegacyListing(paths.legacyDbPath, warnings);
  const merged = mergeStores(legacy, index, { cutMs, nowMs });
  return await withMergedDb(merged.content, async (conn) => {
    const runs: RunRecord[] = [];
    for await (const batch of streamRuns(conn, query, "latest_runs")) {
      for (const run of batch) {
        run.source = merged.legacyIds.has(run.run_id) ? "legacy" : "event_log";
        runs.push(run);
      }
    }
    // The archived runs the query matches, which --all shows (a review: every archived run was
    // counted, and --all then showed none); none to count when they are listed already.
    let archivedTotal = 0;
    if (!query.includeArchived && merged.content.runs.some((r) => r.archived)) {
      const all = { ...query, includeArchived: true, limit: undefined };
      for await (const batch of streamRuns(conn, all, "latest_runs")) {
        archivedTotal += batch.filter((run) => run.archived).length;
      }
    }
    return { runs, runsTotal: merged.content.runs.length, archivedTotal, warnings };
  });
}

async function readLegacyListing(path: string, warnings: string[]): Promise<LegacyRow[]> {
  const read = await readLegacyRows(path);
  warnings.push(...read.warnings);
  return read.rows;
}

/**
 * The content of the merged list: each run once, from the store the one
 * rule picks; an event-log run keeps its tags and phases, a legacy run has
 * no phases. Annotations (label, tags, archived) live only in the event
 * log: a legacy-answered run the index also holds (backfilled) keeps the
 * index's, so `ledger tag` and `ledger archive` on it take effect in dual
 * mode too. `legacyIds` are the runs the legacy store answers.
 */
function mergeStores(
  legacy: readonly LegacyRow[],
  index: MergedContent,
  at: { cutMs: number; nowMs: number },
): { content: MergedContent; legacyIds: Set<string> } {
  const indexById = new Map(index.runs.map((r) => [r.run_id, r]));
  const legacyIds = new Set<string>();
  const legacyRuns: MergedRun[] = [];
  for (const row of legacy) {
    if (answeringStore(row, indexById.get(row.run_id), { cutMs: at.cutMs }) !== "legacy") continue;
    legacyIds.add(row.run_id);
    const annotated = indexById.get(row.run_id);
    legacyRuns.push({
      ...legacyMergedRun(row, at.nowMs),
      ...(annotated === undefined ? {} : { label: annotated.label, archived: annotated.archived }),
    });
  }
  const fromLog = (id: string) => !legacyIds.has(id);
  return {
    content: {
      runs: [...index.runs.filter((r) => fromLog(r.run_id)), ...legacyRuns],
      tags: index.tags, // every run the index holds keeps its tags, whichever store answers it
      phaseCounts: new Map([...index.phaseCounts].filter(([id]) => fromLog(id))),
    },
    legacyIds,
  };
}

/**
 * A legacy run as a row of the merged list: {@linkcode legacyRunRow}'s
 * mapping (what backfill makes of the row), with the JSON fields as text and
 * no label or archive (only the event log records those: the caller adds
 * them for a run the index also holds).
 */
function legacyMergedRun(row: LegacyRow, nowMs: number): MergedRun {
  const r = legacyRunRow(row, nowMs);
  return {
    run_id: r.run_id,
    run_type: r.run_type,
    status: r.status,
    created_at_ms: r.created_at_ms,
    started_at_ms: r.started_at_ms,
    completed_at_ms: r.completed_at_ms,
    failed_at_ms: r.failed_at_ms,
    label: null,
    archived: false,
    config: JSON.stringify(r.config),
    summary_json: r.summary === null ? null : JSON.stringify(r.summary),
    data_fingerprint: r.data_fingerprint,
    last_event_at_ms: r.last_event_at_ms,
  };
}

function legacyRunRow(row: LegacyRow, nowMs: number): DualRunRow {
  const expected = expectedRun(row);
  const endMs = row.completed_at_ms ?? expected.failed_at_ms;
  const times = [row.created_at_ms, row.started_at_ms, row.completed_at_ms, expected.failed_at_ms]
    .filter((t): t is number => t !== null);
  return {
    run_id: row.run_id,
    run_type: row.run_type,
    status: legacyStatus(row, nowMs),
    created_at_ms: row.created_at_ms,
    started_at_ms: row.started_at_ms,
    completed_at_ms: row.completed_at_ms,
    failed_at_ms: expected.failed_at_ms,
    duration_ms: endMs !== null && row.started_at_ms !== null ? endMs - row.started_at_ms : null,
    phase_count: 0,
    phase_names: [],
    phase_duration_ms: null,
    last_event_at_ms: times.length > 0 ? Math.max(...times) : null,
    event_count: 0,
    summary: expected.summary,
    error: expected.error,
    failed_phase: null, // the legacy table has no phase
    host: null,
    pid: null,
    data_fingerprint: row.data_fingerprint,
    config: expected.config,
    source: "legacy",
  };
}

/**
 * The legacy path, root and index path that `options` resolve to.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveDualPaths } from "./dual.ts";
 * const paths = resolveDualPaths({ root: "/srv/ledger" });
 * assert(paths.indexDbPath === "/srv/ledger/index/runs.duckdb");
 * ```
 */
export function resolveDualPaths(
  options: DualModeOptions = {},
): { legacyDbPath: string; root: string; indexDbPath: string } {
  const root = options.root ?? defaultRoot();
  return {
    legacyDbPath: options.legacyDbPath ?? DEFAULT_LEGACY_DB_PATH,
    root,
    indexDbPath: options.indexDbPath ?? defaultIndexDbPath(root),
  };
}

/**
 * The warning for an index dual mode cannot open (absent, not a file, not a
 * DuckDB database), as `show --legacy-db` has it: the legacy runs are still
 * listed (MIGRATION.md). Any other error is thrown on.
 */
function indexUnreadable(err: unknown, indexDbPath: string): string {
  if (err instanceof IndexNotFoundError) return err.message;
  const notIndex = err instanceof IndexDamagedError || err instanceof NotAnIndexError ||
    err instanceof IndexFormatError; // damaged, not an index, or an older ledger's format
  if (err instanceof NotRegularFileError || notIndex || isDuckDbOpenError(err)) {
    return `Cannot read the event-log index ${indexDbPath}: ${firstLine(err)}`;
  }
  throw err;
}

/** DuckDB could not open a file as a database (damaged, another format, locked). */
function isDuckDbOpenError(err: unknown): boolean {
  return err instanceof Error &&
    /^IO Error|not a valid DuckDB database|Could not set lock/.test(err.message);
}

/**
 * The status a legacy row shows, from its timestamps as the index derives
 * it: completed or failed (the later wins, a tie is failed), running (stale
 * when silent longer than {@linkcode LEGACY_SILENCE_MS_MAX}, the index's
 * default too), or pending. Its own `status` word counts only when it says
 * failed (docs/MIGRATION.md), as in the backfill's events: an audit found a
 * row saying `running` with a completion time listed as running, completed
 * once backfilled.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { legacyStatus } from "./dual.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * assert(legacyStatus(row, Date.UTC(2025, 11, 1, 0, 1)) === "running");
 * assert(legacyStatus({ ...row, completed_at_ms: Date.UTC(2025, 11, 1, 1) }, Date.now()) === "completed");
 * ```
 */
export function legacyStatus(row: LegacyRow, nowMs: number): RunStatus {
  // The index's rule: completed and failed both known -> the later wins, a tie is failed.
  const ended = endedStatus(expectedRun(row));
  if (ended !== null) return ended;
  // The index's rule: a run whose last event is more than a day ahead of the clock is stale
  // (the dual-mode audit: a legacy run started in the future showed running here, stale once
  // backfilled).
  const lastMs = Math.max(row.created_at_ms ?? -Infinity, row.started_at_ms ?? -Infinity);
  if (lastMs > nowMs + FUTURE_TIMESTAMP_TOLERANCE_MS) return "stale";
  if (row.started_at_ms !== null) {
    return nowMs - row.started_at_ms > LEGACY_SILENCE_MS_MAX ? "stale" : "running";
  }
  return "pending";
}

async function readBoth(
  runId: string | ReadFilter | undefined,
  options: DualModeOptions,
): Promise<{ legacy: LegacyRow[]; index: IndexRow[]; warnings: string[] }> {
  const paths = resolveDualPaths(options);
  const filter = typeof runId === "object" ? runId : runId === undefined ? {} : { runId };
  const [legacy, index] = await Promise.all([
    options.skipLegacy ? undefined : readLegacyRows(paths.legacyDbPath, filter),
    options.skipIndex ? undefined : readIndexRows(paths.indexDbPath, filter),
  ]);
  return {
    legacy: legacy?.rows ?? [],
    index: index?.rows ?? [],
    warnings: [...(legacy?.warnings ?? []), ...(index?.warnings ?? [])],
  };
}

/** A run as one store holds it, as far as the rule needs it. */
interface HeldRun {
  /** The creation time that store records, or `null`. */
  created_at_ms: number | null;
}

/**
 * The one rule of dual mode (SPEC 10, docs/MIGRATION.md): the store that
 * answers for a run, given what each store holds of it (`undefined`: that
 * store does not have the run). A run in one store only is answered by it,
 * whatever its date; a run both hold is answered by the legacy store when
 * it was created before the cutover (the legacy creation time, else the
 * index's, else `rule.createdAtMs`), else by the event log. `null` when
 * neither has it. Every reader decides with this function.
 */
function answeringStore(
  legacy: HeldRun | undefined,
  eventLog: HeldRun | undefined,
  rule: { cutMs: number; createdAtMs?: number | null },
): RunSource | null {
  if (legacy === undefined) return eventLog === undefined ? null : "event_log";
  if (eventLog === undefined) return "legacy";
  const created = legacy.created_at_ms ?? eventLog.created_at_ms ?? rule.createdAtMs ?? null;
  return created !== null && created < rule.cutMs ? "legacy" : "event_log";
}

/**
 * Stored JSON text as a caller's `JSON.parse` takes it: Python's `NaN` and
 * `Infinity` (and numbers past a double's range) as `null`, trailing commas
 * dropped, every other byte as stored (SPEC 3: the library's queries read
 * them as null; a fidelity audit: `summary_json` held `{"win_rate":NaN}`).
 */
function parseableJson(text: string | null): string | null {
  return text === null ? null : normalizeJsonText(text);
}

function fromIndex(row: IndexRow): DualRun {
  return {
    run_id: row.run_id,
    run_type: row.run_type,
    created_at_ms: row.created_at_ms,
    started_at_ms: row.started_at_ms,
    completed_at_ms: row.completed_at_ms,
    failed_at_ms: row.failed_at_ms,
    summary_json: parseableJson(row.summary_json),
    status: row.status ?? "pending",
    source: "event_log",
  };
}

function fromLegacy(row: LegacyRow, nowMs: number): DualRun {
  return {
    run_id: row.run_id,
    run_type: row.run_type,
    created_at_ms: row.created_at_ms,
    started_at_ms: row.started_at_ms,
    completed_at_ms: row.completed_at_ms,
    // A failed status without a time (FAILED, error_json) is dated as `runs --json` and the
    // backfilled run.failed date it (an audit: show and queryRuns said null, runs a time).
    failed_at_ms: expectedRun(row).failed_at_ms,
    summary_json: parseableJson(row.summary_json),
    status: legacyStatus(row, nowMs),
    source: "legacy",
  };
}

function newestFirst(
  a: { created_at_ms: number | null; run_id: string },
  b: { created_at_ms: number | null; run_id: string },
): number {
  const ac = a.created_at_ms ?? -Infinity;
  const bc = b.created_at_ms ?? -Infinity;
  if (ac !== bc) return bc - ac;
  return compareText(a.run_id, b.run_id);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
