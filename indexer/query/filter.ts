/**
 * The filter language of SPEC 11 (`--where`): a small recursive-descent
 * parser and its compiler to DuckDB SQL with bound parameters only.
 *
 * ```
 * expr       := or
 * or         := and ("or" and)*
 * and        := unary ("and" unary)*
 * unary      := "not" unary | primary
 * primary    := "(" expr ")" | comparison
 * comparison := FIELD OP VALUE | FIELD "~" STRING | FIELD "is" ["not"] "null"
 * OP         := = | != | < | <= | > | >=
 * VALUE      := NUMBER | 'string' | "string" | true | false | null
 * FIELD      := NAME ("." KEY)*
 * KEY        := (letter | mark | digit | "_" | "-" | "\" any character)+
 * ```
 *
 * A FIELD is named as `ledger export` names a column (`fields.ts`): letters,
 * marks and digits of any script (`config.größe`, `config.名前`), a `.`
 * inside a key written `\.` (`config.a\.b` is the key `"a.b"`, not `b`
 * inside `a`), a `\` written `\\`, and any other character of a key with a
 * `\` before it (`config.learning\ rate`). A key reaches the SQL quoted,
 * never as SQL text (see `jsonPathOf`).
 *
 * Keywords are case-insensitive. In a quoted string a backslash escapes
 * only that string's quote and a backslash (`'it\'s'`, `"say \"hi\""`,
 * `'a\\b'`); any other backslash is kept as it is, so `'^alpha-\d$'` reaches
 * the regular expression engine unchanged. A regular expression after `~`
 * is DuckDB's (RE2 syntax: `(?i)` and `(?P<name>...)`, no look-around or
 * backreferences); {@linkcode checkPatterns} asks DuckDB whether each one
 * compiles before a query runs. A comparison with a number compares
 * numbers: a JSON value stored as the string `"0.3"` and one stored as the
 * number `0.3` both match `<= 0.3`; NaN and infinities count as null. A
 * string compared with `created_at` (or `recorded_at`) is read as a UTC
 * date or instant; a date stands for its whole day (`= '2026-01-20'` is
 * any time that day, `<= '2026-01-20'` up to its end, as `--until` reads it). Errors are {@linkcode FilterSyntaxError}s naming the
 * token and its 1-based column.
 *
 * @module
 */
import {
  type Field,
  INTEGER_TEXT_RE,
  JSON_NUMBER_TEXT,
  PATH_KEY_CHAR_CLASS,
  type QueryParam,
  type QueryTarget,
  resolveField,
  type SqlFragment,
  UnknownFieldError,
} from "./fields.ts";
import { isDateOnly, parseInstant, utcDayStartMs } from "./time.ts";
import type { DuckDBConnection } from "../duckdb.ts";
import { RUN_STATUSES } from "../schema.ts";

/** A comparison operator. */
export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** A literal value of the language. */
export type FilterValue = number | string | boolean | null;

/** The parsed expression. */
export type FilterExpr =
  | { kind: "and" | "or"; left: FilterExpr; right: FilterExpr }
  | { kind: "not"; expr: FilterExpr }
  | {
    kind: "compare";
    field: string;
    column: number;
    op: CompareOp;
    value: FilterValue;
    valueColumn: number;
    /** A number's text as written (a double rounds integers past 2^53). */
    valueText?: string;
  }
  | {
    kind: "regex";
    field: string;
    column: number;
    pattern: string;
    valueColumn: number;
    /** The pattern's quoted text as written, for messages. */
    valueText: string;
  }
  | { kind: "null"; field: string; column: number; negated: boolean };

/**
 * The expression does not parse, or names a field or value that cannot be
 * used. The message names the token and its 1-based column.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { FilterSyntaxError, parseFilter } from "./filter.ts";
 * assert.throws(
 *   () => parseFilter("status = "),
 *   (err) => err instanceof FilterSyntaxError && err.column === 10,
 * );
 * ```
 */
export class FilterSyntaxError extends Error {
  /** 1-based column of the offending token. */
  readonly column: number;
  /** The offending token's text (empty at the end of the input). */
  readonly token: string;
  /** Create the error; `options.cause` is the engine's own error, if any. */
  constructor(message: string, token: string, column: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "FilterSyntaxError";
    this.token = token;
    this.column = column;
  }
}

type TokenKind =
  | "ident"
  | "number"
  | "string"
  | "op"
  | "tilde"
  | "lparen"
  | "rparen"
  | "bad"
  | "end";

interface Token {
  kind: TokenKind;
  text: string;
  /** The value of a number or string token. */
  value?: number | string;
  /** 1-based column. */
  column: number;
  /** A `bad` token's error, thrown when the parser reaches it. */
  error?: FilterSyntaxError;
}

