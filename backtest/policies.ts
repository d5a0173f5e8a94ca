/**
 * Exit policies: their zod schemas (what `--policy` accepts) and their
 * per-candle exit logic. Pure: no I/O, no clocks.
 *
 * A policy is JSON with a `type` (or `kind`, as quantBot's RiskPolicy spells
 * it; docs/QUANTBOT.md lists what differs from quantBot's executor):
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
 *   whatever is left; when the levels sell everything the exit reason is
 *   `ladder_complete`.
 * - `combo {policies}`: all sub-policies watch the same position; the first
 *   one to trigger fills (a combo nested in a combo is flattened into it).
 * - `takeProfitPct`, `hardStopPct` and the ladder's `stopPct` mean "none"
 *   when 0, as in quantBot.
 *
 * Per-candle rules (conservative, documented here once):
 * - A machine decides on a candle with the levels it knew before the candle
 *   opened; the candle's high then moves trailing peaks for the next candle.
 * - Within one candle the order is: exits at the open (time stop), then stops
 *   from the highest level down, then targets from the lowest level up. So a
 *   candle that touches both a stop and a target fills the stop.
 * - A stop fills at its level, a target at its level (issue 4, as quantBot):
 *   also when the candle opens beyond the level (a gap through the stop), so
 *   a gap costs no more than the stop says.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { PolicyError } from "./errors.ts";
import { describeJsonError, repeatedKeyPath } from "../ledger/json_syntax.ts";
import type { CandleSeries } from "./types.ts";
import { reachedDown, reachedUp } from "./_touch.ts";

/**
 * Most levels a ladder may have (quantBot sets none; a limit keeps a typo from costing hours).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { LADDER_LEVELS_MAX, parsePolicy } from "./policies.ts";
 * const level = { multiple: 2, fraction: 0.001 };
 * const levels = Array.from({ length: LADDER_LEVELS_MAX }, () => level);
 * assert.equal(LADDER_LEVELS_MAX, 256); // a count of levels
 * assert.equal(parsePolicy({ type: "ladder", levels }).type, "ladder");
 * assert.throws(() => parsePolicy({ type: "ladder", levels: [...levels, level] }), {
 *   message: "Invalid policy: levels must have at most 256 items",
 * });
 * ```
 */
export const LADDER_LEVELS_MAX = 256;
/**
 * Most sub-policies a combo may have, after nested combos are flattened.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { COMBO_POLICIES_MAX, parsePolicy } from "./policies.ts";
 * const stop = { type: "fixed_stop", stopPct: 0.2 };
 * const full = { type: "combo", policies: Array(COMBO_POLICIES_MAX).fill(stop) };
 * assert.equal(parsePolicy(full).type, "combo");
 * // Counted after flattening: two nested combos of 33 make one combo of 66.
 * const half = { type: "combo", policies: Array(33).fill(stop) };
 * assert.throws(() => parsePolicy({ type: "combo", policies: [half, half] }), {
 *   message: "Invalid policy: policies must have at most 64 items",
 * });
 * ```
 */
export const COMBO_POLICIES_MAX = 64;
/**
 * Deepest nesting of combos inside combos.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { COMBO_DEPTH_MAX, parsePolicy } from "./policies.ts";
 * // `depth` combos, one inside the other, around one fixed stop.
 * const nested = (depth: number): unknown =>
 *   depth === 0
 *     ? { type: "fixed_stop", stopPct: 0.2 }
 *     : { type: "combo", policies: [nested(depth - 1)] };
 * assert.equal(parsePolicy(nested(COMBO_DEPTH_MAX)).type, "combo"); // 8 deep: flattened
 * assert.throws(() => parsePolicy(nested(COMBO_DEPTH_MAX + 1)), {
 *   message: "Invalid policy: combos nest deeper than 8",
 * });
 * ```
 */
export const COMBO_DEPTH_MAX = 8;

const unit = z.number().min(0).max(1);
const nonNegative = z.number().min(0);

