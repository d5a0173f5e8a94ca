/**
 * The error classes of the ledger core. Each names the thing that went wrong
 * and the bad value, in one sentence-case line, so that a command line can
 * print `err.message` as is.
 *
 * @module
 */

/**
 * Options for {@linkcode ValidationError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ValidationError, type ValidationErrorOptions } from "./errors.ts";
 * const options: ValidationErrorOptions = { eventType: "run.noted" };
 * const err = new ValidationError("note", "required", undefined, options);
 * assert.equal(err.message, "run.noted: note is required"); // the type leads the message
 * // `message` replaces the generated text (a batch says which event); the fields stay.
 * const inBatch = { ...options, message: "event 2 of 3: run.noted: note is required" };
 * const batchErr = new ValidationError("note", "required", undefined, inBatch);
 * assert.equal(batchErr.message, "event 2 of 3: run.noted: note is required");
 * assert.equal(batchErr.eventType, "run.noted");
 * ```
 */
export interface ValidationErrorOptions {
  /** The event type the field belongs to, when known. @default {undefined} */
  eventType?: string;
  /** Replace the generated message (kept one line). @default {undefined} */
  message?: string;
}

/**
 * An event (or event input) does not match its schema. `field` is the dotted
 * path of the offending field (`duration_ms`, `error.message`), `expected`
 * says what was wanted (`an integer >= 0`, or `required`), and `got` is the
 * found value as JSON (`undefined` when the field is missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ValidationError } from "./errors.ts";
 * const err = new ValidationError("duration_ms", "an integer >= 0", '"abc"', {
 *   eventType: "phase.completed",
 * });
 * assert.equal(err.message, 'phase.completed: duration_ms must be an integer >= 0, got "abc"');
 * ```
 */
export class ValidationError extends Error {
  /** Dotted path of the offending field, e.g. `duration_ms` or `error.message`. */
  readonly field: string;
  /** What the field must be, e.g. `an integer >= 0`; `required` when missing. */
  readonly expected: string;
  /** The found value as JSON text; `undefined` when the field is missing. */
  readonly got: string | undefined;
  /** The event type, when known. */
  readonly eventType: string | undefined;

  /** Build the message `<type>: <field> must be <expected>, got <got>`. */
  constructor(
    field: string,
    expected: string,
    got: string | undefined,
    options: ValidationErrorOptions = {},
  ) {
    const prefix = options.eventType === undefined ? "" : `${options.eventType}: `;
    const body = got === undefined && expected === "required"
      ? `${field} is required`
      : `${field} must be ${expected}, got ${got ?? "nothing"}`;
    super(options.message ?? prefix + body);
    this.name = "ValidationError";
    this.field = field;
    this.expected = expected;
    this.got = got;
    this.eventType = options.eventType;
  }
}

/**
 * A serialized event line is larger than the limit (`LINE_BYTES_MAX`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EventTooLargeError } from "./errors.ts";
 * const err = new EventTooLargeError(2_000_000, 1_048_576, "trial.recorded");
 * assert.equal(err.lineBytes, 2_000_000);
 * ```
 */
export class EventTooLargeError extends Error {
  /** Size of the serialized line, newline included, in bytes. */
  readonly lineBytes: number;
  /** The limit that was passed, in bytes. */
  readonly lineBytesMax: number;

  /** Create the error for a line of `lineBytes` bytes against `lineBytesMax`. */
  constructor(lineBytes: number, lineBytesMax: number, eventType?: string) {
    const prefix = eventType === undefined ? "" : `${eventType}: `;
    super(`${prefix}event is too large: ${lineBytes} bytes, limit ${lineBytesMax} bytes`);
    this.name = "EventTooLargeError";
    this.lineBytes = lineBytes;
    this.lineBytesMax = lineBytesMax;
  }
}

/**
 * Writing to the log failed (disk full, read-only filesystem, closed file).
 * Events of the failed call were not acknowledged; the writer moves on to a
 * new part file for the next call.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { WriteError } from "./errors.ts";
 * const err = new WriteError("/data/ledger/events/day=2026-01-23/part-x-000001.jsonl", "No space left on device");
 * assert.match(err.path, /\.jsonl$/);
 * ```
 */
export class WriteError extends Error {
  /** The file or directory being written. */
  readonly path: string;
  /** Why it could not be written (the message without "Cannot write PATH: "). */
  readonly reason: string;

  /** Create the error for `path`; `cause` is the underlying error. */
  constructor(path: string, reason: string, options: ErrorOptions = {}) {
    super(`Cannot write ${path}: ${reason}`, options);
    this.name = "WriteError";
    this.path = path;
    this.reason = reason;
  }
}

/**
 * Relaxed mode: a group commit failed, so events already acknowledged (their
 * appends had resolved, buffered) were not written. Reported by the next
 * append, `flush()` or `close()` of the writer; `lostEvents` says how many
 * (every failed commit since the last report). An append held on its own
 * group's commit (back pressure) that failed rejects with it too, its own
 * events counted (`ownEvents`: 1 for `appendNow`, the lines a batch had
 * held there for `appendBatch`; `includesThisEvent` when any). The emitter
 * counts the acknowledged ones as failed and appends the event at hand again.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { BufferedEventsLostError } from "./errors.ts";
 * const err = new BufferedEventsLostError(new Error("No space left on device"), 5);
 * assert.equal(err.lostEvents, 5);
 * assert.match(err.message, /^5 events acknowledged in relaxed mode were not written/);
 * const held = new BufferedEventsLostError(new Error("No space"), 3, { includesThisEvent: true });
 * assert.match(held.message, /^2 events acknowledged in relaxed mode and this one were not/);
 * const batch = new BufferedEventsLostError(new Error("No space"), 7, { ownEvents: 4 });
 * assert.ok(batch.includesThisEvent && batch.ownEvents === 4);
 * assert.match(batch.message, /^3 events acknowledged in relaxed mode and 4 of this batch were not/);
 * ```
 */
