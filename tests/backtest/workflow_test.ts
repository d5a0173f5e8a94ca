import {
  deepStrictEqual as deepEqual,
  ok,
  rejects,
  strictEqual as equal,
} from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { PATH_METRICS_COLUMNS, PATH_ONLY_PHASES, runPathOnly } from "../../backtest/path_only.ts";
import {
  CALLER_SUMMARY_COLUMNS,
  POLICY_PHASES,
  POLICY_RESULTS_COLUMNS,
  runPolicy,
} from "../../backtest/policy.ts";
import { RunFailedError } from "../../backtest/workflow.ts";
import { InputError } from "../../backtest/errors.ts";
import { MINUTE_MS, runEvents, T0_MS, writeFixtures } from "./_fixtures.ts";

async function readParquet(
  path: string,
): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}') ORDER BY 1`);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJS() };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Check the trail: created, started, each phase started/completed in order, artifacts, then the end. */
function assertTrail(events: LedgerEvent[], phases: readonly string[], end: string): void {
  const types = events.map((e) => e.event_type);
  equal(types[0], "run.created");
  equal(types[1], "run.started");
  equal(types.at(-1), end);
  const phaseEvents = events.filter((e) => e.event_type.startsWith("phase."));
  const expected = phases.flatMap((p, i) => [`phase.started:${p}:${i}`, `phase.completed:${p}`]);
  deepEqual(
    phaseEvents.map((e) =>
      e.event_type === "phase.started"
        ? `${e.event_type}:${e.phase_name}:${e.phase_order}`
        : `${e.event_type}:${(e as { phase_name: string }).phase_name}`
    ),
    expected,
  );
  for (const e of phaseEvents) {
    if (e.event_type !== "phase.completed") continue;
    ok(Number.isInteger(e.duration_ms) && e.duration_ms >= 0);
    ok("rows_in" in e.output_summary && "rows_out" in e.output_summary, e.phase_name);
  }
}

async function withRoot(fn: (dir: string, emitter: EventEmitter) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_bt_" });
  const emitter = new EventEmitter({ root: `${dir}/ledger`, durability: "relaxed" });
  try {
    await fn(dir, emitter);
  } finally {
    await emitter.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("path-only run on the hand-worked fixtures", async (t) => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    const inputs = await writeFixtures(dir);
    const r = await runPathOnly({ root, emitter, ...inputs, runId: "po-1", gitCwd: dir });
    await t.step("summary counts coverage and skips the call without candles", () => {
      equal(r.summary.calls_total, 3);
      equal(r.summary.calls_covered, 2);
      equal(r.summary.calls_no_candles, 1);
      equal(r.summary.hit_2x_rate, 0.5);
      equal(r.summary.interval, "1m");
      deepEqual(Object.keys(r.summary.by_caller as object), ["alice", "bob"]);
    });
    await t.step(
      "path_metrics.parquet has the issue's columns and the hand-worked values",
      async () => {
        const { columns, rows } = await readParquet(r.artifactPaths.path_metrics);
        deepEqual(columns, PATH_METRICS_COLUMNS.map((c) => c.name));
        equal(rows.length, 2);
        const a = rows.find((x) => x.call_id === "a1")!;
        equal(Number(a.t0_ms), T0_MS + 30_000);
        equal(a.p0, 1.0);
        equal(a.hit_2x, true);
        equal(Number(a.t_2x_ms), T0_MS + 4 * MINUTE_MS);
        equal(Number(a.t_3x_ms), T0_MS + 5 * MINUTE_MS);
        equal(a.hit_4x, false);
        equal(a.t_4x_ms, null);
        equal(Math.round(a.dd_bps as number), -3000);
        equal(Math.round(a.dd_to_2x_bps as number), -1500);
        equal(Number(a.alert_to_activity_ms), 90_000);
        equal(a.peak_multiple, 3.2);
        const b = rows.find((x) => x.call_id === "b1")!;
        equal(b.hit_2x, false);
        equal(b.dd_to_2x_bps, null);
      },
    );
    await t.step("events: full trail in order, artifacts with sizes, completed last", async () => {
      const events = await runEvents(root, "po-1");
      assertTrail(events, PATH_ONLY_PHASES, "run.completed");
      const created = events[0] as Extract<LedgerEvent, { event_type: "run.created" }>;
      equal(created.run_type, "path_only");
      equal(created.config.calls, inputs.calls);
      ok(/^[0-9a-f]{64}$/.test(created.data_fingerprint));
      const started = events[1] as Extract<LedgerEvent, { event_type: "run.started" }>;
      equal(started.pid, Deno.pid);
      const artifacts = events.filter((e) => e.event_type === "artifact.created") as Extract<
        LedgerEvent,
        { event_type: "artifact.created" }
      >[];
      deepEqual(artifacts.map((a) => a.artifact_type), ["path_metrics", "manifest"]);
      for (const a of artifacts) equal(a.size_bytes, (await Deno.stat(a.artifact_path)).size);
      // The store phase wrote both: its summary counts them, files and bytes (a probe: the bytes
      // were the Parquet file's alone).
      const store = events.find((e) =>
        e.event_type === "phase.completed" && e.phase_name === "store"
      ) as Extract<LedgerEvent, { event_type: "phase.completed" }>;
      equal(store.output_summary.files, artifacts.length);
      equal(store.output_summary.bytes, artifacts.reduce((n, a) => n + a.size_bytes, 0));
      const done = events.at(-1) as Extract<LedgerEvent, { event_type: "run.completed" }>;
      deepEqual(Object.keys(done.artifact_paths).sort(), ["manifest", "path_metrics"]);
      equal(done.summary.calls_covered, 2);
      const coverage = events.find((e) =>
        e.event_type === "phase.completed" && e.phase_name === "coverage"
      ) as Extract<LedgerEvent, { event_type: "phase.completed" }>;
      deepEqual(coverage.output_summary, {
        rows_in: 3,
        rows_out: 2,
        calls_no_candles: 1,
        mints: 2,
      });
    });
    await t.step(
      "manifest: config, inputs with hashes, fingerprint, null git outside a checkout",
      async () => {
        const m = JSON.parse(await Deno.readTextFile(`${r.runDir}/manifest.json`));
        equal(m.run_id, "po-1");
        equal(m.status, "completed");
        equal(m.inputs.calls.path, inputs.calls);
        ok(/^[0-9a-f]{64}$/.test(m.inputs.candles.sha256));
        deepEqual(m.git, { commit: null, branch: null, dirty: null });
        equal(m.outputs.path_metrics.file, "path_metrics.parquet");
      },
    );
  });
});

