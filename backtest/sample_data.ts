/**
 * The deterministic sample data set of `data/sample/`: calls by a dozen
 * callers over three weeks and 1m candles with memecoin-like paths (most
 * fade, some run 2x–20x, some rug). The same seed always gives the same
 * calls and candles.
 *
 * Each mint trades for {@linkcode SampleDataOptions.windowMs} from its launch
 * and is called within the first {@linkcode SampleDataOptions.callWindowMs},
 * so every call has at least a day of candles after it while the candle
 * file stays small. Prices keep 4 significant digits (as a DEX screen shows
 * them), which also lets Parquet compress them.
 *
 * Run `deno task sample-data` to (re)write `data/sample/calls.csv` and
 * `data/sample/candles_1m.parquet`.
 *
 * @module
 */
import { DuckDBInstance } from "../indexer/duckdb.ts";
import { writeParquet } from "./_parquet.ts";
import type { Call } from "./types.ts";
import { mulberry32 } from "./_random.ts";

/** One minute, ms. */
const MINUTE_MS = 60_000;
/** One hour, ms. */
const HOUR_MS = 60 * MINUTE_MS;
/** Sub-steps of the random walk inside one candle (they make highs and lows). */
const SUBSTEPS_PER_CANDLE = 4;

/**
 * Default seed of the committed sample set.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateSampleData, SAMPLE_SEED } from "./sample_data.ts";
 * const small = { calls: 3, mints: 2, windowMs: 3_600_000, callWindowMs: 600_000 };
 * const byDefault = generateSampleData(small);
 * // Without a seed the generator uses SAMPLE_SEED; another seed gives other data.
 * assert.deepEqual(generateSampleData({ ...small, seed: SAMPLE_SEED }).calls, byDefault.calls);
 * assert.notDeepEqual(generateSampleData({ ...small, seed: 1 }).calls, byDefault.calls);
 * ```
 */
export const SAMPLE_SEED = 20260105;
/**
 * The committed sample calls file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SAMPLE_CALLS_FILE, writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Without `callsFile`, the calls go to SAMPLE_CALLS_FILE (candles as CSV: no Parquet).
 *   const out = await writeSampleData(dir, { calls: 2, mints: 1, candlesFile: "c.csv" });
 *   assert.equal(out.callsPath, `${dir}/${SAMPLE_CALLS_FILE}`);
 *   assert.equal(out.callsPath, `${dir}/calls.csv`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const SAMPLE_CALLS_FILE = "calls.csv";
/**
 * The committed sample candles file.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { SAMPLE_CANDLES_FILE } from "./sample_data.ts";
 * import { fileFormat } from "./data.ts";
 * import { SAMPLE_CANDLES_PATH } from "./workflow.ts";
 * // The backtests' default candles input is this file in data/sample/, read as Parquet.
 * assert.equal(SAMPLE_CANDLES_PATH, `data/sample/${SAMPLE_CANDLES_FILE}`);
 * assert.equal(fileFormat(SAMPLE_CANDLES_FILE, "Candles"), "parquet");
 * ```
 */
export const SAMPLE_CANDLES_FILE = "candles_1m.parquet";

/**
 * Options for {@linkcode generateSampleData}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateSampleData, type SampleDataOptions } from "./sample_data.ts";
 * // Two hours of candles per mint instead of 32: a small, fast data set.
 * const options: SampleDataOptions = {
 *   calls: 4,
 *   mints: 2,
 *   windowMs: 2 * 3_600_000,
 *   callWindowMs: 600_000,
 * };
 * const data = generateSampleData(options);
 * assert.equal(data.calls.length, 4);
 * assert.equal(data.mints.length, 2);
 * assert(data.mints.every((m) => m.ts.length === 120)); // a 1m candle per minute of windowMs
 * ```
 */
