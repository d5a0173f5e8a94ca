/**
 * A user name and password in `AWS_ENDPOINT_URL_S3` are never printed: a
 * review found `Cannot reach s3://bkt at http://usr:PWSECRET@127.0.0.1:9`.
 * The endpoint is a port nothing listens on, so `ship --once` fails at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("ship: an endpoint's password is not in the message", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const emitted = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "r1"],
    ]);
    assert.equal(emitted.code, 0, emitted.stderr);
    const out = await new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, ["ship", "--root", root, "--to", "s3://bkt/p", "--once"], [
        "--allow-net=127.0.0.1:9",
      ]),
      env: {
        LEDGER_ROOT: "",
        AWS_ACCESS_KEY_ID: "AK",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_S3: "http://usr:PWSECRET@127.0.0.1:9",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const r = { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /s3:\/\/bkt at http:\/\/\*\*\*@127\.0\.0\.1:9/);
    assert.doesNotMatch(r.stderr, /PWSECRET|usr:/);
  });
});
