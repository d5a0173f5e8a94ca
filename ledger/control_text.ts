/**
 * Control characters shown as escapes: one rule for every table a person
 * reads, in the terminal (`ledger runs`, `show`, `compare`) and in the
 * report and UI pages, so a stored value can neither send a terminal
 * escape nor hide in a page (an HTML parser drops a NUL: `"a\u0000b"` and
 * `"ab"` looked the same in the report's compare).
 *
 * @module
 */
import { canonicalJson } from "./json_text.ts";

// C0 and C1 control characters, DEL, and the bidirectional overrides.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character shown as an escape (`\x1b`, `\n`),
 * so terminal escapes in stored values never reach the terminal raw.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeControl } from "./control_text.ts";
 * assert.equal(escapeControl("a\x1b[31mb"), "a\\x1b[31mb");
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\t") return "\\t";
    if (ch === "\r") return "\\r";
    const code = ch.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// What breaks or hides a one-line message: the control characters above, and the line and
// paragraph separators, which some terminals and log viewers take as line breaks.
const MESSAGE_BREAKING = new RegExp(`[${CONTROL.source.slice(1, -1)}\\u2028\\u2029]`, "g");

/** `ch` as `\uXXXX`. */
function unicodeEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * A value the user gave (a file path from `--root`, `--calls`, `--out`) as
 * a one-line message names it: as it is when it holds no control character
 * (C0, DEL, C1, the line and paragraph separators, the bidirectional
 * overrides), else as JSON, quoted, with each of them escaped. A newline in
 * `--root` cut the message at it (naming another path and losing the
 * reason), and an ESC sequence in `--out` coloured the terminal (an audit).
 * Run ids and `--where` tokens are quoted always; a plain path is not, so
 * that messages naming one read as they always did.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { messageValue } from "./control_text.ts";
 * assert.equal(messageValue("/tmp/runs"), "/tmp/runs");
 * assert.equal(messageValue("/tmp/nl\nroot"), '"/tmp/nl\\nroot"');
 * assert.equal(messageValue("/tmp/a\x1b[31m\u2028"), '"/tmp/a\\u001b[31m\\u2028"');
 * ```
 */
export function messageValue(text: string): string {
  if (text.search(MESSAGE_BREAKING) < 0) return text;
  return quotedValue(text);
}

/**
 * `text` as JSON, quoted, with every character that would break or hide a
 * one-line message escaped ({@linkcode messageValue} when it must quote).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { quotedValue } from "./control_text.ts";
 * assert.equal(quotedValue("amb"), '"amb"');
 * assert.equal(quotedValue("a\u2028b"), '"a\\u2028b"');
 * ```
 */
export function quotedValue(text: string): string {
  // JSON escapes C0; what it leaves as it is (DEL, C1, the separators, the overrides) too.
  return JSON.stringify(text).replace(MESSAGE_BREAKING, unicodeEscape);
}

/**
 * `line` with every character that would break or hide a one-line message
 * (see {@linkcode messageValue}) shown as an escape, as
 * {@linkcode escapeControl} does, the line and paragraph separators too.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeMessageLine } from "./control_text.ts";
 * assert.equal(escapeMessageLine("a\x1b[31mb\u2028c"), "a\\x1b[31mb\\u2028c");
 * ```
 */
export function escapeMessageLine(line: string): string {
  return line.replace(
    MESSAGE_BREAKING,
    (ch) => ch === "\u2028" || ch === "\u2029" ? unicodeEscape(ch) : escapeControl(ch),
  );
}

/**
 * `text` with the control characters other than tab, newline and carriage
 * return shown as escapes (see {@linkcode escapeControl}): for text whose
 * line breaks are its layout, such as a page's `<pre>` of JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeHiddenControl } from "./control_text.ts";
 * assert.equal(escapeHiddenControl("a\u0000b\n\u202ec"), "a\\x00b\n\\u202ec");
 * ```
 */
export function escapeHiddenControl(text: string): string {
  return text.replace(
    CONTROL,
    (ch) => ch === "\n" || ch === "\t" || ch === "\r" ? ch : escapeControl(ch),
  );
}

/**
 * The cells of one table row (or the labels of one section) whose `values`
 * differ: `cells` as they are, unless two different values would look the
 * same as the table shows them (`shown`: a terminal escapes control
 * characters and pads, a page folds white space); then every value as JSON,
 * strings quoted and numbers whole (`-` for none). The one rule of `ledger
 * compare`'s table and the report's "Config that differs": a newline and the
 * two characters `\n`, `0.12345` and `0.12346` shortened, `3` and `"3"`, `x`
 * and `x ` each told apart (audits and reviews).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { distinctCells } from "./control_text.ts";
 * const shown = (cell: string) => cell.trim();
 * assert.deepEqual(distinctCells(["x", "y"], ["x", "y"], shown), ["x", "y"]);
 * assert.deepEqual(distinctCells(["x", "x "], ["x", "x "], shown), ['"x"', '"x "']);
 * assert.deepEqual(distinctCells([3, "3", null], ["3", "3", "-"], shown), ["3", '"3"', "-"]);
 * assert.deepEqual(distinctCells([-0, "-0"], ["-0", "-0"], shown), ["-0", '"-0"']);
 * const page = (cell: string) => cell.replace(/\s+/g, " ");
 * assert.deepEqual(distinctCells(["c d", "c\u00a0d"], ["c d", "c\u00a0d"], page), [
 *   '"c d"',
 *   '"c\\u00a0d"',
 * ]);
 * ```
 */
export function distinctCells(
  values: readonly unknown[],
  cells: readonly string[],
  shown: (cell: string) => string,
): string[] {
  if (!showsTwoAlike(values, cells, shown)) return [...cells];
  return values.map((v) =>
    v === null || v === undefined ? "-" : Object.is(v, -0) // JSON writes it 0 (helper-296: a -0 told apart from "0.5" lost its sign)
      ? "-0"
      : JSON.stringify(v).replace(UNUSUAL_SPACE, unicodeEscape)
  );
}

/**
 * Spaces other than U+0020 that look like it (no-break, en, em, thin, ideographic, ...): in
 * the JSON of cells told apart they are written as `\uXXXX` (a probe: "c d" and "c\u00a0d"
 * were two cells alike on the page and in the terminal).
 */
const UNUSUAL_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]/g;

/**
 * Whether two of `values` differ (as canonical JSON) while their cells are
 * shown alike. One pass: each shown text keeps the first value it came from,
 * and a later value shown alike is compared with that one only (if some
 * pair shown alike differs, some value differs from its text's first). A
 * compare of 50,000 phases compared every pair: 9 s (a scale audit).
 */
function showsTwoAlike(
  values: readonly unknown[],
  cells: readonly string[],
  shown: (cell: string) => string,
): boolean {
  const first = new Map<string, string>(); // shown text -> canonical JSON of its first value
  for (let i = 0; i < values.length; i++) {
    const text = shown(cells[i]);
    const json = canonicalJson(values[i]);
    const seen = first.get(text);
    if (seen === undefined) first.set(text, json);
    else if (seen !== json) return true;
  }
  return false;
}
