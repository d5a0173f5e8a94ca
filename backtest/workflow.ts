/**
 * The run lifecycle that path-only runs, policy runs, sweeps and reruns share
 * (public: `backtest/mod.ts` re-exports its types). A run is created
 * (id, config, input fingerprint, `run.created`, `run.started`), then runs
 * its phases through {@linkcode RunContext.phase} (each emits
 * `phase.started`/`phase.completed` with duration and output summary), and
 * ends with `run.completed` or, on any error after `run.created`,
 * `run.failed` with the error and the phase, plus a manifest saying so.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getEventEmitter } from "../ledger/emitter.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { removeIfPresent } from "../ledger/durable_fs.ts";
import { resolveRoot, runDir } from "../ledger/paths.ts";
import {
  dataFingerprint,
  type FileIdentity,
  fingerprintInputs,
  type GitProvenance,
  hashFile,
  identityChange,
  identityOf,
  type InputFile,
  inputFileLabel,
  type Manifest,
  MANIFEST_VERSION,
  newRunId,
  RunDirectory,
  runGitProvenance,
  type StagedManifest,
} from "./artifacts.ts";
import {
  type Coverage,
  coverCalls,
  type DataSession,
  fileFormat,
  type Interval,
  INTERVAL_MS,
  isInterval,
  loadCalls,
  openCandles,
  openDataSession,
  readSlice,
  type Slice,
  sliceCandles,
} from "./data.ts";
import { CoverageError, InputError } from "./errors.ts";
import { UnreachableDayError } from "../ledger/errors.ts";
import type { Call, CandleSeries } from "./types.ts";
import { type EntrySplit, maxEntryDelayMsOf, splitByEntryDelay } from "./entry_delay.ts";
import { assert } from "../ledger/assert.ts";
import { exists } from "../ledger/exists.ts";
import { findRunEvents, runIdLockWaitMessage, withRunIdLock } from "../ledger/run_lookup.ts";

/**
 * The sample calls, relative to the working directory (the repository root).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SAMPLE_CALLS_PATH } from "./workflow.ts";
 * // A workflow given no `calls` reads this file (here found from the repository root).
 * const url = new URL(`../${SAMPLE_CALLS_PATH}`, import.meta.url);
 * const header = (await Deno.readTextFile(url)).split("\n")[0];
 * assert.equal(header, "call_id,caller,mint,chain,alert_ts");
 * ```
 */
export const SAMPLE_CALLS_PATH = "data/sample/calls.csv";
/**
 * The sample candles, relative to the working directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SAMPLE_CANDLES_PATH } from "./workflow.ts";
 * // A workflow given no `candles` reads this file: 1-minute candles in Parquet.
 * using file = await Deno.open(new URL(`../${SAMPLE_CANDLES_PATH}`, import.meta.url));
 * const magic = new Uint8Array(4);
 * await file.read(magic);
 * assert.equal(new TextDecoder().decode(magic), "PAR1"); // how every Parquet file starts
 * ```
 */
export const SAMPLE_CANDLES_PATH = "data/sample/candles_1m.parquet";

/**
 * Where a run's events go: the methods of the ledger's `EventEmitter` that
 * the workflows use (an `EventEmitter` is one). Like the emitter, an
 * implementation must not throw.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type RunEventSink, startRun } from "./workflow.ts";
 * import { EventEmitter } from "../ledger/emitter.ts";
 * import { findRunEvents } from "../ledger/run_lookup.ts";
 * const root = await Deno.makeTempDir();
 * const ledger = new EventEmitter({ root });
 * try {
 *   const calls = `${root}/calls.csv`; // only hashed here, so it serves as the candles too
 *   await Deno.writeTextFile(calls, "call_id,caller,mint,chain,alert_ts\n");
 *   const emitter: RunEventSink = ledger; // the ledger's emitter is a sink
 *   const ctx = await startRun("policy", { root, calls, candles: calls, emitter }, {});
 *   await ctx.phase("plan", () => Promise.resolve({ value: null, summary: {} }));
 *   const types = (await findRunEvents(root, ctx.runId)).map((e) => e.eventType);
 *   assert.deepEqual(types, ["run.created", "run.started", "phase.started", "phase.completed"]);
 * } finally {
 *   await ledger.close();
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RunEventSink {
  /** `run.created`. */
  runCreated(
    runId: string,
    fields: { run_type: string; config: Record<string, unknown>; data_fingerprint: string },
  ): Promise<unknown>;
  /** `run.started` (the emitter fills host and pid). */
  runStarted(runId: string, fields: { host?: string; pid?: number }): Promise<unknown>;
  /** `phase.started`. */
  phaseStarted(
    runId: string,
    fields: { phase_name: string; phase_order: number },
  ): Promise<unknown>;
  /** `phase.completed`. */
  phaseCompleted(
    runId: string,
    fields: { phase_name: string; duration_ms: number; output_summary: Record<string, unknown> },
  ): Promise<unknown>;
  /** `artifact.created`. */
  artifactCreated(
    runId: string,
    fields: { artifact_type: string; artifact_path: string; size_bytes: number },
  ): Promise<unknown>;
  /** `run.completed`. */
  runCompleted(
    runId: string,
    fields: { summary: Record<string, unknown>; artifact_paths: Record<string, string> },
  ): Promise<unknown>;
  /** `run.failed`. */
  runFailed(
    runId: string,
    fields: { error: { message: string; [key: string]: unknown }; phase_name?: string },
  ): Promise<unknown>;
  /** Make buffered events durable. */
  flush(): Promise<void>;
  /**
   * `run.tagged`, when the sink writes annotations (a rerun tags its run
   * `rerun_of`). @default {absent: no tag is written}
   */
  runTagged?(runId: string, fields: { tags: Record<string, string> }): Promise<unknown>;
}

