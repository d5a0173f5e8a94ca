/**
 * `emit --stdin` takes at most 64 MiB (`STDIN_BYTES_MAX`): a larger batch is
 * refused whole, one line saying the limit and to split it (a probe: the
 * limit was in no help or doc, and the message said only "larger than
 * 67108864 bytes"). `emit --help` says it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { STDIN_BYTES_MAX } from "../../cli/emit.ts";
import { logText, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("emit --stdin: past 64 MiB refused whole, saying to split the batch", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const line = JSON.stringify({ event_type: "run.noted", run_id: "big", note: "x" });
    // Lines padded with spaces (JSON allows them) to exactly `bytes`.
    const batch = (bytes: number) => {
      const count = Math.floor(bytes / 1000);
      const padded = line.padEnd(999, " ") + "\n";
      const last = line.padEnd(bytes - (count - 1) * 1000 - 1, " ") + "\n";
      return padded.repeat(count - 1) + last;
    };
    const over = await runLedger(["emit", "--root", root, "--stdin"], {
      stdin: batch(STDIN_BYTES_MAX + 1),
    });
    assert.equal(over.code, 1, over.stderr);
    assert.equal(
      over.stderr,
      "ledger emit: standard input is larger than 67108864 bytes (64 MiB), the most one batch " +
        "takes: split it into several emit --stdin (each is all or nothing)\n",
    );
    assert.equal(await logText(root), "");
    const help = await runLedger(["emit", "--help"]);
    assert.match(help.stdout.replace(/\s+/g, " "), /at most 64 MiB: split a larger one/);
  });
});
