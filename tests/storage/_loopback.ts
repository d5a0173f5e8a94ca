/**
 * Helpers for the object-storage tests that need no S3 server (private): the
 * environment of a `ledger` process whose S3 endpoint is a loopback port, and
 * a hung endpoint (a listener that accepts and never answers).
 *
 * @module
 */

/**
 * A `ledger` command's environment with `http://127.0.0.1:PORT` as its S3
 * endpoint, test credentials, and no `LEDGER_ROOT` of this process's.
 */
export function loopbackS3Env(port: number): Record<string, string> {
  return {
    LEDGER_ROOT: "",
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  };
}

/** A loopback endpoint that accepts connections and never answers. */
export interface HungEndpoint {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Resolves once a first connection was accepted. */
  firstAccept: Promise<void>;
  /** Stop listening and close every connection held. */
  close(): Promise<void>;
}

/** Listen on a free loopback port, accepting and holding every connection. */
export function hungEndpoint(): HungEndpoint {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
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
  return {
    port: listener.addr.port,
    firstAccept,
    async close() {
      listener.close();
      for (const conn of held) conn.close();
      await accepting;
    },
  };
}
