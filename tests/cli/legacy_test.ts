import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { createLegacyDb, execSql, type FixtureRun } from "../indexer/_legacy_fixture.ts";

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

async function ledger(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
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
    await t.step("backfill prints counts and refreshes the index", async () => {
      const r = await ledger(["legacy", "backfill", ...common]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /legacy runs: 2/);
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
      equal(await logLineCount(root), 6);
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
