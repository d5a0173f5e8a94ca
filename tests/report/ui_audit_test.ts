/**
 * `ledger ui` against the defects two black-box audits found, on a real
 * `ledger ui` child listening on a free loopback port: it refuses to start
 * without an index (one line, exit 1, nothing written), HEAD carries GET's
 * Content-Type and Content-Length, a run id in a URL may be a unique prefix
 * as on the command line (SPEC 11); requests arriving together share one
 * open of the index, a damaged index is a 503 page naming it, and no inline
 * script may run. One small index (five runs emitted and indexed, no
 * backtests) serves every case.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, hashTree, runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex, startUi } from "./_fixture.ts";

/** Runs of the fixture: two share the prefix `pfx-alpha`, `pfx-gamma` is whole and a prefix. */
const RUN_IDS = ["pfx-alpha-1", "pfx-alpha-2", "pfx-beta-7", "pfx-gamma", "pfx-gamma-2"] as const;
/** Most time a `ledger ui` that should refuse to start may take to exit, ms. */
const UI_REFUSE_MS_MAX = 20_000;

/** Emit `RUN_IDS` as completed runs into `root` and build its index. */
async function makeRuns(root: string): Promise<void> {
  const t0 = Date.now() - 60_000;
  const lines = RUN_IDS.flatMap((run_id, i) => [
    {
      event_type: "run.created",
      run_id,
      timestamp_ms: t0 + i * 10,
      run_type: "policy",
      config: { stopPct: i / 10 },
      data_fingerprint: "fp",
    },
    { event_type: "run.started", run_id, timestamp_ms: t0 + i * 10 + 1 },
    {
      event_type: "run.completed",
      run_id,
      timestamp_ms: t0 + i * 10 + 5,
      summary: { win_rate: 0.5 },
      artifact_paths: {},
    },
  ]);
  await emitAndIndex(root, lines);
}

/**
 * Run `ledger ui --port 0 ARGS` with the loopback grant it needs; a server
 * that starts anyway is killed after {@linkcode UI_REFUSE_MS_MAX}, so the
 * test fails instead of hanging.
 */
