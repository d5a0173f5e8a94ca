/**
 * SQL expressions for the rules of a valid line that DuckDB's JSON functions
 * do not check by themselves, so that the indexer gives the same verdict as
 * the reader and `verify` (`ledger/event_line.ts`; the rules are listed in
 * docs/EVENTS.md and tests/ledger/line_rules_test.ts runs all three on one
 * table of lines). Each function takes SQL text of a JSON fragment or of a
 * line's text and returns SQL text; nothing here sees input.
 *
 * @module
 */
import { LINE_BYTES_MAX } from "../ledger/limits.ts";
import { JSON_DEPTH_MAX } from "../ledger/json_text.ts";

export { JSON_DEPTH_MAX, LINE_BYTES_MAX };

/** Largest integer a JSON number may hold in an integer field (`Number.MAX_SAFE_INTEGER`). */
export const INTEGER_MAX = Number.MAX_SAFE_INTEGER;

/** The byte order mark, as DuckDB text. */
export const BOM_SQL = "chr(65279)";

/**
 * The fragment is present: not absent, not JSON `null`, and not a
 * non-finite number (`NaN`/`Infinity` read as `null`, which means absent in
 * an optional field). DuckDB gives JSON `null` as SQL NULL already.
 */
export function isPresent(v: string): string {
  return `(${v} IS NOT NULL AND NOT ${isNonFinite(v)})`;
}

/**
 * The JSON fragment is a non-finite number, however the line spelled it
 * (`NaN`, `-Infinity`, `inf` in any letter case, `1e400`: DuckDB keeps the
 * text as written, and each of them casts to a non-finite DOUBLE). Never
 * NULL. The query surface reads stored fragments with the same test.
 */
export function isNonFinite(v: string): string {
  return `coalesce(json_type(${v}) = 'DOUBLE' AND NOT isfinite(TRY_CAST(${v} AS DOUBLE)), false)`;
}

/**
 * A JSON text (as DuckDB writes a fragment of a line) with each non-finite
 * number written `null`: `NaN`, `Infinity`, `-inf` in any letter case, and a
 * number past a double's range (`1e400`), as every ledger reader reads them
 * (SPEC 3). Strings are left as they are (`"a:NaN}"` stays). DuckDB keeps
 * such numbers as the line wrote them, which a strict parser of an index
 * column (`JSON.parse`, Python's `json.loads` of `-inf`) refused. NULL stays
 * NULL.
 *
 * A text that cannot hold one ({@linkcode mayHoldNonFinite}) costs one
 * regular expression. One with `NaN` or an infinity goes through one global
 * replace that matches each string whole (so nothing inside one is touched)
 * or a non-finite word, and writes the string back or, for the word, a
 * marker (`chr(1)`, which JSON text never holds raw); the markers become
 * `null`, those after a string go (on 200k objects of 20 NaNs: 0.85 s, where
 * cutting each into tokens took 3.9 s, a rebuild 2.4x slower than before).
 * Only a text with a number that may be past a double's range (an exponent
 * of three digits, a run of 200 digits) is cut into tokens, each word cast
 * to DOUBLE.
 */
export function finiteJsonText(v: string): string {
  return `CASE WHEN NOT ${mayHoldNonFinite(v)} THEN ${v} ELSE ${nonFiniteAsNull(v)} END`;
}

/**
 * The rewrite of {@linkcode finiteJsonText} without its pre-check, for a
 * caller with a pre-check of its own (the query surface's
 * `printedJsonTextSql`): the JSON text `v` (minified, as DuckDB writes it)
 * with each non-finite number `null`, strings untouched. `v` should be a
 * column or a lambda's variable: it is read up to three times.
 */
export function nonFiniteAsNull(v: string): string {
  const marked = `regexp_replace(${v}, ${STRING_OR_NON_FINITE_WORD_SQL}, '\\1' || chr(1), 'g')`;
  // One line: the query surface's SQL reaches readers' patterns (`filter.ts`'s doc example).
  const token = "t -> CASE WHEN NOT coalesce(isfinite(TRY_CAST(t AS DOUBLE)), true) " +
    "THEN 'null' ELSE t END";
  return `CASE WHEN regexp_matches(${v}, ${MAY_OVERFLOW_SQL}) THEN array_to_string(` +
    `list_transform(regexp_extract_all(${v}, ${JSON_TOKENS_SQL}), ${token}), '') ` +
    `ELSE replace(replace(${marked}, '"' || chr(1), '"'), chr(1), 'null') END`;
}

