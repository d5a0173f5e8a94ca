/**
 * Parsing JSON text the way the log holds it (SPEC 3, 4): one place that
 * every reader of stored JSON uses, so that no reader fails where another
 * succeeds.
 *
 * - Python's `json.dumps` writes `NaN`, `Infinity` and `-Infinity`, and
 *   DuckDB's JSON reader (the indexer) accepts them too, in any letter case
 *   and as `inf`, plus a trailing comma before `]` or `}`. V8's `JSON.parse`
 *   refuses all of them. {@linkcode parseJsonText} reads the non-finite
 *   numbers as `null` and drops the trailing commas.
 * - A value nested deeper than {@linkcode JSON_DEPTH_MAX} makes
 *   `JSON.stringify` overflow the stack; {@linkcode parseJsonText} cuts such
 *   values (deeper levels become a marker string) so that printing what it
 *   returns never fails.
 * - {@linkcode scanJsonText} reports what the rules of a valid line look at
 *   and `JSON.parse` hides: nesting depth, non-finite numbers, lone UTF-16
 *   surrogate escapes, and the number of members of the top-level object
 *   (repeated keys).
 *
 * @module
 */

/**
 * Deepest nesting of objects and arrays an event may have: the event object
 * itself is level 1, `config: {}` level 2. Deeper events are refused by the
 * writer and invalid for `verify` and the indexer.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { JSON_DEPTH_MAX } from "./json_text.ts";
 * import { completeEvent } from "./events.ts";
 * import { ValidationError } from "./errors.ts";
 * // The event is level 1 and `config` level 2: nest `config` so the event is 64 levels deep.
 * let config: Record<string, unknown> = {};
 * for (let level = 2; level < JSON_DEPTH_MAX; level++) config = { a: config };
 * const created = (config: Record<string, unknown>) =>
 *   completeEvent({
 *     event_type: "run.created", run_id: "r1", run_type: "policy", config, data_fingerprint: "fp",
 *   });
 * assert.equal(created(config).event_type, "run.created");
 * assert.throws(() => created({ a: config }), ValidationError); // one level too deep
 * ```
 */
export const JSON_DEPTH_MAX = 64;

/**
 * What replaces a value nested deeper than the limit in what {@linkcode parseJsonText} returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DEPTH_CUT_MARKER, JSON_DEPTH_MAX, parseJsonText } from "./json_text.ts";
 * // 65 levels of {"a": ...}: one more than the limit.
 * const text = '{"a":'.repeat(JSON_DEPTH_MAX) + "{}" + "}".repeat(JSON_DEPTH_MAX);
 * let value = parseJsonText(text);
 * for (let level = 1; level < JSON_DEPTH_MAX; level++) value = (value as { a: unknown }).a;
 * assert.deepEqual(value, { a: DEPTH_CUT_MARKER }); // level 64 holds the marker, not level 65
 * ```
 */
export const DEPTH_CUT_MARKER = `[nested deeper than ${JSON_DEPTH_MAX} levels: not shown]`;

/**
 * What {@linkcode scanJsonText} found in a text.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type JsonTextFacts, scanJsonText } from "./json_text.ts";
 * // JSON.parse refuses the trailing commas and lets the lone surrogate escape through.
 * const facts: JsonTextFacts = scanJsonText('{"note": "\\ud83d", "xs": [1, 2,],}');
 * assert.equal(facts.loneSurrogate, true);
 * assert.equal(facts.trailingCommaCount, 2);
 * assert.equal(facts.topLevelMembers, 2);
 * ```
 */
