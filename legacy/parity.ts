/**
 * The parity check between the legacy DuckDB file and the event-log index
 * after a backfill, and the archive step that ends dual mode once parity
 * holds. The archive moves the legacy file aside (never deletes it).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import {
  endedStatus,
  type ExpectedRun,
  expectedRun,
  LegacyUnavailableError,
  priorBackfillError,
  priorErrorWarning,
  priorFailure,
  priorFailureWarning,
  type SkippedRun,
  unendedSummaryWarnings,
  validMapping,
} from "./backfill.ts";
import {
  ARCHIVE_RECORD_SUFFIX,
  DEFAULT_LEGACY_DB_PATH,
  defaultIndexDbPath,
  defaultRoot,
  firstLine,
  type IndexParityRow,
  type LegacyRow,
  readIndexParityRows,
  readLegacyRows,
  unidentifiedSkip,
  unreadColumnsWarnings,
} from "./read.ts";
import { exists } from "../ledger/exists.ts";
import { canonicalJson, parseJsonText } from "../ledger/json_text.ts";
import { rename, syncDir, writeFileAtomic } from "../ledger/durable_fs.ts";

/**
 * Options for {@linkcode checkParity}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkParity, type ParityOptions } from "./parity.ts";
 * import { createIndexDb, createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const indexDbPath = `${dir}/runs.duckdb`;
 *   // A legacy run the backfill cannot write (no creation time), and an index without it.
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: null }]);
 *   await createIndexDb(indexDbPath, []);
 *   const options: ParityOptions = { legacyDbPath, indexDbPath };
 *   assert.equal((await checkParity(options)).holds, false);
 *   const allowing = await checkParity({ ...options, allowSkipped: true });
 *   assert.equal(allowing.holds, true);
 *   assert.equal(allowing.skipped.length, 1); // still listed
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ParityOptions {
  /** The legacy DuckDB file. @default {"data/baseline_results.duckdb"} */
  legacyDbPath?: string;
  /**
   * The ledger root, whose index is `<root>/index/runs.duckdb`.
   * @default {Deno.env.get("LEDGER_ROOT") ?? "data/ledger"}
   */
  root?: string;
  /** The index file; overrides `root`. @default {indexPath(root)} */
  indexDbPath?: string;
  /**
   * Let legacy runs the backfill cannot write (bad run id, no creation time)
   * not count against parity; they are still listed.
   * @default {false}
   */
  allowSkipped?: boolean;
  /**
   * Bring the root's index up to date with its log first (an incremental
   * rebuild, as `ledger rebuild-index`), so that an event written since the
   * backfill counts (a probe: a `run.failed` emitted after the backfill was
   * not in the index, and parity held and archive moved the file). Never
   * with {@linkcode ParityOptions.indexDbPath}, whose log is not known. When
   * it cannot (a read-only root, an index built from a bucket), parity
   * compares the index as it is, with a warning, and archive refuses
   * ({@linkcode IndexRefreshError}).
   * @default {true}
   */
  refreshIndex?: boolean;
  /** Told when the refresh waits for another rebuild of the index. @default {undefined} */
  onWait?: (message: string) => void;
}

/**
 * One field of one run that differs between the legacy file and the index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkParity, type ParityDifference } from "./parity.ts";
 * import { createIndexDb, createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const indexDbPath = `${dir}/runs.duckdb`;
 *   const run = { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) };
 *   await createLegacyDb(legacyDbPath, [{ ...run, run_type: "path-only" }]);
 *   // The index has the run under another type.
 *   await createIndexDb(indexDbPath, [{ ...run, run_type: "policy", status: "pending" }]);
 *   const report = await checkParity({ legacyDbPath, indexDbPath });
 *   const [difference]: ParityDifference[] = report.differences;
 *   assert.deepEqual(difference, {
 *     run_id: "old-1",
 *     field: "run_type",
 *     legacy: "path-only",
 *     index: "policy",
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ParityDifference {
  /** The legacy run id (`""` for a difference of the whole file). */
  run_id: string;
  /**
   * The field, or `missing` when the index lacks the run, or `skipped`, or
   * `missing_column` (run id `""`) when the legacy file lacks a required
   * column, which `legacy` names (`runs_status.completed_at_ms`, or
   * `runs_status` for the whole table): read as NULL on both sides, its
   * values would compare equal without ever reaching the log.
   */
  field: string;
  /**
   * The value the backfill maps the legacy row to (JSON text for objects);
   * for `missing_column`, the column (or table) missing.
   */
  legacy: string | number | null;
  /** The value in the index. */
  index: string | number | null;
}