async function runUi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CLI_PATH, ["ui", "--port", "0", ...args], ["--allow-net=127.0.0.1"]),
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(UI_REFUSE_MS_MAX),
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** What a regular expression needs to match `text` literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("ledger ui: the audit's defects", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    await makeRuns(root);

    await t.step(
      "no index: one line naming the path and the fix, exit 1, nothing written",
      async () => {
        const empty = join(dir, "empty");
        await Deno.mkdir(empty);
        const missing = join(dir, "nope", "runs.duckdb");
        const before = await hashTree(dir);
        const cases: [string, string[]][] = [
          [missing, ["--root", root, "--db", missing]],
          [join(empty, "index", "runs.duckdb"), ["--root", empty]], // the default index of --root
        ];
        for (const [path, args] of cases) {
          const r = await runUi(args);
          assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
          assert.equal(r.stdout, "");
          assert.equal(
            r.stderr,
            `ledger ui: No index at ${path}; build it with \`ledger rebuild-index\`\n`,
          );
        }
        // --db naming a directory: the words `runs`, `show` and `report` use, exit 1.
        const r = await runUi(["--root", root, "--db", empty]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.equal(r.stdout, "");
        assert.match(
          r.stderr,
          new RegExp(`^ledger ui: ${literal(empty)} is a directory, not a regular file[^\\n]*\\n$`),
        );
        assert.equal(await hashTree(dir), before, "a refused ui writes nothing");
      },
    );

    const ui = await startUi(root);
    try {
      await t.step("HEAD carries GET's Content-Type and Content-Length", async () => {
        for (const path of ["/", "/run/pfx-beta-7", "/run/nope", "/assets/client.js"]) {
          const get = await fetch(`${ui.url}${path}`);
          const bytes = (await get.bytes()).byteLength;
          const head = await fetch(`${ui.url}${path}`, { method: "HEAD" });
          await head.body?.cancel();
          assert.equal(head.status, get.status, path);
          assert.ok(bytes > 0, `${path}: GET has a body`);
          assert.equal(get.headers.get("content-length"), String(bytes), path);
          assert.equal(head.headers.get("content-length"), String(bytes), path);
          assert.equal(head.headers.get("content-type"), get.headers.get("content-type"), path);
        }
      });

      await t.step("a unique prefix redirects to the run's full id", async () => {
        const found = await fetch(`${ui.url}/run/pfx-b`, { redirect: "manual" });
        await found.body?.cancel();
        assert.equal(found.status, 302);
        assert.equal(found.headers.get("location"), "/run/pfx-beta-7");
        const followed = await fetch(`${ui.url}/run/pfx-b`);
        assert.equal(followed.status, 200);
        assert.equal(followed.url, `${ui.url}/run/pfx-beta-7`);
        assert.ok((await followed.text()).includes("<title>pfx-beta-7 - ledger</title>"));
        const head = await fetch(`${ui.url}/run/pfx-b`, { method: "HEAD", redirect: "manual" });
        assert.equal(head.status, 302);
        assert.equal(head.headers.get("location"), "/run/pfx-beta-7");
      });

      await t.step("an exact id wins over the longer ids it is a prefix of", async () => {
        const exact = await fetch(`${ui.url}/run/pfx-gamma`, { redirect: "manual" });
        assert.equal(exact.status, 200);
        assert.ok((await exact.text()).includes("<title>pfx-gamma - ledger</title>"));
      });

      await t.step(
        "an ambiguous prefix is 400 naming the candidates; unknown stays 404",
        async () => {
          const ambiguous = await fetch(`${ui.url}/run/pfx-alpha`, { redirect: "manual" });
          assert.equal(ambiguous.status, 400);
          assert.equal(ambiguous.headers.get("content-type"), "text/plain; charset=utf-8");
          assert.equal(
            await ambiguous.text(),
            `Run id prefix "pfx-alpha" is ambiguous: it matches pfx-alpha-1, pfx-alpha-2\n`,
          );
          const unknown = await fetch(`${ui.url}/run/pfx-zeta`, { redirect: "manual" });
          assert.equal(unknown.status, 404);
          assert.ok((await unknown.text()).includes("Unknown run"));
        },
      );

      await t.step("compare takes prefixes too", async () => {
        const found = await fetch(`${ui.url}/compare?run=pfx-b&run=pfx-alpha-2`, {
          redirect: "manual",
        });
        await found.body?.cancel();
        assert.equal(found.status, 302);
        assert.equal(found.headers.get("location"), "/compare?run=pfx-beta-7&run=pfx-alpha-2");
        const followed = await fetch(`${ui.url}/compare?run=pfx-b&run=pfx-alpha-2`);
        assert.equal(followed.status, 200);
        assert.ok((await followed.text()).includes("Compare 2 runs"));
        const ambiguous = await fetch(`${ui.url}/compare?run=pfx-b&run=pfx-alpha`);
        assert.equal(ambiguous.status, 400);
        assert.match(await ambiguous.text(), /pfx-alpha-1, pfx-alpha-2/);
        // As `ledger compare`: one run named twice, or by two prefixes, is refused.
        for (const query of ["run=pfx-beta-7&run=pfx-beta-7", "run=pfx-b&run=pfx-beta"]) {
          const twice = await fetch(`${ui.url}/compare?${query}`, { redirect: "manual" });
          assert.equal(twice.status, 400, query);
          assert.match(await twice.text(), /Run &quot;pfx-beta-7&quot; is named twice/);
        }
        // An empty run= names no run (a probe: 404 "Unknown run").
        for (const query of ["run=&run=", "run=pfx-beta-7&run=%20"]) {
          const empty = await fetch(`${ui.url}/compare?${query}`, { redirect: "manual" });
          assert.equal(empty.status, 400, query);
          assert.match(await empty.text(), /A run= is empty\. Name 2 to \d+ runs/);
        }
      });
    } finally {
      const stopped = await ui.stop("SIGTERM");
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(stopped.stderr, "");
    }
  });
});

/** Requests sent at once after each publish of the index. */
const BURST_REQUESTS = 64;

/**
 * How many files of the process `pid` has open on the index file `dbPath`
 * (an old one replaced by a publish shows as `PATH (deleted)`). Listed by
 * GNU `find` in a child: Deno reads `/proc/PID/fd` only with `--allow-all`,
 * which the test task does not grant.
 */
