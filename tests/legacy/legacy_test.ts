import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { openWriter } from "../../ledger/writer.ts";
import { logText, runLedger } from "../_helpers.ts";
import {
  archiveLegacy,
  backfillLegacy,
  checkParity,
  cutoverMs,
  dayStartMs,
  getSourceForRun,
  legacyEventId,
  listDualRuns,
  ParityError,
  queryRuns,
  queryRunStatus,
  sourceForCreatedAt,
} from "../../legacy/dual.ts";
import {
  countRows,
  createIndexDb,
  createLegacyDb,
  execSql,
  type FixtureRun,
  type IndexFixtureRun,
} from "./_legacy_fixture.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const CUT = Date.UTC(2026, 0, 23);
const INJECTION_ID = "x'; DROP TABLE runs_d; --";

const LEGACY: FixtureRun[] = [
  {
    run_id: "old-1",
    run_type: "path-only",
    created_at_ms: CUT - 10 * DAY_MS,
    config: '{"a":1}',
    data_fingerprint: "fp1",
    started_at_ms: CUT - 10 * DAY_MS + 1000,
    completed_at_ms: CUT - 10 * DAY_MS + 5000,
    summary_json: '{"calls":3}',
  },
  {
    // Also in the index (backfilled), created before the cutover: legacy answers.
    run_id: "both-old",
    run_type: "policy",
    created_at_ms: CUT - 2 * DAY_MS,
    config: "{}",
    data_fingerprint: "fp2",
    started_at_ms: CUT - 2 * DAY_MS + 10,
    failed_at_ms: CUT - 2 * DAY_MS + 20,
    error_json: '{"message":"boom"}',
  },
  {
    // Also in the index, created after the cutover (dual writes): the event log answers.
    run_id: "both-new",
    run_type: "policy",
    created_at_ms: CUT + DAY_MS,
    config: "{}",
    data_fingerprint: "fp3",
  },
  { run_id: INJECTION_ID, run_type: "path-only", created_at_ms: CUT - 5 * DAY_MS },
];

const INDEX: IndexFixtureRun[] = [
  {
    run_id: "both-old",
    run_type: "policy",
    created_at_ms: CUT - 2 * DAY_MS,
    started_at_ms: CUT - 2 * DAY_MS + 10,
    status: "running",
  },
  {
    run_id: "both-new",
    run_type: "policy",
    created_at_ms: CUT + DAY_MS,
    started_at_ms: CUT + DAY_MS + 10,
    completed_at_ms: CUT + DAY_MS + 99,
    summary_json: '{"ok":true}',
    status: "completed",
  },
  { run_id: "new-1", run_type: "path-only", created_at_ms: CUT + 3 * DAY_MS, status: "pending" },
];

async function withStores(
  body: (
    paths: { dir: string; legacyDbPath: string; root: string; indexDbPath: string },
  ) => Promise<
    void
  >,
  stores: { legacy?: FixtureRun[]; index?: IndexFixtureRun[] } = { legacy: LEGACY, index: INDEX },
) {
  const dir = await Deno.makeTempDir({ prefix: "ledger_legacy_" });
  try {
    const legacyDbPath = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    const indexDbPath = join(root, "index", "runs.duckdb");
    if (stores.legacy) await createLegacyDb(legacyDbPath, stores.legacy);
    if (stores.index) await createIndexDb(indexDbPath, stores.index);
    await body({ dir, legacyDbPath, root, indexDbPath });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cutover and source rules", async (t) => {
  await t.step("the default cutover is 2026-01-23 at UTC midnight", () => {
    equal(cutoverMs(), CUT);
    equal(cutoverMs({ cutoverDate: "2025-12-01" }), Date.UTC(2025, 11, 1));
  });
  await t.step("before the cutover is legacy, from it on the event log", () => {
    equal(sourceForCreatedAt(CUT - 1), "legacy");
    equal(sourceForCreatedAt(CUT), "event_log");
    equal(sourceForCreatedAt(CUT - 1, { cutoverDate: "2026-01-01" }), "event_log");
  });
  await t.step("a malformed date is rejected with its value", () => {
    let message = "";
    try {
      dayStartMs("2026-02-30");
    } catch (err) {
      message = (err as Error).message;
    }
    match(message, /YYYY-MM-DD, got "2026-02-30"/);
  });
  await t.step("backfill event ids are deterministic and distinct per type", () => {
    equal(legacyEventId("r1", "run.created"), legacyEventId("r1", "run.created"));
    ok(legacyEventId("r1", "run.created") !== legacyEventId("r1", "run.started"));
    match(legacyEventId("r1", "run.created"), /^legacy-[0-9a-f]{24}$/);
  });
});

