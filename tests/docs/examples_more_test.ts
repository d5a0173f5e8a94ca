/**
 * The JSDoc examples of the source files `examples_test.ts` does not run
 * (all but `backtest/`, `bench/`, `cli/` and `indexer/`), in a test file of
 * their own so that the two halves run in two workers.
 *
 * @module
 */
import { ok } from "node:assert/strict";
import { REPO_ROOT } from "../_helpers.ts";
import { firstHalf, runExampleSteps } from "./_examples.ts";

Deno.test("examples: every JSDoc example of the other source files runs", async (t) => {
  const ran = await runExampleSteps(t, REPO_ROOT, (file) => !firstHalf(file));
  ok(ran > 250, `only ${ran} examples found`);
});
