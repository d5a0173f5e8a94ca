/**
 * One-line descriptions of JSON syntax errors, with the line and column of
 * the error. V8's `JSON.parse` messages quote the source text with its
 * newlines (a `--policy @file` typo printed three lines) and say where only
 * for some errors (`Unexpected token 'a', "..." is not valid JSON` has no
 * position). {@linkcode describeJsonError} collapses the whitespace and
 * adds the position, found by {@linkcode jsonErrorOffset}, a scan that
 * stops where V8's parser stops.
 *
 * Pure, no imports: the CLI's `emit` (cold start) uses it as well as the
 * backtest's policy and grid parsers.
 *
 * @module
 */

/** Options for {@linkcode jsonErrorOffset} and {@linkcode describeJsonError}. */
export interface JsonSyntaxOptions {
  /**
   * Also accept what `ledger/json_text.ts`'s `parseJsonText` reads: `NaN`,
   * `Infinity`, `-Infinity`, `inf` (any case) and a trailing comma before
   * `]` or `}`. @default {false}
   */
  extended?: boolean;
}

const NUMBER_DIGITS = /[0-9]*/y;
const SPACES = /[ \t\r\n]*/y;
const NON_FINITE = /-?(?:infinity|inf|nan)(?![A-Za-z0-9_])/iy;
const LITERALS: Readonly<Record<string, string>> = { t: "true", f: "false", n: "null" };
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX = /^[0-9A-Fa-f]$/;

/** What the scan expects next. */
type Expect =
  | "value"
  | "array_first"
  | "array_next"
  | "key_first"
  | "key_next"
  | "after";

/**
 * The offset in `text` at which it stops being JSON, as V8's `JSON.parse`
 * reports it (`text.length` when the text ends too early), or -1 when it is
 * JSON. Iterative: any nesting depth.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { jsonErrorOffset } from "./json_syntax.ts";
 * assert.equal(jsonErrorOffset('{"stopPct": abc}'), 12);
 * assert.equal(jsonErrorOffset('{"a": [1, 2'), 11);
 * assert.equal(jsonErrorOffset('{"a": [1, 2]}'), -1);
 * ```
 */
export function jsonErrorOffset(text: string, options: JsonSyntaxOptions = {}): number {
  const extended = options.extended === true;
  const n = text.length;
  const stack: string[] = []; // the closing bracket of each open object or array
  let expect: Expect = "value";
  let i = 0;
  for (;;) {
    i = spaceEnd(text, i);
    const c = text[i];
    if (expect === "after") {
      if (stack.length === 0) return i < n ? i : -1;
      if (i >= n) return n;
      const close = stack[stack.length - 1];
      if (c === close) {
        stack.pop();
        i++;
      } else if (c === ",") {
        expect = close === "}" ? "key_next" : "array_next";
        i++;
      } else return i;
      continue;
    }
    if (i >= n) return n;
    const closing = stack[stack.length - 1];
    const mayClose = expect === "array_first" || expect === "key_first" ||
      (extended && (expect === "array_next" || expect === "key_next"));
    if (mayClose && c === closing) {
      stack.pop();
      i++;
      expect = "after";
      continue;
    }
    if (expect === "key_first" || expect === "key_next") {
      if (c !== '"') return i;
      const end = stringEnd(text, i);
      if (end.error) return end.at;
      i = end.at;
      i = spaceEnd(text, i);
      if (text[i] !== ":") return i;
      i++;
      expect = "value";
      continue;
    }
    const value = valueEnd(text, i, extended);
    if (value.error) return value.at;
    i = value.at;
    if (c === "{" || c === "[") {
      stack.push(c === "{" ? "}" : "]");
      expect = c === "{" ? "key_first" : "array_first";
    } else expect = "after";
  }
}

/** Where a scalar value (or an opening bracket) starting at `i` ends, or where it goes wrong. */
function valueEnd(text: string, i: number, extended: boolean): { at: number; error: boolean } {
  const c = text[i];
  if (c === "{" || c === "[") return { at: i + 1, error: false };
  if (c === '"') return stringEnd(text, i);
  if (extended) {
    NON_FINITE.lastIndex = i;
    if (NON_FINITE.test(text)) return { at: NON_FINITE.lastIndex, error: false };
  }
  if (c === "-" || (c >= "0" && c <= "9")) return numberEnd(text, i);
  const word = LITERALS[c];
  if (word === undefined) return { at: i, error: true };
  for (let k = 1; k < word.length; k++) {
    if (text[i + k] !== word[k]) return { at: Math.min(i + k, text.length), error: true };
  }
  return { at: i + word.length, error: false };
}

