/**
 * `ledger ui`: the report's views served live from the index with
 * `Deno.serve`. Read-only: it answers GET and HEAD only (anything else gets 405),
 * opens the index read-only with DuckDB's external access off, and reopens it
 * when the indexer has published a new file ({@linkcode LiveIndex}). Every
 * page carries a Content Security Policy that allows scripts of its own
 * origin only, and every text from the ledger is escaped. A request whose
 * Host is not the server's address with its port gets 421 (DNS rebinding).
 *
 * Routes: `/` (overview, paginated: `?offset=&limit=&status=&type=&q=&where=&sort=&dir=&all=1`,
 * `sort` one of its columns or any field as `ledger runs --sort` takes it, `summary.win_rate` or
 * `duration_ms:asc`; a value it cannot use answers 400 saying why),
 * `/run/<run id>` (or `/run?id=<run id>`: the link of the ids `.` and `..`), `/compare?run=A&run=B...`, `/assets/plot.js`,
 * `/assets/client.js`. A run id in a URL may be a unique prefix, as on the
 * command line (SPEC 11): it redirects (302) to the full id's URL; an
 * ambiguous prefix answers 400 with the candidates in plain text.
 *
 * @module
 */
import { chartLibrary, clientScript } from "./charts.ts";
import { OVERVIEW_SORTS } from "./_sql.ts";
import { RUN_STATUSES } from "../indexer/schema.ts";
import {
  FilterSyntaxError,
  InstantFormatError,
  QueryUsageError,
  UnknownFieldError,
} from "../indexer/query/mod.ts";
import {
  AmbiguousRunError,
  IndexNotFoundError,
  IndexUnreadableError,
  LiveIndex,
  type Overview,
  type OverviewQuery,
  overviewSortKey,
  type ReportIndex,
  RunNamedTwiceError,
  RunNotFoundError,
  type RunView,
} from "./data.ts";
import {
  COMPARE_RUNS_MAX,
  escapeHtml,
  type Links,
  LIVE_CSP,
  renderCompare,
  renderHeader,
  renderOverview,
  renderPage,
  renderRun,
} from "./html.ts";

/** Rows per overview page unless `?limit=` says otherwise. */
export const PAGE_ROWS_DEFAULT = 50;
/** Most rows per overview page. */
export const PAGE_ROWS_MAX = 500;
/** Longest URL served, in characters. */
const URL_CHARS_MAX = 8_192;

/** Options for {@linkcode serveUi}. */
export interface ServeUiOptions {
  /** Port; 0 picks a free one. @default {8765} */
  port?: number;
  /** Interface to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /** The index file. @default {<root>/index/runs.duckdb} */
  dbPath?: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once the server listens. */
  onListen?: (addr: { hostname: string; port: number }) => void;
}

/**
 * Serve the UI of `root` until `options.signal` aborts; resolves when the
 * server has stopped and the index is closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { serveUi } from "./server.ts";
 * const root = await Deno.makeTempDir();
 * const stop = new AbortController(); // `ledger ui` aborts it on SIGINT
 * const listening = Promise.withResolvers<string>();
 * const served = serveUi(root, {
 *   port: 0, // any free port
 *   signal: stop.signal,
 *   onListen: ({ hostname, port }) => listening.resolve(`http://${hostname}:${port}`),
 * });
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "a1" });
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const res = await fetch(`${await listening.promise}/run/a1`);
 *   assert.equal(res.status, 200);
 *   assert.ok((await res.text()).includes("<title>a1 - ledger</title>"));
 * } finally {
 *   stop.abort();
 *   await served; // the server has stopped and the index is closed
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function serveUi(root: string, options: ServeUiOptions = {}): Promise<void> {
  const live = new LiveIndex(root, { dbPath: options.dbPath });
  const handler = uiHandler(live);
  const hostname = options.hostname ?? "127.0.0.1";
  // Set once listening, before the first request: the port may be the one 0 picked.
  let served: HostsServed = { hosts: new Set(), anyAddress: false, port: 0 };
  const server = Deno.serve({
    port: options.port ?? 8765,
    hostname,
    signal: options.signal,
    onListen: (addr) => {
      served = hostsServed(hostname, addr);
      options.onListen?.({ hostname: addr.hostname, port: addr.port });
    },
  }, (req) => {
    // A page of another site whose name was rebound to this address asks with its own name
    // (DNS rebinding): answered, it would read the ledger as same-origin. A probe found any
    // Host served.
    if (!isHostServed(req.headers.get("host"), served)) {
      const names = [
        ...served.hosts,
        ...(served.anyAddress ? ["an IP address with the port"] : []),
      ];
      return Promise.resolve(
        text(421, `Misdirected request: this UI answers to Host ${names.join(", ")}`),
      );
    }
    return handler(req);
  });
  try {
    await server.finished;
  } finally {
    live.close();
  }
}

/** The Host headers a server answers ({@linkcode hostsServed}). */
interface HostsServed {
  /** Host headers answered, lower case. */
  hosts: ReadonlySet<string>;
  /** Bound to every interface: any IP address with the port is answered too. */
  anyAddress: boolean;
  /** The port listened on. */
  port: number;
}

