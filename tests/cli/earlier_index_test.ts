/**
 * The index quantBot's Python indexer built at `<root>/index/runs.duckdb`
 * (tables `runs_d`, `runs_status`, ..., no `index_meta`) is replaced by a
 * full rebuild from the log, saying so; a DuckDB file there with any other
 * table is still refused and left as it is. A probe: the earlier index was
 * refused as "not a ledger index", and every command that reads the index
 * then said to run `rebuild-index`, which refused it again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";

/** An index as the earlier Python indexer made it, at `path`, then the statements `extra`. */
async function earlierIndex(path: string, extra: string[] = []): Promise<void> {
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  try {
    for (
      const sql of [
        "CREATE TABLE runs_d AS SELECT 'old-run' AS run_id, 'policy' AS run_type, " +
        "0::BIGINT AS created_at_ms, '{}' AS config, 'fp' AS data_fingerprint",
        "CREATE TABLE runs_status (run_id VARCHAR, started_at_ms BIGINT, completed_at_ms BIGINT, " +
        "failed_at_ms BIGINT, summary_json VARCHAR, error_json VARCHAR)",
        "CREATE TABLE phase_timings (run_id VARCHAR, phase_name VARCHAR)",
        "CREATE TABLE trial_results (run_id VARCHAR, trial_id VARCHAR)",
        "CREATE TABLE artifacts_catalog (run_id VARCHAR, artifact_path VARCHAR)",
        "CREATE VIEW latest_runs AS SELECT * FROM runs_d",
        "CREATE VIEW run_phase_summary AS SELECT run_id FROM phase_timings",
        ...extra,
      ]
    ) await conn.run(sql);
  } finally {
    conn.disconnectSync();
    db.closeSync();
  }
}

Deno.test("rebuild-index replaces the earlier Python indexer's index at the root's index path", async (t) => {
  for (const full of [false, true]) {
    await t.step(full ? "--full" : "an update", async () => {
      await withTempDir(async (dir) => {
        const root = join(dir, "root");
        await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-a", T0));
        await Deno.mkdir(join(root, "index"));
        await earlierIndex(join(root, "index", "runs.duckdb"));
        const r = await runLedger(["rebuild-index", "--root", root, ...(full ? ["--full"] : [])]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Indexed \d+ events of 1 runs .*\(full:/);
        assert.equal(
          r.stderr,
          "ledger rebuild-index: the index is the earlier Python indexer's (its tables, no " +
            "index_meta): rebuilt in full\n",
        );
        const runs = await runLedger(["runs", "--json", "--root", root]);
        assert.equal(runs.code, 0, runs.stderr);
        assert.deepEqual(JSON.parse(runs.stdout).map((x: { run_id: string }) => x.run_id), [
          "run-a",
        ]);
        const again = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(again.stderr, "", "the next rebuild updates the new index as usual");
      });
    });
  }

  // A review: the legacy DuckDB (schema optimizer, its own runs_d) placed there was taken for
  // the earlier index and replaced, its runs gone.
  const others: [string, (db: string) => Promise<void>][] = [
    [
      "a table of another kind beside them",
      (db) => earlierIndex(db, ["CREATE TABLE notes (x INTEGER)"]),
    ],
    [
      "a schema of its own holding a latest_runs",
      (db) =>
        earlierIndex(db, [
          "CREATE SCHEMA analysis",
          "CREATE VIEW analysis.latest_runs AS SELECT 1",
        ]),
    ],
    // A review: with a view or macro of its own, an update took the file for a damaged index
    // and rebuilt over it, where --full refused it.
    ["a macro beside them", (db) => earlierIndex(db, ["CREATE MACRO twice(x) AS x * 2"])],
    ["the legacy DuckDB with a view of its own", async (db) => {
      await createLegacyDb(db, [{
        run_id: "legacy-1",
        run_type: "baseline",
        created_at_ms: Date.UTC(2026, 0, 10),
        config: "{}",
        data_fingerprint: "fp",
      }]);
      const instance = await DuckDBInstance.create(db);
      const conn = await instance.connect();
      try {
        await conn.run("CREATE VIEW optimizer.recent AS SELECT * FROM optimizer.runs_d");
      } finally {
        conn.disconnectSync();
        instance.closeSync();
      }
    }],
    ["the legacy DuckDB (schema optimizer)", (db) =>
      createLegacyDb(db, [{
        run_id: "legacy-1",
        run_type: "baseline",
        created_at_ms: Date.UTC(2026, 0, 10),
        config: "{}",
        data_fingerprint: "fp",
      }])],
  ];
  for (const [name, make] of others) {
    await t.step(`${name}: still refused, the file kept`, async () => {
      await withTempDir(async (dir) => {
        const root = join(dir, "root");
        await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-a", T0));
        await Deno.mkdir(join(root, "index"));
        const db = join(root, "index", "runs.duckdb");
        await make(db);
        const before = await Deno.readFile(db);
        for (const args of [[], ["--full"]]) {
          const r = await runLedger(["rebuild-index", "--root", root, ...args]);
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, /is a DuckDB database but not a ledger index/);
        }
        assert.deepEqual(await Deno.readFile(db), before);
      });
    });
  }
});
