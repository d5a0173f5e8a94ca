/**
 * Kill: writer processes SIGKILLed at seeded random moments: single
 * `ledger emit` calls, `ledger emit --stdin` batches, a process recording its
 * run with the in-process emitter, and a running `ledger backtest`. After
 * every kill point:
 * - every acknowledged event (an id the child printed once its emit had
 *   returned) is in the log and, after a rebuild, in the index;
 * - the log holds only whole valid lines plus at most one torn tail per part
 *   file (as its last line);
 * - an incremental rebuild succeeds (every fourth through `ledger rebuild-index`);
 * - the killed run is never `completed` (unless its `run.completed` reached
 *   the log before the kill), and shows as `stale` once its `run.started`
 *   (with the dead process's host and pid) is in the log.
 *
 * Seed: `LEDGER_TEST_SEED` (printed). Kill points per writer kind are
 * constants below: at least 50 in total in `deno task test:long`, 20 in
 * `deno task test` (a spawn each, and each kill point's checks, cost about
 * a CPU-second on a 2-core machine; the suite must stay under ten minutes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { listParts, readPartFile } from "../../ledger/reader.ts";
import {
  CLI_PATH,
  delay,
  denoScriptArgs,
  indexedIds,
  LineCollector,
  LONG_TESTS,
  queryIndex,
  readCheckedLog,
  REPO_ROOT,
  runLedger,
  runStatuses,
  SeededRandom,
  withTempDir,
} from "../_helpers.ts";

const SEED = Number(Deno.env.get("LEDGER_TEST_SEED") ?? "20260123");
/** Kill points of single `ledger emit` calls. */
const CLI_SINGLE_KILLS = LONG_TESTS ? 16 : 6;
/** Kill points of `ledger emit --stdin` batches. */
const CLI_BATCH_KILLS = LONG_TESTS ? 12 : 5;
/** Kill points of a process emitting with the in-process emitter. */
const EMITTER_KILLS = LONG_TESTS ? 16 : 6;
/** Kill points of a running `ledger backtest path-only`. */
const BACKTEST_KILLS = LONG_TESTS ? 8 : 3;
/** Kill points wanted in all (the sum of the four above). */
const KILL_POINTS_MIN = LONG_TESTS ? 50 : 20;
/** Events of one `--stdin` batch, and the size of each event's blob in bytes. */
const BATCH_EVENTS = 200;
const BATCH_BLOB_BYTES = 3000;
/** Spawns allowed per wanted kill point (a child may finish before its kill time). */
const ATTEMPTS_PER_KILL_MAX = 4;
/** Longest wait for a child's acknowledgements, in ms. */
const ACK_WAIT_MS_MAX = 20_000;

const EMITTER_CHILD = new URL("./_emitter_child.ts", import.meta.url).pathname;

/** Totals reported at the end. */
const totals = { killPoints: 0, spawns: 0, lost: 0, staleChecked: 0, staleSkipped: "" };

interface Lane {
  root: string;
  db: string;
  acked: string[];
}

async function newLane(root: string): Promise<Lane> {
  await Deno.mkdir(root, { recursive: true });
  return { root, db: join(root, "index", "runs.duckdb"), acked: [] };
}

/**
 * Where to kill a child: a delay drawn from 5%..95% of how long such a child
 * takes when left alone. Fixed windows miss on a fast machine (every child
 * exits before its kill time) and on a slow one; the window starts from a
 * guess and shrinks to the shortest whole run seen, so nearly every spawn
 * becomes a kill point whatever the machine's speed.
 */
class KillWindow {
  #wholeRunMs: number;
  constructor(guessMs: number) {
    this.#wholeRunMs = guessMs;
  }
  next(rng: SeededRandom): number {
    return rng.int(Math.floor(this.#wholeRunMs * 0.05), Math.ceil(this.#wholeRunMs * 0.95));
  }
  /** A child ran to its end in `ms`: kill points must come before that. */
  finished(ms: number): void {
    this.#wholeRunMs = Math.max(10, Math.min(this.#wholeRunMs, ms));
  }
}

/**
 * SIGKILL `child` after `delayMs` unless it exited first; true when the kill
 * is what ended it. A child that finished first tells `window` its run time.
 */
async function killAfter(
  child: Deno.ChildProcess,
  delayMs: number,
  window: KillWindow,
): Promise<boolean> {
  const startMs = performance.now();
  totals.spawns += 1;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  await delay(delayMs);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // it exited in between
    }
  }
  const killed = (await status).signal === "SIGKILL";
  if (!killed) window.finished(performance.now() - startMs);
  return killed;
}

