/**
 * A backfill hands the writer batches it accepts, by bytes as well as by
 * events (helper-291: 80 legacy runs with 900 KB configs, every event valid,
 * made one batch of 240 events over the writer's 64 MiB, so every backfill
 * failed with "Batch of 240 events exceeds 67108864 bytes" and parity could
 * never hold).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb, type FixtureRun } from "./_legacy_fixture.ts";
import { BACKFILL_BATCH_BYTES_MAX, backfillLegacy } from "../../legacy/backfill.ts";
import { BATCH_BYTES_MAX } from "../../ledger/writer.ts";
import { withTempDir } from "../_helpers.ts";

/** A week before the 2026-01-23 cutover. */
const T0_MS = Date.UTC(2026, 0, 16);

/** A config of about 900 KB: one event stays under the 1 MiB line limit. */
const CONFIG_CHARS = 900_000;

Deno.test("backfill: legacy runs of large configs, more than one writer batch of bytes", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    // Enough run.created lines to pass the writer's limit in one batch of events.
    const runs = Math.ceil(BATCH_BYTES_MAX / CONFIG_CHARS) + 2;
    assert.ok(runs < 1000, "fewer runs than one batch of events holds");
    const rows: FixtureRun[] = Array.from({ length: runs }, (_, i) => ({
      run_id: `big-${i}`,
      run_type: "policy",
      created_at_ms: T0_MS + i * 60_000,
      config: JSON.stringify({ i, blob: "x".repeat(CONFIG_CHARS) }),
      data_fingerprint: "fp",
    }));
    await createLegacyDb(legacyDbPath, rows);
    const report = await backfillLegacy(root, { legacyDbPath, durability: "relaxed" });
    assert.deepEqual(report.skipped, []);
    assert.equal(report.eventsWritten, runs);
    let bytes = 0;
    for await (const day of Deno.readDir(join(root, "events"))) {
      if (!day.isDirectory) continue; // _schema.json
      for await (const part of Deno.readDir(join(root, "events", day.name))) {
        bytes += (await Deno.stat(join(root, "events", day.name, part.name))).size;
      }
    }
    assert.ok(bytes > BATCH_BYTES_MAX, `${bytes} bytes: more than one writer batch`);
    assert.ok(BACKFILL_BATCH_BYTES_MAX < BATCH_BYTES_MAX);
  });
});