Deno.test("queryRuns unions both stores, each run once", async (t) => {
  await withStores(async ({ legacyDbPath, root }) => {
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root, nowMs: CUT });
    await t.step("no warnings when both stores are there", () => deepEqual(warnings, []));
    await t.step("every run once, newest first, with its source", () => {
      deepEqual(
        runs.map((r) => [r.run_id, r.source]),
        [
          ["new-1", "event_log"],
          ["both-new", "event_log"],
          ["both-old", "legacy"],
          [INJECTION_ID, "legacy"],
          ["old-1", "legacy"],
        ],
      );
    });
    await t.step("status follows the answering store", () => {
      const status = Object.fromEntries(runs.map((r) => [r.run_id, r.status]));
      equal(status["both-old"], "failed"); // the legacy row, not the index's "running"
      equal(status["both-new"], "completed");
      equal(status["old-1"], "completed");
      equal(status[INJECTION_ID], "pending");
      equal(runs.find((r) => r.run_id === "old-1")!.created_at_ms, CUT - 10 * DAY_MS);
    });
    await t.step("sinceDate, runType, status and limit filter", async () => {
      const since = await queryRuns({ sinceDate: "2026-01-21" }, { legacyDbPath, root });
      deepEqual(since.runs.map((r) => r.run_id), ["new-1", "both-new", "both-old"]);
      const typed = await queryRuns({ runType: "policy", limit: 1 }, { legacyDbPath, root });
      deepEqual(typed.runs.map((r) => r.run_id), ["both-new"]);
      const failed = await queryRuns({ status: "failed" }, { legacyDbPath, root });
      deepEqual(failed.runs.map((r) => r.run_id), ["both-old"]);
    });
    await t.step("a later cutover moves a shared run to the legacy store", async () => {
      const { runs } = await queryRuns({}, { legacyDbPath, root, cutoverDate: "2026-06-01" });
      equal(runs.find((r) => r.run_id === "both-new")!.source, "legacy");
      equal(runs.find((r) => r.run_id === "new-1")!.source, "event_log");
    });
  });
});

Deno.test("queryRunStatus and getSourceForRun", async (t) => {
  await withStores(async ({ legacyDbPath, root }) => {
    const options = { legacyDbPath, root };
    await t.step("one run's status, from the store that answers", async () => {
      const { statuses } = await queryRunStatus({ runId: "both-old" }, options);
      equal(statuses.length, 1);
      equal(statuses[0].source, "legacy");
      equal(statuses[0].status, "failed");
      equal(statuses[0].failed_at_ms, CUT - 2 * DAY_MS + 20);
      equal(statuses[0].error_json, '{"message":"boom"}');
      const all = await queryRunStatus({}, options);
      equal(all.statuses.length, 5);
    });
    await t.step(
      "a run in one store only is answered by it, whatever createdAtMs says",
      async () => {
        // docs/MIGRATION.md: "A run in only one store is answered from that store whatever its date".
        const beforeCut = Date.UTC(2026, 0, 1);
        deepEqual(await getSourceForRun("new-1", beforeCut, options), {
          source: "event_log",
          warnings: [],
        });
        equal((await getSourceForRun("old-1", CUT + 10 * DAY_MS, options)).source, "legacy");
      },
    );
    await t.step(
      "for a run both hold, the stores' creation time wins over createdAtMs",
      async () => {
        equal((await getSourceForRun("both-new", CUT - DAY_MS, options)).source, "event_log");
        equal((await getSourceForRun("both-old", CUT + DAY_MS, options)).source, "legacy");
      },
    );
    await t.step("with createdAtMs a run in neither store is still null", async () => {
      equal((await getSourceForRun("nobody", CUT - 1, options)).source, null);
      const missing = { legacyDbPath: "/nonexistent.db", root: "/nonexistent-root" };
      const r = await getSourceForRun("anything", CUT - 1, missing);
      equal(r.source, null);
      equal(r.warnings.length, 2);
    });
    await t.step("without createdAtMs the stores are looked up", async () => {
      equal((await getSourceForRun("old-1", undefined, options)).source, "legacy");
      equal((await getSourceForRun("both-old", undefined, options)).source, "legacy");
      equal((await getSourceForRun("both-new", undefined, options)).source, "event_log");
      equal((await getSourceForRun("new-1", undefined, options)).source, "event_log");
      equal((await getSourceForRun("nobody", undefined, options)).source, null);
    });
  });
});

