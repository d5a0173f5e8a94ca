/**
 * `ledger compare RUN RUN [RUN...] [--json]`: runs side by side (SPEC 11):
 * one column per run, the config paths that differ, every summary metric
 * with its delta to the first run, phase durations, same data or not, git
 * commit and dirty flag, and per-caller results where the runs have them.
 *
 * @module
 */
import type { DuckDBConnection } from "../indexer/duckdb.ts";
import {
  allRows,
  assertNamedOnce,
  compareRuns,
  type Comparison,
  isExactInteger,
  resolveRunIds,
  withReader,
} from "../indexer/query/mod.ts";
import {
  EXIT_OK,
  type FlagSpec,
  parseFlags,
  requireExistingRoot,
  resolveRootFlag,
  UsageError,
} from "./_args.ts";
import { DEFAULT_LEGACY_DB_PATH } from "../legacy/read.ts";
import {
  asUsage,
  indexDbPath,
  legacyDbFlagPath,
  resolveBesideLegacy,
  warnIfIndexMayLackRuns,
} from "./_query.ts";
import { cellText, escapeControl, formatTable } from "./_table.ts";
import { distinctCells } from "../ledger/control_text.ts";
import { type DataComparison, dataComparison } from "../ledger/fingerprint.ts";
import { jsonText } from "../indexer/query/_json.ts";
import { formatDuration } from "./runs.ts";

export const FLAGS: FlagSpec = {
  "json": { type: "boolean" },
  "wide": { type: "boolean" },
  "db": { type: "string" },
  "legacy-db": { type: "string" },
};

const USAGE = `Usage: ledger compare RUN RUN [RUN...] [--json] [--wide] [--db PATH]
                      [--legacy-db PATH] [--root DIR]

Compare runs side by side, one column per run (a unique id prefix is
enough): whether they saw the same data, git commit and dirty flag, the
config paths whose values differ, every summary metric with its delta to
the first run, phase durations, and per-caller results (a policy run's
caller_summary.parquet, a sweep's best trial's, shown there and not in the
table's summary). --json prints
{runs, same_data, config, summary, phases, callers, git}. Paths are named
as ledger export names columns (a "." inside a key is "\\."); a run with an
object where another has a value shows that object; null means absent.
In dual mode a prefix must also be unique among the legacy DuckDB's runs
(--legacy-db PATH, else ${DEFAULT_LEGACY_DB_PATH} when there).

Exit codes: 0 ok, 1 unknown run or no index, 2 usage error (ambiguous prefix,
a run named twice).`;

/**
 * Run `ledger compare` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./compare.ts";
 * // The command line is `await main(args)`, e.g. main(["run-a", "run-b", "--json"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger compare RUN RUN [RUN...] [--json] [--wide] [--db PATH]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (positionals.some((id) => id === "")) throw new UsageError("RUN must not be empty");
  if (positionals.length < 2) {
    throw new UsageError(`expected at least two runs to compare, got ${positionals.length}`);
  }
  const root = resolveRootFlag(values);
  await requireExistingRoot(root);
  const dbPath = indexDbPath(values);
  const legacyDbPath = await legacyDbFlagPath(values);
  const comparison = await asUsage(() =>
    withReader(dbPath, async (conn) => {
      const resolve = (given: readonly string[]) => resolveRunIds(conn, given);
      const ids = await resolveBesideLegacy(positionals, resolve, "compare", legacyDbPath);
      assertNamedOnce(ids);
      const onWarning = (m: string) => console.error(`ledger compare: warning: ${m}`);
      const c = await compareRuns(conn, ids, { root, onWarning });
      // The table shows each run's label (SPEC 11); --json keeps SPEC 11's keys exactly.
      const facts = values.json ? undefined : await tableFacts(conn, ids);
      return { c, facts };
    })
  );
  console.log(
    values.json ? jsonText(comparison.c, 2) : formatComparison(comparison.c, {
      wide: values.wide === true,
      labels: comparison.facts?.labels,
      data: comparison.facts?.data,
    }),
  );
  await warnIfIndexMayLackRuns("compare", dbPath);
  return EXIT_OK;
}

/** The flat path prefix of a sweep's best trial's per-caller results in its summary. */
const BEST_TRIAL_CALLERS = "best_trial.by_caller.";

