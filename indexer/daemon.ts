/**
 * The index daemon: keeps the index of one ledger root up to date. Every
 * interval it lists the part files with their sizes and mtimes (never their
 * contents) and runs an incremental rebuild only when something changed,
 * or when the process of a running run on this host ended (which writes
 * nothing to the log; the rebuild records the run as `stale`).
 * Rebuilds never overlap (one loop, one rebuild at a time). Stopping (the
 * abort signal, wired to SIGINT/SIGTERM by the CLI) lets the current rebuild
 * finish, then returns.
 *
 * One daemon per root: `<root>/index/daemon.lock` is held with an exclusive
 * `flock` and names the holder (pid, host). The kernel drops the lock when
 * the holder dies, so a stale lock file is simply taken over.
 *
 * Every log line has one shape, `<ISO time> <level> <message>`, or one JSON
 * object per line for machines (see {@linkcode formatLogEntry}).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { eventsDir, indexPath } from "../ledger/paths.ts";
import { exists } from "../ledger/exists.ts";
import { UnreachableDayError } from "../ledger/errors.ts";
import { assert } from "../ledger/assert.ts";
import { countOf, shownAndMore } from "../ledger/count_text.ts";
import { listPartFiles } from "./_files.ts";
import {
  changedFilesWarning,
  checkRebuildOptions,
  endedRunProcesses,
  ForeignIndexFileError,
  isEmptyLogRefusal,
  isSourceRefusal,
  notReadWarning,
  RebuildError,
  rebuildIndex,
  RebuildInterruptedError,
  type RebuildReport,
  requireRootDirectory,
} from "./rebuild.ts";
import { TIMER_MS_MAX } from "../ledger/limits.ts";
import { probeLiveness } from "./_liveness.ts";
import { withIndex } from "./queries.ts";

/**
 * Default time between two checks of the log: 30 s.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DAEMON_INTERVAL_MS_DEFAULT } from "./daemon.ts";
 * // runDaemon looks at the log this often when no `intervalMs` is given: every 30 s, in ms.
 * assert.equal(DAEMON_INTERVAL_MS_DEFAULT, 30 * 1000);
 * ```
 */
export const DAEMON_INTERVAL_MS_DEFAULT = 30_000;

/**
 * Options for {@linkcode runDaemon}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DaemonOptions, runDaemon } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const stop = new AbortController();
 *   let started = false;
 *   const options: DaemonOptions = {
 *     intervalMs: 1000,
 *     signal: stop.signal,
 *     // Called once the root's lock is held: stopping here ends the daemon before its first check.
 *     onStart: () => {
 *       started = true;
 *       stop.abort();
 *     },
 *   };
 *   assert.equal((await runDaemon(root, options)).checks, 0);
 *   assert.ok(started);
 *   await assert.rejects(runDaemon(root, { intervalMs: 0 }), RangeError); // must be > 0
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface DaemonOptions {
  /** Time between two checks of the log. @default {DAEMON_INTERVAL_MS_DEFAULT} */
  intervalMs?: number;
  /** The index file. @default {`<root>/index/runs.duckdb`} */
  dbPath?: string;
  /** Passed to each rebuild (see `RebuildOptions.staleAfterMs`). @default {24 h} */
  staleAfterMs?: number;
  /** Stops the daemon after the current step. @default {undefined} (runs until aborted) */
  signal?: AbortSignal;
  /**
   * Receives every log entry: `info` per rebuild, `warn` when a damaged
   * index was rebuilt in full, `error` per failed rebuild, `debug` for
   * rebuild progress and "no change". @default {text lines on stdout, no debug}
   */
  log?: (entry: DaemonLogEntry) => void;
  /** DuckDB memory limit of each rebuild (see `RebuildOptions.memoryLimit`). @default {"768MB"} */
  memoryLimit?: string;
  /**
   * Called once the daemon holds the root's lock, before the first check: a
   * daemon that another one keeps out never gets here, so a "watching" line
   * logged from it is true. @default {undefined}
   */
  onStart?: () => void;
}