Deno.test("SQL-injection-shaped run ids are bound, not spliced", async () => {
  await withStores(async ({ legacyDbPath, root, indexDbPath }) => {
    const options = { legacyDbPath, root };
    const { runs } = await queryRuns({ runId: INJECTION_ID }, options);
    deepEqual(runs.map((r) => [r.run_id, r.source]), [[INJECTION_ID, "legacy"]]);
    const { statuses } = await queryRunStatus({ runId: INJECTION_ID }, options);
    equal(statuses.length, 1);
    equal((await getSourceForRun(INJECTION_ID, undefined, options)).source, "legacy");
    const quoted = await queryRuns({ runId: `old-1' OR '1'='1` }, options);
    deepEqual(quoted.runs, []);
    // Both tables are still there with all their rows.
    equal(await countRows(legacyDbPath, "SELECT * FROM optimizer.runs_d"), LEGACY.length);
    equal(await countRows(indexDbPath, "SELECT * FROM runs_d"), INDEX.length);
  });
});

Deno.test("missing sources are warnings, not crashes", async (t) => {
  await t.step("no legacy file: event-log runs and one warning", async () => {
    await withStores(async ({ legacyDbPath, root }) => {
      const { runs, warnings } = await queryRuns({}, { legacyDbPath, root });
      deepEqual(runs.map((r) => r.source), ["event_log", "event_log", "event_log"]);
      equal(warnings.length, 1);
      match(warnings[0], /legacy database .*baseline_results\.duckdb does not exist/);
    }, { index: INDEX });
  });
  await t.step("no index: legacy runs and one warning", async () => {
    await withStores(async ({ legacyDbPath, root }) => {
      const { runs, warnings } = await queryRuns({}, { legacyDbPath, root });
      equal(runs.length, LEGACY.length);
      ok(runs.every((r) => r.source === "legacy"));
      equal(warnings.length, 1);
      match(warnings[0], /event-log index .*runs\.duckdb does not exist/);
    }, { legacy: LEGACY });
  });
  await t.step("neither: an empty list and two warnings", async () => {
    await withStores(async ({ legacyDbPath, root }) => {
      const { runs, warnings } = await queryRuns({}, { legacyDbPath, root });
      deepEqual(runs, []);
      equal(warnings.length, 2);
      equal((await getSourceForRun("old-1", undefined, { legacyDbPath, root })).source, null);
    }, {});
  });
  await t.step("a legacy file without runs_status: runs show as pending", async () => {
    await withStores(async ({ dir, root }) => {
      const legacyDbPath = join(dir, "nostatus.duckdb");
      await createLegacyDb(legacyDbPath, LEGACY, { statusTable: false });
      const { runs, warnings } = await queryRuns({}, { legacyDbPath, root });
      equal(runs.length, LEGACY.length);
      ok(runs.every((r) => r.status === "pending"));
      match(warnings.join("\n"), /optimizer\.runs_status .* is missing/);
    }, {});
  });
  await t.step("a legacy file without runs_d: no legacy runs, a warning", async () => {
    await withStores(async ({ dir, root }) => {
      const legacyDbPath = join(dir, "empty.duckdb");
      await createLegacyDb(legacyDbPath, [], { runsTable: false, statusTable: false });
      const { runs, warnings } = await queryRuns({}, { legacyDbPath, root });
      equal(runs.length, INDEX.length);
      match(warnings.join("\n"), /optimizer\.runs_d .* is missing/);
    }, { index: INDEX });
  });
  await t.step("a legacy file without the optional failure columns", async () => {
    await withStores(async ({ dir, root }) => {
      const legacyDbPath = join(dir, "nofail.duckdb");
      await createLegacyDb(legacyDbPath, LEGACY, { failureColumns: false });
      const nowMs = CUT - 2 * DAY_MS + 60_000;
      const options = { legacyDbPath, root, skipIndex: true, nowMs };
      const { runs, warnings } = await queryRuns({}, options);
      deepEqual(warnings, []);
      equal(runs.find((r) => r.run_id === "both-old")!.status, "running");
      const later = await queryRuns({}, { ...options, nowMs: CUT });
      equal(later.runs.find((r) => r.run_id === "both-old")!.status, "stale");
    }, {});
  });
  await t.step("a file that is not a DuckDB database: a warning", async () => {
    await withStores(async ({ dir, root }) => {
      const legacyDbPath = join(dir, "garbage.duckdb");
      await Deno.writeTextFile(legacyDbPath, "not a database\n".repeat(100));
      const { runs, warnings } = await queryRuns({}, { legacyDbPath, root });
      equal(runs.length, INDEX.length);
      match(warnings.join("\n"), /The legacy database \S+garbage\.duckdb is not a DuckDB database/);
    }, { index: INDEX });
  });
});

