/**
 * Dual mode: `ledger runs` and `ledger show` list the legacy DuckDB's runs
 * beside the index's, so a prefix that starts ids in both is ambiguous for
 * every command that takes a run: `compare`, `trials --run` and `tag` read
 * the index alone and took the index's run without a word (a probe), where
 * `show` listed both.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { CLI_PATH, CONFIG_PATH, REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("dual mode: a prefix of a legacy-only run and an indexed run is ambiguous everywhere", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    const created = (id: string, at: number) =>
      ev("run.created", id, at, { run_type: "policy", config: {}, data_fingerprint: "fp" });
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      created("abc-ledger-1", T0),
      created("other-1", T0 + 1),
    ]);
    await rebuildIndex(root, {});
    // The default legacy file of dual mode, under the working directory's data/.
    await createLegacyDb(join(dir, "data", "baseline_results.duckdb"), [{
      run_id: "abc-legacy-1",
      run_type: "baseline",
      created_at_ms: Date.UTC(2026, 0, 10),
      config: "{}",
      data_fingerprint: "fp",
    }]);
    const ledger = (...args: string[]) => runLedger([...args, "--root", root], { cwd: dir });
    const shown = await ledger("show", "abc-");
    assert.equal(shown.code, 2, shown.stderr);
    for (
      const args of [
        ["compare", "abc-", "other-1"],
        ["trials", "--run", "abc-"],
        ["tag", "abc-", "k=v", "--no-index"],
      ]
    ) {
      const r = await ledger(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /prefix "abc-" is ambiguous: it matches abc-ledger-1, abc-legacy-1 \(only in the legacy DuckDB\)/,
      );
    }
    // A prefix of the index's run alone still resolves.
    const unique = await ledger("compare", "abc-l", "other-1", "--json");
    assert.equal(unique.code, 2, "abc-l starts both ids too");
    const exact = await ledger("compare", "abc-ledger", "other-1", "--json");
    assert.equal(exact.code, 0, exact.stderr);
    assert.deepEqual(JSON.parse(exact.stdout).runs, ["abc-ledger-1", "other-1"]);
    // Run with reads scoped to the root (no data/ granted): no dual mode, no permission error.
    const scoped = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--config",
        CONFIG_PATH,
        `--allow-read=${root},${join(REPO_ROOT, "node_modules")}`,
        `--allow-ffi=${join(REPO_ROOT, "node_modules")}`,
        "--allow-env=LEDGER_ROOT",
        CLI_PATH,
        "compare",
        "abc-led",
        "other-1",
        "--json",
        "--root",
        root,
      ],
      cwd: dir,
      env: { LEDGER_ROOT: "" },
    }).output();
    assert.equal(scoped.code, 0, new TextDecoder().decode(scoped.stderr));
  });
});
