/**
 * Check a ledger's event log without touching it (`ledger verify`): per day,
 * the part files, lines and events by type, torn tails, invalid lines with
 * `file:line: reason`, event ids seen more than once, and runs whose
 * lifecycle is impossible. Opens files read-only; never writes, never
 * creates a directory.
 *
 * What counts as a problem (makes the log unsound):
 * - an invalid line (empty, NUL bytes, not UTF-8, not JSON, not a valid event);
 * - an `event_id` on more than one line (the indexer counts it once; the
 *   report says whether the lines hold the same event apart from
 *   `timestamp_ms`, a retry that lost nothing, or different events, a
 *   conflict of which only the counted line is indexed);
 * - `run.completed` or `run.failed` of a run that has no `run.created`;
 * - `phase.completed` of a phase the run never started (`phase.started` with
 *   the same `phase_name`);
 * - with `strict`, a torn tail (a last line without `\n`: what a crash leaves,
 *   or a line a live writer is still writing).
 *
 * A retry (`ledger emit --event-id` run again, which stamps a new time, or
 * a writer that appended twice) is still a problem for `verify`: the log
 * holds a line twice, and issue 6 lists duplicate ids with what makes a log
 * unsound; the report tells it apart from a conflict.
 *
 * Every event id counts once, as in the index (SPEC 7): the per-type counts
 * and the lifecycle checks see only the occurrence with the smallest
 * `(timestamp_ms, file, line)`. Its other lines are counted as duplicates.
 *
 * Reported as warnings, not problems: events of a run timestamped after its
 * `run.completed`/`run.failed` (late artifacts, backfills; the index keeps the
 * later terminal event; annotations are not late: they come after a run
 * ends), a run with events but no `run.created` nor ending (no type, no
 * config), a run both completed and failed or completed twice
 * (see "Conflicting endings" in docs/EVENTS.md for which one counts), events
 * holding `NaN`/`Infinity` (valid events; the values read as `null`), events
 * repeating a top-level key (the first value counts, as in the index), events
 * timestamped more than {@linkcode FUTURE_TIMESTAMP_TOLERANCE_MS} ahead of
 * this machine's clock, events in a day directory other than the UTC day
 * of their `timestamp_ms` (SPEC 3: they are indexed, but `--since-date` and
 * removing old days go by the directory), a run with more than one
 * `run.created` (the first gives the config), a run that ended before it
 * started (its duration shows negative), a missing
 * `_schema.json` (the next writer recreates it) or one that is not a JSON
 * object (cut, emptied), a day directory without part
 * files, a file whose name is not UTF-8 (no reader can open it: rename it). Entries the readers skip (entries of `events/` that are not day
 * directories; in a day directory, names not ending in `.jsonl`, hidden
 * files, and entries that are not regular files: directories, symbolic
 * links, FIFOs, sockets, devices) are listed as ignored, with what each is.
 *
 * Order does not matter for the lifecycle checks: they look at the whole log,
 * since writers' clocks and part files interleave. Memory grows by 8 bytes
 * an event (each id is held as a fingerprint) plus what each run needs. When
 * two lines share a fingerprint, the log is read again holding those ids, to
 * find the ids that repeat; then a read of the files holding them compares
 * the lines (and, when a later line wins the id, counts the log again).
 *
 * @module
 */
import { escapeControl, messageValue } from "./control_text.ts";
import { fileOnPath } from "./exists.ts";
import { assert } from "./assert.ts";
import { clockMs } from "./clock.ts";
import { basename, join } from "node:path";
import { countOf } from "./count_text.ts";
import { DAY_DIR_PATTERN, dayOf, eventsDir, PART_FILE_PATTERN } from "./paths.ts";
import { isDayFolder } from "./parts.ts";
import { type LogRecord, readPartFile } from "./reader.ts";
import { FUTURE_TIMESTAMP_TOLERANCE_MS, type LedgerEvent } from "./events.ts";
import { sameEventKey } from "./run_lookup.ts";
import { ANNOTATION_EVENT_TYPES } from "./field_rules.ts";
import { idFingerprint, IdFingerprints } from "./_id_fingerprints.ts";
import { acknowledgedSize, CROSS_DAY_LOG_NAME, pendingBatches } from "./shared_part.ts";

/** Most findings of one kind kept in a report (counts are always complete). */
export const FINDINGS_LISTED_MAX = 1000;

/** Options for {@linkcode verifyLog}. */
export interface VerifyOptions {
  /** Count torn tails as problems. @default {false} */
  strict?: boolean;
  /** Most findings of each kind listed (torn, invalid, duplicates, ...). @default {FINDINGS_LISTED_MAX} */
  findingsListedMax?: number;
  /** The time future timestamps are judged against, in ms since the epoch. @default {Date.now()} */
  nowMs?: number;
  /**
   * Told, now and then while each read of the log goes on, how many of its
   * bytes were read (`pass` 1, and 2 for the second read that finds which
   * event ids repeat), for a progress line: a check of millions of events
   * said nothing for half a minute (a scale audit). @default {undefined}
   */
  onProgress?: (doneBytes: number, totalBytes: number, pass: number) => void;
}

/** Lines read between two calls of {@linkcode VerifyOptions.onProgress}. */
const PROGRESS_EVERY_LINES = 65_536;

/** One line the check found fault with. */
export interface LineFinding {
  /** The part file, relative to the events directory. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** Why. */
  reason: string;
}