export class BufferedEventsLostError extends Error {
  /** Events that were not written: acknowledged ones, and the call's own ({@linkcode ownEvents}). */
  readonly lostEvents: number;
  /**
   * Whether the append that rejected with this error is one of them: it
   * waited for its group's commit (back pressure), which failed, so its
   * event was never acknowledged and may be appended again.
   */
  readonly includesThisEvent: boolean;
  /**
   * Of {@linkcode lostEvents}, how many are the rejecting call's own, never
   * acknowledged: 0, 1 for an `appendNow`, or the lines an `appendBatch`
   * held on the commit that failed.
   */
  readonly ownEvents: number;
  /**
   * Create the error for `lostEvents` events lost to the failure `cause`;
   * `ownEvents` of them the call's own (`includesThisEvent` is one).
   */
  constructor(
    cause: unknown,
    lostEvents: number,
    options: { includesThisEvent?: boolean; ownEvents?: number } = {},
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const ownEvents = options.ownEvents ?? (options.includesThisEvent ? 1 : 0);
    const acknowledged = lostEvents - ownEvents;
    const own = ownEvents === 0
      ? ""
      : ownEvents === 1
      ? "and this one "
      : `and ${ownEvents} of this batch `;
    const what = `${acknowledged} ${acknowledged === 1 ? "event" : "events"} acknowledged in ` +
      `relaxed mode ${own}${acknowledged === 1 && ownEvents === 0 ? "was" : "were"} not written`;
    super(
      ownEvents === 1 && acknowledged === 0
        ? `this event was not written (its group commit failed): ${why}`
        : ownEvents > 1 && acknowledged === 0
        ? `${ownEvents} events of this batch were not written (their group commit failed): ${why}`
        : `${what} (a group commit failed): ${why}`,
      { cause },
    );
    this.name = "BufferedEventsLostError";
    this.lostEvents = lostEvents;
    this.ownEvents = ownEvents;
    this.includesThisEvent = ownEvents > 0;
  }
}

/**
 * The log holds something that cannot be explained by a crash (for example a
 * part file whose name does not follow the layout). Torn tails and invalid
 * lines are not errors: the reader reports them as records.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LogCorruptionError } from "./errors.ts";
 * const err = new LogCorruptionError("day=2026-01-23/part-a1.jsonl", 41, "unexpected end of JSON");
 * assert.equal(err.line, 41);
 * ```
 */
export class LogCorruptionError extends Error {
  /** The file, relative to the events directory. */
  readonly file: string;
  /** The 1-based line number, or 0 when the whole file is at fault. */
  readonly line: number;

  /** Create the error for `line` of `file`. */
  constructor(file: string, line: number, reason: string) {
    super(`Cannot parse line ${line} of ${file}: ${reason}`);
    this.name = "LogCorruptionError";
    this.file = file;
    this.line = line;
  }
}

/**
 * A second `run.created` for one run id through the `EventEmitter`s of one
 * root in one process: two runs under one id merge in the index (one's
 * config and fingerprint, the other's summary and trials). A probe: a
 * script with a fixed run id, run twice in one process, made one hybrid run,
 * and nothing said so. The event is written (refusing it alone left the rest
 * of the second run merged, and the index unaware); the emitter logs this as
 * a warning, and every rebuild names the run id.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RunIdReusedError } from "./errors.ts";
 * const err = new RunIdReusedError("sweep-1");
 * assert.equal(err.runId, "sweep-1");
 * assert.match(err.message, /^run "sweep-1" already has a run\.created/);
 * ```
 */
export class RunIdReusedError extends Error {
  /** The run id given twice. */
  readonly runId: string;
  /** Create the error for `runId`. */
  constructor(runId: string) {
    super(
      `run ${JSON.stringify(runId)} already has a run.created from this process: a run id names ` +
        "one run, and the index merges the two; give each run its own id " +
        "(`my-sweep-${Date.now()}`)",
    );
    this.name = "RunIdReusedError";
    this.runId = runId;
  }
}

/**
 * A day folder of the log that is a symbolic link leading to no folder now:
 * its target is not there (a disk not mounted), is not a folder, or is a
 * loop of links. Readers that must see every day refuse rather than leave
 * its events out: an index rebuilt without them lost the day's runs, and
 * `verify` said "sound" (a probe, after a cold disk was unmounted).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { UnreachableDayError } from "./errors.ts";
 * const err = new UnreachableDayError("day=2026-01-20", "/cold/day=2026-01-20", "not there");
 * assert.equal(err.day, "2026-01-20");
 * assert.match(err.message, /^events\/day=2026-01-20 is a link to \/cold\/day=2026-01-20/);
 * ```
 */
export class UnreachableDayError extends Error {
  /** The UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** The folder's name in the events directory, `day=YYYY-MM-DD`. */
  readonly entry: string;
  /** Where the link leads, as written in it. */
  readonly target: string;

  /** Create the error for the link `entry` to `target`, which leads to no folder for `why`. */
  constructor(entry: string, target: string, why: string) {
    super(
      `events/${entry} is a link to ${target}, which leads to no folder now (${why}): its ` +
        "events cannot be read; mount its disk again, or remove the link to leave the day out " +
        "of the log",
    );
    this.name = "UnreachableDayError";
    this.entry = entry;
    this.day = entry.slice("day=".length);
    this.target = target;
  }
}