async function openIndexFiles(pid: number, dbPath: string): Promise<number> {
  const out = await new Deno.Command("find", {
    args: [`/proc/${pid}/fd`, "-mindepth", "1", "-maxdepth", "1", "-printf", "%l\\n"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  // A descriptor closed while find lists them is not an error worth failing on.
  assert.ok(out.code === 0 || /No such file or directory/.test(stderr), stderr);
  const targets = new TextDecoder().decode(out.stdout).split("\n");
  return targets.filter((target) => target.startsWith(dbPath)).length;
}

Deno.test({
  name: "ledger ui: requests that arrive together after a rebuild share one open of the index",
  ignore: Deno.build.os !== "linux", // counts open files in /proc
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      await makeRuns(root);
      const dbPath = join(root, "index", "runs.duckdb");
      const ui = await startUi(root);
      try {
        for (let round = 0; round < 3; round++) {
          // Each rebuild publishes a new file: the next requests open it, once.
          const rebuilt = await runLedger(["rebuild-index", "--full", "--root", root]);
          assert.equal(rebuilt.code, 0, rebuilt.stderr);
          const statuses = await Promise.all(
            Array.from({ length: BURST_REQUESTS }, async () => {
              const res = await fetch(`${ui.url}/run/pfx-beta-7`);
              await res.body?.cancel();
              return res.status;
            }),
          );
          assert.deepEqual(new Set(statuses), new Set([200]));
          // The new file, open once; the old one closed by the last request that used it.
          assert.equal(await openIndexFiles(ui.child.pid, dbPath), 1, `round ${round}`);
        }
      } finally {
        const stopped = await ui.stop("SIGTERM");
        assert.equal(stopped.code, 0, stopped.stderr);
      }
    });
  },
});

Deno.test("ledger ui: an index replaced by a damaged file is a 503 naming it, until a rebuild", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    await makeRuns(root);
    const dbPath = join(root, "index", "runs.duckdb");
    const ui = await startUi(root);
    try {
      // Published as the indexer publishes: a new file renamed over the old one.
      await Deno.writeTextFile(`${dbPath}.damaged`, "not a database\n");
      await Deno.rename(`${dbPath}.damaged`, dbPath);
      for (const path of ["/", "/run/pfx-beta-7", "/compare?run=pfx-beta-7&run=pfx-gamma"]) {
        const res = await fetch(`${ui.url}${path}`);
        const body = await res.text();
        assert.equal(res.status, 503, `${path}: ${body}`);
        assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8", path);
        assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
        assert.ok(body.includes("<h1>Index unreadable</h1>"), path);
        assert.ok(body.includes(`The index ${dbPath} is damaged (not a DuckDB database)`), path);
        assert.ok(body.includes("rebuild it with `ledger rebuild-index`"), path);
      }
      const rebuilt = await runLedger(["rebuild-index", "--full", "--root", root]);
      assert.equal(rebuilt.code, 0, rebuilt.stderr);
      const res = await fetch(`${ui.url}/run/pfx-beta-7`);
      assert.equal(res.status, 200);
      assert.ok((await res.text()).includes("<title>pfx-beta-7 - ledger</title>"));
    } finally {
      const stopped = await ui.stop("SIGTERM");
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(stopped.stderr, "", "a damaged index is not a server fault to log");
    }
  });
});

Deno.test("ledger ui: its pages run no inline script (CSP script-src 'self' only)", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    await makeRuns(root);
    const ui = await startUi(root);
    try {
      for (
        const path of ["/", "/run/pfx-beta-7", "/run/nope", "/compare?run=pfx-beta-7&run=pfx-gamma"]
      ) {
        const res = await fetch(`${ui.url}${path}`);
        const html = await res.text();
        const csp = res.headers.get("content-security-policy") ?? "";
        const scriptSrc = csp.split(";").map((d) => d.trim()).find((d) =>
          d.startsWith("script-src")
        );
        assert.equal(scriptSrc, "script-src 'self'", `${path}: ${csp}`);
        // What the policy allows is all the page needs: scripts from /assets/, data as JSON.
        const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1].trim()).sort();
        assert.deepEqual(scripts, [
          `src="/assets/client.js"`,
          `src="/assets/plot.js"`,
          `type="application/json" id="ledger-data"`,
        ], path);
      }
    } finally {
      const stopped = await ui.stop("SIGTERM");
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  });
});

Deno.test("ledger ui: listening beyond loopback says so on stderr, loopback does not", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    await makeRuns(root);
    const any = await startUi(root, ["--host", "0.0.0.0"], "0.0.0.0");
    const open = await any.stop("SIGTERM");
    assert.equal(open.code, 0, open.stderr);
    assert.equal(
      open.stderr,
      "ledger ui: warning: listening on 0.0.0.0, not loopback: anyone who can reach it can read " +
        "the ledger (there is no login)\n",
    );
    const local = await startUi(root);
    const closed = await local.stop("SIGTERM");
    assert.equal(closed.code, 0, closed.stderr);
    assert.equal(closed.stderr, "");
  });
});
