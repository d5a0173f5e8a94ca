/**
 * Test child for end_signal_test.ts: a run whose sink signals this process
 * while it records the run's own end, as a user's Ctrl-C that lands just
 * then. Prints the interrupt line (`interruptLine`) and what the command
 * would print of a failed run.
 *
 * Args: ROOT MODE, MODE one of `completed-unwritten` (run.completed could
 * not be written: the sink returns null), `failed` (the body fails) or
 * `failed-unwritten` (it fails and run.failed cannot be written either).
 *
 * @module
 */
import { finishRun, installInterruptHandler, RunContext } from "../../backtest/workflow.ts";
import type { RunEventSink } from "../../backtest/workflow.ts";
import { interruptLine } from "../../cli/backtest.ts";

const [root, mode] = Deno.args;
/** The signal lands while the end's event is being written: it waits this long for it. */
const WRITE_MS = 200;

async function signalledWrite(signal: Deno.Signal, id: string | null): Promise<string | null> {
  Deno.kill(Deno.pid, signal);
  await new Promise((resolve) => setTimeout(resolve, WRITE_MS));
  return id;
}

const emitter: RunEventSink = {
  runCreated: () => Promise.resolve("c"),
  runStarted: () => Promise.resolve("s"),
  phaseStarted: () => Promise.resolve("p"),
  phaseCompleted: () => Promise.resolve("q"),
  artifactCreated: () => Promise.resolve("a"),
  runCompleted: () => signalledWrite("SIGTERM", null),
  runFailed: () => signalledWrite("SIGINT", mode === "failed-unwritten" ? null : "f"),
  flush: () => Promise.resolve(),
};
const ctx = new RunContext({
  runId: "r1",
  runType: "policy",
  root,
  config: {},
  inputs: {},
  fingerprint: "x",
  emitter,
});
ctx.releaseInterrupts = installInterruptHandler(
  ctx,
  (i) => console.error(interruptLine("backtest", i)),
);
try {
  await finishRun(ctx, async () => {
    if (mode.startsWith("failed")) throw new Error("Calls file calls.csv: line 7 has no mint");
    await ctx.writeManifest("completed", { summary: {} });
    return {};
  });
} catch (err) {
  console.error(`ledger backtest: run r1 failed: ${(err as Error).message}`);
  Deno.exit(1);
}
