/**
 * `ledger show` of a sweep (a scale audit): the table prints 20 trials and
 * a count, but read every trial (1.9 GB for 1M). It now reads the first 20
 * and a count, and prints the same text; `--json` still has every trial.
 */
import assert from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { countRunTrials, readRunDetail, withIndex } from "../../indexer/queries.ts";
import { formatRunDetail } from "../../cli/show.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

/** Trials per run: more than the table shows, exactly as many, fewer, none. */
const RUNS: [string, number][] = [["sweep-25", 25], ["sweep-20", 20], ["sweep-3", 3], ["pol", 0]];

Deno.test("show: the first trials and a count, the same text as reading them all", async (t) => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    for (const [run_id, n] of RUNS) {
      await writer.appendBatch([
        { event_type: "run.created", run_id, run_type: "sweep", config: {}, data_fingerprint: "f" },
        ...Array.from({ length: n }, (_, i) => ({
          event_type: "trial.recorded",
          run_id,
          trial_id: `t${String(i + 1).padStart(2, "0")}`,
          timestamp_ms: Date.UTC(2026, 0, 20) + i, // recorded in this order
          params: { stopPct: i / 100 },
          metrics: { sharpe: i % 4, note: `trial ${i}` },
        })),
        { event_type: "run.completed", run_id, summary: { trials: n }, artifact_paths: {} },
      ]);
    }
    await writer.close();
    await rebuildIndex(root, {});

    await t.step(
      "readRunDetail with trialsMax: the first trials; countRunTrials: all",
      async () => {
        await withIndex(indexPath(root), async (conn) => {
          for (const [runId, n] of RUNS) {
            const all = await readRunDetail(conn, runId);
            const head = await readRunDetail(conn, runId, { trialsMax: 20 });
            assert.ok(all !== null && head !== null);
            assert.deepEqual(head.trials, all.trials.slice(0, 20), runId);
            assert.deepEqual({ ...head, trials: [] }, { ...all, trials: [] }, runId);
            assert.equal(await countRunTrials(conn, runId), n);
            assert.equal(all.trials.length, n);
            const text = formatRunDetail(all, { width: 100 });
            const trialCount = await countRunTrials(conn, runId);
            assert.equal(formatRunDetail(head, { width: 100, trialCount }), text, runId);
          }
          assert.equal(await readRunDetail(conn, "nope", { trialsMax: 20 }), null);
          assert.equal(await countRunTrials(conn, "nope"), 0);
        });
      },
    );

    await t.step(
      "the command: a count and the first 20 in the table, every trial in --json",
      async () => {
        const table = await runLedger(["show", "sweep-25", "--root", root]);
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /\ntrials \(25\)\n {2}t01 {2}params/);
        assert.match(table.stdout, /\n {2}t20 {2}params .*\n {2}\.\.\. 5 more \(use --json\)\n/);
        const json = await runLedger(["show", "sweep-25", "--json", "--root", root]);
        assert.equal(json.code, 0, json.stderr);
        assert.equal(JSON.parse(json.stdout).trials.length, 25);
      },
    );
  });
});
