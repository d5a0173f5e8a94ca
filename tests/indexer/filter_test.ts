import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import {
  compileFilter,
  FilterSyntaxError,
  parseFilter,
  parseInstant,
  queryRuns,
  queryTrials,
  runQuerySql,
  streamRunsJson,
  withReader,
} from "../../indexer/query/mod.ts";
import { FILTER_DEPTH_MAX } from "../../indexer/query/filter.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { generateQueryLog } from "../../bench/_query.ts";
import { indexPath } from "../../ledger/paths.ts";
import { buildQueryFixture } from "../cli/_query_fixture.ts";
import { withTempDir } from "../_helpers.ts";

function syntaxError(text: string): FilterSyntaxError {
  try {
    compileFilter([parseFilter(text)], "runs");
  } catch (err) {
    ok(err instanceof FilterSyntaxError, `expected FilterSyntaxError, got ${err}`);
    return err;
  }
  throw new Error(`${text} parsed`);
}

Deno.test("filter parser: precedence, quoting, values, errors with columns", async (t) => {
  await t.step("not binds tighter than and, and tighter than or", () => {
    const e = parseFilter("run_id = 'a' or not run_id = 'b' and status = 'failed'");
    equal(e.kind, "or");
    if (e.kind !== "or") return;
    equal(e.left.kind, "compare");
    equal(e.right.kind, "and");
    if (e.right.kind !== "and") return;
    equal(e.right.left.kind, "not");
  });
  await t.step("parentheses override precedence", () => {
    const e = parseFilter("(run_id = 'a' or run_id = 'b') and status = 'failed'");
    equal(e.kind, "and");
  });
  await t.step("keywords are case-insensitive", () => {
    equal(parseFilter("label IS NOT NULL AND NOT label = 'x'").kind, "and");
  });
  await t.step("single and double quotes, escapes, numbers, booleans, null", () => {
    const values = [
      [`label = 'it\\'s'`, "it's"],
      [`label = "say \\"hi\\""`, 'say "hi"'],
      [`label = "a'b"`, "a'b"],
      ["summary.x = -1.5e3", -1500],
      ["summary.x = .5", 0.5],
      ["summary.x = true", true],
      ["summary.x = FALSE", false],
      ["summary.x = null", null],
    ] as const;
    for (const [text, value] of values) {
      const e = parseFilter(text);
      ok(e.kind === "compare", text);
      if (e.kind === "compare") deepEqual(e.value, value, text);
    }
  });
  await t.step("syntax errors name the token and its column", () => {
    const cases: [string, number, RegExp][] = [
      ["status = ", 10, /end of expression at column 10/],
      ["status == 'x'", 9, /"=" at column 9/],
      ["status 'x'", 8, /"'x'" at column 8: expected an operator/],
      ["(status = 'x'", 14, /expected "\)"/],
      ["status = 'x' extra", 14, /"extra" at column 14/],
      ["status = 'x", 10, /Unterminated string starting at column 10/],
      ["status = 'x' & y", 14, /Unexpected character "&" at column 14/],
      ["confg.x = 1", 1, /Unknown field "confg.x" at column 1/],
      ["summary = 1", 1, /Unknown field "summary"/],
      ["params.x = 1", 1, /Unknown field "params.x"/],
      ["label ~ 5", 9, /quoted regular expression/],
      ["summary.x < null", 1, /use = null/],
      ["summary.x < true", 1, /boolean/],
      ["created_at > 'yesterday'", 14, /Invalid date or instant "yesterday"/],
      // Columns count code points; a path's bad character is named, not the dot before it.
      ["run_id = '😀' and @", 18, /Unexpected character "@" at column 18/],
      ["config.😀 = 3", 8, /Unexpected character "😀" at column 8 \(a key .*: \\😀\)/],
      ["", 1, /expected a comparison/],
      // SPEC 11's operators only: SQL's "<>" is named, with the one to use.
      ["status <> 'x'", 8, /Unexpected "<>" at column 8: use != for "not equal"/],
      // The first thing wrong is named, not a later character the lexer would stop at.
      ["config.k in (1, 2)", 10, /Unexpected "in" at column 10: expected an operator/],
      ["status = 'x' or or 'y' & z", 17, /Unexpected "or" at column 17/],
      ["run_id = '😀' and label = 'x", 26, /Unterminated string starting at column 26/],
    ];
    for (const [text, column, message] of cases) {
      const err = syntaxError(text);
      equal(err.column, column, `${text}: ${err.message}`);
      match(err.message, message, text);
    }
  });
  await t.step("nesting is bounded", () => {
    match(syntaxError("(".repeat(200) + "label = 'x'" + ")".repeat(200)).message, /nesting/);
  });
  await t.step("values are bound parameters, never SQL text", () => {
    const hostile = "x'; DROP TABLE runs_d; --";
    const { sql, params } = compileFilter([
      parseFilter(`label = "${hostile}" or config.a-b.c ~ '.*'`),
    ], "runs");
    ok(!sql.includes("DROP"), sql);
    ok(params.includes(hostile));
    // Paths are constants built from checked segments only (letters, digits, _ and -).
    ok(sql.includes(`'$."a-b"."c"'`), sql);
    // A path segment with a quote or a space is not a field.
    match(syntaxError(`config.a"b = 1`).message, /Unknown field|Unexpected|Unterminated/);
  });
  await t.step("UTC instants without an offset", () => {
    equal(parseInstant("2026-01-20"), Date.UTC(2026, 0, 20));
    equal(parseInstant("2026-01-20T04:00"), Date.UTC(2026, 0, 20, 4));
    equal(parseInstant("2026-01-20T06:00+02:00"), Date.UTC(2026, 0, 20, 4));
    throws(() => parseInstant("2026-02-30"));
  });
});