/**
 * How much a log entry matters.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DaemonLogLevel, recoveredLogEntry } from "./daemon.ts";
 * // A log that shows entries at or above a threshold, in the order of how much they matter.
 * const order: DaemonLogLevel[] = ["debug", "info", "warn", "error"];
 * const shown = (level: DaemonLogLevel, min: DaemonLogLevel) =>
 *   order.indexOf(level) >= order.indexOf(min);
 * const level: DaemonLogLevel = recoveredLogEntry("not a valid DuckDB database file").level;
 * // An index rebuilt in full from the log is a warning: shown at warn, not at error.
 * assert.ok(shown(level, "warn") && !shown(level, "error"));
 * assert.ok(!shown("debug", "info"));
 * ```
 */
export type DaemonLogLevel = "debug" | "info" | "warn" | "error";

/**
 * One log entry of the daemon: a level, a message, and fields for machines.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DaemonLogEntry, formatLogEntry } from "./daemon.ts";
 * const entry: DaemonLogEntry = {
 *   level: "error",
 *   msg: "rebuild failed: disk full",
 *   fields: { error: "disk full" },
 * };
 * const at = new Date(Date.UTC(2026, 0, 20));
 * // The text line carries the message; the JSON line adds the fields for machines.
 * const line = formatLogEntry(entry, false, at);
 * assert.equal(line, "2026-01-20T00:00:00.000Z error rebuild failed: disk full");
 * assert.equal(JSON.parse(formatLogEntry(entry, true, at)).error, "disk full");
 * ```
 */
export interface DaemonLogEntry {
  /** How much it matters. */
  level: DaemonLogLevel;
  /** The message, complete for a human reader. */
  msg: string;
  /** Fields for machines (snake_case), included in the JSON form. */
  fields?: Record<string, string | number | boolean | null>;
}

/**
 * One log line: `<ISO time> <level> <message>`, or with `json` one JSON
 * object `{"time", "level", "msg", ...fields}`. Control characters in the
 * text form are escaped, so a path cannot forge a second line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatLogEntry } from "./daemon.ts";
 * const at = new Date(Date.UTC(2026, 0, 20));
 * const line = formatLogEntry({ level: "info", msg: "hello" }, false, at);
 * assert.equal(line, "2026-01-20T00:00:00.000Z info hello");
 * ```
 */
export function formatLogEntry(entry: DaemonLogEntry, json: boolean, at = new Date()): string {
  const time = at.toISOString();
  if (json) {
    return JSON.stringify({ time, level: entry.level, msg: entry.msg, ...entry.fields });
  }
  // deno-lint-ignore no-control-regex
  const msg = entry.msg.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return `${time} ${entry.level} ${msg}`;
}

/**
 * What a daemon did before it stopped.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type DaemonSummary, runDaemon } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   // A directory where the rebuild's lock file goes: every rebuild fails, the daemon goes on.
 *   await Deno.mkdir(`${root}/index/.runs.duckdb.rebuild.lock`, { recursive: true });
 *   const stop = new AbortController();
 *   const summary: DaemonSummary = await runDaemon(root, {
 *     signal: stop.signal,
 *     log: (entry) => {
 *       if (entry.level === "error") stop.abort(); // stop at the first failed rebuild
 *     },
 *   });
 *   assert.deepEqual(summary, { checks: 1, rebuilds: 1, failures: 1 });
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface DaemonSummary {
  /** Checks of the log. */
  checks: number;
  /** Rebuilds run. */
  rebuilds: number;
  /** Rebuilds that failed (the daemon keeps going). */
  failures: number;
}

/**
 * Another live daemon holds the lock of this root.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { acquireDaemonLock, DaemonLockedError } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * const held = await acquireDaemonLock(root); // a daemon runs on root
 * try {
 *   let message = "";
 *   try {
 *     (await acquireDaemonLock(root)).release();
 *   } catch (err) {
 *     if (!(err instanceof DaemonLockedError)) throw err;
 *     message = err.message; // names the holder
 *   }
 *   assert.ok(message.includes(`Another daemon is already running for this root (pid ${Deno.pid}`));
 * } finally {
 *   held.release();
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class DaemonLockedError extends Error {
  /** The lock file. */
  readonly lockPath: string;
  /** Create the error for `lockPath` and what it says about its holder. */
  constructor(lockPath: string, holder: string) {
    super(`Another daemon is already running for this root (${holder}); lock file ${lockPath}`);
    this.name = "DaemonLockedError";
    this.lockPath = lockPath;
  }
}