/**
 * SQL condition: the JSON text `v` may hold a non-finite number, the test
 * that spares every other text {@linkcode finiteJsonText}'s rewrite: `na` or
 * `i` in any case where a value starts (after `:`, `,` or `[`, blanks and a
 * minus; not `n` alone, which `null` starts: a probe found every object
 * holding a `null` rewritten, a rebuild 2-3x slower), or a number that may
 * be past a double's range. Never true of `null`, `true`, `false`, strings
 * that do not look like the start of one, or a number of fewer than 200
 * digits with an exponent of two digits at most. A string may match too
 * (then the rewrite finds nothing to change).
 */
export function mayHoldNonFinite(v: string): string {
  return `regexp_matches(${v}, ${MAY_HOLD_NON_FINITE_SQL})`;
}

/** Where a value may be past a double's range: `1` and 300 zeros, `1e400`, or `...e99`. */
const MAY_OVERFLOW_PATTERN = String.raw`[0-9][eE]\+?[0-9]{3}|[0-9]{200}`;
const MAY_OVERFLOW_SQL = `'${MAY_OVERFLOW_PATTERN}'`;
const MAY_HOLD_NON_FINITE_SQL = String
  .raw`'[:,\[][ \t\n\r]*-?(?:[Nn][Aa]|[Ii])|${MAY_OVERFLOW_PATTERN}'`;

/** A string (group 1, escapes included) or a non-finite word (`NaN`, `-inf`, any case). */
const STRING_OR_NON_FINITE_WORD_SQL = String.raw`'("(?:[^"\\]|\\.)*")|-?(?i:nan|inf(?:inity)?)'`;

/**
 * The tokens of a JSON text, which tile it: a string (escapes included), a
 * word (number, `true`, `false`, `null`, `NaN`, `-inf`: letters, digits,
 * `.`, `+`, `-`), or a run of anything else (punctuation and blanks).
 */
const JSON_TOKENS_SQL = String.raw`'"(?:[^"\\]|\\.)*"|[0-9A-Za-z.+-]+|[^"0-9A-Za-z.+-]+'`;

/**
 * The number a JSON fragment holds as DOUBLE, or NULL when it is not a
 * number. A fragment is a number exactly when it starts with a digit or `-`
 * (a string starts with `"`), so no parse is spent finding out.
 */
export function numberOf(v: string): string {
  return `CASE WHEN ascii(${v}) BETWEEN 48 AND 57 OR ascii(${v}) = 45 ` +
    `THEN TRY_CAST(${v} AS DOUBLE) END`;
}

/**
 * An integer >= 0 as the zod rules read it: any JSON number whose value is
 * whole and at most {@linkcode INTEGER_MAX} (`5`, `5.0`, `5e0`, `-0`), given
 * the number {@linkcode numberOf} read. Never NULL.
 */
export function isWholeCount(n: string): string {
  return `coalesce(${n} BETWEEN 0 AND ${INTEGER_MAX} AND ${n} = floor(${n}), false)`;
}

/** The line's text: without trailing `\r`s, and without a byte order mark on line 1. */
export function lineText(raw: string, line: string): string {
  const trimmed =
    `CASE WHEN ends_with(${raw}, chr(13)) THEN rtrim(${raw}, chr(13)) ELSE ${raw} END`;
  return `CASE WHEN ${line} = 1 AND starts_with(${raw}, ${BOM_SQL}) ` +
    `THEN substr(${trimmed}, 2) ELSE ${trimmed} END`;
}

/** The line (newline included) is longer than {@linkcode LINE_BYTES_MAX}. */
export function isOverlong(raw: string): string {
  return `(strlen(${raw}) + 1 > ${LINE_BYTES_MAX})`;
}

/** The reason text for an overlong line, as the reader words it. */
export function overlongReason(raw: string): string {
  return overlongReasonOf(`strlen(${raw})`);
}

/** {@linkcode overlongReason} of a line of `rawBytes` bytes (an SQL expression), newline not counted. */
export function overlongReasonOf(rawBytes: string): string {
  return `'line of ' || (${rawBytes} + 1) || ' bytes is longer than the limit of ` +
    `${LINE_BYTES_MAX} bytes (newline included)'`;
}

const DEPTH_UNIT = 4_194_304; // 2^22 > any depth a line of LINE_BYTES_MAX can reach

/** Levels one peel removes: {@linkcode DEPTH_PEELS} of them reach {@linkcode JSON_DEPTH_MAX}. */
const PEEL_LEVELS = 8;
const DEPTH_PEELS = JSON_DEPTH_MAX / PEEL_LEVELS;