async function logLines(root: string): Promise<string[]> {
  const lines: string[] = [];
  const events = join(root, "events");
  for await (const day of Deno.readDir(events)) {
    if (!day.isDirectory) continue;
    for await (const part of Deno.readDir(join(events, day.name))) {
      const text = await Deno.readTextFile(join(events, day.name, part.name));
      for (const line of text.split("\n")) if (line) lines.push(`${day.name} ${line}`);
    }
  }
  return lines.sort();
}

Deno.test("backfillLegacy writes each legacy run once, with its own timestamps", async (t) => {
  await withStores(async ({ legacyDbPath, root }) => {
    const first = await backfillLegacy(root, { legacyDbPath });
    const lines = await logLines(root);
    await t.step("counts: 3 runs backfilled, the injection-shaped id skipped", () => {
      equal(first.legacyRuns, 4);
      equal(first.backfillableRuns, 3);
      // old-1: created, started, completed; both-old: created, started, failed; both-new: created
      equal(first.eventsPlanned, 7);
      equal(first.eventsWritten, 7);
      equal(first.eventsAlreadyPresent, 0);
      deepEqual(first.skipped.map((s) => s.run_id), [INJECTION_ID]);
      match(first.skipped[0].reason, /run_id does not match/);
      equal(lines.length, 7);
    });
    await t.step("events keep the legacy timestamps and land in their day partitions", () => {
      const byId = new Map(lines.map((l) => {
        const [day, json] = [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)];
        const e = JSON.parse(json);
        return [e.event_id, { day, e }];
      }));
      const created = byId.get(legacyEventId("old-1", "run.created"))!;
      equal(created.e.timestamp_ms, CUT - 10 * DAY_MS);
      equal(created.day, "day=2026-01-13");
      deepEqual(created.e.config, { a: 1 });
      equal(created.e.data_fingerprint, "fp1");
      const completed = byId.get(legacyEventId("old-1", "run.completed"))!;
      deepEqual(completed.e.summary, { calls: 3 });
      const failed = byId.get(legacyEventId("both-old", "run.failed"))!;
      equal(failed.e.timestamp_ms, CUT - 2 * DAY_MS + 20);
      deepEqual(failed.e.error, { message: "boom" });
      equal(byId.get(legacyEventId("both-new", "run.started")), undefined);
    });
    await t.step("a second backfill adds nothing", async () => {
      const second = await backfillLegacy(root, { legacyDbPath });
      equal(second.eventsWritten, 0);
      equal(second.eventsAlreadyPresent, 7);
      deepEqual(await logLines(root), lines);
    });
    await t.step("a dry run writes nothing", async () => {
      const dry = await backfillLegacy(join(root, "..", "other"), { legacyDbPath, dryRun: true });
      equal(dry.eventsPlanned, 7);
      equal(dry.eventsWritten, 0);
      equal(dry.eventsAlreadyPresent, 0);
    });
  }, { legacy: LEGACY });
});

