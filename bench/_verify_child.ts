/**
 * The `ledger verify` process of benchmark item 6 (`bench/_index.ts`): runs
 * `verifyLog` once over a generated log and prints its time, the events it
 * counted and the peak resident memory of this process (`VmHWM`), as one JSON
 * line.
 *
 * Usage: `deno run --allow-read --allow-sys bench/_verify_child.ts ROOT`
 *
 * @module
 */
import { verifyLog } from "../ledger/verify.ts";
import { peakRssBytes } from "./_stats.ts";

async function main(): Promise<void> {
  const [root] = Deno.args;
  const t0 = performance.now();
  const report = await verifyLog(root);
  const elapsedMs = performance.now() - t0;
  console.log(JSON.stringify({
    elapsedMs,
    events: report.totals.events,
    sound: report.sound,
    peakRssBytes: peakRssBytes(),
  }));
}

if (import.meta.main) await main();
