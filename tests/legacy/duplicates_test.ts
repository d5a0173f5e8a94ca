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
import { createLegacyDb, createUnkeyedLegacyTables, execSql } from "./_legacy_fixture.ts";
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

// A probe: a legacy row backfilled with its time in seconds (1970's day), then fixed to ms and
// backfilled again, got its events written a second time under the same ids with other content;
// verify called the copy a retry, the index kept the stale one and parity never held again.
Deno.test("a legacy run whose backfilled events changed is skipped, never written again", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    await createLegacyDb(legacyDbPath, [
      { run_id: "fixed", created_at_ms: T / 1000, started_at_ms: T + 1, completed_at_ms: T + 2 },
      // Values the log reads back otherwise than JSON.parse would (a seed past 2^53, NaN): the
      // same event all the same, not "another config".
      {
        run_id: "same",
        created_at_ms: T,
        config: '{"seed": 9007199254740993, "x": NaN, "w": 1.50}',
        started_at_ms: T + 1,
        completed_at_ms: T + 2,
      },
    ]);
    const first = await backfillLegacy(root, { legacyDbPath });
    equal(first.eventsWritten, 6);
    const lines = async () => {
      const out: string[] = [];
      for await (const day of Deno.readDir(join(root, "events"))) {
        if (!day.isDirectory) continue;
        for await (const f of Deno.readDir(join(root, "events", day.name))) {
          const text = await Deno.readTextFile(join(root, "events", day.name, f.name));
          out.push(...text.split("\n").filter((l) => l !== ""));
        }
      }
      return out.sort();
    };
    const before = await lines();
    await execSql(
      legacyDbPath,
      "UPDATE optimizer.runs_d SET created_at_ms = ? WHERE run_id = 'fixed'",
      [
        BigInt(T),
      ],
    );
    const second = await backfillLegacy(root, { legacyDbPath });
    equal(second.eventsWritten, 0);
    deepEqual(second.skipped.map((s) => s.run_id), ["fixed"]);
    match(
      second.skipped[0].reason,
      /^the event log holds its backfilled run\.created \(legacy-\w+\) with another timestamp_ms \(1764547200 there, 1764547200000 now\): a backfill never rewrites an event/,
    );
    equal(second.eventsAlreadyPresent, 3, "the unchanged run's events are there");
    deepEqual(await lines(), before, "nothing written");
  });
});
