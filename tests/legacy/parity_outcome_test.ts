/**
 * How a legacy run ended reaches the log, and parity checks it (a probe of
 * dual mode, helper-247):
 *
 * - a completed run whose `error_json` is `null` (Python's
 *   `json.dumps(None)`), `""` or `{}` was listed failed in dual mode and
 *   backfilled with a `run.failed`: it records no error;
 * - parity compared a failure only when the legacy run failed, and never the
 *   status: a `run.failed`, or a `run.started` after the ending, written to
 *   the log since the backfill flipped a completed run to failed or running
 *   while parity held and `legacy archive` went ahead;
 * - a second `run.created` of another writer (an emit racing the backfill)
 *   made one run of two while parity held;
 * - a run that never ended kept its legacy summary nowhere in the log, and
 *   nothing said so.
 *
 * Real processes: `ledger runs --legacy-db`, `ledger legacy backfill`,
 * `parity` and `archive`, `ledger emit`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { legacyEventId } from "../../legacy/backfill.ts";
import { logText, runLedger, withTempDir } from "../_helpers.ts";

/** A week before the 2026-01-23 cutover. */
const T0_MS = Date.UTC(2026, 0, 16);

Deno.test("legacy: how a run ended is backfilled as it was, and parity compares it", async (t) => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    const completed = (run_id: string, i: number, error_json: string | null) => ({
      run_id,
      run_type: "baseline",
      created_at_ms: T0_MS + i * 60_000,
      config: `{"i":${i}}`,
      data_fingerprint: "fp",
      started_at_ms: T0_MS + i * 60_000 + 1_000,
      completed_at_ms: T0_MS + i * 60_000 + 2_000,
      summary_json: '{"win_rate":0.5}',
      error_json,
    });
    await createLegacyDb(legacyDb, [
      completed("err-null", 0, "null"),
      completed("err-empty", 1, ""),
      completed("err-obj", 2, "{}"),
      completed("done-1", 3, null),
      completed("done-2", 4, null),
      {
        run_id: "still-running",
        run_type: "baseline",
        created_at_ms: T0_MS + 5 * 60_000,
        config: "{}",
        data_fingerprint: "fp",
        started_at_ms: T0_MS + 5 * 60_000 + 1_000,
        summary_json: '{"calls_done":120,"win_rate":0.4}',
      },
    ]);
    const legacy = (command: string) =>
      runLedger(["legacy", command, "--root", root, "--legacy-db", legacyDb]);
    const emit = (...args: string[]) => runLedger(["emit", "--root", root, ...args]);

    await t.step(
      "an error_json of null, '' or {} is no failure, in dual mode and the log",
      async () => {
        const dual = await runLedger(["runs", "--json", "--root", root, "--legacy-db", legacyDb]);
        assert.equal(dual.code, 0, dual.stderr);
        const statuses = Object.fromEntries(
          (JSON.parse(dual.stdout) as { run_id: string; status: string }[])
            .map((r) => [r.run_id, r.status]),
        );
        for (const id of ["err-null", "err-empty", "err-obj"]) {
          assert.equal(statuses[id], "completed");
        }
        // show says why the summary the legacy row holds is not shown (helper-291).
        const shown = await runLedger([
          "show",
          "still-running",
          "--root",
          root,
          "--legacy-db",
          legacyDb,
        ]);
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, /^summary +-$/m);
        assert.match(
          shown.stderr,
          /^ledger show: warning: run "still-running" has not ended, and its legacy summary_json \(2 keys\)/m,
        );
        const backfill = await legacy("backfill");
        assert.equal(backfill.code, 0, backfill.stderr);
        assert.doesNotMatch(await logText(root), /"run\.failed"/);
        const runs = await runLedger(["runs", "--json", "--root", root]);
        const indexed = JSON.parse(runs.stdout) as { run_id: string; status: string }[];
        assert.deepEqual(
          indexed.filter((r) => r.run_id.startsWith("err-")).map((r) => r.status),
          ["completed", "completed", "completed"],
        );
        // The summary of the run that never ended has no event: said, by run.
        assert.match(
          backfill.stderr,
          /^ledger legacy: warning: run "still-running" has not ended, and its legacy summary_json \(2 keys\) has no event in the log/m,
        );
        const parity = await legacy("parity");
        assert.equal(parity.code, 0, parity.stdout + parity.stderr);
        assert.match(parity.stderr, /warning: run "still-running" has not ended/);
      },
    );

    await t.step(
      "a failure, a restart or a second creation written since is a difference",
      async () => {
        for (
          const args of [
            ["--event-type", "run.failed", "--run-id", "done-1", "--error", '{"message":"late"}'],
            ["--event-type", "run.started", "--run-id", "done-2"],
            ...[["--event-type", "run.created", "--run-id", "err-obj", "--run-type", "native"]],
          ]
        ) {
          const extra = args[3] === "err-obj"
            // As an emit racing the backfill wrote it (its check ran before the backfill's line).
            ? ["--config", '{"native":1}', "--data-fingerprint", "N", "--allow-existing"]
            : [];
          const r = await emit(...args, ...extra);
          assert.equal(r.code, 0, r.stderr);
        }
        const rebuilt = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(rebuilt.code, 0, rebuilt.stderr);
        const parity = await legacy("parity");
        assert.equal(parity.code, 1, parity.stdout + parity.stderr);
        const differences = [...parity.stdout.matchAll(/^difference "([^"]+)" (\w+):/gm)]
          .map((m) => `${m[1]} ${m[2]}`);
        for (
          const expected of [
            "done-1 failed_at_ms",
            "done-1 error_json",
            "done-1 status",
            "done-2 status",
            "err-obj created_count",
          ]
        ) {
          assert(differences.includes(expected), `${expected} in ${parity.stdout}`);
        }
        assert.match(
          parity.stdout,
          /^difference "done-2" status: legacy "completed", index "not ended"$/m,
        );
        const archive = await legacy("archive");
        assert.equal(archive.code, 1, archive.stdout + archive.stderr);
        await Deno.stat(legacyDb); // not moved
      },
    );
  });
});

Deno.test("legacy: a run.failed an earlier backfill wrote for an error_json of null is said", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    const completedAt = T0_MS + 2_000;
    await createLegacyDb(legacyDb, [{
      run_id: "was-failed",
      run_type: "baseline",
      created_at_ms: T0_MS,
      config: "{}",
      data_fingerprint: "fp",
      started_at_ms: T0_MS + 1_000,
      completed_at_ms: completedAt,
      summary_json: '{"win_rate":0.5}',
      error_json: "null",
    }]);
    // What an earlier version's backfill wrote besides the run's other events (a review: parity
    // then never held again, and nothing said why).
    const day = join(root, "events", "day=2026-01-16");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(
      join(day, "part-earlier.jsonl"),
      JSON.stringify({
        event_type: "run.failed",
        event_id: legacyEventId("was-failed", "run.failed"),
        timestamp_ms: completedAt,
        run_id: "was-failed",
        schema_version: 1,
        error: {
          legacy_value: null,
          message: "legacy run failed (no error recorded)",
          legacy_summary: { win_rate: 0.5 },
        },
      }) + "\n",
    );
    const warning =
      /^ledger legacy: warning: run "was-failed" was backfilled by an earlier ledger as failed: /m;
    for (const command of ["backfill", "parity"]) {
      const r = await runLedger(["legacy", command, "--root", root, "--legacy-db", legacyDb]);
      assert.equal(r.code, 0, `${command}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, warning, command);
    }
  });
});
