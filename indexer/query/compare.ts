/**
 * Side by side comparison of runs (SPEC 11 `ledger compare`): the config
 * paths whose values differ, every summary metric, phase durations,
 * whether the runs saw the same data, per-caller results and git
 * provenance. Configs and summaries come from the index; per-caller results
 * from each run's `caller_summary.parquet` (else the summary's
 * `by_caller`), git from each run's `manifest.json`.
 *
 * Paths are the flat names of `flat_path.ts`, as `ledger export` names its
 * columns: keys joined with `.`, a `.` in a key written `\.` (the key
 * `"a.b"` is `a\.b`, the path a -> b `a.b`), so two different paths never
 * meet under one name. A path lists the value each run has there: a leaf,
 * or the whole object when the run has an object where another run has a
 * leaf (`{}` against `{"k": 1}` is listed at `e`, and `e.k` as null against
 * 1); null only when the run has nothing there (or null itself).
 *
 * @module
 */
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "../duckdb.ts";
import { literalGlob } from "../duckdb_glob.ts";
import { runDir } from "../../ledger/paths.ts";
import { CALLER_SUMMARY_FILE, MANIFEST_FILE } from "../../backtest/run_files.ts";
import { parseJsonLenient } from "./_json.ts";
import { flatPathName, flatPathSegments } from "./flat_path.ts";
import { canonicalJson, isJsonObject, setOwn } from "../../ledger/json_text.ts";
import { allRows, plainRow } from "./reader.ts";
import { sameData } from "../../ledger/fingerprint.ts";

/** Largest manifest read, in bytes. */
const MANIFEST_BYTES_MAX = 16 * 1024 * 1024;

/** A value per run id. */
export type PerRun<T> = Record<string, T>;

/** The result of {@linkcode compareRuns}: the shape of `ledger compare --json`. */
export interface Comparison {
  /** The run ids, in the order given (the first is the reference for deltas). */
  runs: string[];
  /** Every run has the same `data_fingerprint`, not empty ({@linkcode sameData}). */
  same_data: boolean;
  /**
   * Config paths whose values differ: flat path (see `flat_path.ts`) to the
   * value per run (null when absent).
   */
  config: Record<string, PerRun<unknown>>;
  /** Every summary path but `by_caller.*`: flat path to value per run. */
  summary: Record<string, PerRun<unknown>>;
  /** Phase durations: phase name to ms per run. */
  phases: Record<string, PerRun<number | null>>;
  /**
   * Per-caller results: caller to run to its metrics, every run named
   * (null for a run without results for that caller), as `config` and
   * `summary` name every run.
   */
  callers: Record<string, PerRun<Record<string, unknown> | null>>;
  /**
   * Git provenance per run, as SPEC 11 shapes it (`{commit, dirty}` for
   * every run); both null when the run has no manifest or no git in it.
   */
  git: PerRun<GitProvenance>;
}

/** Options for {@linkcode compareRuns}. */
export interface CompareOptions {
  /** The ledger root, where run directories are. */
  root: string;
  /**
   * Told of a run's artifact that could not be read (its per-caller results
   * then come from its summary, as for a run without the file); the
   * comparison goes on. @default {undefined}
   */
  onWarning?: (message: string) => void;
}

