/**
 * What a query audit found in the output of `runs`, `trials` and `show`
 * (each checked through the real CLI, on an 80-column pipe): a table sorted
 * by a headline metric shows that metric; the dual-mode table keeps run ids
 * whole; the trials table does not repeat a column named in `--columns`;
 * `show` prints the archive reason; `--since`/`--until` read a lowercase
 * `t` and `z` (RFC 3339); an unknown field is quoted as typed.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { sampleLegacyRuns } from "../../scripts/sample_legacy.ts";
import { formatRunsTable } from "../../cli/runs.ts";
import type { RunRecord } from "../../indexer/query/mod.ts";

const REASON = "look-ahead bug in slice";

/** Three policy runs with four headline metrics, a sweep with trials, an archived run. */
async function buildRoot(root: string): Promise<void> {
  const policy = (runId: string, i: number, mean: number) => [
    ev("run.created", runId, T0 + i * 1000, {
      run_type: "policy",
      config: {},
      data_fingerprint: "f",
    }),
    ev("run.completed", runId, T0 + i * 1000 + 500, {
      summary: {
        win_rate: i / 10,
        mean_return_bps: mean,
        median_return_bps: mean / 2,
        profit_factor: 1 + i / 10,
      },
      artifact_paths: {},
    }),
  ];
  await writePart(root, "day=2026-01-20/part-audit.jsonl", [
    ...policy("r1", 1, 100),
    ...policy("r2", 2, -200),
    ...policy("r3", 3, 300),
    ev("run.created", "s1", T0 + 5000, { run_type: "sweep", config: {}, data_fingerprint: "f" }),
    ...[1, 2].map((k) =>
      ev("trial.recorded", "s1", T0 + 5000 + k, {
        trial_id: `t${k}`,
        params: { k },
        metrics: { sharpe: k },
      })
    ),
    ev("run.created", "a1", T0 + 6000, { run_type: "t", config: {}, data_fingerprint: "f" }),
    ev("run.archived", "a1", T0 + 7000, { reason: REASON }),
  ]);
  await rebuildIndex(root);
}

/** `ledger ARGS --root ROOT`, expected to exit `code`. */
async function ledger(root: string, args: string[], code = 0) {
  const r = await runLedger([...args, "--root", root]);
  equal(r.code, code, r.stderr);
  return r;
}

function assertFits(stdout: string): void {
  for (const line of stdout.trimEnd().split("\n")) equal([...line].length <= 80, true, line);
}

Deno.test("runs: the table sorted by a headline metric shows that metric", async () => {
  await withTempDir(async (root) => {
    await buildRoot(root);
    // Sorted by the second and the third headline metric: only one fits beside the others.
    const cases = [
      {
        field: "mean_return_bps",
        header: "MEAN_BPS",
        rows: [["r3", "300"], ["r1", "100"], ["r2", "-200"]],
      },
      {
        field: "median_return_bps",
        header: "MED_BPS",
        rows: [["r3", "150"], ["r1", "50"], ["r2", "-100"]],
      },
    ];
    for (const c of cases) {
      const r = await ledger(root, [
        "runs",
        "--type",
        "policy",
        "--sort",
        `summary.${c.field}:desc`,
      ]);
      assertFits(r.stdout);
      const [head, ...rows] = r.stdout.trimEnd().split("\n");
      equal(head.split(/ {2,}/).includes(c.header), true, r.stdout);
      deepEqual(rows.map((l) => l.split(" ")[0]), c.rows.map(([id]) => id));
      // Each row shows its value, right-aligned under the header.
      const end = head.indexOf(c.header) + c.header.length;
      deepEqual(rows.map((l) => l.slice(0, end).split(" ").at(-1)), c.rows.map(([, v]) => v));
    }
    // Sorted by one that is not a headline metric (only three are): an extra column, as before.
    const pf = await ledger(root, ["runs", "--type", "policy", "--sort", "summary.profit_factor"]);
    match(pf.stdout.split("\n")[0], /summary\.profit_factor$/);
  });
});

