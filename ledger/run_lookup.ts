/**
 * Does the log already know a run id? Used to refuse a second run under an
 * id the log has (a backtest's `--run-id`, `emit` of `run.created`): two runs
 * under one id would merge in the index.
 *
 * The log is the truth, so this reads it, but cheaply: each part file is
 * searched for the quoted id as bytes, and only the lines that contain it are
 * parsed. Run ids match `RUN_ID_PATTERN` (no character JSON escapes), so a
 * line of that run holds `"<run_id>"` verbatim; an older writer's id is also
 * searched as Python escapes it (`idTexts`).
 *
 * @module
 */
import { listParts, type PartFile } from "./parts.ts";
import { canonicalJson, parseJsonText } from "./json_text.ts";
import { checkFilledEvent } from "./event_write.ts";
import { readLineValue } from "./line_value.ts";
import { eventsDir, partName, SHARED_PART_PATTERN } from "./paths.ts";
import { LOCK_WAIT_MS_MAX_DEFAULT, lockOrGiveUp, stableAcknowledgedSize } from "./shared_part.ts";
import { ensureDirDurable, statOfOpen } from "./durable_fs.ts";
import { type UnreachableDayError, WriteError } from "./errors.ts";
import { assert } from "./assert.ts";
import { openToReadIfThere } from "./exists.ts";

/**
 * Run `fn` holding the log's run-id lock: an exclusive advisory lock
 * (`flock`) on the events directory, so that looking for a run id in the
 * log and writing that run's `run.created` are one step for every process
 * that does both (`ledger emit` of `run.created`, a backtest or sweep given
 * `--run-id`). An audit: five concurrent `emit run.created` of one new id
 * could write two. No file is made for it; the kernel releases it when the
 * process ends. Creates the events directory if missing (durably). A lock
 * held past {@linkcode RunIdLockOptions.waitMsMax} (a stopped or hung
 * holder) throws a `WriteError`, and `fn` is not called; `fn` is given how
 * long the lock took, in ms (0 when it was free).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { withRunIdLock } from "./run_lookup.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const order: string[] = [];
 *   await Promise.all(["a", "b"].map((name) =>
 *     withRunIdLock(root, async () => {
 *       order.push(`${name} in`);
 *       await new Promise((r) => setTimeout(r, 20));
 *       order.push(`${name} out`);
 *     })
 *   ));
 *   // One at a time: each one's "out" comes right after its "in".
 *   assert.equal(order[1], order[0].replace("in", "out"));
 *   assert.equal(order[3], order[2].replace("in", "out"));
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function withRunIdLock<T>(
  root: string,
  fn: (waitedMs: number) => Promise<T>,
  options: RunIdLockOptions = {},
): Promise<T> {
  const dir = eventsDir(root);
  await ensureDirDurable(dir);
  // Opened to lock it: anything else there (a FIFO would block the open forever) is refused.
  if (!(await Deno.stat(dir)).isDirectory) throw new WriteError(dir, "is not a directory");
  const handle = await Deno.open(dir, { read: true });
  try {
    const waitMsMax = options.waitMsMax ?? LOCK_WAIT_MS_MAX_DEFAULT;
    const { onWait, noticeAfterMs = RUN_ID_LOCK_NOTICE_MS } = options;
    const waitedMs = await lockOrGiveUp(handle, { waitMsMax, noticeAfterMs, onWait });
    if (waitedMs === undefined) {
      throw new WriteError(
        dir,
        `another process has held the log's run-id lock for ${waitMsMax} ms (a stopped or hung ` +
          "ledger emit of run.created or of given event ids, or backtest --run-id? or a queue of " +
          "them on a large log, each holding it while it searches the log for its ids; the lock " +
          "is released when that process ends); nothing was written",
      );
    }
    return await fn(waitedMs);
  } finally {
    handle.close(); // releases the lock
  }
}

/** Options of {@linkcode withRunIdLock}. */
export interface RunIdLockOptions {
  /**
   * Called once when another process has held the lock for `noticeAfterMs`
   * (the wait goes on, up to `waitMsMax`: a process checking a large log
   * holds it for seconds, and a stopped one until it ends). @default {undefined}
   */
  onWait?: (waitedMs: number) => void;
  /** How long to wait before `onWait`, in ms. @default {RUN_ID_LOCK_NOTICE_MS} */
  noticeAfterMs?: number;
  /**
   * Give up (nothing done) when the lock is not free within this long, in
   * ms: the shared parts' bound, since a holder also appends under their
   * lock (a review: an emit queued behind one waiting for a stopped holder's
   * part waited without a limit). @default {LOCK_WAIT_MS_MAX_DEFAULT}
   */
  waitMsMax?: number;
}

