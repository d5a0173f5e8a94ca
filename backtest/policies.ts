/**
 * Exit policies: their zod schemas (what `--policy` accepts) and their
 * per-candle exit logic. Pure: no I/O, no clocks.
 *
 * A policy is JSON with a `type`:
 * - `fixed_stop {stopPct, takeProfitPct?}`: sell all at `p0·(1-stopPct)`, or
 *   at `p0·(1+takeProfitPct)`.
 * - `time_stop {maxHoldMs, takeProfitPct?}`: sell all at the open of the
 *   first candle whose `ts` is at least `entry_ts + maxHoldMs` (or at the
 *   target before that).
 * - `trailing_stop {activationPct, trailPct, hardStopPct?}`: once a high
 *   reaches `p0·(1+activationPct)` the stop trails the highest high seen by
 *   `trailPct`; `hardStopPct` is a fixed stop from the entry, always active.
 * - `ladder {levels: [{multiple, fraction}], stopPct?}`: sell `fraction` of
 *   the initial position when a high reaches `p0·multiple`; the stop sells
 *   whatever is left.
 * - `combo {policies}`: all sub-policies watch the same position; the first
 *   one to trigger fills (no nesting of combos).
 *
 * Per-candle rules (conservative, documented here once):
 * - A machine decides on a candle with the levels it knew before the candle
 *   opened; the candle's high then moves trailing peaks for the next candle.
 * - Within one candle the order is: exits at the open (time stop), then stops
 *   from the highest level down, then targets from the lowest level up. So a
 *   candle that touches both a stop and a target fills the stop.
 * - A stop fills at its level, or at the candle's open when the candle opens
 *   below the level (a gap through the stop); a target fills at its level.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { PolicyError } from "./errors.ts";
import type { CandleSeries } from "./types.ts";

/** Most levels a ladder may have. */
export const LADDER_LEVELS_MAX = 16;
/** Most sub-policies a combo may have. */
export const COMBO_POLICIES_MAX = 8;
/** Rounding slack when checking that ladder fractions sum to at most 1. */
const FRACTION_SUM_SLACK = 1e-9;

const fraction = z.number().gt(0).max(1);
const positive = z.number().gt(0);

/** `fixed_stop`: sell all at `p0·(1-stopPct)` or at `p0·(1+takeProfitPct)`. */
export interface FixedStopPolicy {
  /** Policy type. */
  type: "fixed_stop";
  /** Stop distance below the entry, a fraction in (0, 1]. */
  stopPct: number;
  /** Target distance above the entry, a fraction > 0. */
  takeProfitPct?: number;
}

/** `time_stop`: sell all at the open of the first candle `maxHoldMs` after entry, or at the target. */
export interface TimeStopPolicy {
  /** Policy type. */
  type: "time_stop";
  /** Longest hold, ms (integer > 0). */
  maxHoldMs: number;
  /** Target distance above the entry, a fraction > 0. */
  takeProfitPct?: number;
}

/** `trailing_stop`: after `+activationPct`, trail the highest high by `trailPct`. */
export interface TrailingStopPolicy {
  /** Policy type. */
  type: "trailing_stop";
  /** Rise above the entry that arms the trail, a fraction >= 0. */
  activationPct: number;
  /** Trail distance below the highest high, a fraction in (0, 1). */
  trailPct: number;
  /** Fixed stop below the entry, always active, a fraction in (0, 1]. */
  hardStopPct?: number;
}

/** One level of a ladder: sell `fraction` of the initial position at `p0·multiple`. */
export interface LadderLevel {
  /** Price multiple of the entry, > 1. */
  multiple: number;
  /** Share of the initial position, in (0, 1]. */
  fraction: number;
}

/** `ladder`: partial sells at multiples; the stop sells what is left. */
export interface LadderPolicy {
  /** Policy type. */
  type: "ladder";
  /** Levels (1 to 16), fractions summing to at most 1. */
  levels: LadderLevel[];
  /** Stop distance below the entry, a fraction in (0, 1]. */
  stopPct?: number;
}

/** A policy other than `combo`. */
export type SimplePolicy = FixedStopPolicy | TimeStopPolicy | TrailingStopPolicy | LadderPolicy;

/** `combo`: all sub-policies watch the position; the first trigger wins. */
export interface ComboPolicy {
  /** Policy type. */
  type: "combo";
  /** Sub-policies (1 to 8), no nested combos. */
  policies: SimplePolicy[];
}

/** A validated exit policy. */
export type Policy = SimplePolicy | ComboPolicy;

const FixedStopSchema = z.strictObject({
  type: z.literal("fixed_stop"),
  stopPct: fraction,
  takeProfitPct: positive.optional(),
});

const TimeStopSchema = z.strictObject({
  type: z.literal("time_stop"),
  maxHoldMs: z.number().int().gt(0),
  takeProfitPct: positive.optional(),
});

