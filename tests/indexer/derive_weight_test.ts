/**
 * A derive counts runs as well as events when it decides how many runs one
 * pass takes: a probe found logs of runs of one event each (two million
 * `run.started`, a million `run.created`) out of memory at 128MB and 256MB,
 * whose groups, counted in events alone, held 333k and 666k runs; and an
 * incremental rebuild of 500,000 new such runs derived them in one pass.
 * Here, with groups of 4,000 (`deriveGroupEventsMax`), 3,000 runs of one
 * event weigh 15,000 and are derived in groups, in full and incremental
 * rebuilds; the tables equal a derive in one pass.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

const GROUP = 4_000;

/** Runs of one event each: `run.created` for even `i`, `run.started` for odd. */
function oneEventRuns(prefix: string, count: number): Record<string, unknown>[] {
  return Array.from(
    { length: count },
    (_, i) =>
      i % 2 === 0
        ? ev("run.created", `${prefix}-${i}`, i, {
          run_type: "x",
          config: { i },
          data_fingerprint: "f",
        })
        : ev("run.started", `${prefix}-${i}`, i, { host: "another-host", pid: 7 }),
  );
}

/** How many groups the rebuild said it derived in (0: one pass). */
function derivedGroups(progress: readonly string[]): number {
  const groups = progress.map((p) => /^deriving run tables: group \d+ of (\d+)$/.exec(p))
    .filter((m) => m !== null);
  return groups.length === 0 ? 0 : Number(groups[0][1]);
}

Deno.test("runs of one event are derived in groups by their weight, full and incremental", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-1.jsonl", oneEventRuns("a", 3_000));
    const progress: string[] = [];
    const onProgress = (p: string) => progress.push(p);
    await rebuildIndex(root, { full: true, deriveGroupEventsMax: GROUP, onProgress });
    // 3,000 events and 4 a run: 15,000, about 4 groups (each cut once past 4,000).
    const fullGroups = derivedGroups(progress);
    assert.ok(fullGroups >= 3 && fullGroups <= 5, `${fullGroups} groups`);
    const db = join(root, "index", "runs.duckdb");
    const grouped = await dumpTables(db);
    await rebuildIndex(root, { full: true, onProgress });
    assert.deepEqual(grouped, await dumpTables(db), "the same tables as one pass");

    // 2,000 new runs (8,000 by weight): the incremental derive groups them too.
    await writePart(root, "day=2026-01-21/part-1.jsonl", oneEventRuns("b", 2_000));
    progress.length = 0;
    const incremental = await rebuildIndex(root, { deriveGroupEventsMax: GROUP, onProgress });
    assert.equal(incremental.mode, "incremental");
    assert.equal(incremental.runs, 5_000);
    assert.ok(derivedGroups(progress) >= 2, progress.join("\n"));
    const afterIncremental = await dumpTables(db);
    await rebuildIndex(root, { full: true });
    const full = await dumpTables(db);
    for (const table of Object.keys(full)) {
      if (table === "ingest_files" || table === "process_liveness") continue; // not derived
      assert.deepEqual(afterIncremental[table], full[table], `table ${table}`);
    }
  });
});

// A review: a grouped incremental derive built its groups from the events of the affected runs,
// so a run with no event left (its only file removed) was in no group and stayed in latest_runs.
Deno.test("a grouped incremental derive drops a run whose events left the log", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-a.jsonl", oneEventRuns("gone", 1));
    await writePart(root, "day=2026-01-20/part-b.jsonl", oneEventRuns("kept", 1));
    await rebuildIndex(root, { full: true, deriveGroupEventsMax: 4 });
    await Deno.remove(join(root, "events", "day=2026-01-20", "part-a.jsonl"));
    await writePart(
      root,
      "day=2026-01-20/part-b.jsonl",
      oneEventRuns("new", 1).map((e) => ({
        ...e,
        event_id: "new-0",
      })),
      { append: true },
    );
    const progress: string[] = [];
    const report = await rebuildIndex(root, {
      deriveGroupEventsMax: 4, // two affected runs weigh 8: groups
      onProgress: (p) => progress.push(p),
    });
    assert.equal(report.mode, "incremental");
    assert.ok(derivedGroups(progress) >= 2, progress.join("\n"));
    const db = join(root, "index", "runs.duckdb");
    const incremental = await dumpTables(db);
    assert.deepEqual(incremental.runs_d.map((r) => (r as { run_id: string }).run_id), [
      "kept-0",
      "new-0",
    ]);
    await rebuildIndex(root, { full: true });
    const full = await dumpTables(db);
    for (const table of Object.keys(full)) {
      if (table === "ingest_files" || table === "process_liveness") continue; // not derived
      assert.deepEqual(incremental[table], full[table], `table ${table}`);
    }
  });
});
