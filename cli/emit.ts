/**
 * `ledger emit`: append one event (or a JSONL batch with --stdin) to the log.
 *
 * @module
 */

/**
 * Run `ledger emit` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./emit.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger emit: not implemented yet");
  return Promise.resolve(1);
}
