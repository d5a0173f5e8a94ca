/**
 * A run records the sha256 of the input files it read, or fails. A probe
 * replaced `calls.csv` (a shorter file renamed over it) after `run.created`:
 * the run computed 220 calls under the sha256 and data fingerprint of the
 * 320-call file it had hashed, so `compare` said `same_data: true` beside
 * `calls_total` 320 and 220, and `rerun` called the run "NOT identical". A
 * run now checks, once it has read its inputs (end of phase `load`), that
 * each is still the file it hashed: replaced, resized or written to, the run
 * fails, naming the file and the change. The run reads its inputs through
 * hard links to the files it hashed (`RunContext.pinInputs`): a file renamed
 * over the path, or the path removed, changes nothing it reads, and a file
 * renamed over the path and put back (a branch checked out and back) is no
 * longer read in between (a probe: 319 calls under the 320-call file's
 * sha256). The check hashes each input again (a file's times missed a write
 * that put them back: Deno's change time is in whole seconds).
 *
 * The change is made by the run's own phase callback (when `plan`, the
 * first reader, starts): deterministic, with real files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPathOnly } from "../../backtest/path_only.ts";
import { runSweep } from "../../backtest/sweep.ts";
import { RunFailedError } from "../../backtest/workflow.ts";
import type { PhaseEvent } from "../../backtest/workflow.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import { sinkAround } from "./_sink.ts";
import { logText, REPO_ROOT, withTempDir } from "../_helpers.ts";

const SAMPLE = join(REPO_ROOT, "data", "sample");

/** The calls file's text with its last `drop` rows left out. */
async function fewerCalls(drop: number): Promise<string> {
  const lines = (await Deno.readTextFile(join(SAMPLE, "calls.csv"))).trimEnd().split("\n");
  return lines.slice(0, lines.length - drop).join("\n") + "\n";
}

/** The calls the run of `root` read: its plan phase's `rows_in`. */
async function callsRead(root: string): Promise<number> {
  const plan = (await logText(root)).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
    .find((e) => e.event_type === "phase.completed" && e.phase_name === "plan");
  return plan.output_summary.rows_in;
}

/** What the run folder of `runId` holds, sorted. */
async function runDirNames(root: string, runId: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(join(root, "artifacts", "runs", runId))) names.push(e.name);
  return names.sort();
}

/** What a path-only run leaves in its folder. */
const RUN_FILES = ["manifest.json", "path_metrics.parquet"];

/** Run `change` once, when phase `phase` starts. */
function atStart(phase: string, change: () => void): (e: PhaseEvent) => void {
  return (e) => {
    if (e.name === phase && e.state === "started") change();
  };
}

