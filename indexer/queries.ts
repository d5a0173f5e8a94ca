/**
 * Reading the index: the runs list and one run's details. Every call opens
 * the index read-only, runs its queries and closes it at once, so readers
 * never hold the file and never block (or are blocked by) a rebuild, which
 * replaces the file by rename.
 *
 * @module
 */
import { messageValue } from "../ledger/control_text.ts";
import { parseJsonText } from "../ledger/json_text.ts";
import { randomHex } from "../ledger/ids.ts";
import { type DuckDBConnection, DuckDBInstance } from "./duckdb.ts";
import { basename, dirname, join } from "node:path";
import { rows } from "./_sql.ts";
import { readRange } from "../ledger/byte_range.ts";
import { assertRegularFileOrAbsent, statOfOpen } from "../ledger/durable_fs.ts";
import { exists, fileOnPath } from "../ledger/exists.ts";
import { realPathOf } from "../ledger/real_path.ts";
import {
  GET_RUN_SQL,
  INDEX_FORMAT_VERSION,
  INDEX_FORMATS_READABLE,
  LIST_RUNS_SQL,
  RUN_ARCHIVED_SQL,
  RUN_ARTIFACTS_SQL,
  RUN_BASELINES_SQL,
  RUN_NOTES_SQL,
  RUN_PHASES_SQL,
  RUN_STATUSES,
  RUN_TAGS_SQL,
  RUN_TRIALS_SQL,
} from "./schema.ts";

export { RUN_STATUSES };

/**
 * A status of `latest_runs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RUN_STATUSES, type RunStatus } from "./queries.ts";
 * // Checking a `--status` text: only a status the index knows becomes a RunStatus.
 * function parseStatus(text: string): RunStatus | undefined {
 *   return RUN_STATUSES.find((status) => status === text);
 * }
 * const status: RunStatus | undefined = parseStatus("stale");
 * assert.equal(status, "stale");
 * assert.equal(parseStatus("done"), undefined);
 * ```
 */
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * One run as the runs list shows it. Times are ms since epoch (UTC).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listRuns, type RunRow } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "r1", run_type: "policy", config: {},
 *       data_fingerprint: "fp1" },
 *     { event_type: "run.started", run_id: "r1", host: "lab-1", pid: 4242 },
 *     { event_type: "run.completed", run_id: "r1", summary: { win_rate: 0.6 },
 *       artifact_paths: {} },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const [run]: RunRow[] = await listRuns(indexPath(root));
 *   assert.equal(run.status, "completed");
 *   assert.deepEqual(run.summary, { win_rate: 0.6 }); // the JSON column, parsed
 *   assert.deepEqual([run.host, run.pid, run.event_count], ["lab-1", 4242, 3]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RunRow {
  /** The run id. */
  run_id: string;
  /** `run_type` of its `run.created`, null when that event is missing. */
  run_type: string | null;
  /** completed, failed, running, pending or stale. */
  status: RunStatus;
  /** Time of `run.created`. */
  created_at_ms: number | null;
  /** Time of the first `run.started`. */
  started_at_ms: number | null;
  /** Time of the last `run.completed`. */
  completed_at_ms: number | null;
  /** Time of the last `run.failed`. */
  failed_at_ms: number | null;
  /** End (completed or failed) minus start, null while unfinished. */
  duration_ms: number | null;
  /** Phases completed (a `phase.completed`; one only started is not counted). */
  phase_count: number;
  /** Phase names in order. */
  phase_names: string[];
  /** Sum of the phase durations. */
  phase_duration_ms: number | null;
  /** Time of the run's latest event. */
  last_event_at_ms: number | null;
  /** Events of the run. */
  event_count: number;
  /** `summary` of `run.completed`. */
  summary: unknown;
  /** `error` of `run.failed`. */
  error: unknown;
  /** `phase_name` of the last `run.failed`: the phase the run failed in, null when none named. */
  failed_phase: string | null;
  /** Host of `run.started`. */
  host: string | null;
  /** Pid of `run.started`. */
  pid: number | null;
  /** `data_fingerprint` of `run.created`. */
  data_fingerprint: string | null;
  /** `config` of `run.created`. */
  config: unknown;
}

/**
 * One phase of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getRun, type PhaseRow } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "phase.started", run_id: "r1", phase_name: "load", phase_order: 0 },
 *     { event_type: "phase.completed", run_id: "r1", phase_name: "load", duration_ms: 120,
 *       output_summary: { rows: 500 } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const [phase]: PhaseRow[] = (await getRun(indexPath(root), "r1"))!.phases;
 *   assert.deepEqual([phase.phase_name, phase.phase_order, phase.duration_ms], ["load", 0, 120]);
 *   assert.deepEqual(phase.output_summary, { rows: 500 }); // parsed from its JSON column
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface PhaseRow {
  /** Phase name. */
  phase_name: string;
  /** Order from `phase.started`. */
  phase_order: number | null;
  /** Start time. */
  started_at_ms: number | null;
  /** Completion time. */
  completed_at_ms: number | null;
  /** Duration from `phase.completed`. */
  duration_ms: number | null;
  /** `output_summary` of `phase.completed`. */
  output_summary: unknown;
}

