/**
 * `ledger sweep` refusals that name the flag: a grid whose JSON does not
 * parse is one stderr line with the flag, the file and the position, exit 2,
 * nothing written; so is bad costs' sum and an input file that does not
 * exist. (The sweep itself: tests/backtest/sweep_test.ts.)
 *
 * @module
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { exists } from "../../ledger/exists.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

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