Deno.test("policy run on the hand-worked fixtures", async (t) => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    const inputs = await writeFixtures(dir, { callsFormat: "jsonl", epochMs: true });
    const r = await runPolicy({
      root,
      emitter,
      ...inputs,
      runId: "pol-1",
      policy: '{"type":"fixed_stop","stopPct":0.2,"takeProfitPct":1}',
    });
    await t.step("policy_results.parquet: a take-profit and a stop-out", async () => {
      const { columns, rows } = await readParquet(r.artifactPaths.policy_results);
      deepEqual(columns, POLICY_RESULTS_COLUMNS.map((c) => c.name));
      const a = rows.find((x) => x.call_id === "a1")!;
      equal(Number(a.entry_ts_ms), T0_MS + MINUTE_MS);
      equal(Number(a.exit_ts_ms), T0_MS + 4 * MINUTE_MS);
      equal(a.exit_px, 2.0);
      equal(Math.round(a.realized_return_bps as number), 10_000);
      equal(a.exit_reason, "take_profit");
      equal(a.stop_out, false);
      equal(Math.round(a.max_adverse_excursion_bps as number), -1500);
      equal(Number(a.time_exposed_ms), 3 * MINUTE_MS);
      equal((a.tail_capture as number).toFixed(6), (10_000 / 22_000).toFixed(6));
      const b = rows.find((x) => x.call_id === "b1")!;
      equal(b.exit_reason, "stop_loss");
      equal(b.stop_out, true);
      equal(b.exit_px, 0.8);
      equal(Math.round(b.realized_return_bps as number), -2000);
      // c1 has no candles: a no_entry row at its alert, 0 bps (quantBot's reason).
      const c = rows.find((x) => x.call_id === "c1")!;
      deepEqual(
        [c.exit_reason, c.realized_return_bps, Number(c.entry_ts_ms), c.stop_out, c.tail_capture],
        ["no_entry", 0, T0_MS, false, null],
      );
      equal(rows.length, 3);
    });
    await t.step("caller_summary.parquet and the run.completed summary", async () => {
      const { columns, rows } = await readParquet(r.artifactPaths.caller_summary);
      deepEqual(columns, CALLER_SUMMARY_COLUMNS.map((c) => c.name));
      deepEqual(
        rows.map((x) => [x.caller, Number(x.count), x.win_rate, Number(x.calls_no_entry)]),
        [
          ["alice", 1, 1, 0],
          ["bob", 1, 0, 0],
          ["carol", 0, 0, 1],
        ],
      );
      // no_entry rows are counted apart: not in count, win rate or returns.
      equal(r.summary.calls_no_entry, 1);
      equal(r.summary.count, 2);
      equal(r.summary.win_rate, 0.5);
      equal(Math.round(r.summary.mean_return_bps as number), 4000);
      // by_caller lists the same callers with the same counts as caller_summary.parquet,
      // carol (only a no_entry call) included.
      const byCaller = r.summary.by_caller as Record<
        string,
        { count: number; win_rate: number; calls_no_entry: number }
      >;
      deepEqual(
        Object.entries(byCaller).map(([c, x]) => [c, x.count, x.win_rate, x.calls_no_entry]),
        rows.map((x) => [x.caller, Number(x.count), x.win_rate, Number(x.calls_no_entry)]),
      );
      deepEqual(byCaller.carol, {
        count: 0,
        win_rate: 0,
        mean_return_bps: null,
        median_return_bps: null,
        mean_tail_capture: null,
        calls_no_entry: 1,
        win_rate_ci_low: null,
        win_rate_ci_high: null,
      });
    });
    await t.step("events: full trail in order with three artifacts", async () => {
      const events = await runEvents(root, "pol-1");
      assertTrail(events, POLICY_PHASES, "run.completed");
      const created = events[0] as Extract<LedgerEvent, { event_type: "run.created" }>;
      equal(created.run_type, "policy");
      deepEqual(created.config.policy, { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 });
      const types = events.filter((e) => e.event_type === "artifact.created").map((e) =>
        (e as { artifact_type: string }).artifact_type
      );
      deepEqual(types, ["policy_results", "caller_summary", "manifest"]);
    });
  });
});

