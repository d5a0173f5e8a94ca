/**
 * A legacy text that starts with U+FEFF (text read from a file saved with
 * a byte order mark) reads as the text after it, as it did while DuckDB's
 * Node package dropped a leading BOM from every string: a run id, a type, a
 * fingerprint, the JSON of a config, summary or error. A review:
 * once the vendored package kept strings whole, `legacy backfill` wrote the
 * summary as `{"legacy_text": "\ufeff{...}"}`, dual mode's `runs` lost its
 * numbers, and `legacy parity` still held.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const T0_MS = Date.UTC(2026, 0, 16);
const BOM = "\ufeff";

Deno.test("legacy: text after a byte order mark reads as that text", async (t) => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    await createLegacyDb(legacyDb, [
      {
        run_id: "done",
        run_type: "policy",
        created_at_ms: T0_MS,
        config: "{}",
        data_fingerprint: "fp",
        started_at_ms: T0_MS + 1_000,
        completed_at_ms: T0_MS + 2_000,
        summary_json: `${BOM}{"calls":320,"win_rate":0.31}`,
      },
      {
        run_id: `${BOM}typed`,
        run_type: `${BOM}policy`,
        created_at_ms: T0_MS + 120_000,
        config: "{}",
        data_fingerprint: `${BOM}fp`,
        started_at_ms: T0_MS + 121_000,
        completed_at_ms: T0_MS + 122_000,
        summary_json: "{}",
      },
      {
        run_id: "broke",
        run_type: "policy",
        created_at_ms: T0_MS + 60_000,
        config: "{}",
        data_fingerprint: "fp",
        started_at_ms: T0_MS + 61_000,
        failed_at_ms: T0_MS + 62_000,
        error_json: `${BOM}{"message":"boom"}`,
      },
    ]);
    const show = async (runId: string, ...flags: string[]) => {
      const r = await runLedger(["show", runId, "--json", "--root", root, ...flags]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).run;
    };

    await t.step("dual mode", async () => {
      const r = await runLedger([
        ...["runs", "--root", root, "--legacy-db", legacyDb, "--json"],
        ...["--where", "summary.calls > 100"],
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).map((x: { run_id: string }) => x.run_id), ["done"]);
      assert.deepEqual((await show("broke", "--legacy-db", legacyDb)).error, { message: "boom" });
      // A review: a BOM before a run id, a type or a fingerprint made another run id (listed
      // beside the log's run of that id), another type and other data.
      const typed = await runLedger([
        ...["runs", "--root", root, "--legacy-db", legacyDb, "--json", "--type", "policy"],
      ]);
      assert.equal(typed.code, 0, typed.stderr);
      const rows = JSON.parse(typed.stdout) as { run_id: string }[];
      assert.deepEqual(rows.map((r) => r.run_id).sort(), ["broke", "done", "typed"]);
      assert.equal((await show("typed", "--legacy-db", legacyDb)).data_fingerprint, "fp");
    });

    await t.step("backfilled, the log holds the JSON, and parity holds", async () => {
      const backfill = await runLedger([
        ...["legacy", "backfill", "--root", root, "--legacy-db", legacyDb],
      ]);
      assert.equal(backfill.code, 0, backfill.stderr);
      assert.deepEqual((await show("done")).summary, { calls: 320, win_rate: 0.31 });
      assert.deepEqual((await show("broke")).error, { message: "boom" });
      const typed = await show("typed");
      assert.deepEqual([typed.run_type, typed.data_fingerprint], ["policy", "fp"]);
      const parity = await runLedger(["legacy", "parity", "--root", root, "--legacy-db", legacyDb]);
      assert.equal(parity.code, 0, parity.stdout + parity.stderr);
    });
  });
});
