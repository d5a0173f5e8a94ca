/**
 * `ledger ui` answers only the Host names of the address it is bound to. A
 * probe found any Host served: a web page whose name the attacker rebinds to
 * 127.0.0.1 (DNS rebinding) could then read the whole ledger through
 * same-origin requests. Real `ledger ui` children and raw HTTP/1.1 requests
 * over TCP, since `fetch` sets the Host header itself.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../_helpers.ts";
import { emitAndIndex, startUi } from "./_fixture.ts";

/** Longest one raw request may take, ms. */
const REQUEST_MS_MAX = 20_000;

/** One run, emitted and indexed: the UI needs an index to start. */
async function makeRoot(root: string): Promise<void> {
  const t0 = Date.now() - 60_000;
  const lines = [
    {
      event_type: "run.created",
      run_id: "host-1",
      timestamp_ms: t0,
      run_type: "policy",
      config: {},
      data_fingerprint: "fp",
    },
    { event_type: "run.started", run_id: "host-1", timestamp_ms: t0 + 1 },
  ];
  await emitAndIndex(root, lines);
}

/**
 * `GET path` to 127.0.0.1:`port` with the Host header `host` (null: none),
 * over one TCP connection: the status and the body.
 */
async function rawGet(
  port: number,
  host: string | null,
  path = "/run/host-1",
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), REQUEST_MS_MAX);
  try {
    const head = host === null ? "" : `Host: ${host}\r\n`;
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\n${head}Connection: close\r\n\r\n`),
    );
    const answer = await new Response(conn.readable).text();
    const m = answer.match(/^HTTP\/1\.1 (\d{3}) [^]*?\r\n\r\n([^]*)$/);
    assert.ok(m, `not an HTTP answer: ${JSON.stringify(answer.slice(0, 200))}`);
    return { status: Number(m[1]), body: m[2] };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("ledger ui: only the Host names of its address are answered", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    await makeRoot(root);

    await t.step("bound to loopback: 127.0.0.1, localhost and [::1] with the port", async () => {
      const ui = await startUi(root);
      try {
        const port = Number(new URL(ui.url).port);
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
          const res = await rawGet(port, host);
          assert.equal(res.status, 200, host);
          assert.ok(res.body.includes("<title>host-1 - ledger</title>"), host);
        }
        assert.equal((await rawGet(port, `LocalHost:${port}`)).status, 200, "any case");
        const refused = [
          `attacker.example:${port}`, // a rebound name
          `127.0.0.1.attacker.example:${port}`,
          `localhost.attacker.example:${port}`,
          "127.0.0.1", // the port is not 80
          "localhost",
          `127.0.0.1:${port + 1}`,
          `localhost:${port}.attacker.example`,
          "",
          null,
        ];
        for (const host of refused) {
          const res = await rawGet(port, host);
          assert.equal(res.status, 421, `Host ${JSON.stringify(host)}`);
          assert.equal(
            res.body,
            `Misdirected request: this UI answers to Host 127.0.0.1:${port}, localhost:${port}, ` +
              `[::1]:${port}\n`,
          );
        }
        // Every route: the assets and the overview too.
        assert.equal((await rawGet(port, "evil.example", "/assets/client.js")).status, 421);
        assert.equal((await rawGet(port, "evil.example", "/")).status, 421);
      } finally {
        const stopped = await ui.stop("SIGTERM");
        assert.equal(stopped.code, 0, stopped.stderr);
      }
    });

    await t.step(
      "bound to every interface: the loopback names, any address, its name",
      async () => {
        const ui = await startUi(root, ["--host", "0.0.0.0"], "0.0.0.0,127.0.0.1");
        try {
          const port = Number(new URL(ui.url).port);
          // This machine's name too (a probe: `curl http://vm:PORT/` got 421).
          const own = `${Deno.hostname()}:${port}`;
          for (const host of [`localhost:${port}`, `10.1.2.3:${port}`, `[fe80::1]:${port}`, own]) {
            assert.equal((await rawGet(port, host)).status, 200, host);
          }
          for (const host of [`attacker.example:${port}`, `10.1.2.3:${port + 1}`, "10.1.2.3"]) {
            assert.equal((await rawGet(port, host)).status, 421, host);
          }
        } finally {
          const stopped = await ui.stop("SIGTERM");
          assert.equal(stopped.code, 0, stopped.stderr);
        }
      },
    );
  });
});
