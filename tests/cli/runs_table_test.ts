/**
 * The runs table in a narrow terminal with `--columns`: the run id and the
 * status stay whole, whole columns are left out in turn (TYPE, DURATION,
 * CREATED, then the extra columns from the last), and a last line names
 * them; an empty LABEL goes without a word.
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { formatRunsTable } from "../../cli/runs.ts";
import { formatTable, truncate } from "../../cli/_table.ts";
import type { RunRecord } from "../../indexer/query/mod.ts";

const T0 = Date.UTC(2026, 0, 20, 12);

function run(i: number, archived: boolean): RunRecord {
  return {
    run_id: `sweep-20261129T101010-${i}abc`,
    run_type: "sweep",
    status: "failed",
    created_at: new Date(T0).toISOString(),
    created_at_ms: T0,
    started_at_ms: T0,
    completed_at_ms: null,
    failed_at_ms: T0 + 900,
    duration_ms: 900,
    label: null,
    archived,
    phase_count: 2,
    data_fingerprint: "fp",
    summary: { calls: 12 },
    "summary.calls": 12,
    "config.policy.stopPct": 0.25,
  } as RunRecord;
}

const RUNS = [run(0, true), run(1, false)];
const EXTRA = ["summary.calls", "config.policy.stopPct"];

Deno.test("runs table: ids and status whole, columns left out in turn, named on a last line", () => {
  const lines = formatRunsTable(RUNS, { width: 80, columns: EXTRA }).split("\n");
  for (const line of lines) equal([...line].length <= 80, true, line);
  match(lines[0], /^RUN ID +STATUS +summary\.calls {2}config\.policy\.sto…$/);
  match(lines[1], /^sweep-20261129T101010-0abc {2}failed \(archived\) {2}12 +0\.25$/);
  equal(
    lines.at(-1),
    "(left out to fit 80 columns: PHASES, TYPE, DURATION, CREATED; --wide shows all)",
  );
  // Narrower still: the extra columns go from the last.
  const narrow = formatRunsTable(RUNS, { width: 60, columns: EXTRA }).split("\n");
  match(narrow[0], /^RUN ID +STATUS +summary\.calls$/);
  // The note wraps at the width too.
  deepEqual(narrow.slice(-2), [
    "(left out to fit 60 columns: PHASES, TYPE, DURATION,",
    "CREATED, config.policy.stopPct; --wide shows all)",
  ]);
  for (const line of narrow) equal([...line].length <= 60, true, line);
  // Wide enough, or --wide: every column, no last line.
  for (const options of [{ width: 200 }, { width: 80, wide: true }]) {
    const all = formatRunsTable(RUNS, { ...options, columns: EXTRA }).split("\n");
    deepEqual(all.length, 3);
    match(all[0], /^RUN ID +TYPE +STATUS +CREATED +DURATION +PHASES +LABEL +summary\.calls/);
  }
});

Deno.test("runs table: long default ids at 80 columns keep the headline metrics", () => {
  // An audit: at 80 columns a table of default ids (29-32 characters) showed no metric at all.
  const runs = [0, 1, 2].map((i) => ({
    ...run(i, false),
    run_id: `path_only-20261129T10101${i}-0da2d${i}`,
    status: "completed",
    summary: { win_rate: 0.25 + i / 10, mean_return_bps: 12.5 * i, median_return_bps: -3 },
  } as RunRecord));
  const lines = formatRunsTable(runs, { width: 80 }).split("\n");
  for (const line of lines) equal([...line].length <= 80, true, line);
  // TYPE, DURATION and CREATED go first: a default id holds the type and the time.
  match(lines[0], /^RUN ID +STATUS +WIN_RATE +MEAN_BPS +MED_BPS$/);
  match(lines[3], /^path_only-20261129T101012-0da2d2 +completed +0\.45 +25 +-3$/);
  equal(
    lines.at(-1),
    "(left out to fit 80 columns: PHASES, TYPE, DURATION, CREATED; --wide shows all)",
  );
  // Narrower: the metrics go from the last, the first stays.
  const narrow = formatRunsTable(runs, { width: 60 }).split("\n");
  match(narrow[0], /^RUN ID +STATUS +WIN_RATE$/);
  // Sorted by a column the table has: it stays, and the metrics go first, as before (a review).
  const sorted = formatRunsTable(runs, { width: 80, sortFields: ["duration_ms"] }).split("\n");
  match(sorted[0], /^RUN ID +STATUS +CREATED +DURATION$/);
  // A sweep's best-trial cells keep their note only while their column is shown.
  const sweep = { ...runs[0], summary: { best_trial: { metrics: { mean_return_bps: 9 } } } };
  const withSweep = formatRunsTable([sweep as RunRecord, runs[1]], { width: 80 });
  match(withSweep, /\s9\* .*\n.*\n\(\* a sweep's best trial\)\n/s);
  const narrowSweep = formatRunsTable([sweep as RunRecord, runs[1]], { width: 60 });
  equal(narrowSweep.includes("(* a sweep's best trial)"), false, narrowSweep);
});

Deno.test("tables: wide and zero-width characters take the cells a terminal draws", () => {
  // A query audit: CJK values and a zero-width space pushed the next column by a cell or two.
  const rows = [["日本", "1"], ["ab", "2"], ["e\u0301x", "3"], ["a\u200Bb", "4"]];
  const lines = formatTable(["NAME", "N"], rows, { width: 80 }).split("\n");
  // Every N sits at the same terminal column: the name's cells, the gap, then N.
  const column = (line: string) => {
    let cells = 0;
    for (const ch of line.slice(0, line.lastIndexOf(" ") + 1)) {
      cells += /[\u3000-\u9FFF]/.test(ch) ? 2 : /[\u0301\u200B]/.test(ch) ? 0 : 1;
    }
    return cells;
  };
  deepEqual(lines.map(column), [6, 6, 6, 6, 6], JSON.stringify(lines)); // the header too
  equal(truncate("日本語です", 5), "日本…");
});
