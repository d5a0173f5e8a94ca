/**
 * `ledger ship --once` stopped by SIGTERM before it could reach the bucket
 * (helper-268): its first request hung, the signal only marked the pass as
 * stopped, and when the request failed the command exited 0, though
 * `ship --help` and OPERATIONS.md 8 say `--once` exits 1 if anything could
 * not be shipped. The endpoint is a loopback TCP listener that accepts and
 * never answers (a hung server), then goes away once the signal is sent.
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, hashTree, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

/** How long the command may take to reach the hung server, in ms. */
const CONNECT_WAIT_MS = 60_000;

Deno.test("ship --once: SIGTERM while the first request hangs, then the server goes: exit 1", async () => {
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
  await withTempDir(async (tmp) => {
    const worker = join(tmp, "worker");
    await writePart(worker, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
    const before = await hashTree(join(worker, "events"));
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(
        CLI_PATH,
        ["ship", "--root", worker, "--to", "s3://fleet/x", "--once"],
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
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500)); // the signal is handled
      listener.close();
      for (const conn of held) conn.close();
      const status = await child.status;
      const err = await stderr;
      equal(status.code, 1, `stdout: ${await stdout}\nstderr: ${err}`);
      match(err, /ledger ship: /);
      equal(await hashTree(join(worker, "events")), before);
    } finally {
      clearTimeout(timer);
    }
  });
  await accepting;
});