/** Where the number starting at `i` ends, or where it goes wrong (V8's positions). */
function numberEnd(text: string, i: number): { at: number; error: boolean } {
  let j = text[i] === "-" ? i + 1 : i;
  const isDigit = (k: number) => text[k] >= "0" && text[k] <= "9";
  if (!isDigit(j)) return { at: j, error: true }; // no number after the minus sign
  if (text[j] === "0") {
    j++;
    if (isDigit(j)) return { at: j, error: true }; // a leading zero
  } else j = digitsEnd(text, j);
  if (text[j] === ".") {
    j++;
    if (!isDigit(j)) return { at: j, error: true }; // unterminated fraction
    j = digitsEnd(text, j);
  }
  if (text[j] === "e" || text[j] === "E") {
    j++;
    if (text[j] === "+" || text[j] === "-") j++;
    if (!isDigit(j)) return { at: j, error: true }; // exponent without digits
    j = digitsEnd(text, j);
  }
  return { at: j, error: false };
}

/** The end of the JSON whitespace (space, tab, CR, LF) starting at `i`. */
function spaceEnd(text: string, i: number): number {
  SPACES.lastIndex = i;
  SPACES.test(text);
  return SPACES.lastIndex;
}

function digitsEnd(text: string, i: number): number {
  NUMBER_DIGITS.lastIndex = i;
  NUMBER_DIGITS.test(text);
  return NUMBER_DIGITS.lastIndex;
}

/** Where the string whose quote is at `i` ends (after its closing quote), or where it goes wrong. */
function stringEnd(text: string, i: number): { at: number; error: boolean } {
  const n = text.length;
  for (let j = i + 1; j < n; j++) {
    const c = text[j];
    if (c === '"') return { at: j + 1, error: false };
    if (c.charCodeAt(0) < 0x20) return { at: j, error: true }; // a control character
    if (c !== "\\") continue;
    j++;
    if (j >= n) break;
    if (ESCAPES.has(text[j])) continue;
    if (text[j] !== "u") return { at: j, error: true }; // a bad escape
    for (let k = 1; k <= 4; k++) {
      if (j + k >= n) return { at: n, error: true };
      if (!HEX.test(text[j + k])) return { at: j + k, error: true };
    }
    j += 4;
  }
  return { at: n, error: true }; // unterminated
}

/** V8's position suffix, ` at position 7 (line 1 column 8)`, replaced by ours. */
const V8_POSITION = /\s+at position \d+(?: \(line \d+ column \d+\))?/;

/**
 * A one-line description of the error `err` that parsing `text` as JSON
 * threw: its message with whitespace (the quoted source's newlines
 * included) collapsed to single spaces, and where the error is, `at line L
 * column C` (1-based; columns count UTF-16 code units, as V8's do).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeJsonError } from "./json_syntax.ts";
 * const text = '{\n "stopPct": abc\n}';
 * let err: unknown;
 * try {
 *   JSON.parse(text);
 * } catch (e) {
 *   err = e;
 * }
 * assert.equal(
 *   describeJsonError(text, err),
 *   `Unexpected token 'a', "{ "stopPct": abc }" is not valid JSON at line 2 column 13`,
 * );
 * ```
 */
export function describeJsonError(
  text: string,
  err: unknown,
  options: JsonSyntaxOptions = {},
): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
  const offset = jsonErrorOffset(text, options);
  if (offset < 0) return message; // the scan found no error: say what the parser said
  const where = lineColumn(text, offset);
  const stripped = message.replace(V8_POSITION, "");
  return `${stripped} at line ${where.line} column ${where.column}`;
}

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf("\n"); k !== -1 && k < offset; k = text.indexOf("\n", k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The dotted path (`policies.0.stopPct`) of the first object key that
 * `text` repeats within one object, or `undefined` when no key repeats.
 * `JSON.parse` keeps the last value of a repeated key without a word, so a
 * `--policy` or `--grid` saying `"stopPct": 0.3, "stopPct": 0.5` would run
 * with 0.5. Call it on text `JSON.parse` accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { repeatedKeyPath } from "./json_syntax.ts";
 * assert.equal(repeatedKeyPath('{"a":1,"b":{"c":[{"d":1,"d":2}]}}'), "b.c.0.d");
 * assert.equal(repeatedKeyPath('{"a":1,"b":{"a":1}}'), undefined);
 * ```
 */
export function repeatedKeyPath(text: string): string | undefined {
  interface Level {
    path: string;
    keys?: Set<string>; // objects only
    expectKey: boolean;
    current: string; // the key or index being read
  }
  const stack: Level[] = [];
  const child = (): string => {
    const parent = stack.at(-1);
    if (parent === undefined) return "";
    return parent.path === "" ? parent.current : `${parent.path}.${parent.current}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return top.path === "" ? key : `${top.path}.${key}`;
        top.keys.add(key);
        top.expectKey = false;
        top.current = key;
      }
      i = j;
    } else if (c === "{") {
      stack.push({ path: child(), keys: new Set(), expectKey: true, current: "" });
    } else if (c === "[") {
      stack.push({ path: child(), expectKey: false, current: "0" });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack.at(-1);
      if (top?.keys !== undefined) top.expectKey = true;
      else if (top !== undefined) top.current = String(Number(top.current) + 1);
    }
  }
  return undefined;
}
