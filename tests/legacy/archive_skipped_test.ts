/**
 * `ledger legacy archive --allow-skipped` names the runs it leaves out: once
 * the file is archived they are in no listing (a probe: "parity holds for
 * 18 legacy run(s)" of a file of 24, the 6 others unsaid). Real processes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const T0_MS = Date.UTC(2026, 0, 16);

Deno.test("legacy archive --allow-skipped names each run it leaves out", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    await createLegacyDb(legacyDb, [
      { run_id: "kept-1", run_type: "baseline", created_at_ms: T0_MS, config: "{}" },
      { run_id: "bad id/x", run_type: "baseline", created_at_ms: T0_MS + 1, config: "{}" },
    ]);
    const common = ["--root", root, "--legacy-db", legacyDb];
    const backfill = await runLedger(["legacy", "backfill", ...common]);
    assert.equal(backfill.code, 0, backfill.stderr);
    const refused = await runLedger(["legacy", "archive", ...common]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const r = await runLedger(["legacy", "archive", ...common, "--allow-skipped"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^parity holds for 1 of 2 legacy run\(s\)$/m);
    assert.match(r.stdout, /^left out "bad id\/x": .+ \(in the archived file only from now\)$/m);
    assert.match(r.stdout, /^archived .*legacy\.duckdb -> /m);
  });
});
