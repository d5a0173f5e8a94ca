/**
 * A backtest that makes its emitter with a relative root, then changes its
 * working directory (`chdir`), or one that may not read `LEDGER_ROOT`
 * (`no-env`). Run from the folder the root is relative to; prints the
 * emitter's stats as one JSON line.
 *
 * Usage: `deno run --allow-read --allow-write [--allow-env] _emitter_root_child.ts chdir|no-env`
 *
 * @module
 */
import { getEventEmitter } from "../../mod.ts";

const mode = Deno.args[0];
const emitter = mode === "chdir" ? getEventEmitter({ root: "data/ledger" }) : getEventEmitter();
await emitter.runCreated("moved-1", {
  run_type: "path_only",
  config: {},
  data_fingerprint: "fp",
});
if (mode === "chdir") {
  await Deno.mkdir("elsewhere");
  Deno.chdir("elsewhere");
}
// A day before: another day's part, so a new file is made after the change of directory.
await emitter.runStarted("moved-1", { timestamp_ms: Date.now() - 86_400_000 });
await emitter.runCompleted("moved-1", { summary: {}, artifact_paths: {} });
await emitter.close();
console.log(JSON.stringify(emitter.stats()));
