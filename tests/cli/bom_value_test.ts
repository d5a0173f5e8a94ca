/**
 * A value that starts with U+FEFF keeps it in every reader. DuckDB's Node
 * package decoded each VARCHAR with a TextDecoder that drops a leading byte
 * order mark (a probe): `sql` showed `"\ufeffx"` as `"x"`, `show` lost it
 * from a fingerprint, and `compare` said `same_data` for the fingerprints
 * `fp` and `\ufefffp`. The vendored package keeps it
 * (scripts/vendor_duckdb.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

const BOM = "\ufeff";

Deno.test("a leading U+FEFF in a value is kept by sql, show and compare", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const lines = [
      { run_id: "plain", data_fingerprint: "fp", config: { k: "v" } },
      { run_id: "marked", data_fingerprint: `${BOM}fp`, config: { k: `${BOM}v` } },
    ].map((r) => JSON.stringify({ event_type: "run.created", run_type: "policy", ...r }));
    const emitted = await runLedger(["emit", "--stdin", "--root", root], {
      stdin: lines.join("\n") + "\n",
    });
    assert.equal(emitted.code, 0, emitted.stderr);
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);

    await t.step("sql", async () => {
      const r = await runLedger([
        ...["sql", "--root", root, "--format", "json"],
        "SELECT data_fingerprint AS fp FROM runs_d WHERE run_id = 'marked'",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [{ fp: `${BOM}fp` }]);
    });

    await t.step("show", async () => {
      const r = await runLedger(["show", "marked", "--json", "--root", root]);
      assert.equal(r.code, 0, r.stderr);
      const run = JSON.parse(r.stdout).run;
      assert.equal(run.data_fingerprint, `${BOM}fp`);
      assert.equal(run.config.k, `${BOM}v`);
    });

    await t.step("compare: other data, and the config differs", async () => {
      const r = await runLedger(["compare", "plain", "marked", "--json", "--root", root]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.same_data, false);
      assert.deepEqual(out.config.k, { plain: "v", marked: `${BOM}v` });
    });
  });
});
