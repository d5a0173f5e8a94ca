/**
 * The SQL of dual mode, in one place: the statements that read the legacy
 * DuckDB file (schema `optimizer`) and the event-log index. Every value is
 * bound as a parameter; the only text spliced into a statement is a column
 * expression chosen from the fixed templates below for a column name taken
 * from a fixed list, never from data.
 *
 * @module
 */
import { assert } from "../ledger/assert.ts";

/** The schema of the legacy tables. */
export const LEGACY_SCHEMA = "optimizer";

/** Columns of `optimizer.runs_d`, in the order dual mode reads them. */
export const LEGACY_RUNS_COLUMNS = [
  "run_id",
  "run_type",
  "created_at_ms",
  "config",
  "data_fingerprint",
] as const;

/** Columns of `optimizer.runs_status`; the last three are optional in old files. */
export const LEGACY_STATUS_COLUMNS = [
  "run_id",
  "started_at_ms",
  "completed_at_ms",
  "summary_json",
  "failed_at_ms",
  "error_json",
  "status",
] as const;

/**
 * Which columns of the two legacy tables exist, with their DuckDB types. Names
 * are matched as DuckDB matches them, whatever their case (a probe: a table
 * created as `optimizer.Runs_Status` was "missing", its completed runs
 * backfilled as pending, parity held and archive moved the file), and the
 * table's name is given in lower case.
 */
export const SQL_LEGACY_COLUMNS = `
SELECT lower(table_name) AS table_name, column_name, data_type
FROM information_schema.columns
WHERE lower(table_schema) = lower(?) AND lower(table_name) IN ('runs_d', 'runs_status')
ORDER BY lower(table_name), ordinal_position`;

/** Which of the index tables and views dual mode reads exist. */
export const SQL_INDEX_TABLES = `
SELECT table_name
FROM information_schema.tables
WHERE table_name IN ('runs_d', 'runs_status', 'latest_runs')`;

/** The kind of value a column holds, which picks the expression that reads it. */
export type ColumnKind = "id" | "text" | "ms" | "json";

/**
 * The expression that reads column `name` of DuckDB type `dataType` as the
 * kind dual mode wants: milliseconds as BIGINT (a TIMESTAMP becomes its epoch
 * milliseconds; a VARCHAR time stays text for the reader to parse), JSON as its text, text as
 * VARCHAR. `name` must come from
 * {@linkcode LEGACY_RUNS_COLUMNS} or {@linkcode LEGACY_STATUS_COLUMNS}.
 */
export function columnExpression(name: string, dataType: string, kind: ColumnKind): string {
  assertKnownColumn(name);
  const type = dataType.toUpperCase();
  const col = `"${name}"`;
  if (kind === "ms") {
    if (type.startsWith("TIMESTAMP") || type === "DATE") return `epoch_ms(${col}) AS ${col}`;
    // Anything else is read as its text: the reader parses epoch digits (a fraction floored) and
    // ISO instants alike (no offset = UTC, whatever the machine's zone) and names what is no
    // time. A cast to BIGINT made a DOUBLE 1e19 or inf, a HUGEINT past BIGINT, a BOOLEAN, TIME
    // or INTERVAL NULL (or 1 ms) unheard, and rounded a fraction the text reader floors (a probe).
    return `CAST(${col} AS VARCHAR) AS ${col}`;
  }
  if (kind === "json") {
    if (type === "VARCHAR" || type === "JSON") return `CAST(${col} AS VARCHAR) AS ${col}`;
    return `CAST(to_json(${col}) AS VARCHAR) AS ${col}`;
  }
  return `CAST(${col} AS VARCHAR) AS ${col}`;
}

/** `NULL AS name` for an optional column the file does not have. */
export function missingColumnExpression(name: string): string {
  assertKnownColumn(name);
  return `NULL AS "${name}"`;
}

/** The SELECT over `optimizer.<table>` with the given column expressions. */
export function legacySelect(table: "runs_d" | "runs_status", expressions: string[]): string {
  return `SELECT ${expressions.join(", ")} FROM ${LEGACY_SCHEMA}.${table}`;
}