/**
 * Compare the runs `runIds` (full ids, see `resolveRunIds`) of the index
 * open on `conn`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { compareRuns, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   for (const [run_id, win_rate] of [["a1", 0.4], ["b2", 0.7]] as const) {
 *     await writer.appendBatch([
 *       { event_type: "run.created", run_id, run_type: "policy", data_fingerprint: "fp1",
 *         config: { stop: win_rate } },
 *       { event_type: "run.started", run_id },
 *       { event_type: "run.completed", run_id, summary: { win_rate }, artifact_paths: {} },
 *     ]);
 *   }
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const c = await withReader(indexPath(root), (conn) => compareRuns(conn, ["a1", "b2"], { root }));
 *   assert.equal(c.same_data, true); // both have data_fingerprint fp1
 *   assert.deepEqual(Object.keys(c.config), ["stop"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function compareRuns(
  conn: DuckDBConnection,
  runIds: readonly string[],
  options: CompareOptions,
): Promise<Comparison> {
  const placeholders = runIds.map(() => "?").join(", ");
  const rows = await allRows(
    conn,
    `SELECT run_id, config, summary_json, data_fingerprint FROM latest_runs
      WHERE run_id IN (${placeholders})`,
    [...runIds],
  );
  const byId = new Map(rows.map((r) => [String(r.run_id), r]));
  const configs: PerRun<unknown> = {};
  const summaries: PerRun<unknown> = {};
  for (const id of runIds) {
    const r = byId.get(id);
    configs[id] = parseJsonLenient(r?.config);
    summaries[id] = parseJsonLenient(r?.summary_json);
  }
  const phases: Record<string, PerRun<number | null>> = {};
  const phaseRows = await allRows(
    conn,
    `SELECT run_id, phase_name, duration_ms FROM phase_timings WHERE run_id IN (${placeholders})
      ORDER BY phase_order NULLS LAST, started_at_ms, phase_name`,
    [...runIds],
  );
  for (const p of phaseRows) {
    const name = String(p.phase_name);
    phases[name] ??= Object.fromEntries(runIds.map((id) => [id, null]));
    phases[name][String(p.run_id)] = p.duration_ms as number | null;
  }
  return {
    runs: [...runIds],
    same_data: sameData(runIds.map((id) => byId.get(id)?.data_fingerprint)),
    config: sidebyside(runIds, configs, { differingOnly: true }),
    summary: sidebyside(runIds, summaries, { differingOnly: false, skipRoot: "by_caller" }),
    phases,
    callers: await callerResults(runIds, summaries, options.root, options.onWarning),
    git: await gitOfRuns(conn, runIds, options),
  };
}

/**
 * Flatten a JSON object into the flat names of its leaves (see
 * `flat_path.ts`: keys joined with `.`, a `.` in a key written `\.`): a
 * leaf is anything but an object with keys (arrays, `{}`, integers kept
 * exact). Anything that is not an object gives `{}`. `prefix`, when given,
 * is put before each name with a `.`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flatten } from "./compare.ts";
 * assert.deepEqual(flatten({ a: { b: 1 }, "a.b": 2, c: [1], e: {} }), {
 *   "a.b": 1,
 *   "a\\.b": 2,
 *   c: [1],
 *   e: {},
 * });
 * ```
 */
export function flatten(value: unknown, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (node: Record<string, unknown>, segments: string[]) => {
    for (const [k, v] of Object.entries(node)) {
      const here = [...segments, k];
      if (isJsonObject(v) && Object.keys(v).length > 0) {
        walk(v, here);
        continue;
      }
      const name = flatPathName(here);
      setOwn(out, prefix === "" ? name : `${prefix}.${name}`, v);
    }
  };
  if (isJsonObject(value)) walk(value, []);
  return out;
}

// Part of the query module's API since compare first needed it; one definition, in json_text.ts.
export { setOwn };

/**
 * The value at the path `segments` of `tree`; undefined when there is none.
 * A segment of digits reads an array's element too, as the query fields do
 * (`jsonPathOf`).
 */
