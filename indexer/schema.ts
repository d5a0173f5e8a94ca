/**
 * All the SQL of the index, in one place: the tables and views of SPEC 7,
 * the bookkeeping tables, and the statements of the ingest pipeline that
 * both the full and the incremental rebuild run.
 *
 * How the pipeline works (one code path for full and incremental):
 *
 * 1. `scan_files` (temp) lists what to read: for every file, the path
 *    DuckDB reads (the part file itself, or a staging copy of its new
 *    bytes), its name relative to the events directory, and the line and
 *    byte numbers the read starts at.
 * 2. {@linkcode SPLIT_LINES_SQL} reads those files as text (`read_text`),
 *    splits them on `\n` and numbers the lines; {@linkcode STAGE_LINES_SQL}
 *    checks every line in SQL (JSON validity, envelope and type fields) so
 *    DuckDB does the bulk work.
 *    The part after the last `\n` is a torn tail: reported, never indexed.
 * 3. Valid lines are deduplicated by `event_id` against `events` (the
 *    occurrence with the smallest `(timestamp_ms, file, line)` wins, so the
 *    result does not depend on file order); losers go to `event_duplicates`.
 * 4. The derived tables are recomputed for the affected runs only.
 *
 * Values from the outside (paths, dates, ids) are always bound as
 * parameters; the only SQL built in code is from the constant field table
 * below.
 *
 * @module
 */

import { assert } from "../ledger/assert.ts";

/**
 * Default silence after which a running run shows as `stale`: 24 h in ms
 * (the `latest_runs` view's fallback when the index records no
 * `stale_after_ms`, and `rebuildIndex`'s default).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { STALE_AFTER_MS_DEFAULT } from "./schema.ts";
 * // A running run with no event for longer than this shows as stale: 24 hours, in ms.
 * assert.equal(STALE_AFTER_MS_DEFAULT, 24 * 60 * 60 * 1000);
 * ```
 */
export const STALE_AFTER_MS_DEFAULT = 24 * 60 * 60 * 1000;
import {
  FUTURE_TIMESTAMP_TOLERANCE_MS,
  ID_LENGTH_MAX,
  TIMESTAMP_MS_MAX,
} from "../ledger/limits.ts";
import {
  ANNOTATION_EVENT_TYPES,
  ENVELOPE_FIELDS,
  EVENT_FIELD_RULES,
  type FieldKind,
  type FieldRule,
  KIND_EXPECTED,
} from "../ledger/field_rules.ts";
import {
  depthIfSuspect,
  finiteJsonText,
  hasLoneSurrogate,
  isOverlong,
  isPresent,
  isWholeCount,
  JSON_DEPTH_MAX,
  lineText,
  numberOf,
  overlongReason,
  overlongReasonOf,
} from "./_line_checks.ts";

/** Version of the index layout; an index with another version is rebuilt in full. */
// 3: one definition of a valid line (issue 19.1); 4: annotations (tags, notes, archived);
// 5: liveness per run start (runs_status.pid_started_at_ms, process_liveness.started_at_ms);
// 6: no run of annotations alone (runs_status, hence latest_runs, leaves them out);
// 7: event_duplicates.content_md5 (a later copy that differs from the event kept is told);
// 8: runs_status.created_count (a run id given to two runs is told);
// 9: event_duplicates.differs (a copy spelled otherwise by another writer is not a conflict);
// 10: JSON columns hold `null` for a non-finite number (`NaN`, `-inf`, `1e400`), not its text;
// 11: a field an event's type does not define is not in its row (nor compared between copies).
export const INDEX_FORMAT_VERSION = 11;

/**
 * The index formats this version's readers read: its own, 10, whose tables
 * are the same (a row may hold a field its type does not define), and 9,
 * whose JSON columns may hold `NaN` as written, which every reader here
 * reads as `null`. A rebuild replaces any other format than
 * {@linkcode INDEX_FORMAT_VERSION} in full; until then every reader (`runs`,
 * `show`, the report, the UI) reads an index of format 9 or 10.
 */
export const INDEX_FORMATS_READABLE: readonly string[] = ["9", "10", String(INDEX_FORMAT_VERSION)];

export { ID_LENGTH_MAX, TIMESTAMP_MS_MAX };
export { EVENT_FIELD_RULES, type FieldKind, type FieldRule };

/** How much of a bad line `ingest_errors.raw` keeps, in characters. */
export const ERROR_RAW_CHARS_MAX = 500;

/** The schema versions the index understands (absent on read means 1). */
export const SCHEMA_VERSIONS_SUPPORTED = [1] as const;

export { ANNOTATION_EVENT_TYPES };

/** The event types the index knows, in registry order. */
export const INDEXED_EVENT_TYPES: readonly string[] = Object.keys(EVENT_FIELD_RULES);

// Every field read from a line, in one from_json call (one parse per line) into a
// struct of JSON fragments `j`; the type checks look at the fragments.
const TYPE_FIELDS = [
  ...new Set(Object.values(EVENT_FIELD_RULES).flatMap((rules) => rules.map((r) => r.field))),
];
const EXTRACTED_FIELDS = [...ENVELOPE_FIELDS, ...TYPE_FIELDS];
const EXTRACT_STRUCT = JSON.stringify(Object.fromEntries(EXTRACTED_FIELDS.map((f) => [f, "JSON"])));

/** The JSON fragment of a field of the line (NULL when absent). */
function at(field: string): string {
  assert(EXTRACTED_FIELDS.includes(field), `field ${field} is extracted`);
  return `j."${field}"`;
}

function sqlString(value: string): string {
  // Only ever called on the constant names above, never on input.
  return `'${value.replaceAll("'", "''")}'`;
}

// Fragments are re-serialized JSON, so their first character tells strings and objects apart
// without parsing them again; integers are checked with json_type (a tiny parse).
function isString(v: string): string {
  return `starts_with(${v}, '"')`;
}
/**
 * The text of a JSON string fragment (NULL for any other kind). Without a
 * backslash the fragment has no escapes, so its text is what lies between
 * the quotes: no second parse for the common case.
 */
function stringValue(v: string): string {
  return `(CASE WHEN NOT ${isString(v)} THEN NULL WHEN contains(${v}, '\\') THEN ${v} ->> '$' ` +
    `ELSE substring(${v}, 2, length(${v}) - 2) END)`;
}
function isName(v: string): string {
  return `(starts_with(${v}, '"') AND ${v} <> '""')`;
}
function isObject(v: string): string {
  return `starts_with(${v}, '{')`;
}

/** SQL condition: the extracted field satisfies its kind. */
function kindOk(field: string, kind: FieldKind): string {
  const v = at(field);
  switch (kind) {
    case "text":
      return isString(v);
    case "name":
      return isName(v);
    case "count":
      return countOk(field);
    case "object":
      return isObject(v);
    case "string_map":
      return `(${isObject(v)} AND coalesce(list_bool_and(` +
        `[json_type(x) = 'VARCHAR' FOR x IN json_extract(${v}, '$.*')]), true))`;
    case "error_object":
      return `(${isObject(v)} AND json_type(${v}, '$.message') = 'VARCHAR')`;
  }
}

/** SQL text expression naming what a field holds: its value, its kind, or "missing". */
function got(field: string): string {
  const v = at(field);
  // A JSON null reads as SQL NULL, as an absent key does: told apart for the message (an
  // audit: `"run_id": null` was said to be missing). Computed only for a bad line.
  return `CASE WHEN ${v} IS NULL THEN
      CASE WHEN json_exists(text, ${sqlString(`$."${field}"`)}) THEN 'null' ELSE 'missing' END
    ELSE ${valueText(v)} END`;
}

/** SQL text expression for a JSON value in a message: its kind if a container, else its text. */
function valueText(v: string): string {
  return `CASE WHEN json_type(${v}) IN ('OBJECT', 'ARRAY') THEN 'an ' || lower(json_type(${v})) ` +
    `ELSE left(${v}::VARCHAR, ${GOT_CHARS_MAX}) END`;
}

/** How much of a bad value an error message quotes, in characters. */
const GOT_CHARS_MAX = 60;

/**
 * For an object that fails `kind` for what it holds (a value of a string map
 * that is not a string, an error without a string message): ` || '(...)'`
 * naming the key and its value as `ledger verify` words them, else nothing.
 * A probe: `expected an object of strings, got an object` left the reader to
 * find `artifact_paths.k` in the line. Computed only for a bad line.
 */
function insideDetail(field: string, kind: FieldKind): string {
  const v = at(field);
  if (kind === "string_map") {
    const values = `json_extract(${v}, '$.*')`;
    const bad = `list_position([json_type(x) <> 'VARCHAR' FOR x IN ${values}], true)`;
    return ` || CASE WHEN ${isObject(v)} AND coalesce(${bad}, 0) > 0 THEN ' (' || ` +
      `${sqlString(field)} || '.' || json_keys(${v})[${bad}] || ' must be a string, got ' || ` +
      `${valueText(`${values}[${bad}]`)} || ')' ELSE '' END`;
  }
  if (kind === "error_object") {
    const message = `json_extract(${v}, '$.message')`;
    return ` || CASE WHEN ${v} IS NULL OR NOT ${isObject(v)} THEN '' ` +
      `WHEN ${message} IS NULL THEN ' (${field}.message is required)' ` +
      `ELSE ' (${field}.message must be a string, got ' || ${valueText(message)} || ')' END`;
  }
  return "";
}

/**
 * The `WHEN event_type = ... THEN CASE ... END` branches checking the type
 * fields: one outer branch per type (a row leaves at its type), most
 * frequent types first.
 */
function typeFieldChecks(): string {
  const branches: string[] = [];
  for (const type of TYPE_CHECK_ORDER) {
    const checks = EVENT_FIELD_RULES[type].map((rule) => {
      const present = rule.optional ? `${isPresent(at(rule.field))} AND ` : "";
      return `WHEN ${present}NOT coalesce(${kindOk(rule.field, rule.kind)}, false) ` +
        `THEN 'invalid field ${rule.field} of ${type}: expected ${
          KIND_EXPECTED[rule.kind]
        }, got ' || ` +
        `${got(rule.field)}${insideDetail(rule.field, rule.kind)}`;
    });
    if (checks.length === 0) continue; // no type fields to check
    branches.push(`WHEN event_type = ${sqlString(type)} THEN CASE ${checks.join(" ")} END`);
  }
  return branches.join("\n      ");
}

/** Types in the order the checks try them: the most frequent in real logs first. */
const TYPE_CHECK_ORDER = [
  "trial.recorded",
  "phase.completed",
  "phase.started",
  "artifact.created",
  "run.created",
  "run.started",
  "run.completed",
  "run.failed",
  "baseline.completed",
  "run.tagged",
  "run.noted",
  "run.archived",
  "run.restored",
];

