/**
 * Where things live under a ledger root (SPEC 3): the event log, its day
 * partitions, the schema export, the index and the run directories. Pure
 * functions: nothing here touches the disk.
 *
 * @module
 */
import { join } from "./_path.ts";
import { RUN_ID_PATTERN } from "./ids.ts";

/** Environment variable naming the ledger root when `--root` is absent. */
export const ROOT_ENV_VARIABLE = "LEDGER_ROOT";
/** The root used when neither `--root` nor `LEDGER_ROOT` is given (relative to the cwd). */
export const ROOT_DEFAULT = "data/ledger";

/**
 * The one root rule: `root` when given (a `--root` flag or an option), else
 * `$LEDGER_ROOT` when set and not empty, else `data/ledger`. Every command
 * and library entry point resolves its root here.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveRoot } from "./paths.ts";
 * assert.equal(resolveRoot("/srv/ledger"), "/srv/ledger");
 * ```
 */
export function resolveRoot(root?: string): string {
  if (root !== undefined) return root;
  return Deno.env.get(ROOT_ENV_VARIABLE) || ROOT_DEFAULT;
}

/** Default size past which a writer starts a new part file, in bytes (100 MiB, SPEC 3). */
export const PART_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;

/** Matches a day directory name of the log: `day=YYYY-MM-DD`. */
export const DAY_DIR_PATTERN = /^day=(\d{4}-\d{2}-\d{2})$/;

/**
 * Matches a file of the log: every `*.jsonl` of a day folder (SPEC 3), not
 * hidden: ledger's own `ledger-<writer>-<seq>.jsonl` and `emit-<seq>.jsonl`,
 * ledger 0.1's `part-<writer>-<seq>.jsonl` and the Python writer's
 * `part-<seq>.jsonl` alike.
 */
export const PART_FILE_PATTERN = /^[^.].*\.jsonl$/;

/**
 * Matches the Python writer's choice of file: it appends to the last
 * `part-*.jsonl` of a day folder by name order. No file ledger creates
 * matches it.
 */
export const PYTHON_PART_PATTERN = /^part-.*\.jsonl$/;

/** Matches a shared CLI part name, `emit-<seq6>.jsonl`; group 1 is the sequence number. */
export const SHARED_PART_PATTERN = /^emit-(\d{6,})\.jsonl$/;

/**
 * The events directory: `<root>/events`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { eventsDir } from "./paths.ts";
 * assert.equal(eventsDir("/data/ledger"), "/data/ledger/events");
 * ```
 */
export function eventsDir(root: string): string {
  return join(root, "events");
}

/**
 * The UTC day of a timestamp, `YYYY-MM-DD`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dayOf } from "./paths.ts";
 * assert.equal(dayOf(Date.UTC(2026, 0, 23, 23, 59, 59, 999)), "2026-01-23");
 * ```
 */
export function dayOf(timestampMs: number): string {
  // Events come in time order: reuse the last day while the time stays in it.
  if (timestampMs >= lastDayStartMs && timestampMs < lastDayStartMs + DAY_MS) return lastDay;
  const day = new Date(timestampMs).toISOString().slice(0, 10);
  lastDayStartMs = timestampMs - (((timestampMs % DAY_MS) + DAY_MS) % DAY_MS);
  lastDay = day;
  return day;
}

/** Milliseconds in a UTC day (no leap seconds in epoch time). */
const DAY_MS = 24 * 60 * 60 * 1000;
let lastDayStartMs = NaN;
let lastDay = "";

/**
 * The directory of one day partition: `<root>/events/day=YYYY-MM-DD`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dayDir } from "./paths.ts";
 * assert.equal(dayDir("/r", "2026-01-23"), "/r/events/day=2026-01-23");
 * ```
 */
export function dayDir(root: string, day: string): string {
  return join(eventsDir(root), `day=${day}`);
}

/**
 * The name of an in-process writer's part file:
 * `ledger-<writerId>-<seq6>.jsonl`. Never `part-*`: the Python writer appends
 * to the last `part-*.jsonl` of a day folder (SPEC 3).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { partFileName } from "./paths.ts";
 * assert.equal(partFileName("abc", 7), "ledger-abc-000007.jsonl");
 * ```
 */
export function partFileName(writerId: string, seq: number): string {
  return `ledger-${writerId}-${String(seq).padStart(6, "0")}.jsonl`;
}

/**
 * The name of a shared CLI part, `emit-<seq6>.jsonl`: the file short-lived
 * CLI writers of one day (`ledger emit`, `ledger tag|note|archive|restore`)
 * append to, one at a time under an exclusive lock (see `shared_part.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sharedPartFileName } from "./paths.ts";
 * assert.equal(sharedPartFileName(1), "emit-000001.jsonl");
 * ```
 */
export function sharedPartFileName(seq: number): string {
  return `emit-${String(seq).padStart(6, "0")}.jsonl`;
}

/**
 * The schema registry export: `<root>/events/_schema.json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { schemaPath } from "./paths.ts";
 * assert.equal(schemaPath("/r"), "/r/events/_schema.json");
 * ```
 */
export function schemaPath(root: string): string {
  return join(eventsDir(root), "_schema.json");
}

/**
 * The DuckDB index: `<root>/index/runs.duckdb`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { indexPath } from "./paths.ts";
 * assert.equal(indexPath("/r"), "/r/index/runs.duckdb");
 * ```
 */
export function indexPath(root: string): string {
  return join(root, "index", "runs.duckdb");
}

/**
 * A run's artifact directory: `<root>/artifacts/runs/<runId>`. The run id
 * must already be validated (`RUN_ID_PATTERN`), which makes it a safe path
 * segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runDir } from "./paths.ts";
 * assert.equal(runDir("/r", "run-1"), "/r/artifacts/runs/run-1");
 * ```
 */
export function runDir(root: string, runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new TypeError(`Run id ${JSON.stringify(runId)} is not a safe path segment`);
  }
  return join(root, "artifacts", "runs", runId);
}