/**
 * What {@linkcode checkParity} found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkParity, type ParityReport } from "./parity.ts";
 * import { createIndexDb, createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const indexDbPath = `${dir}/runs.duckdb`;
 *   // A legacy run, and an index rebuilt before the backfill wrote it.
 *   const run = { run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) };
 *   await createLegacyDb(legacyDbPath, [run]);
 *   await createIndexDb(indexDbPath, []);
 *   const report: ParityReport = await checkParity({ legacyDbPath, indexDbPath });
 *   assert.equal(report.holds, false);
 *   assert.equal(report.comparedRuns, 1);
 *   assert.deepEqual(report.differences.map((d) => d.field), ["missing"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ParityReport {
  /** True when every legacy run is in the index with the same values. */
  holds: boolean;
  /** Legacy runs read. */
  legacyRuns: number;
  /** Legacy runs compared with the index (not skipped). */
  comparedRuns: number;
  /** Differences, sorted by run id then field. */
  differences: ParityDifference[];
  /** Legacy runs that cannot be backfilled. */
  skipped: SkippedRun[];
  /** Problems reading the legacy file that did not stop the check. */
  warnings: string[];
}

/**
 * The index cannot be read, so parity cannot be checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { IndexUnavailableError } from "./parity.ts";
 * const err = new IndexUnavailableError("data/ledger/index/runs.duckdb", []);
 * assert.match(err.message, /build it with ledger rebuild-index/);
 * ```
 */
export class IndexUnavailableError extends Error {
  /** Create the error from the reader's warnings. */
  constructor(path: string, warnings: string[]) {
    super(
      `${warnings.length > 0 ? warnings.join("; ") : `Cannot read the event-log index ${path}`}` +
        "; build it with ledger rebuild-index (or ledger legacy backfill) first",
    );
    this.name = "IndexUnavailableError";
  }
}

/**
 * Archive was asked for while parity does not hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ParityError, type ParityReport } from "./parity.ts";
 * const report = { differences: [{ run_id: "r1" }] } as unknown as ParityReport;
 * const err = new ParityError("data/baseline_results.duckdb", report);
 * assert.match(err.message, /1 difference\(s\)/);
 * assert.equal(err.report, report);
 * ```
 */
export class ParityError extends Error {
  /** The report that failed. */
  readonly report: ParityReport;
  /** Create the error for a failed `report`. */
  constructor(path: string, report: ParityReport) {
    super(
      `Parity does not hold for ${path}: ${report.differences.length} difference(s); ` +
        "run ledger legacy parity to see them",
    );
    this.name = "ParityError";
    this.report = report;
  }
}

/**
 * Compare every legacy run with the index: run type, creation time, config,
 * fingerprint, start/completion/failure times, summary and error, each as the
 * backfill maps them. The root's index is first brought up to date with its
 * log ({@linkcode ParityOptions.refreshIndex}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkParity } from "./parity.ts";
 * import { backfillLegacy } from "./backfill.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const root = `${dir}/ledger`;
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) }]);
 *   await backfillLegacy(root, { legacyDbPath });
 *   await rebuildIndex(root, {});
 *   const report = await checkParity({ legacyDbPath, root });
 *   assert(report.holds && report.comparedRuns === 1, JSON.stringify(report.differences));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function checkParity(options: ParityOptions = {}): Promise<ParityReport> {
  return await parityOf(options, false);
}

/**
 * {@linkcode checkParity}; an index that could not be brought up to date is
 * compared as it is with a warning, or, when `upToDate` (archive), refused
 * ({@linkcode IndexRefreshError}; helper-292: a read-only root's current index
 * failed parity, and a bucket's stale index let archive move the file).
 */
