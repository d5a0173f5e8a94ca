/**
 * `ledger sweep` refusals that name the flag: a grid whose JSON does not
 * parse is one stderr line with the flag, the file and the position, exit 2,
 * nothing written; so is bad costs' sum and an input file that does not
 * exist. (The sweep itself: tests/backtest/sweep_test.ts.)
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { exists } from "../../ledger/exists.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import {
  LATE_DELAY_MS,
  runEvents,
  writeFixtures,
  writeLateCallFixtures,
} from "../backtest/_fixtures.ts";

Deno.test("ledger sweep: a JSON typo in --grid is one line with the flag, the file and the position", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/ledger`;
    const typo = '{\n "type": "fixed_stop",\n "stopPct": [0.2, abc]\n}\n';
    await t.step("--grid @file", async () => {
      const file = `${dir}/grid.json`;
      await Deno.writeTextFile(file, typo);
      const r = await runLedger(["sweep", "policy", "--root", root, "--grid", `@${file}`]);
      equal(r.code, 2, r.stderr);
      equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      match(
        r.stderr,
        /^ledger sweep: --grid @\S+\/grid\.json: Grid is not valid JSON \(Unexpected token 'a', .* is not valid JSON at line 3 column 19\)\n$/,
      );
    });
    await t.step("--grid JSON", async () => {
      const r = await runLedger(["sweep", "policy", "--root", root, "--grid", typo]);
      equal(r.code, 2, r.stderr);
      match(
        r.stderr,
        /^ledger sweep: --grid: Grid is not valid JSON \(.* at line 3 column 19\)\n$/,
      );
    });
    // A probe: nested 3,000 deep, the grid overflowed the stack and exited 1.
    await t.step("--grid nested too deep: exit 2, one line", async () => {
      const deep = '{"type":"fixed_stop","stopPct":[0.1,0.2],"x":' + "[".repeat(3000) + "1" +
        "]".repeat(3000) + "}";
      const r = await runLedger(["sweep", "policy", "--root", root, "--grid", deep]);
      equal(r.code, 2, r.stderr);
      equal(
        r.stderr,
        "ledger sweep: --grid: Grid field x is a list holding a list: an axis is one list of " +
          "numbers\n",
      );
      equal(await exists(root), false, "nothing written");
    });
    // A probe: a file saved with a byte order mark was "Unexpected token" of an unseen character.
    await t.step("--grid @file with a byte order mark reads as the JSON after it", async () => {
      const file = `${dir}/bom.json`;
      await Deno.writeTextFile(file, '\uFEFF{"type":"fixed_stop","stopPct":[0.1,"x"]}');
      const r = await runLedger(["sweep", "policy", "--root", root, "--grid", `@${file}`]);
      equal(r.code, 2, r.stderr);
      match(r.stderr, /Grid field stopPct mixes numbers with other values\n$/);
    });
    await t.step("--grid @dir: not a file, said as such", async () => {
      const r = await runLedger(["sweep", "policy", "--root", root, "--grid", `@${dir}`]);
      equal(r.code, 2, r.stderr);
      equal(
        r.stderr,
        `ledger sweep: grid file ${dir} is not a file (--grid @FILE reads a JSON file)\n`,
      );
    });
    // A metrics audit: the sum was not checked, so a sale could return less than nothing.
    await t.step("--fee-bps + --slippage-bps at 100%", async () => {
      const r = await runLedger([
        "sweep",
        "policy",
        "--root",
        root,
        "--grid",
        '{"type":"fixed_stop","stopPct":[0.5]}',
        "--fee-bps",
        "5000",
        "--slippage-bps",
        "5000",
      ]);
      equal(r.code, 2, r.stderr);
      equal(
        r.stderr,
        "ledger sweep: --fee-bps + --slippage-bps must be < 10000 (100%: a sale would return " +
          "nothing or less), got 5000 + 5000\n",
      );
    });
    // A probe: a missing --calls/--candles exited 1 while a missing --grid @file exited 2.
    await t.step("a --calls or --candles file that does not exist: exit 2", async () => {
      const grid = '{"type":"fixed_stop","stopPct":[0.1,0.2]}';
      for (const [flag, what] of [["--calls", "Calls"], ["--candles", "Candles"]] as const) {
        const missing = `${dir}/none.csv`;
        const r = await runLedger([
          "sweep",
          "policy",
          "--root",
          root,
          flag,
          missing,
          "--grid",
          grid,
        ]);
        equal(r.code, 2, r.stderr);
        equal(r.stderr, `ledger sweep: ${flag}: ${what} file ${missing} does not exist\n`);
      }
    });
    equal(await exists(root), false, "nothing written");
  });
});

Deno.test("ledger sweep --max-entry-delay: a late call is skipped by every trial and counted once", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/ledger`;
    const inputs = await writeLateCallFixtures(dir, true);
    const grid = '{"type":"fixed_stop","stopPct":[0.2,0.3]}';
    const sweep = (extra: string[]) =>
      runLedger([
        "sweep",
        "policy",
        "--root",
        root,
        "--calls",
        inputs.calls,
        "--candles",
        inputs.candles,
        "--grid",
        grid,
        "--no-index",
        ...extra,
      ]);
    await t.step("a bad value: exit 2, one line, nothing written", async () => {
      const r = await sweep(["--max-entry-delay", "30 days"]);
      equal(r.code, 2, r.stderr);
      equal(
        r.stderr,
        "ledger sweep: --max-entry-delay must be a whole number of milliseconds or a number with " +
          'a unit s, m, h or d (e.g. 90000, 90s, 5m, 1.5h, 30d), got "30 days"\n',
      );
      equal(await exists(root), false);
    });
    await t.step("without the flag: both calls traded, the 30-day delay shown", async () => {
      const r = await sweep(["--json"]);
      equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout).summary;
      deepEqual([s.calls_entry_late, s.entry_delay_ms_max], [0, LATE_DELAY_MS]);
      deepEqual([s.best_trial.metrics.calls, s.best_trial.metrics.calls_skipped], [2, 0]);
    });
    await t.step("--max-entry-delay 1d: the late call out of every trial", async () => {
      const r = await sweep(["--json", "--max-entry-delay", "1d", "--run-id", "sw-late"]);
      equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      const s = out.summary;
      deepEqual([s.calls_entry_late, s.entry_delay_ms_max], [1, 60_000]);
      deepEqual([s.best_trial.metrics.calls, s.best_trial.metrics.calls_skipped], [1, 1]);
      const instance = await DuckDBInstance.create(":memory:");
      const conn = await instance.connect();
      try {
        const reader = await conn.runAndReadAll(
          `SELECT "metrics.calls"::INT AS calls, "metrics.calls_skipped"::INT AS skipped
            FROM read_parquet('${out.artifact_paths.trials}') ORDER BY trial_id`,
        );
        deepEqual(reader.getRowObjectsJS(), [{ calls: 1, skipped: 1 }, { calls: 1, skipped: 1 }]);
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
      const created = (await runEvents(root, "sw-late"))[0] as { config: Record<string, unknown> };
      equal(created.config.max_entry_delay_ms, 86_400_000);
    });
  });
});

// A probe joined a sweep's trials.parquet with `ledger export trials` of the same trials:
// metrics.median_return_bps was DOUBLE in one and BIGINT in the other (params had been mended).
Deno.test("ledger sweep: trials.parquet types each column as ledger export trials does", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/ledger`;
    const inputs = await writeFixtures(dir);
    const grid = '{"type":"fixed_stop","stopPct":[0.1,0.2,0.3],"takeProfitPct":[2,3]}';
    const r = await runLedger([
      ..."sweep policy --json --root".split(" "),
      root,
      ...["--calls", inputs.calls, "--candles", inputs.candles, "--grid", grid, "--no-index"],
    ]);
    equal(r.code, 0, r.stderr);
    const built = await runLedger(["rebuild-index", "--root", root]);
    equal(built.code, 0, built.stderr);
    const artifact = JSON.parse(r.stdout).artifact_paths.trials;
    const exported = `${dir}/export.parquet`;
    const e = await runLedger([
      ..."export trials --format parquet --root".split(" "),
      root,
      ...["--out", exported],
    ]);
    equal(e.code, 0, e.stderr);
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      const types = async (path: string) =>
        new Map(
          (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`))
            .getRowObjectsJS().map((c) => [String(c.column_name), String(c.column_type)]),
        );
      const [ours, theirs] = [await types(artifact), await types(exported)];
      const shared = [...ours.keys()].filter((c) => theirs.has(c));
      ok(
        shared.some((c) => c.startsWith("params.")) && shared.some((c) => c.startsWith("metrics.")),
      );
      deepEqual(
        shared.map((c) => `${c} ${ours.get(c)}`),
        shared.map((c) => `${c} ${theirs.get(c)}`),
      );
      // A measure is DOUBLE whatever its values (a types audit: a sweep of whole metrics wrote
      // BIGINT, and read_parquet of it beside another sweep's file read 0.25 as 0); the grid's
      // takeProfitPct values are all whole, and so are some metrics' here.
      const whole = await conn.runAndReadAll(
        `SELECT count(*) FROM read_parquet('${artifact}')
          WHERE "metrics.median_return_bps" = round("metrics.median_return_bps")`,
      );
      ok(Number(whole.getRows()[0][0]) > 0, "a whole metric, so the check means something");
      for (const types of [ours, theirs]) {
        deepEqual(
          [...types].filter(([c]) => c.startsWith("metrics.") || c === "params.takeProfitPct")
            .map(([c, t]) => `${c} ${t}`),
          [...types].filter(([c]) => c.startsWith("metrics.") || c === "params.takeProfitPct")
            .map(([c]) =>
              `${c} ${c === "metrics.calls" || c === "metrics.calls_skipped" ? "BIGINT" : "DOUBLE"}`
            ),
        );
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