/** Longest accepted expression, in characters. */
export const FILTER_CHARS_MAX = 10_000;
/** Deepest nesting of parentheses and `not`. */
export const FILTER_DEPTH_MAX = 100;

/**
 * A field or a keyword: a name, then any number of `.` and a key of its
 * path: letters, marks and digits of any script, `_`, `-`, and any other
 * character with a `\` before it (`config.a\.b`, `config.größe`; see
 * `fields.ts`).
 */
const IDENT = new RegExp(
  String.raw`[\p{L}_][\p{L}\p{M}\p{N}_]*(?:\.(?:${PATH_KEY_CHAR_CLASS}|\\[^])+)*`,
  "uy",
);
/** A character that ends a field: white space, an operator, a parenthesis, a quote. */
const FIELD_END = /[\s=!<>~()'"]/;
// A sign may lead, `+` too, as the number flags take it (`+6`: a probe found it refused).
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
/** A word that starts as a number does but is not one (`0x10`, `12abc`, `.5e`, `1ö`). */
const NUMBER_LIKE = /-?\.?\d[\p{L}\p{M}\p{N}_.]*/uy;

function describe(t: Token): string {
  return t.kind === "end" ? "end of expression" : JSON.stringify(t.text);
}

/** A character in quotes for a message: a `\` as it is, a control character escaped. */
function quoteChar(ch: string): string {
  return ch === "\\" ? '"\\"' : JSON.stringify(ch);
}

/**
 * The error for the character at `index` of `text`, which goes on a
 * field's path but no key takes as it is: it says how to write it.
 */
function badPathChar(text: string, index: number, column: number): FilterSyntaxError {
  const ch = String.fromCodePoint(text.codePointAt(index)!);
  if (ch === "\\") {
    // A `\` at the end: `\` followed by anything else is part of the key.
    return new FilterSyntaxError(
      `Unexpected "\\" at column ${column}: in a field's path a "\\" escapes the character ` +
        'after it (a "\\" inside a key is written \\\\)',
      ch,
      column,
    );
  }
  if (ch === ".") {
    return new FilterSyntaxError(
      `Unexpected "." at column ${column}: a key of a field's path is never empty ` +
        '(a "." inside a key is written \\.)',
      ch,
      column,
    );
  }
  return new FilterSyntaxError(
    `Unexpected character ${quoteChar(ch)} at column ${column} (a key of a field's path ` +
      "takes letters and digits of any script, _ and -; write any other character with a " +
      `"\\" before it: \\${ch})`,
    ch,
    column,
  );
}

/** The 1-based code point column of each UTF-16 index of `text`, and of its end. */
function codePointColumns(text: string): number[] {
  const columns: number[] = [];
  let column = 1;
  for (const ch of text) {
    for (let k = 0; k < ch.length; k++) columns.push(column);
    column++;
  }
  columns.push(column);
  return columns;
}

/**
 * The tokens of `text`, up to the first character that starts none; that
 * one becomes a `bad` token, whose error the parser throws only if it gets
 * there: `config.k in (1, 2)` names `in`, the first thing wrong, not `,`.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const bad = (error: FilterSyntaxError): Token[] => {
    tokens.push({ kind: "bad", text: error.token, column: error.column, error });
    return tokens;
  };
  // Columns count characters as people see them (code points), not UTF-16 units: an emoji
  // before a bad token must not move its column by one. One pass, not a count per token.
  const columns = codePointColumns(text);
  const columnAt = (index: number) => columns[index];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const column = columnAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")") {
      tokens.push({ kind: ch === "(" ? "lparen" : "rparen", text: ch, column });
      i++;
      continue;
    }
    if (ch === "~") {
      tokens.push({ kind: "tilde", text: ch, column });
      i++;
      continue;
    }
    if (text.startsWith("<>", i)) {
      // SQL's spelling; SPEC 11's operators are = != < <= > >= only.
      return bad(
        new FilterSyntaxError(
          `Unexpected "<>" at column ${column}: use != for "not equal"`,
          "<>",
          column,
        ),
      );
    }
    const op = /^(?:!=|<=|>=|=|<|>)/.exec(text.slice(i, i + 2));
    if (op !== null) {
      tokens.push({ kind: "op", text: op[0], column });
      i += op[0].length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const read = readString(text, i, column);
      if (read instanceof FilterSyntaxError) return bad(read);
      const { value, end } = read;
      tokens.push({ kind: "string", text: text.slice(i, end), value, column });
      i = end;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num !== null && ((ch !== "-" && ch !== "+") || /[\d.]/.test(text[i + 1] ?? ""))) {
      const after = text[i + num[0].length];
      if (after === undefined || !/[\p{L}_]/u.test(after)) {
        const value = Number(num[0]);
        // 1e999 reads as Infinity, which no stored number equals or passes, and 1e-400 as 0,
        // which would match every zero: say so.
        const range = !Number.isFinite(value)
          ? "a double holds at most about 1.8e308"
          : value === 0 && /[1-9]/.test(num[0].replace(/[eE].*$/, ""))
          ? "a double holds no non-zero number below about 4.9e-324"
          : undefined;
        if (range !== undefined) {
          return bad(
            new FilterSyntaxError(
              `Number ${JSON.stringify(num[0])} at column ${column} is out of range (${range})`,
              num[0],
              column,
            ),
          );
        }
        tokens.push({ kind: "number", text: num[0], value, column });
        i += num[0].length;
        continue;
      }
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id !== null) {
      const after = i + id[0].length;
      const next = text[after];
      if (next === "." && (after + 1 === text.length || FIELD_END.test(text[after + 1]))) {
        // `config.x. = 1`: the path stops at a dot.
        return bad(
          new FilterSyntaxError(
            `Unexpected "." at column ${columnAt(after)}: a field's path does not end with "."`,
            ".",
            columnAt(after),
          ),
        );
      }
      if (next === ".") {
        // `config.a$b`, `config..b`: the path goes on with a character no key takes as it is;
        // name that one, and how to write it.
        return bad(badPathChar(text, after + 1, columnAt(after + 1)));
      }
      if (next !== undefined && !FIELD_END.test(next) && id[0].includes(".")) {
        return bad(badPathChar(text, after, columnAt(after)));
      }
      tokens.push({ kind: "ident", text: id[0], column });
      i = after;
      continue;
    }
    NUMBER_LIKE.lastIndex = i;
    const word = NUMBER_LIKE.exec(text);
    if (word !== null) {
      // `0x10`, `12abc`, `.5e`: a word that starts as a number; name all of it, not its digit.
      return bad(
        new FilterSyntaxError(
          `Unexpected ${JSON.stringify(word[0])} at column ${column}: not a number ` +
            "(numbers are written as 12, -0.5 or 1e-3)",
          word[0],
          column,
        ),
      );
    }
    const unknown = String.fromCodePoint(text.codePointAt(i)!);
    return bad(
      new FilterSyntaxError(
        `Unexpected character ${JSON.stringify(unknown)} at column ${column}`,
        unknown,
        column,
      ),
    );
  }
  tokens.push({ kind: "end", text: "", column: columnAt(text.length) });
  return tokens;
}

/**
 * Read a quoted string starting at `start`. A backslash escapes only the
 * string's own quote and a backslash (`\'` in '...', `\"` in "...", `\\`
 * in either); any other backslash is kept with the character after it, so
 * a regular expression keeps its `\d` and `\.` (SPEC 11: no escape
 * processing).
 */
function readString(
  text: string,
  start: number,
  column: number,
): { value: string; end: number } | FilterSyntaxError {
  const quote = text[start];
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\" && i + 1 < text.length) {
      const next = text[i + 1];
      value += next === quote || next === "\\" ? next : ch + next;
      i += 2;
      continue;
    }
    if (ch === quote) return { value, end: i + 1 };
    value += ch;
    i++;
  }
  return new FilterSyntaxError(
    `Unterminated string starting at column ${column}`,
    text.slice(start),
    column,
  );
}

