/**
 * Where things live under a ledger root (SPEC 3): the event log, its day
 * partitions, the schema export, the index and the run directories. Pure
 * functions: nothing here touches the disk. Also the one reader of
 * environment variables ({@linkcode readEnvVariable}), which the root rule
 * is the first user of.
 *
 * @module
 */
import { join } from "./_path.ts";
import { RUN_ID_PATTERN } from "./ids.ts";

/**
 * Environment variable naming the ledger root when `--root` is absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveRoot, ROOT_DEFAULT, ROOT_ENV_VARIABLE } from "./paths.ts";
 * assert.equal(ROOT_ENV_VARIABLE, "LEDGER_ROOT");
 * // No root given: the variable decides when set and not empty (read at each call; this
 * // example reads it and does not set it, since tests run side by side in one process).
 * const fromEnv = Deno.env.get(ROOT_ENV_VARIABLE);
 * assert.equal(resolveRoot(), fromEnv ? fromEnv : ROOT_DEFAULT);
 * assert.equal(resolveRoot("/tmp/other"), "/tmp/other"); // a given root wins
 * ```
 */
export const ROOT_ENV_VARIABLE = "LEDGER_ROOT";
/**
 * The root used when neither `--root` nor `LEDGER_ROOT` is given (relative to the cwd).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { indexPath, ROOT_DEFAULT } from "./paths.ts";
 * assert.equal(ROOT_DEFAULT, "data/ledger");
 * // A relative root: every path under it is relative too, so it depends on the cwd.
 * assert.equal(indexPath(ROOT_DEFAULT), "data/ledger/index/runs.duckdb");
 * ```
 */
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
  if (root !== undefined) return checkRoot(root);
  return readEnvVariable(ROOT_ENV_VARIABLE) || ROOT_DEFAULT;
}

/**
 * An environment variable holds a value that is not valid UTF-8, so it
 * cannot be read as text. `variable` names it; the message shows the value
 * with its bad bytes escaped (`"/tmp/\xFF"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EnvVariableError } from "./paths.ts";
 * const err = new EnvVariableError("COLUMNS", '"\\xFF"');
 * assert.equal(err.variable, "COLUMNS");
 * assert.equal(err.message, 'Environment variable COLUMNS is not valid UTF-8: "\\xFF"');
 * ```
 */
export class EnvVariableError extends Error {
  /** The variable's name. */
  readonly variable: string;
  /** Create the error; `shown` is the value as Deno escapes it (quoted), when known. */
  constructor(variable: string, shown?: string, options?: ErrorOptions) {
    super(
      `Environment variable ${variable} is not valid UTF-8${
        shown === undefined ? "" : `: ${shown}`
      }`,
      options,
    );
    this.name = "EnvVariableError";
    this.variable = variable;
  }
}

/** Names of variables whose value a message never shows (credentials). */
const SECRET_VARIABLE = /KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL/i;

/**
 * The value of environment variable `name`, or undefined when it is unset:
 * `Deno.env.get`, with a value that is not valid UTF-8 thrown as an
 * {@linkcode EnvVariableError} naming the variable. Deno's own error names
 * none (a probe: `COLUMNS=$'\xff'` failed with `environment variable was not
 * valid unicode: "\xFF"`, and a bad `LEDGER_ROOT` with a stack trace), and
 * a reader that caught it as "unset" sent `ship` to AWS itself when
 * `AWS_ENDPOINT_URL_S3` named another server. Every reader of `LEDGER_ROOT`,
 * `COLUMNS` and the `AWS_*` variables reads through here. The value of a
 * credential's variable (`AWS_SECRET_ACCESS_KEY`, ...) is never shown.
 * Other errors (`NotCapable` without the permission) are thrown as they
 * are.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readEnvVariable } from "./paths.ts";
 * Deno.env.set("LEDGER_TEST_SET", "a value");
 * assert.equal(readEnvVariable("LEDGER_TEST_SET"), "a value");
 * assert.equal(readEnvVariable("LEDGER_TEST_NEVER_SET"), undefined);
 * ```
 */
export function readEnvVariable(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (err) {
    if (!(err instanceof Deno.errors.InvalidData)) throw err;
    // Deno's message ends with the value, its bad bytes escaped: kept, as the value given, but
    // for a secret's (a review: AWS_SECRET_ACCESS_KEY was printed whole, into daemon logs too).
    const shown = SECRET_VARIABLE.test(name) ? undefined : /: (".*")$/s.exec(err.message)?.[1];
    throw new EnvVariableError(name, shown, { cause: err });
  }
}

/** `root`; an empty one is refused (it would mean the working directory, as `--root ""` does not). */
function checkRoot(root: string): string {
  if (root === "") throw new RangeError("root must not be empty: name a folder or leave it out");
  return root;
}

