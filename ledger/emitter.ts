/**
 * The in-process event emitter for backtests (SPEC 6): one method per event
 * type, durable by default, and it never throws into the caller. A failure
 * (invalid fields, disk full, read-only log) resolves to `null`, is counted in
 * {@linkcode EventEmitter.stats}, and the first failure of each kind is
 * logged once to stderr.
 *
 * @module
 */
import type { EventFields, EventInput, EventType, LedgerEvent } from "./events.ts";
import { resolve } from "node:path";
import {
  checkWriterOptions,
  type Durability,
  type EventWriter,
  openWriter,
  type WriterOptions,
} from "./writer.ts";
import { resolveRoot, ROOT_DEFAULT, ROOT_ENV_VARIABLE } from "./paths.ts";
import {
  BufferedEventsLostError,
  EventTooLargeError,
  RunIdReusedError,
  ValidationError,
} from "./errors.ts";
import { encodeEventJson } from "./event_write.ts";
import { completeEvent } from "./events.ts";

/**
 * The envelope fields a caller may supply to an emitter method (imports,
 * backfills: SPEC 4); they are kept as given, else the writer fills them in.
 *
 * @example
 * ```ts
 * import type { EnvelopeFields } from "./emitter.ts";
 * const backfill: EnvelopeFields = { event_id: "legacy-42", timestamp_ms: 1768867200000 };
 * ```
 */
export interface EnvelopeFields {
  /** The event's id (unique; new ids are time-sortable). */
  event_id?: string;
  /** When it happened, ms since epoch, UTC. */
  timestamp_ms?: number;
  /** The version of its type's schema. */
  schema_version?: number;
}

/**
 * What an emitter method takes for an event of type `T`: the type's fields
 * ({@linkcode EventFields}) and the {@linkcode EnvelopeFields}. A probe: a
 * backfill that supplied `timestamp_ms`, which SPEC 4 allows and the
 * emitter keeps, did not type-check.
 *
 * @example
 * ```ts
 * import type { EmitFields } from "./emitter.ts";
 * const fields: EmitFields<"run.started"> = { host: "lab-1", timestamp_ms: 1768867200000 };
 * ```
 */
export type EmitFields<T extends EventType> = EventFields<T> & EnvelopeFields;

/**
 * What {@linkcode EventEmitter.runFailed} takes: its {@linkcode EmitFields},
 * with `error` an `Error` too (written as `{name, message, cause, ...}`).
 *
 * @example
 * ```ts
 * import type { EmitFailedFields } from "./emitter.ts";
 * const fields: EmitFailedFields = { error: new Error("no candles"), phase_name: "load" };
 * ```
 */
export type EmitFailedFields =
  & Omit<EmitFields<"run.failed">, "error">
  & { error: EventFields<"run.failed">["error"] | Error };

/**
 * Default ledger root when neither the option nor `LEDGER_ROOT` is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DEFAULT_ROOT, EventEmitter } from "./emitter.ts";
 * assert.equal(DEFAULT_ROOT, "data/ledger"); // relative to the working directory
 * // Without a root option, an emitter takes LEDGER_ROOT when set, else DEFAULT_ROOT.
 * assert.equal(new EventEmitter().root, Deno.env.get("LEDGER_ROOT") || DEFAULT_ROOT);
 * ```
 */
export const DEFAULT_ROOT: string = ROOT_DEFAULT;

/**
 * Run ids an emitter remembers having created, to warn of a second
 * `run.created` of one (`RunIdReusedError`'s message): the newest 100,000,
 * about 10 MB of ids at most; a process that creates more runs than that is
 * not checked against its oldest.
 */
const CREATED_RUN_IDS_KEPT = 100_000;

