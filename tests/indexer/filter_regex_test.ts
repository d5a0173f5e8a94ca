/**
 * Quoted strings and regular expressions of the `--where` language (SPEC 11):
 * a backslash escapes only the string's own quote and itself (so `\d` and
 * `\.` reach the engine), and a pattern is valid exactly when DuckDB's RE2
 * compiles it, for every command that takes `--where` (runs, trials, export,
 * report, the UI's `?where=`).
 */
import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  rejects,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import { join } from "node:path";
import {
  FilterSyntaxError,
  parseFilter,
  queryRuns,
  queryTrials,
  QueryUsageError,
  streamRunsJson,
  streamTrialsJson,
  withReader,
} from "../../indexer/query/mod.ts";
import { indexPath } from "../../ledger/paths.ts";
import { LiveIndex } from "../../report/data.ts";
import { uiHandler } from "../../report/server.ts";
import { buildQueryFixture } from "../cli/_query_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("quoted strings: a backslash escapes only the string's quote and itself", async (t) => {
  await t.step("values", () => {
    const cases: [string, string][] = [
      [String.raw`label = '\d'`, String.raw`\d`],
      [String.raw`label = 'a\.1'`, String.raw`a\.1`],
      [String.raw`label = 'it\'s'`, "it's"],
      [String.raw`label = "say \"hi\""`, 'say "hi"'],
      [String.raw`label = 'a\\b'`, String.raw`a\b`],
      [String.raw`label = '\\d'`, String.raw`\d`],
      [String.raw`label = "it\'s"`, String.raw`it\'s`], // not this string's quote: kept
      [String.raw`label = 'a\"b'`, String.raw`a\"b`],
      [String.raw`label = 'a\nb'`, String.raw`a\nb`], // no escape processing
      [`label = "a'b"`, "a'b"],
      [`label = 'a"b'`, 'a"b'],
    ];
    for (const [text, value] of cases) {
      const e = parseFilter(text);
      ok(e.kind === "compare", text);
      if (e.kind === "compare") equal(e.value, value, text);
    }
    const e = parseFilter(String.raw`run_id ~ '^pol-a\d$'`);
    ok(e.kind === "regex");
    if (e.kind === "regex") equal(e.pattern, String.raw`^pol-a\d$`);
  });
  await t.step("an escaped closing quote leaves the string open", () => {
    throws(
      () => parseFilter(String.raw`label = 'a\'`),
      (err) =>
        err instanceof FilterSyntaxError && err.column === 9 && /Unterminated/.test(err.message),
    );
  });
});

