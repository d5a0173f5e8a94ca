/**
 * A table sorted by a field shows that field (an audit: `trials --sort
 * metrics.mean_return_bps:desc` and `runs --sort summary.calls` left the
 * sort column out). The other formats keep their columns: `--columns` only.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { runLedger, withTempDir } from "../_helpers.ts";
import { buildQueryFixture } from "./_query_fixture.ts";

function header(stdout: string): string[] {
  return stdout.split("\n")[0].trim().split(/\s{2,}/);
}

Deno.test("runs and trials tables show the fields they are sorted by", async (t) => {
  await withTempDir(async (root) => {
    await buildQueryFixture(root);
    const ledger = (...args: string[]) => runLedger([args[0], "--root", root, ...args.slice(1)]);

    await t.step("runs --sort summary.calls_total: its column, after --columns", async () => {
      const r = await ledger(
        "runs",
        "--sort",
        "summary.calls_total:desc,created_at",
        "--columns",
        "config.fee_bps",
        "--wide",
      );
      equal(r.code, 0, r.stderr);
      deepEqual(header(r.stdout).slice(-2), ["config.fee_bps", "summary.calls_total"]);
      match(r.stdout.split("\n")[1], /\s3$/); // a policy run's calls_total
      // A headline metric (WIN_RATE) and a fixed field (CREATED) are not shown twice.
      const w = await ledger("runs", "--sort", "summary.win_rate", "--wide");
      equal(w.code, 0, w.stderr);
      equal(header(w.stdout).filter((h) => /win_rate|WIN_RATE/.test(h)).length, 1, w.stdout);
      // Too wide for 80 columns: the note names the headline metrics left out too.
      const narrow = await ledger(
        "runs",
        "--sort",
        "summary.calls_total",
        "--columns",
        "config.fee_bps,config.policy.stopPct",
      );
      equal(narrow.code, 0, narrow.stderr);
      match(narrow.stdout, /\(left out to fit 80 columns: WIN_RATE, MEAN_BPS, .*PHASES/);
      // Into a pipe with no COLUMNS the table fits 80 columns, as on a terminal that wide (issue
      // 15.8: "80 when not a TTY"; from 2026-12-04 to 12-07 it went out whole); --wide shows all.
      const chars = (text: string) => Math.max(...text.split("\n").map((l) => [...l].length));
      for (
        const args of [
          ["runs", "--columns", "config.fee_bps"],
          ["trials", "--columns", "config.fee_bps"],
          [
            "sql",
            "select run_id, 9007199254740993 AS a, 9007199254740993 AS b, " +
            "9007199254740993 AS c, 9007199254740993 AS d, 9007199254740993 AS e from runs_d",
          ],
          ["compare", "pol-a1", "pol-a2", "pol-b1", "pol-b2", "pol-c1", "path-x"],
          // 17 columns: at 4 characters each they were 100 wide; the last are left out, said.
          ["sql", "select * from latest_runs"],
        ]
      ) {
        const piped = await runLedger([...args, "--root", root], { env: { COLUMNS: "" } });
        const wide = await runLedger([...args, "--root", root, "--wide"], {
          env: { COLUMNS: "" },
        });
        equal(piped.code, 0, piped.stderr);
        equal(chars(piped.stdout) <= 80, true, `${args[0]}: ${piped.stdout}`);
        if (args[1] === "select * from latest_runs") {
          match(piped.stdout, /\(\d+ columns left out to fit 80 columns: [^]*--wide or --format/);
        }
        // The trials table is narrow here: whole within 80.
        if (args[0] !== "trials") {
          equal(chars(wide.stdout) > 80, true, `${args[0]} --wide: ${wide.stdout}`);
        }
      }
      const csv = await ledger("runs", "--sort", "summary.calls_total", "--format", "csv");
      equal(
        csv.stdout.split("\n")[0].includes("summary.calls_total"),
        false,
        "csv: --columns only",
      );
    });

    await t.step(
      "trials --sort metrics.calls: first of the metrics; a run field: its column",
      async () => {
        const r = await ledger("trials", "--sort", "metrics.calls:desc", "--wide");
        equal(r.code, 0, r.stderr);
        deepEqual(header(r.stdout), [
          "RUN ID",
          "TRIAL",
          "params.stopPct",
          "metrics.calls",
          "metrics.sharpe",
        ]);
        const c = await ledger("trials", "--sort", "created_at:desc", "--limit", "1", "--wide");
        equal(c.code, 0, c.stderr);
        equal(header(c.stdout).at(-1), "created_at");
        match(c.stdout.split("\n")[1], /\s20\d\d-\d\d-\d\dT[\d:.]+Z$/); // a value, not "-"
      },
    );
  });
});
