/**
 * What a run does after an interrupt took it over (a trail audit: SIGINT in
 * a policy run's `store` or `aggregate` phase let the DuckDB write in flight
 * finish, so `artifact.created` landed after `run.failed`, and left
 * `*.tmp-*` files the handler had not seen): once interrupted, the run's own
 * artifacts, completed manifest and trials wait for the handler's exit, the
 * failed manifest still goes through, and the handler removes the temporary
 * files left since the signal before it exits.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { RunDirectory } from "../../backtest/artifacts.ts";
import { RunContext, type RunEventSink } from "../../backtest/workflow.ts";
import { withTempDir } from "../_helpers.ts";

/** How long a call that should wait for ever is given, ms. */
const SETTLE_MS = 200;

/** A sink that records the type of every event it is given. */
function recordingSink(seen: string[]): RunEventSink {
  const record = (type: string) => () => {
    seen.push(type);
    return Promise.resolve(`${type}-${seen.length}`);
  };
  return {
    runCreated: record("run.created"),
    runStarted: record("run.started"),
    phaseStarted: record("phase.started"),
    phaseCompleted: record("phase.completed"),
    artifactCreated: record("artifact.created"),
    runCompleted: record("run.completed"),
    runFailed: record("run.failed"),
    flush: () => Promise.resolve(),
  };
}

/** Whether `promise` settles within {@linkcode SETTLE_MS}. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), SETTLE_MS);
  });
  try {
    return await Promise.race([promise.then(() => true), waited]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("an interrupted run records no artifact or completed manifest of its own", async () => {
  await withTempDir(async (root) => {
    const seen: string[] = [];
    const ctx = new RunContext({
      runId: "int-guard",
      runType: "policy",
      root,
      config: {},
      inputs: {},
      fingerprint: "fp",
      emitter: recordingSink(seen),
    });
    const dir = await RunDirectory.claim(root, "int-guard");
    ctx.adoptDir(dir!);
    // Before the interrupt an artifact is recorded as usual (its file there: the manifest
    // records its sha256).
    await Deno.writeTextFile(join(dir!.path, "early.parquet"), "x");
    await ctx.artifact("early", join(dir!.path, "early.parquet"), 1);
    deepEqual(seen, ["artifact.created"]);

    // A signal while an artifact's file is read for its sha256 (a review: it was recorded after
    // the interrupt all the same).
    await Deno.writeTextFile(join(dir!.path, "hashed.parquet"), "y");
    const hashed = ctx.artifact("hashed", join(dir!.path, "hashed.parquet"), 1);
    ctx.markInterrupted();
    equal(await settles(hashed), false);
    equal(await settles(ctx.artifact("policy_results", "late.parquet", 2)), false);
    equal(await settles(ctx.writeManifest("completed", { summary: {} })), false);
    equal(await settles(ctx.stopIfInterrupted()), false);
    deepEqual(seen, ["artifact.created"], "nothing recorded after the interrupt");
    deepEqual(ctx.artifactPaths, { early: join(dir!.path, "early.parquet") });

    // The handler's failed manifest is written and recorded.
    await ctx.writeManifest("failed", { error: { message: "interrupted", phase_name: "store" } });
    deepEqual(seen, ["artifact.created", "artifact.created"]);
    const names = [];
    for await (const e of Deno.readDir(dir!.path)) names.push(e.name);
    equal(names.length, 3, `the two artifacts' files and the staged failed manifest: ${names}`);
  });
});

Deno.test("the interrupt handler removes temporary files left after the signal", async () => {
  // A real signal in a child: the run's temporary files at the signal are a, the run writes b
  // while run.failed is recorded; the handler reports (and removed) both.
  const code = `
import { installInterruptHandler } from "${new URL("../../backtest/workflow.ts", import.meta.url)}";
const lists = [["a.tmp-1"], ["a.tmp-1", "b.tmp-2"]];
const run = {
  runId: "r1", currentPhase: "store", markInterrupted() {},
  removeTempFilesSync: () => lists.shift() ?? [],
  emitter: { runFailed: async () => "f1", flush: async () => {} },
};
installInterruptHandler(run, (i) => console.log(JSON.stringify(i.removed)));
Deno.kill(Deno.pid, "SIGTERM");
await new Promise((resolve) => setTimeout(resolve, 5000));
`;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code] }).output();
  equal(out.code, 143, new TextDecoder().decode(out.stderr));
  deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), ["a.tmp-1", "b.tmp-2"]);
});

// A probe: SIGTERM between the run folder's claim and run.created ended the process (143, no
// line), left the folder empty and the chosen id taken ("remove the directory"). The signal is
// held until the handler is there, which then records the run as interrupted.
Deno.test("a signal while the run is created: recorded as interrupted, not an empty folder", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const sample = new URL("../../data/sample/", import.meta.url);
    const code = `
import { runPathOnly } from "${new URL("../../backtest/path_only.ts", import.meta.url)}";
import { EventEmitter } from "${new URL("../../ledger/emitter.ts", import.meta.url)}";
import { sinkAround } from "${new URL("./_sink.ts", import.meta.url)}";
const root = ${JSON.stringify(root)};
// After the claim, before run.created is written.
const sink = sinkAround(new EventEmitter({ root }), { before: () => Deno.kill(Deno.pid, "SIGTERM") });
await runPathOnly({
  root, runId: "held-1", emitter: sink,
  calls: ${JSON.stringify(new URL("calls.csv", sample).pathname)},
  candles: ${JSON.stringify(new URL("candles_1m.parquet", sample).pathname)},
  onInterrupt: (i) => console.log(JSON.stringify({ signal: i.signal, phase: i.phaseName })),
});
console.log("completed");
`;
    const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code] }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    equal(out.code, 143, `${stdout}${new TextDecoder().decode(out.stderr)}`);
    deepEqual(JSON.parse(stdout), { signal: "SIGTERM", phase: null });
    const types: string[] = [];
    for await (const day of Deno.readDir(join(root, "events"))) {
      if (!day.isDirectory) continue;
      for await (const part of Deno.readDir(join(root, "events", day.name))) {
        const text = await Deno.readTextFile(join(root, "events", day.name, part.name));
        for (const line of text.split("\n").filter((l) => l !== "")) {
          types.push(JSON.parse(line).event_type);
        }
      }
    }
    // The failed manifest's artifact.created as every interrupted run writes it; no run.started.
    deepEqual(types, ["run.created", "artifact.created", "run.failed"]);
    const manifest = JSON.parse(
      await Deno.readTextFile(join(root, "artifacts", "runs", "held-1", "manifest.json")),
    );
    equal(manifest.status, "failed");
  });
});