/**
 * The daemon lock file of a root: `<root>/index/daemon.lock`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { daemonLockPath } from "./daemon.ts";
 * assert.equal(daemonLockPath("/srv/ledger"), "/srv/ledger/index/daemon.lock");
 * ```
 */
export function daemonLockPath(root: string): string {
  return join(root, "index", "daemon.lock");
}

/**
 * Run the daemon on `root` until `signal` aborts. Throws
 * {@linkcode DaemonLockedError} when another daemon holds the root.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { runDaemon } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "a1" });
 *   await writer.close();
 *   const stop = new AbortController(); // the CLI aborts it on SIGINT or SIGTERM
 *   const rebuilds: unknown[] = [];
 *   const summary = await runDaemon(root, {
 *     intervalMs: 20,
 *     signal: stop.signal,
 *     log: (entry) => {
 *       if (entry.fields?.event === "rebuild") rebuilds.push(entry.fields.runs);
 *       // Stop at the second check (or at a failed rebuild, which would be retried forever).
 *       if (entry.msg === "no change in the log" || entry.level === "error") stop.abort();
 *     },
 *   });
 *   // The first check indexes the log; the second sees no change and rebuilds nothing.
 *   assert.deepEqual(summary, { checks: 2, rebuilds: 1, failures: 0 });
 *   assert.deepEqual(rebuilds, [1]); // the index has 1 run
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function runDaemon(root: string, options: DaemonOptions = {}): Promise<DaemonSummary> {
  const intervalMs = options.intervalMs ?? DAEMON_INTERVAL_MS_DEFAULT;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0 && intervalMs <= TIMER_MS_MAX)) {
    throw new RangeError(`intervalMs must be > 0 and <= ${TIMER_MS_MAX}, got ${intervalMs}`);
  }
  // What every rebuild will be given, checked before the lock: a bad one would fail them all.
  checkRebuildOptions(options);
  await requireRootDirectory(root);
  const dbPath = options.dbPath ?? indexPath(root);
  const log = options.log ??
    ((entry: DaemonLogEntry) => {
      if (entry.level !== "debug") console.log(formatLogEntry(entry, false));
    });
  const debug = (msg: string) => log({ level: "debug", msg });
  let lock = await acquireDaemonLock(root);
  const summary: DaemonSummary = { checks: 0, rebuilds: 0, failures: 0 };
  let last: Snapshot | undefined;
  let deniedBefore: string | undefined; // the last rebuild's permission error, said once
  try {
    options.onStart?.();
    while (!options.signal?.aborted) {
      summary.checks++;
      // An ops audit: with index/ deleted under it, a daemon held a lock on a file no path
      // named, and a second daemon started beside it (each rebuilding on the other's publish).
      const kept = await keepDaemonLock(root, lock);
      if (kept !== lock) {
        lock = kept;
        log(lockRetakenLogEntry());
      }
      const snapshot = await logSnapshot(root, dbPath);
      const changed = last === undefined || snapshot.log !== last.log ||
        snapshot.index !== last.index;
      // An unchanged log can still hide a change of status: a run's process killed (kill -9,
      // a crash) writes nothing. The rebuild records it (`stale`); without this check it
      // waited for the next event of any run, or for the 24-hour silence rule.
      if (changed || await runningProcessEnded(dbPath, debug)) {
        summary.rebuilds++;
        try {
          const report = await rebuildIndex(root, {
            dbPath,
            staleAfterMs: options.staleAfterMs,
            memoryLimit: options.memoryLimit,
            onProgress: debug,
            // A stop lets a rebuild under way finish, but not a wait for another process's
            // (an ops audit: a daemon behind a stopped rebuild ignored SIGTERM until SIGKILL).
            lockWaitSignal: options.signal,
            onWait: (m) => log({ level: "info", msg: m }),
          });
          if (report.recoveredFrom !== undefined) log(recoveredLogEntry(report.recoveredFrom));
          const changed = changedFilesLogEntry(report);
          if (changed !== undefined) log(changed);
          const notRead = notReadWarning(report.notRead);
          if (notRead !== undefined) {
            log({ level: "warn", msg: notRead, fields: { not_read: report.notRead!.count } });
          }
          log(rebuildLogEntry(report));
          deniedBefore = undefined;
          // The log as it was before this rebuild, the index as this rebuild left it.
          last = { log: snapshot.log, index: await indexState(dbPath) };
        } catch (err) {
          // Every pass would be refused: exit 1. Another source's index, or a --db that is no
          // index (a bad-input probe: a daemon logged that refusal every interval, forever).
          if (isSourceRefusal(err) || isForeignFileRefusal(err)) throw err;
          if (err instanceof RebuildInterruptedError && options.signal?.aborted) {
            summary.rebuilds--; // stopped before it ran (a probe: counted in the stop's summary)
            break;
          }
          summary.failures++;
          const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
          // A folder or file it may not read or write: tried again every interval (a review:
          // recorded as seen, an index/ made writable again was never rebuilt into), said once.
          const denied = err instanceof Deno.errors.PermissionDenied ||
            (err instanceof Error && err.cause instanceof Deno.errors.PermissionDenied);
          const again = denied && message === deniedBefore;
          deniedBefore = denied ? message : undefined;
          log({
            level: again ? "debug" : "error",
            msg: `rebuild failed${again ? " again" : ""}: ${message}`,
            fields: { error: message },
          });
          // An emptied log (moved away, unmounted), or a root gone altogether, is refused again
          // until the log changes (restored, remounted): said once, not every interval (an ops
          // audit: a missing root logged an error every 30 s).
          if (
            isEmptyLogRefusal(err) ||
            (err instanceof Error && err.cause instanceof UnreachableDayError) ||
            !(await exists(root))
          ) {
            last = { log: snapshot.log, index: await indexState(dbPath) };
          }
        }
      } else {
        debug("no change in the log");
        deniedBefore = undefined; // read again as it was: a refusal from now on is news (a review)
      }
      await sleep(intervalMs, options.signal);
    }
  } finally {
    lock.release();
  }
  return summary;
}

/**
 * What a daemon says when it took its lock again ({@linkcode keepDaemonLock}
 * gave a new one): the local daemon and the bucket daemon alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { lockRetakenLogEntry } from "./daemon.ts";
 * assert.equal(lockRetakenLogEntry().level, "warn");
 * assert.match(lockRetakenLogEntry().msg, /removed or replaced: took it again$/);
 * ```
 */
