/**
 * `ledger emit`: append one event (type flags or `--event JSON`) or a JSONL
 * batch (`--stdin`) to the log. Everything is parsed and validated before the
 * writer is opened, so a failure writes nothing (not even a directory); a
 * success prints the event id(s), one per line. Exit codes: 0 ok, 1 invalid
 * event or I/O failure, 2 usage error.
 *
 * Imports only the ledger core (zod), never DuckDB: cold start matters for
 * shell scripts that emit one event per call.
 *
 * @module
 */
import type { LedgerEvent } from "../ledger/events.ts";
import { completeEventFast, encodeEventLine } from "../ledger/event_write.ts";
import { assert } from "../ledger/assert.ts";
import { ANNOTATION_EVENT_TYPES } from "../ledger/field_rules.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { type UnreachableDayError, ValidationError, WriteError } from "../ledger/errors.ts";
import { numbersAtTop, parseJsonText } from "../ledger/json_text.ts";
import { describeJsonError } from "../ledger/json_syntax.ts";
import { countOf } from "../ledger/count_text.ts";
import { isLostLine } from "./_command.ts";
import { openFile, syncDir } from "../ledger/durable_fs.ts";
import { dirname, join } from "../ledger/_path.ts";
import { eventsDir, partName, PYTHON_PART_PATTERN, SHARED_PART_PATTERN } from "../ledger/paths.ts";
import {
  appendShared,
  LOCK_WAIT_MS_MAX_DEFAULT,
  type SharedAppendOptions,
  sharedPartLockWaitMessage,
  tornTailMessage,
} from "../ledger/shared_part.ts";
import {
  findEventsById,
  findRunsCreated,
  runIdLockWaitMessage,
  sameEventKey,
  withRunIdLock,
} from "../ledger/run_lookup.ts";
import {
  decimalInteger,
  decimalNumber,
  type FlagSpec,
  parseFlags,
  replacementCharacterIn,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";

/** Most bytes read from standard input with `--stdin`. */
export const STDIN_BYTES_MAX = 64 * 1024 * 1024;

type FieldKind = "string" | "integer" | "json";

/**
 * The type flags (SPEC 8, plus envelope flags for backfills): each one's wire
 * field, how its value is read, and the event types that have the field
 * (none listed: every type, the envelope). The types agree with
 * `ledger/field_rules.ts` (tests/cli/emit_contract_test.ts checks it);
 * written out here so a cold `ledger emit` loads no more modules.
 */
const FIELD_FLAGS: Record<string, { field: string; kind: FieldKind; types?: readonly string[] }> = {
  "run-id": { field: "run_id", kind: "string" },
  "run-type": { field: "run_type", kind: "string", types: ["run.created"] },
  "config": { field: "config", kind: "json", types: ["run.created"] },
  "data-fingerprint": { field: "data_fingerprint", kind: "string", types: ["run.created"] },
  "phase-name": {
    field: "phase_name",
    kind: "string",
    types: ["phase.started", "phase.completed", "run.failed"],
  },
  "phase-order": { field: "phase_order", kind: "integer", types: ["phase.started"] },
  "duration-ms": { field: "duration_ms", kind: "integer", types: ["phase.completed"] },
  "output-summary": { field: "output_summary", kind: "json", types: ["phase.completed"] },
  "summary": { field: "summary", kind: "json", types: ["run.completed"] },
  "artifact-paths": { field: "artifact_paths", kind: "json", types: ["run.completed"] },
  "trial-id": { field: "trial_id", kind: "string", types: ["trial.recorded"] },
  "params": { field: "params", kind: "json", types: ["trial.recorded"] },
  "metrics": { field: "metrics", kind: "json", types: ["trial.recorded"] },
  "artifact-type": { field: "artifact_type", kind: "string", types: ["artifact.created"] },
  "artifact-path": {
    field: "artifact_path",
    kind: "string",
    types: ["artifact.created", "baseline.completed"],
  },
  "size-bytes": { field: "size_bytes", kind: "integer", types: ["artifact.created"] },
  "alerts-total": { field: "alerts_total", kind: "integer", types: ["baseline.completed"] },
  "alerts-ok": { field: "alerts_ok", kind: "integer", types: ["baseline.completed"] },
  "error": { field: "error", kind: "json", types: ["run.failed"] },
  "tags": { field: "tags", kind: "json", types: ["run.tagged"] },
  "note": { field: "note", kind: "string", types: ["run.noted"] },
  "reason": { field: "reason", kind: "string", types: ["run.archived"] },
  "host": { field: "host", kind: "string", types: ["run.started"] },
  "pid": { field: "pid", kind: "integer", types: ["run.started"] },
  "event-id": { field: "event_id", kind: "string" },
  "timestamp-ms": { field: "timestamp_ms", kind: "integer" },
};

/** Event types with no type flag of their own (only the envelope's). */
export const TYPES_WITHOUT_FLAGS: readonly string[] = ["run.restored"];

/**
 * The event types each type flag belongs to (none: every type), for the test
 * that holds them to `ledger/field_rules.ts`.
 */
export const TYPE_FLAG_TYPES: Readonly<Record<string, readonly string[] | undefined>> = Object
  .fromEntries(Object.entries(FIELD_FLAGS).map(([flag, f]) => [flag, f.types]));

export const FLAGS: FlagSpec = {
  "event-type": { type: "string" },
  "event": { type: "string" },
  "stdin": { type: "boolean" },
  "allow-existing": { type: "boolean" },
  ...Object.fromEntries(Object.keys(FIELD_FLAGS).map((name) => [name, { type: "string" }])),
};

const USAGE = `Usage: ledger emit --event-type TYPE --run-id RUN_ID [type flags]
                   [--root DIR]
       ledger emit --event JSON [--root DIR]
       ledger emit --stdin [--root DIR] < events.jsonl

Append one event, or a JSONL batch from standard input (all lines validated
first, all or nothing; at most 64 MiB: split a larger one), to the log under
--root (else $LEDGER_ROOT, else data/ledger). Prints the event id(s), one per
line.

Type flags (JSON flags take a JSON value; NaN and Infinity read as null; N is
an integer as in --event JSON: 1e12 and 1000000000000.0 are 1000000000000):
  --run-type S --config JSON --data-fingerprint S        run.created
  --host S --pid N                                       run.started (optional)
  --phase-name S --phase-order N                         phase.started
  --phase-name S --duration-ms N --output-summary JSON   phase.completed
  --trial-id S --params JSON --metrics JSON              trial.recorded
  --artifact-type S --artifact-path S --size-bytes N     artifact.created
  --alerts-total N --alerts-ok N --artifact-path S       baseline.completed
  --summary JSON --artifact-paths JSON                   run.completed
  --error JSON [--phase-name S]                          run.failed
  --tags JSON (string values; "" removes a key)          run.tagged
  --note TEXT                                            run.noted
  [--reason TEXT]                                        run.archived
A type flag of another type's field is refused (exit 2); --event and --stdin
keep unknown fields. Backfills: --event-id ID --timestamp-ms MS (kept as
given); an event id the log holds for another event is refused (exit 2), the
same event again (a retry) is not written again (its id is printed).
A run.created for a run id the log already has is refused (exit 2) unless it
is the same event (same event id) or --allow-existing is given.

Exit codes: 0 written (also when standard output could not take the ids:
one stderr line says so; a retry writes again the events whose ids the
writer made), 1 invalid event or write failure (nothing written), 2 usage
error.`;

/**
 * Run `ledger emit` with `args`; returns the exit code. Validation and write
 * failures are thrown (the dispatcher prints them and exits 1); usage
 * problems throw `UsageError` (exit 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./emit.ts";
 * // The command line is `await main(args)`, e.g. main(["--event-type", "run.started", "--run-id", "r1"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger emit --event-type TYPE --run-id RUN_ID [type flags]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(joinNegativeValues(args), FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = resolveRootFlag(values);
  const prepared = await eventsFromFlags(values);
  await refuseUnknownOlderRunIds(root, prepared, values.stdin === true);
  const events = prepared.map((p) => p.event);
  let retried = 0;
  const unsearched: string[] = []; // what a look-up could not check: said after the write
  const write = async (lockWaitedMs: number) => {
    if (values["allow-existing"] !== true) await refuseExistingRuns(root, prepared, unsearched);
    // A retry (an event the log holds already, by its given id) is not written again: written
    // twice, verify called the log NOT SOUND for good (an audit), though the index counts one.
    const held = await refuseTakenIds(root, prepared, unsearched);
    const fresh = prepared.filter((p) => !held.has(p));
    retried = prepared.length - fresh.length;
    if (fresh.length === 0) return;
    // Short-lived: append to the day's shared CLI part under its lock, not a
    // part file of its own (SPEC 3).
    // One bound for the locks this emit waits for: after a wait for the run-id lock, the part's
    // gets what is left (a review: an emit queued behind one waiting for a stopped holder's part
    // waited a minute for each, though each notice said a minute in all).
    const lockWaitMsMax = Math.max(1, LOCK_WAIT_MS_MAX_DEFAULT - lockWaitedMs);
    const lines = fresh.map((p) => p.line);
    const report = await appendShared(root, fresh.map((p) => p.event), lines, {
      ...SAY_SHARED,
      lockWaitMsMax,
    }); // durable when it resolves
    // Said as a torn tail's cut is (a probe: a killed 20,000-line batch's 8 MB went in silence).
    if (report.abandonedBytesRemoved > 0) {
      sayAfterWrite(
        `ledger emit: removed ${countOf(report.abandonedBytesRemoved, "byte")} of a batch ` +
          "whose writer died before acknowledging it (none of its events was written)",
      );
    }
  };
  // A new run's id is looked for and its run.created written as one step (another process
  // creating the same run waits), so two concurrent emits cannot both create it; so are given
  // event ids, so that a retry waits for the emit it repeats to be acknowledged or rolled back
  // (a review: a retry taken while the first was between its write and its fdatasync was
  // acknowledged, then the first failed and rolled back; two at once both wrote).
  const creates = values["allow-existing"] !== true &&
    events.some((e) => e.event_type === "run.created");
  if (creates || prepared.some((p) => p.idGiven)) {
    await withRunIdLock(root, write, { onWait: sayWaiting });
  } else await write(0);
  // Written, not console.log'd: console.log drops a broken pipe without a word, and the ids
  // of a closed pipe are said lost on stderr (a probe; runCommand says it).
  const ids = new TextEncoder().encode(events.map((event) => event.event_id).join("\n") + "\n");
  for (let at = 0; at < ids.length;) at += Deno.stdout.writeSync(ids.subarray(at));
  if (retried > 0) {
    sayAfterWrite(
      `ledger emit: ${countOf(retried, "event")} already in the log or earlier in this batch ` +
        "(the same event, by its event_id: a retry), not written again",
    );
  }
  let unknownRuns: string[];
  try {
    unknownRuns = await unknownRunWarnings(root, events);
  } catch (err) {
    // Written and acknowledged (the ids are out): a look-up that fails is a warning, never exit
    // 1, which a retry takes for nothing written (a probe: a part behind a linked day folder
    // Deno would not stat under `deno task emit`; each retry wrote the event again).
    const why = err instanceof Error ? err.message : String(err);
    unknownRuns = [`could not look for the runs' run.created in the log: ${why.split("\n")[0]}`];
  }
  for (const warning of [...runTypeWarnings(events), ...unsearched, ...unknownRuns]) {
    sayAfterWrite(`ledger emit: warning: ${warning}`);
  }
  return 0;
}

/**
 * The warnings for the day folders a look-up for `what` could not search
 * (links to no folder: a disk not mounted), one each.
 */
function notSearched(days: ReadonlyMap<string, UnreachableDayError>, what: string): string[] {
  return [...days.values()].map((err) => `could not look for ${what}: ${err.message}`);
}

/**
 * A line on stderr once the events are written and their ids printed. A
 * stderr that cannot take it (a full disk behind `2>`) loses the line, not
 * the exit code: exit 1 there made a retry write the events again (a
 * review). Any other error is thrown.
 */
function sayAfterWrite(line: string): void {
  try {
    console.error(line);
  } catch (err) {
    if (!isLostLine(err)) throw err;
  }
}

/** One line while `emit` of a `run.created` waits for the run-id lock (it keeps waiting). */
function sayWaiting(waitedMs: number): void {
  console.error(runIdLockWaitMessage("ledger emit", waitedMs));
}

/**
 * What the shared part's append tells stderr: a wait for a part's lock
 * (it keeps waiting), and a torn last line it cut off (an audit: a line
 * appended by hand without its newline vanished without a word).
 */
const SAY_SHARED: SharedAppendOptions = {
  onLockWait: (wait) => console.error(sharedPartLockWaitMessage("ledger emit", wait)),
  onTornTail: (repair) => console.error(tornTailMessage("ledger emit", repair)),
};

/**
 * The run types the backtests record, by another spelling a user may type
 * (issue 15.2: one spelling). The event is written as given; the warning
 * says which `--type` finds it.
 */
const RUN_TYPE_SPELLINGS: ReadonlyMap<string, string> = new Map([
  ["path-only", "path_only"],
  ["pathonly", "path_only"],
]);

function runTypeWarnings(events: readonly LedgerEvent[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    if (event.event_type !== "run.created") continue;
    const usual = RUN_TYPE_SPELLINGS.get(event.run_type.toLowerCase());
    if (usual === undefined || usual === event.run_type) continue;
    out.push(
      `run ${event.run_id} has run_type ${JSON.stringify(event.run_type)}; backtests record ` +
        `${JSON.stringify(usual)} (ledger runs --type ${event.run_type} finds only this spelling)`,
    );
  }
  return out;
}

/**
 * An annotation may name a run by an id no new run may have (`"py run 2"`,
 * an older writer's) only when the log holds that run's `run.created`: the
 * exception is for such runs, and an id of no run in the log is refused like
 * that of any new event (a probe: `run.noted` of `../../etc/passwd`, of a
 * blank or of a tab was written, with a warning). Throws the
 * {@linkcode ValidationError} of the first (exit 1); reads the log only when
 * such an id is given.
 */
async function refuseUnknownOlderRunIds(
  root: string,
  prepared: readonly Prepared[],
  fromStdin: boolean,
): Promise<void> {
  const older = prepared.filter((p) => !RUN_ID_PATTERN.test(p.event.run_id));
  if (older.length === 0) return;
  const inLog = await findRunsCreated(root, new Set(older.map((p) => p.event.run_id)), {
    oneEach: true,
  });
  const unknown = older.find((p) => !inLog.has(p.event.run_id));
  if (unknown === undefined) return;
  const { event_type: type, run_id: runId } = unknown.event;
  const where = fromStdin ? `line ${unknown.lineNumber}: ` : "";
  throw new ValidationError(
    "run_id",
    `a string matching ${RUN_ID_PATTERN.source}`,
    JSON.stringify(runId),
    {
      eventType: type,
      message: `${where}${type}: run_id must be a string matching ${RUN_ID_PATTERN.source}, ` +
        `got ${JSON.stringify(runId)} (an annotation may name another writer's run by such an ` +
        "id only when the log holds its run.created)",
    },
  );
}

/**
 * Runs the events speak of that have no `run.created` in the batch or the
 * log (QUICKSTART once emitted run.started and run.failed alone, and
 * `ledger verify` then reported a broken lifecycle forever). Written anyway
 * (the log takes events in any order: a backfill may add run.created
 * later), but said on stderr after the ids.
 */
async function unknownRunWarnings(root: string, events: readonly LedgerEvent[]): Promise<string[]> {
  const created = new Set(
    events.filter((e) => e.event_type === "run.created").map((e) => e.run_id),
  );
  const asked = new Set(events.map((e) => e.run_id).filter((id) => !created.has(id)));
  // One read of the log for all of them, newest first, stopped when each is found.
  const unreachable = new Map<string, UnreachableDayError>();
  const inLog = await findRunsCreated(root, asked, {
    oneEach: true,
    onUnreachableDay: (err) => unreachable.set(err.entry, err),
  });
  const warnings: string[] = [];
  const missing = [...asked].filter((id) => !inLog.has(id));
  if (missing.length > 0) {
    // Only when it mattered: a day on a disk not mounted is listed by every emit's look-up.
    const of = missing.length === 1 ? `run ${missing[0]}` : `${missing.length} runs`;
    warnings.push(...notSearched(unreachable, `the run.created of ${of}`));
  }
  // With a day unread, "no run.created" is not known, and "emit it first" would make a second
  // one (a review): the line above says what could not be looked at, and is all that is said.
  if (unreachable.size > 0) return warnings;
  for (const event of events) {
    if (!asked.has(event.run_id)) continue;
    asked.delete(event.run_id);
    if (!inLog.has(event.run_id)) {
      warnings.push(
        ANNOTATION_EVENT_TYPES.includes(event.event_type)
          ? `run ${event.run_id} has no run.created in the log (a mistyped run id?); an ` +
            "annotation alone makes no run: the index lists the run, with it, only once " +
            "some event of the run's own life is there"
          : `run ${event.run_id} has no run.created in the log; emit it first, or ` +
            "ledger verify will report the run (without a type or config)",
      );
    }
  }
  return warnings;
}

type Values = ReturnType<typeof parseFlags>["values"];

/**
 * A `run.created` for a run the log already has, or a second one for a run
 * in the same batch, would merge two runs in the index: refused unless the
 * log's `run.created` is this very event (a retry).
 */
async function refuseExistingRuns(
  root: string,
  prepared: readonly Prepared[],
  unsearched: string[],
): Promise<void> {
  const createdBy = new Map<string, Prepared>(); // run id -> its first run.created in the batch
  for (const p of prepared) {
    const event = p.event;
    if (event.event_type !== "run.created") continue;
    const first = createdBy.get(event.run_id);
    if (first !== undefined && first.event.event_id !== event.event_id) {
      throw new UsageError(
        `run ${event.run_id} has two run.created in this batch (lines ${first.lineNumber} and ` +
          `${p.lineNumber}); use another run id for the second, or --allow-existing`,
      );
    }
    createdBy.set(event.run_id, first ?? p);
  }
  // One read of the log for every run the batch creates; a day that cannot be read is said, not
  // refused: a cold disk not mounted would stop every new run.
  const unreachable = new Map<string, UnreachableDayError>();
  const inLog = await findRunsCreated(root, new Set(createdBy.keys()), {
    onUnreachableDay: (err) => unreachable.set(err.entry, err),
  });
  const runs = [...createdBy.keys()];
  const of = runs.length === 1 ? `run ${runs[0]}` : `the batch's ${runs.length} runs`;
  unsearched.push(...notSearched(unreachable, `an earlier run.created of ${of}`));
  for (const p of prepared) {
    const event = p.event;
    if (event.event_type !== "run.created") continue;
    const other = (inLog.get(event.run_id) ?? []).find((f) => f.eventId !== event.event_id);
    if (other !== undefined) {
      throw new UsageError(
        `run ${event.run_id} already exists (run.created ${other.eventId} in ${other.file}); ` +
          "use another --run-id, or --allow-existing to record a second run.created",
      );
    }
  }
}

/**
 * An `event_id` the caller gave that the log (or the batch) already holds for
 * another event: the index keeps one event per id (SPEC 7), so the other
 * would be acknowledged and never indexed (an audit: exit 0, and the run had
 * no events). The same event again (a retry: the same fields, and the same
 * time when the caller gave one) is accepted, and returned: those the log holds
 * (acknowledged lines only) and the batch's later copies are not written
 * again. Only given ids are looked up: one pass over the log, paid by
 * imports, not by ordinary emits.
 */
async function refuseTakenIds(
  root: string,
  prepared: readonly Prepared[],
  unsearched: string[],
): Promise<Set<Prepared>> {
  const held = new Set<Prepared>();
  const given = prepared.filter((p) => p.idGiven);
  if (given.length === 0) return held;
  const inBatch = new Map<string, Prepared>();
  for (const p of given) {
    const first = inBatch.get(p.event.event_id);
    if (first !== undefined && !sameEvent(first.event, p.event, first.timeGiven && p.timeGiven)) {
      // Line numbers, as every other batch error gives (an audit: with blank lines in the
      // input, "given events 1 and 2" were lines 2 and 4).
      throw new UsageError(
        `event_id ${JSON.stringify(p.event.event_id)} is given to two different events in ` +
          `this batch (lines ${first.lineNumber} and ${p.lineNumber})`,
      );
    }
    if (first !== undefined) held.add(p); // the batch's own repeat: its first copy is written
    inBatch.set(p.event.event_id, first ?? p);
  }
  const unreachable = new Map<string, UnreachableDayError>();
  const found = await findEventsById(root, new Set(inBatch.keys()), {
    onUnreachableDay: (err) => unreachable.set(err.entry, err),
  });
  if (found.size < inBatch.size) {
    unsearched.push(...notSearched(unreachable, "the given event ids"));
  }
  const holding = new Set<string>(); // the parts holding a retry's event
  for (const [id, lines] of found) {
    const [existing] = lines; // the first line decides: the same event, or another
    const retried = inBatch.get(id)!;
    if (sameEvent(existing.event, retried.event, retried.timeGiven)) {
      // An in-process writer's part (`ledger-*.jsonl`) may still roll its line back (a failed
      // write, a full disk: a review), and that writer takes no lock an emit could wait on: a
      // retry is answered from another line of the event (an earlier retry's, a review: each
      // retry wrote one more), else written again, a repeat verify names, never a loss.
      const settled = lines.find((l) =>
        isSettledPart(l.file) && sameEvent(l.event, existing.event)
      );
      if (settled === undefined) continue;
      held.add(retried); // a retry: its later copies in the batch are held already
      holding.add(settled.file);
      continue;
    }
    if (sameEvent(existing.event, retried.event)) {
      throw new UsageError(
        `event_id ${JSON.stringify(id)} is already in the log (${existing.file}) for another ` +
          `event: the same fields at timestamp_ms ${String(existing.event.timestamp_ms)}, not ` +
          `the ${retried.event.timestamp_ms} given; the index keeps one event per id: give ` +
          `this one another event_id (or that time, to retry it)`,
      );
    }
    throw new UsageError(
      `event_id ${JSON.stringify(id)} is already in the log (${existing.file}) for another ` +
        `event (${String(existing.event.event_type)} of run ${
          JSON.stringify(existing.event.run_id)
        }); the index keeps one event per id: give this one another event_id`,
    );
  }
  // Its id is printed as written: the line must be durable, whoever wrote it (the Python
  // tools, a writer killed before its fdatasync).
  for (const file of holding) await syncHolding(root, file);
  return held;
}

/**
 * Whether the part `file` (relative to the events directory) holds only lines
 * no writer takes back: a shared CLI part (`emit-*.jsonl`: appended under its
 * lock, a batch's lines acknowledged only once its record is gone, which
 * `findEventsById` reads) or a part of the Python tools (`part-*.jsonl`).
 */
function isSettledPart(file: string): boolean {
  const name = partName(file);
  return SHARED_PART_PATTERN.test(name) || PYTHON_PART_PATTERN.test(name);
}

/**
 * Make the part holding a retry's event durable, and its directory entry (a
 * part the Python tools created may never have been synced): opened
 * read-only, so a part the user may read but not write is synced too (a
 * review: exit 1, Permission denied).
 */
async function syncHolding(root: string, file: string): Promise<void> {
  const path = join(eventsDir(root), file);
  try {
    const part = await openFile(path, { read: true });
    try {
      await part.syncData(); // the retried event's line is durable from here
    } finally {
      part.close();
    }
    await syncDir(dirname(path)); // and the part's entry in its day directory
    await syncDir(eventsDir(root)); // and the day directory's (the Python tools may have made it)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new WriteError(path, `the event a retry repeats could not be made durable (${why})`, {
      cause: err,
    });
  }
}

