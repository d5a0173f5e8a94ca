/**
 * `ledger backtest`: run a path-only or policy backtest.
 *
 * @module
 */

/**
 * Run `ledger backtest` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./backtest.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger backtest: not implemented yet");
  return Promise.resolve(1);
}
