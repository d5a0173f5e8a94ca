/**
 * The read queries of the report and the UI, in one place. Every value comes
 * in as a bound parameter (`$n`); column names for sorting come from a fixed
 * list ({@linkcode OVERVIEW_SORTS}), never from the request; a sort by any
 * other field is the query surface's order, passed in as run ids.
 *
 * @module
 */

import {
  FAILED_PHASE_SQL,
  LATEST_RUNS_SELECT_SQL,
  RUN_DURATION_SQL,
  RUN_ENDED_AT_SQL,
  RUN_NEWEST_KEY_SQL,
} from "../indexer/schema.ts";

/**
 * The runs, as the view `latest_runs` has them but without its order: every
 * query here sorts or picks its own (`schema.ts`).
 */
const RUNS = `(${LATEST_RUNS_SELECT_SQL}) r`;

/**
 * Filter of the overview, shared by the page query, the count and the
 * per-day counts. `$1` run ids (list, or NULL for all runs, archived ones
 * only when `$5`), `$2` statuses (list) or NULL, `$3` run types (list) or
 * NULL, `$4` substring of the run id or NULL, `$5` whether archived runs are
 * listed too; `{where}` is replaced by a `runWhereSql` condition (`true`
 * without one) and, in each statement, `{join}` by the join it needs.
 */
const OVERVIEW_FILTER =
  `($1::JSON::VARCHAR[] IS NULL AND ($5::BOOLEAN OR NOT coalesce(r.archived, false))
      OR list_contains($1::JSON::VARCHAR[], r.run_id))
    AND ($2::JSON::VARCHAR[] IS NULL OR list_contains($2::JSON::VARCHAR[], r.status))
    AND ($3::JSON::VARCHAR[] IS NULL OR list_contains($3::JSON::VARCHAR[], r.run_type))
    AND ($4::VARCHAR IS NULL OR contains(lower(r.run_id), lower($4::VARCHAR)))
    AND ({where})`;

/** Sort keys of the overview and their SQL (newest first is the default). */
export const OVERVIEW_SORTS: Readonly<Record<string, string>> = {
  "created": RUN_NEWEST_KEY_SQL,
  "run_id": "r.run_id",
  "run_type": "r.run_type",
  "status": "r.status",
  "duration": RUN_DURATION_SQL,
};

/**
 * The run ids of one page of the overview. `$1..$5` the filter, `$6` limit,
 * `$7` offset, then the parameters of `{where}` and of `{order}`: the terms of
 * the order, an {@linkcode OVERVIEW_SORTS} expression with its direction or
 * a `runOrderSql` fragment (a field, as `ledger runs --sort` orders it).
 * Only the id and the sort key go through the sort; the page's columns come
 * from {@linkcode OVERVIEW_ROWS_SQL}.
 */
export const OVERVIEW_PAGE_SQL = `SELECT r.run_id
  FROM ${RUNS}{join}
  WHERE ${OVERVIEW_FILTER}
  ORDER BY {order}
  LIMIT $6::BIGINT OFFSET $7::BIGINT`;

/** The overview's columns of the runs `$1`. */
export const OVERVIEW_ROWS_SQL = `SELECT r.run_id, r.run_type, r.status, r.created_at_ms,
    r.started_at_ms, ${RUN_DURATION_SQL} AS duration_ms,
    r.summary_json, r.data_fingerprint, r.label, r.archived
  FROM ${RUNS} WHERE list_contains($1::JSON::VARCHAR[], r.run_id)`;

/**
 * Runs per UTC day of creation and status for the filter `$1..$5` (and
 * `{where}`'s parameters from `$6`); runs
 * without any time count under a NULL day (the total is the sum).
 */
export const RUNS_PER_DAY_SQL = `SELECT strftime(epoch_ms(coalesce(r.created_at_ms,
      r.started_at_ms, r.last_event_at_ms)), '%Y-%m-%d') AS day, r.status, count(*) AS count
  FROM ${RUNS}{join} WHERE ${OVERVIEW_FILTER}
  GROUP BY ALL ORDER BY day NULLS LAST, r.status`;

/** The distinct run types and statuses, for the filter menus. */
export const FACETS_SQL = `SELECT 'type' AS facet, run_type AS value FROM runs_d
    WHERE run_type IS NOT NULL GROUP BY run_type
  UNION ALL SELECT 'status', r.status FROM ${RUNS} GROUP BY r.status
  ORDER BY facet, value`;