export interface JsonTextFacts {
  /** Deepest nesting of objects and arrays (0 for a scalar). */
  depthMax: number;
  /** `NaN` / `Infinity` / `-Infinity` / `inf` tokens outside strings (any case). */
  nonFiniteCount: number;
  /** Commas directly before a `]` or `}` (outside strings). */
  trailingCommaCount: number;
  /** Whether a string holds a `\uD800`-`\uDFFF` escape that is not part of a valid pair. */
  loneSurrogate: boolean;
  /** Members of the top-level object, repeated keys counted each time (0 if not an object). */
  topLevelMembers: number;
  /** Members of every object at any level, repeated keys counted each time. */
  members: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const LOWER_U = 0x75;

/**
 * One pass over `text` (assumed to be JSON, possibly with the extensions
 * above): depth, non-finite tokens, trailing commas, lone surrogate escapes
 * and top-level members. Never throws, whatever the text.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { scanJsonText } from "./json_text.ts";
 * const facts = scanJsonText('{"a": NaN, "a": [1]}');
 * assert.equal(facts.nonFiniteCount, 1);
 * assert.equal(facts.topLevelMembers, 2);
 * assert.equal(facts.depthMax, 2);
 * ```
 */
export function scanJsonText(text: string): JsonTextFacts {
  const facts = newFacts();
  let depth = 0;
  let topIsObject = false;
  let lastSignificant = 0; // last non-space character outside strings
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = scanString(text, i, facts);
      lastSignificant = QUOTE;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0 && lastSignificant === 0) topIsObject = c === OPEN_BRACE;
      depth += 1;
      if (depth > facts.depthMax) facts.depthMax = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (lastSignificant === COMMA) facts.trailingCommaCount += 1;
      depth -= 1;
    } else if (c === COLON) {
      facts.members += 1;
      if (depth === 1 && topIsObject) facts.topLevelMembers += 1;
    } else if (isNonFiniteStart(c)) {
      const length = nonFiniteTokenLength(text, i);
      if (length > 0) {
        facts.nonFiniteCount += 1;
        i += length - 1;
      }
    }
    if (!isSpace(c)) lastSignificant = c;
  }
  return facts;
}

/**
 * `JSON.parse` that also reads what Python and DuckDB write: `NaN`,
 * `Infinity`, `-Infinity` (any case, `inf` too) become `null`, a trailing
 * comma before `]`/`}` is dropped. Values nested deeper than `depthMax` are
 * replaced by {@linkcode DEPTH_CUT_MARKER}, so `JSON.stringify` of the result
 * never overflows. Throws `SyntaxError` for anything else that is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseJsonText } from "./json_text.ts";
 * const value = parseJsonText('{"sharpe": NaN, "peak": -Infinity, "n": [1, 2,]}');
 * assert.equal(JSON.stringify(value), '{"sharpe":null,"peak":null,"n":[1,2]}');
 * // A key repeated inside an object: its first value with `firstKeys`, as DuckDB reads it.
 * const repeated = '{"params": {"stop": 0.1, "x": [{"k": 1, "k": 2}], "stop": 0.2}}';
 * assert.equal(JSON.stringify(parseJsonText(repeated)), '{"params":{"stop":0.2,"x":[{"k":2}]}}');
 * assert.equal(
 *   JSON.stringify(parseJsonText(repeated, { firstKeys: true })),
 *   '{"params":{"stop":0.1,"x":[{"k":1}]}}',
 * );
 * ```
 */
export function parseJsonText(text: string, options: ParseJsonTextOptions = {}): unknown {
  const depthMax = options.depthMax ?? JSON_DEPTH_MAX;
  if (options.exactNumbers) {
    const exact = parseKeepingNumbers(text, depthMax);
    if (exact !== undefined) {
      return options.firstKeys ? parsedFirstKeys(text, options, exact) : exact;
    }
  }
  if (options.exactIntegers || options.exactNumbers) {
    const exact = parseKeepingIntegers(text, depthMax);
    if (exact !== undefined) {
      return options.firstKeys ? parsedFirstKeys(text, options, exact) : exact;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const facts = scanJsonText(text);
    if (facts.nonFiniteCount === 0 && facts.trailingCommaCount === 0) throw err;
    value = JSON.parse(normalizeJsonText(text));
  }
  if (options.firstKeys) return parsedFirstKeys(text, options, value);
  return mayBeDeeper(text, depthMax) ? cutDeep(value, depthMax) : value;
}

/** Levels of nesting past which {@linkcode parseJsonText}'s `firstKeys` leaves a text as parsed. */
const FIRST_KEYS_DEPTH_MAX = 1000;

/**
 * `parsed`, the value `text` was parsed to with `options` (`JSON.parse`
 * keeps a repeated key's LAST value), or, when an object of it repeats a
 * key, `text` parsed again so that every object keeps the FIRST value of
 * each key, as DuckDB reads it. Cut as `options.depthMax` says.
 */
function parsedFirstKeys(text: string, options: ParseJsonTextOptions, parsed: unknown): unknown {
  const depthMax = options.depthMax ?? JSON_DEPTH_MAX;
  const facts = scanJsonText(text);
  let value = parsed;
  // Depth first: countMembers recurses (a config 10,000 deep overflowed the stack).
  if (facts.depthMax <= FIRST_KEYS_DEPTH_MAX && facts.members > countMembers(parsed)) {
    const inner = { ...options, firstKeys: false, depthMax: Number.MAX_SAFE_INTEGER };
    value = parseFirstKeysDeep(text, inner, true);
  }
  return facts.depthMax > depthMax ? cutDeep(value, depthMax) : value;
}

/** Members of every plain object inside `value` (a raw JSON number is none). */
function countMembers(value: unknown): number {
  if (typeof value !== "object" || value === null || JSON_SOURCE.isRawJSON(value)) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += countMembers(item);
    return count;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    count += 1 + countMembers((value as Record<string, unknown>)[key]);
  }
  return count;
}

