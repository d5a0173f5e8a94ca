/**
 * SIGINT/SIGTERM during `ledger sweep` (a real process, a real signal): the
 * same interrupt handling as backtests (`installInterruptHandler` in
 * backtest/workflow.ts): `run.failed` "interrupted" with the phase, one
 * line, exit 130/143.
 *
 * @module
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { runEvents } from "../backtest/_fixtures.ts";
import { logText } from "../_helpers.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

Deno.test("ledger sweep: SIGINT/SIGTERM record run.failed, print one line, exit 130/143", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_sweep_sig_" });
  try {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      await t.step(signal, async () => {
        const root = `${dir}/${signal}`;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            CLI,
            "sweep",
            "policy",
            "--root",
            root,
            "--run-id",
            "sweep-sig",
            "--no-index",
            "--grid",
            '{"type":"fixed_stop","stopPct":[0.1,0.2,0.3],"takeProfitPct":[1,2]}',
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