/** How many runs are archived (those an overview without archived runs leaves out). */
export const ARCHIVED_RUNS_SQL =
  `SELECT count(*) AS n FROM ${RUNS} WHERE coalesce(r.archived, false)`;

/** Runs whose id is in the list `$1`. */
export const RUNS_SQL = `SELECT r.run_id, r.run_type, r.status, r.created_at_ms,
    r.started_at_ms, r.completed_at_ms, r.failed_at_ms, ${RUN_ENDED_AT_SQL} AS ended_at_ms,
    ${RUN_DURATION_SQL} AS duration_ms,
    r.summary_json, r.error_json, f.failed_phase, r.host, r.pid, r.data_fingerprint, r.config,
    r.event_count, r.last_event_at_ms, r.label, r.archived
  FROM ${RUNS} LEFT JOIN ${FAILED_PHASE_SQL} f USING (run_id)
  WHERE list_contains($1::JSON::VARCHAR[], r.run_id)`;

/** Phases of the runs `$1` in order. */
export const PHASES_SQL = `SELECT run_id, phase_name, phase_order, started_at_ms,
    completed_at_ms, duration_ms
  FROM phase_timings WHERE list_contains($1::JSON::VARCHAR[], run_id)
  ORDER BY run_id, phase_order NULLS LAST, started_at_ms, phase_name`;

/** How many trials each of the runs `$1` has (runs without any are left out). */
export const TRIAL_COUNTS_SQL = `SELECT run_id, count(*)::BIGINT AS n
  FROM trial_results WHERE list_contains($1::JSON::VARCHAR[], run_id)
  GROUP BY run_id`;

/**
 * The first `$2` trials of the run `$1` (by recording time, then id), in
 * that order: {@linkcode TRIALS_FIRST_SQL} for one run, a top-N where that
 * one sorts the whole run (30-120 ms against 230-340 ms for the first 5,000
 * of 1M trials). The trials are picked by their small columns and only those
 * are read whole, as {@linkcode TRIALS_FIRST_SQL} does: a top-N that carried
 * `params` and `metrics` took 650-2,490 ms for the first 10,000 of a run of
 * 200k trials, against 190-490 ms (a scale probe; the same rows).
 */
export const RUN_TRIALS_FIRST_SQL = `WITH picked AS (
    SELECT rowid AS rid FROM trial_results WHERE run_id = $1
    ORDER BY recorded_at_ms, trial_id LIMIT $2)
  SELECT t.run_id, t.trial_id, t.recorded_at_ms, t.params, t.metrics
  FROM trial_results t SEMI JOIN picked p ON t.rowid = p.rid
  WHERE t.run_id = $1
  ORDER BY t.recorded_at_ms, t.trial_id`;

/**
 * The first trials of the runs `$1` (by recording time, then id): of the
 * run `$1[i]`, the first `$2[i]`. The trials are picked by their small
 * columns and only those are read whole: a view read every trial to keep
 * the first 5,000 (2.2 GB for a sweep of 1M trials: a scale audit).
 */
export const TRIALS_FIRST_SQL = `WITH caps AS (
    SELECT unnest($1::JSON::VARCHAR[]) AS run_id, unnest($2::JSON::BIGINT[]) AS cap),
  picked AS (
    SELECT t.rowid AS rid FROM trial_results t JOIN caps c ON t.run_id = c.run_id
    QUALIFY row_number() OVER (PARTITION BY t.run_id ORDER BY t.recorded_at_ms, t.trial_id)
      <= c.cap)
  SELECT t.run_id, t.trial_id, t.recorded_at_ms, t.params, t.metrics
  FROM trial_results t SEMI JOIN picked p ON t.rowid = p.rid
  WHERE list_contains($1::JSON::VARCHAR[], t.run_id)
  ORDER BY t.run_id, t.recorded_at_ms, t.trial_id`;

/** Tags of the runs `$1` (the label among them), by key. */
export const TAGS_SQL = `SELECT run_id, key, value, tagged_at_ms
  FROM run_tags WHERE list_contains($1::JSON::VARCHAR[], run_id)
  ORDER BY run_id, key`;

/** Notes of the runs `$1`, oldest first. */
export const NOTES_SQL = `SELECT run_id, note, noted_at_ms
  FROM run_notes WHERE list_contains($1::JSON::VARCHAR[], run_id)
  ORDER BY run_id, noted_at_ms, event_id`;

/** Why the runs `$1` that are archived were archived (the reason of the last archive). */
export const ARCHIVE_SQL = `SELECT run_id, reason, changed_at_ms
  FROM run_archive WHERE archived AND list_contains($1::JSON::VARCHAR[], run_id)`;