Deno.test("regular expressions run and are checked by DuckDB (RE2)", async (t) => {
  await withTempDir(async (root) => {
    await buildQueryFixture(root);
    const db = indexPath(root);
    const ids = (where: string[]) =>
      withReader(
        db,
        async (conn) =>
          (await queryRuns(conn, { where, sort: [{ field: "run_id", descending: false }] })).map((
            r,
          ) => r.run_id),
      );

    await t.step("\\d is a digit class, \\. a literal dot only", async () => {
      deepEqual(await ids([String.raw`run_id ~ '^pol-a\d$'`]), ["pol-a1", "pol-a2"]);
      deepEqual(await ids([String.raw`run_id ~ '^pol-\d'`]), []);
      deepEqual(await ids([String.raw`run_id ~ 'l.a'`]), ["pol-a1", "pol-a2"]);
      deepEqual(await ids([String.raw`run_id ~ 'l\.a'`]), []);
      deepEqual(await ids([String.raw`run_id ~ 'a\.1'`]), []);
      deepEqual(await ids([String.raw`summary.win_rate ~ '^0\.25$'`]), ["pol-a1"]);
    });
    await t.step("\\' inside a single-quoted pattern, next to a class", async () => {
      deepEqual(await ids([String.raw`config.name ~ '^it\'s\s"quoted"$'`]), ["path-x"]);
      deepEqual(await ids([String.raw`config.name ~ "^it's\s\"quoted\"$"`]), ["path-x"]);
    });
    await t.step("RE2 flags and named groups are accepted", async () => {
      deepEqual(await ids(["run_id ~ '(?i)^POL-B'"]), ["pol-b1", "pol-b2"]);
      deepEqual(await ids(["run_id ~ '^POL-B'"]), []);
      deepEqual(await ids(["run_id ~ '(?P<name>pol-c)'"]), ["pol-c1"]);
      const trials = await withReader(
        db,
        (conn) => queryTrials(conn, { where: [String.raw`run_id ~ '(?i)^POL-A\d$'`] }),
      );
      equal(trials.length, 4);
    });
    await t.step("what RE2 refuses is a usage error naming the token and column", async () => {
      const refused: [string[], RegExp, number][] = [
        [
          ["run_id ~ 'a(?!l)'"],
          /^--where: Invalid regular expression 'a\(\?!l\)' at column 10: invalid perl operator: \(\?!$/,
          10,
        ],
        [
          ["run_id = 'x' or not run_id ~ \"(?<=a)b\""],
          /"\(\?<=a\)b" at column 30: invalid perl operator/,
          30,
        ],
        [
          ["run_id ~ 'x'", String.raw`run_id ~ '(a)\1'`],
          /'\(a\)\\1' at column 10: invalid escape sequence: \\1/,
          10,
        ],
        [["run_id ~ 'a('"], /'a\(' at column 10: missing \)/, 10],
      ];
      for (const [where, message, column] of refused) {
        for (const list of ["runs", "runs json", "trials", "trials json"]) {
          await rejects(
            withReader(db, async (conn) => {
              if (list === "runs") return void await queryRuns(conn, { where });
              if (list === "trials") return void await queryTrials(conn, { where });
              const stream = list === "runs json"
                ? streamRunsJson(conn, { where })
                : streamTrialsJson(conn, { where });
              for await (const _ of stream) { /* drain */ }
            }),
            (err) => {
              ok(err instanceof QueryUsageError, `${list} ${where}: ${err}`);
              match(err.message, message, `${list} ${where}`);
              ok(err.cause instanceof FilterSyntaxError);
              equal(err.cause.column, column);
              return true;
            },
          );
        }
      }
    });

    await t.step("every command: exit 2 naming the column; the UI answers 400", async () => {
      const bad = "run_id ~ 'a(?!l)'";
      const out = join(root, "out");
      const commands = [
        ["runs", "--root", root, "--where", bad],
        ["runs", "--root", root, "--json", "--where", bad],
        ["trials", "--root", root, "--where", bad],
        ["export", "runs", "--root", root, "--format", "csv", "--out", out, "--where", bad],
        ["report", "--root", root, "--out", `${out}.html`, "--where", bad],
      ];
      for (const args of commands) {
        const r = await runLedger(args);
        equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(
          r.stderr,
          /Invalid regular expression 'a\(\?!l\)' at column 10: invalid perl operator/,
        );
        equal(r.stdout, "", args.join(" "));
      }
      const good = await runLedger([
        "runs",
        "--root",
        root,
        "--json",
        "--where",
        String.raw`run_id ~ '(?i)^POL-A\d$'`,
      ]);
      equal(good.code, 0, good.stderr);
      deepEqual(JSON.parse(good.stdout).map((r: { run_id: string }) => r.run_id), [
        "pol-a2",
        "pol-a1",
      ]);
      const live = new LiveIndex(root);
      try {
        const handle = uiHandler(live);
        const res = await handle(new Request(`http://ui/?where=${encodeURIComponent(bad)}`));
        equal(res.status, 400);
        match(await res.text(), /at column 10: invalid perl operator/);
        const ok200 = await handle(
          new Request(`http://ui/?where=${encodeURIComponent("run_id ~ '(?i)^POL-C'")}`),
        );
        equal(ok200.status, 200);
        ok((await ok200.text()).includes(`href="/run/pol-c1"`));
        // The column counts from the text as typed, leading blanks too, as the CLI's does (a
        // probe: the page trimmed it first and said column 16).
        const spaced = "  duration_ms >= '10s'";
        const cli = await runLedger(["runs", "--root", root, "--where", spaced]);
        equal(cli.code, 2, cli.stderr);
        match(cli.stderr, /\(column 18\)/);
        const page = await handle(new Request(`http://ui/?where=${encodeURIComponent(spaced)}`));
        equal(page.status, 400);
        match(await page.text(), /\(column 18\)/);
      } finally {
        live.close();
      }
    });
  });
});