/**
 * Default size past which a writer starts a new part file, in bytes (100 MiB, SPEC 3).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PART_BYTES_MAX_DEFAULT } from "./paths.ts";
 * import { LINE_BYTES_MAX } from "./limits.ts";
 * assert.equal(PART_BYTES_MAX_DEFAULT, 100 * 1024 * 1024); // 100 MiB
 * // Room for 100 lines of the largest size before a writer starts the next part.
 * assert.equal(PART_BYTES_MAX_DEFAULT / LINE_BYTES_MAX, 100);
 * ```
 */
export const PART_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;

/**
 * Matches a day directory name of the log: `day=YYYY-MM-DD`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DAY_DIR_PATTERN, dayDir } from "./paths.ts";
 * const name = "day=2026-01-23";
 * assert.ok(dayDir("/r", "2026-01-23").endsWith(`/${name}`)); // the name dayDir gives
 * assert.equal(DAY_DIR_PATTERN.exec(name)?.[1], "2026-01-23"); // group 1 is the day
 * assert.doesNotMatch("day=2026-1-23", DAY_DIR_PATTERN); // a month without its leading zero
 * assert.doesNotMatch("2026-01-23", DAY_DIR_PATTERN);
 * ```
 */
export const DAY_DIR_PATTERN = /^day=(\d{4}-\d{2}-\d{2})$/;

/**
 * Matches a file of the log: every `*.jsonl` of a day folder (SPEC 3), not
 * hidden: ledger's own `ledger-<writer>-<seq>.jsonl` and `emit-<seq>.jsonl`,
 * ledger 0.1's `part-<writer>-<seq>.jsonl` and the Python writer's
 * `part-<seq>.jsonl` alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PART_FILE_PATTERN, partFileName, sharedPartFileName } from "./paths.ts";
 * // Every writer's parts are read: ledger's own, the CLI's shared ones, the Python writer's.
 * for (const name of [partFileName("a1", 1), sharedPartFileName(1), "part-000001.jsonl"]) {
 *   assert.match(name, PART_FILE_PATTERN);
 * }
 * // Hidden files and other file types are not part of the log.
 * for (const name of [".part-000001.jsonl", "_schema.json", "part-000001.jsonl.gz"]) {
 *   assert.doesNotMatch(name, PART_FILE_PATTERN);
 * }
 * ```
 */
export const PART_FILE_PATTERN = /^[^.].*\.jsonl$/s;

/**
 * Matches the Python writer's choice of file: it appends to the last
 * `part-*.jsonl` of a day folder by name order. No file ledger creates
 * matches it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { partFileName, PYTHON_PART_PATTERN, sharedPartFileName } from "./paths.ts";
 * assert.match("part-000003.jsonl", PYTHON_PART_PATTERN); // the Python writer may append to it
 * // ledger's own parts never match, so the Python writer never appends to them.
 * assert.doesNotMatch(partFileName("a1b2", 3), PYTHON_PART_PATTERN);
 * assert.doesNotMatch(sharedPartFileName(3), PYTHON_PART_PATTERN);
 * ```
 */
export const PYTHON_PART_PATTERN = /^part-.*\.jsonl$/;

/**
 * Matches a shared CLI part name, `emit-<seq6>.jsonl`; group 1 is the sequence number.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { partFileName, SHARED_PART_PATTERN, sharedPartFileName } from "./paths.ts";
 * assert.equal(SHARED_PART_PATTERN.exec(sharedPartFileName(42))?.[1], "000042"); // group 1
 * assert.equal(SHARED_PART_PATTERN.exec("emit-1234567.jsonl")?.[1], "1234567"); // past 6 digits
 * assert.doesNotMatch("emit-42.jsonl", SHARED_PART_PATTERN); // fewer than 6 digits
 * assert.doesNotMatch(partFileName("a1", 42), SHARED_PART_PATTERN); // an in-process writer's part
 * ```
 */
export const SHARED_PART_PATTERN = /^emit-(\d{6,})\.jsonl$/;

/**
 * The file name of the part at `path` (`day=2026-01-23/emit-000001.jsonl`,
 * relative to the events directory, or a full path): what the part name
 * patterns ({@linkcode SHARED_PART_PATTERN}, {@linkcode PYTHON_PART_PATTERN})
 * are matched against. Parts are named with `/` on every platform.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { partName, SHARED_PART_PATTERN } from "./paths.ts";
 * assert.equal(partName("day=2026-01-23/emit-000001.jsonl"), "emit-000001.jsonl");
 * assert.match(partName("day=2026-01-23/emit-000001.jsonl"), SHARED_PART_PATTERN);
 * assert.equal(partName("part-1.jsonl"), "part-1.jsonl");
 * ```
 */
export function partName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

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
  return join(checkRoot(root), "events");
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
  return join(checkRoot(root), "index", "runs.duckdb");
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
  return join(checkRoot(root), "artifacts", "runs", runId);
}
