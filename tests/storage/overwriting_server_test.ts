/**
 * A server that ignores conditional writes (`If-None-Match: *`): a storage
 * audit had two machines ship the same key to s3rver at once, both exit 0,
 * and one machine's 19,001 acknowledged events overwritten in the bucket.
 * `ledger ship` writes its first chunk again with the condition and refuses
 * a server that stores it: one line naming the server, exit 1. The server
 * is s3rver (npm), a real S3 API server that ignores the condition; Ceph
 * RGW, which honours it, ships as before (`ship_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger, withTempDir } from "../_helpers.ts";

/** s3rver's version, run by Deno from the npm registry. */
const S3RVER = "npm:s3rver@3.7.1/bin/s3rver.js";
/** Every file under `dir`, as paths. */
async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* walk(path);
    else yield path;
  }
}

/** Time s3rver may take to start (its first run downloads it). */
const START_MS_MAX = 120_000;

Deno.test("ship refuses a server that overwrites an object it was asked not to", async () => {
  await withTempDir(async (tmp) => {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const server = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "-A", S3RVER, "-d", join(tmp, "s3"), "-a", "127.0.0.1"]
        .concat(["-p", String(port), "--silent", "--configure-bucket", "fleet"]),
      cwd: tmp,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(server.stderr).text();
    try {
      const deadline = Date.now() + START_MS_MAX;
      for (;;) {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          break;
        } catch (err) {
          if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
          assert.ok(Date.now() < deadline, "s3rver did not start");
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      const root = join(tmp, "worker");
      // Two parts (two days): the refusal must come before the second part's chunk is written
      // (a review: every part of the refusing pass had one in the bucket).
      const day = (d: number) =>
        JSON.stringify({
          event_type: "run.created",
          run_id: `r${d}`,
          timestamp_ms: Date.UTC(2026, 0, 20 + d),
          run_type: "t",
          config: {},
          data_fingerprint: "fp",
        });
      const created = await runLedger(["emit", "--root", root, "--stdin"], {
        stdin: `${day(0)}\n${day(1)}\n`,
      });
      assert.equal(created.code, 0, created.stderr);
      const env = {
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
      };
      const ship = async () => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(
            CLI_PATH,
            ["ship", "--root", root, "--to", "s3://fleet/x", "--once"],
            [`--allow-net=127.0.0.1:${port}`],
          ),
          env: { ...env, LEDGER_ROOT: "" },
        }).output();
        return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
      };
      // The refusal, then again from a new process with nothing new to ship: it is kept in the
      // state file (a review: the next ship --once exited 0).
      for (const pass of ["first", "again"]) {
        const shipped = await ship();
        assert.equal(shipped.code, 1, `${pass}: ${shipped.stderr}`);
        const lines = shipped.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, shipped.stderr);
        assert.match(
          lines[0],
          /^ledger ship: s3:\/\/fleet at http:\/\/127\.0\.0\.1:\d+ overwrote an object when asked not to \(If-None-Match: \*\)/,
        );
      }
      const objects: string[] = [];
      for await (const e of walk(join(tmp, "s3", "fleet"))) objects.push(e);
      // s3rver keeps each object as a file named `<key>._S3rver_object`, beside its metadata.
      const chunks = objects.filter((o) => o.endsWith("._S3rver_object"));
      assert.equal(chunks.length, 1, objects.join("\n"));
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await stderr;
    }
  });
});