Deno.test("runs: when columns are left out, the sorted headline metric and long ids stay", () => {
  const t = Date.UTC(2026, 0, 20, 12);
  const run = (i: number): RunRecord => ({
    run_id: `sweep-20261129T101010-${i}abc`,
    run_type: "sweep",
    status: "completed",
    created_at: new Date(t).toISOString(),
    created_at_ms: t,
    started_at_ms: t,
    completed_at_ms: t + 900,
    failed_at_ms: null,
    duration_ms: 900,
    label: null,
    archived: false,
    phase_count: 2,
    data_fingerprint: "fp",
    summary: { win_rate: 0.5, mean_return_bps: 10 * i, profit_factor: 1.5 },
    "config.policy.stopPct": 0.25,
  } as RunRecord);
  const lines = formatRunsTable([run(1), run(2)], {
    width: 80,
    columns: ["config.policy.stopPct"],
    sortFields: ["summary.mean_return_bps"],
  }).split("\n");
  for (const line of lines) equal([...line].length <= 80, true, line);
  match(lines[0], /^RUN ID +STATUS +MEAN_BPS +config\.policy\.stopPct$/);
  // A short id beside long ones: the long ones are not cut to its width.
  const mixed = formatRunsTable([{ ...run(1), run_id: "r1" }, run(2)], {
    width: 80,
    columns: ["config.policy.stopPct"],
  });
  match(mixed, /\nsweep-20261129T101010-2abc +completed/);
  match(lines[2], /^sweep-20261129T101010-2abc +completed +20 +0\.25$/);
  // The other headline metrics are named with the columns left out.
  equal(
    lines.slice(-2).join(" "), // wrapped at the width
    "(left out to fit 80 columns: WIN_RATE, PF, PHASES, TYPE, DURATION, CREATED; --wide shows all)",
  );
});

/** A root as {@linkcode buildRoot} makes it, and beside it the legacy file of `sample_legacy.ts`. */
async function withDualRoot(fn: (root: string, legacy: string) => Promise<void>): Promise<void> {
  await withTempDir(async (root) => {
    await buildRoot(root);
    const legacy = join(root, "legacy.duckdb");
    await createLegacyDb(legacy, sampleLegacyRuns()); // what scripts/sample_legacy.ts writes
    await fn(root, legacy);
  });
}

Deno.test("runs in dual mode: run ids stay whole", async () => {
  await withDualRoot(async (root, legacy) => {
    const r = await ledger(root, ["runs", "--all", "--legacy-db", legacy]);
    assertFits(r.stdout);
    const lines = r.stdout.trimEnd().split("\n");
    match(lines[0], /^RUN ID .*SOURCE$/);
    const ids = lines.slice(1).map((l) => l.split(" ")[0]);
    deepEqual(
      ids.filter((id) => id.startsWith("bt-")),
      sampleLegacyRuns().map((x) => x.run_id).reverse(), // newest first
    );
  });
});

Deno.test("runs in dual mode: the headline metrics, and the one sorted by", async () => {
  await withDualRoot(async (root, legacy) => {
    const r = await ledger(root, [
      "runs",
      "--legacy-db",
      legacy,
      "--sort",
      "summary.mean_return_bps:desc",
    ]);
    assertFits(r.stdout);
    const [head, ...rows] = r.stdout.trimEnd().split("\n");
    // The headline metrics, as the index's table has them (a probe: dual mode showed none),
    // the sorted one among them, numbers right-aligned; a legacy run's from its summary.
    match(head, /^RUN ID +STATUS +WIN_RATE +MEAN_BPS +MED_BPS +SOURCE$/);
    match(rows[0], /^r3 +completed +0\.3 +300 +150 +event_log$/);
    match(rows[1], /^r1 +completed +0\.1 +100 +50 +event_log$/);
    match(rows[2], /^r2 +completed +0\.2 +-200 +-100 +event_log$/);
    match(r.stdout, /\nbt-20260117-b +completed +0\.31 +- +-2137 +legacy\n/);
  });
});