/**
 * Options every backtest workflow takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type BacktestOptions, startRun } from "./workflow.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const calls = `${root}/calls.csv`; // only hashed here, so it serves as the candles too
 *   await Deno.writeTextFile(calls, "call_id,caller,mint,chain,alert_ts\n");
 *   const options: BacktestOptions = {
 *     root, calls, candles: calls, runId: "policy-demo", fromMs: Date.UTC(2026, 0, 1),
 *   };
 *   // Every workflow (runPathOnly, runPolicy, runSweep) starts its run with these options.
 *   const ctx = await startRun("policy", options, {});
 *   assert.equal(ctx.runId, "policy-demo");
 *   assert.equal(ctx.config.from, "2026-01-01T00:00:00.000Z");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface BacktestOptions {
  /** Ledger root. @default {Deno.env.get("LEDGER_ROOT") ?? "data/ledger"} */
  root?: string;
  /** Calls file (CSV, JSONL, Parquet). @default {"data/sample/calls.csv"} */
  calls?: string;
  /** Candles file (CSV, JSONL, Parquet). @default {"data/sample/candles_1m.parquet"} */
  candles?: string;
  /** Keep calls alerted at or after this time, epoch ms. @default {undefined} */
  fromMs?: number;
  /** Keep calls alerted before this time, epoch ms. @default {undefined} */
  toMs?: number;
  /** Candle interval to use (finer candles are resampled). @default {the file's interval} */
  interval?: Interval;
  /**
   * Most ms a call's anchor candle (its entry) may open after the alert,
   * inclusive: a call past it is not computed, counted as
   * `calls_entry_late` (`entry_delay.ts`); recorded in the config as
   * `max_entry_delay_ms`. @default {undefined: no bound}
   */
  maxEntryDelayMs?: number;
  /** Run id. @default {generated: `<run_type>-<yyyymmddThhmmss>-<6 hex>`} */
  runId?: string;
  /** Where the run's events go. @default {getEventEmitter({ root })} */
  emitter?: RunEventSink;
  /** Progress of the compute/execute phase: (calls done, calls total). @default {undefined} */
  onProgress?: (done: number, total: number) => void;
  /**
   * Directory whose git provenance goes into the manifest. @default {the
   * checkout the ledger code runs from, else Deno.cwd(): see `runGitProvenance`}
   */
  gitCwd?: string;
  /** Called when a phase starts and when it completes (progress display). @default {undefined} */
  onPhase?: (event: PhaseEvent) => void;
  /**
   * Handle SIGINT/SIGTERM while the run is open: record `run.failed`
   * ("interrupted", with the phase), remove temporary files, call this with
   * what happened, and exit 130/143. Without it signals keep their default.
   * It is synchronous: the process exits when it returns (while the run may
   * be ending on its own, the exit code says the signal).
   * @default {undefined}
   */
  onInterrupt?: (info: InterruptInfo) => void;
}

/**
 * A phase starting or completing, for {@linkcode BacktestOptions.onPhase}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type PhaseEvent, startRun } from "./workflow.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const calls = `${root}/calls.csv`; // only hashed here, so it serves as the candles too
 *   await Deno.writeTextFile(calls, "call_id,caller,mint,chain,alert_ts\n");
 *   const seen: PhaseEvent[] = [];
 *   const onPhase = (e: PhaseEvent) => seen.push(e); // e.g. a progress display
 *   const ctx = await startRun("policy", { root, calls, candles: calls, onPhase }, {});
 *   await ctx.phase("load", () => Promise.resolve({ value: null, summary: {} }));
 *   assert.deepEqual(seen.map((e) => `${e.name} ${e.state}`), ["load started", "load completed"]);
 *   assert.equal(seen[0].elapsedMs, 0);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface PhaseEvent {
  /** Phase name. */
  name: string;
  /** `started` or `completed`. */
  state: "started" | "completed";
  /** Time since the phase started, ms (0 when it starts). */
  elapsedMs: number;
}

/**
 * What an interrupt did, for {@linkcode BacktestOptions.onInterrupt}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type BacktestOptions, INTERRUPT_EXIT_CODES, type InterruptInfo } from "./workflow.ts";
 * const lines: string[] = [];
 * const options: BacktestOptions = {
 *   onInterrupt: (i: InterruptInfo) => {
 *     lines.push(`${i.signal} in ${i.phaseName}: exit ${i.exitCode}`);
 *   },
 * };
 * // A real interrupt ends the process (see installInterruptHandler); here the hook is called
 * // with what the handler passes after a SIGTERM in the execute phase.
 * options.onInterrupt?.({
 *   runId: "sweep-1", signal: "SIGTERM", phaseName: "execute", removed: [],
 *   exitCode: INTERRUPT_EXIT_CODES.SIGTERM,
 * });
 * assert.deepEqual(lines, ["SIGTERM in execute: exit 143"]);
 * ```
 */
export interface InterruptInfo {
  /** The run. */
  runId: string;
  /** `SIGINT` or `SIGTERM`. */
  signal: InterruptSignal;
  /** The phase that was running, or null between phases. */
  phaseName: string | null;
  /** Temporary files removed. */
  removed: string[];
  /** The exit code about to be used: 130 (SIGINT) or 143 (SIGTERM). */
  exitCode: number;
  /**
   * Set when the signal came as the run was recording its own end: the run
   * was not interrupted and ended as this says; the process still exits
   * with `exitCode`.
   */
  ended?: RunEnded;
}

/**
 * Signals an interruptible run handles.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { INTERRUPT_EXIT_CODES, type InterruptSignal } from "./workflow.ts";
 * // The signals a run handles, listed as installInterruptHandler lists them.
 * const signals = Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[];
 * assert.deepEqual(signals, ["SIGINT", "SIGTERM"]);
 * const signal: InterruptSignal = "SIGTERM";
 * assert.equal(INTERRUPT_EXIT_CODES[signal], 143);
 * ```
 */
export type InterruptSignal = "SIGINT" | "SIGTERM";
/**
 * Exit code after each signal: 128 + its number, as shells report it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { constants } from "node:os";
 * import { INTERRUPT_EXIT_CODES } from "./workflow.ts";
 * assert.deepEqual(INTERRUPT_EXIT_CODES, { SIGINT: 130, SIGTERM: 143 });
 * // 128 + the signal's number (SIGINT is 2, SIGTERM 15).
 * assert.equal(INTERRUPT_EXIT_CODES.SIGINT, 128 + constants.signals.SIGINT);
 * assert.equal(INTERRUPT_EXIT_CODES.SIGTERM, 128 + constants.signals.SIGTERM);
 * ```
 */
export const INTERRUPT_EXIT_CODES: Readonly<Record<InterruptSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

/**
 * One phase as it ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type PhaseRecord, startRun } from "./workflow.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const calls = `${root}/calls.csv`; // only hashed here, so it serves as the candles too
 *   await Deno.writeTextFile(calls, "call_id,caller,mint,chain,alert_ts\n");
 *   const ctx = await startRun("policy", { root, calls, candles: calls }, {});
 *   await ctx.phase("plan", () => Promise.resolve({ value: null, summary: { rows_in: 5 } }));
 *   await ctx.phase("coverage", () => Promise.resolve({ value: null, summary: { rows_out: 4 } }));
 *   const coverage: PhaseRecord = ctx.phases[1];
 *   assert.equal(coverage.order, 1); // from 0
 *   assert.deepEqual(coverage.summary, { rows_out: 4 });
 *   assert(coverage.durationMs >= 0);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface PhaseRecord {
  /** Phase name. */
  name: string;
  /** Order, from 0. */
  order: number;
  /** Wall time, ms. */
  durationMs: number;
  /** Output summary (rows in/out and more). */
  summary: Record<string, unknown>;
}