export interface SampleDataOptions {
  /** PRNG seed. @default {20260105} */
  seed?: number;
  /** Number of calls. @default {320} */
  calls?: number;
  /** Number of distinct mints. @default {120} */
  mints?: number;
  /** First launch time, epoch ms. @default {Date.UTC(2026, 0, 5)} */
  startMs?: number;
  /** Days over which mints launch. @default {21} */
  spanDays?: number;
  /** Candles per mint from its launch, ms. @default {32 * 3600 * 1000} */
  windowMs?: number;
  /** Calls happen this long after a launch at most, ms. @default {8 * 3600 * 1000} */
  callWindowMs?: number;
}

/**
 * One mint's regime.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateSampleData, type Regime } from "./sample_data.ts";
 * const { mints } = generateSampleData({ calls: 1, mints: 30 });
 * const byRegime: Record<Regime, number> = { fade: 0, runner: 0, rug: 0 };
 * for (const m of mints) byRegime[m.regime]++;
 * assert.equal(byRegime.fade + byRegime.runner + byRegime.rug, 30);
 * // A rug loses most of its price at once: it ends far below where it started.
 * for (const m of mints.filter((m) => m.regime === "rug")) {
 *   assert(m.close[m.close.length - 1] < m.open[0] / 4);
 * }
 * ```
 */
export type Regime = "fade" | "runner" | "rug";

/**
 * A generated mint with its 1m candles (columnar).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateSampleData, type SampleMint } from "./sample_data.ts";
 * const small = { calls: 1, mints: 1, windowMs: 3_600_000, callWindowMs: 600_000 };
 * const m: SampleMint = generateSampleData(small).mints[0];
 * // One candle a minute from the launch; index i of every array is candle i.
 * assert.equal(m.ts[0], m.launchMs);
 * assert.equal(m.ts[59] - m.ts[0], 59 * 60_000);
 * assert.equal(m.close.length, 60);
 * assert(m.high.every((high, i) => high >= m.low[i]));
 * ```
 */
export interface SampleMint {
  /** Token address. */
  mint: string;
  /** Price path regime. */
  regime: Regime;
  /** Launch time, epoch ms (first candle). */
  launchMs: number;
  /** Candle open times, epoch ms. */
  ts: Float64Array;
  /** Opens. */
  open: Float64Array;
  /** Highs. */
  high: Float64Array;
  /** Lows. */
  low: Float64Array;
  /** Closes. */
  close: Float64Array;
  /** Volumes. */
  volume: Float64Array;
}

/**
 * A generated data set.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateSampleData, type SampleData } from "./sample_data.ts";
 * const small = { calls: 10, mints: 3, windowMs: 3_600_000, callWindowMs: 600_000 };
 * const data: SampleData = generateSampleData(small);
 * const launchMs = new Map(data.mints.map((m) => [m.mint, m.launchMs]));
 * // Every call is on a generated mint, after its launch; the calls are in time order.
 * assert(data.calls.every((c) => c.alertTsMs >= launchMs.get(c.mint)!));
 * assert(data.calls.every((c, i) => i === 0 || data.calls[i - 1].alertTsMs <= c.alertTsMs));
 * ```
 */
export interface SampleData {
  /** Calls sorted by alert time. */
  calls: Call[];
  /** Mints with candles. */
  mints: SampleMint[];
}

/** The callers and their skill (0..1: picks runners early, avoids rugs). */
const CALLERS: readonly [string, number][] = [
  ["alpha_whale", 0.9],
  ["early_eddie", 0.8],
  ["gem_hunter", 0.7],
  ["chart_wizard", 0.6],
  ["sol_sniper", 0.55],
  ["rug_radar", 0.5],
  ["moon_maxi", 0.45],
  ["pump_prophet", 0.4],
  ["degen_dan", 0.3],
  ["ape_andy", 0.25],
  ["bag_holder", 0.15],
  ["late_larry", 0.1],
];

export { mulberry32 } from "./_random.ts";

interface Rng {
  u(): number;
  range(lo: number, hi: number): number;
  normal(): number;
  pick<T>(xs: readonly T[]): T;
}

function makeRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    u: next,
    range: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      const u1 = Math.max(next(), 1e-12);
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * next());
    },
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function mintAddress(rng: Rng): string {
  let s = "";
  for (let i = 0; i < 40; i++) s += BASE58[Math.floor(rng.u() * BASE58.length)];
  return s + "pump";
}

/** Round to 4 significant digits. */
function quantize(x: number): number {
  if (x <= 0) return 0;
  const e = Math.floor(Math.log10(x)) - 3;
  const scale = 10 ** e;
  return Math.round(x / scale) * scale;
}

interface PathPlan {
  regime: Regime;
  /** Minutes from launch of the pump (runner) or the rug. */
  eventMin: number;
  /** Pump length in minutes (runner). */
  pumpMin: number;
  /** Log drift per minute at minute `m`. */
  drift(m: number): number;
}

function planPath(rng: Rng, regime: Regime, windowMin: number, callWindowMin: number): PathPlan {
  if (regime === "runner") {
    const eventMin = Math.floor(rng.range(20, callWindowMin * 0.8));
    const pumpMin = Math.floor(rng.range(30, 360));
    const peak = Math.exp(rng.range(Math.log(2.2), Math.log(20)));
    const decayLog = Math.log(rng.range(1.5, 5));
    const afterMin = windowMin - eventMin - pumpMin;
    return {
      regime,
      eventMin,
      pumpMin,
      drift: (m) =>
        m < eventMin
          ? 0
          : m < eventMin + pumpMin
          ? Math.log(peak) / pumpMin
          : -decayLog / Math.max(afterMin, 1),
    };
  }
  if (regime === "rug") {
    const eventMin = Math.floor(rng.range(60, windowMin * 0.6));
    const preLog = Math.log(rng.range(0.9, 1.6));
    return { regime, eventMin, pumpMin: 0, drift: (m) => (m < eventMin ? preLog / eventMin : 0) };
  }
  const fadeLog = Math.log(rng.range(0.05, 0.6));
  const bumpStart = Math.floor(rng.range(0, 180));
  const bumpMin = Math.floor(rng.range(20, 90));
  const bumpLog = Math.log(rng.range(1.05, 1.7));
  return {
    regime,
    eventMin: bumpStart,
    pumpMin: bumpMin,
    drift: (m) =>
      fadeLog / windowMin + (m >= bumpStart && m < bumpStart + bumpMin ? bumpLog / bumpMin : 0),
  };
}

