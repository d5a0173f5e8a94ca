/**
 * Child of tests/report/ui_memory_test.ts (run with `--v8-flags=--expose-gc`):
 * serves the overview's queries of the index of ROOT, as `ledger ui` serves a
 * page, WARM_UP times, then MEASURED times more, and prints the process's
 * resident memory after each, V8's heap collected first, as JSON
 * `{before, after}` in bytes.
 *
 * @module
 */
import { ReportIndex } from "../../report/data.ts";

const [root, warmUp, measured] = Deno.args;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("_ui_memory_child: run with --v8-flags=--expose-gc");
const index = await ReportIndex.open(root);
try {
  const page = () =>
    Promise.all([
      index.overview({ sort: "summary.win_rate", limit: 500, offset: 0 }),
      index.facets(),
    ]);
  const resident = () => {
    gc();
    return Deno.memoryUsage().rss;
  };
  for (let i = 0; i < Number(warmUp); i++) await page();
  const before = resident();
  for (let i = 0; i < Number(measured); i++) await page();
  const after = resident();
  const [overview] = await page();
  console.log(JSON.stringify({ before, after, runs: overview.runs.length }));
} finally {
  index.close();
}
