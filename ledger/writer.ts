/**
 * The crash-safe event writer (SPEC 3, 6).
 *
 * - Each writer instance has a unique writer id and creates its own part
 *   files, `events/day=YYYY-MM-DD/ledger-<writerId>-<seq6>.jsonl` (created
 *   with `createNew`, so a part file has exactly one owner and a writer never
 *   appends behind a torn line another process left). Never `part-*.jsonl`:
 *   the Python writer appends to the last such file of a day folder.
 *   Short-lived CLI writers (`ledger emit`, `ledger tag` and the other
 *   annotation commands) use `shared_part.ts` instead.
 * - Events are validated and encoded before any byte is written.
 * - Appends are serialized through a promise chain, so lines of one process
 *   never interleave; each call writes its whole lines with one `write`.
 * - Durable mode (default): `append` resolves only after `fdatasync`.
 *   Relaxed mode: group commit; `append` resolves once the line is buffered,
 *   and the buffer is written and synced every `groupCommitMs` (by a timer;
 *   a loop that never yields keeps timers from running, so an append that
 *   finds the timer overdue starts the commit and gives the event loop a
 *   turn, as each does until the commits move) or `groupCommitEvents`
 *   events, on `flush()` and on `close()`.
 * - A failed write never acknowledges its events: every part the failed call
 *   wrote to is truncated back to its size before the call (all or nothing),
 *   and the part it failed on is abandoned: the next write opens a new part.
 *   Only if even the truncation fails (a read-only remount) can lines of the
 *   failed call remain, and the error says so. A part the failed call
 *   created is removed (no empty files from a full disk).
 * - Every file operation goes through `durable_fs.ts`, the seam the
 *   power-loss suite replaces with a layer that drops unsynced data.
 *
 * @module
 */
import { completeEvent, type EventInput, type LedgerEvent } from "./events.ts";
import { type ArenaLine, LineArena, linesData } from "./line_arena.ts";
import { BufferedEventsLostError, ValidationError, WriteError } from "./errors.ts";
import { newWriterId } from "./ids.ts";
import { TIMER_MS_MAX } from "./limits.ts";
import { dayDir, dayOf, eventsDir, PART_BYTES_MAX_DEFAULT, partFileName } from "./paths.ts";
import { writeSchemaFile } from "./schema_file.ts";
import { assert, AssertionError } from "./assert.ts";
import { ignoreFileSizeSignal } from "./file_size_signal.ts";
import {
  type DurableFile,
  ensureDir,
  ensureDirDurable,
  openFile,
  removeIfPresent,
  syncDir,
  writeAll,
} from "./durable_fs.ts";

/** Default size past which a writer starts a new part file, in bytes (100 MiB). */
export { PART_BYTES_MAX_DEFAULT } from "./paths.ts";
/**
 * Default group commit interval of relaxed mode, in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { GROUP_COMMIT_MS_DEFAULT } from "./writer.ts";
 * // Relaxed mode: the buffer is written and synced this long after its first line (or when full).
 * assert.equal(GROUP_COMMIT_MS_DEFAULT, 10); // milliseconds
 * ```
 */
export const GROUP_COMMIT_MS_DEFAULT = 10;
/**
 * Default number of buffered events that triggers a group commit in relaxed mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { GROUP_COMMIT_EVENTS_DEFAULT, openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   // A commit timer that cannot come due here: only the count starts a commit.
 *   const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
 *   const input = { event_type: "run.noted", run_id: "r1", note: "n" };
 *   const count = GROUP_COMMIT_EVENTS_DEFAULT;
 *   const answers = Array.from({ length: count }, () => writer.appendNow(input));
 *   // The first 999 come back at once (buffered); the 1000th starts a group commit: a promise.
 *   assert.equal(answers.findIndex((answer) => answer instanceof Promise), 999);
 *   await Promise.all(answers);
 *   await writer.close();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const GROUP_COMMIT_EVENTS_DEFAULT = 1000;
/**
 * Most events one `appendBatch` call accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listParts } from "./parts.ts";
 * import { BATCH_EVENTS_MAX, openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   const input = { event_type: "run.restored", run_id: "r1" };
 *   const inputs = Array.from({ length: BATCH_EVENTS_MAX + 1 }, () => input); // 100,001 events
 *   await assert.rejects(writer.appendBatch(inputs), RangeError);
 *   await writer.close();
 *   assert.deepEqual(await listParts(root), []); // refused before anything was written
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const BATCH_EVENTS_MAX = 100_000;
/**
 * Most encoded bytes one `appendBatch` call accepts (64 MiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LINE_BYTES_MAX } from "./limits.ts";
 * import { listParts } from "./parts.ts";
 * import { BATCH_BYTES_MAX, openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   // Lines of almost 1 MiB: 65 of them pass 64 MiB, and the whole batch is refused.
 *   const note = "x".repeat(LINE_BYTES_MAX - 200);
 *   const input = { event_type: "run.noted", run_id: "r1", note };
 *   const inputs = Array.from({ length: BATCH_BYTES_MAX / LINE_BYTES_MAX + 1 }, () => input);
 *   await assert.rejects(writer.appendBatch(inputs), /exceeds 67108864 bytes at event 65/);
 *   await writer.close();
 *   assert.deepEqual(await listParts(root), []); // nothing written
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const BATCH_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Most durable appends queued behind the one being written; more wait their turn.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { QUEUED_APPENDS_MAX } from "./writer.ts";
 * // Durable mode: append calls queued behind the one being written; a further call waits.
 * assert.equal(QUEUED_APPENDS_MAX, 10_000); // calls of append or appendBatch, not bytes
 * ```
 */
