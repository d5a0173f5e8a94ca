/**
 * Run ids on the command line may be a unique prefix (SPEC 11). This module
 * is the one place that decides what a prefix means: an exact id wins, a
 * prefix of exactly one id resolves to it, a prefix of several is
 * ambiguous, a prefix of none is unknown.
 *
 * @module
 */
import { assert } from "../../ledger/assert.ts";
import { messageValue, quotedValue } from "../../ledger/control_text.ts";
import type { DuckDBConnection } from "../duckdb.ts";
import { RUN_ARCHIVED_SQL } from "../schema.ts";
import { allRows } from "./reader.ts";

/** Candidates an ambiguity error lists at most. */
export const CANDIDATES_SHOWN_MAX = 10;

/**
 * No run in the index has this id or starts with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { UnknownRunError } from "./resolve.ts";
 * assert.match(new UnknownRunError("r9").message, /"r9"/);
 * ```
 */
export class UnknownRunError extends Error {
  /** The id or prefix given. */
  readonly runId: string;
  /** Create the error for `runId`. */
  constructor(runId: string) {
    super(
      `Run ${JSON.stringify(runId)} is not in the index (see \`ledger runs --all\`; ` +
        "new events need `ledger rebuild-index`; a run only in the legacy DuckDB enters it " +
        "with `ledger legacy backfill`)",
    );
    this.name = "UnknownRunError";
    this.runId = runId;
  }
}

/**
 * The prefix matches several runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { AmbiguousRunError } from "./resolve.ts";
 * assert.match(new AmbiguousRunError("r", ["r1", "r2"]).message, /r1, r2$/);
 * assert.match(new AmbiguousRunError("r", ["r1", "r2"], 300).message, /r1, r2, \.\.\. \(300 runs in all\)$/);
 * ```
 */
export class AmbiguousRunError extends Error {
  /** The prefix given. */
  readonly prefix: string;
  /** Some of the runs it matches (at most {@linkcode CANDIDATES_SHOWN_MAX}). */
  readonly candidates: string[];
  /** How many runs it matches in all. */
  readonly total: number;
  /**
   * Create the error; `total` counts every run the prefix matches, shown or
   * not, in the store `where` names (the index alone: a legacy DuckDB's runs
   * are not counted there, so it says so).
   */
  constructor(
    prefix: string,
    candidates: string[],
    total: number = candidates.length,
    where: "in all" | "in the index" = "in all",
  ) {
    assert(total >= candidates.length, "AmbiguousRunError: total below the candidates shown");
    super(
      // Each candidate on the message's one line (a probe: an id holding a newline cut the CLI's
      // line there, and broke the UI's 400 in two).
      `Run id prefix ${JSON.stringify(prefix)} is ambiguous: it matches ${
        candidatesText(candidates)
      }${total > candidates.length ? `, ... (${total} runs ${where})` : ""}`,
    );
    this.name = "AmbiguousRunError";
    this.prefix = prefix;
    this.candidates = candidates;
    this.total = total;
  }
}

/**
 * The candidates of an ambiguous prefix, one line: each as it is, or every
 * one quoted when one must be (it holds a control character, or `, `, the
 * list's own separator): a probe read `"amb\n…", amb, xss-a` as four ids
 * where there were three.
 */
function candidatesText(candidates: readonly string[]): string {
  const plain = candidates.every((c) => messageValue(c) === c && !c.includes(", "));
  return candidates.map((c) => plain ? c : quotedValue(c)).join(", ");
}

/**
 * A run named twice, by its id or by two prefixes: a compare or a report of
 * it is not two runs (`ledger compare`, `ledger report` and the UI's
 * compare all refuse it).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RunNamedTwiceError } from "./resolve.ts";
 * assert.equal(new RunNamedTwiceError("r1").message, "run r1 is named twice");
 * ```
 */
export class RunNamedTwiceError extends Error {
  /** The full id of the run named twice. */
  readonly runId: string;
  /** Create the error. */
  constructor(runId: string) {
    super(`run ${runId} is named twice`);
    this.name = "RunNamedTwiceError";
    this.runId = runId;
  }
}

