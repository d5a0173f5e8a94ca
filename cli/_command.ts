/**
 * Running one subcommand: check the permissions it needs (one clear line
 * when one is missing), load it, run it, and turn what it throws into one
 * line and an exit code (2 for usage, 1 for failure). The dispatcher
 * (`ledger.ts`) and the emit entry point (`ledger_emit.ts`) share it.
 *
 * @module
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./_args.ts";
import {
  missingPermissions,
  notCapableHint,
  permissionMessage,
  type PermissionNeed,
} from "./_permissions.ts";
import denoJson from "../deno.json" with { type: "json" };

/** A subcommand: takes its arguments, returns the process exit code. */
export type CommandMain = (args: string[]) => Promise<number>;

/** How to run one subcommand. */
export interface CommandSpec {
  /** Checked with `Deno.permissions.query` before the module is loaded. */
  needs: readonly PermissionNeed[];
  /** Load the subcommand's module and return its main. */
  load: () => Promise<CommandMain>;
}

/**
 * Run subcommand `name` with `args` and return its exit code; every error
 * becomes one line on stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runCommand } from "./_command.ts";
 * import { UsageError } from "./_args.ts";
 * const error = console.error;
 * let printed = "";
 * console.error = (text: string) => printed += text;
 * try {
 *   const code = await runCommand("demo", ["--nope"], {
 *     needs: [],
 *     load: () => Promise.resolve(() => Promise.reject(new UsageError("unknown flag --nope"))),
 *   });
 *   assert.equal(code, 2);
 * } finally {
 *   console.error = error;
 * }
 * assert.equal(printed, "ledger demo: unknown flag --nope");
 * ```
 */
export async function runCommand(name: string, args: string[], spec: CommandSpec): Promise<number> {
  const wantsHelp = args.includes("--help") || args.includes("-h");
  if (!wantsHelp) {
    const missing = await missingPermissions(args, spec.needs);
    if (missing.length > 0) {
      console.error(permissionMessage(name, missing, { task: taskFor(name) }));
      return EXIT_FAILURE;
    }
  }
  try {
    const main = await spec.load();
    return await main(args);
  } catch (err) {
    // The reader of standard output went away (`ledger runs --format jsonl | head -1`): what it
    // wanted it has; stop quietly, as `cat` does. No command writes to another process's pipe.
    if (err instanceof Deno.errors.BrokenPipe) return EXIT_OK;
    if (err instanceof UsageError) {
      console.error(`ledger ${name}: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof Deno.errors.NotCapable) {
      // A permission the command's needs did not foresee: still one line and a hint.
      const first = err.message.split("\n")[0];
      console.error(`ledger ${name}: ${first}; ${notCapableHint(name, first, taskFor(name))}`);
      return EXIT_FAILURE;
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`ledger ${name}: ${message.split("\n")[0]}`);
    return EXIT_FAILURE;
  }
}

/** The `deno task` that runs `command` with its permissions (see deno.json). */
export function taskFor(command: string): string {
  return command in denoJson.tasks ? command : "ledger";
}