export const QUEUED_APPENDS_MAX = 10_000;
/**
 * Bytes of relaxed groups not yet on disk past which an `append` waits for the commit (back pressure).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LINE_BYTES_MAX } from "./limits.ts";
 * import { openWriter, RELAXED_BUFFER_BYTES_MAX } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   // A commit timer that cannot come due here: only the bytes make an append wait.
 *   const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
 *   const note = "x".repeat(LINE_BYTES_MAX - 200);
 *   const input = { event_type: "run.noted", run_id: "r1", note };
 *   // Lines of almost 1 MiB: the 9th takes the buffer past 8 MiB and has to wait for the disk.
 *   const count = RELAXED_BUFFER_BYTES_MAX / LINE_BYTES_MAX + 1;
 *   const answers = Array.from({ length: count }, () => writer.appendNow(input));
 *   assert.equal(answers.findIndex((answer) => answer instanceof Promise), 8);
 *   await Promise.all(answers);
 *   await writer.close();
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const RELAXED_BUFFER_BYTES_MAX = 8 * 1024 * 1024;
/**
 * Most part files (one per day) a writer keeps open at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listParts } from "./parts.ts";
 * import { OPEN_PARTS_MAX, openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   const onDay = (day: number) =>
 *     ({ event_type: "run.restored", run_id: "r1", timestamp_ms: Date.UTC(2026, 0, day) });
 *   // One more day than parts kept open: the first day's part is closed...
 *   await writer.appendBatch(Array.from({ length: OPEN_PARTS_MAX + 1 }, (_, i) => onDay(i + 1)));
 *   await writer.append(onDay(1)); // ...so day 1 gets a second part
 *   await writer.close();
 *   const parts = await listParts(root);
 *   assert.equal(parts.filter((part) => part.day === "2026-01-01").length, 2);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export const OPEN_PARTS_MAX = 4;
/**
 * How late a relaxed commit timer tells an event loop kept busy by its
 * caller (ms): past it, the append that sees it starts the commit.
 */
const STARVED_MS = 5;
/**
 * While relaxed commits are pending, the longest time without a turn of the
 * event loop that this writer saw (ms): past it, an append gives one, so the
 * commits' steps run beside a caller that would give none. A loop that
 * awaits its appends gives one per group anyway (every 2-3 ms at the bench's
 * rates), so it rarely gets more.
 */
const TURN_GAP_MS_MAX = 2;

/** Most attempts to find an unused part file name. */
const PART_NAME_ATTEMPTS_MAX = 1000;

/**
 * When an append is durable: after its own fdatasync, or after a group commit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type Durability, openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const answers: string[] = [];
 *   const modes: Durability[] = ["durable", "relaxed"];
 *   for (const durability of modes) {
 *     const writer = await openWriter(root, { durability });
 *     const appended = writer.appendNow({ event_type: "run.started", run_id: "r1" });
 *     // durable: a promise settled after fdatasync; relaxed: the event, buffered until the commit
 *     answers.push(appended instanceof Promise ? "promise" : "event");
 *     await appended;
 *     await writer.close();
 *   }
 *   assert.deepEqual(answers, ["promise", "event"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export type Durability = "durable" | "relaxed";

/**
 * Options for {@linkcode openWriter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listParts } from "./parts.ts";
 * import { openWriter, type WriterOptions } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const options: WriterOptions = { writerId: "docs", partBytesMax: 200 };
 *   const writer = await openWriter(root, options);
 *   // Each line is about 140 bytes: the second would take the part past 200 bytes.
 *   const input = { event_type: "run.started", run_id: "r1", timestamp_ms: Date.UTC(2026, 0, 23) };
 *   await writer.appendBatch([input, input]);
 *   await writer.close();
 *   const names = (await listParts(root)).map((part) => part.file);
 *   assert.deepEqual(names, [
 *     "day=2026-01-23/ledger-docs-000001.jsonl",
 *     "day=2026-01-23/ledger-docs-000002.jsonl",
 *   ]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface WriterOptions {
  /** Sync every append before it resolves (`"durable"`) or group commit (`"relaxed"`). @default {"durable"} */
  durability?: Durability;
  /** Start a new part file before a write would take it past this size, in bytes. @default {100 * 1024 * 1024} */
  partBytesMax?: number;
  /** Relaxed mode: commit the buffer this long after its first line, in ms. @default {10} */
  groupCommitMs?: number;
  /** Relaxed mode: commit as soon as this many events are buffered. @default {1000} */
  groupCommitEvents?: number;
  /** The writer id in part file names; must be unique among writers of the log. @default {newWriterId()} */
  writerId?: string;
}

interface Part {
  day: string;
  path: string;
  file: DurableFile;
  /**
   * Relaxed mode: a second handle on the part for the group commits'
   * fdatasync. Deno runs one handle's calls one at a time, so on `file` the
   * next group's write waited for the last group's sync: a sync slowed by a
   * busy disk (a CI run: over 190 ms) held every line appended meanwhile in
   * memory, lost to a kill. Durable mode: `file`.
   */
  syncFile: DurableFile;
  /** Bytes written to the file: only grows, but for a rollback (append-only and ours alone). */
  bytes: number;
  /** Bytes known to be on disk: synced, or cut back to and synced by a rollback. */
  syncedBytes: number;
  /** The size a rollback cut the part back to, if one did: lines past it are gone. */
  cutTo: number | undefined;
  /** Why a rollback that kept lines could not count them synced, if it could not. */
  closedUnsynced: string | undefined;
}

/** The bytes of one part a relaxed group wrote, `[start, end)`: its sync stage makes them durable. */
interface WrittenRange {
  part: Part;
  start: number;
  end: number;
}

/**
 * What the appends held on one relaxed commit learn of it: how many lines
 * wait on it (of `appendNow` calls and batches; they are not counted in the
 * pending error: each call is told its own, see `#heldLinesLost`), and its
 * failure.
 */
interface CommitOutcome {
  held: number;
  error: unknown;
}

/** A validated line waiting to be written, encoded (see `line_arena.ts`). */
type PendingLine = ArenaLine;

/** The two durability modes; anything else is refused (a misspelling must not mean relaxed). */
const DURABILITIES: readonly string[] = ["durable", "relaxed"] satisfies Durability[];

