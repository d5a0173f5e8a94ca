/**
 * `ledger show`: show one run: phases, trials, artifacts.
 *
 * @module
 */

/**
 * Run `ledger show` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./show.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger show: not implemented yet");
  return Promise.resolve(1);
}
