/**
 * `ledger emit` without the dispatcher: the entry point of `deno task emit`.
 *
 * The dispatcher (`ledger.ts`) imports each subcommand lazily, but Deno
 * still resolves every statically named dynamic import before it starts
 * (DuckDB, the AWS SDK, the report's charts): 40-75 ms here, more than the
 * whole emit. This entry names only emit's modules, so a shell loop of
 * `deno task emit` starts within about 2x an empty `deno run` (issue 16).
 * It runs the same command: same flags, permissions check, messages and
 * exit codes as `ledger emit`.
 *
 * @module
 */
import { runCommand } from "./_command.ts";
import { EMIT_NEEDS } from "./_permissions.ts";
import { main } from "./emit.ts";

if (import.meta.main) {
  Deno.exit(
    await runCommand("emit", Deno.args, {
      needs: EMIT_NEEDS,
      load: () => Promise.resolve(main),
      durableBeforeOutput: true, // as ledger.ts's emit
    }),
  );
}
