/**
 * `ledger daemon`: keep the index up to date. Checks the log's part files
 * (sizes and mtimes) every interval and rebuilds incrementally when they
 * changed; one log line per rebuild on stdout, every line in one format
 * (`<ISO time> <level> <message>`, or JSON lines with `--log-json`). SIGINT/SIGTERM let the current
 * rebuild finish, then exit 0. A second daemon on the same root refuses to
 * start (exit 1).
 *
 * @module
 */
import { errorLine } from "./_command.ts";
import { resolve } from "node:path";
import { indexPath } from "../ledger/paths.ts";
import { assertRegularFileOrAbsent, NotRegularFileError } from "../ledger/durable_fs.ts";
import {
  DaemonLockedError,
  type DaemonLogEntry,
  formatLogEntry,
  runDaemon,
} from "../indexer/daemon.ts";
import { isSourceRefusal, MEMORY_LIMIT_DEFAULT } from "../indexer/rebuild.ts";
import {
  durationMs,
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  INTERVAL_SECONDS_MAX,
  parseFlags,
  pathFlag,
  positiveNumberFlag,
  rebuildMemoryLimitFlag,
  requireExistingRoot,
  resolveRootFlag,
  staleAfterMsFlag,
  UsageError,
} from "./_args.ts";

export const FLAGS: FlagSpec = {
  "interval": { type: "string" },
  "verbose": { type: "boolean", short: "v" },
  "db": { type: "string" },
  "stale-after-hours": { type: "string" },
  "log-json": { type: "boolean" },
  "memory-limit": { type: "string" },
};

const USAGE = `Usage: ledger daemon [--interval SECONDS] [--verbose] [--log-json] [--db PATH]
                     [--stale-after-hours H] [--memory-limit SIZE] [--root DIR]
       ledger daemon --from s3://BUCKET/PREFIX [...]   (index a bucket's log)
       ledger daemon --to s3://BUCKET/PREFIX [...]     (also ship the local log)

Keep the index up to date: every --interval seconds (default 30) look at the
sizes and mtimes of the log's part files and, when they changed (or the
process of a running run on this host ended, when ps may run), update the
index incrementally. The first check after start always updates it (the log
may have changed while no daemon ran, and running runs' processes may have
died): an index already up to date reads no file. A damaged index is
rebuilt in full from the log (a warn line says so). SIGINT or SIGTERM finish
the current rebuild and exit 0.
One daemon per root (lock file <root>/index/daemon.lock); a second one
exits 1. With --from s3://BUCKET/P the log is read from a bucket instead;
--to s3://BUCKET/P also ships the local log there (see ledger daemon --to x
--help).

Log lines go to stdout, one per event, all in one format:
  2026-01-20T00:00:00.000Z info rebuild incremental: read 2 files (...)
Levels: debug (only with --verbose), info, warn, error.

  --log-json            one JSON object per line instead:
                        {"time":"...","level":"info","msg":"...",...fields}
  --memory-limit SIZE   DuckDB memory limit of each rebuild (default ${MEMORY_LIMIT_DEFAULT})
  --from s3://BUCKET/P  index the log shipped to a bucket (see --from x --help)
  --to s3://BUCKET/P    ship the local log there too (see --to x --help)

Exit codes: 0 stopped by a signal, 1 failure (another daemon runs), 2 usage.`;

/**
 * Run `ledger daemon` with `args`; returns the exit code when stopped.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./daemon.ts";
 * // The command line is `await main(args)`, e.g. main(["--interval", "5"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger daemon [--interval SECONDS] [--verbose] [--log-json] [--db PATH]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  if (args.some((a) => /^--(from|to)(=|$)/.test(a))) {
    return await (await import("./_from_bucket.ts")).daemonMain(args); // SPEC 14
  }
  const { values } = parseFlags(args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const root = resolveRootFlag(values);
  const intervalSeconds = positiveNumberFlag(values, "interval", INTERVAL_SECONDS_MAX) ?? 30;
  const staleAfterMs = staleAfterMsFlag(values);
  const db = pathFlag(values, "db");
  if (db === "") throw new UsageError("--db must not be empty");
  const memoryLimit = rebuildMemoryLimitFlag(values);
  await requireExistingRoot(root);
  const dbPath = db === undefined ? indexPath(root) : resolve(db);
  try {
    // Every pass would fail on it (a bad-input audit: the daemon kept retrying for ever).
    await assertRegularFileOrAbsent(dbPath);
  } catch (err) {
    if (!(err instanceof NotRegularFileError)) throw err;
    console.error(`ledger daemon: ${errorLine(err.message)}`);
    return EXIT_FAILURE;
  }
  const json = values["log-json"] === true;
  const verbose = values.verbose === true;
  const log = (entry: DaemonLogEntry) => {
    if (entry.level !== "debug" || verbose) console.log(formatLogEntry(entry, json));
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const summary = await runDaemon(root, {
      intervalMs: durationMs(intervalSeconds, 1000),
      dbPath,
      staleAfterMs,
      signal: stop.signal,
      memoryLimit,
      log,
      // Said once the lock is held: a daemon refused by another never says it watches.
      onStart: () =>
        log({
          level: "info",
          msg: `watching ${root} every ${intervalSeconds} s (pid ${Deno.pid}); ` +
            `SIGINT/SIGTERM to stop`,
          fields: { event: "start", root, interval_s: intervalSeconds, pid: Deno.pid },
        }),
    });
    log({
      level: "info",
      msg: `stopped after ${summary.checks} checks, ${summary.rebuilds} rebuilds ` +
        `(${summary.failures} failed)`,
      fields: { event: "stop", ...summary },
    });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof DaemonLockedError || isSourceRefusal(err)) {
      console.error(`ledger daemon: ${errorLine(err.message)}`);
      return EXIT_FAILURE;
    }
    throw err;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}