Deno.test("failures after run.created leave a complete trail with run.failed", async (t) => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    async function failed(
      runId: string,
      phase: string,
      message: RegExp,
      run: () => Promise<unknown>,
    ) {
      await rejects(run, (err: unknown) => {
        ok(err instanceof RunFailedError, String(err));
        equal(err.phaseName, phase);
        ok(message.test(err.message), err.message);
        return true;
      });
      const events = await runEvents(root, runId);
      const phases = ["plan", "coverage", "slice", "load"].slice(
        0,
        ["plan", "coverage"].indexOf(phase) + 1,
      );
      equal(events[0].event_type, "run.created");
      equal(events[1].event_type, "run.started");
      const last = events.at(-1) as Extract<LedgerEvent, { event_type: "run.failed" }>;
      equal(last.event_type, "run.failed");
      equal(last.phase_name, phase);
      ok(message.test(last.error.message));
      const started = events.filter((e) => e.event_type === "phase.started").map((e) =>
        (e as { phase_name: string }).phase_name
      );
      deepEqual(started, phases);
      const m = JSON.parse(
        await Deno.readTextFile(`${root}/artifacts/runs/${runId}/manifest.json`),
      );
      equal(m.status, "failed");
      equal(m.error.phase_name, phase);
    }
    await t.step("missing columns name the file and the columns", async () => {
      const sub = `${dir}/missing`;
      await Deno.mkdir(sub);
      const inputs = await writeFixtures(sub, { dropCallColumns: ["chain", "alert_ts"] });
      await failed(
        "fail-cols",
        "plan",
        new RegExp(`Calls file ${inputs.calls} is missing columns: chain, alert_ts`),
        () => runPathOnly({ root, emitter, ...inputs, runId: "fail-cols" }),
      );
    });
    // A probe: a JSON array of calls was "missing columns" it holds.
    await t.step("a JSON array is said to be one, not a file missing columns", async () => {
      const sub = `${dir}/array`;
      await Deno.mkdir(sub);
      const inputs = await writeFixtures(sub, { callsFormat: "jsonl" });
      const lines = (await Deno.readTextFile(inputs.calls)).trim().split("\n");
      // Over several lines (its first line `[` is not JSON), and on one (a row of no columns).
      const texts = [`\uFEFF [\n${lines.join(",\n")}\n]\n`, `[${lines.join(",")}]`];
      for (const [i, text] of texts.entries()) {
        const calls = `${sub}/calls-${i}.json`;
        await Deno.writeTextFile(calls, text);
        await failed(
          `fail-array-${i}`,
          "plan",
          /^Calls file .*calls-\d\.json is a JSON array: the \.json, \.jsonl and \.ndjson formats hold one object per line \(JSON Lines\)$/,
          () => runPathOnly({ root, emitter, ...inputs, calls, runId: `fail-array-${i}` }),
        );
      }
    });
    // A probe: a JSONL line holding an array or a number made DuckDB read the file as one
    // column, reported as every column missing.
    await t.step("a JSONL line that is not an object is named by its line", async () => {
      const sub = `${dir}/not-object`;
      await Deno.mkdir(sub);
      const inputs = await writeFixtures(sub, { callsFormat: "jsonl" });
      const lines = (await Deno.readTextFile(inputs.calls)).trim().split("\n");
      for (const [i, value] of ["[1,2]", "42"].entries()) {
        const calls = `${sub}/calls-${i}.jsonl`;
        await Deno.writeTextFile(calls, [lines[0], value, ...lines.slice(1)].join("\n") + "\n");
        await failed(
          `fail-not-object-${i}`,
          "plan",
          new RegExp(
            `^Calls file .*calls-${i}\\.jsonl line 2 is not a JSON object: "${
              value.replace("[", "\\[")
            }"$`,
          ),
          () => runPathOnly({ root, emitter, ...inputs, calls, runId: `fail-not-object-${i}` }),
        );
      }
    });
    await t.step("a file of unknown format is refused before the run exists", async () => {
      const sub = `${dir}/unknown`;
      await Deno.mkdir(sub);
      const inputs = await writeFixtures(sub);
      const typo = `${sub}/calls.txt`;
      await Deno.copyFile(inputs.calls, typo);
      for (
        const [calls, candles, what] of [[typo, inputs.candles, "Calls"], [
          inputs.calls,
          typo,
          "Candles",
        ]]
      ) {
        await rejects(
          () => runPathOnly({ root: `${sub}/ledger`, ...inputs, calls, candles, runId: "typo" }),
          (err: Error) =>
            err instanceof InputError && err.message.startsWith(`${what} file ${typo}`),
        );
      }
      await rejects(Deno.stat(`${sub}/ledger`), Deno.errors.NotFound, "no run, no folder");
    });
    await t.step("missing candle columns", async () => {
      const sub = `${dir}/missing2`;
      await Deno.mkdir(sub);
      const inputs = await writeFixtures(sub, { dropCandleColumns: ["low"] });
      await failed(
        "fail-candle-cols",
        "plan",
        /Candles file .*candles\.csv is missing columns: low/,
        () => runPathOnly({ root, emitter, ...inputs, runId: "fail-candle-cols" }),
      );
    });
    await t.step("no candles for any call fails the coverage phase", async () => {
      const inputs = await writeFixtures(dir);
      const late = `${dir}/late_calls.csv`;
      await Deno.writeTextFile(
        late,
        "call_id,caller,mint,chain,alert_ts\nz1,zed,A,solana,2027-01-01T00:00:00Z\nz2,zed,C,solana,2026-01-05T00:00:00Z\n",
      );
      await failed(
        "fail-coverage",
        "coverage",
        /No call has candles at or after its alert: 0 of 2/,
        () =>
          runPathOnly({
            root,
            emitter,
            calls: late,
            candles: inputs.candles,
            runId: "fail-coverage",
          }),
      );
    });
  });
});

