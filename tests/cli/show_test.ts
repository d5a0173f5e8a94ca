import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { ev, fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { runLedger } from "../_helpers.ts";

/** `ledger ARGS` as a child process, with the permissions `deno task test` grants. */
function ledger(args: string[]) {
  return runLedger(args);
}

Deno.test("ledger show: text and --json views, unknown run and missing index exit 1", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await t.step("no index", async () => {
      const r = await ledger(["show", "run-a", "--root", root]);
      equal(r.code, 1);
      match(r.stderr, /No index at .*ledger rebuild-index/);
    });

    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await rebuildIndex(root, {});

    await t.step("text view lists phases with durations, trials, artifacts", async () => {
      const r = await ledger(["show", "run-a", "--root", root]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /status\s+completed/);
      match(r.stdout, /phases \(2\)\n\s+0\s+plan\s+10 ms/);
      match(r.stdout, /1\s+load\s+20 ms/);
      match(r.stdout, /trials \(1\)\n\s+t1/);
      match(
        r.stdout,
        /artifacts \(1\)\n\s+TYPE\s+PATH\s+SIZE\n\s+paths\s+artifacts\/runs\/run-a\/paths.parquet\s+1234 bytes/,
      );
    });

    await t.step("--json", async () => {
      const r = await ledger(["show", "run-a", "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      const detail = JSON.parse(r.stdout);
      equal(detail.run.status, "completed");
      deepEqual(detail.phases.map((p: { duration_ms: number }) => p.duration_ms), [10, 20]);
      deepEqual(detail.trials[0].metrics, { sharpe: 1.5 });
      equal(detail.artifacts[0].size_bytes, 1234);
      equal(detail.baselines[0].alerts_ok, 9);
    });

    await t.step("unknown run: exit 1 naming it; no RUN_ID: usage error", async () => {
      const r = await ledger(["show", "nope'; DROP TABLE runs_d; --", "--root", root]);
      equal(r.code, 1);
      match(r.stderr, /run "nope'; DROP TABLE runs_d; --" is not in the index/);
      equal((await ledger(["show", "--root", root])).code, 2);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger show: a run only in the legacy DuckDB is answered from it (dual mode)", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    const legacyDb = `${root}/baseline_results.duckdb`;
    const created = Date.UTC(2026, 0, 10);
    await createLegacyDb(legacyDb, [{
      run_id: "old-run",
      run_type: "baseline",
      created_at_ms: created,
      config: "{}",
      data_fingerprint: "fp",
      started_at_ms: created + 10,
      completed_at_ms: created + 500,
      summary_json: '{"alerts":3,"mean_return_bps":NaN}',
    }, {
      run_id: "old-fail",
      run_type: "policy",
      created_at_ms: created,
      config: '{"stopPct":0.2}',
      data_fingerprint: "fp-2",
      started_at_ms: created + 10,
      failed_at_ms: created + 20,
      summary_json: '{"mean_return_bps":NaN}',
      error_json: '{"message":"boom"}',
    }]);
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await rebuildIndex(root, {});

    await t.step("--json names the legacy source", async () => {
      const r = await ledger([
        "show",
        "old-run",
        "--root",
        root,
        "--legacy-db",
        legacyDb,
        "--json",
      ]);
      equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      equal(out.source, "legacy");
      equal(out.run.status, "completed");
      equal(out.run.created_at_ms, created);
    });

    await t.step(
      "--json of a legacy run has every key of a run's, the log's lists in them",
      async () => {
        const args = ["show", "old-run", "--root", root, "--legacy-db", legacyDb, "--json"];
        const before = JSON.parse((await ledger(args)).stdout);
        const indexed = JSON.parse(
          (await ledger(["show", "run-a", "--root", root, "--json"])).stdout,
        );
        // A probe: {run, source} alone, so a script's d["trials"] failed on a legacy run.
        deepEqual(Object.keys(before).sort(), [...Object.keys(indexed), "source"].sort());
        deepEqual([before.trials, before.phases, before.tags], [[], [], {}]);
        // The log holds a trial and a tag of the same run: shown with the legacy record.
        await writePart(root, "day=2026-01-10/part-1.jsonl", [
          ev("trial.recorded", "old-run", created + 30, {
            trial_id: "t1",
            params: { stopPct: 0.1 },
            metrics: { calls: 3 },
          }),
          ev("run.tagged", "old-run", created + 40, { tags: { label: "kept" } }),
          ev("run.noted", "old-run", created + 50, { note: "hello note" }),
          ev("run.archived", "old-run", created + 60, { reason: "old" }),
        ]);
        await rebuildIndex(root, {});
        const after = JSON.parse((await ledger(args)).stdout);
        equal(after.source, "legacy");
        deepEqual(after.trials.map((tr: { trial_id: string }) => tr.trial_id), ["t1"]);
        deepEqual(after.tags, { label: "kept" });
        equal(after.run.label, "kept");
        deepEqual([after.archived, after.archived_reason], [true, "old"]);
        const text = await ledger(args.slice(0, -1));
        match(text.stdout, /the log holds 0 phases, 1 trial, 0 artifacts of it/);
        // A probe: the text left out the log's notes, archived state and label.
        match(text.stdout, /^run +old-run {3}\(archived\) {3}\(legacy DuckDB/m);
        match(text.stdout, /^archived +old$/m);
        match(text.stdout, /^label +kept$/m);
        match(text.stdout, /^notes \(1\)\n {2}\S+ +hello note$/m);
      },
    );

    await t.step("text view", async () => {
      const r = await ledger(["show", "old-run", "--root", root, "--legacy-db", legacyDb]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /legacy DuckDB/);
      match(r.stdout, /status\s+completed/);
    });

    // A legacy run showed neither its error, config nor fingerprint, and its summary's NaN raw.
    await t.step("a legacy run: config, fingerprint, error, NaN read as null", async () => {
      const args = ["show", "old-fail", "--root", root, "--legacy-db", legacyDb];
      const json = await ledger([...args, "--json"]);
      equal(json.code, 0, json.stderr);
      const out = JSON.parse(json.stdout);
      equal(out.source, "legacy");
      equal(out.run.status, "failed");
      equal(out.run.data_fingerprint, "fp-2");
      equal(out.run.config.stopPct, 0.2);
      equal(out.run.summary, null); // failed, never completed: no summary, as runs and backfill
      equal(out.run.error.message, "boom");
      // The summary it recorded goes with its error (NaN read as null), as backfill writes it.
      deepEqual(out.run.error.legacy_summary, { mean_return_bps: null });
      const text = await ledger(args);
      equal(text.code, 0, text.stderr);
      match(
        text.stdout,
        /^error +\{"message":"boom","legacy_summary":\{"mean_return_bps":null\}\}$/m,
      );
      match(text.stdout, /^data +fp-2$/m);
      const completed = await ledger(["show", "old-run", "--root", root, "--legacy-db", legacyDb]);
      match(completed.stdout, /^summary +\{"alerts":3,"mean_return_bps":null\}$/m);
    });

    // The prefix of a run only the index has said "not in the index" in dual mode.
    await t.step("a prefix of an index-only run shows that run", async () => {
      const r = await ledger(["show", "run-", "--root", root, "--legacy-db", legacyDb, "--json"]);
      equal(r.code, 0, r.stderr);
      equal(JSON.parse(r.stdout).run.run_id, "run-a");
    });

    await t.step("a named --legacy-db that does not exist fails, naming it", async () => {
      const r = await ledger([
        "show",
        "old-run",
        "--root",
        root,
        "--legacy-db",
        `${root}/gone.duckdb`,
      ]);
      equal(r.code, 1);
      match(r.stderr, /gone\.duckdb \(--legacy-db\) does not exist/);
    });

    await t.step("a run in neither store still exits 1", async () => {
      const r = await ledger(["show", "nope", "--root", root, "--legacy-db", legacyDb]);
      equal(r.code, 1);
      match(r.stderr, /"nope" is not in the index/);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** An ANSI escape (red) and a BEL: what must never reach the terminal raw. */
const ESC = "\x1b[31m\x07";

Deno.test("ledger show: control characters in stored values are escaped in the text view", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    // Every string the text view prints, with an escape sequence in it.
    const hostile: Record<string, string> = {
      run_type: `type${ESC}`,
      data_fingerprint: `fp${ESC}`,
      host: `host${ESC}`,
      phase_name: `phase${ESC}`,
      trial_id: `trial${ESC}`,
      artifact_type: `kind${ESC}`,
      artifact_path: `path${ESC}`,
    };
    const events = fullRun("run-x", T0).map((e) => {
      const out = { ...e };
      for (const key of Object.keys(hostile)) if (key in out) out[key] = hostile[key];
      return out;
    });
    events.push(
      ev("run.tagged", "run-x", T0 + 70, { tags: { [`key${ESC}`]: `value${ESC}` } }),
      ev("run.noted", "run-x", T0 + 71, { note: `note${ESC}` }),
    );
    await writePart(root, "day=2026-01-20/part-1.jsonl", events);
    await rebuildIndex(root, {});
    const legacyDb = `${root}/baseline_results.duckdb`;
    await createLegacyDb(legacyDb, [{
      run_id: "old-run",
      run_type: `legacy${ESC}`,
      created_at_ms: T0,
      summary_json: `{"a":"${ESC}"}`,
    }]);

    await t.step("text view: escaped, every value still shown", async () => {
      const r = await ledger(["show", "run-x", "--root", root]);
      equal(r.code, 0, r.stderr);
      // deno-lint-ignore no-control-regex
      equal(/[\x00-\x09\x0b-\x1f\x7f]/.exec(r.stdout), null, JSON.stringify(r.stdout));
      for (const value of [...Object.values(hostile), `key${ESC}=value${ESC}`, `note${ESC}`]) {
        const escaped = value.replaceAll("\x1b", "\\x1b").replaceAll("\x07", "\\x07");
        ok(r.stdout.includes(escaped), `${JSON.stringify(escaped)} in ${r.stdout}`);
      }
    });

    await t.step("--json keeps the values (JSON escapes them)", async () => {
      const r = await ledger(["show", "run-x", "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      equal(JSON.parse(r.stdout).run.run_type, hostile.run_type);
    });

    await t.step("a legacy run's text view", async () => {
      const r = await ledger(["show", "old-run", "--root", root, "--legacy-db", legacyDb]);
      equal(r.code, 0, r.stderr);
      // deno-lint-ignore no-control-regex
      equal(/[\x00-\x09\x0b-\x1f\x7f]/.exec(r.stdout), null, JSON.stringify(r.stdout));
      match(r.stdout, /^type {7}legacy\\x1b\[31m\\x07$/m);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
