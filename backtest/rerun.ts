/**
 * Rerun a recorded backtest (path-only, policy or sweep) from its
 * `manifest.json`: the same config on the same inputs, checked by their
 * sha256 first (a changed input refuses the rerun), then the new run's
 * artifacts compared with the original's by sha256. The git commit is
 * compared and reported, not enforced (check the commit out to rerun old
 * code).
 *
 * @module
 */
import { dirname, isAbsolute } from "node:path";
import { resolveRoot, runDir } from "../ledger/paths.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { exists } from "../ledger/exists.ts";
import { getEventEmitter } from "../ledger/emitter.ts";
import {
  fingerprintInputs,
  hashFile,
  type Manifest,
  MANIFEST_FILE,
  runGitProvenance,
  TEMP_INFIX,
} from "./artifacts.ts";
import type { BacktestOptions, RunEventSink, RunResult } from "./workflow.ts";
import { PATH_ONLY_RUN_TYPE, runPathOnly } from "./path_only.ts";
import { POLICY_RUN_TYPE, type PolicyOptions, runPolicy } from "./policy.ts";
import {
  runSweep,
  SWEEP_RUN_TYPE,
  type SweepEventSink,
  type SweepObjective,
  type SweepOptions,
} from "./sweep.ts";
import type { Interval } from "./data.ts";
import type { GapFill } from "./executor.ts";

/** The tag a rerun's run gets: the id of the run it repeats. */
export const RERUN_OF_TAG = "rerun_of";

/**
 * Run types a rerun can repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RERUN_TYPES, rerunRun } from "./rerun.ts";
 * import { PATH_ONLY_RUN_TYPE, POLICY_RUN_TYPE, SWEEP_RUN_TYPE } from "./mod.ts";
 * assert.deepEqual(RERUN_TYPES, [PATH_ONLY_RUN_TYPE, POLICY_RUN_TYPE, SWEEP_RUN_TYPE]);
 * const root = await Deno.makeTempDir();
 * try {
 *   // A run of another type (here recorded by some other tool) is refused before any work.
 *   const dir = `${root}/artifacts/runs/nb-1`;
 *   await Deno.mkdir(dir, { recursive: true });
 *   const manifest = { run_id: "nb-1", run_type: "notebook", status: "completed", config: {} };
 *   await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
 *   await assert.rejects(rerunRun("nb-1", { root }), { kind: "not_rerunnable" });
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const RERUN_TYPES = [PATH_ONLY_RUN_TYPE, POLICY_RUN_TYPE, SWEEP_RUN_TYPE] as const;

/**
 * A run cannot be rerun: no such run or manifest, a run id prefix that
 * matches several runs, a run type or status that cannot be repeated, or
 * inputs whose content changed. `kind` says which.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RerunError } from "./rerun.ts";
 * const err = new RerunError("not_found", "Run x has no manifest");
 * assert.equal(err.kind, "not_found");
 * ```
 */
export class RerunError extends Error {
  /**
   * `not_found` (no such run or manifest), `ambiguous` (a prefix of several
   * runs), `not_rerunnable`, or `inputs_changed`.
   */
  readonly kind: "not_found" | "ambiguous" | "not_rerunnable" | "inputs_changed";
  /** For `ambiguous`: every run id the prefix matches, sorted. Empty otherwise. */
  readonly candidates: string[];
  /** Create the error. */
  constructor(kind: RerunError["kind"], message: string, options: { candidates?: string[] } = {}) {
    super(message);
    this.name = "RerunError";
    this.kind = kind;
    this.candidates = options.candidates ?? [];
  }
}