// pandas writes a missing price as NaN, which parses as a number: it used to reach the metrics
// as NaN and come out as null or 0 in the summary (win rate over 3 calls, mean over 2), exit 0.
Deno.test("NaN, infinite, 0, negative or overflowing prices fail the run naming the row or the call", async () => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    const calls = `${dir}/calls.csv`;
    await Deno.writeTextFile(
      calls,
      "call_id,caller,mint,chain,alert_ts\nc1,alice,MA,solana,2026-02-01T00:00:00Z\n" +
        "c2,alice,MB,solana,2026-02-01T00:00:00Z\n",
    );
    const candles = async (name: string, maLast: string) => {
      const path = `${dir}/${name}.csv`;
      await Deno.writeTextFile(
        path,
        "mint,ts,open,high,low,close,volume\n" +
          "MA,2026-02-01T00:00:00Z,1e-300,1e-300,1e-300,1e-300,1\n" +
          `MA,2026-02-01T00:01:00Z,${maLast},1\n` +
          "MB,2026-02-01T00:00:00Z,1,1,1,1,1\nMB,2026-02-01T00:01:00Z,1,1.5,1,1.5,1\n",
      );
      return path;
    };
    const cases: [string, string, string, RegExp][] = [
      [
        "nan",
        "1e-300,1e-300,1e-300,NaN",
        "slice",
        /1 rows with a price that is NaN.*mint MA at 2026-02-01T00:01:00\.000Z, close NaN\)/,
      ],
      ["inf", "1e-300,inf,1e-300,1e-300", "slice", /infinite, 0 or negative .*, high Infinity\)/],
      // A metrics audit: a stop filled at an open below the candle's own low, a close above a
      // high no target saw made a +5000 bps winner.
      [
        "open-below",
        "5e-301,1e-300,1e-300,1e-300",
        "slice",
        /1 candles whose open or close is outside \[low, high\] \(first: mint MA at 2026-02-01T00:01:00\.000Z, open 5e-301,/,
      ],
      ["close-above", "1e-300,1e-300,1e-300,2e-300", "slice", /open or close is outside/],
      ["neg", "1e-300,1e-300,-1,1e-300", "slice", /infinite, 0 or negative .*, low -1\)/],
      // A probe: a missing bar filled with zeros was taken as real, a -10000 bps stop at 0.
      [
        "zero",
        "0,0,0,0",
        "slice",
        /1 rows with a price that is NaN, infinite, 0 or negative \(first: mint MA at 2026-02-01T00:01:00\.000Z, open 0\)$/,
      ],
      ["zero-low", "1e-300,1e-300,0,1e-300", "slice", /0 or negative .*, low 0\)$/],
      [
        "huge",
        "1e-300,1e10,1e-300,1e10",
        "execute",
        /Call c1 \(mint MA\): its return does not fit a number/,
      ],
    ];
    const policy = { type: "fixed_stop", stopPct: 0.8 } as const;
    for (const [name, row, phase, message] of cases) {
      const runId = `bad-${name}`;
      const inputs = { calls, candles: await candles(name, row) };
      await rejects(
        () => runPolicy({ root, emitter, ...inputs, runId, policy }),
        (err: unknown) => {
          ok(err instanceof RunFailedError, String(err));
          equal(err.phaseName, phase, name);
          ok(message.test(err.message), err.message);
          return true;
        },
      );
      const last = (await runEvents(root, runId)).at(-1)!;
      equal(last.event_type, "run.failed", name);
    }
    // Path-only measures the same series: the overflowing peak multiple fails it too.
    await rejects(
      () =>
        runPathOnly({
          root,
          emitter,
          calls,
          candles: `${dir}/huge.csv`,
          runId: "bad-huge-path",
        }),
      /Call c1 \(mint MA\): its peak multiple does not fit a number/,
    );
  });
});