export function lockRetakenLogEntry(): DaemonLogEntry {
  return { level: "warn", msg: "the daemon lock file was removed or replaced: took it again" };
}

/**
 * What a rebuild that could not update the index says (`RebuildReport.recoveredFrom`):
 * the daemons log it at `warn`, `rebuild-index` prints it as a warning.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { recoveredLogEntry } from "./daemon.ts";
 * const entry = recoveredLogEntry("not a valid DuckDB database file");
 * assert.equal(entry.level, "warn");
 * assert.match(entry.msg, /^the index could not be updated \(not a valid .*\); rebuilt it in full/);
 * ```
 */
export function recoveredLogEntry(reason: string): DaemonLogEntry {
  return {
    level: "warn",
    msg: `the index could not be updated (${reason}); rebuilt it in full from the log`,
    fields: { reason },
  };
}

/**
 * The warning entry of a rebuild that found part files changed where they
 * were indexed ({@linkcode RebuildReport.changedFiles}), or undefined for
 * none: said once, by the rebuild that found them (the next one reads them
 * as they are now), by the local daemon and the bucket daemon.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { changedFilesLogEntry } from "./daemon.ts";
 * const changedFiles = { shown: ["day=2026-01-20/a.jsonl (gone from the log)"], count: 1 };
 * const entry = changedFilesLogEntry({ changedFiles });
 * assert.equal(entry?.level, "warn");
 * assert.equal(entry?.fields?.changed_files, 1);
 * assert.equal(changedFilesLogEntry({ changedFiles: { shown: [], count: 0 } }), undefined);
 * ```
 */
export function changedFilesLogEntry(
  report: Pick<RebuildReport, "changedFiles">,
): DaemonLogEntry | undefined {
  const msg = changedFilesWarning(report.changedFiles);
  if (msg === undefined) return undefined;
  return { level: "warn", msg, fields: { changed_files: report.changedFiles.count } };
}

/** Whether `err` is a rebuild refused because `--db` is a file that is not an index. */
function isForeignFileRefusal(err: unknown): boolean {
  return err instanceof RebuildError && err.cause instanceof ForeignIndexFileError;
}

