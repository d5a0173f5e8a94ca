/**
 * `ledger rebuild-index --from s3://...` and `ledger daemon --from s3://...`
 * (private to the CLI): the same flags as the local commands plus `--from`;
 * the bucket's chunks are mirrored under `<root>/remote/` and indexed into
 * `<root>/index/runs.duckdb` (or `--db`). Loaded only when `--from` is given,
 * so the local commands never load the AWS SDK.
 *
 * @module
 */
import { resolve } from "node:path";
import {
  DaemonLockedError,
  type DaemonLogEntry,
  formatLogEntry,
  recoveredLogEntry,
  runDaemon,
} from "../indexer/daemon.ts";
import { indexPath } from "../ledger/paths.ts";
import { printIndexWarnings } from "./rebuild_index.ts";
import { Shipper, ShipperLockedError } from "../storage/ship.ts";
import { shipLoop, sleep, untilReachable } from "./ship.ts";
import { rebuildInterruptedLine, STOP_EXIT_CODES, stopOnSignals } from "./_stop.ts";
import { InvalidDateError, isSourceRefusal, parseDay } from "../indexer/rebuild.ts";
import { ObjectStoreError } from "../storage/object_store.ts";
import {
  mirrorWarnings,
  rebuildIndexFromBucket,
  runBucketDaemon,
  sharedRunsWarning,
} from "../storage/bucket_index.ts";
import {
  durationMs,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type FlagSpec,
  INTERVAL_SECONDS_MAX,
  type ParsedFlags,
  parseFlags,
  pathFlag,
  positiveNumberFlag,
  rebuildMemoryLimitFlag,
  requireExistingRoot,
  resolveRootFlag,
  sinceDateIgnoredWarning,
  staleAfterMsFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import { openBucket } from "./_bucket.ts";

export const REBUILD_FLAGS: FlagSpec = {
  "from": { type: "string" },
  "db": { type: "string" },
  "since-date": { type: "string" },
  "full": { type: "boolean" },
  "verbose": { type: "boolean", short: "v" },
  "stale-after-hours": { type: "string" },
  "memory-limit": { type: "string" },
};

const REBUILD_USAGE = `Usage: ledger rebuild-index --from s3://BUCKET[/PREFIX] [--db PATH] [--full]
                            [--verbose] [--since-date YYYY-MM-DD]
                            [--stale-after-hours H] [--memory-limit SIZE]
                            [--root DIR]

Build or update the index of <root> from the log in a bucket (written by
ledger ship): new chunk objects are fetched once into <root>/remote/ and
indexed incrementally, with the same rules as a local rebuild. Endpoint and
credentials come from the standard AWS variables and files. --memory-limit
is the DuckDB memory limit of the rebuild, as without --from.

Exit codes: 0 success, 1 failure (an unreachable or missing bucket, refused
credentials), 2 usage (a bad flag, date or URL).`;

/**
 * `ledger rebuild-index --from s3://bucket/prefix [...]`. Exits 0 on success,
 * 1 on a failure and 2 on a usage error, as `rebuild-index` does.
 */
export async function rebuildIndexMain(args: string[]): Promise<number> {
  try {
    const { values } = parseFlags(args, REBUILD_FLAGS);
    if (values.help) {
      console.log(REBUILD_USAGE);
      return EXIT_OK;
    }
    const root = resolveRootFlag(values);
    const sinceDate = stringFlag(values, "since-date");
    if (sinceDate !== undefined) parseDay(sinceDate);
    const dbPath = dbFlag(values);
    const staleAfterMs = staleAfterMsFlag(values);
    const memoryLimit = rebuildMemoryLimitFlag(values);
    const bucket = await openBucket(stringFlag(values, "from") ?? "", "from");
    const ignored = sinceDateIgnoredWarning(values);
    if (ignored !== undefined) console.error(`ledger rebuild-index: ${ignored}`);
    const started = performance.now();
    const verbose = values.verbose === true;
    // SIGINT/SIGTERM as a local rebuild: temporary files removed, previous index kept (an
    // audit: with --from the files stayed and nothing was said).
    using stop = stopOnSignals();
    let r;
    try {
      r = await rebuildIndexFromBucket(root, bucket.store, bucket.location, {
        signal: stop.signal,
        endpoint: bucket.endpoint,
        dbPath,
        full: values.full === true,
        sinceDate,
        staleAfterMs,
        memoryLimit,
        onProgress: verbose
          ? (m) => console.error(`[${Math.round(performance.now() - started)} ms] ${m}`)
          : undefined,
      });
    } catch (err) {
      if (stop.caught !== undefined) {
        console.error(rebuildInterruptedLine(stop.caught));
        return STOP_EXIT_CODES[stop.caught];
      }
      throw err;
    }
    if (r.index.recoveredFrom !== undefined) {
      console.error(
        `ledger rebuild-index: warning: ${recoveredLogEntry(r.index.recoveredFrom).msg}`,
      );
    }
    if (r.index.fullBecause !== undefined) {
      // As the local rebuild says it (a probe: a bucket's index of format 9 was replaced unsaid).
      console.error(`ledger rebuild-index: ${r.index.fullBecause}: rebuilt in full`);
    }
    console.log(
      `Indexed ${r.index.events} events of ${r.index.runs} runs from ${
        stringFlag(values, "from")
      } ` +
        `into ${r.index.dbPath} (${r.index.mode}: fetched ${r.mirror.chunksFetched} new chunks, ` +
        `${r.mirror.bytesFetched} bytes, of ${r.mirror.chunksListed}; ${r.index.errorsFound} bad ` +
        `lines read, ${r.index.errors} in ingest_errors) in ` +
        // The whole command, fetching included (an audit: 604 ms printed for a 15 s run).
        `${Math.round(performance.now() - started)} ms`,
    );
    for (const w of mirrorWarnings(r.mirror)) console.error(`ledger rebuild-index: warning: ${w}`);
    const shared = sharedRunsWarning(r.sharedRuns);
    if (shared !== undefined) console.error(`ledger rebuild-index: warning: ${shared}`);
    // Run ids created in two parts are said above (two machines); those created twice in one
    // part too, here.
    printIndexWarnings(r.index, r.sharedRuns.count);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError || err instanceof InvalidDateError) {
      console.error(`ledger rebuild-index: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof ObjectStoreError) {
      console.error(`ledger rebuild-index: ${err.message}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

export const DAEMON_FLAGS: FlagSpec = {
  "from": { type: "string" },
  "to": { type: "string" },
  "interval": { type: "string" },
  "verbose": { type: "boolean", short: "v" },
  "log-json": { type: "boolean" },
  "db": { type: "string" },
  "stale-after-hours": { type: "string" },
  "memory-limit": { type: "string" },
};

const DAEMON_USAGE = `Usage: ledger daemon [--from s3://BUCKET[/PREFIX]] [--to s3://BUCKET[/PREFIX]]
                     [--interval SECONDS] [--verbose] [--log-json] [--db PATH]
                     [--stale-after-hours H] [--memory-limit SIZE] [--root DIR]

--from: keep the index of <root> up to date from a bucket: every --interval
seconds (default 30) fetch the new chunk objects and, when any arrived,
update the index. --to (ship mode): also ship the local log to a bucket every
interval, as ledger ship does (without --from the index follows the local
log). SIGINT or SIGTERM finish the current step and exit 0.

Log lines go to stdout in the local daemon's format (ledger daemon --help),
one JSON object per line with --log-json; --verbose adds debug lines;
--memory-limit is each rebuild's DuckDB memory limit.

Exit codes: 0 stopped by a signal, 1 failure, 2 usage error.`;

/**
 * `ledger daemon --from s3://... | --to s3://... [...]`: with `--from`, every
 * interval fetch the new chunks of the bucket and update the index; with
 * `--to`, also ship the local log to a bucket every interval (the ship mode:
 * without `--from` the index follows the local log as usual). SIGINT/SIGTERM
 * finish the current step.
 */
export async function daemonMain(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DAEMON_FLAGS);
  if (values.help) {
    console.log(DAEMON_USAGE);
    return EXIT_OK;
  }
  const root = resolveRootFlag(values);
  const intervalSeconds = positiveNumberFlag(values, "interval", INTERVAL_SECONDS_MAX) ?? 30;
  const staleAfterMs = staleAfterMsFlag(values);
  const memoryLimit = rebuildMemoryLimitFlag(values);
  const dbPath = dbFlag(values);
  const json = values["log-json"] === true;
  const verbose = values.verbose === true;
  const log = (entry: DaemonLogEntry) => {
    if (entry.level !== "debug" || verbose) console.log(formatLogEntry(entry, json));
  };
  const debug = (msg: string) => log({ level: "debug", msg });
  const from = stringFlag(values, "from");
  const to = stringFlag(values, "to");
  const source = from === undefined ? undefined : await openBucket(from, "from");
  const target = to === undefined ? undefined : await openBucket(to, "to");
  if (source === undefined) await requireExistingRoot(root);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  let shipper: Shipper | undefined;
  let shipperOpen = false;
  // An endpoint that cannot be reached yet is a warning in the daemon's own log format
  // (stdout, --log-json too), retried every interval (an audit: plain stderr lines).
  const unreachable = (err: ObjectStoreError, what: string) =>
    log({
      level: "warn",
      msg: `${err.message}; ${what} retries every ${intervalSeconds} s`,
      fields: { error: err.message },
    });
  try {
    if (
      source !== undefined &&
      !await untilReachable(
        () => source.store.check(stop.signal),
        intervalSeconds,
        stop.signal,
        (err) => unreachable(err, "the bucket's check"),
      )
    ) {
      return stop.signal.aborted ? EXIT_OK : EXIT_FAILURE;
    }
    if (target !== undefined) {
      shipper = new Shipper(root, target.store, target.location, {
        endpoint: target.endpoint,
        onProgress: debug,
      });
      // A wrong bucket, credentials or a second shipper fail at once. An endpoint down at
      // start does not hold the local index back (an audit: no index until it came up):
      // indexing starts now and shipping opens when the endpoint answers.
      try {
        await shipper.open(stop.signal);
        shipperOpen = true;
      } catch (err) {
        if (!(err instanceof ObjectStoreError && err.kind === "unreachable")) throw err;
        unreachable(err, "shipping (indexing goes on)");
      }
    }
    // Said once the index lock is held: a daemon refused by another never says it works.
    const onStart = () =>
      log({
        level: "info",
        msg: `indexing ${from ?? root}${to === undefined ? "" : `, shipping to ${to}`} ` +
          `every ${intervalSeconds} s (pid ${Deno.pid}); SIGINT/SIGTERM to stop`,
        fields: {
          event: "start",
          root,
          from: from ?? null,
          to: to ?? null,
          interval_s: intervalSeconds,
          pid: Deno.pid,
        },
      });
    const common = {
      onStart,
      intervalMs: durationMs(intervalSeconds, 1000),
      dbPath: dbPath ?? indexPath(root),
      staleAfterMs,
      memoryLimit,
      signal: stop.signal,
      log,
    };
    const indexing = source === undefined
      ? runDaemon(root, common)
      : runBucketDaemon(root, source.store, source.location, {
        ...common,
        endpoint: source.endpoint,
      });
    const opened = shipper;
    const shipping = opened === undefined ? Promise.resolve() : (async () => {
      if (!shipperOpen) {
        // The first try failed at start (unreachable, said then): the next one an interval on.
        await sleep(intervalSeconds * 1000, stop.signal);
        const reached = await untilReachable(
          () => opened.open(stop.signal),
          intervalSeconds,
          stop.signal,
          (err) => unreachable(err, "shipping (indexing goes on)"),
        );
        if (!reached) return; // stopped before the endpoint answered
      }
      await shipLoop(opened, to!, intervalSeconds, stop.signal, log);
    })();
    // A failure of either loop stops the other.
    const [summary] = await Promise.all([
      indexing.catch((err) => {
        stop.abort();
        throw err;
      }),
      shipping.catch((err) => {
        stop.abort();
        throw err;
      }),
    ]);
    log({
      level: "info",
      msg: `stopped after ${summary.checks} checks, ${summary.rebuilds} rebuilds ` +
        `(${summary.failures} failed)`,
      fields: { event: "stop", ...summary },
    });
    return EXIT_OK;
  } catch (err) {
    if (
      err instanceof DaemonLockedError || err instanceof ObjectStoreError ||
      err instanceof ShipperLockedError || isSourceRefusal(err)
    ) {
      console.error(`ledger daemon: ${err.message}`);
      return EXIT_FAILURE;
    }
    throw err;
  } finally {
    shipper?.close();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

function dbFlag(values: ParsedFlags["values"]): string | undefined {
  const db = pathFlag(values, "db");
  if (db === "") throw new UsageError("--db must not be empty");
  return db === undefined ? undefined : resolve(db);
}
