/**
 * Command-line pieces shared by the query commands (`runs`, `trials`,
 * `compare`, `show`, `tag`, `sql`, `export`): the index path, the format
 * flag, and turning the query library's errors into usage errors (exit 2)
 * where the command line was wrong.
 *
 * @module
 */
import { messageValue } from "../ledger/control_text.ts";
import { isUnreadable } from "./_permissions.ts";
import { basename, dirname, join, relative, resolve } from "node:path";
import {
  DAY_DIR_PATTERN,
  indexPath,
  PYTHON_PART_PATTERN,
  SHARED_PART_PATTERN,
} from "../ledger/paths.ts";
import { DEFAULT_LEGACY_DB_PATH } from "../legacy/read.ts";
import { linkTargetOf, ProcessFileLinkError, realPathOf } from "../ledger/real_path.ts";
import { assertRegularFileOrAbsent, NotRegularFileError } from "../ledger/durable_fs.ts";
import { exists } from "../ledger/exists.ts";
import {
  AmbiguousRunError,
  CANDIDATES_SHOWN_MAX,
  RunNamedTwiceError,
  UnknownRunError,
} from "../indexer/query/resolve.ts";
import { FilterSyntaxError } from "../indexer/query/filter.ts";
import { QueryUsageError } from "../indexer/query/runs.ts";
import { InstantFormatError, isDateOnly, parseInstant } from "../indexer/query/time.ts";
import { READER_MEMORY_LIMIT_DEFAULT, RUN_STATUSES } from "../indexer/queries.ts";
import { listRefreshMarkers, refreshPendingLine } from "../indexer/refresh_marker.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "./_table.ts";
import {
  memoryLimitFlag,
  type ParsedFlags,
  pathFlag,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";

/**
 * Refuse an output path (`--out`) that would overwrite what the ledger keeps:
 * a file in a day folder of any root's log (`events/day=YYYY-MM-DD/`, or a
 * `day=` folder holding a writer's part), which that root's indexer would
 * read as events, or in any root's run folder (`artifacts/runs/<id>/` of a
 * root with a log, or a folder holding a run's `manifest.json`); the targets
 * of the root's day and run folders linked from another disk;
 * anything under the root's `events/` (the append-only log), `index/` or
 * `artifacts/` folders, the index file `dbPath` with its `.wal`, and the
 * legacy DuckDB dual mode reads by default (`data/baseline_results.duckdb`:
 * before a backfill, the only copy of the runs made before the cutover; a
 * probe overwrote it with a CSV export, exit 0). Checked
 * on the path as given and on its real path (symlinked folders), before any
 * work; a usage error (exit 2) naming the flag and the folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { refuseLedgerOut } from "./_query.ts";
 * await assert.rejects(
 *   refuseLedgerOut("/r/events/day=2026-01-20/part-1.jsonl", "/r", "/r/index/runs.duckdb"),
 *   /--out .* is inside \/r\/events \(the ledger's append-only log\)/,
 * );
 * await refuseLedgerOut("/r/report.html", "/r", "/r/index/runs.duckdb"); // beside it: fine
 * ```
 */
export async function refuseLedgerOut(out: string, root: string, dbPath: string): Promise<void> {
  refuseOverlongOut(out);
  const guarded = [
    { path: join(root, "events"), what: "the ledger's append-only log" },
    { path: join(root, "index"), what: "the index folder" },
    { path: join(root, "artifacts"), what: "the runs' artifacts" },
    // Itself a link to another disk, by its target (a review).
    { path: join(root, "artifacts", "runs"), what: "the runs' artifacts" },
    // Files: the --out is refused when it is one, not "inside" one (a probe: `--db /tmp` said
    // "--out x.html is inside /tmp (the index file)"; opening the index says what /tmp is).
    { path: dbPath, what: "the index file", file: true },
    { path: `${dbPath}.wal`, what: "the index file", file: true },
    { path: DEFAULT_LEGACY_DB_PATH, what: "the legacy DuckDB of dual mode", file: true },
    { path: `${DEFAULT_LEGACY_DB_PATH}.wal`, what: "the legacy DuckDB of dual mode", file: true },
  ];
  // The root's day folders and run folders linked from another disk, by their targets (a
  // review: an export into the target of a linked day, named otherwise, went into the log).
  const linkedFrom = [
    [join(root, "events"), "the ledger's append-only log"],
    [join(root, "artifacts", "runs"), "the runs' artifacts"],
  ] as const;
  for (const [dir, what] of linkedFrom) {
    for (const target of await linkedEntries(dir)) guarded.push({ path: target, what });
  }
  const outs = [
    resolve(out),
    await realPathOf(resolve(out)),
    await realPathOf(await outTarget(out)),
  ];
  for (const g of guarded) {
    const targets = [resolve(g.path), await realPathOrLoop(resolve(g.path))];
    for (const o of outs) {
      for (const t of targets) {
        const rel = relative(t, o);
        if (rel === "") {
          throw new UsageError(`--out ${messageValue(out)} is ${g.what}: write it elsewhere`);
        }
        if (!("file" in g) && !rel.startsWith("..") && !rel.startsWith("/")) {
          throw new UsageError(
            `--out ${messageValue(out)} is inside ${
              messageValue(g.path)
            } (${g.what}): write it elsewhere`,
          );
        }
      }
    }
  }
  // Any other root's log and artifacts too: an export written into another root's day folder
  // was read by that root's next rebuild as event lines, each one bad (a probe); one into the
  // target of a day folder linked from another disk, or over another root's artifact, the same
  // (a review).
  for (const o of outs) {
    const folder = dirname(o);
    if (DAY_DIR_PATTERN.test(basename(folder)) && await isLogDay(folder)) {
      throw new UsageError(
        `--out ${messageValue(out)} is inside ${messageValue(folder)} (a day of a ledger's ` +
          "append-only log): write it elsewhere",
      );
    }
    const parts = o.split("/");
    const at = parts.findIndex((p, i) => p === "artifacts" && parts[i + 1] === "runs");
    const runDir = at !== -1 && parts.length > at + 3
      ? parts.slice(0, at + 3).join("/")
      : undefined;
    if (
      (runDir !== undefined && await isRunFolder(parts.slice(0, at).join("/"), runDir)) ||
      await holdsRunManifest(folder)
    ) {
      throw new UsageError(
        `--out ${messageValue(out)} is inside ${
          messageValue(runDir ?? folder)
        } (a run's artifacts): write it elsewhere`,
      );
    }
  }
}

/**
 * Whether `runDir` (`<root>/artifacts/runs/<run_id>`) is a run's folder of
 * a ledger: it holds the run's `manifest.json`, or `root` holds a log
 * (`events/`). A project's own `artifacts/runs/` stays writable (a review).
 * A folder this process may not look at is taken for one.
 */
async function isRunFolder(root: string, runDir: string): Promise<boolean> {
  for (const path of [join(runDir, "manifest.json"), join(root, "events")]) {
    try {
      await Deno.stat(path);
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        return true;
      }
      if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
        throw err;
      }
    }
  }
  return false;
}