/**
 * One trial of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getRun, type TrialRow } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "trial.recorded", run_id: "r1", trial_id: "t1", params: { stop: 0.02 },
 *       metrics: { sharpe: 1.4 } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const [trial]: TrialRow[] = (await getRun(indexPath(root), "r1"))!.trials;
 *   assert.equal(trial.trial_id, "t1");
 *   assert.deepEqual([trial.params, trial.metrics], [{ stop: 0.02 }, { sharpe: 1.4 }]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface TrialRow {
  /** Trial id. */
  trial_id: string;
  /** Time recorded. */
  recorded_at_ms: number;
  /** Parameters. */
  params: unknown;
  /** Metrics. */
  metrics: unknown;
}

/**
 * One artifact of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type ArtifactRow, getRun } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "artifact.created", run_id: "r1", artifact_type: "path_metrics",
 *       artifact_path: "runs/r1/path_metrics.parquet", size_bytes: 2048 },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const [artifact]: ArtifactRow[] = (await getRun(indexPath(root), "r1"))!.artifacts;
 *   assert.equal(artifact.artifact_path, "runs/r1/path_metrics.parquet");
 *   assert.strictEqual(artifact.size_bytes, 2048); // a number, not a bigint
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface ArtifactRow {
  /** Artifact type. */
  artifact_type: string;
  /** Path. */
  artifact_path: string;
  /** Size in bytes. */
  size_bytes: number;
  /** Time created. */
  created_at_ms: number;
}

/**
 * One baseline result of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type BaselineRow, getRun } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "baseline.completed", run_id: "r1", alerts_total: 40, alerts_ok: 38,
 *       artifact_path: "runs/r1/baseline.json" },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const [baseline]: BaselineRow[] = (await getRun(indexPath(root), "r1"))!.baselines;
 *   assert.strictEqual(baseline.alerts_total - baseline.alerts_ok, 2); // alerts that failed
 *   assert.equal(baseline.artifact_path, "runs/r1/baseline.json");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface BaselineRow {
  /** Alerts evaluated. */
  alerts_total: number;
  /** Alerts that passed. */
  alerts_ok: number;
  /** Path of the baseline artifact. */
  artifact_path: string;
  /** Time completed. */
  completed_at_ms: number;
}

/**
 * A run with its phases, trials, artifacts and baselines.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getRun, type RunDetail } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "run.tagged", run_id: "r1", tags: { label: "first", policy: "atr" } },
 *     { event_type: "run.tagged", run_id: "r1", tags: { label: "best" } },
 *     { event_type: "run.archived", run_id: "r1", reason: "superseded" },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const detail: RunDetail | null = await getRun(indexPath(root), "r1");
 *   assert.deepEqual(detail?.tags, { label: "best", policy: "atr" }); // the latest value per key
 *   assert.equal(detail?.archived, true);
 *   assert.equal(detail?.archived_reason, "superseded");
 *   assert.deepEqual(detail?.phases, []);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RunDetail {
  /** The run. */
  run: RunRow;
  /** Its phases in order. */
  phases: PhaseRow[];
  /** Its trials. */
  trials: TrialRow[];
  /** Its artifacts. */
  artifacts: ArtifactRow[];
  /** Its baselines. */
  baselines: BaselineRow[];
  /** Its tags (latest value per key, SPEC 11). */
  tags: Record<string, string>;
  /** Its notes, oldest first. */
  notes: NoteRow[];
  /** Whether it is archived. */
  archived: boolean;
  /** Why, as `ledger archive --reason` gave it; null when not archived or given no reason. */
  archived_reason: string | null;
}

/**
 * One note of a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getRun, type NoteRow } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "run.noted", run_id: "r1", note: "stop too tight",
 *       timestamp_ms: Date.UTC(2026, 0, 20, 9) },
 *     { event_type: "run.noted", run_id: "r1", note: "retry with 2%",
 *       timestamp_ms: Date.UTC(2026, 0, 20, 10) },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const notes: NoteRow[] = (await getRun(indexPath(root), "r1"))!.notes;
 *   // Oldest first, each with the time of its run.noted event.
 *   assert.deepEqual(notes.map((n) => n.note), ["stop too tight", "retry with 2%"]);
 *   assert.strictEqual(notes[1].noted_at_ms, Date.UTC(2026, 0, 20, 10));
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface NoteRow {
  /** The note. */
  note: string;
  /** When it was added. */
  noted_at_ms: number;
}

/**
 * There is no index file yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { IndexNotFoundError, listRuns } from "./queries.ts";
 * // The message says how to build the index.
 * await assert.rejects(listRuns("/no/such/runs.duckdb"), IndexNotFoundError);
 * ```
 */
