/**
 * `ledger ship` stopped by SIGTERM while its first request hangs (helper-268,
 * then a review): the signal only marked the pass as stopped; the request
 * ran on to its timeouts (three of 30 s), and `--once` then exited 0, though
 * `ship --help` and OPERATIONS.md 8 say `--once` exits 1 if anything could
 * not be shipped. The signal now stops the wait: `--once` exits 1, a shipper
 * running on exits 0, both at once. The endpoint is a loopback TCP listener
 * that accepts and never answers (a hung server).
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, hashTree, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

/** How long the command may take to reach the hung server, in ms. */
const CONNECT_WAIT_MS = 60_000;
/** How long a stopped command may take to exit, in ms: well under one 30 s request timeout. */
const STOP_WAIT_MS = 15_000;

for (
  const mode of [
    { flags: ["--once"], code: 1 },
    { flags: ["--interval", "5"], code: 0 },
  ]
) {
  Deno.test(`ship ${mode.flags.join(" ")}: SIGTERM while the first request hangs stops it, exit ${mode.code}`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const held: Deno.Conn[] = [];
    let accepted: () => void = () => {};
    const firstAccept = new Promise<void>((resolve) => accepted = resolve);
    const accepting = (async () => {
      try {
        for await (const conn of listener) {
          held.push(conn);
          accepted();
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.BadResource)) throw err;
      }
    })();
    try {
      await withTempDir(async (tmp) => {
        const worker = join(tmp, "worker");
        await writePart(worker, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
        const before = await hashTree(join(worker, "events"));
        const child = new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(
            CLI_PATH,
            ["ship", "--root", worker, "--to", "s3://fleet/x", ...mode.flags],
            [`--allow-net=127.0.0.1:${port}`],
          ),
          env: {
            LEDGER_ROOT: "",
            AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
            AWS_REGION: "us-east-1",
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
          },
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const stdout = new Response(child.stdout).text();
        const stderr = new Response(child.stderr).text();
        const timer = setTimeout(() => child.kill("SIGKILL"), CONNECT_WAIT_MS);
        try {
          await firstAccept;
          await new Promise((r) => setTimeout(r, 300)); // the request is in flight
          const signalled = performance.now();
          child.kill("SIGTERM");
          const status = await child.status;
          const stoppedMs = performance.now() - signalled;
          const err = await stderr;
          equal(status.code, mode.code, `stdout: ${await stdout}\nstderr: ${err}`);
          ok(stoppedMs < STOP_WAIT_MS, `exited ${Math.round(stoppedMs)} ms after the signal`);
          if (mode.code === 1) match(err, /ledger ship: Stopped before s3:\/\/fleet .* answered/);
          match(err, /^(?![\s\S]*retrying)/, "no retry said after the signal");
          equal(await hashTree(join(worker, "events")), before);
        } finally {
          clearTimeout(timer);
        }
      });
    } finally {
      listener.close();
      for (const conn of held) conn.close();
      await accepting;
    }
  });
}

// A review: `rebuild-index --from` waited ~88 s after the signal; a stopped `ship --interval`
// said "retrying in 5 s" as it exited.
Deno.test("rebuild-index --from: SIGTERM while the bucket check hangs exits 143 at once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  let accepted: () => void = () => {};
  const firstAccept = new Promise<void>((resolve) => accepted = resolve);
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        held.push(conn);
        accepted();
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  })();
  try {
    await withTempDir(async (tmp) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: denoScriptArgs(
          CLI_PATH,
          ["rebuild-index", "--root", join(tmp, "reader"), "--from", "s3://fleet/x"],
          [`--allow-net=127.0.0.1:${port}`],
        ),
        env: {
          LEDGER_ROOT: "",
          AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
        },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stdout = new Response(child.stdout).text();
      const stderr = new Response(child.stderr).text();
      const timer = setTimeout(() => child.kill("SIGKILL"), CONNECT_WAIT_MS);
      try {
        await firstAccept;
        await new Promise((r) => setTimeout(r, 300));
        const signalled = performance.now();
        child.kill("SIGTERM");
        const status = await child.status;
        const stoppedMs = performance.now() - signalled;
        equal(status.code, 143, `stdout: ${await stdout}\nstderr: ${await stderr}`);
        ok(stoppedMs < STOP_WAIT_MS, `exited ${Math.round(stoppedMs)} ms after the signal`);
      } finally {
        clearTimeout(timer);
      }
    });
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});