/**
 * Whether `folder` holds a run's `manifest.json` (an object with a string
 * `run_id`): a run folder wherever it is, such as the target of a run
 * folder another root links from another disk (a review).
 */
async function holdsRunManifest(folder: string): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(folder, "manifest.json"));
  } catch (err) {
    if (
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory ||
      err instanceof Deno.errors.IsADirectory || err instanceof Deno.errors.NotCapable ||
      err instanceof Deno.errors.PermissionDenied
    ) return false;
    throw err;
  }
  try {
    const manifest: unknown = JSON.parse(text);
    return typeof manifest === "object" && manifest !== null &&
      typeof (manifest as { run_id?: unknown }).run_id === "string";
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
}

/** Bytes a file name may have (Linux's `NAME_MAX`), and a whole path (`PATH_MAX`, its NUL left out). */
const FILE_NAME_BYTES_MAX = 255;
const PATH_BYTES_MAX = 4095;

/**
 * Refuse an `--out` no file system takes: a name (a part between two `/`)
 * longer than {@linkcode FILE_NAME_BYTES_MAX} bytes, or a path longer than
 * {@linkcode PATH_BYTES_MAX}, a usage error naming the flag (helper-299: the
 * OS's "File name too long (os error 36): realpath ...", exit 1).
 */