/** What one day partition holds. */
export interface DayReport {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Part files. */
  files: number;
  /** Bytes in its part files. */
  bytes: number;
  /** Lines (complete ones plus torn tails). */
  lines: number;
  /**
   * Valid events, each event id once (as in the index): in the day of its
   * counted occurrence; the other lines of a repeated id are
   * `duplicateEvents`.
   */
  events: number;
  /**
   * Valid events by `event_type`, each event id once: in the day of its
   * counted occurrence (the smallest `(timestamp_ms, file, line)`).
   */
  eventsByType: Record<string, number>;
  /** Valid events that repeat an event id counted elsewhere (not in `eventsByType`). */
  duplicateEvents: number;
  /** Torn tails (count). */
  tornCount: number;
  /** Invalid lines (count). */
  invalidCount: number;
  /** Torn tails, up to the listing limit. */
  torn: LineFinding[];
  /** Invalid lines, up to the listing limit. */
  invalid: LineFinding[];
}

/** An event id on more than one line. */
export interface DuplicateId {
  /** The repeated id. */
  eventId: string;
  /** Every line holding it, in log order. */
  occurrences: { file: string; line: number }[];
  /** The line that counts: the smallest `(timestamp_ms, file, line)`, as in the index. */
  counted: { file: string; line: number };
  /**
   * `true` when every line holds the same event apart from `timestamp_ms` (a
   * retry: nothing lost), `false` when they differ (a conflict: only
   * `counted` is indexed). A problem either way.
   */
  sameEvent: boolean;
}

/** A run whose events cannot come from a real run. */
export interface LifecycleFinding extends LineFinding {
  /** The run. */
  runId: string;
}

/** Totals over the whole log. */
export interface VerifyTotals {
  /** Day partitions. */
  days: number;
  /** Part files. */
  files: number;
  /** Bytes in part files. */
  bytes: number;
  /** Lines. */
  lines: number;
  /** Valid events, each event id once (as in the index). */
  events: number;
  /** Distinct runs. */
  runs: number;
  /** Torn tails. */
  torn: number;
  /** Invalid lines. */
  invalid: number;
  /** Event ids on more than one line. */
  duplicateIds: number;
  /** Of those, the ids whose lines hold different events (conflicts, not retries). */
  conflictingIds: number;
  /** Lifecycle problems. */
  lifecycle: number;
  /** Valid events holding `NaN`/`Infinity` values (read as `null`; a warning, not a problem). */
  nonFiniteEvents: number;
  /** Valid events timestamped more than a day ahead of the clock (a warning, not a problem). */
  futureEvents: number;
  /**
   * Valid events in a day directory other than the UTC day of their
   * `timestamp_ms` (SPEC 3; a warning, not a problem: they are indexed, but
   * `--since-date` and retention by day go by the directory).
   */
  misfiledEvents: number;
}

/** The result of {@linkcode verifyLog}. */
export interface VerifyReport {
  /** The ledger root checked. */
  root: string;
  /** Whether torn tails counted as problems. */
  strict: boolean;
  /** `true` when `problems` is 0. */
  sound: boolean;
  /** Number of problems (see the module doc for what counts). */
  problems: number;
  /** Totals. */
  totals: VerifyTotals;
  /** Per day, in day order. */
  days: DayReport[];
  /** Repeated event ids, up to the listing limit. */
  duplicates: DuplicateId[];
  /** Impossible lifecycles, up to the listing limit. */
  lifecycle: LifecycleFinding[];
  /** Things worth knowing that are not problems. */
  warnings: string[];
  /** Entries the readers skip, relative to the root. */
  ignored: string[];
}

/**
 * The ledger root to verify does not exist or is not a directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LedgerRootError, verifyLog } from "./verify.ts";
 * await assert.rejects(verifyLog("/no/such/root"), LedgerRootError);
 * ```
 */
export class LedgerRootError extends Error {
  /** The root given. */
  readonly root: string;
  /** Create the error for `root` with the reason. */
  constructor(root: string, reason: string) {
    super(`Ledger root ${messageValue(root)} ${reason}`);
    this.name = "LedgerRootError";
    this.root = root;
  }
}

/**
 * Check the log under `root` read-only and return what was found. Throws
 * {@linkcode LedgerRootError} when `root` is missing or not a directory; a
 * root without an `events` directory is an empty (sound) log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { verifyLog } from "./verify.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({
 *     event_type: "run.created",
 *     run_id: "r1",
 *     run_type: "policy",
 *     config: {},
 *     data_fingerprint: "fp",
 *   });
 *   await writer.close();
 *   const report = await verifyLog(root, { strict: true });
 *   assert.ok(report.sound, `${report.problems} problems`);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function verifyLog(root: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const nowMs = clockMs(options.nowMs);
  await requireRoot(root);
  const strict = options.strict ?? false;
  const listedMax = options.findingsListedMax ?? FINDINGS_LISTED_MAX;
  const futureAfterMs = nowMs + FUTURE_TIMESTAMP_TOLERANCE_MS;
  const layout = await listLayout(root);
  let scan = new Scan(listedMax, futureAfterMs);
  const progress = options.onProgress;
  await scanLog(scan, layout, progress && ((done, total) => progress(done, total, 1)));
  const candidates = scan.repeatedFingerprints();
  if (candidates.size > 0) {
    // Some fingerprint repeats: read again, holding only those ids, to find which repeat.
    scan = new Scan(listedMax, futureAfterMs, candidates);
    await scanLog(scan, layout, progress && ((done, total) => progress(done, total, 2)));
  }
  if (scan.hasDuplicates) await rereadDuplicates(scan, layout);
  return scan.finish(root, strict, layout.ignored);
}

/**
 * One read of every part file the layout lists, into `scan`. The lines of a
 * batch not yet acknowledged (past the size its marker recorded) are not the
 * log's, as for the index (`acknowledgedSize`): a batch whose writer died is
 * cut by the next `ledger emit`, one being written counts once acknowledged.
 * They are counted apart, in a warning each.
 */
