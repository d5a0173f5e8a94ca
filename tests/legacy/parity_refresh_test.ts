/**
 * `ledger legacy parity` and `archive` compare the legacy file with the log
 * as it is now, not with an index built before the last events (helper-291:
 * a `run.failed` emitted after the backfill was not in the index yet, so
 * parity held and archive moved the file; the next rebuild showed three
 * differences). They bring the root's index up to date first, and check
 * nothing when they cannot.
 *
 * Real processes: `ledger legacy backfill`, `parity`, `archive`, `ledger emit`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { backfillLegacy } from "../../legacy/backfill.ts";
import { archiveLegacy, checkParity, IndexRefreshError } from "../../legacy/parity.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";

/** A week before the 2026-01-23 cutover. */
const T0_MS = Date.UTC(2026, 0, 16);

/** A legacy run that started and never ended. */
const RUNNING = {
  run_id: "still-running",
  run_type: "baseline",
  created_at_ms: T0_MS,
  config: "{}",
  data_fingerprint: "fp",
  started_at_ms: T0_MS + 1_000,
};

/** A legacy file of {@linkcode RUNNING} in `dir`, backfilled by the CLI into the root beside it. */
async function backfilled(dir: string) {
  const legacyDb = join(dir, "legacy.duckdb");
  const root = join(dir, "ledger");
  await createLegacyDb(legacyDb, [RUNNING]);
  const legacy = (command: string) =>
    runLedger(["legacy", command, "--root", root, "--legacy-db", legacyDb]);
  const backfill = await legacy("backfill");
  assert.equal(backfill.code, 0, backfill.stderr);
  return { legacyDb, root, legacy, backfill };
}

Deno.test("legacy parity and archive see the events written since the index was built", async () => {
  await withTempDir(async (dir) => {
    const { legacyDb, root, legacy, backfill } = await backfilled(dir);
    assert.match(backfill.stdout, /^index: refreshed$/m);
    const before = await legacy("parity");
    assert.equal(before.code, 0, before.stdout + before.stderr);

    // Written to the log only: no rebuild, no daemon.
    const failed = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.failed",
      "--run-id",
      RUNNING.run_id,
      "--error",
      '{"message":"late failure"}',
    ]);
    assert.equal(failed.code, 0, failed.stderr);

    const parity = await legacy("parity");
    assert.equal(parity.code, 1, parity.stdout + parity.stderr);
    assert.match(
      parity.stdout,
      /^difference "still-running" status: legacy "not ended", index "failed"$/m,
    );
    const archive = await legacy("archive");
    assert.equal(archive.code, 1, archive.stdout + archive.stderr);
    assert.match(archive.stderr, /Parity does not hold .*nothing was moved/);
    assert.ok((await Deno.stat(legacyDb)).isFile, "the legacy file stays where it is");
  });
});

Deno.test("legacy archive moves nothing when the index cannot be updated; parity says so", async () => {
  await withTempDir(async (dir) => {
    const { legacyDb, root, legacy } = await backfilled(dir);
    // The index folder replaced by a file: no rebuild can write there, the index is gone.
    await Deno.remove(join(root, "index"), { recursive: true });
    await Deno.writeTextFile(join(root, "index"), "not a folder\n");
    const archive = await legacy("archive");
    assert.equal(archive.code, 1, archive.stdout + archive.stderr);
    assert.equal(archive.stdout, "");
    const lines = archive.stderr.trim().split("\n");
    assert.equal(lines.length, 1, archive.stderr);
    assert.match(
      lines[0],
      /^ledger legacy: The index .*runs\.duckdb could not be brought up to date with the log \(.+\); parity was not checked$/,
    );
    assert.ok((await Deno.stat(legacyDb)).isFile, "nothing was archived");
    // Parity compares an index as it is; here there is none, and why is the line.
    const parity = await legacy("parity");
    assert.equal(parity.code, 1, parity.stdout + parity.stderr);
    assert.equal(parity.stderr.trim(), lines[0]);
  });
});

// An indexer's index built from a bucket (`rebuild-index --from`) is never rebuilt from a local
// log: parity compares with it as it is, and says so, rather than failing where it worked;
// archive refuses it.
Deno.test("legacy parity of an index built from a bucket compares it as it is, and says so", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    await createLegacyDb(legacyDb, [RUNNING]);
    const backfill = await backfillLegacy(root, { legacyDbPath: legacyDb });
    assert.equal(backfill.eventsWritten, 2);
    await rebuildIndex(root, { source: "s3://fleet/lab/" }); // as a mirror of that bucket is
    const report = await checkParity({ legacyDbPath: legacyDb, root });
    assert.ok(report.holds, JSON.stringify(report.differences));
    assert.ok(
      report.warnings.some((w) =>
        /is built from s3:\/\/fleet\/lab\/, not from the log of .*\): compared as it was last rebuilt$/
          .test(w)
      ),
      report.warnings.join("\n"),
    );
    // Archive wants an index up to date with the log (helper-292: a stale bucket index let it
    // move the file, exit 0): refused, nothing moved.
    await assert.rejects(archiveLegacy({ legacyDbPath: legacyDb, root }), IndexRefreshError);
    assert.ok((await Deno.stat(legacyDb)).isFile, "nothing was archived");
  });
});