/**
 * `fixed_stop`: sell all at `p0·(1-stopPct)` or at `p0·(1+takeProfitPct)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createPolicyMachine, type ExitSignal, type FixedStopPolicy } from "./policies.ts";
 * const policy: FixedStopPolicy = { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 };
 * const m = createPolicyMachine(policy, { px: 1, tsMs: 0 });
 * const out: ExitSignal[] = [];
 * // A high of 2.5 reaches the target at 1·(1 + 1) = 2; the fill is at the target, not the high.
 * m.onCandle({ ts: [60_000], open: [1], high: [2.5], low: [0.9], close: [2.4] }, 0, out);
 * assert.deepEqual(out, [{ kind: "target", price: 2, fraction: 1, reason: "take_profit" }]);
 * ```
 */
export interface FixedStopPolicy {
  /** Policy type. */
  type: "fixed_stop";
  /**
   * Stop distance below the entry, a fraction in [0, 1] (0: stop at the entry; 1: a stop at price
   * 0, which only a candle whose low is 0 reaches, as in quantBot).
   */
  stopPct: number;
  /** Target distance above the entry, a fraction >= 0 (0 or absent: no target, as quantBot). */
  takeProfitPct?: number;
}

/**
 * `time_stop`: sell all at the open of the first candle `maxHoldMs` after entry, or at the target.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createPolicyMachine, type ExitSignal, type TimeStopPolicy } from "./policies.ts";
 * const policy: TimeStopPolicy = { type: "time_stop", maxHoldMs: 120_000 };
 * const m = createPolicyMachine(policy, { px: 1, tsMs: 0 });
 * const s = {
 *   ts: [60_000, 120_000], open: [1.1, 1.3], high: [1.2, 1.4], low: [1, 1.2], close: [1.2, 1.3],
 * };
 * const out: ExitSignal[] = [];
 * m.onCandle(s, 0, out);
 * assert.equal(out.length, 0); // held 60 s of the 120 s
 * m.onCandle(s, 1, out); // the first candle at entry + 120 s sells at its open
 * assert.deepEqual(out, [{ kind: "open", price: 1.3, fraction: 1, reason: "time_stop" }]);
 * ```
 */
export interface TimeStopPolicy {
  /** Policy type. */
  type: "time_stop";
  /** Longest hold, ms (integer > 0). */
  maxHoldMs: number;
  /** Target distance above the entry, a fraction >= 0 (0 or absent: no target). */
  takeProfitPct?: number;
}

/**
 * `trailing_stop`: after `+activationPct`, trail the highest high by `trailPct`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createPolicyMachine, type ExitSignal, type TrailingStopPolicy } from "./policies.ts";
 * const policy: TrailingStopPolicy = { type: "trailing_stop", activationPct: 0.5, trailPct: 0.2 };
 * const m = createPolicyMachine(policy, { px: 1, tsMs: 0 });
 * const s = {
 *   ts: [60_000, 120_000], open: [1, 1.9], high: [2, 1.9], low: [1, 1.5], close: [1.9, 1.5],
 * };
 * const out: ExitSignal[] = [];
 * m.onCandle(s, 0, out); // a high of 2 (over 1.5) arms the trail: the peak is 2
 * m.onCandle(s, 1, out); // the next low, 1.5, falls through 2·(1 - 0.2) = 1.6
 * assert.deepEqual(out, [{ kind: "stop", price: 1.6, fraction: 1, reason: "trailing_stop" }]);
 * ```
 */
export interface TrailingStopPolicy {
  /** Policy type. */
  type: "trailing_stop";
  /** Rise above the entry that arms the trail, a fraction >= 0. */
  activationPct: number;
  /**
   * Trail distance below the highest high, a fraction in [0, 1] (1: a trail at price 0, which only a
   * candle whose low is 0 reaches).
   */
  trailPct: number;
  /** Fixed stop below the entry, always active, in [0, 1] (0 or absent: none, as quantBot). */
  hardStopPct?: number;
}

/**
 * One level of a ladder: sell `fraction` of the initial position at `p0·multiple`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import {
 *   createPolicyMachine,
 *   type ExitSignal,
 *   type LadderLevel,
 *   parsePolicy,
 * } from "./policies.ts";
 * const levels: LadderLevel[] = [{ multiple: 3, fraction: 0.5 }, { multiple: 2, fraction: 0.25 }];
 * const m = createPolicyMachine({ type: "ladder", levels }, { px: 1, tsMs: 0 });
 * const out: ExitSignal[] = [];
 * m.onCandle({ ts: [60_000], open: [1], high: [2.2], low: [1], close: [2] }, 0, out);
 * assert.deepEqual(out.map((x) => [x.price, x.fraction]), [[2, 0.25]]); // only the 2x level
 * // A multiple under 1 would sell below the entry: that is what a stop is for.
 * assert.throws(() => parsePolicy({ type: "ladder", levels: [{ multiple: 0.5, fraction: 1 }] }), {
 *   message: "Invalid policy: levels.0.multiple must be >= 1",
 * });
 * ```
 */
