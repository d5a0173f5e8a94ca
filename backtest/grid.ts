/**
 * Policy grids for sweeps: a grid is a policy (any type, `combo` and
 * `ladder` levels included) whose numeric fields may be lists of numbers;
 * every list is an axis and the grid stands for every combination of one
 * value per axis. Pure: no I/O.
 *
 * - A list of numbers is an axis (`"stopPct": [0.2, 0.3]`); a list of objects
 *   is structure (`levels`, `policies`), walked into. An empty list, a list
 *   mixing numbers with anything else, a list of other values (`"type":
 *   ["fixed_stop", "time_stop"]`: one sweep per type) and an axis naming a
 *   value twice are refused, and so are two combinations that are one policy
 *   as the executor runs it ({@linkcode canonicalPolicy}: ladder levels
 *   swapped, like sub-policies of a combo swapped): each would be one trial
 *   run twice under two ids.
 * - Axes are named by their path in the concrete policy (a combo nested in a
 *   combo flattened into it, `kind` read as `type`), the `params.<path>`
 *   columns of `trials.parquet`.
 * - Combinations are in grid order: the axes in the order they appear in the
 *   JSON, the last one varying fastest. Trial ids are `t` and the 0-based
 *   combination number, zero-padded (`t000`, `t001`, ...).
 * - The count is checked against the limit before anything is expanded, and
 *   every combination is validated as a policy before any work starts.
 *
 * @module
 */
import { TOUCH_SLACK } from "./_touch.ts";
import { PolicyError } from "./errors.ts";
import { describeJsonError, repeatedKeyPath } from "../ledger/json_syntax.ts";
import { canonicalPolicy, normalizePolicy, parsePolicy, type Policy } from "./policies.ts";
import { renamedOption } from "../ledger/renamed_option.ts";

/**
 * Most combinations a grid may expand to unless told otherwise (`--max-trials`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { expandGrid, GRID_TRIALS_MAX_DEFAULT, GridError } from "./grid.ts";
 * assert.equal(GRID_TRIALS_MAX_DEFAULT, 10_000); // combinations (trials)
 * // 101 x 100 = 10_100 combinations: refused by count, before any is expanded.
 * const stopPct = Array.from({ length: 101 }, (_, i) => (i + 1) / 200);
 * const takeProfitPct = Array.from({ length: 100 }, (_, i) => i + 1);
 * assert.throws(
 *   () => expandGrid({ type: "fixed_stop", stopPct, takeProfitPct }),
 *   (err) => err instanceof GridError && /more than the limit of 10000/.test(err.message),
 * );
 * ```
 */
export const GRID_TRIALS_MAX_DEFAULT = 10_000;
/** Fewest digits of a trial id's number. */
const TRIAL_ID_DIGITS_MIN = 3;

/**
 * A grid cannot be run: not JSON, an empty or mixed list, too many
 * combinations, or a combination that is not a valid policy. `field` is the
 * dotted path of the bad field when there is one; `combination` the axis
 * values of the bad combination.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { GridError } from "./grid.ts";
 * const err = new GridError("Grid has 20000 combinations", {});
 * assert.equal(err.name, "GridError");
 * assert.strictEqual(err.field, null);
 * ```
 */
export class GridError extends Error {
  /** Dotted path of the bad field, or null. */
  readonly field: string | null;
  /** Axis values of the bad combination, or null. */
  readonly combination: Record<string, number> | null;
  /** Create the error with its message and context. */
  constructor(
    message: string,
    context: { field?: string; combination?: Record<string, number> },
  ) {
    super(message);
    this.name = "GridError";
    this.field = context.field ?? null;
    this.combination = context.combination ?? null;
  }
}

/**
 * One axis of a grid: a dotted path and its values.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type GridAxis, gridAxes } from "./grid.ts";
 * // A ladder whose first level's multiple varies: the axis is named by its dotted path.
 * const grid = {
 *   type: "ladder",
 *   levels: [{ multiple: [2, 3], fraction: 0.5 }, { multiple: 5, fraction: 0.5 }],
 * };
 * const axes: GridAxis[] = gridAxes(grid).axes;
 * assert.deepEqual(axes, [{ path: "levels.0.multiple", values: [2, 3] }]);
 * ```
 */
export interface GridAxis {
  /**
   * Dotted path of the field in the concrete policy, the `params.<path>` column of
   * `trials.parquet` (`stopPct`, `levels.0.multiple`, `policies.1.trailPct`; a combo nested in a
   * combo is flattened into it, as policies are).
   */
  path: string;
  /** The values, in the given order. */
  values: readonly number[];
}