/**
 * The ASCII characters other than brackets that valid JSON has outside its
 * strings (and more: every printable one and the blanks), as the `from` of
 * `translate`, which deletes them; `{` and `}` go first, to become `[` and `]`.
 */
const NOT_BRACKETS_SQL = (() => {
  const chars: string[] = [];
  for (let code = 0x20; code < 0x7f; code++) {
    const c = String.fromCharCode(code);
    if (!"[]{}".includes(c)) chars.push(c === "'" ? "''" : c);
  }
  return `'{}${chars.join("")}' || chr(9) || chr(10) || chr(13)`;
})();

/**
 * A regular expression matching a whole subtree of at most `levels` levels
 * of `[` and `]` (`\[\]` is one level): one `regexp_replace` with it removes
 * every node of at most that height, and every other node keeps its place,
 * `levels` levels lower.
 */
function subtreePattern(levels: number): string {
  let pattern = "\\[\\]";
  for (let level = 2; level <= levels; level++) pattern = `\\[(?:${pattern})*\\]`;
  return pattern;
}

/**
 * Deepest nesting of objects and arrays of a JSON text, or NULL when it
 * cannot be deeper than {@linkcode JSON_DEPTH_MAX}. Most lines have too few
 * opening brackets (counting those in strings) to be deeper: the cheap test
 * spares them the rest. For the others, the text without its strings is
 * reduced to its brackets (`{}` read as `[]`), and
 * {@linkcode JSON_DEPTH_MAX} / {@linkcode PEEL_LEVELS} peels of
 * {@linkcode subtreePattern} empty it exactly when it is at most that deep.
 * What a line deeper than that keeps after them is its nesting minus
 * {@linkcode JSON_DEPTH_MAX}, counted exactly: the highest running sum of
 * its brackets (`list_reduce` carries `depth * 2^22 + max`).
 *
 * The peels replaced the exact count for every suspect line (a review of
 * dense lines: a trial of 8 KB of `[[0,0],[0,0],...]` kept a list entry of
 * 16-24 bytes a bracket in each vector of 2,048 lines, and a rebuild at
 * 512MB reached 1.3 GB of memory and took four times as long).
 */
export function depthIfSuspect(text: string): string {
  // More than JSON_DEPTH_MAX opening brackets anywhere, counted as the pieces the text splits
  // into at each: 34 ms per 1M lines of the bench's log, against 293 ms for the regexp
  // `(?:[\[{][^\[{]*){65}` and 640-700 ms for counting with replace().
  const suspect = `(len(string_split(${text}, '{')) + len(string_split(${text}, '[')) - 2 > ` +
    `${JSON_DEPTH_MAX})`;
  const noStrings = `regexp_replace(${text}, '"(?:[^"\\\\]|\\\\.)*"', '', 'g')`;
  let peeled = `translate(${noStrings}, ${NOT_BRACKETS_SQL}, '[]')`;
  for (let i = 0; i < DEPTH_PEELS; i++) {
    peeled = `regexp_replace(${peeled}, '${subtreePattern(PEEL_LEVELS)}', '', 'g')`;
  }
  // What is left is brackets only: valid JSON has nothing but ASCII outside its strings (the
  // filter keeps the count exact should a character slip through).
  const brackets = `regexp_replace(${peeled}, '[^\\[\\]]', '', 'g')`;
  const steps = `list_transform(string_split(${brackets}, ''), ` +
    `lambda c: CASE WHEN c = '[' THEN 1::BIGINT ELSE -1::BIGINT END)`;
  const u = DEPTH_UNIT;
  const reduce = `list_reduce(${steps}, lambda acc, x: ` +
    `(acc // ${u} + x) * ${u} + greatest(acc % ${u}, acc // ${u} + x), 0::BIGINT) % ${u}`;
  return `CASE WHEN ${suspect} THEN CASE WHEN ${peeled} = '' THEN NULL ` +
    `ELSE ${JSON_DEPTH_MAX} + ${reduce} END END`;
}

/**
 * The text holds a `\uD800`-`\uDFFF` escape that is not part of a pair
 * (DuckDB's JSON parser refuses the line; this only words the reason).
 */
export function hasLoneSurrogate(text: string): string {
  const pair = `'\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2}'`;
  return `regexp_matches(regexp_replace(${text}, ${pair}, '', 'g'), ` +
    `'\\\\u[dD][89a-fA-F][0-9a-fA-F]{2}')`;
}
