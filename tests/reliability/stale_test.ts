/**
 * Stale runs (issue 6): a run whose process on this host is gone shows as
 * `stale`, a run whose process lives shows as `running`, and a run silent
 * for longer than `staleAfterMs` shows as `stale`. The pid probe reads
 * `/proc` (which Deno 2.9 grants only with `--allow-all`) or asks `ps`: the
 * rebuild runs once with `--allow-all` and once with the permissions of
 * `deno task rebuild-index`, read from deno.json.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { openWriter } from "../../ledger/writer.ts";
import {
  DENO_RUN,
  denoScriptArgs,
  LineCollector,
  REPO_ROOT,
  runStatuses,
  taskPermissionFlags,
  withTempDir,
} from "../_helpers.ts";

const EMITTER_CHILD = new URL("./_emitter_child.ts", import.meta.url).pathname;
const REBUILD_CHILD = new URL("./_rebuild_child.ts", import.meta.url).pathname;
/** Longest wait for a child's first acknowledgements, in ms. */
const ACK_WAIT_MS_MAX = 20_000;

/** Start an emitter child that records `runId` slowly until killed. */
async function startRun(root: string, runId: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(EMITTER_CHILD, [root, runId, "0", "200"]),
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const acks = new LineCollector(child.stdout);
  await acks.waitFor(2, ACK_WAIT_MS_MAX); // run.created and run.started are durable
  assert.ok(acks.lines.length >= 2, `${runId} started`);
  return child;
}

async function rebuildWith(root: string, permissions: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      ...permissions,
      REBUILD_CHILD,
      root,
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function killedAndLive(root: string, permissions: string[]): Promise<void> {
  const dead = await startRun(root, "dead-run");
  const live = await startRun(root, "live-run");
  try {
    dead.kill("SIGKILL");
    await dead.status;
    const report = await rebuildWith(root, permissions);
    assert.equal(report.livenessSkipped, undefined, "the pid probe ran");
    const statuses = await runStatuses(join(root, "index", "runs.duckdb"));
    assert.equal(statuses.get("dead-run"), "stale", "killed: its process is gone");
    assert.equal(statuses.get("live-run"), "running", "its process is alive");
  } finally {
    live.kill("SIGKILL");
    await live.status;
    await dead.stdout.cancel().catch(() => {});
    await live.stdout.cancel().catch(() => {});
  }
}

Deno.test("stale: a killed run on this host is stale, a live one running (pid probe with -A)", async () => {
  await withTempDir((root) => killedAndLive(root, ["--allow-all"]));
});

Deno.test("stale: the same under the rebuild-index task's own permissions", async () => {
  await withTempDir(async (dir) => {
    await killedAndLive(
      join(dir, "data", "ledger"),
      await taskPermissionFlags("rebuild-index", dir),
    );
  });
});

Deno.test("stale: a running run silent for longer than staleAfterMs is stale", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    const old = Date.now() - 60_000;
    await writer.appendBatch([
      { event_type: "run.started", run_id: "quiet", timestamp_ms: old, host: "elsewhere", pid: 1 },
      { event_type: "run.started", run_id: "busy", host: "elsewhere", pid: 1 },
    ]);
    await writer.close();
    await rebuildIndex(root, { staleAfterMs: 30_000 });
    const statuses = await runStatuses(join(root, "index", "runs.duckdb"));
    assert.equal(statuses.get("quiet"), "stale");
    assert.equal(statuses.get("busy"), "running");
  });
});