/**
 * `text` (a JSON value, with the extensions above) parsed so that every
 * object keeps the first value of a repeated key; `top`: `text` is the
 * whole value (a number there stays a number, as `exactNumbers` says).
 */
function parseFirstKeysDeep(text: string, options: ParseJsonTextOptions, top: boolean): unknown {
  const first = text.charCodeAt(skipSpace(text, 0));
  if (first === OPEN_BRACE) {
    const out: Record<string, unknown> = {};
    for (const [keyText, valueText] of splitTopLevel(text)!) {
      const key = JSON.parse(keyText) as string;
      if (!Object.hasOwn(out, key)) setOwn(out, key, parseFirstKeysDeep(valueText, options, false));
    }
    return out;
  }
  if (first === OPEN_BRACKET) {
    return splitArray(text).map((item) => parseFirstKeysDeep(item, options, false));
  }
  // A scalar: read inside an array, so that `exactNumbers` keeps a nested number's text.
  return top ? parseJsonText(text, options) : (parseJsonText(`[${text}]`, options) as unknown[])[0];
}

/**
 * Where the value starting at `start` of an object's or array's `text`
 * ends: at the comma after it, or at the bracket closing its container.
 */
function valueEnd(text: string, start: number, ignore: JsonTextFacts): number {
  let depth = 0;
  let i = start;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = scanString(text, i, ignore);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth += 1;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && depth-- === 0) break;
    else if (c === COMMA && depth === 0) break;
  }
  return i;
}

/** The element texts of the JSON array `text` (a trailing comma dropped). */
function splitArray(text: string): string[] {
  const ignore = newFacts();
  const items: string[] = [];
  let i = skipSpace(text, skipSpace(text, 0) + 1);
  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACKET) {
    const start = i;
    i = valueEnd(text, i, ignore);
    items.push(text.slice(start, i));
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return items;
}

/**
 * Options for {@linkcode parseJsonText}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseJsonText, type ParseJsonTextOptions } from "./json_text.ts";
 * const text = '{"seed": 9007199254740993}'; // 2^53 + 1
 * const options: ParseJsonTextOptions = { exactIntegers: true };
 * assert.equal(JSON.stringify(parseJsonText(text, options)), '{"seed":9007199254740993}');
 * assert.equal(JSON.stringify(parseJsonText(text)), '{"seed":9007199254740992}'); // rounded
 * ```
 */
export interface ParseJsonTextOptions {
  /** Levels kept; deeper values become {@linkcode DEPTH_CUT_MARKER}. @default {JSON_DEPTH_MAX} */
  depthMax?: number;
  /**
   * Keep integers past 2^53 exact, as {@linkcode ExactInteger}s (`JSON.parse`
   * rounds `9007199254740993` to `...992`); `JSON.stringify` writes them
   * back digit for digit. @default {false}
   */
  exactIntegers?: boolean;
  /**
   * Also keep every finite number inside the value whose text
   * `JSON.stringify` would write otherwise (`1.0`, `-0.0`, `1e16`, and
   * `1.2345678901234567e+19`, which it writes as the integer
   * `12345678901234567000`) as a raw JSON object written back as given, so
   * that a Python float is not read back as an int ({@linkcode numbersAtTop}
   * makes an event's own members numbers again). The value itself, when a
   * number, stays one. Implies `exactIntegers`. @default {false}
   */
  exactNumbers?: boolean;
  /**
   * A key repeated inside any object keeps its FIRST value, as DuckDB (the
   * index, `--where`, `export`) reads it; `JSON.parse` keeps the last, so
   * `show` and `compare` once showed another value than `--where` matched
   * (helper-296). Costs a scan of the text. @default {false}
   */
  firstKeys?: boolean;
}

