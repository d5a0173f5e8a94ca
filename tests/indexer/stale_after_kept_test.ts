/**
 * A rebuild not given `staleAfterMs` keeps the threshold the index holds. A
 * probe: every rebuild wrote its own, the default 24 h when none was given,
 * so the background refresh after each backtest (`rebuild-index --root R`)
 * undid the daemon's `--stale-after-hours 1`, and a silent run went stale,
 * running, stale again.
 */
import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex, STALE_AFTER_MS_DEFAULT } from "../../indexer/rebuild.ts";
import { fullRun, query, T0, writePart } from "./_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const HOUR_MS = 3_600_000;

Deno.test("stale_after_ms: kept by a rebuild that is not given one", async () => {
  await withTempDir(async (root) => {
    const held = async () =>
      (await query(
        join(root, "index", "runs.duckdb"),
        "SELECT value FROM index_meta WHERE key = 'stale_after_ms'",
      )).map((r) => Number(r.value));
    const append = (i: number) =>
      writePart(root, "day=2026-01-20/part-1.jsonl", fullRun(`run-${i}`, T0 + i * 1000), {
        append: i > 0,
      });
    await append(0);
    await rebuildIndex(root, {}); // a new index: the default
    deepEqual(await held(), [STALE_AFTER_MS_DEFAULT]);
    await rebuildIndex(root, { staleAfterMs: HOUR_MS }); // the daemon's --stale-after-hours 1
    deepEqual(await held(), [HOUR_MS]);
    await append(1);
    await rebuildIndex(root, {}); // incremental, as the background refresh
    deepEqual(await held(), [HOUR_MS]);
    await rebuildIndex(root, { full: true });
    deepEqual(await held(), [HOUR_MS]);
    await append(2);
    const cli = await runLedger(["rebuild-index", "--root", root]);
    deepEqual(cli.code, 0, cli.stderr);
    deepEqual(await held(), [HOUR_MS]);
    await rebuildIndex(root, { staleAfterMs: 2 * HOUR_MS }); // given: taken
    deepEqual(await held(), [2 * HOUR_MS]);
  });
});