async function scanLog(
  scan: Scan,
  layout: Layout,
  onProgress?: (doneBytes: number, totalBytes: number) => void,
): Promise<void> {
  scan.warnings.push(...layout.warnings);
  const dead = { lines: 0, first: undefined as Where | undefined };
  const writing = { lines: 0, first: undefined as Where | undefined };
  const totalBytes = layout.days.reduce(
    (sum, d) => sum + d.parts.reduce((n, p) => n + p.sizeBytes, 0),
    0,
  );
  let partsBytes = 0; // of the parts read before this one
  let lines = 0;
  for (const { day, parts } of layout.days) {
    const report = scan.startDay(day);
    for (const part of parts) {
      report.files += 1;
      report.bytes += part.sizeBytes;
      const cut = part.acknowledgedBytes;
      // With a cut, the last line before it is held until the next line says where it ends:
      // one the cut goes through is, as the index reads the part, a torn tail.
      let held: LogRecord | undefined;
      for await (const record of readPartFile(part.path, { file: part.file, mode: "read" })) {
        if (onProgress !== undefined && ++lines % PROGRESS_EVERY_LINES === 0) {
          onProgress(Math.min(totalBytes, partsBytes + record.offset), totalBytes);
        }
        if (record.offset < cut) {
          if (cut === Infinity) scan.add(report, record);
          else {
            if (held !== undefined) scan.add(report, held);
            held = record;
          }
          continue;
        }
        if (held !== undefined) {
          scan.add(report, record.offset > cut ? cutThrough(part, held) : held);
          held = undefined;
        }
        const unacknowledged = part.batchWriting === true ? writing : dead;
        unacknowledged.lines += 1;
        unacknowledged.first ??= { file: record.file, line: record.line };
      }
      // The part's last line began before the cut, which is before the part's end.
      if (held !== undefined) scan.add(report, cutThrough(part, held));
      partsBytes += part.sizeBytes;
    }
  }
  onProgress?.(totalBytes, totalBytes);
  if (dead.first !== undefined) {
    scan.warnings.push(
      `${countOf(dead.lines, "line")} of a batch whose writer died before ` +
        `acknowledging it, not counted (first at ${dead.first.file}:${dead.first.line}; the ` +
        "index does not read them either, and the next ledger emit removes them)",
    );
  }
  if (writing.first !== undefined) {
    scan.warnings.push(
      `${countOf(writing.lines, "line")} of a batch not acknowledged yet, not counted (first ` +
        `at ${writing.first.file}:${writing.first.line}; its part is locked now: being written, ` +
        "or being cut back by the next writer)",
    );
  }
}

/**
 * The line `record` of `part` that the part's cut (`acknowledgedBytes`) goes
 * through: the index reads the part up to the cut, so what is left of it
 * is a torn tail. The reads after this one skip it (`tornAt`).
 */
function cutThrough(part: PartEntry, record: LogRecord): LogRecord {
  part.tornAt = record.offset;
  const bytes = part.acknowledgedBytes - record.offset;
  return {
    kind: "torn",
    file: record.file,
    line: record.line,
    offset: record.offset,
    reason: `torn last line: ${bytes} bytes without a newline (the rest of the line is ` +
      "a dead batch's)",
  };
}

/**
 * The second read, only when an event id repeats: the files holding a
 * repeated id are read again to compare its lines; all files when a later
 * line won an id, so that the counts follow the winners. The log is
 * append-only, so a line keeps its place; a line gone since (a file removed)
 * leaves its id counted as a conflict.
 */
