/**
 * The backfill that ends dual mode: every legacy run becomes `run.created`,
 * `run.started`, `run.completed` (or `run.failed`) events in the log, written
 * through the ledger writer with the legacy timestamps (so each lands in its
 * own day partition) and with event ids derived from the run id and event
 * type, so a second backfill finds them in the log and writes nothing.
 *
 * A legacy run whose id does not match `RUN_ID_PATTERN` (a new event's run id
 * must be a safe path segment), or that has no `created_at_ms`, or whose
 * events do not validate, is skipped and reported with the reason; it is not
 * renamed, because a renamed run would show twice in dual mode.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  completeEvent,
  encodeEventLine,
  type EventInput,
  RUN_ID_PATTERN,
} from "../ledger/events.ts";
import { BATCH_BYTES_MAX, openWriter } from "../ledger/writer.ts";
import { canonicalJson, isJsonObject, parseJsonText } from "../ledger/json_text.ts";
import { readLog } from "../ledger/reader.ts";
import { ANNOTATION_EVENT_TYPES } from "../ledger/field_rules.ts";
import { linesHolding } from "../ledger/run_lookup.ts";
import {
  DEFAULT_LEGACY_DB_PATH,
  firstLine,
  type LegacyRow,
  readLegacyRows,
  unidentifiedSkip,
  unreadColumnsWarnings,
} from "./read.ts";

/** Prefix of every backfilled event id. */
export const LEGACY_EVENT_ID_PREFIX = "legacy-";

/** Hex digits of the sha256 kept in a backfilled event id. */
const EVENT_ID_HEX_DIGITS = 24;

/** Events handed to the writer per batch (one durable write per batch and day). */
export const BACKFILL_BATCH_EVENTS_MAX = 1000;

/**
 * Bytes of lines handed to the writer per batch: half the writer's
 * `BATCH_BYTES_MAX` (64 MiB), the other half a margin. By events alone, 1,000
 * valid events of 900 KB configs made one batch the writer refused, and every
 * backfill failed (helper-291).
 */
export const BACKFILL_BATCH_BYTES_MAX = BATCH_BYTES_MAX / 2;

/** `run_type` written for a legacy run whose `run_type` is NULL or empty. */
export const UNKNOWN_RUN_TYPE = "unknown";

/** Message of the `run.failed` error of a legacy failure that recorded none. */
export const LEGACY_FAILURE_MESSAGE = "legacy run failed (no error recorded)";

/**
 * Options for {@linkcode backfillLegacy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backfillLegacy, type BackfillOptions } from "./backfill.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2025, 0, 2) }]);
 *   // A dry run counts what the backfill would write, and writes nothing.
 *   const options: BackfillOptions = { legacyDbPath, dryRun: true };
 *   const plan = await backfillLegacy(`${dir}/ledger`, options);
 *   assert.deepEqual([plan.eventsPlanned, plan.eventsWritten], [1, 0]); // run.created only
 *   const done = await backfillLegacy(`${dir}/ledger`, { ...options, dryRun: false });
 *   assert.equal(done.eventsWritten, 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface BackfillOptions {
  /** The legacy DuckDB file. @default {"data/baseline_results.duckdb"} */
  legacyDbPath?: string;
  /** The writer's durability. @default {"durable"} */
  durability?: "durable" | "relaxed";
  /** Plan only: count what would be written, write nothing. @default {false} */
  dryRun?: boolean;
}

/**
 * A legacy run the backfill did not write, and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backfillLegacy, type SkippedRun } from "./backfill.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   // A run id that is not a safe path segment: the run is reported, never renamed.
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old/1", created_at_ms: Date.UTC(2025, 0, 2) }]);
 *   const report = await backfillLegacy(`${dir}/ledger`, { legacyDbPath, dryRun: true });
 *   const [skipped]: SkippedRun[] = report.skipped;
 *   assert.equal(skipped.run_id, "old/1");
 *   assert.match(skipped.reason, /^run_id does not match/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface SkippedRun {
  /** The legacy run id, as it is in the legacy file. */
  run_id: string;
  /** Why it was not backfilled, one sentence. */
  reason: string;
}

