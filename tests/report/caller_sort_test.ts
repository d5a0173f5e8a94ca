/**
 * The report's per-caller table sorts a column of numbers as numbers,
 * whatever its first row holds (helper-290: caller `x`, whose flat mint never
 * rose past its entry, has no `mean_tail_capture`; the column took its type
 * from that first row, became text, and sorting put `-` before `0.1667`).
 *
 * Real processes: `ledger backtest policy`, `rebuild-index`, `report`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("report: a per-caller column whose first value is null still sorts as numbers", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const calls = join(dir, "calls.csv");
    await Deno.writeTextFile(
      calls,
      "call_id,caller,mint,chain,alert_ts\n" +
        "c1,x,FL,solana,2026-01-01T00:00:00.000Z\nc2,x,FL,solana,2026-01-01T00:00:00.000Z\n" +
        "c3,y,UP,solana,2026-01-01T00:00:00.000Z\nc4,z,UP,solana,2026-01-01T00:01:00.000Z\n",
    );
    const candles = join(dir, "candles.csv");
    await Deno.writeTextFile(
      candles,
      "mint,ts,open,high,low,close,volume\n" +
        "UP,1767225600000,1,1,1,1,1\nUP,1767225660000,1,2,1,2,1\nUP,1767225720000,2,4,2,4,1\n" +
        "FL,1767225600000,1,1,1,1,1\nFL,1767225660000,1,1,1,1,1\n",
    );
    const run = await runLedger([
      ...["backtest", "policy", "--root", root, "--calls", calls, "--candles", candles],
      ...["--policy", '{"type":"fixed_stop","stopPct":0.3,"takeProfitPct":0.5}'],
      ...["--run-id", "p2", "--no-index"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const out = join(dir, "report.html");
    const report = await runLedger(["report", "p2", "--root", root, "--out", out]);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    const table = html.slice(html.indexOf("<summary>Per-caller table</summary>"));
    const head = table.slice(0, table.indexOf("</thead>"));
    assert.match(head, /<th data-sort="num" class="num">mean_tail_capture<\/th>/);
    assert.match(head, /<th data-sort="text">caller<\/th>/);
    // x's row is first and has none: the column is numbers all the same.
    const firstRow = table.slice(
      table.indexOf("<tbody><tr>"),
      table.indexOf("</tr>", table.indexOf("<tbody>")),
    );
    assert.match(firstRow, /<td>x<\/td>/);
  });
});
