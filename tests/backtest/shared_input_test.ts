/**
 * Backtests that share an input file. Each run reads its inputs through a
 * hard link in its run folder (`RunContext.pinInputs`), and a link changes
 * the file's inode change time: a CI run had two backtests on the one
 * candles file, and the other run's link, made while this one hashed the
 * file, failed it "changed while it was hashed (it was written to)". A
 * change of the change time alone now reads the file again; a write still
 * fails the run.
 *
 * Another process links and unlinks the file without pause (what many runs
 * on one file do), or writes into it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fingerprintInputs, hashFile } from "../../backtest/artifacts.ts";
import { InputError } from "../../backtest/errors.ts";
import { eventually, REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

/** How long a test hashes a file under churn, ms: past two changes of a whole second. */
const CHURN_MS = 2_500;

/** A child that keeps changing `file` as `how` says until it is killed. */
async function startChurn(
  dir: string,
  file: string,
  how: "link" | "write",
): Promise<Deno.ChildProcess> {
  const script = join(dir, `churn-${how}.ts`);
  await Deno.writeTextFile(
    script,
    `const [file, how, link] = Deno.args;
for (let n = 0; ; n++) {
  if (how === "link") {
    Deno.linkSync(file, link);
    Deno.removeSync(link);
  } else {
    using f = Deno.openSync(file, { write: true });
    f.seekSync(n % 1024, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array([n % 251]));
  }
}
`,
  );
  const before = (await Deno.stat(file)).ctime?.getTime();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, file, how, join(dir, `pin-${how}`)],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  // Under way before the test reads the file: its inode has changed.
  await eventually(
    async () => (await Deno.stat(file)).ctime?.getTime() !== before,
    `the ${how} child changed ${file}`,
  );
  return child;
}

/** Stop the child `churn` and wait for it. */
async function stopChurn(churn: Deno.ChildProcess): Promise<void> {
  churn.kill("SIGKILL");
  await churn.status;
}

/** A file of `mib` MiB (long enough to hash that the churn changes it during a read). */
async function bigFile(path: string, mib: number): Promise<void> {
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) % 256;
  using f = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let i = 0; i < mib; i++) await f.write(chunk);
}

Deno.test("an input another run links while this one hashes it: hashed, not refused", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "candles.bin");
    await bigFile(file, 16);
    const expected = (await hashFile(file)).sha256;
    const churn = await startChurn(dir, file, "link");
    try {
      // Deno gives a change time in whole seconds: hashing for longer than two of them
      // crosses a second while the file is linked (the code before failed each time).
      const until = performance.now() + CHURN_MS;
      let hashed = 0;
      while (performance.now() < until) {
        const fp = await fingerprintInputs({ candles: file });
        assert.equal(fp.files.candles.sha256, expected);
        hashed++;
      }
      assert(hashed > 1, `hashed ${hashed} times in ${CHURN_MS} ms`);
    } finally {
      await stopChurn(churn);
    }
  });
});

Deno.test("an input written to while it is hashed is still refused", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "candles.bin");
    await bigFile(file, 48);
    const churn = await startChurn(dir, file, "write");
    try {
      await assert.rejects(
        fingerprintInputs({ candles: file }),
        (err: unknown) =>
          err instanceof InputError &&
          err.message.startsWith(`Candles file ${file} changed while it was hashed (`),
      );
    } finally {
      await stopChurn(churn);
    }
  });
});

Deno.test("ledger backtest: runs on a candles file other runs link complete", async () => {
  await withTempDir(async (dir) => {
    const sample = join(REPO_ROOT, "data", "sample");
    const calls = join(dir, "calls.csv");
    const candles = join(dir, "candles_1m.parquet");
    await Deno.copyFile(join(sample, "calls.csv"), calls);
    await Deno.copyFile(join(sample, "candles_1m.parquet"), candles);
    const expected = (await hashFile(candles)).sha256;
    const root = join(dir, "root");
    const churn = await startChurn(dir, candles, "link");
    try {
      const policy = ["--policy", '{"type":"fixed_stop","stopPct":0.3}'];
      for (const [i, kind] of ["path-only", "policy"].entries()) {
        const r = await runLedger([
          ...["backtest", kind, "--root", root, "--no-index", ...(i === 1 ? policy : [])],
          ...["--calls", calls, "--candles", candles, "--run-id", `shared-${i}`],
        ]);
        assert.equal(r.code, 0, r.stderr);
        const manifest = JSON.parse(
          await Deno.readTextFile(join(root, "artifacts", "runs", `shared-${i}`, "manifest.json")),
        );
        assert.equal(manifest.inputs.candles.sha256, expected, JSON.stringify(manifest.inputs));
      }
    } finally {
      await stopChurn(churn);
    }
  });
});