/**
 * Options for {@linkcode EventEmitter} and {@linkcode getEventEmitter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EventEmitter, type EventEmitterOptions } from "./emitter.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const logged: string[] = [];
 *   const log = (message: string) => logged.push(message);
 *   const options: EventEmitterOptions = { root, durability: "relaxed", log };
 *   const emitter = new EventEmitter(options);
 *   // A run id that is not a safe path segment: the emit resolves to null and `log` hears of it.
 *   assert.equal(await emitter.runStarted("../escape"), null);
 *   assert.match(logged[0], /ValidationError: run\.started: run_id must be/);
 *   assert.equal(emitter.durability, "relaxed");
 *   await emitter.close();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface EventEmitterOptions {
  /** The ledger root. @default {Deno.env.get("LEDGER_ROOT") ?? "data/ledger"} */
  root?: string;
  /** Durability of every emit. @default {"durable"} */
  durability?: Durability;
  /** Further writer options (part size, group commit). @default {{}} */
  writer?: Omit<WriterOptions, "durability">;
  /** Where failures are logged (once per kind). @default {console.error} */
  log?: (message: string) => void;
}

/**
 * Counters of an emitter.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type EmitterStats, EventEmitter } from "./emitter.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const emitter = new EventEmitter({ root, log: () => {} }); // failures are only counted
 *   await emitter.phaseStarted("run-1", { phase_name: "plan", phase_order: 0 });
 *   await emitter.phaseStarted("run-1", { phase_name: "load", phase_order: -1 });
 *   const stats: EmitterStats = emitter.stats();
 *   assert.equal(stats.emitted, 1);
 *   assert.equal(stats.failed, 1);
 *   assert.match(stats.lastError ?? "", /phase_order must be an integer >= 0, got -1/);
 *   await emitter.close();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface EmitterStats {
  /** Events written (durable mode) or buffered (relaxed mode). */
  emitted: number;
  /** Emits that failed and resolved to `null`. */
  failed: number;
  /** The message of the latest failure, if any. */
  lastError: string | undefined;
}