/**
 * One combination of a grid: a concrete, validated policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { expandGrid, type GridTrial } from "./grid.ts";
 * const trials: GridTrial[] = expandGrid({
 *   type: "fixed_stop",
 *   stopPct: [0.2, 0.3],
 *   takeProfitPct: [1, 2],
 * });
 * // The last axis varies fastest.
 * assert.deepEqual(trials.map((t) => [t.trialId, t.values.stopPct, t.values.takeProfitPct]), [
 *   ["t000", 0.2, 1],
 *   ["t001", 0.2, 2],
 *   ["t002", 0.3, 1],
 *   ["t003", 0.3, 2],
 * ]);
 * assert.deepEqual(trials[3].policy, { type: "fixed_stop", stopPct: 0.3, takeProfitPct: 2 });
 * ```
 */
export interface GridTrial {
  /** `t000`, `t001`, ... in grid order. */
  trialId: string;
  /** The concrete policy. */
  policy: Policy;
  /** The axis values of this combination, by path. */
  values: Record<string, number>;
}

/**
 * Options for {@linkcode expandGrid}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { expandGrid, type ExpandGridOptions } from "./grid.ts";
 * const grid = { type: "fixed_stop", stopPct: [0.1, 0.2, 0.3] }; // 3 combinations
 * const tight: ExpandGridOptions = { maxTrials: 2 };
 * assert.throws(() => expandGrid(grid, tight), /Grid has 3 combinations/);
 * assert.equal(expandGrid(grid, { maxTrials: 3 }).length, 3);
 * ```
 */
export interface ExpandGridOptions {
  /** Most combinations accepted. @default {GRID_TRIALS_MAX_DEFAULT} (10,000) */
  trialsMax?: number;
  /**
   * The name of `trialsMax` before 0.3.0; limits are named noun-first.
   * Giving both with different values is a `RangeError`.
   * @deprecated Use `trialsMax`.
   */
  maxTrials?: number;
}

/**
 * The combination limit of `options`: `trialsMax`, or its former name
 * `maxTrials`; undefined when neither is given. Throws `RangeError` when
 * both are given and differ (which one was meant cannot be known), or when
 * it is not an integer >= 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { trialsMaxOf } from "./grid.ts";
 * assert.equal(trialsMaxOf({ trialsMax: 50 }), 50);
 * assert.equal(trialsMaxOf({ maxTrials: 50 }), 50); // the name before 0.3.0
 * assert.equal(trialsMaxOf({}), undefined);
 * assert.throws(() => trialsMaxOf({ trialsMax: 50, maxTrials: 60 }), RangeError);
 * ```
 */
export function trialsMaxOf(
  options: { trialsMax?: number; maxTrials?: number },
): number | undefined {
  const trialsMax = renamedOption(options.trialsMax, options.maxTrials, "trialsMax", "maxTrials");
  // NaN or Infinity would switch the limit off.
  if (trialsMax !== undefined && !(Number.isSafeInteger(trialsMax) && trialsMax >= 1)) {
    throw new RangeError(`trialsMax must be an integer >= 1, got ${trialsMax}`);
  }
  return trialsMax;
}

/**
 * Parse a grid (object or JSON text) and return its axes and count without
 * expanding it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { gridAxes } from "./grid.ts";
 * const g = gridAxes('{"type":"fixed_stop","stopPct":[0.2,0.3],"takeProfitPct":[1,2,3]}');
 * assert.equal(g.count, 6);
 * assert.equal(g.axes[1].path, "takeProfitPct");
 * ```
 */
export function gridAxes(
  input: unknown,
): { template: Record<string, unknown>; axes: GridAxis[]; count: number } {
  const { template, axes, count } = readGrid(input);
  return { template, axes, count };
}

/** A parsed grid: as given, and in the shape of the policies it expands to. */
interface ReadGrid {
  /** The grid as given (what a sweep's config records). */
  template: Record<string, unknown>;
  /** `kind` as `type`, nested combos flattened: the shape its trials' params have. */
  shaped: unknown;
  /** The axes, named by their path in `shaped`. */
  axes: GridAxis[];
  /** Combinations. */
  count: number;
}

