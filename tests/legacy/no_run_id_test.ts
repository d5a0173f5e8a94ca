/**
 * Legacy rows whose `run_id` is NULL cannot become runs, and were left out
 * of listings, backfill and parity without a word, so `legacy archive`
 * moved the file (and them) aside as if parity held. They are a warning in
 * every read, a skipped entry (run id `""`) of backfill and parity, and a
 * parity difference unless `--allow-skipped`.
 *
 * @module
 */
import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  rejects,
  strictEqual as equal,
} from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import {
  archiveLegacy,
  backfillLegacy,
  checkParity,
  ParityError,
  queryRuns,
} from "../../legacy/dual.ts";
import { createUnkeyedLegacyTables, execSql } from "./_legacy_fixture.ts";
import { withTempDir } from "../_helpers.ts";

const T = Date.UTC(2025, 11, 1);

Deno.test("legacy rows with no run_id are said, skipped, and stop the archive", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    await createUnkeyedLegacyTables(legacyDbPath);
    await execSql(
      legacyDbPath,
      `INSERT INTO optimizer.runs_d VALUES
        ('ok', 'policy', ${T}, '{}', 'fp'),
        (NULL, 'policy', ${T + 5}, '{"lost":true}', 'fp'),
        (NULL, 'policy', ${T + 6}, '{}', 'fp')`,
    );
    await execSql(
      legacyDbPath,
      `INSERT INTO optimizer.runs_status VALUES
        ('ok', ${T + 1000}, ${T + 2000}, '{}', NULL, NULL),
        (NULL, ${T + 1000}, NULL, NULL, NULL, NULL)`,
    );
    const want = "2 rows of runs_d and 1 of runs_status have no run_id: no run can be made of " +
      "them, and archiving the legacy file loses them";

    const listed = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
    deepEqual(listed.runs.map((r) => r.run_id), ["ok"]);
    ok(
      listed.warnings.some((w) =>
        w.includes("has 2 row(s) in runs_d and 1 in runs_status with no run_id")
      ),
      listed.warnings.join("\n"),
    );

    const report = await backfillLegacy(root, { legacyDbPath });
    deepEqual(report.skipped, [{ run_id: "", reason: want }]);
    equal(report.backfillableRuns, 1);
    await rebuildIndex(root, {});

    const parity = await checkParity({ legacyDbPath, root });
    equal(parity.holds, false);
    deepEqual(parity.differences, [
      { run_id: "", field: "skipped", legacy: want, index: null },
    ]);
    await rejects(archiveLegacy({ legacyDbPath, root }), ParityError);
    await Deno.stat(legacyDbPath); // still there

    const allowed = await checkParity({ legacyDbPath, root, allowSkipped: true });
    equal(allowed.holds, true, JSON.stringify(allowed.differences));
    deepEqual(allowed.skipped.map((s) => s.run_id), [""]);
    const archived = await archiveLegacy({ legacyDbPath, root, allowSkipped: true });
    match(archived.archivedPath, /baseline_results\.duckdb\.archived-/);
  });
});
