import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { indexPath } from "../../ledger/paths.ts";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";
import { buildQueryFixture } from "./_query_fixture.ts";

function ids(stdout: string): string[] {
  return JSON.parse(stdout).map((r: { run_id: string }) => r.run_id);
}

Deno.test("ledger runs: filters, sort, columns, formats, archived, messages", async (t) => {
  await withTempDir(async (root) => {
    await buildQueryFixture(root);
    const runs = (...args: string[]) => runLedger(["runs", "--root", root, ...args]);

    await t.step("--type, repeatable --status, --since/--until (UTC), --limit", async () => {
      let r = await runs("--json", "--type", "path_only", "--type", "policy", "--status", "failed");
      equal(r.code, 0, r.stderr);
      deepEqual(ids(r.stdout), ["fail-y"]);
      r = await runs("--json", "--since", "2026-01-21", "--until", "2026-01-22");
      deepEqual(ids(r.stdout), ["path-x", "pol-c1", "pol-b2"]);
      r = await runs("--json", "--since", "2026-01-21T00:00:30", "--until", "2026-01-22T00:00Z");
      deepEqual(ids(r.stdout), ["path-x", "pol-c1"]); // --until an instant includes it
      r = await runs("--json", "--since", "2026-01-22T00:00Z", "--until", "2026-01-22T00:00Z");
      deepEqual(ids(r.stdout), ["path-x"]); // created at that very instant
      r = await runs("--json", "--limit", "2");
      deepEqual(ids(r.stdout), ["fail-y", "path-x"]);
    });

    await t.step("--where (repeatable) and --sort with direction", async () => {
      const r = await runs(
        "--json",
        "--where",
        "run_type = 'policy'",
        "--where",
        "summary.win_rate <= 0.3 or summary.win_rate > 0.7",
        "--sort",
        "summary.win_rate:desc",
      );
      equal(r.code, 0, r.stderr);
      deepEqual(ids(r.stdout), ["pol-b2", "pol-a2", "pol-a1"]);
    });

    // A probe: --columns took `summary` whole where --where and --sort said "Unknown field".
    await t.step(
      "a root alone: is null tests it, a comparison or a sort names a path",
      async () => {
        let r = await runs("--json", "--where", "summary is null");
        equal(r.code, 0, r.stderr);
        deepEqual(ids(r.stdout), ["fail-y"]); // failed: no run.completed, no summary
        r = await runs("--json", "--where", "summary is not null", "--where", "run_id ~ '^pol-a'");
        deepEqual(ids(r.stdout), ["pol-a2", "pol-a1"]);
        r = await runs("--json", "--where", "tags is not null");
        equal(r.code, 0, r.stderr);
        deepEqual(ids(r.stdout), []); // no run is tagged yet
        for (const args of [["--where", "summary = 1"], ["--sort", "summary"]]) {
          r = await runs(...args);
          equal(r.code, 2, args.join(" "));
          match(
            r.stderr,
            /^ledger runs: (--where: )?Unknown field "summary"( at column 1)? \(the whole object, which only --columns and is null \/ is not null take: name a path in it, summary\.<path>\)\n$/,
          );
        }
        r = await runLedger(["trials", "--root", root, "--where", "params is null", "--json"]);
        equal(r.code, 0, r.stderr);
        // A run's root named from trials keeps the hint (it listed the fields instead).
        for (const args of [["--where", "config = 1"], ["--sort", "summary"]]) {
          r = await runLedger(["trials", "--root", root, ...args]);
          equal(r.code, 2, args.join(" "));
          match(r.stderr, /Unknown field "(config|summary)".*the whole object.*\.<path>\)\n$/);
        }
        r = await runLedger(["trials", "--root", root, "--where", "confg = 1"]);
        equal(r.code, 2);
        match(r.stderr, /Unknown field "confg" at column 1 \(fields: /);
      },
    );

    await t.step("--columns adds fields to json, jsonl, csv and the table", async () => {
      const cols = [
        "--columns",
        "config.policy.stopPct,config.fee_bps",
        "--where",
        "run_id ~ '^pol-a'",
      ];
      const json = JSON.parse((await runs("--json", ...cols)).stdout);
      deepEqual(json.map((r: Record<string, unknown>) => r["config.policy.stopPct"]), [0.2, 0.1]);
      const jsonl = (await runs("--format", "jsonl", ...cols)).stdout.trim().split("\n");
      equal(jsonl.length, 2);
      equal(JSON.parse(jsonl[0])["config.fee_bps"], 10);
      const csv = (await runs("--format", "csv", ...cols)).stdout.trim().split("\n");
      match(csv[0], /^run_id,.*,config\.policy\.stopPct,config\.fee_bps$/);
      match(csv[1], /^pol-a2,policy,completed,.*,0\.2,10$/);
      const table = (await runs(...cols, "--wide")).stdout;
      match(table, /config\.policy\.stopPct/);
    });

    await t.step("table: headline metrics and label, fits 80 columns on a pipe", async () => {
      await runLedger(["tag", "--root", root, "pol-b2", "label=best of sweep"]);
      const r = await runs("--type", "policy");
      equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      match(lines[0], /^RUN ID\s+TYPE\s+STATUS\s+CREATED\s+DURATION\s+WIN_RATE.*LABEL$/);
      match(
        r.stdout,
        /pol-b2\s+policy\s+completed\s+2026-01-21T00:00:00Z\s+499 ms\s+0\.75.*best of/,
      );
      for (const line of lines) ok([...line].length <= 80, `too wide: ${line}`);
      const wide = await runs("--type", "policy", "--wide");
      match(wide.stdout, /best of sweep/);
    });

    await t.step("archived runs are hidden unless --all; no match vs empty index", async () => {
      let r = await runLedger(["archive", "--root", root, "pol-a", "--reason", "dup"]);
      equal(r.code, 2, "pol-a is ambiguous");
      match(r.stderr, /ambiguous.*pol-a1, pol-a2/);
      r = await runLedger(["archive", "--root", root, "pol-a1", "--reason", "dup"]);
      equal(r.code, 0, r.stderr);
      ok(!ids((await runs("--json")).stdout).includes("pol-a1"));
      ok(ids((await runs("--json", "--all")).stdout).includes("pol-a1"));
      r = await runs("--where", "run_id = 'pol-a1'");
      match(r.stdout, /^No runs match \(8 runs in the index; 1 archived, shown with --all\)\.$/m);
      // A probe: an archived run the filter does not match was counted, and --all showed none.
      r = await runs("--where", "run_id = 'no-such-run'");
      match(r.stdout, /^No runs match \(8 runs in the index\)\.$/m);
      r = await runLedger(["restore", "--root", root, "pol-a1"]);
      equal(r.code, 0, r.stderr);
      ok(ids((await runs("--json")).stdout).includes("pol-a1"));
    });

    await t.step("usage errors: bad expression, field, sort, format, since", async () => {
      const cases: [string[], RegExp][] = [
        [["--where", "summary.win_rate >"], /column 19/],
        [["--where", "confg.x = 1"], /Unknown field "confg.x" at column 1/],
        [["--sort", "nope:desc"], /Unknown field "nope"/],
        [["--sort", "run_id:sideways"], /FIELD\[:asc\|desc\]/],
        [["--format", "xml"], /--format must be one of/],
        [["--since", "yesterday"], /--since: Invalid date or instant/],
        // An offset without a time (a probe: read as the instant 00:00, not the day).
        [["--until", "2026-01-20Z"], /--until: Invalid date or instant "2026-01-20Z"/],
        [["--where", "created_at < '2026-01-20+02:00'"], /Invalid date or instant/],
        [["--since", "2026-01-22", "--until", "2026-01-21"], /--since 2026-01-22 is after --until/],
        [["--columns", "summary.a..b"], /Unknown field/],
        [["--columns", "config.fee_bps,,summary.x"], /empty field at item 2/],
        [["--limit", "0"], /--limit must be an integer >= 1, got "0"/],
        [["--limit", "abc"], /--limit must be an integer >= 1, got "abc"/],
        // A status no run has (a probe: a typo listed nothing, exit 0).
        [
          ["--where", "status = 'complete'"],
          /Unknown status "complete" at column 10: a run's status is one of completed, failed/,
        ],
        [["--where", 'not status != "done"'], /Unknown status "done" at column 15/],
      ];
      for (const [args, message] of cases) {
        const r = await runs(...args);
        equal(r.code, 2, args.join(" "));
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(r.stderr, message);
      }
      // A fixed column named in --columns (or a field named twice) is one CSV column.
      const csv = await runs("--columns", "run_id,summary.win_rate,run_id", "--format", "csv");
      equal(csv.code, 0, csv.stderr);
      const header = csv.stdout.split("\n")[0].split(",");
      deepEqual(header.filter((h) => h === "run_id"), ["run_id"]);
      equal(header.at(-1), "summary.win_rate");
    });
  });
});