/**
 * The run id that `idOrPrefix` names for a rerun (SPEC 11: a unique prefix
 * will do). An exact run folder wins; else the prefix must match exactly
 * one of the run folders under `<root>/artifacts/runs/`, with a manifest or
 * not (a probe: among `exp-a`, killed, and `exp-b`, `rerun exp` reran
 * `exp-b` where `show exp` said the prefix was ambiguous); the rerun then
 * says when the run has no manifest. Throws {@linkcode RerunError}:
 * `not_found` when none matches, `ambiguous` (with the candidates) when
 * several do.
 *
 * The run folders answer, not the index: a rerun reads the manifest in the
 * folder and nothing else, the folders are exactly the runs it can repeat,
 * and they are there when the index is not (a `--no-index` run, a daemon
 * that has not caught up, no index built yet). It also keeps DuckDB's index
 * file, and its lock, out of a rerun.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveRerunId } from "./rerun.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   for (const id of ["first-sweep", "fixed-1", "fixed-2"]) {
 *     await Deno.mkdir(`${root}/artifacts/runs/${id}`, { recursive: true });
 *     await Deno.writeTextFile(`${root}/artifacts/runs/${id}/manifest.json`, "{}");
 *   }
 *   await Deno.mkdir(`${root}/artifacts/runs/killed-1`); // no manifest
 *   assert.equal(await resolveRerunId(root, "first-sw"), "first-sweep");
 *   assert.equal(await resolveRerunId(root, "kill"), "killed-1");
 *   await assert.rejects(resolveRerunId(root, "fixed"), { kind: "ambiguous" });
 *   await assert.rejects(resolveRerunId(root, "zzz"), { kind: "not_found" });
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function resolveRerunId(root: string, idOrPrefix: string): Promise<string> {
  const dir = runsDir(root);
  if (await exists(runDir(root, idOrPrefix))) return idOrPrefix; // exact: its manifest decides
  const candidates: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.startsWith(idOrPrefix) || !RUN_ID_PATTERN.test(entry.name)) continue;
      // A run folder, or a link to one (a run's folder moved to another disk).
      if (entry.isDirectory || (entry.isSymlink && await exists(runDir(root, entry.name)))) {
        candidates.push(entry.name);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  candidates.sort();
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    throw new RerunError(
      "not_found",
      `Run ${JSON.stringify(idOrPrefix)} is not among the runs with a ${MANIFEST_FILE} in ${dir} ` +
        "(see `ledger runs --all`)",
    );
  }
  // The candidates go with the error, not into its message (there may be thousands):
  // the caller shows as many as it likes.
  throw new RerunError(
    "ambiguous",
    `Run id prefix ${JSON.stringify(idOrPrefix)} is ambiguous: it matches ${candidates.length} ` +
      `run folders in ${dir}`,
    { candidates },
  );
}

/** `<root>/artifacts/runs`, the folder of every run's folder (from `runDir`, the layout's one home). */
function runsDir(root: string): string {
  return dirname(runDir(root, "x"));
}

/**
 * Options for {@linkcode rerunRun}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rerunRun, type RerunOptions } from "./rerun.ts";
 * import { runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const first = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   // The new run goes to the same ledger root, under the id asked for.
 *   const options: RerunOptions = { root, runId: "path_only-again" };
 *   const { result } = await rerunRun(first.runId, options);
 *   assert.equal(result.runDir, `${root}/artifacts/runs/path_only-again`);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RerunOptions {
  /** Ledger root. @default {Deno.env.get("LEDGER_ROOT") ?? "data/ledger"} */
  root?: string;
  /** Id of the new run. @default {generated} */
  runId?: string;
  /** Where the new run's events go. @default {getEventEmitter({ root })} */
  emitter?: SweepEventSink;
  /**
   * Directory whose git commit is compared and recorded. @default {the
   * checkout the ledger code runs from, else Deno.cwd(): see `runGitProvenance`}
   */
  gitCwd?: string;
  /** Phase hook of the new run (see `BacktestOptions`). @default {undefined} */
  onPhase?: BacktestOptions["onPhase"];
  /** Interrupt hook of the new run (see `BacktestOptions`). @default {undefined} */
  onInterrupt?: BacktestOptions["onInterrupt"];
}

/**
 * One artifact of the original run compared with the rerun's.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type ArtifactComparison, rerunRun } from "./rerun.ts";
 * import { runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const first = await runPathOnly({ root, calls: data.callsPath, candles: data.candlesPath });
 *   const { report } = await rerunRun(first.runId, { root });
 *   const metrics: ArtifactComparison = report.artifacts.path_metrics;
 *   // The same inputs and config give byte-identical Parquet.
 *   assert(metrics.same && metrics.original_sha256 === metrics.rerun_sha256);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface ArtifactComparison {
  /** sha256 of the original file as it is now, or null when it is gone. */
  original_sha256: string | null;
  /**
   * sha256 of the original file as the run wrote it (its manifest's), or
   * null for a run recorded before manifests kept it.
   */
  recorded_sha256: string | null;
  /** sha256 of the rerun's file, or null when the rerun has none. */
  rerun_sha256: string | null;
  /**
   * Whether the rerun's file is byte-identical to what the run wrote: to
   * `recorded_sha256`, or without it to the original file as it is now.
   */
  same: boolean;
  /**
   * Whether the original file changed (or went) since the run: its sha256
   * is not the recorded one, or, without one, its size is not the recorded
   * size; null when that cannot be told (no sha256 recorded, same size).
   */
  original_changed: boolean | null;
}

