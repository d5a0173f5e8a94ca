/**
 * `ledger rerun` reads the config of a run's `manifest.json`; a field of
 * the wrong type is refused, naming the manifest, the field and the value.
 * A probe: `"fee_bps": "50"` (or `"abc"`, or null) was read as a fee of 0
 * and a `from` that was not a string as no bound, so the rerun recorded
 * other numbers, exit 0, no warning; `"from": "garbage"` was refused as
 * `fromMs must be a time in ms since the epoch, got null` (an internal
 * name, and not the value given).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RerunError, rerunRun } from "../../backtest/rerun.ts";
import { runPolicy } from "../../backtest/policy.ts";
import { REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

const SAMPLE = join(REPO_ROOT, "data", "sample");

Deno.test("rerun refuses a manifest config field of the wrong type", async (t) => {
  await withTempDir(async (root) => {
    const run = await runPolicy({
      root,
      runId: "p50",
      calls: join(SAMPLE, "calls.csv"),
      candles: join(SAMPLE, "candles_1m.parquet"),
      policy: { type: "fixed_stop", stopPct: 0.3 },
      feeBps: 50,
    });
    const path = join(root, "artifacts", "runs", run.runId, "manifest.json");
    const original = await Deno.readTextFile(path);
    const edited = async (field: string, value: unknown) => {
      const manifest = JSON.parse(original);
      manifest.config[field] = value;
      await Deno.writeTextFile(path, JSON.stringify(manifest));
    };
    const cases: [string, unknown, string][] = [
      ["fee_bps", "50", 'config.fee_bps must be a number, got "50"'],
      ["fee_bps", "abc", 'config.fee_bps must be a number, got "abc"'],
      ["fee_bps", null, "config.fee_bps must be a number, got null"],
      ["slippage_bps", "5", 'config.slippage_bps must be a number, got "5"'],
      ["from", 1700000000000, "config.from must be a string or null, got 1700000000000"],
      ["to", true, "config.to must be a string or null, got true"],
      ["from", "garbage", 'config.from must be an ISO 8601 time or null, got "garbage"'],
      ["max_entry_delay_ms", "60000", 'config.max_entry_delay_ms must be a number, got "60000"'],
      ["interval", 5, "config.interval must be a string or null, got 5"],
    ];
    for (const [i, [field, value, said]] of cases.entries()) {
      await t.step(`${field}: ${JSON.stringify(value)}`, async () => {
        await edited(field, value);
        const rerunId = `p50-rr${i}`;
        await assert.rejects(rerunRun(run.runId, { root, runId: rerunId }), (err) => {
          assert(err instanceof RerunError, String(err));
          assert.equal(err.kind, "not_rerunnable");
          assert.equal(err.message, `Manifest ${path}: ${said}`);
          return true;
        });
        // Refused before anything is written.
        assert.equal(await exists(join(root, "artifacts", "runs", rerunId)), false);
      });
    }
    await t.step("the CLI: one line naming manifest.json, exit 1", async () => {
      await edited("fee_bps", "50");
      const r = await runLedger(["rerun", run.runId, "--root", root, "--no-index"]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        r.stderr,
        `ledger rerun: Manifest ${path}: config.fee_bps must be a number, got "50"\n`,
      );
    });
    await t.step("a field absent, or null where a run writes null, is the default", async () => {
      const manifest = JSON.parse(original);
      delete manifest.config.slippage_bps; // as in runs made before the option
      manifest.config.from = null;
      await Deno.writeTextFile(path, JSON.stringify(manifest));
      const { report } = await rerunRun(run.runId, { root, runId: "p50-rr-ok" });
      assert.equal(report.identical, true);
    });
  });
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