class Parser {
  #tokens: Token[];
  #pos = 0;
  #depth = 0;
  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  /** The current token; a `bad` one throws its error (the first thing wrong is said). */
  get #peek(): Token {
    const t = this.#tokens[this.#pos];
    if (t.error !== undefined) throw t.error;
    return t;
  }

  #kind(): TokenKind {
    return this.#peek.kind;
  }

  #next(): Token {
    const t = this.#peek;
    this.#pos++;
    return t;
  }

  #isKeyword(word: string): boolean {
    const t = this.#peek;
    return t.kind === "ident" && t.text.toLowerCase() === word;
  }

  #fail(expected: string, t: Token = this.#peek): never {
    throw new FilterSyntaxError(
      `Unexpected ${describe(t)} at column ${t.column}: expected ${expected}`,
      t.text,
      t.column,
    );
  }

  parse(): FilterExpr {
    if (this.#kind() === "end") this.#fail("a comparison");
    const expr = this.#or();
    if (this.#kind() !== "end") this.#fail("and, or, or the end of the expression");
    return expr;
  }

  #or(): FilterExpr {
    let left = this.#and();
    while (this.#isKeyword("or")) {
      this.#next();
      left = { kind: "or", left, right: this.#and() };
    }
    return left;
  }

  #and(): FilterExpr {
    let left = this.#unary();
    while (this.#isKeyword("and")) {
      this.#next();
      left = { kind: "and", left, right: this.#unary() };
    }
    return left;
  }

  #unary(): FilterExpr {
    // The expression itself is level 0: FILTER_DEPTH_MAX parentheses or `not`s around a
    // comparison are accepted (a probe: 100 were refused as "at most 100").
    if (++this.#depth > FILTER_DEPTH_MAX + 1) {
      this.#fail(`at most ${FILTER_DEPTH_MAX} levels of nesting`);
    }
    try {
      if (this.#isKeyword("not")) {
        this.#next();
        return { kind: "not", expr: this.#unary() };
      }
      if (this.#kind() === "lparen") {
        this.#next();
        const expr = this.#or();
        if (this.#kind() !== "rparen") this.#fail('")"');
        this.#next();
        return expr;
      }
      return this.#comparison();
    } finally {
      this.#depth--;
    }
  }

  #comparison(): FilterExpr {
    const f = this.#peek;
    if (f.kind !== "ident" || KEYWORDS.has(f.text.toLowerCase())) {
      this.#fail('a field, "not" or "("');
    }
    this.#next();
    const op = this.#peek;
    if (op.kind === "op") {
      this.#next();
      const valueToken = this.#peek;
      return {
        kind: "compare",
        field: f.text,
        column: f.column,
        op: op.text as CompareOp,
        value: this.#value(),
        valueColumn: valueToken.column,
        ...(valueToken.kind === "number" ? { valueText: valueToken.text } : {}),
      };
    }
    if (op.kind === "tilde") {
      this.#next();
      const v = this.#peek;
      if (v.kind !== "string") this.#fail("a quoted regular expression after ~");
      this.#next();
      return {
        kind: "regex",
        field: f.text,
        column: f.column,
        pattern: v.value as string,
        valueColumn: v.column,
        valueText: v.text,
      };
    }
    if (this.#isKeyword("is")) {
      this.#next();
      let negated = false;
      if (this.#isKeyword("not")) {
        this.#next();
        negated = true;
      }
      if (!this.#isKeyword("null")) this.#fail('"null" after "is"');
      this.#next();
      return { kind: "null", field: f.text, column: f.column, negated };
    }
    this.#fail("an operator (= != < <= > >= ~ is)", op);
  }

  #value(): FilterValue {
    const t = this.#next();
    if (t.kind === "number" || t.kind === "string") return t.value!;
    if (t.kind === "ident") {
      const word = t.text.toLowerCase();
      if (word === "true") return true;
      if (word === "false") return false;
      if (word === "null") return null;
    }
    this.#fail("a value (number, quoted string, true, false, null)", t);
  }
}

const KEYWORDS = new Set(["and", "or", "not", "is", "null", "true", "false"]);

/**
 * Parse a filter expression; throws {@linkcode FilterSyntaxError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseFilter } from "./filter.ts";
 * const e = parseFilter("a.b = 1 or not c.d ~ 'x' and e.f is null");
 * assert.equal(e.kind, "or");
 * ```
 */
export function parseFilter(text: string): FilterExpr {
  if (text.length > FILTER_CHARS_MAX) {
    throw new FilterSyntaxError(
      `Expression too long: ${text.length} characters (at most ${FILTER_CHARS_MAX})`,
      "",
      FILTER_CHARS_MAX + 1,
    );
  }
  return new Parser(tokenize(text)).parse();
}

/**
 * Compile parsed expressions for `target` to one SQL condition (all must
 * hold) with `?` parameters. Throws {@linkcode FilterSyntaxError} for an
 * unknown field or a value that cannot be used with its operator. Regular
 * expressions are not checked here (that needs the engine that runs them):
 * call {@linkcode checkPatterns} on the connection before the query.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { compileFilter, parseFilter } from "./filter.ts";
 * const { sql, params } = compileFilter([parseFilter("summary.win_rate >= 0.5")], "runs");
 * assert.match(sql, />= \?/);
 * assert.deepEqual(params, [0.5]);
 * ```
 */
export function compileFilter(exprs: readonly FilterExpr[], target: QueryTarget): SqlFragment {
  if (exprs.length === 0) return { sql: "true", params: [] };
  const parts = exprs.map((e) => compile(e, target));
  return {
    sql: parts.map((p) => `(${p.sql})`).join(" AND "),
    params: parts.flatMap((p) => p.params),
  };
}

/**
 * Parse and compile `--where` texts (all must hold).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { whereSql } from "./filter.ts";
 * assert.equal(whereSql(["status = 'completed'"], "runs").params[0], "completed");
 * ```
 */
export function whereSql(texts: readonly string[], target: QueryTarget): SqlFragment {
  return compileFilter(texts.map(parseFilter), target);
}

/** The query that compiles one pattern with DuckDB's own regexp engine (RE2). */
const PATTERN_CHECK_SQL = "SELECT regexp_matches('', $1)";
/** How DuckDB's error for a pattern it cannot compile starts. */
const PATTERN_ERROR_PREFIX = "Invalid Input Error: ";

type RegexExpr = Extract<FilterExpr, { kind: "regex" }>;

/**
 * Check every regular expression of the `--where` texts with DuckDB's own
 * regexp engine (RE2, the one that runs them), one tiny query per distinct
 * pattern, before the main query runs. A pattern DuckDB cannot compile
 * throws a {@linkcode FilterSyntaxError} naming the pattern's token, its
 * column and DuckDB's reason (the DuckDB error is its `cause`); so does a
 * text that does not parse. Other DuckDB errors pass through.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import { checkPatterns, FilterSyntaxError } from "./filter.ts";
 * const instance = await DuckDBInstance.create(":memory:");
 * const conn = await instance.connect();
 * try {
 *   await checkPatterns(conn, ["run_id ~ '(?i)^ALPHA-\\d$'"]); // RE2 takes (?i) and \d
 *   await assert.rejects(
 *     checkPatterns(conn, ["run_id ~ 'a(?!l)'"]), // RE2 has no look-ahead
 *     (err) => err instanceof FilterSyntaxError && err.column === 10 && err.token === "'a(?!l)'",
 *   );
 * } finally {
 *   conn.disconnectSync();
 *   instance.closeSync();
 * }
 * ```
 */
export async function checkPatterns(
  conn: DuckDBConnection,
  where: readonly string[],
): Promise<void> {
  for (const text of where) {
    const seen = new Set<string>();
    for (const e of regexExprs(parseFilter(text))) {
      if (seen.has(e.pattern)) continue;
      seen.add(e.pattern);
      await checkPattern(conn, e);
    }
  }
}

function regexExprs(e: FilterExpr): RegexExpr[] {
  switch (e.kind) {
    case "and":
    case "or":
      return [...regexExprs(e.left), ...regexExprs(e.right)];
    case "not":
      return regexExprs(e.expr);
    case "regex":
      return [e];
    default:
      return [];
  }
}

async function checkPattern(conn: DuckDBConnection, e: RegexExpr): Promise<void> {
  try {
    await conn.run(PATTERN_CHECK_SQL, [e.pattern]);
  } catch (err) {
    // The query's only input is the pattern: DuckDB's invalid-input error is about it.
    if (!(err instanceof Error && err.message.startsWith(PATTERN_ERROR_PREFIX))) throw err;
    const token = e.valueText; // as written (a column counts code points, not string indexes)
    const reason = err.message.slice(PATTERN_ERROR_PREFIX.length).split("\n")[0];
    throw new FilterSyntaxError(
      `Invalid regular expression ${token} at column ${e.valueColumn}: ${reason}`,
      token,
      e.valueColumn,
      { cause: err },
    );
  }
}

function compile(e: FilterExpr, target: QueryTarget): SqlFragment {
  switch (e.kind) {
    case "and":
    case "or": {
      const l = compile(e.left, target);
      const r = compile(e.right, target);
      return {
        sql: `(${l.sql}) ${e.kind.toUpperCase()} (${r.sql})`,
        params: [...l.params, ...r.params],
      };
    }
    case "not": {
      // NOT of an unknown (NULL) comparison is false, not unknown.
      const inner = compile(e.expr, target);
      return { sql: `NOT coalesce((${inner.sql}), false)`, params: inner.params };
    }
    case "null": {
      // A root alone is the whole object (`summary is null`: a run that has none).
      const f = field(e.field, e.column, target, true);
      return { sql: `${f.text.sql} IS ${e.negated ? "NOT " : ""}NULL`, params: f.text.params };
    }
    case "regex": {
      // The pattern is checked by the engine that runs it: see checkPatterns.
      const f = field(e.field, e.column, target);
      return {
        sql: `regexp_matches(${f.text.sql}, ?)`,
        params: [...f.text.params, e.pattern],
      };
    }
    case "compare": {
      const f = field(e.field, e.column, target);
      // A status no run has is a typo (a probe: `status = 'complete'` listed nothing, exit 0,
      // where `--status complete` is a usage error).
      if (
        e.field === "status" && (e.op === "=" || e.op === "!=") && typeof e.value === "string" &&
        !(RUN_STATUSES as readonly string[]).includes(e.value)
      ) {
        throw new FilterSyntaxError(
          `Unknown status ${JSON.stringify(e.value)} at column ${e.valueColumn}: a run's ` +
            `status is one of ${RUN_STATUSES.join(", ")}`,
          e.value,
          e.valueColumn,
        );
      }
      return compileCompare(e, f);
    }
  }
}

function field(name: string, column: number, target: QueryTarget, allowBareRoot = false): Field {
  try {
    return resolveField(name, target, { column, allowBareRoot });
  } catch (err) {
    if (err instanceof UnknownFieldError) {
      throw new FilterSyntaxError(err.message, name, column);
    }
    throw err;
  }
}

function compileCompare(
  e: Extract<FilterExpr, { kind: "compare" }>,
  f: Field,
): SqlFragment {
  const op = e.op === "!=" ? "<>" : e.op;
  const v = e.value;
  if (v === null) {
    if (e.op !== "=" && e.op !== "!=") {
      throw new FilterSyntaxError(
        `Cannot compare ${e.field} ${e.op} null at column ${e.column}: use = null, != null, ` +
          "is null or is not null",
        "null",
        e.column,
      );
    }
    return { sql: `${f.text.sql} IS ${e.op === "=" ? "" : "NOT "}NULL`, params: f.text.params };
  }
  if (typeof v === "number") {
    if (f.kind === "time") refuseDateNumber(e, v);
    const exact = exactLiteralOf(e.valueText);
    let compared: SqlFragment;
    if (exact !== undefined && f.kind !== "time") {
      // Past 2^53 a double rounds: 9007199254740993 = 9007199254740992. An integer value
      // compares exactly with the literal's exact value, however written (9007199254740993.0,
      // 1e16: a probe saw them compared as doubles); any other value as a double.
      const int = integerCompare(integerOf(f), op, exact);
      compared = {
        sql: `coalesce(${int.sql}, ${f.num.sql} ${op} ?)`,
        params: [...int.params, ...f.num.params, v],
      };
    } else {
      compared = { sql: `${f.num.sql} ${op} ?`, params: [...f.num.params, v] };
    }
    if (e.op !== "!=") return compared;
    // A value that is there but no number (true, "none", an object) is not equal to the number:
    // kept, as `!= true` and `!= 'abc'` keep the values of other types (a probe: `config.stop
    // != 0.02` hid every run whose stop was "none" or an object). A missing value is not kept.
    return {
      sql: `CASE WHEN ${f.text.sql} IS NULL THEN NULL ELSE coalesce(${compared.sql}, true) END`,
      params: [...f.text.params, ...compared.params],
    };
  }
  if (typeof v === "boolean") {
    if (f.kind !== "json") {
      // A plain field never holds a boolean: `= true` would match nothing, or (as it did) the
      // text "true"; `created_at = true` was taken without a word (a probe).
      const what = f.kind === "text"
        ? `text: write '${v}' to compare the text`
        : f.kind === "time"
        ? "a time, never true or false"
        : "a number, never true or false";
      throw new FilterSyntaxError(
        `${e.field} is ${what} (${e.field} ${e.op} ${v}, column ${e.valueColumn})`,
        String(v),
        e.valueColumn,
      );
    }
    if (e.op !== "=" && e.op !== "!=") {
      throw new FilterSyntaxError(
        `Cannot order by a boolean: ${e.field} ${e.op} ${v} at column ${e.column}`,
        String(v),
        e.column,
      );
    }
    // Only a stored true or false (or its text) matches: not 1, "yes" or "t", which a cast to
    // BOOLEAN would take (and `= 1` never matches true: no loose equality either way). In a
    // JSON field the string "true" is not the boolean true.
    if (f.kind === "json") {
      const same = `(json_type(${f.value.sql}) = 'BOOLEAN' AND ${f.text.sql} = ?)`;
      return {
        sql: `CASE WHEN ${f.text.sql} IS NULL THEN NULL ELSE ${
          e.op === "=" ? same : `NOT ${same}`
        } END`,
        params: [...f.text.params, ...f.value.params, ...f.text.params, String(v)],
      };
    }
    return { sql: `${f.text.sql} ${op} ?`, params: [...f.text.params, String(v)] };
  }
  if (f.kind === "time") {
    let ms: number;
    try {
      ms = parseInstant(v);
    } catch (err) {
      throw new FilterSyntaxError(
        `${err instanceof Error ? err.message : String(err)} (${e.field}, column ${e.valueColumn})`,
        v,
        e.valueColumn,
      );
    }
    if (isDateOnly(v)) return compareDay(f.value, e.op, ms);
    return { sql: `${f.value.sql} ${op} ?`, params: [...f.value.params, ms] };
  }
  if (f.kind === "number") {
    // A number field holds numbers only: duration_ms > '500' means 500, not the text "500";
    // '10s' is no number, and compared as text it matched by the digits' order (a probe).
    // A number as JSON writes one, as a string counts as a number in a JSON field: `Number()`
    // also took '0x10000', '0b1', ' 10 ' and '+10' (a probe).
    if (JSON_NUMBER_TEXT.test(v) && Number.isFinite(Number(v))) {
      return { sql: `${f.num.sql} ${op} ?`, params: [...f.num.params, Number(v)] };
    }
    throw new FilterSyntaxError(
      `${e.field} is a number of milliseconds: ${JSON.stringify(v)} is not a number ` +
        `(column ${e.valueColumn}); write the milliseconds, e.g. ${e.field} ${e.op} 10000 for 10 s`,
      v,
      e.valueColumn,
    );
  }
  return { sql: `${f.text.sql} ${op} ?`, params: [...f.text.params, v] };
}

/** One UTC day, in ms. */
const DAY_MS = 86_400_000;

/**
 * Refuse a number compared with a time that reads as a date written
 * `yyyymmdd` (`created_at > 20260120`): a number is epoch milliseconds, and
 * as that it is an instant of 1970-01-01, before any run (a probe: taken
 * without a word, every run matched).
 */
function refuseDateNumber(e: Extract<FilterExpr, { kind: "compare" }>, v: number): void {
  // By value, however written: `+20260120`, `020260120`, `20260120.0`, `2.026012e7` are the
  // same number (a probe: only the eight digits were refused).
  const m = Number.isInteger(v) ? /^(\d{4})(\d{2})(\d{2})$/.exec(String(v)) : null;
  if (m === null || Number(m[1]) < 1900) return;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  if (utcDayStartMs(iso) === undefined) return; // no such day (20261399): a number of ms
  throw new FilterSyntaxError(
    `${e.field} ${e.op} ${e.valueText} reads ${v} as epoch milliseconds ` +
      `(${new Date(v).toISOString()}); write the date as a string, '${iso}' (column ` +
      `${e.valueColumn})`,
    e.valueText ?? String(v),
    e.valueColumn,
  );
}

/**
 * A time compared with a date (`created_at <= '2026-01-20'`): the date is
 * its whole UTC day, as `--until 2026-01-20` reads it. `=` is within the
 * day, `!=` outside it, `<` and `>=` before or from its first instant,
 * `<=` and `>` up to or after its last.
 */
function compareDay(value: SqlFragment, op: CompareOp, dayStartMs: number): SqlFragment {
  const dayEndMs = dayStartMs + DAY_MS; // exclusive
  const v = value.sql;
  const one = (sql: string, ms: number): SqlFragment => ({ sql, params: [...value.params, ms] });
  switch (op) {
    case "=":
      return {
        sql: `${v} >= ? AND ${v} < ?`,
        params: [...value.params, dayStartMs, ...value.params, dayEndMs],
      };
    case "!=":
      return {
        sql: `${v} < ? OR ${v} >= ?`,
        params: [...value.params, dayStartMs, ...value.params, dayEndMs],
      };
    case "<":
      return one(`${v} < ?`, dayStartMs);
    case ">=":
      return one(`${v} >= ?`, dayStartMs);
    case "<=":
      return one(`${v} < ?`, dayEndMs);
    case ">":
      return one(`${v} >= ?`, dayEndMs);
  }
}

/** Integers from 2^53 on (either sign) are where a double stops being exact. */
const DOUBLE_EXACT_MAX = 2 ** 53;
/** The HUGEINT range DuckDB compares exactly: |x| < 2^127. */
const HUGEINT_MAX = 2n ** 127n - 1n;

/**
 * The exact value of a number literal as written (`9007199254740993`,
 * `9007199254740993.0`, `9.007199254740993e15`, `1e16`, `-9007199254740992.5`)
 * when a double could round it or an integer near it: from 2^53 - 1 on in
 * magnitude, within HUGEINT. `floor` is the greatest integer at or below it;
 * `whole` whether it is that integer. Otherwise undefined: a double compares
 * it as well as anything.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { exactLiteralOf } from "./filter.ts";
 * assert.deepEqual(exactLiteralOf("1e16"), { floor: 10000000000000000n, whole: true });
 * assert.deepEqual(exactLiteralOf("9007199254740992.5"), { floor: 9007199254740992n, whole: false });
 * assert.deepEqual(exactLiteralOf("-9007199254740992.5"), { floor: -9007199254740993n, whole: false });
 * assert.equal(exactLiteralOf("0.5"), undefined);
 * ```
 */
export function exactLiteralOf(
  text: string | undefined,
): { floor: bigint; whole: boolean } | undefined {
  const m = text?.match(/^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/);
  if (m === undefined || m === null || (m[2] + (m[3] ?? "")) === "") return undefined;
  const [, sign, whole, fraction = "", exponentText = "0"] = m;
  const exponent = Number(exponentText) - fraction.length;
  const digits = BigInt(whole + fraction);
  // Past 10^40 a value is beyond HUGEINT (2^127 is about 1.7e38): a double compares it.
  if (exponent > HUGEINT_DIGITS_MAX || digits === 0n) return undefined;
  let floor: bigint;
  let exact: boolean;
  if (exponent >= 0) {
    floor = digits * 10n ** BigInt(exponent);
    exact = true;
  } else if (-exponent > (whole + fraction).length + HUGEINT_DIGITS_MAX) {
    return undefined; // below 1 in magnitude, far: a double compares it
  } else {
    const scale = 10n ** BigInt(-exponent);
    floor = digits / scale;
    exact = digits % scale === 0n;
  }
  if (sign === "-") {
    floor = exact ? -floor : -floor - 1n;
  }
  const magnitude = floor < 0n ? -floor : floor;
  if (magnitude < BigInt(DOUBLE_EXACT_MAX) - 1n || magnitude > HUGEINT_MAX) return undefined;
  return { floor, whole: exact };
}

/** Digits past which a literal's value is beyond HUGEINT's range in any case. */
const HUGEINT_DIGITS_MAX = 40;

/**
 * The comparison `int op exact` of an integer field's exact value (`int`,
 * NULL for a value that is no such integer) with a literal's exact value,
 * NULL where `int` is: with a fraction, `x > 2.5` is `x > 2`, `x < 2.5` is
 * `x <= 2`, `x = 2.5` never holds and `x <> 2.5` always does.
 */
function integerCompare(
  int: SqlFragment,
  op: string,
  exact: { floor: bigint; whole: boolean },
): SqlFragment {
  const against = (intOp: string): SqlFragment => ({
    sql: `${int.sql} ${intOp} CAST(? AS HUGEINT)`,
    params: [...int.params, exact.floor.toString()],
  });
  if (exact.whole) return against(op);
  if (op === ">" || op === ">=") return against(">");
  if (op === "<" || op === "<=") return against("<=");
  // = and <>: no integer equals a number with a fraction.
  return {
    sql: `CASE WHEN ${int.sql} IS NOT NULL THEN ${op === "=" ? "false" : "true"} END`,
    params: int.params,
  };
}

/**
 * SQL giving a field's exact value as a HUGEINT where a double cannot hold
 * it, else NULL: the exact side of comparisons and sorts of integers past
 * 2^53. Text that is an integer (`INTEGER_TEXT_RE`, as written in the JSON or a
 * string of digits) is cast whole; any other number from 2^53 on is a double,
 * and every such double is an integer, so its value is exact as it stands
 * (a Python writer's `1e+16` or `9007199254740992.0`, which DuckDB shows as
 * `10000000000000000.0`: an oracle audit saw them sort after every integer
 * of the same double, in both directions, and compared with the rounded
 * literal in `--where`).
 */
function integerOf(f: Field, type: "HUGEINT" | "BIGNUM" = "HUGEINT"): SqlFragment {
  return {
    sql:
      `CASE WHEN regexp_full_match(${f.text.sql}, '${INTEGER_TEXT_RE}') THEN TRY_CAST(${f.text.sql} ` +
      `AS ${type}) WHEN abs(${f.num.sql}) >= ${DOUBLE_EXACT_MAX} THEN TRY_CAST(${f.num.sql} ` +
      `AS ${type}) END`,
    params: [...f.text.params, ...f.text.params, ...f.num.params, ...f.num.params],
  };
}

/**
 * A sort key that orders exactly the values of `f` a double cannot tell
 * apart: the BIGNUM (DuckDB's integer of any size) of a number from 2^53 on
 * (either sign, an integer as written or a double), NULL for any other
 * value. Sorted after the double itself, it breaks only its ties. (A HUGEINT
 * ended at 2^127: a probe's seeds 10^40 + 1 and 10^40 + 2 tied, and sorted in
 * the default order.)
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { exactIntegerSortKey } from "./filter.ts";
 * import { resolveField } from "./fields.ts";
 * const key = exactIntegerSortKey(resolveField("config.seed", "runs"));
 * assert.match(key.sql, /^CASE WHEN abs\(.*\) >= 9007199254740992 THEN .*BIGNUM/);
 * ```
 */
export function exactIntegerSortKey(f: Field): SqlFragment {
  const int = integerOf(f, "BIGNUM");
  return {
    sql: `CASE WHEN abs(${f.num.sql}) >= ${DOUBLE_EXACT_MAX} THEN ${int.sql} END`,
    params: [...f.num.params, ...int.params],
  };
}

/** The parameters of a fragment, for callers that build larger statements. */
export type { QueryParam, SqlFragment };
