import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  rejects,
  strictEqual as equal,
} from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb, execSql, type FixtureRun } from "../legacy/_legacy_fixture.ts";
import { openWriter } from "../../ledger/writer.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { DENO_RUN } from "../_helpers.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;
const CUT = Date.UTC(2026, 0, 23);
const DAY_MS = 24 * 60 * 60 * 1000;

const RUNS: FixtureRun[] = [
  {
    run_id: "legacy-a",
    run_type: "path-only",
    created_at_ms: CUT - 30 * DAY_MS,
    config: '{"interval":"1m"}',
    data_fingerprint: "fa",
    started_at_ms: CUT - 30 * DAY_MS + 100,
    completed_at_ms: CUT - 30 * DAY_MS + 900,
    summary_json: '{"calls":10}',
  },
  {
    run_id: "legacy-b",
    run_type: "policy",
    created_at_ms: CUT - 3 * DAY_MS,
    config: "{}",
    data_fingerprint: "fb",
    started_at_ms: CUT - 3 * DAY_MS + 5,
    failed_at_ms: CUT - 3 * DAY_MS + 50,
    error_json: '{"message":"no candles"}',
  },
];

async function ledger(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...DENO_RUN, "--allow-all", CLI, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function logLineCount(root: string): Promise<number> {
  let n = 0;
  const events = join(root, "events");
  for await (const day of Deno.readDir(events)) {
    if (!day.isDirectory) continue;
    for await (const part of Deno.readDir(join(events, day.name))) {
      const text = await Deno.readTextFile(join(events, day.name, part.name));
      n += text.split("\n").filter((l) => l !== "").length;
    }
  }
  return n;
}

Deno.test("ledger legacy: usage errors exit 2, --help exits 0", async (t) => {
  await t.step("--help", async () => {
    const r = await ledger(["legacy", "--help"]);
    equal(r.code, 0);
    match(r.stdout, /backfill/);
    match(r.stdout, /--legacy-db PATH/);
  });
  await t.step("no subcommand, unknown subcommand, misplaced flag", async () => {
    equal((await ledger(["legacy"])).code, 2);
    const unknown = await ledger(["legacy", "frob"]);
    equal(unknown.code, 2);
    match(unknown.stderr, /unknown subcommand "frob"/);
    equal((await ledger(["legacy", "parity", "--no-index"])).code, 2);
  });
});

Deno.test("ledger legacy backfill, parity, archive from dual mode to cutover", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_legacy_cli_" });
  try {
    const db = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    const common = ["--legacy-db", db, "--root", root];
    await createLegacyDb(db, RUNS);
    await t.step("a missing legacy file fails with its name", async () => {
      const r = await ledger(["legacy", "backfill", "--legacy-db", join(dir, "nope.duckdb")]);
      equal(r.code, 1);
      match(r.stderr, /nope\.duckdb/);
    });
    await t.step("a dry run says what it would do and writes nothing", async () => {
      const r = await ledger(["legacy", "backfill", ...common, "--dry-run"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /^runs to backfill: 2$/m); // it said "runs backfilled" (a docs audit)
      match(r.stdout, /^events would write: 6$/m);
      await rejects(Deno.stat(join(root, "events")), Deno.errors.NotFound, "no log written");
    });
    await t.step("backfill prints counts and refreshes the index", async () => {
      const r = await ledger(["legacy", "backfill", ...common]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /legacy runs: 2/);
      match(r.stdout, /^runs backfilled: 2$/m);
      match(r.stdout, /events written: 6/);
      match(r.stdout, /index: refreshed/);
      equal(await logLineCount(root), 6);
    });
    await t.step("a second backfill adds no line", async () => {
      const r = await ledger(["legacy", "backfill", ...common, "--json"]);
      equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      equal(report.eventsWritten, 0);
      equal(report.eventsAlreadyPresent, 6);
      equal(report.runsAlreadyPresent, 2);
      equal(await logLineCount(root), 6);
      // The text says why nothing was written beside "runs backfilled: 2".
      const text = await ledger(["legacy", "backfill", ...common, "--no-index"]);
      equal(text.code, 0, text.stderr);
      match(text.stdout, /^runs backfilled: 2 \(already in the log: 2\)$/m);
      match(text.stdout, /^events written: 0$/m);
    });
    await t.step("parity holds: exit 0", async () => {
      const r = await ledger(["legacy", "parity", ...common]);
      equal(r.code, 0, r.stdout + r.stderr);
      match(r.stdout, /parity holds/);
    });
    await t.step("a changed legacy row: parity exits 1, archive refuses", async () => {
      await execSql(db, "UPDATE optimizer.runs_d SET data_fingerprint = ? WHERE run_id = ?", [
        "tampered",
        "legacy-a",
      ]);
      const r = await ledger(["legacy", "parity", ...common]);
      equal(r.code, 1);
      match(r.stdout, /difference "legacy-a" data_fingerprint: legacy "tampered", index "fa"/);
      const a = await ledger(["legacy", "archive", ...common]);
      equal(a.code, 1);
      match(a.stderr, /Parity does not hold/);
      ok((await Deno.stat(db)).isFile);
      // --json refused: one JSON object on stdout, nothing archived.
      const j = await ledger(["legacy", "archive", ...common, "--json"]);
      equal(j.code, 1);
      const refused = JSON.parse(j.stdout);
      equal(refused.archivedPath, null);
      equal(refused.parity.holds, false);
      deepEqual(refused.parity.differences.map((d: { field: string }) => d.field), [
        "data_fingerprint",
      ]);
      match(j.stderr, /Parity does not hold.*nothing was moved/);
      ok((await Deno.stat(db)).isFile);
    });
    await t.step("archive moves the file aside; runs then come from the event log", async () => {
      await execSql(db, "UPDATE optimizer.runs_d SET data_fingerprint = ? WHERE run_id = ?", [
        "fa",
        "legacy-a",
      ]);
      const r = await ledger(["legacy", "archive", ...common]);
      equal(r.code, 0, r.stdout + r.stderr);
      const m = /archived .* -> (.*\.archived-\d{8}T\d{6}Z)/.exec(r.stdout);
      ok(m, r.stdout);
      ok((await Deno.stat(m[1])).isFile);
      let gone = false;
      try {
        await Deno.stat(db);
      } catch (err) {
        gone = err instanceof Deno.errors.NotFound;
      }
      ok(gone);
      const again = await ledger(["legacy", "parity", ...common]);
      equal(again.code, 1);
      match(again.stderr, /does not exist/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger runs in dual mode: one list with a source per run", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_runs_dual_" });
  try {
    const root = join(dir, "ledger");
    const db = join(dir, "data", "baseline_results.duckdb");
    const injection = "x'; DROP TABLE runs_d; --";
    await createLegacyDb(db, [
      ...RUNS,
      { run_id: injection, run_type: "policy", created_at_ms: CUT - 7 * DAY_MS },
      // Dual-written: also in the log, created after the cutover, so the log answers.
      { run_id: "dual-1", run_type: "policy", created_at_ms: CUT + DAY_MS },
    ]);
    const writer = await openWriter(root, {});
    try {
      for (const runId of ["dual-1", "new-1"]) {
        await writer.append({
          event_type: "run.created",
          run_id: runId,
          timestamp_ms: CUT + (runId === "new-1" ? 2 : 1) * DAY_MS,
          run_type: "path-only",
          config: {},
          data_fingerprint: "fx",
        });
      }
    } finally {
      await writer.close();
    }
    await rebuildIndex(root, {});
    const sources = (stdout: string) =>
      JSON.parse(stdout).map((r: { run_id: string; source: string }) => [r.run_id, r.source]);
    await t.step("--legacy-db: each run once, newest first, with its source", async () => {
      const r = await ledger(["runs", "--root", root, "--legacy-db", db, "--json"]);
      equal(r.code, 0, r.stderr);
      deepEqual(sources(r.stdout), [
        ["new-1", "event_log"],
        ["dual-1", "event_log"],
        ["legacy-b", "legacy"],
        [injection, "legacy"],
        ["legacy-a", "legacy"],
      ]);
      const rows = JSON.parse(r.stdout);
      const a = rows.find((x: { run_id: string }) => x.run_id === "legacy-a");
      equal(a.run_type, "path-only");
      equal(a.status, "completed");
      equal(a.created_at_ms, CUT - 30 * DAY_MS);
      equal(rows.find((x: { run_id: string }) => x.run_id === "legacy-b").status, "failed");
      equal(rows.find((x: { run_id: string }) => x.run_id === "dual-1").run_type, "path-only");
    });
    await t.step("the default data/baseline_results.duckdb turns dual mode on", async () => {
      const r = await ledger(["runs", "--root", root, "--json", "--status", "failed"], dir);
      equal(r.code, 0, r.stderr);
      deepEqual(sources(r.stdout), [["legacy-b", "legacy"]]);
      const table = await ledger(["runs", "--root", root], dir);
      // The SOURCE column ends the header; the ids stay whole (this root holds a 25-character
      // one, so PHASES is left out to fit 80 columns, with a note).
      match(table.stdout.split("\n")[0], /\bSOURCE$/);
      match(table.stdout, /x'; DROP TABLE runs_d; --/);
    });
    await t.step("a later --cutover-date moves the dual-written run to legacy", async () => {
      const r = await ledger(
        ["runs", "--root", root, "--json", "--cutover-date", "2027-01-01"],
        dir,
      );
      const row = JSON.parse(r.stdout).find((x: { run_id: string }) => x.run_id === "dual-1");
      equal(row.source, "legacy");
      equal(row.run_type, "policy");
      equal((await ledger(["runs", "--root", root, "--cutover-date", "2026-13-01"], dir)).code, 2);
      // show answers from the store runs lists the run from (an audit: show had no such flag).
      const shown = await ledger(
        ["show", "dual-1", "--root", root, "--json", "--cutover-date", "2027-01-01"],
        dir,
      );
      equal(shown.code, 0, shown.stderr);
      equal(JSON.parse(shown.stdout).source, "legacy");
      const plain = await ledger(["show", "dual-1", "--root", root, "--json"], dir);
      equal(JSON.parse(plain.stdout).run.run_type, "path-only"); // the log's, before 2027
      equal((await ledger(["show", "dual-1", "--root", root, "--cutover-date", "x"], dir)).code, 2);
    });
    await t.step("without a legacy file rows still say event_log", async () => {
      const r = await ledger(["runs", "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      deepEqual(sources(r.stdout), [["new-1", "event_log"], ["dual-1", "event_log"]]);
    });
    await t.step(
      "a named --legacy-db that is missing or does not open fails; a missing index is a warning",
      async () => {
        const gone = join(dir, "gone.duckdb");
        const r = await ledger(["runs", "--root", root, "--legacy-db", gone, "--json"]);
        equal(r.code, 1, r.stderr);
        match(r.stderr, /gone\.duckdb \(--legacy-db\) does not exist/);
        equal(r.stdout, "");
        // A file of another kind, or an empty one: not a store without runs (a probe: "No
        // runs in the index and the legacy DuckDB", exit 0).
        const text = join(dir, "notes.duckdb");
        await Deno.writeTextFile(text, "run_id,pnl\nr1,3\n");
        const empty = join(dir, "empty.duckdb");
        await Deno.writeFile(empty, new Uint8Array());
        for (const [path, what] of [[text, "is not a DuckDB database"], [empty, "is empty"]]) {
          for (const command of [["runs"], ["show", "new-1"]]) {
            const bad = await ledger([...command, "--root", root, "--legacy-db", path]);
            equal(bad.code, 1, bad.stderr);
            equal(
              bad.stderr.trim(),
              `ledger ${command[0]}: Legacy DuckDB file ${path} (--legacy-db) ${what}`,
            );
            equal(bad.stdout, "");
          }
        }
        // A DuckDB file that does not open (cut short here; locked by a running legacy writer
        // alike): a probe's `runs` listed the index's runs alone, exit 0, under a warning.
        const cut = join(dir, "cut.duckdb");
        await Deno.writeFile(cut, (await Deno.readFile(db)).subarray(0, 5000));
        for (const command of [["runs"], ["show", "new-1"]]) {
          const bad = await ledger([...command, "--root", root, "--legacy-db", cut]);
          equal(bad.code, 1, bad.stderr);
          match(
            bad.stderr,
            new RegExp(
              `^ledger ${command[0]}: Legacy DuckDB file \\S+cut\\.duckdb \\(--legacy-db\\) ` +
                "cannot be opened read-only: IO Error: .*\n$",
            ),
          );
          equal(bad.stdout, "");
        }
        // Cut past its header, it opens and fails on its first read: a probe's `runs` and `show`
        // listed the index alone, exit 0, under a warning.
        const size = (await Deno.stat(db)).size;
        ok(size > 300_000, `the legacy file has ${size} bytes`);
        const cutLater = join(dir, "cut-later.duckdb");
        await Deno.writeFile(cutLater, (await Deno.readFile(db)).subarray(0, 300_000));
        for (const command of [["runs"], ["show", "new-1"]]) {
          const bad = await ledger([...command, "--root", root, "--legacy-db", cutLater]);
          equal(bad.code, 1, bad.stderr);
          match(
            bad.stderr,
            new RegExp(
              `^ledger ${
                command[0]
              }: Legacy DuckDB file \\S+cut-later\\.duckdb \\(--legacy-db\\) ` +
                "cannot be read: IO Error: Could not read enough bytes.*\n$",
            ),
          );
          equal(bad.stdout, "");
        }
        const noIndex = await ledger(["runs", "--root", join(dir, "empty"), "--legacy-db", db]);
        equal(noIndex.code, 0, noIndex.stderr);
        match(noIndex.stderr, /warning: No index at/);
        match(noIndex.stdout, /legacy-a/);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
