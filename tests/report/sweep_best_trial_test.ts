/**
 * A sweep's best trial's per-call results (`best_trial_results.parquet`):
 * the sweep writes them, they are the rows a policy run of the best trial's
 * params writes over the same data (row for row), and the report, the UI and
 * `ledger show` draw the sweep's equity curve and histograms from them, said
 * as the best trial's. Before, a sweep's page had neither (an audit): the
 * policy a quant would go on to trade had no curve.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { escapeHtml } from "../../report/html.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { charts, sections } from "./_page.ts";

const SWEEP = "sweep-b";
const POLICY = "policy-b";
const GRID = '{"type":"fixed_stop","stopPct":[0.2,0.3],"takeProfitPct":[1,2]}';

/** The rows of a Parquet file, in file order, as JSON text (exact, comparable). */
async function parquetRows(path: string): Promise<string[]> {
  const db = await DuckDBInstance.create(":memory:");
  try {
    const conn = await db.connect();
    try {
      const reader = await conn.runAndReadAll(
        `SELECT to_json(t)::VARCHAR FROM read_parquet('${path.replaceAll("'", "''")}') t`,
      );
      return reader.getRowsJS().map((r) => String(r[0]));
    } finally {
      conn.disconnectSync();
    }
  } finally {
    db.closeSync();
  }
}

Deno.test("a sweep's best trial: its per-call results, curve and histograms", async (t) => {
  await withTempDir(async (root) => {
    const sweep = await runLedger([
      "sweep",
      "policy",
      ...["--grid", GRID, "--fee-bps", "25", "--root", root, "--run-id", SWEEP, "--no-index"],
    ]);
    assert.equal(sweep.code, 0, sweep.stderr);
    const completed = JSON.parse(
      await Deno.readTextFile(join(root, "artifacts", "runs", SWEEP, "manifest.json")),
    );
    const best = completed.summary.best_trial as {
      trial_id: string;
      params: Record<string, unknown>;
      metrics: Record<string, number>;
    };
    assert.ok(best !== null, "the grid has a best trial");
    const file = join(root, "artifacts", "runs", SWEEP, "best_trial_results.parquet");
    assert.ok(sweep.stdout.includes(`best trial's calls: ${file}`), sweep.stdout);

    // The same policy as a policy run over the same data and costs.
    const policy = await runLedger([
      "backtest",
      "policy",
      ...["--policy", JSON.stringify(best.params), "--fee-bps", "25"],
      ...["--root", root, "--run-id", POLICY, "--no-index"],
    ]);
    assert.equal(policy.code, 0, policy.stderr);
    const indexed = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(indexed.code, 0, indexed.stderr);

    await t.step("the rows a policy run of the best trial's params writes", async () => {
      const rows = await parquetRows(file);
      const policyRows = await parquetRows(
        join(root, "artifacts", "runs", POLICY, "policy_results.parquet"),
      );
      assert.equal(rows.length, completed.summary.calls_total);
      assert.deepEqual(rows, policyRows);
      // Its trades are the ones the best trial's metrics count.
      const trades = rows.map((r) => JSON.parse(r)).filter((r) => r.exit_reason !== "no_entry");
      assert.equal(trades.length, best.metrics.calls);
      const mean = trades.reduce((s, r) => s + r.realized_return_bps, 0) / trades.length;
      assert.ok(Math.abs(mean - best.metrics.mean_return_bps) < 1e-6, `${mean}`);
      // Recorded as an artifact of the run, as the index lists it.
      const listed = await runLedger([
        "sql",
        `SELECT artifact_type FROM artifacts_catalog WHERE run_id = '${SWEEP}' ORDER BY 1`,
        "--format",
        "json",
        "--root",
        root,
      ]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(
        JSON.parse(listed.stdout).map((r: { artifact_type: string }) => r.artifact_type),
        ["best_trial_results", "manifest", "trials"],
      );
    });

    await t.step(
      "the report draws the policy run's curve for the sweep, said as its best trial's",
      async () => {
        const out = join(root, "r.html");
        const res = await runLedger(["report", SWEEP, POLICY, "--root", root, "--out", out]);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.stderr, "");
        const html = await Deno.readTextFile(out);
        const data = charts(html);
        assert.ok("run-0-equity" in data, "the sweep's view has an equity curve");
        const curve = (key: string) => (data[key] as { series: Record<string, unknown>[] }).series;
        assert.deepEqual(curve("run-0-equity"), [{ ...curve("run-1-equity")[0], label: SWEEP }]);
        assert.deepEqual(data["run-0-returns"], data["run-1-returns"]);
        assert.deepEqual(data["run-0-adverse"], data["run-1-adverse"]);
        const view = sections(html).get("run-0")!;
        assert.ok(
          view.includes(escapeHtml(`Equity curve, best trial ${best.trial_id}: cumulative return`)),
          "the title says whose curve it is",
        );
        assert.ok(
          view.includes(escapeHtml(`Realized return per call, best trial ${best.trial_id}`)),
        );
        // The policy run's own titles are as they were.
        assert.ok(sections(html).get("run-1")!.includes("Equity curve: cumulative return"));
        // The compare view draws both.
        const curves = data["compare-equity"] as { series: { label: string }[] };
        assert.deepEqual(curves.series.map((s) => s.label), ["A", "B"]);
      },
    );

    await t.step("ledger show: the equity line of the best trial", async () => {
      const env = { COLUMNS: "120" };
      const shown = await runLedger(["show", SWEEP, "--root", root], { env });
      assert.equal(shown.code, 0, shown.stderr);
      const line = shown.stdout.split("\n").find((l) => l.startsWith("equity "));
      assert.ok(line !== undefined, shown.stdout);
      assert.ok(line.endsWith(`calls, best trial ${best.trial_id}`), line);
      const policyShown = await runLedger(["show", POLICY, "--root", root], { env });
      const policyLine = policyShown.stdout.split("\n").find((l) => l.startsWith("equity "));
      // The same curve and total as the policy run's.
      assert.equal(line, `${policyLine}, best trial ${best.trial_id}`);
    });

    await t.step("an unreadable file: said on the sweep's view in place of the curve", async () => {
      await Deno.writeTextFile(file, "garbage\n");
      const out = join(root, "r2.html");
      const res = await runLedger(["report", SWEEP, "--root", root, "--out", out]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(res.stderr.includes(`${file} could not be read`), res.stderr);
      const html = await Deno.readTextFile(out);
      assert.ok(html.includes("<h2>Equity curve and histograms</h2>"));
      assert.ok(!("run-0-equity" in charts(html)));
    });

    await t.step("a recorded file that is gone: show says so, as the report does", async () => {
      const policyFile = join(root, "artifacts", "runs", POLICY, "policy_results.parquet");
      for (
        const [runId, path, name] of [
          [SWEEP, file, "best_trial_results.parquet"],
          [POLICY, policyFile, "policy_results.parquet"],
        ]
      ) {
        await Deno.remove(path);
        const shown = await runLedger(["show", runId, "--root", root], { env: { COLUMNS: "200" } });
        assert.equal(shown.code, 0, shown.stderr);
        const line = shown.stdout.split("\n").find((l) => l.startsWith("equity "));
        assert.equal(
          line,
          `equity     no ${name}: the run recorded it, but ${path} is not there`,
          shown.stdout,
        );
      }
    });
  });
});