export class IndexNotFoundError extends Error {
  /** The index path looked for. */
  readonly dbPath: string;
  /** Create the error for `dbPath`; `why` when no index can be built there (a file on its path). */
  constructor(dbPath: string, why?: string) {
    super(
      why === undefined
        ? `No index at ${messageValue(dbPath)}; build it with \`ledger rebuild-index\``
        : `No index at ${messageValue(dbPath)}: ${why} (check --root / --db)`,
    );
    this.name = "IndexNotFoundError";
    this.dbPath = dbPath;
  }
}

/**
 * DuckDB settings every reader of the index opens it with: read-only, with
 * external access disabled and the configuration locked, so no query (and
 * no view stored in the index) can read or write another file.
 */
export const READER_CONFIG: Readonly<Record<string, string>> = {
  access_mode: "READ_ONLY",
  enable_external_access: "false",
  lock_configuration: "true",
};

/**
 * Open the DuckDB database file at `path` with `config`, by its real path
 * (through symbolic links). With external access disabled (every reader's
 * {@linkcode READER_CONFIG}) DuckDB opens a link but then refuses the `.wal`
 * beside the file it leads to ("Permission Error: Cannot access file
 * .../shared.duckdb.wal - file system operations are disabled by
 * configuration"): an index or legacy file reached through a link could not
 * be read (a probe). DuckDB's own errors then name the real path; callers'
 * messages keep naming `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "./duckdb.ts";
 * import { openDuckDbFile, READER_CONFIG } from "./queries.ts";
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   const made = await DuckDBInstance.create(`${dir}/shared.duckdb`);
 *   const writer = await made.connect();
 *   await writer.run("CREATE TABLE t AS SELECT 42 AS n");
 *   writer.disconnectSync();
 *   made.closeSync();
 *   await Deno.symlink(`${dir}/shared.duckdb`, `${dir}/link.duckdb`);
 *   const instance = await openDuckDbFile(`${dir}/link.duckdb`, { ...READER_CONFIG });
 *   const conn = await instance.connect();
 *   assert.deepEqual((await conn.runAndReadAll("SELECT n FROM t")).getRows(), [[42]]);
 *   conn.disconnectSync();
 *   instance.closeSync();
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function openDuckDbFile(
  path: string,
  config: Record<string, string>,
): Promise<DuckDBInstance> {
  return await DuckDBInstance.create(await realPathOf(path), config);
}

/** The time zone of every reader's session: UTC, never the machine's (SPEC: no local time). */
const READER_TIME_ZONE_SQL = "SET TimeZone = 'UTC'";

/**
 * DuckDB memory of a streaming reader per thread, in MB. DuckDB's sort
 * spills past its limit, but in 1.5 it fails (or stops a streamed result
 * early) when each thread gets too little: measured here with 2 threads,
 * `ledger runs --format jsonl` of 3M runs failed with 256MB in all and
 * completed at 512MB (908-979 MiB peak RSS, against 3053 MiB without a limit).
 */
export const READER_MEMORY_MB_PER_THREAD = 256;

/** DuckDB threads of a reader: one per core, DuckDB's own default. */
export const READER_THREADS: number = Math.max(1, navigator.hardwareConcurrency || 1);

/**
 * DuckDB memory limit of the commands that stream every matching row
 * (`runs`, `trials`, `export`, `sql`), changed with their `--memory-limit`:
 * {@linkcode READER_MEMORY_MB_PER_THREAD} per thread (512MB on 2 cores).
 * A sort or join past it spills to a directory beside the index instead of
 * growing the process: `ledger runs --format jsonl` of 1M runs peaked at
 * 1236 MiB RSS without a limit and at 881 MiB with 512MB.
 */
export const READER_MEMORY_LIMIT_DEFAULT = `${READER_MEMORY_MB_PER_THREAD * READER_THREADS}MB`;

/**
 * Age after which the rebuild removes a reader's spill directory (a reader
 * killed while it spilled leaves its directory; a live one removes its own
 * when it closes), in milliseconds.
 */
export const READER_SPILL_STALE_MS = 24 * 60 * 60 * 1000;

/**
 * Name prefix of the spill directories readers create beside `dbPath`
 * (one per reader: `.runs.duckdb.reader-PID-HEX`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readerSpillPrefixFor } from "./queries.ts";
 * assert.equal(readerSpillPrefixFor("/data/ledger/index/runs.duckdb"), ".runs.duckdb.reader-");
 * ```
 */
export function readerSpillPrefixFor(dbPath: string): string {
  return `.${basename(dbPath)}.reader-`;
}