/**
 * An integer literal past `Number.MAX_SAFE_INTEGER` (either sign), kept as
 * its JSON text by {@linkcode parseJsonText} with `exactIntegers`: a frozen
 * raw JSON object (`JSON.rawJSON`) that `JSON.stringify` writes as the
 * number itself. `String()` of it throws (it has no prototype): read its
 * digits from `rawJSON`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { type ExactInteger, isExactInteger, parseJsonText } from "./json_text.ts";
 * const parsed = parseJsonText('{"seed": -9007199254740993}', { exactIntegers: true });
 * const seed = (parsed as { seed: unknown }).seed;
 * assert.ok(isExactInteger(seed));
 * const exact: ExactInteger = seed;
 * assert.equal(BigInt(exact.rawJSON) - 1n, -9007199254740994n); // exact arithmetic on its digits
 * assert.throws(() => String(exact), TypeError); // no prototype: read `rawJSON` instead
 * ```
 */
export interface ExactInteger {
  /** The integer as written in the JSON text, e.g. `9007199254740993`. */
  readonly rawJSON: string;
}

/** JSON source text access (ES2025), which the TypeScript lib in use does not type yet. */
interface JsonSourceAccess {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): ExactInteger;
  isRawJSON(value: unknown): boolean;
}
const JSON_SOURCE = JSON as unknown as JsonSourceAccess;

/** A run of digits long enough to hold an integer past 2^53 (16 digits). */
const LONG_DIGITS = /\d{16}/;
/** An integer literal of JSON. */
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * `text` parsed keeping integers past 2^53 exact ({@linkcode ExactInteger});
 * undefined when it holds none (no run of 16 digits) or nests past
 * `depthMax` (the caller's plain parse cuts it).
 */
function parseKeepingIntegers(text: string, depthMax: number): unknown {
  if (!LONG_DIGITS.test(text)) return undefined;
  if (nestsPast(text, depthMax)) return undefined;
  try {
    return JSON_SOURCE.parse(text, keepExactIntegers);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // NaN, Infinity and trailing commas, as the plain parse reads them; else the same error.
    return JSON_SOURCE.parse(normalizeJsonText(text), keepExactIntegers);
  }
}

/**
 * Whether `text` nests past `depthMax`, or past {@linkcode JSON_DEPTH_MAX}
 * whatever `depthMax` is: a parse with a reviver recurses once a level, and
 * overflowed the stack on a config 10,000 deep that the plain parse reads
 * (and validation refuses, naming the field).
 */
function nestsPast(text: string, depthMax: number): boolean {
  const limit = Math.min(depthMax, JSON_DEPTH_MAX);
  return text.length > 2 * limit && scanJsonText(text).depthMax > limit;
}

/** A number literal that holds a fraction, an exponent or a minus zero. */
const WRITTEN_AS_FLOAT = /[.eE]|^-0$/;

/**
 * `text` parsed keeping every number below the top level as written when
 * `JSON.stringify` would write it otherwise ({@linkcode ParseJsonTextOptions.exactNumbers});
 * undefined when it nests past `depthMax` (the caller's plain parse cuts it).
 */
function parseKeepingNumbers(text: string, depthMax: number): unknown {
  if (nestsPast(text, depthMax)) return undefined;
  let value: unknown;
  try {
    value = JSON_SOURCE.parse(text, keepNumbers);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // NaN, Infinity and trailing commas, as the plain parse reads them; else the same error.
    value = JSON_SOURCE.parse(normalizeJsonText(text), keepNumbers);
  }
  return JSON_SOURCE.isRawJSON(value) ? numberOf(value as ExactInteger) : value;
}

/**
 * A kept number as a number again, unless an integer past 2^53. `-0` is
 * kept for its sign only, and is the number -0 again (helper-295: an
 * event's `"phase_order": -0` stayed raw, and `emit` refused it as no
 * integer, where the index and `verify` read it as 0).
 */
function numberOf(raw: ExactInteger): unknown {
  return INTEGER_LITERAL.test(raw.rawJSON) && raw.rawJSON !== "-0" ? raw : Number(raw.rawJSON);
}

/**
 * `value` (an event parsed with {@linkcode ParseJsonTextOptions.exactNumbers})
 * with its own members that were kept as written numbers again, in place:
 * an event's typed fields (`duration_ms`, `phase_order`, ...) are validated
 * as numbers; what they hold keeps its numbers as written.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { numbersAtTop, parseJsonText } from "./json_text.ts";
 * const event = numbersAtTop(parseJsonText('{"duration_ms": 5.0, "config": {"stop": 1.0}}', {
 *   exactNumbers: true,
 * }));
 * assert.equal(JSON.stringify(event), '{"duration_ms":5,"config":{"stop":1.0}}');
 * ```
 */
export function numbersAtTop(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  if (JSON_SOURCE.isRawJSON(value)) return value;
  const members = value as Record<string, unknown>;
  for (const key of Object.keys(members)) {
    const member = members[key];
    if (JSON_SOURCE.isRawJSON(member)) members[key] = numberOf(member as ExactInteger);
  }
  return members;
}

function keepNumbers(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value !== "number" || !Number.isFinite(value)) return value;
  const source = context.source;
  if (source === undefined) return value;
  if (INTEGER_LITERAL.test(source) && source !== "-0") {
    return Number.isSafeInteger(value) ? value : JSON_SOURCE.rawJSON(source);
  }
  return WRITTEN_AS_FLOAT.test(source) && JSON.stringify(value) !== source
    ? JSON_SOURCE.rawJSON(source)
    : value;
}