export interface LadderLevel {
  /** Price multiple of the entry, >= 1. */
  multiple: number;
  /** Share of the initial position, in [0, 1]; a level sells at most what is left. */
  fraction: number;
}

/**
 * `ladder`: partial sells at multiples; the stop sells what is left.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { LadderPolicy } from "./policies.ts";
 * import { replayCall } from "./executor.ts";
 * const policy: LadderPolicy = {
 *   type: "ladder",
 *   levels: [{ multiple: 2, fraction: 0.5 }, { multiple: 3, fraction: 0.5 }],
 *   stopPct: 0.3,
 * };
 * const s = {
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 1, 2], high: [1, 2.1, 3.2], low: [1, 0.9, 2], close: [1, 2, 3],
 * };
 * const t = replayCall(policy, s, { alertTsMs: 0 })!;
 * // Half sold at 2, half at 3: the levels sold the whole position, the stop (0.7) had none left.
 * assert.equal(t.exitReason, "ladder_complete");
 * assert.equal(t.exitPx, 2.5);
 * ```
 */
export interface LadderPolicy {
  /** Policy type. */
  type: "ladder";
  /** Levels (1 to 256). */
  levels: LadderLevel[];
  /** Stop distance below the entry, in [0, 1] (0 or absent: none, as quantBot). */
  stopPct?: number;
}

/**
 * A policy other than `combo`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parsePolicy, type SimplePolicy } from "./policies.ts";
 * const stop: SimplePolicy = { type: "fixed_stop", stopPct: 0.2 };
 * const time: SimplePolicy = { type: "time_stop", maxHoldMs: 3_600_000 };
 * const p = parsePolicy({ type: "combo", policies: [stop, { type: "combo", policies: [time] }] });
 * assert(p.type === "combo");
 * // The nested combo was flattened: a combo holds simple policies only.
 * const parts: SimplePolicy[] = p.policies;
 * assert.deepEqual(parts.map((x) => x.type), ["fixed_stop", "time_stop"]);
 * ```
 */
export type SimplePolicy = FixedStopPolicy | TimeStopPolicy | TrailingStopPolicy | LadderPolicy;

/**
 * `combo`: all sub-policies watch the position; the first trigger wins.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ComboPolicy } from "./policies.ts";
 * import { replayCall } from "./executor.ts";
 * const policy: ComboPolicy = {
 *   type: "combo",
 *   policies: [{ type: "fixed_stop", stopPct: 0.2 }, { type: "time_stop", maxHoldMs: 120_000 }],
 * };
 * // Two paths that differ only in the low of the second candle.
 * const path = (low: number) => ({
 *   ts: [0, 60_000, 120_000],
 *   open: [1, 1, 1.2], high: [1, 1.1, 1.3], low: [1, low, 1.1], close: [1, 1.1, 1.2],
 * });
 * // Whichever sub-policy triggers first closes the position.
 * assert.equal(replayCall(policy, path(0.95), { alertTsMs: 0 })!.exitReason, "time_stop");
 * assert.equal(replayCall(policy, path(0.7), { alertTsMs: 0 })!.exitReason, "stop_loss");
 * ```
 */
export interface ComboPolicy {
  /** Policy type. */
  type: "combo";
  /** Sub-policies (1 to 64); nested combos are flattened into their parent. */
  policies: SimplePolicy[];
}

/**
 * A validated exit policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parsePolicy, type Policy } from "./policies.ts";
 * // A policy narrows on `type`; a combo holds simple policies.
 * const label = (p: Policy): string =>
 *   p.type === "combo" ? p.policies.map(label).join(" or ") : p.type;
 * const policy: Policy = parsePolicy(
 *   '{"kind":"combo","policies":[{"kind":"fixed_stop","stopPct":0.2},' +
 *     '{"type":"time_stop","maxHoldMs":60000}]}',
 * );
 * assert.equal(label(policy), "fixed_stop or time_stop");
 * ```
 */
export type Policy = SimplePolicy | ComboPolicy;