function spawnLedger(args: string[], stdin: "piped" | "null" = "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CLI_PATH, args),
    cwd: REPO_ROOT,
    env: { LEDGER_ROOT: "" },
    stdin,
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

/** The checks after one kill point. `runId` is the run of the killed process. */
async function checkAfterKill(lane: Lane, runId: string, label: string): Promise<void> {
  totals.killPoints += 1;
  const log = await readCheckedLog(lane.root); // whole lines + at most one torn tail per part
  const lostInLog = lane.acked.filter((id) => !log.ids.has(id));
  assert.deepEqual(lostInLog, [], `${label}: acknowledged events missing from the log`);
  // Every fourth rebuild goes through the command line (exit 0 or the check fails).
  let livenessSkipped: string | undefined = "rebuilt by ledger rebuild-index";
  if (totals.killPoints % 4 === 0) {
    const r = await runLedger(["rebuild-index", "--root", lane.root]);
    assert.equal(r.code, 0, `${label}: ledger rebuild-index failed: ${r.stderr}`);
  } else {
    livenessSkipped = (await rebuildIndex(lane.root)).livenessSkipped; // throws when it fails
  }
  const indexed = await indexedIds(lane.db);
  const lostInIndex = lane.acked.filter((id) => !indexed.has(id));
  assert.deepEqual(lostInIndex, [], `${label}: acknowledged events missing from the index`);
  totals.lost += lostInLog.length + lostInIndex.length;

  const types = await runEventTypes(lane.db, runId);
  const status = (await runStatuses(lane.db)).get(runId);
  if (types.has("run.completed")) {
    assert.equal(status, "completed", `${label}: run.completed is in the log`);
    return;
  }
  assert.ok(
    status === undefined || ["pending", "running", "stale"].includes(status),
    `${label}: status ${status} of a run whose process died`,
  );
  if (types.get("run.started")?.hasPid) {
    // The pid probe needs /proc, which Deno grants only with --allow-all.
    if (livenessSkipped === undefined) {
      assert.equal(status, "stale", `${label}: the run's process is gone`);
      totals.staleChecked += 1;
    } else {
      if (!livenessSkipped.startsWith("rebuilt by")) totals.staleSkipped = livenessSkipped;
    }
  }
}

/** The event types of `runId` in the index (and whether its run.started names a pid). */
async function runEventTypes(db: string, runId: string) {
  assert.match(runId, /^[a-z0-9-]+$/); // a test's own run id: safe to inline
  const rows = await queryIndex(db, `SELECT event_type, pid FROM events WHERE run_id = '${runId}'`);
  const types = new Map<string, { hasPid: boolean }>();
  for (const r of rows) types.set(String(r.event_type), { hasPid: r.pid !== null });
  return types;
}

async function cliSingles(lane: Lane, rng: SeededRandom): Promise<number> {
  const setup = Array.from({ length: CLI_SINGLE_KILLS * ATTEMPTS_PER_KILL_MAX }, (_, i) => [
    {
      event_type: "run.created",
      run_id: `cli-${i}`,
      run_type: "t",
      config: {},
      data_fingerprint: "",
    },
    { event_type: "run.started", run_id: `cli-${i}` },
  ]).flat().map((e) => JSON.stringify(e)).join("\n");
  const r = await runLedger(["emit", "--root", lane.root, "--stdin"], { stdin: setup });
  assert.equal(r.code, 0, r.stderr);
  lane.acked.push(...r.stdout.trim().split("\n"));
  let kills = 0;
  const window = new KillWindow(330);
  for (let i = 0; kills < CLI_SINGLE_KILLS; i++) {
    assert.ok(i < CLI_SINGLE_KILLS * ATTEMPTS_PER_KILL_MAX, "too few emits were killed");
    const runId = `cli-${i}`;
    const child = spawnLedger([
      "emit",
      "--root",
      lane.root,
      "--event-type",
      "phase.started",
      "--run-id",
      runId,
      "--phase-name",
      "загрузка",
      "--phase-order",
      "0",
    ]);
    const output = child.output();
    const killed = await killAfter(child, window.next(rng), window);
    const out = await output;
    if (out.code === 0) lane.acked.push(new TextDecoder().decode(out.stdout).trim());
    if (!killed) continue;
    kills += 1;
    await checkAfterKill(lane, runId, `emit #${i}`);
  }
  return kills;
}

async function cliBatches(lane: Lane, rng: SeededRandom): Promise<number> {
  let kills = 0;
  const window = new KillWindow(330);
  for (let i = 0; kills < CLI_BATCH_KILLS; i++) {
    assert.ok(i < CLI_BATCH_KILLS * ATTEMPTS_PER_KILL_MAX, "too few batches were killed");
    const runId = `batch-${i}`;
    const blob = "日".repeat(BATCH_BLOB_BYTES / 3);
    const lines = Array.from({ length: BATCH_EVENTS }, (_, k) =>
      JSON.stringify({
        event_type: "trial.recorded",
        run_id: runId,
        trial_id: `t${k}`,
        params: { blob },
        metrics: { k },
      })).join("\n");
    const child = spawnLedger(["emit", "--root", lane.root, "--stdin"], "piped");
    const output = child.output();
    const feed = (async () => {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(lines));
        await writer.close();
      } catch (err) {
        if (!(err instanceof Deno.errors.BrokenPipe)) throw err; // killed while reading
      }
    })();
    const killed = await killAfter(child, window.next(rng), window);
    const out = await output;
    await feed;
    if (out.code === 0) {
      const ids = new TextDecoder().decode(out.stdout).trim().split("\n");
      assert.equal(ids.length, BATCH_EVENTS);
      lane.acked.push(...ids);
    }
    if (!killed) continue;
    kills += 1;
    await checkAfterKill(lane, runId, `batch #${i}`);
  }
  return kills;
}

