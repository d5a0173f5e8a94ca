/**
 * `deno task bench`: the ledger measured the way its users compare it, in one
 * run, as ratios to a floor or a peer measured in the same run (issue 7).
 *
 * Items: 1 durable emit p50/p99 vs write+fdatasync; 2 relaxed emit vs pino;
 * 3 eight concurrent durable writer processes; 4 a CLI process per event vs
 * the in-process emitter; 5 `ledger emit` cold start vs an empty `deno run`;
 * 6 full rebuild at 10k/100k/1M/5M/20M events (vs DuckDB `read_json` up to
 * 5M), with the peak memory of the rebuild process against 1.5 GiB, and 20k
 * vs 40k one-line part files (linear?); `LEDGER_BENCH_HUGE=50000000` adds
 * longer sizes (not for CI: 50M events is about 11 GB of log); 7 incremental rebuild after
 * +1% to 1M vs full, and its floor (copy and publish of that index), and a
 * rebuild with nothing new vs the incremental of a few events;
 * 8 `ledger runs`/`ledger show` on an index of 100k runs; 9 policy executor
 * calls/s; 10 executor calls per CPU-second and 11 a 100-combination sweep
 * vs one policy run (issue 12, `bench/_sweep.ts`); 12 the query surface on 100k
 * runs (`bench/_query.ts`, when present); 13 `ledger report` of 100 runs and a `ui`
 * page on 100k runs (issue 13); 14 `ledger ship` MB/s and indexing from the
 * bucket vs the local full rebuild (needs Ceph: `scripts/ceph_rgw.sh install`;
 * else one row says why). Benchmarks are not tests:
 * nothing fails on a time.
 *
 * Flags: `--quick` (small sizes, a few seconds per item), `--json` (print the
 * results as JSON instead of the table), `--only 1,5` (some items),
 * `--dir DIR` (where the temporary logs go; default the system temp dir),
 * `--out PATH` (the Markdown results; default `bench/results.md`, `-` for none).
 *
 * Run from the repository root: `deno task bench [--quick] [--json]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { benchConcurrent, benchDurable, benchProcesses, benchRelaxed } from "./_emit.ts";
import { benchQueries, benchRebuild, type IndexBenchOptions } from "./_index.ts";
import { benchPolicy } from "./_policy.ts";
import { benchSweep } from "./_sweep.ts";
import { benchShip } from "./_ship.ts";
import { benchQuerySurface, type QueryBenchOptions } from "./_query.ts";
import { describeMachine, machineLine, markdownTable, resultsMarkdown } from "./_report.ts";
import type { BenchRow } from "./_result.ts";
import { benchReportViews } from "./_report_view.ts";

/**
 * Extra log sizes of item 6 from `LEDGER_BENCH_HUGE` (comma-separated event
 * counts, e.g. `50000000`): too long for a normal run (50M events is about
 * 11 GB of log and a quarter of an hour), so off by default. 20M (4.6 GB) is
 * in every full run.
 */
function hugeSizes(): number[] {
  const raw = Deno.env.get("LEDGER_BENCH_HUGE") ?? "";
  const sizes = raw.split(",").filter((s) => s.trim() !== "").map(Number);
  for (const n of sizes) {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new RangeError(`LEDGER_BENCH_HUGE takes event counts, got ${JSON.stringify(raw)}`);
    }
  }
  return sizes;
}
/** Highest item number. */
const ITEM_MAX = 14;

/** Sizes of one bench run. */
interface Plan {
  durableEvents: number;
  relaxedEvents: number;
  relaxedRepeat: number;
  concurrentEvents: number;
  processRuns: number;
  index: Omit<IndexBenchOptions, "log">;
  policyCalls: number;
  policyRepeat: number;
  shipEvents: number;
  query: Omit<QueryBenchOptions, "log">;
}

const FULL: Plan = {
  durableEvents: 2000,
  relaxedEvents: 200_000,
  relaxedRepeat: 3,
  concurrentEvents: 500,
  processRuns: 20,
  index: {
    sizes: [10_000, 100_000, 1_000_000, 5_000_000, 20_000_000, ...hugeSizes()],
    repeat: 3,
    runs: 100_000,
    processRuns: 10,
    manyFiles: [20_000, 40_000],
  },
  policyCalls: 10_000,
  policyRepeat: 5,
  shipEvents: 1_000_000,
  query: { runs: 100_000, trialsPerRun: 10, processRuns: 5 },
};