function keepExactIntegers(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context.source;
  return source !== undefined && INTEGER_LITERAL.test(source) ? JSON_SOURCE.rawJSON(source) : value;
}

/**
 * A JSON value as text with every object's keys sorted, so that equal values
 * (keys in another order, `1.0` and `1` once parsed) give equal text: what
 * `verify` compares a repeated event id's lines by and what the legacy
 * parity check compares a run by. Keys are kept as own keys (`__proto__`
 * too), `undefined` members are left out as `JSON.stringify` leaves them,
 * and an {@linkcode ExactInteger} is written digit for digit.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { canonicalJson, parseJsonText } from "./json_text.ts";
 * assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 0 }] }), '{"a":[2,{"c":0,"d":1}],"b":1}');
 * const big = parseJsonText('{"seed": 12345678901234567891}', { exactIntegers: true });
 * assert.equal(canonicalJson(big), '{"seed":12345678901234567891}');
 * // A double past 2^53 is the integer it holds, as that integer written exactly is.
 * const twice = parseJsonText('[9.223372036854776e+18, 9223372036854775808]', { exactIntegers: true });
 * assert.equal(canonicalJson(twice), "[9223372036854775808,9223372036854775808]");
 * // Zero is zero whatever its sign or spelling.
 * assert.equal(canonicalJson(parseJsonText("[-0, -0.0, 0]", { exactNumbers: true })), "[0,0,0]");
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (isExactInteger(value)) {
    // A number kept as written (`1.0`, `exactNumbers`): the number it is, as `1` is; `-0` is
    // the integer 0, as the index reads it and as `-0.0` already was here (a probe: a legacy
    // config's `-0` made parity fail and a second backfill call its row changed).
    return INTEGER_LITERAL.test(value.rawJSON) && value.rawJSON !== "-0"
      ? value.rawJSON
      : canonicalJson(Number(value.rawJSON));
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  // A double from 2^53 on is an integer: its exact digits, so that it equals the same value
  // written as an integer (`9.223372036854776e+18` is 9223372036854775808, which
  // `JSON.stringify` writes as 9223372036854776000: an oracle audit saw them differ).
  if (typeof value === "number" && Number.isFinite(value) && Math.abs(value) >= 2 ** 53) {
    return BigInt(value).toString();
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Whether `value` is an integer {@linkcode parseJsonText} kept exact (with
 * `exactNumbers`, also a number kept as written, such as `1.0`: its
 * `rawJSON` is then not an integer literal).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isExactInteger, parseJsonText } from "./json_text.ts";
 * const seed = parseJsonText("9007199254740993", { exactIntegers: true });
 * assert.ok(isExactInteger(seed));
 * assert.equal(seed.rawJSON, "9007199254740993");
 * assert.ok(!isExactInteger(parseJsonText("12", { exactIntegers: true })));
 * ```
 */
export function isExactInteger(value: unknown): value is ExactInteger {
  return JSON_SOURCE.isRawJSON(value);
}

/**
 * Whether `value`, as {@linkcode parseJsonText} gives it, is a JSON object:
 * not null, not an array, not an {@linkcode ExactInteger} (an object that
 * stands for a number).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isJsonObject, parseJsonText } from "./json_text.ts";
 * const v = parseJsonText('{"a": {"b": 1}, "c": [1], "d": 9007199254740993}', {
 *   exactIntegers: true,
 * }) as Record<string, unknown>;
 * assert.ok(isJsonObject(v) && isJsonObject(v.a));
 * assert.ok(!isJsonObject(v.c) && !isJsonObject(v.d) && !isJsonObject(null));
 * ```
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    !isExactInteger(value);
}

/**
 * `text` with non-finite number tokens (`NaN`, `Infinity`, and numbers past
 * a double's range such as `1e309`) replaced by `null` and trailing commas
 * removed (strings and every other number untouched): text `JSON.parse`
 * accepts when `text` is JSON with those extensions.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { normalizeJsonText } from "./json_text.ts";
 * assert.equal(normalizeJsonText('{"a":"NaN","b":nan,}'), '{"a":"NaN","b":null}');
 * assert.equal(normalizeJsonText("[-1e309, 2, -Infinity]"), "[null, 2, null]");
 * // A comma after nothing is no trailing comma: left for JSON.parse to refuse.
 * assert.equal(normalizeJsonText("[,]"), "[,]");
 * assert.equal(normalizeJsonText('{"a":[1,],}'), '{"a":[1]}');
 * ```
 */
