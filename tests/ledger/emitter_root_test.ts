/**
 * The emitter's root: resolved once, when the emitter is made, so a
 * backtest that changes its working directory keeps writing to one log;
 * and a process that may not read `LEDGER_ROOT` gets the default root
 * instead of an error (SPEC 6: the emitter never throws into the backtest).
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runDeno, withTempDir } from "./_helpers.ts";
import { readLog } from "../../ledger/reader.ts";
import { DENO_RUN } from "../_helpers.ts";

const CHILD = fileURLToPath(new URL("./_emitter_root_child.ts", import.meta.url));

/** The child in `cwd`, under the repository's config, with only `permissions`. */
function child(cwd: string, permissions: string[], mode: string) {
  return runDeno([
    ...DENO_RUN,
    ...permissions,
    CHILD,
    mode,
  ], {
    cwd,
  });
}

async function eventTypes(root: string): Promise<string[]> {
  const types: string[] = [];
  for await (const r of readLog(root)) if (r.kind === "event") types.push(r.event.event_type);
  return types;
}

// A probe: the root was kept as given ("data/ledger") and resolved again for each new part, so
// run.created went to one log and the rest of the run to another, every emit acknowledged.
Deno.test("emitter: a relative root is the same folder after the process changes its directory", async () => {
  await withTempDir(async (dir) => {
    const r = await child(dir, ["--allow-read", "--allow-write", "--allow-env"], "chdir");
    equal(r.code, 0, r.stderr);
    deepEqual(JSON.parse(r.stdout).failed, 0);
    deepEqual((await eventTypes(join(dir, "data", "ledger"))).sort(), [
      "run.completed",
      "run.created",
      "run.started",
    ]);
    let moved = true;
    try {
      await Deno.stat(join(dir, "elsewhere", "data"));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      moved = false;
    }
    equal(moved, false, "nothing was written under the new working directory");
  });
});

// A probe: without --allow-env, getEventEmitter() threw NotCapable reading LEDGER_ROOT.
Deno.test("emitter: without --allow-env it writes to the default root and says why once", async () => {
  await withTempDir(async (dir) => {
    const r = await child(dir, ["--allow-read", "--allow-write"], "no-env");
    equal(r.code, 0, r.stderr);
    equal(JSON.parse(r.stdout).emitted, 3);
    const said = r.stderr.trim().split("\n").filter((l) => l.includes("LEDGER_ROOT"));
    equal(said.length, 1, r.stderr);
    match(
      said[0],
      /LEDGER_ROOT cannot be read without --allow-env=LEDGER_ROOT: events go to data\/ledger/,
    );
    equal((await eventTypes(join(dir, "data", "ledger"))).length, 3);
  });
});
