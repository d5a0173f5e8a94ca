/**
 * The singular after 1 (an audit: "1 runs" in the report's header and
 * overview and the UI's overview, "1 trials" in `ledger sweep`'s summary
 * line and the sweep heatmap's note), on a real sweep of one trial: the only
 * run of its root.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { countOf } from "../../report/html.ts";
import { startUi } from "./_fixture.ts";

const SWEEP = "sweep-one";

Deno.test("one run, one trial: said in the singular", async (t) => {
  await withTempDir(async (root) => {
    const sweep = await runLedger([
      "sweep",
      "policy",
      "--grid",
      '{"type":"fixed_stop","stopPct":0.2}',
      "--root",
      root,
      "--run-id",
      SWEEP,
      "--no-index",
    ]);
    assert.equal(sweep.code, 0, sweep.stderr);
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);

    await t.step("countOf", () => {
      assert.deepEqual([0, 1, 2].map((n) => countOf(n, "run")), ["0 runs", "1 run", "2 runs"]);
    });

    await t.step("ledger sweep: the summary line", () => {
      assert.match(
        sweep.stdout,
        new RegExp(`^run ${SWEEP} completed \\(sweep, 1 trial, \\d+ ms\\)$`, "m"),
      );
    });

    await t.step("ledger report: header, overview and heatmap", async () => {
      const out = join(root, "r.html");
      const made = await runLedger(["report", "--root", root, "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      const html = await Deno.readTextFile(out);
      // (ok, not match: a failure need not print the whole page)
      assert.ok(/<span class="muted">1 run, generated /.test(html), "the header");
      assert.ok(html.includes(`<span class="muted" data-count="runs">1 run</span>`), "overview");
      assert.ok(/<span class="muted">1 trial; a cell shows /.test(html), "the heatmap's note");
      assert.deepEqual(html.match(/\b1 (runs|trials)\b/g), null);
    });

    await t.step("ledger ui: overview and the sweep's page", async () => {
      const ui = await startUi(root);
      try {
        const overview = await (await fetch(`${ui.url}/`)).text();
        assert.ok(overview.includes(`<span class="muted">1 run</span></form>`), "overview");
        const run = await (await fetch(`${ui.url}/run/${SWEEP}`)).text();
        assert.ok(/<span class="muted">1 trial; a cell shows /.test(run), "the heatmap's note");
        assert.deepEqual((overview + run).match(/\b1 (runs|trials)\b/g), null);
      } finally {
        await ui.stop();
      }
    });
  });
});
