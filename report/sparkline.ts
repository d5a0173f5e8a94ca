/**
 * A sparkline of a run's equity curve for the terminal (`ledger show`):
 * one line of block characters (`▁▂▃▄▅▆▇█`), or plain ASCII (`_.-'"`) when the
 * terminal's locale does not say UTF-8.
 *
 * @module
 */
import { DuckDBInstance } from "../indexer/duckdb.ts";
import { literalGlob } from "../indexer/duckdb_glob.ts";
import { RUN_ID_PATTERN } from "../ledger/ids.ts";
import { EnvVariableError, readEnvVariable, runDir } from "../ledger/paths.ts";
import { missingMessage, tradesFileOf, unreadableMessage } from "./data.ts";
import { EQUITY_LINE_SQL } from "./_sql.ts";

/** Block characters from low to high. */
const BLOCKS = "▁▂▃▄▅▆▇█";
/** ASCII stand-ins from low to high. */
const ASCII_LEVELS = "_.-'\"";
/** Characters of a sparkline unless told otherwise. */
export const SPARKLINE_WIDTH_DEFAULT = 48;

/** Options for {@linkcode sparkline}. */
export interface SparklineOptions {
  /** Characters at most; longer series are averaged into buckets. @default {48} */
  width?: number;
  /** Block characters (true) or ASCII (false). @default {true} */
  unicode?: boolean;
}

/** Options for {@linkcode equitySparklineLine}. */
export interface EquityLineOptions extends SparklineOptions {
  /** The whole line fits in this many characters (the sparkline narrows). @default {undefined} */
  lineWidth?: number;
  /**
   * The run's type, which picks the file drawn ({@linkcode tradesFileOf}: a
   * sweep's best trial's per-call results).
   * @default {null}
   */
  runType?: string | null;
  /** A sweep's best trial id, said after the total (`, best trial t3`). @default {null} */
  bestTrial?: string | null;
  /**
   * The run recorded the file (an `artifact.created` of it): when it is not
   * there, the line says so, as the report does, instead of no line.
   * @default {false}
   */
  recorded?: boolean;
}

/**
 * Draw `values` as one line of characters, low to high.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sparkline } from "./sparkline.ts";
 * assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), "▁▂▃▄▅▆▇█");
 * assert.equal(sparkline([0, 4], { unicode: false }), '_"');
 * ```
 */
export function sparkline(values: readonly number[], options: SparklineOptions = {}): string {
  const levels = options.unicode === false ? ASCII_LEVELS : BLOCKS;
  const width = Math.max(1, options.width ?? SPARKLINE_WIDTH_DEFAULT);
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "";
  const points = bucket(finite, width);
  const min = Math.min(...points);
  const max = Math.max(...points);
  const span = max - min;
  return points.map((v) => {
    const i = span === 0 ? 0 : Math.round(((v - min) / span) * (levels.length - 1));
    return levels[i];
  }).join("");
}

/** Average `values` into at most `width` buckets of equal length. */
function bucket(values: number[], width: number): number[] {
  if (values.length <= width) return values;
  const out: number[] = [];
  for (let b = 0; b < width; b++) {
    const from = Math.floor((b * values.length) / width);
    const to = Math.floor(((b + 1) * values.length) / width);
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i];
    out.push(sum / (to - from));
  }
  return out;
}

/**
 * Whether the terminal takes UTF-8: the first of `LC_ALL`, `LC_CTYPE`,
 * `LANG` that is set decides (C/POSIX locales are ASCII, and so is one
 * whose value is not valid UTF-8, no locale's name). Variables this
 * process may not read (no prompt is ever shown) count as unset; with none
 * set, UTF-8 is assumed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { terminalTakesUnicode } from "./sparkline.ts";
 * assert.equal(typeof terminalTakesUnicode(), "boolean");
 * ```
 */
export function terminalTakesUnicode(): boolean {
  for (const variable of ["LC_ALL", "LC_CTYPE", "LANG"]) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") continue;
    let value: string | undefined;
    try {
      value = readEnvVariable(variable);
    } catch (err) {
      if (!(err instanceof EnvVariableError)) throw err;
      // Not valid UTF-8: no locale by that name, so the C library's own (ASCII), as a terminal
      // would take it; a picture is no reason to fail the command.
      return false;
    }
    if (value === undefined || value === "") continue;
    return /utf-?8/i.test(value);
  }
  return true;
}

