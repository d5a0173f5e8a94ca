/**
 * A real process holding a shared part's exclusive lock mid-line, as an
 * `ledger emit` killed while appending would (`_lock_holder_child.ts`), for
 * the shared-part tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { denoScriptArgs, LineCollector, REPO_ROOT } from "../_helpers.ts";

const LOCK_HOLDER = new URL("./_lock_holder_child.ts", import.meta.url).pathname;

/** A child process holding the exclusive lock of the part at `path` (once it says so), and its output. */
export async function holdLock(
  path: string,
): Promise<{ holder: Deno.ChildProcess; said: LineCollector }> {
  const holder = new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(LOCK_HOLDER, [path]),
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const said = new LineCollector(holder.stdout);
  await said.waitFor(1, 20_000);
  assert.deepEqual(said.lines, ["locked"]);
  return { holder, said };
}