function refuseOverlongOut(out: string): void {
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  const name = resolve(out).split("/").find((part) => bytes(part) > FILE_NAME_BYTES_MAX);
  if (name !== undefined) {
    throw new UsageError(
      `--out ${messageValue(out)} has a name of ${bytes(name)} bytes: a file or folder name ` +
        `may have at most ${FILE_NAME_BYTES_MAX}`,
    );
  }
  if (bytes(resolve(out)) > PATH_BYTES_MAX) {
    throw new UsageError(
      `--out ${messageValue(out)} is a path of ${bytes(resolve(out))} bytes: at most ` +
        `${PATH_BYTES_MAX}`,
    );
  }
}

/** The real path of `path`, or `path` itself when it is a loop of links (nothing is there). */
async function realPathOrLoop(path: string): Promise<string> {
  try {
    return await realPathOf(path);
  } catch (err) {
    if (err instanceof Deno.errors.FilesystemLoop) return path;
    throw err;
  }
}

/**
 * The real paths of the entries of `dir` that are symbolic links (days of a
 * log, run folders moved to another disk); none when `dir` is not there or
 * cannot be listed here (the permission check says so).
 */
async function linkedEntries(dir: string): Promise<string[]> {
  const targets: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isSymlink) continue;
      // A loop of links leads nowhere to write (a review: it failed every export).
      targets.push(await realPathOrLoop(join(dir, entry.name)));
    }
  } catch (err) {
    if (isUnreadable(err)) return targets;
    throw err;
  }
  return targets;
}

/**
 * Whether the folder `day` (named `day=YYYY-MM-DD`) is a day of a ledger's
 * log: in a folder named `events`, or holding a part a writer made
 * (`emit-NNNNNN.jsonl`, `part-*.jsonl`, `ledger-*.jsonl`: a day folder
 * linked from another disk, whose target is named so nowhere). A folder
 * this process may not list is taken for one.
 */
async function isLogDay(day: string): Promise<boolean> {
  if (basename(dirname(day)) === "events") return true;
  try {
    for await (const entry of Deno.readDir(day)) {
      if (
        SHARED_PART_PATTERN.test(entry.name) || PYTHON_PART_PATTERN.test(entry.name) ||
        /^ledger-.*\.jsonl$/.test(entry.name)
      ) return true;
    }
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return false;
    }
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return true;
    }
    throw err;
  }
}

/** Where a write to `out` lands through its links; a link into `/proc` stays itself here. */
async function outTarget(out: string): Promise<string> {
  try {
    return await linkTargetOf(out);
  } catch (err) {
    if (err instanceof ProcessFileLinkError) return resolve(out); // refuseUnwritableOut says so
    throw err;
  }
}

/**
 * Refuse an `--out` that cannot be a file this command writes, before any
 * work, as a usage error (exit 2): an existing directory, FIFO, socket or
 * device (the write renames a new file over the path, which would replace a
 * FIFO or `/dev/null` with a regular file), a link to a process's open file
 * (`/dev/stdout`), or a path whose folder does not exist. `example` names a
 * file to suggest inside a directory, `what` the kind of file. Returns the
 * file to replace: `out` made absolute, or the file its symbolic links lead
 * to (renamed over, a link would become a file and its target stay as it was).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { refuseUnwritableOut } from "./_query.ts";
 * await assert.rejects(refuseUnwritableOut("/dev/null", "runs.csv"), /is a device/);
 * await assert.rejects(refuseUnwritableOut("/no/such/dir/x.csv", "runs.csv"), /does not exist/);
 * ```
 */