function generateMint(
  rng: Rng,
  launchMs: number,
  regime: Regime,
  options: Required<SampleDataOptions>,
) {
  const n = Math.floor(options.windowMs / MINUTE_MS);
  const plan = planPath(rng, regime, n, Math.floor(options.callWindowMs / MINUTE_MS));
  const sigma0 = rng.range(0.012, 0.03);
  const volBase = Math.log(rng.range(200, 20_000));
  const cols = {
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  // `price` is the latent price; a minute without trades prints a flat candle at
  // the last traded price, and the next trade gaps to wherever the latent price went.
  let price = 10 ** rng.range(-6, -3);
  let traded = quantize(price);
  for (let m = 0; m < n; m++) {
    const rugged = regime === "rug" && m >= plan.eventMin;
    const sigma = rugged ? 0.003 : sigma0 * (0.35 + 0.65 * Math.exp(-m / 360));
    let hi = price;
    let lo = price;
    for (let k = 0; k < SUBSTEPS_PER_CANDLE; k++) {
      const step = plan.drift(m) / SUBSTEPS_PER_CANDLE +
        (sigma / Math.sqrt(SUBSTEPS_PER_CANDLE)) * rng.normal();
      price *= Math.exp(step);
      if (price > hi) hi = price;
      if (price < lo) lo = price;
    }
    if (regime === "rug" && m === plan.eventMin) {
      price *= 1 - rng.range(0.85, 0.99);
      lo = price * (1 - rng.range(0, 0.3));
    }
    cols.ts[m] = launchMs + m * MINUTE_MS;
    const isEvent = regime === "rug" && m === plan.eventMin;
    if (!isEvent && rng.u() >= activity(plan, m)) {
      cols.open[m] =
        cols.high[m] =
        cols.low[m] =
        cols.close[m] =
          traded;
      cols.volume[m] = 0;
      continue;
    }
    const open = traded;
    traded = quantize(price);
    cols.open[m] = open;
    cols.high[m] = Math.max(open, quantize(hi * (1 + Math.abs(rng.normal()) * sigma * 0.3)));
    cols.low[m] = Math.min(open, quantize(lo * (1 - Math.abs(rng.normal()) * sigma * 0.3)));
    cols.close[m] = traded;
    const move = Math.abs(Math.log(traded / open));
    cols.volume[m] = Math.round(Math.exp(volBase + rng.normal()) * (1 + 50 * move));
  }
  return { plan, cols };
}

/** Probability that minute `m` of a mint's life has trades. */
function activity(plan: PathPlan, m: number): number {
  if (plan.regime === "rug" && m > plan.eventMin) return 0.05;
  if (plan.regime === "runner") {
    if (m >= plan.eventMin && m < plan.eventMin + plan.pumpMin) return 1;
    const away = m < plan.eventMin ? plan.eventMin - m : m - plan.eventMin - plan.pumpMin;
    return 0.3 + 0.7 * Math.exp(-away / 300);
  }
  return 0.15 + 0.85 * Math.exp(-m / 240);
}

function regimeFor(rng: Rng, skill: number): Regime {
  const runner = 0.15 + 0.4 * skill;
  const rug = 0.25 - 0.15 * skill;
  const u = rng.u();
  return u < runner ? "runner" : u < runner + rug ? "rug" : "fade";
}

function callTime(rng: Rng, plan: PathPlan, skill: number, callWindowMin: number): number {
  const early = rng.u() < skill;
  let minute: number;
  if (plan.regime === "runner") {
    minute = early
      ? plan.eventMin - rng.range(0, Math.min(120, plan.eventMin))
      : plan.eventMin + rng.range(0.3, 1.2) * plan.pumpMin;
  } else if (plan.regime === "rug") {
    minute = rng.range(5, Math.min(plan.eventMin - 5, callWindowMin));
  } else {
    minute = rng.range(5, callWindowMin);
  }
  return Math.min(Math.max(minute, 5), callWindowMin);
}

/**
 * Generate the sample data set in memory (deterministic for a seed).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { generateSampleData } from "./sample_data.ts";
 * const a = generateSampleData({ calls: 20, mints: 10, windowMs: 3_600_000, callWindowMs: 600_000 });
 * const b = generateSampleData({ calls: 20, mints: 10, windowMs: 3_600_000, callWindowMs: 600_000 });
 * assert.equal(a.calls.length, 20);
 * assert.equal(a.calls[7].alertTsMs, b.calls[7].alertTsMs);
 * ```
 */
export function generateSampleData(options: SampleDataOptions = {}): SampleData {
  const o: Required<SampleDataOptions> = {
    seed: options.seed ?? SAMPLE_SEED,
    calls: options.calls ?? 320,
    mints: options.mints ?? 120,
    startMs: options.startMs ?? Date.UTC(2026, 0, 5),
    spanDays: options.spanDays ?? 21,
    windowMs: options.windowMs ?? 32 * HOUR_MS,
    callWindowMs: options.callWindowMs ?? 8 * HOUR_MS,
  };
  for (const name of ["calls", "mints"] as const) {
    if (!(Number.isSafeInteger(o[name]) && o[name] >= 1)) {
      throw new RangeError(`${name} must be an integer >= 1, got ${o[name]}`);
    }
  }
  if (!(Number.isFinite(o.spanDays) && o.spanDays > 0)) {
    throw new RangeError(`spanDays must be a number > 0, got ${o.spanDays}`);
  }
  const rng = makeRng(o.seed);
  const callWindowMin = Math.floor(o.callWindowMs / MINUTE_MS);
  const launchSpanMin = Math.max(
    1,
    Math.floor((o.spanDays * 24 * HOUR_MS - o.windowMs) / MINUTE_MS),
  );
  const mints: SampleMint[] = [];
  const plans: PathPlan[] = [];
  const byRegime: Record<Regime, number[]> = { fade: [], runner: [], rug: [] };
  for (let i = 0; i < o.mints; i++) {
    const u = rng.u();
    const regime: Regime = u < 0.3 ? "runner" : u < 0.45 ? "rug" : "fade";
    const launchMs = o.startMs + Math.floor(rng.u() * launchSpanMin) * MINUTE_MS;
    const { plan, cols } = generateMint(rng, launchMs, regime, o);
    byRegime[regime].push(i);
    plans.push(plan);
    mints.push({ mint: mintAddress(rng), regime, launchMs, ...cols });
  }
  const calls: Call[] = [];
  for (let k = 0; k < o.calls; k++) {
    const [caller, skill] = CALLERS[weightedCaller(rng)];
    let regime = regimeFor(rng, skill);
    if (byRegime[regime].length === 0) regime = "fade";
    const pool = byRegime[regime].length > 0 ? byRegime[regime] : mints.map((_, i) => i);
    const i = rng.pick(pool);
    const minute = callTime(rng, plans[i], skill, callWindowMin);
    const alertTsMs = mints[i].launchMs + Math.floor(minute * MINUTE_MS) +
      Math.floor(rng.u() * 60) * 1000;
    calls.push({ callId: "", caller, mint: mints[i].mint, chain: "solana", alertTsMs });
  }
  calls.sort((a, b) => a.alertTsMs - b.alertTsMs || a.caller.localeCompare(b.caller));
  calls.forEach((c, k) => (c.callId = `call-${String(k + 1).padStart(5, "0")}`));
  return { calls, mints };
}

function weightedCaller(rng: Rng): number {
  // Busier callers first: weights 12, 11, ..., 1 shuffled by skill order.
  const total = (CALLERS.length * (CALLERS.length + 1)) / 2;
  let x = rng.u() * total;
  for (let i = 0; i < CALLERS.length; i++) {
    const w = ((i * 5) % CALLERS.length) + 1;
    if (x < w) return i;
    x -= w;
  }
  return CALLERS.length - 1;
}

/**
 * Options for {@linkcode writeSampleData}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeSampleData, type WriteSampleDataOptions } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // Candles as CSV instead of Parquet (the extension decides), under other names.
 *   const options: WriteSampleDataOptions = {
 *     calls: 3,
 *     mints: 1,
 *     callsFile: "my_calls.csv",
 *     candlesFile: "my_candles.csv",
 *   };
 *   const out = await writeSampleData(dir, options);
 *   assert.equal(out.callsPath, `${dir}/my_calls.csv`);
 *   const lines = (await Deno.readTextFile(out.candlesPath)).trimEnd().split("\n");
 *   assert.equal(lines.length, out.candles + 1); // a header, then a line per candle
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface WriteSampleDataOptions extends SampleDataOptions {
  /** Calls file name inside the directory. @default {"calls.csv"} */
  callsFile?: string;
  /** Candles file name inside the directory (`.parquet` or `.csv`). @default {"candles_1m.parquet"} */
  candlesFile?: string;
}

