/**
 * A ledger root for the report and UI tests, made the way a user makes one:
 * real `ledger backtest` runs on the sample data (two policy runs and a
 * path-only run), a sweep recorded with `ledger emit --stdin` (trials over
 * a stop x take-profit grid), an XSS probe (a run id and config holding
 * `<script>`) written by a Python-style writer part file, then
 * `ledger rebuild-index`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger } from "../_helpers.ts";

/** The run id of the XSS probe: must show as text everywhere. */
export const XSS_RUN_ID = `<script>alert("xss")</script>`;
/** A config value of the probe. */
export const XSS_CONFIG_VALUE = `<img src=x onerror=alert(2)>`;
/** The sweep's run id. */
export const SWEEP_RUN_ID = "sweep-fixture-1";
/** The sweep grid. */
export const SWEEP_STOPS = [0.2, 0.3, 0.4] as const;
/** The sweep grid. */
export const SWEEP_TAKE_PROFITS = [0.5, 1, 2] as const;

/** What {@linkcode makeFixture} made. */
export interface Fixture {
  /** Policy run ids, oldest first. */
  policyRuns: string[];
  /** The path-only run id. */
  pathOnlyRun: string;
}

/** Fill `root` with the runs above and build its index. */
export async function makeFixture(root: string): Promise<Fixture> {
  const policies = [
    { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 1 },
    { type: "trailing_stop", activationPct: 0.5, trailPct: 0.25, hardStopPct: 0.4 },
  ];
  const policyRuns: string[] = [];
  for (const policy of policies) {
    policyRuns.push(await backtest(root, ["policy", "--policy", JSON.stringify(policy)]));
  }
  const pathOnlyRun = await backtest(root, ["path-only"]);
  await emitSweep(root);
  await writeXssProbe(root);
  const rebuilt = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  return { policyRuns, pathOnlyRun };
}

async function backtest(root: string, args: string[]): Promise<string> {
  const res = await runLedger(["backtest", ...args, "--root", root, "--no-index", "--json"]);
  assert.equal(res.code, 0, res.stderr);
  const runId = JSON.parse(res.stdout).run_id;
  assert.equal(typeof runId, "string");
  return runId;
}

async function emitSweep(root: string): Promise<void> {
  const t0 = Date.now() - 60_000;
  const events: Record<string, unknown>[] = [
    {
      event_type: "run.created",
      run_id: SWEEP_RUN_ID,
      timestamp_ms: t0,
      run_type: "sweep",
      config: { grid: { stopPct: SWEEP_STOPS, takeProfitPct: SWEEP_TAKE_PROFITS } },
      data_fingerprint: "fixture",
    },
    { event_type: "run.started", run_id: SWEEP_RUN_ID, timestamp_ms: t0 + 1 },
  ];
  let i = 0;
  for (const stopPct of SWEEP_STOPS) {
    for (const takeProfitPct of SWEEP_TAKE_PROFITS) {
      i++;
      // A smooth surface with its best cell at stop 0.3, take-profit 1.
      const expectancy = 500 - 4000 * (stopPct - 0.3) ** 2 - 300 * (takeProfitPct - 1) ** 2;
      events.push({
        event_type: "trial.recorded",
        run_id: SWEEP_RUN_ID,
        timestamp_ms: t0 + 10 + i,
        trial_id: `t${i}`,
        params: { type: "fixed_stop", stopPct, takeProfitPct },
        metrics: {
          calls: 320,
          win_rate: 0.3 + i / 100,
          mean_return_bps: expectancy,
          median_return_bps: expectancy - 100,
          profit_factor: 1 + i / 10,
          expectancy_bps: expectancy,
          max_drawdown_bps: -1000 - 10 * i,
        },
      });
    }
  }
  events.push({
    event_type: "run.completed",
    run_id: SWEEP_RUN_ID,
    timestamp_ms: t0 + 100,
    summary: { trials: i },
    artifact_paths: {},
  });
  const res = await runLedger(["emit", "--stdin", "--root", root], {
    stdin: events.map((e) => JSON.stringify(e)).join("\n") + "\n",
  });
  assert.equal(res.code, 0, res.stderr);
}

/** Lines as the earlier Python writer leaves them: its id pattern was not checked. */
async function writeXssProbe(root: string): Promise<void> {
  const t0 = Date.now() - 120_000;
  const day = new Date(t0).toISOString().slice(0, 10);
  const dir = join(root, "events", `day=${day}`);
  await Deno.mkdir(dir, { recursive: true });
  const base = { run_id: XSS_RUN_ID, schema_version: 1 };
  const lines = [
    {
      ...base,
      event_type: "run.created",
      event_id: "xss-1",
      timestamp_ms: t0,
      run_type: "policy</td><script>alert(3)</script>",
      config: { note: XSS_CONFIG_VALUE },
      data_fingerprint: "x",
    },
    { ...base, event_type: "run.started", event_id: "xss-2", timestamp_ms: t0 + 1 },
    {
      ...base,
      event_type: "phase.started",
      event_id: "xss-3",
      timestamp_ms: t0 + 2,
      phase_name: "<b>plan</b>",
      phase_order: 0,
    },
    {
      ...base,
      event_type: "phase.completed",
      event_id: "xss-4",
      timestamp_ms: t0 + 40,
      phase_name: "<b>plan</b>",
      duration_ms: 38,
      output_summary: {},
    },
    {
      ...base,
      event_type: "run.failed",
      event_id: "xss-5",
      timestamp_ms: t0 + 50,
      error: { message: "</pre><script>alert(4)</script>" },
    },
  ];
  await Deno.writeTextFile(
    join(dir, "part-000001.jsonl"),
    lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
  );
}