/** Options of {@linkcode withIndex}. */
export interface WithIndexOptions {
  /**
   * DuckDB memory limit (`256MB`), checked by the caller. Past it a query
   * spills to its own directory beside the index, which DuckDB creates
   * only when it spills and removes when the reader closes.
   * @default {undefined} (DuckDB's: 80% of the machine's memory, no spill)
   */
  memoryLimit?: string;
  /**
   * Files (exact paths) that statements may write, and only those, though
   * external access stays disabled: DuckDB's `allowed_paths`, set before
   * the configuration is locked (`ledger export` writes its one output
   * file with `COPY`). @default {[]}
   */
  writablePaths?: readonly string[];
  /**
   * Read a database of any format (`ledger sql`); otherwise an index of
   * another format, or a DuckDB file that is no index, is refused before
   * `fn` runs ({@linkcode requireIndexFormat}):
   * an index an older ledger built may read without an error and answer by
   * its rules (an upgrade audit). @default {false}
   */
  anyFormat?: boolean;
  /**
   * Aborting it interrupts the query running; {@linkcode withIndex} then
   * closes the index (removing a spill directory the query made) and
   * throws the signal's reason. A reader stopped by SIGINT without it left
   * its spill directory in `index/` (a probe: 244-294 MB, removed by a
   * rebuild only a day later). @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * A query needed more than the reader's memory limit even with spilling
 * (some operators cannot spill). Carries the limit so the message can say
 * how to raise it.
 */
export class ReaderMemoryError extends Error {
  /** The memory limit the reader ran with. */
  readonly memoryLimit: string;
  /** Create the error for `memoryLimit`, keeping DuckDB's error as the cause. */
  constructor(memoryLimit: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    super(
      `The query needs more memory than the reader's limit of ${memoryLimit}; ` +
        `raise it with --memory-limit (DuckDB: ${detail})`,
      { cause },
    );
    this.name = "ReaderMemoryError";
    this.memoryLimit = memoryLimit;
  }
}

/**
 * Options for {@linkcode listRuns}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listRuns, type ListRunsOptions } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "run.started", run_id: "r2" },
 *     { event_type: "run.failed", run_id: "r2", error: { message: "no candles" } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root);
 *   const options: ListRunsOptions = { status: "running", limit: 10 };
 *   const running = await listRuns(indexPath(root), options);
 *   assert.deepEqual(running.map((r) => r.run_id), ["r1"]); // r2 failed
 *   assert.equal((await listRuns(indexPath(root), { limit: 1 })).length, 1);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface ListRunsOptions {
  /** Only runs with this status. @default {undefined} (all) */
  status?: RunStatus;
  /** At most this many runs. @default {undefined} (all) */
  limit?: number;
}

/**
 * Refuse a row limit that is not an integer >= 1, and a status (`status`,
 * or any of `statuses`) that is not one of {@linkcode RUN_STATUSES}, naming
 * the option: a limit of -1 or NaN, or a misspelt status, would otherwise
 * answer wrongly without a word.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkListOptions } from "./queries.ts";
 * checkListOptions({ limit: 50, statuses: ["running", "stale"] });
 * assert.throws(() => checkListOptions({ limit: -1 }), /limit must be an integer >= 1, got -1/);
 * assert.throws(() => checkListOptions({ statuses: ["done"] }), /status must be one of/);
 * assert.throws(() => checkListOptions({ sinceMs: NaN }), /sinceMs must be a finite number/);
 * assert.throws(() => checkListOptions({ status: "done" }), /status must be one of/);
 * ```
 */
export function checkListOptions(
  options: {
    limit?: number;
    status?: string;
    statuses?: readonly string[];
    sinceMs?: number;
    untilMs?: number;
  },
): void {
  const { limit } = options;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
    throw new RangeError(`limit must be an integer >= 1, got ${limit}`);
  }
  // A probe: `sinceMs: NaN` matched no run, in silence (a time that is no number).
  for (const name of ["sinceMs", "untilMs"] as const) {
    const ms = options[name];
    if (ms !== undefined && !(typeof ms === "number" && Number.isFinite(ms))) {
      throw new RangeError(`${name} must be a finite number of ms, got ${String(ms)}`);
    }
  }
  if (options.statuses !== undefined && !Array.isArray(options.statuses)) {
    throw new TypeError(`statuses must be a list, got ${typeof options.statuses}`);
  }
  const single = options.status === undefined ? [] : [options.status];
  for (const status of [...single, ...options.statuses ?? []]) {
    if (!(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new RangeError(
        `status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(status)}`,
      );
    }
  }
}