async function parityOf(options: ParityOptions, upToDate: boolean): Promise<ParityReport> {
  const legacyDbPath = options.legacyDbPath ?? DEFAULT_LEGACY_DB_PATH;
  const indexDbPath = options.indexDbPath ?? defaultIndexDbPath(options.root);
  const legacy = await readLegacyRows(legacyDbPath);
  if (!legacy.available) throw new LegacyUnavailableError(legacyDbPath, legacy.warnings);
  const refreshWarnings: string[] = [];
  let failed: IndexRefreshError | undefined;
  if (options.indexDbPath === undefined && options.refreshIndex !== false) {
    failed = await refreshRootIndex(
      options.root ?? defaultRoot(),
      indexDbPath,
      options.onWait,
    );
    if (failed !== undefined && upToDate) throw failed;
    if (failed !== undefined) {
      refreshWarnings.push(
        `the index ${indexDbPath} could not be brought up to date with the log ` +
          `(${failed.reason}): compared as it was last rebuilt`,
      );
    }
  }
  const index = await readIndexParityRows(indexDbPath);
  // No index to compare as it is: why it could not be built is the line to read.
  if (!index.available) throw failed ?? new IndexUnavailableError(indexDbPath, index.warnings);
  const byId = new Map(index.rows.map((r) => [r.run_id, r]));
  const differences: ParityDifference[] = [];
  const skipped: SkippedRun[] = [];
  const warnings: string[] = [];
  let comparedRuns = 0;
  const comparedRows: LegacyRow[] = [];
  for (const row of legacy.rows) {
    const mapped = validMapping(row);
    if ("skip" in mapped) {
      skipped.push({ run_id: row.run_id, reason: mapped.skip });
      if (!options.allowSkipped) {
        differences.push({
          run_id: row.run_id,
          field: "skipped",
          legacy: mapped.skip,
          index: null,
        });
      }
      continue;
    }
    comparedRuns += 1;
    comparedRows.push(row);
    const indexed = byId.get(row.run_id);
    if (!indexed) {
      differences.push({ run_id: row.run_id, field: "missing", legacy: "present", index: null });
      continue;
    }
    let compared = compareRun(row.run_id, expectedRun(row), indexed);
    // The run.failed an earlier backfill wrote for a run that does not fail now: the run's (a
    // log is never rewritten), said (a review: parity could never hold again after an upgrade).
    const prior = priorFailure(row);
    if (
      prior !== undefined && prior.failed_at_ms === indexed.failed_at_ms &&
      prior.errors.includes(canonicalText(indexed.error_json) ?? "")
    ) {
      warnings.push(priorFailureWarning(row.run_id));
      compared = compared.filter((d) => !PRIOR_FAILURE_FIELDS.includes(d.field));
    }
    // The error an earlier version's backfill wrote: the run's (a log is never rewritten), said.
    const error = compared.find((d) => d.field === "error_json");
    if (error !== undefined && error.index === priorBackfillError(row)) {
      warnings.push(priorErrorWarning(row.run_id));
      compared.splice(compared.indexOf(error), 1);
    }
    differences.push(...compared);
  }
  // Not waived by --allow-skipped: every run would lose those values from the listings (a probe:
  // a runs_status with completed_at and summary in place of completed_at_ms and summary_json held
  // parity, was archived, and its completed runs then listed as stale without a summary).
  for (const column of legacy.missingColumns ?? []) {
    differences.push({ run_id: "", field: "missing_column", legacy: column, index: null });
  }
  if (legacy.unidentified !== undefined) {
    const skip = unidentifiedSkip(legacy.unidentified);
    skipped.push(skip);
    if (!options.allowSkipped) {
      differences.push({ run_id: skip.run_id, field: "skipped", legacy: skip.reason, index: null });
    }
  }
  differences.sort((a, b) =>
    a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : a.field < b.field ? -1 : 1
  );
  skipped.sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0)); // as backfill
  return {
    holds: differences.length === 0,
    legacyRuns: legacy.rows.length,
    comparedRuns,
    differences,
    skipped,
    warnings: [
      ...refreshWarnings,
      ...legacy.warnings,
      ...unreadColumnsWarnings(legacyDbPath, legacy.unreadColumns),
      ...warnings,
      ...unendedSummaryWarnings(comparedRows),
    ],
  };
}

