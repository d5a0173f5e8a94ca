/**
 * Refresh markers: how a reader learns that the index may lack a run.
 *
 * A backtest, sweep or rerun refreshes the index in a detached
 * `ledger rebuild-index` whose output nobody reads (SPEC 9). Before it
 * starts that child, it writes a marker beside the index
 * (`.runs.duckdb.refresh-<ms>-<hex>.json`: the run and when). A rebuild
 * of the local log lists the markers once it holds the rebuild lock, before
 * it lists the log, and removes exactly those when it has published: their
 * runs' events were on disk before the markers, so the log it read had them.
 * A marker that stays means the index may lack its run: the refresh is still
 * running, or it failed (it could not load DuckDB, a disk was full, the
 * index was built from a bucket), and `ledger runs`, `show`, `compare` and
 * `trials` say so on stderr until a rebuild succeeds.
 *
 * Markers are advisory, not a durability point: one lost to a power cut only
 * loses the warning, never an event.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { shownAndMore } from "../ledger/count_text.ts";

/** One marker: the run whose events the index may lack, and since when. */
export interface RefreshMarker {
  /** The marker file. */
  path: string;
  /** The run whose refresh it stands for, or null when the file cannot be read as a marker. */
  runId: string | null;
  /** When the refresh was started (ms since the epoch), or null when unknown. */
  startedAtMs: number | null;
}

/**
 * Name prefix of the refresh markers of the index at `dbPath`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { refreshMarkerPrefixFor } from "./refresh_marker.ts";
 * assert.equal(refreshMarkerPrefixFor("/data/ledger/index/runs.duckdb"), ".runs.duckdb.refresh-");
 * ```
 */
export function refreshMarkerPrefixFor(dbPath: string): string {
  return `.${basename(dbPath)}.refresh-`;
}

/**
 * Write a marker for a refresh of the index at `dbPath` after run `runId`;
 * returns its path. Call it before starting the refresh, so the refresh
 * lists it and removes it when it succeeds. Synchronous: a command's
 * interrupt handler writes it just before the process exits.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listRefreshMarkers, writeRefreshMarker } from "./refresh_marker.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const path = writeRefreshMarker(`${dir}/index/runs.duckdb`, "run-1", 1_000);
 *   const [marker] = await listRefreshMarkers(`${dir}/index/runs.duckdb`);
 *   assert.deepEqual(marker, { path, runId: "run-1", startedAtMs: 1_000 });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function writeRefreshMarker(
  dbPath: string,
  runId: string,
  nowMs: number = Date.now(),
): string {
  const suffix = crypto.getRandomValues(new Uint8Array(4));
  const hex = Array.from(suffix, (b) => b.toString(16).padStart(2, "0")).join("");
  const path = join(dirname(dbPath), `${refreshMarkerPrefixFor(dbPath)}${nowMs}-${hex}.json`);
  Deno.mkdirSync(dirname(dbPath), { recursive: true });
  Deno.writeTextFileSync(path, JSON.stringify({ run_id: runId, started_at_ms: nowMs }) + "\n", {
    createNew: true,
  });
  return path;
}

/**
 * The refresh markers of the index at `dbPath`, oldest first; none when
 * its folder does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listRefreshMarkers } from "./refresh_marker.ts";
 * assert.deepEqual(await listRefreshMarkers("/no/such/index/runs.duckdb"), []);
 * ```
 */
export async function listRefreshMarkers(dbPath: string): Promise<RefreshMarker[]> {
  const dir = dirname(dbPath);
  const prefix = refreshMarkerPrefixFor(dbPath);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.startsWith(prefix)) names.push(entry.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const markers: RefreshMarker[] = [];
  // Names hold the start in ms (13 digits until 2286): in name order is oldest first.
  for (const name of names.sort()) {
    const marker = await readMarker(join(dir, name));
    if (marker !== undefined) markers.push(marker);
  }
  return markers;
}

