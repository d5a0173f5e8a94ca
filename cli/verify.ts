/**
 * `ledger verify`: scan the log and report torn, invalid and duplicate lines.
 *
 * @module
 */

/**
 * Run `ledger verify` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./verify.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger verify: not implemented yet");
  return Promise.resolve(1);
}