export function normalizeJsonText(text: string): string {
  const out: string[] = [];
  let copiedTo = 0;
  let pendingComma = -1; // index of a comma that may turn out to be trailing
  // Whether the last token ended a value: a comma after `[`, `{` or another comma trails
  // nothing (`[,]`, `{,}`, `[1,,]`) and is left for JSON.parse to refuse, as the indexer
  // refuses it (an audit: the writer wrote `[,]` as `[]` and verify passed it, where the
  // index put the line in ingest_errors).
  let afterValue = false;
  const ignore = newFacts();
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = scanString(text, i, ignore);
      pendingComma = -1;
      afterValue = true;
      continue;
    }
    if (isSpace(c)) continue;
    if (c === COMMA) {
      pendingComma = afterValue ? i : -1;
      afterValue = false;
      continue;
    }
    afterValue = c !== OPEN_BRACE && c !== OPEN_BRACKET && c !== COLON;
    if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && pendingComma >= 0) {
      out.push(text.slice(copiedTo, pendingComma));
      copiedTo = pendingComma + 1;
    } else {
      const length = isNonFiniteStart(c) ? nonFiniteTokenLength(text, i) : 0;
      if (length > 0) {
        out.push(text.slice(copiedTo, i), "null");
        copiedTo = i + length;
        i += length - 1;
      } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
        NUMBER_TOKEN.lastIndex = i;
        const number = NUMBER_TOKEN.exec(text)?.[0];
        if (number !== undefined) {
          if (!Number.isFinite(Number(number))) {
            // 1e309: past a double's range, every reader's infinity.
            out.push(text.slice(copiedTo, i), "null");
            copiedTo = i + number.length;
          }
          i += number.length - 1;
        }
      }
    }
    pendingComma = -1;
  }
  out.push(text.slice(copiedTo));
  return out.join("");
}

/** A JSON number token. */
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * The text may hold a number past a double's range (`1e309`, `-1E+400`, an
 * integer of 309 digits): a digit, then an exponent of three digits, or 309
 * digits in a row. A cheap test before {@linkcode normalizeJsonText}, which
 * makes such numbers `null`; it may also match a string (a hex id such as
 * `"5c48019e1234"`), which that leaves as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MAY_OVERFLOW_DOUBLE, normalizeJsonText } from "./json_text.ts";
 * const text = '{"a":1e309,"b":1e300,"c":"1e309"}';
 * assert.ok(MAY_OVERFLOW_DOUBLE.test(text));
 * assert.equal(normalizeJsonText(text), '{"a":null,"b":1e300,"c":"1e309"}');
 * assert.ok(!MAY_OVERFLOW_DOUBLE.test('{"a":1e30}'));
 * assert.ok(MAY_OVERFLOW_DOUBLE.test('[-2.5E+400]'));
 * assert.ok(MAY_OVERFLOW_DOUBLE.test(`[${"9".repeat(309)}]`));
 * ```
 */
export const MAY_OVERFLOW_DOUBLE = /\d[eE]\+?\d{3}|(?<!\d)\d{309}/;

/**
 * {@linkcode MAY_OVERFLOW_DOUBLE} without its 309-digit case, for texts too
 * long to test for that at each digit (`runs --json` of 100k runs: 25 ms
 * against 107 ms, and 296 ms without the look-behind). An integer of 309
 * digits is kept as written there: exact JSON text, as DuckDB stores it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MAY_OVERFLOW_EXPONENT } from "./json_text.ts";
 * assert.ok(MAY_OVERFLOW_EXPONENT.test('{"a":1e309}'));
 * assert.ok(!MAY_OVERFLOW_EXPONENT.test('{"ts":1768953522751,"e":"sha256:1869f"}'));
 * ```
 */
export const MAY_OVERFLOW_EXPONENT = /\d[eE]\+?\d{3}/;