function readGrid(input: unknown): ReadGrid {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new GridError(`Grid is not valid JSON (${describeJsonError(input, err)})`, {});
    }
    const repeated = repeatedKeyPath(input);
    if (repeated !== undefined) {
      throw new GridError(`Grid gives ${repeated} twice: keep one`, { field: repeated });
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new GridError("Grid must be a JSON object: a policy whose numbers may be lists", {});
  }
  // Lists are checked as written, so a refused one is named as the grid names it (`kind`).
  collectAxes(value, "", []);
  let shaped: unknown;
  try {
    shaped = normalizePolicy(value);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const reason = err.message.replace(/^Invalid policy: /, "");
    throw new GridError(`Grid is not a valid policy: ${reason}`, { field: err.field });
  }
  // Axes are named where the trials' params have them (`params.<path>` in trials.parquet): a
  // combo nested in a combo is flattened, so its stop is `policies.0.stopPct`, not
  // `policies.0.policies.0.stopPct` (a probe: summary.axes named no column).
  const axes: GridAxis[] = [];
  collectAxes(shaped, "", axes);
  const count = axes.reduce((n, a) => n * a.values.length, 1);
  return { template: value as Record<string, unknown>, shaped, axes, count };
}

/**
 * Deepest nesting of lists and objects a grid may have (the grid object is
 * level 1). A policy needs about 20 (combos 8 deep, ladder levels); a grid
 * nested thousands deep overflowed the stack here (a probe: exit 1 and
 * `Maximum call stack size exceeded`, not a usage error).
 */
const GRID_DEPTH_MAX = 32;