async function rereadDuplicates(scan: Scan, layout: Layout): Promise<void> {
  scan.startReread();
  for (const [dayIndex, { parts }] of layout.days.entries()) {
    for (const part of parts) {
      if (!scan.rereads(part.file)) continue;
      try {
        for await (const record of readPartFile(part.path, { file: part.file, mode: "read" })) {
          // Not the log's, as in the first read: counted again, they would count twice as events.
          if (record.offset >= part.acknowledgedBytes || record.offset === part.tornAt) continue;
          scan.addAgain(dayIndex, record);
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }
}

/**
 * Render a report as text: one line per day, then each finding as
 * `file:line: reason`, then a verdict line.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatReport, verifyLog } from "./verify.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   await Deno.mkdir(`${root}/events`);
 *   const text = formatReport(await verifyLog(root));
 *   assert.ok(text.startsWith(`ledger root ${root}`));
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function formatReport(report: VerifyReport): string {
  // Each item one line: a file name holding a newline (which is read as a part) is escaped.
  const out = [`ledger root ${escapeControl(report.root)}`];
  const at = (o: { file: string; line: number }) => `${escapeControl(o.file)}:${o.line}`;
  for (const d of report.days) {
    const types = Object.entries(d.eventsByType).map(([t, n]) => `${t} ${n}`).join(", ") +
      (d.duplicateEvents > 0 ? `; ${countOf(d.duplicateEvents, "duplicate")}` : "");
    out.push(
      `day=${d.day}: ${countOf(d.files, "file")}, ${countOf(d.lines, "line")}, ` +
        `${countOf(d.events, "event")}${types === "" ? "" : ` (${types})`}, ` +
        `${countOf(d.tornCount, "torn tail")}, ${countOf(d.invalidCount, "invalid line")}`,
    );
    for (const f of d.invalid) out.push(`  ${at(f)}: invalid: ${escapeControl(f.reason)}`);
    for (const f of d.torn) out.push(`  ${at(f)}: ${escapeControl(f.reason)}`);
  }
  for (const dup of report.duplicates) {
    const where = dup.occurrences.map(at).join(", ");
    const what = dup.sameEvent
      ? "the same event again, a retry: counted once"
      : `a conflict, the lines differ: ${at(dup.counted)} counts`;
    out.push(`duplicate event id ${escapeControl(dup.eventId)}: ${where} (${what})`);
  }
  for (const l of report.lifecycle) {
    out.push(`${at(l)}: run ${escapeControl(l.runId)}: ${escapeControl(l.reason)}`);
  }
  for (const w of report.warnings) out.push(`warning: ${escapeControl(w)}`);
  for (const i of report.ignored) out.push(`ignored: ${escapeControl(i)}`);
  out.push(verdict(report));
  return out.join("\n");
}

function verdict(report: VerifyReport): string {
  const t = report.totals;
  const summary = `${countOf(t.days, "day")}, ${countOf(t.files, "file")}, ` +
    `${countOf(t.events, "event")}, ${countOf(t.runs, "run")}`;
  if (report.sound) {
    const torn = t.torn > 0
      ? `; ${countOf(t.torn, "torn tail")} (a problem only with --strict)`
      : "";
    return `sound: ${summary}${torn}`;
  }
  const kinds = [
    [t.invalid, "invalid line"],
    [t.duplicateIds, "duplicate event id"],
    [t.lifecycle, "impossible lifecycle"],
    [report.strict ? t.torn : 0, "torn tail"],
  ].filter(([n]) => (n as number) > 0).map(([n, what]) => countOf(n as number, what as string));
  return `NOT SOUND: ${countOf(report.problems, "problem")} (${kinds.join(", ")}); ${summary}`;
}

async function requireRoot(root: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root); // follows a symlinked root
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new LedgerRootError(root, "does not exist");
    if (err instanceof Deno.errors.NotADirectory) {
      throw new LedgerRootError(root, `does not exist: ${await fileOnPath(root)} is a file`);
    }
    throw err;
  }
  if (!info.isDirectory) throw new LedgerRootError(root, "is not a directory");
}

interface PartEntry {
  file: string;
  path: string;
  sizeBytes: number;
  /**
   * Where the lines of a dead batch start (`acknowledgedSize`), taken once
   * so that every read of the part leaves out the same lines; `Infinity`
   * when no batch of it died.
   */
  acknowledgedBytes: number;
  /**
   * The batch past `acknowledgedBytes` may be being written now: the part's
   * lock is held (its writer is alive, or the next writer is cutting it).
   */
  batchWriting?: boolean;
  /** Where the line that the cut goes through starts, once a read found one. */
  tornAt?: number;
}

interface Layout {
  days: { day: string; parts: PartEntry[] }[];
  ignored: string[];
  warnings: string[];
}

/**
 * Why `path`, the log's `_schema.json`, is no JSON Schema document for other
 * languages' tools (SPEC 5), or undefined: a file cut or emptied (disk damage,
 * an edit) was said to be sound (a probe). A backtest's or sweep's writer
 * writes it whole again; `emit` only when it is missing.
 */
async function schemaFileDamage(path: string): Promise<string | undefined> {
  const text = await Deno.readTextFile(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return `events/_schema.json is not JSON (${text.length === 0 ? "empty" : "cut or damaged"}): ` +
      "tools of other languages cannot validate against it (a backtest or sweep writes it again, " +
      "or remove it and the next emit does)";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "events/_schema.json is JSON but not a schema object: tools of other languages " +
      "cannot validate against it (remove it and the next emit writes it again)";
  }
  return undefined;
}

/** The day directories and part files, what is ignored, and layout warnings. */
async function listLayout(root: string): Promise<Layout> {
  const dir = eventsDir(root);
  const layout: Layout = { days: [], ignored: [], warnings: [] };
  let pendingSeen = false;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    layout.warnings.push("no events directory: the log is empty");
    return layout;
  }
  if (!entries.some((e) => e.name === "_schema.json" && e.isFile)) {
    layout.warnings.push("events/_schema.json is missing (the next writer recreates it)");
  } else {
    const damage = await schemaFileDamage(join(dir, "_schema.json"));
    if (damage !== undefined) layout.warnings.push(damage);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const match = DAY_DIR_PATTERN.exec(entry.name);
    if (match && (await isDayFolder(dir, entry))) {
      layout.days.push({ day: match[1], parts: await listDay(dir, entry.name, layout) });
    } else if (entry.name === PENDING_DIR_NAME && entry.isDirectory) {
      // The writers' own bookkeeping (ledger/shared_part.ts): said below, once it is known
      // whether each marker's batch is being written now.
      pendingSeen = true;
    } else if (entry.name !== "_schema.json" || !entry.isFile) {
      const kind = await describe(join(dir, entry.name), entry);
      layout.ignored.push(`events/${entry.name} (${kind}, not a day directory)`);
    }
  }
  // As the indexer takes them (indexer/_files.ts): the parts' sizes first, then the batches'
  // records, read once; only a part a batch names can have a cut.
  const batches = pendingSeen ? await pendingBatches(root) : [];
  const batched = new Set(batches.map((b) => `day=${b.day}/${b.part}`));
  const writing = new Set<string>();
  for (const { day, parts } of layout.days) {
    for (const part of parts) {
      if (!batched.has(part.file)) continue;
      const acknowledged = await acknowledgedSize(root, day, part.path, part.sizeBytes);
      if (acknowledged < part.sizeBytes) part.acknowledgedBytes = acknowledged;
      // A marker means a dead writer only when nobody holds the part's lock (a soak audit:
      // verify called a live 60,000-line batch dead, "the next ledger emit removes its lines").
      // A held lock is the batch's writer, or the next writer cutting a dead batch: both said.
      part.batchWriting = await lockedNow(part.path);
      if (part.batchWriting) writing.add(part.file);
    }
  }
  if (pendingSeen) {
    for await (const marker of Deno.readDir(join(dir, PENDING_DIR_NAME))) {
      if (marker.name === CROSS_DAY_LOG_NAME) {
        // The readers' log of batches over several days (ledger/shared_part.ts), no batch: said
        // only when it is no file, which fails every such batch (helper-301).
        if (!(await isRegularFile(join(dir, PENDING_DIR_NAME, marker.name)))) {
          layout.warnings.push(
            `events/${PENDING_DIR_NAME}/${marker.name} is not a regular file: every emit --stdin ` +
              "batch over several days fails until it is removed",
          );
        }
        continue;
      }
      const batch = batches.find((b) => basename(b.marker) === marker.name);
      const where = `events/${PENDING_DIR_NAME}/${marker.name}`;
      layout.warnings.push(
        batch !== undefined && writing.has(`day=${batch.day}/${batch.part}`)
          ? `${where}: a batch (emit --stdin) not acknowledged yet whose part is locked now: ` +
            "being written (its lines count once acknowledged) or being cut back by the next writer"
          : `${where}: a batch (emit --stdin) whose writer died before acknowledging it; the ` +
            "next ledger emit removes its lines",
      );
    }
  }
  return layout;
}

/** Whether `path` leads to a regular file (links followed). */
async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.FilesystemLoop) {
      return false;
    }
    throw err;
  }
}

