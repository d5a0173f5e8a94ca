/**
 * Once `ledger emit` has written its events and printed their ids, a stderr
 * that cannot take a warning (`2>/dev/full`) loses the warning, not the exit
 * code. A review: the unknown-run warning's failed write made emit exit 1
 * after the event was in the log, and a retry wrote it again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, logText, withTempDir } from "../_helpers.ts";
import { quote, sh } from "../_tmpfs.ts";

const DEV_FULL = "/dev/full";
// Through sh: Deno lets only -A look at /dev, and the test task grants --allow-read.
const whyNot = (await sh(`test -c ${DEV_FULL}`)).code === 0 ? undefined : `no ${DEV_FULL} here`;
if (whyNot !== undefined) console.log(`ignored: emit with stderr full: ${whyNot}`);

Deno.test({
  name: "emit: a warning stderr cannot take after the write leaves exit 0",
  ignore: whyNot !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const argv = [
        Deno.execPath(),
        ...denoScriptArgs(CLI_PATH, [
          ...["emit", "--root", root, "--event-type", "phase.started", "--run-id", "nope"],
          ...["--phase-name", "p", "--phase-order", "1"],
        ]),
      ];
      const r = await sh(`${argv.map(quote).join(" ")} 2>${DEV_FULL}`);
      assert.equal(r.code, 0, "the event is written: exit 0");
      const id = r.stdout.trim();
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.equal(await linesHolding(root, id), 1);
      // Standard output full too: the line saying the ids were lost is lost as well.
      const both = await sh(`${argv.map(quote).join(" ")} >${DEV_FULL} 2>${DEV_FULL}`);
      assert.equal(both.code, 0, "written: exit 0");
      assert.equal(await linesHolding(root, '"phase.started"'), 2);
    });
  },
});

/** The lines of the log under `root` holding `text`. */
async function linesHolding(root: string, text: string): Promise<number> {
  return (await logText(root)).split("\n").filter((line) => line.includes(text)).length;
}