/**
 * Generate the sample set and write it to `dir`: calls as CSV (ISO alert
 * times), candles as Parquet (or CSV) with `ts` in epoch ms. Returns the
 * paths and row counts.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { writeSampleData } from "./sample_data.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const out = await writeSampleData(dir, { calls: 5, mints: 2, spanDays: 1 });
 *   assert(out.calls === 5 && out.candles > 0 && out.callsPath === `${dir}/calls.csv`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeSampleData(
  dir: string,
  options: WriteSampleDataOptions = {},
): Promise<{ callsPath: string; candlesPath: string; calls: number; candles: number }> {
  const data = generateSampleData(options);
  await Deno.mkdir(dir, { recursive: true });
  const callsPath = `${dir}/${options.callsFile ?? SAMPLE_CALLS_FILE}`;
  const candlesPath = `${dir}/${options.candlesFile ?? SAMPLE_CANDLES_FILE}`;
  const lines = ["call_id,caller,mint,chain,alert_ts"];
  for (const c of data.calls) {
    lines.push(
      `${c.callId},${c.caller},${c.mint},${c.chain},${new Date(c.alertTsMs).toISOString()}`,
    );
  }
  await Deno.writeTextFile(callsPath, lines.join("\n") + "\n");
  const candles = candlesPath.endsWith(".csv")
    ? await writeCandlesCsv(candlesPath, data.mints)
    : await writeCandlesParquet(candlesPath, data.mints);
  return { callsPath, candlesPath, calls: data.calls.length, candles };
}

function* candleRows(mints: readonly SampleMint[]) {
  const sorted = [...mints].sort((a, b) => (a.mint < b.mint ? -1 : a.mint > b.mint ? 1 : 0));
  for (const m of sorted) {
    for (let i = 0; i < m.ts.length; i++) {
      yield [m.mint, m.ts[i], m.open[i], m.high[i], m.low[i], m.close[i], m.volume[i]] as const;
    }
  }
}

async function writeCandlesParquet(path: string, mints: readonly SampleMint[]): Promise<number> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    return await writeParquet(conn, path, {
      columns: [
        { name: "mint", type: "VARCHAR" },
        { name: "ts", type: "BIGINT" },
        { name: "open", type: "DOUBLE" },
        { name: "high", type: "DOUBLE" },
        { name: "low", type: "DOUBLE" },
        { name: "close", type: "DOUBLE" },
        { name: "volume", type: "DOUBLE" },
      ],
      rows: candleRows(mints),
    });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function writeCandlesCsv(path: string, mints: readonly SampleMint[]): Promise<number> {
  const lines = ["mint,ts,open,high,low,close,volume"];
  for (const r of candleRows(mints)) lines.push(r.join(","));
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return lines.length - 1;
}

/** What `deno task sample-data --help` prints. */
const SAMPLE_DATA_USAGE = `Usage: deno task sample-data [DIR]

Writes the deterministic sample data set into DIR (default data/sample):
calls.csv and candles_1m.parquet, the same data every time.`;

if (import.meta.main) {
  const [arg, ...more] = Deno.args;
  if (arg === "--help" || arg === "-h") {
    console.log(SAMPLE_DATA_USAGE);
    Deno.exit(0);
  }
  // A flag is not a folder (a probe: `--help` wrote into a folder named --help).
  if (arg?.startsWith("-") || arg === "" || more.length > 0) {
    console.error(`sample-data: expected one folder, got ${JSON.stringify(Deno.args)}`);
    console.error(SAMPLE_DATA_USAGE);
    Deno.exit(2);
  }
  const dir = arg ?? "data/sample";
  const t0 = performance.now();
  let out: Awaited<ReturnType<typeof writeSampleData>>;
  try {
    out = await writeSampleData(dir);
  } catch (err) {
    // One line, as every command says a failure (a probe: a folder outside data/ under the
    // task, or a file where the folder goes, printed a stack trace).
    const message = err instanceof Error ? err.message : String(err);
    console.error(`sample-data: ${message.split("\n")[0]}`);
    Deno.exit(1);
  }
  const ms = Math.round(performance.now() - t0);
  console.log(
    `wrote ${out.calls} calls to ${out.callsPath} and ${out.candles} candles to ${out.candlesPath} in ${ms} ms`,
  );
}
