/**
 * Legacy columns no run field comes from are said, not dropped in silence (a
 * probe of dual mode, helper-247: a `notes` column of `runs_d` reached no event
 * and no parity difference, and `legacy archive` then took it out of every
 * listing). `backfill` and `parity` warn, naming each column; a file with the
 * columns the ledger reads only is not warned about.
 *
 * Real processes: `ledger legacy backfill`, `parity`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb, execSql } from "./_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const T0_MS = Date.UTC(2026, 0, 16);

const RUN = {
  run_id: "with-notes",
  run_type: "baseline",
  created_at_ms: T0_MS,
  config: "{}",
  data_fingerprint: "fp",
  started_at_ms: T0_MS + 1_000,
  completed_at_ms: T0_MS + 2_000,
  summary_json: '{"win_rate":0.5}',
};

Deno.test("legacy: columns the event log does not keep are named by backfill and parity", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    const common = ["--root", root, "--legacy-db", legacyDb];
    await createLegacyDb(legacyDb, [RUN]);

    const plain = await runLedger(["legacy", "backfill", ...common]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stderr, /does not keep/);

    await execSql(legacyDb, "ALTER TABLE optimizer.runs_d ADD COLUMN notes VARCHAR");
    await execSql(legacyDb, "ALTER TABLE optimizer.runs_status ADD COLUMN sharpe DOUBLE");
    await execSql(legacyDb, "UPDATE optimizer.runs_d SET notes = 'rerun on clean data'");
    const expected = new RegExp(
      "^ledger legacy: warning: Legacy database .*legacy\\.duckdb has 2 columns the event log " +
        "does not keep: runs_d\\.notes, runs_status\\.sharpe; ",
      "m",
    );
    const again = await runLedger(["legacy", "backfill", ...common, "--no-index"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, expected);
    const parity = await runLedger(["legacy", "parity", ...common]);
    // The warning does not make a difference: the values stay in the (archived) file.
    assert.equal(parity.code, 0, parity.stdout + parity.stderr);
    assert.match(parity.stderr, expected);
    const json = await runLedger(["legacy", "parity", ...common, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.ok(
      report.warnings.some((w: string) => w.includes("runs_d.notes, runs_status.sharpe")),
      json.stdout,
    );
  });
});

// helper-291: a runs_status with completed_at and summary in place of completed_at_ms and
// summary_json read as NULL on both sides, so parity held and archive went ahead; the completed
// run then listed as stale without a summary.
Deno.test("legacy: a required column the file lacks is a parity difference; archive refuses", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    const common = ["--root", root, "--legacy-db", legacyDb];
    await createLegacyDb(legacyDb, [RUN]);
    await execSql(
      legacyDb,
      "ALTER TABLE optimizer.runs_status RENAME completed_at_ms TO completed_at",
    );
    await execSql(legacyDb, "ALTER TABLE optimizer.runs_status RENAME summary_json TO summary");
    const backfill = await runLedger(["legacy", "backfill", ...common]);
    assert.equal(backfill.code, 0, backfill.stderr);
    assert.match(backfill.stderr, /has no column completed_at_ms, summary_json: read as NULL/);

    const parity = await runLedger(["legacy", "parity", ...common, "--json"]);
    assert.equal(parity.code, 1, parity.stdout + parity.stderr);
    assert.deepEqual(JSON.parse(parity.stdout).differences, [
      { run_id: "", field: "missing_column", legacy: "runs_status.completed_at_ms", index: null },
      { run_id: "", field: "missing_column", legacy: "runs_status.summary_json", index: null },
    ]);
    const text = await runLedger(["legacy", "parity", ...common, "--allow-skipped"]);
    assert.equal(text.code, 1, "not waived by --allow-skipped");
    assert.match(
      text.stdout,
      /^difference: the legacy file has no column runs_status\.completed_at_ms \(read as NULL/m,
    );
    const archive = await runLedger(["legacy", "archive", ...common]);
    assert.equal(archive.code, 1, archive.stdout + archive.stderr);
    assert.ok((await Deno.stat(legacyDb)).isFile, "nothing was moved");

    // The columns given their names again: parity holds.
    await execSql(
      legacyDb,
      "ALTER TABLE optimizer.runs_status RENAME completed_at TO completed_at_ms",
    );
    await execSql(legacyDb, "ALTER TABLE optimizer.runs_status RENAME summary TO summary_json");
    const again = await runLedger(["legacy", "backfill", ...common]);
    assert.equal(again.code, 0, again.stderr);
    const holds = await runLedger(["legacy", "parity", ...common]);
    assert.equal(holds.code, 0, holds.stdout + holds.stderr);
  });
});
