/**
 * The endpoint and region ledger takes for a bucket are the ones the AWS
 * SDK sends to: a profile's `endpoint_url` (or its `services` section) and
 * `region` count, after the variables. A probe: with the endpoint in a
 * profile, the SDK sent every request there while ledger took the bucket
 * for one at AWS, so two profiles naming two servers shared one state file
 * (the second server got nothing, and the pass said every byte was in its
 * bucket), and the `--allow-net` hint named AWS.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_PATH, denoScriptArgs, hashTree, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

const CHILD = fileURLToPath(new URL("./_resolve_endpoint_child.ts", import.meta.url));

const CONFIG = `[default]
region = ap-south-1

[profile lab]
endpoint_url = http://127.0.0.1:9001
region = eu-west-3

[profile split]
endpoint_url = http://127.0.0.1:9002
services = lab-services

[services lab-services]
s3 =
  endpoint_url = http://127.0.0.1:9003
`;

/** Only what Deno itself needs, and `vars`: no `AWS_*` of the machine's. */
function cleanEnv(home: string, vars: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = { HOME: home };
  for (const name of ["PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) keep[name] = v;
  }
  // Deno's cache stays where it is (a HOME of its own would compile everything again).
  keep.DENO_DIR ??= join(Deno.env.get("HOME") ?? home, ".cache", "deno");
  return { ...keep, ...vars };
}

/** `ledger ship --once` of `root` to `s3://fleet/x`, which must fail with one stderr line. */
async function shipFails(
  home: string,
  root: string,
  permissions: string[],
  vars: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(
      CLI_PATH,
      ["ship", "--root", root, "--to", "s3://fleet/x", "--once"],
      permissions,
    ),
    env: cleanEnv(home, { LEDGER_ROOT: "", ...vars }),
    clearEnv: true,
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  equal(out.code, 1, stderr);
  equal(stderr.trim().split("\n").length, 1, stderr);
  return stderr;
}

async function resolved(home: string, vars: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CHILD),
    env: cleanEnv(home, vars),
    clearEnv: true,
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("the bucket's endpoint and region are the SDK's: variables, then the profile", async (t) => {
  await withTempDir(async (home) => {
    const config = join(home, "aws-config");
    await Deno.writeTextFile(config, CONFIG);
    const files = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(home, "none") };
    await t.step("a profile's endpoint_url and region", async () => {
      deepEqual(await resolved(home, { ...files, AWS_PROFILE: "lab" }), {
        endpoint: "http://127.0.0.1:9001",
        region: "eu-west-3",
      });
    });
    await t.step("the default profile: AWS itself, its region", async () => {
      deepEqual(await resolved(home, files), { region: "ap-south-1" });
    });
    await t.step("a services section's s3 endpoint_url wins over the profile's", async () => {
      deepEqual(await resolved(home, { ...files, AWS_PROFILE: "split", AWS_REGION: "us-west-2" }), {
        endpoint: "http://127.0.0.1:9003",
        region: "us-west-2",
      });
    });
    await t.step("the variables win over the profile", async () => {
      deepEqual(
        await resolved(home, {
          ...files,
          AWS_PROFILE: "lab",
          AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9004",
          AWS_REGION: "sa-east-1",
        }),
        { endpoint: "http://127.0.0.1:9004", region: "sa-east-1" },
      );
      deepEqual(
        (await resolved(home, {
          ...files,
          AWS_PROFILE: "lab",
          AWS_ENDPOINT_URL: "http://127.0.0.1:9005",
        })).endpoint,
        "http://127.0.0.1:9005",
      );
    });
    await t.step("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: AWS itself", async () => {
      const r = await resolved(home, {
        ...files,
        AWS_PROFILE: "lab",
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
      });
      equal(r.endpoint, undefined);
    });
    await t.step("no config file: AWS_DEFAULT_REGION, then us-east-1", async () => {
      const none = {
        AWS_CONFIG_FILE: join(home, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
      };
      deepEqual(await resolved(home, { ...none, AWS_DEFAULT_REGION: "eu-north-1" }), {
        region: "eu-north-1",
      });
      deepEqual(await resolved(home, none), { region: "us-east-1" });
    });
    await t.step("ledger ship names the profile's endpoint in its --allow-net hint", async () => {
      const root = join(home, "worker");
      await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("prof-1", T0));
      const before = await hashTree(root);
      const stderr = await shipFails(home, root, ["--allow-net=example.com:443"], {
        ...files,
        AWS_PROFILE: "lab",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
      });
      match(stderr, /missing permission --allow-net=127\.0\.0\.1:9001 to reach the bucket/);
      equal(await hashTree(root), before);
    });
    await t.step("no credentials: the profile named and its files, or the variables", async () => {
      const root = join(home, "no-keys");
      await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("keys-1", T0));
      const before = await hashTree(root);
      // --allow-net: no request leaves, credentials are looked for first.
      const ship = (vars: Record<string, string>) =>
        shipFails(home, root, ["--allow-net"], { ...files, ...vars });
      // "lab" has an endpoint and no keys; "nope" is in no file: the same words for both.
      for (const profile of ["lab", "nope"]) {
        const stderr = await ship({ AWS_PROFILE: profile });
        match(stderr, /^ledger ship: No AWS credentials found for s3:\/\/fleet /);
        const files = `${join(home, "none")} or ${config}`;
        match(stderr, new RegExp(`no profile "${profile}" \\(AWS_PROFILE\\) with credentials in`));
        equal(stderr.includes(files), true, stderr);
      }
      match(
        await ship({ AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9" }),
        /\(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile \(AWS_PROFILE\)\)$/m,
      );
      equal(await hashTree(root), before);
    });
  });
});
