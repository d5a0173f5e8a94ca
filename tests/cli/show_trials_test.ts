/**
 * `ledger show` of a sweep (a scale audit): the table prints 20 trials and
 * a count, but read every trial (1.9 GB for 1M). It now reads the first 20
 * and a count, and prints the same text; `--json` still has every trial.
 */
import assert from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { countRunTrials, readRunDetail, withIndex } from "../../indexer/queries.ts";
import { formatRunDetail } from "../../cli/show.ts";
import { jsonText } from "../../indexer/query/_json.ts";
import { CLI_PATH, denoScriptArgs, longOnly, runLedger, withTempDir } from "../_helpers.ts";

/** Trials per run: more than the table shows, exactly as many, fewer, none. */
const RUNS: [string, number][] = [["sweep-25", 25], ["sweep-20", 20], ["sweep-3", 3], ["pol", 0]];

Deno.test("show: the first trials and a count, the same text as reading them all", async (t) => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    for (const [run_id, n] of RUNS) {
      await writer.appendBatch([
        { event_type: "run.created", run_id, run_type: "sweep", config: {}, data_fingerprint: "f" },
        ...Array.from({ length: n }, (_, i) => ({
          event_type: "trial.recorded",
          run_id,
          trial_id: `t${String(i + 1).padStart(2, "0")}`,
          timestamp_ms: Date.UTC(2026, 0, 20) + i, // recorded in this order
          params: { stopPct: i / 100 },
          metrics: { sharpe: i % 4, note: `trial ${i}` },
        })),
        { event_type: "run.completed", run_id, summary: { trials: n }, artifact_paths: {} },
      ]);
    }
    await writer.close();
    await rebuildIndex(root, {});

    await t.step(
      "readRunDetail with trialsMax: the first trials; countRunTrials: all",
      async () => {
        await withIndex(indexPath(root), async (conn) => {
          for (const [runId, n] of RUNS) {
            const all = await readRunDetail(conn, runId);
            const head = await readRunDetail(conn, runId, { trialsMax: 20 });
            assert.ok(all !== null && head !== null);
            assert.deepEqual(head.trials, all.trials.slice(0, 20), runId);
            assert.deepEqual({ ...head, trials: [] }, { ...all, trials: [] }, runId);
            assert.equal(await countRunTrials(conn, runId), n);
            assert.equal(all.trials.length, n);
            const text = formatRunDetail(all, { width: 100 });
            const trialCount = await countRunTrials(conn, runId);
            assert.equal(formatRunDetail(head, { width: 100, trialCount }), text, runId);
          }
          assert.equal(await readRunDetail(conn, "nope", { trialsMax: 20 }), null);
          assert.equal(await countRunTrials(conn, "nope"), 0);
        });
      },
    );

    await t.step(
      "the command: a count and the first 20 in the table, every trial in --json",
      async () => {
        const table = await runLedger(["show", "sweep-25", "--root", root]);
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /\ntrials \(25\)\n {2}t01 {2}params/);
        assert.match(table.stdout, /\n {2}t20 {2}params .*\n {2}\.\.\. 5 more \(use --json\)\n/);
        const json = await runLedger(["show", "sweep-25", "--json", "--root", root]);
        assert.equal(json.code, 0, json.stderr);
        assert.equal(JSON.parse(json.stdout).trials.length, 25);
      },
    );
  });
});

/**
 * `show --json` streams a sweep's trials (a scale audit: 4.4 GB to hold 1M
 * of them in one object): the bytes are those of the whole object written
 * at once, past a batch of trials, with exact integers, NaN, a label, and
 * for a run with no trial.
 */
Deno.test("show --json: trials streamed, the same bytes as the whole object", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    const runs: [string, number][] = [["big", 2_345], ["none", 0]];
    for (const [run_id, n] of runs) {
      await writer.appendBatch([
        {
          event_type: "run.created",
          run_id,
          run_type: "sweep",
          config: { a: 1 },
          data_fingerprint: "f",
        },
        ...Array.from({ length: n }, (_, i) => ({
          event_type: "trial.recorded",
          run_id,
          trial_id: `t${String(i).padStart(5, "0")}`,
          timestamp_ms: Date.UTC(2026, 0, 20) + (i % 7), // ties broken by trial id
          params: { stopPct: i / 100, name: 'é\n"x"' },
          metrics: { sharpe: i % 4 === 0 ? null : i / 3 },
        })),
        { event_type: "run.tagged", run_id, tags: { label: `l-${run_id}` } },
      ]);
    }
    await writer.close();
    // A trial as Python writes it: an integer past 2^53 and NaN.
    const day = `${root}/events/day=2026-01-20`;
    await Deno.writeTextFile(
      `${day}/part-000001.jsonl`,
      `{"event_type": "trial.recorded", "event_id": "py-1", "timestamp_ms": ${
        Date.UTC(2026, 0, 20, 1)
      }, "run_id": "big", "trial_id": "zz", "params": {"seed": 9007199254740993}, ` +
        `"metrics": {"x": NaN}, "schema_version": 1}\n`,
    );
    await rebuildIndex(root, {});
    for (const [runId] of runs) {
      const r = await runLedger(["show", runId, "--root", root, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const expected = await withIndex(indexPath(root), async (conn) => {
        const all = (await readRunDetail(conn, runId))!;
        const labelled = { ...all, run: { ...all.run, label: all.tags.label ?? null } };
        return jsonText(labelled, 2) + "\n";
      });
      assert.equal(r.stdout, expected, runId);
    }
    const big = JSON.parse((await runLedger(["show", "big", "--root", root, "--json"])).stdout);
    assert.equal(big.trials.length, 2_346);
  });
});

/** The V8 old-space cap `show --json` runs under below, in MiB. */
const SHOW_JSON_HEAP_MIB_MAX = 48;

// A scale proof (40,000 wide trials, about 14 CPU-seconds here): in `deno task test:long`.
Deno.test({
  name: "show --json of a sweep whose trials do not fit the heap at once",
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    // 40,000 trials of 30 params and 30 metrics: well over 48 MiB as objects in one detail.
    const writer = await openWriter(root);
    const trials = 40_000;
    const keys = (prefix: string, i: number) =>
      Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`${prefix}${k}`, i * 31 + k + 0.5]));
    await writer.appendBatch([
      {
        event_type: "run.created",
        run_id: "wide",
        run_type: "sweep",
        config: {},
        data_fingerprint: "f",
      },
    ]);
    for (let from = 0; from < trials; from += 5_000) {
      await writer.appendBatch(Array.from({ length: 5_000 }, (_, j) => ({
        event_type: "trial.recorded",
        run_id: "wide",
        trial_id: `t${String(from + j).padStart(6, "0")}`,
        params: keys("p", from + j),
        metrics: keys("m", from + j),
      })));
    }
    await writer.close();
    await rebuildIndex(root, {});
    const args = denoScriptArgs(CLI_PATH, ["show", "wide", "--root", root, "--json"]);
    args.splice(1, 0, `--v8-flags=--max-old-space-size=${SHOW_JSON_HEAP_MIB_MAX}`);
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      env: { LEDGER_ROOT: "" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr.slice(0, 2_000));
    // Counted in the text: parsing it whole here would need the heap the command did not.
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(text.split('"trial_id": ').length - 1, trials);
    assert.ok(text.endsWith("}\n"));
  });
});
