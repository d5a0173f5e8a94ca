/**
 * The README's main job: sample backtests, events, the index and a table of
 * runs. Filled in as the pieces land.
 *
 * @module
 */
import { run } from "./ledger.ts";

if (import.meta.main) {
  Deno.exit(await run(["--help"]) === 0 ? 0 : 1);
}