const TrailingStopSchema = z.strictObject({
  type: z.literal("trailing_stop"),
  activationPct: z.number().min(0),
  trailPct: z.number().gt(0).lt(1),
  hardStopPct: fraction.optional(),
});

const LadderSchema = z.strictObject({
  type: z.literal("ladder"),
  levels: z.array(z.strictObject({ multiple: z.number().gt(1), fraction }))
    .min(1).max(LADDER_LEVELS_MAX)
    .refine(
      (levels) => levels.reduce((s, l) => s + l.fraction, 0) <= 1 + FRACTION_SUM_SLACK,
      { message: "level fractions must sum to <= 1" },
    ),
  stopPct: fraction.optional(),
});

const SimplePolicySchema = z.discriminatedUnion("type", [
  FixedStopSchema,
  TimeStopSchema,
  TrailingStopSchema,
  LadderSchema,
]);

const ComboSchema = z.strictObject({
  type: z.literal("combo"),
  policies: z.array(SimplePolicySchema).min(1).max(COMBO_POLICIES_MAX),
});

const PolicySchema = z.discriminatedUnion("type", [
  FixedStopSchema,
  TimeStopSchema,
  TrailingStopSchema,
  LadderSchema,
  ComboSchema,
]);

// The schemas and the interfaces above must agree, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const SCHEMAS_MATCH_TYPES: Same<z.output<typeof PolicySchema>, Policy> = true;
void SCHEMAS_MATCH_TYPES;

/**
 * Validate `input` (an object, or a JSON string) as a policy. Throws
 * {@linkcode PolicyError} naming the first bad field, e.g.
 * `Invalid policy: stopPct must be <= 1`.
 *
 * @example
 * ```ts
 * import { parsePolicy } from "./policies.ts";
 * const p = parsePolicy('{"type":"fixed_stop","stopPct":0.3,"takeProfitPct":1}');
 * console.assert(p.type === "fixed_stop");
 * try { parsePolicy({ type: "fixed_stop", stopPct: 1.5 }); } catch (e) {
 *   console.assert((e as Error).message === "Invalid policy: stopPct must be <= 1");
 * }
 * ```
 */
export function parsePolicy(input: unknown): Policy {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new PolicyError("policy", `not valid JSON (${why})`);
    }
  }
  const result = PolicySchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length === 0 ? "policy" : issue.path.map(String).join(".");
  throw new PolicyError(field, describeIssue(field, issue));
}