/**
 * Whether another process holds the lock of the part at `path` now: a
 * shared lock is tried and let go at once (writers take an exclusive one,
 * so this never blocks one for longer than the try).
 */
async function lockedNow(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  try {
    if (!(await file.tryLock(false))) return true;
    await file.unlock();
    return false;
  } finally {
    file.close();
  }
}

/** The shared parts' batch markers (`ledger/shared_part.ts`), inside `events/`. */
const PENDING_DIR_NAME = ".pending";

/** What Deno puts in place of the bytes of a file name that are not UTF-8. */
const REPLACEMENT_CHARACTER = "\uFFFD";

async function listDay(dir: string, dayName: string, layout: Layout): Promise<PartEntry[]> {
  const parts: PartEntry[] = [];
  const names = (await Array.fromAsync(Deno.readDir(join(dir, dayName))))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const [i, entry] of names.entries()) {
    const file = `${dayName}/${entry.name}`;
    const path = join(dir, file);
    // Beside a file named so in UTF-8, the path reaches that one only (sorted: they are side by
    // side), which would be read twice and called a duplicate of itself (a review).
    const again = i > 0 && names[i - 1].name === entry.name;
    if (entry.name.includes(REPLACEMENT_CHARACTER) && (again || !(await reachable(path)))) {
      // Deno names a file whose name is not UTF-8 with U+FFFD in its place: no path reaches it,
      // so neither this check nor the indexer can read it. Say so instead of an OS error. A
      // name that holds U+FFFD itself is UTF-8: the indexer reads that file, and so does this.
      layout.warnings.push(
        `events/${file}: the file name is not valid UTF-8, so it cannot be read or indexed ` +
          "(rename it)",
      );
      continue;
    }
    if (entry.isFile && PART_FILE_PATTERN.test(entry.name)) {
      parts.push({
        file,
        path,
        sizeBytes: (await Deno.stat(path)).size,
        acknowledgedBytes: Infinity,
      });
    } else {
      layout.ignored.push(`events/${file} (${await whyNotPart(path, entry)})`);
    }
  }
  if (parts.length === 0) layout.warnings.push(`${dayName} holds no part files`);
  return parts;
}

/** Whether an entry is there under the name `path` gives it (a lossy name is not). */
async function reachable(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function capped(items: string[], max: number): string[] {
  if (items.length <= max) return items;
  return [...items.slice(0, max), `... and ${items.length - max} more`];
}

/** Why a day directory's entry is not read as a part file: what it is, and the rule it misses. */
async function whyNotPart(path: string, entry: Deno.DirEntry): Promise<string> {
  const kind = await describe(path, entry);
  if (!entry.isFile) return `${kind}, not a regular file`;
  if (!entry.name.endsWith(".jsonl")) return `${kind}, not a *.jsonl file`;
  return `${kind}, hidden: its name starts with a dot`;
}

/**
 * What a directory entry is, in words. `readDir` tells only files,
 * directories and symbolic links apart; anything else (a FIFO, a socket, a
 * device) is named from `lstat`.
 */
async function describe(path: string, entry: Deno.DirEntry): Promise<string> {
  if (entry.isSymlink) return "symbolic link";
  if (entry.isDirectory) return "directory";
  if (entry.isFile) return "file";
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "entry removed while listing";
    throw err;
  }
  if (info.isFifo) return "FIFO";
  if (info.isSocket) return "socket";
  if (info.isBlockDevice) return "block device";
  if (info.isCharDevice) return "character device";
  return "special file";
}

interface Where {
  file: string;
  line: number;
}

/** One line holding an event id: where, when, and the day that lists it. */
interface Occurrence extends Where {
  timestampMs: number;
  day: DayReport;
}

/** Events that annotate a run (SPEC 11), not steps of its lifecycle. */
const ANNOTATION_TYPES: ReadonlySet<string> = new Set(ANNOTATION_EVENT_TYPES);

/** Run ids the warning about annotations alone names, at most. */
const BARE_RUNS_SHOWN_MAX = 10;

/** Whether a run has an event other than an annotation: what makes a run in the index. */
function hasOwnLife(run: RunState): boolean {
  return run.creations > 0 || run.terminal.length > 0 || run.lastOther !== undefined;
}

interface RunState {
  /** Its `run.created` events, each id once (none: no type or config; more: the first counts). */
  creations: number;
  /** Its first `run.started`, which its duration counts from. */
  started?: { timestampMs: number; where: Where };
  terminal: { type: string; timestampMs: number; where: Where }[];
  /** The latest non-terminal event that is not an annotation. */
  lastOther?: { type: string; timestampMs: number; where: Where };
  /** The earliest non-terminal event that is not an annotation. */
  firstOther?: { type: string; timestampMs: number; where: Where };
  phasesStarted: Set<string>;
  phasesCompleted: { name: string; where: Where }[];
}

/** What the second read found of one repeated id. */
interface Compared {
  /** The lines read again, by `file:line`. */
  seen: Set<string>;
  /** The distinct events among them, as {@linkcode sameEventKey} gives them. */
  keys: Set<string>;
}