const FixedStopSchema = z.strictObject({
  type: z.literal("fixed_stop"),
  stopPct: unit,
  takeProfitPct: nonNegative.optional(),
});

const TimeStopSchema = z.strictObject({
  type: z.literal("time_stop"),
  maxHoldMs: z.number().int().gt(0),
  takeProfitPct: nonNegative.optional(),
});

const TrailingStopSchema = z.strictObject({
  type: z.literal("trailing_stop"),
  activationPct: nonNegative,
  trailPct: unit,
  hardStopPct: unit.optional(),
});

const LadderSchema = z.strictObject({
  type: z.literal("ladder"),
  levels: z.array(z.strictObject({
    // quantBot accepts any multiple > 0; below 1 a "target" sells under the
    // entry at a price the candle need not have traded: refused, use stopPct.
    multiple: z.number().min(1),
    fraction: unit,
  })).min(1).max(LADDER_LEVELS_MAX),
  stopPct: unit.optional(),
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

/** quantBot policy kinds that ledger refuses, with the reason. */
const REFUSED_KINDS: Readonly<Record<string, string>> = {
  wash_rebound: "wash_rebound re-enters after an exit (several trades per call); " +
    "ledger replays one position per call and does not run it",
};

/**
 * Validate `input` (an object, or a JSON string) as a policy. The policy
 * type may be given as `type` (ledger) or `kind` (quantBot's RiskPolicy);
 * combos nested in combos are flattened (first trigger wins either way).
 * Throws {@linkcode PolicyError} naming the first bad field, e.g.
 * `Invalid policy: stopPct must be <= 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parsePolicy } from "./policies.ts";
 * const p = parsePolicy('{"kind":"fixed_stop","stopPct":0.2,"takeProfitPct":1.0}');
 * assert.equal(p.type, "fixed_stop");
 * assert.throws(() => parsePolicy({ type: "fixed_stop", stopPct: 1.5 }), {
 *   message: "Invalid policy: stopPct must be <= 1",
 * });
 * ```
 */
export function parsePolicy(input: unknown): Policy {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new PolicyError("policy", `not valid JSON (${describeJsonError(input, err)})`);
    }
    // JSON.parse keeps a repeated key's last value: the run would not be the one written.
    const repeated = repeatedKeyPath(input);
    if (repeated !== undefined) {
      throw new PolicyError(repeated, `${repeated} is given twice: keep one`);
    }
  }
  const kindAt = new Set<string>();
  const normalized = normalize(value, "", 0, kindAt);
  const result = PolicySchema.safeParse(normalized);
  if (result.success) return result.data;
  const [issue, ...others] = result.error.issues;
  let field = issueField(issue);
  // JSON.parse reads 1e400 as Infinity, which "must be a number" misnamed (a probe; the sweep
  // grid's message says it so).
  const got = valueAt(normalized, issue.path);
  if (typeof got === "number" && !Number.isFinite(got)) {
    throw new PolicyError(field, `${field} is a number too large for a double (read as ${got})`);
  }
  // Name the field as the user spelt it: `kind` where the policy said kind.
  if (kindAt.has(field)) field = field.replace(/type$/, "kind");
  // A required field missing beside an unknown one is most often a misspelling
  // (`stopPtc`): name both, not only the one the policy lacks.
  const unknown = issue.code === "unrecognized_keys"
    ? undefined
    : others.find((i) => i.code === "unrecognized_keys");
  const also = unknown === undefined ? "" : ` (and ${describeIssue(issueField(unknown), unknown)})`;
  throw new PolicyError(field, describeIssue(field, issue) + also);
}

/**
 * `input` in the shape {@linkcode parsePolicy} validates, and so in the shape
 * of the policy it returns: `kind` as `type`, combos nested in combos
 * flattened into their parent. Nothing else is checked or changed, so a
 * sweep grid (numbers given as lists) keeps its lists and names its fields
 * as the trials' params do. Throws {@linkcode PolicyError} when `kind` and
 * `type` disagree, for a kind ledger refuses, or when combos nest deeper than
 * {@linkcode COMBO_DEPTH_MAX}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { normalizePolicy } from "./policies.ts";
 * const grid = {
 *   type: "combo",
 *   policies: [{ kind: "combo", policies: [{ type: "fixed_stop", stopPct: [0.1, 0.2] }] }],
 * };
 * // The inner combo's stop is the outer combo's first policy, as parsePolicy reads it.
 * assert.deepEqual(normalizePolicy(grid), {
 *   type: "combo",
 *   policies: [{ type: "fixed_stop", stopPct: [0.1, 0.2] }],
 * });
 * ```
 */