/**
 * The latest runs, newest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listRuns } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "r1", run_type: "policy", config: {}, data_fingerprint: "f" },
 *     { event_type: "run.failed", run_id: "r1", error: { message: "no candles" } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const failed = await listRuns(indexPath(root), { status: "failed", limit: 10 });
 *   assert.deepEqual(failed.map((r) => r.run_id), ["r1"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function listRuns(dbPath: string, options: ListRunsOptions = {}): Promise<RunRow[]> {
  checkListOptions(options);
  return await withIndex(dbPath, async (conn) => {
    const found = await rows(conn, LIST_RUNS_SQL, [options.status ?? null, options.limit ?? null]);
    return found.map(toRunRow);
  });
}

/**
 * One run with its phases, trials, artifacts and baselines, or null when
 * the index has no such run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getRun } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "r1", run_type: "policy", config: {}, data_fingerprint: "f" },
 *     { event_type: "run.failed", run_id: "r1", error: { message: "no candles" } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const detail = await getRun(indexPath(root), "r1");
 *   assert.equal(detail?.run.status, "failed");
 *   assert.equal(await getRun(indexPath(root), "nope"), null);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function getRun(dbPath: string, runId: string): Promise<RunDetail | null> {
  return await withIndex(dbPath, (conn) => readRunDetail(conn, runId));
}

/** Options for {@linkcode readRunDetail}. */
export interface ReadRunDetailOptions {
  /**
   * Read only the first this many trials (by recording time) into
   * `trials`, for a reader that shows no more: `ledger show`'s table of a
   * sweep of 1M trials read them all (1.9 GB) to print 20. Count them all
   * with {@linkcode countRunTrials}.
   * @default {undefined} (every trial)
   */
  trialsMax?: number;
}

/**
 * {@linkcode getRun} on an index already open on `conn` (`ledger show`
 * resolves a prefix and reads the run with one open).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRunTrials, readRunDetail, withIndex } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "s1", run_type: "sweep", config: {}, data_fingerprint: "f" },
 *     ...["t1", "t2", "t3"].map((trial_id) => ({
 *       event_type: "trial.recorded", run_id: "s1", trial_id, params: {}, metrics: {},
 *     })),
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const [detail, count] = await withIndex(indexPath(root), async (conn) => [
 *     await readRunDetail(conn, "s1", { trialsMax: 2 }),
 *     await countRunTrials(conn, "s1"),
 *   ] as const);
 *   assert.deepEqual(detail?.trials.map((t) => t.trial_id), ["t1", "t2"]); // the first two
 *   assert.equal(count, 3);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function readRunDetail(
  conn: DuckDBConnection,
  runId: string,
  options: ReadRunDetailOptions = {},
): Promise<RunDetail | null> {
  if (options.trialsMax !== undefined) checkListOptions({ limit: options.trialsMax });
  const [run] = await rows(conn, GET_RUN_SQL, [runId]);
  if (run === undefined) return null;
  const phases = (await rows(conn, RUN_PHASES_SQL, [runId])).map((p) => ({
    phase_name: String(p.phase_name),
    phase_order: p.phase_order as number | null,
    started_at_ms: p.started_at_ms as number | null,
    completed_at_ms: p.completed_at_ms as number | null,
    duration_ms: p.duration_ms as number | null,
    output_summary: parseJson(p.output_summary_json),
  }));
  const trials = (await rows(
    conn,
    options.trialsMax === undefined ? RUN_TRIALS_SQL : RUN_TRIALS_FIRST_SQL,
    options.trialsMax === undefined ? [runId] : [runId, options.trialsMax],
  )).map(trialRowOf);
  const artifacts = (await rows(conn, RUN_ARTIFACTS_SQL, [runId])) as unknown as ArtifactRow[];
  const baselines = (await rows(conn, RUN_BASELINES_SQL, [runId])) as unknown as BaselineRow[];
  const tags = Object.fromEntries(
    (await rows(conn, RUN_TAGS_SQL, [runId])).map((t) => [String(t.key), String(t.value)]),
  );
  const notes = (await rows(conn, RUN_NOTES_SQL, [runId])) as unknown as NoteRow[];
  const [archive] = await rows(conn, RUN_ARCHIVED_SQL, [runId]);
  return {
    run: toRunRow(run),
    phases,
    trials,
    artifacts,
    baselines,
    tags,
    notes,
    archived: archive?.archived === true,
    // Only an archived run has a reason: the one its latest run.archived gave (if any).
    archived_reason: archive?.archived === true && typeof archive.reason === "string"
      ? archive.reason
      : null,
  };
}

/**
 * A row of {@linkcode RUN_TRIALS_SQL} as a {@linkcode TrialRow}: its JSON
 * columns parsed (integers past 2^53 exact), what `readRunDetail` and the
 * streamed `show --json` both write.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { trialRowOf } from "./queries.ts";
 * const t = trialRowOf({ trial_id: "t1", recorded_at_ms: 5, params: '{"a":1}', metrics: null });
 * assert.deepEqual(t, { trial_id: "t1", recorded_at_ms: 5, params: { a: 1 }, metrics: null });
 * ```
 */
export function trialRowOf(t: Record<string, unknown>): TrialRow {
  return {
    trial_id: String(t.trial_id),
    recorded_at_ms: Number(t.recorded_at_ms),
    params: parseJson(t.params),
    metrics: parseJson(t.metrics),
  };
}

/** The first `$2` trials of run `$1`, in the order of all of them. */
const RUN_TRIALS_FIRST_SQL = `${RUN_TRIALS_SQL} LIMIT $2`;

/** How many trials run `$1` has. */
const RUN_TRIAL_COUNT_SQL = `SELECT count(*)::BIGINT AS n FROM trial_results WHERE run_id = $1`;