function collectAxes(value: unknown, path: string, axes: GridAxis[], depth = 1): void {
  if (value === null || typeof value !== "object") return;
  const field = path === "" ? "grid" : path;
  if (depth > GRID_DEPTH_MAX) {
    throw new GridError(
      `Grid nests lists and objects deeper than ${GRID_DEPTH_MAX} levels at ${field.slice(0, 80)}`,
      { field },
    );
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new GridError(`Grid field ${field} is an empty list`, { field });
    if (value.some((v) => Array.isArray(v))) {
      // No policy field is a list of lists: its items would become axes named `stopPct.0`.
      throw new GridError(
        `Grid field ${field} is a list holding a list: an axis is one list of numbers`,
        { field },
      );
    }
    const numbers = value.filter((v) => typeof v === "number").length;
    if (numbers === value.length) {
      const infinite = value.find((v) => !Number.isFinite(v));
      if (infinite !== undefined) {
        // JSON.parse reads 1e400 as Infinity, which the policy check then named as null.
        throw new GridError(
          `Grid field ${field} lists a number too large for a double (read as ${infinite})`,
          { field },
        );
      }
      const twice = value.find((v, i) => value.indexOf(v) !== i);
      if (twice !== undefined) {
        // Two equal values would run the same trial twice under two ids.
        throw new GridError(`Grid field ${field} lists ${twice} twice`, { field });
      }
      const side = levelSide(field);
      const near = nearlyEqualPair(value as number[], side);
      if (near !== undefined) {
        // The executor reads a level within TOUCH_SLACK as reached: 0.3 and 0.30000000000000004
        // (0.1 + 0.2) ran the same trades twice under two ids (a probe).
        throw new GridError(
          `Grid field ${field} lists ${near[0]} and ${near[1]}, one value but for rounding ` +
            `(${side === 0 ? "" : `their levels, 1 ${side < 0 ? "-" : "+"} value, `}within a ` +
            `relative ${TOUCH_SLACK}, which the backtest reads as equal): keep one`,
          { field },
        );
      }
      axes.push({ path: field, values: value as number[] });
      return;
    }
    if (numbers > 0) {
      throw new GridError(`Grid field ${field} mixes numbers with other values`, { field });
    }
    const objects = value.filter((v) => v !== null && typeof v === "object").length;
    if (objects !== value.length) {
      throw new GridError(
        `Grid field ${field} is a list of ${JSON.stringify(value).slice(0, 80)}: only numbers ` +
          `vary in a grid (run one sweep per policy type or other value)`,
        { field },
      );
    }
    value.forEach((v, i) => collectAxes(v, join(path, String(i)), axes, depth + 1));
    return;
  }
  for (const [key, v] of Object.entries(value)) collectAxes(v, join(path, key), axes, depth + 1);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Digits of a refused grid's count said whole; a longer one is said as about 1.23e45. */
const COUNT_DIGITS_SHOWN_MAX = 21;
/** Lists a refused grid's message names before "N more lists". */
const AXES_SHOWN_MAX = 8;

/**
 * Expand a grid into its combinations, each validated as a policy. Throws
 * {@linkcode GridError} naming the count when there are more than
 * `trialsMax`, or naming the field and the combination of the first
 * invalid one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { expandGrid } from "./grid.ts";
 * const trials = expandGrid({ type: "fixed_stop", stopPct: [0.2, 0.3], takeProfitPct: 1 });
 * assert.equal(trials.length, 2);
 * assert.equal(trials[1].trialId, "t001");
 * assert.equal(trials[1].policy.type, "fixed_stop");
 * assert.equal(trials[1].values.stopPct, 0.3);
 * assert.throws(() => expandGrid({ type: "fixed_stop", stopPct: [0.2, 7] }), /stopPct/);
 * ```
 */
export function expandGrid(input: unknown, options: ExpandGridOptions = {}): GridTrial[] {
  const trialsMax = trialsMaxOf(options) ?? GRID_TRIALS_MAX_DEFAULT;
  const { shaped, axes, count } = readGrid(input);
  if (count > trialsMax) {
    // Counted exactly: past 2^53 a double is off by one, and a huge grid's count is Infinity.
    const exact = String(axes.reduce((n, a) => n * BigInt(a.values.length), 1n));
    const said = exact.length <= COUNT_DIGITS_SHOWN_MAX
      ? exact
      : `about ${exact[0]}.${exact.slice(1, 3)}e${exact.length - 1}`;
    const shown = axes.slice(0, AXES_SHOWN_MAX).map((a) => `${a.path}: ${a.values.length}`);
    if (axes.length > AXES_SHOWN_MAX) shown.push(`${axes.length - AXES_SHOWN_MAX} more lists`);
    throw new GridError(
      `Grid has ${said} combinations (${shown.join(" x ")}), more than the limit of ` +
        `${trialsMax} (--max-trials)`,
      {},
    );
  }
  const digits = Math.max(TRIAL_ID_DIGITS_MIN, String(count - 1).length);
  const trials: GridTrial[] = [];
  // Trial index by canonical policy: two combinations the executor runs alike would be one
  // trial twice under two ids (a probe: ladder levels (1.5, 2) and (2, 1.5)).
  const seen = new Map<string, number>();
  for (let k = 0; k < count; k++) {
    const values: Record<string, number> = {};
    let rest = k;
    for (let a = axes.length - 1; a >= 0; a--) {
      const axis = axes[a];
      values[axis.path] = axis.values[rest % axis.values.length];
      rest = Math.floor(rest / axis.values.length);
    }
    const ordered = Object.fromEntries(axes.map((a) => [a.path, values[a.path]]));
    const concrete = substitute(shaped, "", ordered);
    let policy: Policy;
    try {
      policy = parsePolicy(concrete);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      const reason = err.message.replace(/^Invalid policy: /, "");
      // A field no list touches (a wrong type, a misspelt kind) fails every combination: the
      // grid is named, not combination 1 by its lists' values, which left out the field at
      // fault (a probe: `combination 1 of 1 {"stopPct":0.2} ...: type must be one of ...`).
      if (axes.length > 0 && !axes.some((a) => pathsMeet(a.path, err.field))) {
        throw new GridError(`Grid is not a valid policy, whatever its lists hold: ${reason}`, {
          field: err.field,
        });
      }
      const shown = axes.length === 0 ? JSON.stringify(concrete) : JSON.stringify(ordered);
      throw new GridError(
        `Grid combination ${k + 1} of ${count} ${shown} is not a valid policy: ${reason}`,
        { field: err.field, combination: ordered },
      );
    }
    const trial = { trialId: `t${String(k).padStart(digits, "0")}`, policy, values: ordered };
    // Numbers to 12 significant digits: two combinations equal but for rounding (ladder levels
    // (2, 3) and (3.0000000000000004, 2.0000000000000004)) are one policy to the backtest, as two
    // values of one list are (`nearlyEqualPair`; a probe ran both).
    const key = JSON.stringify(canonicalPolicy(policy), roundedForKey);
    const same = seen.get(key);
    if (same !== undefined) throw samePolicyError(trials[same], trial);
    seen.set(key, trials.length);
    trials.push(trial);
  }
  return trials;
}

/**
 * Whether a list at `path` (`levels.0.multiple`) and a field a policy error
 * names (`levels`, `levels.0.multiple`, `type`) are the same or one holds
 * the other. `policy` (the whole policy: a rule across fields, an unknown
 * field) may depend on any list: assumed to meet.
 */
function pathsMeet(path: string, field: string): boolean {
  if (field === "policy") return true;
  return path === field || path.startsWith(`${field}.`) || field.startsWith(`${path}.`);
}

/**
 * The fields whose level is a price times `1 + side · value`: a stop below
 * it (-1), a take-profit or trailing activation above it (+1). The
 * backtest compares that level, so two of their values are one when their
 * `1 + side · value` are (helper-294: stops of 0.999999999999 and
 * 0.9999999999995, levels 2x apart, were refused as one value; stops of
 * 1e-15 and 2e-15, one level, were two trials).
 */
const LEVEL_SIDES: ReadonlyMap<string, -1 | 1> = new Map([
  ["stopPct", -1],
  ["trailPct", -1],
  ["hardStopPct", -1],
  ["takeProfitPct", 1],
  ["activationPct", 1],
]);

/** The {@linkcode LEVEL_SIDES} side of the grid field at `path` (`policies.1.stopPct`), or 0. */
function levelSide(path: string): -1 | 0 | 1 {
  return LEVEL_SIDES.get(path.slice(path.lastIndexOf(".") + 1)) ?? 0;
}

/**
 * Two values of `values`, not both integers, within a relative
 * {@linkcode TOUCH_SLACK} of each other (sorted, so neighbours), or
 * undefined; with a `side`, their `1 + side · value` are compared (the
 * level). Integers of other fields (hold times in ms) are compared exactly.
 *
 * @example
 * ```ts ignore
 * nearlyEqualPair([0.5, 0.3, 0.1 + 0.2], 0); // [0.3, 0.30000000000000004]
 * nearlyEqualPair([1e15, 1e15 + 1], 0); // undefined
 * nearlyEqualPair([0.999999999999, 0.9999999999995], -1); // undefined: levels 1e-12, 5e-13
 * ```
 */
function nearlyEqualPair(
  values: readonly number[],
  side: -1 | 0 | 1,
): [number, number] | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    if (Number.isInteger(a) && Number.isInteger(b) && side === 0) continue;
    // 0 is no level for a take-profit, hard stop or ladder stop ("none"): not near any other value
    // (helper-297: takeProfitPct [0, 1e-13], none against one at the entry, was refused).
    if (side !== 0 && (a === 0 || b === 0)) continue;
    const [x, y] = side === 0 ? [a, b] : [1 + side * a, 1 + side * b];
    if (Math.abs(y - x) <= TOUCH_SLACK * Math.max(Math.abs(x), Math.abs(y))) return [a, b];
  }
  return undefined;
}