/**
 * What {@linkcode backfillLegacy} did.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backfillLegacy, type BackfillReport } from "./backfill.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   const day = Date.UTC(2025, 11, 1);
 *   await createLegacyDb(legacyDbPath, [
 *     { run_id: "old-1", created_at_ms: day, started_at_ms: day, completed_at_ms: day + 60_000 },
 *     { run_id: "old-2", created_at_ms: null }, // no creation time: skipped
 *   ]);
 *   const report: BackfillReport = await backfillLegacy(`${dir}/ledger`, { legacyDbPath });
 *   assert.equal(report.legacyRuns, 2);
 *   assert.equal(report.backfillableRuns, 1);
 *   assert.equal(report.eventsWritten, 3); // run.created, run.started, run.completed
 *   assert.deepEqual(report.skipped, [{ run_id: "old-2", reason: "created_at_ms is NULL" }]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface BackfillReport {
  /** Legacy runs read. */
  legacyRuns: number;
  /** Runs whose events were all valid (written now or before). */
  backfillableRuns: number;
  /** Events the backfillable legacy runs map to (written now or before, or to be). */
  eventsPlanned: number;
  /**
   * Backfillable runs every event of which was in the log already (an earlier
   * backfill): this call wrote (or, in a dry run, would write) nothing for them.
   */
  runsAlreadyPresent: number;
  /** Events appended by this call. */
  eventsWritten: number;
  /** Events already in the log (an earlier backfill), not written again. */
  eventsAlreadyPresent: number;
  /** Runs not backfilled, with the reason. */
  skipped: SkippedRun[];
  /** Torn or invalid log lines met while looking for existing ids. */
  unreadableLogLines: number;
  /** Problems reading the legacy file that did not stop the backfill. */
  warnings: string[];
}

/**
 * The legacy database could not be read, so there is nothing to backfill or compare.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backfillLegacy, LegacyUnavailableError } from "./backfill.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   await assert.rejects(
 *     backfillLegacy(root, { legacyDbPath: `${root}/no-such.duckdb` }),
 *     (err) => err instanceof LegacyUnavailableError,
 *   );
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class LegacyUnavailableError extends Error {
  /** Create the error from the reader's warnings. */
  constructor(path: string, warnings: string[]) {
    super(warnings.length > 0 ? warnings.join("; ") : `Cannot read the legacy database ${path}`);
    this.name = "LegacyUnavailableError";
  }
}

/**
 * The event id of the backfilled event `eventType` of legacy run `runId`:
 * `legacy-` and the first 24 hex digits of a sha256 over both. The same run
 * gives the same ids on every backfill.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { legacyEventId } from "./backfill.ts";
 * const id = legacyEventId("run-1", "run.created");
 * assert.equal(legacyEventId("run-1", "run.created"), id);
 * assert.match(id, /^legacy-/);
 * ```
 */
export function legacyEventId(runId: string, eventType: string): string {
  const digest = createHash("sha256")
    .update(`ledger-legacy-backfill-v1\u0000${runId}\u0000${eventType}`)
    .digest("hex");
  return LEGACY_EVENT_ID_PREFIX + digest.slice(0, EVENT_ID_HEX_DIGITS);
}

/**
 * One event the backfill writes: the envelope with every id and time given
 * (so the writer keeps them), plus the type's fields. The writer validates it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type BackfillEvent, legacyEventId, legacyRowToEvents } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * const mapped = legacyRowToEvents({ ...row, completed_at_ms: Date.UTC(2025, 11, 1, 2) });
 * const events: BackfillEvent[] = "events" in mapped ? mapped.events : [];
 * const types = events.map((e) => e.event_type);
 * assert.deepEqual(types, ["run.created", "run.started", "run.completed"]);
 * // Each event keeps its legacy time, and its id is derived: a second backfill finds it.
 * assert.equal(events[2].timestamp_ms, Date.UTC(2025, 11, 1, 2));
 * assert.equal(events[2].event_id, legacyEventId("old-1", "run.completed"));
 * ```
 */
export interface BackfillEvent {
  /** `run.created`, `run.started`, `run.completed` or `run.failed`. */
  event_type: string;
  /** {@linkcode legacyEventId} of the run and type. */
  event_id: string;
  /** The legacy time of the step, ms since the epoch. */
  timestamp_ms: number;
  /** The legacy run id. */
  run_id: string;
  /** The type's fields. */
  [field: string]: unknown;
}

/**
 * The events of one legacy run, or why it cannot be backfilled.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type LegacyMapping, legacyRowToEvents } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * // The events of a run, or why it is skipped: a run id that is not a safe path segment.
 * const mappings: LegacyMapping[] = [row, { ...row, run_id: "old/1" }].map(legacyRowToEvents);
 * const outcomes = mappings.map((m) => "events" in m ? `${m.events.length} events` : m.skip);
 * assert.equal(outcomes[0], "2 events"); // run.created and run.started
 * assert.match(outcomes[1], /^run_id does not match/);
 * ```
 */
export type LegacyMapping = { events: BackfillEvent[] } | { skip: string };

