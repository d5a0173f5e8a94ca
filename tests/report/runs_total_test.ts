/**
 * `ledger report` of more runs than it holds says how many it holds of how
 * many on its terminal line, as the page says it. A probe: the line said
 * "500 runs" of an index of 621, the page "the newest 500 of 621". And the
 * UI's `?where=` sorts, counts and pages every match, past 100,000 too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { LiveIndex } from "../../report/data.ts";
import { uiHandler } from "../../report/server.ts";

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

Deno.test("ui: a ?where= matching 100,003 runs sorts, counts and pages every match", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const day = join(root, "events", "day=2026-01-05");
    await Deno.mkdir(day, { recursive: true });
    const t0 = Date.UTC(2026, 0, 5);
    const runs = 100_003;
    const lines = Array.from({ length: runs }, (_, i) =>
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
    const ids = (html: string) =>
      [...html.matchAll(/<tr><td class="id"><a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
    try {
      const handle = uiHandler(live);
      // The filter is part of the page's statement: no cap, no notice, every match counted (the
      // ids used to pass as a list capped at 100,000: the oldest three were left out, and a page
      // took 12-23 s at this size).
      const all = await handle(new Request("http://ui/?where=config.i%20%3E%3D%200"));
      assert.equal(all.status, 200);
      const html = await all.text();
      assert.doesNotMatch(html, /data-notice/);
      assert.match(html, new RegExp(`>${runs} runs<`));
      assert.equal(ids(html)[0], "u100002");
      // The oldest match, first when sorted by a field ascending.
      const oldest = await handle(
        new Request("http://ui/?where=config.i%20%3E%3D%200&sort=config.i&dir=asc&limit=3"),
      );
      assert.equal(oldest.status, 200);
      assert.deepEqual(ids(await oldest.text()), ["u000000", "u000001", "u000002"]);
      const under = await handle(new Request("http://ui/?where=config.i%20%3C%2010&limit=500"));
      assert.equal(under.status, 200);
      const few = await under.text();
      assert.match(few, />10 runs</);
      assert.equal(ids(few).length, 10);
      // A bad regular expression is a 400 naming it, as `ledger runs --where` refuses it.
      const bad = await handle(
        new Request(`http://ui/?where=${encodeURIComponent("run_id ~ '('")}`),
      );
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /regular expression|regex|pattern/i);
    } finally {
      live.close();
    }
  });
});
