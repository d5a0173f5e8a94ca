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

/** A listing any S3 server would give of an empty bucket `fleet`. */
const EMPTY_LISTING = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>fleet</Name>
<Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated>
</ListBucketResult>`;

async function ledger(port: number, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CLI_PATH, args, [`--allow-net=127.0.0.1:${port}`]),
    env: {
      LEDGER_ROOT: "",
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

for (
  const server of [
    { name: "a web page for every request", listing: false },
    { name: "a listing, then 200 with no ETag for a PUT", listing: true },
  ]
) {
  Deno.test(`an endpoint that is not S3 (${server.name}): ship and --from fail, write nothing`, async () => {
    const ac = new AbortController();
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (req) => {
        const listing = server.listing && req.method === "GET" &&
          new URL(req.url).searchParams.get("list-type") === "2";
        return listing
          ? new Response(EMPTY_LISTING, { headers: { "content-type": "application/xml" } })
          : new Response("<html>hello</html>", { headers: { "content-type": "text/html" } });
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
