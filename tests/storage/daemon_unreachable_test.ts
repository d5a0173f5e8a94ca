/**
 * `ledger daemon --to` with its endpoint down at start (a storage audit):
 * the local index was never built while the shipper waited, and the waits
 * went to stderr as plain text even with `--log-json`. Now the local index
 * is built at once and the waits are `warn` lines of the daemon's own log.
 * No S3 server is needed: the endpoint is a loopback port nobody listens on.
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { loopbackS3Env } from "./_loopback.ts";

/** Longest wait for the daemon's first rebuild. */
const INDEX_WAIT_MS = 30_000;

Deno.test("daemon --to: an endpoint down at start holds back neither the index nor the log format", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close(); // a free port: connections are refused
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(
        CLI_PATH,
        ["daemon", "--root", root, "--to", "s3://fleet/x", "--interval", "0.5", "--log-json"],
        [`--allow-net=127.0.0.1:${port}`],
      ),
      env: loopbackS3Env(port),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const stderr = new Response(child.stderr).text();
    const index = join(root, "index", "runs.duckdb");
    const end = Date.now() + INDEX_WAIT_MS;
    let built = false;
    while (!built && Date.now() < end) {
      built = await Deno.stat(index).then(() => true, (err) => {
        if (err instanceof Deno.errors.NotFound) return false;
        throw err;
      });
      if (!built) await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500)); // a retry or two of the shipper
    try {
      child.kill("SIGTERM");
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // it ended already: its output says why
    }
    const status = await child.status;
    const [out, err] = await Promise.all([stdout, stderr]);
    ok(built, `no index while the endpoint was down; stdout: ${out}; stderr: ${err}`);
    equal(status.code, 0, err);
    equal(err, "", "every line goes to the daemon's log");
    const entries = out.trim().split("\n").map((l) => JSON.parse(l));
    ok(entries.some((e) => e.level === "warn" && /shipping \(indexing goes on\)/.test(e.msg)));
    match(out, /rebuild full/);
  });
});