Deno.test("trials: a column named in --columns is not repeated", async () => {
  await withTempDir(async (root) => {
    await buildRoot(root);
    const header = async (...args: string[]) =>
      (await ledger(root, ["trials", ...args])).stdout.split("\n")[0].split(/ {2,}/);
    const shown = ["RUN ID", "TRIAL", "params.k", "metrics.sharpe"];
    deepEqual(await header("--columns", "metrics.sharpe"), shown);
    deepEqual(await header("--columns", "run_id,trial_id,params.k,metrics.sharpe"), shown);
    deepEqual(await header("--columns", "metrics.sharpe,recorded_at"), [...shown, "recorded_at"]);
    deepEqual(await header("--columns", "metrics.sharpe", "--sort", "metrics.sharpe:desc"), [
      "RUN ID",
      "TRIAL",
      "params.k",
      "metrics.sharpe",
    ]);
    // The machine formats are as before: the fixed columns, then --columns.
    const csv = await ledger(root, ["trials", "--columns", "metrics.sharpe", "--format", "csv"]);
    equal(csv.stdout.split("\n")[0], "run_id,trial_id,recorded_at,params,metrics,metrics.sharpe");
    const json = JSON.parse(
      (await ledger(root, ["trials", "--columns", "metrics.sharpe", "--json"])).stdout,
    );
    deepEqual(json.map((t: Record<string, unknown>) => [t.trial_id, t["metrics.sharpe"]]), [
      ["t1", 1],
      ["t2", 2],
    ]);
  });
});

Deno.test("show: the archive reason, in the text and as archived_reason in --json", async () => {
  await withTempDir(async (root) => {
    await buildRoot(root);
    const text = (await ledger(root, ["show", "a1"])).stdout.split("\n");
    deepEqual(text.slice(0, 2), ["run        a1   (archived)", `archived   ${REASON}`]);
    const json = JSON.parse((await ledger(root, ["show", "a1", "--json"])).stdout);
    deepEqual(Object.keys(json), [
      "run",
      "phases",
      "trials",
      "artifacts",
      "baselines",
      "tags",
      "notes",
      "archived",
      "archived_reason",
    ]);
    deepEqual([json.archived, json.archived_reason], [true, REASON]);
    // A run never archived: null, and no line.
    const plain = JSON.parse((await ledger(root, ["show", "r1", "--json"])).stdout);
    deepEqual([plain.archived, plain.archived_reason], [false, null]);
    equal((await ledger(root, ["show", "r1"])).stdout.includes("\narchived "), false);
  });
});

Deno.test("--since and --until read a lowercase t and z (RFC 3339)", async () => {
  await withTempDir(async (root) => {
    await buildRoot(root);
    const ids = async (...args: string[]) =>
      (await ledger(root, [...args, "--format", "jsonl"])).stdout.trim().split("\n")
        .map((l) => JSON.parse(l).run_id);
    // r2 was created at T0 + 2 s, r3 at T0 + 3 s (2026-01-20).
    const upper = ["--since", "2026-01-20T00:00:02Z", "--until", "2026-01-20T00:00:03Z"];
    const lower = ["--since", "2026-01-20t00:00:02z", "--until", "2026-01-20t00:00:03z"];
    deepEqual(await ids("runs", ...upper), ["r3", "r2"]);
    deepEqual(await ids("runs", ...lower), ["r3", "r2"]);
    deepEqual(await ids("runs", "--since", "2026-01-20T00:00:05z"), ["s1"]);
    deepEqual(
      (await ledger(root, ["trials", "--since", "2026-01-20t00:00:05z", "--format", "jsonl"]))
        .stdout.trim().split("\n").length,
      2,
    );
    // A bad instant is still refused, named as typed.
    const bad = await ledger(root, ["runs", "--since", "2026-01-20t25:00z"], 2);
    match(bad.stderr, /^ledger runs: --since: Invalid date or instant "2026-01-20t25:00z": /);
  });
});

Deno.test("an unknown field is quoted as typed, backslashes not doubled", async () => {
  await withTempDir(async (root) => {
    await buildRoot(root);
    const fields = "run_id, run_type, status";
    for (const flag of ["--columns", "--sort"]) {
      const r = await ledger(root, ["runs", flag, String.raw`confg.a\.b`], 2);
      equal(
        r.stderr.slice(0, r.stderr.indexOf(fields) + fields.length),
        String.raw`ledger runs: Unknown field "confg.a\.b" (fields: ${fields}`,
      );
    }
    const trials = await ledger(root, ["trials", "--columns", String.raw`prams.a\.b`], 2);
    match(trials.stderr, /^ledger trials: Unknown field "prams\.a\\\.b" \(fields: run_id, /);
    // Unchanged where there is nothing to escape.
    const where = await ledger(root, ["runs", "--where", "confg.x = 1"], 2);
    match(where.stderr, /^ledger runs: --where: Unknown field "confg\.x" at column 1 \(fields: /);
  });
});
