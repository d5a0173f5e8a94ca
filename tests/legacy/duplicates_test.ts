/**
 * What a migration audit found: two rows of one run id in the legacy file
 * became one run of neither (the first definition with the other row's
 * status), backfill wrote that and dropped the rest, and parity held; a run
 * backfill skips because its events would not validate was `missing` in
 * parity, which `--allow-skipped` does not accept. Both are skipped runs
 * now, in backfill and parity alike, with the reason.
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { backfillLegacy, checkParity } from "../../legacy/dual.ts";
import { createUnkeyedLegacyTables, execSql } from "./_legacy_fixture.ts";
import { withTempDir } from "../_helpers.ts";

const T = Date.UTC(2025, 11, 1);

Deno.test("legacy runs with several rows, or invalid events, are skipped in backfill and parity", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    await createUnkeyedLegacyTables(legacyDbPath);
    const big = JSON.stringify({ blob: "x".repeat(1_100_000) }); // past an event's 1 MiB
    for (
      const [id, created, config] of [
        ["dup", T, "{}"],
        ["dup", T + 100_000, '{"v":2}'],
        ["ok", T, "{}"],
        ["big", T, big],
      ] as const
    ) {
      await execSql(legacyDbPath, "INSERT INTO optimizer.runs_d VALUES (?, 'policy', ?, ?, 'fp')", [
        id,
        BigInt(created),
        config,
      ]);
    }
    await execSql(
      legacyDbPath,
      `INSERT INTO optimizer.runs_status VALUES
        ('dup', ${T + 1000}, ${T + 5000}, '{"win_rate":0.61}', NULL, NULL),
        ('dup', ${T + 101_000}, NULL, NULL, ${T + 102_000}, '{"message":"x"}'),
        ('ok', ${T + 1000}, ${T + 2000}, '{}', NULL, NULL),
        ('big', ${T + 1000}, ${T + 2000}, '{}', NULL, NULL)`,
    );
    const report = await backfillLegacy(root, { legacyDbPath });
    deepEqual(report.skipped.map((s) => s.run_id), ["big", "dup"]);
    match(report.skipped[0].reason, /not valid/);
    match(report.skipped[1].reason, /2 rows in runs_d and 2 in runs_status/);
    ok(report.warnings.some((w) => /several rows for 1 run id\(s\): dup \(2 in runs_d/.test(w)));
    equal(report.backfillableRuns, 1);
    await rebuildIndex(root, {});
    const parity = await checkParity({ legacyDbPath, root });
    equal(parity.holds, false);
    deepEqual(parity.differences.map((d) => [d.run_id, d.field]), [
      ["big", "skipped"],
      ["dup", "skipped"],
    ]);
    const allowed = await checkParity({ legacyDbPath, root, allowSkipped: true });
    equal(allowed.holds, true, JSON.stringify(allowed.differences));
    deepEqual(allowed.skipped.map((s) => s.run_id), ["big", "dup"]);
  });
});
