/**
 * `ledger runs` with no run to show says how many archived runs the filters
 * match, which `--all` shows. A probe: it counted every archived run of the
 * index, and `--all` then showed none; a review: the count stopped at the
 * page's limit, and dual mode still counted every archived run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";

Deno.test("runs: 'No runs match' counts the archived runs the filters match, all of them", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const t0 = Date.UTC(2026, 0, 20);
    const lines = [];
    for (let i = 0; i < 6; i++) {
      const id = `p${i}`;
      lines.push({
        event_type: "run.created",
        run_id: id,
        run_type: i < 5 ? "policy" : "sweep",
        config: { k: i },
        data_fingerprint: "f",
        timestamp_ms: t0 + i,
      });
      if (i < 5) lines.push({ event_type: "run.archived", run_id: id, timestamp_ms: t0 + 100 + i });
    }
    const emitted = await runLedger(["emit", "--stdin", "--root", root], {
      stdin: lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
    });
    assert.equal(emitted.code, 0, emitted.stderr);
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const legacyDb = join(dir, "legacy.duckdb");
    await createLegacyDb(legacyDb, [{ run_id: "leg-1", run_type: "baseline", created_at_ms: t0 }]);
    for (
      const [args, said] of [
        [["--type", "policy", "--limit", "2"], "6 runs in the index; 5 archived, shown with --all"],
        [["--where", "config.k < 2"], "6 runs in the index; 2 archived, shown with --all"],
        [["--type", "path_only"], "6 runs in the index"],
        [
          ["--type", "policy", "--limit", "2", "--legacy-db", legacyDb],
          "7 runs in the index and the legacy DuckDB; 5 archived, shown with --all",
        ],
        [
          ["--type", "path_only", "--legacy-db", legacyDb],
          "7 runs in the index and the legacy DuckDB",
        ],
      ] as const
    ) {
      const r = await runLedger(["runs", "--root", root, ...args]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `No runs match (${said}).`, args.join(" "));
    }
  });
});
