/**
 * The alert-to-entry delay (probe 20, finding 4): a call alerted 30 days
 * before its mint's first candle was counted as covered and priced at a
 * close 30 days later, and `path_metrics.parquet` did not say when its
 * anchor was (`t0_ms` is the alert). Now `anchor_ts_ms` and the summary's
 * `entry_delay_ms_max` show it, and `maxEntryDelayMs` (inclusive) leaves a
 * later call out, counted as `calls_entry_late`, in path-only, policy and
 * sweep runs, recorded in the config so that a rerun repeats it. The data
 * are the probe's (`/tmp/probe20/d9/`) plus a call on time.
 *
 * @module
 */
import {
  deepStrictEqual as deepEqual,
  ok,
  rejects,
  strictEqual as equal,
} from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { exists } from "../../ledger/exists.ts";
import { runPathOnly } from "../../backtest/path_only.ts";
import { runPolicy } from "../../backtest/policy.ts";
import { runSweep } from "../../backtest/sweep.ts";
import { rerunRun } from "../../backtest/rerun.ts";
import { InputError } from "../../backtest/errors.ts";
import {
  LATE_ALERT_MS as ALERT_MS,
  LATE_DELAY_MS as DELAY_MS,
  LATE_FIRST_CANDLE_MS as FIRST_CANDLE_MS,
  runEvents,
  writeLateCallFixtures as writeInputs,
} from "./_fixtures.ts";

const DAY_MS = 86_400_000;
const POLICY = { type: "fixed_stop", stopPct: 0.3 } as const;