const TYPE_LIST_SQL = INDEXED_EVENT_TYPES.map(sqlString).join(", ");
const ANNOTATIONS_SQL = ANNOTATION_EVENT_TYPES.map(sqlString).join(", ");
const VERSION_LIST_SQL = SCHEMA_VERSIONS_SUPPORTED.join(", ");

/**
 * SQL condition: run `t` (a `runs_status` row, or one of `latest_runs`)
 * ended by completing, the later of its endings (a tie counts as failed):
 * the one rule of its status and of the end its duration runs to.
 */
function completedWins(t: string): string {
  return `${t}.completed_at_ms IS NOT NULL
        AND (${t}.failed_at_ms IS NULL OR ${t}.completed_at_ms > ${t}.failed_at_ms)`;
}

/**
 * SQL condition: run `t` (a `runs_status` row) was started again after its
 * last ending (a run resumed under its id): it had started by then, and a
 * later `run.started` came after. Its endings then no longer decide its
 * status, its new process does. `pid_started_at_ms` is when its last
 * `run.started` was written, `started_at_ms` its first. A probe: such a run
 * stayed `completed` or `failed`, with the abandoned attempt's summary or
 * error, while it ran, and its process was never checked. A start at the
 * ending's ms is not after it; a run whose only start is after its ending
 * ended before it started (two machines' clocks: `ledger verify` says so).
 */
function startedAfterEnding(t: string): string {
  const ended = `greatest(${t}.completed_at_ms, ${t}.failed_at_ms)`;
  return `coalesce(${t}.pid_started_at_ms > ${ended} AND ${t}.started_at_ms <= ${ended}, false)`;
}

/**
 * The rows of the view \`latest_runs\` (SPEC 7), unordered: the view adds its
 * "newest first" order. Queries that sort or filter the runs themselves read
 * this instead of the view, so DuckDB neither sorts every run for an order
 * they replace nor keeps their filters above that sort (\`runs --where\` on
 * 100k runs: about 50 ms of 290).
 *
 * Status: completed/failed (the later wins; a tie counts as failed), unless
 * the run was started again after it (resumed: then as a run with no
 * ending), running when the run started or shows any activity, pending when
 * only created;
 * running becomes stale when its process on this host is gone or its last
 * event is older than stale_after_ms, and a run with no ending (pending too)
 * when its last event is more than a day in the future (a wrong clock must
 * not keep it live at the top of every list forever). A pending run has no
 * process to check and waits to be started: silence does not make it stale.
 * docs/EVENTS.md ("What the index makes of events") states these rules.
 */
export const LATEST_RUNS_SELECT_SQL =
  `  SELECT s.run_id, d.run_type, d.created_at_ms, s.started_at_ms, s.completed_at_ms,
    s.summary_json,
    CASE
      WHEN NOT ${startedAfterEnding("s")} AND ${completedWins("s")} THEN 'completed'
      WHEN NOT ${startedAfterEnding("s")} AND s.failed_at_ms IS NOT NULL THEN 'failed'
      WHEN s.last_event_at_ms > epoch_ms(now()) + ${FUTURE_TIMESTAMP_TOLERANCE_MS} THEN 'stale'
      WHEN s.activity_at_ms IS NULL THEN 'pending'
      WHEN p.alive = false THEN 'stale'
      WHEN s.last_event_at_ms < epoch_ms(now()) - (
        SELECT coalesce(max(TRY_CAST(value AS BIGINT)), ${STALE_AFTER_MS_DEFAULT})
        FROM index_meta WHERE key = 'stale_after_ms') THEN 'stale'
      ELSE 'running'
    END AS status,
    s.failed_at_ms, s.error_json, s.host, s.pid, s.last_event_at_ms, s.event_count,
    d.data_fingerprint, d.config, lbl.value AS label, coalesce(a.archived, false) AS archived
  FROM runs_status s
  LEFT JOIN runs_d d USING (run_id)
  LEFT JOIN process_liveness p ON p.host = s.host AND p.pid = s.pid
    AND p.started_at_ms IS NOT DISTINCT FROM s.pid_started_at_ms
  LEFT JOIN run_tags lbl ON lbl.run_id = s.run_id AND lbl.key = 'label'
  LEFT JOIN run_archive a ON a.run_id = s.run_id
`;

/**
 * When run `r` (a row of `latest_runs`) counts as made, for "newest first":
 * its `run.created`, else its first `run.started`, else its newest event.
 * The one key of the `latest_runs` view, `ledger runs`, `listRuns` and the
 * report, so that every list of runs has the same order.
 */
export const RUN_NEWEST_KEY_SQL = "coalesce(r.created_at_ms, r.started_at_ms, r.last_event_at_ms)";

/** The order of every list of runs: newest first ({@linkcode RUN_NEWEST_KEY_SQL}), then by id. */
export const RUNS_NEWEST_FIRST_SQL: readonly string[] = [`${RUN_NEWEST_KEY_SQL} DESC`, "r.run_id"];