/**
 * The index of `root` could not be brought up to date with the log, so
 * parity was not checked (nor anything archived).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { IndexRefreshError } from "./parity.ts";
 * const err = new IndexRefreshError("data/ledger/index/runs.duckdb", "disk full");
 * assert.match(err.message, /could not be brought up to date with the log \(disk full\)/);
 * ```
 */
export class IndexRefreshError extends Error {
  /** Why the index was not updated. */
  readonly reason: string;
  /** Create the error for the index at `path`, which `reason` kept from being updated. */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(
      `The index ${path} could not be brought up to date with the log (${reason}); ` +
        "parity was not checked",
      options,
    );
    this.name = "IndexRefreshError";
    this.reason = reason;
  }
}

/**
 * Rebuild the index of `root` from what its log holds now
 * ({@linkcode ParityOptions.refreshIndex}); why it could not, if so. An index
 * built from a bucket (`rebuild-index --from`) is never rebuilt from a local
 * log.
 */
async function refreshRootIndex(
  root: string,
  indexDbPath: string,
  onWait: ((message: string) => void) | undefined,
): Promise<IndexRefreshError | undefined> {
  // Loaded here: only parity and archive need the indexer, once.
  const { IndexSourceError, isSourceRefusal, rebuildIndex } = await import(
    "../indexer/rebuild.ts"
  );
  try {
    await rebuildIndex(root, { onWait });
    return undefined;
  } catch (err) {
    const reason = isSourceRefusal(err) && err.cause instanceof IndexSourceError
      ? `it is built from ${err.cause.recorded}, not from the log of ${root}: ` +
        "rebuild-index --from that bucket for its latest events"
      : firstLine(err);
    return new IndexRefreshError(indexDbPath, reason, { cause: err });
  }
}

function compareRun(
  runId: string,
  want: ExpectedRun,
  got: IndexParityRow,
): ParityDifference[] {
  const pairs: [string, string | number | null, string | number | null][] = [
    ["run_type", want.run_type, got.run_type],
    ["created_at_ms", want.created_at_ms, got.created_at_ms],
    ["config", canonicalJson(want.config), canonicalText(got.config)],
    ["data_fingerprint", want.data_fingerprint, got.data_fingerprint],
    ["started_at_ms", want.started_at_ms, got.started_at_ms],
    ["completed_at_ms", want.completed_at_ms, got.completed_at_ms],
  ];
  if (want.summary !== null) {
    pairs.push(["summary_json", canonicalJson(want.summary), canonicalText(got.summary_json)]);
  }
  // Compared whether the legacy run failed or not, and its outcome too: a run.failed, or a
  // run.started after the ending, written to the log since the backfill changed the run's status
  // while parity held (a probe: completed runs listed failed and running after the archive).
  pairs.push(["failed_at_ms", want.failed_at_ms, got.failed_at_ms]);
  pairs.push([
    "error_json",
    want.error === null ? null : canonicalJson(want.error),
    canonicalText(got.error_json),
  ]);
  pairs.push(["status", endedStatus(want) ?? NOT_ENDED, endedAs(got.status)]);
  // A run.created of another writer beside the backfill's (a probe: an emit racing the backfill
  // made one run of two, the native definition hidden): the index keeps one of them.
  pairs.push(["created_count", 1, got.created_count]);
  return pairs
    .filter(([, a, b]) => a !== b)
    .map(([field, legacy, index]) => ({ run_id: runId, field, legacy, index }));
}