/** Default wait before {@linkcode RunIdLockOptions.onWait}, in ms. */
export const RUN_ID_LOCK_NOTICE_MS = 2_000;

/**
 * The line a command prints when it has waited `waitedMs` for the run-id
 * lock (it keeps waiting, `waitMsMax` in all).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runIdLockWaitMessage } from "./run_lookup.ts";
 * assert.match(runIdLockWaitMessage("ledger emit", 2000), /^ledger emit: waited 2000 ms/);
 * assert.match(runIdLockWaitMessage("ledger emit", 2000), /still waiting, up to 60000 ms in all$/);
 * ```
 */
export function runIdLockWaitMessage(
  command: string,
  waitedMs: number,
  waitMsMax: number = LOCK_WAIT_MS_MAX_DEFAULT,
): string {
  return `${command}: waited ${waitedMs} ms for the log's run-id lock: another ledger emit of ` +
    "run.created or of given event ids, or a backtest --run-id, holds it while it looks for " +
    `its ids and writes (a stopped one holds it until it ends); still waiting, up to ${waitMsMax} ` +
    "ms in all";
}

/** One event of the run found in the log. */
export interface FoundRunEvent {
  /** Its `event_id`. */
  eventId: string;
  /** Its `event_type`. */
  eventType: string;
  /** The part file, relative to the events directory. */
  file: string;
}

/** Options for {@linkcode findRunEvents}. */
export interface FindRunEventsOptions {
  /** Only events of this type. @default {undefined} (every type) */
  eventType?: string;
  /** Stop after this many matches. @default {Infinity} */
  limit?: number;
  /**
   * Read the newest days first (a run's later events sit near its
   * `run.created`), so that a `limit` met early spares reading the rest.
   * The events found are then newest day first. @default {false}
   */
  newestFirst?: boolean;
  /**
   * Told each day folder that is a link to no folder, then searched without
   * it; without it, such a day throws `UnreachableDayError`. @default {undefined}
   */
  onUnreachableDay?: (err: UnreachableDayError) => void;
}