/**
 * How deep `value` nests objects and arrays (0 for a scalar), without
 * recursion; stops counting past `limit` (returns `limit + 1`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { valueDepth } from "./json_text.ts";
 * assert.equal(valueDepth({ a: [1, { b: 2 }] }), 3);
 * ```
 */
export function valueDepth(value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (level > deepest) deepest = level;
    if (deepest > limit) return limit + 1;
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return deepest;
}

/**
 * The dotted path of the first place where `value` nests deeper than
 * `depthMax` (`config.a.a`), or `undefined` when it does not. The path
 * starts at `value`'s own keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { pathDeeperThan } from "./json_text.ts";
 * assert.equal(pathDeeperThan({ config: { a: { b: {} } } }, 3), "config.a.b");
 * ```
 */
export function pathDeeperThan(value: unknown, depthMax: number): string | undefined {
  const stack: [unknown, number, string][] = [[value, 1, ""]];
  while (stack.length > 0) {
    const [node, level, path] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (level > depthMax) return path;
    for (const [key, child] of Object.entries(node)) {
      stack.push([child, level + 1, path === "" ? key : `${path}.${key}`]);
    }
  }
  return undefined;
}

/**
 * `value`, which `JSON.parse` made of `text`, with each repeated top-level
 * key at its FIRST value, as DuckDB (the indexer) and every reader of the
 * log read it (`JSON.parse` keeps the last): `value` itself when no key
 * repeats. `topLevelMembers` is {@linkcode scanJsonText}'s count for `text`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { firstKeysWin, scanJsonText } from "./json_text.ts";
 * const text = '{"a": 1, "b": 2, "a": 3}';
 * const value = firstKeysWin(JSON.parse(text), text, scanJsonText(text).topLevelMembers);
 * assert.equal(JSON.stringify(value), '{"a":1,"b":2}');
 * ```
 */
export function firstKeysWin(value: unknown, text: string, topLevelMembers: number): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  if (Object.keys(value).length >= topLevelMembers) return value;
  return parseFirstKeyWins(text) ?? value;
}

/**
 * Parse the JSON object `text` so that a repeated top-level key keeps its
 * FIRST value, as DuckDB (the indexer) reads it; `JSON.parse` keeps the last.
 * Values are parsed as {@linkcode parseJsonText} does. Returns `undefined`
 * when `text` is not an object. Throws `SyntaxError` when it is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseFirstKeyWins } from "./json_text.ts";
 * const value = parseFirstKeyWins('{"a": 1, "b": [NaN], "a": 2}');
 * assert.equal(JSON.stringify(value), '{"a":1,"b":[null]}');
 * ```
 */
export function parseFirstKeyWins(text: string): Record<string, unknown> | undefined {
  const members = splitTopLevel(text);
  if (members === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [keyText, valueText] of members) {
    const key = JSON.parse(keyText) as string;
    if (Object.hasOwn(out, key)) continue;
    setOwn(out, key, parseJsonText(valueText, { depthMax: Number.MAX_SAFE_INTEGER }));
  }
  return out;
}

/**
 * Set `key` of `target` as a plain own property: a `"__proto__"` key stays a
 * key, as `JSON.parse` makes it (an assignment would set the prototype).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { setOwn } from "./json_text.ts";
 * const out: Record<string, unknown> = {};
 * setOwn(out, "__proto__", 1);
 * assert.deepEqual(Object.keys(out), ["__proto__"]);
 * assert.equal(Object.getPrototypeOf(out), Object.prototype);
 * ```
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * The text of the value of the first member `key` of the top-level object of
 * `text`, trimmed, as the text holds it (`NaN`, `-inf`, `1e400`, `"x"`), or
 * undefined when `text` is not an object or has no such member. `text` is
 * JSON with the extensions above (a line `JSON.parse` refuses for its `NaN`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { topLevelValueText } from "./json_text.ts";
 * const line = '{"note": "pid: 1", "pid": -Infinity, "x": {"pid": 2}}';
 * assert.equal(topLevelValueText(line, "pid"), "-Infinity");
 * assert.equal(topLevelValueText(line, "y"), undefined);
 * ```
 */