/**
 * The outcome of a completed run.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { RunResult } from "./workflow.ts";
 * import { PATH_ONLY_PHASES, runPathOnly } from "./path_only.ts";
 * import { writeSampleData } from "./sample_data.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const data = await writeSampleData(root, { calls: 3, mints: 1, spanDays: 1 });
 *   const files = { root, calls: data.callsPath, candles: data.candlesPath };
 *   const r: RunResult = await runPathOnly(files);
 *   assert.deepEqual(r.phases.map((p) => p.name), PATH_ONLY_PHASES);
 *   assert.equal(r.summary.calls_total, 3);
 *   assert(r.artifactPaths.manifest.startsWith(r.runDir)); // the run's files are in its directory
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface RunResult {
  /** The run id. */
  runId: string;
  /** `path_only`, `policy` or `sweep`. */
  runType: string;
  /** The run directory. */
  runDir: string;
  /** The summary sent with `run.completed`. */
  summary: Record<string, unknown>;
  /** Artifact paths by name, as sent with `run.completed`. */
  artifactPaths: Record<string, string>;
  /** Phases in order. */
  phases: PhaseRecord[];
}

/**
 * A run failed after `run.created`; `run.failed` was recorded. The message is
 * the cause's; `phaseName` is where it happened.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RunFailedError } from "./workflow.ts";
 * const err = new RunFailedError("p-1", "plan", new Error("Bad"));
 * assert.equal(err.message, "Bad");
 * assert.equal(err.phaseName, "plan");
 * ```
 */
export class RunFailedError extends Error {
  /** The failed run. */
  readonly runId: string;
  /** The phase that failed, or null outside a phase. */
  readonly phaseName: string | null;
  /** Create the error for `runId` failing in `phaseName` because of `cause`. */
  constructor(runId: string, phaseName: string | null, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "RunFailedError";
    this.runId = runId;
    this.phaseName = phaseName;
  }
}

/**
 * The run id is taken: the log already has events of that run, or its run
 * directory exists. Thrown before anything is written (a usage error for
 * the CLI).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RunIdTakenError } from "./workflow.ts";
 * const err = new RunIdTakenError("p-1", "the log has its events");
 * assert.match(err.message, /^Run id p-1 is taken/);
 * ```
 */
export class RunIdTakenError extends InputError {
  /** The taken id. */
  readonly runId: string;
  /** Create the error for `runId`; `why` says where it was found. */
  constructor(runId: string, why: string) {
    super(`Run id ${runId} is taken (${why}); choose another --run-id or leave it out`);
    this.name = "RunIdTakenError";
    this.runId = runId;
  }
}

/** A run in progress: its id, emitter, directory and phase bookkeeping. */
export class RunContext {
  /** The run id. */
  readonly runId: string;
  /** `path_only`, `policy` or `sweep`. */
  readonly runType: string;
  /** The ledger root. */
  readonly root: string;
  /** The run's config as recorded. */
  readonly config: Record<string, unknown>;
  /** Hashes of the inputs. */
  readonly inputs: Record<string, InputFile>;
  /** The inputs' {@linkcode FileIdentity} when they were hashed, by input name. */
  readonly inputIdentities: Record<string, FileIdentity>;
  /** Combined input fingerprint. */
  readonly fingerprint: string;
  /** Where the events go. */
  readonly emitter: RunEventSink;
  /** Phases run so far. */
  readonly phases: PhaseRecord[] = [];
  /** Artifact paths by name. */
  readonly artifactPaths: Record<string, string> = {};
  /** Output files for the manifest. */
  readonly outputs: Manifest["outputs"] = {};
  /** Git provenance (filled in by the plan phase). */
  git: GitProvenance = { commit: null, branch: null, dirty: null };
  #createdAt = new Date();
  #dir: RunDirectory | undefined;
  #currentPhase: string | null = null;
  #staged: StagedManifest | undefined;
  #interrupted = false;
  #ending: Promise<RunEnded> | null = null;
  /** The run's links to the inputs it hashed, by input name ({@linkcode RunContext.pinInputs}). */
  #pins: Record<string, string> = {};

  constructor(fields: {
    runId: string;
    runType: string;
    root: string;
    config: Record<string, unknown>;
    inputs: Record<string, InputFile>;
    inputIdentities?: Record<string, FileIdentity>;
    fingerprint: string;
    emitter: RunEventSink;
  }) {
    this.runId = fields.runId;
    this.runType = fields.runType;
    this.root = fields.root;
    this.config = fields.config;
    this.inputs = fields.inputs;
    this.inputIdentities = fields.inputIdentities ?? {};
    this.fingerprint = fields.fingerprint;
    this.emitter = fields.emitter;
  }

  /**
   * Throw {@linkcode InputError} when an input, hashed again through what the
   * run read (its link, else its path), does not hold the bytes whose sha256
   * the run recorded: called once the run has read its inputs, so a run never
   * records the sha256 of a file it did not read (a probe replaced
   * `calls.csv` after `run.created`: the run computed 220 calls under the
   * 320-call file's sha256, `compare` said `same_data` and `rerun` "NOT
   * identical"). Always hashed again: a file's times cannot tell (Deno gives
   * its change time in whole seconds, and a write that puts the modification
   * time back within the second of the link went unseen: a probe, with 18
   * alert times changed under the sha256 of the file before). What it cannot
   * see: a file written in place and written back, with its times put back,
   * between two reads of the run.
   */
  async assertInputsUnchanged(): Promise<void> {
    for (const [name, then] of Object.entries(this.inputIdentities)) {
      const path = this.inputs[name].path;
      // A linked input was read through its link: only a write to that very file matters.
      const read = this.#pins[name] ?? path;
      let now: FileIdentity | null = null;
      try {
        now = identityOf(await Deno.stat(read));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      if (now !== null && (await hashFile(read)).sha256 === this.inputs[name].sha256) continue;
      const change = now === null
        ? "it is gone"
        : identityChange(then, now) ?? "its bytes are not those hashed";
      throw new InputError(
        `${
          inputFileLabel(name)
        } ${path} changed while the run read it (${change}): its results would not be ` +
          `of the file whose sha256 it recorded; run it again`,
      );
    }
  }

  /**
   * A hard link in the run directory to each input file the run hashed, by
   * its path, for the data session to read in its place
   * (`DataSessionOptions.readPaths`): a file renamed over the path and put
   * back while the run read it (a branch checked out and back) was read in
   * between, and the run recorded the sha256 of bytes it had not read (a
   * probe: 319 calls under the 320-call file's sha256, and `compare` said
   * `same_data`). Throws {@linkcode InputError} when the path names no file
   * by now. What it links is checked once read, as an input that cannot be
   * linked (another file system, a task not allowed to write beside it) and
   * is read by its path ({@linkcode assertInputsUnchanged}).
   */
  async pinInputs(): Promise<Map<string, string>> {
    const links = new Map<string, string>();
    try {
      for (const name of Object.keys(this.inputIdentities)) {
        const path = this.inputs[name].path;
        // One file given twice (calls and candles): one link (a review: a second one was made,
        // and the first, replaced in the map, was left behind).
        const made = links.get(path);
        const link = made ?? await this.#pinInput(name);
        if (link === undefined) continue;
        if (made !== undefined) this.#pins[name] = made;
        links.set(path, link);
      }
    } catch (err) {
      for (const link of links.values()) await removeIfPresent(link); // no session takes them now
      throw err;
    }
    return links;
  }

  /** {@linkcode pinInputs} of the input `name`: its link, if one was made. */
  async #pinInput(name: string): Promise<string | undefined> {
    const path = this.inputs[name].path;
    const link = (await this.dir()).scratchPath(`input-${name}`);
    try {
      // The file itself: a link made to a symbolic link is one more symbolic link, which
      // follows whatever is renamed over its target (a review: the race stayed), and a
      // relative one leads nowhere from the run folder (a review: every such run failed).
      await Deno.link(await Deno.realPath(path), link);
    } catch (err) {
      if (cannotLink(err)) return undefined;
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      throw new InputError(
        `${inputFileLabel(name)} ${path} changed after it was hashed (it is gone): run it again`,
      );
    }
    // Whatever file it links now (touched, or another one renamed over the path since it was
    // hashed): the run reads that one, and its bytes are checked against the sha256 once read
    // (assertInputsUnchanged; a probe: a touch here failed a run whose bytes had not changed).
    this.#pins[name] = link;
    return link;
  }

