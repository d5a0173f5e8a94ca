/**
 * Whether dual mode is on, and the dates it reads: the small part of
 * `dual.ts` every `runs` and `show` needs, kept apart so that outside dual
 * mode those commands do not load the legacy reader, backfill and parity
 * code (and zod through them: 26 ms of every start). `dual.ts` re-exports
 * all of it.
 *
 * @module
 */
import { DEFAULT_LEGACY_DB_PATH, requireLegacyReads } from "./read.ts";
import { exists, fileOnPath } from "../ledger/exists.ts";
import { isDuckDbFile, openDuckDbFile, READER_CONFIG } from "../indexer/queries.ts";
import { utcDayStartMs } from "../indexer/query/time.ts";

export { DEFAULT_LEGACY_DB_PATH };

/**
 * The day the event log took over, as `YYYY-MM-DD` (UTC midnight).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dayStartMs, DEFAULT_CUTOVER_DATE } from "./active.ts";
 * import { sourceForCreatedAt } from "./dual.ts";
 * const cutoverMs = dayStartMs(DEFAULT_CUTOVER_DATE);
 * assert.equal(cutoverMs, Date.UTC(2026, 0, 23));
 * // A run created one millisecond before it is the legacy store's; from it on, the event log's.
 * assert.equal(sourceForCreatedAt(cutoverMs - 1), "legacy");
 * assert.equal(sourceForCreatedAt(cutoverMs), "event_log");
 * ```
 */
export const DEFAULT_CUTOVER_DATE = "2026-01-23";

/**
 * The value of a `--cutover-date`/`sinceDate` string was not a UTC day.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DateFormatError } from "./active.ts";
 * const err = new DateFormatError("--cutover-date", "2026-13-01");
 * assert.match(err.message, /2026-13-01/);
 * ```
 */
export class DateFormatError extends Error {
  /** Create the error for the bad `value` of `what`. */
  constructor(what: string, value: string) {
    super(`${what} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
    this.name = "DateFormatError";
  }
}

/**
 * The UTC midnight of `day` (`YYYY-MM-DD`) in milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dayStartMs } from "./active.ts";
 * assert.equal(dayStartMs("2026-01-23"), Date.UTC(2026, 0, 23));
 * assert.equal(new Date(dayStartMs("0001-01-01")).toISOString(), "0001-01-01T00:00:00.000Z");
 * ```
 */
export function dayStartMs(day: string, what = "The date"): number {
  const ms = utcDayStartMs(day);
  if (ms === undefined) throw new DateFormatError(what, day);
  return ms;
}

/** Options for {@linkcode activeLegacyDbPath}. */
export interface ActiveLegacyDbOptions {
  /**
   * Called with the default path when no path is given and the process may
   * not read the default one (dual mode is then off: whether the file is
   * there cannot be told). @default {undefined}
   */
  onNotGranted?: (path: string) => void;
}

/**
 * The legacy file dual mode should read, or `undefined` when dual mode is
 * off: the given path, which must be a DuckDB file
 * ({@linkcode LegacyDbNotFoundError} otherwise: asked for, it is not passed
 * over), else the default path when that file exists (and the process may
 * read it: `options.onNotGranted` is told when it may not). After
 * `ledger legacy archive` the default file is gone and this returns
 * `undefined`: readers see the event log only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { activeLegacyDbPath } from "./active.ts";
 * import { createLegacyDb } from "../tests/legacy/_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const legacyDbPath = `${dir}/old.duckdb`;
 *   await createLegacyDb(legacyDbPath, []);
 *   assert(await activeLegacyDbPath(legacyDbPath) === legacyDbPath);
 *   await Deno.remove(legacyDbPath); // a file the user named must be there
 *   await activeLegacyDbPath(legacyDbPath).then(() => assert(false), (err) => assert(err));
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function activeLegacyDbPath(
  given: string | undefined,
  options: ActiveLegacyDbOptions = {},
): Promise<string | undefined> {
  if (given !== undefined) {
    // A file the user named must be there; only the default may be absent.
    let isFile: boolean;
    try {
      isFile = await exists(given, { isFile: true });
    } catch (err) {
      // A file on the way (`--legacy-db notes.txt/x.duckdb`; a probe got "Not a directory
      // (os error 20): stat ...").
      if (!(err instanceof Deno.errors.NotADirectory)) throw err;
      throw new LegacyDbNotFoundError(
        given,
        `does not exist: ${await fileOnPath(given)} is a file`,
      );
    }
    if (!isFile) {
      // Something else there (a folder) is named as such, not as missing (an audit).
      throw new LegacyDbNotFoundError(given, await exists(given) ? "is not a file" : undefined);
    }
    // A file of another kind, named outright: not a store with no runs (a probe: `runs` said
    // "No runs in the index and the legacy DuckDB", exit 0, under a warning).
    const duckDb = await isDuckDbFile(given);
    if (duckDb !== true) {
      throw new LegacyDbNotFoundError(
        given,
        duckDb === false ? "is not a DuckDB database" : "is empty",
      );
    }
    // One DuckDB cannot open (damaged, or locked by a legacy writer that is running): a probe's
    // `runs` listed the index's runs alone under a warning, exit 0, a script none the wiser.
    try {
      // By its real path: a file reached through a link opens as a copy does (see openDuckDbFile).
      (await openDuckDbFile(given, { ...READER_CONFIG })).closeSync();
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      throw new LegacyDbNotFoundError(
        given,
        `cannot be opened read-only: ${err.message.split("\n")[0]}`,
      );
    }
    // One that opens may still fail on its first read (a cut file): an error too.
    requireLegacyReads(given);
    return given;
  }
  try {
    return (await exists(DEFAULT_LEGACY_DB_PATH)) ? DEFAULT_LEGACY_DB_PATH : undefined;
  } catch (err) {
    // A process not granted the default path (`deno run --allow-read=ROOT`) has no dual mode:
    // `runs` and `show` refused to start there until 0.8.0 (a review).
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    options.onNotGranted?.(DEFAULT_LEGACY_DB_PATH);
    return undefined;
  }
}

/**
 * A legacy DuckDB file named with `--legacy-db` does not exist. (A missing
 * default file is not an error: dual mode has ended.)
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LegacyDbNotFoundError } from "./active.ts";
 * assert.match(new LegacyDbNotFoundError("/x.duckdb").message, /\/x\.duckdb .* does not exist/);
 * assert.match(new LegacyDbNotFoundError("/d", "is not a file").message, /is not a file$/);
 * ```
 */
export class LegacyDbNotFoundError extends Error {
  /** The path that was named. */
  readonly path: string;
  /** Create the error for `path`: it does not exist, or `what` it is instead. */
  constructor(path: string, what = "does not exist") {
    super(`Legacy DuckDB file ${path} (--legacy-db) ${what}`);
    this.name = "LegacyDbNotFoundError";
    this.path = path;
  }
}

/**
 * The warning of `runs` and `show` when dual mode is off because the process
 * may not read the default legacy file (`deno run --allow-read=ROOT`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dualModeNotGrantedWarning } from "./active.ts";
 * assert.match(dualModeNotGrantedWarning("data/x.duckdb"), /--allow-read=data\/x\.duckdb/);
 * ```
 */
export function dualModeNotGrantedWarning(path: string): string {
  return `dual mode off: this process may not read ${path}, so legacy runs are left out ` +
    `(add --allow-read=${path} to read them)`;
}