/**
 * What a rerun found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type RerunReport, rerunRun } from "./rerun.ts";
 * import { runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath, gitCwd: root };
 *   const first = await runPathOnly(files);
 *   const report: RerunReport = (await rerunRun(first.runId, { root, gitCwd: root })).report;
 *   assert(report.identical && report.rerun_run_id !== first.runId);
 *   // No commit is known (gitCwd is not a checkout): the code is not known to be the same.
 *   assert.deepEqual([report.git.recorded_commit, report.git.same], [null, false]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RerunReport {
  /** The run repeated. */
  original_run_id: string;
  /** The new run. */
  rerun_run_id: string;
  /** Its run type. */
  run_type: string;
  /** Every artifact (but the manifest, which has times) byte-identical. */
  identical: boolean;
  /** Per artifact name. */
  artifacts: Record<string, ArtifactComparison>;
  /** Input files checked, with their sha256 (equal to the recorded ones). */
  inputs: Record<string, { path: string; sha256: string }>;
  /**
   * Git commit recorded and now; `recorded_dirty` and `current_dirty`: the
   * tree had uncommitted changes (null: unknown). `same` is the same commit
   * with neither tree dirty: only then is the code known to be the same.
   */
  git: {
    recorded_commit: string | null;
    current_commit: string | null;
    recorded_dirty: boolean | null;
    current_dirty: boolean | null;
    same: boolean;
  };
}

/**
 * Read and check the manifest of `runId`. Throws {@linkcode RerunError}:
 * `not_found` without one, `not_rerunnable` for a file that is not a run
 * manifest.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readManifest, RerunError } from "./rerun.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   await assert.rejects(
 *     readManifest(root, "r1"),
 *     (err) => err instanceof RerunError && err.kind === "not_found",
 *   );
 *   await Deno.mkdir(`${root}/artifacts/runs/r1`, { recursive: true });
 *   const manifest = { run_id: "r1", run_type: "policy", config: { stopPct: 0.2 } };
 *   await Deno.writeTextFile(`${root}/artifacts/runs/r1/manifest.json`, JSON.stringify(manifest));
 *   assert.equal((await readManifest(root, "r1")).run_type, "policy");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function readManifest(root: string, runId: string): Promise<Manifest> {
  const path = `${runDir(root, runId)}/${MANIFEST_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      // Its folder there and its manifest not: the run never ended, killed before a run writes
      // it (a probe: the message did not say why).
      const staged = await stagedManifest(runDir(root, runId));
      const why = staged !== undefined
        // Killed between its run.completed and putting the manifest in place (a probe: "it has
        // not completed", where the index said completed).
        ? `: its process died as it put the manifest in place (${staged} holds it); if ` +
          `\`ledger show ${runId}\` says completed, \`mv ${staged} ${path}\` finishes that`
        : await exists(runDir(root, runId))
        ? ": it has not completed (a run writes its manifest at its end; one still running, " +
          "or killed before its end, has none), so there are no results to compare"
        : "";
      throw new RerunError("not_found", `Run ${runId} has no manifest at ${path}${why}`);
    }
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RerunError("not_rerunnable", `Manifest ${path} is not valid JSON: ${err}`);
  }
  // A manifest edited or damaged by hand: say so of the file, not "a undefined run".
  const manifest = value as Partial<Manifest> | null;
  if (
    manifest === null || typeof manifest !== "object" || Array.isArray(manifest) ||
    typeof manifest.run_type !== "string" || manifest.config === null ||
    typeof manifest.config !== "object" || Array.isArray(manifest.config)
  ) {
    throw new RerunError(
      "not_rerunnable",
      `Manifest ${path} is not a run manifest (an object with run_type and a config object)`,
    );
  }
  return manifest as Manifest;
}

/**
 * The manifest a run staged and had not put in place in its folder `dir`
 * (`manifest.json.tmp-*`, one whose status is `completed`), or undefined.
 */