/**
 * How many trials run `runId` has in the index open on `conn` (0 for a run
 * it does not know): with {@linkcode ReadRunDetailOptions.trialsMax}, what
 * a reader says of the trials it did not read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRunTrials, withIndex } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "trial.recorded", run_id: "s1", trial_id: "t1", params: {}, metrics: {} },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   assert.equal(await withIndex(indexPath(root), (conn) => countRunTrials(conn, "s1")), 1);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function countRunTrials(conn: DuckDBConnection, runId: string): Promise<number> {
  const [{ n }] = await rows(conn, RUN_TRIAL_COUNT_SQL, [runId]);
  return Number(n);
}

/**
 * Check the index file before DuckDB opens it: throws
 * {@linkcode IndexNotFoundError} when there is none, and
 * `NotRegularFileError` when the path is a FIFO (which would hang DuckDB's
 * open), a directory or a device.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { NotRegularFileError } from "../ledger/durable_fs.ts";
 * import { checkIndexFile, IndexNotFoundError } from "./queries.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await assert.rejects(checkIndexFile(`${dir}/runs.duckdb`), IndexNotFoundError);
 *   await assert.rejects(checkIndexFile(dir), NotRegularFileError); // a directory
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function checkIndexFile(dbPath: string): Promise<void> {
  let present: boolean;
  try {
    present = await assertRegularFileOrAbsent(dbPath);
  } catch (err) {
    // A file where a folder of the path should be (a --root that names a file): no index, and
    // rebuild-index could not build one there.
    if (!(err instanceof Deno.errors.NotADirectory)) throw err;
    throw new IndexNotFoundError(dbPath, `${await fileOnPath(dbPath)} is a file`);
  }
  if (!present) throw new IndexNotFoundError(dbPath);
}

/**
 * Open the index read-only, run `fn`, close it. Throws
 * {@linkcode IndexNotFoundError} when the file does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { withIndex } from "./queries.ts";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "./rebuild.ts";
 * import { indexPath } from "../ledger/paths.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "r1", run_type: "policy", config: {}, data_fingerprint: "f" },
 *     { event_type: "run.failed", run_id: "r1", error: { message: "no candles" } },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const n = await withIndex(indexPath(root), async (conn) =>
 *     (await conn.runAndReadAll("SELECT count(*) FROM runs_d")).getRows()[0][0]);
 *   assert.equal(Number(n), 1);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function withIndex<T>(
  dbPath: string,
  fn: (conn: DuckDBConnection) => Promise<T>,
  options: WithIndexOptions = {},
): Promise<T> {
  await checkIndexFile(dbPath);
  const writable = options.writablePaths ?? [];
  const config = readerConfig(dbPath, options);
  // DuckDB takes the time zone (ICU's setting) only on a connection, and allowed_paths (a list)
  // only by SQL, both before the lock: the locking settings follow them below, before any
  // statement reads the index.
  delete config.lock_configuration;
  if (writable.length > 0) delete config.enable_external_access;
  const instance = await openIndexFile(dbPath, config);
  try {
    const conn = await instance.connect();
    try {
      // UTC, whatever the machine's TZ: a TIMESTAMPTZ prints, and casts to a DATE, alike
      // everywhere (an audit: `ledger sql` gave other days under TZ=Asia/Kathmandu).
      await conn.run(READER_TIME_ZONE_SQL);
      if (writable.length > 0) {
        const list = writable.map((p) => `'${p.replaceAll("'", "''")}'`).join(", ");
        await conn.run(`SET allowed_paths = [${list}]`);
        await conn.run("SET enable_external_access = false");
      }
      await conn.run("SET lock_configuration = true");
      // Only once external access is off: index_meta may be a view that reads a file (a
      // review: a crafted --db printed another file's text in the format error).
      if (options.anyFormat !== true) await requireIndexFormat(conn, dbPath);
      const interrupt = () => conn.interrupt();
      options.signal?.addEventListener("abort", interrupt);
      try {
        options.signal?.throwIfAborted();
        return await fn(conn);
      } finally {
        options.signal?.removeEventListener("abort", interrupt);
      }
    } finally {
      conn.disconnectSync();
    }
  } catch (err) {
    // Stopped: the query's error (interrupted) is the stop's, said by the caller.
    if (options.signal?.aborted) throw options.signal.reason;
    if (options.memoryLimit !== undefined && isOutOfMemory(err)) {
      throw new ReaderMemoryError(options.memoryLimit, err);
    }
    // A table or column this code expects is missing: an index an older (or newer) ledger
    // built says so, instead of DuckDB's Binder or Catalog error.
    if (err instanceof Error && /^(Binder|Catalog) Error/.test(err.message)) {
      const format = await indexFormatOfInstance(instance);
      if (format === null) {
        // No index_meta: no ledger made it (rebuild-index refuses to replace it).
        throw new NotAnIndexError(dbPath, "is a DuckDB database without index_meta", {
          cause: err,
        });
      }
      if (!INDEX_FORMATS_READABLE.includes(format)) {
        throw new IndexFormatError(dbPath, format, { cause: err });
      }
    }
    throw err;
  } finally {
    instance.closeSync(); // removes the spill directory, if DuckDB made one
  }
}

/**
 * Open the index file at `dbPath` with `config`; a file DuckDB cannot open
 * that is not a DuckDB database at all (a CSV or Parquet file given as
 * `--db`) is a {@linkcode NotAnIndexError} naming it, not DuckDB's "Cannot
 * launch in-memory database in read-only mode!" (a help audit).
 */