/**
 * Throws {@linkcode RunNamedTwiceError} for the first run of `runIds` (full
 * ids, as {@linkcode resolveRunIds} gives them) that is there twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { assertNamedOnce, RunNamedTwiceError } from "./resolve.ts";
 * assertNamedOnce(["a1", "b2"]);
 * assert.throws(() => assertNamedOnce(["a1", "b2", "a1"]), RunNamedTwiceError);
 * ```
 */
export function assertNamedOnce(runIds: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of runIds) {
    if (seen.has(id)) throw new RunNamedTwiceError(id);
    seen.add(id);
  }
}

/**
 * The full run id `idOrPrefix` stands for in the index open on `conn`.
 * Throws {@linkcode UnknownRunError} or {@linkcode AmbiguousRunError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { resolveRunId, withReader } from "./mod.ts";
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
 *   const id = await withReader(indexPath(root), (conn) => resolveRunId(conn, "b"));
 *   assert.equal(id, "b2"); // a unique prefix resolves to the full id
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function resolveRunId(conn: DuckDBConnection, idOrPrefix: string): Promise<string> {
  const [runId] = await resolveRunIds(conn, [idOrPrefix]);
  return runId;
}

/**
 * Resolve several ids or prefixes ({@linkcode resolveRunId}'s rule) in one
 * query; duplicates after resolution are kept in order (the caller decides
 * whether they are allowed). The first id, in order, that is unknown or
 * ambiguous throws {@linkcode UnknownRunError} or
 * {@linkcode AmbiguousRunError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { resolveRunIds, withReader } from "./mod.ts";
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
 *   const ids = await withReader(indexPath(root), (conn) => resolveRunIds(conn, ["b", "a1"]));
 *   assert.deepEqual(ids, ["b2", "a1"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function resolveRunIds(
  conn: DuckDBConnection,
  idsOrPrefixes: readonly string[],
): Promise<string[]> {
  const found = new Map<number, { runId: string; exact: boolean; total: number }[]>();
  const rows = idsOrPrefixes.length === 0 ? [] : await allRows(conn, RESOLVE_SQL, [
    JSON.stringify(idsOrPrefixes),
    CANDIDATES_SHOWN_MAX + 1,
  ]);
  for (const row of rows) {
    const pos = Number(row.pos);
    const list = found.get(pos) ?? [];
    list.push({ runId: String(row.run_id), exact: row.exact === true, total: Number(row.total) });
    found.set(pos, list);
  }
  return idsOrPrefixes.map((idOrPrefix, i) => {
    const matches = idOrPrefix === "" ? [] : found.get(i + 1) ?? [];
    if (matches.length === 0) throw new UnknownRunError(idOrPrefix);
    if (matches[0].exact || matches.length === 1) return matches[0].runId;
    const ids = matches.map((m) => m.runId);
    throw new AmbiguousRunError(
      idOrPrefix,
      ids.slice(0, CANDIDATES_SHOWN_MAX),
      matches[0].total,
      "in the index",
    );
  });
}

/**
 * The runs each given id (`$1`, a JSON array; `pos` counts from 1) stands
 * for: its exact match, else up to `$2` runs it is a prefix of, by id, each
 * with how many it is a prefix of in all (`total`). One
 * query for the whole list: a query per id scanned the runs once per id
 * (4.5 s for a compare of 1,000 runs in an index of 100,000: a scale audit).
 * The ids without an exact match are set apart first (`MATERIALIZED`): a
 * prefix joins every run, and joining all ids before leaving out the exact
 * ones took 1.5 s for those 1,000.
 */