/** Artifacts of the runs `$1`. */
export const ARTIFACTS_SQL = `SELECT run_id, artifact_type, artifact_path, size_bytes
  FROM artifacts_catalog WHERE list_contains($1::JSON::VARCHAR[], run_id)
  ORDER BY run_id, created_at_ms, artifact_path`;

/**
 * The order of the equity curve (docs/METRICS.md): exit time, ties in call
 * order, the order the run wrote `policy_results.parquet` in
 * (`file_row_number`).
 */
const EQUITY_ORDER = "exit_ts_ms, file_row_number";

/**
 * The columns of `policy_results.parquet` that {@linkcode TRADES_SQL} reads.
 * Read with other files by name (`union_by_name`), a file without one of them
 * reads it as nulls: without `exit_reason`, its calls never entered were
 * drawn as trades when the report had two runs, where alone the file is said
 * unreadable (an audit). Such a file is read alone, and said so, whatever
 * the report holds.
 */
export const TRADE_COLUMNS: readonly string[] = [
  "exit_ts_ms",
  "realized_return_bps",
  "max_adverse_excursion_bps",
  "exit_reason",
];

/**
 * The top-level and nested column names of each Parquet file of the list
 * `$1` (from the files' footers; no row is read).
 */
export const PARQUET_COLUMNS_SQL = `SELECT file_name AS filename, list(name) AS names
  FROM parquet_schema($1::JSON::VARCHAR[])
  GROUP BY file_name`;

/** The rows of `policy_results.parquet` that are trades: a call never entered is none. */
const TRADES_ONLY = `exit_ts_ms IS NOT NULL AND realized_return_bps IS NOT NULL
    AND exit_reason IS DISTINCT FROM 'no_entry'`;

/**
 * Per-call results of policy runs, one row per Parquet file of the list
 * `$1`: exit times, realized returns and adverse excursions as JSON arrays
 * ordered by exit time (one string per file converts far faster than one
 * value per call). Calls never entered (`no_entry`) are not trades
 * (docs/METRICS.md): an audit found each drawn as a break-even trade.
 * Trades that exit at the same time keep call order, the order the run
 * wrote them in (`file_row_number`), as the equity curve of
 * `max_drawdown_bps` has them (docs/METRICS.md): an audit found them
 * ordered by call id, a curve through other points than the summary's.
 */
export const TRADES_SQL = `SELECT filename,
    to_json(list(exit_ts_ms ORDER BY ${EQUITY_ORDER}))::VARCHAR AS exits,
    to_json(list(realized_return_bps ORDER BY ${EQUITY_ORDER}))::VARCHAR AS returns,
    to_json(list(max_adverse_excursion_bps ORDER BY ${EQUITY_ORDER}))::VARCHAR
      AS adverse
  FROM read_parquet($1::JSON::VARCHAR[], filename = true, union_by_name = true,
    file_row_number = true)
  WHERE ${TRADES_ONLY}
  GROUP BY filename`;

/**
 * The equity curve of one policy run's `policy_results.parquet` (`$1`), as
 * {@linkcode TRADES_SQL} orders and filters it: the running sum of the
 * trades' returns, one row per trade, for `ledger show`'s equity line. An
 * audit found that line drawing `no_entry` calls as break-even trades
 * ("over 4 calls" for 3 trades) and ordering ties by call id. A return that
 * is NaN or infinite (a file another tool wrote) adds nothing to the sum and
 * its row says `finite` false: the line leaves it out and says how many
 * (one NaN made every sum after it NaN: `NaN bps over 5 calls`).
 */
export const EQUITY_LINE_SQL = `SELECT sum(CASE WHEN isfinite(realized_return_bps::DOUBLE)
      THEN realized_return_bps END)
      OVER (ORDER BY ${EQUITY_ORDER} ROWS UNBOUNDED PRECEDING) AS equity,
    isfinite(realized_return_bps::DOUBLE) AS finite
  FROM read_parquet($1::VARCHAR, file_row_number = true)
  WHERE ${TRADES_ONLY}
  ORDER BY ${EQUITY_ORDER}`;

/** Per-caller results of policy runs: each row of the Parquet files `$1` as JSON. */
export const CALLERS_SQL = `SELECT t.filename, to_json(t)::VARCHAR AS row_json
  FROM read_parquet($1::JSON::VARCHAR[], filename = true, union_by_name = true) t
  ORDER BY t.filename, t.count DESC, t.caller`;