Deno.test("input errors before the run exists record nothing", async () => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    await rejects(
      () => runPathOnly({ root, emitter, calls: `${dir}/nope.csv`, runId: "never" }),
      /Calls file .*nope\.csv does not exist/,
    );
    await emitter.flush();
    equal((await runEvents(root, "never").catch(() => [])).length, 0);
    // A bad policy is refused before the run exists: no event, no run folder.
    const inputs = await writeFixtures(dir);
    await rejects(
      () =>
        runPolicy({
          root,
          emitter,
          ...inputs,
          runId: "bad-policy",
          policy: { kind: "fixed_stop", stopPct: 1.5 },
        }),
      /^PolicyError: Invalid policy: stopPct must be <= 1$/,
    );
    await emitter.flush();
    equal((await runEvents(root, "bad-policy").catch(() => [])).length, 0);
    equal(
      await Deno.stat(`${root}/artifacts/runs/bad-policy`).then(() => true, () => false),
      false,
    );
  });
});

Deno.test("--interval 5m resamples 1m candles; --from/--to filter calls", async () => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    const inputs = await writeFixtures(dir);
    const r = await runPathOnly({
      root,
      emitter,
      ...inputs,
      interval: "5m",
      fromMs: T0_MS + 1,
      runId: "po-5m",
    });
    equal(r.summary.calls_total, 1); // only a1 is alerted after T0
    equal(r.summary.interval, "5m");
    const slice = r.phases.find((p) => p.name === "slice")!;
    equal(slice.summary.resampled_from, "1m");
    // Mint A in 5m bars from 0:00: the alert at 0:30 anchors on the 5:00 bar (close 0.9).
    const { rows } = await readParquet(r.artifactPaths.path_metrics);
    equal(rows[0].p0, 0.9);
  });
});

