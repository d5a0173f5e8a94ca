/**
 * `ledger ship --to s3://bucket/prefix [--interval S] [--once]`: upload every
 * complete line of the local log that the bucket lacks (SPEC 14). With
 * `--once` one pass, else a pass every interval until SIGINT/SIGTERM (the
 * current pass finishes first).
 *
 * @module
 */
import type { DaemonLogEntry } from "../indexer/daemon.ts";
import { ObjectStoreError } from "../storage/object_store.ts";
import { Shipper, ShipperLockedError, type ShipReport } from "../storage/ship.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  INTERVAL_SECONDS_MAX,
  parseFlags,
  positiveNumberFlag,
  requireExistingRoot,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import { openBucket } from "./_bucket.ts";
import { countOf } from "../ledger/count_text.ts";
import { exists } from "../ledger/exists.ts";
import { eventsDir } from "../ledger/paths.ts";

export const FLAGS: FlagSpec = {
  "to": { type: "string" },
  "interval": { type: "string" },
  "once": { type: "boolean" },
  "verify": { type: "boolean" },
  "verbose": { type: "boolean", short: "v" },
};

const USAGE = `Usage: ledger ship --to s3://BUCKET[/PREFIX] [--interval SECONDS] [--once]
                   [--verify] [--verbose] [--root DIR]

Upload every complete line of the local log that the bucket lacks, as
immutable chunk objects
  PREFIX/events/day=YYYY-MM-DD/<part>.<fingerprint>.<offset>.jsonl
(whole lines each, so DuckDB, Spark or Trino read the bucket as a log).
Shipping is idempotent: what was shipped is kept in <root>/ship/, and after a
crash or a lost state file the bucket is checked, never written twice. Remote
content that disagrees with the local log is an error, never overwritten.
With a state file, the chunks it records are trusted: only the end of the last
one is compared with the local log, in parts with bytes to ship; a part whose
size is the size shipped but whose modification time changed (edited) is
compared whole.

  --once            one pass, then exit (exit 1 if anything could not be
                    shipped)
  --verify          first compare every chunk in the bucket with the local
                    log, byte for byte (downloads them)
  --interval S      seconds between passes when running on (default 30)
  --verbose         progress on stderr

Endpoint and credentials come only from the standard AWS variables and files:
AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, ~/.aws/credentials. Path-style addressing.

Exit codes: 0 done (or, running on, stopped by a signal), 1 failure (with
--once, anything not shipped, a signal or not), 2 usage error.`;

/** Default `--interval`, in seconds. */
const INTERVAL_SECONDS_DEFAULT = 30;

/**
 * Run `ledger ship` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./ship.ts";
 * // The command line is `await main(args)`, e.g. main(["--to", "s3://ledger-logs/team-a", "--once"]); it returns the exit code.
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
 *   "Usage: ledger ship --to s3://BUCKET[/PREFIX] [--interval SECONDS] [--once]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const root = resolveRootFlag(values);
  const to = stringFlag(values, "to");
  if (to === undefined) throw new UsageError("--to s3://bucket/prefix is required");
  const once = values.once === true;
  if (once && values.interval !== undefined) {
    throw new UsageError("--once makes one pass: --interval has no meaning with it");
  }
  const intervalSeconds = positiveNumberFlag(values, "interval", INTERVAL_SECONDS_MAX, "seconds") ??
    INTERVAL_SECONDS_DEFAULT;
  const bucket = await openBucket(to, "to");
  await requireExistingRoot(root);
  if (!(await exists(eventsDir(root)))) {
    // A mistyped root that exists (--root data for data/ledger) shipped nothing, exit 0, in
    // silence (helper-289), where rebuild-index warns. Not refused: a worker's shipper may
    // start before its first event.
    console.error(
      `ledger ship: warning: ${root} has no events/ directory (is --root the ledger root, the ` +
        "folder that holds events/?): nothing to ship yet",
    );
  }
  const verbose = values.verbose === true;
  const shipper = new Shipper(root, bucket.store, bucket.location, {
    endpoint: bucket.endpoint,
    onProgress: verbose ? (m) => console.error(`ledger ship: ${m}`) : undefined,
    verifyAll: values.verify === true,
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    if (!await openShipper(shipper, once ? undefined : intervalSeconds, stop.signal)) {
      // A signal stops a shipper that kept retrying (exit 0); --once failed to ship (exit 1).
      return stop.signal.aborted && !once ? EXIT_OK : EXIT_FAILURE;
    }
    try {
      return once
        ? await passOnce(shipper, to)
        : await runOn(shipper, to, intervalSeconds, stop.signal);
    } finally {
      shipper.close();
    }
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/**
 * Check the bucket and take the lock. A wrong bucket, credentials or a second
 * shipper fail at once; an unreachable endpoint fails at once with --once and
 * is retried every interval otherwise (a shipper may start before the server).
 */
export async function openShipper(
  shipper: Shipper,
  retrySeconds: number | undefined,
  signal: AbortSignal,
): Promise<boolean> {
  try {
    if (retrySeconds === undefined) {
      await shipper.open(signal);
      return true;
    }
    return await untilReachable(
      () => shipper.open(signal),
      retrySeconds,
      signal,
      // A warning, as the same line of a pass is (helper-300: said without the prefix before
      // the first contact, with it after).
      (err) => console.error(`ledger ship: warning: ${err.message}; retrying in ${retrySeconds} s`),
    );
  } catch (err) {
    if (!(err instanceof ObjectStoreError || err instanceof ShipperLockedError)) throw err;
    console.error(`ledger ship: ${err.message}`);
    return false;
  }
}

