/**
 * Two different events under one `event_id` (a conflict, not a retry): the
 * index keeps the copy with the smallest `(timestamp_ms, file, line)`
 * (SPEC 7), and says so. A probe: a second line with the id of a
 * `run.completed` but holding a `run.failed` with an earlier time turned the
 * run from completed into failed, its summary gone, with nothing said by
 * `rebuild-index` or the daemon (only `ledger verify` listed the id). The
 * rebuild now counts such ids (`RebuildReport.conflicts`, from
 * `event_duplicates.content_md5`) and `rebuild-index` warns; a retry (the
 * same event at another time) is not a conflict. Full and incremental agree.
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildLogEntry } from "../../indexer/daemon.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { dumpTables, ev, query, T0, writePart } from "./_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("rebuild: an event id with two different events is counted and warned of", async () => {
  await withTempDir(async (root) => {
    const created = ev("run.created", "r1", T0, {
      run_type: "x",
      config: {},
      data_fingerprint: "",
    });
    const completed = ev("run.completed", "r1", T0 + 20, {
      summary: { pnl: 5 },
      artifact_paths: {},
    });
    const phase = ev("phase.started", "r1", T0 + 5, { phase_name: "load", phase_order: 0 });
    await writePart(root, "day=2026-01-20/part-a.jsonl", [created, phase, completed]);

    // A retry of the phase (same event, later time): a duplicate, not a conflict.
    await writePart(root, "day=2026-01-20/part-b.jsonl", [{ ...phase, timestamp_ms: T0 + 9 }]);
    const retried = await runLedger(["rebuild-index", "--root", root]);
    equal(retried.code, 0, retried.stderr);
    equal(retried.stderr, "");
    const dbPath = join(root, "index", "runs.duckdb");
    deepEqual(await query(dbPath, "SELECT status FROM latest_runs"), [{ status: "completed" }]);

    // The run.completed's id on a run.failed, earlier: it wins, the run reads failed.
    await writePart(root, "day=2026-01-20/part-b.jsonl", [{
      ...ev("run.failed", "r1", T0 + 10, { error: { message: "oom" } }),
      event_id: completed.event_id,
    }], { append: true });
    const incremental = await rebuildIndex(root, {});
    equal(incremental.mode, "incremental");
    equal(incremental.duplicates, 2);
    equal(incremental.conflicts, 1);
    deepEqual(await query(dbPath, "SELECT status FROM latest_runs"), [{ status: "failed" }]);
    const incrementalTables = await dumpTables(dbPath);

    const full = await runLedger(["rebuild-index", "--root", root, "--full"]);
    equal(full.code, 0, full.stderr);
    match(
      full.stderr,
      /^ledger rebuild-index: warning: 1 event id has copies that differ \(more than the time\): the copy with the smallest \(timestamp_ms, file, line\) counts; `ledger verify` lists them\n$/,
    );
    deepEqual(await dumpTables(dbPath), incrementalTables);
    // The daemon's line says it too (the same report).
    const again = await rebuildIndex(root, { full: true });
    equal(again.conflicts, 1);
    const entry = rebuildLogEntry(again);
    match(entry.msg, /, 1 event id with conflicting copies; /);
    equal(entry.fields?.duplicate_conflicts, 1);
  });
});

Deno.test("rebuild: a copy that differs only in key order or number spelling is not a conflict", async () => {
  await withTempDir(async (root) => {
    const created = ev("run.created", "r1", T0, {
      run_type: "x",
      config: { window: 20, nested: { b: [1, 2.5], a: "x" } },
      data_fingerprint: "",
    });
    const completed = ev("run.completed", "r1", T0 + 20, {
      summary: { pnl: 5, sharpe: 0, trades: 3 },
      artifact_paths: {},
    });
    await writePart(root, "day=2026-01-20/part-a.jsonl", [created, completed]);
    // Another writer's copies, later: keys in another order, 20.0 for 20, 2.5e0 for 2.5,
    // -0.0 for 0, an escaped letter: what `ledger verify` calls the same event.
    const createdText = JSON.stringify({ ...created, timestamp_ms: T0 + 30 })
      .replace(
        '"config":{"window":20,"nested":{"b":[1,2.5],"a":"x"}}',
        '"config":{"nested":{"a":"\\u0078","b":[1.0,2.5e0]},"window":20.0}',
      );
    const completedText = JSON.stringify({ ...completed, timestamp_ms: T0 + 31 })
      .replace(
        '"summary":{"pnl":5,"sharpe":0,"trades":3}',
        '"summary":{"trades":3,"sharpe":-0.0,"pnl":5.0}',
      );
    equal(createdText.includes('"window":20.0}'), true, createdText);
    equal(completedText.includes('"sharpe":-0.0'), true, completedText);
    await writePart(root, "day=2026-01-20/part-b.jsonl", [createdText]);
    const first = await rebuildIndex(root, {});
    equal(first.duplicates, 1);
    equal(first.conflicts, 0);
    await writePart(root, "day=2026-01-20/part-b.jsonl", [completedText], { append: true });
    const incremental = await rebuildIndex(root, {});
    equal(incremental.mode, "incremental");
    equal(incremental.duplicates, 2);
    equal(incremental.conflicts, 0);
    const full = await runLedger(["rebuild-index", "--root", root, "--full"]);
    equal(full.code, 0, full.stderr);
    equal(full.stderr, "");
    // `ledger verify` agrees: two retries, no conflict.
    const verified = await runLedger(["verify", "--root", root, "--json"]);
    const report = JSON.parse(verified.stdout) as { duplicates: { same_event: boolean }[] };
    deepEqual(report.duplicates.map((d) => d.same_event), [true, true], verified.stdout);

    // A value that really differs, deep in an array of an object: a conflict.
    const changed = createdText.replace("[1.0,2.5e0]", "[1.0,2.6]").replace(
      `"timestamp_ms":${T0 + 30}`,
      `"timestamp_ms":${T0 + 40}`,
    );
    await writePart(root, "day=2026-01-20/part-c.jsonl", [changed]);
    const conflicting = await rebuildIndex(root, {});
    equal(conflicting.mode, "incremental");
    equal(conflicting.conflicts, 1);
    equal((await rebuildIndex(root, { full: true })).conflicts, 1);
  });
});

// A review: `differs` was set per copy against the copy kept at the time, so after a later
// copy won, an incremental update and a full rebuild flagged different rows of one id.
Deno.test("rebuild: differs is the same after an incremental update as after a full rebuild", async () => {
  await withTempDir(async (root) => {
    const created = (time: number, v: number) => ({
      ...ev("run.created", "r1", time, { run_type: "x", config: { v }, data_fingerprint: "" }),
      event_id: "a",
    });
    await writePart(root, "day=2026-01-20/part-a.jsonl", [created(T0 + 2, 1), created(T0 + 3, 2)]);
    await rebuildIndex(root, { full: true });
    // An earlier copy, equal to the second: it wins; the first copy is the one that differs.
    await writePart(root, "day=2026-01-20/part-b.jsonl", [created(T0 + 1, 2)]);
    const incremental = await rebuildIndex(root, {});
    equal(incremental.mode, "incremental");
    equal(incremental.conflicts, 1);
    const dbPath = join(root, "index", "runs.duckdb");
    const flags = () =>
      query(dbPath, "SELECT file, line, differs FROM event_duplicates ORDER BY file, line");
    const afterIncremental = await flags();
    deepEqual(afterIncremental.map((r) => r.differs), [true, true]);
    deepEqual(
      await dumpTables(dbPath),
      await (async () => {
        await rebuildIndex(root, { full: true });
        return await dumpTables(dbPath);
      })(),
    );
    deepEqual(await flags(), afterIncremental);
  });
});

// A review: the canonical form joined its nodes as text, so keys holding `.` or `=` could pass
// for other paths and hide a conflict; and NaN (read as null by every reader, and by verify)
// was a conflict with null.
Deno.test("rebuild: keys with dots are not paths; NaN is null, as verify reads them", async () => {
  await withTempDir(async (root) => {
    const line = (id: string, time: number, config: string) =>
      `{"event_type":"run.created","event_id":"${id}","timestamp_ms":${time},"run_id":"r${id}",` +
      `"schema_version":1,"run_type":"x","config":${config},"data_fingerprint":""}`;
    await writePart(root, "day=2026-01-20/part-a.jsonl", [
      line("dots", T0, '{"a.b":{"c":1}}'),
      line("dots", T0 + 1, '{"a":{"b":{"c":1}}}'),
      line("eq", T0, '{"a=1.0,$.b":2}'),
      line("eq", T0 + 1, '{"a":1,"b":2}'),
      line("nan", T0, '{"x":NaN,"y":Infinity}'),
      line("nan", T0 + 1, '{"y":null,"x":null}'),
    ]);
    const r = await rebuildIndex(root, { full: true });
    equal(r.duplicates, 3);
    deepEqual(
      await query(
        join(root, "index", "runs.duckdb"),
        "SELECT event_id, differs FROM event_duplicates ORDER BY event_id",
      ),
      [
        { event_id: "dots", differs: true },
        { event_id: "eq", differs: true },
        { event_id: "nan", differs: false },
      ],
    );
    equal(r.conflicts, 2);
    // `ledger verify` says the same of each id.
    const verified = await runLedger(["verify", "--root", root, "--json"]);
    const report = JSON.parse(verified.stdout) as {
      duplicates: { event_id: string; same_event: boolean }[];
    };
    deepEqual(
      report.duplicates.map((d) => [d.event_id, !d.same_event]).sort(),
      [["dots", true], ["eq", true], ["nan", false]],
      verified.stdout,
    );
  });
});

Deno.test("rebuild: a conflicting copy fixed or removed is no conflict in an update either", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "log");
    const trial = (at: number, m: number) =>
      ev("trial.recorded", "r1", T0 + at, { trial_id: "t1", params: { a: 1 }, metrics: { m } });
    const first = trial(4, 1);
    const copy = (at: number, m: number) => ({ ...trial(at, m), event_id: first.event_id });
    await writePart(root, "day=2026-01-20/p1.jsonl", [
      ev("run.created", "r1", T0, { run_type: "x", config: {}, data_fingerprint: "" }),
      first,
    ]);
    await writePart(root, "day=2026-01-20/p2.jsonl", [copy(40, 1)]); // a retry
    await writePart(root, "day=2026-01-20/p3.jsonl", [copy(50, 9)]); // a conflict
    equal((await rebuildIndex(root, {})).conflicts, 1);
    const dbPath = join(root, "index", "runs.duckdb");
    const fullPath = join(dir, "full.duckdb");
    for (
      const change of [
        // Fixed in place, then removed: a probe saw both still warned of by every update.
        () => writePart(root, "day=2026-01-20/p3.jsonl", [copy(50, 1)]),
        () => Deno.remove(join(root, "events", "day=2026-01-20", "p3.jsonl")),
      ]
    ) {
      await change();
      const updated = await rebuildIndex(root, {});
      equal(updated.mode, "incremental");
      equal(updated.conflicts, 0);
      equal((await rebuildIndex(root, { full: true, dbPath: fullPath })).conflicts, 0);
      deepEqual(
        await query(dbPath, "SELECT file, differs FROM event_duplicates ORDER BY file"),
        await query(fullPath, "SELECT file, differs FROM event_duplicates ORDER BY file"),
      );
    }
  });
});

// A probe: fields a type does not define (kept in the log, not in the index: docs/INDEX.md)
// filled that type's row (`events.host` of a run.completed, `error` of a run.created) and told
// two copies apart: two copies differing only in an undefined `host` were a conflict, in `zzz`
// a retry.
Deno.test("rebuild: a field the event's type does not define is not in its row, nor compared", async () => {
  await withTempDir(async (root) => {
    const completed = ev("run.completed", "r1", T0 + 20, {
      summary: { ok: 1 },
      artifact_paths: {},
    });
    const created = ev("run.created", "r1", T0, {
      run_type: "x",
      config: {},
      data_fingerprint: "",
      error: { message: "not a run.created field" },
      host: "h",
    });
    await writePart(root, "day=2026-01-20/part-a.jsonl", [
      created,
      { ...completed, host: "A" },
      { ...completed, timestamp_ms: T0 + 21, host: "B" },
    ]);
    const dbPath = join(root, "index", "runs.duckdb");
    for (const flags of [["--full"], []]) {
      const r = await runLedger(["rebuild-index", "--root", root, ...flags]);
      equal(r.code, 0, r.stderr);
      equal(r.stderr, "", "a retry, not a conflict");
      deepEqual(
        await query(dbPath, "SELECT event_type, host, error FROM events ORDER BY timestamp_ms"),
        [
          { event_type: "run.created", host: null, error: null },
          { event_type: "run.completed", host: null, error: null },
        ],
      );
      deepEqual(await query(dbPath, "SELECT differs FROM event_duplicates"), [{ differs: false }]);
    }
  });
});