/**
 * Whether `a` and `b` are one event written twice: equal
 * {@linkcode sameEventKey}s (`verify`'s rule), and their times too when the
 * caller gave them (`timeGiven`): a backfill of an id at another time is
 * another event (a probe: it was taken for a retry, exit 0, and never
 * written), a time a writer filled is set aside.
 */
function sameEvent(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  timeGiven = false,
): boolean {
  return sameEventKey(a) === sameEventKey(b) && (!timeGiven || a.timestamp_ms === b.timestamp_ms);
}

/**
 * `--size-bytes -5` would be read as a flag by `parseArgs` ("argument is
 * ambiguous"); join such numeric values (`--size-bytes=-5`) so the validator
 * can name the field and the negative value instead.
 */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    if (Object.hasOwn(FIELD_FLAGS, name) && /^-\d/.test(args[i + 1] ?? "")) {
      out.push(`${args[i]}=${args[i + 1]}`);
      i += 1;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

interface Prepared {
  event: LedgerEvent;
  line: Uint8Array;
  /** The line of standard input it was read from (`--stdin`); 1 for `--event` and type flags. */
  lineNumber: number;
  /** The caller gave the `event_id` (an import, a backfill): it may already be in the log. */
  idGiven: boolean;
  /** The caller gave the `timestamp_ms`: part of what makes the event the same as another. */
  timeGiven: boolean;
}

/**
 * Refuse a flag value holding U+FFFD ({@linkcode replacementCharacterIn}): an
 * argument that was not UTF-8 (a probe: `--run-type $'caf\xe9'` wrote
 * `caf\uFFFD`, exit 0, where `--stdin` refuses the same bytes).
 */
function refuseReplacementCharacters(values: Values): void {
  const found = replacementCharacterIn(values, []);
  if (found === undefined) return;
  throw new ValidationError(found.where, "UTF-8", JSON.stringify(found.value), {
    message: `${found.message} (a U+FFFD meant as such: \\ufffd in JSON)`,
  });
}

/** Build, validate and encode every event the command line asks for; writes nothing. */
async function eventsFromFlags(values: Values): Promise<Prepared[]> {
  refuseReplacementCharacters(values);
  const fieldFlags = Object.keys(FIELD_FLAGS).filter((name) => values[name] !== undefined);
  const eventJson = stringFlag(values, "event");
  const sources = [values.stdin === true, eventJson !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError("--event and --stdin cannot be combined");
  if (sources === 1) {
    const other = values["event-type"] !== undefined ? "event-type" : fieldFlags[0];
    if (other !== undefined) {
      const source = values.stdin === true ? "--stdin" : "--event";
      throw new UsageError(`${source} cannot be combined with --${other}`);
    }
  }
  if (values.stdin === true) return await eventsFromStdin();
  if (eventJson !== undefined) return [await prepare(parseJson(eventJson, "--event"), 1)];
  const type = stringFlag(values, "event-type");
  if (type === undefined) {
    throw new UsageError("missing --event-type (or give --event JSON or --stdin)");
  }
  // Both are required flags (SPEC 8): a missing one is a usage error, as --event-type is.
  if (values["run-id"] === undefined) throw new UsageError("missing --run-id");
  const known = Object.values(FIELD_FLAGS).some((f) => f.types?.includes(type)) ||
    TYPES_WITHOUT_FLAGS.includes(type);
  if (known) {
    // A flag of another type's field was written unchecked as an extra field and ignored (an
    // audit: run.completed with --phase-order abc --size-bytes -5, exit 0). Unknown fields
    // stay welcome in --event and --stdin (SPEC 4); a type flag belongs to its type. (An
    // unknown type is left to the validator, which names it.)
    for (const name of fieldFlags) {
      const types = FIELD_FLAGS[name].types;
      if (types === undefined || types.includes(type)) continue;
      const flags = Object.entries(FIELD_FLAGS).filter(([, f]) => f.types?.includes(type))
        .map(([flag]) => `--${flag}`);
      throw new UsageError(
        `--${name} is not a field of ${type} (its type flags: ${
          flags.length === 0 ? "none" : flags.join(", ")
        })`,
      );
    }
  }
  const input: Record<string, unknown> = { event_type: type };
  for (const name of fieldFlags) {
    const { field, kind } = FIELD_FLAGS[name];
    input[field] = flagValue(stringFlag(values, name)!, kind, type, { field, flag: `--${name}` });
  }
  return [await prepare(input, 1)];
}

/**
 * Fill, validate and encode one event (throws ValidationError or
 * EventTooLargeError). A valid event never loads zod (the cold start); the
 * registry is imported only to decide and word what the fast path does not accept.
 */
async function prepare(input: unknown, lineNumber: number): Promise<Prepared> {
  const event = completeEventFast(input) ??
    (await import("../ledger/events.ts")).completeEvent(input);
  const given = (field: string) =>
    typeof input === "object" && input !== null &&
    (input as Record<string, unknown>)[field] !== undefined;
  // encodeEventLine refuses an oversize event before anything is written.
  return {
    event,
    line: encodeEventLine(event),
    lineNumber,
    idGiven: given("event_id"),
    timeGiven: given("timestamp_ms"),
  };
}

function flagValue(
  raw: string,
  kind: FieldKind,
  type: string,
  { field, flag }: { field: string; flag: string },
): unknown {
  if (kind === "string") return raw;
  if (kind === "integer") {
    // What the same number in --event JSON gives (`1e12`, `1.0`), when it is a whole number a
    // double holds exactly (an audit: `--timestamp-ms 1e12` was refused as not an integer). A
    // fraction is passed on as the number (`got 1.5`); anything else is kept as the string so
    // the validator names it as typed (`got "abc"`, `got "99999999999999999999"`, not the
    // rounded 100000000000000000000; `got "1e-400"`, not 0).
    const n = decimalNumber(raw);
    return decimalInteger(raw) ?? (n === undefined || Number.isInteger(n) ? raw : n);
  }
  try {
    return parseInputJson(raw);
  } catch (err) {
    // One line: the flag, the value as given (escaped) and where the JSON breaks.
    throw new ValidationError(field, "valid JSON", JSON.stringify(raw), {
      eventType: type,
      message: `${type}: ${flag} must be valid JSON, got ${shownJson(raw)} (${
        describeInputJsonError(raw, err)
      })`,
    });
  }
}

/** Characters of a bad JSON value a message shows, at most; where it breaks is said apart. */
const SHOWN_JSON_CHARS_MAX = 120;

/**
 * `raw` quoted for a message, cut after {@linkcode SHOWN_JSON_CHARS_MAX}
 * characters with how long it was (a probe: a bad `--config` of 100 KB was
 * echoed whole, one line of 100,119 bytes).
 */
function shownJson(raw: string): string {
  const chars = Array.from(raw); // by code point: a cut never splits an emoji's surrogate pair
  if (chars.length <= SHOWN_JSON_CHARS_MAX) return JSON.stringify(raw);
  const head = JSON.stringify(chars.slice(0, SHOWN_JSON_CHARS_MAX).join("")).slice(0, -1);
  return `${head}..." (${chars.length} characters)`;
}

/**
 * JSON the way the log reads it (SPEC 3, `ledger/json_text.ts`): Python's
 * `json.dumps` writes `NaN`, `Infinity` and `-Infinity`, and quantBot pipes
 * its output into `ledger emit --stdin`, so those read as `null` here too and
 * are then validated like any `null` (refused in a required field, absent in
 * an optional one); the line written is strict JSON. Integers past 2^53 (a
 * 64-bit seed) keep their digits: `JSON.parse` would round them, and the log
 * is immutable. Inside an event's objects a number keeps its text where
 * `JSON.stringify` would change it (Python's `1.0` stays a float to the
 * readers, `1.2345678901234567e+19` the same double; a probe saw them
 * written as `1` and `12345678901234567000`). No depth cut: the validator
 * refuses a value nested too deep and names its field.
 */
function parseInputJson(text: string): unknown {
  return parseJsonText(text, {
    depthMax: Number.POSITIVE_INFINITY,
    exactNumbers: true,
    firstKeys: true,
  });
}

/**
 * One line saying where `text` stops being JSON as {@linkcode parseInputJson}
 * reads it (V8's message quotes the text with its newlines).
 */
function describeInputJsonError(text: string, err: unknown): string {
  return describeJsonError(text, err, { extended: true });
}

/**
 * An event given as JSON text (`--event`, a line of `--stdin`): a repeated
 * key keeps its FIRST value, at the top level as every reader of the log
 * reads the line (docs/EVENTS.md, rule 6), inside objects as the index
 * reads them; `JSON.parse` keeps the last, so the event written would
 * otherwise differ from the event the same line is read as.
 */
function parseJson(text: string, what: string): unknown {
  try {
    return numbersAtTop(parseInputJson(text));
  } catch (err) {
    throw new ValidationError("event", "valid JSON", JSON.stringify(text), {
      message: `${what} is not valid JSON: ${describeInputJsonError(text, err)}`,
    });
  }
}

/** Most numbers of further bad lines a refused `--stdin` batch names after its first. */
const BAD_LINES_NAMED_MAX = 5;

/**
 * The events of standard input, one per non-blank line, all checked before
 * any is written. A batch with bad lines is refused with the first one's
 * error, which also counts the others and names the first few of them (a
 * probe: only the first was named, so a batch with ten bad lines took ten
 * runs to mend).
 */
async function eventsFromStdin(): Promise<Prepared[]> {
  const text = await readStdin();
  const events: Prepared[] = [];
  const lines = text.split("\n");
  let refused: Error | undefined;
  const otherBadLines: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    try {
      events.push(await prepare(parseJson(line, "the line"), i + 1));
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      if (refused === undefined) {
        err.message = `line ${i + 1}: ${err.message}`;
        refused = err;
      } else {
        otherBadLines.push(i + 1);
      }
    }
  }
  if (refused !== undefined) {
    const n = otherBadLines.length;
    if (n > 0) {
      const named = otherBadLines.slice(0, BAD_LINES_NAMED_MAX).join(", ");
      refused.message += ` (${n} more bad ${n === 1 ? "line" : "lines"}: ${named}` +
        `${n > BAD_LINES_NAMED_MAX ? ", ..." : ""})`;
    }
    throw refused;
  }
  if (events.length === 0) {
    throw new ValidationError("stdin", "JSONL events", '""', {
      message: "no events on standard input",
    });
  }
  return events;
}

/**
 * Standard input could not be read (`emit --stdin < /tmp`, a directory):
 * the message names it, where the system's words alone ("Is a directory
 * (os error 21)", an audit) did not say which input.
 */
class StdinReadError extends Error {
  constructor(options: ErrorOptions) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`standard input could not be read: ${cause.split("\n")[0]}`, options);
    this.name = "StdinReadError";
  }
}

