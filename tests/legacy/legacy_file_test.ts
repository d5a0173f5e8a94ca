import assert, { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { queryMergedRuns, queryRuns } from "../../legacy/dual.ts";
import { backfillLegacy } from "../../legacy/backfill.ts";
import { checkParity } from "../../legacy/parity.ts";
import { createIndexDb, createLegacyDb, execSql } from "./_legacy_fixture.ts";
import { withTempDir } from "../ledger/_helpers.ts";

const DAY = Date.UTC(2025, 11, 1);

/** Run `statements` on the DuckDB file at `path`. */
async function exec(path: string, statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  try {
    const conn = await instance.connect();
    for (const sql of statements) await conn.run(sql);
    conn.disconnectSync();
  } finally {
    instance.closeSync();
  }
}

Deno.test("a legacy run with a runs_status row and no runs_d row is listed, never lost at archive", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    await createLegacyDb(legacyDbPath, [{ run_id: "old-def", created_at_ms: DAY }]);
    await exec(legacyDbPath, [
      `INSERT INTO optimizer.runs_status VALUES ('old-orphan', ${DAY + 1}, ${DAY + 2},
        '{"win_rate":0.9}', NULL, NULL)`,
    ]);
    // Listed, as the index lists a run with status events and no run.created.
    const { runs } = await queryRuns({}, { legacyDbPath, root });
    const orphan = runs.find((r) => r.run_id === "old-orphan");
    ok(orphan !== undefined, "the status-only run is listed");
    equal(orphan.status, "completed");
    equal(orphan.run_type, null);
    // Not backfilled (its type, config and creation time are unknown) and so not at parity:
    // archiving, which needs parity, would take it out of every listing.
    const backfill = await backfillLegacy(root, { legacyDbPath });
    deepEqual(backfill.skipped.map((s) => s.run_id), ["old-orphan"]);
    await rebuildIndex(root, {});
    const parity = await checkParity({ legacyDbPath, root });
    equal(parity.holds, false);
    deepEqual(parity.skipped.map((s) => s.run_id), ["old-orphan"]);
  });
});

Deno.test("a legacy file is read with external access off: a view cannot read another file", async () => {
  await withTempDir(async (dir) => {
    const csv = join(dir, "elsewhere.csv");
    await Deno.writeTextFile(csv, "run_id,run_type,created_at_ms\nfrom-csv,policy,1764547200000\n");
    const legacyDbPath = join(dir, "old.duckdb");
    await exec(legacyDbPath, [
      "CREATE SCHEMA optimizer",
      `CREATE VIEW optimizer.runs_d AS SELECT run_id, run_type, created_at_ms,
        NULL::VARCHAR AS config, NULL::VARCHAR AS data_fingerprint FROM read_csv('${csv}')`,
    ]);
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root: dir });
    deepEqual(runs.map((r) => r.run_id), []);
    ok(warnings.some((w) => /legacy database/.test(w)), warnings.join("\n"));
  });
});

Deno.test("a legacy table without a required column is read, with a warning naming it", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    await createLegacyDb(legacyDbPath, [{ run_id: "old-done", created_at_ms: DAY }], {
      statusTable: false,
    });
    // ended_at_ms where completed_at_ms belongs: the finished run cannot be told finished.
    await exec(legacyDbPath, [
      `CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms BIGINT,
        ended_at_ms BIGINT, summary_json VARCHAR)`,
      `INSERT INTO optimizer.runs_status VALUES ('old-done', ${DAY + 1}, ${DAY + 2}, '{}')`,
    ]);
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root: dir });
    deepEqual(runs.map((r) => r.run_id), ["old-done"]);
    ok(
      warnings.some((w) => /optimizer\.runs_status .* has no column completed_at_ms/.test(w)),
      warnings.join("\n"),
    );
  });
});

Deno.test("an index dual mode cannot open is a warning: the legacy runs are still listed", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: DAY }]);
    await Deno.mkdir(join(dir, "index"));
    await Deno.writeTextFile(join(dir, "index", "runs.duckdb"), "not a database\n");
    const merged = await queryMergedRuns({}, { legacyDbPath, root: dir });
    const listed = await queryRuns({}, { legacyDbPath, root: dir });
    for (const { runs, warnings } of [merged, listed]) {
      deepEqual(runs.map((r) => r.run_id), ["old-1"]);
      ok(
        warnings.some((w) => /event-log index .*(is damaged|is not a DuckDB database)/i.test(w)),
      );
    }
  });
});

Deno.test("an index of an older format: parity refuses, dual mode warns and lists no index run", async () => {
  // A review: parity said "parity holds" (and archive ended dual mode) from an index that
  // runs refuses as an older ledger's, and queryRuns answered by that ledger's rules.
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    await createLegacyDb(legacyDbPath, [{ run_id: "old-1", created_at_ms: DAY }]);
    const indexDbPath = join(dir, "index", "runs.duckdb");
    await createIndexDb(indexDbPath, [{
      run_id: "new-1",
      run_type: "policy",
      created_at_ms: DAY + 1,
      status: "pending",
    }]);
    await execSql(indexDbPath, "UPDATE index_meta SET value = '4' WHERE key = 'format_version'");
    const older = /built by another version of ledger \(index format 4, this one reads/;
    await assert.rejects(checkParity({ legacyDbPath, root: dir, refreshIndex: false }), older);
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root: dir });
    deepEqual(runs.map((r) => r.run_id), ["old-1"]);
    ok(warnings.some((w) => older.test(w)), warnings.join("\n"));
    // Refreshed first (the default): rebuilt by this version from the root's log, which has no
    // event, so the legacy run is missing from it.
    const refreshed = await checkParity({ legacyDbPath, root: dir });
    deepEqual(refreshed.differences.map((d) => `${d.run_id} ${d.field}`), ["old-1 missing"]);
  });
});
