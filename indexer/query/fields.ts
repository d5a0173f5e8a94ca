/**
 * The fields of the query surface (SPEC 11) and the SQL each one reads.
 * A field is a name (`run_id`, `created_at`) or a root with a dotted path
 * into a JSON object (`config.policy.stopPct`, `summary.win_rate`,
 * `tags.label`). Values are always bound parameters. A JSON path is written
 * into the SQL as a constant (DuckDB then parses it once, not per row: about
 * 1.6x faster at 100k runs): each key quoted as DuckDB reads a JSON path
 * ({@linkcode jsonPathOf}), the whole a SQL string with its quotes doubled,
 * so a key with a `.`, a quote or any other character reads that key and
 * nothing else; tag keys are bound.
 *
 * A path is named as `ledger export` names its columns and `ledger compare`
 * its paths (`flat_path.ts`): keys joined with `.`, a `.` inside a key
 * written `\.` and a `\` written `\\` (`config.a\.b` is the key `"a.b"`,
 * `config.a.b` the key `b` of `a`); keys may hold letters and digits of any
 * script (`config.größe`, `config.名前`); `\0` is a NUL (export's name of a
 * key holding one). A `\` before any other character is that character: in `--where` a key's characters other than letters,
 * marks, digits, `_` and `-` ({@linkcode PATH_KEY_CHAR}) are written so
 * (`config.learning\ rate`, `config.\$ref`), since they would end the
 * field; `--sort` and `--columns` also take them as they are, but for
 * their lists' separators (`\,`, and `\:` in a sort key: see
 * {@linkcode splitFieldList}). Keys match code point for code point (no
 * Unicode normalization), as export writes them. Names no field takes: an
 * empty key (`config.`, `config.a..b`), a name that ends in a lone `\`,
 * one that holds half a surrogate pair, and the `~2`, `~3`
 * suffixes export gives names equal but for ASCII case (`config.n~2` is
 * the key `"n~2"`; the key `n` is `config.n`).
 *
 * Runs are read from the `latest_runs` view as `r`; trials from
 * `trial_results` as `t`, and a trial query may also name its run's fields
 * (SPEC 11: `config.fee_bps`, `status`...), read from `latest_runs` as `r`
 * (see {@linkcode readsRun}).
 *
 * @module
 */
import { isoTimeSql } from "./time.ts";
import { isNonFinite } from "../_line_checks.ts";
import { RUN_DURATION_SQL } from "../schema.ts";
import { assert } from "../../ledger/assert.ts";
import { flatFieldName, flatPathSegments } from "./flat_path.ts";
import { printedJsonTextSql } from "./_json.ts";

/** What a query lists: runs or trials. */
export type QueryTarget = "runs" | "trials";

/** A value bound to a `?` placeholder. */
export type QueryParam = string | number | boolean | null;

/** SQL text with its `?` parameters, in order. */
export interface SqlFragment {
  /** SQL with `?` placeholders. */
  sql: string;
  /** The values of the placeholders, in order. */
  params: QueryParam[];
}

/** How a field compares: as text, as a number, as an instant, or as a JSON value. */
export type FieldKind = "text" | "number" | "time" | "json";

/** A field named on the command line, resolved. */
export interface Field {
  /** The name as written (`summary.win_rate`). */
  name: string;
  /** The root (`summary`) or the plain field (`run_id`). */
  root: string;
  /** The path inside a JSON root, empty for plain fields. */
  path: string[];
  /** How it compares. */
  kind: FieldKind;
  /** SQL giving the value as text (NULL when absent). */
  text: SqlFragment;
  /** SQL giving the value as a finite DOUBLE (NULL when absent or not a number). */
  num: SqlFragment;
  /** SQL giving the whole JSON value (for JSON roots) or the plain value. */
  value: SqlFragment;
}

/**
 * The field does not exist for this target. `column` is 1-based in the
 * text it came from, when known.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { UnknownFieldError } from "./fields.ts";
 * assert.match(new UnknownFieldError("confg.x", "runs").message, /"confg\.x"/);
 * ```
 */