export function normalizePolicy(input: unknown): unknown {
  return normalize(input, "", 0, new Set());
}

/** The value at `path` in `value` (objects and arrays), or undefined. */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null || typeof key === "symbol") return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** The dotted path of the field an issue is about (`policy` for the whole policy). */
function issueField(issue: z.core.$ZodIssue): string {
  return issue.path.length === 0 ? "policy" : issue.path.map(String).join(".");
}

/**
 * quantBot's spelling to ledger's: `kind` becomes `type` (both may be given
 * when they agree), nested combos are flattened. Anything else is left for
 * the schema to judge.
 */
function normalize(value: unknown, at: string, depth: number, kindAt: Set<string>): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const { kind, ...rest } = value as Record<string, unknown>;
  const field = (name: string) => at === "" ? name : `${at}.${name}`;
  if (kind !== undefined && rest.type !== undefined && kind !== rest.type) {
    throw new PolicyError(
      field("kind"),
      `${field("kind")} ${JSON.stringify(kind)} and ${field("type")} ${
        JSON.stringify(rest.type)
      } disagree; give one of them`,
    );
  }
  const out: Record<string, unknown> = kind === undefined ? { ...rest } : { ...rest, type: kind };
  if (kind !== undefined) kindAt.add(field("type"));
  const name = kind === undefined ? "type" : "kind";
  if (typeof out.type === "string" && Object.hasOwn(REFUSED_KINDS, out.type)) {
    throw new PolicyError(field(name), `${field(name)}: ${REFUSED_KINDS[out.type]}`);
  }
  if (out.type === "combo" && Array.isArray(out.policies)) {
    if (depth >= COMBO_DEPTH_MAX) {
      throw new PolicyError(field("policies"), `combos nest deeper than ${COMBO_DEPTH_MAX}`);
    }
    out.policies = out.policies.flatMap((p, i) => {
      const sub = normalize(p, field(`policies.${i}`), depth + 1, kindAt);
      const isCombo = typeof sub === "object" && sub !== null &&
        (sub as Record<string, unknown>).type === "combo";
      return isCombo ? (sub as ComboPolicy).policies : [sub];
    });
  }
  return out;
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

/**
 * Why a position (or its last part) was closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { ExitReason } from "./policies.ts";
 * import { noEntryTrade, replayCall } from "./executor.ts";
 * // No candle after the entry: the position is sold at the entry candle's close.
 * const s = { ts: [0], open: [1], high: [1], low: [1], close: [1] };
 * const reasons: ExitReason[] = [
 *   replayCall({ type: "fixed_stop", stopPct: 0.2 }, s, { alertTsMs: 0 })!.exitReason,
 *   noEntryTrade(120_000).exitReason, // a call without a candle at or after its alert
 * ];
 * assert.deepEqual(reasons, ["end_of_data", "no_entry"]);
 * ```
 */
export type ExitReason =
  | "stop_loss"
  | "take_profit"
  | "time_stop"
  | "trailing_stop"
  | "hard_stop"
  | "ladder_complete"
  | "end_of_data"
  | "no_entry";

/**
 * Every exit reason, as quantBot's policy executor names them: the ladder's
 * levels selling the whole position is `ladder_complete`; a call without a
 * candle at or after its alert (or without a positive entry price) is
 * `no_entry`, a 0 bps row counted apart from the trades.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { EXIT_REASONS } from "./policies.ts";
 * import { noEntryTrade } from "./executor.ts";
 * // One counter per reason, as an exit table of a report would have.
 * const counts = Object.fromEntries(EXIT_REASONS.map((r) => [r, 0]));
 * counts[noEntryTrade(0).exitReason]++;
 * assert.equal(EXIT_REASONS.length, 8);
 * assert.equal(counts.no_entry, 1);
 * assert.equal(counts.ladder_complete, 0);
 * ```
 */
export const EXIT_REASONS: readonly ExitReason[] = [
  "stop_loss",
  "take_profit",
  "time_stop",
  "trailing_stop",
  "hard_stop",
  "ladder_complete",
  "end_of_data",
  "no_entry",
];

