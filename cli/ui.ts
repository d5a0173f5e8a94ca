/**
 * `ledger ui [--port 8765] [--host 127.0.0.1]`: serve the report's views
 * live from the index, read-only, on the loopback interface unless `--host`
 * says otherwise. SIGINT and SIGTERM stop it cleanly (exit 0).
 *
 * @module
 */
import {
  IndexDamagedError,
  IndexFormatError,
  IndexNotFoundError,
  NotAnIndexError,
  withIndex,
} from "../indexer/queries.ts";
import { indexDbPath, warnIfIndexMayLackRuns } from "./_query.ts";
import { isLoopback, serveUi } from "../report/server.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  integerFlag,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";

export const FLAGS: FlagSpec = {
  "port": { type: "string" },
  "host": { type: "string" },
  "db": { type: "string" },
};

/** Port used when `--port` is absent. */
export const UI_PORT_DEFAULT = 8765;
/** Interface bound when `--host` is absent: loopback only. */
export const UI_HOST_DEFAULT = "127.0.0.1";

const USAGE =
  `Usage: ledger ui [--port ${UI_PORT_DEFAULT}] [--host ${UI_HOST_DEFAULT}] [--db PATH] [--root DIR]

Serve the runs overview, run pages, compare and sweep heatmaps live from the
index at http://HOST:PORT/. Read-only (GET and HEAD); the index is reopened
after each rebuild, and must exist to start (\`ledger rebuild-index\` builds it).
A run id in a URL (/run/ID, /compare?run=ID&run=ID) may be a unique prefix: it
redirects to the full id; an ambiguous one answers 400 naming the candidates.
Binds ${UI_HOST_DEFAULT} unless --host says otherwise (anyone who can reach that
interface can read the ledger). It answers only a Host of its address with the
port (loopback: 127.0.0.1, localhost, [::1]; every interface, 0.0.0.0 or ::,
also any IP address and this machine's name); others get 421, against DNS
rebinding. --port 0 picks a free port. Ctrl-C (SIGINT) or SIGTERM stops it.

Exit codes: 0 stopped by a signal, 1 failure (no index, --db not a file, port in
use, ...), 2 usage error.`;

/**
 * Run `ledger ui` with `args`; returns the exit code once stopped.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./ui.ts";
 * // The command line is `await main(args)`, e.g. main(["--port", "8765"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger ui [--port 8765] [--host 127.0.0.1] [--db PATH] [--root DIR]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const port = integerFlag(values, "port", { max: 65_535 }) ?? UI_PORT_DEFAULT;
  const host = stringFlag(values, "host") ?? UI_HOST_DEFAULT;
  if (host === "") throw new UsageError("--host must not be empty");
  if (!/^[A-Za-z0-9.:%_-]+$/.test(host)) {
    throw new UsageError(
      `--host must be a host name or an IP address, got ${JSON.stringify(host)}`,
    );
  }
  const root = resolveRootFlag(values);
  const dbPath = indexDbPath(values); // --db, else the root's; an empty --db is a usage error
  try {
    // Before listening, as `ledger runs` and `show` do: a server over no index (or over a file
    // that is none, or an older format's) only answers 503. A directory or a FIFO:
    // NotRegularFileError, one line, exit 1.
    await withIndex(dbPath, () => Promise.resolve());
  } catch (err) {
    const unusable = err instanceof IndexNotFoundError || err instanceof NotAnIndexError ||
      err instanceof IndexFormatError || err instanceof IndexDamagedError;
    if (!unusable) throw err;
    console.error(`ledger ui: ${err.message}`);
    return EXIT_FAILURE;
  }
  // Said once, at start: the pages show the index as it is when each is served.
  await warnIfIndexMayLackRuns("ui", dbPath);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await listenOn(host, port, () =>
      serveUi(root, {
        port,
        hostname: host,
        dbPath,
        signal: stop.signal,
        onListen: (addr) => {
          const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
          console.log(
            `ledger ui: serving ${root} at http://${shown}:${addr.port}/ (read-only; Ctrl-C stops)`,
          );
          if (!isLoopback(addr.hostname)) {
            console.error(
              `ledger ui: warning: listening on ${shown}, not loopback: anyone who can reach ` +
                "it can read the ledger (there is no login)",
            );
          }
        },
      }));
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    console.error(`ledger ui: ${err.message}`);
    return EXIT_FAILURE;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  console.log("ledger ui: stopped");
  return EXIT_OK;
}

/** The server could not listen where it was told: the message names the host or port. */
class ListenError extends Error {
  constructor(message: string, options: ErrorOptions) {
    super(message, options);
    this.name = "ListenError";
  }
}

/**
 * Run `serve`, turning the errors of binding `host:port` into a
 * {@linkcode ListenError} that names what to change (the OS's words alone
 * name neither the port nor the host).
 */
async function listenOn<T>(host: string, port: number, serve: () => Promise<T>): Promise<T> {
  try {
    return await serve();
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new ListenError(
        `port ${port} on ${host} is in use (--port another one, or --port 0 for a free one)`,
        { cause: err },
      );
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      // A port below 1024 needs privileges (a probe: "Permission denied (os error 13)" alone).
      const why = port < 1024
        ? "a port below 1024 needs root or CAP_NET_BIND_SERVICE"
        : err.message;
      throw new ListenError(
        `cannot listen on port ${port} on ${host}: ${why} (--port 8765, or --port 0 for a free one)`,
        { cause: err },
      );
    }
    if (err instanceof Deno.errors.AddrNotAvailable) {
      throw new ListenError(`--host ${host} is not an address of this machine (${err.message})`, {
        cause: err,
      });
    }
    if (err instanceof Error && /failed to lookup address/i.test(err.message)) {
      throw new ListenError(`--host ${host}: no such host or address (${err.message})`, {
        cause: err,
      });
    }
    throw err;
  }
}
