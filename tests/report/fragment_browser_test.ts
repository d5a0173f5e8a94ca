/**
 * A report file opened with a `#` fragment that is not valid percent-encoding
 * (`#%E0%A4%A`): a probe found the page's script throwing `URI malformed`
 * and every section left hidden, a blank page. It now shows the first
 * section (the overview), as for a fragment naming no section. Real `ledger
 * emit`, `rebuild-index` and `report`, then the file in headless Chromium.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { chromiumMissing, waitForCharts, withChromiumPage } from "./_browser.ts";
import { emitAndIndex } from "./_fixture.ts";

Deno.test({
  name: "report: a malformed # fragment shows the overview, not a blank page",
  ignore: chromiumMissing("fragment_browser_test"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.now() - 60_000;
      const events = [
        { event_type: "run.created", run_type: "policy", config: {}, data_fingerprint: "fp" },
        { event_type: "run.started" },
        { event_type: "run.completed", summary: {}, artifact_paths: {} },
      ].map((e, i) => ({ ...e, run_id: "frag-1", timestamp_ms: t0 + i }));
      await emitAndIndex(root, events);
      const out = join(dir, "r.html");
      const made = await runLedger(["report", "--root", root, "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      await withChromiumPage(async (page, problems) => {
        await page.goto(`file://${out}#%E0%A4%A`); // resolves once loaded: the script has run
        const active = await page.locator("section.view.active").evaluateAll((s) =>
          s.map((e) => e.id)
        );
        assert.deepEqual(active, ["overview"]);
        assert.deepEqual(problems, []);
        await waitForCharts(page, "section.active");
        // A good fragment still opens its section.
        await page.goto(`file://${out}#run-0`);
        await waitForCharts(page, "section.active");
        const run = await page.locator("section.view.active").evaluateAll((s) =>
          s.map((e) => e.id)
        );
        assert.deepEqual(run, ["run-0"]);
      });
    });
  },
});