/**
 * The Host headers a server bound to `bound` (`given` as `--host`) answers:
 * the names of the address it listens on, with its port (and without when it
 * is 80, the default of `http:`). For loopback, the loopback names
 * (`127.0.0.1`, `localhost`, `[::1]`); else the `--host` given and the
 * address it bound. Bound to every interface (`0.0.0.0`, `::`), the loopback
 * names and any IP address: a rebound name is a name, never an address.
 */
function hostsServed(given: string, bound: { hostname: string; port: number }): HostsServed {
  const anyAddress = WILDCARD_ADDRESSES.has(bound.hostname);
  const names = new Set([given, bound.hostname]);
  if (isLoopback(bound.hostname) || anyAddress) {
    for (const name of LOOPBACK_NAMES) names.add(name);
  }
  // Every interface: also this machine's own name (a probe: `curl http://vm:PORT/` got 421).
  // Not a rebinding risk: an attacker's page asks with the attacker's name.
  if (anyAddress) {
    const own = machineName();
    if (own !== undefined) names.add(own);
  }
  const hosts = new Set<string>();
  for (const name of names) {
    const shown = name.includes(":") ? `[${name.toLowerCase()}]` : name.toLowerCase();
    hosts.add(`${shown}:${bound.port}`);
    if (bound.port === 80) hosts.add(shown);
  }
  return { hosts, anyAddress, port: bound.port };
}

/** This machine's host name, or undefined when the process may not read it. */
function machineName(): string | undefined {
  try {
    return Deno.hostname();
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) return undefined; // no --allow-sys=hostname
    throw err;
  }
}

/** Whether a request with the Host header `host` (null: none) is answered. */
function isHostServed(host: string | null, served: HostsServed): boolean {
  if (host === null) return false;
  const lower = host.toLowerCase();
  if (served.hosts.has(lower)) return true;
  if (!served.anyAddress) return false;
  const m = lower.match(/^(?:\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\])(?::(\d+))?$/);
  const port = m?.[1] === undefined ? 80 : Number(m[1]);
  return m !== null && port === served.port;
}

/** Addresses that bind every interface. */
const WILDCARD_ADDRESSES: ReadonlySet<string> = new Set(["0.0.0.0", "::"]);

/** The names a browser on this machine reaches a loopback server by. */
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1"] as const;

/**
 * Whether the bound address `hostname` is the loopback interface (127.0.0.0/8
 * or ::1), reachable only from this machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isLoopback } from "./server.ts";
 * assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("127.1.2.3"));
 * assert.ok(!isLoopback("0.0.0.0") && !isLoopback("::") && !isLoopback("192.168.1.5"));
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === "::1";
}

/**
 * The request handler of the UI over `live` (exported for tests and benches).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openWriter } from "../ledger/writer.ts";
 * import { rebuildIndex } from "../indexer/rebuild.ts";
 * import { LiveIndex } from "./data.ts";
 * import { uiHandler } from "./server.ts";
 * const root = await Deno.makeTempDir();
 * const live = new LiveIndex(root);
 * try {
 *   const handle = uiHandler(live);
 *   // No index yet: 503, then the same handler serves the index once it is built.
 *   assert.equal((await handle(new Request("http://ui/"))).status, 503);
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "a1" });
 *   await writer.close();
 *   await rebuildIndex(root, {});
 *   const res = await handle(new Request("http://ui/"));
 *   assert.equal(res.status, 200);
 *   const html = await res.text();
 *   assert.ok(html.includes(`href="/run/a1"`));
 *   assert.equal((await handle(new Request("http://ui/", { method: "POST" }))).status, 405);
 *   // HEAD: GET's headers, Content-Length that of GET's body, and no body.
 *   const head = await handle(new Request("http://ui/", { method: "HEAD" }));
 *   assert.equal(head.status, 200);
 *   assert.equal(head.headers.get("content-length"), String(new TextEncoder().encode(html).length));
 *   assert.equal(await head.text(), "");
 *   // A unique prefix of a run id redirects to the run's page.
 *   const found = await handle(new Request("http://ui/run/a"));
 *   assert.equal(found.status, 302);
 *   assert.equal(found.headers.get("location"), "/run/a1");
 * } finally {
 *   live.close();
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export function uiHandler(live: LiveIndex): (req: Request) => Promise<Response> {
  const get = getHandler(live);
  return async (req) => {
    if (req.method === "HEAD") return await headOf(await get(req));
    if (req.method !== "GET") {
      return text(405, "Method not allowed: this UI is read-only (GET and HEAD only)", {
        "Allow": "GET, HEAD",
      });
    }
    return await get(req);
  };
}

/**
 * The answer to HEAD: GET's status and headers, with the Content-Length of
 * GET's body (HTTP: HEAD goes with GET) and no body. A `Response` made from a
 * string carries no Content-Length header (`Deno.serve` counts the body as it
 * sends it), and for a null body `Deno.serve` sends `content-length: 0`
 * unless the header is set: so the body is measured here and the header set.
 */