/**
 * Map one legacy row to the events that reproduce it in the index. JSON
 * columns that are NULL or empty become `{}`; a value that is not a JSON
 * object is kept under `legacy_value` (or, unparsable, its text under
 * `legacy_text`); a NULL `run_type` becomes `"unknown"`, a NULL fingerprint
 * `""`. {@linkcode checkParity} applies the same mapping (through {@linkcode validMapping}).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { legacyRowToEvents } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * const mapped = legacyRowToEvents(row);
 * assert("events" in mapped && mapped.events[0].event_type === "run.created");
 * assert("skip" in legacyRowToEvents({ ...row, created_at_ms: null }));
 * ```
 */
export function legacyRowToEvents(row: LegacyRow): LegacyMapping {
  if (row.duplicates !== undefined) {
    return {
      skip: `the legacy file has ${row.duplicates.definitions} rows in runs_d and ` +
        `${row.duplicates.statuses} in runs_status with this run_id: which one is the run is ` +
        `not known (keep one row of each, then backfill)`,
    };
  }
  if (row.statusOnly) {
    return {
      skip: `the legacy file has a runs_status row and no runs_d row for it: its type, config ` +
        `and creation time are not known (add its runs_d row, then backfill)`,
    };
  }
  if (!RUN_ID_PATTERN.test(row.run_id)) {
    return { skip: `run_id does not match ${RUN_ID_PATTERN.source}` };
  }
  if (row.created_at_ms === null) return { skip: "created_at_ms is NULL" };
  const expected = expectedRun(row);
  const base = (type: string, timestampMs: number) => ({
    event_type: type,
    event_id: legacyEventId(row.run_id, type),
    timestamp_ms: timestampMs,
    run_id: row.run_id,
  });
  const events: BackfillEvent[] = [{
    ...base("run.created", row.created_at_ms),
    run_type: expected.run_type,
    config: expected.config,
    data_fingerprint: expected.data_fingerprint,
  }];
  if (row.started_at_ms !== null) {
    events.push(base("run.started", row.started_at_ms));
  }
  if (row.completed_at_ms !== null) {
    events.push({
      ...base("run.completed", row.completed_at_ms),
      summary: expected.summary ?? {},
      artifact_paths: {},
    });
  }
  if (expected.failed) {
    events.push({
      ...base("run.failed", expected.failed_at_ms!),
      error: expected.error,
    });
  }
  return { events };
}

/**
 * What the index should hold for a legacy run once it is backfilled.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type ExpectedRun, expectedRun, LEGACY_FAILURE_MESSAGE } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * // The legacy status says FAILED, with no failure time and no error recorded.
 * const expected: ExpectedRun = expectedRun({ ...row, status_text: "FAILED" });
 * assert.equal(expected.failed, true);
 * assert.equal(expected.failed_at_ms, row.started_at_ms); // no failure time: dated by its start
 * assert.deepEqual(expected.error, { message: LEGACY_FAILURE_MESSAGE });
 * assert.equal(expected.summary, null); // it never completed
 * ```
 */
export interface ExpectedRun {
  /** `run_type`; `"unknown"` for NULL or empty. */
  run_type: string;
  /** `created_at_ms`, the `run.created` timestamp. */
  created_at_ms: number | null;
  /** `config` as an object (see {@linkcode jsonObject}). */
  config: Record<string, unknown>;
  /** `data_fingerprint`; `""` for NULL. */
  data_fingerprint: string;
  /** `started_at_ms`, the `run.started` timestamp, if any. */
  started_at_ms: number | null;
  /** `completed_at_ms`, the `run.completed` timestamp, if any. */
  completed_at_ms: number | null;
  /** The summary object, or `null` when the run never completed. */
  summary: Record<string, unknown> | null;
  /** Whether a `run.failed` is written (failure time, error or status says so). */
  failed: boolean;
  /** The `run.failed` timestamp, or `null` when not failed. */
  failed_at_ms: number | null;
  /** The `run.failed` error (with a `message`), or `null` when not failed. */
  error: Record<string, unknown> | null;
}

/**
 * The values a backfilled legacy run has in the index: the single definition
 * of the backfill mapping, shared by the backfill and the parity check.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { expectedRun } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "path-only", created_at_ms: Date.UTC(2025, 11, 1), config: "{}",
 *   data_fingerprint: "fp", started_at_ms: Date.UTC(2025, 11, 1), completed_at_ms: null,
 *   failed_at_ms: null, summary_json: null, error_json: null, status_text: null,
 *   has_status_row: true,
 * };
 * const expected = expectedRun({ ...row, run_type: null, config: null });
 * assert(expected.run_type === "unknown" && Object.keys(expected.config).length === 0);
 * ```
 */
