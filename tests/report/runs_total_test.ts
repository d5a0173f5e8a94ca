/**
 * `ledger report` of more runs than it holds says how many it holds of how
 * many on its terminal line, as the page says it. A probe: the line said
 * "500 runs" of an index of 621, the page "the newest 500 of 621". And the
 * UI's `?where=` past its 100,000 runs says so on the page.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { LiveIndex } from "../../report/data.ts";
import { uiHandler, WHERE_RUNS_MAX } from "../../report/server.ts";

/** Runs in the index: two past the report's 500. */
const RUNS = 502;

Deno.test("report: the terminal line says 500 of 502 runs", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const t0 = Date.UTC(2026, 0, 5);
    await emitAndIndex(
      root,
      Array.from({ length: RUNS }, (_, i) => ({
        event_type: "run.created",
        run_id: `run-${String(i).padStart(4, "0")}`,
        run_type: "policy",
        config: {},
        data_fingerprint: "fp",
        timestamp_ms: t0 + i,
      })),
    );
    const out = join(dir, "all.html");
    const all = await runLedger(["report", "--root", root, "--out", out]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      new RegExp(
        `^Wrote .*: 500 of ${RUNS} runs \\(the newest; name runs or use --where for others\\), `,
      ),
    );
    assert.match(
      await Deno.readTextFile(out),
      new RegExp(`Showing the newest 500 of ${RUNS} runs`),
    );
    // A --where matching more than 500: of how many matched, on the line and the page (a
    // probe: "500 runs" of 600 matches, said nowhere).
    const matched = await runLedger(
      ["report", "--root", root, "--where", "run_id ~ '^run-0'", "--out", out],
    );
    assert.equal(matched.code, 0, matched.stderr);
    assert.match(matched.stdout, new RegExp(`^Wrote .*: 500 of ${RUNS} runs \\(the newest; `));
    const page = await Deno.readTextFile(out);
    assert.match(page, new RegExp(`Showing the newest 500 of ${RUNS} runs`));
    assert.match(page, new RegExp(`data-count="runs">500 of ${RUNS} runs<`));
    // Two runs named: two of two, said as before.
    const two = await runLedger(["report", "run-0001", "run-0002", "--root", root, "--out", out]);
    assert.equal(two.code, 0, two.stderr);
    assert.match(two.stdout, /^Wrote .*: 2 runs and their compare, /);
  });
});

Deno.test("ui: a ?where= matching more runs than the page keeps says so", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const day = join(root, "events", "day=2026-01-05");
    await Deno.mkdir(day, { recursive: true });
    const t0 = Date.UTC(2026, 0, 5);
    const lines = Array.from({ length: WHERE_RUNS_MAX + 3 }, (_, i) =>
      JSON.stringify({
        event_id: `e${i}`,
        event_type: "run.created",
        run_id: `u${String(i).padStart(6, "0")}`,
        timestamp_ms: t0 + i,
        schema_version: 1,
        run_type: "policy",
        config: { i },
        data_fingerprint: "fp",
      }));
    await Deno.writeTextFile(join(day, "part-000001.jsonl"), lines.join("\n") + "\n");
    await rebuildIndex(root);
    const live = new LiveIndex(root);
    try {
      const handle = uiHandler(live);
      const over = await handle(new Request("http://ui/?where=config.i%20%3E%3D%200"));
      assert.equal(over.status, 200);
      const html = await over.text();
      assert.match(html, /data-notice>The filter matches more than 100000 runs: this page sorts/);
      // Narrower: no notice.
      const under = await handle(new Request("http://ui/?where=config.i%20%3C%2010"));
      assert.equal(under.status, 200);
      assert.doesNotMatch(await under.text(), /data-notice/);
    } finally {
      live.close();
    }
  });
});