/**
 * The `equity` line of `ledger show` for a policy run: the sparkline of the
 * cumulative return of its trades by exit time (ties in call order, calls
 * never entered left out: the curve of `max_drawdown_bps`, docs/METRICS.md)
 * and its final value, or null when the run has no `policy_results.parquet`
 * (for a sweep, given `runType`, its best trial's `best_trial_results.parquet`).
 * A file there that cannot be read gives a line saying so, naming it and
 * why, in place of the sparkline (as the report says it on the run's page).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import { runDir } from "../ledger/paths.ts";
 * import { POLICY_RESULTS_FILE } from "./data.ts";
 * import { equitySparklineLine } from "./sparkline.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   // A policy run's per-call results: returns of +10, -4 and +20 bps, in exit order, and a
 *   // call never entered (no trade, not drawn).
 *   const dir = runDir(root, "policy-1");
 *   await Deno.mkdir(dir, { recursive: true });
 *   const db = await DuckDBInstance.create(":memory:");
 *   const conn = await db.connect();
 *   await conn.run(`COPY (FROM (VALUES ('c1', 1000, 10, 'take_profit'),
 *     ('c2', 2000, -4, 'stop_loss'), ('c3', 3000, 20, 'end_of_data'), ('c4', 0, 0, 'no_entry'))
 *     t(call_id, exit_ts_ms, realized_return_bps, exit_reason))
 *     TO '${dir}/${POLICY_RESULTS_FILE}'`);
 *   conn.disconnectSync();
 *   db.closeSync();
 *   const line = await equitySparklineLine(root, "policy-1", { unicode: false });
 *   assert.equal(line, `equity     ._"  +26 bps over 3 calls`); // equity 10, 6, 26
 *   // Narrowed to fit a line width: 11 + 22 characters around it leave 2 here.
 *   const narrow = await equitySparklineLine(root, "policy-1", { unicode: false, lineWidth: 35 });
 *   assert.equal(narrow?.length, 35);
 *   assert.equal(await equitySparklineLine(root, "path-only-1"), null); // no per-call results
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function equitySparklineLine(
  root: string,
  runId: string,
  options: EquityLineOptions = {},
): Promise<string | null> {
  if (!RUN_ID_PATTERN.test(runId)) return null;
  const file = tradesFileOf(options.runType ?? null);
  const path = `${runDir(root, runId)}/${file}`;
  const label = "equity     ";
  try {
    if (!(await Deno.stat(path)).isFile) return null;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return options.recorded ? `${label}${missingMessage(file, path)}` : null;
    }
    if (!(err instanceof Error)) throw err;
    return `${label}${unreadableMessage(path, err)}`;
  }
  const instance = await DuckDBInstance.create(":memory:");
  try {
    const conn = await instance.connect();
    try {
      const equity: number[] = [];
      let leftOut = 0;
      try {
        const reader = await conn.runAndReadAll(EQUITY_LINE_SQL, [literalGlob(path)]);
        for (const [sum, finite] of reader.getRowsJS()) {
          if (finite === true) equity.push(Number(sum));
          else leftOut++;
        }
      } catch (err) {
        // An unreadable file is said on its line, as the report says it (not a failed show).
        if (!(err instanceof Error)) throw err;
        return `${label}${unreadableMessage(path, err)}`;
      }
      const notFinite = leftOut === 0
        ? ""
        : ` (${leftOut} trade${leftOut === 1 ? "" : "s"} without a finite return left out)`;
      if (equity.length === 0) return leftOut === 0 ? null : `${label}no line:${notFinite}`;
      // To 0.01 bps, as the report draws the curve (whole bps said +1 for +0.7).
      const last = Math.round(equity[equity.length - 1] * 100) / 100;
      const after = `  ${last >= 0 ? "+" : ""}${last} bps over ${equity.length} call${
        equity.length === 1 ? "" : "s"
      }${options.bestTrial == null ? "" : `, best trial ${options.bestTrial}`}${notFinite}`;
      const room = options.lineWidth === undefined
        ? undefined
        : Math.max(1, options.lineWidth - label.length - after.length);
      const width = Math.min(options.width ?? SPARKLINE_WIDTH_DEFAULT, room ?? Infinity);
      const line = sparkline(equity, { unicode: terminalTakesUnicode(), ...options, width });
      return `${label}${line}${after}`;
    } finally {
      conn.disconnectSync();
    }
  } finally {
    instance.closeSync();
  }
}
