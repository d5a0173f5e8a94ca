import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  rejects,
  strictEqual as equal,
} from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex, RebuildInterruptedError } from "../../indexer/rebuild.ts";
import { dumpTables, ev, fullRun, query, T0, writePart } from "./_fixtures.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { InvalidMemoryLimitError } from "../../indexer/memory_limit.ts";

const DAY1 = "day=2026-01-20";

Deno.test("full rebuild indexes every event type of a Python-format log", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-000001.jsonl`, fullRun("run-a", T0));
    await writePart(root, `${DAY1}/part-000002.jsonl`, [
      ev("run.created", "run-b", T0 + 1000, {
        run_type: "policy",
        config: {},
        data_fingerprint: "",
      }),
      ev("run.started", "run-b", T0 + 1001),
      ev("run.failed", "run-b", T0 + 1002, { error: { message: "boom" }, phase_name: "load" }),
      ev("run.created", "run-c", T0 + 2000, {
        run_type: "policy",
        config: {},
        data_fingerprint: "x",
      }),
    ]);
    const report = await rebuildIndex(root, { full: true });
    const db = join(root, "index", "runs.duckdb");

    await t.step("report counts", () => {
      equal(report.mode, "full");
      equal(report.events, 14);
      equal(report.runs, 3);
      equal(report.errors, 0);
      equal(report.dbPath, db);
    });

    await t.step("latest_runs: newest first, statuses", async () => {
      const runs = await query(db, "SELECT run_id, run_type, status FROM latest_runs");
      deepEqual(runs, [
        { run_id: "run-c", run_type: "policy", status: "pending" },
        { run_id: "run-b", run_type: "policy", status: "failed" },
        { run_id: "run-a", run_type: "path-only", status: "completed" },
      ]);
    });

    await t.step("runs_d and runs_status columns", async () => {
      const [d] = await query(db, "SELECT * FROM runs_d WHERE run_id = 'run-a'");
      equal(d.created_at_ms, T0);
      deepEqual(JSON.parse(String(d.config)), { interval: "1m", note: "é ü 日本" });
      equal(d.data_fingerprint, "fp1");
      const [s] = await query(db, "SELECT * FROM runs_status WHERE run_id = 'run-b'");
      equal(s.failed_at_ms, T0 + 1002);
      deepEqual(JSON.parse(String(s.error_json)), { message: "boom" });
      equal(s.completed_at_ms, null);
    });

    await t.step("phases, trials, artifacts, summary view", async () => {
      const phases = await query(
        db,
        "SELECT phase_name, phase_order, started_at_ms, completed_at_ms, duration_ms FROM phase_timings ORDER BY phase_order",
      );
      deepEqual(phases, [
        {
          phase_name: "plan",
          phase_order: 0,
          started_at_ms: T0 + 2,
          completed_at_ms: T0 + 12,
          duration_ms: 10,
        },
        {
          phase_name: "load",
          phase_order: 1,
          started_at_ms: T0 + 13,
          completed_at_ms: T0 + 33,
          duration_ms: 20,
        },
      ]);
      const [sum] = await query(db, "SELECT * FROM run_phase_summary WHERE run_id = 'run-a'");
      deepEqual(sum, {
        run_id: "run-a",
        phase_count: 2,
        total_duration_ms: 30,
        phase_names: ["plan", "load"],
        phase_durations_ms: [10, 20],
      });
      const [trial] = await query(db, "SELECT * FROM trial_results");
      deepEqual(JSON.parse(String(trial.metrics)), { sharpe: 1.5 });
      const [art] = await query(db, "SELECT * FROM artifacts_catalog");
      equal(art.size_bytes, 1234);
      equal(art.artifact_type, "paths");
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("bad lines go to ingest_errors and never become events", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-000001.jsonl`, [
      ev("run.created", "r", T0, { run_type: "x", config: {}, data_fingerprint: "" }),
      "not json",
      "",
      "\0\0\0\0",
      "[1,2]",
      JSON.stringify({ event_type: "nope", event_id: "a", timestamp_ms: 1, run_id: "r" }),
      JSON.stringify(ev("phase.started", "r", T0 + 1, { phase_name: "plan", phase_order: -1 })),
      JSON.stringify(ev("run.started", "r", T0 + 2, { schema_version: 99 })),
    ], { tail: JSON.stringify(ev("run.started", "r", T0 + 3)) });
    const report = await rebuildIndex(root, {});
    equal(report.events, 1);
    const db = join(root, "index", "runs.duckdb");
    const errors = await query(db, "SELECT line, reason FROM ingest_errors ORDER BY line");
    deepEqual(errors.map((e) => e.line), [2, 3, 4, 5, 6, 7, 8, 9]);
    match(String(errors[0].reason), /not JSON/);
    match(String(errors[1].reason), /blank line/);
    match(String(errors[2].reason), /NUL/);
    match(String(errors[3].reason), /not a JSON object/);
    match(String(errors[4].reason), /unknown event_type "nope"/);
    match(String(errors[5].reason), /phase_order.*got -1/);
    match(String(errors[6].reason), /schema_version 99/);
    match(String(errors[7].reason), /torn tail/);
    const [files] = await query(db, "SELECT lines_indexed FROM ingest_files");
    equal(files.lines_indexed, 8);
    ok((await dumpTables(db)).events.length === 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const DAY2 = "day=2026-01-21";
const DAY3 = "day=2026-01-22";
const T1 = T0 + 86_400_000;
const T2 = T0 + 2 * 86_400_000;

/** Rebuild incrementally into the live index and in full into a second file; compare all tables. */
/** Update the index, rebuild it in full beside, compare; the update's part files found changed. */
async function assertIncrementalEqualsFull(root: string): Promise<string[]> {
  const incremental = await rebuildIndex(root, {});
  equal(incremental.mode, "incremental");
  const fullDb = join(root, "index", "full.duckdb");
  const full = await rebuildIndex(root, { full: true, dbPath: fullDb });
  deepEqual(full.changedFiles, { shown: [], count: 0 }, "a full rebuild compares with nothing");
  deepEqual(await dumpTables(join(root, "index", "runs.duckdb")), await dumpTables(fullDb));
  equal(incremental.changedFiles.count, incremental.changedFiles.shown.length);
  return incremental.changedFiles.shown;
}

Deno.test("incremental rebuilds give the same index as full rebuilds", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const runA = fullRun("run-a", T0);
    const runB = fullRun("run-b", T1);
    await writePart(root, `${DAY1}/part-000001.jsonl`, runA.slice(0, 3), {
      tail: JSON.stringify(runA[3]).slice(0, 25), // a writer is still finishing this line
    });
    await rebuildIndex(root, {});

    await t.step("torn tail completed later, more lines, a new file", async () => {
      const path = join(root, "events", DAY1, "part-000001.jsonl");
      await Deno.writeTextFile(path, JSON.stringify(runA[3]).slice(25) + "\n", { append: true });
      await writePart(root, `${DAY1}/part-000001.jsonl`, runA.slice(4), { append: true });
      await writePart(root, `${DAY2}/part-b.jsonl`, runB);
      // Appends, a torn tail completed, a new file: what writers do; nothing to warn of.
      deepEqual(await assertIncrementalEqualsFull(root), []);
      const db = join(root, "index", "runs.duckdb");
      equal((await query(db, "SELECT count(*) AS n FROM ingest_errors"))[0].n, 0);
      equal((await query(db, "SELECT count(*) AS n FROM events"))[0].n, 20);
    });

    await t.step("an update with nothing new reads nothing and changes no table", async () => {
      const db = join(root, "index", "runs.duckdb");
      const before = await dumpTables(db);
      const report = await rebuildIndex(root, {});
      equal(report.mode, "incremental");
      equal(report.filesRead, 0);
      equal(report.eventsRead, 0);
      deepEqual(await dumpTables(db), before);
      // The derived tables were kept, not emptied: both runs are still there, completed.
      const runs = await query(db, "SELECT run_id, status FROM latest_runs ORDER BY run_id");
      deepEqual(runs, [{ run_id: "run-a", status: "completed" }, {
        run_id: "run-b",
        status: "completed",
      }]);
      ok(Number((await query(db, "SELECT count(*) AS n FROM phase_timings"))[0].n) > 0);
    });

    await t.step("duplicates across files and bad lines in the new bytes", async () => {
      await writePart(root, `${DAY2}/part-c.jsonl`, [runA[0], "garbage", runA[9]]);
      await writePart(root, `${DAY2}/part-b.jsonl`, ["{}", runB[0]], {
        append: true,
      });
      deepEqual(await assertIncrementalEqualsFull(root), []);
      const db = join(root, "index", "runs.duckdb");
      equal((await query(db, "SELECT count(*) AS n FROM event_duplicates"))[0].n, 3);
      equal((await query(db, "SELECT count(*) AS n FROM ingest_errors"))[0].n, 2);
    });

    await t.step("a file rewritten with other content is read again", async () => {
      const indexed = (await Deno.stat(join(root, "events", DAY2, "part-c.jsonl"))).size;
      const line = ev("run.created", "run-c", T1 + 5, {
        run_type: "x",
        config: {},
        data_fingerprint: "",
      });
      await writePart(root, `${DAY2}/part-c.jsonl`, [line]);
      // Said, with what changed (a probe: a part cut back by hand left the index in silence).
      deepEqual(await assertIncrementalEqualsFull(root), [
        `${DAY2}/part-c.jsonl (cut back from ${indexed} indexed bytes to ${
          JSON.stringify(line).length + 1
        })`,
      ]);
    });

    await t.step(
      "a file that shrank or vanished is dropped and its duplicates come back",
      async () => {
        await Deno.remove(join(root, "events", DAY1, "part-000001.jsonl"));
        await writePart(root, `${DAY2}/part-c.jsonl`, [runA[0], runA[9]]);
        deepEqual((await assertIncrementalEqualsFull(root)).sort(), [
          `${DAY1}/part-000001.jsonl (gone from the log)`,
          `${DAY2}/part-c.jsonl (its last indexed line, line 1, changed)`,
        ]);
        const db = join(root, "index", "runs.duckdb");
        const runs = await query(db, "SELECT run_id, status FROM latest_runs ORDER BY run_id");
        deepEqual(runs, [{ run_id: "run-a", status: "completed" }, {
          run_id: "run-b",
          status: "completed",
        }]);
      },
    );

    await t.step(
      "the same size: a writer's torn tail repaired is not said, an edit is",
      async () => {
        const path = join(root, "events", DAY2, "part-d.jsonl");
        const torn = JSON.stringify(runB[0]).slice(0, 40); // a writer killed mid-line
        await writePart(root, `${DAY2}/part-d.jsonl`, [runB[1]], { tail: torn });
        deepEqual(await assertIncrementalEqualsFull(root), []);
        // The next writer cuts the torn tail and appends a line as long: the same size.
        const kept = `${JSON.stringify(runB[1])}\n`;
        const bad = `${"x".repeat(torn.length - 1)}\n`;
        await Deno.writeTextFile(path, kept + bad);
        await Deno.utime(path, new Date(), new Date(Date.now() + 10_000)); // a coarse clock's tick
        deepEqual(await assertIncrementalEqualsFull(root), []);
        // Now every byte was indexed: a rewrite at the same size is an edit.
        await Deno.writeTextFile(path, kept + bad.replace("x", "y"));
        await Deno.utime(path, new Date(), new Date(Date.now() + 20_000));
        deepEqual(await assertIncrementalEqualsFull(root), [
          `${DAY2}/part-d.jsonl (rewritten at the same size: another modification time)`,
        ]);
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a batch's lines are indexed once it acknowledges them, not before (SPEC 8)", async (t) => {
  // The state a batch leaves while it appends (or once killed): its record of the part's size
  // before its first byte (ledger/shared_part.ts), then its lines. tests/reliability/
  // stdin_kill_test.ts makes it with a real emit --stdin killed mid-append.
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const part = `${DAY1}/emit-000001.jsonl`;
    const path = await writePart(root, part, fullRun("run-a", T0));
    await rebuildIndex(root, {});
    const db = join(root, "index", "runs.duckdb");
    const marker = join(root, "events", ".pending", `2026-01-20__emit-000001.jsonl.size`);
    await Deno.mkdir(join(root, "events", ".pending"));
    await Deno.writeTextFile(marker, JSON.stringify({ size: (await Deno.stat(path)).size }));
    // The name ledger 0.2.0's first records had (no suffix), beside it: both are honoured.
    const firstName = marker.slice(0, -".size".length);
    await Deno.copyFile(marker, firstName);
    const batch = fullRun("run-b", T0 + 60_000);
    await writePart(root, part, batch, { append: true, tail: '{"event_type": "run.st' });
    const counts = async () =>
      (await query(
        db,
        `SELECT (SELECT count(*) FROM events) AS e,
        (SELECT count(*) FROM ingest_errors) AS x, (SELECT count(*) FROM runs_d) AS r`,
      ))[0];

    await t.step("pending: none of its lines, in an incremental or a full rebuild", async () => {
      // Its appends moved the part's time at the acknowledged size: no "rewritten" (a probe).
      await Deno.utime(path, new Date(), new Date(Date.now() + 20_000));
      deepEqual(await assertIncrementalEqualsFull(root), []);
      deepEqual(await counts(), { e: 10, x: 0, r: 1 });
      const full = await rebuildIndex(root, { full: true });
      equal(full.events, 10);
      // Read in ranges (a part larger than a batch) the same holds.
      const ranged = await rebuildIndex(root, { full: true, batchBytesMax: 64 * 1024 });
      equal(ranged.events, 10);
    });

    await t.step(
      "acknowledged (its record removed): every line, the torn tail reported",
      async () => {
        await Deno.remove(marker);
        await Deno.remove(firstName);
        await assertIncrementalEqualsFull(root);
        deepEqual(await counts(), { e: 20, x: 1, r: 2 });
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the earliest copy of a duplicated event wins, whatever the file names", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const created = ev("run.created", "r", T0 + 10, {
      run_type: "late",
      config: {},
      data_fingerprint: "",
    });
    const earlier = { ...created, timestamp_ms: T0 + 5, run_type: "early" };
    await writePart(root, `${DAY1}/part-a.jsonl`, [created]);
    await writePart(root, `${DAY1}/part-b.jsonl`, [earlier]);
    await rebuildIndex(root, {});
    const db = join(root, "index", "runs.duckdb");
    deepEqual(await query(db, "SELECT run_type, created_at_ms FROM runs_d"), [
      { run_type: "early", created_at_ms: T0 + 5 },
    ]);
    deepEqual(await query(db, "SELECT file FROM event_duplicates"), [
      { file: `${DAY1}/part-a.jsonl` },
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--since-date re-reads from that day and keeps what was indexed before", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    await writePart(root, `${DAY2}/part-1.jsonl`, fullRun("run-2", T1));
    await writePart(root, `${DAY3}/part-1.jsonl`, fullRun("run-3", T2));
    await rebuildIndex(root, {});
    const db = join(root, "index", "runs.duckdb");
    // Rewrite day 1 (must be kept as indexed) and day 3 (must be re-read).
    await writePart(root, `${DAY1}/part-1.jsonl`, []);
    await writePart(root, `${DAY3}/part-1.jsonl`, fullRun("run-3b", T2));
    const report = await rebuildIndex(root, { sinceDate: "2026-01-21" });
    equal(report.mode, "incremental");
    const runs = await query(db, "SELECT run_id FROM runs_d ORDER BY run_id");
    deepEqual(runs.map((r) => r.run_id), ["run-1", "run-2", "run-3b"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a removed day before --since-date stays indexed; otherwise it goes, as in full", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    await writePart(root, `${DAY2}/part-1.jsonl`, fullRun("run-2", T1));
    await rebuildIndex(root, {});
    const db = join(root, "index", "runs.duckdb");
    const ids = async () =>
      (await query(db, "SELECT run_id FROM runs_d ORDER BY run_id"))
        .map((r) => r.run_id);
    // Archived and removed (docs/OPERATIONS.md): kept by a rebuild whose window starts after it.
    await Deno.remove(join(root, "events", DAY1), { recursive: true });
    await writePart(root, `${DAY2}/part-2.jsonl`, fullRun("run-2b", T1 + 1000));
    await rebuildIndex(root, { sinceDate: "2026-01-21" });
    deepEqual(await ids(), ["run-1", "run-2", "run-2b"]);
    const [kept] = await query(db, "SELECT count(*) AS n FROM events WHERE run_id = 'run-1'");
    equal(kept.n, fullRun("run-1", T0).length);
    // Without a window, the index is what a full rebuild of the log makes: the day is gone.
    await rebuildIndex(root, {});
    deepEqual(await ids(), ["run-2", "run-2b"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("lines that are not UTF-8 are reported, the rest of the file is indexed", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const run = fullRun("run-u", T0);
    const path = await writePart(root, `${DAY1}/part-1.jsonl`, run.slice(0, 2));
    const bad = new Uint8Array([
      ...new TextEncoder().encode('{"x":"'),
      0xff,
      0xfe,
      0x22,
      0x7d,
      0x0a,
    ]);
    await Deno.writeFile(path, bad, { append: true });
    await writePart(root, `${DAY1}/part-1.jsonl`, run.slice(2), { append: true });
    await rebuildIndex(root, {});
    await assertIncrementalEqualsFull(root);
    const db = join(root, "index", "runs.duckdb");
    deepEqual(await query(db, "SELECT line, reason FROM ingest_errors"), [
      { line: 3, reason: "not UTF-8" },
    ]);
    equal((await query(db, "SELECT count(*) AS n FROM events"))[0].n, run.length);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Names of temporary files and staging directories left in the index directory. */
function leftovers(root: string): string[] {
  return [...Deno.readDirSync(join(root, "index"))].map((e) => e.name).filter((n) =>
    n.includes(".tmp") || n.includes(".stage-") || n.endsWith(".wal")
  );
}

Deno.test("a damaged index is rebuilt in full from the log, by itself", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    const db = join(root, "index", "runs.duckdb");
    await Deno.mkdir(join(root, "index"), { recursive: true });

    await t.step("garbage: the incremental rebuild falls back to full and says why", async () => {
      await Deno.writeTextFile(db, "not a duckdb file");
      const report = await rebuildIndex(root, {});
      equal(report.mode, "full");
      equal(report.events, 10);
      ok(report.recoveredFrom !== undefined);
      match(report.recoveredFrom, /index\/runs\.duckdb \(as copied to be updated\)/);
      deepEqual(leftovers(root), []);
      equal((await query(db, "SELECT count(*) AS n FROM events"))[0].n, 10);
    });

    await t.step("truncated: the same", async () => {
      await writePart(root, `${DAY1}/part-2.jsonl`, fullRun("run-2", T0 + 100));
      await rebuildIndex(root, { full: true });
      const bytes = await Deno.readFile(db);
      await Deno.writeFile(db, bytes.subarray(0, Math.floor(bytes.length / 3)));
      const report = await rebuildIndex(root, {});
      equal(report.events, 20);
      ok(report.recoveredFrom !== undefined, "the fallback is reported");
      deepEqual(leftovers(root), []);
      const again = await rebuildIndex(root, {});
      equal(again.mode, "incremental");
      equal(again.recoveredFrom, undefined);
      equal(again.events, 20);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an interrupted rebuild leaves the previous index and no temporary file", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    await rebuildIndex(root, { full: true });
    const db = join(root, "index", "runs.duckdb");
    const before = await Deno.readFile(db);
    await writePart(root, `${DAY1}/part-2.jsonl`, fullRun("run-2", T0 + 100));
    // The last: inside the derive's transaction (groups of 5 events: 4 groups).
    for (const step of ["log:", "reading", "read ", "deriving run tables: group 2"]) {
      const stop = new AbortController();
      await rejects(
        () =>
          rebuildIndex(root, {
            full: true,
            deriveGroupEventsMax: 5,
            signal: stop.signal,
            onProgress: (m) => {
              if (m.startsWith(step)) stop.abort(new Error("test stop"));
            },
          }),
        RebuildInterruptedError,
      );
      deepEqual(await Deno.readFile(db), before, `index unchanged after a stop at ${step}`);
      deepEqual(leftovers(root), [], `no leftovers after a stop at ${step}`);
    }
    const report = await rebuildIndex(root, {});
    equal(report.events, 20);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("stale: a running run whose process on this host is gone, or silent too long", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  // A live process of its own for the resumed run (this test's pid is shared below), started
  // before the run.started that names it.
  const resumer = new Deno.Command("sleep", { args: ["60"] }).spawn();
  // A process started now, on the pid a run named half an hour ago (not this test's own process:
  // under a loaded CI it had run for over 30 minutes, so the run was not older than it).
  const reused = new Deno.Command("sleep", { args: ["60"] }).spawn();
  try {
    const host = Deno.hostname();
    const child = new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).spawn();
    const deadPid = child.pid;
    await child.status;
    const now = Date.now();
    const created = (id: string, ageMs = 10) =>
      ev("run.created", id, now - ageMs, { run_type: "x", config: {}, data_fingerprint: "" });
    await writePart(root, `${DAY1}/part-1.jsonl`, [
      created("alive"),
      ev("run.started", "alive", now - 5, { host, pid: Deno.pid }),
      created("dead"),
      ev("run.started", "dead", now - 5, { host, pid: deadPid }),
      created("other-host"),
      ev("run.started", "other-host", now - 5, { host: "some-other-host", pid: deadPid }),
      created("old", 3 * 3_600_000 + 10),
      ev("run.started", "old", now - 3 * 3_600_000),
      // Resumed: its process now is the last run.started's, alive; the first one's is gone.
      created("resumed", 2 * 3_600_000 + 10),
      ev("run.started", "resumed", now - 2 * 3_600_000, { host, pid: deadPid }),
      ev("run.started", "resumed", now, { host, pid: resumer.pid }),
      // Started half an hour ago (not silent too long) on the pid a process has now: that
      // process started later, so the run's own process is gone.
      created("pid-reused", 30 * 60_000 + 10),
      ev("run.started", "pid-reused", now - 30 * 60_000, { host, pid: reused.pid }),
    ]);
    const db = join(root, "index", "runs.duckdb");
    await rebuildIndex(root, { staleAfterMs: 3_600_000 });
    const status = async () =>
      Object.fromEntries(
        (await query(db, "SELECT run_id, status FROM latest_runs")).map((
          r,
        ) => [r.run_id, r.status]),
      );
    const liveness = await query(db, "SELECT * FROM process_liveness ORDER BY pid");
    deepEqual(await status(), {
      alive: "running",
      dead: "stale",
      "other-host": "running",
      old: "stale",
      resumed: "running",
      "pid-reused": "stale",
    }, `liveness ${JSON.stringify(liveness)}, own pid ${Deno.pid}, dead pid ${deadPid}`);
    // A rebuild that can neither read /proc nor run ps (the background refresh child of a
    // backtest) keeps what is known: the dead run stays stale, incremental or full.
    for (const full of [false, true]) {
      await writePart(root, `${DAY1}/part-2.jsonl`, [created(`more-${full}`)], { append: true });
      const r = await rebuildWithoutLiveness(root, full);
      equal(r.code, 0, r.stderr);
      match(r.stderr, /pid check skipped/);
      equal((await status()).dead, "stale", `after a ${full ? "full" : "incremental"} rebuild`);
      equal((await status())["pid-reused"], "stale", `pid reuse kept after ${full}`);
      equal((await status()).resumed, "running", `resumed kept after ${full}`);
    }
    await rebuildIndex(root, { staleAfterMs: 24 * 3_600_000 });
    equal((await status()).old, "running");
  } finally {
    resumer.kill("SIGKILL");
    await resumer.status;
    reused.kill("SIGKILL");
    await reused.status;
    await Deno.remove(root, { recursive: true });
  }
});

/** `ledger rebuild-index` in a child that can read only the root and the code: no /proc, no ps. */
async function rebuildWithoutLiveness(root: string, full: boolean) {
  const repo = new URL("../..", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--config",
      join(repo, "deno.json"),
      `--allow-read=${root},${repo}`,
      `--allow-write=${root}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys=hostname",
      join(repo, "cli/ledger.ts"),
      "rebuild-index",
      "--root",
      root,
      "--verbose",
      "--stale-after-hours",
      "1",
      ...(full ? ["--full"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("files larger than a batch are read in ranges and give the same index", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    // ~270 KiB in one part: 4+ ranges of 64 KiB, with bad lines, a duplicate across ranges,
    // a line longer than a range, and a torn tail.
    const lines: (Record<string, unknown> | string)[] = [];
    for (let i = 0; i < 250; i++) lines.push(...fullRun(`run-${i}`, T0 + i * 100));
    lines.splice(1234, 0, "not json", "");
    lines.splice(2500, 0, lines[10]); // a duplicate of an early event, far later in the file
    lines.splice(2000, 0, {
      ...ev("trial.recorded", "run-5", T0 + 501, { trial_id: "big", metrics: {} }),
      params: { blob: "x".repeat(100_000) },
    });
    await writePart(root, `${DAY1}/part-big.jsonl`, lines, { tail: '{"event_type": "run.sta' });
    await writePart(root, `${DAY1}/part-small.jsonl`, fullRun("run-small", T0 + 7));
    const small = join(root, "index", "small.duckdb");
    const whole = join(root, "index", "whole.duckdb");
    const tiny = { batchBytesMax: 64 * 1024 };
    // Also derived in groups of runs (as a log far larger than the memory limit is).
    const ranged = await rebuildIndex(root, {
      full: true,
      dbPath: small,
      ...tiny,
      deriveGroupEventsMax: 300,
    });
    await rebuildIndex(root, { full: true, dbPath: whole });

    await t.step("full: ranges and whole reads agree, line numbers included", async () => {
      ok(ranged.phasesMs.derive !== undefined);
      deepEqual(await dumpTables(small), await dumpTables(whole));
      equal(ranged.duplicates, 1);
      const errors = await query(small, "SELECT line, reason FROM ingest_errors ORDER BY line");
      deepEqual(errors.map((e) => e.line), [1235, 1236, lines.length + 1]);
    });

    await t.step("incremental in ranges after appends agrees with full", async () => {
      const more: Record<string, unknown>[] = [];
      for (let i = 0; i < 60; i++) more.push(...fullRun(`more-${i}`, T0 + 90_000 + i));
      const path = join(root, "events", DAY1, "part-big.jsonl");
      const text = await Deno.readTextFile(path);
      // Complete the torn tail, then append whole lines.
      const completed = text + 'rted", "event_id": "tail-1", "timestamp_ms": ' + (T0 + 5) +
        ', "run_id": "run-1"}\n' + more.map((e) => JSON.stringify(e) + "\n").join("");
      await Deno.writeTextFile(path, completed);
      const r = await rebuildIndex(root, { dbPath: small, ...tiny });
      equal(r.mode, "incremental");
      await rebuildIndex(root, { full: true, dbPath: whole });
      deepEqual(await dumpTables(small), await dumpTables(whole));
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an incremental rebuild runs the schema SQL unless the index was made with the same", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    const db = join(root, "index", "runs.duckdb");
    const first = await rebuildIndex(root, {});
    equal(first.mode, "full");
    const [made] = await query(db, "SELECT value FROM index_meta WHERE key = 'schema_sha256'");
    match(String(made.value), /^[0-9a-f]{64}$/);

    await t.step("other schema SQL (an older ledger's, a view changed): run again", async () => {
      // As an index made by a ledger whose views differed: a view missing, another fingerprint.
      await writeIndex(db, [
        "DROP VIEW run_phase_summary",
        "UPDATE index_meta SET value = 'made-by-other-sql' WHERE key = 'schema_sha256'",
      ]);
      await writePart(root, `${DAY1}/part-2.jsonl`, fullRun("run-2", T0 + 100));
      const report = await rebuildIndex(root, {});
      equal(report.mode, "incremental");
      equal(report.runs, 2);
      deepEqual(
        (await query(db, "SELECT run_id FROM run_phase_summary ORDER BY run_id")).map((r) =>
          r.run_id
        ),
        ["run-1", "run-2"],
      );
      deepEqual(
        await query(db, "SELECT value FROM index_meta WHERE key = 'schema_sha256'"),
        [made],
      );
    });

    await t.step(
      "the same schema SQL: the incremental rebuild gives the full one's index",
      async () => {
        await writePart(root, `${DAY1}/part-3.jsonl`, fullRun("run-3", T0 + 200));
        const incremental = await rebuildIndex(root, {});
        equal(incremental.mode, "incremental");
        const tables = await dumpTables(db);
        await rebuildIndex(root, { full: true });
        deepEqual(tables, await dumpTables(db));
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Run `statements` on the index file read-write (as another writer would have left it). */
async function writeIndex(dbPath: string, statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(dbPath);
  const conn = await instance.connect();
  try {
    for (const sql of statements) await conn.run(sql);
    await conn.run("CHECKPOINT");
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

Deno.test("rebuildIndex refuses a memory limit under its 128MB floor, as the CLI does", async () => {
  // The library took the readers' 64MB floor, under which a rebuild was seen to run out of memory.
  const root = await Deno.makeTempDir({ prefix: "ledger_memory_floor_" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    await rejects(rebuildIndex(root, { memoryLimit: "96MB" }), InvalidMemoryLimitError);
    await rejects(Deno.stat(join(root, "index", "runs.duckdb")), Deno.errors.NotFound);
    equal((await rebuildIndex(root, { memoryLimit: "128MB" })).events, fullRun("run-1", T0).length);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("rebuild limits: batchBytesMax and deriveGroupEventsMax, former names kept, bad ones refused", async () => {
  // Issue 18: limits are named noun-first with Max; the 0.2.0 names still work until removed.
  const root = await Deno.makeTempDir({ prefix: "ledger_rebuild_limits_" });
  try {
    await writePart(root, `${DAY1}/part-1.jsonl`, fullRun("run-1", T0));
    const events = fullRun("run-1", T0).length;
    const full = { full: true };
    equal((await rebuildIndex(root, { ...full, batchBytesMax: 64 * 1024 })).events, events);
    equal((await rebuildIndex(root, { ...full, batchBytes: 64 * 1024 })).events, events);
    equal((await rebuildIndex(root, { ...full, deriveGroupEvents: 2 })).events, events);
    for (
      const bad of [
        { batchBytesMax: 1024 },
        { batchBytesMax: 1 << 20, batchBytes: 1 << 21 },
        { deriveGroupEventsMax: 0 },
        { deriveGroupEventsMax: Number.NaN },
        { deriveGroupEventsMax: 2.5 },
      ]
    ) {
      await rejects(rebuildIndex(root, { ...full, ...bad }), RangeError, JSON.stringify(bad));
    }
    // Callbacks and signals are checked up front too, by name (a probe: `onRead: 5` failed
    // mid-rebuild naming an inner `onBatch`; `onWait: 5` was taken).
    for (const name of ["onProgress", "onWait", "onRead", "signal", "lockWaitSignal"]) {
      await rejects(
        rebuildIndex(root, { ...full, [name]: 5 }),
        TypeError,
        `${name} must be a`,
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a part read in several ranges counts as one file read", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-idx-" });
  try {
    const events = Array.from({ length: 200 }, (_, i) => fullRun(`run-${i}`, T0 + i * 1000)).flat();
    const path = await writePart(root, `${DAY1}/part-000001.jsonl`, events);
    const batchBytesMax = 64 * 1024;
    ok((await Deno.stat(path)).size > 2 * batchBytesMax, "the part spans several batches");
    const report = await rebuildIndex(root, { full: true, batchBytesMax });
    equal(report.events, events.length);
    deepEqual([report.filesRead, report.filesScanned], [1, 1]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