/** Options for {@linkcode formatComparison}. */
export interface FormatComparisonOptions {
  /** Do not truncate cells. @default {false} */
  wide?: boolean;
  /** Width to fit. @default {terminal width; off a terminal COLUMNS, else 80} */
  width?: number;
  /** Each run's label (tag `label`): a `label` row when any run has one. @default {{}} */
  labels?: Readonly<Record<string, string | null>>;
  /**
   * What the runs' data fingerprints say, for the `same data` row: `unknown`
   * when a run has none (a probe: `no` read as "the data differed").
   * @default {`same` or `different`, from `same_data`}
   */
  data?: DataComparison;
}

/**
 * The `label` tag of each of `runIds` that has one, and what their data
 * fingerprints say ({@linkcode dataComparison}): the table's `label` and
 * `same data` rows.
 */
async function tableFacts(
  conn: DuckDBConnection,
  runIds: readonly string[],
): Promise<{ labels: Record<string, string | null>; data: DataComparison }> {
  const placeholders = runIds.map(() => "?").join(", ");
  const rows = await allRows(
    conn,
    `SELECT run_id, label, data_fingerprint FROM latest_runs WHERE run_id IN (${placeholders})`,
    [...runIds],
  );
  const fingerprints = new Map(rows.map((r) => [String(r.run_id), r.data_fingerprint]));
  return {
    labels: Object.fromEntries(rows.map((r) => [String(r.run_id), r.label as string | null])),
    data: dataComparison(runIds.map((id) => fingerprints.get(id))),
  };
}

/**
 * The comparison as a table: one row per item, one column per run; numbers
 * after the first run carry their delta (`0.6 (+0.1)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatComparison } from "./compare.ts";
 * // `comparison` is what compareRuns returns (the shape of `ledger compare --json`).
 * const comparison = {
 *   runs: ["a1", "b2"],
 *   same_data: true,
 *   config: { "policy.stopPct": { a1: 0.2, b2: 0.3 } },
 *   summary: { win_rate: { a1: 0.5, b2: 0.6 } },
 *   phases: { execute: { a1: 1200, b2: 900 } },
 *   callers: {},
 *   git: { a1: { commit: "0123456789abcdef", dirty: false }, b2: { commit: null, dirty: null } },
 * };
 * assert.equal(
 *   formatComparison(comparison, { width: 80 }),
 *   [
 *     "                     a1            b2",
 *     "[data]",
 *     "same data            yes",
 *     "git commit           0123456789ab  -",
 *     "git dirty            false         -",
 *     "[config (1 differ)]",
 *     "policy.stopPct       0.2           0.3",
 *     "[summary]",
 *     "win_rate             0.5           0.6 (+0.1)",
 *     "[phases]",
 *     "execute              1.2 s         900 ms (-300 ms)",
 *   ].join("\n"),
 * );
 * // Values that would look the same shortened, or as text and number, are written in full.
 * const close = { ...comparison, config: { fee: { a1: 0.12345, b2: 0.12346 }, x: { a1: 3, b2: "3" } } };
 * const lines = formatComparison(close, { width: 80 }).split("\n");
 * assert.ok(lines.includes("fee                  0.12345       0.12346"));
 * assert.ok(lines.includes('x                    3             "3"'));
 * // A newline and the two characters `\n` print alike once escaped: quoted, as JSON.
 * const escaped = { ...comparison, config: { note: { a1: "a\nb", b2: "a\\nb" } } };
 * assert.ok(formatComparison(escaped, { width: 80 }).includes('note                 "a\\nb"        "a\\\\nb"'));
 * // A section with nothing in it says so.
 * assert.ok(formatComparison({ ...comparison, phases: {} }, { width: 80 }).includes("[phases: none]"));
 * ```
 */
