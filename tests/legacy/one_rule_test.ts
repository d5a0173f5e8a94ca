import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { runLedger } from "../_helpers.ts";

// A run both stores hold: `runs` and `show` must pick the same store by the
// one rule of `answerForRun` (before the cutover, the legacy store answers).
// 0.1.0's `show` preferred the index whenever it had the run.
Deno.test("dual mode: runs and show pick the same store for a run both hold", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-dual-" });
  try {
    const legacyDb = `${root}/baseline_results.duckdb`;
    // log-old: before the cutover, only in the log; late-legacy: after it, only legacy.
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      ...fullRun("both-run", T0),
      ...fullRun("log-old", T0 + 3_600_000),
    ]);
    await writePart(root, "day=2026-01-24/part-1.jsonl", fullRun("new-run", Date.UTC(2026, 0, 24)));
    await rebuildIndex(root, {});
    await createLegacyDb(legacyDb, [
      {
        run_id: "both-run",
        run_type: "baseline",
        created_at_ms: T0,
        config: "{}",
        data_fingerprint: "fp",
        started_at_ms: T0 + 10,
        completed_at_ms: T0 + 500,
        summary_json: '{"alerts":3}',
      },
      {
        run_id: "new-run",
        run_type: "baseline",
        created_at_ms: Date.UTC(2026, 0, 24),
        config: "{}",
        data_fingerprint: "fp",
      },
      { run_id: "late-legacy", run_type: "baseline", created_at_ms: Date.UTC(2026, 1, 1) },
    ]);
    const listed = await runLedger(["runs", "--root", root, "--legacy-db", legacyDb, "--json"]);
    equal(listed.code, 0, listed.stderr);
    const sources = new Map<string, string>(
      JSON.parse(listed.stdout).map((r: { run_id: string; source: string }) => [
        r.run_id,
        r.source,
      ]),
    );
    for (const runId of ["both-run", "new-run", "log-old", "late-legacy"]) {
      await t.step(`${runId}: show answers from the store runs lists`, async () => {
        const r = await runLedger([
          "show",
          runId,
          "--root",
          root,
          "--legacy-db",
          legacyDb,
          "--json",
        ]);
        equal(r.code, 0, r.stderr);
        const shown = JSON.parse(r.stdout);
        equal(shown.source ?? "event_log", sources.get(runId));
      });
    }
    equal(sources.get("both-run"), "legacy");
    equal(sources.get("new-run"), "event_log");
    equal(sources.get("log-old"), "event_log");
    equal(sources.get("late-legacy"), "legacy");
    // A prefix names the same run: the rule decides for the run, not for the text typed.
    await t.step("a prefix of both-run: show answers from the legacy store too", async () => {
      const r = await runLedger([
        "show",
        "both-r",
        "--root",
        root,
        "--legacy-db",
        legacyDb,
        "--json",
      ]);
      equal(r.code, 0, r.stderr);
      const shown = JSON.parse(r.stdout);
      equal(shown.source, "legacy");
      equal(shown.run.run_id, "both-run");
    });
    await t.step("a prefix of a run only the legacy store has", async () => {
      const args = ["--root", root, "--legacy-db", legacyDb, "--json"];
      const r = await runLedger(["show", "late-", ...args]);
      equal(r.code, 0, r.stderr);
      const shown = JSON.parse(r.stdout);
      equal(shown.source, "legacy");
      equal(shown.run.run_id, "late-legacy");
      // "l" starts late-legacy (legacy) and log-old (the log): ambiguous across the stores.
      const both = await runLedger(["show", "l", ...args]);
      equal(both.code, 2, both.stderr);
      match(both.stderr, /late-legacy.*log-old/);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("dual mode: show maps a legacy run's config and summary as runs does", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-dual-" });
  try {
    const legacyDb = `${root}/baseline_results.duckdb`;
    const created = Date.UTC(2025, 11, 1);
    await createLegacyDb(legacyDb, [
      // Started, never completed: no summary yet (as runs and the backfill have it).
      {
        run_id: "old-running",
        created_at_ms: created,
        started_at_ms: created + 1,
        summary_json: '{"partial":1}',
      },
      // Completed with NULL config and summary: both {} (as runs and the backfill have them).
      {
        run_id: "old-nulls",
        created_at_ms: created,
        started_at_ms: created + 1,
        completed_at_ms: created + 2,
      },
    ]);
    const args = ["--root", root, "--legacy-db", legacyDb, "--json"];
    const listed = await runLedger(["runs", ...args]);
    equal(listed.code, 0, listed.stderr);
    const summaries = new Map<string, unknown>(
      JSON.parse(listed.stdout).map((r: { run_id: string; summary: unknown }) => [
        r.run_id,
        r.summary,
      ]),
    );
    for (const [runId, summary] of [["old-running", null], ["old-nulls", {}]] as const) {
      const r = await runLedger(["show", runId, ...args]);
      equal(r.code, 0, r.stderr);
      const shown = JSON.parse(r.stdout).run;
      deepEqual([shown.summary, shown.config], [summary, {}], runId);
      deepEqual(shown.summary, summaries.get(runId), `${runId}: show and runs agree`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