export async function refuseUnwritableOut(
  out: string,
  example: string,
  what = "file",
): Promise<string> {
  // `-` is standard output to most tools: here it was a file named "-" in silence (a probe),
  // where /dev/stdout is refused (the file is written aside, then renamed into place).
  if (out === "-") {
    throw new UsageError(`--out - would be a file named "-": name the ${what} to write`);
  }
  await refuseFileOnRawPath(out, what);
  let path: string;
  try {
    path = await linkTargetOf(out);
  } catch (err) {
    if (!(err instanceof ProcessFileLinkError)) throw err;
    throw new UsageError(
      `--out ${messageValue(out)} is a link to ${
        messageValue(err.target)
      } (${err.what}): name the ${what} to write`,
    );
  }
  try {
    await assertRegularFileOrAbsent(path);
  } catch (err) {
    // A file on the way (`--out notes.txt/x.csv`): said below, as the folder that is not one.
    if (err instanceof Deno.errors.NotADirectory) return await refuseFolderOf(out, path);
    if (!(err instanceof NotRegularFileError)) throw err;
    const hint = err.kind === "a directory" ? ` (e.g. ${messageValue(join(path, example))})` : "";
    throw new UsageError(
      `--out ${messageValue(out)} is ${err.kind}: name the ${what} to write${hint}`,
    );
  }
  return await refuseFolderOf(out, path);
}

/**
 * Refuse an `--out` a file stands in the way of as it is written: `notes.txt/` and
 * `notes.txt/../x.csv` name paths under `notes.txt`, which the system refuses, but a resolved
 * path drops the trailing `/` and the `..` (a review: `--out notes.txt/` replaced notes.txt with
 * the export). Each folder of the path as given must be one, up to the first that is not there.
 */
async function refuseFileOnRawPath(out: string, what: string): Promise<void> {
  const parts = out.split("/");
  for (let i = 1; i < parts.length; i++) {
    const folder = parts.slice(0, i).join("/");
    if (folder === "") continue; // the root of an absolute path
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(folder);
    } catch (err) {
      // Not there: said by the folder check after, or below. Not to be looked at here (Deno
      // asks all access for /dev and /proc): the checks after say what the path is.
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        return;
      }
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      break;
    }
    if (!info.isDirectory) {
      const wanted = parts.slice(i).every((p) => p === "") ? ` (name the ${what} to write)` : "";
      throw new UsageError(
        `--out ${messageValue(out)}: ${messageValue(folder)} is not a folder${wanted}`,
      );
    }
  }
  // A folder by its spelling (`out/`) that is not there: never made a file named `out` (a
  // review: it was). An existing folder is said after ("is a directory").
  if (out.endsWith("/") && !(await exists(out))) {
    throw new UsageError(
      `--out ${messageValue(out)} names a folder, which does not exist: name the ${what} to write`,
    );
  }
}

/**
 * Refuse the `--out` `out` (leading to `path`) when the folder of `path` does not exist or is
 * no folder, naming the file in the way (a probe: `--out notes.txt/x.csv` said "Not a directory
 * (os error 20): stat ...", exit 1); else return `path`.
 */
async function refuseFolderOf(out: string, path: string): Promise<string> {
  const folder = dirname(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(folder);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `--out ${messageValue(out)}: the folder ${messageValue(folder)} does not exist`,
      );
    }
    if (!(err instanceof Deno.errors.NotADirectory)) throw err;
    await refuseFolderOf(out, folder); // throws: a file is on the way to `folder`
    throw err;
  }
  if (!info.isDirectory) {
    throw new UsageError(`--out ${messageValue(out)}: ${messageValue(folder)} is not a folder`);
  }
  return path;
}

/**
 * After a query command answered from the index at `dbPath`: one warning
 * line on stderr when a backtest's background refresh of that index has not
 * finished (its marker is still there), so a missing run is not a mystery.
 * Said after the answer, and only after one: a usage error stays one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { warnIfIndexMayLackRuns } from "./_query.ts";
 * import { writeRefreshMarker } from "../indexer/refresh_marker.ts";
 * const dir = await Deno.makeTempDir();
 * const error = console.error;
 * const printed: string[] = [];
 * console.error = (line: string) => printed.push(line);
 * try {
 *   await warnIfIndexMayLackRuns("runs", `${dir}/runs.duckdb`); // no marker: nothing said
 *   writeRefreshMarker(`${dir}/runs.duckdb`, "run-1");
 *   await warnIfIndexMayLackRuns("runs", `${dir}/runs.duckdb`);
 * } finally {
 *   console.error = error;
 *   await Deno.remove(dir, { recursive: true });
 * }
 * assert.equal(printed.length, 1);
 * assert.match(printed[0], /^ledger runs: warning: the index may lack run run-1: /);
 * ```
 */