/** The fields an earlier backfill's `run.failed` of a run that does not fail now changes. */
const PRIOR_FAILURE_FIELDS = ["failed_at_ms", "error_json", "status"];

/** What parity says of a run that has not ended (running, stale or pending, by the clock). */
const NOT_ENDED = "not ended";

/** An index status as parity compares it: how the run ended, or {@linkcode NOT_ENDED}. */
function endedAs(status: string | null): string {
  return status === "completed" || status === "failed" ? status : NOT_ENDED;
}

function canonicalText(text: string | null): string | null {
  if (text === null) return null;
  try {
    return canonicalJson(parseJsonText(text, { exactIntegers: true })); // digits past 2^53 count
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return text; // not JSON: compared as it is, and reported as a difference
  }
}

/**
 * Options for {@linkcode archiveLegacy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type ArchiveOptions, archiveLegacy } from "./parity.ts";
 * import { createIndexDb, createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const indexDbPath = `${dir}/runs.duckdb`;
 *   const run = { run_id: "old-1", run_type: "policy", created_at_ms: Date.UTC(2025, 11, 1) };
 *   await createLegacyDb(legacyDbPath, [run]);
 *   // An index that holds the run as the backfill maps it: parity holds.
 *   await createIndexDb(indexDbPath, [{ ...run, status: "pending" }]);
 *   const options: ArchiveOptions = { legacyDbPath, indexDbPath, nowMs: Date.UTC(2026, 1, 3) };
 *   const { archivedPath } = await archiveLegacy(options);
 *   assert.equal(archivedPath, `${legacyDbPath}.archived-20260203T000000Z`); // stamped by nowMs
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ArchiveOptions extends ParityOptions {
  /** The clock that stamps the archived name. @default {Date.now()} */
  nowMs?: number;
}

/**
 * What {@linkcode archiveLegacy} did.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { archiveLegacy, type ArchiveReport } from "./parity.ts";
 * import { createIndexDb, createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const indexDbPath = `${dir}/runs.duckdb`;
 *   const run = { run_id: "old-1", run_type: "policy", created_at_ms: Date.UTC(2025, 11, 1) };
 *   await createLegacyDb(legacyDbPath, [run]);
 *   // An index that holds the run as the backfill maps it: parity holds.
 *   await createIndexDb(indexDbPath, [{ ...run, status: "pending" }]);
 *   const report: ArchiveReport = await archiveLegacy({ legacyDbPath, indexDbPath });
 *   assert.ok(report.parity.holds);
 *   assert.deepEqual(report.movedAlso, []); // the legacy file had no .wal beside it
 *   assert.ok((await Deno.stat(report.archivedPath)).isFile);
 *   await assert.rejects(Deno.stat(legacyDbPath), Deno.errors.NotFound); // moved, not copied
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface ArchiveReport {
  /** Where the legacy file now is. */
  archivedPath: string;
  /** Other files moved with it (its `.wal`, ...: {@linkcode DUCKDB_COMPANION_SUFFIXES}). */
  movedAlso: string[];
  /** The parity check that allowed the move. */
  parity: ParityReport;
  /** Whether this finished the moves of an archive that was interrupted. */
  resumed: boolean;
}

/**
 * The archive target exists already; nothing was moved.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ArchiveExistsError } from "./parity.ts";
 * const err = new ArchiveExistsError("data/baseline_results.duckdb.archived-20260123T000000Z");
 * assert.match(err.message, /exists already; nothing was moved/);
 * ```
 */
