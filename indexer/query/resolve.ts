/**
 * Run ids on the command line may be a unique prefix (SPEC 11). This module
 * is the one place that decides what a prefix means: an exact id wins, a
 * prefix of exactly one id resolves to it, a prefix of several is
 * ambiguous, a prefix of none is unknown.
 *
 * @module
 */
import type { DuckDBConnection } from "../duckdb.ts";
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
 * assert.match(new AmbiguousRunError("r", ["r1", "r2"]).message, /r1, r2/);
 * ```
 */
export class AmbiguousRunError extends Error {
  /** The prefix given. */
  readonly prefix: string;
  /** Some of the runs it matches (at most {@linkcode CANDIDATES_SHOWN_MAX}). */
  readonly candidates: string[];
  /** Create the error. */
  constructor(prefix: string, candidates: string[], more = false) {
    super(
      `Run id prefix ${JSON.stringify(prefix)} is ambiguous: it matches ${candidates.join(", ")}${
        more ? ", ..." : ""
      }`,
    );
    this.name = "AmbiguousRunError";
    this.prefix = prefix;
    this.candidates = candidates;
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
  if (idOrPrefix === "") throw new UnknownRunError(idOrPrefix);
  const found = await allRows(
    conn,
    `SELECT run_id, run_id = ? AS exact FROM runs_status
      WHERE starts_with(run_id, ?) ORDER BY exact DESC, run_id LIMIT ?`,
    [idOrPrefix, idOrPrefix, CANDIDATES_SHOWN_MAX + 1],
  );
  if (found.length === 0) throw new UnknownRunError(idOrPrefix);
  if (found[0].exact === true || found.length === 1) return String(found[0].run_id);
  const ids = found.map((r) => String(r.run_id));
  throw new AmbiguousRunError(
    idOrPrefix,
    ids.slice(0, CANDIDATES_SHOWN_MAX),
    ids.length > CANDIDATES_SHOWN_MAX,
  );
}

/**
 * Resolve several ids or prefixes; duplicates after resolution are kept in
 * order (the caller decides whether they are allowed).
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
  const out: string[] = [];
  for (const id of idsOrPrefixes) out.push(await resolveRunId(conn, id));
  return out;
}

/**
 * The time of the latest event of run `runId` whose type is one of
 * `eventTypes`, in ms, or null when the index has none. An annotation
 * command dates its own event after it: the later value wins by time
 * (SPEC 11), and an earlier event from a clock running ahead must not make
 * the command a silent no-op.
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
 *     await latestEventMs(conn, "a1", ["run.archived", "run.restored"]),
 *   ]);
 *   assert.deepEqual(latest, [5_000, null]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function latestEventMs(
  conn: DuckDBConnection,
  runId: string,
  eventTypes: readonly string[],
): Promise<number | null> {
  if (eventTypes.length === 0) return null;
  const [{ t }] = await allRows(
    conn,
    `SELECT max(timestamp_ms) AS t FROM events
      WHERE run_id = ? AND event_type IN (${eventTypes.map(() => "?").join(", ")})`,
    [runId, ...eventTypes],
  );
  return t === null ? null : Number(t);
}