async function stagedManifest(dir: string): Promise<string | undefined> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw err;
  }
  for (const e of entries) {
    if (!e.isFile || !e.name.startsWith(`${MANIFEST_FILE}${TEMP_INFIX}`)) continue;
    let status: unknown;
    try {
      status = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`))?.status;
    } catch (err) {
      if (err instanceof SyntaxError) continue; // cut short: not one to put in place
      throw err;
    }
    if (status === "completed") return `${dir}/${e.name}`;
  }
  return undefined;
}

/**
 * Check that every input of `manifest` still has its recorded sha256.
 * Throws {@linkcode RerunError} (`inputs_changed`) naming the file otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkInputs, RerunError } from "./rerun.ts";
 * import { fingerprintInputs } from "./artifacts.ts";
 * import type { Manifest } from "./artifacts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const calls = `${dir}/calls.csv`;
 *   await Deno.writeTextFile(calls, "call_id,caller\nc1,a\n");
 *   const { files } = await fingerprintInputs({ calls });
 *   const manifest = { run_id: "r1", inputs: files } as unknown as Manifest;
 *   assert.equal((await checkInputs(manifest)).calls.sha256, files.calls.sha256);
 *   await Deno.writeTextFile(calls, "call_id,caller\nc1,b\n"); // the input changed
 *   await assert.rejects(
 *     checkInputs(manifest),
 *     (err) => err instanceof RerunError && err.kind === "inputs_changed",
 *   );
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function checkInputs(
  manifest: Manifest,
): Promise<Record<string, { path: string; sha256: string }>> {
  const inputs = manifest.inputs ?? {};
  const names = Object.keys(inputs);
  if (names.length === 0 || names.some((n) => typeof inputs[n]?.sha256 !== "string")) {
    throw new RerunError(
      "not_rerunnable",
      `Run ${manifest.run_id}'s manifest records no input hashes: it cannot be rerun`,
    );
  }
  const checked: Record<string, { path: string; sha256: string }> = {};
  for (const name of names) {
    const { path, sha256 } = inputs[name];
    let now: string;
    try {
      now = (await fingerprintInputs({ [name]: path })).files[name].sha256;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        // Manifests before 2026-11-29 recorded the path as given, maybe relative.
        const where = isAbsolute(path) ? "" : ` (resolved against ${Deno.cwd()})`;
        throw new RerunError(
          "inputs_changed",
          `Input ${name} file ${path}${where} no longer exists`,
        );
      }
      throw err;
    }
    if (now !== sha256) {
      throw new RerunError(
        "inputs_changed",
        `Input ${name} file ${path} changed since run ${manifest.run_id}: sha256 was ${sha256}, now ${now}`,
      );
    }
    checked[name] = { path, sha256 };
  }
  return checked;
}