export async function openIndexFile(
  dbPath: string,
  config: Record<string, string>,
): Promise<DuckDBInstance> {
  try {
    return await openDuckDbFile(dbPath, config);
  } catch (err) {
    const duckDb = await isDuckDbFile(dbPath);
    const namedLikeIndex = dbPath.endsWith(".duckdb");
    if (duckDb === false && !namedLikeIndex) {
      throw new NotAnIndexError(dbPath, "is not a DuckDB database", { cause: err });
    }
    if (duckDb === undefined && !namedLikeIndex && await exists(dbPath)) {
      // DuckDB's own words were "IO Error: The file ... exists, but it is not a valid DuckDB
      // database file!" (a bad-input probe).
      throw new NotAnIndexError(dbPath, "is an empty file, not a DuckDB database", {
        cause: err,
      });
    }
    // Named like an index (the root's own runs.duckdb), not a DuckDB file, empty or cut short
    // (a copy that stopped): damaged, and rebuild-index heals it. A lock held by a writer is
    // not damage.
    const damaged = duckDb === false ||
      (err instanceof Error && /^IO Error/.test(err.message) &&
        !/Could not set lock/.test(err.message));
    if (namedLikeIndex && damaged) {
      const reason = duckDb === false
        ? "not a DuckDB database"
        : duckDb === undefined
        ? "an empty file"
        : (err as Error).message.split("\n")[0].replace(/^IO Error: /, "");
      throw new IndexDamagedError(dbPath, reason, { cause: err });
    }
    throw err;
  }
}

/** Bytes 8-11 of every DuckDB database file. */
const DUCKDB_MAGIC = "DUCK";

/**
 * Whether the file at `path` starts as a DuckDB database does (its magic
 * bytes), or undefined when it is missing or empty (DuckDB makes a new
 * database in an empty file).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isDuckDbFile } from "./queries.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/runs.csv`, "run_id,status\nr1,completed\n");
 *   assert.equal(await isDuckDbFile(`${dir}/runs.csv`), false);
 *   assert.equal(await isDuckDbFile(`${dir}/none.duckdb`), undefined);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function isDuckDbFile(path: string): Promise<boolean | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const { size } = await statOfOpen(file, path);
    if (size === 0) return undefined;
    const head = await readRange(file, 0, Math.min(size, 12));
    return new TextDecoder().decode(head.subarray(8, 12)) === DUCKDB_MAGIC;
  } finally {
    file.close();
  }
}

/**
 * The file given as the index is not one: not a DuckDB database, or one
 * without `index_meta` (the legacy file, a notebook's database).
 * `ledger rebuild-index` refuses to replace such a file too.
 */
export class NotAnIndexError extends Error {
  /** The file. */
  readonly dbPath: string;
  /**
   * Create the error for `dbPath`, which `what` (`is not a DuckDB database`).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { NotAnIndexError } from "./queries.ts";
   * const err = new NotAnIndexError("/x/runs.csv", "is not a DuckDB database");
   * assert.match(err.message, /^\/x\/runs\.csv is not a DuckDB database: not a ledger index/);
   * ```
   */
  constructor(dbPath: string, what: string, options?: ErrorOptions) {
    super(
      `${dbPath} ${what}: not a ledger index (give --db the file ledger rebuild-index built)`,
      options,
    );
    this.name = "NotAnIndexError";
    this.dbPath = dbPath;
  }
}

/**
 * The index file (named `*.duckdb`, as the root's own `runs.duckdb`) does not
 * open as a database: damaged (zeros after a power loss, an empty file, a
 * copy cut short).
 * `ledger rebuild-index` rebuilds such a file from the log.
 */
export class IndexDamagedError extends Error {
  /** The file. */
  readonly dbPath: string;
  /**
   * Create the error for `dbPath`.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { IndexDamagedError } from "./queries.ts";
   * const err = new IndexDamagedError("/r/index/runs.duckdb", "not a DuckDB database");
   * assert.match(err.message, /is damaged \(not a DuckDB database\): rebuild it with/);
   * ```
   */
  constructor(dbPath: string, reason: string, options?: ErrorOptions) {
    super(
      `The index ${dbPath} is damaged (${reason}): rebuild it with \`ledger rebuild-index\``,
      options,
    );
    this.name = "IndexDamagedError";
    this.dbPath = dbPath;
  }
}