/** The tables and views of the index (SPEC 7) plus bookkeeping. Idempotent. */
export const CREATE_SCHEMA_SQL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS index_meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)`,
  // One row per deduplicated valid event; the derived tables are computed from it.
  `CREATE TABLE IF NOT EXISTS events (
    event_id VARCHAR NOT NULL, event_type VARCHAR NOT NULL, run_id VARCHAR NOT NULL,
    timestamp_ms BIGINT NOT NULL, schema_version INTEGER NOT NULL,
    file VARCHAR NOT NULL, line BIGINT NOT NULL,
    run_type VARCHAR, data_fingerprint VARCHAR, host VARCHAR, pid BIGINT,
    phase_name VARCHAR, phase_order BIGINT, duration_ms BIGINT, trial_id VARCHAR,
    artifact_type VARCHAR, artifact_path VARCHAR, size_bytes BIGINT,
    alerts_total BIGINT, alerts_ok BIGINT,
    config VARCHAR, output_summary VARCHAR, params VARCHAR, metrics VARCHAR, summary VARCHAR,
    artifact_paths VARCHAR, error VARCHAR, tags VARCHAR, note VARCHAR, reason VARCHAR)`,
  // Every occurrence of an event_id that lost deduplication to the row in `events`, with the
  // md5 of what it says (contentMd5) and whether it `differs` from the copy kept
  // (INSERT_DUPLICATES_SQL): an id with a copy that differs is a conflict.
  `CREATE TABLE IF NOT EXISTS event_duplicates (
    event_id VARCHAR NOT NULL, file VARCHAR NOT NULL, line BIGINT NOT NULL,
    timestamp_ms BIGINT NOT NULL, content_md5 VARCHAR NOT NULL, differs BOOLEAN NOT NULL)`,
  // Per part file: how much of it is indexed (complete lines only).
  `CREATE TABLE IF NOT EXISTS ingest_files (
    file VARCHAR NOT NULL, size_bytes BIGINT NOT NULL, mtime_ms BIGINT NOT NULL,
    bytes_indexed BIGINT NOT NULL, lines_indexed BIGINT NOT NULL,
    last_line_md5 VARCHAR, last_line_bytes BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ingest_errors (
    file VARCHAR NOT NULL, line BIGINT NOT NULL, reason VARCHAR NOT NULL, raw VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS runs_d (
    run_id VARCHAR NOT NULL, run_type VARCHAR, created_at_ms BIGINT, config VARCHAR,
    data_fingerprint VARCHAR, event_id VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS runs_status (
    run_id VARCHAR NOT NULL, started_at_ms BIGINT, completed_at_ms BIGINT, failed_at_ms BIGINT,
    summary_json VARCHAR, error_json VARCHAR, artifact_paths_json VARCHAR, failed_phase VARCHAR,
    host VARCHAR, pid BIGINT, first_event_at_ms BIGINT, last_event_at_ms BIGINT,
    activity_at_ms BIGINT, event_count BIGINT, pid_started_at_ms BIGINT, created_count BIGINT)`,
  `CREATE TABLE IF NOT EXISTS phase_timings (
    run_id VARCHAR NOT NULL, phase_name VARCHAR NOT NULL, phase_order BIGINT,
    started_at_ms BIGINT, completed_at_ms BIGINT, duration_ms BIGINT,
    output_summary_json VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS trial_results (
    run_id VARCHAR NOT NULL, trial_id VARCHAR NOT NULL, recorded_at_ms BIGINT,
    params VARCHAR, metrics VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS artifacts_catalog (
    run_id VARCHAR NOT NULL, artifact_type VARCHAR, artifact_path VARCHAR NOT NULL,
    size_bytes BIGINT, created_at_ms BIGINT)`,
  // Annotations (SPEC 11): the latest value of each tag (an empty value removes it), every
  // note, and whether the run is archived (the later of run.archived and run.restored).
  `CREATE TABLE IF NOT EXISTS run_tags (
    run_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL,
    tagged_at_ms BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS run_notes (
    run_id VARCHAR NOT NULL, note VARCHAR NOT NULL, noted_at_ms BIGINT NOT NULL,
    event_id VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS run_archive (
    run_id VARCHAR NOT NULL, archived BOOLEAN NOT NULL, reason VARCHAR,
    changed_at_ms BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS baseline_results (
    run_id VARCHAR NOT NULL, alerts_total BIGINT, alerts_ok BIGINT, artifact_path VARCHAR,
    completed_at_ms BIGINT, event_id VARCHAR NOT NULL)`,
  // Liveness of the processes of running runs on this host, checked at index time: one row
  // per process and start of a run on it (started_at_ms: the run.started that named the pid),
  // since a pid reused by a later run is alive for that run and gone for the earlier one.
  `CREATE TABLE IF NOT EXISTS process_liveness (
    host VARCHAR NOT NULL, pid BIGINT NOT NULL, alive BOOLEAN NOT NULL,
    checked_at_ms BIGINT NOT NULL, started_at_ms BIGINT)`,
  // The status rules: LATEST_RUNS_SELECT_SQL; the order: the one of `ledger runs`.
  `CREATE OR REPLACE VIEW latest_runs AS
  SELECT * FROM (
${LATEST_RUNS_SELECT_SQL}  ) r ORDER BY ${RUNS_NEWEST_FIRST_SQL.join(", ")}`,
  // Completed phases only, as the earlier Python indexer counted them: a phase that started
  // and never completed (running, or where the run failed) is in phase_timings, not here.
  `CREATE OR REPLACE VIEW run_phase_summary AS
  SELECT run_id, count(*) AS phase_count, sum(duration_ms) AS total_duration_ms,
    list(phase_name ORDER BY phase_order NULLS LAST, started_at_ms, phase_name) AS phase_names,
    list(duration_ms ORDER BY phase_order NULLS LAST, started_at_ms, phase_name)
      AS phase_durations_ms
  FROM phase_timings WHERE completed_at_ms IS NOT NULL GROUP BY run_id`,
];

/** Tables whose content a full and an incremental rebuild must agree on. */
export const CONTENT_TABLES: readonly string[] = [
  "events",
  "event_duplicates",
  "ingest_files",
  "ingest_errors",
  "runs_d",
  "runs_status",
  "phase_timings",
  "trial_results",
  "artifacts_catalog",
  "baseline_results",
  "run_tags",
  "run_notes",
  "run_archive",
];

/** Read one meta value: `$1` key. */
export const GET_META_SQL = `SELECT value FROM index_meta WHERE key = $1`;
/** Set one meta value: `$1` key, `$2` value (run both statements). */
export const SET_META_SQL: readonly string[] = [
  `DELETE FROM index_meta WHERE key = $1`,
  `INSERT INTO index_meta VALUES ($1, $2)`,
];

/** The indexed state of every file (for change detection). */
export const SELECT_INGEST_FILES_SQL =
  `SELECT file, size_bytes, mtime_ms, bytes_indexed, lines_indexed, last_line_md5,
    last_line_bytes FROM ingest_files`;

/**
 * The list of files to read: `$1` a JSON array of objects with the columns
 * below (one bound string: binding seven lists and unnesting them was
 * quadratic in the number of files). `keep_raw` keeps the text of every line
 * in the stage (files whose lines may still be marked bad after staging, see
 * {@linkcode MARK_INVALID_UTF8_SQL}).
 */
export const CREATE_SCAN_FILES_SQL: readonly string[] = [
  `CREATE OR REPLACE TEMP TABLE scan_files (
    read_path VARCHAR, file VARCHAR, line_base BIGINT, byte_base BIGINT,
    size_bytes BIGINT, mtime_ms BIGINT, keep_raw BOOLEAN)`,
  `INSERT INTO scan_files
    SELECT unnest(from_json($1::VARCHAR, '[{"read_path": "VARCHAR", "file": "VARCHAR",
      "line_base": "BIGINT", "byte_base": "BIGINT", "size_bytes": "BIGINT",
      "mtime_ms": "BIGINT", "keep_raw": "BOOLEAN"}]'), recursive := true)`,
];

/**
 * Files whose rows are dropped before being read again (`reread` temp table,
 * one column `file`); grown to a fixpoint with {@linkcode EXPAND_REREAD_SQL}.
 */
export const CREATE_REREAD_SQL = `CREATE OR REPLACE TEMP TABLE reread (file VARCHAR)`;
/** Add files to `reread`: `$1` a JSON array of names. */
export const INSERT_REREAD_SQL = `INSERT INTO reread
  SELECT DISTINCT unnest(from_json($1::VARCHAR, '["VARCHAR"]')) EXCEPT SELECT file FROM reread`;
/**
 * Dropping a winning event whose duplicate lives in a file that is not
 * re-read would lose the event: re-read that file too. And dropping a copy
 * of an id flagged as differing (`event_duplicates.differs`, set on every
 * copy of the id) leaves the flag of its other copies stale, which only
 * their content can settle: re-read the files of every copy of that id, so
 * it is ranked and compared anew (a probe: a conflicting copy fixed or
 * removed still warned of a conflict until a full rebuild). Returns the
 * files added; run until it adds none.
 */
export const EXPAND_REREAD_SQL = `INSERT INTO reread
  SELECT DISTINCT file FROM (
    SELECT d.file FROM event_duplicates d
    JOIN events e USING (event_id)
    WHERE e.file IN (SELECT file FROM reread)
    UNION ALL
    SELECT file FROM (
      SELECT file, event_id FROM event_duplicates UNION ALL SELECT file, event_id FROM events
    ) WHERE event_id IN (SELECT event_id FROM event_duplicates
      WHERE differs AND file IN (SELECT file FROM reread))
  ) WHERE file NOT IN (SELECT file FROM reread)
  RETURNING file`;

/** Drop everything indexed from the `reread` files, remembering the runs it touched. */
export const DROP_REREAD_SQL: readonly string[] = [
  `INSERT INTO affected_runs SELECT DISTINCT run_id FROM events
    WHERE file IN (SELECT file FROM reread)`,
  `DELETE FROM events WHERE file IN (SELECT file FROM reread)`,
  `DELETE FROM event_duplicates WHERE file IN (SELECT file FROM reread)`,
  `DELETE FROM ingest_errors WHERE file IN (SELECT file FROM reread)`,
  `DELETE FROM ingest_files WHERE file IN (SELECT file FROM reread)`,
];

/** The runs whose derived rows are recomputed at the end. */
export const CREATE_AFFECTED_RUNS_SQL =
  `CREATE OR REPLACE TEMP TABLE affected_runs (run_id VARCHAR)`;

/** The columns of `events`, in table order. */
export const EVENT_COLUMNS = [
  "event_id",
  "event_type",
  "run_id",
  "timestamp_ms",
  "schema_version",
  "file",
  "line",
  "run_type",
  "data_fingerprint",
  "host",
  "pid",
  "phase_name",
  "phase_order",
  "duration_ms",
  "trial_id",
  "artifact_type",
  "artifact_path",
  "size_bytes",
  "alerts_total",
  "alerts_ok",
  "config",
  "output_summary",
  "params",
  "metrics",
  "summary",
  "artifact_paths",
  "error",
  "tags",
  "note",
  "reason",
] as const;
const EVENT_COLUMNS_SQL = EVENT_COLUMNS.join(", ");

/**
 * The md5 of what an event row says: every column of `events` but where it
 * is (`file`, `line`) and when (`timestamp_ms`), as `ledger verify` compares
 * two lines of one id (a retry is the same event at another time). `prefix`
 * qualifies the columns (`"e."`). Equal md5s are the same event; of two that
 * differ, `canonical` md5s (each JSON column in canonical form) tell whether
 * they are another writer's spelling of it or a conflict: two events under
 * one id, of which the index keeps one.
 */
function contentMd5(prefix = "", canonical = false): string {
  const fields = CONTENT_COLUMNS.map((c) => {
    const value = `${prefix}${c}`;
    return `${c} := ${canonical && OBJECT_COLUMNS.has(c) ? canonicalJsonSql(value) : value}`;
  });
  return `md5(to_json(struct_pack(${fields.join(", ")}))::VARCHAR)`;
}

/** The columns of `events` that say what an event is: all but where and when. */
const CONTENT_COLUMNS = EVENT_COLUMNS.filter((c) =>
  c !== "file" && c !== "line" && c !== "timestamp_ms"
);

/** The columns of `events` that hold a JSON fragment as the line wrote it: the object fields. */
const OBJECT_COLUMNS: ReadonlySet<string> = new Set(
  Object.values(EVENT_FIELD_RULES).flatMap((rules) =>
    rules.filter((r) => r.kind === "object" || r.kind === "string_map" || r.kind === "error_object")
      .map((r) => r.field)
  ),
);

/**
 * The JSON text in column `column` as `ledger verify` compares it (its
 * `canonicalJson`): keys in order, numbers by value (`1`, `1.0` and `1e0`
 * are one number; `-0` is `0`), strings by what their escapes say, `NaN`
 * and `Infinity` as `null` (as every reader reads them). One
 * `{path, key, value}` per node of the document, sorted, as JSON: each key
 * is quoted, so keys holding `.` or `=` cannot pass for a path (a review:
 * `{"a=1.0,$.b":2}` read as `{"a":1,"b":2}` when the nodes were joined as
 * text). Costly (a `json_tree` per value, about 20 µs): asked only of
 * copies whose text differs.
 */
function canonicalJsonSql(column: string): string {
  const value = `CASE
      WHEN type IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') THEN
        CASE WHEN isfinite(CAST(value AS DOUBLE)) THEN (CAST(value AS DOUBLE) + 0.0)::VARCHAR
        ELSE 'null' END
      WHEN type IN ('OBJECT', 'ARRAY') THEN type
      ELSE value::VARCHAR END`;
  return `(SELECT to_json(list(struct_pack(p := fullkey, k := key, v := ${value})
      ORDER BY fullkey, key, ${value}))::VARCHAR
    FROM json_tree(${column}))`;
}

/**
 * The window that ranks the copies of an `event_id` (SPEC 7: the smallest
 * `(timestamp_ms, file, line)` is kept), and the columns `candidates` adds
 * to an event's: its `rank`, its `md5` ({@linkcode contentMd5}) and that of
 * the copy kept (`kept_md5`), in one pass.
 */
const CANDIDATE_RANK_SQL = `row_number() OVER ranked AS rank,
      first_value(md5) OVER ranked AS kept_md5`;
function candidateWindowSql(mirrorParam: string): string {
  return `WINDOW ranked AS (PARTITION BY event_id
      ORDER BY timestamp_ms, ${rankedFileSql(mirrorParam)}, line, file)`;
}

/**
 * The file name a copy is ranked by (SPEC 7's `file`): its own, but when
 * the boolean parameter `mirrorParam` says the files are a bucket's mirror
 * files (`<stem>.<12 hex fingerprint>.jsonl`, `storage/_layout.ts`), its
 * part's (`<stem>.jsonl`), so that an index built from the bucket keeps the
 * copy the local rebuild keeps. A probe: of two copies at one millisecond in
 * `p.jsonl` and `p.g.jsonl`, the local index kept `p.g`'s and the bucket's
 * `p`'s (hex digits sort before `g`). The file itself breaks what is left.
 */
function rankedFileSql(mirrorParam: string): string {
  return String.raw`CASE WHEN ${mirrorParam}
      THEN regexp_replace(file, '\.[0-9a-f]{12}\.jsonl$', '.jsonl') ELSE file END`;
}

/**
 * The copies of `candidates` that lost (`rank > 1`) into `event_duplicates`,
 * each with whether its id's copies are not all one event (`differs`),
 * compared as `ledger verify` compares them: the same text is the same
 * event; other text is compared again in canonical form, so a copy another
 * writer spelled otherwise (`{"b":1,"a":2.0}` for `{"a":2,"b":1}`) is not a
 * conflict (a probe: it was warned of as one, which `verify` called a
 * retry). Each lost copy is compared with the copy kept (rank 1), and a
 * later copy that wins with the one it displaces, so a difference among an
 * id's copies is always seen; the flag then goes to every row of the id,
 * old and new, so that it does not depend on the order the copies were
 * indexed in (a review: per copy, an incremental update and a full rebuild
 * flagged different rows). The canonical form is asked only of
 * the ids whose copies' text differs, copied apart first (`respelled`): asked
 * in the same statement as the rest, DuckDB computed it for every copy (1M
 * copies of a log indexed twice: 73 s against 19 s).
 */
const INSERT_DUPLICATES_SQL: readonly string[] = [
  `INSERT INTO event_duplicates
    SELECT event_id, file, line, timestamp_ms, md5, md5 <> kept_md5 FROM candidates
    WHERE rank > 1`,
  `CREATE OR REPLACE TEMP TABLE respelled AS SELECT * FROM candidates
    WHERE event_id IN (SELECT event_id FROM candidates WHERE rank > 1 AND md5 <> kept_md5)`,
  `UPDATE event_duplicates d SET differs = false FROM (
      SELECT c.event_id, c.file, c.line FROM respelled c
      JOIN respelled k ON k.event_id = c.event_id AND k.rank = 1
      WHERE c.rank > 1 AND c.md5 <> k.md5
        AND ${contentMd5("c.", true)} = ${contentMd5("k.", true)}) s
    WHERE d.event_id = s.event_id AND d.file = s.file AND d.line = s.line`,
  `DROP TABLE respelled`,
  `UPDATE event_duplicates SET differs = true
    WHERE NOT differs AND event_id IN (
      SELECT d.event_id FROM event_duplicates d
      WHERE d.differs AND d.event_id IN (SELECT c.event_id FROM candidates c))`,
];

/**
 * Fields read as numbers and as strings. Each is parsed once per line into
 * a column of the `typed` step (`n__<field>`, `s__<field>`), which the
 * checks and the event both read: written inline, every `isCount` parsed
 * its fragment four times, in the checks and again for the value.
 */
const COUNT_FIELDS = [
  "timestamp_ms",
  "schema_version",
  ...new Set(
    Object.values(EVENT_FIELD_RULES).flatMap((rules) =>
      rules.filter((r) => r.kind === "count").map((r) => r.field)
    ),
  ),
];
const STRING_FIELDS = [
  "event_id",
  "run_id",
  "run_type",
  "data_fingerprint",
  "host",
  "phase_name",
  "trial_id",
  "artifact_type",
  "artifact_path",
  "note",
  "reason",
];

/** The `typed` step's columns: each count field's number, each string field's text. */
function typedColumns(): string {
  const numbers = COUNT_FIELDS.map((f) => `${numberOf(at(f))} AS ${num(f)}`);
  const strings = STRING_FIELDS.map((f) => `${stringValue(at(f))} AS ${text(f)}`);
  return [...numbers, ...strings].join(",\n    ");
}
function num(field: string): string {
  assert(COUNT_FIELDS.includes(field), `field ${field} is read as a number`);
  return `n__${field}`;
}
function text(field: string): string {
  assert(STRING_FIELDS.includes(field), `field ${field} is read as a string`);
  return `s__${field}`;
}
/** The field holds an integer >= 0 ({@linkcode isWholeCount} of its `typed` number). */
function countOk(field: string): string {
  return isWholeCount(num(field));
}

function str(field: string): string {
  return text(field);
}
/** An object field's text, its non-finite numbers written `null` ({@linkcode finiteJsonText}). */
function obj(field: string): string {
  return `CASE WHEN ${isObject(at(field))} THEN ${finiteJsonText(`${at(field)}::VARCHAR`)} END`;
}
function big(field: string): string {
  return `CASE WHEN ${countOk(field)} THEN CAST(${num(field)} AS BIGINT) END`;
}

/**
 * The event of a valid line of the stage, column by column (the stage's
 * `ev_<column>`; `file` and `line` are the stage's own). Computed for every
 * line (`is_event` says which rows are events), so no value may fail on a
 * bad line. Flat columns, not a struct: on the bench's 1M log the check
 * statement took 1.45-1.51 s against 1.64-1.65 s, and the insert into
 * `events`, which copies columns instead of unnesting a struct, 1.05-1.07 s
 * against 1.08-1.12 s.
 */
const STAGE_EVENT_VALUES: readonly [string, string][] = [
  ["event_id", str("event_id")],
  ["event_type", "event_type"],
  ["run_id", str("run_id")],
  ["timestamp_ms", big("timestamp_ms")],
  // TRY_CAST: the values are computed for every line, and a bad line's version may be any
  // whole number (a CAST of 9007199254740991 failed the rebuild: the verify fuzzer). A valid
  // line's version is one of SCHEMA_VERSIONS_SUPPORTED.
  ["schema_version", `coalesce(TRY_CAST(${big("schema_version")} AS INTEGER), 1)`],
  ["run_type", str("run_type")],
  ["data_fingerprint", str("data_fingerprint")],
  ["host", str("host")],
  ["pid", big("pid")],
  ["phase_name", str("phase_name")],
  ["phase_order", big("phase_order")],
  ["duration_ms", big("duration_ms")],
  ["trial_id", str("trial_id")],
  ["artifact_type", str("artifact_type")],
  ["artifact_path", str("artifact_path")],
  ["size_bytes", big("size_bytes")],
  ["alerts_total", big("alerts_total")],
  ["alerts_ok", big("alerts_ok")],
  ["config", obj("config")],
  ["output_summary", obj("output_summary")],
  ["params", obj("params")],
  ["metrics", obj("metrics")],
  ["summary", obj("summary")],
  ["artifact_paths", obj("artifact_paths")],
  ["error", obj("error")],
  ["tags", obj("tags")],
  ["note", str("note")],
  ["reason", str("reason")],
];

/**
 * The value `value` of the column `column` where the line's event type
 * defines the field, else NULL: a field a type does not define is kept in
 * the log and not in the index (docs/INDEX.md), so it neither fills that
 * type's row (a probe: `events.host` held a run.completed's extra `host`,
 * and `error` a run.created's) nor tells two copies of one id apart.
 */
function definedOnly(column: string, value: string): string {
  const types = Object.entries(EVENT_FIELD_RULES)
    .filter(([, rules]) => rules.some((r) => r.field === column)).map(([type]) => type);
  if (types.length === 0) return value; // a field of every event (event_id, run_id, ...)
  return `CASE WHEN event_type IN (${types.map(sqlString).join(", ")}) THEN ${value} END`;
}

/** A stage row's event, in the order of {@linkcode EVENT_COLUMNS_SQL}. */
const STAGE_EVENT_SQL = EVENT_COLUMNS.map((c) =>
  c === "file" || c === "line" ? c : `ev_${c} AS ${c}`
).join(", ");

const EVENT_ID_TEXT = text("event_id");
const RUN_ID_TEXT = text("run_id");

/** The reason of a file's text after its last newline (a line not yet whole). */
const TORN_TAIL_REASON = "torn tail: no newline at end of file";

/**
 * Read the `scan_files` (`$1`: the JSON list of read paths, `scan_files.read_path`,
 * each as a glob that matches only itself: `literalGlob` of `_pipeline.ts`)
 * and split them into numbered lines in the temp table `stage_lines`. Reading and splitting run on one thread; the checks
 * of {@linkcode STAGE_LINES_SQL} then scan a table, which DuckDB spreads
 * over all threads.
 */
export const SPLIT_LINES_SQL = `CREATE OR REPLACE TEMP TABLE stage_lines AS
WITH split AS (
  SELECT filename AS read_path, string_split(content, chr(10)) AS parts FROM read_text($1::JSON::VARCHAR[])
), numbered AS (
  SELECT read_path, unnest(parts) AS raw, generate_subscripts(parts, 1) AS ord, len(parts) AS n
  FROM split
)
SELECT s.file, s.line_base + ord AS line, ord = n AS is_tail, ord = n - 1 AS is_last,
  s.keep_raw, raw
FROM numbered JOIN scan_files s USING (read_path)`;

/**
 * {@linkcode SPLIT_LINES_SQL} for a batch whose globs may match a file
 * twice (`globMatchesOthers` of `duckdb_glob.ts`): one row per file name.
 */
export const SPLIT_LINES_ONCE_SQL: string = SPLIT_LINES_SQL.replace(
  "FROM read_text($1::JSON::VARCHAR[])",
  "FROM (SELECT DISTINCT ON (filename) filename, content FROM read_text($1::JSON::VARCHAR[]))",
);

/**
 * Parse and check the lines of `stage_lines` (see {@linkcode SPLIT_LINES_SQL})
 * into `stage`: one row per line, plus one per file for the text after the
 * last `\n` (`is_tail`; empty when the file ends with a newline). `reason`
 * is NULL for a valid event (`is_event`), whose columns are those of
 * `events`, as `ev_<column>` ({@linkcode STAGE_EVENT_VALUES}). `raw_bytes`
 * is the line's length; its text `raw` is kept only where something reads it
 * (bad lines, the tail, the last complete line of a file for its md5, and
 * files with `keep_raw`), so the stage does not hold a second copy of the log.
 */
export const STAGE_LINES_SQL = `CREATE OR REPLACE TEMP TABLE stage AS
WITH lines AS (
  SELECT *, ${lineText("raw", "line")} AS text, ${isOverlong("raw")} AS overlong
  FROM stage_lines
), validated AS (
  SELECT *, NOT overlong AND json_valid(text) AS valid FROM lines
), measured AS (
  SELECT *, CASE WHEN valid AND NOT is_tail THEN ${depthIfSuspect("text")} END AS depth
  FROM validated
), parsed AS (
  SELECT *,
    CASE WHEN NOT is_tail AND valid AND coalesce(depth <= ${JSON_DEPTH_MAX}, true)
      THEN from_json(text, ${sqlString(EXTRACT_STRUCT)}) END AS j
  FROM measured
), typed AS (
  SELECT *, ${stringValue(at("event_type"))} AS event_type,
    ${typedColumns()}
  FROM parsed
), checked AS (
  SELECT *,
  CASE
    WHEN is_tail THEN CASE WHEN raw = '' THEN NULL ELSE '${TORN_TAIL_REASON}' END
    WHEN overlong THEN ${overlongReason("raw")}
    WHEN NOT valid THEN CASE
      WHEN trim(text) = '' THEN 'blank line'
      WHEN contains(text, chr(0)) THEN 'not JSON: NUL bytes in line'
      WHEN starts_with(text, chr(65279))
        THEN 'byte order mark (U+FEFF) before a line that does not start the file'
      WHEN ${hasLoneSurrogate("text")}
        THEN 'lone UTF-16 surrogate escape in a string (not well-formed Unicode)'
      ELSE 'not JSON' END
    WHEN depth > ${JSON_DEPTH_MAX}
      THEN 'nested ' || depth || ' levels deep (at most ${JSON_DEPTH_MAX})'
    WHEN event_type IS NULL THEN CASE
      WHEN json_type(text) <> 'OBJECT' THEN 'not a JSON object: ' || lower(json_type(text))
      ELSE 'invalid field event_type: expected a string, got ' || ${got("event_type")} END
    WHEN event_type NOT IN (${TYPE_LIST_SQL}) THEN 'unknown event_type ' || to_json(event_type)
    WHEN NOT coalesce(${
  isName(at("event_id"))
} AND length(${EVENT_ID_TEXT}) <= ${ID_LENGTH_MAX}, false)
      THEN 'invalid field event_id: expected a non-empty string of at most ${ID_LENGTH_MAX} ' ||
        'characters, got ' || ${got("event_id")}
    WHEN NOT (${countOk("timestamp_ms")} AND ${num("timestamp_ms")} <= ${TIMESTAMP_MS_MAX})
      THEN 'invalid field timestamp_ms: expected an integer between 0 and ${TIMESTAMP_MS_MAX}, ' ||
        'got ' || ${got("timestamp_ms")}
    WHEN NOT coalesce(${isName(at("run_id"))} AND length(${RUN_ID_TEXT}) <= ${ID_LENGTH_MAX}, false)
      THEN 'invalid field run_id: expected a non-empty string of at most ${ID_LENGTH_MAX} ' ||
        'characters, got ' || ${got("run_id")}
    WHEN ${isPresent(at("schema_version"))} AND NOT (${countOk("schema_version")}
        AND ${num("schema_version")} IN (${VERSION_LIST_SQL}))
      THEN 'unsupported schema_version ' || left(${at("schema_version")}::VARCHAR, ${GOT_CHARS_MAX})
      ${typeFieldChecks()}
    ELSE NULL
  END AS reason
  FROM typed
)
SELECT file, line, is_tail,
  CASE WHEN keep_raw OR is_tail OR is_last OR reason IS NOT NULL THEN raw END AS raw,
  strlen(raw) AS raw_bytes, reason, reason IS NULL AND NOT is_tail AS is_event,
  ${STAGE_EVENT_VALUES.map(([c, v]) => `${definedOnly(c, v)} AS ev_${c}`).join(",\n  ")}
FROM checked`;

/**
 * The fast path of a full rebuild's batch (`_pipeline.ts`): the checks of
 * {@linkcode STAGE_LINES_SQL} over `stage_lines`, with the valid events
 * inserted into `events` straight away instead of through the `stage` table.
 * DuckDB reports the rows inserted; when they are all the complete lines of
 * `stage_lines` ({@linkcode STAGE_COMPLETE_LINES_SQL}), no line is bad.
 * Otherwise the lines left out ({@linkcode FIND_BAD_LINES_SQL}) are checked
 * again, alone, for their reasons. {@linkcode CLEAN_STAGE_SQL} then gives
 * the `stage` the later steps read. Same checks, same values: only the copy
 * through a second table is saved (on the bench's 1M log the check and the
 * insert took 2.22 s against 2.58 s).
 */
export const FAST_APPEND_EVENTS_SQL = `INSERT INTO events (${EVENT_COLUMNS_SQL})
  SELECT ${STAGE_EVENT_SQL} FROM (
${STAGE_LINES_SQL.replace(/^CREATE OR REPLACE TEMP TABLE stage AS\n/, "")}
  ) WHERE is_event`;

/** How many complete lines (not a file's text after its last newline) `stage_lines` holds. */
export const STAGE_COMPLETE_LINES_SQL =
  "SELECT count(*) FILTER (WHERE NOT is_tail) AS n FROM stage_lines";

/**
 * The complete lines of `stage_lines` that {@linkcode FAST_APPEND_EVENTS_SQL}
 * did not insert, into `stage_bad_lines` (a line's `(file, line)` is its
 * own in a full rebuild: two ranges of one file never share a batch).
 */
export const FIND_BAD_LINES_SQL = `CREATE OR REPLACE TEMP TABLE stage_bad_lines AS
  SELECT l.* FROM stage_lines l ANTI JOIN (
    SELECT file, line FROM events WHERE file IN (SELECT file FROM scan_files)
  ) e USING (file, line)
  WHERE NOT l.is_tail`;

/** An empty `stage_bad`: no line of the batch is bad. */
export const NO_BAD_LINES_SQL =
  "CREATE OR REPLACE TEMP TABLE stage_bad (file VARCHAR, line BIGINT, reason VARCHAR)";

/**
 * The `stage` of a batch whose events {@linkcode FAST_APPEND_EVENTS_SQL}
 * inserted, from `stage_lines` and the reasons of its bad lines
 * (`stage_bad`): the columns the steps after the check read, as
 * {@linkcode STAGE_LINES_SQL} gives them.
 */
export const CLEAN_STAGE_SQL = `CREATE OR REPLACE TEMP TABLE stage AS
SELECT l.file, l.line, l.is_tail,
  CASE WHEN l.keep_raw OR l.is_tail OR l.is_last OR b.reason IS NOT NULL THEN l.raw END AS raw,
  strlen(l.raw) AS raw_bytes,
  CASE WHEN NOT l.is_tail THEN b.reason WHEN l.raw <> '' THEN '${TORN_TAIL_REASON}' END
    AS reason,
  NOT l.is_tail AND b.reason IS NULL AS is_event
FROM stage_lines l LEFT JOIN stage_bad b ON b.file = l.file AND b.line = l.line`;

/**
 * Rows of lines staged as stand-ins (`_stage.ts`: a line longer than
 * `LINE_BYTES_MAX` is staged as its first bytes) take their real length and
 * the reason that length gives; `$1` is a JSON list of `{file, line,
 * raw_bytes}`. Only complete lines are listed (a torn tail keeps its reason).
 */
export const RESTORE_OVERLONG_SQL: readonly string[] = [
  `CREATE OR REPLACE TEMP TABLE overlong_lines AS
    SELECT unnest(from_json($1::VARCHAR,
      '[{"file": "VARCHAR", "line": "BIGINT", "raw_bytes": "BIGINT"}]'), recursive := true)`,
  `UPDATE stage SET raw_bytes = o.raw_bytes, reason = ${overlongReasonOf("o.raw_bytes")}
    FROM overlong_lines o WHERE stage.file = o.file AND stage.line = o.line AND NOT stage.is_tail`,
  `DROP TABLE overlong_lines`,
];

/** Bad lines of the stage go to `ingest_errors`. */
export const INSERT_STAGE_ERRORS_SQL = `INSERT INTO ingest_errors
  SELECT file, line, reason, left(raw, ${ERROR_RAW_CHARS_MAX}) FROM stage
  WHERE reason IS NOT NULL`;

/**
 * The ids of the stage's valid events seen more than once, in the stage or
 * already in `events`, into the temp table `dup_ids`: only these go through
 * {@linkcode MERGE_STAGE_EVENTS_SQL}'s ranking. Almost always none: then
 * {@linkcode INSERT_NEW_STAGE_EVENTS_SQL} does the same work without reading
 * `events` again (at 50M events the ranking's scans took 12 s).
 */
export const FIND_STAGE_DUP_IDS_SQL = `CREATE OR REPLACE TEMP TABLE dup_ids AS
    SELECT ev_event_id AS event_id FROM stage WHERE is_event
    GROUP BY ev_event_id HAVING count(*) > 1
    UNION
    SELECT ev_event_id FROM stage
    WHERE is_event AND ev_event_id IN (SELECT e.event_id FROM events e)`;

/** How many ids `dup_ids` holds. */
export const COUNT_DUP_IDS_SQL = `SELECT count(*) AS n FROM dup_ids`;

/**
 * Deduplicate the stage against itself and `events`, given its `dup_ids`
 * ({@linkcode FIND_STAGE_DUP_IDS_SQL}): the occurrence with the smallest
 * `(timestamp_ms, file, line)` of each `event_id` wins; the others go to
 * `event_duplicates`. Only the (few) ids of `dup_ids` go through the ranking;
 * the rest are inserted as they are. Records the touched runs in
 * `affected_runs`. `$1`: whether the files are a bucket's mirror files
 * (see `rankedFileSql`).
 */
export const MERGE_STAGE_EVENTS_SQL: readonly string[] = [
  `CREATE OR REPLACE TEMP TABLE candidates AS
    SELECT *, ${CANDIDATE_RANK_SQL}
    FROM (
      SELECT *, ${contentMd5()} AS md5 FROM (
        SELECT ${STAGE_EVENT_SQL} FROM stage
        WHERE is_event AND ev_event_id IN (SELECT d.event_id FROM dup_ids d)
        UNION ALL
        SELECT ${EVENT_COLUMNS_SQL} FROM events WHERE event_id IN (SELECT d.event_id FROM dup_ids d)
      )
    )
    ${candidateWindowSql("$1::BOOLEAN")}`,
  `INSERT INTO affected_runs
    SELECT DISTINCT ev_run_id FROM stage WHERE is_event
    UNION SELECT run_id FROM candidates`,
  `DELETE FROM events WHERE event_id IN (SELECT d.event_id FROM dup_ids d)`,
  `INSERT INTO events (${EVENT_COLUMNS_SQL})
    SELECT ${STAGE_EVENT_SQL} FROM stage
    WHERE is_event AND ev_event_id NOT IN (SELECT d.event_id FROM dup_ids d)`,
  `INSERT INTO events (${EVENT_COLUMNS_SQL})
    SELECT ${EVENT_COLUMNS_SQL} FROM candidates WHERE rank = 1`,
  ...INSERT_DUPLICATES_SQL,
];

/**
 * A full rebuild appends the valid lines of each batch as they are and
 * deduplicates once at the end ({@linkcode DEDUP_EVENTS_SQL}): probing every
 * batch against all the events indexed so far would grow with the log.
 */
export const APPEND_STAGE_EVENTS_SQL = `INSERT INTO events (${EVENT_COLUMNS_SQL})
  SELECT ${STAGE_EVENT_SQL} FROM stage WHERE is_event`;

/**
 * {@linkcode MERGE_STAGE_EVENTS_SQL} when `dup_ids` is empty: every valid
 * event of the stage is new, so it is inserted as it is.
 */
export const INSERT_NEW_STAGE_EVENTS_SQL: readonly string[] = [
  `INSERT INTO affected_runs SELECT DISTINCT ev_run_id FROM stage WHERE is_event`,
  APPEND_STAGE_EVENTS_SQL,
];

/**
 * The ids seen more than once in all of `events`, into `dup_ids`, after a
 * full rebuild's batches ({@linkcode DEDUP_EVENTS_SQL} then ranks them).
 */
export const FIND_DUP_IDS_SQL = `CREATE OR REPLACE TEMP TABLE dup_ids AS
    SELECT event_id, count(*) AS n FROM events GROUP BY event_id HAVING count(*) > 1`;

/** The rows of `events` that hold an id of `dup_ids` ({@linkcode FIND_DUP_IDS_SQL}). */
export const COUNT_DUP_ROWS_SQL = `SELECT coalesce(sum(n), 0)::BIGINT AS rows FROM dup_ids`;

/** The ids of `dup_ids` of part `$2` of `$1` (by a hash of the id). */
const DUP_IDS_PART = `(SELECT d.event_id FROM dup_ids d
      WHERE hash(d.event_id) % $1::UBIGINT = $2::UBIGINT)`;

/**
 * Deduplicate all of `events` after a full rebuild's batches, given its
 * `dup_ids` ({@linkcode FIND_DUP_IDS_SQL}; nothing to do when it is empty),
 * with the rule of {@linkcode MERGE_STAGE_EVENTS_SQL}: the smallest
 * `(timestamp_ms, file, line)` of each `event_id` stays, the others go to
 * `event_duplicates`. Part `$2` of `$1` of the ids (by a hash of the id):
 * run once for each part, every id is ranked once. `$3`: whether the files
 * are a bucket's mirror files (see `rankedFileSql`).
 */
export const DEDUP_EVENTS_SQL: readonly string[] = [
  `CREATE OR REPLACE TEMP TABLE candidates AS
    SELECT *, ${CANDIDATE_RANK_SQL}
    FROM (
      SELECT ${EVENT_COLUMNS_SQL}, ${contentMd5()} AS md5 FROM events
      WHERE event_id IN ${DUP_IDS_PART}
    )
    ${candidateWindowSql("$3::BOOLEAN")}`,
  `DELETE FROM events WHERE event_id IN ${DUP_IDS_PART}`,
  `INSERT INTO events (${EVENT_COLUMNS_SQL})
    SELECT ${EVENT_COLUMNS_SQL} FROM candidates WHERE rank = 1`,
  ...INSERT_DUPLICATES_SQL,
  `DROP TABLE IF EXISTS candidates`,
];

/**
 * Update `ingest_files` from the stage: the new offset counts complete lines
 * only, so a torn tail is read again (and indexed once complete) next time.
 */
export const MERGE_INGEST_FILES_SQL: readonly string[] = [
  `CREATE OR REPLACE TEMP TABLE stage_files AS
    SELECT s.file, s.size_bytes, s.mtime_ms,
      s.byte_base + coalesce(sum(g.raw_bytes + 1) FILTER (WHERE NOT g.is_tail), 0)
        AS bytes_indexed,
      s.line_base + count(g.line) FILTER (WHERE NOT g.is_tail) AS lines_indexed,
      md5(arg_max(g.raw, g.line) FILTER (WHERE NOT g.is_tail)) AS last_line_md5,
      arg_max(g.raw_bytes, g.line) FILTER (WHERE NOT g.is_tail) + 1 AS last_line_bytes
    FROM scan_files s LEFT JOIN stage g USING (file)
    GROUP BY s.file, s.size_bytes, s.mtime_ms, s.byte_base, s.line_base`,
  `CREATE OR REPLACE TEMP TABLE merged_files AS
    SELECT n.file, n.size_bytes, n.mtime_ms, n.bytes_indexed, n.lines_indexed,
      coalesce(n.last_line_md5, o.last_line_md5) AS last_line_md5,
      CASE WHEN n.last_line_md5 IS NULL THEN coalesce(o.last_line_bytes, 0)
        ELSE n.last_line_bytes END AS last_line_bytes
    FROM stage_files n LEFT JOIN ingest_files o USING (file)`,
  `DELETE FROM ingest_files WHERE file IN (SELECT file FROM stage_files)`,
  `INSERT INTO ingest_files SELECT * FROM merged_files`,
];

/**
 * A file read again from its offset: its old torn-tail error (the only kind
 * past `lines_indexed`) is replaced by what the new read finds.
 */
export const DROP_RESUMED_TAIL_ERRORS_SQL = `DELETE FROM ingest_errors e
  USING scan_files s WHERE e.file = s.file AND e.line > s.line_base`;

const AFFECTED = `run_id IN (SELECT run_id FROM affected_runs)`;
/**
 * The events of the affected runs: `$1` and `$2` are the first and last
 * `rowid` of those events ({@linkcode AFFECTED_SPAN_SQL}), read in the same
 * transaction (a checkpoint may renumber rowids), so DuckDB skips
 * the row groups outside that span instead of testing every event's run id
 * (a run's events are written close together: a group of runs of a full
 * rebuild spans about its share of the table, an incremental's new runs
 * its end).
 */
const AFFECTED_EVENTS = `rowid BETWEEN $1 AND $2 AND ${AFFECTED}`;
const LATEST = `(timestamp_ms, event_id)`;
/** Order key for "first"/"last" picks: `(timestamp_ms, event_id)` as a struct. */
const KEY = `{'t': timestamp_ms, 'id': event_id}`;

/**
 * The last row by `(timestamp_ms, event_id)` of each `key` among the events
 * matching `where`, as `columns` (which hold `timestamp_ms`; `key` columns
 * are required fields, never NULL). A key recorded twice is rare (a trial
 * or an artifact written again), so only keys seen more than once are
 * ranked and the rest are taken as they are: for 640k trials of one key
 * each, 378 ms against 710 ms for ranking every row. The keys recorded twice
 * are found from the key columns alone, and the rows are read from `events`
 * where they are taken: holding every candidate row (its JSON text too) in a
 * materialized CTE first took twice the memory and, once that spilled, more
 * time (trial_results of 20M events in one pass: 14.3 s against 24.8 s, peak
 * 0.90 GB against 1.00 GB; of 5M: 4.1 s against 4.5 s, 0.46 GB against 0.99 GB).
 * The repeated keys are ranked by their small columns and only the picked
 * rows' JSON is read (by `rowid`), as `runs_d` does: ranking whole rows held
 * every copy at once (a probe: 60 trials of 900 KB params recorded three
 * times, 155 MB of log, ran out of memory at 256MB; 11 such runs at the
 * default limit).
 */
function lastPerKey(columns: string, where: string, key: string): string {
  return `WITH repeated AS (
      SELECT ${key} FROM events WHERE ${where} GROUP BY ${key} HAVING count(*) > 1),
    picked AS (
      SELECT pick FROM (SELECT ${key}, timestamp_ms, event_id, rowid AS pick FROM events
        WHERE ${where})
        SEMI JOIN repeated USING (${key})
      QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY timestamp_ms DESC, event_id DESC) = 1)
    SELECT ${columns} FROM (SELECT ${columns} FROM events WHERE ${where})
      ANTI JOIN repeated USING (${key})
    UNION ALL
    SELECT ${columns} FROM events WHERE ${where} AND rowid IN (SELECT pick FROM picked)`;
}

/**
 * Recompute the derived tables for `affected_runs`. Picks: the first
 * `run.created`, the first `run.started` time with host and pid of the last
 * one, the last `run.completed` and `run.failed`; per phase the first start
 * and the last completion; the last `trial.recorded` per trial id and the last
 * `artifact.created` per path. "First" and "last" are by `(timestamp_ms,
 * event_id)`, so they do not depend on file order.
 */
export const DERIVE_SQL: readonly string[] = [
  `DELETE FROM runs_d WHERE ${AFFECTED}`,
  // The window ranks the rows by their small columns and only the picked rows' config is
  // read: ranking whole rows held every config at once (a probe: 2,000 runs of 100 KB configs
  // and summaries, 400 MB of log, ran out of memory at the default limit; 300 at 128MB).
  `INSERT INTO runs_d
    WITH picked AS (
      SELECT rowid AS pick FROM events
      WHERE event_type = 'run.created' AND ${AFFECTED_EVENTS}
      QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY ${LATEST}) = 1)
    SELECT run_id, run_type, timestamp_ms, config, data_fingerprint, event_id
    FROM events
    WHERE event_type = 'run.created' AND ${AFFECTED_EVENTS} AND rowid IN (SELECT pick FROM picked)`,
  `DELETE FROM runs_status WHERE ${AFFECTED}`,
  // The totals scan every event; the value picks only the few run.* events (filtering
  // before aggregating instead of per aggregate: same rows, far less work at 1M events).
  `INSERT INTO runs_status
    WITH totals AS (
      SELECT run_id,
        min(timestamp_ms) FILTER (WHERE event_type = 'run.started') AS started_at_ms,
        max(timestamp_ms) FILTER (WHERE event_type = 'run.completed') AS completed_at_ms,
        max(timestamp_ms) FILTER (WHERE event_type = 'run.failed') AS failed_at_ms,
        min(timestamp_ms) AS first_event_at_ms,
        max(timestamp_ms) FILTER (WHERE event_type NOT IN (${ANNOTATIONS_SQL})) AS last_event_at_ms,
        max(timestamp_ms) FILTER (WHERE event_type <> 'run.created'
          AND event_type NOT IN (${ANNOTATIONS_SQL})) AS activity_at_ms,
        count(*) AS event_count,
        -- More than one: two runs under one id, merged here (COUNT_REUSED_RUN_IDS_SQL).
        count(*) FILTER (WHERE event_type = 'run.created') AS created_count
      FROM events WHERE ${AFFECTED_EVENTS} GROUP BY run_id
    ), picks AS (
      SELECT run_id,
        -- The picked rows by rowid (their JSON read below): an aggregate state per run
        -- holding the JSON itself held every summary at once (the probe of runs_d above).
        arg_max_null(rowid, ${KEY}) FILTER (WHERE event_type = 'run.completed') AS completed_row,
        arg_max_null(rowid, ${KEY}) FILTER (WHERE event_type = 'run.failed') AS failed_row,
        arg_max_null(phase_name, ${KEY}) FILTER (WHERE event_type = 'run.failed') AS failed_phase,
        arg_max_null(host, ${KEY}) FILTER (WHERE event_type = 'run.started') AS host,
        arg_max_null(pid, ${KEY}) FILTER (WHERE event_type = 'run.started') AS pid,
        -- When the run.started that named host and pid was written (a resumed run's last):
        -- the pid-reuse check compares the process's start with it.
        arg_max_null(timestamp_ms, ${KEY}) FILTER (WHERE event_type = 'run.started')
          AS pid_started_at_ms
      FROM events
      WHERE event_type IN ('run.completed', 'run.failed', 'run.started') AND ${AFFECTED_EVENTS}
      GROUP BY run_id
    )
    SELECT t.run_id, t.started_at_ms, t.completed_at_ms, t.failed_at_ms, c.summary,
      f.error, c.artifact_paths, p.failed_phase, p.host, p.pid, t.first_event_at_ms,
      t.last_event_at_ms, t.activity_at_ms, t.event_count, p.pid_started_at_ms, t.created_count
    FROM totals t LEFT JOIN picks p USING (run_id)
      LEFT JOIN (SELECT rowid AS r, summary, artifact_paths FROM events
        WHERE event_type = 'run.completed' AND ${AFFECTED_EVENTS}) c ON c.r = p.completed_row
      LEFT JOIN (SELECT rowid AS r, error FROM events
        WHERE event_type = 'run.failed' AND ${AFFECTED_EVENTS}) f ON f.r = p.failed_row
    -- Annotations alone make no run (an audit: a mistyped id in an emitted run.tagged became a
    -- typeless pending run that tag then accepted): a run has some event of its own life.
    WHERE t.last_event_at_ms IS NOT NULL`,
  `DELETE FROM phase_timings WHERE ${AFFECTED}`,
  `INSERT INTO phase_timings
    SELECT run_id, phase_name,
      arg_min_null(phase_order, ${KEY}) FILTER (WHERE event_type = 'phase.started'),
      min(timestamp_ms) FILTER (WHERE event_type = 'phase.started'),
      max(timestamp_ms) FILTER (WHERE event_type = 'phase.completed'),
      arg_max_null(duration_ms, ${KEY}) FILTER (WHERE event_type = 'phase.completed'),
      arg_max_null(output_summary, ${KEY}) FILTER (WHERE event_type = 'phase.completed')
    FROM events
    WHERE event_type IN ('phase.started', 'phase.completed') AND ${AFFECTED_EVENTS}
    GROUP BY run_id, phase_name`,
  `DELETE FROM trial_results WHERE ${AFFECTED}`,
  // event_id is unique in events, so the last row by (timestamp_ms, event_id) is unique.
  `INSERT INTO trial_results ${
    lastPerKey(
      "run_id, trial_id, timestamp_ms, params, metrics",
      `event_type = 'trial.recorded' AND ${AFFECTED_EVENTS}`,
      "run_id, trial_id",
    )
  }`,
  `DELETE FROM artifacts_catalog WHERE ${AFFECTED}`,
  `INSERT INTO artifacts_catalog ${
    lastPerKey(
      "run_id, artifact_type, artifact_path, size_bytes, timestamp_ms",
      `event_type = 'artifact.created' AND ${AFFECTED_EVENTS}`,
      "run_id, artifact_path",
    )
  }`,
  `DELETE FROM baseline_results WHERE ${AFFECTED}`,
  `INSERT INTO baseline_results
    SELECT run_id, alerts_total, alerts_ok, artifact_path, timestamp_ms, event_id FROM events
    WHERE event_type = 'baseline.completed' AND ${AFFECTED_EVENTS}`,
  `DELETE FROM run_tags WHERE ${AFFECTED}`,
  // A key written twice in one event's tags ties on time and event id: its position in the
  // object breaks the tie (the last, as JSON.parse reads it), so every build picks the same.
  `INSERT INTO run_tags
    SELECT run_id, key, value, tagged_at_ms FROM (
      SELECT run_id, kv.key AS key, kv.value AS value, timestamp_ms AS tagged_at_ms, event_id, pos
      FROM (
        SELECT run_id, timestamp_ms, event_id, unnest(entries) AS kv,
          generate_subscripts(entries, 1) AS pos
        FROM (
          SELECT run_id, timestamp_ms, event_id,
            map_entries(json_transform(tags, '"MAP(VARCHAR, VARCHAR)"')) AS entries
          FROM events WHERE event_type = 'run.tagged' AND ${AFFECTED_EVENTS}))
      QUALIFY row_number() OVER (
        PARTITION BY run_id, key ORDER BY tagged_at_ms DESC, event_id DESC, pos DESC) = 1)
    WHERE value <> ''`,
  `DELETE FROM run_notes WHERE ${AFFECTED}`,
  `INSERT INTO run_notes
    SELECT run_id, note, timestamp_ms, event_id FROM events
    WHERE event_type = 'run.noted' AND ${AFFECTED_EVENTS}`,
  `DELETE FROM run_archive WHERE ${AFFECTED}`,
  `INSERT INTO run_archive
    SELECT run_id, arg_max_null(event_type = 'run.archived', ${KEY}),
      arg_max_null(reason, ${KEY}), max(timestamp_ms)
    FROM events WHERE event_type IN ('run.archived', 'run.restored') AND ${AFFECTED_EVENTS}
    GROUP BY run_id`,
];

/**
 * {@linkcode DERIVE_SQL} for a full rebuild, where every run of `events` is
 * in `affected_runs`: the same statements without the run filter, which
 * would only test a million rows against a set that holds all their runs.
 */
export const DERIVE_ALL_SQL: readonly string[] = DERIVE_SQL.map((sql) =>
  sql.replaceAll(` AND ${AFFECTED_EVENTS}`, "").replaceAll(` WHERE ${AFFECTED_EVENTS}`, "")
    .replaceAll(` WHERE ${AFFECTED}`, "")
);
assert(
  DERIVE_ALL_SQL.every((sql) => !sql.includes(AFFECTED) && !/\$\d/.test(sql)),
  "DERIVE_ALL_SQL does not filter on affected_runs",
);
assert(
  DERIVE_SQL.every((sql) => sql.startsWith("DELETE") || sql.includes(AFFECTED_EVENTS)),
  "every event scan of DERIVE_SQL is limited to the affected runs' span",
);

/**
 * The span of `rowid`s holding every event of `affected_runs` (the
 * parameters of {@linkcode DERIVE_SQL}); an empty span when they have none.
 */
export const AFFECTED_SPAN_SQL =
  `SELECT coalesce(min(rowid), 0) AS lo, coalesce(max(rowid), -1) AS hi
  FROM events WHERE ${AFFECTED}`;

/**
 * What a run costs a derive beside its events, in events: its rows of
 * aggregate and window states. A probe: runs of one event each, in groups
 * of 333k events at 128MB, ran `runs_status` out of memory from about
 * 250k runs a group (200k passed); a run of one event now weighs 5, so a
 * group there holds at most 67k such runs.
 */
export const DERIVE_EVENTS_PER_RUN = 4;

/**
 * The groups of runs of a derive in several passes (`$1`: most weight per
 * group, a run weighing its events and {@linkcode DERIVE_EVENTS_PER_RUN}):
 * runs in the order of their first event in `events`, cut where the weight
 * before a run reaches a multiple of `$1`, so a group holds at most `$1`
 * plus its last run. Each group's runs lie close together in the table, so
 * its span ({@linkcode DERIVE_GROUP_SPANS_SQL}) is about its share of it.
 * Every run of `events`, or (`affected`) those of `affected_runs`.
 */
export function createDeriveGroupsSql(affected: boolean): string {
  const perRun = `SELECT run_id, min(rowid) AS lo, max(rowid) AS hi,
      count(*) + ${DERIVE_EVENTS_PER_RUN} AS w
    FROM events ${affected ? `WHERE ${AFFECTED}` : ""} GROUP BY run_id`;
  // An affected run with no event left (its file removed or rewritten, its events taken by
  // earlier duplicates) is in a group too, with an empty span, so that its rows are deleted (a
  // review: such runs stayed in latest_runs after a grouped incremental derive).
  const runs = affected
    ? `WITH per_run AS (${perRun})
    SELECT * FROM per_run
    UNION ALL
    SELECT DISTINCT run_id, 0, -1, ${DERIVE_EVENTS_PER_RUN} FROM affected_runs
    WHERE run_id NOT IN (SELECT run_id FROM per_run)`
    : perRun;
  return `CREATE OR REPLACE TEMP TABLE derive_groups AS
  SELECT run_id, lo, hi,
    CAST((sum(w) OVER (ORDER BY lo, run_id ROWS UNBOUNDED PRECEDING) - w) // $1 AS BIGINT) AS g
  FROM (${runs})`;
}

/**
 * The weight of a full derive, for the choice of one pass or groups: every
 * event, and {@linkcode DERIVE_EVENTS_PER_RUN} a run (counted roughly: a
 * few percent off only moves where one pass ends).
 */
export const DERIVE_WEIGHT_SQL = `SELECT count(*) +
  ${DERIVE_EVENTS_PER_RUN} * approx_count_distinct(run_id) AS weight FROM events`;

/** Each group of `derive_groups` with the span of `rowid`s of its runs' events, in order. */
export const DERIVE_GROUP_SPANS_SQL = `SELECT g, min(lo) AS lo, max(hi) AS hi
  FROM derive_groups GROUP BY g ORDER BY g`;

/**
 * Group `$1` of `derive_groups` becomes `affected_runs`: {@linkcode DERIVE_SQL}
 * then works on their events only, so no aggregate or window holds every
 * event of a large log at once.
 */
export const SELECT_DERIVE_GROUP_SQL: readonly string[] = [
  `DELETE FROM affected_runs`,
  `INSERT INTO affected_runs SELECT run_id FROM derive_groups WHERE g = $1`,
];

/**
 * Unfinished runs on `$1` (this host) with a pid: their process liveness is
 * checked, once per pid and start (two runs on one reused pid are two checks:
 * the process can have started after the earlier run, never after the later).
 */
export const SELECT_LIVENESS_CANDIDATES_SQL = `SELECT DISTINCT host, pid,
    pid_started_at_ms AS started_at_ms
  FROM runs_status
  WHERE host = $1 AND pid IS NOT NULL
    AND (completed_at_ms IS NULL AND failed_at_ms IS NULL OR ${startedAfterEnding("runs_status")})
  ORDER BY pid, started_at_ms`;

/**
 * The candidates of {@linkcode SELECT_LIVENESS_CANDIDATES_SQL} (`$1`: this
 * host) in the temp table `liveness_candidates`, numbered from 1 (`rn`), to
 * be read in chunks ({@linkcode LIVENESS_CANDIDATES_CHUNK_SQL}).
 */
export const CREATE_LIVENESS_CANDIDATES_SQL = `CREATE OR REPLACE TEMP TABLE liveness_candidates AS
  SELECT *, row_number() OVER (ORDER BY pid, started_at_ms) AS rn
  FROM (${SELECT_LIVENESS_CANDIDATES_SQL})`;

/** The candidates numbered `$1` to `$2` of `liveness_candidates`. */
export const LIVENESS_CANDIDATES_CHUNK_SQL = `SELECT host, pid, started_at_ms
  FROM liveness_candidates WHERE rn BETWEEN $1 AND $2 ORDER BY rn`;

/** Empty the liveness table (before {@linkcode INSERT_LIVENESS_SQL} or `KEEP_LIVENESS_SQL`). */
export const DELETE_LIVENESS_SQL = `DELETE FROM process_liveness`;

/**
 * Add liveness rows: `$1` a JSON array of `{host, pid, started_at_ms,
 * alive}` (a chunk of the candidates), `$2` check time.
 */
export const INSERT_LIVENESS_SQL =
  `INSERT INTO process_liveness (host, pid, alive, checked_at_ms, started_at_ms)
    SELECT host, pid, alive, $2::BIGINT, started_at_ms FROM (SELECT unnest(from_json($1::VARCHAR,
      '[{"host": "VARCHAR", "pid": "BIGINT", "started_at_ms": "BIGINT", "alive": "BOOLEAN"}]'),
      recursive := true))`;

/**
 * Keep liveness rows known from a previous index (`$1` a JSON array of
 * `{host, pid, alive, checked_at_ms, started_at_ms}`) when the check cannot
 * run now.
 */
export const KEEP_LIVENESS_SQL =
  `INSERT INTO process_liveness (host, pid, alive, checked_at_ms, started_at_ms)
  SELECT host, pid, alive, checked_at_ms, started_at_ms FROM (SELECT unnest(from_json($1::VARCHAR,
    '[{"host": "VARCHAR", "pid": "BIGINT", "alive": "BOOLEAN", "checked_at_ms": "BIGINT",
      "started_at_ms": "BIGINT"}]'), recursive := true))`;

/**
 * Lines longer than this go through the check of {@linkcode STAGE_LINES_SQL}
 * in slices of at most {@linkcode LONG_LINES_SLICE_BYTES}, apart from the
 * others, whatever the memory limit (a smaller limit lowers it:
 * `longLinesFor` of `_pipeline.ts`). DuckDB checks a vector of 2048 rows
 * at a time and holds several copies of each row's text while it does (the
 * line, its parsed fields, the JSON text of each object field, the event):
 * 53 lines of 900 KB in one vector ran a rebuild out of its default 732 MiB
 * (an audit: 150 such lines, a valid log of 135 MB, could not be indexed).
 * Below this length a vector holds at most 16 MiB of lines.
 */
export const LONG_LINE_BYTES = 8 * 1024;
/**
 * Most bytes of long lines checked by one statement, and less when an
 * eighth of a batch or what the memory limit leaves is less
 * (`longLinesFor` of `_pipeline.ts`; a line longer than a quarter of a
 * slice is checked alone): a slice of 16 MiB of 900 KB lines still ran out
 * of the smallest memory limit (128MB, whose batch is 16 MiB), one of 2 MB
 * holding a 1 MB line and 1 MB of dense short ones did too, and one of 4 MB
 * of 1 MB lines of zeros at 256MB (a review).
 */
export const LONG_LINES_SLICE_BYTES = 16 * 1024 * 1024;

/** The length of the longest line of `stage_lines`, in bytes (0 when none). */
export const STAGE_LONGEST_LINE_SQL =
  "SELECT coalesce(max(strlen(raw)), 0)::BIGINT AS longest FROM stage_lines";

/**
 * Copy the lines of `stage_lines` longer than `$2` bytes to
 * `stage_long_lines`, numbered in slices (`slice`) of at most `$1` bytes
 * and a quarter: a line longer than a quarter of `$1` has a slice of its
 * own (a negative number), the others share slices in order. Every check
 * of a line reads that line alone, so slicing changes no verdict.
 * {@linkcode KEEP_SHORT_LINES_SQL} then drops them from `stage_lines`.
 */
export const SPLIT_LONG_LINES_SQL = `CREATE OR REPLACE TEMP TABLE stage_long_lines AS
  SELECT * EXCLUDE (alone, shared_before),
    CASE WHEN alone THEN -row_number() OVER (ORDER BY file, line)
      ELSE shared_before // $1::BIGINT END AS slice
  FROM (
    SELECT *, strlen(raw) * 4 > $1::BIGINT AS alone,
      coalesce(sum(CASE WHEN strlen(raw) * 4 > $1::BIGINT THEN 0 ELSE strlen(raw) END)
        OVER (ORDER BY file, line ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
        AS shared_before
    FROM stage_lines WHERE strlen(raw) > $2::BIGINT
  )`;

/**
 * Keep only the lines of at most `$1` bytes in `stage_lines` (after
 * {@linkcode SPLIT_LONG_LINES_SQL}). A new table, not a `DELETE`: DuckDB
 * keeps a temp table's blocks after deleting rows, and when most of a batch
 * is long, that is most of the batch held twice while the slices are
 * checked.
 */
export const KEEP_SHORT_LINES_SQL = `CREATE OR REPLACE TEMP TABLE stage_lines AS
  SELECT * FROM stage_lines WHERE strlen(raw) <= $1::BIGINT`;

/** The slices of `stage_long_lines`, in order. */
export const LONG_LINE_SLICES_SQL = "SELECT DISTINCT slice FROM stage_long_lines ORDER BY slice";

/** Put the long lines of slice `$1` in `stage_lines` (for {@linkcode STAGE_LINES_SQL}). */
export const STAGE_LONG_SLICE_SQL = `CREATE OR REPLACE TEMP TABLE stage_lines AS
  SELECT * EXCLUDE (slice) FROM stage_long_lines WHERE slice = $1`;

/** Drop the temp tables of a pipeline run. */
export const DROP_TEMP_SQL: readonly string[] = [
  "stage_lines",
  "stage_long_lines",
  "stage_checked",
  "stage",
  "stage_bad_lines",
  "stage_bad",
  "stage_all_lines",
  "dup_ids",
  "candidates",
  "stage_files",
  "merged_files",
  "scan_files",
].map((t) => `DROP TABLE IF EXISTS ${t}`);

/** Totals for the report. */
export const COUNTS_SQL = `SELECT
  (SELECT count(*) FROM events) AS events,
  (SELECT count(*) FROM runs_status) AS runs,
  (SELECT count(*) FROM ingest_errors) AS errors,
  (SELECT count(*) FROM event_duplicates) AS duplicates,
  (SELECT count(*) FROM ingest_files) AS files`;

/**
 * Event ids with a copy in `event_duplicates` that says something else than
 * the copy kept (a conflict: see `INSERT_DUPLICATES_SQL`). Asked only when
 * `event_duplicates` has rows.
 */
export const COUNT_CONFLICTS_SQL = `SELECT count(DISTINCT event_id) AS conflicts
  FROM event_duplicates WHERE differs`;

/**
 * Run ids with more than one `run.created` (distinct event ids): two runs
 * given one id (a script with a fixed `--run-id` run twice, two machines),
 * which the index merges into one (one's config, the other's summary). `$1`:
 * how many to name, in id order; `n` is how many there are.
 */
export const REUSED_RUN_IDS_SQL = `SELECT run_id, count(*) OVER () AS n FROM runs_status
  WHERE created_count > 1 ORDER BY run_id LIMIT $1`;

/** What the last stage held: `lines` read, `events` valid, `errors` bad. */
export const STAGE_COUNTS_SQL = `SELECT
  count(*) FILTER (WHERE NOT is_tail OR raw <> '') AS lines,
  count(*) FILTER (WHERE is_event) AS events,
  count(*) FILTER (WHERE reason IS NOT NULL) AS errors
  FROM stage`;

/**
 * Lines found not to be UTF-8 (`$1` a JSON array of `{file, line}`): their
 * reason says so.
 */
export const MARK_INVALID_UTF8_SQL = `UPDATE stage SET reason = 'not UTF-8', is_event = false
  FROM (SELECT unnest(from_json($1::VARCHAR, '[{"file": "VARCHAR", "line": "BIGINT"}]'),
    recursive := true)) bad
  WHERE stage.file = bad.file AND stage.line = bad.line AND NOT stage.is_tail`;

// ---- read queries (indexer/queries.ts) ----

/**
 * The statuses `latest_runs.status` can take.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LATEST_RUNS_SELECT_SQL, RUN_STATUSES } from "./schema.ts";
 * // The SQL that derives `latest_runs.status` gives these values and no other.
 * const literals = LATEST_RUNS_SELECT_SQL.matchAll(/(?:THEN|ELSE) '(\w+)'/g);
 * const derived = new Set([...literals].map((m) => m[1]));
 * assert.deepEqual([...derived].sort(), [...RUN_STATUSES].sort());
 * ```
 */
export const RUN_STATUSES = ["completed", "failed", "running", "pending", "stale"] as const;

/**
 * When run `r` (a row of `latest_runs`) ended: at the ending its status
 * comes from (a completion later than any failure, else the failure), NULL
 * while it has none or was started again after it (its status then is not
 * an ending's). A run that completed and failed later ran until it
 * failed.
 */
export const RUN_ENDED_AT_SQL = `CASE WHEN r.status NOT IN ('completed', 'failed') THEN NULL
  WHEN ${completedWins("r")} THEN r.completed_at_ms ELSE r.failed_at_ms END`;
/** How long run `r` ran: from its start to {@linkcode RUN_ENDED_AT_SQL}. */
export const RUN_DURATION_SQL = `(${RUN_ENDED_AT_SQL} - r.started_at_ms)`;

/**
 * The phase each failed run says it failed in (`phase_name` of its last
 * `run.failed`), by `run_id`: read from `runs_status`, which every index of
 * this format has, not from `latest_runs` (whose columns an index already
 * built keeps).
 */
export const FAILED_PHASE_SQL =
  "(SELECT run_id, failed_phase FROM runs_status WHERE failed_phase IS NOT NULL)";

/**
 * One row per run, newest first: `latest_runs` plus phase summary and
 * duration. `$1` status or NULL for all, `$2` limit or NULL for no limit.
 */
export const LIST_RUNS_SQL = `SELECT r.run_id, r.run_type, r.status, r.created_at_ms,
    r.started_at_ms, r.completed_at_ms, r.failed_at_ms,
    ${RUN_DURATION_SQL} AS duration_ms,
    coalesce(p.phase_count, 0) AS phase_count, coalesce(p.phase_names, []) AS phase_names,
    p.total_duration_ms AS phase_duration_ms, r.last_event_at_ms, r.event_count,
    r.summary_json, r.error_json, f.failed_phase, r.host, r.pid, r.data_fingerprint, r.config
  FROM latest_runs r LEFT JOIN run_phase_summary p USING (run_id)
  LEFT JOIN ${FAILED_PHASE_SQL} f USING (run_id)
  WHERE $1::VARCHAR IS NULL OR r.status = $1::VARCHAR
  ORDER BY ${RUNS_NEWEST_FIRST_SQL.join(", ")}
  LIMIT coalesce($2::BIGINT, 9223372036854775807)`;

/** One run by id (`$1`), same columns as {@linkcode LIST_RUNS_SQL}. */
export const GET_RUN_SQL: string = LIST_RUNS_SQL
  .replace("WHERE $1::VARCHAR IS NULL OR r.status = $1::VARCHAR", "WHERE r.run_id = $1::VARCHAR")
  .replace("LIMIT coalesce($2::BIGINT, 9223372036854775807)", "");

/** Phases of run `$1` in order. */
export const RUN_PHASES_SQL = `SELECT phase_name, phase_order, started_at_ms, completed_at_ms,
    duration_ms, output_summary_json
  FROM phase_timings WHERE run_id = $1
  ORDER BY phase_order NULLS LAST, started_at_ms, phase_name`;

/** Trials of run `$1`. */
export const RUN_TRIALS_SQL = `SELECT trial_id, recorded_at_ms, params, metrics
  FROM trial_results WHERE run_id = $1 ORDER BY recorded_at_ms, trial_id`;

/** Artifacts of run `$1`. */
export const RUN_ARTIFACTS_SQL = `SELECT artifact_type, artifact_path, size_bytes, created_at_ms
  FROM artifacts_catalog WHERE run_id = $1 ORDER BY created_at_ms, artifact_path`;

/** Baselines of run `$1`. */
export const RUN_BASELINES_SQL = `SELECT alerts_total, alerts_ok, artifact_path, completed_at_ms
  FROM baseline_results WHERE run_id = $1 ORDER BY completed_at_ms, event_id`;

/** Tags of run `$1` (latest value per key). */
export const RUN_TAGS_SQL = `SELECT key, value FROM run_tags WHERE run_id = $1 ORDER BY key`;

/** Notes of run `$1`, oldest first. */
export const RUN_NOTES_SQL = `SELECT note, noted_at_ms FROM run_notes WHERE run_id = $1
  ORDER BY noted_at_ms, event_id`;

/** Whether run `$1` is archived (no row: never archived). */
export const RUN_ARCHIVED_SQL = `SELECT archived, reason FROM run_archive WHERE run_id = $1`;
