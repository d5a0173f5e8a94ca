/**
 * `ledger/_path.ts` gives the same `join` and `dirname` as `node:path` (the
 * write path avoids `node:path` for its ~10 ms load; issue 16).
 *
 * @module
 */
import assert from "node:assert";
import * as nodePath from "node:path";
import { dirname, join } from "../../ledger/_path.ts";
import { SeededRandom } from "../_helpers.ts";

const PIECES = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "b.c",
  "..d",
  ".e",
  "f/",
  "/g",
  "h//i",
  "./j",
  "../k",
  "l/..",
  "m/./n",
  "day=2026-01-23",
  "…",
  " ",
];

function randomPath(rng: SeededRandom): string {
  const n = rng.int(0, 4);
  let out = "";
  for (let i = 0; i < n; i++) out += PIECES[rng.int(0, PIECES.length - 1)];
  return out;
}

Deno.test({
  name: "_path: join and dirname agree with node:path on POSIX",
  ignore: Deno.build.os === "windows",
  fn: () => {
    const rng = new SeededRandom(16);
    const fixed = [
      ["data/ledger", "events"],
      ["/data/ledger/", "events", "day=2026-01-23", "part-x.jsonl"],
      ["./data", "..", "x"],
      ["/", ".."],
      ["", ""],
      ["a", "", "b"],
      ["../..", "a"],
    ];
    for (const segments of fixed) {
      assert.equal(join(...segments), nodePath.join(...segments), JSON.stringify(segments));
    }
    for (let i = 0; i < 5000; i++) {
      const segments = Array.from({ length: rng.int(0, 4) }, () => randomPath(rng));
      assert.equal(join(...segments), nodePath.join(...segments), JSON.stringify(segments));
      const p = randomPath(rng);
      assert.equal(dirname(p), nodePath.dirname(p), JSON.stringify(p));
    }
  },
});
if (Deno.build.os === "windows") console.log("_path test ignored: on Windows _path uses node:path");