  /** The run directory, created on first use. */
  async dir(): Promise<RunDirectory> {
    this.#dir ??= await RunDirectory.create(this.root, this.runId);
    if (this.#interrupted) this.#dir.interrupt();
    return this.#dir;
  }

  /** Use `dir` (claimed by {@linkcode startRun}) as the run directory. */
  adoptDir(dir: RunDirectory): void {
    this.#dir = dir;
  }

  /**
   * Run phase `name`: emit `phase.started`, run `fn`, emit `phase.completed`
   * with its duration and the summary `fn` returned.
   */
  async phase<T>(
    name: string,
    fn: () => Promise<{ value: T; summary: Record<string, unknown> }>,
  ): Promise<T> {
    const order = this.phases.length;
    await this.#stopIfInterrupted();
    this.#currentPhase = name;
    // From before phase.started is written (and made durable): duration_ms then spans the
    // phase's two events, as their timestamps say (an audit: it left out the fsync).
    const t0 = performance.now();
    await this.emitter.phaseStarted(this.runId, { phase_name: name, phase_order: order });
    this.onPhase?.({ name, state: "started", elapsedMs: 0 });
    const { value, summary } = await fn();
    const durationMs = Math.max(0, Math.round(performance.now() - t0));
    await this.#stopIfInterrupted();
    this.onPhase?.({ name, state: "completed", elapsedMs: durationMs });
    await this.emitter.phaseCompleted(this.runId, {
      phase_name: name,
      duration_ms: durationMs,
      output_summary: summary,
    });
    this.phases.push({ name, order, durationMs, summary });
    this.#currentPhase = null;
    return value;
  }

  /**
   * Record an artifact file: `artifact.created`, artifact path, manifest
   * entry. Once interrupted it waits for the handler's exit instead: an audit
   * found a `store` phase's Parquet file finishing after SIGINT and its
   * `artifact.created` landing after `run.failed`.
   */
  async artifact(type: string, path: string, sizeBytes: number): Promise<void> {
    await this.#stopIfInterrupted();
    // The manifest keeps each output's sha256 as written: a probe changed an output after its
    // run and `ledger rerun` called the identical reproduction "NOT identical".
    const { sha256 } = await hashFile(path);
    // Again: a signal while the file was read must not see its artifact.created after it.
    await this.#stopIfInterrupted();
    this.#dir?.recorded(path); // from here an interrupt leaves the file: its event is being written
    await this.#recordArtifact(type, path, sizeBytes);
    this.outputs[type].sha256 = sha256;
  }

  async #recordArtifact(type: string, path: string, sizeBytes: number): Promise<void> {
    await this.emitter.artifactCreated(this.runId, {
      artifact_type: type,
      artifact_path: path,
      size_bytes: sizeBytes,
    });
    this.artifactPaths[type] = path;
    this.outputs[type] = { file: path.slice(path.lastIndexOf("/") + 1), size_bytes: sizeBytes };
  }

  /**
   * Write the manifest (completed or failed) aside and record it as an
   * artifact; it is put in place by {@linkcode RunContext.commitManifest}
   * once the run's last event is in the log (the manifest follows the log).
   * A completed manifest is not written once the run is interrupted (the
   * handler writes the failed one), nor kept when the interrupt comes while
   * it is written. Resolves to its size in bytes.
   */
  async writeManifest(
    status: Manifest["status"],
    extra: { summary?: Record<string, unknown>; error?: Manifest["error"] },
  ): Promise<number> {
    const own = status !== "failed";
    if (own) await this.#stopIfInterrupted();
    const dir = await this.dir();
    const manifest: Manifest = {
      manifest_version: MANIFEST_VERSION,
      run_id: this.runId,
      run_type: this.runType,
      status,
      created_at: this.#createdAt.toISOString(),
      finished_at: new Date().toISOString(),
      config: this.config,
      inputs: this.inputs,
      data_fingerprint: this.fingerprint,
      git: this.git,
      outputs: { ...this.outputs },
      summary: extra.summary ?? null,
      error: extra.error ?? null,
    };
    const previous = this.#staged;
    this.#staged = undefined; // a staging that fails below leaves nothing to commit
    if (previous !== undefined) await dir.discardManifest(previous);
    const staged = await dir.stageManifest(manifest);
    if (own && this.#interrupted) {
      // Interrupted while this was written: the handler's failed manifest is the run's.
      await dir.discardManifest(staged);
      await this.#stopIfInterrupted();
    }
    this.#staged = staged;
    await this.#recordArtifact("manifest", staged.path, staged.sizeBytes);
    return staged.sizeBytes;
  }

  /**
   * Put the staged manifest in place when `lastEventId` (the id of
   * `run.completed` or `run.failed`, null when the emitter could not write
   * it) says the log has the run's end; else drop it.
   */
  async commitManifest(lastEventId: unknown): Promise<void> {
    const staged = this.#staged;
    if (staged === undefined) return;
    this.#staged = undefined;
    const dir = await this.dir();
    if (lastEventId === null) {
      await dir.discardManifest(staged);
      console.error(
        `ledger backtest: the end of run ${this.runId} is not in the log; manifest not written`,
      );
      return;
    }
    await dir.commitManifest(staged);
  }

  /** Remove the temporary files of the run directory (interrupts); returns them. */
  removeTempFilesSync(): string[] {
    return this.#dir?.removeTempFilesSync() ?? [];
  }

  /** The failed manifest of an interrupted run, staged (errors are printed, never thrown). */
  async stageFailedManifest(error: NonNullable<Manifest["error"]>): Promise<void> {
    await writeFailedManifest(this, error);
  }

  /** Put the staged failed manifest in place (errors are printed, never thrown). */
  async commitFailedManifest(failedId: unknown): Promise<void> {
    await commitFailedManifest(this, failedId);
  }

  /** Removes the signal handlers of {@linkcode installInterruptHandler} (set by startRun). */
  releaseInterrupts: () => void = () => {};