function valueAt(tree: unknown, segments: readonly string[]): unknown {
  let node = tree;
  for (const key of segments) {
    if (Array.isArray(node) && /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < node.length) {
      node = node[Number(key)];
      continue;
    }
    if (!isJsonObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/**
 * Path to value per run, for every leaf path of any run (in the order the
 * runs have them); a run without a leaf there shows what it has at the path
 * (an object) or null. `skipRoot` leaves out what a top-level key holds
 * when it is an object (the key stays a row when it holds anything else).
 */
function sidebyside(
  runIds: readonly string[],
  trees: PerRun<unknown>,
  options: { differingOnly: boolean; skipRoot?: string },
): Record<string, PerRun<unknown>> {
  const flat = Object.fromEntries(runIds.map((id) => [id, flatten(trees[id])]));
  const skipped = options.skipRoot === undefined ? undefined : flatPathName([options.skipRoot]);
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const id of runIds) {
    for (const p of Object.keys(flat[id])) {
      // Only what lies inside: a `by_caller` that is not an object (`5`, `[]`) has no callers
      // to show, so it stays a summary row (a probe: it was in neither section).
      if (skipped !== undefined && p.startsWith(`${skipped}.`)) continue;
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  const out: Record<string, PerRun<unknown>> = {};
  for (const p of paths) {
    const values: PerRun<unknown> = {};
    for (const id of runIds) {
      const v = Object.hasOwn(flat[id], p) ? flat[id][p] : valueAt(trees[id], flatPathSegments(p));
      setOwn(values, id, v ?? null);
    }
    if (options.differingOnly) {
      // Key order is not a difference: `[{"a":1,"b":2}]` is `[{"b":2,"a":1}]`.
      const texts = new Set(Object.values(values).map((v) => canonicalJson(v)));
      if (texts.size === 1) continue;
    }
    setOwn(out, p, values);
  }
  return out;
}

/** Per-caller results from `caller_summary.parquet`, else the summary's `by_caller`. */
async function callerResults(
  runIds: readonly string[],
  summaries: PerRun<unknown>,
  root: string,
  onWarning: ((message: string) => void) | undefined,
): Promise<Record<string, PerRun<Record<string, unknown> | null>>> {
  const out: Record<string, PerRun<Record<string, unknown> | null>> = {};
  let instance: DuckDBInstance | undefined;
  try {
    for (const id of runIds) {
      const dir = runDirOrNull(root, id);
      const path = dir === null ? null : join(dir, CALLER_SUMMARY_FILE);
      let rows: Record<string, unknown>[] | null = null;
      if (path !== null && await isFile(path)) {
        instance ??= await DuckDBInstance.create(":memory:");
        try {
          rows = await readParquet(instance, path);
        } catch (err) {
          // One run's damaged file must not fail the comparison (a report audit: it did).
          if (!(err instanceof Error)) throw err;
          onWarning?.(
            `run ${id}: ${path} could not be read (${err.message.split("\n")[0]}); its ` +
              "per-caller results come from its summary",
          );
        }
      }
      const fromSummary = byCallerOfSummary(summaries[id]);
      const perCaller = rows === null
        ? fromSummary
        : withSummaryKeys(rowsByCaller(rows), fromSummary);
      for (const [caller, metrics] of Object.entries(perCaller)) {
        if (!Object.hasOwn(out, caller)) setOwn(out, caller, {});
        setOwn(out[caller], id, metrics);
      }
    }
  } finally {
    instance?.closeSync();
  }
  // Every run under every caller, in the order given (a probe: a run without results for a
  // caller had no key there, where config and summary give it null).
  for (const [caller, perRun] of Object.entries(out)) {
    const all: PerRun<Record<string, unknown> | null> = {};
    for (const id of runIds) setOwn(all, id, Object.hasOwn(perRun, id) ? perRun[id] : null);
    setOwn(out, caller, all);
  }
  return out;
}

async function readParquet(
  instance: DuckDBInstance,
  path: string,
): Promise<Record<string, unknown>[]> {
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll("SELECT * FROM read_parquet(?)", [literalGlob(path)]);
    return reader.getRowObjectsJS().map((row) => plainRow(row));
  } finally {
    conn.disconnectSync();
  }
}

function rowsByCaller(rows: Record<string, unknown>[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const { caller, ...rest } of rows) out[String(caller)] = rest;
  return out;
}

/**
 * The per-caller rows of a run's file, with the keys only its summary's
 * `by_caller` has (the win rate's interval, docs/METRICS.md): the index holds
 * the summary on every machine, the file only on the one that ran the run,
 * so without them `compare --json` of the same runs had other keys there (a
 * storage audit).
 */
function withSummaryKeys(
  rows: Record<string, Record<string, unknown>>,
  summary: Record<string, Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  for (const [caller, row] of Object.entries(rows)) {
    const extra = Object.hasOwn(summary, caller) ? summary[caller] : {};
    for (const [key, value] of Object.entries(extra)) {
      if (!Object.hasOwn(row, key)) setOwn(row, key, value);
    }
  }
  return rows;
}

/**
 * The summary's `by_caller` object (a sweep's: its best trial's, `best_trial.by_caller`, the
 * results its summary stands for): caller to its metrics (flat paths), `{ value }` for a caller
 * whose results are not an object; callers with an empty object left out.
 */
function byCallerOfSummary(summary: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const own = valueAt(summary, ["by_caller"]);
  const byCaller = isJsonObject(own) ? own : valueAt(summary, ["best_trial", "by_caller"]);
  if (!isJsonObject(byCaller)) return out;
  for (const [caller, metrics] of Object.entries(byCaller)) {
    // A caller's results that are not an object are its one value, as the report's table shows it.
    const flat = isJsonObject(metrics) ? flatten(metrics) : { value: metrics };
    if (Object.keys(flat).length > 0) setOwn(out, caller, flat);
  }
  return out;
}

/** A run's git commit and whether the tree was dirty (null: not recorded). */
export interface GitProvenance {
  /** The commit the run's code came from. */
  commit: string | null;
  /** Whether the working tree had uncommitted changes. */
  dirty: boolean | null;
}

const NO_GIT: GitProvenance = { commit: null, dirty: null };

/**
 * Each run's {@linkcode GitProvenance}. A run that recorded its manifest,
 * which is not on this machine (an index built from a bucket: `ship` sends
 * the log, not run directories), gets a warning: its nulls are "not here",
 * not "not a git checkout" (a storage audit saw them alike).
 */
async function gitOfRuns(
  conn: DuckDBConnection,
  runIds: readonly string[],
  options: CompareOptions,
): Promise<PerRun<GitProvenance>> {
  const recorded = new Set(
    (await allRows(
      conn,
      `SELECT DISTINCT run_id FROM artifacts_catalog WHERE run_id IN (${
        runIds.map(() => "?").join(", ")
      }) AND (artifact_path = ? OR ends_with(artifact_path, ?))`,
      [...runIds, MANIFEST_FILE, `/${MANIFEST_FILE}`],
    )).map((r) => String(r.run_id)),
  );
  const out: PerRun<GitProvenance> = {};
  for (const id of runIds) {
    const found = await gitOf(options.root, id);
    setOwn(out, id, found.git);
    if (found.missing !== undefined && recorded.has(id)) {
      options.onWarning?.(
        `run ${id}: no ${MANIFEST_FILE}: the run recorded it, but ${found.missing} is not ` +
          "there (run directories stay on the machine that ran them): its git provenance is " +
          "not known here",
      );
    }
  }
  return out;
}

/** A run's provenance, and the manifest's path when it is not there. */
async function gitOf(
  root: string,
  runId: string,
): Promise<{ git: GitProvenance; missing?: string }> {
  const dir = runDirOrNull(root, runId);
  if (dir === null) return { git: { ...NO_GIT } };
  const path = join(dir, MANIFEST_FILE);
  if (!(await isFile(path))) return { git: { ...NO_GIT }, missing: path };
  return { git: await gitOfManifest(path) };
}

async function gitOfManifest(path: string): Promise<GitProvenance> {
  const info = await Deno.stat(path);
  if (info.size > MANIFEST_BYTES_MAX) return { ...NO_GIT };
  let manifest: Record<string, unknown> | null;
  try {
    manifest = parseJsonLenient(await Deno.readTextFile(path)) as Record<string, unknown> | null;
  } catch (err) {
    // A damaged manifest has no provenance to show.
    if (err instanceof SyntaxError) return { ...NO_GIT };
    throw err;
  }
  const git = (manifest?.git ?? null) as Record<string, unknown> | null;
  if (git === null || typeof git !== "object") return { ...NO_GIT };
  return {
    commit: typeof git.commit === "string" ? git.commit : null,
    dirty: typeof git.dirty === "boolean" ? git.dirty : null,
  };
}

/** The run's directory, or null for an id that is not a safe path segment (legacy ids). */
function runDirOrNull(root: string, runId: string): string | null {
  try {
    return runDir(root, runId);
  } catch (err) {
    if (err instanceof TypeError) return null;
    throw err;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
