import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert";
import { join } from "node:path";
import { queryRuns } from "../../legacy/dual.ts";
import { backfillLegacy } from "../../legacy/backfill.ts";
import { execSql } from "./_legacy_fixture.ts";
import { withTempDir } from "../ledger/_helpers.ts";

const CREATED_MS = Date.UTC(2026, 0, 10);
const STARTED_MS = CREATED_MS + 1_000;
const COMPLETED_MS = CREATED_MS + 300_000;

/** A legacy file whose time columns are text, as a hand-made or CSV-imported file has them. */
async function createTextTimesDb(path: string): Promise<void> {
  const statements = [
    "CREATE SCHEMA optimizer",
    `CREATE TABLE optimizer.runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms VARCHAR,
      config VARCHAR, data_fingerprint VARCHAR)`,
    `CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms VARCHAR,
      completed_at_ms VARCHAR, summary_json VARCHAR)`,
    `INSERT INTO optimizer.runs_d VALUES
      ('iso-utc', 'policy', '2026-01-10 00:00:00', '{}', 'fp'),
      ('iso-offset', 'policy', '2026-01-10T02:00:00+02:00', '{}', 'fp'),
      ('epoch-text', 'policy', '${CREATED_MS}', '{}', 'fp'),
      ('empty-text', 'policy', '${CREATED_MS}', '{}', 'fp'),
      ('garbage', 'policy', '${CREATED_MS}', '{}', 'fp')`,
    `INSERT INTO optimizer.runs_status VALUES
      ('iso-utc', '2026-01-10T00:00:01Z', '2026-01-10T00:05:00.000Z', '{"win_rate":0.5}'),
      ('iso-offset', '2026-01-10T01:00:01+01:00', '2026-01-09 19:05:00-05', '{}'),
      ('epoch-text', '${STARTED_MS}', '${COMPLETED_MS}', '{}'),
      ('empty-text', '', NULL, NULL),
      ('garbage', 'yesterday', NULL, NULL)`,
  ];
  for (const sql of statements) await execSql(path, sql);
}

Deno.test("legacy times stored as text are read as times, and an unreadable one is named", async (t) => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    await createTextTimesDb(legacyDbPath);
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
    const byId = new Map(runs.map((r) => [r.run_id, r]));

    await t.step("ISO text (no offset is UTC) and epoch text give the same instants", () => {
      for (const id of ["iso-utc", "iso-offset", "epoch-text"]) {
        const run = byId.get(id);
        deepEqual(
          [run?.status, run?.created_at_ms, run?.started_at_ms, run?.completed_at_ms],
          ["completed", CREATED_MS, STARTED_MS, COMPLETED_MS],
          id,
        );
      }
    });

    await t.step("an empty text is NULL without a word; text that is no time is a warning", () => {
      equal(byId.get("empty-text")?.started_at_ms, null);
      equal(byId.get("garbage")?.started_at_ms, null);
      const named = warnings.filter((w) => w.includes("not a time"));
      equal(named.length, 1, warnings.join("\n"));
      ok(named[0].includes("started_at_ms") && named[0].includes('"yesterday"'), named[0]);
    });

    await t.step("the backfill writes the completion of a run timed in ISO text", async () => {
      const report = await backfillLegacy(root, { legacyDbPath, dryRun: true });
      // iso-utc, iso-offset, epoch-text: created, started, completed; empty-text, garbage: created.
      equal(report.eventsPlanned, 3 * 3 + 2);
    });
  });
});

/** A legacy file of text time columns whose runs are created at the text of each of `times`. */
async function createdAtTextDb(
  path: string,
  times: readonly (readonly [string, string, unknown])[],
): Promise<void> {
  await execSql(
    path,
    `CREATE SCHEMA optimizer;
    CREATE TABLE optimizer.runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms VARCHAR,
      config VARCHAR, data_fingerprint VARCHAR);
    CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms VARCHAR,
      completed_at_ms VARCHAR, summary_json VARCHAR);
    INSERT INTO optimizer.runs_d VALUES ${
      times.map(([id, text]) => `('${id}', 'policy', '${text}', '{}', 'fp')`).join(", ")
    }`,
  );
}

// A review: a text time with digits past the millisecond was truncated toward zero, so before 1970
// it read 1 ms late (`1900-01-01T00:00:00.000000001Z` as -2208988799999).
Deno.test("legacy text times finer than a ms are the ms that holds them, before 1970 too", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    const times: [string, string, number][] = [
      ["pre-1900", "1900-01-01T00:00:00.000000001Z", Date.UTC(1900, 0, 1)],
      ["pre-micro", "1960-06-01 12:00:00.123456", Date.UTC(1960, 5, 1, 12, 0, 0, 123)],
      ["pre-edge", "1969-12-31T23:59:59.9999Z", -1],
      ["post-micro", "2026-01-10 00:00:00.123456", CREATED_MS + 123],
    ];
    await createdAtTextDb(legacyDbPath, times);
    const { runs } = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
    const created = new Map(runs.map((r) => [r.run_id, r.created_at_ms]));
    for (const [id, , ms] of times) equal(created.get(id), ms, id);
  });
});

// A probe: text times went through Number(), so "0x1A" was 26 ms after the epoch (and "0b1", "0o7"
// times too). Decimal text only is epoch ms; the others are no time, named in a warning.
Deno.test("legacy text times: decimal forms are epoch ms; hex, binary and octal are no time", async () => {
  await withTempDir(async (dir) => {
    const legacyDbPath = join(dir, "old.duckdb");
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    const times: [string, string, number | null][] = [
      ["plain", ` ${CREATED_MS} `, CREATED_MS],
      ["signed", `+${CREATED_MS}`, CREATED_MS],
      ["fraction", `${CREATED_MS}.0`, CREATED_MS],
      ["exponent", "1.7680032E12", 1_768_003_200_000],
      ["hex", "0x1A", null],
      ["binary", "0b1", null],
      ["octal", "0o7", null],
    ];
    await createdAtTextDb(legacyDbPath, times);
    const { runs, warnings } = await queryRuns({}, { legacyDbPath, root, skipIndex: true });
    const created = new Map(runs.map((r) => [r.run_id, r.created_at_ms]));
    for (const [id, , ms] of times) equal(created.get(id), ms, id);
    const named = warnings.filter((w) => w.includes("not a time"));
    equal(named.length, 1, warnings.join("\n"));
    ok(named[0].includes("3 value(s) of created_at_ms"), named[0]);
  });
});
