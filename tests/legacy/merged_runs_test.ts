import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { getSourceForRun, queryMergedRuns } from "../../legacy/dual.ts";
import { ev, fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { runLedger } from "../_helpers.ts";

// `ledger runs --legacy-db` (SPEC 10, 11): rows shaped as without the legacy
// file, and the whole query surface applied to the one merged list.
// 0.2.0 left created_at, label and archived out of dual-mode rows and refused
// --where, --sort, --columns, --since, --until and several --status.

const CUT = Date.UTC(2026, 0, 23);
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Event log: new-a (labelled), new-archived, log-old (before the cutover,
 * only in the log) and both-old (also in the legacy file, created before the
 * cutover: the legacy store answers). Legacy: both-old, old-a, old-nocreated
 * (no creation time) and late-legacy (after the cutover, only legacy).
 */
async function withDualStores(
  body: (p: { dir: string; root: string; legacyDb: string }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_merged_" });
  try {
    const root = join(dir, "ledger");
    const legacyDb = join(dir, "legacy.duckdb");
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      ...fullRun("both-old", T0),
      ...fullRun("log-old", T0 + 3_600_000),
    ]);
    await writePart(root, "day=2026-01-24/part-1.jsonl", [
      ...fullRun("new-a", CUT + DAY_MS),
      ev("run.tagged", "new-a", CUT + DAY_MS + 100, { tags: { label: "best" } }),
    ]);
    await writePart(root, "day=2026-01-25/part-1.jsonl", [
      ...fullRun("new-archived", CUT + 2 * DAY_MS),
      ev("run.archived", "new-archived", CUT + 2 * DAY_MS + 100, {}),
    ]);
    await rebuildIndex(root, {});
    await createLegacyDb(legacyDb, [
      {
        run_id: "both-old",
        run_type: "baseline",
        created_at_ms: T0,
        config: '{"interval":"5m"}',
        data_fingerprint: "fp-legacy",
        started_at_ms: T0 + 10,
        completed_at_ms: T0 + 1_000,
        summary_json: '{"win_rate":0.7}',
      },
      {
        run_id: "old-a",
        run_type: "policy",
        created_at_ms: CUT - 5 * DAY_MS,
        config: "{}",
        data_fingerprint: "fp-legacy",
        started_at_ms: CUT - 5 * DAY_MS + 10,
        completed_at_ms: CUT - 5 * DAY_MS + 2_000,
        summary_json: '{"win_rate":0.2}',
      },
      { run_id: "old-nocreated", run_type: "policy", created_at_ms: null, noStatusRow: true },
      { run_id: "late-legacy", run_type: "baseline", created_at_ms: CUT + 3 * DAY_MS },
    ]);
    await body({ dir, root, legacyDb });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

type Row = Record<string, unknown>;

function jsonl(stdout: string): Row[] {
  return stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

function csvLines(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l !== "");
}

Deno.test("ledger runs --legacy-db: rows have the keys and CSV columns of the index's rows", async (t) => {
  await withDualStores(async ({ dir, root, legacyDb }) => {
    // The working directory holds no data/baseline_results.duckdb: without --legacy-db, no dual mode.
    const ledger = (args: string[]) => runLedger(["runs", "--root", root, ...args], { cwd: dir });
    const [plainJsonl, dualJsonl, plainCsv, dualCsv] = await Promise.all([
      ledger(["--format", "jsonl"]),
      ledger(["--format", "jsonl", "--legacy-db", legacyDb]),
      ledger(["--format", "csv"]),
      ledger(["--format", "csv", "--legacy-db", legacyDb]),
    ]);
    for (const r of [plainJsonl, dualJsonl, plainCsv, dualCsv]) equal(r.code, 0, r.stderr);
    const plain = jsonl(plainJsonl.stdout);
    const dual = jsonl(dualJsonl.stdout);

    await t.step("every json row has the keys of the index's rows, in their order", () => {
      const keys = Object.keys(plain[0]);
      for (const k of ["created_at", "label", "archived"]) ok(keys.includes(k), k);
      for (const row of dual) deepEqual(Object.keys(row), keys, String(row.run_id));
    });
    await t.step("event-log rows are the index's rows, values and all", () => {
      const fromLog = dual.filter((r) => r.source === "event_log");
      deepEqual(fromLog.map((r) => r.run_id), ["new-a", "log-old"]);
      for (const row of fromLog) {
        deepEqual(row, plain.find((p) => p.run_id === row.run_id));
      }
      const a = fromLog[0];
      equal(a.created_at, new Date(CUT + DAY_MS).toISOString());
      equal(a.label, "best");
      equal(a.archived, false);
    });
    await t.step("legacy rows carry what the legacy file knows", () => {
      const byId = new Map(dual.map((r) => [r.run_id, r]));
      const old = byId.get("old-a")!;
      equal(old.source, "legacy");
      equal(old.created_at, new Date(CUT - 5 * DAY_MS).toISOString());
      equal(old.label, null);
      equal(old.archived, false);
      equal(old.duration_ms, 1_990);
      deepEqual(old.summary, { win_rate: 0.2 });
      const none = byId.get("old-nocreated")!;
      equal(none.created_at, null);
      equal(none.created_at_ms, null);
      equal(byId.get("both-old")!.source, "legacy");
      equal(byId.get("late-legacy")!.source, "legacy");
    });
    // The columns of the plain list and `source` (a probe: CSV could not tell a legacy row from
    // the log's, where the table and json can).
    await t.step(
      "CSV: the same columns and source, event-log lines identical, legacy filled",
      () => {
        const p = csvLines(plainCsv.stdout);
        const d = csvLines(dualCsv.stdout);
        equal(d[0], `${p[0]},source`);
        for (const id of ["new-a", "log-old"]) {
          const line = d.find((l) => l.startsWith(`${id},`));
          equal(line, `${p.find((l) => l.startsWith(`${id},`))},event_log`);
        }
        equal(
          d.find((l) => l.startsWith("old-a,")),
          `old-a,policy,completed,${
            new Date(CUT - 5 * DAY_MS).toISOString()
          },1990,,false,0,fp-legacy,legacy`,
        );
        equal(
          d.find((l) => l.startsWith("old-nocreated,")),
          "old-nocreated,policy,pending,,,,false,0,,legacy",
        );
      },
    );
  });
});

Deno.test("ledger runs --legacy-db: the whole query surface applies to the merged list", async (t) => {
  await withDualStores(async ({ dir, root, legacyDb }) => {
    const ledger = (args: string[]) =>
      runLedger(["runs", "--root", root, "--legacy-db", legacyDb, ...args], { cwd: dir });
    const ids = (rows: Row[]) => rows.map((r) => r.run_id);
    const options = { legacyDbPath: legacyDb, root };

    await t.step("--where, --sort and --columns over both stores (CLI)", async () => {
      const r = await ledger([
        "--where",
        "summary.win_rate >= 0.1",
        "--sort",
        "summary.win_rate:desc",
        "--columns",
        "summary.win_rate,config.interval",
        "--format",
        "jsonl",
      ]);
      equal(r.code, 0, r.stderr);
      const rows = jsonl(r.stdout);
      deepEqual(ids(rows), ["both-old", "old-a"]);
      deepEqual(rows.map((x) => [x["summary.win_rate"], x["config.interval"]]), [
        [0.7, "5m"],
        [0.2, null],
      ]);
      const csv = await ledger([
        "--columns",
        "summary.win_rate",
        "--format",
        "csv",
        "--limit",
        "1",
      ]);
      equal(csv.code, 0, csv.stderr);
      match(csvLines(csv.stdout)[0], /,data_fingerprint,summary\.win_rate,source$/);
      const table = await ledger(["--columns", "summary.win_rate", "--sort", "run_id", "--wide"]);
      equal(table.code, 0, table.stderr);
      match(table.stdout.split("\n")[0], /summary\.win_rate\s+PHASES\s+SOURCE$/);
    });
    await t.step("several --status, --since and --until (CLI)", async () => {
      const r = await ledger([
        "--status",
        "completed",
        "--status",
        "pending",
        "--since",
        "2026-01-18",
        "--until",
        "2026-01-24",
        "--json",
      ]);
      equal(r.code, 0, r.stderr);
      deepEqual(ids(JSON.parse(r.stdout)), ["new-a", "log-old", "both-old", "old-a"]);
    });
    await t.step("usage errors stay usage errors (exit 2)", async () => {
      const r = await ledger(["--where", "confg.x = 1"]);
      equal(r.code, 2);
      match(r.stderr, /Unknown field "confg\.x" at column 1/);
    });
    await t.step("a run is filtered as the store that answers for it holds it", async () => {
      // both-old's event-log copy has summary.ok = true; the legacy store answers, without it.
      const { runs } = await queryMergedRuns({ where: ["summary.ok = true"] }, options);
      deepEqual(ids(runs), ["new-a", "log-old"]);
      const tagged = await queryMergedRuns({ where: ["tags.label = 'best'"] }, options);
      deepEqual(ids(tagged.runs), ["new-a"]);
      const fp = await queryMergedRuns({ where: ["config.interval = '5m'"] }, options);
      deepEqual(ids(fp.runs), ["both-old"]);
    });
    await t.step("sort and limit span both stores; nulls last", async () => {
      const { runs } = await queryMergedRuns(
        { sort: [{ field: "created_at", descending: false }] },
        options,
      );
      deepEqual(ids(runs), [
        "old-a",
        "both-old",
        "log-old",
        "new-a",
        "late-legacy",
        "old-nocreated",
      ]);
      const top = await queryMergedRuns(
        { sort: [{ field: "run_id", descending: true }], limit: 2 },
        options,
      );
      deepEqual(ids(top.runs), ["old-nocreated", "old-a"]);
    });
    await t.step("archived runs are hidden unless --all", async () => {
      const hidden = await queryMergedRuns({}, options);
      ok(!ids(hidden.runs).includes("new-archived"));
      equal(hidden.runsTotal, 7);
      equal(hidden.archivedTotal, 1);
      const all = await queryMergedRuns({ includeArchived: true }, options);
      equal(all.runs.find((r) => r.run_id === "new-archived")?.archived, true);
    });
    await t.step("getSourceForRun agrees with the list for every run", async () => {
      const { runs } = await queryMergedRuns({ includeArchived: true }, options);
      for (const run of runs) {
        const { source } = await getSourceForRun(run.run_id, Date.UTC(2026, 0, 1), options);
        equal(source, run.source, run.run_id);
      }
    });
  });
});
