/**
 * One-line JSON syntax errors with their position (ledger/json_syntax.ts):
 * the scan stops where V8's `JSON.parse` stops, for every error V8 gives a
 * position for, and finds the position V8 leaves out.
 *
 * @module
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { describeJsonError, jsonErrorOffset } from "../../ledger/json_syntax.ts";

function v8Error(text: string): SyntaxError | null {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return err;
  }
}

Deno.test("jsonErrorOffset stops where V8 does", async (t) => {
  // Texts V8 reports "at position N" for, or "Unexpected end" (the end of the text).
  const positioned = [
    '{"a": 1',
    '{"a": 1,}',
    "",
    "  ",
    "[1,2",
    '{"a":"x',
    "01",
    "[00]",
    '{"a" 1}',
    "tru",
    '{"a":"\\q"}',
    "[1 2]",
    '"\\u12"',
    '"\\u12G4"',
    '{"a":1}}',
    '{"a":1} x',
    "-",
    "[-]",
    "1.",
    "1e",
    "1e+",
    "{,}",
    '{"a":"x\ty"}',
    '{"a": -x}',
    '{"a": "x", }',
    '{"a":"b"',
    '{"a"',
    '{"a":',
    "[",
    '"abc',
  ];
  for (const text of positioned) {
    await t.step(JSON.stringify(text), () => {
      const err = v8Error(text);
      if (err === null) throw new Error("expected V8 to refuse it");
      const m = /at position (\d+)/.exec(err.message);
      const v8 = m !== null ? Number(m[1]) : text.length; // "Unexpected end of JSON input"
      equal(jsonErrorOffset(text), v8, err.message);
    });
  }
  await t.step("V8's unexpected tokens (no position in its message)", () => {
    const tokens: [string, number][] = [
      ['{"a": abc}', 6],
      ['{"a": }', 6],
      ["[,]", 1],
      ["[1,]", 3],
      ["trux", 3],
      ['{"a": tru }', 9],
      ["]", 0],
      ['{"a":[{"b":nul}]}', 14],
      ["NaN", 0],
    ];
    for (const [text, offset] of tokens) {
      match(v8Error(text)!.message, /^(?:Unexpected token|"NaN")(?!.*at position)/);
      equal(jsonErrorOffset(text), offset, text);
    }
  });
  await t.step("JSON is -1, however deep", () => {
    equal(jsonErrorOffset('{"a":{"b":[true,false,null,-0.5e-3,"\\u00e9\\n",{}]}}'), -1);
    equal(jsonErrorOffset("[".repeat(100_000) + "]".repeat(100_000)), -1);
  });
  await t.step("extended: NaN, Infinity and trailing commas, as parseJsonText reads them", () => {
    const text = '{"a": NaN, "b": [-Infinity, inf,], "c": tru}';
    equal(jsonErrorOffset(text, { extended: true }), text.indexOf("}"));
    equal(jsonErrorOffset('{"a": NaN, "b": [1,],}', { extended: true }), -1);
    equal(jsonErrorOffset('{"a": nano}', { extended: true }), 7); // n-u-l-l expected
  });
});

Deno.test("describeJsonError: one line, the quoted source collapsed, line and column", async (t) => {
  await t.step("a typo on the second line", () => {
    const text = '{\n "stopPct": abc\n}';
    const line = describeJsonError(text, v8Error(text));
    equal(line.includes("\n"), false);
    equal(
      line,
      `Unexpected token 'a', "{ "stopPct": abc }" is not valid JSON at line 2 column 13`,
    );
  });
  await t.step("V8's position is replaced by the line and column", () => {
    const text = '{\n  "a": 1\n  "b": 2\n}';
    equal(
      describeJsonError(text, v8Error(text)),
      "Expected ',' or '}' after property value in JSON at line 3 column 3",
    );
  });
  await t.step("the end of the text", () => {
    const text = '{\n "a": [1,\n';
    equal(
      describeJsonError(text, v8Error(text)),
      "Unexpected end of JSON input at line 3 column 1",
    );
  });
});