/**
 * The events of run `runId` in the log under `root`: valid lines only, by
 * the rules `verify` and the indexer apply (`event_line.ts`), so a line the
 * index leaves out does not make a run id taken (an audit: a `run.created`
 * with a null `data_fingerprint` did). A missing log has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { findRunEvents } from "./run_lookup.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   const started = await writer.append({ event_type: "run.started", run_id: "policy-1" });
 *   await writer.close();
 *   const found = await findRunEvents(root, "policy-1", { limit: 1 });
 *   assert(found.length === 1 && found[0].eventId === started.event_id);
 *   assert((await findRunEvents(root, "policy-2")).length === 0);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function findRunEvents(
  root: string,
  runId: string,
  options: FindRunEventsOptions = {},
): Promise<FoundRunEvent[]> {
  const limit = options.limit ?? Infinity;
  const found: FoundRunEvent[] = [];
  const seen = new Set<string>(); // a line found by both forms of the id counts once
  for (const needle of idTexts(runId)) {
    for await (
      const { file, line, lossy, startOfFile } of linesHolding(root, needle, {
        newestFirst: options.newestFirst,
        onUnreachableDay: options.onUnreachableDay,
      })
    ) {
      const event = parseObject(line);
      if (event === null || event.run_id !== runId) continue;
      if (options.eventType !== undefined && event.event_type !== options.eventType) continue;
      if (seen.has(`${file}\n${line}`) || !await isValidLine(line, lossy, startOfFile)) continue;
      seen.add(`${file}\n${line}`);
      found.push({ eventId: String(event.event_id), eventType: String(event.event_type), file });
      if (found.length >= limit) return found;
    }
  }
  return found;
}

/**
 * The texts a run id is written as in the log: as JSON writes it, and, when
 * it is not all ASCII, as Python's `json.dumps` does (`ensure_ascii`, its
 * default: `"caf\u00e9 1"`, DEL too) and with the hex in capitals. A
 * review: a run quantBot created under such an id was not found, so an
 * annotation of it was refused. Other escapes (of ASCII letters, `\/`) are
 * not searched: no writer of the lab's makes them; the index reads them.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { idTexts } from "./run_lookup.ts";
 * assert.deepEqual(idTexts("r1"), ['"r1"']);
 * assert.deepEqual(idTexts("café 1"), ['"café 1"', '"caf\\u00e9 1"', '"caf\\u00E9 1"']);
 * assert.deepEqual(idTexts("😀"), ['"😀"', '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"']);
 * ```
 */
