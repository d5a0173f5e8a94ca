/**
 * A server that accepts the connection and never answers (a stopped or
 * wedged gateway, a half-open connection): the storage audit saw `ledger
 * ship --once`, `rebuild-index --from` and `daemon --from` wait for ever,
 * the AWS SDK only warning after its request timeout. Every request now
 * fails within its bounds, as an unreachable endpoint, named in one line.
 * The bounds here are made short; the CLI's are 30 s idle and 30 s until
 * an answer starts (an upload: plus its time at 32 KiB/s), over 3 attempts.
 * A slow upload that is still sending is not cut (a review: at 120 KB/s a
 * 16 MiB chunk failed every pass); checked by hand through a throttling
 * proxy, 4 MiB at 120 KB/s in 35 s.
 *
 * @module
 */
import assert from "node:assert/strict";
import { openS3Store } from "../../storage/s3.ts";
import { ObjectStoreError } from "../../storage/object_store.ts";

/** How a server that stops answering behaves. */
const SILENT_SERVERS = [
  { name: "never answers", headers: false },
  // A review: the upload's timer ended at the answer's headers, and nothing bounded its body.
  { name: "sends its headers, then nothing", headers: true },
];

for (const server of SILENT_SERVERS) {
  Deno.test(`a server that ${server.name}: each call fails within its timeouts`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) {
        held.push(conn); // accepted, never answered in full
        if (!server.headers) continue;
        conn.read(new Uint8Array(65536)).then(() =>
          conn.write(
            new TextEncoder().encode(
              "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n<",
            ),
          )
        ).catch(() => undefined); // the client may have gone already
      }
    })();
    try {
      const store = openS3Store("fleet", {
        endpoint: { endpoint: `http://127.0.0.1:${listener.addr.port}`, region: "us-east-1" },
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        idleTimeoutMs: 200,
        requestTimeoutMs: 400,
      });
      for (
        const [what, call] of [
          ["check", () => store.check()],
          ["get", () => store.get("events/x.jsonl")],
          ["putIfAbsent", () => store.putIfAbsent("events/x.jsonl", new Uint8Array([10]))],
        ] as const
      ) {
        const started = performance.now();
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof ObjectStoreError, `${what}: ${err}`);
          assert.equal(err.kind, "unreachable", `${what}: ${err.message}`);
          assert.match(err.message, /^Cannot reach s3:\/\/fleet at http:\/\/127\.0\.0\.1:\d+/);
          assert.match(err.message, /time|no whole answer/i);
          assert.equal(err.message.split("\n").length, 1);
          return true;
        });
        // 3 attempts of at most 0.4 s each, and the SDK's backoff between them: far below a hang.
        const ms = performance.now() - started;
        assert.ok(ms < 15_000, `${what} took ${Math.round(ms)} ms`);
      }
    } finally {
      listener.close();
      await accepting.catch((err) => {
        if (!(err instanceof Deno.errors.BadResource)) throw err;
      });
      for (const conn of held) conn.close();
    }
  });
}