/**
 * The log entry of a rebuild (`event: "rebuild"`), as the local daemon and
 * the bucket daemon (`storage/bucket_index.ts`) write it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rebuildLogEntry } from "./daemon.ts";
 * import type { RebuildReport } from "./rebuild.ts";
 * const report = { mode: "incremental", filesRead: 2, eventsRead: 10, errorsFound: 0, events: 10,
 *   runs: 1, errors: 0, conflicts: 0, reusedRuns: { shown: [] as string[], count: 0 },
 *   elapsedMs: 42 } as RebuildReport;
 * const entry = rebuildLogEntry(report);
 * assert.equal(entry.fields?.event, "rebuild");
 * assert.match(entry.msg, /^rebuild incremental: read 2 files/);
 * const moved = rebuildLogEntry({ ...report, mode: "full", fullBecause: "the index format changed" });
 * assert.match(moved.msg, /^rebuild full \(the index format changed\): read 2 files/);
 * ```
 */
export function rebuildLogEntry(r: RebuildReport): DaemonLogEntry {
  return {
    level: "info",
    msg: `rebuild ${r.mode}${r.fullBecause === undefined ? "" : ` (${r.fullBecause})`}: ` +
      `read ${r.filesRead} files ` +
      `(${r.eventsRead} events, ${r.errorsFound} errors); index has ${r.events} events, ` +
      `${r.runs} runs, ${r.errors} ingest errors` +
      // Two events under one id, one kept: said on every rebuild while the log holds them.
      (r.conflicts > 0 ? `, ${countOf(r.conflicts, "event id")} with conflicting copies` : "") +
      (r.reusedRuns.count > 0
        ? `, ${countOf(r.reusedRuns.count, "run id")} given to two runs (merged): ` +
          shownAndMore(r.reusedRuns.shown.map((id) => JSON.stringify(id)), r.reusedRuns.count)
        : "") +
      `; ${r.elapsedMs} ms`,
    fields: {
      event: "rebuild",
      mode: r.mode,
      files_read: r.filesRead,
      events_read: r.eventsRead,
      errors_found: r.errorsFound,
      events: r.events,
      runs: r.runs,
      ingest_errors: r.errors,
      duplicate_conflicts: r.conflicts,
      reused_run_ids: r.reusedRuns.count,
      elapsed_ms: r.elapsedMs,
      ...(r.fullBecause === undefined ? {} : { full_because: r.fullBecause }),
    },
  };
}

/**
 * Whether the process of a running run on this host ended since the index
 * recorded it alive (or was never checked): what the rebuild's liveness
 * check would now record differently. False when the check cannot run
 * here (no `ps`, no host name) or the index cannot be read (said at debug
 * level; the next log change rebuilds anyway).
 */
async function runningProcessEnded(dbPath: string, debug: (msg: string) => void): Promise<boolean> {
  const probe = probeLiveness();
  if (probe.kind === "skipped") return false;
  let ended: number[];
  try {
    ended = await withIndex(dbPath, (conn) => endedRunProcesses(conn, probe));
  } catch (err) {
    // The index cannot be read, or the process table cannot be trusted.
    if (!(err instanceof Error)) throw err;
    debug(`liveness not checked: ${err.message.split("\n")[0]}`);
    return false;
  }
  if (ended.length > 0) {
    debug(`the process of a running run ended (pid ${ended.join(", ")})`);
  }
  return ended.length > 0;
}

interface Snapshot {
  log: string;
  index: string;
}

/**
 * The cheap change signal: names, sizes and mtimes of the part files, and
 * the index file's own size and mtime (an index deleted, damaged or
 * replaced by hand is rebuilt).
 */
