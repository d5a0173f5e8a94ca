/**
 * Flat names of paths into a JSON object: the one rule `ledger export`
 * (column names) and `ledger compare` (config and summary paths) name a
 * leaf by, so that no two paths share a name and no value is lost.
 *
 * - Keys are joined with `.`; a `.` inside a key is written `\.` and a `\`
 *   inside a key `\\`. The key `"a.b"` is `a\.b`, the path `a` → `b` is
 *   `a.b`: two different paths never have the same name, and
 *   {@linkcode flatPathSegments} reads the keys back. Every other character
 *   is written as it is (`config.größe`, `config.名前`, `config.a b`).
 * - The query surface (`--where`, `--sort`, `--columns`, `fields.ts`) reads
 *   a field's path with {@linkcode flatPathSegments} too, so every name
 *   written here names its own path there; `\0` is a NUL (as `ledger
 *   export` names a key holding one), and a `\` before any other character
 *   is that character (`a\ b` is the key `"a b"`), the way to type a
 *   character that would end a field in an expression.
 * - Names that differ only in ASCII letter case (`config.N`, `config.n`)
 *   are one name to DuckDB (which writes the exports), so
 *   {@linkcode caseDistinctNames} tells them apart: sorted by code point,
 *   the first keeps its name and the others get `~2`, `~3`, ... in turn
 *   (`config.N`, `config.n~2`), skipping any name already taken ignoring
 *   case. The names depend only on the set of paths, not on row order.
 *
 * @module
 */
import { assert } from "../../ledger/assert.ts";

/** Separator of the keys of a flat name. */
const SEPARATOR = ".";
/** Escape of a separator or an escape inside a key. */
const ESCAPE = "\\";

/**
 * The flat name of the path `segments` (keys, outermost first): keys joined
 * with `.`, each `\` in a key written `\\` and each `.` written `\.`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flatPathName } from "./flat_path.ts";
 * assert.equal(flatPathName(["policy", "stopPct"]), "policy.stopPct");
 * assert.equal(flatPathName(["a.b"]), "a\\.b"); // the key "a.b", not the path a -> b
 * ```
 */
export function flatPathName(segments: readonly string[]): string {
  return segments.map((s) =>
    s.replaceAll(ESCAPE, ESCAPE + ESCAPE).replaceAll(SEPARATOR, ESCAPE + SEPARATOR)
  )
    .join(SEPARATOR);
}

/**
 * The name of the field at `segments` under `root` as every output names
 * it: `root.` and the {@linkcode flatPathName}, a NUL written `\0` (a
 * column name cannot hold one; no other name is written the same, since a
 * flat name doubles every `\` of a key). `ledger export`'s column, the key
 * of a `--columns` field in `runs` and `trials`: `config.a\,b` typed on a
 * command line is the column `config.a,b`, as the export names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flatFieldName } from "./flat_path.ts";
 * assert.equal(flatFieldName("config", ["a,b", "c.d"]), "config.a,b.c\\.d");
 * assert.equal(flatFieldName("config", ["n\0"]), "config.n\\0");
 * ```
 */
export function flatFieldName(root: string, segments: readonly string[]): string {
  assert(segments.length > 0, "a field under a root has a key");
  return `${root}${SEPARATOR}${flatPathName(segments).replaceAll("\0", ESCAPE + "0")}`;
}

/**
 * The keys of a flat name (the inverse of {@linkcode flatPathName}): split
 * at each `.` not escaped, `\.` and `\\` read as `.` and `\`, `\0` as a NUL
 * (how `ledger export` names a key holding one). A `\` before any other
 * character is that character (`\ ` a space, `\,` a comma: a
 * name typed on a command line); one that ends the name is kept as it is.
 * {@linkcode flatPathName} writes no other escape, so the names it writes
 * read back the same either way.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flatPathSegments } from "./flat_path.ts";
 * assert.deepEqual(flatPathSegments("a\\.b.c"), ["a.b", "c"]);
 * assert.deepEqual(flatPathSegments("policy.stopPct"), ["policy", "stopPct"]);
 * assert.deepEqual(flatPathSegments("größe.a\\ b"), ["größe", "a b"]);
 * ```
 */
export function flatPathSegments(name: string): string[] {
  const out: string[] = [];
  let key = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === ESCAPE && i + 1 < name.length) {
      // One code point: an escaped emoji is two UTF-16 units. `\0` is a NUL, as `ledger export`
      // names a key holding one (a column name cannot hold it).
      const next = String.fromCodePoint(name.codePointAt(i + 1)!);
      key += next === "0" ? "\0" : next;
      i += next.length;
    } else if (c === SEPARATOR) {
      out.push(key);
      key = "";
    } else {
      key += c;
    }
  }
  out.push(key);
  return out;
}

/** `text` with ASCII letters lowered: how DuckDB compares column and struct names. */
function foldAsciiCase(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * `names` (distinct as text) made distinct ignoring ASCII letter case, in
 * the same order: of the names equal ignoring case, sorted by code point,
 * the first is kept and the others get the suffix `~2`, `~3`, ... (the
 * lowest not already taken by any name, ignoring case).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { caseDistinctNames } from "./flat_path.ts";
 * assert.deepEqual(
 *   caseDistinctNames(["config.n", "config.N", "config.x"]),
 *   ["config.n~2", "config.N", "config.x"],
 * );
 * ```
 */
export function caseDistinctNames(names: readonly string[]): string[] {
  assert(new Set(names).size === names.length, `flat names are distinct (${names.join(", ")})`);
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const key = foldAsciiCase(name);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [name]);
    else group.push(name);
  }
  const taken = new Set(groups.keys());
  const renamed = new Map<string, string>();
  for (const group of groups.values()) {
    if (group.length === 1) continue;
    const [, ...others] = [...group].sort(compareCodePoints);
    for (const name of others) {
      let k = 2;
      while (taken.has(foldAsciiCase(`${name}~${k}`))) k++;
      const distinct = `${name}~${k}`;
      taken.add(foldAsciiCase(distinct));
      renamed.set(name, distinct);
    }
  }
  return names.map((name) => renamed.get(name) ?? name);
}

/** Order of strings by code point (not by UTF-16 unit, not by locale). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