const QUICK: Plan = {
  durableEvents: 300,
  relaxedEvents: 20_000,
  relaxedRepeat: 2,
  concurrentEvents: 50,
  processRuns: 5,
  index: {
    sizes: [2_000, 10_000],
    repeat: 1,
    runs: 2_000,
    processRuns: 3,
    manyFiles: [2_000, 4_000],
  },
  policyCalls: 1_000,
  policyRepeat: 2,
  shipEvents: 20_000,
  query: { runs: 2_000, trialsPerRun: 10, processRuns: 2 },
};

/** Run the items of `only` (all when empty) and return their rows. */
async function runItems(
  dir: string,
  plan: Plan,
  only: Set<number>,
  log: (message: string) => void,
): Promise<BenchRow[]> {
  const want = (item: number) => only.size === 0 || only.has(item);
  const rows: BenchRow[] = [];
  const step = async (items: number[], fn: () => Promise<BenchRow[]>) => {
    if (!items.some(want)) return;
    const t0 = performance.now();
    const got = (await fn()).filter((row) => want(row.item));
    rows.push(...got);
    log(`items ${items.join(",")}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  let inProcessMs: number | null = null;
  await step([1, 4], async () => {
    const got = await benchDurable(dir, plan.durableEvents);
    inProcessMs = got.find((row) => row.name === "durable emit p50")?.median ?? null;
    return got;
  });
  await step([2], () => benchRelaxed(dir, plan.relaxedEvents, plan.relaxedRepeat));
  await step([3], () => benchConcurrent(dir, plan.concurrentEvents));
  await step([4, 5], () => benchProcesses(dir, plan.processRuns, inProcessMs));
  await step([6, 7], () => benchRebuild(dir, { ...plan.index, log }));
  await step([8], () => benchQueries(dir, { ...plan.index, log }));
  await step([9], () => benchPolicy(plan.policyCalls, plan.policyRepeat));
  await step([10, 11], () => benchSweep(plan.policyRepeat));
  await step([13], () =>
    benchReportViews(dir, {
      uiRuns: plan === QUICK ? 2_000 : 100_000,
      repeat: plan === QUICK ? 2 : 5,
      log,
    }));
  await step([14], () => benchShip(dir, { events: plan.shipEvents, log }));
  await step([12], () => benchQuerySurface(dir, { ...plan.query, log }));
  return rows.sort((a, b) => a.item - b.item);
}

const USAGE = `Usage: deno task bench [--quick] [--json] [--only N,M] [--dir DIR] [--out PATH|-]

  --quick      small sizes, a few seconds per item
  --json       print the results as JSON instead of the table
  --only N,M   run only these items (1..${ITEM_MAX}; see bench/main.ts)
  --dir DIR    where the temporary logs go (default: the system temp dir)
  --out PATH   the Markdown results (default bench/results.md; - for none)`;

/** The flags of `deno task bench`; a bad one is one line on stderr (an audit: a stack trace). */
function benchFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h", default: false },
        quick: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        only: { type: "string", default: "" },
        dir: { type: "string" },
        out: { type: "string", default: "bench/results.md" },
      },
    }).values;
  } catch (err) {
    // node:util's parseArgs throws a TypeError with a code for each kind of bad argument.
    if (
      err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS")
    ) {
      return new Error(`bench: ${err.message} (deno task bench --help lists the flags)`);
    }
    throw err;
  }
}

async function main(): Promise<number> {
  const values = benchFlags(Deno.args);
  if (values instanceof Error) {
    console.error(values.message);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const tokens = values.only.split(",").filter((s) => s !== "");
  // Digits only: Number() also read `0x1` as item 1 (a review).
  const only = new Set(tokens.map((s) => /^\d+$/.test(s.trim()) ? Number(s) : NaN));
  for (const item of only) {
    if (!(Number.isInteger(item) && item >= 1 && item <= ITEM_MAX)) {
      console.error(
        `bench: --only takes item numbers 1..${ITEM_MAX}, got ${JSON.stringify(values.only)}`,
      );
      return 2;
    }
  }
  const plan = values.quick ? QUICK : FULL;
  const dir = await Deno.makeTempDir({ dir: values.dir, prefix: "ledger_bench_" });
  const log = (message: string) => console.error(`bench: ${message}`);
  try {
    const machine = await describeMachine(dir, values.quick ? "quick" : "full");
    log(machineLine(machine));
    const rows = await runItems(dir, plan, only, log);
    machine.loadAvg[1] = Deno.loadavg()[0];
    if (values.json) {
      console.log(JSON.stringify({ machine, rows }, null, 2));
    } else {
      console.log(machineLine(machine));
      console.log(markdownTable(rows));
    }
    if (values.out !== "-") {
      await Deno.writeTextFile(values.out, resultsMarkdown(machine, rows));
      log(`wrote ${values.out}`);
    }
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