export function formatComparison(c: Comparison, options: FormatComparisonOptions = {}): string {
  const header = ["", ...c.runs];
  const rows: string[][] = [];
  const section = (title: string) => rows.push([`[${title}]`, ...c.runs.map(() => "")]);
  section("data");
  const labels = options.labels ?? {};
  if (c.runs.some((id) => (labels[id] ?? "") !== "")) {
    rows.push(["label", ...c.runs.map((id) => labels[id] ?? "-")]);
  }
  // One answer for all the runs, said once (it was repeated under each run).
  const data = options.data ?? (c.same_data ? "same" : "different");
  const sameData = data === "same"
    ? "yes"
    : data === "different"
    ? "no"
    : "unknown (a run has no data fingerprint)";
  rows.push(["same data", sameData, ...c.runs.slice(1).map(() => "")]);
  rows.push(["git commit", ...c.runs.map((id) => c.git[id].commit?.slice(0, 12) ?? "-")]);
  rows.push(["git dirty", ...c.runs.map((id) => cellText(c.git[id].dirty))]);
  section(`config (${Object.keys(c.config).length} differ)`);
  for (const [path, values] of Object.entries(c.config)) {
    rows.push([path, ...rowCells(c.runs.map((id) => values[id]))]);
  }
  // An empty section says so (a docs walk: a bare `[phases]` header over nothing).
  const titled = (title: string, entries: object) =>
    Object.keys(entries).length === 0 ? `${title}: none` : title;
  section(titled("summary", c.summary));
  // A sweep's per-caller results are its best trial's, in [callers] below: the summary's copy
  // of them was about 8 rows a caller (a probe, 100 rows for 12 callers), said once instead.
  const callersBelow = Object.keys(c.callers).length > 0;
  const inCallers = new Set<string>();
  for (const [path, values] of Object.entries(c.summary)) {
    if (callersBelow && path.startsWith(BEST_TRIAL_CALLERS)) {
      for (const id of c.runs) {
        if (values[id] !== null && values[id] !== undefined) inCallers.add(id);
      }
      continue;
    }
    // Text that prints alike is quoted, as in the config rows (a review: summary strings); the
    // values are told apart without their deltas, which stay (helper-296: `2 (+1)` beside the
    // string "2" was not alike, and a row told apart lost every delta).
    const cells = rowCells(c.runs.map((id) => values[id]));
    rows.push([path, ...cells.map((cell, i) => cell + deltaText(values, c, i))]);
  }
  if (inCallers.size > 0) {
    rows.push([
      BEST_TRIAL_CALLERS.slice(0, -1),
      ...c.runs.map((id) => inCallers.has(id) ? "[callers]" : "-"),
    ]);
  }
  section(titled("phases", c.phases));
  const phaseLabels = distinctLabels(Object.keys(c.phases));
  for (const [k, [, values]] of Object.entries(c.phases).entries()) {
    rows.push([
      phaseLabels[k],
      ...c.runs.map((id, i) => {
        const ms = values[id];
        const base = values[c.runs[0]];
        const d = i > 0 && ms !== null && base !== null ? ` (${signed(ms - base)} ms)` : "";
        return formatDuration(ms) + d;
      }),
    ]);
  }
  if (Object.keys(c.callers).length > 0) {
    section("callers");
    const callerLabels = distinctLabels(Object.keys(c.callers));
    for (const [k, [, perRun]] of Object.entries(c.callers).entries()) {
      const metrics = [...new Set(c.runs.flatMap((id) => Object.keys(perRun[id] ?? {})))];
      for (const m of metrics) {
        const values = Object.fromEntries(c.runs.map((id) => [id, perRun[id]?.[m] ?? null]));
        rows.push([
          `${callerLabels[k]} ${m}`,
          ...c.runs.map((id, i) => cellText(values[id]) + deltaText(values, c, i)),
        ]);
      }
    }
  }
  return formatTable(header, rows, {
    wide: options.wide,
    width: options.width,
    widthsMin: [16, ...c.runs.map(() => 10)],
  });
}

/**
 * A cell as the table shows it: control characters escaped, and the spaces
 * at either end gone into the padding (a review: "x" and "x " looked alike).
 */
function inTable(cell: string): string {
  return escapeControl(cell).trim();
}

/**
 * The cells of a row whose values differ: shortened as the table shortens
 * numbers (4 significant digits) unless that makes two different values
 * look the same ({@linkcode distinctCells}: `0.12345` and `0.12346`, `0.3`
 * and `"0.3"`, a newline and the two characters `\n`); then every value is
 * written as JSON ({@linkcode formatComparison}'s example).
 */