Deno.test("filter on a real index: every operator, numbers vs strings, injection", async (t) => {
  await withTempDir(async (root) => {
    await buildQueryFixture(root);
    const db = indexPath(root);
    const ids = (where: string[], sort?: string) =>
      withReader(db, async (conn) =>
        (await queryRuns(conn, {
          where,
          sort: sort === undefined
            ? [{ field: "run_id", descending: false }]
            : [{ field: sort, descending: false }],
        })).map((r) => r.run_id));
    await t.step("numeric comparison matches numbers and numeric strings", async () => {
      // pol-a2 stores win_rate as the string "0.3"; nan-z stores NaN (reads as null).
      deepEqual(await ids(["summary.win_rate <= 0.3"]), ["pol-a1", "pol-a2"]);
      deepEqual(await ids(["summary.win_rate = 0.3"]), ["pol-a2"]);
      deepEqual(await ids(["summary.win_rate > 0.5"]), ["pol-b2", "pol-c1"]);
      deepEqual(await ids(["summary.win_rate >= 0.5"]), ["pol-b1", "pol-b2", "pol-c1"]);
      deepEqual(await ids(["summary.win_rate < 0.26"]), ["pol-a1"]);
      deepEqual(await ids(["summary.win_rate != 0.5"]), ["pol-a1", "pol-a2", "pol-b2", "pol-c1"]);
      deepEqual(await ids(["config.policy.stopPct >= 0.4", "run_type = 'policy'"]), [
        "fail-y",
        "pol-b2",
        "pol-c1",
      ]);
    });
    await t.step("string comparison, regex, null tests", async () => {
      deepEqual(await ids(["run_type = 'path_only'"]), ["path-x"]);
      deepEqual(await ids(["run_id ~ '^pol-b'"]), ["pol-b1", "pol-b2"]);
      deepEqual(await ids(["run_id < 'nan-zz'"]), ["fail-y", "nan-z"]);
      deepEqual(await ids(["summary.win_rate is null"]), ["fail-y", "nan-z", "path-x"]);
      deepEqual((await ids(["summary.win_rate is not null"])).length, 5);
      deepEqual(await ids(['config.name = "it\'s \\"quoted\\""']), ["path-x"]);
      deepEqual(await ids(["status = 'failed'"]), ["fail-y"]);
    });
    await t.step("and / or / not / parentheses", async () => {
      deepEqual(
        await ids(["(config.fee_bps = 20 or config.fee_bps = 5) and not summary.win_rate > 0.7"]),
        ["pol-b1", "pol-c1"],
      );
      deepEqual(await ids(["not summary.win_rate > 0.3"]), [
        "fail-y",
        "nan-z",
        "path-x",
        "pol-a1",
        "pol-a2",
      ]);
    });
    await t.step("created_at and duration_ms", async () => {
      deepEqual(await ids(["created_at >= '2026-01-22'"]), ["fail-y", "path-x"]);
      deepEqual(await ids(["created_at < '2026-01-20T00:01'"]), ["nan-z", "pol-a1"]);
      deepEqual(await ids(["duration_ms < 10"]), ["fail-y"]);
      // A number field against a quoted number compares numbers ('10' < '9' as text).
      deepEqual(await ids(["duration_ms < '10'"]), ["fail-y"]);
      deepEqual(await ids(["duration_ms < '9e1'"]), await ids(["duration_ms < 90"]));
    });
    await t.step("sort: numbers numerically, nulls last", async () => {
      const sorted = await withReader(db, (conn) =>
        queryRuns(conn, {
          sort: [{ field: "summary.mean_return_bps", descending: true }],
          where: ["run_type = 'policy'"],
        }));
      deepEqual(sorted.map((r) => r.run_id), [
        "pol-b2",
        "pol-a2",
        "pol-a1",
        "pol-c1",
        "nan-z",
        "pol-b1",
        "fail-y",
      ]);
    });
    await t.step("injection attempts match nothing and change nothing", async () => {
      const before = await Deno.readFile(db);
      deepEqual(await ids([`run_id = 'x\\'; DROP TABLE runs_d; --'`]), []);
      match(syntaxError(`run_id = 'x''; DROP TABLE runs_d; --'`).message, /column 13/);
      deepEqual(await ids([`label = "') OR 1=1 --"`]), []);
      deepEqual(await ids([`run_id ~ '.*' and run_id = 'x" OR "1"="1'`]), []);
      deepEqual(await ids(["run_id = 'pol-a1'"]), ["pol-a1"]);
      deepEqual(await Deno.readFile(db), before);
    });
    await t.step("trials: params and metrics", async () => {
      const trials = await withReader(db, (conn) =>
        queryTrials(conn, {
          where: ["metrics.sharpe > 1", "params.stopPct < 0.5"],
          sort: [{ field: "metrics.sharpe", descending: true }],
        }));
      deepEqual(trials.map((x) => `${x.run_id}/${x.trial_id}`), ["pol-a2/t2", "pol-b2/t1"]);
    });
  });
});

