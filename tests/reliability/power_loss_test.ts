/**
 * Simulated power loss (issue 18): SIGKILL cannot lose what reached the page
 * cache, so the kill suite never tests fdatasync or directory syncs. Here the
 * writers run on the fault layer of `_fault_fs.ts` (behind
 * `ledger/durable_fs.ts`), lose power at a seeded operation, and the tree is
 * rewritten to what a disk could hold afterwards (unsynced data and entries
 * dropped, or partly kept). Then:
 *
 * - every acknowledged event is in the log;
 * - no torn line sits in the middle of a file (at most a torn tail);
 * - the log takes new writes (in-process and shared CLI parts) and stays so;
 * - a run manifest written before the crash is there, whole;
 * - an index publish cut at any of its durable operations leaves the old
 *   index or the new one, and the next rebuild brings it up to the log.
 *
 * Seeds: `LEDGER_CRASH_SEEDS` (default below; 10000 in the long mode,
 * `deno task test:power-loss`),
 * from `LEDGER_CRASH_SEED_BASE`. A failure prints its seed; replay one with
 * `LEDGER_CRASH_SEED=<seed>`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { completeEvent, encodeEventLine, type EventInput } from "../../ledger/events.ts";
import { openWriter } from "../../ledger/writer.ts";
import { appendShared } from "../../ledger/shared_part.ts";
import { queryIndex, readCheckedLog, SeededRandom, withTempDir } from "../_helpers.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { type CrashModel, FaultFs, PowerLossError } from "./_fault_fs.ts";
import { RunDirectory } from "../../backtest/artifacts.ts";

// 100 in `deno task test` (about 23 s of one core; 200 took 46 s and held the suite near its
// 10-minute limit); the long mode runs 10000.
const SEEDS = Number(Deno.env.get("LEDGER_CRASH_SEEDS") ?? "100");
const SEED_BASE = Number(Deno.env.get("LEDGER_CRASH_SEED_BASE") ?? "1");
const ONE_SEED = Deno.env.get("LEDGER_CRASH_SEED");
/** Steps (appends of one kind or another) of one seed's workload. */
const WORKLOAD_STEPS = 10;
/** A small part size, so the workloads rotate parts. */
const PART_BYTES_MAX = 1500;
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 0, 23, 12);

interface Outcome {
  acked: string[];
}

/** One step's events, deterministic from the seed (ids and times fixed, so op counts replay). */
function stepEvents(seed: number, step: number, rng: SeededRandom): EventInput[] {
  const count = rng.int(1, 4);
  return Array.from({ length: count }, (_, k) => ({
    event_type: "phase.started",
    event_id: `s${seed}-${step}-${k}`,
    // Most events on one day, some on the next: batches span two parts.
    timestamp_ms: T0 + (rng.next() < 0.25 ? DAY_MS : 0) + step * 1000 + k,
    run_id: `run-${seed}`,
    phase_name: "p",
    phase_order: step * 10 + k,
    blob: "x".repeat(rng.int(0, 300)),
  }));
}

/**
 * The workload of `seed`: a durable writer, a relaxed writer (acknowledged
 * at `flush()`), and shared CLI appends, in a seeded order. Stops at the
 * power loss; returns what was acknowledged before it.
 */
async function workload(root: string, seed: number): Promise<Outcome> {
  const rng = new SeededRandom(seed);
  const acked: string[] = [];
  let durable: Awaited<ReturnType<typeof openWriter>> | undefined;
  let relaxed: Awaited<ReturnType<typeof openWriter>> | undefined;
  try {
    durable = await openWriter(root, { writerId: "durable", partBytesMax: PART_BYTES_MAX });
    relaxed = await openWriter(root, {
      writerId: "relaxed",
      durability: "relaxed",
      partBytesMax: PART_BYTES_MAX,
      groupCommitMs: 3_600_000, // commits only at flush(): no timer decides the op order
      groupCommitEvents: 1_000_000,
    });
    let pendingRelaxed: string[] = [];
    for (let step = 0; step < WORKLOAD_STEPS; step++) {
      const inputs = stepEvents(seed, step, rng);
      const kind = rng.int(0, 2);
      if (kind === 0) {
        const events = await durable.appendBatch(inputs);
        acked.push(...events.map((e) => e.event_id)); // durable: acknowledged here
      } else if (kind === 1) {
        const events = await relaxed.appendBatch(inputs);
        pendingRelaxed.push(...events.map((e) => e.event_id));
        if (rng.next() < 0.5) {
          await relaxed.flush();
          acked.push(...pendingRelaxed); // relaxed: acknowledged by flush()
          pendingRelaxed = [];
        }
      } else {
        const events = inputs.map((input) => completeEvent(input));
        await appendShared(root, events, events.map((e) => encodeEventLine(e)), {
          partBytesMax: PART_BYTES_MAX,
        });
        acked.push(...events.map((e) => e.event_id));
      }
    }
    await relaxed.flush();
    acked.push(...pendingRelaxed);
    await durable.close();
    await relaxed.close();
  } catch (err) {
    if (!isPowerLoss(err)) throw err;
  }
  return { acked };
}