export function expectedRun(row: LegacyRow): ExpectedRun {
  const error = expectedError(row);
  const failed = error !== null;
  const failedAt = row.failed_at_ms ?? row.completed_at_ms ?? row.started_at_ms ??
    row.created_at_ms;
  return {
    run_type: row.run_type ? row.run_type : UNKNOWN_RUN_TYPE,
    created_at_ms: row.created_at_ms,
    config: jsonObject(row.config),
    data_fingerprint: row.data_fingerprint ?? "",
    started_at_ms: row.started_at_ms,
    completed_at_ms: row.completed_at_ms,
    summary: row.completed_at_ms === null ? null : jsonObject(row.summary_json),
    failed,
    failed_at_ms: failed ? failedAt : null,
    error,
  };
}

/**
 * How the backfilled run `run` ends in the index, by the index's rule:
 * completed or failed (the later wins, a tie is failed); null when it has
 * not ended (running, stale or pending, which depend on the clock).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { endedStatus, type ExpectedRun } from "./backfill.ts";
 * const run: ExpectedRun = {
 *   run_type: "policy", created_at_ms: 1, config: {}, data_fingerprint: "", started_at_ms: 2,
 *   completed_at_ms: 5, summary: {}, failed: true, failed_at_ms: 5, error: { message: "x" },
 * };
 * assert.equal(endedStatus(run), "failed"); // a tie is failed
 * assert.equal(endedStatus({ ...run, failed_at_ms: 4 }), "completed");
 * assert.equal(endedStatus({ ...run, completed_at_ms: null, failed: false }), null);
 * ```
 */
export function endedStatus(run: ExpectedRun): "completed" | "failed" | null {
  const { completed_at_ms: completedAtMs, failed, failed_at_ms: failedAtMs } = run;
  if (completedAtMs !== null && (!failed || failedAtMs === null || completedAtMs > failedAtMs)) {
    return "completed";
  }
  return failed ? "failed" : null;
}

/**
 * The `run.failed` error of a legacy run (see {@linkcode expectedRun}), or
 * `null` when it did not fail: `failed_at_ms` or an error recorded in
 * `error_json` (see {@linkcode recordsError}), or a status word of `failed`.
 */
function expectedError(row: LegacyRow): Record<string, unknown> | null {
  const failed = row.failed_at_ms !== null || recordsError(row.error_json) ||
    row.status_text?.toLowerCase() === "failed";
  if (!failed) return null;
  let error = jsonObject(row.error_json);
  if (typeof error.message !== "string") error = withMessage(error);
  // A summary the run recorded without completing (a failed run's partial metrics) goes with
  // its error: the log has no summary for a run that failed, and a probe saw it dropped while
  // parity held and the archive went ahead.
  const summary = jsonObject(row.summary_json);
  if (Object.keys(summary).length > 0 && !Object.hasOwn(error, "legacy_summary")) {
    error = { ...error, legacy_summary: summary };
  }
  return error;
}

/**
 * Whether an `error_json` records an error: not NULL, blank, JSON `null`
 * or `{}`, which a writer leaves for a run that did not fail (Python's
 * `json.dumps(None)` is `null`; the value mapping makes each of them `{}`).
 * A probe: a completed run whose `error_json` was `null` was backfilled as
 * failed, and listed failed in dual mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { recordsError } from "./backfill.ts";
 * for (const none of [null, "", "  ", "null", "{}", " { } "]) assert.equal(recordsError(none), false);
 * for (const some of ['{"message":"boom"}', '"boom"', "Traceback", "[]"]) assert(recordsError(some));
 * ```
 */
export function recordsError(errorJson: string | null): boolean {
  if (errorJson === null) return false;
  const error = jsonObject(errorJson);
  const keys = Object.keys(error);
  return !(keys.length === 0 || (keys.length === 1 && keys[0] === "legacy_value" &&
    error.legacy_value === null));
}

/**
 * A legacy error with a text `message`: a message of another kind (a Python
 * dict, a number) becomes its JSON text and stays as it was under
 * `legacy_message` (a probe: `{"message": {"text": "CUDA OOM", "code":
 * 137}}` was replaced by "no error recorded"); a bare JSON string or text
 * that is not JSON is the message; with none, {@linkcode LEGACY_FAILURE_MESSAGE}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { withMessage } from "./backfill.ts";
 * assert.deepStrictEqual(withMessage({ message: 404 }), { message: "404", legacy_message: 404 });
 * assert.deepStrictEqual(withMessage({ legacy_value: "boom" }), {
 *   legacy_value: "boom",
 *   message: "boom",
 * });
 * ```
 */
export function withMessage(error: Record<string, unknown>): Record<string, unknown> {
  const given = error.message;
  if (typeof given === "string") return error;
  if (given !== undefined && given !== null) {
    const kept = Object.hasOwn(error, "legacy_message") ? {} : { legacy_message: given };
    return { ...error, message: canonicalJson(given), ...kept };
  }
  const text = typeof error.legacy_value === "string"
    ? error.legacy_value
    : typeof error.legacy_text === "string"
    ? error.legacy_text
    : "";
  return { ...error, message: text.trim() === "" ? LEGACY_FAILURE_MESSAGE : text };
}