async function headOf(res: Response): Promise<Response> {
  const headers = new Headers(res.headers);
  headers.set("Content-Length", String((await res.arrayBuffer()).byteLength));
  return new Response(null, { status: res.status, statusText: res.statusText, headers });
}

function getHandler(live: LiveIndex): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.url.length > URL_CHARS_MAX) return text(414, "URL too long");
    const url = new URL(req.url);
    try {
      if (url.pathname === "/assets/plot.js") return script(await chartLibrary());
      if (url.pathname === "/assets/client.js") return script(await clientScript());
      if (url.pathname === "/") return await live.use((index) => overviewPage(index, url));
      if (url.pathname.startsWith("/run/")) {
        const runId = decodePath(url.pathname.slice("/run/".length));
        if (runId === null) return text(400, "Bad run id in the path");
        return await live.use((index) => runPage(index, runId));
      }
      if (url.pathname === "/run" && url.searchParams.has("id")) {
        const runId = url.searchParams.get("id")!;
        return await live.use((index) => runPage(index, runId));
      }
      if (url.pathname === "/compare") {
        return await live.use((index) => comparePage(index, url.searchParams.getAll("run")));
      }
      return page(
        404,
        "Not found",
        `<h1>Not found</h1><p>No page at ${escapeHtml(url.pathname)}.</p>`,
      );
    } catch (err) {
      if (err instanceof IndexNotFoundError) {
        return page(503, "No index", `<h1>No index yet</h1><p>${escapeHtml(err.message)}</p>`);
      }
      if (err instanceof IndexUnreadableError) {
        // Damaged or replaced under the server: said on the page until a rebuild publishes a good one.
        return page(
          503,
          "Index unreadable",
          `<h1>Index unreadable</h1><p>${escapeHtml(err.message)}</p>`,
        );
      }
      throw err;
    }
  };
}

const LINKS: Links = {
  overview: "/",
  run: runUrl,
  compare: compareUrl,
};

/**
 * The page of run `id`: `/run/<id>`, except the ids `.` and `..` (a writer
 * other than ledger's can log them), which a browser reads as dot segments
 * in a path, escaped or not (a probe: `/run/..` opened the overview); their
 * link is `/run?id=..`.
 */
function runUrl(id: string): string {
  return id === "." || id === ".."
    ? `/run?id=${encodeURIComponent(id)}`
    : `/run/${encodeURIComponent(id)}`;
}

function compareUrl(runIds: readonly string[]): string {
  return `/compare?${runIds.map((id) => `run=${encodeURIComponent(id)}`).join("&")}`;
}

/** The 400 page of an overview filter, sort or status the page cannot use: why, and a way back. */
function badFilterPage(why: string): Response {
  return page(
    400,
    "Bad filter",
    `<h1>Bad filter</h1><p>${escapeHtml(why)}</p><p><a href="/">All runs</a></p>`,
  );
}

/**
 * Why the overview cannot sort by `sort`, or undefined: it takes its own
 * keys ({@linkcode OVERVIEW_SORTS}) and, as `ledger runs --sort` does, any
 * field of SPEC 11 (`summary.win_rate`, `duration_ms:asc`; a probe:
 * `?sort=duration_ms` was refused).
 */
function unknownSort(sort: string): string | undefined {
  if (Object.hasOwn(OVERVIEW_SORTS, sort)) return undefined;
  try {
    overviewSortKey(sort, false);
    return undefined;
  } catch (err) {
    if (!isQueryUsageError(err)) throw err;
    return `Unknown sort ${JSON.stringify(sort)}: one of ${
      Object.keys(OVERVIEW_SORTS).join(", ")
    }, or a field as ledger runs --sort takes it (${(err as Error).message})`;
  }
}

