import { deepStrictEqual as deepEqual } from "node:assert";
import { join } from "node:path";
import { answerForRun } from "../../legacy/dual.ts";
import { execSql } from "./_legacy_fixture.ts";
import { withTempDir } from "../ledger/_helpers.ts";

const CREATED_MS = Date.UTC(2026, 0, 10);

Deno.test("a legacy run id kept in a numeric column is found by id and by prefix, as text", async (t) => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const options = { legacyDbPath, root: dir, skipIndex: true };
    for (
      const sql of [
        "CREATE SCHEMA optimizer",
        `CREATE TABLE optimizer.runs_d(run_id INTEGER, run_type VARCHAR, created_at_ms BIGINT,
          config VARCHAR, data_fingerprint VARCHAR)`,
        `CREATE TABLE optimizer.runs_status(run_id INTEGER, started_at_ms BIGINT,
          completed_at_ms BIGINT, summary_json VARCHAR)`,
        `INSERT INTO optimizer.runs_d VALUES (4217, 'policy', ${CREATED_MS}, '{}', 'fp')`,
        `INSERT INTO optimizer.runs_status VALUES (4217, ${CREATED_MS}, ${CREATED_MS + 1}, '{}')`,
      ]
    ) await execSql(legacyDbPath, sql);

    await t.step("a unique prefix answers, as `ledger show 42` does", async () => {
      const answer = await answerForRun("42", options);
      deepEqual([answer.source, answer.run?.run_id, answer.run?.status], [
        "legacy",
        "4217",
        "completed",
      ]);
      deepEqual(answer.warnings, []);
    });

    await t.step("an id compares as text: 04217 is not run 4217", async () => {
      const answer = await answerForRun("04217", options);
      deepEqual([answer.source, answer.run], [null, null]);
    });
  });
});
