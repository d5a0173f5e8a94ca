/**
 * `ledger trials --json/--format jsonl --limit N` (a scale audit): the JSON
 * of every trial was built and carried through the sort, so listing 10 of
 * 4M trials ran out of the reader's 512MB. The rows are now picked by the
 * plain columns first and only their JSON is built: the same texts as the
 * first N of the whole answer, and a trial outside them is never turned
 * into JSON at all (shown here by one whose stored params are not JSON).
 */
import assert from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { indexPath } from "../../ledger/paths.ts";
import { streamTrialsJson, type TrialQuery, withReader } from "../../indexer/query/mod.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

/** Trials of two sweeps (one with more rows than a JSON block), NaN written the Python way. */
async function writeLog(root: string): Promise<void> {
  const lines: (Record<string, unknown> | string)[] = [];
  for (const [s, [runId, trials]] of [["sweep-a", 300], ["sweep-b", 40]].entries()) {
    const t = T0 + s * 10_000;
    lines.push(
      ev("run.created", runId as string, t, {
        run_type: "sweep",
        config: { interval: s === 0 ? "1m" : "5m", fee_bps: 5 + s },
        data_fingerprint: "fp",
      }),
      ev("run.started", runId as string, t + 1, { host: "h", pid: 1 }),
    );
    for (let i = 0; i < (trials as number); i++) {
      lines.push(
        ev("trial.recorded", runId as string, t + 2 + (i % 7), {
          trial_id: `t${String(i).padStart(4, "0")}`,
          params: { stopPct: (i % 10) / 10, label: `p ${i}`, nested: { k: [i, "x"] } },
          metrics: { sharpe: Math.sin(i + s), calls: i % 5, win_rate: i % 3 === 0 ? null : i / 7 },
        }),
      );
    }
  }
  const nan = ev("trial.recorded", "sweep-b", T0 + 10_050, {
    trial_id: "t-nan",
    params: { stopPct: 0.5 },
    metrics: { sharpe: 0 },
  });
  lines.push(JSON.stringify(nan).replace('"sharpe":0', '"sharpe": NaN'));
  await writePart(root, "day=2026-01-20/part-a.jsonl", lines);
}

async function texts(
  dbPath: string,
  query: TrialQuery,
  blocksRowsMax?: number,
): Promise<string[]> {
  return await withReader(dbPath, async (conn) => {
    const out: string[] = [];
    for await (const batch of streamTrialsJson(conn, query, { blocksRowsMax })) out.push(...batch);
    return out;
  });
}

const QUERIES: TrialQuery[] = [
  {},
  { sort: [{ field: "metrics.sharpe", descending: true }] },
  {
    sort: [{ field: "params.label", descending: false }],
    columns: ["config.interval", "status", "metrics.calls"],
  },
  { where: ["metrics.calls >= 2"], sort: [{ field: "metrics.win_rate", descending: false }] },
  { runId: "sweep-b", columns: ["recorded_at", "created_at"] },
];

Deno.test("trials JSON with a limit: the first N texts of the whole answer", async (t) => {
  await withTempDir(async (root) => {
    await writeLog(root);
    await rebuildIndex(root, {});
    const dbPath = indexPath(root);

    await t.step("every query, limits below, at and above a block, rows and blocks", async () => {
      for (const query of QUERIES) {
        const all = await texts(dbPath, query);
        assert.ok(all.length > 40, JSON.stringify(query));
        for (const limit of [1, 10, 128, 200, 1000]) {
          for (const blocksRowsMax of [undefined, 0]) {
            const label = JSON.stringify({ query, limit, blocksRowsMax });
            const limited = await texts(dbPath, { ...query, limit }, blocksRowsMax);
            assert.deepEqual(limited, all.slice(0, limit), label);
          }
        }
      }
    });

    await t.step("a trial past the limit is not turned into JSON", async () => {
      // The last trial in the default order holds params that are not JSON: building the JSON
      // of every row before the limit failed on it ("Malformed JSON").
      const instance = await DuckDBInstance.create(dbPath);
      const conn = await instance.connect();
      try {
        await conn.run(
          "UPDATE trial_results SET params = '{not json' WHERE run_id = 'sweep-b' AND trial_id = 't0039'",
        );
      } finally {
        conn.disconnectSync();
        instance.closeSync();
      }
      const first = await texts(dbPath, { limit: 10 });
      assert.equal(first.length, 10);
      assert.equal(JSON.parse(first[0]).run_id, "sweep-a");
      await assert.rejects(texts(dbPath, {}), /JSON/); // the whole answer does build it
    });
  });
});