export class ArchiveExistsError extends Error {
  /** Create the error for the existing `path`. */
  constructor(path: string) {
    super(`Archive target ${path} exists already; nothing was moved`);
    this.name = "ArchiveExistsError";
  }
}

/**
 * `<path>.archived-YYYYMMDDTHHMMSSZ` for the UTC time `nowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { archivedName } from "./parity.ts";
 * const name = archivedName("data/b.duckdb", Date.UTC(2026, 1, 3, 4, 5, 6));
 * assert.equal(name, "data/b.duckdb.archived-20260203T040506Z");
 * ```
 */
export function archivedName(path: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
  return `${path}.archived-${stamp}`;
}

/**
 * The files DuckDB keeps beside a database file, each part of what the file
 * holds: its write-ahead log, the log of the writes made while it
 * checkpoints (DuckDB 1.5 names it `.wal.checkpoint`) and the one of a
 * recovery. Archive moves each one that is there with the file (a probe: a
 * legacy writer killed while it checkpointed left a `.wal.checkpoint`, which
 * stayed behind, and runs archive had read were not in the archived file).
 */
export const DUCKDB_COMPANION_SUFFIXES: readonly string[] = [
  ".wal",
  ".wal.checkpoint",
  ".wal.recovery",
];

/**
 * `<legacy file>.archiving`: the record of an archive under way, written
 * (durably) before its first rename and removed after its last. An archive
 * that finds it finishes the moves it names (a probe: archive moved the
 * `.wal` first, and a failure or a kill before the file's own rename left
 * the file without its log for good: the next archive moved it alone).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { archiveRecordPath } from "./parity.ts";
 * assert.equal(archiveRecordPath("data/b.duckdb"), "data/b.duckdb.archiving");
 * ```
 */
export function archiveRecordPath(legacyDbPath: string): string {
  return `${legacyDbPath}${ARCHIVE_RECORD_SUFFIX}`;
}

/** What {@linkcode archiveRecordPath} holds. */
interface ArchiveRecord {
  archivedPath: string;
  /** `[from, to]`, the legacy file first. */
  moves: [string, string][];
  parity: ParityReport;
}

/**
 * A move of the archive failed. `moved` says whether the legacy file is
 * archived: `false` when nothing was moved or all was moved back, `true`
 * when the archive is half done and {@linkcode archiveRecordPath} names it
 * (`ledger legacy archive` again finishes it).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ArchiveMoveError } from "./parity.ts";
 * const err = new ArchiveMoveError("could not move a.wal: denied; nothing was moved", false);
 * assert.equal(err.moved, false);
 * ```
 */
export class ArchiveMoveError extends Error {
  /** Whether the legacy file is at its archived name. */
  readonly moved: boolean;
  /** Create the error. */
  constructor(message: string, moved: boolean) {
    super(message);
    this.name = "ArchiveMoveError";
    this.moved = moved;
  }
}

