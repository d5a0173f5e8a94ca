/**
 * `ledger runs`: list the latest runs from the index.
 *
 * @module
 */

/**
 * Run `ledger runs` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./runs.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger runs: not implemented yet");
  return Promise.resolve(1);
}
