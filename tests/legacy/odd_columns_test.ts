import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert";
import { join } from "node:path";
import { queryRuns } from "../../legacy/dual.ts";
import { backfillLegacy } from "../../legacy/backfill.ts";
import { execSql } from "./_legacy_fixture.ts";
import { withTempDir } from "../ledger/_helpers.ts";

const CREATED_MS = Date.UTC(2026, 0, 10);
const STARTED_MS = CREATED_MS + 1_000;
const COMPLETED_MS = CREATED_MS + 300_000;

Deno.test("legacy tables and schema named in another case are read (DuckDB's names are)", async (t) => {
  await withTempDir(async (dir) => {
    for (
      const [label, schema, defs, status] of [
        ["status table in mixed case", "optimizer", "runs_d", "Runs_Status"],
        ["all in upper case", "OPTIMIZER", "RUNS_D", "RUNS_STATUS"],
      ] as const
    ) {
      await t.step(label, async () => {
        const legacyDbPath = join(dir, `${defs}-${status}.duckdb`);
        await execSql(
          legacyDbPath,
          `CREATE SCHEMA ${schema};
          CREATE TABLE ${schema}.${defs}(RUN_ID VARCHAR, run_type VARCHAR, Created_At_Ms BIGINT,
            config VARCHAR, data_fingerprint VARCHAR);
          CREATE TABLE ${schema}.${status}(run_id VARCHAR, STARTED_AT_MS BIGINT,
            completed_at_ms BIGINT, Summary_Json VARCHAR);
          INSERT INTO ${schema}.${defs} VALUES ('r1', 'policy', ${CREATED_MS}, '{}', 'fp');
          INSERT INTO ${schema}.${status} VALUES
            ('r1', ${STARTED_MS}, ${COMPLETED_MS}, '{"pnl":42}')`,
        );
        const root = join(dir, `ledger-${defs}`);
        await Deno.mkdir(root);
        const { runs, warnings } = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
        deepEqual(warnings, []);
        deepEqual(
          runs.map((r) => [r.run_id, r.status, r.completed_at_ms, r.summary_json]),
          [["r1", "completed", COMPLETED_MS, '{"pnl":42}']],
        );
        // The backfill writes the completion: created, started, completed.
        const report = await backfillLegacy(root, { legacyDbPath, dryRun: true });
        equal(report.eventsPlanned, 3);
      });
    }
  });
});

Deno.test("legacy times of other column types are read as their text: a fraction floored, no time named", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    await execSql(
      legacyDbPath,
      `CREATE SCHEMA optimizer;
      CREATE TABLE optimizer.runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms DOUBLE,
        config VARCHAR, data_fingerprint VARCHAR);
      CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms DECIMAL(18, 3),
        completed_at_ms DOUBLE, summary_json VARCHAR, failed_at_ms BOOLEAN);
      INSERT INTO optimizer.runs_d VALUES
        ('fraction', 'policy', ${CREATED_MS}.7, '{}', 'fp'),
        ('huge', 'policy', ${CREATED_MS}, '{}', 'fp'),
        ('infinite', 'policy', ${CREATED_MS}, '{}', 'fp'),
        ('boolean', 'policy', ${CREATED_MS}, '{}', 'fp');
      INSERT INTO optimizer.runs_status VALUES
        ('fraction', ${STARTED_MS}.9, ${COMPLETED_MS}.5, NULL, NULL),
        ('huge', ${STARTED_MS}, 1e19, NULL, NULL),
        ('infinite', ${STARTED_MS}, 'inf'::DOUBLE, NULL, NULL),
        ('boolean', ${STARTED_MS}, NULL, NULL, true)`,
    );
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
    const byId = new Map(runs.map((r) => [r.run_id, r]));
    // DOUBLE and DECIMAL fractions floored, as text is (a cast to BIGINT rounded them up).
    deepEqual(
      [byId.get("fraction")?.created_at_ms, byId.get("fraction")?.started_at_ms],
      [CREATED_MS, STARTED_MS],
    );
    equal(byId.get("fraction")?.completed_at_ms, COMPLETED_MS);
    // 1e19 and inf are no time: NULL, and said (they were NULL in silence).
    equal(byId.get("huge")?.completed_at_ms, null);
    equal(byId.get("infinite")?.completed_at_ms, null);
    const completed = warnings.filter((w) => w.includes("completed_at_ms"));
    equal(completed.length, 1, warnings.join("\n"));
    ok(completed[0].includes("2 value(s)"), completed[0]);
    // A BOOLEAN read 1 ms after the epoch; now it is no time, and said.
    equal(byId.get("boolean")?.failed_at_ms, null);
    equal(byId.get("boolean")?.status, "stale"); // started, silent since, not failed
    const failed = warnings.filter((w) => w.includes("failed_at_ms"));
    equal(failed.length, 1, warnings.join("\n"));
    ok(failed[0].includes('"true"'), failed[0]);
  });
});

Deno.test("legacy times in epoch seconds are read as written, and said", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    await execSql(
      legacyDbPath,
      `CREATE SCHEMA optimizer;
      CREATE TABLE optimizer.runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms VARCHAR,
        config VARCHAR, data_fingerprint VARCHAR);
      CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms BIGINT,
        completed_at_ms BIGINT, summary_json VARCHAR);
      INSERT INTO optimizer.runs_d VALUES ('secs', 'policy', '1768555800', '{}', 'fp'),
        ('millis', 'policy', '${CREATED_MS}', '{}', 'fp');
      INSERT INTO optimizer.runs_status VALUES ('millis', ${STARTED_MS}, ${COMPLETED_MS}, NULL)`,
    );
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
    equal(runs.find((r) => r.run_id === "secs")?.created_at_ms, 1768555800);
    deepEqual(warnings, [
      `Legacy table optimizer.runs_d in ${legacyDbPath} has 1 value(s) of created_at_ms that ` +
      "look like epoch seconds (such as 1768555800: 1970-01-21T11:15:55.800Z as ms, " +
      "2026-01-16T09:30:00.000Z as seconds): read as ms, as the column is defined",
    ]);
  });
});