/**
 * Check parity, and only when it holds move the legacy file (and each of
 * {@linkcode DUCKDB_COMPANION_SUFFIXES} beside it) to `<file>.archived-<UTC
 * stamp>`. Readers then find no legacy file and see the event log only:
 * dual mode has ended. Throws {@linkcode ParityError} (moving nothing) when
 * parity does not hold, {@linkcode ArchiveMoveError} when a move fails.
 *
 * The legacy file moves first, then its companions; the moves are named
 * beforehand in {@linkcode archiveRecordPath}, so an archive killed between
 * them is finished by the next one (`resumed` in its report, with the parity
 * report that allowed the moves), and one whose move fails moves back what it
 * moved.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { archiveLegacy } from "./parity.ts";
 * import { backfillLegacy } from "./backfill.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/baseline_results.duckdb`;
 *   const root = `${dir}/ledger`;
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) }]);
 *   await backfillLegacy(root, { legacyDbPath });
 *   await rebuildIndex(root, {});
 *   const { archivedPath, resumed } = await archiveLegacy({ legacyDbPath, root });
 *   assert((await Deno.stat(archivedPath)).isFile && archivedPath.startsWith(legacyDbPath));
 *   assert.equal(resumed, false);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function archiveLegacy(options: ArchiveOptions = {}): Promise<ArchiveReport> {
  const legacyDbPath = options.legacyDbPath ?? DEFAULT_LEGACY_DB_PATH;
  const recordPath = archiveRecordPath(legacyDbPath);
  const interrupted = await readArchiveRecord(recordPath);
  if (interrupted !== undefined) {
    if (!(await exists(legacyDbPath, { noFollow: true }))) {
      return await moveAll(recordPath, interrupted, true);
    }
    // The legacy file moves first: still here, nothing was moved, unless a target is there (a
    // rename lost to a power cut, or moved back by hand): then the record stays to say so.
    for (const [, to] of interrupted.moves) {
      if (await exists(to, { noFollow: true })) {
        throw new ArchiveMoveError(
          `${recordPath} names an archive that moved ${to} already, and ${legacyDbPath} is ` +
            "there again: see which files belong together, then remove the record",
          false,
        );
      }
    }
    await Deno.remove(recordPath); // checked afresh below
  }
  await refuseLinkedLegacyFile(legacyDbPath);
  const parity = await parityOf(options, true);
  if (!parity.holds) throw new ParityError(legacyDbPath, parity);
  const archivedPath = archivedName(legacyDbPath, options.nowMs ?? Date.now());
  const moves: [string, string][] = [[legacyDbPath, archivedPath]];
  for (const suffix of DUCKDB_COMPANION_SUFFIXES) {
    const from = `${legacyDbPath}${suffix}`;
    if (await exists(from, { noFollow: true })) moves.push([from, `${archivedPath}${suffix}`]);
  }
  for (const [, to] of moves) {
    if (await exists(to, { noFollow: true })) throw new ArchiveExistsError(to);
  }
  // Names, not paths: the record is read beside the files, from any working directory and
  // however the legacy file is named then (a review: `b.duckdb` from one directory resumed
  // from another moved that directory's files).
  const stored = {
    archivedPath: basename(archivedPath),
    moves: moves.map(([from, to]) => [basename(from), basename(to)]),
    parity,
  };
  await writeFileAtomic(recordPath, JSON.stringify(stored) + "\n"); // durable before any move
  return await moveAll(recordPath, { archivedPath, moves, parity }, false);
}

/**
 * Refuse to archive a legacy file that is a symbolic link: its rename would
 * move the link, and leave the file it leads to, and that file's `.wal`,
 * where the legacy writer still finds them (a review). Nothing is moved.
 */
async function refuseLinkedLegacyFile(legacyDbPath: string): Promise<void> {
  const info = await Deno.lstat(legacyDbPath).catch((err) => {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return null; // none: the parity check names it
    }
    throw err;
  });
  if (info === null || !info.isSymlink) return;
  const target = await Deno.realPath(legacyDbPath).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return "a file that is not there"; // dangling
    throw err;
  });
  throw new ArchiveMoveError(
    `${legacyDbPath} is a symbolic link to ${target}: archive that file itself (--legacy-db ` +
      `${target}), then remove the link; nothing was moved`,
    false,
  );
}

/**
 * The record of an interrupted archive, its names made paths beside it, or
 * `undefined` when there is none.
 */
