/**
 * `--where` against an evaluator of its documented rules written apart
 * from the compiler (SPEC 11; the rules as `ledger runs --help` and
 * docs/QUICKSTART.md word them): random expressions over runs and trials
 * whose values mix numbers, numeric and other text, booleans, null,
 * missing keys, arrays and objects, each answered by the index and by the
 * evaluator. A probe of 390 such expressions through the CLI found no
 * difference (2026-12-05); this keeps it so.
 *
 * The rules the evaluator holds: a comparison on a missing or null value is
 * false; with a number, a value compares as a number when it is one or is
 * text written as JSON writes a number (`"10"`, `"1e1"`; not `"0010"`, `"
 * 2"`, `"+1"`), and any other value is only `!=` to it; with a boolean,
 * only a boolean is equal (the string `"true"` is not `true`); with text, a
 * value compares as its text (a string as is, anything else as compact
 * JSON); `~` searches that text; `not` turns false into true. And
 * `--sort` puts numbers (and numeric text) first, in order, then other
 * values by their text, then nulls, in either direction.
 */
import { deepStrictEqual as deepEqual, ok } from "node:assert/strict";
import { queryRuns, queryTrials, withReader } from "../../indexer/query/mod.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { indexPath } from "../../ledger/paths.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { SeededRandom, withTempDir } from "../_helpers.ts";

/** Runs and trials in the log, and expressions asked of each. */
const RUNS = 200;
const TRIALS = 300;
const EXPRESSIONS = 150;
/** Nesting of `and`/`or`/`not`, at most. */
const DEPTH_MAX = 3;

const MISSING = Symbol("missing");
type Value = unknown | typeof MISSING;

const VALUES: readonly unknown[] = [
  -5,
  -1,
  0,
  1,
  2,
  3,
  10,
  0.5,
  -0.5,
  1.5,
  0.1,
  1000,
  "1",
  "2",
  "-3",
  "1.5",
  "1e1",
  "0010",
  " 2",
  "+1",
  "abc",
  "",
  "A",
  "b",
  "true",
  true,
  false,
  null,
  [1, 2],
  [],
  { k: 1 },
  {},
];
const LITERALS: readonly unknown[] = [
  0,
  1,
  2,
  -3,
  1.5,
  10,
  0.1,
  1000,
  "1",
  "abc",
  "",
  "b",
  "2",
  "1.5",
  "0010",
  " 2",
  "[1,2]",
  "{}",
  "true",
  "1e1",
  "A",
  true,
  false,
];
const PATTERNS: readonly string[] = ["^1", "a", "^$", "[.]", "b|c", "^-", "1$", "e", "^t"];
const OPS = ["=", "!=", "<", "<=", ">", ">="] as const;
type Op = typeof OPS[number];
/** Text a JSON number is written as (what counts as a number in text). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  return items[rng.int(0, items.length - 1)];
}

/** An object of up to `keys` keys, each present with probability 5/6. */
function randomObject(rng: SeededRandom, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (rng.next() < 5 / 6) out[k] = pick(rng, VALUES);
  return out;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && JSON_NUMBER.test(v)) return Number(v);
  return undefined;
}

