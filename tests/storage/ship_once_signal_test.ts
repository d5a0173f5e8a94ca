/**
 * `ledger ship` stopped by SIGTERM while its first request hangs (helper-268,
 * then a review): the signal only marked the pass as stopped; the request
 * ran on to its timeouts (three of 30 s), and `--once` then exited 0, though
 * `ship --help` and OPERATIONS.md 8 say `--once` exits 1 if anything could
 * not be shipped. The signal now stops the wait: `--once` exits 1, a shipper
 * running on exits 0, `rebuild-index --from` 143, all at once. The endpoint
 * is a loopback TCP listener that accepts and never answers (a hung server).
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, hashTree, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { hungEndpoint, loopbackS3Env } from "./_loopback.ts";

/** How long the command may take to reach the hung server, in ms. */
const CONNECT_WAIT_MS = 60_000;
/** How long a stopped command may take to exit, in ms: well under one 30 s request timeout. */
const STOP_WAIT_MS = 15_000;

/**
 * Run `ledger ARGS` against a hung endpoint, send SIGTERM once its first
 * request is in flight, and return its exit code, its stderr and how long it
 * took to exit after the signal.
 */
async function stoppedWhileHung(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; stoppedMs: number }> {
  const endpoint = hungEndpoint();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, args, [`--allow-net=127.0.0.1:${endpoint.port}`]),
      env: loopbackS3Env(endpoint.port),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const stderr = new Response(child.stderr).text();
    const timer = setTimeout(() => child.kill("SIGKILL"), CONNECT_WAIT_MS);
    try {
      await endpoint.firstAccept;
      await new Promise((r) => setTimeout(r, 300)); // the request is in flight
      const signalled = performance.now();
      child.kill("SIGTERM");
      const status = await child.status;
      const stoppedMs = performance.now() - signalled;
      return { code: status.code, stdout: await stdout, stderr: await stderr, stoppedMs };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await endpoint.close();
  }
}

for (
  const mode of [
    { flags: ["--once"], code: 1 },
    { flags: ["--interval", "5"], code: 0 },
  ]
) {
  Deno.test(`ship ${mode.flags.join(" ")}: SIGTERM while the first request hangs stops it, exit ${mode.code}`, async () => {
    await withTempDir(async (tmp) => {
      const worker = join(tmp, "worker");
      await writePart(worker, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
      const before = await hashTree(join(worker, "events"));
      const r = await stoppedWhileHung([
        ...["ship", "--root", worker, "--to", "s3://fleet/x", ...mode.flags],
      ]);
      equal(r.code, mode.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      ok(r.stoppedMs < STOP_WAIT_MS, `exited ${Math.round(r.stoppedMs)} ms after the signal`);
      if (mode.code === 1) match(r.stderr, /ledger ship: Stopped before s3:\/\/fleet .* answered/);
      match(r.stderr, /^(?![\s\S]*retrying)/, "no retry said after the signal");
      equal(await hashTree(join(worker, "events")), before);
    });
  });
}

// A review: `rebuild-index --from` waited ~88 s after the signal; a stopped `ship --interval`
// said "retrying in 5 s" as it exited.
Deno.test("rebuild-index --from: SIGTERM while the bucket check hangs exits 143 at once", async () => {
  await withTempDir(async (tmp) => {
    const r = await stoppedWhileHung([
      ...["rebuild-index", "--root", join(tmp, "reader"), "--from", "s3://fleet/x"],
    ]);
    equal(r.code, 143, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    ok(r.stoppedMs < STOP_WAIT_MS, `exited ${Math.round(r.stoppedMs)} ms after the signal`);
  });
});
