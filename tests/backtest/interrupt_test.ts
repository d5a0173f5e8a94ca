/**
 * SIGINT/SIGTERM during a backtest (real processes, real signals): the run
 * is recorded as failed with `error.message` "interrupted" and the phase,
 * temporary files are removed, one line is printed, the exit code is 130 or
 * 143; and the manifest never says "completed" before `run.completed` is in
 * the log.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { runEvents, writeFixtures } from "./_fixtures.ts";

const CHILD = new URL("./_interrupt_child.ts", import.meta.url).pathname;

/** Start the child, wait for READY, send `signal`, return its exit code and stderr. */
async function interrupt(args: string[], signal: Deno.Signal) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const seen: string[] = [];
  let buffered = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    seen.push(...lines);
    if (lines.includes("READY")) {
      child.kill(signal);
      break;
    }
  }
  const status = await child.status;
  return { code: status.code, stderr: await stderr, stdout: seen };
}

async function filesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("an interrupted backtest records run.failed and exits 130/143", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_int_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    await t.step("SIGINT in the execute phase: exit 130, phase execute", async () => {
      const r = await interrupt([root, inputs.calls, inputs.candles, "int-1", "execute"], "SIGINT");
      equal(r.code, 130, r.stderr);
      // The run's links to its two inputs (RunContext.pinInputs), which the interrupt removes.
      equal(r.stderr.trimEnd(), "interrupted SIGINT execute removed=2");
      const events = await runEvents(root, "int-1");
      const last = events.at(-1) as { event_type: string; phase_name?: string; error: unknown };
      equal(last.event_type, "run.failed");
      equal(last.phase_name, "execute");
      deepEqual(last.error, { message: "interrupted", type: "Interrupted", signal: "SIGINT" });
      equal(events.filter((e) => e.event_type.startsWith("run.")).length, 3);
    });
    await t.step(
      "SIGTERM after the last phase: exit 143, a failed manifest in its place",
      async () => {
        const r = await interrupt(
          [root, inputs.calls, inputs.candles, "int-2", "after:aggregate"],
          "SIGTERM",
        );
        equal(r.code, 143, r.stderr);
        // Held inside the emit of phase.completed: the phase is still the current one.
        // The staged manifest and the two input links.
        equal(r.stderr.trimEnd(), "interrupted SIGTERM aggregate removed=3");
        const events = await runEvents(root, "int-2");
        equal(events.at(-1)?.event_type, "run.failed");
        equal(events.some((e) => e.event_type === "run.completed"), false);
        // Parquet outputs are in place under their names, no temp file; the staged "completed"
        // manifest is gone and a failed one says why, as for any failed run (issue 4).
        deepEqual(await filesIn(`${root}/artifacts/runs/int-2`), [
          "caller_summary.parquet",
          "manifest.json",
          "policy_results.parquet",
        ]);
        const manifest = JSON.parse(
          await Deno.readTextFile(`${root}/artifacts/runs/int-2/manifest.json`),
        );
        equal(manifest.status, "failed");
        equal(manifest.error.message, "interrupted");
      },
    );
    await t.step(
      "SIGTERM as the store phase starts: its Parquet writes put nothing in place",
      async () => {
        // A probe: a sweep interrupted in store left trials.parquet (recorded nowhere) or its
        // temporary file beside run.failed. The phase goes on under the handler here: its
        // writes finish, and the handler waits for them, then removes what they made.
        const r = await interrupt(
          [root, inputs.calls, inputs.candles, "int-4", "store"],
          "SIGTERM",
        );
        equal(r.code, 143, r.stderr);
        match(r.stderr, /^interrupted SIGTERM store removed=\d+\n$/);
        const events = await runEvents(root, "int-4");
        equal(events.at(-1)?.event_type, "run.failed");
        const artifacts = events.filter((e) => e.event_type === "artifact.created")
          .map((e) => (e as { artifact_type?: string }).artifact_type);
        deepEqual(artifacts, ["manifest"]);
        deepEqual(await filesIn(`${root}/artifacts/runs/int-4`), ["manifest.json"]);
      },
    );
    await t.step(
      "SIGTERM while run.completed is recorded: the run completes, then exit 143",
      async () => {
        // An audit: a signal just after run.completed replaced the completed manifest with a
        // failed one (or left only its temp file) and exited 0, the log saying "completed".
        const r = await interrupt(
          [root, inputs.calls, inputs.candles, "int-3", "run.completed"],
          "SIGTERM",
        );
        equal(r.code, 143, r.stderr);
        equal(r.stderr.trimEnd(), "interrupted SIGTERM null removed=0 ended=completed");
        const events = await runEvents(root, "int-3");
        equal(events.at(-1)?.event_type, "run.completed");
        equal(events.some((e) => e.event_type === "run.failed"), false);
        deepEqual(await filesIn(`${root}/artifacts/runs/int-3`), [
          "caller_summary.parquet",
          "manifest.json",
          "policy_results.parquet",
        ]);
        const manifest = JSON.parse(
          await Deno.readTextFile(`${root}/artifacts/runs/int-3/manifest.json`),
        );
        equal(manifest.status, "completed");
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the manifest follows the log: killed before run.completed, no completed manifest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_kill_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    const r = await interrupt(
      [root, inputs.calls, inputs.candles, "kill-1", "run.completed"],
      "SIGKILL",
    );
    equal(r.code, 137);
    const events = await runEvents(root, "kill-1");
    // The aggregate phase staged the manifest (artifact.created) and completed; then the kill.
    equal(events.at(-1)?.event_type, "phase.completed");
    equal(events.some((e) => e.event_type === "run.completed"), false);
    const names = await filesIn(`${root}/artifacts/runs/kill-1`);
    equal(names.includes("manifest.json"), false);
    // The staged manifest is a temp file (a kill cannot clean up); it says "completed"
    // only under its temporary name, which no reader opens.
    equal(names.filter((n) => n.startsWith("manifest.json.tmp-")).length, 1);
    for (const n of names.filter((n) => n.endsWith(".parquet"))) {
      const size = (await Deno.stat(`${root}/artifacts/runs/kill-1/${n}`)).size;
      equal(size > 0, true, n);
    }
    match(
      names.join(","),
      /caller_summary\.parquet,manifest\.json\.tmp-[0-9a-f]{8},policy_results\.parquet/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