export function idTexts(runId: string): string[] {
  const text = JSON.stringify(runId);
  // Python escapes DEL too; other writers (Jackson's ESCAPE_NON_ASCII) write the hex in capitals.
  const escaped = (hex: (code: string) => string) =>
    text.replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${hex(c.charCodeAt(0).toString(16).padStart(4, "0"))}`,
    );
  return [...new Set([text, escaped((h) => h), escaped((h) => h.toUpperCase())])];
}

/** Runs that {@linkcode findRunsCreated} searches for one by one, by their ids. */
const RUN_IDS_SEARCHED_ONE_BY_ONE_MAX = 4;

/**
 * The `run.created` events of the runs `runIds` in the log under `root`, by
 * run id (a run with none is absent): {@linkcode findRunEvents} for many
 * runs at once, in one read of the log. A batch of `emit --stdin` asked the
 * log once per run (a review: 10,000 `run.created` beside 15,000 events took
 * 28.6 s, three batches of 50,000 ran for more than 12 minutes).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { findRunsCreated } from "./run_lookup.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.created", run_id: "a1", run_type: "t", config: {}, data_fingerprint: "f" },
 *     { event_type: "run.started", run_id: "b2" },
 *   ]);
 *   await writer.close();
 *   const found = await findRunsCreated(root, new Set(["a1", "b2"]));
 *   assert.deepEqual([...found.keys()], ["a1"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function findRunsCreated(
  root: string,
  runIds: ReadonlySet<string>,
  options: FindRunsCreatedOptions = {},
): Promise<Map<string, FoundRunEvent[]>> {
  const found = new Map<string, FoundRunEvent[]>();
  const oneEach = options.oneEach === true;
  if (runIds.size <= RUN_IDS_SEARCHED_ONE_BY_ONE_MAX) {
    // A few runs (a single emit): each searched by its id, which reads past the log's other
    // run.created lines without parsing them.
    for (const runId of runIds) {
      const events = await findRunEvents(root, runId, {
        eventType: "run.created",
        onUnreachableDay: options.onUnreachableDay,
        ...(oneEach ? { limit: 1, newestFirst: true } : {}),
      });
      if (events.length > 0) found.set(runId, events);
    }
    return found;
  }
  for await (
    const { file, line, lossy, startOfFile } of linesHolding(root, JSON.stringify("run.created"), {
      newestFirst: oneEach,
      onUnreachableDay: options.onUnreachableDay,
    })
  ) {
    const event = parseObject(line);
    if (event === null || event.event_type !== "run.created") continue;
    if (typeof event.run_id !== "string" || !runIds.has(event.run_id)) continue;
    if (oneEach && found.has(event.run_id)) continue;
    // As findRunEvents finds it: by its id's texts (a review: an id written with JSON escapes,
    // `"esc\u002da"`, was found in a batch of five runs and missed in one of four).
    const runId = event.run_id;
    if (!idTexts(runId).some((text) => line.includes(text))) continue;
    if (!await isValidLine(line, lossy, startOfFile)) continue;
    const runEvents = found.get(event.run_id) ?? [];
    runEvents.push({ eventId: String(event.event_id), eventType: "run.created", file });
    found.set(event.run_id, runEvents);
    if (oneEach && found.size === runIds.size) break; // each found: the rest need not be read
  }
  return found;
}

/** Options for {@linkcode findRunsCreated}. */
export interface FindRunsCreatedOptions {
  /**
   * Only whether each run has a `run.created`: at most one per run, the
   * newest days read first and the read stopped once each is found (the
   * warning of `ledger emit` about an unknown run read a log of 1M events
   * whole for each event, a probe). @default {false}
   */
  oneEach?: boolean;
  /** As {@linkcode FindRunEventsOptions.onUnreachableDay}. @default {undefined} */
  onUnreachableDay?: (err: UnreachableDayError) => void;
}

/** A complete line of the log that holds a searched text (see {@linkcode linesHolding}). */
export interface LineHolding {
  /** The part file, relative to the events directory. */
  file: string;
  /** The line, without its newline. */
  line: string;
  /** Some bytes of the part were not UTF-8 (read as U+FFFD). */
  lossy: boolean;
  /** The line is the part's first. */
  startOfFile: boolean;
}

/**
 * The complete lines of the log's parts that hold `needle`, each once, in
 * reading order; a part's text is searched, only the lines found are cut
 * out (a torn last line is left out). `beforeDay`: only the parts of days
 * before it; `newestFirst`: the parts in the reverse order (the lines of a
 * part stay in order). What to parse and check is the caller's.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "./writer.ts";
 * import { linesHolding } from "./run_lookup.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "a1" },
 *     { event_type: "run.started", run_id: "b2" },
 *   ]);
 *   await writer.close();
 *   const lines = await Array.fromAsync(linesHolding(root, '"b2"'));
 *   assert.equal(lines.length, 1);
 *   assert.match(lines[0].line, /"run_id":"b2"/);
 *   assert.equal(lines[0].startOfFile, false);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function* linesHolding(
  root: string,
  needle: string,
  options: {
    beforeDay?: string;
    newestFirst?: boolean;
    onUnreachableDay?: (err: UnreachableDayError) => void;
  } = {},
): AsyncGenerator<LineHolding> {
  const needleBytes = new TextEncoder().encode(needle);
  assert(needleBytes.length > 0 && !needleBytes.includes(NEWLINE), "a needle within one line");
  const parts = await listParts(root, { onUnreachableDay: options.onUnreachableDay });
  if (options.newestFirst === true) parts.reverse();
  for (const part of parts) {
    if (options.beforeDay !== undefined && part.day >= options.beforeDay) continue;
    // Acknowledged lines only, as findEventsById reads them: the lines of a batch whose writer
    // died are no events (a review: a run created only by a killed batch was "already there",
    // and emitting it again was refused).
    const bytesMax = await acknowledgedBytes(root, part);
    if (bytesMax === undefined) continue; // removed since listed
    let partLossy: boolean | undefined; // read only when a line found needs it (rare)
    for await (
      const { bytes, startOfFile } of partLinesHolding(part.path, needleBytes, bytesMax)
    ) {
      let line: string;
      let lossy: boolean;
      try {
        line = strictLineUtf8.decode(bytes);
        // A valid line holding U+FFFD in a part that is not all UTF-8: the indexer reads the
        // part as one text, so it cannot tell that line from a bad one, and leaves it out.
        lossy = line.includes("\uFFFD") && (partLossy ??= !(await isUtf8File(part.path)));
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
        line = lossyLineUtf8.decode(bytes);
        lossy = true;
      }
      // A byte order mark is skipped at the start of a part only, as reading the part as one
      // text skips it; before any other line it stays, and makes the line invalid (a review:
      // decoding each line alone skipped it on every line, and took such a line for a run's).
      if (startOfFile && line.startsWith("\uFEFF")) line = line.slice(1);
      yield { file: part.file, line, lossy, startOfFile };
    }
  }
}

const NEWLINE = 0x0a;

/**
 * The bytes of `part` that hold acknowledged lines only: a shared part's
 * whole lines before any dead batch's marker, taken under its lock
 * (stableAcknowledgedSize: without it, a dead batch cut back between its
 * size and its record could leave a later dead batch's lines in reach);
 * every byte of another part; `undefined` for a part removed since listed.
 */
async function acknowledgedBytes(root: string, part: PartFile): Promise<number | undefined> {
  if (!SHARED_PART_PATTERN.test(partName(part.file))) return Infinity;
  return (await stableAcknowledgedSize(root, part.day, part.path))?.wholeLinesBytes;
}

/**
 * Bytes of a part read at a time by {@linkcode partLinesHolding}: what it
 * holds, but for a longer line, which it reads whole.
 */
const PART_READ_BYTES = 16 * 1024 * 1024;
/** Least bytes read at a time (a part may grow after it was measured). */
const PART_READ_MIN_BYTES = 64 * 1024;

/**
 * The complete lines of the part at `path` that hold `needle`, each once,
 * as bytes. Searched as bytes, read a block at a time: decoding the whole
 * log as text for each `ledger emit` took 4.3 s and 440 MB on a log of 1M
 * events (a probe); the bytes are searched for the rarest byte of the
 * needle with `indexOf` (native), and only a line found is decoded. A part
 * removed since it was listed has none. Reads no byte past `bytesMax`.
 */
async function* partLinesHolding(
  path: string,
  needle: Uint8Array,
  bytesMax: number,
): AsyncGenerator<{ bytes: Uint8Array; startOfFile: boolean }> {
  const file = await openToReadIfThere(path);
  if (file === undefined) return;
  try {
    // No larger than the part (a log of many small parts zeroed a block for each).
    const size = Math.min(bytesMax, (await statOfOpen(file, path)).size);
    let buf = new Uint8Array(Math.max(PART_READ_MIN_BYTES, Math.min(PART_READ_BYTES, size + 1)));
    let held = 0; // bytes of buf read and not yet searched past
    let base = 0; // offset in the part of buf[0]
    let rare: number | undefined;
    for (let eof = false; !eof;) {
      if (held === buf.length) { // one line longer than the buffer: read it whole
        const grown = new Uint8Array(buf.length * 2);
        grown.set(buf);
        buf = grown;
      }
      const want = Math.min(buf.length, bytesMax - base); // no byte past bytesMax
      while (held < want) { // a read returns less than asked: fill the block first
        const n = await file.read(buf.subarray(held, want));
        if (n === null) {
          eof = true; // what is left without a newline: a torn or unfinished last line
          break;
        }
        held += n;
      }
      if (base + held >= bytesMax) eof = true;
      if (held === 0) break; // lastIndexOf from -1 would search from the buffer's end
      const end = buf.lastIndexOf(NEWLINE, held - 1) + 1; // complete lines: buf[0, end)
      if (end === 0) continue;
      rare ??= rarestByteAt(needle, buf.subarray(0, Math.min(end, RARE_SAMPLE_BYTES)));
      for (let at = buf.indexOf(needle[rare], rare); at >= 0 && at < end;) {
        const from = at - rare;
        if (!holdsAt(buf, from, needle)) {
          at = buf.indexOf(needle[rare], at + 1);
          continue;
        }
        const lineStart = buf.lastIndexOf(NEWLINE, from) + 1;
        const lineEnd = buf.indexOf(NEWLINE, from); // < end: the needle holds no newline
        yield { bytes: buf.slice(lineStart, lineEnd), startOfFile: base + lineStart === 0 };
        at = buf.indexOf(needle[rare], lineEnd + 1 + rare); // the next line: each line once
      }
      buf.copyWithin(0, end, held);
      held -= end;
      base += end;
    }
  } finally {
    file.close();
  }
}

/** Bytes sampled to pick the needle's rarest byte. */
const RARE_SAMPLE_BYTES = 64 * 1024;

/** The index in `needle` of its byte seen least in `sample` (the first on a tie). */
function rarestByteAt(needle: Uint8Array, sample: Uint8Array): number {
  const seen = new Uint32Array(256);
  for (const b of sample) seen[b]++;
  let rare = 0;
  for (let i = 1; i < needle.length; i++) if (seen[needle[i]] < seen[needle[rare]]) rare = i;
  return rare;
}

function holdsAt(buf: Uint8Array, from: number, needle: Uint8Array): boolean {
  if (from < 0) return false;
  for (let i = 0; i < needle.length; i++) if (buf[from + i] !== needle[i]) return false;
  return true;
}

/** Whether the file at `path` is all UTF-8, read a block at a time (false when removed). */
async function isUtf8File(path: string): Promise<boolean> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const file = await openToReadIfThere(path);
  if (file === undefined) return false;
  try {
    const buf = new Uint8Array(PART_READ_BYTES);
    for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
      decoder.decode(buf.subarray(0, n), { stream: true });
    }
    decoder.decode();
    return true;
  } catch (err) {
    if (err instanceof TypeError) return false; // not UTF-8
    throw err;
  } finally {
    file.close();
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lossyUtf8 = new TextDecoder();
/** For one line of a part: a byte order mark is kept, as text (see linesHolding). */
const strictLineUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyLineUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A part's text (`lossy`: some bytes were not UTF-8 and read as U+FFFD), or
 * undefined when it was removed since it was listed.
 */
async function partText(
  path: string,
  bytesMax = Infinity,
): Promise<{ text: string; lossy: boolean } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  if (bytes.length > bytesMax) bytes = bytes.subarray(0, bytesMax);
  try {
    return { text: strictUtf8.decode(bytes), lossy: false };
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return { text: lossyUtf8.decode(bytes), lossy: true };
  }
}

/**
 * Whether a complete line is a valid event by the line rules of
 * `event_line.ts`: rules 1-6 zod-free (`readLineValue`), and the event's
 * fields by the writer's fast check (`checkFilledEvent`, which accepts only
 * what the registry accepts) when it decides, so `ledger emit` keeps its
 * cold start; the rest load the one definition. In a part that is not all
 * UTF-8, a line holding U+FFFD is taken as one of its bad lines (its bytes
 * were read as that character).
 */
async function isValidLine(line: string, lossy: boolean, startOfFile: boolean): Promise<boolean> {
  if (lossy && line.includes("\uFFFD")) return false;
  const bytes = new TextEncoder().encode(line);
  const read = readLineValue(bytes, { startOfFile });
  if (!read.ok) return false;
  if (checkFilledEvent(read.value) !== undefined) return true;
  const { checkEventLine } = await import("./event_line.ts");
  return checkEventLine(bytes, { startOfFile }).ok;
}

function parseObject(line: string, exactIntegers = false): Record<string, unknown> | null {
  try {
    // Python's NaN/Infinity are read as null, as every reader does (SPEC 3).
    const value = parseJsonText(line, { exactIntegers });
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // A torn or invalid line is verify's business; it names no run here.
    return null;
  }
}

/** An event of the log found by its id. */
export interface FoundEvent {
  /** The part file, relative to the events directory. */
  file: string;
  /**
   * The event as the line holds it (non-finite numbers read as null,
   * integers past 2^53 exact).
   */
  event: Record<string, unknown>;
}

/**
 * The events of the log under `root` whose `event_id` is one of `ids`, by
 * id: every valid line of each, in the order of the parts (lines that are
 * not JSON objects are skipped). One pass over the log whatever the number
 * of ids: each line's id is read with a pattern and only the lines whose id
 * is asked for are parsed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { findEventsById } from "./run_lookup.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "r1", event_id: "import-1" });
 *   await writer.close();
 *   const found = await findEventsById(root, new Set(["import-1", "import-2"]));
 *   assert.deepEqual([...found.keys()], ["import-1"]);
 *   assert.equal(found.get("import-1")![0].event.run_id, "r1");
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function findEventsById(
  root: string,
  ids: ReadonlySet<string>,
  options: { onUnreachableDay?: (err: UnreachableDayError) => void } = {},
): Promise<Map<string, FoundEvent[]>> {
  const found = new Map<string, FoundEvent[]>();
  if (ids.size === 0) return found;
  const idPattern = /"event_id"\s*:\s*("(?:[^"\\]|\\.)*")/;
  for (const part of await listParts(root, { onUnreachableDay: options.onUnreachableDay })) {
    // Acknowledged lines only: a batch still appending (or killed while it did) holds lines
    // the next writer may cut; emit must not take one of those for its retry's event.
    const bytesMax = await acknowledgedBytes(root, part);
    if (bytesMax === undefined) continue; // removed since listed
    const read = await partText(part.path, bytesMax);
    if (read === undefined) continue;
    const { text } = read;
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break; // a torn or unfinished last line: not (yet) an event
      const lineStart = start;
      const line = text.slice(start, nl);
      start = nl + 1;
      const m = idPattern.exec(line);
      if (m === null) continue;
      let id: unknown;
      try {
        id = JSON.parse(m[1]);
      } catch (err) {
        if (err instanceof SyntaxError) continue; // not a JSON string: not an id
        throw err;
      }
      if (typeof id !== "string" || !ids.has(id)) continue;
      // Integers past 2^53 kept exact: the event is compared with another (sameEventKey).
      const event = parseObject(line, true);
      if (event === null || event.event_id !== id) continue;
      // A line the index leaves out holds no id (the line rules, as for findRunEvents).
      if (await isValidLine(line, read.lossy, lineStart === 0)) {
        const lines = found.get(id);
        if (lines === undefined) found.set(id, [{ file: part.file, event }]);
        else lines.push({ file: part.file, event });
      }
    }
  }
  return found;
}

/**
 * What two events with one `event_id` are compared by: every field but
 * `timestamp_ms` (a writer fills it on a retry), as canonical JSON, an
 * absent `schema_version` as 1 (SPEC 4: absent on read means 1; a review:
 * a Python-written event re-imported by its id was "another event"). Equal
 * keys mean the same event written twice; `verify` counts them so and
 * `emit` accepts a retry by it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sameEventKey } from "./run_lookup.ts";
 * const a = { event_id: "x", run_id: "r", timestamp_ms: 1, tags: { b: "1", a: "2" } };
 * assert.equal(sameEventKey(a), sameEventKey({ ...a, timestamp_ms: 2, tags: { a: "2", b: "1" } }));
 * assert.equal(sameEventKey(a), sameEventKey({ ...a, schema_version: 1 }));
 * assert.notEqual(sameEventKey(a), sameEventKey({ ...a, run_id: "s" }));
 * ```
 */
export function sameEventKey(event: Readonly<Record<string, unknown>>): string {
  const { timestamp_ms: _time, ...fields } = event;
  return canonicalJson({ schema_version: 1, ...fields }); // canonical: keys sorted
}