export function topLevelValueText(text: string, key: string): string | undefined {
  try {
    const member = splitTopLevel(text)?.find(([keyText]) => JSON.parse(keyText) === key);
    return member?.[1].trim();
  } catch (err) {
    // Not JSON even with the extensions (a key's escape JSON.parse refuses): no such member.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The `[key, value]` texts of the members of the top-level object of `text`. */
/**
 * The members of the JSON object `text` as `[key text, value text]`, in
 * order, a repeated key each time (`undefined` when `text` is no object).
 * Throws `SyntaxError` when it is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { objectMemberTexts } from "./json_text.ts";
 * assert.deepEqual(objectMemberTexts('{"a": 1, "a": "x"}'), [['"a"', " 1"], ['"a"', ' "x"']]);
 * assert.equal(objectMemberTexts("[1]"), undefined);
 * ```
 */
export function objectMemberTexts(text: string): [string, string][] | undefined {
  return splitTopLevel(text);
}

function splitTopLevel(text: string): [string, string][] | undefined {
  const ignore = newFacts();
  const members: [string, string][] = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACE) {
    if (text.charCodeAt(i) !== QUOTE) throw new SyntaxError(`Expected a key at position ${i}`);
    const keyEnd = scanString(text, i, ignore);
    const keyText = text.slice(i, keyEnd + 1);
    i = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(i) !== COLON) throw new SyntaxError(`Expected ':' at position ${i}`);
    const valueStart = i + 1;
    i = valueEnd(text, valueStart, ignore);
    members.push([keyText, text.slice(valueStart, i)]);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return members;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

function newFacts(): JsonTextFacts {
  return {
    depthMax: 0,
    nonFiniteCount: 0,
    trailingCommaCount: 0,
    loneSurrogate: false,
    topLevelMembers: 0,
    members: 0,
  };
}

function mayBeDeeper(text: string, depthMax: number): boolean {
  // A value deeper than depthMax needs more than depthMax opening brackets.
  return text.length > 2 * depthMax && scanJsonText(text).depthMax > depthMax;
}

/** A copy of `value` whose levels below `depthMax` are replaced by the marker (no recursion). */
function cutDeep(value: unknown, depthMax: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  const root: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  const stack: [unknown, Record<string, unknown> | unknown[], number][] = [[value, root, 1]];
  while (stack.length > 0) {
    const [source, target, level] = stack.pop()!;
    for (const [key, child] of Object.entries(source as object)) {
      let copy: unknown = child;
      if (typeof child === "object" && child !== null) {
        if (level >= depthMax) {
          // The marker names the depth cut at; the constant is the default depth's.
          copy = depthMax === JSON_DEPTH_MAX
            ? DEPTH_CUT_MARKER
            : `[nested deeper than ${depthMax} levels: not shown]`;
        } else {
          copy = Array.isArray(child) ? [] : {};
          stack.push([child, copy as Record<string, unknown>, level + 1]);
        }
      }
      (target as Record<string, unknown>)[key] = copy;
    }
  }
  return root;
}

/** Skip the string starting at `start` (a quote); returns the index of its closing quote. */
function scanString(text: string, start: number, facts: JsonTextFacts): number {
  const n = text.length;
  let pendingHigh = false; // the previous escape was a high surrogate
  for (let i = start + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (pendingHigh) facts.loneSurrogate = true;
      return i;
    }
    if (c !== BACKSLASH) {
      if (pendingHigh) facts.loneSurrogate = true;
      pendingHigh = false;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (next !== LOWER_U) {
      if (pendingHigh) facts.loneSurrogate = true;
      pendingHigh = false;
      i += 1;
      continue;
    }
    const unit = Number.parseInt(text.slice(i + 2, i + 6), 16);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    if (pendingHigh && isLow) {
      pendingHigh = false; // a valid pair
    } else {
      if (pendingHigh || isLow) facts.loneSurrogate = true;
      pendingHigh = isHigh;
    }
    i += 5;
  }
  return n;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** `-`, `N`/`n`, `I`/`i`: the first characters of a non-finite token. */
function isNonFiniteStart(c: number): boolean {
  return c === 0x2d || c === 0x4e || c === 0x6e || c === 0x49 || c === 0x69;
}

const NON_FINITE_WORDS = ["infinity", "inf", "nan"];

/** Length of the non-finite token at `i` (`NaN`, `-Infinity`, `inf`, any case), or 0. */
function nonFiniteTokenLength(text: string, i: number): number {
  const sign = text.charCodeAt(i) === 0x2d ? 1 : 0;
  for (const word of NON_FINITE_WORDS) {
    const end = i + sign + word.length;
    if (text.slice(i + sign, end).toLowerCase() !== word) continue;
    const after = text.charCodeAt(end);
    // Letters or digits right after would make it another token (`nano`, `Infinity2`).
    if (!Number.isNaN(after) && /[A-Za-z0-9_]/.test(String.fromCharCode(after))) continue;
    return sign + word.length;
  }
  return 0;
}