Deno.test("--interval 5m resamples 1m candles labelled by an interval column too", async () => {
  // An audit: the same 1m candles were resampled without the column and refused with it.
  await withRoot(async (dir, emitter) => {
    const inputs = await writeFixtures(dir);
    const lines = (await Deno.readTextFile(inputs.candles)).trimEnd().split("\n");
    await Deno.writeTextFile(
      inputs.candles,
      [`${lines[0]},interval`, ...lines.slice(1).map((l) => `${l},1m`)].join("\n") + "\n",
    );
    const r = await runPathOnly({
      root: `${dir}/ledger`,
      emitter,
      ...inputs,
      interval: "5m",
      fromMs: T0_MS + 1,
      runId: "po-5m-col",
    });
    equal(r.summary.interval, "5m");
    const slice = r.phases.find((p) => p.name === "slice")!;
    equal(slice.summary.resampled_from, "1m");
    const { rows } = await readParquet(r.artifactPaths.path_metrics);
    equal(rows[0].p0, 0.9); // as without the column
  });
});

Deno.test("the committed sample set runs end to end", async () => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    const r = await runPolicy({
      root,
      emitter,
      policy: {
        type: "combo",
        policies: [{ type: "fixed_stop", stopPct: 0.5 }, {
          type: "time_stop",
          maxHoldMs: 6 * 3_600_000,
        }],
      },
      feeBps: 25,
      slippageBps: 50,
    });
    ok((r.summary.calls_covered as number) >= 300);
    equal(r.summary.count, r.summary.calls_covered);
    equal(Object.keys(r.summary.by_caller as object).length, 12);
  });
});

Deno.test("input formats: JSONL with mixed ISO offsets and epoch ms, Parquet calls and candles", async () => {
  await withRoot(async (dir, emitter) => {
    const root = `${dir}/ledger`;
    const csv = await writeFixtures(dir);
    // a1 at 0:30 written three ways: with a +02:00 offset, as epoch ms, and naive (UTC).
    const jsonl = `${dir}/mixed.jsonl`;
    await Deno.writeTextFile(
      jsonl,
      [
        {
          call_id: 1,
          caller: "alice",
          mint: "A",
          chain: "solana",
          alert_ts: "2026-01-05T02:00:30+02:00",
        },
        { call_id: 2, caller: "alice", mint: "A", chain: "solana", alert_ts: T0_MS + 30_000 },
        { call_id: 3, caller: "alice", mint: "A", chain: null, alert_ts: "2026-01-05 00:00:30" },
      ].map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    const r1 = await runPathOnly({
      root,
      emitter,
      calls: jsonl,
      candles: csv.candles,
      runId: "fmt-jsonl",
    });
    const { rows } = await readParquet(r1.artifactPaths.path_metrics);
    deepEqual(rows.map((x) => [x.call_id, Number(x.t0_ms), Number(x.t_2x_ms)]), [
      ["1", T0_MS + 30_000, T0_MS + 4 * MINUTE_MS],
      ["2", T0_MS + 30_000, T0_MS + 4 * MINUTE_MS],
      ["3", T0_MS + 30_000, T0_MS + 4 * MINUTE_MS],
    ]);
    // The same fixtures as Parquet (TIMESTAMP alert_ts, BIGINT ts) give the same metrics.
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      await conn.run(
        `COPY (SELECT call_id, caller, mint, chain, CAST(alert_ts AS TIMESTAMP) AS alert_ts
          FROM read_csv('${csv.calls}')) TO '${dir}/calls.parquet' (FORMAT parquet)`,
      );
      await conn.run(
        `COPY (SELECT mint, epoch_ms(CAST(ts AS TIMESTAMP)) AS ts, open, high, low, close, volume
          FROM read_csv('${csv.candles}')) TO '${dir}/candles.parquet' (FORMAT parquet)`,
      );
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    const r2 = await runPathOnly({
      root,
      emitter,
      calls: `${dir}/calls.parquet`,
      candles: `${dir}/candles.parquet`,
      runId: "fmt-parquet",
    });
    const r3 = await runPathOnly({ root, emitter, ...csv, runId: "fmt-csv" });
    deepEqual(
      (await readParquet(r2.artifactPaths.path_metrics)).rows,
      (await readParquet(r3.artifactPaths.path_metrics)).rows,
    );
    equal(r2.summary.calls_covered, 2);
  });
});