/**
 * Refuse writer options that cannot be meant, naming the option: an unknown
 * durability, an unsafe writer id, a part size, group commit interval or
 * group size that is not a number in range. {@linkcode openWriter} calls it
 * before it makes anything.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { checkWriterOptions, type WriterOptions } from "./writer.ts";
 * checkWriterOptions({ durability: "relaxed", groupCommitMs: 5 });
 * // A misspelt mode must not silently mean relaxed (no fdatasync before an append resolves).
 * const typo = { durability: "durabel" } as unknown as WriterOptions;
 * assert.throws(() => checkWriterOptions(typo), /durability must be "durable" or "relaxed"/);
 * assert.throws(() => checkWriterOptions({ groupCommitEvents: 0 }), RangeError);
 * ```
 */
export function checkWriterOptions(options: WriterOptions): void {
  if (options.durability !== undefined && !DURABILITIES.includes(options.durability)) {
    throw new RangeError(
      `durability must be "durable" or "relaxed", got ${JSON.stringify(options.durability)}`,
    );
  }
  if (options.writerId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.writerId)) {
    throw new TypeError(`Writer id ${JSON.stringify(options.writerId)} is not a safe name`);
  }
  if (options.partBytesMax !== undefined && !(options.partBytesMax > 0)) {
    throw new RangeError(`partBytesMax must be positive, got ${options.partBytesMax}`);
  }
  const ms = options.groupCommitMs;
  if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0 && ms <= TIMER_MS_MAX)) {
    throw new RangeError(`groupCommitMs must be between 0 and ${TIMER_MS_MAX} ms, got ${ms}`);
  }
  const n = options.groupCommitEvents;
  if (n !== undefined && !(Number.isSafeInteger(n) && n >= 1)) {
    throw new RangeError(`groupCommitEvents must be an integer >= 1, got ${n}`);
  }
}

