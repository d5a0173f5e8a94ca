/**
 * A signal that lands while a run records its own end (a real signal to a
 * real child): the one line it prints says how the run ended, also when
 * `run.completed` could not be written or the run failed on its own (a
 * review: the first said "recorded as completed", the second hid why the
 * run failed).
 *
 * @module
 */
import { strictEqual as equal } from "node:assert/strict";
import { withTempDir } from "../_helpers.ts";

const CHILD = new URL("./_end_signal_child.ts", import.meta.url).pathname;

async function child(root: string, mode: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, root, mode],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a signal as a run records its end says how it ended", async (t) => {
  await withTempDir(async (root) => {
    await t.step("run.completed not written: said so, not 'recorded as completed'", async () => {
      const r = await child(root, "completed-unwritten");
      equal(r.code, 143, r.stderr);
      equal(
        r.stderr.trim().split("\n").at(-1),
        "ledger backtest: SIGTERM came as run r1 ended; its run.completed could not be " +
          "written to the log",
      );
    });
    await t.step("a run failing on its own: the line carries why", async () => {
      const r = await child(`${root}/b`, "failed");
      equal(r.code, 130, r.stderr);
      equal(
        r.stderr.trim(),
        "ledger backtest: SIGINT came as run r1 ended; it is recorded as failed: Calls file " +
          "calls.csv: line 7 has no mint",
      );
    });
    await t.step("failing, with run.failed not written: the line still says why", async () => {
      const r = await child(`${root}/c`, "failed-unwritten");
      equal(r.code, 130, r.stderr);
      equal(
        r.stderr.trim().split("\n").at(-1),
        "ledger backtest: SIGINT came as run r1 ended; its run.failed could not be written to " +
          "the log: Calls file calls.csv: line 7 has no mint",
      );
    });
  });
});