/** The marker at `path`; undefined when a rebuild removed it since it was listed. */
async function readMarker(path: string): Promise<RefreshMarker | undefined> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  // Written whole by one writeTextFile, but a crash can leave it empty or cut:
  // it still stands for a refresh that may not have happened.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { path, runId: null, startedAtMs: null };
  }
  const record = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  return {
    path,
    runId: typeof record.run_id === "string" ? record.run_id : null,
    startedAtMs: Number.isSafeInteger(record.started_at_ms) ? record.started_at_ms as number : null,
  };
}

/**
 * Remove `markers` (those a rebuild listed before it read the log, once it
 * has published). One already removed by another rebuild is not an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import {
 *   listRefreshMarkers,
 *   removeRefreshMarkers,
 *   writeRefreshMarker,
 * } from "./refresh_marker.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const dbPath = `${dir}/runs.duckdb`;
 *   writeRefreshMarker(dbPath, "run-1");
 *   const listed = await listRefreshMarkers(dbPath);
 *   writeRefreshMarker(dbPath, "run-2"); // written after the listing: it stays
 *   await removeRefreshMarkers(listed);
 *   await removeRefreshMarkers(listed); // again: nothing left to remove
 *   assert.deepEqual((await listRefreshMarkers(dbPath)).map((m) => m.runId), ["run-2"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function removeRefreshMarkers(markers: readonly RefreshMarker[]): Promise<void> {
  for (const marker of markers) {
    try {
      await Deno.remove(marker.path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

/**
 * What `markers` mean for a reader, as a clause: "the index may lack run
 * s-1: its background refresh ... has not finished (...)"; undefined
 * without markers.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { refreshPendingClause } from "./refresh_marker.ts";
 * const markers = [{ path: "/i/.runs.duckdb.refresh-1", runId: "s-1", startedAtMs: 0 }];
 * assert.equal(
 *   refreshPendingClause(markers, 90_000),
 *   "the index may lack run s-1: its background refresh, started 1m30s ago, has not " +
 *     "finished (still running, or it failed: ledger rebuild-index says why)",
 * );
 * assert.equal(refreshPendingClause([], 0), undefined);
 * ```
 */
export function refreshPendingClause(
  markers: readonly RefreshMarker[],
  nowMs: number = Date.now(),
): string | undefined {
  if (markers.length === 0) return undefined;
  const ids = [...new Set(markers.map((m) => m.runId ?? "(unknown)"))];
  const shown = shownAndMore(ids.slice(0, RUN_IDS_SHOWN_MAX), ids.length);
  const oldest = markers.map((m) => m.startedAtMs).find((ms) => ms !== null);
  const since = oldest === undefined || oldest === null
    ? ""
    : `, started ${ago(nowMs - oldest)} ago,`;
  const what = ids.length === 1
    ? `run ${shown}: its background refresh`
    : `runs ${shown}: their background refreshes`;
  const verb = ids.length === 1 ? "has" : "have";
  return `the index may lack ${what}${since} ${verb} not finished ` +
    `(still running, or it failed: ledger rebuild-index says why)`;
}

/**
 * The one warning line a query command prints on stderr when the index may
 * lack runs (`markers` not empty), else undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { refreshPendingLine } from "./refresh_marker.ts";
 * const markers = [
 *   { path: "/i/.runs.duckdb.refresh-1", runId: "s-1", startedAtMs: 0 },
 *   { path: "/i/.runs.duckdb.refresh-2", runId: "s-2", startedAtMs: 5_000 },
 * ];
 * assert.equal(
 *   refreshPendingLine("runs", markers, 3 * 3_600_000),
 *   "ledger runs: warning: the index may lack runs s-1, s-2: their background refreshes, " +
 *     "started 3h00m ago, have not finished (still running, or it failed: ledger " +
 *     "rebuild-index says why)",
 * );
 * ```
 */
export function refreshPendingLine(
  command: string,
  markers: readonly RefreshMarker[],
  nowMs: number = Date.now(),
): string | undefined {
  const clause = refreshPendingClause(markers, nowMs);
  return clause === undefined ? undefined : `ledger ${command}: warning: ${clause}`;
}

/** Run ids a warning names before "and N more". */
const RUN_IDS_SHOWN_MAX = 3;

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d`;
}