function describeIssue(field: string, issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_big":
      return issue.origin === "array"
        ? `${field} must have at most ${issue.maximum} items`
        : `${field} must be ${issue.inclusive === false ? "<" : "<="} ${issue.maximum}`;
    case "too_small":
      return issue.origin === "array"
        ? `${field} must have at least ${issue.minimum} items`
        : `${field} must be ${issue.inclusive === false ? ">" : ">="} ${issue.minimum}`;
    case "invalid_type": {
      const expected = issue.expected === "int" ? "integer" : issue.expected;
      return `${field} must be ${article(expected)} ${expected}`;
    }
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${
        issue.keys.map((k) => field === "policy" ? k : `${field}.${k}`).join(", ")
      }`;
    case "invalid_union":
    case "invalid_value": {
      const options = "options" in issue && Array.isArray(issue.options)
        ? issue.options
        : ("values" in issue ? issue.values : []);
      return `${field} must be one of ${options.map(String).join(", ")}`;
    }
    default:
      return `${field}: ${issue.message}`;
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** Why a position (or its last part) was closed. */
export type ExitReason =
  | "stop_loss"
  | "take_profit"
  | "time_stop"
  | "trailing_stop"
  | "hard_stop"
  | "end_of_data";

/** Exit reasons that count as a stop-out (`stop_out = true`). */
export const STOP_REASONS: ReadonlySet<ExitReason> = new Set([
  "stop_loss",
  "trailing_stop",
  "hard_stop",
]);

/**
 * A wish to sell, raised by a machine for one candle. `kind` orders the
 * signals of a candle: `open` (at the open), then `stop`s (highest price
 * first), then `target`s (lowest price first). `fraction` is a share of the
 * initial position; the executor sells at most what is left.
 */
export interface ExitSignal {
  /** Where in the candle the fill happens. */
  kind: "open" | "stop" | "target";
  /** Fill price. */
  price: number;
  /** Share of the initial position to sell (1 = all that is left). */
  fraction: number;
  /** Exit reason recorded when this signal closes the position. */
  reason: ExitReason;
}

/** Per-position state of a policy: looks at one candle at a time. */
export interface PolicyMachine {
  /**
   * Push the signals candle `i` of `series` triggers (with the levels known
   * before it opened) onto `out`, then update the state with the candle.
   */
  onCandle(series: CandleSeries, i: number, out: ExitSignal[]): void;
}

/** Where a position was entered. */
export interface Entry {
  /** Entry price (`p0`). */
  px: number;
  /** Entry time, epoch ms (`ts` of the anchor candle). */
  tsMs: number;
}

/**
 * Build the per-candle machine of `policy` for a position entered at `entry`.
 *
 * @example
 * ```ts
 * import { createPolicyMachine, type ExitSignal } from "./policies.ts";
 * const m = createPolicyMachine({ type: "fixed_stop", stopPct: 0.2 }, { px: 1, tsMs: 0 });
 * const s = { ts: [60_000], open: [1], high: [1.1], low: [0.7], close: [0.75] };
 * const out: ExitSignal[] = [];
 * m.onCandle(s, 0, out);
 * console.assert(out[0].reason === "stop_loss" && out[0].price === 0.8);
 * ```
 */
export function createPolicyMachine(policy: Policy, entry: Entry): PolicyMachine {
  switch (policy.type) {
    case "fixed_stop":
      return fixedStopMachine(policy, entry);
    case "time_stop":
      return timeStopMachine(policy, entry);
    case "trailing_stop":
      return trailingStopMachine(policy, entry);
    case "ladder":
      return ladderMachine(policy, entry);
    case "combo": {
      const machines = policy.policies.map((p) => createPolicyMachine(p, entry));
      return {
        onCandle(series, i, out) {
          for (const m of machines) m.onCandle(series, i, out);
        },
      };
    }
  }
}

/** Fill price of a stop at `level` on candle `i`: the level, or the open on a gap down. */
function stopFill(series: CandleSeries, i: number, level: number): number {
  return Math.min(level, series.open[i]);
}

function fixedStopMachine(policy: FixedStopPolicy, entry: Entry): PolicyMachine {
  const stop = entry.px * (1 - policy.stopPct);
  const target = policy.takeProfitPct === undefined
    ? Infinity
    : entry.px * (1 + policy.takeProfitPct);
  return {
    onCandle(series, i, out) {
      if (series.low[i] <= stop) {
        out.push({
          kind: "stop",
          price: stopFill(series, i, stop),
          fraction: 1,
          reason: "stop_loss",
        });
      }
      if (series.high[i] >= target) {
        out.push({ kind: "target", price: target, fraction: 1, reason: "take_profit" });
      }
    },
  };
}

function timeStopMachine(policy: TimeStopPolicy, entry: Entry): PolicyMachine {
  const deadlineMs = entry.tsMs + policy.maxHoldMs;
  const target = policy.takeProfitPct === undefined
    ? Infinity
    : entry.px * (1 + policy.takeProfitPct);
  return {
    onCandle(series, i, out) {
      if (series.ts[i] >= deadlineMs) {
        out.push({ kind: "open", price: series.open[i], fraction: 1, reason: "time_stop" });
        return;
      }
      if (series.high[i] >= target) {
        out.push({ kind: "target", price: target, fraction: 1, reason: "take_profit" });
      }
    },
  };
}

function trailingStopMachine(policy: TrailingStopPolicy, entry: Entry): PolicyMachine {
  const activation = entry.px * (1 + policy.activationPct);
  const hard = policy.hardStopPct === undefined ? -Infinity : entry.px * (1 - policy.hardStopPct);
  let active = false;
  let peak = entry.px;
  return {
    onCandle(series, i, out) {
      const low = series.low[i];
      if (low <= hard) {
        out.push({
          kind: "stop",
          price: stopFill(series, i, hard),
          fraction: 1,
          reason: "hard_stop",
        });
      }
      if (active) {
        const trail = peak * (1 - policy.trailPct);
        if (low <= trail) {
          out.push({
            kind: "stop",
            price: stopFill(series, i, trail),
            fraction: 1,
            reason: "trailing_stop",
          });
        }
      }
      const high = series.high[i];
      if (!active && high >= activation) active = true;
      if (active && high > peak) peak = high;
    },
  };
}

function ladderMachine(policy: LadderPolicy, entry: Entry): PolicyMachine {
  const stop = policy.stopPct === undefined ? -Infinity : entry.px * (1 - policy.stopPct);
  const levels = [...policy.levels].sort((a, b) => a.multiple - b.multiple);
  const fractionTotal = levels.reduce((s, l) => s + l.fraction, 0);
  let next = 0;
  return {
    onCandle(series, i, out) {
      if (series.low[i] <= stop) {
        out.push({
          kind: "stop",
          price: stopFill(series, i, stop),
          fraction: 1,
          reason: "stop_loss",
        });
      }
      const high = series.high[i];
      while (next < levels.length && high >= entry.px * levels[next].multiple) {
        const level = levels[next];
        // The last level of a ladder whose fractions sum to 1 sells what is left (no dust).
        const isLast = next === levels.length - 1 && fractionTotal >= 1 - FRACTION_SUM_SLACK;
        out.push({
          kind: "target",
          price: entry.px * level.multiple,
          fraction: isLast ? 1 : level.fraction,
          reason: "take_profit",
        });
        next++;
      }
    },
  };
}