async function logSnapshot(root: string, dbPath: string): Promise<Snapshot> {
  let files: Awaited<ReturnType<typeof listPartFiles>>;
  try {
    files = await listPartFiles(root);
  } catch (err) {
    // A day on a disk not mounted: the rebuild refuses it (and is said) until the link leads
    // to a folder again, or is removed.
    if (err instanceof UnreachableDayError) {
      return { log: `unreachable ${err.entry} -> ${err.target}`, index: await indexState(dbPath) };
    }
    // A folder or part this process may not read: rebuilt (and refused) while it stays so, said
    // once (a probe: the daemon exited 1, and under systemd's Restart=on-failure failed every
    // 5 s).
    if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
    return { log: `unreadable ${err.message}`, index: await indexState(dbPath) };
  }
  // With no part file, whether `events/` is there decides the rebuild: missing, it is refused
  // (moved away, unmounted); there and empty, the index follows it (retention). A probe: after
  // a refusal, `events/` made again empty looked like no change, and the daemon kept serving
  // the old runs while `rebuild-index` emptied the index.
  const dir = files.length > 0 || await exists(eventsDir(root)) ? "events/" : "no events/";
  return {
    // While a batch appends to a part its time moves and its acknowledged size does not.
    log: JSON.stringify([
      dir,
      files.map((f) => [f.file, f.sizeBytes, f.pendingBytes > 0 ? "pending" : f.mtimeMs]),
    ]),
    index: await indexState(dbPath),
  };
}

/**
 * The index file's state for the daemons' change checks: its size and
 * mtime, or `absent`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { indexState } from "./daemon.ts";
 * assert.equal(await indexState("/nonexistent/index/runs.duckdb"), "absent");
 * ```
 */
