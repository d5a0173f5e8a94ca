/**
 * A black-box audit of a backtest run's trail (real processes and files):
 *
 * - each phase's `duration_ms` agrees with the timestamps of its
 *   `phase.started` and `phase.completed` (it had left out the fsync of
 *   `phase.started`);
 * - a manifest's git provenance: a clean checkout holding the ledger root
 *   (`--root data/x`, untracked) is clean, modified and untracked files make
 *   it dirty, a detached HEAD has no branch, outside a checkout all is null;
 * - without git on PATH `deno task backtest`'s permissions run the backtest
 *   with null provenance (it was refused: "missing permission
 *   --allow-run=git; ... or use deno task backtest");
 *
 * @module
 */
import { deepStrictEqual as deepEqual, ok } from "node:assert/strict";
import { runPathOnly } from "../../backtest/path_only.ts";
import { runPolicy } from "../../backtest/policy.ts";
import type { GitProvenance } from "../../backtest/artifacts.ts";
import { readManifest } from "../../backtest/rerun.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import type { RunEventSink } from "../../backtest/workflow.ts";
import { runEvents, writeFixtures } from "./_fixtures.ts";
import { backtestTaskPermissions, CLI_PATH, DENO_RUN, REPO_ROOT } from "../_helpers.ts";

/**
 * Most a phase's duration_ms may differ from its events' timestamps: ms rounding of both, and
 * the process descheduled between the clock and the event under the parallel suite's load.
 */
const PHASE_SPAN_SLACK_MS = 20;
/** How long a slow disk takes to make `phase.started` durable, in the first test: past the slack. */
const SLOW_SYNC_MS = 60;

/** The ledger's emitter on a disk whose fsync of `phase.started` takes SLOW_SYNC_MS. */
function slowSyncEmitter(real: EventEmitter): RunEventSink {
  return {
    runCreated: (id, f) => real.runCreated(id, f),
    runStarted: (id, f) => real.runStarted(id, f),
    phaseStarted: async (id, f) => {
      const r = await real.phaseStarted(id, f);
      await new Promise((resolve) => setTimeout(resolve, SLOW_SYNC_MS));
      return r;
    },
    phaseCompleted: (id, f) => real.phaseCompleted(id, f),
    artifactCreated: (id, f) => real.artifactCreated(id, f),
    runCompleted: (id, f) => real.runCompleted(id, f),
    runFailed: (id, f) => real.runFailed(id, f),
    flush: () => real.flush(),
  };
}

Deno.test("a phase's duration_ms is the time between its two events", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_trail_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    const real = new EventEmitter({ root });
    try {
      const emitter = slowSyncEmitter(real);
      const policy = { type: "fixed_stop", stopPct: 0.2 };
      await runPolicy({ root, ...inputs, runId: "span-1", emitter, policy });
    } finally {
      await real.close();
    }
    const events = await runEvents(root, "span-1") as unknown as Record<string, unknown>[];
    const startedAt = new Map<unknown, number>();
    let phases = 0;
    for (const e of events) {
      if (e.event_type === "phase.started") startedAt.set(e.phase_name, e.timestamp_ms as number);
      if (e.event_type !== "phase.completed") continue;
      phases++;
      const spanMs = (e.timestamp_ms as number) - startedAt.get(e.phase_name)!;
      const durationMs = e.duration_ms as number;
      ok(
        Math.abs(spanMs - durationMs) <= PHASE_SPAN_SLACK_MS,
        `phase ${e.phase_name}: duration_ms ${durationMs}, events ${spanMs} ms apart`,
      );
    }
    ok(phases === 7, `${phases} phases`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Run git in `cwd`; throws with its stderr when it fails. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout).trim();
}

Deno.test("a run's manifest records the checkout's git provenance", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_trail_" });
  const repo = `${dir}/repo`;
  const root = `${repo}/data/x`; // as `--root data/x` from the checkout: untracked
  try {
    const inputs = await writeFixtures(dir);
    await Deno.mkdir(repo);
    await git(repo, "init", "--quiet", "--initial-branch=main");
    await Deno.writeTextFile(`${repo}/code.ts`, "export const x = 1;\n");
    await git(repo, "add", "code.ts");
    const id = ["-c", "user.name=audit", "-c", "user.email=audit@example.com"];
    await git(repo, ...id, "commit", "--quiet", "-m", "first");
    const head = await git(repo, "rev-parse", "HEAD");
    let n = 0;
    const provenance = async (gitCwd: string): Promise<GitProvenance> => {
      const r = await runPathOnly({ root, ...inputs, runId: `git-${++n}`, gitCwd });
      return (await readManifest(root, r.runId)).git;
    };
    await t.step("a clean checkout holding the ledger root is clean", async () => {
      deepEqual(await provenance(repo), { commit: head, branch: "main", dirty: false });
    });
    await t.step("an untracked file makes it dirty", async () => {
      await Deno.writeTextFile(`${repo}/new.ts`, "");
      deepEqual(await provenance(repo), { commit: head, branch: "main", dirty: true });
      await Deno.remove(`${repo}/new.ts`);
    });
    await t.step("a modified file makes it dirty", async () => {
      await Deno.writeTextFile(`${repo}/code.ts`, "export const x = 2;\n");
      deepEqual(await provenance(repo), { commit: head, branch: "main", dirty: true });
      await git(repo, "checkout", "--quiet", "code.ts");
    });
    await t.step("from a subfolder, the root's files still do not count", async () => {
      deepEqual(await provenance(`${repo}/data`), { commit: head, branch: "main", dirty: false });
    });
    await t.step("a detached HEAD has no branch", async () => {
      await git(repo, "checkout", "--quiet", "--detach");
      deepEqual(await provenance(repo), { commit: head, branch: null, dirty: false });
    });
    await t.step("outside a checkout every field is null", async () => {
      deepEqual(await provenance(dir), { commit: null, branch: null, dirty: null });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without git on PATH a backtest runs and records null provenance", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_trail_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    await Deno.mkdir(`${dir}/bin`);
    await Deno.symlink(Deno.execPath(), `${dir}/bin/deno`); // deno, and no git
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        ...DENO_RUN,
        ...backtestTaskPermissions(dir),
        CLI_PATH,
        "backtest",
        "path-only",
        "--root",
        root,
        "--calls",
        inputs.calls,
        "--candles",
        inputs.candles,
        "--run-id",
        "nogit-1",
        "--no-index",
      ],
      cwd: REPO_ROOT,
      env: { PATH: `${dir}/bin` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    ok(out.code === 0, `exit ${out.code}: ${stderr}`);
    const git = (await readManifest(root, "nogit-1")).git;
    deepEqual(git, { commit: null, branch: null, dirty: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
