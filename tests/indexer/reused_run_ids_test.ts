/**
 * Two runs given one run id (a script with a fixed `--run-id` run twice, in
 * two processes): the index merges them into one run, the first's config
 * with the second's summary. A probe: `rebuild-index` said nothing. The
 * rebuild counts run ids with more than one `run.created`
 * (`runs_status.created_count`, `RebuildReport.reusedRuns`), `rebuild-index`
 * warns and the daemon's line names them; full and incremental agree.
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildLogEntry } from "../../indexer/daemon.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, query, T0, writePart } from "./_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("rebuild: a run id created twice is counted and warned of", async () => {
  await withTempDir(async (root) => {
    const run = (part: string, stop: number, startMs: number) =>
      writePart(root, `day=2026-01-20/${part}`, [
        ev("run.created", "my-sweep", startMs, {
          run_type: "sweep",
          config: { stop },
          data_fingerprint: `fp${stop}`,
        }),
        ev("run.started", "my-sweep", startMs + 1),
        ev("run.completed", "my-sweep", startMs + 2, {
          summary: { best: stop },
          artifact_paths: {},
        }),
      ]);
    await run("ledger-aaaa-000001.jsonl", 0.1, T0);
    await writePart(root, "day=2026-01-20/ledger-cccc-000001.jsonl", [
      ev("run.created", "alone", T0, { run_type: "x", config: {}, data_fingerprint: "" }),
    ]);
    const first = await rebuildIndex(root, {});
    deepEqual(first.reusedRuns, { shown: [], count: 0 });

    await run("ledger-bbbb-000001.jsonl", 0.2, T0 + 60_000);
    const incremental = await rebuildIndex(root, {});
    equal(incremental.mode, "incremental");
    deepEqual(incremental.reusedRuns, { shown: ["my-sweep"], count: 1 });
    const dbPath = join(root, "index", "runs.duckdb");
    deepEqual(
      await query(dbPath, "SELECT run_id, created_count FROM runs_status ORDER BY run_id"),
      [{ run_id: "alone", created_count: 1 }, { run_id: "my-sweep", created_count: 2 }],
    );
    const incrementalTables = await dumpTables(dbPath);

    const full = await runLedger(["rebuild-index", "--root", root, "--full"]);
    equal(full.code, 0, full.stderr);
    match(
      full.stderr,
      /^ledger rebuild-index: warning: 1 run id has more than one run\.created \(two runs given one id, merged into one run in the index: give each run its own id; `ledger verify` lists the lines\): "my-sweep"\n$/,
    );
    deepEqual(await dumpTables(dbPath), incrementalTables);
    const entry = rebuildLogEntry(await rebuildIndex(root, {}));
    match(entry.msg, /, 1 run id given to two runs \(merged\): "my-sweep"; /);
    equal(entry.fields?.reused_run_ids, 1);
  });
});