/**
 * The error a backfill by ledger 0.8.0 or earlier wrote for a failed legacy
 * run, when it is not the one {@linkcode expectedRun} gives now (a message
 * that was not text replaced, a summary dropped), as canonical JSON; else
 * `undefined`. A log is never rewritten: parity and a later backfill take
 * that error as the run's, and warn with {@linkcode priorErrorWarning}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { priorBackfillError } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "policy", created_at_ms: 1, config: "{}", data_fingerprint: "fp",
 *   started_at_ms: 2, completed_at_ms: null, failed_at_ms: 3, summary_json: null,
 *   error_json: '{"message":404}', status_text: null, has_status_row: true,
 * };
 * assert.equal(priorBackfillError(row), '{"message":"legacy run failed (no error recorded)"}');
 * assert.equal(priorBackfillError({ ...row, error_json: '{"message":"boom"}' }), undefined);
 * ```
 */
export function priorBackfillError(row: LegacyRow): string | undefined {
  const now = expectedError(row);
  if (now === null) return undefined;
  let before = jsonObject(row.error_json);
  if (typeof before.message !== "string") before = { ...before, message: LEGACY_FAILURE_MESSAGE };
  const text = canonicalJson(before);
  return text === canonicalJson(now) ? undefined : text;
}

/**
 * What an earlier backfill wrote as the `run.failed` of a legacy run that
 * does not fail now: its `error_json` is `null`, blank or `{}`, which
 * {@linkcode recordsError} reads as no error and earlier versions read as a
 * failure. Its time, and its error as canonical JSON in each form it was
 * written (without the summary, by 0.8.0, and with it as `legacy_summary`,
 * after); undefined for any other run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { priorFailure } from "./backfill.ts";
 * const row = {
 *   run_id: "old-1", run_type: "policy", created_at_ms: 1, config: "{}", data_fingerprint: "fp",
 *   started_at_ms: 2, completed_at_ms: 5, failed_at_ms: null, summary_json: null,
 *   error_json: "{}", status_text: null, has_status_row: true,
 * };
 * assert.deepEqual(priorFailure(row), {
 *   failed_at_ms: 5,
 *   errors: ['{"message":"legacy run failed (no error recorded)"}'],
 * });
 * assert.equal(priorFailure({ ...row, error_json: null }), undefined);
 * ```
 */
export function priorFailure(
  row: LegacyRow,
): { failed_at_ms: number | null; errors: string[] } | undefined {
  if (row.error_json === null || expectedError(row) !== null) return undefined;
  const error = withMessage(jsonObject(row.error_json));
  const summary = jsonObject(row.summary_json);
  const errors = [canonicalJson(error)];
  if (Object.keys(summary).length > 0) {
    errors.push(canonicalJson({ ...error, legacy_summary: summary }));
  }
  return {
    failed_at_ms: row.completed_at_ms ?? row.started_at_ms ?? row.created_at_ms,
    errors,
  };
}

/** The warning for a run whose log holds {@linkcode priorFailure}'s `run.failed`. */
export function priorFailureWarning(runId: string): string {
  return `run ${JSON.stringify(runId)} was backfilled by an earlier ledger as failed: its ` +
    "legacy error_json (null, blank or {}) records no error, but the log keeps that run.failed " +
    "(an event is never rewritten), so the run shows failed; the legacy file keeps the rest " +
    "(archived, it stays there)";
}

/** The warning for a run whose log holds {@linkcode priorBackfillError}'s error. */
export function priorErrorWarning(runId: string): string {
  return `run ${JSON.stringify(runId)} was backfilled by ledger 0.8.0 or earlier: its ` +
    "run.failed error lacks what the legacy file holds beyond it (a message that is not text, " +
    "or the summary of a run that failed); the legacy file keeps it (archived, it stays there)";
}

/**
 * The warning for a legacy run that has not ended (neither completed nor
 * failed) whose row holds a summary, else undefined. The log keeps a
 * summary for a completed run (and a failed run's with its error) only, so
 * no reader shows this one after the cutover: a probe saw dual mode's `show`
 * print it, the backfill leave it out and parity hold. Said by `backfill`,
 * `parity` and `archive`; the legacy file, archived, keeps it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { unendedSummaryWarning } from "./backfill.ts";
 * const row = {
 *   run_id: "r1", run_type: "policy", created_at_ms: 1, config: "{}", data_fingerprint: "fp",
 *   started_at_ms: 2, completed_at_ms: null, failed_at_ms: null,
 *   summary_json: '{"calls_done":120}', error_json: null, status_text: null, has_status_row: true,
 * };
 * assert.match(unendedSummaryWarning(row)!, /^run "r1" has not ended, and its legacy summary_json/);
 * assert.equal(unendedSummaryWarning({ ...row, completed_at_ms: 3 }), undefined);
 * assert.equal(unendedSummaryWarning({ ...row, summary_json: "{}" }), undefined);
 * ```
 */
