/**
 * `ledger sql` answers in UTC whatever the machine's `TZ` (audit 4, time F4):
 * the reader's DuckDB session and the printed TIMESTAMPTZ text.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";

// 2025-12-31T23:59:59.999Z, already 2026-01-01 in Asia/Kathmandu (+05:45). epoch_ms() gives a
// TIMESTAMP (no zone), which the cast reads in the session's zone; to_timestamp() a TIMESTAMPTZ.
const QUERY = "SELECT current_setting('TimeZone') AS tz, " +
  "epoch_ms(1767225599999)::TIMESTAMPTZ AS t, " +
  "to_timestamp(1767225599.999)::DATE AS day, " +
  "'2026-01-01 00:00:00.5+05:45'::TIMESTAMPTZ AS given, " +
  "strftime(to_timestamp(1767225599.999), '%Y-%m-%d %H:%M') AS s";

// `UTC+3` (POSIX: three hours behind UTC): DuckDB's zone and the JavaScript API's printing disagreed.
Deno.test("ledger sql: the session and its times are UTC under any TZ", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger_sql_tz_" });
  try {
    await Deno.mkdir(`${root}/events`);
    await rebuildIndex(root, {});
    for (const tz of ["UTC", "Asia/Kathmandu", "America/St_Johns", "UTC+3"]) {
      await t.step(tz, async () => {
        const r = await runLedger(["sql", "--root", root, QUERY, "--format", "json"], {
          env: { TZ: tz },
        });
        equal(r.code, 0, r.stderr);
        deepEqual(JSON.parse(r.stdout), [{
          tz: "UTC",
          t: "2025-12-31T23:59:59.999Z",
          day: "2025-12-31",
          given: "2025-12-31T18:15:00.500Z",
          s: "2025-12-31 23:59",
        }]);
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger sql: times are written as every command writes them, a year BC too", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger_sql_iso_" });
  try {
    await Deno.mkdir(`${root}/events`);
    await rebuildIndex(root, {});
    // DuckDB's own text: `2026-01-31 23:59:00`, `...59.5`, `0045-03-15 (BC) 12:00:00`.
    const query = "SELECT TIMESTAMP '2026-01-31 23:59:00' AS whole, " +
      "make_timestamp(1772323199500000) AS half, TIMESTAMP '-0044-03-15 12:00' AS bc, " +
      "TIMESTAMP_NS '2026-01-01 01:02:03.123456789' AS ns";
    for (const format of ["json", "csv"]) {
      const r = await runLedger(["sql", "--root", root, query, "--format", format]);
      equal(r.code, 0, r.stderr);
      const expected = [
        "2026-01-31T23:59:00.000Z",
        "2026-02-28T23:59:59.500Z",
        "-0044-03-15T12:00:00.000Z",
        "2026-01-01T01:02:03.123456789Z",
      ];
      if (format === "json") {
        deepEqual(Object.values(JSON.parse(r.stdout)[0]), expected);
      } else {
        equal(r.stdout, `whole,half,bc,ns\n${expected.join(",")}\n`);
      }
    }
    // What every other command writes: the same text for the same instant.
    equal(
      new Date(Date.UTC(2026, 1, 28, 23, 59, 59, 500)).toISOString(),
      "2026-02-28T23:59:59.500Z",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A probe: the JavaScript API printed an infinite DATE as `5881580-07-11`, 1 BC as `0000-...`
// (44 BC as `0044-03-15 (BC)`), and a BIT as an object of byte indexes, in lists too.
Deno.test("ledger sql: a DATE and a BIT are DuckDB's text, infinite and BC dates too", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger_sql_date_" });
  try {
    await Deno.mkdir(`${root}/events`);
    await rebuildIndex(root, {});
    const query = "SELECT 'infinity'::DATE AS a, '-infinity'::DATE AS b, " +
      "DATE '0001-06-15 (BC)' AS c, DATE '0044-03-15 (BC)' AS d, DATE '2026-12-07' AS e, " +
      "'101'::BIT AS f, [DATE '0001-01-01 (BC)'] AS g, {'x': '0011'::BIT} AS h";
    const r = await runLedger(["sql", "--root", root, query, "--format", "json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(JSON.parse(r.stdout), [{
      a: "infinity",
      b: "-infinity",
      c: "0001-06-15 (BC)",
      d: "0044-03-15 (BC)",
      e: "2026-12-07",
      f: "101",
      g: ["0001-01-01 (BC)"],
      h: { x: "0011" },
    }]);
    // DuckDB's own text of each, as VARCHAR.
    const text = await runLedger([
      "sql",
      "--root",
      root,
      `SELECT ${
        ["'infinity'::DATE", "DATE '0001-06-15 (BC)'", "'101'::BIT"].map((v) => `${v}::VARCHAR`)
          .join(", ")
      }`,
      "--format",
      "csv",
    ]);
    equal(text.code, 0, text.stderr);
    equal(text.stdout.split("\n")[1], "infinity,0001-06-15 (BC),101");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