/**
 * Repeat run `runId` from its manifest and compare the results. Throws
 * {@linkcode RerunError} before anything is written when the run cannot be
 * repeated or its inputs changed; a failure of the new run throws the
 * workflow's `RunFailedError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rerunRun } from "./rerun.ts";
 * import { runPolicy } from "./policy.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 5, mints: 2, spanDays: 1 });
 *   const first = await runPolicy({
 *     root,
 *     calls: data.callsPath,
 *     candles: data.candlesPath,
 *     policy: { type: "fixed_stop", stopPct: 0.2 },
 *   });
 *   const { report } = await rerunRun(first.runId, { root });
 *   assert(report.original_run_id === first.runId && report.identical);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function rerunRun(
  runId: string,
  options: RerunOptions = {},
): Promise<{ report: RerunReport; result: RunResult }> {
  const root = resolveRoot(options.root);
  runId = await resolveRerunId(root, runId);
  const manifest = await readManifest(root, runId);
  if (!(RERUN_TYPES as readonly string[]).includes(manifest.run_type)) {
    throw new RerunError(
      "not_rerunnable",
      `Run ${runId} is a ${manifest.run_type} run; rerun repeats ${RERUN_TYPES.join(", ")} runs`,
    );
  }
  if (manifest.status !== "completed") {
    throw new RerunError(
      "not_rerunnable",
      `Run ${runId} did not complete (${manifest.status}): there are no results to compare`,
    );
  }
  // Before the inputs are hashed: a mistyped field is refused at once, nothing written.
  const config = rerunConfigOf(manifest, `${runDir(root, runId)}/${MANIFEST_FILE}`);
  const inputs = await checkInputs(manifest);
  const result = await repeat(manifest, config, { ...options, root });
  refuseChangedRead(manifest, await readManifest(root, result.runId));
  // The new run names the run it repeats, in the log (an annotation, SPEC 11), so the index finds
  // a run's reruns: `ledger runs --where "tags.rerun_of = 'ID'"` (a probe: only the printed
  // report linked them).
  const sink = options.emitter ?? getEventEmitter({ root });
  if (sink.runTagged !== undefined) {
    await sink.runTagged(result.runId, { tags: { [RERUN_OF_TAG]: runId } });
    await sink.flush();
  }
  const artifacts: Record<string, ArtifactComparison> = {};
  const names = new Set([...Object.keys(manifest.outputs), ...Object.keys(result.artifactPaths)]);
  names.delete("manifest"); // it records times and ids
  for (const name of [...names].sort()) {
    const output = Object.hasOwn(manifest.outputs, name) ? manifest.outputs[name] : undefined;
    const original = output === undefined
      ? null
      : await hashOrNull(`${runDir(root, runId)}/${output.file}`);
    const path = result.artifactPaths[name];
    const rerun = path === undefined ? null : (await hashOrNull(path))?.sha256 ?? null;
    const recorded = typeof output?.sha256 === "string" ? output.sha256 : null;
    artifacts[name] = {
      original_sha256: original?.sha256 ?? null,
      recorded_sha256: recorded,
      rerun_sha256: rerun,
      // Against what the run wrote: a file changed since is the file's story, not the rerun's.
      same: rerun !== null && rerun === (recorded ?? original?.sha256),
      original_changed: output === undefined
        ? null
        : recorded !== null
        ? original?.sha256 !== recorded
        : original === null || original.size_bytes !== output.size_bytes
        ? true
        : null,
    };
  }
  const current = await runGitProvenance({ gitCwd: options.gitCwd, excludeDir: root });
  const recorded = manifest.git?.commit ?? null;
  const recordedDirty = manifest.git?.dirty ?? null;
  return {
    result,
    report: {
      original_run_id: runId,
      rerun_run_id: result.runId,
      run_type: manifest.run_type,
      identical: Object.values(artifacts).every((a) => a.same),
      artifacts,
      inputs,
      git: {
        recorded_commit: recorded,
        current_commit: current.commit,
        recorded_dirty: recordedDirty,
        current_dirty: current.dirty,
        same: recorded !== null && recorded === current.commit && recordedDirty === false &&
          current.dirty === false,
      },
    },
  };
}

/**
 * Throw {@linkcode RerunError} (`inputs_changed`) when the repeat `again`
 * read an input of other bytes than `original` recorded: the file changed
 * between the rerun's check and the repeat's own hash (a probe: "NOT
 * identical (artifacts differ) ... inputs: ... (unchanged)", blaming the
 * code for the data). The repeat stays in the log, as what it read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { Manifest } from "./artifacts.ts";
 * import { refuseChangedRead, RerunError } from "./rerun.ts";
 * const run = (id: string, sha256: string) =>
 *   ({ run_id: id, inputs: { calls: { path: "/d/calls.csv", sha256 } } }) as unknown as Manifest;
 * refuseChangedRead(run("r1", "aa"), run("r2", "aa")); // the same bytes: nothing to say
 * assert.throws(
 *   () => refuseChangedRead(run("r1", "aa"), run("r2", "bb")),
 *   (e) => e instanceof RerunError && e.kind === "inputs_changed" && /the repeat read bb/.test(e.message),
 * );
 * ```
 */
export function refuseChangedRead(original: Manifest, again: Manifest): void {
  for (const [name, recorded] of Object.entries(original.inputs ?? {})) {
    const read = again.inputs?.[name]?.sha256 ?? "none";
    if (read === recorded.sha256) continue;
    throw new RerunError(
      "inputs_changed",
      `Input ${name} file ${recorded.path} changed while run ${again.run_id} repeated run ` +
        `${original.run_id}: sha256 was ${recorded.sha256}, the repeat read ${read}; its ` +
        "results are of other data, not compared",
    );
  }
}