/**
 * Open a writer on the log under `root`: creates `<root>/events` when missing
 * (durably) and writes `_schema.json` when missing or outdated. Part files are
 * created lazily, at the first write of each day.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   const event = await writer.append({ event_type: "run.started", run_id: "r1" });
 *   await writer.close();
 *   assert(event.run_id === "r1" && typeof event.event_id === "string");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function openWriter(root: string, options: WriterOptions = {}): Promise<EventWriter> {
  checkWriterOptions(options); // before anything is made
  const dir = eventsDir(root);
  try {
    await ensureDirDurable(dir);
  } catch (err) {
    throw new WriteError(dir, errorMessage(err), { cause: err });
  }
  await writeSchemaFile(root);
  ignoreFileSizeSignal();
  return new EventWriter(root, options);
}

/**
 * Appends events to the log. Obtain one with {@linkcode openWriter}; one per
 * process is enough (appends are serialized), and `close()` it at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root, { durability: "relaxed" });
 *   const events = await writer.appendBatch([
 *     { event_type: "run.started", run_id: "r1" },
 *     { event_type: "phase.started", run_id: "r1", phase_name: "plan", phase_order: 0 },
 *   ]);
 *   await writer.close(); // flushes
 *   assert(events.length === 2 && events[1].event_type === "phase.started");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export class EventWriter {
  /** The ledger root this writer appends under. */
  readonly root: string;
  /** The unique id in this writer's part file names. */
  readonly writerId: string;
  /** The durability mode. */
  readonly durability: Durability;
  #partBytesMax: number;
  #groupCommitMs: number;
  #groupCommitEvents: number;
  #parts = new Map<string, Part>();
  #knownDays = new Set<string>();
  #seq = 0;
  /**
   * Directories whose new entries (a day directory in `events/`, a part file
   * in its day) are not yet fsynced. A part's creation leaves them to the
   * next sync of any part ({@linkcode EventWriter.#syncThrough}), which makes
   * them durable before it counts a byte as synced: in relaxed mode a new
   * part's first group is written at once, not after two directory fsyncs
   * (on a disk busy with other writes they outlasted the commit window, and
   * the lines, acknowledged, waited in memory for them).
   */
  #unsyncedDirs: string[] = [];
  /** The write chain: every write, rotation, rollback and close, one at a time, in order. */
  #chain: Promise<void> = Promise.resolve();
  /**
   * Relaxed mode: the sync chain. Each group's sync stage, in order of the
   * groups, after its write: the next group's write runs beside a slow sync.
   */
  #syncChain: Promise<void> = Promise.resolve();
  /** Tasks in the chain not yet finished (bounded by QUEUED_APPENDS_MAX). */
  #queued = 0;
  /** Where lines are encoded, once, until they are written. */
  #arena = new LineArena();
  #buffer: PendingLine[] = [];
  #bufferBytes = 0;
  /** Bytes of relaxed groups taken from the buffer and not yet written and synced. */
  #inflightBytes = 0;
  /** Relaxed appends since one was last given a promise (a turn of the event loop or a wait). */
  #appendsSinceTurn = 0;
  /**
   * The relaxed group commit waiting in the chain behind the one being
   * written: it takes the buffer only when it starts, so every append made
   * meanwhile joins it (one write and one fdatasync for all of them).
   */
  #nextCommit: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed commit timer is due (`performance.now()`, ms), while one is armed. */
  #timerDueMs = 0;
  /** Relaxed group commits asked for and not done. */
  #pendingCommits = 0;
  /** When this writer last saw a turn of the event loop (`performance.now()`, ms). */
  #lastTurnMs = 0;
  /** Since a commit timer was found overdue, until the commits are done: a turn per append. */
  #starving = false;
  /** Whether the commit waiting to take the buffer (`#nextCommit`) wrote it: false if it failed. */
  #nextCommitOk: Promise<boolean> | undefined;
  /** Of that commit: the `appendNow` calls held on it, and its failure once it failed. */
  #nextOutcome: CommitOutcome | undefined;
  /** The last commit asked for, settled once its failure (if any) is the pending error. */
  #lastSettled: Promise<void> = Promise.resolve();
  #pendingError: Error | undefined;
  #closed = false;
  /** The close in progress or done: every `close()` answers with it. */
  #closing: Promise<void> | undefined;

  /** Use {@linkcode openWriter}, which prepares the events directory first. */
  constructor(root: string, options: WriterOptions = {}) {
    checkWriterOptions(options);
    this.root = root;
    this.writerId = options.writerId ?? newWriterId();
    this.durability = options.durability ?? "durable";
    this.#partBytesMax = options.partBytesMax ?? PART_BYTES_MAX_DEFAULT;
    this.#groupCommitMs = options.groupCommitMs ?? GROUP_COMMIT_MS_DEFAULT;
    this.#groupCommitEvents = options.groupCommitEvents ?? GROUP_COMMIT_EVENTS_DEFAULT;
  }

  /**
   * Validate `input` (filling `event_id`, `timestamp_ms`, `schema_version`
   * when absent) and append it. Durable mode: resolves once the line is on
   * disk. Relaxed mode: resolves once the line is buffered; `flush()` makes
   * it durable. Throws `ValidationError`, `EventTooLargeError` (nothing
   * written) or `WriteError` (not written).
   */
  append(input: EventInput | Record<string, unknown>): Promise<LedgerEvent> {
    try {
      const appended = this.appendNow(input);
      return appended instanceof Promise ? appended : Promise.resolve(appended);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * {@linkcode EventWriter.append} for a caller that can take the answer at
   * once. Relaxed mode: the event itself as soon as it is buffered (no
   * promise, so no turn of the event loop per event: `EventEmitter`'s
   * hot path), or a promise once per `groupCommitEvents` events, when a
   * group commit is due: it resolves after one turn of the event loop, in
   * which the groups' writes and fdatasyncs make progress, or, past
   * {@linkcode RELAXED_BUFFER_BYTES_MAX} of groups not yet on disk (back
   * pressure), once this event's group is on disk. Durable mode, a closed
   * writer or a failed commit: the promise `append` returns. Throws what
   * `append` rejects with when the event is refused before anything is
   * written (`ValidationError`, `EventTooLargeError`).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { openWriter } from "./writer.ts";
   * const root = await Deno.makeTempDir();
   * try {
   *   const writer = await openWriter(root, { durability: "relaxed" });
   *   const event = writer.appendNow({ event_type: "run.started", run_id: "r1" });
   *   assert.ok(!(event instanceof Promise) && event.event_type === "run.started");
   *   await writer.close(); // durable from here
   * } finally {
   *   await Deno.remove(root, { recursive: true });
   * }
   * ```
   */
  appendNow(input: EventInput | Record<string, unknown>): LedgerEvent | Promise<LedgerEvent> {
    if (this.durability === "durable" || this.#closed || this.#pendingError !== undefined) {
      return this.appendBatch([input]).then((events) => events[0]);
    }
    // Relaxed fast path (the throughput case): no batch arrays, no async frame.
    const event = completeEvent(input);
    const pressure = this.#buffered(this.#arena.encode(event, dayOf(event.timestamp_ms)), true);
    if (pressure === undefined) return event;
    const outcome = this.#nextOutcome; // of the commit this line waits on, when it is held
    return pressure.then((written) => {
      // Held, and its own group failed: this event was never acknowledged, so it is told so
      // itself (a review: only the first of several held appends heard of the failure; the
      // others resolved, their events never written).
      if (written === false) throw this.#heldLinesLost(outcome!, 1);
      return event;
    });
  }

  /**
   * The error of a call that held `own` lines on a commit that failed
   * (`outcome`): they were not written, and with them the acknowledged events
   * lost not yet told (the pending error, taken here).
   */
  #heldLinesLost(outcome: CommitOutcome, own: number): BufferedEventsLostError {
    assert(own >= 1, "a call held on a commit holds a line");
    const pending = this.#pendingError;
    this.#pendingError = undefined;
    if (pending instanceof BufferedEventsLostError) {
      return new BufferedEventsLostError(pending.cause, pending.lostEvents + own, {
        ownEvents: own,
      });
    }
    return new BufferedEventsLostError(pending ?? outcome.error, own, { ownEvents: own });
  }

  /**
   * Validate all `inputs` first, then append them (grouped by day, one write
   * per part file touched). Any invalid input rejects the whole batch before
   * a byte is written. An I/O failure part way through rolls back what the
   * batch had written to every part (see the module doc), so a failed batch
   * can be retried as it is.
   */
  async appendBatch(
    inputs: readonly (EventInput | Record<string, unknown>)[],
  ): Promise<LedgerEvent[]> {
    this.#assertOpen();
    if (!Array.isArray(inputs)) {
      throw new TypeError(`appendBatch takes an array of events, got ${typeof inputs}`);
    }
    if (inputs.length > BATCH_EVENTS_MAX) {
      throw new RangeError(`Batch of ${inputs.length} events exceeds ${BATCH_EVENTS_MAX}`);
    }
    const events: LedgerEvent[] = [];
    const lines: PendingLine[] = [];
    let batchBytes = 0;
    for (let i = 0; i < inputs.length; i++) {
      const event = completeIndexed(inputs[i], i, inputs.length);
      const line = this.#arena.encode(event, dayOf(event.timestamp_ms));
      batchBytes += line.bytes;
      if (batchBytes > BATCH_BYTES_MAX) {
        throw new RangeError(
          `Batch of ${inputs.length} events exceeds ${BATCH_BYTES_MAX} bytes at event ${i + 1}`,
        );
      }
      events.push(event);
      lines.push(line);
    }
    if (lines.length === 0) return events;
    if (this.durability === "durable") {
      while (this.#queued >= QUEUED_APPENDS_MAX) await this.#chain; // back pressure
      await this.#enqueue(() => this.#writeLines(lines, true));
      return events; // every line of this call is durable here
    }
    this.#takePendingError();
    let pressure: Promise<boolean | void> | undefined;
    // A wait for the disk comes first, else the last turn: once a line of this loop passes the
    // byte limit, every later one does too (bytes leave the backlog only when I/O completes,
    // which needs the event loop), so a turn never replaces a wait for the disk. None of
    // them rejects: a failure is told here, once (a review: each held line's own promise
    // rejected, the unawaited ones uncaught, and the process died after the batch resolved).
    // Its lines held at the byte limit are held on one commit (the queued one takes the whole
    // buffer: no turn of the loop here lets it start) and are its own to tell, not counted in
    // the pending error: a held appendNow told of that commit's failure first took the pending
    // error, and the batch resolved, its lines never written (a review).
    let held = 0;
    let heldOn: { wait: Promise<boolean | void>; outcome: CommitOutcome } | undefined;
    for (const line of lines) {
      const wait = this.#buffered(line, true);
      if (wait === undefined) continue;
      if (wait !== this.#nextCommitOk) {
        pressure = wait; // a turn of the loop
        continue;
      }
      assert(
        heldOn === undefined || heldOn.wait === wait,
        "a batch's held lines wait on one commit",
      );
      heldOn = { wait, outcome: this.#nextOutcome! };
      held += 1;
    }
    if (heldOn !== undefined) {
      assert(heldOn.outcome.held >= held, "the commit counts the batch's held lines");
      if ((await heldOn.wait) === false) throw this.#heldLinesLost(heldOn.outcome, held);
    } else if (pressure !== undefined) await pressure;
    return events; // relaxed: buffered, durable after the next group commit
  }

  /**
   * Relaxed mode: buffer `line`, starting a group commit when the buffer is
   * full. Returns a promise to wait on once per `groupCommitEvents` appends
   * when a commit is due: one that resolves after a turn of the event loop,
   * or, when the groups not yet on disk pass the byte limit (back pressure),
   * once the commit that takes this line is done, to whether it wrote the
   * line (`false`: the caller takes the pending error). Never rejects. Else
   * undefined. `held`: the caller tells its own line's failure itself (see
   * `CommitOutcome`), so the line is not counted in the pending error.
   */
  #buffered(line: PendingLine, held = false): Promise<boolean | void> | undefined {
    this.#buffer.push(line);
    this.#bufferBytes += line.bytes;
    this.#appendsSinceTurn += 1;
    if (
      this.#buffer.length >= this.#groupCommitEvents ||
      this.#bufferBytes >= RELAXED_BUFFER_BYTES_MAX
    ) {
      // The next group fills while this one is written and synced; only when
      // the bytes not yet on disk pass the limit does the caller wait.
      void this.#commit();
      if (this.#inflightBytes + this.#bufferBytes >= RELAXED_BUFFER_BYTES_MAX) {
        // Back pressure: wait for the commit that takes this line to reach the disk. Only its
        // own failure is this append's: an earlier group's is told to the next append, flush
        // or close (a review: told here, the emitter wrote this line twice, under two ids).
        this.#appendsSinceTurn = 0;
        if (held) this.#nextOutcome!.held += 1;
        return this.#nextCommitOk!;
      }
      if (this.#appendsSinceTurn >= this.#groupCommitEvents) {
        // Groups are on their way: give the event loop one turn per group's worth of
        // appends, so that a caller that awaits lets their writes and fdatasyncs complete
        // and the next group start while it goes on. A loop that awaits only settled
        // promises never runs I/O otherwise, and stops at the byte limit for a whole
        // backlog's write and sync (6 stops of 55-70 ms per 200k events of bench item 2).
        return this.#turn();
      }
      return undefined;
    }
    const now = performance.now();
    if (this.#timer !== undefined && now - this.#timerDueMs >= STARVED_MS) {
      // The caller keeps the event loop from running the commit timer (a backtest loop of CPU
      // work that awaits only emits, whose promises are settled: a probe saw 7 s and 5,632
      // acknowledged events lost to a kill). Start the commit; until the commits are done,
      // each append gives the loop a turn, so their writes and fdatasyncs run beside the
      // caller's work, which never waits for the disk here (a review: waiting for each overdue
      // commit cost a caller that sleeps between emits a p99 of 80 ms).
      this.#starving = true;
      void this.#commit();
      return this.#turn();
    }
    // Every line has a commit coming: a timer for what the running commit did not take (a
    // review: a line appended while a commit ran waited, unwritten, for the next append).
    if (this.#timer === undefined) {
      this.#timerDueMs = now + this.#groupCommitMs;
      this.#timer = setTimeout(() => void this.#commit(), this.#groupCommitMs);
    }
    if (
      this.#pendingCommits > 0 &&
      (this.#starving || now - this.#lastTurnMs >= TURN_GAP_MS_MAX)
    ) {
      // Commits wait for turns the caller does not give: one.
      return this.#turn();
    }
    return undefined;
  }

  /** A turn of the event loop for the caller to wait on; the writer notes when it came. */
  #turn(): Promise<void> {
    this.#appendsSinceTurn = 0;
    return nextTurn().then(() => {
      this.#lastTurnMs = performance.now();
    });
  }

  /** Write and sync everything buffered (relaxed mode); rejects with the first failed commit's error. */
  async flush(): Promise<void> {
    await this.#commit();
    await this.#chain;
    await this.#syncChain; // after its rollbacks too: a failed sync stage waits for its own
    // The last commit's failure is kept a few microtasks after the chain settles: waited for,
    // or a flush (and close) with a commit in flight and nothing buffered missed it (a review:
    // close() resolved, the acknowledged event lost and never told).
    await this.#lastSettled;
    this.#takePendingError();
  }

  /**
   * Flush, then close every open part file. The writer cannot be used
   * afterwards: an append made once `close()` is called is refused
   * (`WriteError`), and every call answers when the close is done.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#closeOnce();
  }

  async #closeOnce(): Promise<void> {
    // Closed from the call on: an append made while the flush ran was acknowledged and then
    // written after close() returned, into a part no one closed (a probe: lost to Deno.exit).
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      await this.#enqueue(() => {
        for (const part of this.#parts.values()) closePart(part);
        this.#parts.clear();
        return Promise.resolve();
      });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new WriteError(eventsDir(this.root), "the writer is closed");
  }

  #takePendingError(): void {
    const err = this.#pendingError;
    if (err !== undefined) {
      this.#pendingError = undefined;
      throw err;
    }
  }

  /** Run `task` on the write chain after every earlier task; a failed task does not stop later ones. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.#queued += 1;
    const run = this.#chain.then(task).finally(() => {
      this.#queued -= 1;
    });
    // The chain only orders tasks; each failure is delivered to its own caller via `run`.
    this.#chain = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Run `task` on the sync chain after every earlier sync stage (relaxed mode). */
  #enqueueSync(task: () => Promise<void>): Promise<void> {
    const run = this.#syncChain.then(task);
    this.#syncChain = run.then(() => undefined, () => undefined);
    return run;
  }

  /**
   * Relaxed mode: commit the buffer as one group, in two stages. Its write
   * joins the write chain and takes the buffer when its turn comes: appends
   * made while earlier groups are written go to disk together. Its sync
   * stage joins the sync chain once the write is done, so the next group's
   * write runs while this one's fdatasync waits for the disk (the lines
   * reach the page cache, which a kill keeps, within the window however
   * slow the disk); a sync finds the groups written while it waited and
   * covers them too, so a backlog (a slow disk, or an emit loop that keeps
   * the event loop from running I/O) costs one fdatasync, not one per
   * group. Resolves when the lines buffered so far are durable; a failure
   * is kept for the next append, flush or close.
   */
  #commit(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#nextCommit !== undefined) return this.#nextCommit; // it takes these lines too
    if (this.#buffer.length === 0) return this.#lastSettled;
    let taken = 0;
    let bytes = 0;
    if (this.#pendingCommits === 0) this.#lastTurnMs = performance.now(); // from the ask on
    this.#pendingCommits += 1;
    const written = this.#enqueue(() => {
      this.#nextCommit = undefined;
      const lines = this.#buffer;
      taken = lines.length;
      bytes = this.#bufferBytes;
      this.#buffer = [];
      this.#bufferBytes = 0;
      assert(lines.length > 0, "nothing takes the buffer but its queued commit");
      this.#inflightBytes += bytes;
      return this.#writeLines(lines, false);
    }).then(
      (ranges) => ({ ranges, error: undefined }),
      // Held as a value until the sync stage's turn: a rejection waiting behind a slow sync
      // with no handler yet would be an unhandled one. The sync stage throws it.
      (error: unknown) => ({ ranges: [], error }),
    );
    const commit = this.#enqueueSync(async () => {
      try {
        const { ranges, error } = await written;
        if (error !== undefined) throw error; // rolled back by the write stage
        await this.#syncRanges(ranges);
      } finally {
        this.#inflightBytes -= bytes; // taken by the write stage, which settled first
      }
    }).finally(() => {
      this.#pendingCommits -= 1;
      this.#lastTurnMs = performance.now(); // a commit step ended: the loop turned
      if (this.#pendingCommits === 0) this.#starving = false;
    });
    const outcome: CommitOutcome = { held: 0, error: undefined };
    const ok = commit.then(() => true, (err) => {
      // Reported by the next append/flush/close: relaxed appends already resolved. How many
      // were lost is part of the report (an audit: stats counted one failure for six lost).
      // The appends held on this commit tell their own lines (`#heldLinesLost`).
      outcome.error = err;
      const acknowledged = taken - outcome.held;
      assert(acknowledged >= 0, "a held line is one the commit took");
      const earlier = this.#pendingError;
      if (acknowledged > 0) {
        const lost = (earlier instanceof BufferedEventsLostError ? earlier.lostEvents : 0) +
          acknowledged;
        const cause = earlier instanceof BufferedEventsLostError ? earlier.cause : err;
        this.#pendingError = new BufferedEventsLostError(cause, lost);
      }
      return false;
    });
    const settled = ok.then(() => undefined); // never rejects: the failure is kept above
    this.#nextCommit = settled;
    this.#nextCommitOk = ok;
    this.#nextOutcome = outcome;
    this.#lastSettled = settled;
    return settled;
  }

  /**
   * Write `lines` grouped by day; each group's chunks go to parts of that day.
   * Durable mode (`syncEachChunk`) syncs each chunk; relaxed mode leaves the
   * sync to the group's sync stage (`#syncRanges`) and returns what it wrote.
   * All or nothing: when any write or sync fails, every part this call wrote
   * to is truncated back to its size before the call, so no line of a failed
   * call stays in the log to be indexed (or doubled by a retry).
   */
  async #writeLines(lines: PendingLine[], syncEachChunk: boolean): Promise<WrittenRange[]> {
    const ranges = new Map<Part, WrittenRange>();
    try {
      await this.#writeLinesOnce(lines, syncEachChunk, ranges);
    } catch (err) {
      // Every part this call touched is dropped, not only the one that
      // failed: a part still open would keep a size that the truncation
      // below made wrong (and a later rollback to that size would extend
      // the file with zeros).
      const notUndone = await this.#cutBack([...ranges.values()]);
      if (notUndone.length === 0 || !(err instanceof WriteError)) throw err;
      throw new WriteError(
        err.path,
        `${err.message}; could not roll back ${notUndone.join(", ")}: ` +
          "lines of this failed call may remain in the log",
        { cause: err },
      );
    }
    return [...ranges.values()];
  }

  async #writeLinesOnce(
    lines: PendingLine[],
    syncEachChunk: boolean,
    ranges: Map<Part, WrittenRange>,
  ): Promise<void> {
    for (const [day, group] of groupByDay(lines)) {
      let part = await this.#partFor(day);
      let chunk: PendingLine[] = [];
      let chunkBytes = 0;
      for (const line of group) {
        const wouldPass = part.bytes + chunkBytes + line.bytes > this.#partBytesMax;
        if (wouldPass && part.bytes + chunkBytes > 0) {
          if (chunk.length > 0) {
            await this.#writeChunk(part, chunk, chunkBytes, syncEachChunk, ranges);
          }
          chunk = [];
          chunkBytes = 0;
          part = await this.#rotate(part);
        }
        chunk.push(line);
        chunkBytes += line.bytes;
      }
      await this.#writeChunk(part, chunk, chunkBytes, syncEachChunk, ranges);
    }
  }

  /** One write call of whole lines, then (durable mode) fdatasync. */
  async #writeChunk(
    part: Part,
    chunk: readonly PendingLine[],
    size: number,
    sync: boolean,
    ranges: Map<Part, WrittenRange>,
  ): Promise<void> {
    const data = linesData(chunk, size); // the lines' own bytes, copied only when apart
    assert(data.length === size, "the chunk is its lines' bytes");
    assert(data[data.length - 1] === 0x0a, "a chunk is whole lines");
    assert(this.#isOpen(part), "a chunk goes to an open part");
    let range = ranges.get(part);
    if (range === undefined) {
      range = { part, start: part.bytes, end: part.bytes };
      ranges.set(part, range);
    }
    try {
      part.bytes += await writeAll(part.file, data); // only grows: append-only and ours alone
      range.end = part.bytes;
      if (sync) await this.#syncThrough(part, part.file); // the lines of this call are durable from here
    } catch (err) {
      this.#abandon(part); // it may end in a torn line: never write behind it
      if (err instanceof AssertionError) throw err; // a bug, not an I/O failure
      throw new WriteError(part.path, errorMessage(err), { cause: err });
    }
  }

  /** fdatasync a part from the write chain (before it is rotated or evicted). */
  async #syncPart(part: Part): Promise<void> {
    try {
      await this.#syncThrough(part, part.file); // durable from here
    } catch (err) {
      this.#abandon(part);
      throw new WriteError(part.path, errorMessage(err), { cause: err });
    }
  }

  /**
   * A relaxed group's sync stage: make the bytes it wrote (`ranges`) durable.
   * A part synced since (by a later group's stage, a rotation or an
   * eviction) needs nothing more. When a sync fails, or a rollback of an
   * earlier group cut into this group's lines, the group is rolled back
   * whole (all or nothing) and the failure thrown; groups written behind it
   * in the same parts are cut with it, and fail on seeing the cut.
   */
  async #syncRanges(ranges: readonly WrittenRange[]): Promise<void> {
    let failure: WriteError | undefined;
    // The owed directory fsyncs first, before the checks below: a rollback or a rotation while
    // they wait is seen by the checks as it left the ranges.
    const unsynced = ranges.find(({ part, end }) => part.syncedBytes < end);
    if (unsynced !== undefined) {
      try {
        await this.#syncOwedDirs();
      } catch (err) {
        failure = new WriteError(unsynced.part.path, errorMessage(err), { cause: err });
      }
    }
    for (const { part, end } of failure === undefined ? ranges : []) {
      if (part.cutTo !== undefined && part.cutTo < end) {
        failure = new WriteError(part.path, "cut back when an earlier group's commit failed");
        break;
      }
    }
    for (const { part, end } of failure === undefined ? ranges : []) {
      if (part.syncedBytes >= end) continue;
      if (!this.#isOpen(part)) {
        // Closed unsynced: only a failed call's rollback that could not sync (the file, or the
        // directory entries the part owes) does that.
        const why = part.closedUnsynced === undefined ? "" : ` (${part.closedUnsynced})`;
        failure = new WriteError(part.path, `closed before its lines were synced${why}`);
        break;
      }
      try {
        await this.#syncThrough(part, part.syncFile); // these lines are durable from here
      } catch (err) {
        failure = new WriteError(part.path, errorMessage(err), { cause: err });
        break;
      }
    }
    if (failure === undefined) return;
    // Serialized with the writes: no write lands in a part while it is cut.
    const notUndone = await this.#enqueue(() => this.#cutBack(ranges));
    if (notUndone.length === 0) throw failure;
    throw new WriteError(
      failure.path,
      `${failure.message}; could not roll back ${notUndone.join(", ")}: ` +
        "lines of this failed group may remain in the log",
      { cause: failure },
    );
  }

  /**
   * Abandon the parts of `ranges` and cut each back to where its range
   * starts (removing a part that was empty then), unless a rollback already
   * cut it as far. Returns the parts that could not be cut back.
   */
  async #cutBack(ranges: readonly WrittenRange[]): Promise<string[]> {
    const sizes = new Map<string, number>();
    const cut: WrittenRange[] = [];
    for (const range of ranges) {
      this.#abandon(range.part);
      if (range.part.cutTo !== undefined && range.part.cutTo <= range.start) continue;
      sizes.set(range.part.path, range.start);
      cut.push(range);
    }
    const notUndone = await rollBack(sizes); // parts left empty are removed
    let dirsFailure: string | undefined;
    try {
      await this.#syncOwedDirs(); // the part's entry: the lines the rollback kept are reachable
    } catch (err) {
      dirsFailure = `its directory entry was not synced: ${errorMessage(err)}`;
    }
    for (const { part, start } of cut) {
      part.cutTo = start;
      if (notUndone.has(part.path)) continue;
      if (dirsFailure === undefined) {
        part.syncedBytes = start; // rollBack synced the file at that size: the lines before it too
      } else {
        // Not durable: an earlier group whose lines these are fails in its sync stage, which
        // finds them unsynced in a closed part, and is cut back and told why.
        part.closedUnsynced = dirsFailure;
      }
    }
    return [...notUndone].map(([path, why]) => `${path} (${why})`);
  }

  /**
   * fdatasync `part` through `handle`, and first fsync the directories whose
   * entries are owed ({@linkcode EventWriter.#unsyncedDirs}): what was written
   * before the call is durable, and reachable, once it resolves
   * (`syncedBytes`).
   */
  async #syncThrough(part: Part, handle: DurableFile): Promise<void> {
    const written = part.bytes;
    await this.#syncOwedDirs();
    // Synced while the directories were (a rotation or an eviction, which may have closed it).
    if (part.syncedBytes >= written) return;
    await handle.syncData();
    part.syncedBytes = Math.max(part.syncedBytes, written);
  }

  /** fsync the directories owed ({@linkcode EventWriter.#unsyncedDirs}). */
  async #syncOwedDirs(): Promise<void> {
    const dirs = this.#unsyncedDirs;
    if (dirs.length === 0) return;
    for (const dir of dirs) await syncDir(dir); // their new entries are durable from here
    // Entries owed meanwhile (a part created while this sync waited) stay owed.
    this.#unsyncedDirs = this.#unsyncedDirs.filter((d) => !dirs.includes(d));
  }

  /** Owe the fsync of `dirs` to the next sync (once each). */
  #owe(dirs: readonly string[]): void {
    for (const dir of dirs) if (!this.#unsyncedDirs.includes(dir)) this.#unsyncedDirs.push(dir);
  }

  /**
   * Whether `part` is the open part of its day. A part leaves `#parts` when
   * its handles are closed (rotated, evicted, abandoned, or with the writer).
   */
  #isOpen(part: Part): boolean {
    return this.#parts.get(part.day) === part;
  }

  #abandon(part: Part): void {
    if (!this.#isOpen(part)) return; // rotated, evicted or abandoned already: closed
    this.#parts.delete(part.day);
    try {
      closePart(part);
    } catch (err) {
      // Closing a file whose write failed can fail again (EBADF): the part is
      // dropped either way and the write error is what the caller sees.
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  }

  async #rotate(part: Part): Promise<Part> {
    assert(this.#parts.get(part.day) === part, "a rotated part is the open part of its day");
    await this.#retire(part);
    return await this.#partFor(part.day);
  }

  /**
   * Close an open part for good (rotated, or evicted for another day's),
   * syncing first what is not yet synced: in relaxed mode earlier groups'
   * lines may still wait for their sync stage, which would find the part
   * closed and unsynced and fail (a review: a group whose first line did not
   * fit rotated the part with nothing of its own in it, closed it unsynced,
   * and the group before it, acknowledged, was cut back and lost).
   */
  async #retire(part: Part): Promise<void> {
    if (part.syncedBytes < part.bytes) await this.#syncPart(part);
    this.#parts.delete(part.day);
    closePart(part); // every line in it is synced
  }

  /** The open part of `day`, or a new one (creating the day directory if needed). */
  async #partFor(day: string): Promise<Part> {
    const open = this.#parts.get(day);
    if (open !== undefined) return open;
    if (this.#parts.size >= OPEN_PARTS_MAX) {
      await this.#retire(this.#parts.values().next().value!); // the oldest
    }
    const dir = dayDir(this.root, day);
    if (!this.#knownDays.has(day)) {
      try {
        this.#owe(await ensureDir(dir)); // the parents of what it created
      } catch (err) {
        throw new WriteError(dir, errorMessage(err), { cause: err });
      }
      this.#knownDays.add(day);
    }
    for (let attempt = 0; attempt < PART_NAME_ATTEMPTS_MAX; attempt++) {
      this.#seq += 1;
      const path = `${dir}/${partFileName(this.writerId, this.#seq)}`;
      let file: DurableFile;
      try {
        // createNew: the part has exactly one owner, this writer (a FIFO or
        // any other file already there is skipped, never opened).
        file = await openFile(path, { append: true, createNew: true });
      } catch (err) {
        if (err instanceof Deno.errors.AlreadyExists) continue; // never share a part file
        if (err instanceof Deno.errors.NotFound) this.#knownDays.delete(day);
        throw new WriteError(path, errorMessage(err), { cause: err });
      }
      // The part's entry, and its day's in `events/` (another process may
      // have made the day directory and not synced it yet), are synced with
      // its first lines.
      this.#owe([eventsDir(this.root), dir]);
      let syncFile = file;
      try {
        if (this.durability === "relaxed") syncFile = await openFile(path, { read: true });
      } catch (err) {
        file.close();
        await removeIfPresent(path); // empty and never handed out
        throw new WriteError(path, errorMessage(err), { cause: err });
      }
      const part: Part = {
        day,
        path,
        file,
        syncFile,
        bytes: 0,
        syncedBytes: 0,
        cutTo: undefined,
        closedUnsynced: undefined,
      };
      this.#parts.set(day, part);
      assert(this.#parts.size <= OPEN_PARTS_MAX, "at most OPEN_PARTS_MAX parts are open");
      return part;
    }
    throw new WriteError(dir, `no free part file name after ${PART_NAME_ATTEMPTS_MAX} attempts`);
  }
}