Deno.test("backfillLegacy maps odd legacy values and reports unreadable sources", async (t) => {
  await withStores(async ({ dir, root }) => {
    const legacyDbPath = join(dir, "odd.duckdb");
    await createLegacyDb(legacyDbPath, [
      { run_id: "null-type", created_at_ms: CUT - DAY_MS, config: null },
      { run_id: "no-created", created_at_ms: null },
      {
        run_id: "failed-no-message",
        run_type: "t",
        created_at_ms: CUT - DAY_MS,
        config: "[1,2]",
        error_json: '{"code":7}',
      },
      {
        run_id: "nan-summary",
        run_type: "t",
        created_at_ms: CUT - DAY_MS,
        started_at_ms: CUT - DAY_MS,
        completed_at_ms: CUT - DAY_MS + 1,
        summary_json: '{"sharpe": NaN, "peak": -Infinity, "win_rate": 0.3}',
      },
    ]);
    const report = await backfillLegacy(root, { legacyDbPath });
    await t.step("NULL created_at_ms is skipped with its reason", () => {
      deepEqual(report.skipped, [{ run_id: "no-created", reason: "created_at_ms is NULL" }]);
    });
    await t.step(
      "NULL run_type, non-object config and message-less errors are mapped",
      async () => {
        const events = (await logLines(root)).map((l) => JSON.parse(l.slice(l.indexOf(" ") + 1)));
        const created = events.find((e) =>
          e.run_id === "null-type" && e.event_type === "run.created"
        );
        equal(created.run_type, "unknown");
        deepEqual(created.config, {});
        equal(created.data_fingerprint, "");
        const odd = events.find((e) =>
          e.run_id === "failed-no-message" && e.event_type === "run.created"
        );
        deepEqual(odd.config, { legacy_value: [1, 2] });
        const failed = events.find((e) => e.event_type === "run.failed");
        deepEqual(failed.error, { code: 7, message: "legacy run failed (no error recorded)" });
        equal(failed.timestamp_ms, CUT - DAY_MS);
        // json.dumps wrote NaN and -Infinity: they read as null (SPEC 3), the rest is kept.
        const completed = events.find((e) =>
          e.run_id === "nan-summary" && e.event_type === "run.completed"
        );
        deepEqual(completed.summary, { sharpe: null, peak: null, win_rate: 0.3 });
      },
    );
    await t.step("a missing legacy file is an error naming it", async () => {
      let message = "";
      try {
        await backfillLegacy(root, { legacyDbPath: join(dir, "nope.duckdb") });
      } catch (err) {
        message = (err as Error).message;
      }
      match(message, /legacy database .*nope\.duckdb does not exist/);
    });
  }, {});
});

