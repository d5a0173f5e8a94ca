/**
 * The endpoint of the bucket commands, from `AWS_ENDPOINT_URL_S3`: one that
 * is not an http(s) URL is a usage error of one line (exit 2) before
 * anything is sent, whatever its scheme. A probe: `ftp://127.0.0.1:7491`
 * reached the AWS SDK and failed there, exit 1 with its internal words.
 *
 * @module
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";

Deno.test("ship, rebuild-index --from: an endpoint that is not an http(s) URL is exit 2", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger_endpoint_" });
  try {
    const emitted = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "e1"],
      ...["--run-type", "t", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    equal(emitted.code, 0, emitted.stderr);
    const cases: [string, RegExp][] = [
      [
        "ftp://127.0.0.1:7491",
        /AWS_ENDPOINT_URL_S3 must be an http:\/\/ or https:\/\/ URL, got "ftp:/,
      ],
      ["notaurl", /AWS_ENDPOINT_URL_S3 is not a URL: "notaurl"/],
    ];
    const commands = [
      ["ship", "--to", "s3://bkt/p", "--once"],
      ["rebuild-index", "--from", "s3://bkt/p", "--db", `${root}/from.duckdb`],
    ];
    for (const [endpoint, said] of cases) {
      for (const command of commands) {
        await t.step(`${command[0]} ${endpoint}`, async () => {
          const r = await runLedger([...command, "--root", root], {
            env: {
              AWS_ACCESS_KEY_ID: "k",
              AWS_SECRET_ACCESS_KEY: "s",
              AWS_REGION: "us-east-1",
              AWS_ENDPOINT_URL_S3: endpoint,
            },
          });
          equal(r.code, 2, r.stderr);
          equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          match(r.stderr, said);
        });
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
