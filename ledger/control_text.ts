/**
 * Control characters shown as escapes: one rule for every table a person
 * reads, in the terminal (`ledger runs`, `show`, `compare`) and in the
 * report and UI pages, so a stored value can neither send a terminal
 * escape nor hide in a page (an HTML parser drops a NUL: `"a\u0000b"` and
 * `"ab"` looked the same in the report's compare).
 *
 * @module
 */

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