/** The index was built by another version of ledger: its tables are not the ones read here. */
export class IndexFormatError extends Error {
  /** The index file. */
  readonly dbPath: string;
  /** Its `format_version`, or null when it has none. */
  readonly format: string | null;
  /** Create the error for the index at `dbPath` of format `format`. */
  constructor(dbPath: string, format: string | null, options?: ErrorOptions) {
    // A number, or not said: the value is the file's, and a file may hold anything there.
    const shown = format !== null && /^\d{1,9}$/.test(format) ? format : "unknown";
    super(
      `The index ${dbPath} was built by another version of ledger (index format ` +
        `${shown}, this one reads ${INDEX_FORMAT_VERSION}): rebuild it with ` +
        "`ledger rebuild-index`",
      options,
    );
    this.name = "IndexFormatError";
    this.dbPath = dbPath;
    this.format = format;
  }
}

/**
 * Throw {@linkcode NotAnIndexError} or {@linkcode IndexFormatError} unless
 * the database open in `instance` is an index of a format this code reads
 * (`INDEX_FORMATS_READABLE`). For
 * readers that do not go through {@linkcode withIndex} (the report and the
 * UI), before their first query.
 */
export async function requireIndexFormat(conn: DuckDBConnection, dbPath: string): Promise<void> {
  const format = await indexFormatOf(conn);
  if (format === null) throw new NotAnIndexError(dbPath, "is a DuckDB database without index_meta");
  if (!INDEX_FORMATS_READABLE.includes(format)) throw new IndexFormatError(dbPath, format);
}

/** `index_meta.format_version` of the index open on `conn`, or null. */
async function indexFormatOf(conn: DuckDBConnection): Promise<string | null> {
  try {
    const found = await rows(conn, `SELECT value FROM index_meta WHERE key = 'format_version'`);
    return found.length === 1 ? String(found[0].value) : null;
  } catch (err) {
    if (err instanceof Error && /^Catalog Error/.test(err.message)) return null; // no index_meta
    throw err;
  }
}

/** {@linkcode indexFormatOf} on a new connection to `instance` (its settings already locked). */
async function indexFormatOfInstance(instance: DuckDBInstance): Promise<string | null> {
  const conn = await instance.connect();
  try {
    return await indexFormatOf(conn);
  } finally {
    conn.disconnectSync();
  }
}

/**
 * {@linkcode READER_CONFIG} plus the memory limit and its spill directory.
 * Order matters: DuckDB refuses `temp_directory` once external access is
 * disabled, and applies the settings in the object's order, so the spill
 * settings come before every setting of `READER_CONFIG`.
 */
function readerConfig(dbPath: string, options: WithIndexOptions): Record<string, string> {
  if (options.memoryLimit === undefined) return { ...READER_CONFIG };
  const spillName = `${readerSpillPrefixFor(dbPath)}${Deno.pid}-${randomHex(6)}`;
  return {
    threads: String(READER_THREADS),
    memory_limit: options.memoryLimit,
    temp_directory: join(dirname(dbPath), spillName),
    ...READER_CONFIG,
  };
}

/**
 * The error is DuckDB's "Out of Memory Error" (a query past its memory limit).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isOutOfMemory } from "./queries.ts";
 * assert.ok(isOutOfMemory(new Error("Out of Memory Error: failed to allocate data of size 4.0 MiB")));
 * assert.ok(!isOutOfMemory(new Error("Binder Error: column x not found")));
 * ```
 */
export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && /Out of Memory Error/i.test(err.message);
}

function toRunRow(r: Record<string, unknown>): RunRow {
  return {
    run_id: String(r.run_id),
    run_type: r.run_type as string | null,
    status: r.status as RunStatus,
    created_at_ms: r.created_at_ms as number | null,
    started_at_ms: r.started_at_ms as number | null,
    completed_at_ms: r.completed_at_ms as number | null,
    failed_at_ms: r.failed_at_ms as number | null,
    duration_ms: r.duration_ms as number | null,
    phase_count: Number(r.phase_count),
    phase_names: (r.phase_names ?? []) as string[],
    phase_duration_ms: r.phase_duration_ms as number | null,
    last_event_at_ms: r.last_event_at_ms as number | null,
    event_count: Number(r.event_count ?? 0),
    summary: parseJson(r.summary_json),
    error: parseJson(r.error_json),
    failed_phase: (r.failed_phase ?? null) as string | null,
    host: r.host as string | null,
    pid: r.pid as number | null,
    data_fingerprint: r.data_fingerprint as string | null,
    config: parseJson(r.config),
  };
}

/**
 * A stored JSON column: NaN/Infinity (Python's) read as null, deep nesting cut (SPEC 3),
 * integers past 2^53 kept exact (a 64-bit seed: `show --json` rounded it, `runs --json` did
 * not), a repeated key at its first value (as `--where` reads it).
 */
function parseJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return parseJsonText(String(value), { exactIntegers: true, firstKeys: true });
}