function asText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function holds<T>(op: Op, a: T, b: T): boolean {
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

function compare(v: Value, op: Op, literal: unknown): boolean {
  if (v === MISSING || v === null) return false;
  if (typeof literal === "number") {
    const n = asNumber(v);
    return n === undefined ? op === "!=" : holds(op, n, literal);
  }
  if (typeof literal === "boolean") {
    // Only a boolean is a boolean: the string "true" is not `true` (a string literal 'true' is
    // compared as text, and matches both).
    const same = v === literal;
    return op === "=" ? same : !same;
  }
  return holds(op, asText(v), literal as string);
}

function literalText(literal: unknown): string {
  return typeof literal === "string" ? `'${literal}'` : String(literal);
}

type Row = Record<string, Record<string, unknown>>;
interface Expr {
  text: string;
  test: (row: Row) => boolean;
}

/** A random expression over `fields` (`root.key`: `row[root][key]`). */
function randomExpr(rng: SeededRandom, fields: readonly string[], depth = 0): Expr {
  const r = rng.next();
  if (depth < DEPTH_MAX && r < 0.25) {
    const a = randomExpr(rng, fields, depth + 1);
    const b = randomExpr(rng, fields, depth + 1);
    return rng.next() < 0.5
      ? { text: `(${a.text} and ${b.text})`, test: (row) => a.test(row) && b.test(row) }
      : { text: `(${a.text} or ${b.text})`, test: (row) => a.test(row) || b.test(row) };
  }
  if (depth < DEPTH_MAX && r < 0.35) {
    const a = randomExpr(rng, fields, depth + 1);
    return { text: `not (${a.text})`, test: (row) => !a.test(row) };
  }
  const field = pick(rng, fields);
  const [root, key] = field.split(".");
  const value = (row: Row): Value => Object.hasOwn(row[root], key) ? row[root][key] : MISSING;
  const kind = rng.next();
  if (kind < 0.1) {
    return {
      text: `${field} is null`,
      test: (row) => value(row) === MISSING || value(row) === null,
    };
  }
  if (kind < 0.2) {
    return {
      text: `${field} is not null`,
      test: (row) => value(row) !== MISSING && value(row) !== null,
    };
  }
  if (kind < 0.32) {
    const pattern = pick(rng, PATTERNS);
    const re = new RegExp(pattern);
    return {
      text: `${field} ~ '${pattern}'`,
      test: (row) => {
        const v = value(row);
        return v !== MISSING && v !== null && re.test(asText(v));
      },
    };
  }
  const literal = pick(rng, LITERALS);
  // Ordering by a boolean is a usage error (filter_test.ts): only = and != take one.
  const op = typeof literal === "boolean" ? pick(rng, ["=", "!="] as const) : pick(rng, OPS);
  return {
    text: `${field} ${op} ${literalText(literal)}`,
    test: (row) => compare(value(row), op, literal),
  };
}

Deno.test("--where answers as its documented rules, over runs and trials of mixed values", async () => {
  await withTempDir(async (root) => {
    const rng = new SeededRandom(20261205);
    const runs = Array.from({ length: RUNS }, (_, i) => ({
      id: `r${String(i).padStart(3, "0")}`,
      config: randomObject(rng, ["a", "b", "c"]),
    }));
    const trials = Array.from({ length: TRIALS }, (_, i) => ({
      id: `t${String(i).padStart(3, "0")}`,
      runId: runs[rng.int(0, 29)].id,
      params: randomObject(rng, ["a", "b"]),
      metrics: randomObject(rng, ["a", "b"]),
    }));
    await writePart(root, "day=2026-01-20/part-a.jsonl", [
      ...runs.map((r, i) =>
        ev("run.created", r.id, T0 + i, { run_type: "t", config: r.config, data_fingerprint: "f" })
      ),
      ...trials.map((t, i) =>
        ev("trial.recorded", t.runId, T0 + RUNS + i, {
          trial_id: t.id,
          params: t.params,
          metrics: t.metrics,
        })
      ),
    ]);
    const report = await rebuildIndex(root, {});
    deepEqual(report.errors, 0);
    await withReader(indexPath(root), async (conn) => {
      let matched = 0;
      for (let i = 0; i < EXPRESSIONS; i++) {
        const expr = randomExpr(rng, ["config.a", "config.b", "config.c"]);
        const want = runs.filter((r) => expr.test({ config: r.config })).map((r) => r.id);
        const got = await queryRuns(conn, { where: [expr.text], includeArchived: true });
        deepEqual(got.map((r) => r.run_id).sort(), want, `runs --where "${expr.text}"`);
        matched += want.length;
      }
      for (let i = 0; i < EXPRESSIONS; i++) {
        const expr = randomExpr(rng, ["params.a", "params.b", "metrics.a", "metrics.b"]);
        const want = trials.filter((t) => expr.test({ params: t.params, metrics: t.metrics }))
          .map((t) => t.id);
        const got = await queryTrials(conn, { where: [expr.text], includeArchived: true });
        deepEqual(got.map((t) => t.trial_id).sort(), want, `trials --where "${expr.text}"`);
        matched += want.length;
      }
      // The expressions select something: not a comparison of empty lists.
      ok(matched > EXPRESSIONS * 20, `only ${matched} rows matched in all`);
    });
  });
});

/** Where `--sort` puts a value: numbers (and numeric text), then text, then nulls. */
function sortClass(v: Value): 0 | 1 | 2 {
  if (v === MISSING || v === null) return 2;
  return asNumber(v) === undefined ? 1 : 0;
}

Deno.test("--sort orders numbers, then text, then nulls, in both directions", async () => {
  await withTempDir(async (root) => {
    const rng = new SeededRandom(5122026);
    const configs = Array.from({ length: RUNS }, () => randomObject(rng, ["a"]));
    await writePart(
      root,
      "day=2026-01-20/part-a.jsonl",
      configs.map((config, i) =>
        ev("run.created", `r${i}`, T0 + i, { run_type: "t", config, data_fingerprint: "f" })
      ),
    );
    await rebuildIndex(root, {});
    const values = configs.map((c): Value => Object.hasOwn(c, "a") ? c.a : MISSING);
    // The order by value alone (ties are broken by the default order, not checked here).
    const key = (v: Value) => {
      const cls = sortClass(v);
      return { cls, num: cls === 0 ? asNumber(v)! : 0, text: cls === 1 ? asText(v) : "" };
    };
    await withReader(indexPath(root), async (conn) => {
      for (const descending of [false, true]) {
        const rows = await queryRuns(conn, {
          sort: [{ field: "config.a", descending }],
          columns: ["config.a"],
          includeArchived: true,
        });
        deepEqual(rows.length, RUNS);
        const got = rows.map((r) => values[Number(r.run_id.slice(1))]);
        const sign = descending ? -1 : 1;
        const want = [...got].sort((x, y) => {
          const a = key(x);
          const b = key(y);
          if (a.cls !== b.cls) return a.cls - b.cls; // nulls last either way
          if (a.cls === 0) return sign * (a.num - b.num);
          return sign * (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
        });
        deepEqual(
          got.map((v) => JSON.stringify(key(v))),
          want.map((v) => JSON.stringify(key(v))),
          `--sort config.a:${descending ? "desc" : "asc"}`,
        );
      }
    });
  });
});