export function unendedSummaryWarning(row: LegacyRow): string | undefined {
  if (endedStatus(expectedRun(row)) !== null) return undefined;
  const keys = Object.keys(jsonObject(row.summary_json)).length;
  if (keys === 0) return undefined;
  return `run ${JSON.stringify(row.run_id)} has not ended, and its legacy summary_json ` +
    `(${keys} key${keys === 1 ? "" : "s"}) has no event in the log (the log keeps the summary ` +
    "of a completed run): no reader shows it after the cutover; the legacy file keeps it " +
    "(archived, it stays there)";
}

/**
 * Parse a JSON column as an object: NULL or empty is `{}`, an object is
 * itself, another JSON value is `{legacy_value: value}`, text that is not
 * JSON is `{legacy_text: text}`. The Python tools wrote these columns with
 * `json.dumps`, so `NaN` and `Infinity` read as `null` (SPEC 3), as in the
 * event log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { jsonObject } from "./backfill.ts";
 * assert.deepStrictEqual(jsonObject("[1]"), { legacy_value: [1] });
 * assert.deepStrictEqual(jsonObject('{"sharpe": NaN, "n": 2}'), { sharpe: null, n: 2 });
 * ```
 */
export function jsonObject(text: string | null): Record<string, unknown> {
  if (text === null || text.trim() === "") return {};
  let value: unknown;
  try {
    // Integers past 2^53 (a 64-bit seed) keep their digits in the log the backfill writes, and
    // Python's floats their text (`1.0` stays a float; a probe saw it backfilled as `1`).
    value = parseJsonText(text, { exactNumbers: true });
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Not JSON: keep the text as it was, under a named key.
    return { legacy_text: text };
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return { legacy_value: value };
}

/**
 * Append the events of every legacy run to the log at `root`, skipping the
 * ones already there (found by reading the log itself, so it holds without
 * an index). Running it twice writes nothing the second time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { backfillLegacy } from "./backfill.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: Date.UTC(2025, 11, 1) }]);
 *   const first = await backfillLegacy(`${dir}/ledger`, { legacyDbPath });
 *   const again = await backfillLegacy(`${dir}/ledger`, { legacyDbPath });
 *   assert(first.eventsWritten > 0 && again.eventsWritten === 0);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function backfillLegacy(
  root: string,
  options: BackfillOptions = {},
): Promise<BackfillReport> {
  const legacyDbPath = options.legacyDbPath ?? DEFAULT_LEGACY_DB_PATH;
  const legacy = await readLegacyRows(legacyDbPath);
  if (!legacy.available) throw new LegacyUnavailableError(legacyDbPath, legacy.warnings);
  const skipped: SkippedRun[] = [];
  const planned: BackfillEvent[] = [];
  let backfillableRuns = 0;
  for (const row of legacy.rows) {
    const mapped = validMapping(row);
    if ("skip" in mapped) {
      skipped.push({ run_id: row.run_id, reason: mapped.skip });
      continue;
    }
    backfillableRuns += 1;
    planned.push(...mapped.events);
  }
  if (legacy.unidentified !== undefined) skipped.push(unidentifiedSkip(legacy.unidentified));
  const priorErrors = new Map<string, string>();
  for (const row of legacy.rows) {
    const prior = priorBackfillError(row);
    if (prior !== undefined) priorErrors.set(row.run_id, prior);
  }
  // Held from reading the log's ids to the last append: a second backfill of this root waits,
  // then finds the first one's events (a probe: two at once wrote 15,000 events twice, and
  // ledger verify said NOT SOUND for ever, the log being append-only).
  using _lock = options.dryRun ? undefined : await backfillLock(root);
  const existing = await existingLegacyIds(root, planned, priorErrors);
  // A run id the log already has from its own writers is another run (or the same run
  // recorded since): a second run.created under that id would rewrite it (its creation time,
  // config and data fingerprint are picked by time). It is left out and reported.
  const taken = new Set<string>();
  for (const e of planned) {
    if (e.event_type === "run.created" && existing.logRunIds.has(e.run_id)) taken.add(e.run_id);
  }
  for (const runId of taken) {
    backfillableRuns -= 1;
    skipped.push({
      run_id: runId,
      reason: "the event log already has a run with this id (not from a backfill): " +
        "backfilling it would write the legacy run's events into that run",
    });
  }
  // A run whose backfilled events are in the log with other content (its legacy row changed
  // since: a time fixed from seconds to ms, or a second legacy file with the same run id): the
  // backfill never rewrites an event, and a second copy of an id with other content would be
  // taken for a retry of the first (a probe: the index kept the stale copy, parity never held).
  for (const [runId, reason] of existing.changed) {
    if (taken.has(runId)) continue;
    taken.add(runId);
    backfillableRuns -= 1;
    skipped.push({ run_id: runId, reason });
  }
  // The events of those runs are not planned either: planned = written + already present,
  // which a dry run prints as "would write" (an audit: 12 planned and "would write", 9 written).
  const kept = planned.filter((e) => !taken.has(e.run_id));
  const toWrite = kept.filter((e) => !existing.ids.has(e.event_id));
  if (!options.dryRun && toWrite.length > 0) await appendAll(root, toWrite, options);
  const runsWithNewEvents = new Set(toWrite.map((e) => e.run_id));
  const keptRuns = new Set(kept.map((e) => e.run_id));
  const keptRows = legacy.rows.filter((r) => keptRuns.has(r.run_id));
  skipped.sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0));
  return {
    legacyRuns: legacy.rows.length,
    backfillableRuns,
    runsAlreadyPresent: backfillableRuns - runsWithNewEvents.size,
    eventsPlanned: kept.length,
    eventsWritten: options.dryRun ? 0 : toWrite.length,
    eventsAlreadyPresent: kept.length - toWrite.length,
    skipped,
    unreadableLogLines: existing.unreadable,
    warnings: [
      ...legacy.warnings,
      ...unreadColumnsWarnings(legacyDbPath, legacy.unreadColumns),
      ...[...existing.prior].sort().map(priorErrorWarning),
      // A run.failed an earlier backfill wrote for a run that does not fail now: the run's.
      ...keptRows.filter((r) =>
        priorFailure(r) !== undefined && existing.ids.has(legacyEventId(r.run_id, "run.failed"))
      ).map((r) => r.run_id).sort().map(priorFailureWarning),
      ...unendedSummaryWarnings(keptRows),
    ],
  };
}

/** {@linkcode unendedSummaryWarning} of each of `rows` that has one, by run id. */
export function unendedSummaryWarnings(rows: readonly LegacyRow[]): string[] {
  return [...rows].sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0))
    .map(unendedSummaryWarning).filter((w) => w !== undefined);
}