/**
 * Emits the events of runs. Prefer the per-root singleton from
 * {@linkcode getEventEmitter}; `new EventEmitter()` is for tests and tools
 * that need their own writer. The writer is opened at the first emit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EventEmitter } from "./emitter.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const emitter = new EventEmitter({ root });
 *   const id = await emitter.runStarted("run-1", {});
 *   assert.equal(typeof id, "string");
 *   assert.equal(emitter.stats().emitted, 1);
 *   await emitter.close();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class EventEmitter {
  /** The ledger root events go to, as given (see {@linkcode EventEmitter.rootPath}). */
  readonly root: string;
  /**
   * The ledger root as an absolute path, resolved once when the emitter is
   * made: every part file goes under it, whatever the process's working
   * directory later is. A probe: a backtest that changed its directory
   * (`Deno.chdir`) after `run.created` wrote its later events under another
   * `data/ledger`, every emit acknowledged.
   */
  readonly rootPath: string;
  /** The durability of every emit. */
  readonly durability: Durability;
  #writerOptions: WriterOptions;
  #log: (message: string) => void;
  #writer: Promise<EventWriter> | undefined;
  /** `#writer` once it has opened: an emit then calls it without awaiting the open. */
  #opened: EventWriter | undefined;
  #emitted = 0;
  #failed = 0;
  #lastError: string | undefined;
  #loggedKinds = new Set<string>();
  /**
   * Run ids this emitter has written (or is writing) a `run.created` for, the
   * newest {@linkcode CREATED_RUN_IDS_KEPT} (insertion order: the oldest go first).
   */
  #createdRuns: Set<string>;
  /** Incremented by each `close()`: an emit begun before it is not retried after it. */
  #closes = 0;

  /** Create an emitter; nothing is opened until the first emit. */
  constructor(options: EventEmitterOptions = {}) {
    this.root = emitterRoot(options.root, options.log); // an empty root is refused there
    this.rootPath = resolve(this.root);
    this.durability = options.durability ?? "durable";
    this.#writerOptions = { ...options.writer, durability: this.durability };
    // Refused here, at once: an emit never throws, so a bad option would only ever be counted.
    checkWriterOptions(this.#writerOptions);
    if (options.log !== undefined && typeof options.log !== "function") {
      throw new TypeError(`log must be a function, got ${typeof options.log}`);
    }
    this.#log = options.log ?? ((message) => console.error(message));
    // One memory per root, not per emitter: a script that closes its emitter and runs again in
    // the process gets a new one from getEventEmitter (a review), and the log is the same.
    const key = this.rootPath;
    let created = createdRunsByRoot.get(key);
    if (created === undefined) createdRunsByRoot.set(key, created = new Set());
    this.#createdRuns = created;
  }

  /**
   * Emit `run.created`; resolves to the event id, or `null` on failure. A
   * run id this process created already is written too, with a warning:
   * the index merges the two runs and every rebuild names the id.
   */
  runCreated(runId: string, fields: EmitFields<"run.created">): Promise<string | null> {
    // A second run.created of one id merges two runs in the index (a probe). Refusing it alone
    // did not help (a review): the rest of the second run was written under the id all the same,
    // still merged, and the index, seeing one run.created, no longer warned. Written, it is said
    // here and by every rebuild (runs_status.created_count).
    // `ledger emit` and backtests look the id up in the log; this emitter remembers its own.
    const reused = this.#createdRuns.has(runId);
    if (reused) this.#warnReused(runId);
    else {
      this.#createdRuns.add(runId);
      if (this.#createdRuns.size > CREATED_RUN_IDS_KEPT) {
        this.#createdRuns.delete(this.#createdRuns.values().next().value!);
      }
    }
    return this.#emit("run.created", runId, fields).then((id) => {
      if (id === null && !reused) this.#createdRuns.delete(runId); // not written: free again
      return id;
    });
  }

  /** Emit `run.started`, with this process's `host` and `pid` unless given. */
  runStarted(runId: string, fields: EmitFields<"run.started"> = {}): Promise<string | null> {
    return this.#emit("run.started", runId, fields, () => ({
      ...fields,
      host: fields.host ?? hostname(),
      pid: fields.pid ?? Deno.pid,
    }));
  }

  /** Emit `phase.started`; resolves to the event id, or `null` on failure. */
  phaseStarted(runId: string, fields: EmitFields<"phase.started">): Promise<string | null> {
    return this.#emit("phase.started", runId, fields);
  }

  /** Emit `phase.completed`; resolves to the event id, or `null` on failure. */
  phaseCompleted(runId: string, fields: EmitFields<"phase.completed">): Promise<string | null> {
    return this.#emit("phase.completed", runId, fields);
  }

  /** Emit `trial.recorded`; resolves to the event id, or `null` on failure. */
  trialRecorded(runId: string, fields: EmitFields<"trial.recorded">): Promise<string | null> {
    return this.#emit("trial.recorded", runId, fields);
  }

  /** Emit `artifact.created`; resolves to the event id, or `null` on failure. */
  artifactCreated(runId: string, fields: EmitFields<"artifact.created">): Promise<string | null> {
    return this.#emit("artifact.created", runId, fields);
  }

  /** Emit `baseline.completed`; resolves to the event id, or `null` on failure. */
  baselineCompleted(
    runId: string,
    fields: EmitFields<"baseline.completed">,
  ): Promise<string | null> {
    return this.#emit("baseline.completed", runId, fields);
  }

  /** Emit `run.completed`; resolves to the event id, or `null` on failure. */
  runCompleted(runId: string, fields: EmitFields<"run.completed">): Promise<string | null> {
    return this.#emit("run.completed", runId, fields);
  }

  /** Emit `run.failed`; resolves to the event id, or `null` on failure. */
  runFailed(runId: string, fields: EmitFailedFields): Promise<string | null> {
    return this.#emit("run.failed", runId, fields);
  }

  /** Emit `run.tagged` (an empty value removes the tag); resolves to the event id, or `null`. */
  runTagged(runId: string, fields: EmitFields<"run.tagged">): Promise<string | null> {
    return this.#emit("run.tagged", runId, fields);
  }

  /** Emit `run.noted`; resolves to the event id, or `null` on failure. */
  runNoted(runId: string, fields: EmitFields<"run.noted">): Promise<string | null> {
    return this.#emit("run.noted", runId, fields);
  }

  /** Emit `run.archived`; resolves to the event id, or `null` on failure. */
  runArchived(runId: string, fields: EmitFields<"run.archived"> = {}): Promise<string | null> {
    return this.#emit("run.archived", runId, fields);
  }

  /** Emit `run.restored`; resolves to the event id, or `null` on failure. */
  runRestored(runId: string): Promise<string | null> {
    return this.#emit("run.restored", runId, {});
  }

  /** The counters: emitted, failed, and the last error message. */
  stats(): EmitterStats {
    return { emitted: this.#emitted, failed: this.#failed, lastError: this.#lastError };
  }

  /** Make buffered events durable (relaxed mode). Never throws; a failure is counted. */
  async flush(): Promise<void> {
    if (this.#writer === undefined) return;
    try {
      await (await this.#writer).flush();
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Flush and close the writer. Never throws; a failure is counted. Emitting afterwards reopens. */
  async close(): Promise<void> {
    this.#closes += 1;
    const writer = this.#writer;
    this.#writer = undefined;
    this.#opened = undefined;
    // Closed, written to or not: the next getEventEmitter of the root makes a new one (keyed as
    // getEventEmitter keys it: an audit found a relative root's closed emitter still handed out).
    const key = this.rootPath;
    if (singletons.get(key) === this) singletons.delete(key);
    if (writer === undefined) return;
    try {
      await (await writer).close();
    } catch (err) {
      this.#fail(err);
    }
  }

  #emit(
    type: EventType,
    runId: string,
    fields: object,
    fill?: () => object,
  ): Promise<string | null> {
    let input: EventInput;
    try {
      input = this.#input(type, runId, fields, fill); // reads the caller's fields: may throw
    } catch (err) {
      return Promise.resolve(this.#fail(err)); // an emit never throws (SPEC 6)
    }
    const writer = this.#opened;
    if (writer === undefined) return this.#emitOpening(input);
    // The writer is open: no async frame. A relaxed append answers at once, so the
    // emit costs one settled promise (issue 16: relaxed emit against pino).
    try {
      const appended = writer.appendNow(input);
      if (appended instanceof Promise) {
        // Relaxed: the answer may report earlier events lost, and then this one is appended
        // again: copied now, before the caller can change its objects (a review: a retry read
        // them later, and wrote another trial's metrics). Durable appends lose no group.
        const closes = this.#closes;
        let again: object = input;
        const answer = appended.then(
          (event) => this.#done(event),
          (err) => this.#failOrRetry(err, again, closes),
        );
        if (this.durability === "relaxed") again = snapshotOrInput(input); // answer is handled
        return answer;
      }
      return Promise.resolve(this.#done(appended));
    } catch (err) {
      return this.#failOrRetry(err, input, this.#closes);
    }
  }

  /**
   * `err` from an append of `event`: when it reports earlier buffered events
   * lost (a failed group commit, relaxed mode), they are counted and `event`
   * is appended again, since its own append did not fail (an audit: it was
   * dropped for an error not its own, on a disk that had room again); so is
   * an `event` held on its own group's commit that failed (its error
   * `includesThisEvent`: never acknowledged, so not counted as lost), unless
   * the emitter was closed meanwhile (`closes` is the count when the emit
   * began: a review saw the retry open a writer after `close()` returned, its
   * part never closed); otherwise this emit failed.
   */
  #failOrRetry(err: unknown, event: object, closes: number): Promise<string | null> {
    if (!(err instanceof BufferedEventsLostError) || closes !== this.#closes) {
      return Promise.resolve(this.#fail(err));
    }
    if (!err.includesThisEvent) this.#fail(err);
    else if (err.lostEvents > err.ownEvents) {
      // Held on its own group's commit, which failed: the acknowledged events lost with it
      // are failures; this one, never acknowledged, is appended again (a review: of several
      // held emits only the first was, the others resolved with ids of events never written).
      this.#fail(new BufferedEventsLostError(err.cause, err.lostEvents - err.ownEvents));
    }
    return this.#emitOpening(event, false);
  }

  /**
   * The first emit, or one after a failed open or a lost group: wait for the
   * writer, then append `input`; `retry`: once more after a report of earlier
   * lost events (see `#failOrRetry`).
   */
  async #emitOpening(input: object, retry = true): Promise<string | null> {
    const closes = this.#closes;
    let event: LedgerEvent;
    try {
      // Validated and copied now, as the caller gave it: the caller may change its objects
      // (a reused metrics object) while the writer opens (a probe: three trials recorded as
      // the last one).
      event = snapshotOf(input);
    } catch (err) {
      return this.#fail(err);
    }
    try {
      const writer = await this.#openWriter();
      return this.#done(await writer.appendNow(event));
    } catch (err) {
      if (!retry) return this.#fail(err);
      return this.#failOrRetry(err, event, closes);
    }
  }

  #input(type: EventType, runId: string, fields: object, fill?: () => object): EventInput {
    const filled = fill === undefined ? fields : fill();
    return { ...filled, event_type: type, run_id: runId } as EventInput;
  }

  #done(event: LedgerEvent): string {
    this.#emitted += 1;
    return event.event_id;
  }

  #openWriter(): Promise<EventWriter> {
    if (this.#writer === undefined) {
      const opening = openWriter(this.rootPath, this.#writerOptions);
      this.#writer = opening;
      opening.then(
        (writer) => {
          if (this.#writer === opening) this.#opened = writer;
        },
        // A failed open is retried at the next emit (the disk may come back).
        () => {
          if (this.#writer === opening) this.#writer = undefined;
        },
      );
    }
    return this.#writer;
  }

  /** Say, once per emitter, that `runId` was given a second `run.created`. */
  #warnReused(runId: string): void {
    if (this.#loggedKinds.has("RunIdReusedError")) return;
    this.#loggedKinds.add("RunIdReusedError");
    const line = `ledger emitter: warning: ${new RunIdReusedError(runId).message} (further ` +
      "reused run ids are not logged here; rebuild-index names them)";
    try {
      this.#log(line);
    } catch (logErr) {
      this.#lastError = `the log callback threw: ${describeFailure(logErr).message}`;
    }
  }

  /**
   * Count and log (once per kind) a failure; an emit that failed resolves to
   * `null`. Events a failed group commit lost move from `emitted` to
   * `failed`. Never throws, whatever was thrown and whatever the log
   * callback does (SPEC 6; an audit made it throw with an error whose name
   * getter threw, a thrown object without a string form, a throwing `log`).
   */
  #fail(err: unknown): null {
    const lost = err instanceof BufferedEventsLostError ? err.lostEvents : 0;
    // A lost group may have held a run.created: its id is free again, but which is not known,
    // so none is remembered (a review: a run re-created after the loss was refused; it would
    // be warned of as a reused id now).
    if (lost > 0) this.#createdRuns.clear();
    // This emit's own event, when among the lost, was never counted as emitted.
    const acknowledged = err instanceof BufferedEventsLostError ? lost - err.ownEvents : lost;
    this.#emitted -= Math.min(acknowledged, this.#emitted);
    this.#failed += Math.max(lost, 1);
    const { kind, message } = describeFailure(err);
    this.#lastError = message;
    if (!this.#loggedKinds.has(kind)) {
      this.#loggedKinds.add(kind);
      const line =
        `ledger emitter: ${kind}: ${message} (further ${kind} failures are only counted)`;
      try {
        this.#log(line);
      } catch (logErr) {
        // The caller's log callback failed: its failure is the last error, and nothing is
        // thrown into the backtest.
        this.#lastError = `${message} (and the log callback threw: ${
          describeFailure(logErr).message
        })`;
      }
    }
    return null;
  }
}

/**
 * The kind (an error's name, else the value's type) and message of a thrown
 * value, whatever it is: reading them may itself throw (a getter, an object
 * without a string form), which gives a kind and message saying so.
 */
function describeFailure(err: unknown): { kind: string; message: string } {
  try {
    if (err instanceof Error) return { kind: String(err.name), message: String(err.message) };
    return { kind: typeof err, message: String(err) };
  } catch (unprintable) {
    // Reading the name or message threw (a getter), or String() found no string form.
    const also = unprintable instanceof Error ? "reading it threw" : "it has no string form";
    return {
      kind: "unprintable",
      message: `a thrown ${typeof err} that cannot be printed (${also})`,
    };
  }
}

const singletons = new Map<string, EventEmitter>();

/** The run ids created through the emitters of each root (resolved path), newest last. */
const createdRunsByRoot = new Map<string, Set<string>>();

/**
 * `input` validated and completed as the writer would (id, time), copied
 * through its own line's JSON: the event as it is at the call, whatever the
 * caller does with its objects afterwards. Throws what the writer would
 * (`ValidationError`, `EventTooLargeError`).
 */
function snapshotOf(input: object): LedgerEvent {
  return JSON.parse(encodeEventJson(completeEvent(input)).json);
}

/**
 * {@linkcode snapshotOf} `input`, or `input` itself when the writer refuses
 * it: its own append, already under way, reports that (and a retry of it
 * would be refused alike), so nothing is lost by not copying it.
 */
function snapshotOrInput(input: object): object {
  try {
    return snapshotOf(input);
  } catch (err) {
    if (err instanceof ValidationError || err instanceof EventTooLargeError) return input;
    throw err;
  }
}

/**
 * {@linkcode getEventEmitter} was asked for a durability other than the one
 * the root's emitter already has: giving the open one would make a caller
 * that asked for durable writes get relaxed ones without knowing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EmitterDurabilityError } from "./emitter.ts";
 * const err = new EmitterDurabilityError("/r", "relaxed", "durable");
 * assert.match(err.message, /already open with durability relaxed/);
 * ```
 */
export class EmitterDurabilityError extends Error {
  /** The root. */
  readonly root: string;
  /** The durability of the open emitter. */
  readonly open: Durability;
  /** The durability asked for. */
  readonly asked: Durability;
  /** Create the error. */
  constructor(root: string, open: Durability, asked: Durability) {
    super(
      `The emitter of ${root} is already open with durability ${open}, not ${asked}: ` +
        `close it first, or use new EventEmitter() for a writer of its own`,
    );
    this.name = "EmitterDurabilityError";
    this.root = root;
    this.open = open;
    this.asked = asked;
  }
}

/**
 * The process-wide emitter of a root (root from the option, else
 * `LEDGER_ROOT`, else `data/ledger`). The first call for a root decides its
 * durability, `log` and `writer` options; a later call that names another
 * durability throws {@linkcode EmitterDurabilityError} (one that names none
 * gets the open one), and its `log` and `writer` options are not used (the
 * open emitter keeps its own): pass them where the emitter is first made,
 * or use `new EventEmitter()` for one of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { getEventEmitter } from "./emitter.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const emitter = getEventEmitter({ root });
 *   assert.equal(getEventEmitter({ root }), emitter); // one per root
 *   await emitter.phaseStarted("run-1", { phase_name: "plan", phase_order: 0 });
 *   await emitter.close();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function getEventEmitter(options: EventEmitterOptions = {}): EventEmitter {
  const root = emitterRoot(options.root, options.log);
  // One emitter per root directory, however it is spelled (`data/ledger/` is `data/ledger`).
  const key = resolve(root);
  let emitter = singletons.get(key);
  if (emitter === undefined) {
    emitter = new EventEmitter({ ...options, root });
    singletons.set(key, emitter);
  } else if (options.durability !== undefined && options.durability !== emitter.durability) {
    throw new EmitterDurabilityError(root, emitter.durability, options.durability);
  }
  return emitter;
}

/**
 * The root of an emitter: `root` when given, else `LEDGER_ROOT`, else
 * {@linkcode DEFAULT_ROOT}. A process that may not read `LEDGER_ROOT` (no
 * `--allow-env`) takes the default, said once on `log`: the emitter never
 * throws into the backtest (SPEC 6; a probe: `getEventEmitter()` threw
 * `NotCapable` under the README's own permissions).
 */
function emitterRoot(root: string | undefined, log: ((message: string) => void) | undefined) {
  try {
    return resolveRoot(root);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    if (!rootEnvRefusalSaid) {
      rootEnvRefusalSaid = true;
      const say = typeof log === "function" ? log : (message: string) => console.error(message);
      say(
        `ledger emitter: ${ROOT_ENV_VARIABLE} cannot be read without --allow-env=` +
          `${ROOT_ENV_VARIABLE}: events go to ${DEFAULT_ROOT}`,
      );
    }
    return DEFAULT_ROOT;
  }
}
let rootEnvRefusalSaid = false;

function hostname(): string | undefined {
  try {
    return Deno.hostname();
  } catch (err) {
    // Without --allow-sys the host stays unknown (`host` is optional); any
    // other failure is reported by the emit that asked for it.
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
      return undefined;
    }
    throw err;
  }
}
