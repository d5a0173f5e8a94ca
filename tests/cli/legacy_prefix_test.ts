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
import { dirname, join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { CLI_PATH, DENO_RUN, REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";
import { exists } from "../../ledger/exists.ts";

function created(id: string, at: number) {
  return ev("run.created", id, at, { run_type: "policy", config: {}, data_fingerprint: "fp" });
}

/** An index of abc-ledger-1 and other-1 at `root`; a legacy DuckDB of abc-legacy-1 at `legacyDb`. */
async function twoStores(root: string, legacyDb: string): Promise<void> {
  await writePart(root, "day=2026-01-20/part-1.jsonl", [
    created("abc-ledger-1", T0),
    created("other-1", T0 + 1),
  ]);
  await rebuildIndex(root, {});
  await Deno.mkdir(dirname(legacyDb), { recursive: true });
  await createLegacyDb(legacyDb, [{
    run_id: "abc-legacy-1",
    run_type: "baseline",
    created_at_ms: Date.UTC(2026, 0, 10),
    config: "{}",
    data_fingerprint: "fp",
  }]);
}

Deno.test("dual mode: a prefix of a legacy-only run and an indexed run is ambiguous everywhere", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    // The default legacy file of dual mode, under the working directory's data/.
    await twoStores(root, join(dir, "data", "baseline_results.duckdb"));
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
    // `ledger report` checks its runs' prefixes too (it took the index's run without a word).
    const report = await ledger("report", "abc-", "--out", join(dir, "r.html"));
    assert.equal(report.code, 2, report.stderr);
    assert.match(report.stderr, /prefix "abc-" is ambiguous: .*abc-legacy-1 \(only in the legacy/);
    // The exact id of a legacy-only run is that run, not a prefix of the index's `abc-legacy-1x`
    // (a probe: "ambiguous", exit 2; with the legacy file unread, `tag` tagged the other run).
    const refusedAsLegacyOnly = async () => {
      for (
        const args of [
          ["tag", "abc-legacy-1", "k=v", "--no-index"],
          ["archive", "abc-legacy-1", "--no-index"],
          ["note", "abc-legacy-1", "text", "--no-index"],
          ["compare", "abc-legacy-1", "other-1"],
          ["trials", "--run", "abc-legacy-1"],
          ["report", "abc-legacy-1", "--out", join(dir, "r.html")],
        ]
      ) {
        const r = await ledger(...args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /Run "abc-legacy-1" is not in the index .*ledger legacy backfill/);
      }
    };
    await writePart(root, "day=2026-01-21/part-2.jsonl", [created("abc-legacy-1x", T0 + 2)]);
    await rebuildIndex(root, {});
    await refusedAsLegacyOnly();
    // Starting two of the index's runs, the same (helper-291: "ambiguous", exit 2, naming the
    // two indexed runs and not the legacy one).
    await writePart(root, "day=2026-01-21/part-3.jsonl", [created("abc-legacy-1y", T0 + 3)]);
    await rebuildIndex(root, {});
    await refusedAsLegacyOnly();
    assert.equal(await exists(join(dir, "r.html")), false, "no report written");
    // A prefix the index alone finds ambiguous names the legacy-only runs it starts too, as
    // `show` does (helper-297: only the indexed ones).
    const many = await ledger("tag", "abc-", "k=v", "--no-index");
    assert.equal(many.code, 2, many.stderr);
    assert.match(
      many.stderr,
      /prefix "abc-" is ambiguous: it matches abc-ledger-1, abc-legacy-1x, abc-legacy-1y, abc-legacy-1 \(only in the legacy DuckDB\)/,
    );
    for await (const day of Deno.readDir(join(root, "events"))) {
      for await (const part of Deno.readDir(join(root, "events", day.name))) {
        const text = await Deno.readTextFile(join(root, "events", day.name, part.name));
        assert.doesNotMatch(text, /run\.(tagged|archived)/, "nothing annotated");
      }
    }
    // Run with reads scoped to the root (no data/ granted): no dual mode, no permission error.
    const scoped = await new Deno.Command(Deno.execPath(), {
      args: [
        ...DENO_RUN,
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

Deno.test("dual mode: --legacy-db names the legacy file the commands that take a run check", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    // A legacy file away from the default path (a rehearsal's copy): read only when named.
    const legacyDb = join(dir, "rehearsal", "old.duckdb");
    await twoStores(root, legacyDb);
    const ledger = (...args: string[]) => runLedger([...args, "--root", root], { cwd: dir });
    const commands = [
      ["compare", "abc-", "other-1"],
      ["trials", "--run", "abc-"],
      ["tag", "abc-", "k=v", "--no-index"],
      ["note", "abc-", "text", "--no-index"],
      ["archive", "abc-", "--no-index"],
      ["report", "abc-", "--out", join(dir, "r.html")],
    ];
    await t.step("named, a prefix of both stores' runs is ambiguous", async () => {
      for (const args of commands) {
        const r = await ledger(...args, "--legacy-db", legacyDb);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /prefix "abc-" is ambiguous: it matches abc-ledger-1, abc-legacy-1 \(only in the legacy DuckDB\)$/m,
        );
      }
      // A legacy-only id is not in the index, in the same words for every command.
      for (
        const args of [["tag", "abc-legacy-1", "k=v"], ["report", "abc-legacy-1", "-o", "x.html"]]
      ) {
        const exact = await ledger(...args, "--legacy-db", legacyDb);
        assert.equal(exact.code, 1, exact.stderr);
        assert.match(
          exact.stderr,
          /Run "abc-legacy-1" is not in the index .*ledger legacy backfill/,
        );
      }
    });
    await t.step("a named file that is missing or empty fails before anything", async () => {
      const gone = join(dir, "gone.duckdb");
      for (const args of commands) {
        const r = await ledger(...args, "--legacy-db", gone);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /gone\.duckdb \(--legacy-db\) does not exist/);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
      for (const args of [commands[0], commands[2]]) {
        const empty = await ledger(...args, "--legacy-db", "");
        assert.equal(empty.code, 2, empty.stderr);
        assert.match(empty.stderr, /--legacy-db must not be empty/);
      }
    });
    await t.step("nothing was written by a refused command", async () => {
      assert.equal(await exists(join(dir, "r.html")), false, "no report written");
      for await (const day of Deno.readDir(join(root, "events"))) {
        for await (const part of Deno.readDir(join(root, "events", day.name))) {
          const text = await Deno.readTextFile(join(root, "events", day.name, part.name));
          assert.doesNotMatch(text, /run\.(tagged|noted|archived)/, "nothing annotated");
        }
      }
    });
    await t.step("not named and not at the default path, the index alone answers", async () => {
      const r = await ledger("compare", "abc-", "other-1", "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).runs, ["abc-ledger-1", "other-1"]);
    });
  });
});

Deno.test("dual mode: a legacy file that cannot be read is said, and the index's answer stands", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    const legacyDb = join(dir, "data", "baseline_results.duckdb");
    await twoStores(root, legacyDb);
    await writePart(root, "day=2026-01-21/part-2.jsonl", [
      created("abc-legacy-1x", T0 + 2),
      created("abc-legacy-1y", T0 + 3),
    ]);
    await rebuildIndex(root, {});
    // Not a DuckDB file any more (as one a writer holds: it cannot be opened).
    await Deno.writeTextFile(legacyDb, "not a database\n".repeat(1000));
    const ledger = (...args: string[]) => runLedger([...args, "--root", root], { cwd: dir });
    // A prefix the index resolved to one run: that run, after a warning.
    const one = await ledger("compare", "abc-led", "other-1", "--json");
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout).runs, ["abc-ledger-1", "other-1"]);
    assert.match(
      one.stderr,
      /^ledger compare: warning: .*\(the prefix "abc-led" means abc-ledger-1\)$/m,
    );
    // An id the index alone finds ambiguous (the legacy run's exact id, unread): the ambiguity,
    // after a warning that says why the legacy file did not settle it (helper-292: silently).
    for (
      const [command, args] of [
        ["tag", ["tag", "abc-legacy-1", "k=v", "--no-index"]],
        ["trials", ["trials", "--run", "abc-legacy-1"]],
        ["report", ["report", "abc-legacy-1", "--out", join(dir, "r.html")]],
      ] as const
    ) {
      const r = await ledger(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `^ledger ${command}: warning: .*\\(the prefix "abc-legacy-1" is ambiguous\\)$`,
          "m",
        ),
      );
      assert.match(r.stderr, /prefix "abc-legacy-1" is ambiguous: it matches abc-legacy-1x/);
    }
    assert.equal(await exists(join(dir, "r.html")), false, "no report written");
  });
});