Deno.test("a run whose input changes while it reads it fails, naming the file", async (t) => {
  await withTempDir(async (dir) => {
    const candles = join(SAMPLE, "candles_1m.parquet");
    const sample = await Deno.readTextFile(join(SAMPLE, "calls.csv"));
    const cases: {
      name: string;
      phase: string;
      change: (calls: string) => void;
      said: RegExp;
    }[] = [
      {
        name: "rewritten in place, shorter",
        phase: "plan",
        change: (calls) => Deno.writeTextFileSync(calls, fewerCallsText),
        said: /its size went from \d+ to \d+ bytes/,
      },
      {
        name: "rewritten in place, same size",
        phase: "plan",
        change: (calls) => Deno.writeTextFileSync(calls, sample.replace("0", "1")),
        said: /it was written to/,
      },
    ];
    const fewerCallsText = await fewerCalls(100);
    for (const [i, c] of cases.entries()) {
      await t.step(c.name, async () => {
        const root = join(dir, `root-${i}`);
        const calls = join(dir, `calls-${i}.csv`);
        await Deno.writeTextFile(calls, sample);
        // Older than the change by more than the 1 ms a file time is compared to.
        await new Promise((done) => setTimeout(done, 20));
        await assert.rejects(
          runPathOnly({
            root,
            runId: `changed-${i}`,
            calls,
            candles,
            onPhase: atStart(c.phase, () => c.change(calls)),
          }),
          RunFailedError,
        );
        const log = await logText(root);
        const failed = log.split("\n").filter((l) => l.includes('"run.failed"'));
        assert.equal(failed.length, 1, log);
        const message = JSON.parse(failed[0]).error.message as string;
        assert.match(message, new RegExp(`^Calls file ${calls} changed while the run read it \\(`));
        assert.match(message, c.said);
        assert.equal(JSON.parse(failed[0]).phase_name, "load");
        assert.doesNotMatch(log, /"run.completed"/);
      });
    }

    await t.step("a sweep is checked too", async () => {
      const root = join(dir, "root-sweep");
      const calls = join(dir, "calls-sweep.csv");
      await Deno.writeTextFile(calls, sample);
      await assert.rejects(
        runSweep({
          root,
          runId: "changed-sweep",
          calls,
          candles,
          grid: { type: "fixed_stop", stopPct: [0.2, 0.3] },
          onPhase: atStart("plan", () => Deno.writeTextFileSync(calls, fewerCallsText)),
        }),
        (e: unknown) =>
          e instanceof RunFailedError && /changed while the run read it/.test(e.message),
      );
    });

    await t.step(
      "another file at its path, for a while or for good: the file hashed is read",
      async () => {
        const changes: [string, string, (calls: string) => void][] = [
          ["a shorter file renamed over it", "plan", (calls) => {
            Deno.writeTextFileSync(`${calls}.new`, fewerCallsText);
            Deno.renameSync(`${calls}.new`, calls);
          }],
          ["removed after it was read", "slice", (calls) => Deno.removeSync(calls)],
        ];
        for (const [i, [name, phase, change]] of changes.entries()) {
          const root = join(dir, `root-pinned-${i}`);
          const calls = join(dir, `calls-pinned-${i}.csv`);
          await Deno.writeTextFile(calls, sample);
          await new Promise((done) => setTimeout(done, 20));
          const result = await runPathOnly({
            root,
            runId: `pinned-${i}`,
            calls,
            candles,
            onPhase: atStart(phase, () => change(calls)),
          });
          assert.equal(result.runId, `pinned-${i}`, name);
          assert.equal(await callsRead(root), 320, name);
          assert.deepEqual(await runDirNames(root, `pinned-${i}`), RUN_FILES, "its link removed");
        }
        // Renamed over the path at the first read, the original put back before the check: the
        // run read the other file and recorded the sha256 of the one put back.
        const root = join(dir, "root-aba");
        const calls = join(dir, "calls-aba.csv");
        await Deno.writeTextFile(calls, sample);
        await new Promise((done) => setTimeout(done, 20));
        const result = await runPathOnly({
          root,
          runId: "aba",
          calls,
          candles,
          onPhase: (e) => {
            if (e.name === "plan" && e.state === "started") {
              Deno.renameSync(calls, `${calls}.away`);
              Deno.writeTextFileSync(calls, fewerCallsText);
            }
            if (e.name === "load" && e.state === "started") Deno.renameSync(`${calls}.away`, calls);
          },
        });
        assert.equal(result.runId, "aba");
        assert.equal(await callsRead(root), 320);
        // The same through a symbolic link to the file (a review: the hard link was made to the
        // link, which followed the file renamed over its target; a relative one led nowhere from
        // the run folder, and every such run failed).
        for (const [i, target] of [join(dir, "calls-sym.csv"), "calls-sym.csv"].entries()) {
          const real = join(dir, "calls-sym.csv");
          await Deno.writeTextFile(real, sample);
          const linked = join(dir, `calls-sym-${i}.csv`);
          await Deno.symlink(target, linked);
          await new Promise((done) => setTimeout(done, 20));
          const symRoot = join(dir, `root-sym-${i}`);
          const symResult = await runPathOnly({
            root: symRoot,
            runId: `sym-${i}`,
            calls: linked,
            candles,
            onPhase: (e) => {
              if (e.name === "plan" && e.state === "started") {
                Deno.renameSync(real, `${real}.away`);
                Deno.writeTextFileSync(real, fewerCallsText);
              }
              if (e.name === "load" && e.state === "started") {
                Deno.renameSync(`${real}.away`, real);
              }
            },
          });
          assert.equal(symResult.runId, `sym-${i}`);
          assert.equal(await callsRead(symRoot), 320, target);
          assert.deepEqual(await runDirNames(symRoot, `sym-${i}`), RUN_FILES);
        }
      },
    );

    // `far/../calls.csv`, with `far` a link to another folder: read as text, the calls.csv
    // beside `far`, in every mode (as Deno reads it under a task's permission flags), and the
    // file recorded is the one read. A first fix went through the link under `-A` only: one
    // command line named two files, as a root named so named two roots (a review).
    await t.step("a path through a linked folder and .. is read as text, as recorded", async () => {
      const base = join(dir, "dotdot");
      await Deno.mkdir(join(base, "in"), { recursive: true });
      await Deno.mkdir(join(base, "other", "sub"), { recursive: true });
      await Deno.writeTextFile(join(base, "in", "calls.csv"), sample);
      await Deno.writeTextFile(join(base, "other", "calls.csv"), fewerCallsText);
      await Deno.symlink(join(base, "other", "sub"), join(base, "in", "far"));
      const root = join(dir, "root-dotdot");
      await runPathOnly({
        root,
        runId: "dotdot",
        calls: `${base}/in/far/../calls.csv`, // not join: it cancels far/.. as text itself
        candles,
      });
      assert.equal(await callsRead(root), 320);
      const manifest = JSON.parse(
        await Deno.readTextFile(join(root, "artifacts", "runs", "dotdot", "manifest.json")),
      );
      assert.equal(manifest.inputs.calls.path, join(base, "in", "calls.csv"));
    });

    // A review: one file given as both inputs made two links, and the first was left behind.
    await t.step("one file as both inputs: refused as before, no link left", async () => {
      const root = join(dir, "root-both");
      const both = join(dir, "calls-both.csv");
      await Deno.writeTextFile(both, sample);
      await assert.rejects(
        runPathOnly({ root, runId: "both", calls: both, candles: both }),
        RunFailedError,
      );
      const left = (await runDirNames(root, "both")).filter((n) => n.startsWith("input-"));
      assert.deepEqual(left, []);
    });

    await t.step("only its metadata or the same bytes again: the run completes", async () => {
      // A review: a chmod, a hard link, or the same bytes copied over the file failed the run.
      const changes: [string, (calls: string) => void][] = [
        ["chmod", (calls) => Deno.chmodSync(calls, 0o600)],
        ["a hard link", (calls) => Deno.linkSync(calls, `${calls}.bak`)],
        ["the same bytes renamed over it", (calls) => {
          Deno.writeTextFileSync(`${calls}.new`, sample);
          Deno.renameSync(`${calls}.new`, calls);
        }],
      ];
      for (const [i, [name, change]] of changes.entries()) {
        const root = join(dir, `root-meta-${i}`);
        const calls = join(dir, `calls-meta-${i}.csv`);
        await Deno.writeTextFile(calls, sample);
        await new Promise((done) => setTimeout(done, 20));
        const result = await runPathOnly({
          root,
          runId: `meta-${i}`,
          calls,
          candles,
          onPhase: atStart("plan", () => change(calls)),
        });
        assert.equal(result.runId, `meta-${i}`, name);
      }
    });

    // A probe: bytes written in place with the modification time put back, in the second of
    // the run's link (Deno gives the change time in whole seconds), went unseen: 18 alert times
    // changed, metrics of the new bytes under the sha256 of the old.
    await t.step("written in place, its times put back: the run fails", async () => {
      const root = join(dir, "root-times-back");
      const calls = join(dir, "calls-times-back.csv");
      await Deno.writeTextFile(calls, sample);
      await new Promise((done) => setTimeout(done, 20));
      const before = await Deno.stat(calls);
      const other = sample.replace(/2026-01-05T/g, "2026-01-06T");
      assert.notEqual(other, sample);
      assert.equal(other.length, sample.length);
      await assert.rejects(
        runPathOnly({
          root,
          runId: "times-back",
          calls,
          candles,
          onPhase: atStart("plan", () => {
            using f = Deno.openSync(calls, { write: true });
            f.writeSync(new TextEncoder().encode(other));
            Deno.utimeSync(calls, before.atime!, before.mtime!);
          }),
        }),
        (e: unknown) =>
          e instanceof RunFailedError &&
          e.message.startsWith(`Calls file ${calls} changed while the run read it (`),
      );
      assert.doesNotMatch(await logText(root), /"run.completed"/);
    });

    // A probe: a touch, or the same bytes renamed over the file, between the hash and the run's
    // link failed the run "changed after it was hashed", though its bytes had not changed.
    await t.step("touched between its hash and its link: the run completes", async () => {
      const changes: [string, (calls: string) => void][] = [
        ["touched", (calls) => Deno.utimeSync(calls, new Date(), new Date())],
        ["the same bytes renamed over it", (calls) => {
          Deno.writeTextFileSync(`${calls}.new`, sample);
          Deno.renameSync(`${calls}.new`, calls);
        }],
      ];
      for (const [i, [name, change]] of changes.entries()) {
        const root = join(dir, `root-prelink-${i}`);
        const calls = join(dir, `calls-prelink-${i}.csv`);
        await Deno.writeTextFile(calls, sample);
        await new Promise((done) => setTimeout(done, 20));
        const emitter = new EventEmitter({ root });
        // run.created is written after the hash and before the link.
        const sink = sinkAround(emitter, { after: () => change(calls) });
        try {
          const result = await runPathOnly({
            root,
            runId: `prelink-${i}`,
            calls,
            candles,
            emitter: sink,
          });
          assert.equal(result.runId, `prelink-${i}`, name);
        } finally {
          await emitter.close();
        }
      }
    });

    await t.step("an input left alone: the run completes", async () => {
      const root = join(dir, "root-same");
      const result = await runPathOnly({
        root,
        runId: "same",
        calls: join(SAMPLE, "calls.csv"),
        candles,
        onPhase: atStart("plan", () => {}),
      });
      assert.equal(result.runId, "same");
    });
  });
});