/**
 * Add `count` runs that copy `templateRunId` (its config, phases and
 * Parquet artifacts under new run ids `<prefix>-<n>`), one day apart going
 * back, as one `emit --stdin` batch. For size and speed checks at 100 runs.
 */
export async function addCopiesOfRun(
  root: string,
  templateRunId: string,
  options: { count: number; prefix: string },
): Promise<string[]> {
  const template = join(root, "artifacts", "runs", templateRunId);
  const manifest = JSON.parse(await Deno.readTextFile(join(template, "manifest.json")));
  const ids: string[] = [];
  const lines: string[] = [];
  const now = Date.now();
  for (let n = 0; n < options.count; n++) {
    const runId = `${options.prefix}-${String(n).padStart(4, "0")}`;
    ids.push(runId);
    const dir = join(root, "artifacts", "runs", runId);
    await Deno.mkdir(dir, { recursive: true });
    for await (const entry of Deno.readDir(template)) {
      await Deno.copyFile(join(template, entry.name), join(dir, entry.name));
    }
    const t0 = now - (n % 30) * 86_400_000 - n * 1000;
    const ev = (type: string, dt: number, fields: Record<string, unknown> = {}) =>
      lines.push(
        JSON.stringify({ event_type: type, run_id: runId, timestamp_ms: t0 + dt, ...fields }),
      );
    ev("run.created", 0, {
      run_type: "policy",
      config: manifest.config,
      data_fingerprint: manifest.data_fingerprint,
    });
    ev("run.started", 1);
    ["plan", "coverage", "slice", "load", "execute", "store", "aggregate"].forEach((phase, i) => {
      ev("phase.started", 10 + i * 100, { phase_name: phase, phase_order: i });
      ev("phase.completed", 10 + i * 100 + 50 + i * 7, {
        phase_name: phase,
        duration_ms: 50 + i * 7,
        output_summary: {},
      });
    });
    const status = n % 10 === 9 ? "run.failed" : "run.completed";
    if (status === "run.failed") ev("run.failed", 800, { error: { message: "copied run failed" } });
    else ev("run.completed", 800, { summary: manifest.summary ?? {}, artifact_paths: {} });
  }
  const res = await runLedger(["emit", "--stdin", "--root", root], {
    stdin: lines.join("\n") + "\n",
  });
  assert.equal(res.code, 0, res.stderr);
  const rebuilt = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  return ids;
}

/**
 * Emit `events` (whole events, each with its `run_id` and `timestamp_ms`)
 * into `root` with one `ledger emit --stdin`, then build its index with
 * `ledger rebuild-index`; fails the test when either fails.
 */
export async function emitAndIndex(
  root: string,
  events: readonly Record<string, unknown>[],
): Promise<void> {
  const emitted = await runLedger(["emit", "--stdin", "--root", root], {
    stdin: events.map((e) => JSON.stringify(e)).join("\n") + "\n",
  });
  assert.equal(emitted.code, 0, emitted.stderr);
  const rebuilt = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
}

/** A running `ledger ui` child process. */
export interface UiProcess {
  /** Its base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** The process. */
  child: Deno.ChildProcess;
  /** Send SIGTERM and wait: exit code and everything it printed. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Start `ledger ui --port 0 --root root ARGS` and wait until it listens;
 * `net` is its `--allow-net` grant (loopback, as the `ui` task grants).
 */
export async function startUi(
  root: string,
  args: string[] = [],
  net = "127.0.0.1",
): Promise<UiProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(
      CLI_PATH,
      ["ui", "--port", "0", "--root", root, ...args],
      [`--allow-net=${net}`],
    ),
    env: { LEDGER_ROOT: "" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  const deadline = Date.now() + UI_START_MS_MAX;
  while (!/http:\/\/\S+\//.test(stdout)) {
    if (Date.now() > deadline) throw new Error(`ledger ui did not start: ${stdout}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`ledger ui exited before listening: ${stdout}`);
    stdout += value;
  }
  const url = stdout.match(/(http:\/\/\S+?)\/ /)![1];
  const stderrText = new Response(child.stderr).text();
  return {
    url,
    child,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += value;
      }
      const status = await child.status;
      return { code: status.code, stdout, stderr: await stderrText };
    },
  };
}

/** Most time `ledger ui` may take to listen, ms. */
const UI_START_MS_MAX = 30_000;

/**
 * `ledger backtest` runs on the sample data into `root`, each `[run id, its
 * arguments after backtest]` (`["policy", "--policy", JSON]`,
 * `["path-only"]`), unindexed.
 */
export async function backtestRuns(
  root: string,
  runs: readonly (readonly [string, readonly string[]])[],
): Promise<void> {
  for (const [runId, args] of runs) {
    const res = await runLedger([
      "backtest",
      ...args,
      "--root",
      root,
      "--run-id",
      runId,
      "--no-index",
    ]);
    assert.equal(res.code, 0, res.stderr);
  }
}
