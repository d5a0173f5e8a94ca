/**
 * `ledger daemon`: keep the index up to date, rebuilding when the log changes.
 *
 * @module
 */

/**
 * Run `ledger daemon` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./daemon.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger daemon: not implemented yet");
  return Promise.resolve(1);
}