Deno.test("parity after a backfill, and archive only when it holds", async (t) => {
  await withStores(async ({ dir, legacyDbPath, root }) => {
    await backfillLegacy(root, { legacyDbPath });
    await rebuildIndex(root, {});
    const options = { legacyDbPath, root };
    await t.step("parity holds, except for the run the backfill had to skip", async () => {
      const strict = await checkParity(options);
      equal(strict.holds, false);
      deepEqual(strict.differences.map((d) => [d.run_id, d.field]), [[INJECTION_ID, "skipped"]]);
      const lenient = await checkParity({ ...options, allowSkipped: true });
      deepEqual(lenient.differences, []);
      equal(lenient.holds, true);
      equal(lenient.comparedRuns, 3);
      deepEqual(lenient.skipped.map((s) => s.run_id), [INJECTION_ID]);
    });
    await t.step("after the backfill the shared run reads the same from both stores", async () => {
      const { runs } = await queryRuns({ runId: "old-1" }, { ...options, skipLegacy: true });
      equal(runs[0].source, "event_log");
      equal(runs[0].status, "completed");
      equal(runs[0].created_at_ms, CUT - 10 * DAY_MS);
    });
    await t.step("a legacy row changed after the backfill is a difference", async () => {
      await execSql(legacyDbPath, "UPDATE optimizer.runs_d SET run_type = ? WHERE run_id = ?", [
        "changed",
        "old-1",
      ]);
      await execSql(
        legacyDbPath,
        "UPDATE optimizer.runs_status SET summary_json = ? WHERE run_id = ?",
        ['{"calls":4}', "old-1"],
      );
      await execSql(legacyDbPath, "INSERT INTO optimizer.runs_d VALUES (?, ?, ?, ?, ?)", [
        "late-1",
        "t",
        BigInt(CUT - DAY_MS),
        "{}",
        "fp",
      ]);
      const report = await checkParity({ ...options, allowSkipped: true });
      equal(report.holds, false);
      deepEqual(report.differences, [
        { run_id: "late-1", field: "missing", legacy: "present", index: null },
        { run_id: "old-1", field: "run_type", legacy: "changed", index: "path-only" },
        { run_id: "old-1", field: "summary_json", legacy: '{"calls":4}', index: '{"calls":3}' },
      ]);
    });
    await t.step("archive refuses while parity does not hold and moves nothing", async () => {
      let error: unknown;
      try {
        await archiveLegacy({ ...options, allowSkipped: true });
      } catch (err) {
        error = err;
      }
      ok(error instanceof ParityError);
      match((error as Error).message, /Parity does not hold .* 3 difference/);
      ok((await Deno.stat(legacyDbPath)).isFile);
    });
    await t.step("archive moves the file aside when parity holds; dual mode ends", async () => {
      await execSql(legacyDbPath, "DELETE FROM optimizer.runs_d WHERE run_id = ?", ["late-1"]);
      await execSql(legacyDbPath, "UPDATE optimizer.runs_d SET run_type = ? WHERE run_id = ?", [
        "path-only",
        "old-1",
      ]);
      await execSql(
        legacyDbPath,
        "UPDATE optimizer.runs_status SET summary_json = ? WHERE run_id = ?",
        ['{"calls":3}', "old-1"],
      );
      const nowMs = Date.UTC(2026, 2, 4, 5, 6, 7);
      const report = await archiveLegacy({ ...options, allowSkipped: true, nowMs });
      equal(report.archivedPath, `${legacyDbPath}.archived-20260304T050607Z`);
      ok((await Deno.stat(report.archivedPath)).isFile);
      let gone = false;
      try {
        await Deno.stat(legacyDbPath);
      } catch (err) {
        gone = err instanceof Deno.errors.NotFound;
      }
      ok(gone);
      const { runs, warnings } = await queryRuns({}, options);
      ok(runs.every((r) => r.source === "event_log"));
      equal(runs.length, 3);
      match(warnings.join("\n"), /does not exist/);
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      ok(names.includes("baseline_results.duckdb.archived-20260304T050607Z"));
    });
  }, { legacy: LEGACY });
});