  /** Progress hook of the caller ({@linkcode BacktestOptions.onPhase}). */
  onPhase: ((event: PhaseEvent) => void) | undefined;

  /**
   * Mark the run interrupted: from now on it emits nothing more of its own
   * (phases and the end wait for the exit the interrupt handler makes).
   */
  markInterrupted(): void {
    this.#interrupted = true;
    this.#dir?.interrupt(); // no Parquet file put in place from here; those not recorded go
  }

  /**
   * Wait for the Parquet writes in flight to put their file in place or
   * drop it (at most {@linkcode WRITE_SETTLE_MS_MAX}), so the interrupt's
   * last removal sees what they left.
   */
  async settleWrites(): Promise<void> {
    await this.#dir?.settleWrites(WRITE_SETTLE_MS_MAX);
  }

  /**
   * The run's own end starts: its last event (`run.completed` or
   * `run.failed`) and its manifest are being recorded, and an interrupt from
   * now on waits for them instead of taking over (an audit: a SIGINT just
   * after `run.completed` replaced the completed manifest with a failed one
   * and exited 0). Call the returned function once they are recorded.
   * Called with no `await` after the last {@linkcode RunContext.stopIfInterrupted},
   * so that no signal handler runs in between.
   */
  beginEnd(end: RunEnded["end"], error?: string): (recorded: boolean) => void {
    assert(this.#ending === null, "a run ends once");
    assert(!this.#interrupted, "an interrupted run's end is the handler's");
    let ended!: (value: RunEnded) => void;
    this.#ending = new Promise<RunEnded>((resolve) => ended = resolve);
    return (recorded) => ended(error === undefined ? { end, recorded } : { end, recorded, error });
  }

  /** The run's own end being recorded (see {@linkcode RunContext.beginEnd}), or null. */
  endInProgress(): Promise<RunEnded> | null {
    return this.#ending;
  }

  /** Whether an interrupt took over the run. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Once interrupted, never resolve: the handler records the end and exits. */
  async #stopIfInterrupted(): Promise<void> {
    if (this.#interrupted) await new Promise<never>(() => {});
  }

  /** Wait here for ever when interrupted (see {@linkcode RunContext.markInterrupted}). */
  async stopIfInterrupted(): Promise<void> {
    await this.#stopIfInterrupted();
  }

  /** The phase running now, if any. */
  get currentPhase(): string | null {
    return this.#currentPhase;
  }
}

/**
 * A sample input: under the working directory when it is there (the
 * repository root, as `deno task` runs), else the copy beside this module,
 * so `ledger backtest` from another directory still finds the sample set.
 */
async function samplePath(relative: string): Promise<string> {
  if (await exists(relative, { isFile: true })) return relative;
  const beside = new URL(`../${relative}`, import.meta.url);
  if (beside.protocol === "file:" && await exists(beside, { isFile: true })) {
    return fileURLToPath(beside);
  }
  return relative; // missing everywhere: loading it fails with the path named
}

/** Most folders {@linkcode checkRootCreatable} walks up from the root. */
const ROOT_ANCESTORS_MAX = 256;

/**
 * A backtest starts a new ledger when the root is missing (it is created),
 * but not under a dangling symbolic link or a file: `mkdir` would fail with
 * "File exists" or "Not a directory", naming neither. Throws
 * {@linkcode InputError} naming the root and what is wrong, before anything
 * is written.
 */
async function checkRootCreatable(root: string): Promise<void> {
  let path = resolve(root);
  for (let depth = 0; depth < ROOT_ANCESTORS_MAX; depth++) {
    // Outside the read scope (a new root under --allow-read=ROOT): mkdir says what it finds.
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotADirectory) {
        // Under a file: the walk up reaches it, and it is named (not "os error 20").
        path = dirname(path);
        continue;
      }
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      const parent = dirname(path);
      if (parent === path) return;
      path = parent; // missing: created with the root
      continue;
    }
    const where = path === resolve(root) ? `Ledger root ${root}` : `Ledger root ${root}: ${path}`;
    if (info.isSymlink && !(await exists(path))) {
      throw new InputError(
        `${where} does not exist: it is a dangling symbolic link to ${await Deno.readLink(path)} ` +
          "(check --root / LEDGER_ROOT)",
      );
    }
    if (!(await Deno.stat(path)).isDirectory) {
      throw new InputError(`${where} is not a directory (check --root / LEDGER_ROOT)`);
    }
    return;
  }
}

/**
 * Largest time a `Date` holds, in ms either side of the epoch (+275760-09-13):
 * what `fromMs`/`toMs` may be (and the CLI's `--from`/`--to` digits).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DATE_MS_MAX } from "./workflow.ts";
 * assert.equal(new Date(DATE_MS_MAX).toISOString(), "+275760-09-13T00:00:00.000Z");
 * ```
 */
export const DATE_MS_MAX = 8.64e15;

/**
 * Refuse a data window the run could not honour, naming the option
 * ({@linkcode InputError}): `fromMs`/`toMs` that are not a time in ms (a
 * date string was recorded in the manifest and then ignored), `fromMs` not
 * before `toMs`, an `interval` that is not one of {@linkcode INTERVAL_MS}'s,
 * a `maxEntryDelayMs` that is not a whole number of ms `>= 0`.
 */