Deno.test("ledger compare, trials, tag/note, show prefixes", async (t) => {
  await withTempDir(async (root) => {
    await buildQueryFixture(root);

    await t.step("compare --json: the SPEC 11 shape", async () => {
      const r = await runLedger(["compare", "--root", root, "pol-a1", "pol-b2", "pol-c", "--json"]);
      equal(r.code, 0, r.stderr);
      const c = JSON.parse(r.stdout);
      deepEqual(Object.keys(c), [
        "runs",
        "same_data",
        "config",
        "summary",
        "phases",
        "callers",
        "git",
      ]);
      deepEqual(c.runs, ["pol-a1", "pol-b2", "pol-c1"]);
      equal(c.same_data, false);
      deepEqual(c.config["policy.stopPct"], { "pol-a1": 0.1, "pol-b2": 0.4, "pol-c1": 0.5 });
      equal(c.config["policy.type"], undefined, "equal config paths are left out");
      deepEqual(c.summary.win_rate, { "pol-a1": 0.25, "pol-b2": 0.75, "pol-c1": 0.6 });
      deepEqual(c.phases.execute, { "pol-a1": 100, "pol-b2": 400, "pol-c1": 500 });
      equal(c.callers.alice["pol-b2"].win_rate, 0.8);
      equal(c.callers.bob["pol-a1"].count, 1);
      deepEqual(c.git["pol-a1"], { commit: "abc123", dirty: false });
      deepEqual(c.git["pol-b2"], { commit: "def456", dirty: true });
      deepEqual(c.git["pol-c1"], { commit: null, dirty: null }); // no manifest: same shape
      const same = JSON.parse(
        (await runLedger(["compare", "--root", root, "pol-a1", "pol-a2", "--json"])).stdout,
      );
      equal(same.same_data, true);
    });

    await t.step("compare table: deltas to the first run", async () => {
      const r = await runLedger(["compare", "--root", root, "pol-a1", "pol-b2"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /win_rate\s+0\.25\s+0\.75 \(\+0\.5\)/);
      match(r.stdout, /execute\s+100 ms\s+400 ms \(\+300 ms\)/);
      match(r.stdout, /alice win_rate\s+0\.2\s+0\.8 \(\+0\.6\)/);
    });

    await t.step("compare: unknown run exit 1, ambiguous prefix and one run exit 2", async () => {
      let r = await runLedger(["compare", "--root", root, "pol-a1", "zzz"]);
      equal(r.code, 1);
      match(r.stderr, /"zzz" is not in the index/);
      r = await runLedger(["compare", "--root", root, "pol-a1", "pol-b"]);
      equal(r.code, 2);
      match(r.stderr, /ambiguous: it matches pol-b1, pol-b2/);
      equal((await runLedger(["compare", "--root", root, "pol-a1"])).code, 2);
    });

    await t.step("trials: --run prefix, --where, --sort, --limit, formats", async () => {
      let r = await runLedger([
        "trials",
        "--root",
        root,
        "--sort",
        "metrics.sharpe:desc",
        "--limit",
        "2",
        "--json",
      ]);
      equal(r.code, 0, r.stderr);
      deepEqual(
        JSON.parse(r.stdout).map((x: { run_id: string; trial_id: string }) =>
          `${x.run_id}/${x.trial_id}`
        ),
        ["pol-b2/t2", "pol-a2/t2"],
      );
      r = await runLedger(["trials", "--root", root, "--run", "pol-c", "--format", "jsonl"]);
      deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l).trial_id), ["t1", "t2"]);
      r = await runLedger(["trials", "--root", root, "--where", "params.stopPct >= 0.8"]);
      match(r.stdout, /^RUN ID\s+TRIAL\s+params\.stopPct\s+metrics\.sharpe/);
      match(r.stdout, /pol-b2\s+t2\s+0\.8\s+2\.4/);
      // A trial query names its run's fields too (SPEC 11): filter, sort and show them.
      r = await runLedger([
        ...["sql", "--root", root, "--json"],
        "SELECT t.run_id, count(*)::INTEGER AS n FROM trial_results t JOIN latest_runs r " +
        "USING (run_id) WHERE TRY_CAST(json_extract_string(r.config, '$.fee_bps') AS DOUBLE) " +
        "= 10 AND r.status = 'completed' GROUP BY t.run_id ORDER BY t.run_id",
      ]);
      equal(r.code, 0, r.stderr);
      const expected = JSON.parse(r.stdout) as { run_id: string; n: number }[];
      equal(expected.length > 0, true, "the fixture has such trials");
      r = await runLedger([
        ...["trials", "--root", root, "--where", "config.fee_bps = 10 and status = 'completed'"],
        ...["--sort", "created_at:desc", "--columns", "config.fee_bps,status", "--json"],
      ]);
      equal(r.code, 0, r.stderr);
      const trials = JSON.parse(r.stdout) as Record<string, unknown>[];
      deepEqual(
        [...new Set(trials.map((x) => x.run_id as string))].sort(),
        expected.map((x) => x.run_id),
      );
      equal(trials.length, expected.reduce((n, x) => n + x.n, 0), "each trial once");
      for (const x of trials) deepEqual([x["config.fee_bps"], x.status], [10, "completed"]);
      r = await runLedger(["trials", "--root", root, "--where", "config.x = 1", "--json"]);
      equal(r.code, 0, r.stderr);
      deepEqual(JSON.parse(r.stdout), []);
      r = await runLedger(["trials", "--root", root, "--where", "nope.x = 1"]);
      equal(r.code, 2);
      match(r.stderr, /Unknown field "nope.x".*config\.<path>/);
    });

    await t.step("trials: the run flags of ledger runs, archived runs' trials hidden", async () => {
      const runsOf = async (...args: string[]) => {
        const r = await runLedger(["trials", "--root", root, "--format", "jsonl", ...args]);
        equal(r.code, 0, r.stderr);
        const rows = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n");
        return [...new Set(rows.map((l) => JSON.parse(l).run_id as string))].sort();
      };
      const all = ["pol-a1", "pol-a2", "pol-b1", "pol-b2", "pol-c1"];
      deepEqual(await runsOf(), all);
      deepEqual(await runsOf("--type", "path_only"), []);
      deepEqual(await runsOf("--type", "policy", "--status", "completed"), all);
      deepEqual(await runsOf("--status", "failed"), []);
      // Created on the fixture's second day (2026-01-21), as ledger runs reads the times.
      deepEqual(await runsOf("--since", "2026-01-21", "--until", "2026-01-21"), [
        "pol-b2",
        "pol-c1",
      ]);
      let r = await runLedger(["archive", "--root", root, "pol-b2"]);
      equal(r.code, 0, r.stderr);
      deepEqual(await runsOf(), all.filter((id) => id !== "pol-b2"));
      deepEqual(await runsOf("--all"), all);
      deepEqual(await runsOf("--run", "pol-b2"), ["pol-b2"], "--run names an archived run");
      r = await runLedger(["trials", "--root", root, "--status", "done"]);
      equal(r.code, 2);
      match(r.stderr, /--status must be one of/);
      r = await runLedger(["restore", "--root", root, "pol-b2"]);
      equal(r.code, 0, r.stderr);
    });

    await t.step("tag and note: shown by show, filterable, empty value removes", async () => {
      let r = await runLedger(["tag", "--root", root, "path", "label=truth", "owner=qa"]);
      equal(r.code, 0, r.stderr);
      r = await runLedger(["note", "--root", root, "path-x", "re-run with 5m candles"]);
      equal(r.code, 0, r.stderr);
      r = await runLedger(["show", "--root", root, "path", "--json"]);
      const detail = JSON.parse(r.stdout);
      deepEqual(detail.tags, { label: "truth", owner: "qa" });
      equal(detail.notes[0].note, "re-run with 5m candles");
      r = await runLedger(["tag", "--root", root, "path-x", "owner="]);
      equal(r.code, 0, r.stderr);
      r = await runLedger(["runs", "--root", root, "--json", "--where", "tags.owner is null"]);
      ok(ids(r.stdout).includes("path-x"));
      r = await runLedger(["runs", "--root", root, "--json", "--where", "label = 'truth'"]);
      deepEqual(ids(r.stdout), ["path-x"]);
      // A tag's value is text; compared with a number it reads as one (its key bound once).
      r = await runLedger(["tag", "--root", root, "path-x", "rank=12"]);
      equal(r.code, 0, r.stderr);
      r = await runLedger(["runs", "--root", root, "--json", "--where", "tags.rank > 9"]);
      equal(r.code, 0, r.stderr);
      deepEqual(ids(r.stdout), ["path-x"]);
      r = await runLedger([
        "runs",
        "--root",
        root,
        "--json",
        "--sort",
        "tags.rank:desc",
        "--limit",
        "1",
      ]);
      deepEqual(ids(r.stdout), ["path-x"]);
      r = await runLedger(["show", "--root", root, "path"]);
      match(r.stdout, /tags\s+label=truth/);
      match(r.stdout, /notes \(1\)\n.*re-run with 5m candles/);
      // SPEC 11: "A tag label is shown as the run's label", compare's table included.
      r = await runLedger(["compare", "--root", root, "path-x", "pol-a1"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /^label +truth +-$/m);
    });

    await t.step("annotations refuse unknown runs and write nothing", async () => {
      const before = await hashTree(join(root, "events"));
      for (const args of [["tag", "nope", "a=b"], ["note", "nope", "x"], ["archive", "nope"]]) {
        const r = await runLedger([args[0], "--root", root, ...args.slice(1)]);
        equal(r.code, 1, args.join(" "));
        match(r.stderr, /"nope" is not in the index/);
      }
      equal(await hashTree(join(root, "events")), before);
    });

    await t.step("show: config and summary whole, NaN tolerated", async () => {
      const r = await runLedger(["show", "--root", root, "nan-z"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /summary\n {2}\{\n {4}"win_rate": null,/);
      const j = await runLedger(["show", "--root", root, "nan", "--json"]);
      equal(JSON.parse(j.stdout).run.summary.win_rate, null);
    });
  });
});

Deno.test("ledger sql is read-only; ledger export keeps types", async (t) => {
  await withTempDir(async (root) => {
    await buildQueryFixture(root);
    const db = indexPath(root);

    await t.step("sql: a query in every format", async () => {
      let r = await runLedger([
        "sql",
        "--root",
        root,
        "SELECT run_id, archived FROM latest_runs WHERE run_id LIKE 'pol-a%' ORDER BY run_id",
        "--format",
        "json",
      ]);
      equal(r.code, 0, r.stderr);
      deepEqual(JSON.parse(r.stdout), [
        { run_id: "pol-a1", archived: false },
        { run_id: "pol-a2", archived: false },
      ]);
      r = await runLedger(["sql", "--root", root, "SELECT 1 AS a, 'x,y' AS b", "--format", "csv"]);
      equal(r.stdout, 'a,b\n1,"x,y"\n');
      // An empty string and a null stay apart in CSV, as in export (an output audit).
      r = await runLedger(["sql", "--root", root, "SELECT '' AS e, NULL AS n", "--format", "csv"]);
      equal(r.stdout, 'e,n\n"",\n');
      r = await runLedger(["sql", "--root", root, "SELECT count(*) AS n FROM trial_results"]);
      match(r.stdout, /^n\n10$/m);
      // Integers past 2^53 keep every digit in every format (not the nearest double).
      const big = "SELECT 9007199254740993::BIGINT AS b, -9007199254740993::BIGINT AS n, " +
        "12345678901234567890::HUGEINT AS h, [9007199254740993::BIGINT] AS l, 5::BIGINT AS s";
      const digits = ["9007199254740993", "-9007199254740993", "12345678901234567890"];
      for (const format of ["json", "jsonl", "csv", "table"]) {
        r = await runLedger(["sql", "--root", root, big, "--format", format]);
        equal(r.code, 0, r.stderr);
        for (const d of digits) match(r.stdout, new RegExp(`(^|[^\\d])${d}([^\\d]|$)`), format);
      }
      r = await runLedger(["sql", "--root", root, big, "--format", "jsonl"]);
      equal(
        r.stdout,
        '{"b":9007199254740993,"n":-9007199254740993,"h":12345678901234567890,' +
          '"l":[9007199254740993],"s":5}\n',
      );
      // DuckDB's other types as it holds them (an output audit): a DECIMAL's digits (not a
      // double's), microseconds, DuckDB's text of a TIME, DATE and INTERVAL, a BLOB as hex.
      const typed = "SELECT 12345678901234.567::DECIMAL(18,3) AS d, " +
        "TIMESTAMP '2026-01-01 01:02:03.456789' AS ts, TIME '12:34:56' AS tm, " +
        "DATE '2026-02-03' AS dt, INTERVAL 90 MINUTE AS iv, '\\xDE\\xAD'::BLOB AS bl, " +
        "[0.5::DECIMAL(3,2)] AS l";
      r = await runLedger(["sql", "--root", root, typed, "--format", "jsonl"]);
      equal(r.code, 0, r.stderr);
      equal(
        r.stdout,
        '{"d":12345678901234.567,"ts":"2026-01-01T01:02:03.456789Z","tm":"12:34:56",' +
          '"dt":"2026-02-03","iv":"01:30:00","bl":"dead","l":[0.50]}\n',
      );
      r = await runLedger(["sql", "--root", root, typed, "--format", "csv"]);
      equal(r.code, 0, r.stderr);
      equal(
        r.stdout.split("\n")[1],
        "12345678901234.567,2026-01-01T01:02:03.456789Z,12:34:56,2026-02-03,01:30:00,dead,[0.50]",
      );
    });

    await t.step(
      "sql: writes, file access and re-enabling it fail; the index is unchanged",
      async () => {
        const before = await Deno.readFile(db);
        const outside = join(root, "outside.txt");
        for (
          const q of [
            "DROP TABLE runs_d",
            "DELETE FROM events",
            "CREATE TABLE x AS SELECT 1",
            "SET enable_external_access = true",
            `SELECT * FROM read_text('${db}')`,
            `COPY (SELECT 1) TO '${outside}'`,
            "ATTACH ':memory:' AS m",
            "INSTALL httpfs",
          ]
        ) {
          const r = await runLedger(["sql", "--root", root, q]);
          equal(r.code, 1, `${q} succeeded: ${r.stdout}`);
          equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        }
        deepEqual(await Deno.readFile(db), before);
        let exists = true;
        try {
          await Deno.stat(outside);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
          exists = false;
        }
        equal(exists, false);
      },
    );

    // DuckDB lets a read-only connection write its own file and WAL paths: this COPY replaced the
    // index (or a --db legacy file) with 14 bytes of CSV, exit 0 (a probe).
    await t.step("sql: COPY to the index's own file or its WAL is refused (exit 2)", async () => {
      const before = await Deno.readFile(db);
      const entries = async () =>
        (await Array.fromAsync(Deno.readDir(dirname(db)), (e) => e.name)).sort();
      const names = await entries();
      for (
        const target of [db, `${db}.wal`, `${db}.wal.recovery`, `${db}.wal.checkpoint`]
      ) {
        for (const options of ["(FORMAT csv, USE_TMP_FILE false)", "(FORMAT csv)"]) {
          const copy = `COPY (SELECT 'overwritten' AS x) TO '${target}' ${options}`;
          // EXPLAIN ANALYZE runs what it explains (a review: it overwrote the index).
          for (
            const [prefix, kind] of [
              ["", "COPY"],
              ["EXPLAIN ANALYZE ", "EXPLAIN of COPY"],
              ["explain (analyze, format json) ", "EXPLAIN of COPY"],
            ]
          ) {
            const r = await runLedger(["sql", "--root", root, prefix + copy]);
            equal(r.code, 2, `${prefix + copy}: ${r.stdout}${r.stderr}`);
            equal(
              r.stderr.trim(),
              `ledger sql: ${kind} writes a file, and ledger sql writes none: print the rows ` +
                "with --format csv|jsonl|json, or use ledger export",
            );
          }
        }
      }
      const explained = await runLedger(["sql", "--root", root, "EXPLAIN ANALYZE SELECT 1"]);
      equal(explained.code, 0, explained.stderr);
      deepEqual(await Deno.readFile(db), before);
      deepEqual(await entries(), names);
      const runs = await runLedger(["runs", "--root", root, "--json"]);
      equal(runs.code, 0, runs.stderr);
    });

    // Two statements ran both; a refused enable_logging aborted the process (exit 134); a
    // query of no statement said "Error in native callback" and exited 1 (a probe).
    await t.step("sql: one query only; enable_logging is refused, not a crash", async () => {
      for (
        const q of [
          "SELECT 1; SELECT 2",
          `CALL enable_logging(storage='file', storage_path='${join(root, "log")}'); SELECT 1`,
          `CALL enable_logging(storage='file', storage_path='${join(root, "log")}')`,
          ";",
          "/* nothing */",
          " ; -- nor here",
        ]
      ) {
        const r = await runLedger(["sql", "--root", root, q]);
        equal(r.code, 2, `${q}: ${r.stderr}`);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        if (!q.includes("enable_logging")) {
          const said = q.startsWith("SELECT") ? "as 2 statements" : "holds no statement";
          ok(r.stderr.includes(said), `${q}: ${r.stderr}`);
        }
      }
      // A query that does not parse is bad input, as a --where that does not (a probe: exit 1);
      // one that parses and fails (an unknown table) is a failure.
      for (
        const [q, code, said] of [
          ["SELEC 1", 2, 'ledger sql: Parser Error: syntax error at or near "SELEC"'],
          ["SELECT 'open", 2, "ledger sql: Parser Error: unterminated quoted string"],
          ["SELECT * FROM nope", 1, "ledger sql: Catalog Error: Table with name nope"],
        ] as const
      ) {
        const r = await runLedger(["sql", "--root", root, q]);
        equal(r.code, code, `${q}: ${r.stderr}`);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        ok(r.stderr.startsWith(said), `${q}: ${r.stderr}`);
      }
      const one = await runLedger(["sql", "--root", root, "SELECT 42 AS x;", "--format", "jsonl"]);
      equal(one.code, 0, one.stderr);
      equal(one.stdout.trim(), '{"x":42}');
    });

    await t.step("export runs to parquet: flat typed columns", async () => {
      const out = join(root, "runs.parquet");
      const r = await runLedger([
        "export",
        "runs",
        "--root",
        root,
        "--format",
        "parquet",
        "--out",
        out,
        "--where",
        "run_type = 'policy'",
      ]);
      equal(r.code, 0, r.stderr);
      const instance = await DuckDBInstance.create(":memory:");
      const conn = await instance.connect();
      try {
        const types = Object.fromEntries(
          (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${out}')`))
            .getRowObjectsJS().map((x) => [x.column_name, x.column_type]),
        );
        equal(types["config.policy.stopPct"], "DOUBLE");
        equal(types["config.fee_bps"], "DOUBLE"); // a measure, 10 here or not
        equal(types["config.policy.type"], "VARCHAR");
        equal(types["summary.win_rate"], "DOUBLE");
        equal(types["archived"], "BOOLEAN");
        const rows = (await conn.runAndReadAll(
          `SELECT run_id, "summary.win_rate" AS w FROM read_parquet('${out}') ORDER BY run_id`,
        )).getRowObjectsJS();
        deepEqual(rows.map((x) => [x.run_id, x.w]), [
          ["fail-y", null],
          ["nan-z", null],
          ["pol-a1", 0.25],
          ["pol-a2", 0.3],
          ["pol-b1", 0.5],
          ["pol-b2", 0.75],
          ["pol-c1", 0.6],
        ]);
      } finally {
        conn.disconnectSync();
        instance.closeSync();
      }
    });

    await t.step("export trials to csv and jsonl", async () => {
      const csv = join(root, "t.csv");
      let r = await runLedger([
        "export",
        "trials",
        "--root",
        root,
        "--format",
        "csv",
        "--out",
        csv,
        "--where",
        "run_id = 'pol-a1'",
      ]);
      equal(r.code, 0, r.stderr);
      equal(
        await Deno.readTextFile(csv),
        "run_id,trial_id,recorded_at,params.stopPct,metrics.sharpe,metrics.calls\n" +
          "pol-a1,t1,2026-01-20T00:00:00.400Z,0.1,0.5,3\n" +
          "pol-a1,t2,2026-01-20T00:00:00.401Z,0.2,1.0,3\n",
      );
      const jsonl = join(root, "t.jsonl");
      r = await runLedger([
        "export",
        "trials",
        "--root",
        root,
        "--format",
        "jsonl",
        "--out",
        jsonl,
      ]);
      equal(r.code, 0, r.stderr);
      const lines = (await Deno.readTextFile(jsonl)).trim().split("\n").map((l) => JSON.parse(l));
      equal(lines.length, 10);
      equal(typeof lines[0]["metrics.sharpe"], "number");
    });

    await t.step("export refuses an unwritable --out and leaves nothing", async () => {
      const before = await hashTree(root);
      let r = await runLedger([
        "export",
        "runs",
        "--root",
        root,
        "--format",
        "csv",
        "--out",
        join(root, "no", "such", "dir.csv"),
      ]);
      equal(r.code, 2, r.stderr); // a usage error before any work, as in report
      match(r.stderr, /does not exist/);
      // A FIFO or device is never replaced by the file (it was: exit 0, the FIFO gone).
      const fifo = join(root, "..", "export-fifo");
      await new Deno.Command("mkfifo", { args: [fifo] }).output();
      for (const out of [fifo, "/dev/null", root]) {
        r = await runLedger(["export", "runs", "--root", root, "--format", "csv", "--out", out]);
        equal(r.code, 2, r.stderr);
        match(r.stderr, /is a (FIFO|device|directory): name the file to write/);
        equal(r.stderr.trim().split("\n").length, 1);
      }
      ok(Deno.lstatSync(fifo).isFifo, "the FIFO is still a FIFO");
      ok(Deno.lstatSync("/dev/null").isCharDevice, "/dev/null is still a device");
      await Deno.remove(fifo);
      r = await runLedger(["export", "runs", "--root", root, "--format", "xlsx", "--out", "x"]);
      equal(r.code, 2);
      match(r.stderr, /--format must be one of parquet, csv, jsonl/);
      equal(await hashTree(root), before);
    });

    await t.step("export and report write through a symbolic --out, never replace it", async () => {
      // Renamed over the link, the output turned it into a file and left its target as it
      // was: `export --out /dev/stdout > file` as root replaced the system's /dev/stdout.
      const dir = await Deno.makeTempDir();
      try {
        const target = join(dir, "runs.csv");
        await Deno.writeTextFile(target, "old\n");
        await Deno.symlink("runs.csv", join(dir, "latest.csv"));
        let r = await runLedger([
          "export",
          "runs",
          "--root",
          root,
          "--format",
          "csv",
          "--out",
          join(dir, "latest.csv"),
        ]);
        equal(r.code, 0, r.stderr);
        ok(Deno.lstatSync(join(dir, "latest.csv")).isSymlink, "the link is still a link");
        match(await Deno.readTextFile(target), /^run_id,/);
        await Deno.symlink("page.html", join(dir, "latest.html")); // dangling: made behind it
        r = await runLedger(["report", "--root", root, "--out", join(dir, "latest.html")]);
        equal(r.code, 0, r.stderr);
        ok(Deno.lstatSync(join(dir, "latest.html")).isSymlink, "the link is still a link");
        match(await Deno.readTextFile(join(dir, "page.html")), /^<!doctype html>/i);
        // A link to another /proc file is refused too, and not called an open one.
        await Deno.symlink("/proc/version", join(dir, "pv"));
        r = await runLedger([
          "export",
          "runs",
          "--format",
          "csv",
          "--root",
          root,
          "--out",
          join(dir, "pv"),
        ]);
        equal(r.code, 2, r.stderr);
        match(r.stderr, /is a link to \/proc\/version \(a file under \/proc\)/);
        // A link to a process's open file (what /dev/stdout is) is a usage error.
        const stdoutLink = join(dir, "stdout");
        await Deno.symlink("/proc/self/fd/1", stdoutLink);
        for (const args of [["export", "runs", "--format", "csv"], ["report"]]) {
          r = await runLedger([...args, "--root", root, "--out", stdoutLink]);
          equal(r.code, 2, r.stderr);
          match(r.stderr, /is a link to \/proc\/self\/fd\/1 \(a process's open file\)/);
          equal(r.stderr.trim().split("\n").length, 1);
          equal(Deno.readLinkSync(stdoutLink), "/proc/self/fd/1");
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  });
});