/** The query parameters of the overview page (its form's fields, and the pages'). */
const OVERVIEW_PARAMETERS: readonly string[] = [
  "q",
  "where",
  "type",
  "status",
  "sort",
  "dir",
  "all",
  "limit",
  "offset",
];

async function overviewPage(index: ReportIndex, url: URL): Promise<Response> {
  const p = url.searchParams;
  // A parameter the page cannot use is said, as `ledger runs` refuses it (probes: `?sort=bogus`
  // sorted by creation time, `?status=bogus` listed no run, `?limit=abc`, `?offset=-5`,
  // `?dir=sideways` and `?all=yes` were ignored, all without a word).
  const limit = intParam(p, "limit", PAGE_ROWS_DEFAULT, 1, PAGE_ROWS_MAX);
  const offset = intParam(p, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  // As typed: a column in an error counts from its first character, as `--where`'s does (a
  // probe: trimmed, `?where=  duration_ms >= '10s'` said column 16 where the CLI says 18).
  const typedWhere = p.get("where");
  const where = typedWhere === null || typedWhere.trim() === "" ? undefined : typedWhere;
  const sort = p.get("sort") || undefined;
  // Repeated, as `ledger runs --status` (a probe: the second of two was dropped unsaid).
  const statuses = p.getAll("status").filter((v) => v !== "");
  const unknownStatus = statuses.find((v) => !(RUN_STATUSES as readonly string[]).includes(v));
  const dir = p.get("dir") || undefined;
  const all = p.get("all") || undefined;
  // A name the page does not take (`?since=`, a probe: the whole list answered, as if filtered).
  const unknownName = [...p.keys()].find((name) => !OVERVIEW_PARAMETERS.includes(name));
  if (unknownName !== undefined) {
    return badFilterPage(
      `Unknown parameter ${JSON.stringify(unknownName)}: the page takes ` +
        `${OVERVIEW_PARAMETERS.join(", ")}`,
    );
  }
  if (typeof limit === "string") return badFilterPage(limit);
  if (typeof offset === "string") return badFilterPage(offset);
  const refused = (sort === undefined ? undefined : unknownSort(sort)) ??
    (unknownStatus !== undefined
      ? `Unknown status ${JSON.stringify(unknownStatus)}: one of ${RUN_STATUSES.join(", ")}`
      : dir !== undefined && dir !== "asc" && dir !== "desc"
      ? `Unknown dir ${JSON.stringify(dir)}: asc or desc`
      : all !== undefined && all !== "1" && all !== "0"
      ? `Unknown all ${JSON.stringify(all)}: 1 (archived runs too) or 0`
      : undefined);
  if (refused !== undefined) return badFilterPage(refused);
  const includeArchived = all === "1"; // `ledger runs --all`
  // `?where=` is part of the page's statement, as `ledger runs --where` is of its own: every
  // match is sorted, counted and charted (the matching ids, passed as a list, were capped at
  // 100,000 and took 12-23 s a page for 95k matches).
  const query: OverviewQuery = {
    where: where === undefined ? undefined : [where],
    status: statuses,
    runType: p.getAll("type").filter((v) => v !== ""),
    text: p.get("q") || undefined,
    includeArchived,
    sort,
    ascending: dir === "asc",
    limit,
    offset,
  };
  let overview: Overview;
  let facets: { types: string[]; statuses: string[] };
  try {
    [overview, facets] = await Promise.all([index.overview(query), index.facets()]);
  } catch (err) {
    if (!isQueryUsageError(err)) throw err;
    return badFilterPage((err as Error).message);
  }
  const frag = renderOverview(overview, {
    links: LINKS,
    live: {
      query: { ...query, where },
      offset,
      limit,
      facets,
      pageUrl: (o) => {
        const next = new URLSearchParams(p);
        next.set("offset", String(o));
        return `/?${next}`;
      },
    },
  });
  return page(200, "Runs - ledger", frag.html, frag.charts);
}

async function runPage(index: ReportIndex, given: string): Promise<Response> {
  const runId = await resolvedRunId(index, given);
  if (runId instanceof Response) return runId;
  if (runId !== given) return redirect(LINKS.run(runId));
  const view = await index.run(runId);
  if (view === null) return unknownRun(runId);
  const frag = renderRun(view, "run");
  return page(200, `${runId} - ledger`, frag.html, frag.charts);
}

/**
 * The full run id `given` stands for, as on the command line (SPEC 11): an
 * exact id, or a prefix of exactly one run. Else the answer to send: 404
 * for no run, 400 naming the candidates for an ambiguous prefix.
 */
async function resolvedRunId(index: ReportIndex, given: string): Promise<string | Response> {
  const resolved = await resolvedRunIds(index, [given]);
  return resolved instanceof Response ? resolved : resolved[0];
}

/**
 * The full run ids `given` stand for ({@linkcode resolvedRunId}'s rule), in
 * order; else the answer for the first that does not resolve, or for a run
 * named twice (by its id or by two prefixes: as `ledger compare`, not two runs).
 */
async function resolvedRunIds(
  index: ReportIndex,
  given: readonly string[],
): Promise<string[] | Response> {
  try {
    return await index.resolveRunIds(given);
  } catch (err) {
    if (err instanceof RunNotFoundError) return unknownRun(err.runId);
    if (err instanceof AmbiguousRunError) return text(400, err.message);
    if (err instanceof RunNamedTwiceError) {
      return page(
        400,
        "Compare",
        `<h1>Compare</h1><p>Run ${escapeHtml(JSON.stringify(err.runId))} is named twice.</p>`,
      );
    }
    throw err;
  }
}

function unknownRun(runId: string): Response {
  return page(
    404,
    "Unknown run",
    `<h1>Unknown run</h1><p>The index has no run ${escapeHtml(JSON.stringify(runId))}.</p>`,
  );
}

async function comparePage(index: ReportIndex, ids: string[]): Promise<Response> {
  // An empty run= names no run (a probe: `?run=&run=` was 404 "Unknown run").
  if (ids.length < 2 || ids.length > COMPARE_RUNS_MAX || ids.some((id) => id.trim() === "")) {
    const empty = ids.some((id) => id.trim() === "") ? "A run= is empty. " : "";
    return page(
      400,
      "Compare",
      `<h1>Compare</h1><p>${empty}Name 2 to ${COMPARE_RUNS_MAX} runs: ` +
        `/compare?run=A&amp;run=B</p>`,
    );
  }
  // One query for them all, as `ledger compare` (it was one query a run).
  const runIds = await resolvedRunIds(index, ids);
  if (runIds instanceof Response) return runIds;
  if (runIds.some((id, i) => id !== ids[i])) return redirect(compareUrl(runIds));
  // The compare shows no trials: none read (a sweep of 1M trials took 11 s to compare).
  const views: RunView[] = await index.runs(runIds, { trialsBudget: 0 });
  const gone = runIds.find((id) => !views.some((v) => v.run.run_id === id));
  if (gone !== undefined) return unknownRun(gone);
  const frag = renderCompare(views, { links: LINKS, key: "compare" });
  return page(200, "Compare - ledger", frag.html, frag.charts);
}

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": LIVE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

function page(status: number, title: string, body: string, charts = {}): Response {
  const html = renderPage({
    title,
    body: renderHeader(LINKS) + `<main><section class="view">${body}</section></main>`,
    charts,
    scripts: [{ src: "/assets/plot.js" }, { src: "/assets/client.js" }],
    mode: "live",
  });
  return new Response(html, {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8" },
  });
}

function script(js: string): Response {
  return new Response(js, {
    headers: {
      ...SECURITY_HEADERS,
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "max-age=3600",
    },
  });
}

/**
 * 302 to `location`, a path of this server: a prefix stands for its run only
 * until a new run shares it, so the redirect is neither permanent nor cached.
 */
function redirect(location: string): Response {
  return text(302, `Found: ${location}`, { "Location": location });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}

function decodePath(segment: string): string | null {
  try {
    const id = decodeURIComponent(segment);
    return id === "" ? null : id;
  } catch (err) {
    if (err instanceof URIError) return null;
    throw err;
  }
}

/** A bad `where` expression (the query surface's usage errors), not a server fault. */
function isQueryUsageError(err: unknown): boolean {
  return err instanceof QueryUsageError || err instanceof FilterSyntaxError ||
    err instanceof UnknownFieldError || err instanceof InstantFormatError ||
    (err instanceof Error && /regular expression|regex/i.test(err.message));
}

/**
 * The integer parameter `name` of `params`: `fallback` when absent or empty,
 * at most `max` (a larger page or offset is cut to it), and why not when it
 * is not a whole number of at least `min`.
 */
function intParam(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number | string {
  const raw = params.get(name) || undefined;
  if (raw === undefined) return fallback;
  // Digits past 16 are past every maximum: the maximum (a probe: 17 digits were "not an integer").
  const n = !/^\d+$/.test(raw) ? NaN : raw.length > 16 ? Infinity : Number(raw);
  if (!(n >= min)) return `${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`;
  return Math.min(max, n);
}
