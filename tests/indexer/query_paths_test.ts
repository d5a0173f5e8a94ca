/**
 * A field's path names a key as `ledger export` names its column
 * (`indexer/query/flat_path.ts`), in `--where`, `--sort` and `--columns`
 * alike (SPEC 11, a query audit): a key with a `.` (`config.a\.b`), with
 * letters of any script (`config.größe`, `config.名前`), or with any other
 * character (escaped with a `\`) reads exactly that key in DuckDB, never a
 * nested one, and a refused character is named truly.
 *
 * @module
 */
import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import {
  compileFilter,
  FilterSyntaxError,
  jsonPathOf,
  parseFilter,
  PATH_KEY_CHAR,
  resolveField,
  splitFieldList,
  UnknownFieldError,
} from "../../indexer/query/mod.ts";
import { flatPathName, flatPathSegments } from "../../indexer/query/flat_path.ts";

/** Keys that a dotted or quoted JSON path could read wrongly, each with its own value. */
const KEYS = [
  "a.b",
  "größe",
  "名前",
  "e\u0301", // e and a combining acute: a letter and a mark
  "learning rate",
  "it's",
  'q"k',
  "b\\s",
  "a\\.b",
  "*",
  "x,y",
  "k:v",
  "x/y",
  "t~0",
  "[0]",
  "$",
  "😀",
  ".",
  "\\",
  "nl\nk",
];

/** The config: each key of {@linkcode KEYS} holds 100 + its index; decoys nest the same names. */
const CONFIG: Record<string, unknown> = {
  ...Object.fromEntries(KEYS.map((k, i) => [k, 100 + i])),
  a: { b: 99 }, // `config.a.b`, not `config.a\.b`
  "a\\": { b: 98 }, // `config.a\\.b`, not `config.a\\\.b`
  "": { b: 97 },
  "x\0y": 96, // export's column `config.x\0y`
  "x0y": 95, // what `\0` read as before: a decoy
};

/** The name `--where` takes for the key `key`: other characters than a key's own escaped. */
function typedInWhere(key: string): string {
  return [...key].map((c) => PATH_KEY_CHAR.test(c) ? c : `\\${c}`).join("");
}

/** Run `body` on an in-memory DuckDB holding one row `r` of `latest_runs`' JSON columns. */
async function withConfigRow(
  body: (
    value: (sql: string, params?: (string | number | boolean | null)[]) => Promise<unknown>,
  ) => Promise<void>,
): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(
      "CREATE TABLE r AS SELECT ?::VARCHAR AS config, NULL::VARCHAR AS summary_json",
      [JSON.stringify(CONFIG)],
    );
    await body(async (sql, params = []) => {
      const reader = await conn.runAndReadAll(`SELECT ${sql} FROM r`, params);
      return reader.getRows()[0][0];
    });
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

Deno.test("field paths: every name export writes reads its own key", async (t) => {
  await withConfigRow(async (value) => {
    await t.step("--sort and --columns: the export name, as written", async () => {
      for (const [i, key] of KEYS.entries()) {
        const name = `config.${flatPathName([key])}`;
        const f = resolveField(name, "runs");
        deepEqual(f.path, [key], name);
        equal(await value(f.text.sql, f.text.params), String(100 + i), name);
      }
    });
    await t.step("--where: the same key, other characters escaped", async () => {
      for (const [i, key] of KEYS.entries()) {
        const typed = `config.${typedInWhere(key)}`;
        const where = compileFilter([parseFilter(`${typed} = ${100 + i}`)], "runs");
        equal(await value(where.sql, where.params), true, typed);
        const other = compileFilter([parseFilter(`${typed} = ${99}`)], "runs");
        equal(await value(other.sql, other.params), false, typed);
      }
    });
    await t.step("a dot inside a key is not the path through two keys", async () => {
      const read = async (where: string) => {
        const c = compileFilter([parseFilter(where)], "runs");
        return await value(c.sql, c.params);
      };
      equal(await read(String.raw`config.a\.b = 100`), true);
      equal(await read("config.a.b = 99"), true);
      equal(await read(String.raw`config.a\.b = 99`), false);
      equal(await read(String.raw`config.a\\.b = 98`), true); // the key b of the key "a\"
      equal(await read(String.raw`config.a\\\.b = 108`), true); // the key "a\.b"
    });
    // A fidelity audit: a key holding a NUL failed every export; export now names it `\0`.
    await t.step("`\\0`, export's name of a NUL in a key, reads that key", async () => {
      const f = resolveField(String.raw`config.x\0y`, "runs");
      deepEqual(f.path, ["x\0y"]);
      equal(await value(f.text.sql, f.text.params), "96");
      const where = compileFilter([parseFilter(String.raw`config.x\0y = 96`)], "runs");
      equal(await value(where.sql, where.params), true);
    });
  });
});