export async function indexState(dbPath: string): Promise<string> {
  try {
    const info = await Deno.stat(dbPath);
    return `${info.size}:${info.mtime?.getTime() ?? 0}`;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    return "absent";
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * A held daemon lock.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { acquireDaemonLock, type DaemonLock, DaemonLockedError } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const lock: DaemonLock = await acquireDaemonLock(root);
 *   // While it is held, a second daemon on the same root is refused.
 *   await assert.rejects(acquireDaemonLock(root), DaemonLockedError);
 *   lock.release();
 *   (await acquireDaemonLock(root)).release(); // released: the next daemon takes it
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface DaemonLock {
  /** Release the lock (the file stays; the next daemon reuses it). */
  release(): void;
  /**
   * Whether the lock file's path still names the file this lock holds (not
   * removed with `index/`, nor replaced): otherwise a second daemon could
   * take a new file there.
   */
  stillHeld(): Promise<boolean>;
  /**
   * Whether `info` (of a file opened by its path) is the file this lock
   * holds: compared by device and inode, which no rename can race.
   */
  holds(info: Deno.FileInfo): Promise<boolean>;
}

/**
 * Take the daemon lock of `root` or throw {@linkcode DaemonLockedError}
 * naming the holder.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { acquireDaemonLock, daemonLockPath } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const lock = await acquireDaemonLock(root);
 *   const holder = JSON.parse(await Deno.readTextFile(daemonLockPath(root)));
 *   assert.equal(holder.pid, Deno.pid); // the lock file names its holder
 *   lock.release();
 *   (await acquireDaemonLock(root)).release(); // released: the next daemon takes it
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function acquireDaemonLock(root: string): Promise<DaemonLock> {
  const file = await openLockFile(root, true);
  assert(file !== undefined, "a lock file is made with its root");
  return await takeLock(file, daemonLockPath(root));
}

/** Options of {@linkcode keepDaemonLock}. */
export interface KeepDaemonLockOptions {
  /**
   * Make the root again when it is gone, and take a new lock there: for a
   * daemon that makes its root anyway (the bucket daemon's mirror and
   * index), so that it never runs on a root without its lock. Otherwise a
   * root that is gone keeps the old lock and is not made again (an
   * operator's rename back would fail on it).
   * @default {false}
   */
  createRoot?: boolean;
}

/**
 * The lock a daemon keeps after checking it: `lock` while its path still
 * names the file it holds (or the root is gone: nothing to take), else a new
 * lock on the file now there, with `lock` released. Throws
 * {@linkcode DaemonLockedError} when another daemon took that file.
 *
 * The file opened at the path is compared with the held one by device and
 * inode before any lock is tried: a root renamed away and back between the
 * check and the take makes the file ours again, and trying its lock would
 * meet our own (flock locks are per open file; a CI run had a daemon refuse
 * its own lock this way).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { acquireDaemonLock, daemonLockPath, keepDaemonLock } from "./daemon.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const lock = await acquireDaemonLock(root);
 *   assert.equal(await keepDaemonLock(root, lock), lock); // still held: kept
 *   await Deno.remove(daemonLockPath(root)); // an operator deleted it
 *   const again = await keepDaemonLock(root, lock);
 *   assert.notEqual(again, lock); // a new lock file, taken; the old one released
 *   again.release();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function keepDaemonLock(
  root: string,
  lock: DaemonLock,
  options: KeepDaemonLockOptions = {},
): Promise<DaemonLock> {
  if (await lock.stillHeld()) return lock;
  const file = await openLockFile(root, options.createRoot ?? false);
  if (file === undefined) return lock; // the root is gone
  try {
    if (await lock.holds(await file.stat())) {
      file.close(); // ours: the root came back between the check and the open
      return lock;
    }
  } catch (err) {
    file.close();
    throw err;
  }
  const again = await takeLock(file, daemonLockPath(root));
  lock.release();
  return again;
}

/**
 * Open (create) the lock file of `root`, making `index/` when it is
 * missing. The root itself is made only when `createRoot`: otherwise a
 * root that is gone (renamed away, removed) gives undefined, at any moment
 * (`index/` is made without its parents, so no empty root is made).
 */
async function openLockFile(root: string, createRoot: boolean): Promise<Deno.FsFile | undefined> {
  const path = daemonLockPath(root);
  try {
    await Deno.mkdir(dirname(path), { recursive: createRoot });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  try {
    return await Deno.open(path, { read: true, write: true, create: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && !createRoot) return undefined;
    throw err;
  }
}

/** Longest holder text read from a lock file, in bytes (a holder writes about 100). */
const LOCK_HOLDER_BYTES_MAX = 4_096;

/**
 * Take the lock of the open lock file `file` (at `path`) and write our
 * name in it, or throw {@linkcode DaemonLockedError} naming its holder, read
 * through the descriptor (the path may name another file by then). `file`
 * is closed unless the lock is returned.
 */
async function takeLock(file: Deno.FsFile, path: string): Promise<DaemonLock> {
  let locked = false;
  try {
    locked = await file.tryLock(true);
    if (!locked) {
      const holder = (await readHolder(file)).trim() || "holder unknown";
      throw new DaemonLockedError(path, describeHolder(holder));
    }
    // We hold the lock: whatever the file said (a dead daemon) is stale. Say who we are.
    await file.truncate(0);
    const me = JSON.stringify({
      pid: Deno.pid,
      host: hostnameOrUnknown(),
      started_at_ms: Date.now(),
    });
    await file.write(new TextEncoder().encode(me + "\n"));
  } catch (err) {
    if (locked) file.unlockSync();
    file.close();
    throw err;
  }
  const holds = async (info: Deno.FileInfo) => {
    const held = await file.stat();
    return info.ino === held.ino && info.dev === held.dev;
  };
  return {
    release() {
      file.unlockSync();
      file.close();
    },
    async stillHeld() {
      try {
        return await holds(await Deno.stat(path));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return false;
        throw err;
      }
    },
    holds,
  };
}

/** What the holder of a lock file wrote, read from its start through `file`. */
async function readHolder(file: Deno.FsFile): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  const buffer = new Uint8Array(LOCK_HOLDER_BYTES_MAX);
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return new TextDecoder().decode(buffer.subarray(0, filled));
}

/**
 * Who holds the daemon lock, from what its holder wrote. Never the file's
 * raw bytes: a damaged or foreign lock file (binary, escape sequences) is
 * described, not echoed to the terminal.
 */
function describeHolder(text: string): string {
  try {
    const h = JSON.parse(text) as { pid?: unknown; host?: unknown };
    const pid = typeof h.pid === "number" ? String(h.pid) : "?";
    const host = typeof h.host === "string" ? printable(h.host) : "?";
    return `pid ${pid} on host ${host}`;
  } catch (err) {
    if (err instanceof SyntaxError) return `holder unknown: lock file of ${text.length} characters`;
    throw err;
  }
}

/** `text` with control characters escaped, at most 64 characters. */
function printable(text: string): string {
  return JSON.stringify(text.slice(0, 64)).slice(1, -1).replace(/[\u007f-\u009f]/g, "?");
}

function hostnameOrUnknown(): string {
  try {
    return Deno.hostname();
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return "unknown";
    }
    throw err;
  }
}