export class UnknownFieldError extends Error {
  /** The field as written. */
  readonly field: string;
  /** Whether `field` is a JSON root alone (`summary`), refused where a path is needed. */
  readonly bareRoot: boolean;
  /**
   * Create the error for `field` of `target`; `bareRoot` when `field` is a
   * JSON root alone (`summary`), which only some places take.
   */
  constructor(field: string, target: QueryTarget, column?: number, bareRoot = false) {
    super(
      `Unknown field "${asTyped(field)}"${column === undefined ? "" : ` at column ${column}`} (${
        bareRoot
          ? `the whole object, which only --columns and is null / is not null take: name a ` +
            `path in it, ${field}.<path>`
          : `fields: ${fieldHelp(target)}`
      })`,
    );
    this.name = "UnknownFieldError";
    this.field = field;
    this.bareRoot = bareRoot;
  }
}

/**
 * `field` as the user typed it, for a message: control characters escaped
 * as JSON escapes them, nothing else (JSON quoting doubled the backslash of
 * `config.a\.b`, a query audit).
 */
function asTyped(field: string): string {
  // deno-lint-ignore no-control-regex
  return field.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

interface PlainField {
  kind: FieldKind;
  /** The SQL of the value. */
  sql: string;
}

/** Plain (non-JSON) fields of runs: the SQL reads the `latest_runs` row `r`. */
const RUN_FIELDS: Record<string, PlainField> = {
  run_id: { kind: "text", sql: "r.run_id" },
  run_type: { kind: "text", sql: "r.run_type" },
  status: { kind: "text", sql: "r.status" },
  created_at: { kind: "time", sql: "r.created_at_ms" },
  duration_ms: {
    kind: "number",
    sql: RUN_DURATION_SQL,
  },
  label: { kind: "text", sql: "r.label" },
};

/** JSON roots of runs: the column holding the JSON text. */
const RUN_JSON_ROOTS: Record<string, string> = {
  config: "r.config",
  summary: "r.summary_json",
};

/** Plain fields of trials: the SQL reads the `trial_results` row `t`. */
const TRIAL_FIELDS: Record<string, PlainField> = {
  run_id: { kind: "text", sql: "t.run_id" },
  trial_id: { kind: "text", sql: "t.trial_id" },
  recorded_at: { kind: "time", sql: "t.recorded_at_ms" },
};

const TRIAL_JSON_ROOTS: Record<string, string> = {
  params: "t.params",
  metrics: "t.metrics",
};

/**
 * A character a key of a field's path holds as it is in `--where`: a
 * letter, mark or digit of any script, `_` or `-`. Any other character of a
 * key is written with a `\` before it there (see the module's notes).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PATH_KEY_CHAR } from "./fields.ts";
 * assert.ok([..."größe_名前-1"].every((c) => PATH_KEY_CHAR.test(c)));
 * assert.ok(![..." .'\\$"].some((c) => PATH_KEY_CHAR.test(c)));
 * ```
 */
export const PATH_KEY_CHAR: RegExp = /^[\p{L}\p{M}\p{N}_-]$/u;

/**
 * The character class of {@linkcode PATH_KEY_CHAR}, for a lexer's own
 * patterns (flag `u`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PATH_KEY_CHAR_CLASS } from "./fields.ts";
 * assert.ok(new RegExp(`^${PATH_KEY_CHAR_CLASS}+$`, "u").test("名前"));
 * ```
 */
export const PATH_KEY_CHAR_CLASS: string = PATH_KEY_CHAR.source.slice(1, -1);

/**
 * The keys of the path of a field (the name after its root's `.`), read
 * as {@linkcode flatPathSegments} reads an export's column name; undefined
 * when no field has that path (an empty key, a lone `\` at the end, a NUL
 * or half a surrogate pair: none can be typed or reach DuckDB whole).
 */
function pathKeys(text: string): string[] | undefined {
  if (!text.isWellFormed() || text.includes("\0") || /(?:^|[^\\])(?:\\\\)*\\$/.test(text)) {
    return undefined;
  }
  const keys = flatPathSegments(text);
  return keys.includes("") ? undefined : keys;
}

/**
 * The items of a list of fields (`--columns F1,F2`, `--sort F1,F2:desc`),
 * split at each `separator` no `\` escapes (a `,` inside a key is written
 * `\,`, a `:` in a sort key `\:`), each without the white space around it
 * (but an escaped one: `config.x\ `). Escapes are kept, for
 * {@linkcode resolveField} to read.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { splitFieldList } from "./fields.ts";
 * assert.deepEqual(splitFieldList("config.a\\,b, config.größe"), ["config.a\\,b", "config.größe"]);
 * assert.deepEqual(splitFieldList("config.a\\:b : desc", ":"), ["config.a\\:b", "desc"]);
 * ```
 */
export function splitFieldList(text: string, separator = ","): string[] {
  assert(separator.length === 1 && separator !== "\\", "a list separator is one character");
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++; // the escaped character is the name's
    else if (text[i] === separator) {
      items.push(trimItem(text.slice(start, i)));
      start = i + 1;
    }
  }
  items.push(trimItem(text.slice(start)));
  return items;
}