/** Close both handles of `part` (one, in durable mode); the caller takes it out of `#parts`. */
function closePart(part: Part): void {
  try {
    part.file.close();
  } finally {
    if (part.syncFile !== part.file) part.syncFile.close();
  }
}

/** `lines` grouped by day, in order of first appearance (one group, as is, when they share a day). */
function groupByDay(lines: PendingLine[]): Iterable<[string, PendingLine[]]> {
  assert(lines.length > 0, "a write has lines");
  const first = lines[0].day;
  if (lines.every((line) => line.day === first)) return [[first, lines]];
  const byDay = new Map<string, PendingLine[]>();
  for (const line of lines) {
    const group = byDay.get(line.day) ?? [];
    group.push(line);
    byDay.set(line.day, group);
  }
  return byDay;
}

function completeIndexed(input: unknown, index: number, total: number): LedgerEvent {
  try {
    return completeEvent(input);
  } catch (err) {
    if (total > 1 && err instanceof ValidationError) {
      throw new ValidationError(err.field, err.expected, err.got, {
        eventType: err.eventType,
        message: `event ${index + 1} of ${total}: ${err.message}`,
      });
    }
    throw err;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Truncate each part back to its size before a failed call and sync it; a
 * part the failed call had created (size 0 before it) is removed instead, so
 * failed writes on a full disk leave no empty files behind. Safe because a
 * part file has exactly one writer: nobody else appended behind us. Returns
 * the parts that could not be rolled back (a read-only remount, say), with
 * why.
 */
async function rollBack(sizesBefore: Map<string, number>): Promise<Map<string, string>> {
  const notUndone = new Map<string, string>(); // path -> why
  for (const [path, size] of sizesBefore) {
    try {
      if (size === 0) {
        await removeIfPresent(path); // not synced: if the removal is lost, an empty part remains
        continue;
      }
      const file = await openFile(path, { write: true });
      try {
        await file.truncate(size);
        await file.syncData(); // the rollback is durable from here
      } finally {
        file.close();
      }
    } catch (err) {
      notUndone.set(path, errorMessage(err));
    }
  }
  return notUndone;
}

/**
 * A promise that resolves after one turn of the event loop (`setImmediate`
 * runs after the I/O that completed meanwhile; a nested `setTimeout(0)` is
 * clamped to 4 ms).
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