// An audit: a legacy run whose id the event log already had got a second run.created from the
// backfill, which rewrote the log's run (creation time, config, fingerprint) and left parity
// failing for good; and integers past 2^53 were rounded on the way into the log while parity,
// reading both sides the same rounded way, held.
Deno.test("backfill: a run id the log has is left out; integers past 2^53 keep their digits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-backfill-audit-" });
  try {
    const root = join(dir, "ledger");
    const legacyDbPath = join(dir, "legacy.duckdb");
    await createLegacyDb(legacyDbPath, [
      {
        run_id: "both-1",
        run_type: "policy",
        created_at_ms: CUT - 5 * DAY_MS,
        config: '{"src":"legacy"}',
        data_fingerprint: "legacy-fp",
      },
      {
        run_id: "big-1",
        run_type: "policy",
        created_at_ms: CUT - 4 * DAY_MS,
        config: '{"seed":12345678901234567891}',
        data_fingerprint: "fp",
        started_at_ms: CUT - 4 * DAY_MS + 1,
        completed_at_ms: CUT - 4 * DAY_MS + 2,
        summary_json: '{"trades":9007199254740993}',
      },
    ]);
    const writer = await openWriter(root);
    await writer.append({
      event_type: "run.created",
      run_id: "both-1",
      run_type: "policy",
      config: { src: "eventlog" },
      data_fingerprint: "ev-fp",
    });
    await writer.close();
    const report = await backfillLegacy(root, { legacyDbPath });
    deepEqual(report.skipped.map((s) => s.run_id), ["both-1"]);
    match(report.skipped[0].reason, /already has a run with this id/);
    // Its events are not planned (an audit: a dry run said it would write them).
    equal(report.eventsPlanned, report.eventsWritten + report.eventsAlreadyPresent);
    equal(report.eventsWritten, 3); // big-1: run.created, run.started, run.completed
    const text = await logText(root);
    equal((text.match(/"run_id":"both-1"/g) ?? []).length, 1, "both-1 keeps its one event");
    ok(text.includes('"seed":12345678901234567891'), "the seed's digits");
    ok(text.includes('"trades":9007199254740993'), "the summary's digits");
    await rebuildIndex(root, {});
    const parity = await checkParity({ legacyDbPath, root });
    deepEqual(parity.differences.map((d) => d.run_id), ["both-1", "both-1", "both-1"]);
    equal(parity.differences.some((d) => d.run_id === "big-1"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// One legacy row with created_at_ms = 9223372036854775807 (a BIGINT's largest) failed the
// whole dual-mode listing: "bigint out of int64 range".
Deno.test("dual mode: a legacy time no date has reads as null, the listing goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-legacy-maxtime-" });
  try {
    const legacyDbPath = join(dir, "legacy.duckdb");
    await createLegacyDb(legacyDbPath, [{ run_id: "ok-run", created_at_ms: CUT - DAY_MS }]);
    await execSql(legacyDbPath, "INSERT INTO optimizer.runs_d VALUES (?, ?, ?, ?, ?)", [
      "max-run",
      "policy",
      9223372036854775807n,
      "{}",
      "fp",
    ]);
    const r = await runLedger([
      ...["runs", "--root", join(dir, "ledger"), "--legacy-db", legacyDbPath],
      ...["--format", "jsonl"],
    ]);
    equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const byId = Object.fromEntries(rows.map((row) => [row.run_id, row]));
    equal(byId["max-run"].created_at_ms, null);
    equal(byId["ok-run"].created_at_ms, CUT - DAY_MS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// An audit: a legacy run failed by its error_json alone (no failed_at_ms) had a failure time
// in `runs --json` (listDualRuns) and none in `show --json` and queryRuns: every reader dates it
// as the backfill does.
Deno.test("dual mode: a failure without a time is dated alike by every reader", async () => {
  const legacy: FixtureRun[] = [{
    run_id: "odd-error",
    run_type: "policy",
    created_at_ms: CUT - 3 * DAY_MS,
    config: "{}",
    data_fingerprint: "fp",
    started_at_ms: CUT - 3 * DAY_MS + 100,
    error_json: '{"message":"boom"}',
  }];
  await withStores(async ({ legacyDbPath, root, indexDbPath }) => {
    const options = { legacyDbPath, root, nowMs: CUT };
    const { runs } = await queryRuns({ runId: "odd-error" }, options);
    const { statuses } = await queryRunStatus({ runId: "odd-error" }, options);
    const listed = await listDualRuns(indexDbPath, { legacyDbPath, nowMs: CUT });
    const expected = CUT - 3 * DAY_MS + 100; // its start, as the backfilled run.failed has it
    equal(runs[0].failed_at_ms, expected);
    equal(statuses[0].failed_at_ms, expected);
    equal(listed.runs.find((r) => r.run_id === "odd-error")?.failed_at_ms, expected);
  }, { legacy });
});

// The dual-mode audit: the check above read only the days from the earliest legacy event on, so
// a run the log's writers created on an earlier day got a second run.created from the backfill.
Deno.test("backfill: a run id the log created on an earlier day than any legacy event is left out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-backfill-early-" });
  try {
    const root = join(dir, "ledger");
    const legacyDbPath = join(dir, "legacy.duckdb");
    await createLegacyDb(legacyDbPath, [
      {
        run_id: "r-1",
        run_type: "policy",
        created_at_ms: CUT - 5 * DAY_MS,
        config: '{"legacy":true}',
        data_fingerprint: "fpLegacy",
        started_at_ms: CUT - 5 * DAY_MS + 1000,
        completed_at_ms: CUT - 5 * DAY_MS + 60_000,
        summary_json: '{"win_rate":0.4}',
      },
      { run_id: "r-2", run_type: "policy", created_at_ms: CUT - 4 * DAY_MS },
    ]);
    const writer = await openWriter(root);
    await writer.append({
      event_type: "run.created",
      run_id: "r-1",
      timestamp_ms: CUT - 60 * DAY_MS, // weeks before every legacy event
      run_type: "sweep",
      config: { log: true },
      data_fingerprint: "fpLog",
    });
    await writer.close();
    const report = await backfillLegacy(root, { legacyDbPath });
    deepEqual(report.skipped.map((s) => s.run_id), ["r-1"]);
    match(report.skipped[0].reason, /already has a run with this id/);
    equal(report.eventsWritten, 1); // r-2's run.created
    await rebuildIndex(root, {});
    const verified = await runLedger(["verify", "--root", root]);
    equal(verified.code, 0, verified.stdout);
    ok(!verified.stdout.includes("2 run.created"), verified.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// helper-291: the log's own run.started and run.completed of a run whose run.created was lost,
// dated before every legacy event, were not looked for (only run.created lines were, on those
// days): the backfill wrote the legacy run's events into that run, for good.
Deno.test("backfill: a run the log has events of on an earlier day than any legacy event is left out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-backfill-early-events-" });
  try {
    const root = join(dir, "ledger");
    const legacyDbPath = join(dir, "legacy.duckdb");
    await createLegacyDb(legacyDbPath, [{
      run_id: "r-1",
      run_type: "policy",
      created_at_ms: CUT - 5 * DAY_MS,
      started_at_ms: CUT - 5 * DAY_MS + 1000,
      completed_at_ms: CUT - 5 * DAY_MS + 60_000,
      summary_json: '{"win_rate":0.1}',
    }]);
    const writer = await openWriter(root);
    const early = CUT - 60 * DAY_MS; // weeks before every legacy event
    await writer.append({ event_type: "run.started", run_id: "r-1", timestamp_ms: early });
    await writer.append({
      event_type: "run.completed",
      run_id: "r-1",
      timestamp_ms: early + 1000,
      summary: { win_rate: 0.9 },
      artifact_paths: {},
    });
    await writer.close();
    const report = await backfillLegacy(root, { legacyDbPath });
    deepEqual(report.skipped.map((s) => s.run_id), ["r-1"]);
    match(report.skipped[0].reason, /already has a run with this id .*into that run/);
    equal(report.eventsWritten, 0); // the log holds the run's own two events only
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A fidelity audit: queryRuns and queryRunStatus handed back Python's NaN and Infinity in
// summary_json as they were, so the caller's JSON.parse failed (EVENTS.md: the library's queries
// read them as null, as getRun and listRuns do).
Deno.test("dual mode: NaN and Infinity in stored JSON reach the caller as null", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-dual-nan-" });
  try {
    const root = join(dir, "ledger");
    const day = join(root, "events", "day=2026-01-24");
    await Deno.mkdir(day, { recursive: true });
    const base = { timestamp_ms: CUT + DAY_MS, run_id: "py1", schema_version: 1 };
    const lines = [
      { ...base, event_type: "run.created", event_id: "p1", run_type: "t", config: {} },
      { ...base, event_type: "run.completed", event_id: "p2", summary: {}, artifact_paths: {} },
    ].map((e) => JSON.stringify({ ...e, data_fingerprint: "fp" }));
    // As Python's json.dumps writes them; a big integer keeps its digits.
    lines[1] = lines[1].replace(
      '"summary":{}',
      '"summary":{"win_rate":NaN,"pf":Infinity,"seed":9007199254740993}',
    );
    await Deno.writeTextFile(join(day, "part-py.jsonl"), lines.join("\n") + "\n");
    await rebuildIndex(root, {});
    const legacyDbPath = join(dir, "old.duckdb");
    await createLegacyDb(legacyDbPath, [{
      run_id: "old-nan",
      created_at_ms: CUT - DAY_MS,
      completed_at_ms: CUT - DAY_MS + 10,
      summary_json: '{"sharpe": -Infinity}',
    }]);
    const options = { legacyDbPath, root, nowMs: CUT + 2 * DAY_MS };
    const { runs } = await queryRuns({}, options);
    const { statuses } = await queryRunStatus({}, options);
    for (
      const [id, expected] of [
        ["py1", '{"win_rate":null,"pf":null,"seed":9007199254740993}'],
        ["old-nan", '{"sharpe": null}'],
      ]
    ) {
      equal(runs.find((r) => r.run_id === id)?.summary_json, expected, id);
      equal(statuses.find((s) => s.run_id === id)?.summary_json, expected, id);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