/** `item` without the white space around it, but an escaped one at its end. */
function trimItem(item: string): string {
  const start = item.length - item.trimStart().length;
  let end = item.trimEnd().length;
  const backslashes = item.slice(0, end).match(/\\*$/)![0].length;
  if (end < item.length && backslashes % 2 === 1) end++;
  return item.slice(start, Math.max(start, end));
}

/** The fields of `target`, for help and error messages. */
export function fieldHelp(target: QueryTarget): string {
  if (target === "runs") {
    return "run_id, run_type, status, created_at, duration_ms, label, config.<path>, " +
      "summary.<path>, tags.<key>";
  }
  return "run_id, trial_id, recorded_at, params.<path>, metrics.<path>, and the run's " +
    "run_type, status, created_at, duration_ms, label, config.<path>, summary.<path>, tags.<key>";
}

/**
 * The SQL reads the run's row `r` of `latest_runs`: a trial query that holds
 * it joins its trials' runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readsRun, resolveField } from "./fields.ts";
 * assert.ok(readsRun(resolveField("config.fee_bps", "trials").text.sql));
 * assert.ok(!readsRun(resolveField("metrics.sharpe", "trials").text.sql));
 * ```
 */
export function readsRun(sql: string): boolean {
  return /\br\./.test(sql);
}

/** Options for {@linkcode resolveField}. */
export interface ResolveFieldOptions {
  /**
   * Accept a bare JSON root (`config`) meaning the whole object: `--columns`
   * shows it, `--where`'s `is null` tests it. @default {false}
   */
  allowBareRoot?: boolean;
  /** Column of the name in its source text, for error messages. @default {undefined} */
  column?: number;
}

/**
 * Resolve a field name for `target`; throws {@linkcode UnknownFieldError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveField } from "./fields.ts";
 * const f = resolveField("summary.win_rate", "runs");
 * assert.equal(f.kind, "json");
 * // The JSON path is a SQL constant built from checked segments, not a bound parameter.
 * assert.match(f.num.sql, /json_extract_string\(r\.summary_json, '\$\."win_rate"'\)/);
 * assert.deepEqual(f.num.params, []);
 * ```
 */
export function resolveField(
  name: string,
  target: QueryTarget,
  options: ResolveFieldOptions = {},
): Field {
  const plain = (target === "runs" ? RUN_FIELDS : TRIAL_FIELDS)[name];
  if (plain !== undefined && Object.hasOwn(target === "runs" ? RUN_FIELDS : TRIAL_FIELDS, name)) {
    return plainField(name, plain);
  }
  const dot = name.indexOf(".");
  const root = dot < 0 ? name : name.slice(0, dot);
  const bad = () => new UnknownFieldError(name, target, options.column);
  const path = dot < 0 ? [] : pathKeys(name.slice(dot + 1));
  if (path === undefined) throw bad();
  if (target === "runs" && root === "tags") {
    if (path.length === 0) {
      if (options.allowBareRoot) return allTagsField();
      throw new UnknownFieldError(name, target, options.column, true);
    }
    if (path.length !== 1) throw bad();
    return tagField(flatFieldName(root, path), path[0]);
  }
  const roots = target === "runs" ? RUN_JSON_ROOTS : TRIAL_JSON_ROOTS;
  if (!Object.hasOwn(roots, root)) {
    if (target === "runs") throw bad();
    // A trial names its run's fields too (SPEC 11); trial_id and run_id are the trial's own.
    try {
      return resolveField(name, "runs", options);
    } catch (err) {
      // A run's root alone (`config`) keeps its own hint; anything else lists the trial's fields.
      if (err instanceof UnknownFieldError) {
        throw err.bareRoot ? new UnknownFieldError(name, target, options.column, true) : bad();
      }
      throw err;
    }
  }
  if (path.length === 0 && !options.allowBareRoot) {
    throw new UnknownFieldError(name, target, options.column, true);
  }
  // Named as every output names the path (`config.a\,b` typed is the column `config.a,b`, as
  // `export` has it: a probe saw the two disagree).
  const canonical = path.length === 0 ? root : flatFieldName(root, path);
  return jsonField(canonical, root, path, roots[root]);
}