async function hashOrNull(path: string): Promise<{ sha256: string; size_bytes: number } | null> {
  try {
    return await hashFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * The config fields a rerun reads, each of the type its option takes. A
 * probe: `"fee_bps": "50"` (or null, or `"abc"`) was read as 0 and a
 * `from` that was not a string as no bound; the rerun recorded other
 * numbers, exit 0. Ranges and names (`"interval": "7m"`, a negative fee)
 * are the workflow's to check, as for a run from the command line.
 */
type RerunConfig =
  & Pick<BacktestOptions, "calls" | "candles" | "fromMs" | "toMs" | "interval" | "maxEntryDelayMs">
  & Pick<PolicyOptions, "feeBps" | "slippageBps" | "gapFill">
  & Pick<SweepOptions, "objective" | "trialsMax">;

/**
 * `manifest`'s config as {@linkcode RerunConfig}. A field of another type
 * throws {@linkcode RerunError} (`not_rerunnable`) naming `path`, the field
 * and its value. Null is accepted only where a run writes it (`from`, `to`,
 * `interval`: no bound, the default; `max_trials` before it was recorded).
 */
function rerunConfigOf(manifest: Manifest, path: string): RerunConfig {
  const c = manifest.config;
  const field = (key: string, type: "string" | "number", nullable = false) => {
    const value = c[key];
    if (value === undefined || (nullable && value === null)) return undefined;
    if (typeof value === type && !(type === "number" && !Number.isFinite(value))) return value;
    const what = `${type === "number" ? "a number" : "a string"}${nullable ? " or null" : ""}`;
    throw new RerunError(
      "not_rerunnable",
      `Manifest ${path}: config.${key} must be ${what}, got ${JSON.stringify(value)}`,
    );
  };
  const time = (key: "from" | "to") => {
    const text = field(key, "string", true) as string | undefined;
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      throw new RerunError(
        "not_rerunnable",
        `Manifest ${path}: config.${key} must be an ISO 8601 time or null, got ${
          JSON.stringify(text)
        }`,
      );
    }
    return ms;
  };
  const costs = manifest.run_type !== PATH_ONLY_RUN_TYPE; // a path-only run has none
  return {
    calls: field("calls", "string", true) as string | undefined,
    candles: field("candles", "string", true) as string | undefined,
    fromMs: time("from"),
    toMs: time("to"),
    interval: field("interval", "string", true) as Interval | undefined,
    maxEntryDelayMs: field("max_entry_delay_ms", "number") as number | undefined,
    feeBps: costs ? field("fee_bps", "number") as number | undefined : undefined,
    slippageBps: costs ? field("slippage_bps", "number") as number | undefined : undefined,
    gapFill: costs ? field("gap_fill", "string") as GapFill | undefined : undefined,
    objective: manifest.run_type === SWEEP_RUN_TYPE
      ? field("objective", "string") as SweepObjective | undefined
      : undefined,
    trialsMax: manifest.run_type === SWEEP_RUN_TYPE
      ? field("max_trials", "number", true) as number | undefined
      : undefined,
  };
}

/** Run the manifest's workflow again with its config (`config`, its fields type-checked). */
function repeat(
  manifest: Manifest,
  config: RerunConfig,
  options: RerunOptions & { root: string },
): Promise<RunResult> {
  const c = manifest.config;
  const base = {
    root: options.root,
    runId: options.runId,
    gitCwd: options.gitCwd,
    onPhase: options.onPhase,
    onInterrupt: options.onInterrupt,
    calls: config.calls ?? manifest.inputs.calls.path,
    candles: config.candles ?? manifest.inputs.candles.path,
    fromMs: config.fromMs,
    toMs: config.toMs,
    interval: config.interval,
    // Absent in a run without a bound (and in runs made before the option).
    maxEntryDelayMs: config.maxEntryDelayMs,
  };
  const costs = {
    // Absent in runs made before the options: the defaults, as then.
    feeBps: config.feeBps,
    slippageBps: config.slippageBps,
    // Absent in a default run's config (and in runs made before the option); runPolicy and
    // runSweep check it before the run exists, as they check the costs.
    gapFill: config.gapFill,
  };
  const emitter = options.emitter as (RunEventSink & SweepEventSink) | undefined;
  switch (manifest.run_type) {
    case PATH_ONLY_RUN_TYPE:
      return runPathOnly({ ...base, emitter });
    case POLICY_RUN_TYPE:
      return runPolicy({ ...base, ...costs, emitter, policy: c.policy });
    default:
      return runSweep({
        ...base,
        ...costs,
        emitter,
        grid: c.grid,
        objective: config.objective,
        trialsMax: config.trialsMax,
      });
  }
}
