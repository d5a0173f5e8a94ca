/**
 * An endpoint that is not an S3 server (a storage audit): a web server on
 * the wrong port answers 200 to everything, which the SDK read as an empty
 * bucket and a stored object, so `ledger ship` said "Shipped" and exited 0
 * with nothing stored, and `rebuild-index --from` published an empty index.
 * Both fail now, in one line naming the endpoint, and write nothing. The
 * server is a plain HTTP server on loopback: it stands for a wrong endpoint,
 * not for S3.
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, hashTree, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { loopbackS3Env } from "./_loopback.ts";

/** A listing any S3 server would give of an empty bucket `fleet`. */
const EMPTY_LISTING = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>fleet</Name>
<Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated>
</ListBucketResult>`;

async function ledger(port: number, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CLI_PATH, args, [`--allow-net=127.0.0.1:${port}`]),
    env: loopbackS3Env(port),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

for (
  const server of [
    { name: "a web page for every request", listing: false, status: 200 },
    // A web server on the wrong port (`python3 -m http.server`): a probe got the SDK's "XML parse
    // error: mismatched tags <meta> and </head>. (HTTP 404)", which named no endpoint problem.
    { name: "a 404 page for every request", listing: false, status: 404 },
    // helper-300: a 404 with no body read as "Not found: s3://fleet at http://...".
    { name: "a bare 404 for every request", listing: false, status: 404, bare: true },
    { name: "a listing, then 200 with no ETag for a PUT", listing: true, status: 200 },
  ]
) {
  Deno.test(`an endpoint that is not S3 (${server.name}): ship and --from fail, write nothing`, async () => {
    const ac = new AbortController();
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (req) => {
        const listing = server.listing && req.method === "GET" &&
          new URL(req.url).searchParams.get("list-type") === "2";
        if ("bare" in server) return new Response(null, { status: server.status });
        return listing
          ? new Response(EMPTY_LISTING, { headers: { "content-type": "application/xml" } })
          : new Response(
            '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>hello</body></html>',
            { status: server.status, headers: { "content-type": "text/html" } },
          );
      },
    );
    try {
      await withTempDir(async (tmp) => {
        const worker = join(tmp, "worker");
        await writePart(worker, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
        const port = http.addr.port;
        const before = await hashTree(join(worker, "events"));
        const shipped = await ledger(port, [
          "ship",
          "--root",
          worker,
          "--to",
          "s3://fleet/x",
          "--once",
        ]);
        equal(shipped.code, 1, shipped.stderr);
        equal(shipped.stderr.trim().split("\n").length, 1, shipped.stderr);
        match(shipped.stderr, /does not answer as an S3 server .*check AWS_ENDPOINT_URL_S3/);
        if (!server.listing) ok(!/Shipped/.test(shipped.stderr));
        // A PUT was tried, so the state file may exist; the log itself is untouched.
        deepEqual(await hashTree(join(worker, "events")), before);
        const reader = join(tmp, "reader");
        await Deno.mkdir(reader);
        const indexed = await ledger(port, [
          "rebuild-index",
          "--root",
          reader,
          "--from",
          "s3://fleet/x",
        ]);
        if (server.listing) {
          equal(indexed.code, 0, indexed.stderr); // an empty bucket, answered as S3 answers
        } else {
          equal(indexed.code, 1, indexed.stderr);
          match(indexed.stderr, /does not answer as an S3 server/);
          equal([...Deno.readDirSync(reader)].length, 0, "nothing written");
        }
      });
    } finally {
      ac.abort();
      await http.finished;
    }
  });
}

/**
 * An endpoint that answers 503 (a load balancer before a server that is down
 * or starting): a probe's `ship --interval` and `daemon --from` exited 1 at
 * their start, where one started before its server retries. Both wait for it
 * now, saying so each interval, and stop on SIGTERM with exit 0.
 */
Deno.test("an endpoint answering 503: ship --interval and daemon --from wait for it", async (t) => {
  const ac = new AbortController();
  let requests = 0;
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    () => {
      requests++;
      return new Response("<html>Service Unavailable</html>", { status: 503 });
    },
  );
  try {
    await withTempDir(async (tmp) => {
      const worker = join(tmp, "worker");
      await writePart(worker, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
      const port = http.addr.port;
      // ship says its retries on stderr; the daemon logs on stdout.
      for (
        const [name, args, said] of [
          [
            "ship --interval 1",
            ["ship", "--root", worker, "--to", "s3://fleet/x", "--interval", "1"],
            "stderr",
          ],
          [
            "daemon --from",
            ["daemon", "--root", join(tmp, "reader"), "--from", "s3://fleet/x", "--interval", "1"],
            "stdout",
          ],
        ] as const
      ) {
        await t.step(name, async () => {
          const child = new Deno.Command(Deno.execPath(), {
            args: denoScriptArgs(CLI_PATH, [...args], [`--allow-net=127.0.0.1:${port}`]),
            env: { ...loopbackS3Env(port), AWS_MAX_ATTEMPTS: "1" },
            stdout: said === "stdout" ? "piped" : "null",
            stderr: said === "stderr" ? "piped" : "null",
          }).spawn();
          const reader = child[said].pipeThrough(new TextDecoderStream()).getReader();
          let text = "";
          const timer = setTimeout(() => child.kill("SIGKILL"), RETRIES_SEEN_MS_MAX);
          // Two tries that failed on the 503, each said with the retry: still running.
          while ((text.match(/HTTP 503.*retr/g) ?? []).length < 2) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
          }
          clearTimeout(timer);
          child.kill("SIGTERM");
          for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
          const status = await child.status;
          equal(status.code, 0, text);
          ok((text.match(/HTTP 503.*retr/g) ?? []).length >= 2, text);
          match(text, /Cannot reach s3:\/\/fleet/);
          // ship's retries are warnings, before the first contact as after it (helper-300).
          if (said === "stderr") match(text, /^ledger ship: warning: Cannot reach s3:\/\/fleet/m);
        });
      }
      ok(requests >= 4, `${requests} requests`);
    });
  } finally {
    ac.abort();
    await http.finished;
  }
});

/** How long the 503 test waits for two retries (1 s apart) before it kills the child. */
const RETRIES_SEEN_MS_MAX = 60_000;
