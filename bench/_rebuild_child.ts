/**
 * The rebuild process of benchmark items 6-8 (`bench/_index.ts`): runs
 * `rebuildIndex` once and prints its report, with the peak resident memory of
 * this process (`VmHWM`), as one JSON line.
 *
 * Usage: `deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys bench/_rebuild_child.ts ROOT full|incremental`
 *
 * @module
 */
import { rebuildIndex } from "../indexer/rebuild.ts";
import { peakRssBytes } from "./_stats.ts";

async function main(): Promise<void> {
  const [root, mode] = Deno.args;
  if (mode !== "full" && mode !== "incremental") {
    throw new TypeError(`Mode must be full or incremental, got ${JSON.stringify(mode)}`);
  }
  const report = await rebuildIndex(root, { full: mode === "full" });
  console.log(JSON.stringify({ ...report, peakRssBytes: peakRssBytes() }));
}

if (import.meta.main) await main();
