/**
 * SIGINT/SIGTERM during `ledger sweep` (a real process, a real signal): the
 * same interrupt handling as backtests (`installInterruptHandler` in
 * backtest/workflow.ts): `run.failed` "interrupted" with the phase, one
 * line, exit 130/143.
 *
 * @module
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { runEvents } from "../backtest/_fixtures.ts";
import { logText } from "../_helpers.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

/**
 * `ledger sweep policy` of run `runId` into `root` (`--no-index`, then
 * `args`), once its `run.started` is in the log: the process, and its
 * stdout and stderr as they will end.
 */
async function startedSweep(root: string, runId: string, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", CLI, "sweep", "policy", "--root", root, "--run-id", runId, "--no-index"],
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const deadline = Date.now() + 30_000;
  while (!(await logText(root)).includes('"run.started"')) {
    if (Date.now() > deadline) throw new Error("no run.started after 30 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, stdout, stderr };
}

Deno.test("ledger sweep: SIGINT/SIGTERM record run.failed, print one line, exit 130/143", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_sweep_sig_" });
  try {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      await t.step(signal, async () => {
        const root = `${dir}/${signal}`;
        const { child, stdout, stderr } = await startedSweep(root, "sweep-sig", [
          "--grid",
          '{"type":"fixed_stop","stopPct":[0.1,0.2,0.3],"takeProfitPct":[1,2]}',
        ]);
        child.kill(signal);
        const status = await child.status;
        const err = (await stderr).trimEnd();
        equal(status.code, code, err);
        equal(await stdout, "");
        equal(err.split("\n").length, 1, err);
        match(
          err,
          new RegExp(
            `^ledger sweep: interrupted by ${signal}( in phase \\w+)?; run sweep-sig recorded as failed$`,
          ),
        );
        const last = (await runEvents(root, "sweep-sig")).at(-1) as {
          event_type: string;
          phase_name?: string;
          error: { message: string };
        };
        equal(last.event_type, "run.failed");
        equal(last.error.message, "interrupted");
        equal(last.phase_name, /in phase (\w+)/.exec(err)?.[1]);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// helper-294: a second signal while the first was being recorded exited at once (130, nothing on
// stderr), leaving the run without its run.failed (stale), or its manifest listed in the log and
// never put in place. It waits for the first now, and says so.
Deno.test("ledger sweep: a second signal while the first is recorded waits for it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_sweep_sig2_" });
  try {
    const root = `${dir}/root`;
    const { child, stdout, stderr } = await startedSweep(root, "sweep-sig2", [
      ...["--json", "--grid"],
      '{"type":"fixed_stop","stopPct":[0.1,0.2,0.3,0.4,0.5],"takeProfitPct":[1,2,3,4]}',
    ]);
    // Two different signals: two of one kind may merge into one while the first is pending.
    child.kill("SIGINT");
    child.kill("SIGTERM");
    const status = await child.status;
    const err = (await stderr).trimEnd();
    // Deno may handle either first (helper-297: the test took SIGINT's for granted); the first
    // handled is recorded and gives the exit code.
    const again =
      /^ledger: (SIGINT|SIGTERM) again: still recording run sweep-sig2 as interrupted by (SIGINT|SIGTERM)/m
        .exec(err);
    ok(again !== null && again[1] !== again[2], err);
    const first = again[2];
    equal(status.code, first === "SIGINT" ? 130 : 143, err); // the first signal's code
    match(
      err,
      new RegExp(`^ledger sweep: interrupted by ${first}( in phase \\w+)?; run sweep-sig2`, "m"),
    );
    const events = await runEvents(root, "sweep-sig2") as { event_type: string }[];
    equal(events.filter((e) => e.event_type === "run.failed").length, 1);
    equal(events.at(-1)?.event_type, "run.failed");
    const manifest = JSON.parse(
      await Deno.readTextFile(`${root}/artifacts/runs/sweep-sig2/manifest.json`),
    );
    equal(manifest.status, "failed");
    // --json keeps its promise for an interrupted run (helper-294: nothing on stdout).
    const out = JSON.parse(await stdout);
    equal(out.run_id, "sweep-sig2");
    equal(out.status, "failed");
    equal(out.error.message, "interrupted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