async function readRows(path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}') ORDER BY 1`);
    return reader.getRowObjectsJS();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function withRoot(
  fn: (dir: string, root: string, emitter: EventEmitter) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_entry_delay_" });
  const root = `${dir}/ledger`;
  const emitter = new EventEmitter({ root, durability: "relaxed" });
  try {
    await fn(dir, root, emitter);
  } finally {
    await emitter.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function createdConfig(root: string, runId: string): Promise<Record<string, unknown>> {
  const events: LedgerEvent[] = await runEvents(root, runId);
  const created = events[0] as Extract<LedgerEvent, { event_type: "run.created" }>;
  equal(created.event_type, "run.created");
  return created.config;
}

Deno.test("entry delay: without a bound the probe's 30-day anchor shows in anchor_ts_ms and entry_delay_ms_max", async (t) => {
  await withRoot(async (dir, root, emitter) => {
    const inputs = await writeInputs(dir, false);
    await t.step("path-only: the row's anchor time, the summary's largest delay", async () => {
      const r = await runPathOnly({ root, emitter, ...inputs, runId: "po" });
      const rows = await readRows(r.artifactPaths.path_metrics);
      deepEqual(
        rows.map((x) => [x.call_id, Number(x.t0_ms), Number(x.anchor_ts_ms), x.p0]),
        [["q", ALERT_MS, FIRST_CANDLE_MS, 1]],
      );
      equal(r.summary.calls_computed, 1);
      equal(r.summary.calls_entry_late, 0);
      equal(r.summary.entry_delay_ms_max, DELAY_MS);
      equal(DELAY_MS, 30 * DAY_MS);
      equal("max_entry_delay_ms" in await createdConfig(root, "po"), false); // config as before
    });
    await t.step("policy: the trade enters 30 days late, the summary says so", async () => {
      const r = await runPolicy({ root, emitter, ...inputs, runId: "pol", policy: POLICY });
      const [row] = await readRows(r.artifactPaths.policy_results);
      equal(Number(row.entry_ts_ms), FIRST_CANDLE_MS);
      equal(r.summary.count, 1);
      equal(r.summary.calls_entry_late, 0);
      equal(r.summary.entry_delay_ms_max, DELAY_MS);
    });
  });
});

Deno.test("entry delay: a call past maxEntryDelayMs is left out and counted as calls_entry_late", async (t) => {
  await withRoot(async (dir, root, emitter) => {
    const inputs = await writeInputs(dir, true);
    await t.step("path-only: no row, skipped, named, recorded in the config", async () => {
      const r = await runPathOnly({
        root,
        emitter,
        ...inputs,
        runId: "po",
        maxEntryDelayMs: DAY_MS,
      });
      const rows = await readRows(r.artifactPaths.path_metrics);
      deepEqual(rows.map((x) => [x.call_id, Number(x.anchor_ts_ms)]), [["r", FIRST_CANDLE_MS]]);
      equal(r.summary.calls_covered, 2);
      equal(r.summary.calls_computed, 1);
      equal(r.summary.calls_skipped, 1); // calls_covered = calls_computed + calls_skipped
      equal(r.summary.calls_entry_late, 1);
      equal(r.summary.entry_delay_ms_max, 60_000); // of the computed calls only
      equal((await createdConfig(root, "po")).max_entry_delay_ms, DAY_MS);
      const manifest = JSON.parse(await Deno.readTextFile(`${r.runDir}/manifest.json`));
      equal(manifest.config.max_entry_delay_ms, DAY_MS);
      const compute = r.phases.find((p) => p.name === "compute")!;
      deepEqual([compute.summary.calls_skipped, compute.summary.calls_entry_late], [1, 1]);
    });
    await t.step("policy: a no_entry row, out of the trades", async () => {
      const r = await runPolicy({
        root,
        emitter,
        ...inputs,
        runId: "pol",
        policy: POLICY,
        maxEntryDelayMs: DAY_MS,
      });
      const rows = await readRows(r.artifactPaths.policy_results);
      deepEqual(rows.map((x) => [x.call_id, x.exit_reason]), [["q", "no_entry"], [
        "r",
        "end_of_data",
      ]]);
      equal(r.summary.count, 1);
      equal(r.summary.calls_no_entry, 1);
      equal(r.summary.calls_entry_late, 1);
      equal(r.summary.entry_delay_ms_max, 60_000);
      const byCaller = r.summary.by_caller as Record<string, { calls_no_entry: number }>;
      equal(byCaller.amy.calls_no_entry, 1);
      equal((await createdConfig(root, "pol")).max_entry_delay_ms, DAY_MS);
    });
    await t.step("sweep: every trial skips it; the summary counts it once", async () => {
      const r = await runSweep({
        root,
        emitter,
        ...inputs,
        runId: "sw",
        grid: { type: "fixed_stop", stopPct: [0.2, 0.3] },
        maxEntryDelayMs: DAY_MS,
      });
      const trials = await readRows(r.artifactPaths.trials);
      deepEqual(
        trials.map((x) => [Number(x["metrics.calls"]), Number(x["metrics.calls_skipped"])]),
        [
          [1, 1],
          [1, 1],
        ],
      );
      equal(r.summary.calls_entry_late, 1);
      equal(r.summary.entry_delay_ms_max, 60_000);
      const best = r.summary.best_trial as {
        by_caller: Record<string, { calls_no_entry: number }>;
      };
      equal(best.by_caller.amy.calls_no_entry, 1);
      equal((await createdConfig(root, "sw")).max_entry_delay_ms, DAY_MS);
    });
    await t.step("a rerun repeats the bound from the manifest", async () => {
      const { report, result } = await rerunRun("po", { root, emitter, runId: "po-again" });
      equal(result.summary.calls_entry_late, 1);
      equal(result.summary.calls_computed, 1);
      equal((await createdConfig(root, "po-again")).max_entry_delay_ms, DAY_MS);
      equal(report.artifacts.path_metrics.same, true);
    });
  });
});

Deno.test("entry delay: the bound is inclusive (a delay equal to it is kept, 1 ms more is late)", async (t) => {
  await withRoot(async (dir, root, emitter) => {
    const inputs = await writeInputs(dir, false);
    for (const [bound, late] of [[DELAY_MS, 0], [DELAY_MS - 1, 1]] as const) {
      await t.step(`maxEntryDelayMs ${bound}: ${late} late`, async () => {
        const options = { root, emitter, ...inputs, maxEntryDelayMs: bound };
        const po = await runPathOnly({ ...options, runId: `po-${bound}` });
        deepEqual([po.summary.calls_computed, po.summary.calls_entry_late], [1 - late, late]);
        equal(po.summary.entry_delay_ms_max, late === 0 ? DELAY_MS : null);
        const pol = await runPolicy({ ...options, runId: `pol-${bound}`, policy: POLICY });
        deepEqual([pol.summary.count, pol.summary.calls_entry_late], [1 - late, late]);
      });
    }
  });
});

Deno.test("entry delay: a bad maxEntryDelayMs is refused before the run exists", async () => {
  await withRoot(async (dir, root, emitter) => {
    const inputs = await writeInputs(dir, false);
    for (const bad of [-1, 1.5, Number.NaN, "1d"]) {
      await rejects(
        runPathOnly({ root, emitter, ...inputs, runId: "bad", maxEntryDelayMs: bad as number }),
        (err: unknown) => {
          ok(err instanceof InputError, String(err));
          ok(err.message.startsWith("maxEntryDelayMs must be a whole number of ms >= 0, got "));
          return true;
        },
      );
    }
    equal(await exists(`${root}/artifacts/runs/bad`), false);
  });
});
