import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger } from "../_helpers.ts";
import { sampleLegacyRuns, writeSampleLegacyDb } from "../../scripts/sample_legacy.ts";

// Issue 15.13: a migration could not be rehearsed. The sample legacy file of
// `deno task sample-legacy` goes through the whole of docs/MIGRATION.md.
Deno.test("sample legacy DuckDB: a migration rehearsal from look to archive", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-sample-legacy-" });
  try {
    const db = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    const common = ["--legacy-db", db, "--root", root];
    await writeSampleLegacyDb(db);
    const count = sampleLegacyRuns().length;

    await t.step("never overwrites a legacy file", async () => {
      const before = await Deno.readFile(db);
      let refused = false;
      try {
        await writeSampleLegacyDb(db);
      } catch (err) {
        refused = err instanceof Deno.errors.AlreadyExists;
      }
      equal(refused, true);
      equal((await Deno.readFile(db)).length, before.length);
    });
    await t.step("1. look: every sample run is listed from the legacy store", async () => {
      const r = await runLedger(["runs", ...common, "--json"]);
      equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as { source: string; status: string }[];
      equal(rows.filter((row) => row.source === "legacy").length, count);
      equal(new Set(rows.map((row) => row.status)).size >= 4, true, r.stdout);
    });
    await t.step("2-4. backfill, parity, archive", async () => {
      const backfill = await runLedger(["legacy", "backfill", ...common]);
      equal(backfill.code, 0, backfill.stderr);
      match(backfill.stdout, new RegExp(`legacy runs: ${count}`));
      const parity = await runLedger(["legacy", "parity", ...common]);
      equal(parity.code, 0, parity.stdout + parity.stderr);
      const archive = await runLedger(["legacy", "archive", ...common]);
      equal(archive.code, 0, archive.stderr);
    });
    await t.step("5. after the cutover: the runs are answered by the event log", async () => {
      const r = await runLedger(["runs", "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      equal(JSON.parse(r.stdout).length, count);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