/**
 * Exit reasons that count as a stop-out (`stop_out = true`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { STOP_REASONS } from "./policies.ts";
 * import { replayCall } from "./executor.ts";
 * const s = { ts: [0, 60_000], open: [1, 1], high: [1, 1], low: [1, 0.7], close: [1, 0.75] };
 * const t = replayCall({ type: "fixed_stop", stopPct: 0.2 }, s, { alertTsMs: 0 })!;
 * assert.equal(t.exitReason, "stop_loss");
 * assert.equal(t.stopOut, STOP_REASONS.has(t.exitReason)); // a trade's stopOut is this test
 * assert.equal(STOP_REASONS.has("take_profit"), false);
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createPolicyMachine, type ExitSignal } from "./policies.ts";
 * const policy = { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 } as const;
 * const m = createPolicyMachine(policy, { px: 1, tsMs: 0 });
 * const out: ExitSignal[] = [];
 * // One wide candle touches the stop (0.8) and the target (2): both signals are raised, and
 * // the executor fills the stop first (`stop` comes before `target`).
 * m.onCandle({ ts: [60_000], open: [1], high: [2.5], low: [0.7], close: [1] }, 0, out);
 * assert.deepEqual(out.map((x) => `${x.kind} ${x.price} ${x.reason}`), [
 *   "stop 0.8 stop_loss",
 *   "target 2 take_profit",
 * ]);
 * ```
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

/**
 * Per-position state of a policy: looks at one candle at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createPolicyMachine, type ExitSignal, type PolicyMachine } from "./policies.ts";
 * const policy = { type: "fixed_stop", stopPct: 0.2 } as const;
 * const m: PolicyMachine = createPolicyMachine(policy, { px: 1, tsMs: 0 });
 * // Candles between 0.9 and 1.5 cannot reach the stop at 0.8: the executor may skip them.
 * assert.equal(m.quiet?.(0.9, 1.5, 600_000), true);
 * assert.equal(m.quiet?.(0.7, 1.5, 600_000), false);
 * const out: ExitSignal[] = [];
 * m.onCandle({ ts: [60_000], open: [1], high: [1], low: [0.7], close: [0.7] }, 0, out);
 * assert.equal(out[0].reason, "stop_loss");
 * ```
 */
export interface PolicyMachine {
  /**
   * Push the signals candle `i` of `series` triggers (with the levels known
   * before it opened) onto `out`, then update the state with the candle.
   */
  onCandle(series: CandleSeries, i: number, out: ExitSignal[]): void;
  /**
   * Whether no candle of a run of candles whose lowest low is `minLow`,
   * highest high `maxHigh` and last `ts` is `lastTsMs` can trigger a signal.
   * Pure. When none can, the executor skips the run whole and calls `pass`
   * (a speed-up that must not change any result). Optional: without it
   * every candle is visited.
   */
  quiet?(minLow: number, maxHigh: number, lastTsMs: number): boolean;
  /** Update the state as the candles of a quiet run would have (e.g. a trailing peak). */
  pass?(maxHigh: number): void;
}

/**
 * Where a position was entered.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { createPolicyMachine, type Entry, type ExitSignal } from "./policies.ts";
 * const entry: Entry = { px: 2, tsMs: 1_000_000 };
 * const s = { ts: [1_060_000], open: [1.9], high: [2], low: [1.4], close: [1.5] };
 * const out: ExitSignal[] = [];
 * createPolicyMachine({ type: "fixed_stop", stopPct: 0.25 }, entry).onCandle(s, 0, out);
 * createPolicyMachine({ type: "time_stop", maxHoldMs: 60_000 }, entry).onCandle(s, 0, out);
 * // The stop is 25% under the entry price; the time stop is due 60 s after the entry time.
 * assert.deepEqual(out.map((x) => [x.reason, x.price]), [["stop_loss", 1.5], ["time_stop", 1.9]]);
 * ```
 */
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
 * import assert from "node:assert";
 * import { createPolicyMachine, type ExitSignal } from "./policies.ts";
 * const m = createPolicyMachine({ type: "fixed_stop", stopPct: 0.2 }, { px: 1, tsMs: 0 });
 * const s = { ts: [60_000], open: [1], high: [1.1], low: [0.7], close: [0.75] };
 * const out: ExitSignal[] = [];
 * m.onCandle(s, 0, out);
 * assert.equal(out[0].reason, "stop_loss");
 * assert.equal(out[0].price, 0.8);
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
        quiet(minLow, maxHigh, lastTsMs) {
          for (const m of machines) {
            if (m.quiet === undefined || !m.quiet(minLow, maxHigh, lastTsMs)) return false;
          }
          return true;
        },
        pass(maxHigh) {
          for (const m of machines) m.pass?.(maxHigh);
        },
      };
    }
  }
}

