import assert from "node:assert/strict";
import {
  DEPTH_CUT_MARKER,
  JSON_DEPTH_MAX,
  normalizeJsonText,
  parseFirstKeyWins,
  parseJsonText,
  pathDeeperThan,
  scanJsonText,
  valueDepth,
} from "../../ledger/json_text.ts";

Deno.test("json_text: what Python and DuckDB write parses; printing never overflows", async (t) => {
  await t.step("NaN, Infinity, -Infinity (any case, inf) read as null; strings untouched", () => {
    const text = '{"a":NaN,"b":[Infinity,-Infinity,nan,-inf,INF],"s":"NaN Infinity","n":-1.5e3}';
    assert.deepEqual(parseJsonText(text), {
      a: null,
      b: [null, null, null, null, null],
      s: "NaN Infinity",
      n: -1500,
    });
    assert.equal(scanJsonText(text).nonFiniteCount, 6);
  });

  await t.step("trailing commas are dropped, other bad JSON still throws", () => {
    assert.deepEqual(parseJsonText('{"a":[1,2,],}'), { a: [1, 2] });
    assert.equal(normalizeJsonText('{"a":"x,}"}'), '{"a":"x,}"}');
    for (const bad of ["{a:1}", '{"a":nano}', '{"a":Infinity2}', "[1 2]", '{"a":+NaN}']) {
      assert.throws(() => parseJsonText(bad), SyntaxError, bad);
    }
  });

  await t.step("a 10,000-deep value is cut at JSON_DEPTH_MAX and prints", () => {
    const text = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
    const value = parseJsonText(text);
    const printed = JSON.stringify(value); // overflowed the stack before the cut
    assert.ok(printed.includes(DEPTH_CUT_MARKER));
    assert.equal(valueDepth(value), JSON_DEPTH_MAX);
    assert.equal(scanJsonText(text).depthMax, 10_000);
    assert.equal(pathDeeperThan(value, JSON_DEPTH_MAX), undefined);
    // Cut at another depth, the marker names that depth (it said 64 whatever the cut).
    const cut = parseJsonText('{"a":{"b":{"c":1}}}', { depthMax: 2 });
    assert.deepEqual(cut, { a: { b: "[nested deeper than 2 levels: not shown]" } });
  });

  await t.step("lone surrogate escapes are found, pairs are not", () => {
    assert.equal(scanJsonText('{"a":"\\ud83d"}').loneSurrogate, true);
    assert.equal(scanJsonText('{"a":"\\ude80"}').loneSurrogate, true);
    assert.equal(scanJsonText('{"a":"\\ud83dx"}').loneSurrogate, true);
    assert.equal(scanJsonText('{"a":"\\ud83d\\ude80","\\\\ud83d":1}').loneSurrogate, false);
  });

  await t.step("repeated top-level keys: counted, and the first value can be kept", () => {
    const text = '{"a":1,"b":{"a":2,"a":3},"a":4,"__proto__":5}';
    assert.equal(scanJsonText(text).topLevelMembers, 4);
    const value = parseFirstKeyWins(text)!;
    assert.equal(value.a, 1);
    assert.deepEqual(value.b, { a: 3 });
    assert.ok(Object.hasOwn(value, "__proto__"), "a __proto__ key stays a key");
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(parseFirstKeyWins("[1]"), undefined);
  });
});