export async function warnIfIndexMayLackRuns(command: string, dbPath: string): Promise<void> {
  const line = refreshPendingLine(command, await listRefreshMarkers(dbPath));
  if (line !== undefined) console.error(line);
}

/**
 * The index file: `--db PATH`, else `<root>/index/runs.duckdb`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { indexDbPath } from "./_query.ts";
 * assert.equal(indexDbPath({ root: "/r" }), "/r/index/runs.duckdb");
 * ```
 */
export function indexDbPath(values: ParsedFlags["values"]): string {
  const db = pathFlag(values, "db");
  if (db === "") throw new UsageError("--db must not be empty");
  return db === undefined ? indexPath(resolveRootFlag(values)) : resolve(db);
}

/**
 * The reader's DuckDB memory limit: `--memory-limit SIZE`, else
 * {@linkcode READER_MEMORY_LIMIT_DEFAULT}; a size DuckDB does not take is a
 * usage error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readerMemoryLimitFlag } from "./_query.ts";
 * import { READER_THREADS } from "../indexer/queries.ts";
 * assert.equal(readerMemoryLimitFlag({}), `${256 * READER_THREADS}MB`); // 256MB a DuckDB thread
 * assert.equal(readerMemoryLimitFlag({ "memory-limit": "1 gib" }), "1GiB");
 * assert.throws(() => readerMemoryLimitFlag({ "memory-limit": "lots" }), /--memory-limit "lots"/);
 * ```
 */
export function readerMemoryLimitFlag(values: ParsedFlags["values"]): string {
  return memoryLimitFlag(values) ?? READER_MEMORY_LIMIT_DEFAULT;
}

/**
 * The output format: `--format F` (one of `formats`), `--json` for `json`,
 * else `fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatFlag } from "./_query.ts";
 * assert.equal(formatFlag({ json: true }), "json");
 * ```
 */