function rowCells(values: readonly unknown[], cells = values.map(cellText)): string[] {
  return distinctCells(values, cells, inTable);
}

/**
 * Row labels of one section (phase names, callers), as they are unless the
 * table would print two alike: then every one of them as JSON, quoted (a
 * review: quoting only the two let the first look like a phase named
 * `"p\nq"`, quotes and all).
 */
function distinctLabels(labels: readonly string[]): string[] {
  return distinctCells(labels, labels, inTable);
}

/**
 * The delta of run `i`'s value to the first run's, as the table writes it
 * after the cell (` (+1)`), or nothing (the first run, a value that is no
 * number).
 */
function deltaText(values: Record<string, unknown>, c: Comparison, i: number): string {
  if (i === 0) return "";
  const v = values[c.runs[i]];
  const base = values[c.runs[0]];
  // Integers past 2^53 (a seed) differ exactly: a double difference would be 0 or off.
  const exact = exactBigInt(v);
  const exactBase = exactBigInt(base);
  if (exact !== undefined && exactBase !== undefined) {
    if (!isExactInteger(v) && !isExactInteger(base)) {
      return ` (${signed(Number(exact - exactBase))})`;
    }
    const d = exact - exactBase;
    return ` (${d > 0n ? `+${d}` : String(d)})`;
  }
  // One of them past 2^53, the other with a fraction (helper-296: no delta): the difference of
  // the two as doubles, which holds its first 15 digits.
  const big = isExactInteger(v) ? Number(v.rawJSON) : v;
  const bigBase = isExactInteger(base) ? Number(base.rawJSON) : base;
  if (typeof big !== "number" || typeof bigBase !== "number") return "";
  if (big !== v || bigBase !== base) return ` (${roughDifference(big - bigBase)})`;
  const d = big - bigBase;
  // Past a double's range (1e308 and -1e308, a probe: "(-Infinity)"): both are integers
  // there, and their difference is exact as a bigint.
  if (!Number.isFinite(d) && Number.isFinite(big) && Number.isFinite(bigBase)) {
    return ` (${bigDifference(BigInt(big) - BigInt(bigBase))})`;
  }
  return ` (${signed(d)})`;
}

/**
 * A difference of a double and an integer past 2^53, as the table writes a
 * number past a double's range ({@linkcode bigDifference}): its first 15
 * significant digits in exponent form, which no one reads as exact.
 */
function roughDifference(d: number): string {
  const [mantissa, exponent] = Math.abs(d).toExponential(14).split("e");
  const trimmed = mantissa.replace(/\.?0+$/, "");
  return `${d < 0 ? "-" : "+"}${trimmed}e${exponent}`;
}

/**
 * A difference past a double's range as the table writes a number: its
 * first 15 significant digits, rounded, no trailing zeros (`-2.4e+308`; no
 * double is exactly it, so 17 digits would only show the doubles' error).
 */
function bigDifference(d: bigint): string {
  const digits = (d < 0n ? -d : d).toString();
  const kept = digits.slice(0, 15);
  let rounded = (BigInt(kept) + (Number(digits[15] ?? "0") >= 5 ? 1n : 0n)).toString();
  let exponent = digits.length - 1;
  if (rounded.length > kept.length) { // 999... rounded up to 1000...
    rounded = rounded.slice(0, kept.length);
    exponent++;
  }
  const fraction = rounded.slice(1).replace(/0+$/, "");
  const mantissa = fraction === "" ? rounded[0] : `${rounded[0]}.${fraction}`;
  return `${d < 0n ? "-" : "+"}${mantissa}e+${exponent}`;
}

/** An integer as a bigint: a safe integer number, or one kept exact past 2^53; else undefined. */
function exactBigInt(v: unknown): bigint | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  return isExactInteger(v) ? BigInt(v.rawJSON) : undefined;
}

/**
 * A difference as the table writes numbers ({@linkcode cellText}): 4 significant digits, never
 * in the integer part (a probe: `toPrecision(4)` first made +54495 "+54500" and -21633562.5
 * "-21630000", which read as exact).
 */
function signed(n: number): string {
  const text = cellText(n);
  return n > 0 ? `+${text}` : text;
}