const RESOLVE_SQL = `
  WITH given AS (
    SELECT unnest(ids) AS id, generate_subscripts(ids, 1) AS pos
      FROM (SELECT from_json($1::VARCHAR, '["VARCHAR"]') AS ids)),
  exact AS MATERIALIZED (
    SELECT g.pos, r.run_id FROM given g JOIN runs_status r ON r.run_id = g.id WHERE g.id <> ''),
  rest AS MATERIALIZED (
    SELECT pos, id FROM given WHERE id <> '' AND pos NOT IN (SELECT pos FROM exact)),
  prefixed AS (
    SELECT g.pos, r.run_id, row_number() OVER (PARTITION BY g.pos ORDER BY r.run_id) AS n,
           count(*) OVER (PARTITION BY g.pos) AS total
      FROM rest g JOIN runs_status r ON starts_with(r.run_id, g.id))
  SELECT pos, run_id, true AS exact, 1 AS total FROM exact
  UNION ALL
  SELECT pos, run_id, false AS exact, total FROM prefixed WHERE n <= $2
  ORDER BY pos, exact DESC, run_id`;

/**
 * The time of the latest event of run `runId` whose type is one of
 * `eventTypes`, in ms, or null when the index has none; with `tagKeys`,
 * only the events whose `tags` set one of those keys count (a tag wins per
 * key: a review found `ledger tag RUN b=1` refused because of a tag of `a`).
 * An annotation command dates its own event after it: the later value wins
 * by time (SPEC 11), and an earlier event from a clock running ahead must
 * not make the command a silent no-op.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { latestEventMs, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "a1", timestamp_ms: 1_000 },
 *     { event_type: "run.tagged", run_id: "a1", tags: { label: "x" }, timestamp_ms: 5_000 },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const latest = await withReader(indexPath(root), async (conn) => [
 *     await latestEventMs(conn, "a1", ["run.tagged"]),
 *     await latestEventMs(conn, "a1", ["run.tagged"], ["owner"]), // no tag of owner
 *     await latestEventMs(conn, "a1", ["run.archived", "run.restored"]),
 *   ]);
 *   assert.deepEqual(latest, [5_000, null, null]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function latestEventMs(
  conn: DuckDBConnection,
  runId: string,
  eventTypes: readonly string[],
  tagKeys?: readonly string[],
): Promise<number | null> {
  if (eventTypes.length === 0 || tagKeys?.length === 0) return null;
  const keyed = tagKeys === undefined
    ? ""
    : ` AND list_has_any(json_keys(tags), [${tagKeys.map(() => "?").join(", ")}]::VARCHAR[])`;
  const [{ t }] = await allRows(
    conn,
    `SELECT max(timestamp_ms) AS t FROM events
      WHERE run_id = ? AND event_type IN (${eventTypes.map(() => "?").join(", ")})${keyed}`,
    [runId, ...eventTypes, ...(tagKeys ?? [])],
  );
  return t === null ? null : Number(t);
}

/** Whether a run is archived, as the index has it (see {@linkcode archiveState}). */
export interface ArchiveState {
  /** The run's latest `run.archived` or `run.restored` is a `run.archived`. */
  archived: boolean;
  /** The reason of that `run.archived`, if it gave one; null when not archived. */
  reason: string | null;
}

/**
 * Whether run `runId` is archived in the index behind `conn`, and why: what
 * `ledger archive` and `ledger restore` compare with to write nothing when
 * the state asked for holds already (a run never archived is not archived).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../../ledger/writer.ts";
 * import { indexPath } from "../../ledger/paths.ts";
 * import { rebuildIndex } from "../rebuild.ts";
 * import { archiveState, withReader } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.appendBatch([
 *     { event_type: "run.started", run_id: "a1", timestamp_ms: 1_000 },
 *     { event_type: "run.started", run_id: "b2", timestamp_ms: 1_000 },
 *     { event_type: "run.archived", run_id: "b2", reason: "dup", timestamp_ms: 2_000 },
 *   ]);
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const states = await withReader(indexPath(root), async (conn) => [
 *     await archiveState(conn, "a1"),
 *     await archiveState(conn, "b2"),
 *   ]);
 *   assert.deepEqual(states, [
 *     { archived: false, reason: null },
 *     { archived: true, reason: "dup" },
 *   ]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function archiveState(conn: DuckDBConnection, runId: string): Promise<ArchiveState> {
  const [row] = await allRows(conn, RUN_ARCHIVED_SQL, [runId]);
  const archived = row?.archived === true;
  return { archived, reason: archived && typeof row.reason === "string" ? row.reason : null };
}
