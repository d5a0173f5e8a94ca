/**
 * `ledger legacy`: dual mode: backfill, parity and archive of the legacy DuckDB.
 *
 * @module
 */

/**
 * Run `ledger legacy` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./legacy.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(_args: string[]): Promise<number> {
  console.error("ledger legacy: not implemented yet");
  return Promise.resolve(1);
}
