/**
 * A failed legacy run's error and summary reach the log whole (a probe):
 * a `message` that is not text (a Python dict, a number) was replaced by
 * "legacy run failed (no error recorded)", and the summary a failed run
 * recorded was dropped, while `legacy parity` held and `legacy archive`
 * went ahead. Dual mode's `show` answered the same replaced message before
 * the backfill. Real processes: `ledger show --legacy-db`, `ledger legacy
 * backfill`, `ledger legacy parity`, `ledger show` on the index.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const OLD_MESSAGE = "legacy run failed (no error recorded)";

/** A week before the 2026-01-23 cutover. */
const T0_MS = Date.UTC(2026, 0, 16);

/** `[run_id, error_json, summary_json, the error the log must hold]`. */
const CASES: [string, string, string | null, Record<string, unknown>][] = [
  ["msg-obj", '{"message":{"text":"CUDA OOM","code":137},"phase":"train"}', null, {
    message: '{"code":137,"text":"CUDA OOM"}',
    phase: "train",
    legacy_message: { text: "CUDA OOM", code: 137 },
  }],
  ["msg-num", '{"message":404}', null, { message: "404", legacy_message: 404 }],
  ["msg-null", '{"message":null}', null, { message: "legacy run failed (no error recorded)" }],
  ["bare-text", '"boom"', null, { legacy_value: "boom", message: "boom" }],
  ["not-json", "Traceback: boom", null, {
    legacy_text: "Traceback: boom",
    message: "Traceback: boom",
  }],
  ["fail-sum", '{"message":"killed"}', '{"win_rate":0.61,"trades":412}', {
    message: "killed",
    legacy_summary: { win_rate: 0.61, trades: 412 },
  }],
];

Deno.test("legacy: a failed run's error message and summary reach the log whole", async (t) => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "legacy.duckdb");
    const root = join(dir, "ledger");
    await createLegacyDb(
      legacyDb,
      CASES.map(([run_id, error_json, summary_json], i) => ({
        run_id,
        run_type: "baseline",
        created_at_ms: T0_MS + i * 60_000,
        config: "{}",
        data_fingerprint: "fp",
        started_at_ms: T0_MS + i * 60_000 + 1_000,
        failed_at_ms: T0_MS + i * 60_000 + 2_000,
        error_json,
        summary_json,
      })),
    );
    const legacy = (command: string) =>
      runLedger(["legacy", command, "--root", root, "--legacy-db", legacyDb]);
    const errorOf = async (runId: string, ...flags: string[]) => {
      const r = await runLedger(["show", runId, "--json", "--root", root, ...flags]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).run.error;
    };
    await t.step("dual mode shows them from the legacy file", async () => {
      for (const [runId, , , error] of CASES) {
        assert.deepEqual(await errorOf(runId, "--legacy-db", legacyDb), error, runId);
      }
    });
    await t.step("backfilled, the log holds them and parity holds", async () => {
      const backfill = await legacy("backfill");
      assert.equal(backfill.code, 0, backfill.stderr);
      const parity = await legacy("parity");
      assert.equal(parity.code, 0, parity.stdout + parity.stderr);
      for (const [runId, , , error] of CASES) assert.deepEqual(await errorOf(runId), error, runId);
    });
    await t.step(
      "a log backfilled by 0.8.0 is taken as it is, with a warning per run",
      async () => {
        // What 0.8.0 wrote under the same event ids: the message replaced, no summary.
        const before: Record<string, Record<string, unknown>> = {
          "msg-obj": { message: OLD_MESSAGE, phase: "train" },
          "msg-num": { message: OLD_MESSAGE },
          "bare-text": { legacy_value: "boom", message: OLD_MESSAGE },
          "not-json": { legacy_text: "Traceback: boom", message: OLD_MESSAGE },
          "fail-sum": { message: "killed" },
        };
        for await (const day of Deno.readDir(join(root, "events"))) {
          if (!day.isDirectory || !day.name.startsWith("day=")) continue;
          for await (const part of Deno.readDir(join(root, "events", day.name))) {
            const path = join(root, "events", day.name, part.name);
            const lines = (await Deno.readTextFile(path)).split("\n").map((line) => {
              if (!line.includes('"run.failed"')) return line;
              const event = JSON.parse(line);
              return event.run_id in before
                ? JSON.stringify({ ...event, error: before[event.run_id] })
                : line;
            });
            await Deno.writeTextFile(path, lines.join("\n"));
          }
        }
        const again = await legacy("backfill");
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /^events written: 0$/m);
        assert.match(again.stdout, /^runs skipped: 0$/m);
        const parity = await legacy("parity");
        assert.equal(parity.code, 0, parity.stdout + parity.stderr);
        for (const out of [again.stderr, parity.stderr]) {
          const warned = [
            ...out.matchAll(/run "([^"]+)" was backfilled by ledger 0\.8\.0 or earlier/g),
          ]
            .map((m) => m[1]).sort();
          assert.deepEqual(warned, Object.keys(before).sort(), out);
        }
      },
    );
  });
});
