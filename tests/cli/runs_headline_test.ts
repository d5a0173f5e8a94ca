/**
 * The runs table's headline metrics of a sweep are its best trial's, marked
 * `*` and noted below the table (an audit: a sweep beside policy runs
 * showed dashes under every metric), except under a metric the rows are
 * sorted by, where the cell shows what the sort reads (the summary's own
 * value). Run ids stay whole in an 80-column table (an audit: every default
 * id read `policy-2026…`).
 */
import { strictEqual as equal } from "node:assert/strict";
import { formatRunsTable } from "../../cli/runs.ts";
import type { RunRecord } from "../../indexer/query/mod.ts";

function run(run_id: string, run_type: string, summary: unknown): RunRecord {
  return {
    run_id,
    run_type,
    status: "completed",
    created_at: "2026-01-20T12:00:00.000Z",
    created_at_ms: Date.UTC(2026, 0, 20, 12),
    started_at_ms: Date.UTC(2026, 0, 20, 12),
    completed_at_ms: Date.UTC(2026, 0, 20, 12, 0, 12),
    failed_at_ms: null,
    duration_ms: 12_000,
    label: null,
    archived: false,
    phase_count: 7,
    data_fingerprint: "f",
    summary,
  };
}

const policy = run("p1", "policy", { win_rate: 0.1781, mean_return_bps: 1327 });
const sweep = run("s1", "sweep", {
  trials: 2,
  best_trial: { trial_id: "t001", metrics: { win_rate: 0.25, mean_return_bps: -40 } },
});

function rowOf(table: string, id: string): string[] {
  return table.split("\n").find((l) => l.startsWith(id))!.trim().split(/\s+/);
}

Deno.test("runs table: a sweep's headline metrics are its best trial's", () => {
  const table = formatRunsTable([policy, sweep], { width: 200 });
  const header = table.split("\n")[0].trim().split(/\s{2,}/);
  equal(header.slice(6, 9).join(" "), "WIN_RATE MEAN_BPS TRIALS");
  equal(rowOf(table, "s1").slice(-3).join(" "), "0.25* -40* 2");
  equal(rowOf(table, "p1").slice(-3).join(" "), "0.1781 1327 -");
  equal(table.split("\n").at(-1), "(* a sweep's best trial)");
});

Deno.test("runs table: sorted by a metric, a sweep's cell is what the sort reads", () => {
  const table = formatRunsTable([policy, sweep], {
    width: 200,
    sortFields: ["summary.win_rate"],
  });
  const header = table.split("\n")[0];
  // Right-aligned: each cell ends where its header does.
  const end = header.indexOf("WIN_RATE") + "WIN_RATE".length;
  const cell = (id: string) => {
    const line = table.split("\n").find((l) => l.startsWith(id))!;
    return line.slice(0, end).split(/\s+/).at(-1);
  };
  equal(cell("s1"), "-");
  equal(cell("p1"), "0.1781");
  // The other metrics still show the best trial's.
  equal(rowOf(table, "s1").slice(-2).join(" "), "-40* 2");
});

Deno.test("runs table: run ids stay whole at 80 columns; metrics go first", () => {
  const ids = ["policy-20261201T150837-357b68", "path_only-20261201T150837-f0a299"];
  const table = formatRunsTable([run(ids[0], "policy", policy.summary), run(ids[1], "x", {})], {
    width: 80,
  });
  for (const id of ids) equal(table.split("\n").some((l) => l.startsWith(`${id} `)), true, table);
  equal(table.includes("…"), false, table);
  equal(table.split("\n").every((l) => l.length <= 80), true, table);
});

Deno.test("runs table: a wide-character id stays whole; 200,000 rows format", () => {
  const id = "実験-20261201T150837-357b68"; // 2 characters 2 columns wide each
  const table = formatRunsTable([run(id, "policy", policy.summary)], { width: 80 });
  equal(table.split("\n")[1].startsWith(`${id} `), true, table);
  // The widths were a spread of every row into Math.max: a RangeError past about 120k rows.
  const many = Array.from({ length: 200_000 }, (_, i) => run(`r${i}`, "policy", {}));
  equal(formatRunsTable(many, { width: 80 }).split("\n").length >= 200_001, true);
});