/** Index runs (newest first), with failure columns from `runs_status`. */
export const SQL_INDEX_RUNS = `
SELECT l.run_id, l.run_type, CAST(l.created_at_ms AS BIGINT) AS created_at_ms,
       CAST(l.started_at_ms AS BIGINT) AS started_at_ms,
       CAST(l.completed_at_ms AS BIGINT) AS completed_at_ms,
       CAST(s.failed_at_ms AS BIGINT) AS failed_at_ms,
       CAST(l.summary_json AS VARCHAR) AS summary_json,
       CAST(s.error_json AS VARCHAR) AS error_json,
       CAST(l.status AS VARCHAR) AS status
FROM latest_runs l
LEFT JOIN runs_status s ON s.run_id = l.run_id`;

/** Index run definitions and status, for the parity check. */
export const SQL_INDEX_PARITY = `
SELECT d.run_id, d.run_type, CAST(d.created_at_ms AS BIGINT) AS created_at_ms,
       CAST(d.config AS VARCHAR) AS config, d.data_fingerprint,
       CAST(s.started_at_ms AS BIGINT) AS started_at_ms,
       CAST(s.completed_at_ms AS BIGINT) AS completed_at_ms,
       CAST(s.failed_at_ms AS BIGINT) AS failed_at_ms,
       CAST(s.summary_json AS VARCHAR) AS summary_json,
       CAST(s.error_json AS VARCHAR) AS error_json,
       CAST(l.status AS VARCHAR) AS status,
       CAST(s.created_count AS INTEGER) AS created_count
FROM runs_d d
LEFT JOIN runs_status s ON s.run_id = d.run_id
LEFT JOIN latest_runs l ON l.run_id = d.run_id`;

const KNOWN_COLUMNS: ReadonlySet<string> = new Set([
  ...LEGACY_RUNS_COLUMNS,
  ...LEGACY_STATUS_COLUMNS,
]);

function assertKnownColumn(name: string): void {
  assert(KNOWN_COLUMNS.has(name), `column ${JSON.stringify(name)} is a dual-mode column`);
}

/**
 * The columns of the index's `latest_runs` that the query surface reads
 * (`indexer/query/fields.ts`, `indexer/query/runs.ts`), in the order of
 * {@linkcode SQL_MERGED_SCHEMA}'s `latest_runs`. JSON columns as text.
 */
export const SQL_INDEX_LIST_RUNS = `
SELECT run_id, run_type, CAST(status AS VARCHAR) AS status,
       CAST(created_at_ms AS BIGINT) AS created_at_ms,
       CAST(started_at_ms AS BIGINT) AS started_at_ms,
       CAST(completed_at_ms AS BIGINT) AS completed_at_ms,
       CAST(failed_at_ms AS BIGINT) AS failed_at_ms,
       label, archived,
       CAST(config AS VARCHAR) AS config,
       CAST(summary_json AS VARCHAR) AS summary_json,
       data_fingerprint,
       CAST(last_event_at_ms AS BIGINT) AS last_event_at_ms
FROM latest_runs`;

/** Every tag of the index (`tags.<key>` and `--columns tags` read them). */
export const SQL_INDEX_LIST_TAGS = `SELECT run_id, key, value FROM run_tags`;

/** Completed phases per run of the index (`phase_count`, as `run_phase_summary` counts them). */
export const SQL_INDEX_LIST_PHASES = `
SELECT run_id, CAST(count(*) AS BIGINT) AS phase_count FROM phase_timings
WHERE completed_at_ms IS NOT NULL GROUP BY run_id`;

/**
 * The relations of the index that the query surface reads, as tables of an
 * in-memory DuckDB that holds the merged dual-mode list: `latest_runs` (the
 * columns of {@linkcode SQL_INDEX_LIST_RUNS}), `run_tags`, and `phase_counts`
 * (completed phases per run, as {@linkcode SQL_INDEX_LIST_PHASES} counts them).
 */
export const SQL_MERGED_SCHEMA: readonly string[] = [
  `CREATE TABLE latest_runs (
    run_id VARCHAR NOT NULL PRIMARY KEY, run_type VARCHAR, status VARCHAR NOT NULL,
    created_at_ms BIGINT, started_at_ms BIGINT, completed_at_ms BIGINT, failed_at_ms BIGINT,
    label VARCHAR, archived BOOLEAN NOT NULL, config VARCHAR, summary_json VARCHAR,
    data_fingerprint VARCHAR, last_event_at_ms BIGINT)`,
  `CREATE TABLE run_tags (run_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR)`,
  `CREATE TABLE phase_counts (run_id VARCHAR NOT NULL PRIMARY KEY, phase_count BIGINT NOT NULL)`,
];
