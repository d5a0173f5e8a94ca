/**
 * `ledger rebuild-index`: build or update the DuckDB index from the log.
 *
 * @module
 */

/**
 * Run `ledger rebuild-index` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./rebuild_index.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger rebuild-index: not implemented yet");
  return Promise.resolve(1);
}