/**
 * Accumulates the findings of one pass over the log. The first scan holds
 * each event id only as a fingerprint ({@linkcode IdFingerprints}, 8 bytes
 * an event) and counts every line; when no fingerprint repeats, no id does,
 * and that scan is the answer. Otherwise a second scan reads the log again
 * holding the ids whose fingerprints repeated, the candidates, with their
 * places (`#counted`), and finds the repeats among them exactly.
 */
class Scan {
  readonly warnings: string[] = [];
  #listedMax: number;
  #days: DayReport[] = [];
  /** The first scan: every event id's fingerprint. */
  #fingerprints: IdFingerprints | undefined;
  /** The second scan: the fingerprints that repeated in the first. */
  #candidates: ReadonlySet<number> | undefined;
  /** Per candidate event id, the occurrence counted so far. */
  #counted = new Map<string, Occurrence>();
  /**
   * Per file, the last line this scan took: a second read of the file stops
   * there (lines appended since, or a dead batch's lines, were not counted).
   */
  #linesRead = new Map<string, number>();
  /** Per repeated event id, every occurrence in log order. */
  #duplicates = new Map<string, Occurrence[]>();
  /** A later line won an id: the second read counts the log again. */
  #recount = false;
  #compared = new Map<string, Compared>();
  #rereadFiles = new Set<string>();
  #runs = new Map<string, RunState>();
  #futureAfterMs: number;
  #nonFinite = { events: 0, first: undefined as Where | undefined };
  #repeatedKey = { events: 0, first: undefined as Where | undefined };
  #future = { events: 0, first: undefined as (Where & { timestampMs: number }) | undefined };
  #misfiled = { events: 0, first: undefined as (Where & { timestampMs: number }) | undefined };

  /**
   * The first scan without `candidates`, the second with the fingerprints
   * that repeated in the first.
   */
  constructor(listedMax: number, futureAfterMs: number, candidates?: ReadonlySet<number>) {
    this.#listedMax = listedMax;
    this.#futureAfterMs = futureAfterMs;
    if (candidates === undefined) this.#fingerprints = new IdFingerprints();
    else this.#candidates = candidates;
  }