/** The target price of `takeProfitPct`: none when absent or 0 (as quantBot reads it). */
function targetOf(entry: Entry, takeProfitPct: number | undefined): number {
  return takeProfitPct ? entry.px * (1 + takeProfitPct) : Infinity;
}

/** The price of an optional stop: none when absent or 0 (as quantBot reads it). */
function optionalStopOf(entry: Entry, pct: number | undefined): number {
  return pct ? entry.px * (1 - pct) : -Infinity;
}

function fixedStopMachine(policy: FixedStopPolicy, entry: Entry): PolicyMachine {
  const stop = entry.px * (1 - policy.stopPct);
  const target = targetOf(entry, policy.takeProfitPct);
  return {
    onCandle(series, i, out) {
      if (reachedDown(series.low[i], stop)) {
        out.push({
          kind: "stop",
          price: stop,
          fraction: 1,
          reason: "stop_loss",
        });
      }
      if (reachedUp(series.high[i], target)) {
        out.push({ kind: "target", price: target, fraction: 1, reason: "take_profit" });
      }
    },
    quiet(minLow, maxHigh) {
      return !reachedDown(minLow, stop) && !reachedUp(maxHigh, target);
    },
  };
}

function timeStopMachine(policy: TimeStopPolicy, entry: Entry): PolicyMachine {
  const deadlineMs = entry.tsMs + policy.maxHoldMs;
  const target = targetOf(entry, policy.takeProfitPct);
  return {
    onCandle(series, i, out) {
      if (series.ts[i] >= deadlineMs) {
        out.push({ kind: "open", price: series.open[i], fraction: 1, reason: "time_stop" });
        return;
      }
      if (reachedUp(series.high[i], target)) {
        out.push({ kind: "target", price: target, fraction: 1, reason: "take_profit" });
      }
    },
    quiet(_minLow, maxHigh, lastTsMs) {
      return lastTsMs < deadlineMs && !reachedUp(maxHigh, target);
    },
  };
}

function trailingStopMachine(policy: TrailingStopPolicy, entry: Entry): PolicyMachine {
  const activation = entry.px * (1 + policy.activationPct);
  const hard = optionalStopOf(entry, policy.hardStopPct);
  let active = false;
  let peak = entry.px;
  return {
    onCandle(series, i, out) {
      const low = series.low[i];
      if (reachedDown(low, hard)) {
        out.push({
          kind: "stop",
          price: hard,
          fraction: 1,
          reason: "hard_stop",
        });
      }
      if (active) {
        const trail = peak * (1 - policy.trailPct);
        if (reachedDown(low, trail)) {
          out.push({
            kind: "stop",
            price: trail,
            fraction: 1,
            reason: "trailing_stop",
          });
        }
      }
      const high = series.high[i];
      if (!active && reachedUp(high, activation)) active = true;
      if (active && high > peak) peak = high;
    },
    quiet(minLow, maxHigh) {
      if (reachedDown(minLow, hard)) return false;
      if (!active && !reachedUp(maxHigh, activation)) return true;
      // Active, or armed inside the run: no trail in the run is above the one
      // from the highest high, so lows above it cannot trigger.
      return !reachedDown(minLow, Math.max(peak, maxHigh) * (1 - policy.trailPct));
    },
    pass(maxHigh) {
      // Arming happens on the first high >= activation: every earlier high is lower,
      // so the run's highest high is also the highest since arming.
      if (!active && reachedUp(maxHigh, activation)) active = true;
      if (active && maxHigh > peak) peak = maxHigh;
    },
  };
}

/** Rounding slack: ladder fractions summing to at least `1 - slack` sell the whole position. */
const FRACTION_SUM_SLACK = 1e-9;

/**
 * The levels of a ladder in the order its machine runs them: by multiple,
 * then by fraction (levels of one multiple fill on the same candle at the
 * same price, so their order changes nothing but this makes it one order).
 */