/** A power loss, possibly wrapped by the writer's WriteError. */
function isPowerLoss(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof PowerLossError) return true;
  return false;
}

/** Run `seed` once without a crash to count its operations. */
async function countOps(seed: number): Promise<number> {
  let ops = 0;
  await withTempDir(async (root) => {
    const layer = await FaultFs.attach(root);
    try {
      await workload(root, seed);
    } finally {
      layer.detach();
    }
    ops = layer.ops;
  });
  return ops;
}

/** Crash `seed`'s workload at its seeded point, restore, and check. Throws with the seed on failure. */
async function crashSeed(seed: number): Promise<void> {
  const total = await countOps(seed);
  const rng = new SeededRandom(seed * 7919 + 13);
  const crashAt = rng.int(1, total);
  const model: CrashModel = rng.next() < 0.5 ? "drop" : "random";
  await withTempDir(async (root) => {
    const layer = await FaultFs.attach(root, crashAt);
    let notes: string[] = [];
    let acked: string[] = [];
    try {
      acked = (await workload(root, seed)).acked;
      assert.ok(layer.crashed, `power was lost at operation ${crashAt} of ${total}`);
      notes = await layer.restore(model, rng);
      await checkLog(root, acked, "after the power loss");
      // The log takes new writes, in-process and shared, and stays sound.
      const writer = await openWriter(root, { writerId: "after" });
      const more = await writer.appendBatch(stepEvents(seed, 99, rng));
      await writer.close();
      const shared = stepEvents(seed, 98, rng).map((input) => completeEvent(input));
      await appendShared(root, shared, shared.map((e) => encodeEventLine(e)), {
        partBytesMax: PART_BYTES_MAX,
      });
      acked.push(...more.map((e) => e.event_id), ...shared.map((e) => e.event_id));
      await checkLog(root, acked, "after writing again");
    } catch (err) {
      layer.detach();
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(
        `power loss seed ${seed} (crash at op ${crashAt}/${total}, model ${model}; ` +
          `replay: LEDGER_CRASH_SEED=${seed}): ${message}\n  kept: ${notes.join("; ")}`,
        { cause: err },
      );
    }
  });
}

async function checkLog(root: string, acked: string[], when: string): Promise<void> {
  const log = await readCheckedLog(root); // whole lines, at most a torn tail per file
  const lost = acked.filter((id) => !log.ids.has(id));
  assert.deepEqual(lost, [], `${when}: acknowledged events lost`);
}

Deno.test({
  name: "power loss: writers crashed at seeded points lose no acknowledged event",
  sanitizeOps: false, // a writer cut off by the power loss leaves its chain behind
  sanitizeResources: false,
  async fn() {
    const seeds = ONE_SEED !== undefined
      ? [Number(ONE_SEED)]
      : Array.from({ length: SEEDS }, (_, i) => SEED_BASE + i);
    const startMs = performance.now();
    for (const seed of seeds) await crashSeed(seed);
    console.log(
      `power loss: ${seeds.length} seeds (${seeds[0]}..${seeds.at(-1)}) crashed and checked ` +
        `in ${Math.round(performance.now() - startMs)} ms (LEDGER_CRASH_SEEDS for more)`,
    );
  },
});

