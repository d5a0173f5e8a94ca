/**
 * Run ids and prefixes on a command line (SPEC 11), resolved together: one
 * query for the whole list, and the answers and errors of resolving each id
 * on its own (a scale audit: a compare of 1,000 runs ran 1,000 queries).
 */
import assert from "node:assert/strict";
import { indexPath } from "../../ledger/paths.ts";
import type { DuckDBConnection } from "../../indexer/duckdb.ts";
import {
  allRows,
  AmbiguousRunError,
  CANDIDATES_SHOWN_MAX,
  resolveRunId,
  resolveRunIds,
  UnknownRunError,
  withReader,
} from "../../indexer/query/mod.ts";
import { withTempDir } from "../_helpers.ts";
import { indexCompletedRuns } from "./_fixtures.ts";

const RUN_IDS = [
  "pol",
  "pol-1",
  "pol-2",
  "a1",
  "b2",
  "x.y_z-1",
  ...Array.from({ length: CANDIDATES_SHOWN_MAX + 2 }, (_, i) => `many-${i}`),
];

/** Resolving one id as first written: a prefix query of its own. */
async function resolveAlone(conn: DuckDBConnection, idOrPrefix: string): Promise<string> {
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
  const [{ total }] = await allRows(
    conn,
    "SELECT count(*) AS total FROM runs_status WHERE starts_with(run_id, ?)",
    [idOrPrefix],
  );
  throw new AmbiguousRunError(
    idOrPrefix,
    ids.slice(0, CANDIDATES_SHOWN_MAX),
    Number(total),
    "in the index",
  );
}

/** The ids, or the error (class and message) of the first that does not resolve. */
async function outcome(resolve: () => Promise<string[]>): Promise<unknown> {
  try {
    return { ids: await resolve() };
  } catch (err) {
    if (!(err instanceof UnknownRunError) && !(err instanceof AmbiguousRunError)) throw err;
    return { error: err.name, message: err.message };
  }
}

/** `conn` counting the statements run through it. */
function counting(conn: DuckDBConnection): { conn: DuckDBConnection; statements: () => number } {
  let n = 0;
  const proxy = new Proxy(conn, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (/^(run|stream|prepare|extract)/.test(String(key))) n++;
        return value.apply(target, args);
      };
    },
  });
  return { conn: proxy, statements: () => n };
}

Deno.test("resolveRunIds: one query, the answers and errors of one id at a time", async (t) => {
  await withTempDir(async (root) => {
    await indexCompletedRuns(root, RUN_IDS);

    await withReader(indexPath(root), async (conn) => {
      await t.step("lists of ids, prefixes, unknown and ambiguous ones in any order", async () => {
        const lists = [
          ["pol", "pol-1", "a", "b2", "pol"], // exact wins over longer ids; duplicates kept
          ["x.", "many-11", "many-1", "日"], // many-1 is exact, though many-10 and many-11 start so
          ["a1", "zzz", "pol-"], // the unknown one comes first: its error
          ["a1", "pol-", "zzz"], // the ambiguous one comes first: its error
          ["many-"], // more candidates than shown: "..."
          ["po", ""],
          ["", "po"],
          ["A1"], // case counts
          ["pol-1%", "pol_1", "_", "%"], // no LIKE patterns
          [],
        ];
        for (const list of lists) {
          const expected = await outcome(async () => {
            const out: string[] = [];
            for (const id of list) out.push(await resolveAlone(conn, id));
            return out;
          });
          assert.deepEqual(
            await outcome(() => resolveRunIds(conn, list)),
            expected,
            list.join(" "),
          );
        }
      });

      await t.step("one statement for many ids, exact or prefixes", async () => {
        const ids = [...RUN_IDS, "pol-", "x.y", "b", ...RUN_IDS.map((id) => id.slice(0, -1))];
        const counted = counting(conn);
        const all = await outcome(() => resolveRunIds(counted.conn, RUN_IDS));
        assert.deepEqual(all, { ids: RUN_IDS });
        assert.equal(counted.statements(), 1);
        await outcome(() => resolveRunIds(counted.conn, ids));
        assert.equal(counted.statements(), 2);
      });

      await t.step("resolveRunId: the same rule for one id", async () => {
        assert.equal(await resolveRunId(conn, "b"), "b2");
        await assert.rejects(resolveRunId(conn, "pol-"), AmbiguousRunError);
        await assert.rejects(resolveRunId(conn, ""), UnknownRunError);
      });

      await t.step("an ambiguous prefix of more runs than shown says how many in all", async () => {
        const many = RUN_IDS.filter((id) => id.startsWith("many-")).length;
        assert.ok(many > CANDIDATES_SHOWN_MAX);
        await assert.rejects(resolveRunId(conn, "many-"), (err: unknown) => {
          assert.ok(err instanceof AmbiguousRunError);
          assert.equal(err.candidates.length, CANDIDATES_SHOWN_MAX);
          assert.equal(err.total, many);
          assert.match(err.message, new RegExp(`, \\.\\.\\. \\(${many} runs in the index\\)$`));
          return true;
        });
        await assert.rejects(resolveRunId(conn, "pol-"), /pol-\d+, pol-\d+$/); // all shown: no count
      });
    });
  });
});