  /**
   * After the first scan: the fingerprints that repeat, which a second scan
   * must check (empty: no event id repeats, this scan is exact).
   */
  repeatedFingerprints(): Set<number> {
    assert(this.#fingerprints !== undefined, "fingerprints are kept by the first scan");
    const repeated = this.#fingerprints.repeated();
    this.#fingerprints = undefined; // 8 bytes an event, freed before a second scan
    return repeated;
  }

  /** Whether some event id is on more than one line. */
  get hasDuplicates(): boolean {
    return this.#duplicates.size > 0;
  }

  startDay(day: string): DayReport {
    const report: DayReport = {
      day,
      files: 0,
      bytes: 0,
      lines: 0,
      events: 0,
      eventsByType: {},
      duplicateEvents: 0,
      tornCount: 0,
      invalidCount: 0,
      torn: [],
      invalid: [],
    };
    this.#days.push(report);
    return report;
  }

  add(day: DayReport, record: LogRecord): void {
    day.lines += 1;
    this.#linesRead.set(record.file, record.line);
    const where = { file: record.file, line: record.line };
    if (record.kind !== "event") {
      const finding = { ...where, reason: record.reason };
      if (record.kind === "torn") {
        day.tornCount += 1;
        if (day.torn.length < this.#listedMax) day.torn.push(finding);
      } else {
        day.invalidCount += 1;
        if (day.invalid.length < this.#listedMax) day.invalid.push(finding);
      }
      return;
    }
    const event = record.event;
    day.events += 1;
    if (this.#noteId(event.event_id, { ...where, timestampMs: event.timestamp_ms, day })) {
      this.#count(day, event, where);
    }
    if (record.repeatedKey) {
      this.#repeatedKey.events += 1;
      this.#repeatedKey.first ??= where;
    }
    if (record.nonFiniteCount > 0) {
      this.#nonFinite.events += 1;
      this.#nonFinite.first ??= where;
    }
    if (event.timestamp_ms > this.#futureAfterMs) {
      this.#future.events += 1;
      this.#future.first ??= { ...where, timestampMs: event.timestamp_ms };
    }
    if (dayOf(event.timestamp_ms) !== day.day) {
      this.#misfiled.events += 1;
      this.#misfiled.first ??= { ...where, timestampMs: event.timestamp_ms };
    }
  }

  /**
   * Record where `id` occurs; `true` when this is its first line (count the
   * event now). A later line that wins the id (smaller `timestamp_ms`) makes
   * the second read count the log again.
   */
  #noteId(id: string, at: Occurrence): boolean {
    if (this.#fingerprints !== undefined) {
      this.#fingerprints.add(id);
      return true;
    }
    assert(this.#candidates !== undefined, "a scan keeps fingerprints or has candidates");
    if (!this.#candidates.has(idFingerprint(id))) return true; // on one line only
    const counted = this.#counted.get(id);
    if (counted === undefined) {
      this.#counted.set(id, at);
      return true;
    }
    const all = this.#duplicates.get(id);
    if (all === undefined) this.#duplicates.set(id, [counted, at]);
    else all.push(at);
    if (precedes(at, counted)) {
      this.#counted.set(id, at);
      counted.day.duplicateEvents += 1;
      this.#recount = true;
    } else {
      at.day.duplicateEvents += 1;
    }
    return false;
  }

  /** Count one event (each id once): its type in its day, and its run. */
  #count(day: DayReport, event: LedgerEvent, where: Where): void {
    day.eventsByType[event.event_type] = (day.eventsByType[event.event_type] ?? 0) + 1;
    this.#noteRun(event, where);
  }

  /**
   * Prepare the second read: the files holding a repeated id, or every file
   * when a later line won an id (then the per-type counts and the runs
   * start again, counting only the winning lines).
   */
  startReread(): void {
    for (const [id, all] of this.#duplicates) {
      this.#compared.set(id, { seen: new Set(), keys: new Set() });
      for (const at of all) this.#rereadFiles.add(at.file);
    }
    if (!this.#recount) return;
    this.#runs.clear();
    for (const day of this.#days) day.eventsByType = {};
  }

  /** Whether the second read needs `file`. */
  rereads(file: string): boolean {
    return this.#recount || this.#rereadFiles.has(file);
  }

  /** One record of the second read, from the day `dayIndex` (in the order of the scan). */
  addAgain(dayIndex: number, record: LogRecord): void {
    if (record.kind !== "event") return;
    if (record.line > (this.#linesRead.get(record.file) ?? 0)) return; // not read the first time
    const event = record.event;
    const id = event.event_id;
    // An id that is not a candidate is on one line: that line counts.
    const counted = this.#counted.get(id);
    const isCounted = counted === undefined ||
      (counted.file === record.file && counted.line === record.line);
    if (this.#recount && isCounted) {
      assert(dayIndex < this.#days.length, "the second read lists the days of the first");
      this.#count(this.#days[dayIndex], event, { file: record.file, line: record.line });
    }
    const compared = this.#compared.get(id);
    if (compared === undefined) return;
    const all = this.#duplicates.get(id) ?? [];
    if (all.some((at) => at.file === record.file && at.line === record.line)) {
      compared.seen.add(`${record.file}:${record.line}`);
      compared.keys.add(sameEventKey(event));
    }
  }

  /** Whether every line of the repeated `id` holds the same event (apart from the time). */
  #sameEvent(id: string, lines: number): boolean {
    const compared = this.#compared.get(id);
    return compared !== undefined && compared.seen.size === lines && compared.keys.size === 1;
  }

  #noteRun(event: LedgerEvent, where: Where): void {
    let run = this.#runs.get(event.run_id);
    if (run === undefined) {
      run = {
        creations: 0,
        terminal: [],
        phasesStarted: new Set(),
        phasesCompleted: [],
      };
      this.#runs.set(event.run_id, run);
    }
    const type = event.event_type;
    const at = { type, timestampMs: event.timestamp_ms, where };
    if (type === "run.created") run.creations += 1;
    if (
      type === "run.started" &&
      (run.started === undefined || at.timestampMs < run.started.timestampMs)
    ) {
      run.started = { timestampMs: at.timestampMs, where };
    }
    if (type === "phase.started") run.phasesStarted.add(event.phase_name);
    if (type === "phase.completed") run.phasesCompleted.push({ name: event.phase_name, where });
    if (type === "run.completed" || type === "run.failed") run.terminal.push(at);
    else if (!ANNOTATION_TYPES.has(type)) {
      // Annotations (tag, note, archive, restore) are made after a run ends, and of legacy
      // runs the log never created: neither late nor orphaned.
      if (run.lastOther === undefined || at.timestampMs > run.lastOther.timestampMs) {
        run.lastOther = at;
      }
      if (run.firstOther === undefined || at.timestampMs < run.firstOther.timestampMs) {
        run.firstOther = at;
      }
    }
  }

  finish(root: string, strict: boolean, ignored: string[]): VerifyReport {
    // Each event id counts once (OPERATIONS, `verify --help`): a day's other lines of a
    // repeated id are its duplicateEvents, known only once every file was read.
    for (const day of this.#days) day.events -= day.duplicateEvents;
    const lifecycle = this.#lifecycle();
    const sum = (f: (d: DayReport) => number) => this.#days.reduce((n, d) => n + f(d), 0);
    const duplicates: DuplicateId[] = [...this.#duplicates].map(([eventId, all]) => {
      const counted = this.#counted.get(eventId)!;
      return {
        eventId,
        occurrences: all.map((at) => ({ file: at.file, line: at.line })),
        counted: { file: counted.file, line: counted.line },
        sameEvent: this.#sameEvent(eventId, all.length),
      };
    });
    const totals: VerifyTotals = {
      days: this.#days.length,
      files: sum((d) => d.files),
      bytes: sum((d) => d.bytes),
      lines: sum((d) => d.lines),
      events: sum((d) => d.events),
      runs: [...this.#runs.values()].filter(hasOwnLife).length,
      torn: sum((d) => d.tornCount),
      invalid: sum((d) => d.invalidCount),
      duplicateIds: duplicates.length,
      conflictingIds: duplicates.filter((d) => !d.sameEvent).length,
      lifecycle: lifecycle.length,
      nonFiniteEvents: this.#nonFinite.events,
      futureEvents: this.#future.events,
      misfiledEvents: this.#misfiled.events,
    };
    this.#valueWarnings();
    const problems = totals.invalid + totals.duplicateIds + totals.lifecycle +
      (strict ? totals.torn : 0);
    return {
      root,
      strict,
      sound: problems === 0,
      problems,
      totals,
      days: this.#days,
      duplicates: duplicates.slice(0, this.#listedMax),
      lifecycle: lifecycle.slice(0, this.#listedMax),
      warnings: capped(this.warnings, this.#listedMax),
      ignored: capped(ignored, this.#listedMax),
    };
  }
  #valueWarnings(): void {
    const nonFinite = this.#nonFinite;
    if (nonFinite.first !== undefined) {
      this.warnings.push(
        `${countOf(nonFinite.events, "event")} ${nonFinite.events === 1 ? "holds" : "hold"} ` +
          `NaN or Infinity values, read as null ` +
          `(first at ${nonFinite.first.file}:${nonFinite.first.line})`,
      );
    }
    const repeated = this.#repeatedKey;
    if (repeated.first !== undefined) {
      this.warnings.push(
        `${
          countOf(repeated.events, "event")
        } with a repeated top-level key: the first value counts, ` +
          `as in the index (first at ${repeated.first.file}:${repeated.first.line})`,
      );
    }
    const future = this.#future;
    if (future.first !== undefined) {
      const first = future.first;
      this.warnings.push(
        `${countOf(future.events, "event")} timestamped more than a day ahead of this ` +
          `machine's clock (first at ${first.file}:${first.line}: ` +
          `${new Date(first.timestampMs).toISOString()}); such a run shows as stale`,
      );
    }
    // As in the index, annotations alone make no run: say which ids they name (a mistyped one?).
    const bare = [...this.#runs].filter(([, run]) => !hasOwnLife(run)).map(([id]) => id);
    if (bare.length > 0) {
      const shown = bare.slice(0, BARE_RUNS_SHOWN_MAX).map((id) => JSON.stringify(id)).join(", ");
      const more = bare.length > BARE_RUNS_SHOWN_MAX
        ? ` and ${bare.length - BARE_RUNS_SHOWN_MAX} more`
        : "";
      this.warnings.push(
        `${countOf(bare.length, "run id")} with annotations (tag, note, archive, restore) but ` +
          "no event of the run's own life in the log: the index lists no run for it (a " +
          `mistyped id, or a run only in the legacy DuckDB?): ${shown}${more}`,
      );
    }
    const misfiled = this.#misfiled;
    if (misfiled.first !== undefined) {
      const first = misfiled.first;
      this.warnings.push(
        `${countOf(misfiled.events, "event")} in a day directory other than the UTC day of ` +
          `their timestamp_ms (first at ${first.file}:${first.line}: ` +
          `${new Date(first.timestampMs).toISOString()}); they are indexed, but ` +
          `rebuild-index --since-date and removing old days go by the directory`,
      );
    }
  }

  /** Impossible lifecycles (problems); late events and double endings go to warnings. */
  #lifecycle(): LifecycleFinding[] {
    const found: LifecycleFinding[] = [];
    for (const [runId, run] of this.#runs) {
      for (const end of run.terminal) {
        if (run.creations === 0) {
          found.push({ runId, ...end.where, reason: `${end.type} without run.created` });
        }
      }
      for (const phase of run.phasesCompleted) {
        if (!run.phasesStarted.has(phase.name)) {
          const reason = `phase.completed of phase ${JSON.stringify(phase.name)} ` +
            `without its phase.started`;
          found.push({ runId, ...phase.where, reason });
        }
      }
      this.#lifecycleWarnings(runId, run);
    }
    return found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  }

  #lifecycleWarnings(runId: string, run: RunState): void {
    if (run.creations === 0 && run.terminal.length === 0 && run.firstOther !== undefined) {
      const first = run.firstOther;
      this.warnings.push(
        `run ${runId} has ${first.type} at ${first.where.file}:${first.where.line} but no ` +
          `run.created (no run type or config; emit run.created for it)`,
      );
    }
    if (run.creations > 1) {
      this.warnings.push(
        `run ${runId} has ${run.creations} run.created events (the first by timestamp_ms, ` +
          `then event_id, gives its run type and config)`,
      );
    }
    if (run.terminal.length === 0) return;
    const types = new Set(run.terminal.map((t) => t.type));
    if (types.size > 1) {
      this.warnings.push(
        `run ${runId} is both completed and failed (the later ending counts; a tie counts as failed)`,
      );
    }
    const completions = run.terminal.filter((t) => t.type === "run.completed").length;
    if (completions > 1) {
      this.warnings.push(
        `run ${runId} has ${completions} run.completed events (the last by timestamp_ms, ` +
          `then event_id, gives the summary)`,
      );
    }
    const ended = endingThatCounts(run.terminal);
    if (run.started !== undefined && ended.timestampMs < run.started.timestampMs) {
      this.warnings.push(
        `run ${runId} ended (${ended.type} at ${ended.where.file}:${ended.where.line}) ` +
          `${run.started.timestampMs - ended.timestampMs} ms before it started (run.started at ` +
          `${run.started.where.file}:${run.started.where.line}): its duration shows negative ` +
          `(the writers' clocks disagree?)`,
      );
    }
    const firstEnd = run.terminal.reduce((a, b) => (b.timestampMs < a.timestampMs ? b : a));
    const late = run.lastOther;
    if (late !== undefined && late.timestampMs > firstEnd.timestampMs) {
      this.warnings.push(
        `run ${runId} has ${late.type} at ${late.where.file}:${late.where.line} ` +
          `after its ${firstEnd.type}`,
      );
    }
  }
}

/**
 * The ending a run's status and duration come from, as the index picks it:
 * the latest `run.completed` when it is later than every `run.failed`, else
 * the latest `run.failed` (a tie counts as failed).
 */
function endingThatCounts(terminal: RunState["terminal"]): RunState["terminal"][number] {
  assert(terminal.length > 0, "a run with an ending");
  const latest = (type: string) =>
    terminal.filter((t) => t.type === type)
      .reduce<RunState["terminal"][number] | undefined>(
        (a, b) => (a === undefined || b.timestampMs > a.timestampMs ? b : a),
        undefined,
      );
  const completed = latest("run.completed");
  const failed = latest("run.failed");
  if (completed === undefined) return failed!;
  return failed === undefined || completed.timestampMs > failed.timestampMs ? completed : failed;
}

/**
 * Whether `a` wins an event id over `b`: the smaller `(timestamp_ms, file,
 * line)`, the indexer's rule. Files compare as UTF-8 bytes, as DuckDB
 * compares text (JavaScript's `<` compares UTF-16 units, which differs past
 * U+FFFF).
 */
function precedes(a: Occurrence, b: Occurrence): boolean {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs < b.timestampMs;
  if (a.file !== b.file) return compareUtf8(a.file, b.file) < 0;
  return a.line < b.line;
}

const ENCODER = new TextEncoder();

function compareUtf8(a: string, b: string): number {
  const x = ENCODER.encode(a);
  const y = ENCODER.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * The event as text that two lines share when they hold the same event: its
 * fields as read (so `1.0` and `1`, or keys in another order, are the same)
 * with the keys sorted, without `timestamp_ms` (a retried emit stamps a new
 * time).
 */