Deno.test("listings read only what they print and stream in chunks (issue 19.8, 19.11)", async (t) => {
  await t.step("runs never read config unless a config column is asked for", () => {
    for (const shape of ["columns", "json"] as const) {
      // The view's own columns are inlined (config among them); DuckDB reads only those used.
      ok(!runQuerySql({ where: ["summary.x > 1"] }, shape).sql.includes("r.config"), shape);
      ok(runQuerySql({ columns: ["config.fee_bps"] }, shape).sql.includes("r.config"), shape);
      ok(runQuerySql({ where: ["config.fee_bps = 1"] }, shape).sql.includes("r.config"), shape);
    }
  });
  await t.step("json rows arrive in several batches, not as one array", async () => {
    await withTempDir(async (root) => {
      await generateQueryLog(root, 5000, 0);
      await rebuildIndex(root, { full: true });
      await withReader(indexPath(root), async (conn) => {
        let batches = 0;
        let rows = 0;
        for await (const batch of streamRunsJson(conn, {})) {
          batches++;
          rows += batch.length;
          ok(batch.length <= 2048, `a batch of ${batch.length} rows`);
        }
        equal(rows, 5000);
        ok(batches >= 3, `${batches} batches`);
      });
    });
  });
});

Deno.test("filter: FILTER_DEPTH_MAX levels of nesting are accepted, one more is refused", () => {
  const nested = (n: number) => `${"(".repeat(n)}config.a = 1${")".repeat(n)}`;
  parseFilter(nested(FILTER_DEPTH_MAX));
  parseFilter(`${"not ".repeat(FILTER_DEPTH_MAX)}config.a = 1`);
  throws(
    () => parseFilter(nested(FILTER_DEPTH_MAX + 1)),
    new RegExp(`at most ${FILTER_DEPTH_MAX} levels of nesting`),
  );
});

// A time probe: `duration_ms >= '10s'` compared text silently, `created_at > 20260120` read the
// date as epoch ms of 1970-01-01, and `created_at = true` was taken. Each is a usage error that
// names the value's column; what is meant still compiles.
Deno.test("filter: values no field of that kind holds are refused, naming the column", () => {
  const cases: [string, RegExp, number][] = [
    ["duration_ms >= '10s'", /duration_ms is a number of milliseconds: "10s" is not a number/, 16],
    ["duration_ms = ''", /"" is not a number/, 15],
    [
      "created_at > 20260120",
      /reads 20260120 as epoch milliseconds \(1970-01-01T05:37:40\.120Z\); write the date as a string, '2026-01-20'/,
      14,
    ],
    ["recorded_at <= 20251231", /'2025-12-31'/, 16],
    ["created_at = true", /created_at is a time, never true or false/, 14],
    ["duration_ms != false", /duration_ms is a number, never true or false/, 16],
    ["label = true", /label is text: write 'true' to compare the text/, 9],
    ["tags.k != false", /tags\.k is text: write 'false' to compare the text/, 11],
    // The same number however written (a probe: only eight digits were refused).
    ["created_at > +20260120", /reads 20260120 as epoch milliseconds/, 14],
    ["created_at > 020260120", /'2026-01-20'/, 14],
    ["created_at > 20260120.0", /'2026-01-20'/, 14],
    ["created_at > 2.026012e7", /'2026-01-20'/, 14],
    // A number as JSON writes one, as in a JSON field (a probe: hex and binary were taken).
    ["duration_ms < '0x10000'", /"0x10000" is not a number/, 15],
    ["duration_ms < '0b1'", /"0b1" is not a number/, 15],
    ["duration_ms < ' 10 '", /" 10 " is not a number/, 15],
    ["duration_ms < '+10'", /"\+10" is not a number/, 15],
  ];
  for (const [text, message, column] of cases) {
    const target = text.startsWith("recorded_at") ? "trials" : "runs";
    let err: unknown;
    try {
      compileFilter([parseFilter(text)], target);
    } catch (e) {
      err = e;
    }
    ok(err instanceof FilterSyntaxError, `${text}: ${err}`);
    match(err.message, message, text);
    equal(err.column, column, text);
  }
  // Epoch milliseconds, a number that is no date, and quoted numbers still compare.
  for (
    const text of ["created_at > 1768867200000", "created_at > 20261399", "duration_ms < '10'"]
  ) {
    compileFilter([parseFilter(text)], "runs");
  }
  compileFilter([parseFilter("config.flag = true and summary.x > '10s'")], "runs");
});
