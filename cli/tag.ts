/**
 * Annotations (SPEC 11): `ledger tag RUN key=value...`, `ledger note RUN
 * TEXT`, `ledger archive RUN [--reason TEXT]`, `ledger restore RUN`. Each
 * appends one event to the log (which stays append-only), for a run the
 * index knows (a unique id prefix is enough), then refreshes the index so
 * the next `ledger runs` shows it (`--no-index` skips that). Archive and
 * restore write nothing when the run is already in the state asked for
 * (archived with that reason, or not archived). Like `ledger
 * emit`, a short-lived process: it appends to the day's shared CLI part
 * (`ledger/shared_part.ts`), so a shell loop of tags leaves no file per
 * call (SPEC 3).
 *
 * @module
 */
import { messageValue } from "../ledger/control_text.ts";
import { isJsonObject } from "../ledger/json_text.ts";
import {
  indexRoot,
  indexSource,
  isAnotherRootsIndex,
  LOCAL_SOURCE,
  RebuildError,
  rebuildIndex,
} from "../indexer/rebuild.ts";
import {
  type ArchiveState,
  archiveState,
  latestEventMs,
  resolveRunIds,
  UnknownRunError,
  withReader,
} from "../indexer/query/mod.ts";
import { IndexNotFoundError } from "../indexer/queries.ts";
import { completeEvent, encodeEventLine } from "../ledger/events.ts";
import { EventTooLargeError, UnreachableDayError } from "../ledger/errors.ts";
import { TIMESTAMP_MS_MAX } from "../ledger/limits.ts";
import {
  appendShared,
  type SharedAppendOptions,
  sharedPartLockWaitMessage,
  tornTailMessage,
} from "../ledger/shared_part.ts";
import {
  EXIT_OK,
  type FlagSpec,
  type ParsedFlags,
  parseFlags,
  replacementCharacterIn,
  requireExistingRoot,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import { DEFAULT_LEGACY_DB_PATH } from "../legacy/read.ts";
import { asUsage, indexDbPath, legacyDbFlagPath, resolveBesideLegacy } from "./_query.ts";
import { escapeControl } from "./_table.ts";

/**
 * A tag key: 1 to 64 of the characters `tags.<key>` names as they are in a
 * filter (`PATH_KEY_CHAR` of `indexer/query/fields.ts`: a letter, mark or
 * digit of any script, `_` or `-`). A probe: ASCII letters only refused
 * `größe=1`, so a tag that `emit` and a Python writer had set could not be
 * changed or removed with `ledger tag`.
 */
export const TAG_KEY_PATTERN: RegExp = /^[\p{L}\p{M}\p{N}_-]{1,64}$/u;
/**
 * The run has a competing annotation dated at the latest time an event may
 * have ({@linkcode TIMESTAMP_MS_MAX}): no event can be dated after it, so no
 * new one would take effect. Nothing is written (exit 1).
 */
class AnnotationTooLateError extends Error {
  override name = "AnnotationTooLateError";
}

/**
 * The run is not in the index, or there is none, and the refresh that would
 * add it is refused (a day of the log on a disk not mounted). Nothing is
 * written (exit 1).
 */
class IndexNotRefreshedError extends Error {
  override name = "IndexNotRefreshedError";
}

/** Longest tag value or note, in characters. */
export const ANNOTATION_CHARS_MAX = 10_000;

export const FLAGS: FlagSpec = {
  "db": { type: "string" },
  "legacy-db": { type: "string" },
  "no-index": { type: "boolean" },
};

const TRAILER = `RUN is a run id or a unique prefix of one; the run must be in the index.
In dual mode a prefix must also be unique among the legacy DuckDB's runs
(--legacy-db PATH, else ${DEFAULT_LEGACY_DB_PATH} when there).
The index is refreshed, the event appended to the log, and the index refreshed
again (--no-index: not refreshed; run ledger rebuild-index or the daemon); a
failure of that last refresh is a warning (exit 0: the event is written), and
so is a day of the log that cannot be read (a disk not mounted), which skips
both refreshes: the event of a run the index has is written against the
index as it is (one it has not is refused). An
event dated ahead of this machine's clock that it would follow is followed:
this one is dated just after it, so that it takes effect.

Exit codes: 0 ok, 1 unknown run or failure, 2 usage error (ambiguous prefix).`;

const ARCHIVE_STATE = `Whether the run is archived is read from the index, refreshed first; with
--no-index, or an index built from a bucket, the event is written anyway.`;

const USAGES: Record<Kind, string> = {
  tag: `Usage: ledger tag RUN key=value... [--no-index] [--db PATH]
                  [--legacy-db PATH] [--root DIR]

Set tags on a run (run.tagged). A later value of a key wins; key= (empty)
removes it. The tag "label" is shown as the run's label. Keys: letters
and digits of any script, _ and -; filter with
ledger runs --where "tags.KEY = 'value'".

${TRAILER}`,
  note: `Usage: ledger note RUN TEXT [--no-index] [--db PATH]
                   [--legacy-db PATH] [--root DIR]

Add a note to a run (run.noted); ledger show lists its notes.

${TRAILER}`,
  archive: `Usage: ledger archive RUN [--reason TEXT] [--no-index] [--db PATH]
                      [--legacy-db PATH] [--root DIR]

Archive a run (run.archived): ledger runs hides it unless --all. An empty
or blank --reason is no reason. A run already archived is left as it is
("already archived; nothing written", exit 0) unless --reason gives a new
reason, which is recorded.

${ARCHIVE_STATE}

${TRAILER}`,
  restore: `Usage: ledger restore RUN [--no-index] [--db PATH]
                      [--legacy-db PATH] [--root DIR]

Restore an archived run (run.restored). A run that is not archived is left
as it is ("not archived; nothing written", exit 0).

${ARCHIVE_STATE}

${TRAILER}`,
};

type Kind = "tag" | "note" | "archive" | "restore";

/**
 * Run `ledger tag` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { tagMain } from "./tag.ts";
 * // The command line is `await tagMain(args)`, e.g. tagMain(["run-1", "label=baseline"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await tagMain(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger tag RUN key=value... [--no-index] [--db PATH]",
 * );
 * ```
 */
export function tagMain(args: string[]): Promise<number> {
  return annotate("tag", args);
}

/**
 * Run `ledger note` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { noteMain } from "./tag.ts";
 * // The command line is `await noteMain(args)`, e.g. noteMain(["run-1", "fees were wrong"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await noteMain(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger note RUN TEXT [--no-index] [--db PATH]",
 * );
 * ```
 */
export function noteMain(args: string[]): Promise<number> {
  return annotate("note", args);
}

/**
 * Run `ledger archive` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { archiveMain } from "./tag.ts";
 * // The command line is `await archiveMain(args)`, e.g. archiveMain(["run-1", "--reason", "superseded"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await archiveMain(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger archive RUN [--reason TEXT] [--no-index] [--db PATH]",
 * );
 * ```
 */
export function archiveMain(args: string[]): Promise<number> {
  return annotate("archive", args);
}

/**
 * Run `ledger restore` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { restoreMain } from "./tag.ts";
 * // The command line is `await restoreMain(args)`, e.g. restoreMain(["run-1"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await restoreMain(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger restore RUN [--no-index] [--db PATH]",
 * );
 * ```
 */
export function restoreMain(args: string[]): Promise<number> {
  return annotate("restore", args);
}

async function annotate(kind: Kind, args: string[]): Promise<number> {
  const spec: FlagSpec = kind === "archive" ? { ...FLAGS, "reason": { type: "string" } } : FLAGS;
  const { values, positionals } = parseFlags(args, spec, { allowPositionals: true });
  if (values.help) {
    console.log(USAGES[kind]);
    return EXIT_OK;
  }
  // A value written into the log as given, or not at all (bytes that are not UTF-8).
  const notUtf8 = replacementCharacterIn(values, positionals);
  if (notUtf8 !== undefined) throw new UsageError(notUtf8.message);
  const [prefix, ...rest] = positionals;
  if (prefix === undefined || prefix === "") throw new UsageError("RUN is required");
  const fields = annotationFields(kind, rest, values);
  const root = resolveRootFlag(values);
  await requireExistingRoot(root);
  const dbPath = indexDbPath(values);
  const legacyDbPath = await legacyDbFlagPath(values);
  const refreshable = values["no-index"] !== true;
  const dbGiven = typeof values.db === "string";
  let state: IndexState;
  try {
    state = await readState(dbPath, prefix, kind, legacyDbPath, fields);
  } catch (err) {
    // A run the log has and the index not yet (created since the last rebuild), or no index
    // yet: the refresh this command makes anyway comes first, then the run is looked up again
    // (a probe: a run emitted a moment before was "not in the index", though --help says the
    // index is refreshed first). The root's own index only: a --db may be another root's.
    if (
      !refreshable || dbGiven ||
      !(err instanceof UnknownRunError || err instanceof IndexNotFoundError)
    ) throw err;
    try {
      await rebuildIndex(root, { dbPath, onWait: refreshWait(kind) });
    } catch (refreshErr) {
      if (!(refreshErr instanceof RebuildError)) throw refreshErr;
      // A day that cannot be read stops the refresh: said, or "rebuild it" sends the user to a
      // rebuild refused for the same day (a review). Else what was asked is said.
      if (!(refreshErr.cause instanceof UnreachableDayError)) throw err;
      const missing = err instanceof UnknownRunError
        ? `Run ${JSON.stringify(prefix)} is not in the index`
        : `No index at ${messageValue(dbPath)}`;
      throw new IndexNotRefreshedError(
        `${missing}, and it cannot be refreshed: ${refreshErr.cause.message}; nothing was written`,
      );
    }
    state = await readState(dbPath, prefix, kind, legacyDbPath, fields);
  }
  // A --db that is the index of another root: its run is not this root's, and its refresh
  // would rebuild it from this root's log (a probe: tag --root A --db B's index wrote a tag of
  // B's run into A's log and turned B's index into A's). Only a --db given, and built from a
  // local log: a root's own index after the root was copied or moved records the old path (a
  // review: refused), and a bucket's index records its mirror. The rule is rebuild-index's
  // (isAnotherRootsIndex): an index inside this root, or one whose root's log is gone, is taken.
  const rootPath = await Deno.realPath(root);
  if (
    dbGiven && isLocal(state.source) && state.root !== undefined &&
    await isAnotherRootsIndex(dbPath, state.root, root)
  ) {
    throw new UsageError(
      `--db ${messageValue(dbPath)} is the index of the root ${messageValue(state.root)}, not of ` +
        `${messageValue(rootPath)}: give that --root, or this root's own index (no --db); ` +
        "nothing was written",
    );
  }
  // A day of the log on a disk not mounted: the index cannot be refreshed, and the event is
  // written against it as it is, as with --no-index (a review: every annotation was refused
  // while a cold disk was offline).
  let offline: string | undefined;
  if (refreshable && isLocal(state.source)) {
    // The state is read from an index caught up with this root's log: one not refreshed may
    // miss a restore written with --no-index (a second event is harmless where a skipped one
    // is not), or a competing event dated ahead of this clock, after which this one would
    // change nothing (a probe: `tag` said "tagged" and `show` kept the other machine's value).
    let refreshed: { unchanged?: boolean } = { unchanged: true };
    try {
      refreshed = await rebuildIndex(root, { dbPath, onWait: refreshWait(kind) });
    } catch (err) {
      if (!(err instanceof RebuildError) || !(err.cause instanceof UnreachableDayError)) throw err;
      offline = err.cause.message;
      console.error(
        `ledger ${kind}: warning: index not refreshed (${offline}); the ${EVENT_TYPE[kind]} is ` +
          "written against the index as it is",
      );
    }
    // An index left as it was (nothing new in the log) holds the state read above.
    if (refreshed.unchanged !== true) {
      state = await readState(dbPath, prefix, kind, legacyDbPath, fields);
    }
    if (holdsAlready(kind, fields, state.archive)) {
      // Run twice, a script gets the state it asked for; a second event would only repeat
      // it (an audit: restore of a run never archived appended a run.restored).
      const already = kind === "archive" ? "already archived" : "not archived";
      console.log(`${escapeControl(state.runId)} is ${already}; nothing written`);
      return EXIT_OK;
    }
  }
  const { runId, latestMs, source } = state;
  // The later event wins by time: after one dated ahead of this clock (another machine's),
  // this one is dated just after it, or the command would change nothing.
  const ahead = latestMs !== null && latestMs >= Date.now() ? latestMs : undefined;
  if (ahead !== undefined && ahead >= TIMESTAMP_MS_MAX) {
    // No event can be dated after it (a probe: the note below, then a refusal of a time the
    // user never gave).
    throw new AnnotationTooLateError(
      `${escapeControl(runId)} has a ${COMPETING[kind].join(" or ")} dated ` +
        `${new Date(ahead).toISOString()}, the latest time an event may have: no later one can ` +
        "take effect; nothing was written",
    );
  }
  const dated = ahead === undefined ? {} : { timestamp_ms: ahead + 1 };
  if (ahead !== undefined) {
    console.error(
      `note: ${escapeControl(runId)} has a ${COMPETING[kind].join(" or ")} dated ` +
        `${new Date(ahead).toISOString()}, after this machine's clock; this one is dated ` +
        `just after it so that it takes effect`,
    );
  }
  // Validated and encoded before anything is written; then appended to the
  // day's shared CLI part under its lock, as `ledger emit` does (SPEC 3).
  const event = completeEvent({
    event_type: EVENT_TYPE[kind],
    run_id: runId,
    ...fields,
    ...dated,
  });
  const said = sayShared(`ledger ${kind}`);
  await appendShared(root, [event], [encodeAnnotation(kind, event)], said); // durable when it resolves
  console.log(`${PAST[kind]} ${escapeControl(runId)}${describe(kind, fields)}`);
  if (source !== undefined && source !== LOCAL_SOURCE) {
    // An index built from a bucket holds every machine's runs: refreshing it from this
    // root's log would replace them all (a storage audit). The event reaches it by the bucket.
    console.error(
      `note: ${dbPath} is built from ${source}: this ${EVENT_TYPE[kind]} is in this root's ` +
        `log and shows there once shipped (ledger ship --to ${source}) and indexed ` +
        `(ledger rebuild-index --from ${source}, or the daemon)`,
    );
  } else if (refreshable && offline === undefined) {
    try {
      await rebuildIndex(root, { dbPath, onWait: refreshWait(kind, EVENT_TYPE[kind]) });
    } catch (err) {
      // The event is written and durable: a failure here is not the command's (a review: exit 1
      // after "noted", and a script that retried wrote the note twice). Said, as a backtest's
      // refresh that fails is; the daemon or the next rebuild catches up.
      if (!(err instanceof RebuildError)) throw err;
      console.error(
        `ledger ${kind}: warning: index not refreshed (${err.message.split("\n")[0]}); the ` +
          `${EVENT_TYPE[kind]} is in the log: run ledger rebuild-index or the daemon`,
      );
    }
  }
  return EXIT_OK;
}

/** What an annotation reads from the index before it writes. */
interface IndexState {
  /** The run `RUN` names. */
  runId: string;
  /** The latest event's time among those this kind replaces, or null. */
  latestMs: number | null;
  /** Where the index was built from (undefined: an older index, built locally). */
  source: string | undefined;
  /** The root whose log it was built from (undefined: an older index). */
  root: string | undefined;
  /** The run's archive state (archive and restore only). */
  archive: ArchiveState | undefined;
}

async function readState(
  dbPath: string,
  prefix: string,
  kind: Kind,
  legacyDbPath: string | undefined,
  fields: Record<string, unknown>,
): Promise<IndexState> {
  // A tag competes with the tags of its own keys only (a tag wins per key).
  const tagKeys = kind === "tag" && isJsonObject(fields.tags)
    ? Object.keys(fields.tags)
    : undefined;
  return await asUsage(() =>
    withReader(dbPath, async (conn) => {
      const resolve = (given: readonly string[]) => resolveRunIds(conn, given);
      const [runId] = await resolveBesideLegacy([prefix], resolve, kind, legacyDbPath);
      return {
        runId,
        latestMs: await latestEventMs(conn, runId, COMPETING[kind], tagKeys),
        source: await indexSource(conn),
        root: await indexRoot(conn),
        archive: kind === "archive" || kind === "restore"
          ? await archiveState(conn, runId)
          : undefined,
      };
    })
  );
}

/** An index built from this root's log, which the command may refresh. */
function isLocal(source: string | undefined): boolean {
  return source === undefined || source === LOCAL_SOURCE;
}

/**
 * Whether the run is already as `ledger archive` or `ledger restore` would
 * leave it: archived (with the same reason, or none given), or not archived.
 */
function holdsAlready(
  kind: Kind,
  fields: Record<string, unknown>,
  archive: ArchiveState | undefined,
): boolean {
  if (archive === undefined) return false;
  if (kind === "restore") return !archive.archived;
  return archive.archived && (fields.reason === undefined || fields.reason === archive.reason);
}

/**
 * The notice of a wait for the index's lock while refreshing it (a soak
 * audit: behind the daemon's rebuild this waited up to 54 s without a
 * word); `written` names the event already in the log, if any.
 */
function refreshWait(kind: Kind, written?: string): (message: string) => void {
  const after = written === undefined
    ? "nothing is written yet"
    : `the ${written} is in the log already`;
  return (m) => console.error(`ledger ${kind}: ${m}; ${after} (--no-index skips this refresh)`);
}

/**
 * What the shared part's append tells stderr, as `ledger emit` does: a wait
 * for a part's lock (it keeps waiting), and a torn last line it cut off.
 */
function sayShared(command: string): SharedAppendOptions {
  return {
    onLockWait: (wait) => console.error(sharedPartLockWaitMessage(command, wait)),
    onTornTail: (repair) => console.error(tornTailMessage(command, repair)),
  };
}

const EVENT_TYPE = {
  tag: "run.tagged",
  note: "run.noted",
  archive: "run.archived",
  restore: "run.restored",
} as const;

/** The events whose latest value an annotation of each kind replaces (notes all stay). */
const COMPETING: Record<Kind, readonly string[]> = {
  tag: ["run.tagged"],
  note: [],
  archive: ["run.archived", "run.restored"],
  restore: ["run.archived", "run.restored"],
};

const PAST: Record<Kind, string> = {
  tag: "tagged",
  note: "noted",
  archive: "archived",
  restore: "restored",
};

/**
 * What the confirmation line adds after the run id: the tags set or removed,
 * the archive reason. Control characters are escaped: the values come from
 * the command line and must not reach the terminal as escape sequences.
 */
function describe(kind: Kind, fields: Record<string, unknown>): string {
  if (kind === "tag") {
    return ": " + Object.entries(fields.tags as Record<string, string>)
      .map(([k, v]) => (v === "" ? `${k} removed` : `${k}=${escapeControl(v)}`)).join(", ");
  }
  if (kind === "archive" && fields.reason !== undefined) {
    return ` (${escapeControl(String(fields.reason))})`;
  }
  return "";
}

/** The event's type fields from the positional arguments and flags. */
function annotationFields(
  kind: Kind,
  rest: string[],
  values: ParsedFlags["values"],
): Record<string, unknown> {
  if (kind === "tag") {
    if (rest.length === 0) throw new UsageError("expected at least one key=value after RUN");
    const tags: Record<string, string> = {};
    for (const pair of rest) {
      const eq = pair.indexOf("=");
      const key = eq < 0 ? pair : pair.slice(0, eq);
      if (eq < 0 || !TAG_KEY_PATTERN.test(key)) {
        const rule = "key=value with a key of letters, digits, _ or - (at most 64)";
        throw new UsageError(`tag ${JSON.stringify(pair)} must be ${rule}`);
      }
      if (Object.hasOwn(tags, key)) {
        // Which one was meant? The last silently won (a bad-input probe).
        throw new UsageError(`tag ${JSON.stringify(key)} is given twice; give each key once`);
      }
      tags[key] = checkLength(pair.slice(eq + 1), `tag ${key}`);
    }
    return { tags };
  }
  if (kind === "note") {
    if (rest.length === 0) throw new UsageError("TEXT is required");
    if (rest.length > 1) throw new UsageError("expected one TEXT (quote it)");
    if (rest[0].trim() === "") throw new UsageError("TEXT is empty");
    return { note: checkLength(rest[0], "the note") };
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (kind === "archive") {
    // An empty reason (`--reason="$WHY"` with WHY unset) is no reason: it printed "archived
    // RUN ()" and recorded "" (an audit).
    const reason = stringFlag(values, "reason");
    return reason === undefined || reason.trim() === ""
      ? {}
      : { reason: checkLength(reason, "--reason") };
  }
  return {};
}

/**
 * The event's line. Too large for a line is bad input, as a value past
 * {@linkcode ANNOTATION_CHARS_MAX} is: many long tags in one command.
 */
function encodeAnnotation(kind: Kind, event: ReturnType<typeof completeEvent>): Uint8Array {
  try {
    return encodeEventLine(event);
  } catch (err) {
    if (!(err instanceof EventTooLargeError)) throw err;
    throw new UsageError(
      `the ${EVENT_TYPE[kind]} event would be ${err.lineBytes} bytes; at most ` +
        `${err.lineBytesMax}${kind === "tag" ? " (set fewer tags at a time)" : ""}`,
    );
  }
}

function checkLength(text: string, what: string): string {
  // Characters as people count them (code points), not UTF-16 units: an emoji is one.
  const chars = [...text].length;
  if (chars > ANNOTATION_CHARS_MAX) {
    throw new UsageError(`${what} is ${chars} characters; at most ${ANNOTATION_CHARS_MAX}`);
  }
  return text;
}