/** The lock file of `ledger legacy backfill`, in the root's `index/` folder. */
export const BACKFILL_LOCK_FILE = ".legacy-backfill.lock";

/**
 * Take the backfill lock of `root` (`index/` {@linkcode BACKFILL_LOCK_FILE}),
 * waiting while another backfill holds it; closing the file releases it (the
 * kernel does when the holder dies).
 */
async function backfillLock(root: string): Promise<Deno.FsFile> {
  const dir = join(root, "index");
  await Deno.mkdir(dir, { recursive: true });
  const file = await Deno.open(join(dir, BACKFILL_LOCK_FILE), {
    read: true,
    write: true,
    create: true,
  });
  try {
    await file.lock(true);
  } catch (err) {
    file.close();
    throw err;
  }
  return file;
}

/**
 * The mapping of a row, every event validated and size-checked up front:
 * {@linkcode legacyRowToEvents}, and a skip as well when one of the events
 * would not validate (a config over 1 MiB, a time before 1970): what
 * backfill writes, and so what parity compares (an audit: such a run was
 * `missing` in parity, which `--allow-skipped` does not accept).
 */
export function validMapping(row: LegacyRow): LegacyMapping {
  const mapped = legacyRowToEvents(row);
  if ("skip" in mapped) return mapped;
  for (const event of mapped.events) {
    try {
      encodeEventLine(completeEvent(event));
    } catch (err) {
      return { skip: `its ${event.event_type} event is not valid: ${firstLine(err)}` };
    }
  }
  return mapped;
}

/**
 * The backfilled ids already in the log, the runs the log's own writers
 * wrote an event of (not an annotation), and the planned runs whose
 * backfilled events the log holds with other content (run id to the reason,
 * naming the first field that differs). Every day is read whole: an event of
 * the run's own on any day means the log has that run (an audit: a run the
 * log's writers created on an earlier day got a second `run.created` from the
 * backfill, mixing two runs for good, where `ledger emit` refuses the same
 * write); every day's backfilled lines are compared
 * with the planned events (a probe: a legacy row whose time was fixed from
 * seconds to ms got its events written again under the same ids, the first
 * copies in 1970's day).
 */