/**
 * A `JSON.stringify` replacer: a number that is not an integer to 12
 * significant digits (a relative step of about 1e-12, the backtest's
 * `TOUCH_SLACK`), a level's ({@linkcode LEVEL_SIDES}) by its `1 ± value`;
 * integers of other fields (hold times in ms) as they are.
 */
function roundedForKey(key: string, value: unknown): unknown {
  if (typeof value !== "number") return value;
  const side = LEVEL_SIDES.get(key);
  // Whole values too (helper-297: a take-profit of 1 and one of 1 + 1e-13 were two policies); 0
  // is none, no level.
  if (side !== undefined && value !== 0) return `level ${(1 + side * value).toPrecision(12)}`;
  if (Number.isInteger(value)) return value;
  return Number(value.toPrecision(12));
}

/** The refusal of two combinations that are one policy, naming both. */
function samePolicyError(first: GridTrial, second: GridTrial): GridError {
  return new GridError(
    `Grid combinations ${first.trialId} ${JSON.stringify(first.values)} and ${second.trialId} ` +
      `${JSON.stringify(second.values)} are the same policy (ladder levels run in order of ` +
      `multiple; fixed_stop, time_stop or ladder side by side in a combo, in any order): ` +
      `give each list values the others do not repeat`,
    { combination: second.values },
  );
}

/** A copy of `value` with every axis (a list of numbers) replaced by its value in `values`. */
function substitute(value: unknown, path: string, values: Record<string, number>): unknown {
  if (Array.isArray(value)) {
    const field = path === "" ? "grid" : path;
    if (field in values) return values[field];
    return value.map((v, i) => substitute(v, join(path, String(i)), values));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [key, substitute(v, join(path, key), values)]),
    );
  }
  return value;
}

/**
 * Flatten a JSON object into dotted paths (`levels.0.multiple`), leaves only:
 * the `params.<path>` columns of `trials.parquet`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flattenObject } from "./grid.ts";
 * const flat = flattenObject({ type: "ladder", levels: [{ multiple: 2, fraction: 1 }] });
 * assert.equal(flat["levels.0.multiple"], 2);
 * assert.equal(flat.type, "ladder");
 * ```
 */
export function flattenObject(
  value: unknown,
  prefix = "",
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) flattenObject(v, join(prefix, key), out);
    return out;
  }
  out[prefix] = value;
  return out;
}