Deno.test("field paths: letters of any script, tags, and the keys of a name", () => {
  for (const text of ["config.größe = 2", "config.名前 = 'x'", "config.e\u0301 = 1"]) {
    const e = parseFilter(text);
    ok(e.kind === "compare", text);
    if (e.kind === "compare") equal(e.field, text.slice(0, text.indexOf(" ")));
  }
  // Tag keys are bound parameters, read as the export names its tags.* columns.
  const tag = compileFilter([parseFilter(String.raw`tags.a\.b = 'x' and tags.ü = 'y'`)], "runs");
  deepEqual(tag.params, ["a.b", "x", "ü", "y"]);
  throws(() => resolveField("tags.a.b", "runs"), UnknownFieldError); // tags do not nest
  // Trials: params.* and metrics.* the same way.
  deepEqual(resolveField(String.raw`params.a\.b`, "trials").path, ["a.b"]);
  deepEqual(resolveField("metrics.名前", "trials").path, ["名前"]);
  // A name no key has: empty keys, a lone backslash at the end.
  for (const name of ["config.", "config.a..b", "config.a.", "config.a\\", "config.\\"]) {
    throws(() => resolveField(name, "runs"), UnknownFieldError, name);
  }
  // Reading a name back, and the lists of --sort and --columns.
  deepEqual(flatPathSegments(String.raw`a\.b.größe.x\ y`), ["a.b", "größe", "x y"]);
  deepEqual(splitFieldList(String.raw`config.x\,y , config.名前,config.z\ `), [
    String.raw`config.x\,y`,
    "config.名前",
    String.raw`config.z\ `,
  ]);
  deepEqual(splitFieldList(String.raw`config.k\:v:desc`, ":"), [String.raw`config.k\:v`, "desc"]);
});

Deno.test("field paths: the JSON path is quoted, never SQL or a wildcard", () => {
  equal(jsonPathOf(["a.b"]), '$."a.b"');
  equal(jsonPathOf(['q"k', "b\\s"]), '$."q\\"k"."b\\\\s"');
  equal(jsonPathOf(["a", "*"]), "/a/*"); // DuckDB reads a quoted "*" as every key
  const f = resolveField("config.it's", "runs");
  ok(f.value.sql.includes(`'$."it''s"'`), f.value.sql);
  deepEqual(f.value.params, []);
});

Deno.test("field paths: a refused character is named truly, with its escape", async (t) => {
  const syntaxError = (text: string): FilterSyntaxError => {
    try {
      parseFilter(text);
    } catch (err) {
      if (err instanceof FilterSyntaxError) return err;
      throw err;
    }
    throw new Error(`${text} parsed`);
  };
  await t.step("a character no key takes as it is", () => {
    for (const [text, ch, column] of [["config.a$b = 1", "$", 9], ["config.😀 = 1", "😀", 8]]) {
      const err = syntaxError(String(text));
      equal(err.token, ch);
      equal(err.column, column);
      ok(!PATH_KEY_CHAR.test(err.token), "only a character that is not a letter is refused");
      ok(err.message.startsWith(`Unexpected character "${ch}" at column ${column} `), err.message);
      match(err.message, /letters and digits of any script/);
      ok(err.message.endsWith(`\\${ch})`), err.message);
    }
  });
  await t.step("an empty key, a trailing dot, a trailing backslash", () => {
    match(syntaxError("config..b = 1").message, /^Unexpected "\." at column 8: .*never empty/);
    match(syntaxError("config.a. = 1").message, /^Unexpected "\." at column 9: .*does not end/);
    const backslash = syntaxError("config.a\\");
    equal(backslash.column, 9);
    match(backslash.message, /^Unexpected "\\" at column 9: .*escapes the character after it/);
  });
});