function levelsInOrder(levels: readonly LadderLevel[]): LadderLevel[] {
  return [...levels].sort((a, b) => a.multiple - b.multiple || a.fraction - b.fraction);
}

/**
 * Policy types whose sub-policies in a combo may swap places when side by
 * side: two of them can only raise signals of one kind at one price with the
 * same exit reason, so which comes first changes no fill. Not
 * `trailing_stop`: one's trail and another's hard stop at the same price
 * fill as `trailing_stop` or `hard_stop` by order (the executor's sort keeps
 * the combo's order on a tie). Sub-policies of different types keep their
 * order: a fixed stop's and a ladder's target at one price fill as
 * `take_profit` or `ladder_complete` by it.
 */
const SWAPPABLE_TYPES: ReadonlySet<SimplePolicy["type"]> = new Set([
  "fixed_stop",
  "time_stop",
  "ladder",
]);

/**
 * `policy` in one form for every way of writing what the executor runs the
 * same: a ladder's levels in the order its machine runs them (by multiple,
 * then fraction), and in a combo each run of side-by-side sub-policies of one
 * swappable type sorted. Keys keep the schema's order. Two policies with the
 * same canonical form give the same trades; a sweep grid refuses two
 * combinations that have it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { canonicalPolicy, parsePolicy } from "./policies.ts";
 * const a = parsePolicy({
 *   type: "ladder",
 *   levels: [{ multiple: 2, fraction: 0.5 }, { multiple: 1.5, fraction: 0.5 }],
 * });
 * assert.deepEqual(canonicalPolicy(a), {
 *   type: "ladder",
 *   levels: [{ multiple: 1.5, fraction: 0.5 }, { multiple: 2, fraction: 0.5 }],
 * });
 * // Two fixed stops side by side fill alike in either order; a trailing stop's order counts.
 * const stop = (stopPct: number) => ({ type: "fixed_stop" as const, stopPct });
 * const combo = canonicalPolicy({ type: "combo", policies: [stop(0.3), stop(0.1)] });
 * assert.deepEqual(combo, { type: "combo", policies: [stop(0.1), stop(0.3)] });
 * ```
 */
export function canonicalPolicy(policy: Policy): Policy {
  if (policy.type === "ladder") return { ...policy, levels: levelsInOrder(policy.levels) };
  if (policy.type !== "combo") return policy;
  const parts = policy.policies.map((p) => canonicalPolicy(p) as SimplePolicy);
  const out: SimplePolicy[] = [];
  for (let i = 0; i < parts.length;) {
    let j = i + 1;
    while (j < parts.length && parts[j].type === parts[i].type) j++;
    const run = parts.slice(i, j);
    if (SWAPPABLE_TYPES.has(parts[i].type)) {
      const keyed = run.map((p) => [JSON.stringify(p), p] as const);
      keyed.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
      out.push(...keyed.map(([, p]) => p));
    } else {
      out.push(...run);
    }
    i = j;
  }
  return { type: "combo", policies: out };
}

function ladderMachine(policy: LadderPolicy, entry: Entry): PolicyMachine {
  const stop = optionalStopOf(entry, policy.stopPct);
  const levels = levelsInOrder(policy.levels);
  const fractionTotal = levels.reduce((s, l) => s + l.fraction, 0);
  let next = 0;
  return {
    onCandle(series, i, out) {
      if (reachedDown(series.low[i], stop)) {
        out.push({
          kind: "stop",
          price: stop,
          fraction: 1,
          reason: "stop_loss",
        });
      }
      const high = series.high[i];
      while (next < levels.length && reachedUp(high, entry.px * levels[next].multiple)) {
        const level = levels[next];
        // The last level of a ladder whose fractions sum to 1 sells what is left (no dust).
        const isLast = next === levels.length - 1 && fractionTotal >= 1 - FRACTION_SUM_SLACK;
        out.push({
          kind: "target",
          price: entry.px * level.multiple,
          fraction: isLast ? 1 : level.fraction,
          reason: "ladder_complete",
        });
        next++;
      }
    },
    quiet(minLow, maxHigh) {
      return !reachedDown(minLow, stop) &&
        (next >= levels.length || !reachedUp(maxHigh, entry.px * levels[next].multiple));
    },
  };
}