/**
 * Run `attempt` until it succeeds (true) or `signal` aborts (false). A failure
 * because the endpoint cannot be reached is told to `onUnreachable` and tried
 * again `retrySeconds` later (a shipper or daemon may start before the
 * server); any other failure throws. One loop for `ship` and both daemons.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { untilReachable } from "./ship.ts";
 * import { ObjectStoreError } from "../storage/object_store.ts";
 * let tries = 0;
 * const told: string[] = [];
 * const ok = await untilReachable(async () => {
 *   if (++tries < 3) throw new ObjectStoreError("unreachable", "down");
 * }, 0.001, new AbortController().signal, (err) => told.push(err.message));
 * assert.deepEqual([ok, tries, told], [true, 3, ["down", "down"]]);
 * ```
 */
export async function untilReachable(
  attempt: () => Promise<void>,
  retrySeconds: number,
  signal: AbortSignal,
  onUnreachable: (err: ObjectStoreError) => void,
): Promise<boolean> {
  while (!signal.aborted) {
    try {
      await attempt();
      return true;
    } catch (err) {
      if (!(err instanceof ObjectStoreError) || err.kind !== "unreachable") throw err;
      if (signal.aborted) break; // stopped: no retry to announce (a review)
      onUnreachable(err);
      await sleep(retrySeconds * 1000, signal);
    }
  }
  return false;
}

async function passOnce(shipper: Shipper, to: string): Promise<number> {
  try {
    const report = await shipper.pass();
    // Exit 1 with a line that read as done (a contract check): the summary says it was not.
    const n = report.problems.length;
    const notAll = n === 0 ? "" : `; not all shipped: ${countOf(n, "problem")}, said on stderr`;
    console.log(summary(report, to) + notAll);
    for (const w of report.warnings) console.error(`ledger ship: warning: ${w}`);
    for (const p of report.problems) console.error(`ledger ship: ${p}`);
    return report.problems.length === 0 ? EXIT_OK : EXIT_FAILURE;
  } catch (err) {
    if (err instanceof ObjectStoreError) {
      console.error(`ledger ship: ${err.message}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

async function runOn(
  shipper: Shipper,
  to: string,
  intervalSeconds: number,
  signal: AbortSignal,
): Promise<number> {
  console.error(
    `ledger ship: shipping to ${to} every ${intervalSeconds} s (pid ${Deno.pid}); ` +
      `SIGINT/SIGTERM to stop`,
  );
  await shipLoop(shipper, to, intervalSeconds, signal);
  return EXIT_OK;
}

/**
 * Ship every `intervalSeconds` until `signal` aborts (the current pass
 * finishes first). An unreachable bucket is retried; local failures throw.
 * Each pass's summary, problems and retries go to `log` (by default
 * `ledger ship`'s own lines; the daemon's `--to` passes its log).
 */
export async function shipLoop(
  shipper: Shipper,
  to: string,
  intervalSeconds: number,
  signal: AbortSignal,
  log: (entry: DaemonLogEntry) => void = shipLines,
): Promise<void> {
  // A warning or problem that stays is said at the pass that first finds it, not at every pass
  // (a review: a day on a disk not mounted, one line each second), and again once it went away.
  let said = new Set<string>();
  while (!signal.aborted) {
    try {
      const report = await shipper.pass();
      if (report.chunksPut + report.chunksFound > 0) {
        // A problem that stays is said once, at the pass that found it: each summary says so
        // (helper-289: one error line, then clean-looking summaries while a part stayed stuck).
        const n = report.problems.length;
        const notAll = n === 0
          ? ""
          : `; not all shipped: ${countOf(n, "problem")}, said when first found`;
        log({
          level: "info",
          msg: summary(report, to) + notAll,
          fields: {
            event: "ship",
            bytes_shipped: report.bytesShipped,
            chunks_put: report.chunksPut,
            chunks_found: report.chunksFound,
            parts_scanned: report.partsScanned,
            elapsed_ms: report.elapsedMs,
          },
        });
      }
      const now = new Set([...report.warnings, ...report.problems]);
      for (const w of report.warnings) {
        if (!said.has(w)) log({ level: "warn", msg: w, fields: { event: "ship" } });
      }
      for (const p of report.problems) {
        if (!said.has(p)) log({ level: "error", msg: p, fields: { event: "ship" } });
      }
      said = now;
    } catch (err) {
      if (!(err instanceof ObjectStoreError)) throw err;
      // The bucket is unreachable for now: what is shipped stays recorded; try again.
      log({
        level: "warn",
        msg: `${err.message}; retrying in ${intervalSeconds} s`,
        fields: { event: "ship", error: err.message },
      });
    }
    await sleep(intervalSeconds * 1000, signal);
  }
}

/** `ledger ship --interval`'s own lines: the summary on stdout, problems on stderr. */
function shipLines(entry: DaemonLogEntry): void {
  if (entry.level === "info") console.log(entry.msg);
  // A warning says so, as --once's do (helper-289: the same words as an error); a problem is
  // said as --once says it.
  else if (entry.level === "warn") console.error(`ledger ship: warning: ${entry.msg}`);
  else if (entry.level !== "debug") console.error(`ledger ship: ${entry.msg}`);
}

function summary(r: ShipReport, to: string): string {
  return `Shipped ${r.bytesShipped} bytes in ${r.chunksPut} new chunks to ${to} ` +
    `(${r.chunksFound} already there, ${r.partsScanned} parts, ` +
    `${r.bytesInBucket} bytes in the bucket) in ${r.elapsedMs} ms`;
}

/** Wait `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
