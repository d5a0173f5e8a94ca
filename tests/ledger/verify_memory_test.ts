/**
 * `ledger verify` held every event id in a `Map` with its place (file, line,
 * time, day): about 400 bytes an event, 377 MB of RSS at 1M events, so a
 * year's log (50M events) could not be checked on this machine. It now holds
 * an 8-byte fingerprint per event and reads the log a second time only when
 * two fingerprints repeat (ledger/_id_fingerprints.ts).
 *
 * This suite caps the V8 heap of the verifying process and checks a log whose
 * ids alone would not fit under the cap in the old `Map` (several times over),
 * once clean and once with a repeated id, which takes the second scan.
 *
 * @module
 */
import assert from "node:assert";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, withTempDir } from "../_helpers.ts";
import { idFingerprint, IdFingerprints } from "../../ledger/_id_fingerprints.ts";
import { verifyLog } from "../../ledger/verify.ts";

/**
 * The V8 old-space cap of the verifying process. The 100k ids of the log
 * below took about 40 MB in the old `Map` (it ran out of heap under this cap
 * at 100k and 200k events); their fingerprints take 0.8 MB (1M events of the
 * bench's log verified under a 48 MiB cap).
 */
const HEAP_MIB_MAX = 24;
/** Trials in the log: one run, so that what grows is the events, not the runs. */
const TRIALS = 100_000;
/** Trials per part file. */
const TRIALS_PER_FILE = 25_000;

/** One run with `TRIALS` trials over several part files and days; `repeat` adds one line again. */
async function writeLog(root: string, repeat: boolean): Promise<void> {
  const startMs = Date.UTC(2026, 0, 1);
  const line = (type: string, n: number, extra: Record<string, unknown>) =>
    JSON.stringify({
      event_type: type,
      event_id: `0190a1b2-${n.toString(16).padStart(8, "0")}-7000-8000-000000000000`,
      timestamp_ms: startMs + n,
      run_id: "mem",
      schema_version: 1,
      ...extra,
    });
  const first = [
    line("run.created", 0, { run_type: "sweep", config: {}, data_fingerprint: "f" }),
  ];
  for (let file = 0; file * TRIALS_PER_FILE < TRIALS; file++) {
    const lines = file === 0 ? [...first] : [];
    for (let k = 0; k < TRIALS_PER_FILE; k++) {
      const n = 1 + file * TRIALS_PER_FILE + k;
      lines.push(line("trial.recorded", n, { trial_id: `t${n}`, params: {}, metrics: {} }));
    }
    if (file * TRIALS_PER_FILE + TRIALS_PER_FILE >= TRIALS) {
      lines.push(line("run.completed", TRIALS + 1, { summary: {}, artifact_paths: {} }));
      if (repeat) lines.push(lines[7]); // a writer's retry: the same line again
    }
    const day = `day=2026-01-0${1 + file}`;
    await Deno.mkdir(join(root, "events", day), { recursive: true });
    await Deno.writeTextFile(
      join(root, "events", day, `part-mem-${file}.jsonl`),
      lines.join("\n") + "\n",
    );
  }
}

/** `ledger verify --json` of `root` under the heap cap: its exit code and report. */
async function verifyCapped(root: string): Promise<{ code: number; report: VerifyJson }> {
  const args = denoScriptArgs(CLI_PATH, ["verify", "--root", root, "--json"]);
  args.splice(1, 0, `--v8-flags=--max-old-space-size=${HEAP_MIB_MAX}`); // before the script
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(stdout.startsWith("{"), `verify under a ${HEAP_MIB_MAX} MiB heap: ${stderr}`);
  return { code: out.code, report: JSON.parse(stdout) };
}

interface VerifyJson {
  sound: boolean;
  totals: { events: number; lines: number; runs: number; duplicate_ids: number };
  duplicates: { event_id: string; same_event: boolean }[];
}

Deno.test(`verify checks ${TRIALS} events within a ${HEAP_MIB_MAX} MiB heap`, async (t) => {
  await t.step("a clean log: one read", async () => {
    await withTempDir(async (root) => {
      await writeLog(root, false);
      const { code, report } = await verifyCapped(root);
      assert.equal(code, 0);
      assert.equal(report.sound, true);
      assert.equal(report.totals.events, TRIALS + 2);
      assert.equal(report.totals.runs, 1);
      assert.equal(report.totals.duplicate_ids, 0);
    });
  });
  await t.step("a repeated line: the second read finds it", async () => {
    await withTempDir(async (root) => {
      await writeLog(root, true);
      const { code, report } = await verifyCapped(root);
      assert.equal(code, 1, "a repeated id makes the log unsound");
      assert.equal(report.totals.lines, TRIALS + 3);
      assert.equal(report.totals.events, TRIALS + 2, "the repeat counts once");
      assert.equal(report.totals.duplicate_ids, 1);
      assert.equal(report.duplicates[0].same_event, true);
      assert.match(report.duplicates[0].event_id, /^0190a1b2-00012500-/);
    });
  });
});

Deno.test("IdFingerprints finds the repeated ids across chunks, as a Map counts them", () => {
  let seed = 7;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (const chunkSize of [1, 3, 7, 64]) {
    const ids = new IdFingerprints(chunkSize);
    const counts = new Map<number, number>();
    for (let i = 0; i < 500; i++) {
      const id = `id-${Math.floor(rand() * 400)}`;
      ids.add(id);
      counts.set(idFingerprint(id), (counts.get(idFingerprint(id)) ?? 0) + 1);
    }
    const expected = [...counts].filter(([, n]) => n > 1).map(([f]) => f).sort();
    assert.equal(ids.size, 500);
    assert.deepEqual([...ids.repeated()].sort(), expected, `chunks of ${chunkSize}`);
  }
});

Deno.test("verify tells how far each read of the log is (a scale audit: 26 s of silence)", async () => {
  await withTempDir(async (root) => {
    await writeLog(root, true);
    const calls: [number, number, number][] = [];
    const report = await verifyLog(root, {
      onProgress: (done, total, pass) => calls.push([done, total, pass]),
    });
    assert.equal(report.sound, false, "the repeated line takes the second read");
    for (const pass of [1, 2]) {
      const mine = calls.filter((c) => c[2] === pass);
      assert.ok(mine.length >= 2, `pass ${pass}: ${JSON.stringify(mine)}`);
      const total = mine[0][1];
      assert.ok(total > 0 && mine.every((c) => c[1] === total));
      assert.ok(mine.every((c, i) => i === 0 || c[0] >= mine[i - 1][0]), "never backwards");
      assert.equal(mine.at(-1)![0], total, "the last call: everything read");
    }
  });
});