/** The chunks of standard input; a failed read is a {@linkcode StdinReadError}. */
async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  const reader = Deno.stdin.readable.getReader();
  try {
    while (true) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (err) {
        throw new StdinReadError({ cause: err });
      }
      if (read.done) return;
      yield read.value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stdinChunks()) {
    size += chunk.length;
    if (size > STDIN_BYTES_MAX) {
      throw new ValidationError("stdin", `at most ${STDIN_BYTES_MAX} bytes`, String(size), {
        message: `standard input is larger than ${STDIN_BYTES_MAX} bytes (64 MiB), the most ` +
          "one batch takes: split it into several emit --stdin (each is all or nothing)",
      });
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    // Named by its line, as every other batch error is (an audit: no line was named).
    const line = firstLineNotUtf8(all);
    throw new ValidationError("stdin", "UTF-8", "bytes", {
      message: `line ${line}: the line is not UTF-8 (standard input must be UTF-8 JSONL)`,
    });
  }
}

/**
 * The number (from 1) of the first `\n`-separated line of `bytes` that is
 * not well-formed UTF-8, counted as {@linkcode eventsFromStdin} counts
 * lines (a `\n` byte is never inside a UTF-8 sequence). Only called once
 * the whole input failed to decode.
 */
function firstLineNotUtf8(bytes: Uint8Array): number {
  const strict = new TextDecoder("utf-8", { fatal: true });
  let start = 0;
  for (let line = 1;; line++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    try {
      strict.decode(bytes.subarray(start, end));
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      return line;
    }
    assert(newline !== -1, "a line of the input fails to decode");
    start = newline + 1;
  }
}
