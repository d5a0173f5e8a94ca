/**
 * One backfill of a root at a time. A probe: two `ledger legacy backfill`
 * processes at once both read the log's ids before either wrote, and both
 * wrote (15,000 events twice): the index counted each id once, but `ledger
 * verify` said NOT SOUND for ever, the log being append-only. A backfill
 * holds `index/.legacy-backfill.lock` from reading the log's ids to its last
 * append; another waits for it, then finds the events there.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { CLI_PATH, denoScriptArgs, logText, withTempDir } from "../_helpers.ts";
import { BACKFILL_LOCK_FILE } from "../../legacy/backfill.ts";

const T0_MS = Date.UTC(2026, 0, 16);

Deno.test("legacy backfill waits for the backfill holding the root's lock", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    await createLegacyDb(legacyDb, [
      { run_id: "r1", run_type: "baseline", created_at_ms: T0_MS, config: "{}" },
    ]);
    // Hold the lock as a running backfill would.
    await Deno.mkdir(join(root, "index"), { recursive: true });
    const held = await Deno.open(join(root, "index", BACKFILL_LOCK_FILE), {
      read: true,
      write: true,
      create: true,
    });
    await held.lock(true);
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, [
        ...["legacy", "backfill", "--root", root, "--legacy-db", legacyDb, "--no-index"],
      ]),
      env: { LEDGER_ROOT: "" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    try {
      // Long enough for a backfill of one run to have written (about 1 s here).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(await logText(root), "", "nothing written while the lock is held");
    } finally {
      held.close(); // releases the lock
    }
    const done = await output;
    const stderr = new TextDecoder().decode(done.stderr);
    assert.equal(done.code, 0, stderr);
    assert.match(new TextDecoder().decode(done.stdout), /^events written: 1$/m);
    assert.match(await logText(root), /"run\.created"/);
  });
});