async function existingLegacyIds(
  root: string,
  planned: BackfillEvent[],
  priorErrors: ReadonlyMap<string, string>,
): Promise<
  {
    ids: Set<string>;
    logRunIds: Set<string>;
    changed: Map<string, string>;
    prior: Set<string>;
    unreadable: number;
  }
> {
  const ids = new Set<string>();
  const logRunIds = new Set<string>();
  const changed = new Map<string, string>();
  const prior = new Set<string>();
  let unreadable = 0;
  if (planned.length === 0) return { ids, logRunIds, changed, prior, unreadable };
  const plannedById = new Map(planned.map((e) => [e.event_id, e]));
  const plannedRuns = new Set(planned.map((e) => e.run_id));
  const seen = (event: Record<string, unknown>) => {
    const id = event.event_id as string;
    ids.add(id);
    const mine = plannedById.get(id);
    if (mine === undefined || changed.has(mine.run_id)) return;
    const fields = Object.keys(mine).filter((k) =>
      canonicalJson(mine[k]) !== canonicalJson(event[k])
    );
    const [field] = fields;
    if (field === undefined) return;
    // The error an earlier version wrote (priorBackfillError): the run's, with a warning.
    if (
      fields.length === 1 && field === "error" &&
      priorErrors.get(mine.run_id) === canonicalJson(event.error)
    ) {
      prior.add(mine.run_id);
      return;
    }
    changed.set(
      mine.run_id,
      `the event log holds its backfilled ${mine.event_type} (${id}) with another ${field} ` +
        `(${shortJson(event[field])} there, ${shortJson(mine[field])} now): a backfill never ` +
        "rewrites an event (its legacy row changed since, or another legacy file has this run id)",
    );
  };
  // Every day, not only those from the earliest planned event on (helper-291: a run of the log's
  // own whose events were all dated before the legacy row's creation got the legacy events beside
  // its own, for good, where only a run.created was looked for on those days).
  for await (const record of readLog(root)) {
    if (record.kind !== "event") {
      unreadable += 1;
      continue;
    }
    const id = record.event.event_id;
    if (id.startsWith(LEGACY_EVENT_ID_PREFIX)) ids.add(id);
    else if (!ANNOTATION_EVENT_TYPES.includes(record.event.event_type)) {
      // Any event of the run's own, not only its run.created (a probe: a dual-written run whose
      // run.created was lost got a legacy run.created, run.started and run.completed beside its
      // own, for good). An annotation (a tag of a legacy-only run) is no run of the log's.
      // Only the planned runs' ids: a log of millions of runs is read whole now (helper-292).
      if (plannedRuns.has(record.event.run_id)) logRunIds.add(record.event.run_id);
    }
  }
  // Every day's backfilled lines, read with exact integers as the planned events hold them (a
  // seed past 2^53 read as a double differed from itself).
  for await (const { line } of linesHolding(root, `"${LEGACY_EVENT_ID_PREFIX}`)) {
    let event: unknown;
    try {
      event = parseJsonText(line, { exactIntegers: true });
    } catch (err) {
      if (err instanceof SyntaxError) continue; // not an event: the index leaves it out too
      throw err;
    }
    if (!isJsonObject(event) || typeof event.event_id !== "string") continue;
    if (plannedById.has(event.event_id)) seen(event);
  }
  return { ids, logRunIds, changed, prior, unreadable };
}

/** Characters of a value shown in a skip's reason. */
const REASON_VALUE_CHARS_MAX = 60;

/** `value` as JSON, cut at {@linkcode REASON_VALUE_CHARS_MAX} characters. */
function shortJson(value: unknown): string {
  const text = value === undefined ? "none" : canonicalJson(value);
  return text.length > REASON_VALUE_CHARS_MAX
    ? `${text.slice(0, REASON_VALUE_CHARS_MAX)}...`
    : text;
}

async function appendAll(
  root: string,
  events: BackfillEvent[],
  options: BackfillOptions,
): Promise<void> {
  const writer = await openWriter(root, { durability: options.durability ?? "durable" });
  try {
    let batch: BackfillEvent[] = [];
    let batchBytes = 0;
    for (const event of events) {
      const bytes = encodeEventLine(completeEvent(event)).length; // validMapping encoded it too
      if (
        batch.length >= BACKFILL_BATCH_EVENTS_MAX || batchBytes + bytes > BACKFILL_BATCH_BYTES_MAX
      ) {
        // Validated again by the writer; the cast only widens our plain objects to its input type.
        await writer.appendBatch(batch as unknown as EventInput[]);
        batch = [];
        batchBytes = 0;
      }
      batch.push(event);
      batchBytes += bytes;
    }
    if (batch.length > 0) await writer.appendBatch(batch as unknown as EventInput[]);
  } finally {
    await writer.close(); // every batch is durable from here
  }
}