async function readArchiveRecord(path: string): Promise<ArchiveRecord | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    // A file on the way (`notes.txt/x.duckdb`): no record; the parity check names the file.
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw new ArchiveMoveError(`Cannot read ${path}: ${firstLine(err)}`, false);
  }
  const notRecord = (why: string) =>
    new ArchiveMoveError(
      `${path} is not the record of an archive (${why}); see which files it moved, then ` +
        "remove it",
      false,
    );
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw notRecord(err.message);
  }
  const name = (v: unknown) => typeof v === "string" && v !== "" && !/[/\\]/.test(v);
  const r = stored as Record<string, unknown> | null;
  if (
    typeof r !== "object" || r === null || !name(r.archivedPath) || !Array.isArray(r.moves) ||
    r.moves.length === 0 ||
    !r.moves.every((m) => Array.isArray(m) && m.length === 2 && name(m[0]) && name(m[1])) ||
    typeof r.parity !== "object" || r.parity === null
  ) {
    throw notRecord("not an object of archivedPath, moves and parity");
  }
  const dir = dirname(path);
  const at = (n: string) => join(dir, n);
  return {
    archivedPath: at(r.archivedPath as string),
    moves: (r.moves as [string, string][]).map(([from, to]) => [at(from), at(to)]),
    parity: r.parity as ParityReport,
  };
}

/**
 * Make the moves of `record` (those not made yet when `resumed`), sync,
 * and remove the record. A failed move moves back what this call moved, or,
 * when `resumed`, leaves the record for the next try.
 */
async function moveAll(
  recordPath: string,
  record: ArchiveRecord,
  resumed: boolean,
): Promise<ArchiveReport> {
  const { archivedPath, moves, parity } = record;
  const done: [string, string][] = [];
  for (const [from, to] of moves) {
    // Resumed: what the interrupted archive moved is no longer at its old name.
    if (resumed && !(await exists(from, { noFollow: true }))) continue;
    // Never over a file (a review: a resumed archive replaced what was at a companion's name).
    if (resumed && await exists(to, { noFollow: true })) {
      throw new ArchiveMoveError(
        `${to} exists already, and ${from} is to move there: see which is the legacy file's, ` +
          `then ledger legacy archive again (${recordPath} names the moves)`,
        true,
      );
    }
    try {
      await rename(from, to);
    } catch (err) {
      // Finishing an interrupted archive: the file is moved already, and the record must stay
      // to say where the rest goes (moving back only this call's moves split the pair).
      if (resumed) {
        throw new ArchiveMoveError(
          `could not move ${from}: ${firstLine(err)}; ${recordPath} names the moves, ` +
            "and ledger legacy archive finishes them once the cause is mended",
          true,
        );
      }
      throw await moveBack(recordPath, done, from, err);
    }
    done.push([from, to]);
    // The legacy file's own move durable before its companions': a power cut never keeps a
    // companion's move without the file's (the rule above reads "still here" as "none moved").
    if (done.length === 1) await syncDir(dirname(to));
  }
  if (resumed && !(await exists(archivedPath, { noFollow: true }))) {
    throw new ArchiveMoveError(
      `${recordPath} names an archive to ${archivedPath}, but neither it nor ` +
        `${moves[0][0]} is there; see where the legacy file went, then remove the record`,
      false,
    );
  }
  await syncDir(dirname(archivedPath)); // the moves are durable from here
  await Deno.remove(recordPath);
  await syncDir(dirname(recordPath));
  return { archivedPath, movedAlso: moves.slice(1).map(([, to]) => to), parity, resumed };
}

/** After the move of `failed` failed with `cause`: move `done` back, newest first. */
async function moveBack(
  recordPath: string,
  done: [string, string][],
  failed: string,
  cause: unknown,
): Promise<ArchiveMoveError> {
  const why = `could not move ${failed}: ${firstLine(cause)}`;
  try {
    for (const [from, to] of done.toReversed()) await rename(to, from);
    await syncDir(dirname(recordPath));
  } catch (err) {
    return new ArchiveMoveError(
      `${why}; moving back failed too (${firstLine(err)}): ${recordPath} names the moves, ` +
        "and ledger legacy archive finishes them once the cause is mended",
      true,
    );
  }
  await Deno.remove(recordPath);
  return new ArchiveMoveError(
    `${why}; ${done.length === 0 ? "nothing was moved" : "what was moved is moved back"}`,
    false,
  );
}