function checkRunWindow(options: BacktestOptions): void {
  for (const name of ["fromMs", "toMs"] as const) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    if (!(typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= DATE_MS_MAX)) {
      throw new InputError(
        `${name} must be a time in ms since the epoch, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (
    options.fromMs !== undefined && options.toMs !== undefined && options.fromMs >= options.toMs
  ) {
    throw new InputError(`fromMs (${options.fromMs}) must be before toMs (${options.toMs})`);
  }
  if (options.interval !== undefined && !isInterval(options.interval)) {
    const intervals = Object.keys(INTERVAL_MS).join(", ");
    throw new InputError(
      `interval must be one of ${intervals}, got ${JSON.stringify(options.interval)}`,
    );
  }
  maxEntryDelayMsOf(options.maxEntryDelayMs);
}

/** Resolve the root, inputs and run id, hash the inputs, emit `run.created` and `run.started`. */
export async function startRun(
  runType: string,
  options: BacktestOptions,
  extraConfig: Record<string, unknown>,
): Promise<RunContext> {
  checkRunWindow(options); // before the run exists: a bad window must not leave a failed run
  const root = resolveRoot(options.root);
  await checkRootCreatable(root);
  // Absolute, so the manifest's inputs (and `ledger rerun`) do not depend on the
  // directory the run was started from.
  const calls = absoluteInput(options.calls ?? await samplePath(SAMPLE_CALLS_PATH));
  const candles = absoluteInput(options.candles ?? await samplePath(SAMPLE_CANDLES_PATH));
  // Known from the names alone: refused before the run exists, as the CLI does (an audit:
  // `calls.txt` recorded run.created ... run.failed for a typo).
  fileFormat(calls, "Calls");
  fileFormat(candles, "Candles");
  const runId = options.runId ?? newRunId(runType);
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new InputError(
      `Run id ${JSON.stringify(runId)} is not valid: use letters, digits, '.', '_', '-' (max 128)`,
    );
  }
  const emitter = options.emitter ?? getEventEmitter({ root });
  // A chosen id may be one the log has (a rerun, an id from emit): it is looked for and the
  // run's run.created written as one step under the log's run-id lock, so that an emit of
  // run.created for the same id cannot slip in between. A generated id is new by
  // construction (time and 24 random bits); the directory claim still catches a collision.
  // From the run folder's claim until the handler is there, a signal is held, then handled as
  // the run's interrupt (a probe: one in between ended the process, 143 and silent, and left an
  // empty run folder that kept a chosen id taken).
  const hold = options.onInterrupt === undefined ? undefined : new SignalHold();
  const create = () =>
    createRun({ root, runId, runType, calls, candles, options, extraConfig, emitter, hold });
  let ctx: RunContext;
  try {
    ctx = options.runId === undefined ? await create() : await withRunIdLock(root, create, {
      onWait: (ms) => console.error(runIdLockWaitMessage("ledger backtest", ms)),
    });
  } catch (err) {
    const held = hold?.release() ?? null;
    if (held !== null) Deno.exit(INTERRUPT_EXIT_CODES[held]); // nothing of the run written
    throw err;
  }
  if (options.onInterrupt !== undefined) {
    const held = hold?.release() ?? null;
    ctx.releaseInterrupts = installInterruptHandler(ctx, options.onInterrupt, held);
    if (held !== null) await ctx.stopIfInterrupted(); // the handler records the end and exits
  }
  await emitter.runStarted(runId, {});
  return ctx;
}

/** What {@linkcode createRun} needs. */
interface CreateRunArgs {
  root: string;
  runId: string;
  runType: string;
  calls: string;
  candles: string;
  options: BacktestOptions;
  extraConfig: Record<string, unknown>;
  emitter: RunEventSink;
  /** Holds SIGINT and SIGTERM from the run folder's claim on (interruptible runs). */
  hold?: SignalHold;
}

/**
 * SIGINT and SIGTERM held from {@linkcode SignalHold.hold} until
 * {@linkcode SignalHold.release}, which says the first one that came (or
 * null): a run between its folder's claim and its interrupt handler must
 * not end there, nor record nothing. A second signal while held is left
 * to the handler of the first, which follows in moments (it exited at once,
 * which left the claimed run folder empty).
 */
export class SignalHold {
  #first: InterruptSignal | null = null;
  #listeners = new Map<InterruptSignal, () => void>();

  /** Start holding (again: no effect). */
  hold(): void {
    if (this.#listeners.size > 0) return;
    for (const signal of Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[]) {
      const listener = () => {
        this.#first ??= signal;
      };
      this.#listeners.set(signal, listener);
      Deno.addSignalListener(signal, listener);
    }
  }

  /** Stop holding; the first signal held, or null. */
  release(): InterruptSignal | null {
    for (const [signal, listener] of this.#listeners) Deno.removeSignalListener(signal, listener);
    this.#listeners.clear();
    return this.#first;
  }
}

/**
 * Refuse a chosen run id the log has, fingerprint the inputs, claim the run
 * directory and write `run.created` (made durable before it resolves, so a
 * process that takes the run-id lock next finds it).
 */
async function createRun(args: CreateRunArgs): Promise<RunContext> {
  const { root, runId, runType, calls, candles, options, emitter } = args;
  let known: Awaited<ReturnType<typeof findRunEvents>> = [];
  try {
    if (options.runId !== undefined) known = await findRunEvents(root, runId, { limit: 1 });
  } catch (err) {
    // A chosen id may be a run of a day on a disk not mounted: run anyway, its results merged
    // into that run's (a review). A new id needs no look-up: the way on is to leave it out.
    if (!(err instanceof UnreachableDayError)) throw err;
    throw new InputError(
      `Cannot tell whether run id ${runId} is taken: ${err.message}; or leave --run-id out`,
    );
  }
  if (known.length > 0) {
    throw new RunIdTakenError(runId, `the log has its ${known[0].eventType} in ${known[0].file}`);
  }
  let fp: Awaited<ReturnType<typeof fingerprintInputs>>;
  try {
    fp = await fingerprintInputs({ calls, candles });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      const missing = (await exists(calls)) ? `Candles file ${candles}` : `Calls file ${calls}`;
      throw new InputError(`${missing} does not exist`);
    }
    throw err;
  }
  const config = {
    run_type: runType,
    calls,
    candles,
    from: options.fromMs === undefined ? null : new Date(options.fromMs).toISOString(),
    to: options.toMs === undefined ? null : new Date(options.toMs).toISOString(),
    interval: options.interval ?? null,
    // Only when given: a run without a bound keeps the config it always had.
    ...(options.maxEntryDelayMs === undefined
      ? {}
      : { max_entry_delay_ms: options.maxEntryDelayMs }),
    ...args.extraConfig,
  };
  // The directory is the claim: mkdir fails for a second process with this id.
  args.hold?.hold();
  const claimed = await RunDirectory.claim(root, runId);
  if (claimed === null) {
    // Empty, with no event of the run in the log: a run that wrote nothing (a full disk: a probe
    // found the id taken for good) or one starting now; it is not taken over, which let two
    // processes run under one id (a review), but the refusal says how to free it.
    const dir = runDir(root, runId);
    const empty = options.runId !== undefined && await isEmptyDir(dir);
    throw new RunIdTakenError(
      runId,
      empty
        ? `its run directory ${dir} exists, empty, and the log has no event of the run: a run ` +
          "that wrote nothing, or one starting now; remove the directory if no process uses it"
        : "its run directory exists",
    );
  }
  const fingerprint = dataFingerprint(fp.fingerprint, config);
  const ctx = new RunContext({
    runId,
    runType,
    root,
    config,
    inputs: fp.files,
    inputIdentities: fp.identities,
    fingerprint,
    emitter,
  });
  ctx.adoptDir(claimed);
  ctx.onPhase = options.onPhase;
  await emitter.runCreated(runId, { run_type: runType, config, data_fingerprint: fingerprint });
  await emitter.flush(); // a relaxed emitter's buffer too: in the log before the lock is let go
  return ctx;
}

/**
 * `path` made absolute, its `..` read as text (`far/../calls.csv` is the
 * `calls.csv` beside `far`, whatever `far` links to): as Deno reads every
 * path under the permission flags its tasks run with, so one command line
 * names one file however ledger is run (`deno task`, `deno run -A`, the
 * compiled binary, the library), and the manifest records the file read.
 */
function absoluteInput(path: string): string {
  return resolve(path);
}

/**
 * Whether `err` of `Deno.link` says a hard link cannot be made there (not
 * that the file is not there): another file system, one without links, a
 * file that may not be linked by this user, too many links, or a path the
 * process may not write.
 */
function cannotLink(err: unknown): boolean {
  if (
    err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotSupported
  ) return true;
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && ["EXDEV", "EMLINK", "EPERM", "ENOTSUP"].includes(code);
}

/** Whether `path` is a directory with nothing in it. */
async function isEmptyDir(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return false;
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw err;
  }
}

/**
 * Run `body` for a started run with a DuckDB session; on success emit
 * `run.completed`, on failure `run.failed` (with the phase) and a failed
 * manifest, then throw {@linkcode RunFailedError}.
 */
export async function finishRun(
  ctx: RunContext,
  body: (session: DataSession) => Promise<Record<string, unknown>>,
): Promise<RunResult> {
  try {
    return await finishRunBody(ctx, body);
  } finally {
    ctx.releaseInterrupts();
  }
}

async function finishRunBody(
  ctx: RunContext,
  body: (session: DataSession) => Promise<Record<string, unknown>>,
): Promise<RunResult> {
  let session: DataSession | undefined;
  let summary: Record<string, unknown>;
  try {
    // Scratch files (an input's copy without its byte order mark) in the run directory: its
    // interrupt handler removes them, and the tasks may write there.
    session = await openDataSession({
      scratchPath: async (name) => (await ctx.dir()).scratchPath(name),
      readPaths: await ctx.pinInputs(),
    });
    summary = await body(session);
  } catch (err) {
    await ctx.stopIfInterrupted();
    const message = err instanceof Error ? err.message : String(err);
    const ended = ctx.beginEnd("failed", message); // no await before it: an interrupt now waits
    const phaseName = ctx.currentPhase;
    let failedId: unknown = null;
    try {
      const error = { message, type: err instanceof Error ? err.name : typeof err };
      // The manifest is staged first (run.failed is the last event of the run)
      // and put in place once run.failed is durable.
      await writeFailedManifest(ctx, { message, phase_name: phaseName });
      failedId = await ctx.emitter.runFailed(
        ctx.runId,
        phaseName === null ? { error } : { error, phase_name: phaseName },
      );
      await ctx.emitter.flush();
      await commitFailedManifest(ctx, failedId);
    } finally {
      ended(failedId !== null);
    }
    throw new RunFailedError(ctx.runId, phaseName, err);
  } finally {
    session?.close();
  }
  await ctx.stopIfInterrupted();
  const ended = ctx.beginEnd("completed"); // no await before it: an interrupt now waits
  let completedId: unknown = null;
  try {
    completedId = await ctx.emitter.runCompleted(ctx.runId, {
      summary,
      artifact_paths: ctx.artifactPaths,
    });
    await ctx.emitter.flush(); // run.completed is durable from here
    await ctx.commitManifest(completedId); // only now may the manifest say "completed"
  } finally {
    ended(completedId !== null); // null: the emitter could not write it (it never throws)
  }
  return {
    runId: ctx.runId,
    runType: ctx.runType,
    runDir: (await ctx.dir()).path,
    summary,
    artifactPaths: { ...ctx.artifactPaths },
    phases: ctx.phases,
  };
}

/** What an interrupt handler needs of a run (a {@linkcode RunContext} is one). */
export interface InterruptibleRun {
  /** The run id. */
  readonly runId: string;
  /** Where its events go. */
  readonly emitter: RunEventSink;
  /** The phase running now, if any. */
  readonly currentPhase: string | null;
  /** Stop the run's own events (see {@linkcode RunContext.markInterrupted}). */
  markInterrupted(): void;
  /** Remove temporary files; returns their paths. */
  removeTempFilesSync(): string[];
  /** Wait for the run's file writes in flight to end (see {@linkcode RunContext.settleWrites}). Optional. */
  settleWrites?(): Promise<void>;
  /**
   * Stage the failed manifest (before `run.failed`, whose last artifact it
   * is) and put it in place once `run.failed` is durable, so an interrupted
   * run leaves the trail of any failed run (issue 4). Optional.
   */
  stageFailedManifest?(error: NonNullable<Manifest["error"]>): Promise<void>;
  /** See {@linkcode InterruptibleRun.stageFailedManifest}. */
  commitFailedManifest?(failedId: unknown): Promise<void>;
  /**
   * The run's own end being recorded, or null: a signal then waits for it
   * and exits without recording `run.failed` (see {@linkcode RunContext.beginEnd}).
   * Optional.
   */
  endInProgress?(): Promise<RunEnded> | null;
}

/**
 * The end a run recorded on its own, for a signal that came as it did
 * ({@linkcode InterruptInfo.ended}).
 */
export interface RunEnded {
  /** Its last event: `run.completed` or `run.failed`. */
  end: "completed" | "failed";
  /** Whether that event is in the log (false: the emitter could not write it). */
  recorded: boolean;
  /** A failed run's error message. */
  error?: string;
}

/**
 * Longest wait of an interrupt for the run's Parquet writes in flight, ms:
 * a DuckDB `COPY` cannot be stopped, and the one of a sweep's 10,000 trials
 * takes about a second.
 */
export const WRITE_SETTLE_MS_MAX = 10_000;

/**
 * Handle SIGINT and SIGTERM for `run` until the returned function is called:
 * the first signal stops the run's own events, removes its temporary files,
 * records `run.failed` (`error.message` "interrupted", the signal, the
 * phase), makes it durable, calls `onInterrupt` (one line for the user) and
 * exits 130 (SIGINT) or 143 (SIGTERM). A second signal while this happens
 * is said on stderr, once, and waits for it: exiting at once left the run
 * without its `run.failed` or with a manifest listed and not in place
 * (SIGKILL stops at once, the run then stale). `pending`, a signal that came before
 * the handler was there ({@linkcode SignalHold}), is handled at once. Used
 * by every long-running workflow (backtests, sweeps).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // A signal ends the process, so this runs in a child: the handler records
 * // run.failed with the phase, reports, and exits 130 on SIGINT.
 * const code = `
 * import { installInterruptHandler } from "${new URL("./workflow.ts", import.meta.url)}";
 * const failed = [];
 * const run = {
 *   runId: "r1", currentPhase: "simulate", markInterrupted() {}, removeTempFilesSync: () => [],
 *   emitter: { runFailed: async (_id, e) => { failed.push(e); }, flush: async () => {} },
 * };
 * const release = installInterruptHandler(run, (i) => console.log(i.phaseName, failed.length));
 * Deno.kill(Deno.pid, "SIGINT");
 * setTimeout(release, 5000);
 * `;
 * const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code] }).output();
 * assert.equal(out.code, 130);
 * assert.equal(new TextDecoder().decode(out.stdout), "simulate 1\n");
 * ```
 */
export function installInterruptHandler(
  run: InterruptibleRun,
  onInterrupt: (info: InterruptInfo) => void,
  pending: InterruptSignal | null = null,
): () => void {
  let handling: InterruptSignal | null = null;
  let repeatSaid = false;
  let endingItself = false; // the first signal came as the run recorded its own end
  const handlers = new Map<InterruptSignal, () => void>();
  for (const signal of Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[]) {
    const exitCode = INTERRUPT_EXIT_CODES[signal];
    const handler = () => {
      if (handling !== null) {
        // A second Ctrl-C while the first is recorded waits for it (helper-294: exiting here left
        // the run without its run.failed, stale, or its manifest listed and never put in place,
        // without a word). SIGKILL still stops the process at once, the run then stale.
        if (!repeatSaid) {
          repeatSaid = true;
          const doing = endingItself
            ? `run ${run.runId} is recording its own end`
            : `still recording run ${run.runId} as interrupted by ${handling}`;
          console.error(
            `ledger: ${signal} again: ${doing}, which takes a moment (kill -9 ${Deno.pid} stops ` +
              "at once, the run then stale)",
          );
        }
        return;
      }
      handling = signal;
      const ending = run.endInProgress?.() ?? null;
      if (ending !== null) {
        endingItself = true;
        // The run records its own end: that end stands, then the process exits as asked.
        void ending.then((ended) => {
          onInterrupt({ runId: run.runId, signal, phaseName: null, removed: [], exitCode, ended });
          Deno.exit(exitCode);
        });
        return;
      }
      run.markInterrupted();
      const phaseName = run.currentPhase;
      const removed = run.removeTempFilesSync();
      const error = { message: "interrupted", type: "Interrupted", signal };
      void (async () => {
        await run.stageFailedManifest?.({ message: "interrupted", phase_name: phaseName });
        const failedId = await run.emitter.runFailed(
          run.runId,
          phaseName === null ? { error } : { error, phase_name: phaseName },
        );
        await run.emitter.flush(); // run.failed is durable from here
        await run.commitFailedManifest?.(failedId);
        // The run went on until here (a DuckDB write in flight at the signal finishes or
        // fails on its own thread): once it has, what it left aside since is removed too (an
        // audit; a probe found a sweep's trials.parquet and its temporary file left behind).
        await run.settleWrites?.();
        removed.push(...run.removeTempFilesSync().filter((path) => !removed.includes(path)));
        onInterrupt({ runId: run.runId, signal, phaseName, removed, exitCode });
        Deno.exit(exitCode);
      })();
    };
    handlers.set(signal, handler);
    Deno.addSignalListener(signal, handler);
  }
  if (pending !== null) handlers.get(pending)!(); // held while the run was created
  return () => {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    handlers.clear();
  };
}

/** The `fromMs`/`toMs` window of `options` as ISO text (`from X to Y`, one side `any`). */
function windowText(options: BacktestOptions): string {
  const at = (ms: number | undefined) => ms === undefined ? "any" : new Date(ms).toISOString();
  return `from ${at(options.fromMs)} to ${at(options.toMs)}`;
}

async function writeFailedManifest(ctx: RunContext, error: NonNullable<Manifest["error"]>) {
  try {
    await ctx.writeManifest("failed", { error });
  } catch (err) {
    // The run already failed and run.failed is recorded; a manifest we cannot
    // write must not hide the original error, so it is only logged.
    console.error(`ledger backtest: cannot write the manifest of failed run ${ctx.runId}: ${err}`);
  }
}

async function commitFailedManifest(ctx: RunContext, failedId: unknown): Promise<void> {
  try {
    await ctx.commitManifest(failedId);
  } catch (err) {
    // As above: the failure already recorded must not be hidden by the manifest's.
    console.error(`ledger backtest: cannot write the manifest of failed run ${ctx.runId}: ${err}`);
  }
}

/** What the shared data phases produce. */
export interface LoadedData {
  /** Calls after --from/--to. */
  calls: Call[];
  /** Coverage split. */
  coverage: Coverage;
  /** The slice. */
  slice: Slice;
  /** Candle series by mint. */
  seriesByMint: Map<string, CandleSeries>;
  /**
   * The covered calls split by `maxEntryDelayMs` (`entry_delay.ts`): every
   * run type computes the on-time ones and counts the late ones.
   */
  entries: EntrySplit;
}

/**
 * The shared phases `plan`, `coverage`, `slice`, `load`. `beforePlan` runs
 * first inside `plan` (policy validation), so its errors fail the plan phase.
 */
export async function dataPhases(
  ctx: RunContext,
  session: DataSession,
  options: BacktestOptions & { beforePlan?: () => void },
): Promise<LoadedData> {
  const { conn } = session;
  const { calls, source, rowsIn } = await ctx.phase("plan", async () => {
    options.beforePlan?.();
    ctx.git = await runGitProvenance({ gitCwd: options.gitCwd, excludeDir: ctx.root });
    const loaded = await loadCalls(conn, String(ctx.config.calls), {
      fromMs: options.fromMs,
      toMs: options.toMs,
    });
    const source = await openCandles(conn, String(ctx.config.candles), {
      interval: options.interval,
    });
    return {
      value: { calls: loaded.calls, source, rowsIn: loaded.rowsIn },
      summary: {
        rows_in: loaded.rowsIn,
        rows_out: loaded.calls.length,
        calls_outside_window: loaded.rowsIn - loaded.calls.length,
        git_commit: ctx.git.commit,
      },
    };
  });
  const coverage = await ctx.phase("coverage", async () => {
    if (rowsIn === 0) {
      // A probe: a calls file of a header alone read "0 of 0 calls covered by <candles>".
      throw new CoverageError(`Calls file ${ctx.config.calls} has no calls (no row)`);
    }
    if (calls.length === 0) {
      // The window, not the candles, left nothing (a time audit: "0 of 0 calls covered").
      throw new CoverageError(
        `No call of ${ctx.config.calls} is in the time window (${windowText(options)}): all ` +
          `${rowsIn} are outside it`,
      );
    }
    const cov = await coverCalls(conn, calls, { candlesPath: source.path });
    if (cov.covered.length === 0) {
      throw new CoverageError(
        `No call has candles at or after its alert: 0 of ${calls.length} calls covered by ${ctx.config.candles}`,
      );
    }
    return {
      value: cov,
      summary: {
        rows_in: calls.length,
        rows_out: cov.covered.length,
        calls_no_candles: cov.uncovered.length,
        mints: cov.mints,
      },
    };
  });
  const slice = await ctx.phase("slice", async () => {
    const s = await sliceCandles(conn, source, { interval: options.interval });
    return {
      value: s,
      summary: {
        rows_in: coverage.candleRows,
        rows_out: s.rows,
        interval: s.interval,
        resampled_from: s.resampledFrom,
      },
    };
  });
  const seriesByMint = await ctx.phase("load", async () => {
    const byMint = await readSlice(conn);
    // The input files are read by now (into DuckDB and this process): the hashes recorded at
    // run.created must be theirs.
    await ctx.assertInputsUnchanged();
    let candles = 0;
    for (const s of byMint.values()) candles += s.ts.length;
    return {
      value: byMint,
      summary: { rows_in: slice.rows, rows_out: candles, mints: byMint.size },
    };
  });
  const entries = splitByEntryDelay(coverage.covered, seriesByMint, options.maxEntryDelayMs);
  return { calls, coverage, slice, seriesByMint, entries };
}