for (const how of ["create", "claim"] as const) {
  // A backtest claims its directory (RunDirectory.claim); an audit found that claim's mkdir
  // was not made durable, so a power cut dropped the whole run directory.
  Deno.test(`power loss: a run manifest written before the crash survives it whole (${how})`, async () => {
    await withTempDir(async (root) => {
      // claim: the parent exists already, as after a root's first run.
      if (how === "claim") await Deno.mkdir(join(root, "artifacts", "runs"), { recursive: true });
      const layer = await FaultFs.attach(root);
      let text = "";
      try {
        const dir = how === "create"
          ? await RunDirectory.create(root, "run-manifest")
          : await RunDirectory.claim(root, "run-manifest");
        assert.ok(dir !== null);
        const manifest = { run_id: "run-manifest", status: "completed", note: "x".repeat(100) };
        const written = await dir.writeManifest(manifest as never);
        text = await Deno.readTextFile(written.path);
      } finally {
        layer.detach();
      }
      await layer.restore("drop", new SeededRandom(1));
      const path = join(root, "artifacts", "runs", "run-manifest", "manifest.json");
      let after: string;
      try {
        after = await Deno.readTextFile(path);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) assert.fail("the manifest was lost");
        throw err;
      }
      assert.equal(after, text, "the manifest survived whole");
    });
  });
}

/** About how many (crash point, model) cases of the publish test run in `deno task test`. */
const PUBLISH_CASES_CI = 4;
/** Events of each of the two runs of the publish test. */
const PUBLISH_RUN_EVENTS = 20;

Deno.test({
  name: "power loss: an index publish cut at any point leaves the old index or the new one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withTempDir(async (dir) => {
      const template = join(dir, "template");
      const runEvents = (runId: string) =>
        Array.from({ length: PUBLISH_RUN_EVENTS }, (_, i) => ({
          event_type: "phase.started" as const,
          run_id: runId,
          phase_name: "p",
          phase_order: i,
        }));
      await Deno.mkdir(template);
      let writer = await openWriter(template);
      await writer.appendBatch(runEvents("old"));
      await writer.close();
      await rebuildIndex(template); // the old index: the first run only
      writer = await openWriter(template);
      await writer.appendBatch(runEvents("new"));
      await writer.close();
      const counts = new Set([PUBLISH_RUN_EVENTS, 2 * PUBLISH_RUN_EVENTS]);

      let total = 0;
      await withCopy(template, join(dir, "count"), async (root) => {
        const layer = await FaultFs.attach(root);
        try {
          await rebuildIndex(root);
        } finally {
          layer.detach();
        }
        total = layer.ops;
      });
      assert.ok(total >= 3, `the publish goes through the durable seam (${total} operations)`);
      // Every (point, model) in the long mode; a seeded few in `deno task test`.
      const rng = new SeededRandom(SEED_BASE);
      const cases = Array.from({ length: total }, (_, i) => i + 1)
        .flatMap((crashAt) => (["drop", "random"] as const).map((model) => ({ crashAt, model })))
        .filter((_, _i, all) => SEEDS >= 1000 || rng.next() < PUBLISH_CASES_CI / all.length);
      let points = 0;
      for (const { crashAt, model } of cases) {
        const label = `publish crash at op ${crashAt}/${total}, model ${model}`;
        await withCopy(template, join(dir, `p${crashAt}-${model}`), async (root) => {
          const layer = await FaultFs.attach(root, crashAt);
          try {
            await rebuildIndex(root);
          } catch (err) {
            if (!isPowerLoss(err)) throw err;
          }
          assert.ok(layer.crashed, `${label}: the power loss happened`);
          await layer.restore(model, new SeededRandom(crashAt));
          const db = join(root, "index", "runs.duckdb");
          const [{ n }] = await queryIndex(db, "SELECT count(*) AS n FROM events");
          assert.ok(counts.has(Number(n)), `${label}: the index holds ${n} events`);
          // And the next rebuild, after power is back, brings it up to the log.
          await rebuildIndex(root);
          const [{ n: after }] = await queryIndex(db, "SELECT count(*) AS n FROM events");
          assert.equal(after, 2 * PUBLISH_RUN_EVENTS, `${label}: rebuilt after the crash`);
        });
        points += 1;
      }
      console.log(
        `power loss: index publish cut at ${points} of ${total * 2} (point, model) cases ` +
          `(all of them with LEDGER_CRASH_SEEDS >= 1000)`,
      );
    });
  },
});

/** Run `fn` on a fresh copy of `template` at `path`. */
async function withCopy(
  template: string,
  path: string,
  fn: (root: string) => Promise<void>,
): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", template, path] }).output();
  assert.ok(out.success, `cp -a ${template} ${path}`);
  await fn(path);
}