export function formatFlag(
  values: ParsedFlags["values"],
  formats: readonly string[] = OUTPUT_FORMATS,
  fallback = "table",
): OutputFormat {
  const raw = stringFlag(values, "format");
  if (values.json === true) {
    if (raw !== undefined && raw !== "json") {
      throw new UsageError(`--json contradicts --format ${JSON.stringify(raw)}`);
    }
    return "json";
  }
  if (raw === undefined) return fallback as OutputFormat;
  if (!formats.includes(raw)) {
    throw new UsageError(
      `--format must be one of ${formats.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw as OutputFormat;
}

/** A repeatable string flag's values (`--where A --where B`). */
export function listFlag(values: ParsedFlags["values"], name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== "string") throw new UsageError(`--${name} needs a value`);
    return x;
  });
}

/**
 * Run `fn`, turning the query library's input errors (bad expression,
 * field, sort, instant, ambiguous prefix, a regular expression DuckDB
 * refuses) into {@linkcode UsageError}s.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { asUsage } from "./_query.ts";
 * import { UsageError } from "./_args.ts";
 * import { parseFilter } from "../indexer/query/filter.ts";
 * // A bad --where is the user's mistake: a UsageError (exit 2) with the parser's message.
 * await assert.rejects(
 *   asUsage(async () => parseFilter("summary.win_rate >")),
 *   (err) => err instanceof UsageError && /^Unexpected end of expression/.test(err.message),
 * );
 * // Any other error passes through as it is; a result comes back unchanged.
 * await assert.rejects(asUsage(() => Promise.reject(new RangeError("disk"))), RangeError);
 * assert.equal(await asUsage(() => Promise.resolve(3)), 3);
 * ```
 */
export async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (
      err instanceof QueryUsageError || err instanceof AmbiguousRunError ||
      err instanceof RunNamedTwiceError || err instanceof FilterSyntaxError ||
      err instanceof InstantFormatError
    ) {
      throw new UsageError(err.message);
    }
    if (err instanceof Error && /regular expression|regex/i.test(err.message)) {
      throw new UsageError(`--where: ${err.message.split("\n")[0]}`);
    }
    throw err;
  }
}

/**
 * The flags that pick runs by what they are, shared by `runs`, `trials` and
 * `export` ("the same flags as runs", issue 11): `--type` and `--status`
 * (repeatable), `--since` and `--until` (creation time, both inclusive; a
 * date alone is its UTC day, all of it for `--until`), `--all` (archived runs too).
 */
export const RUN_SELECT_FLAGS = {
  "type": { type: "string", multiple: true },
  "status": { type: "string", multiple: true },
  "since": { type: "string" },
  "until": { type: "string" },
  "all": { type: "boolean" },
} as const;

/** What {@linkcode runSelection} reads from {@linkcode RUN_SELECT_FLAGS}. */
export interface RunSelection {
  /** Run types (any of). */
  types: string[];
  /** Run statuses (any of). */
  statuses: string[];
  /** Created at or after, ms. */
  sinceMs: number | undefined;
  /** Created before, ms (one past the inclusive `--until`). */
  untilMs: number | undefined;
  /** Archived runs too. */
  includeArchived: boolean;
}

/**
 * The run selection of the flags; a bad status, an empty type, a time
 * that is not one or a `--since` after `--until` is a usage error naming
 * the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runSelection } from "./_query.ts";
 * const s = runSelection({ type: ["policy"], until: "2026-01-20", all: true });
 * assert.deepEqual(s.types, ["policy"]);
 * assert.equal(s.untilMs, Date.UTC(2026, 0, 21)); // the whole day
 * const at = Date.UTC(2026, 0, 20, 12);
 * assert.equal(runSelection({ until: "2026-01-20T12:00:00Z" }).untilMs, at + 1); // that instant too
 * assert.equal(runSelection({ since: "2026-01-20t12:00:00z" }).sinceMs, at); // RFC 3339 allows t, z
 * // Finer than a millisecond: runs created at .123 are before .1234, at .124 after it.
 * assert.equal(runSelection({ since: "2026-01-20T12:00:00.1234Z" }).sinceMs, at + 124);
 * assert.equal(runSelection({ until: "2026-01-20T12:00:00.1234Z" }).untilMs, at + 124);
 * assert.throws(() => runSelection({ status: ["done"] }), /--status must be one of/);
 * // The same day is a whole day; swapped bounds are refused.
 * assert.equal(runSelection({ since: "2026-01-20", until: "2026-01-20" }).sinceMs, Date.UTC(2026, 0, 20));
 * assert.throws(
 *   () => runSelection({ since: "2026-01-21", until: "2026-01-20" }),
 *   /--since 2026-01-21 is after --until 2026-01-20: no run can match/,
 * );
 * ```
 */
export function runSelection(values: ParsedFlags["values"]): RunSelection {
  const types = listFlag(values, "type");
  if (types.some((t) => t === "")) throw new UsageError("--type must not be empty");
  const statuses = listFlag(values, "status");
  for (const raw of statuses) {
    if (!(RUN_STATUSES as readonly string[]).includes(raw)) {
      throw new UsageError(
        `--status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(raw)}`,
      );
    }
  }
  const since = stringFlag(values, "since");
  const until = stringFlag(values, "until");
  const sinceAt = since === undefined ? undefined : instantFlag("--since", since);
  // Inclusive: a date takes in its whole day (its last instant is half a ms before the next
  // day: every time is whole ms), an instant the runs created at it.
  const untilLastAt = until === undefined
    ? undefined
    : instantFlag("--until", until) + (isDateOnly(until) ? 86_400_000 - 0.5 : 0);
  if (sinceAt !== undefined && untilLastAt !== undefined && sinceAt > untilLastAt) {
    // Swapped bounds are a typo, not a question whose answer is "no runs". (The same instant
    // finer than a ms on both sides is no typo: a window no whole ms is in, and no run.)
    throw new UsageError(`--since ${since} is after --until ${until}: no run can match`);
  }
  // Times are whole ms: a bound finer than that takes the first whole ms at or after it.
  const sinceMs = sinceAt === undefined ? undefined : Math.ceil(sinceAt);
  const untilMs = untilLastAt === undefined ? undefined : Math.floor(untilLastAt) + 1;
  return { types, statuses, sinceMs, untilMs, includeArchived: values.all === true };
}

/**
 * The `--sort` fields a table adds as extra columns: those it has no column
 * for (`hasColumn` false) and `--columns` does not name, each once (a table
 * sorted by `summary.calls` shows the calls). Csv and json keep `--columns`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sortOnlyColumns } from "./_query.ts";
 * const sort = ["summary.calls", "run_id", "config.fee_bps", "summary.calls"]
 *   .map((field) => ({ field, descending: false }));
 * const hasColumn = (field: string) => field === "run_id";
 * assert.deepEqual(sortOnlyColumns({ sort, columns: ["config.fee_bps"] }, hasColumn), [
 *   "summary.calls",
 * ]);
 * ```
 */
export function sortOnlyColumns(
  query: { sort?: readonly { field: string }[]; columns?: readonly string[] },
  hasColumn: (field: string) => boolean,
): string[] {
  const columns = query.columns ?? [];
  const fields = new Set((query.sort ?? []).map((k) => k.field));
  return [...fields].filter((f) => !hasColumn(f) && !columns.includes(f));
}

/** A lowercase `t` between an instant's date and time (RFC 3339, 5.6). */
const LOWER_T = /^(\s*\d{4}-\d{2}-\d{2})t(?=\d)/;
/** A lowercase `z` (UTC) ending an instant (RFC 3339, 5.6). */
const LOWER_Z = /(\d)z(\s*)$/;

/**
 * The ms of `--since`/`--until` TEXT. RFC 3339 allows a lowercase `t`
 * between date and time and a lowercase `z` for UTC (a query audit saw
 * `2025-01-01T00:00:00z` refused): they read as `T` and `Z`.
 */
function instantFlag(flag: string, text: string): number {
  const read = text.replace(LOWER_T, "$1T").replace(LOWER_Z, "$1Z$2");
  try {
    return parseInstant(read);
  } catch (err) {
    // The error names the text as given, not as read.
    const message = err instanceof InstantFormatError
      ? new InstantFormatError(text).message
      : err instanceof Error
      ? err.message
      : String(err);
    throw new UsageError(`${flag}: ${message}`);
  }
}

/**
 * `--legacy-db PATH` of the commands that take a run (`tag`, `note`,
 * `archive`, `restore`, `compare`, `trials`, `report`): the legacy DuckDB
 * whose runs their prefixes are checked against
 * ({@linkcode resolveBesideLegacy}), as `runs` and `show` list them.
 * Named, it must be a DuckDB file that opens (`LegacyDbNotFoundError`, exit
 * 1, before anything is resolved or written); `undefined` without the flag
 * (the default path, when there, is read). Before this flag, a legacy file
 * elsewhere (a rehearsal's) let a prefix resolve by the index alone.
 */
export async function legacyDbFlagPath(values: ParsedFlags["values"]): Promise<string | undefined> {
  const raw = legacyDbFlag(values);
  if (raw === undefined) return undefined;
  const { activeLegacyDbPath } = await import("../legacy/active.ts");
  return await activeLegacyDbPath(raw);
}

/** `--legacy-db PATH` as given (`undefined` without it); empty is a usage error. */
export function legacyDbFlag(values: ParsedFlags["values"]): string | undefined {
  const raw = stringFlag(values, "legacy-db");
  if (raw === "") throw new UsageError("--legacy-db must not be empty");
  return raw;
}

/**
 * The runs `given` name on a command line (`resolve`: SPEC 11's rule, an
 * exact id or a unique prefix of the index's), checked in dual mode against
 * the legacy DuckDB (at its default path, or `legacyDbPath` from
 * {@linkcode legacyDbFlagPath}), whose runs `ledger runs` and `ledger show`
 * list beside the index's. The one place `compare`, `tag`, `note`,
 * `archive`, `restore`, `trials` and `report` resolve runs through:
 *
 * - A prefix the index resolved to one of its runs that also starts the id
 *   of a run only the legacy file holds is refused as ambiguous, naming both
 *   (a probe: `compare abc- new-1` compared `abc-ledger-1` while `show abc-`
 *   listed `abc-legacy-1` beside it, and `tag abc-` would tag a run the user
 *   could not tell apart). Exact ids are not looked up.
 * - A prefix that is itself the id of a run only the legacy file holds names
 *   that run, which the index does not know ({@linkcode UnknownRunError},
 *   exit 1), whether the index found one run it starts (a probe: `tag
 *   legfail` was refused as ambiguous beside `legfail-retry`) or several
 *   (helper-291: `tag both` beside `both-a` and `both-b` was "ambiguous",
 *   its candidates leaving out `both`): an exact id never means another run.
 * - A legacy file that cannot be read (locked by a writer) is said on
 *   stderr, for `command`, and the index's answer stands.
 */
export async function resolveBesideLegacy(
  given: readonly string[],
  resolve: (given: readonly string[]) => Promise<string[]>,
  command: string,
  legacyDbPath: string | undefined,
): Promise<string[]> {
  let resolved: string[];
  try {
    resolved = await resolve(given);
  } catch (err) {
    if (!(err instanceof AmbiguousRunError)) throw err;
    const legacyIds = await legacyRunIdsStarting(err.prefix, command, legacyDbPath, "is ambiguous");
    if (legacyIds?.includes(err.prefix)) throw new UnknownRunError(err.prefix);
    // The legacy-only runs it starts are candidates too, as `show` names them (helper-297).
    const legacyOnly = (legacyIds ?? []).filter((id) => !err.candidates.includes(id));
    if (legacyOnly.length === 0 || err.total > err.candidates.length) throw err;
    const all = [...err.candidates, ...legacyOnly.map((id) => `${id} (only in the legacy DuckDB)`)];
    throw new AmbiguousRunError(err.prefix, all.slice(0, CANDIDATES_SHOWN_MAX), all.length);
  }
  for (const [i, prefix] of given.entries()) {
    const runId = resolved[i];
    if (prefix === runId) continue;
    const legacyIds = await legacyRunIdsStarting(prefix, command, legacyDbPath, `means ${runId}`);
    const others = (legacyIds ?? []).filter((id) => id !== runId);
    if (others.includes(prefix)) throw new UnknownRunError(prefix);
    if (others.length > 0) {
      const all = [runId, ...others.map((id) => `${id} (only in the legacy DuckDB)`)];
      throw new AmbiguousRunError(prefix, all.slice(0, CANDIDATES_SHOWN_MAX), all.length);
    }
  }
  return resolved;
}

/**
 * The ids of the legacy DuckDB's runs that start with `prefix`, once each;
 * `undefined` out of dual mode, or when the file cannot be read, which is
 * said on stderr for `command` with what the index alone made of the prefix
 * (`meaning`): not silently (a probe: a locked legacy file let `tag legfail`
 * tag legfail-retry).
 */
async function legacyRunIdsStarting(
  prefix: string,
  command: string,
  legacyDbPath: string | undefined,
  meaning: string,
): Promise<string[] | undefined> {
  // A named file was checked by legacyDbFlagPath; the default one may be absent.
  if (legacyDbPath === undefined && !(await defaultLegacyDbThere())) return undefined;
  const { readLegacyRows } = await import("../legacy/read.ts");
  const read = await readLegacyRows(legacyDbPath ?? DEFAULT_LEGACY_DB_PATH, {
    runIdPrefix: prefix,
  });
  if (!read.available) {
    for (const w of read.warnings) {
      console.error(
        `ledger ${command}: warning: ${w} (the prefix ${JSON.stringify(prefix)} ${meaning})`,
      );
    }
    return undefined;
  }
  return [...new Set(read.rows.map((r) => r.run_id))];
}

/** Whether the default legacy DuckDB is there for this process: dual mode's default. */
async function defaultLegacyDbThere(): Promise<boolean> {
  try {
    return (await Deno.stat(DEFAULT_LEGACY_DB_PATH)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false; // dual mode has ended
    // Not granted (a `deno run` scoped to another root): no dual mode for this process, as for
    // `runs` and `show` (legacy/active.ts).
    if (err instanceof Deno.errors.NotCapable) return false;
    throw err;
  }
}