/**
 * Text that is a number as JSON writes one (`10`, `-0.5`, `1e3`): the only
 * text `--where` and `--sort` read as a number, as `export` types a column
 * (`"0010"`, `" 10 "`, `"+5"` stay text: a probe saw `config.z = 10` match
 * all three where `export` kept them text). An RE2 pattern.
 */
export const NUMBER_TEXT_RE = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
/**
 * A whole text that is a number as JSON writes one ({@linkcode NUMBER_TEXT_RE}),
 * for JavaScript: a `--where` value, a report's summary metric.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { JSON_NUMBER_TEXT } from "./fields.ts";
 * assert.ok(JSON_NUMBER_TEXT.test("0.5") && JSON_NUMBER_TEXT.test("1e3"));
 * assert.ok(!JSON_NUMBER_TEXT.test("0010") && !JSON_NUMBER_TEXT.test(" 7"));
 * ```
 */
export const JSON_NUMBER_TEXT: RegExp = new RegExp(`^${NUMBER_TEXT_RE}$`);
/** Text that is an integer as JSON writes one (see {@linkcode NUMBER_TEXT_RE}). */
export const INTEGER_TEXT_RE = String.raw`-?(?:0|[1-9]\d*)`;

/** SQL: the text `sql` as a DOUBLE when it is a number as JSON writes one, else NULL. */
function numberOfText(sql: string): string {
  return `list_transform([${sql}], lambda s: CASE WHEN regexp_full_match(s, '${NUMBER_TEXT_RE}') ` +
    "THEN TRY_CAST(s AS DOUBLE) END)[1]";
}

function plainField(name: string, f: PlainField): Field {
  const text = f.kind === "time"
    ? isoTimeSql(f.sql)
    : f.kind === "number"
    ? `CAST(${f.sql} AS VARCHAR)`
    : f.sql;
  const num = f.kind === "text" ? finite(numberOfText(f.sql)) : `CAST(${f.sql} AS DOUBLE)`;
  return {
    name,
    root: name,
    path: [],
    kind: f.kind,
    text: { sql: text, params: [] },
    num: { sql: num, params: [] },
    value: { sql: f.sql, params: [] },
  };
}

/**
 * Every tag of the run as one JSON object (`--columns tags`), its keys in
 * order: `json_group_object` followed the table's row order, which each
 * rebuild lays out anew, so `export`'s `tags.*` columns came in another
 * order from two indexes of one log (a differential audit).
 */
function allTagsField(): Field {
  const sql = "(SELECT to_json(map_from_entries(list((g.key, g.value) ORDER BY g.key))) " +
    "FROM run_tags g WHERE g.run_id = r.run_id)";
  return {
    name: "tags",
    root: "tags",
    path: [],
    kind: "json",
    text: { sql: `${sql}::VARCHAR`, params: [] },
    num: { sql: "NULL::DOUBLE", params: [] },
    value: { sql, params: [] },
  };
}

function tagField(name: string, key: string): Field {
  const sql = "(SELECT g.value FROM run_tags g WHERE g.run_id = r.run_id AND g.key = ?)";
  return {
    name,
    root: "tags",
    path: [key],
    kind: "text",
    text: { sql, params: [key] },
    num: { sql: finite(numberOfText(sql)), params: [key] },
    value: { sql, params: [key] },
  };
}