async function emitters(lane: Lane, rng: SeededRandom): Promise<number> {
  for (let i = 0; i < EMITTER_KILLS; i++) {
    const runId = `emitter-${i}`;
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(EMITTER_CHILD, [lane.root, runId, "0", "0", "2000"]),
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const acks = new LineCollector(child.stdout);
    await acks.waitFor(rng.int(1, 40), ACK_WAIT_MS_MAX);
    if (rng.next() < 0.5) await delay(rng.int(0, 5)); // sometimes mid-write, not just after an ack
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL", `${runId} was killed, not finished`);
    await acks.done;
    assert.ok(acks.lines.length > 0, `${runId} acknowledged something before the kill`);
    lane.acked.push(...acks.lines);
    await checkAfterKill(lane, runId, runId);
  }
  return EMITTER_KILLS;
}

async function backtests(lane: Lane, rng: SeededRandom): Promise<number> {
  const ref = await runLedger([
    "backtest",
    "path-only",
    "--root",
    lane.root,
    "--run-id",
    "bt-ref",
    "--no-index",
  ]);
  assert.equal(ref.code, 0, ref.stderr);
  const reference = await runSequence(lane.root, "bt-ref");
  assert.equal(reference.at(-1), "run.completed");
  let kills = 0;
  const window = new KillWindow(1300);
  for (let i = 0; kills < BACKTEST_KILLS; i++) {
    assert.ok(i < BACKTEST_KILLS * ATTEMPTS_PER_KILL_MAX, "too few backtests were killed");
    const runId = `bt-${i}`;
    const child = spawnLedger([
      "backtest",
      "path-only",
      "--root",
      lane.root,
      "--run-id",
      runId,
      "--no-index",
    ]);
    const output = child.output();
    const killed = await killAfter(child, window.next(rng), window);
    await output;
    if (!killed) continue;
    kills += 1;
    // The emitter awaits each event before the run goes on: what reached the
    // log is a prefix of a whole run's sequence (nothing acknowledged is lost).
    const got = await runSequence(lane.root, runId);
    assert.deepEqual(got, reference.slice(0, got.length), `${runId}: a prefix of a whole run`);
    await checkAfterKill(lane, runId, runId);
  }
  return kills;
}

/** The run's events in log order, as `type` or `type:phase`. */
async function runSequence(root: string, runId: string): Promise<string[]> {
  const out: string[] = [];
  for (const part of await listParts(root)) {
    for await (const r of readPartFile(part.path)) {
      if (r.kind === "event" && r.event.run_id === runId) {
        const e = r.event;
        out.push(
          "phase_name" in e && e.phase_name ? `${e.event_type}:${e.phase_name}` : e.event_type,
        );
      }
    }
  }
  return out;
}

Deno.test("kill: SIGKILLed writers lose no acknowledged event and never leave a completed run", async () => {
  console.log(
    `kill: seed ${SEED} (LEDGER_TEST_SEED); ` +
      (LONG_TESTS ? "long mode: 52 kill points" : "20 kill points (52 in `deno task test:long`)"),
  );
  await withTempDir(async (dir) => {
    // Four lanes in parallel (own roots, own seeded generators): the kill
    // points are spread over the children's start, write and exit.
    const lane = async (
      name: string,
      salt: number,
      run: (l: Lane, r: SeededRandom) => Promise<number>,
    ) => {
      return [
        name,
        await run(await newLane(join(dir, name)), new SeededRandom(SEED + salt)),
      ] as const;
    };
    const lanes = [
      lane("emit", 1, cliSingles),
      lane("batch", 2, cliBatches),
      lane("emitter", 3, emitters),
      lane("backtest", 4, backtests),
    ];
    const counts = Object.fromEntries(await Promise.all(lanes));
    console.log(
      `kill: ${totals.killPoints} kill points survived (${JSON.stringify(counts)}; ` +
        `${totals.spawns} timed spawns), ` +
        `${totals.lost} acknowledged events lost; stale status checked for ${totals.staleChecked} ` +
        `dead runs${totals.staleSkipped ? ` (pid probe skipped: ${totals.staleSkipped})` : ""}`,
    );
    assert.ok(
      totals.killPoints >= KILL_POINTS_MIN,
      `at least ${KILL_POINTS_MIN} kill points, got ${totals.killPoints}`,
    );
    assert.equal(totals.lost, 0);
  });
});
