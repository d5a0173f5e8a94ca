/**
 * Wrapping help text to the 80 columns every `--help` fits in (issue 15.8).
 *
 * @module
 */

/** The widest line a help text may have, in code points. */
export const HELP_WIDTH = 80;

/**
 * Wrap `text` at spaces so that no line, with `indent` spaces before the
 * continuation lines and `first` columns already used on the first line, is
 * wider than `width` ({@linkcode HELP_WIDTH} by default). A word longer than
 * the width stays whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { wrapText } from "./_wrap.ts";
 * assert.equal(wrapText("a b", 2, 0), "a b");
 * ```
 */
export function wrapText(
  text: string,
  indent: number,
  first = indent,
  width: number = HELP_WIDTH,
): string {
  const lines: string[] = [];
  let line = "";
  let used = first;
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && used + [...line].length + 1 + [...word].length > width) {
      lines.push(line);
      line = word;
      used = indent;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}