function jsonField(name: string, root: string, path: string[], column: string): Field {
  const p = pathLiteral(path);
  // NaN and infinities (Python's json.dumps writes them) read as null (SPEC 3), also inside
  // an object or array, whose text is the one the outputs print (`{"stop":null}`, not
  // DuckDB's `{"stop":NaN}`: an oracle audit). The stored object is parsed once (the lambda
  // binds the value at the path): DuckDB keeps a chunk's parsed documents per JSON call, and
  // three calls on 190 configs of 900 KB needed more than the reader's 512MB (`runs --where
  // config.x = ...`), one call fits. An object or array (`{`, `[`) is told by its first
  // character before the non-finite test, whose json_type parses the value again: the text of
  // 500k objects took 180-190 ms so against 300 ms before (a string's, 5% more).
  const text = `list_transform([json_extract(${column}, ${p})], ` +
    `lambda v: CASE WHEN ascii(v) IN (91, 123) THEN ${printedJsonTextSql("v::VARCHAR")} ` +
    `WHEN ${isNonFinite("v")} THEN NULL ELSE v ->> '$' END)[1]`;
  return {
    name,
    root,
    path,
    kind: "json",
    text: { sql: text, params: [] },
    num: { sql: finite(numberOfText(`json_extract_string(${column}, ${p})`)), params: [] },
    value: path.length === 0
      ? { sql: `${column}::JSON`, params: [] }
      : { sql: `json_extract(${column}, ${p})`, params: [] },
  };
}

/**
 * The JSON path of checked segments as a SQL string constant, its quotes
 * doubled; a NUL (a key's `\0`), which would end DuckDB's reading of the
 * statement, is `chr(0)` joined in.
 */
function pathLiteral(segments: readonly string[]): string {
  for (const s of segments) {
    assert(
      s !== "" && s.isWellFormed(),
      `a path segment is checked before it is SQL (${JSON.stringify(s)})`,
    );
  }
  return jsonPathOf(segments).split("\0").map((part) => `'${part.replaceAll("'", "''")}'`)
    .join(" || chr(0) || ");
}

/** A path segment that also reads an array's element: digits, no leading zero. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * The DuckDB JSON path of the keys `segments`: each key quoted, a `"` or a
 * `\` in it escaped with a `\` (`$."policy"."a.b"`: the key `"a.b"`, never
 * `b` inside `a`). A path with a segment of digits (`0`, `12`, no leading
 * zero) is a JSON pointer (`/levels/0/multiple`, `~` and `/` written `~0`
 * and `~1`), where such a segment reads an array's element as well as an
 * object's key: a sweep names a ladder's parameters `levels.0.multiple`
 * (`trials.parquet`, `summary.axes`), and a quoted key never indexes an
 * array (a probe: `trials --where "params.levels.0.multiple = 3"` matched
 * nothing). DuckDB reads the key `*` as a wildcard even quoted, and has no
 * quoted form of the empty key (`$.""` is an error): a path with either is a
 * pointer too.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { jsonPathOf } from "./fields.ts";
 * assert.equal(jsonPathOf(["a", "b-c"]), '$."a"."b-c"');
 * assert.equal(jsonPathOf(["a.b", 'say "x"']), '$."a.b"."say \\"x\\""');
 * assert.equal(jsonPathOf(["levels", "0", "multiple"]), "/levels/0/multiple");
 * assert.equal(jsonPathOf(["größe", "*"]), "/größe/*");
 * assert.equal(jsonPathOf(["", "a/b"]), "//a~1b");
 * assert.equal(jsonPathOf(["a", "01"]), '$."a"."01"'); // not an index
 * ```
 */
export function jsonPathOf(segments: readonly string[]): string {
  if (segments.some((s) => s === "*" || s === "" || ARRAY_INDEX.test(s))) {
    return segments.map((s) => "/" + s.replaceAll("~", "~0").replaceAll("/", "~1")).join("");
  }
  return "$" + segments.map((s) => `."${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`)
    .join("");
}

/**
 * `expr` when it is a finite number, else NULL (NaN and infinities read as
 * null, SPEC 3). `expr` appears once: DuckDB shares a repeated expression
 * within a select list, not within a `WHERE`, where `CASE WHEN
 * isfinite(e) THEN e END` parsed each run's JSON twice (`runs --where` on
 * two JSON fields of 100k runs: filter 206-259 ms against 121-142 ms for
 * this form). (A nullif chain reads once but costs 4x more per row.)
 */
function finite(expr: string): string {
  return `list_filter([${expr}], lambda v: isfinite(v))[1]`;
}
