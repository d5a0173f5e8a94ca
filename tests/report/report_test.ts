/**
 * `ledger report`, `ledger ui` and the report module, on a root made by real
 * backtests (see `_fixture.ts`): what the file holds, exit codes and what a
 * failure leaves, the 100-run size limit, and the live server over HTTP
 * (GET only, escaping, pagination, reopening after a publish, clean stop).
 * The browser test (`browser_test.ts`) checks what a person sees.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, DENO_RUN, runLedger, TEST_PERMISSIONS, withTempDir } from "../_helpers.ts";
import {
  addCopiesOfRun,
  makeFixture,
  startUi,
  SWEEP_RUN_ID,
  XSS_CONFIG_VALUE,
  XSS_RUN_ID,
} from "./_fixture.ts";
import { escapeHtml, jsonForScript } from "../../report/html.ts";
import { flatten, histogram, parseJsonLoose, ReportIndex } from "../../report/data.ts";
import { sparkline } from "../../report/sparkline.ts";

/** The report of 100 runs must stay under this size (issue 13). */
const REPORT_100_BYTES_MAX = 3 * 1024 * 1024;

Deno.test("report building blocks", async (t) => {
  await t.step("escapeHtml escapes the five HTML specials", () => {
    assert.equal(
      escapeHtml(`<a href="x">&'</a>`),
      "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;",
    );
    assert.equal(escapeHtml(null), "");
  });
  await t.step("jsonForScript cannot close its script element and round-trips", () => {
    const value = { id: "</script><script>alert(1)</script>", s: "\u2028&" };
    const text = jsonForScript(value);
    assert.ok(!text.includes("<"));
    assert.ok(!text.includes("\u2028"));
    assert.deepEqual(JSON.parse(text), value);
  });
  await t.step("histogram keeps every value in round bins", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i % 97) * 13 - 400);
    const bins = histogram(values);
    assert.equal(bins.reduce((s, b) => s + b.count, 0), 1000);
    const width = bins[0].x1 - bins[0].x0;
    assert.ok([1, 2, 5].includes(width / 10 ** Math.floor(Math.log10(width))), `width ${width}`);
    assert.ok(bins[0].x0 <= -400 && bins.at(-1)!.x1 > 96 * 13 - 400);
    assert.ok(bins.length >= 10 && bins.length <= 40, `${bins.length} bins`);
    assert.deepEqual(histogram([]), []);
    assert.deepEqual(histogram([5, 5]).map((b) => b.count), [2]);
  });
  await t.step("parseJsonLoose reads Python's NaN and Infinity as null", () => {
    assert.deepEqual(parseJsonLoose('{"a": NaN, "b": -Infinity, "c": "NaN"}'), {
      a: null,
      b: null,
      c: "NaN",
    });
    assert.equal(parseJsonLoose(null), null);
  });
  await t.step("flatten gives dotted paths", () => {
    assert.deepEqual(flatten({ policy: { stopPct: 0.3, levels: [1, 2] }, fee: 1 }), {
      "policy.stopPct": 0.3,
      "policy.levels": [1, 2],
      "fee": 1,
    });
  });
  await t.step("sparkline draws low to high, thins long series, degrades to ASCII", () => {
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
    assert.equal(sparkline([3, 3, 3]), "▁▁▁");
    assert.equal(sparkline(Array.from({ length: 1000 }, (_, i) => i), { width: 10 }).length, 10);
    assert.equal(sparkline([0, 1, 2, 3, 4], { unicode: false }), `_.-'"`);
    assert.match(sparkline([5, -5, 0], { unicode: false }), /^[ -~]+$/);
    assert.equal(sparkline([]), "");
  });
});

Deno.test("ledger report and ledger ui on real backtests", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const fx = await makeFixture(root);
    const out = join(dir, "report.html");

    await t.step("writes one self-contained file with every view", async () => {
      const res = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        out,
        fx.policyRuns[0],
        fx.policyRuns[1].slice(0, 24), // a unique prefix
        fx.pathOnlyRun,
        SWEEP_RUN_ID,
        XSS_RUN_ID,
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /Wrote .*report\.html: 5 runs and their compare/);
      const html = await Deno.readTextFile(out);
      assert.match(
        html,
        /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;/,
      );
      assert.ok(!/<script[^>]+src=/i.test(html), "no external script");
      assert.ok(!/<link[\s>]/i.test(html), "no linked resource");
      assert.ok(html.includes("Plot"), "chart library inline");
      for (const id of ["overview", "compare", "run-0", "run-1", "run-2", "run-3", "run-4"]) {
        assert.ok(html.includes(`<section class="view" id="${id}">`), id);
      }
      // Per-caller results with counts on every run page (SPEC 12): a path-only run's from its
      // summary (an audit: only in the raw summary JSON; a sweep's best trial likewise).
      assert.ok(html.includes("<h2>Per caller</h2>"), "the path-only run's");
      // Each view's charts are there with their data.
      const data = JSON.parse(
        html.match(/<script type="application\/json" id="ledger-data">(.*?)<\/script>/s)![1],
      );
      assert.equal(data.charts["run-0-phases"].length, 7);
      assert.equal(data.charts["run-0-callers"].length > 1, true);
      assert.equal(
        data.charts["run-0-returns"].bins.reduce(
          (s: number, b: { count: number }) => s + b.count,
          0,
        ),
        320,
      );
      assert.equal(data.charts["run-0-equity"].series[0].t.length, 320);
      assert.equal(data.charts["run-3-sweep"].length, 9);
      assert.equal(data.charts["compare-phases"].rows.length, 7 + 7 + 6 + 0 + 1);
    });

    await t.step("compare shows each run's label (SPEC 11)", async () => {
      const tagged = await runLedger(["tag", "--root", root, fx.policyRuns[0], "label=Baseline"]);
      assert.equal(tagged.code, 0, tagged.stderr);
      assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
      const two = join(dir, "two.html");
      const res = await runLedger(["report", "--root", root, "--out", two, ...fx.policyRuns]);
      assert.equal(res.code, 0, res.stderr);
      const html = await Deno.readTextFile(two);
      const compare = html.split(`<section class="view" id="compare">`)[1].split("</section>")[0];
      assert.match(compare, /<th>label<\/th>/);
      assert.match(compare, /<td>Baseline<\/td>/);
      // Its times are UTC, and it says so (as the runs table does).
      assert.match(compare, /<th>created \(UTC\)<\/th>/);
    });

    await t.step("a run's page shows its tags and notes, escaped", async () => {
      const run = fx.policyRuns[0];
      const tagged = await runLedger(["tag", "--root", root, run, "desk=rates <fx>"]);
      assert.equal(tagged.code, 0, tagged.stderr);
      const noted = await runLedger(["note", "--root", root, run, "stop too tight <b>"]);
      assert.equal(noted.code, 0, noted.stderr);
      assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
      const one = join(dir, "one.html");
      const res = await runLedger(["report", "--root", root, "--out", one, run]);
      assert.equal(res.code, 0, res.stderr);
      const card = (await Deno.readTextFile(one)).split(`<div class="card annotations">`)[1]
        ?.split("</div>")[0];
      assert.ok(card !== undefined, "the run page has a tags and notes card");
      assert.match(card, /<dt>desk<\/dt><dd>rates &lt;fx&gt;<\/dd>/);
      assert.match(card, /<dt>label<\/dt><dd>Baseline<\/dd>/);
      assert.match(
        card,
        /<li><span class="label">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/span> stop too tight &lt;b&gt;<\/li>/,
      );
      assert.match(await Deno.readTextFile(one), /<dt>created \(UTC\)<\/dt><dd>\d{4}-/);
      // A run nobody wrote about has no such card.
      const other = join(dir, "other.html");
      const plain = await runLedger(["report", "--root", root, "--out", other, fx.policyRuns[1]]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.ok(!(await Deno.readTextFile(other)).includes(`class="card annotations"`));
    });

    await t.step("the XSS probe shows as text only", async () => {
      const html = await Deno.readTextFile(out);
      assert.ok(!html.includes(`<script>alert("xss")</script>`));
      assert.ok(!html.includes(XSS_CONFIG_VALUE));
      assert.ok(!html.includes("<script>alert(3)"));
      assert.ok(!html.includes("</pre><script>alert(4)"));
      assert.ok(html.includes(escapeHtml(XSS_RUN_ID)));
    });

    await t.step("usage errors exit 2, unknown runs exit 1, an existing file stays", async () => {
      const before = await Deno.readTextFile(out);
      const noOut = await runLedger(["report", "--root", root]);
      assert.equal(noOut.code, 2);
      assert.equal(noOut.stderr.trim(), "ledger report: --out FILE.html is required");
      const unknown = await runLedger(["report", "--root", root, "--out", out, "no-such-run"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^ledger report: Run "no-such-run" is not in the index/);
      assert.equal(unknown.stderr.trim().split("\n").length, 1);
      const ambiguous = await runLedger(["report", "--root", root, "--out", out, "policy-"]);
      assert.equal(ambiguous.code, 2);
      assert.match(ambiguous.stderr, /prefix "policy-" is ambiguous: it matches policy-/);
      const noDir = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        join(dir, "nope", "r.html"),
      ]);
      assert.equal(noDir.code, 2);
      assert.match(noDir.stderr, /does not exist/);
      const folder = await runLedger(["report", "--root", root, "--out", dir]);
      assert.equal(folder.code, 2, folder.stderr);
      assert.match(
        folder.stderr.trim(),
        /^ledger report: --out \S+ is a directory: name the HTML file/,
      );
      assert.equal(folder.stderr.trim().split("\n").length, 1);
      const noIndex = await runLedger(["report", "--root", join(dir, "empty"), "--out", out]);
      assert.equal(noIndex.code, 1);
      assert.match(noIndex.stderr, /No index at/);
      assert.equal(await Deno.readTextFile(out), before);
      const leftovers = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp"));
      assert.deepEqual(leftovers, []);
    });

    await t.step("--where keeps the matching runs; a bad expression is a usage error", async () => {
      const only = join(dir, "where.html");
      const res = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        only,
        "--where",
        "run_type = 'policy' and summary.win_rate > 0.3",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /: 1 run,/);
      const html = await Deno.readTextFile(only);
      assert.ok(html.includes(fx.policyRuns[1]), "win rate 0.38 kept");
      assert.ok(!html.includes(fx.policyRuns[0]), "win rate 0.28 dropped");
      const named = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        only,
        ...fx.policyRuns,
        SWEEP_RUN_ID,
        "--where",
        "run_type = 'policy'",
      ]);
      assert.equal(named.code, 0, named.stderr);
      assert.match(named.stdout, /: 2 runs and their compare/);
      const bad = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        only,
        "--where",
        "confg.x = 1",
      ]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^ledger report: .*confg\.x/);
      assert.equal(bad.stderr.trim().split("\n").length, 1);
      const syntax = await runLedger([
        "report",
        "--root",
        root,
        "--out",
        only,
        "--where",
        "status =",
      ]);
      assert.equal(syntax.code, 2, syntax.stderr);
    });

    await t.step("archived runs leave the overview unless named", async () => {
      const archived = await runLedger([
        ...["archive", fx.pathOnlyRun, "--reason", "bad <data> window", "--root", root],
      ]);
      assert.equal(archived.code, 0, archived.stderr);
      const all = join(dir, "all.html");
      const res = await runLedger(["report", "--root", root, "--out", all]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /: 4 runs/);
      assert.ok(!(await Deno.readTextFile(all)).includes(fx.pathOnlyRun));
      const named = await runLedger(["report", "--root", root, "--out", all, fx.pathOnlyRun]);
      assert.equal(named.code, 0, named.stderr);
      const namedHtml = await Deno.readTextFile(all);
      assert.ok(namedHtml.includes("archived</span>"));
      // Its page says why (the reason escaped), as the UI's does.
      assert.match(namedHtml, /<p class="archived">archived [^<]*: bad &lt;data&gt; window<\/p>/);
      // A UI audit: --where over all runs brought archived ones back (ledger runs hides them).
      const where = ["--where", "run_type = 'path_only'"];
      const filtered = await runLedger(["report", "--root", root, "--out", all, ...where]);
      assert.equal(filtered.code, 0, filtered.stderr);
      assert.match(filtered.stdout, /: 0 runs/);
      const namedWhere = await runLedger([
        ...["report", "--root", root, "--out", all, fx.pathOnlyRun, ...where],
      ]);
      assert.equal(namedWhere.code, 0, namedWhere.stderr);
      assert.match(namedWhere.stdout, /: 1 run\b/);
      assert.equal(namedWhere.stderr, "", "the run named matches");
      // A probe: a run named that --where leaves out made a report of 0 runs, no word why.
      const leftOut = await runLedger([
        ...["report", "--root", root, "--out", all, fx.pathOnlyRun, "--where", "run_type = 'x'"],
      ]);
      assert.equal(leftOut.code, 0, leftOut.stderr);
      assert.match(leftOut.stdout, /: 0 runs/);
      assert.equal(
        leftOut.stderr,
        "ledger report: warning: 1 of the 1 runs named does not match --where: left out\n",
      );
      // The UI lists archived runs only when asked (`?all=1`, as `ledger runs --all`).
      const ui = await startUi(root);
      try {
        const hidden = await (await fetch(`${ui.url}/`)).text();
        assert.ok(!hidden.includes(fx.pathOnlyRun));
        assert.ok(hidden.includes(`name="all" value="1">`), "an unchecked 'archived too' box");
        const shown = await (await fetch(`${ui.url}/?all=1`)).text();
        assert.match(shown, new RegExp(`${fx.pathOnlyRun}<\/a>.*?archived<\/span>`, "s"));
        assert.ok(shown.includes(`name="all" value="1" checked>`));
        const q = encodeURIComponent("run_type = 'path_only'");
        const whereHidden = await (await fetch(`${ui.url}/?where=${q}`)).text();
        assert.ok(!whereHidden.includes(fx.pathOnlyRun));
        const whereShown = await (await fetch(`${ui.url}/?where=${q}&all=1`)).text();
        assert.ok(whereShown.includes(fx.pathOnlyRun));
      } finally {
        const stopped = await ui.stop("SIGTERM");
        assert.equal(stopped.code, 0, stopped.stderr);
      }
      const restored = await runLedger(["restore", fx.pathOnlyRun, "--root", root]);
      assert.equal(restored.code, 0, restored.stderr);
    });

    await t.step("the live UI: GET only, escaped, paginated, stops on SIGTERM", async () => {
      const ui = await startUi(root);
      try {
        assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const home = await fetch(`${ui.url}/`);
        assert.equal(home.status, 200);
        assert.match(home.headers.get("content-security-policy")!, /default-src 'none'/);
        const homeHtml = await home.text();
        assert.ok(homeHtml.includes(fx.policyRuns[0]));
        assert.ok(homeHtml.includes("5 runs"));
        assert.ok(!homeHtml.includes(`<script>alert("xss")`));

        const post = await fetch(`${ui.url}/`, { method: "POST", body: "x" });
        assert.equal(post.status, 405);
        assert.equal(post.headers.get("allow"), "GET, HEAD");
        await post.body?.cancel();
        const del = await fetch(`${ui.url}/run/${fx.policyRuns[0]}`, { method: "DELETE" });
        assert.equal(del.status, 405);
        await del.body?.cancel();

        const xss = await fetch(`${ui.url}/run/${encodeURIComponent(XSS_RUN_ID)}`);
        assert.equal(xss.status, 200);
        const xssHtml = await xss.text();
        assert.ok(xssHtml.includes(`<h1>${escapeHtml(XSS_RUN_ID)}`));
        assert.ok(!xssHtml.includes(XSS_RUN_ID));
        assert.ok(!xssHtml.includes(XSS_CONFIG_VALUE));

        const page2 = await (await fetch(`${ui.url}/?limit=2&offset=2`)).text();
        assert.ok(page2.includes("3-4 of 5"), "pager text");
        assert.equal((page2.match(/<tr><td class="id">/g) ?? []).length, 2);
        // Past the end: no impossible range ("501-5 of 5"), a link to the last page instead.
        const past = await (await fetch(`${ui.url}/?limit=2&offset=500`)).text();
        assert.ok(past.includes("no runs from 501 on: 5 in all"), "pager past the end");
        assert.ok(past.includes("offset=4"), "links the last page");
        assert.ok(!/\d+-\d+ of 5/.test(past));
        const failed = await (await fetch(`${ui.url}/?status=failed`)).text();
        assert.equal((failed.match(/<tr><td class="id">/g) ?? []).length, 1);
        // Repeated, as ledger runs --status: every one counts (a probe: the second was dropped).
        const rows = (html: string) => (html.match(/<tr><td class="id">/g) ?? []).length;
        const completed = rows(await (await fetch(`${ui.url}/?status=completed`)).text());
        const both = await (await fetch(`${ui.url}/?status=failed&status=completed`)).text();
        assert.equal(rows(both), completed + 1);
        assert.match(both, /<select name="status" aria-label="status" multiple>/);
        const badSecond = await fetch(`${ui.url}/?status=failed&status=%3Cb%3E`);
        assert.equal(badSecond.status, 400);
        assert.ok((await badSecond.text()).includes("Unknown status"));
        const where = await (await fetch(
          `${ui.url}/?where=${encodeURIComponent("run_type = 'sweep'")}`,
        )).text();
        assert.equal((where.match(/<tr><td class="id">/g) ?? []).length, 1);
        assert.ok(where.includes(SWEEP_RUN_ID));
        const badWhere = await fetch(`${ui.url}/?where=${encodeURIComponent("<b>x = 1")}`);
        assert.equal(badWhere.status, 400);
        assert.ok(!(await badWhere.text()).includes("<b>x"));
        // Probes: an unknown sort or status was ignored (every run, or none) without a word, and
        // so were a limit, offset, direction or `all` the page cannot use.
        for (
          const [query, said] of [
            ["sort=bogus", "Unknown sort"],
            ["status=<b>", "Unknown status"],
            ["limit=abc", "limit must be an integer &gt;= 1, got &quot;abc&quot;"],
            ["limit=0", "limit must be an integer &gt;= 1"],
            ["offset=-5", "offset must be an integer &gt;= 0, got &quot;-5&quot;"],
            ["offset=1.5", "offset must be an integer &gt;= 0"],
            ["dir=sideways", "Unknown dir"],
            ["all=yes", "Unknown all"],
            // A probe: a parameter the page does not take answered the whole list.
            ["since=2030-01-01", "Unknown parameter &quot;since&quot;: the page takes q, where"],
          ]
        ) {
          const bad = await fetch(`${ui.url}/?${query}`);
          assert.equal(bad.status, 400, query);
          const text = await bad.text();
          assert.ok(text.includes(said) && !text.includes("<b>"), text);
        }
        // A limit or offset past its maximum is the maximum, however many digits it has.
        for (const query of [`limit=${"9".repeat(17)}`, `offset=${"9".repeat(20)}`]) {
          const big = await fetch(`${ui.url}/?${query}`);
          assert.equal(big.status, 200, query);
          await big.body?.cancel();
        }
        // Any field of SPEC 11 sorts the overview as `ledger runs --sort` sorts the runs (a
        // probe: `?sort=duration_ms` and `?sort=summary.win_rate` were refused).
        const pageIds = (html: string) =>
          [...html.matchAll(/<tr><td class="id"><a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
        for (
          const [query, sortText, where] of [
            ["sort=summary.win_rate&dir=desc", "summary.win_rate:desc"],
            ["sort=summary.win_rate:asc&dir=desc", "summary.win_rate:asc"],
            [`sort=${encodeURIComponent("duration_ms")}&dir=asc`, "duration_ms:asc"],
            // The page's own keys break ties as the command does: newest first, then by id.
            ["sort=status&dir=asc", "status:asc"],
            ["sort=run_type", "run_type:desc"],
            // A field whose key is a parameter of the SQL (numbered after the page's).
            ["sort=tags.label&dir=asc", "tags.label:asc"],
            // With a filter, and a field whose path needs quoting in the SQL ('$."x"').
            [
              `where=${encodeURIComponent("summary.win_rate > 0")}&sort=config.policy.type`,
              "config.policy.type:desc",
              "summary.win_rate > 0",
            ],
          ]
        ) {
          const sorted = await fetch(`${ui.url}/?${query}`);
          assert.equal(sorted.status, 200, query);
          const listed = await runLedger([
            "runs",
            "--root",
            root,
            "--sort",
            sortText,
            "--json",
            ...(where === undefined ? [] : ["--where", where]),
          ]);
          assert.equal(listed.code, 0, listed.stderr);
          const expected = (JSON.parse(listed.stdout) as { run_id: string }[])
            .map((r) => escapeHtml(r.run_id));
          assert.ok(expected.length > 1, query);
          const html = await sorted.text();
          assert.deepEqual(pageIds(html), expected, query);
          // The form says the order the page has: the field selected without its direction,
          // the direction in its menu (`:asc` beside `dir=desc` showed `desc`).
          const [field, direction] = sortText.split(":");
          assert.match(html, new RegExp(`<option selected>${field.replace(".", "\\.")}</option>`));
          assert.equal(
            /<option value="asc" selected>asc<\/option>/.test(html),
            direction === "asc",
            query,
          );
        }
        for (const query of ["sort=summary.win_rate,run_id", "sort=config.x:sideways"]) {
          const bad = await fetch(`${ui.url}/?${query}`);
          assert.equal(bad.status, 400, query);
          assert.ok((await bad.text()).includes("Unknown sort"), query);
        }
        for (const query of ["sort=duration&dir=asc", "all=1&dir=desc", "limit=100000", "all=0"]) {
          const good = await fetch(`${ui.url}/?${query}`);
          assert.equal(good.status, 200, query);
          await good.body?.cancel();
        }

        const missing = await fetch(`${ui.url}/run/nope`);
        assert.equal(missing.status, 404);
        await missing.body?.cancel();
        const cmp = await fetch(
          `${ui.url}/compare?run=${fx.policyRuns[0]}&run=${fx.policyRuns[1]}`,
        );
        assert.equal(cmp.status, 200);
        assert.ok((await cmp.text()).includes("Compare 2 runs"));
        const lib = await fetch(`${ui.url}/assets/plot.js`);
        assert.equal(lib.headers.get("content-type"), "text/javascript; charset=utf-8");
        await lib.body?.cancel();

        // A new run and a rebuild publish a new index file: the UI shows it without a restart.
        const emitted = await runLedger([
          "emit",
          "--root",
          root,
          "--event-type",
          "run.created",
          "--run-id",
          "late-run-1",
          "--run-type",
          "policy",
          "--config",
          "{}",
          "--data-fingerprint",
          "x",
        ]);
        assert.equal(emitted.code, 0, emitted.stderr);
        const rebuilt = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(rebuilt.code, 0, rebuilt.stderr);
        const after = await (await fetch(`${ui.url}/`)).text();
        assert.ok(after.includes("late-run-1"), "reopened after the publish");
        assert.ok(after.includes("6 runs"));
      } finally {
        const stopped = await ui.stop("SIGTERM");
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.match(stopped.stdout, /ledger ui: stopped/);
      }
    });

    await t.step("ui: a port in use or a bad --host is one line naming it, exit 1", async () => {
      const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const port = String((taken.addr as Deno.NetAddr).port);
        const cases: [string[], RegExp][] = [
          [["--port", port], new RegExp(`^ledger ui: port ${port} on 127\\.0\\.0\\.1 is in use`)],
          [["--host", "999.1.1.1", "--port", "0"], /^ledger ui: --host 999\.1\.1\.1: no such host/],
        ];
        for (const [args, says] of cases) {
          const r = await new Deno.Command(Deno.execPath(), {
            args: [
              ...[
                ...DENO_RUN,
                ...TEST_PERMISSIONS,
              ],
              ...["--allow-net", CLI_PATH, "ui", "--root", root, ...args],
            ],
            env: { LEDGER_ROOT: "" },
            stdin: "null",
          }).output();
          const stderr = new TextDecoder().decode(r.stderr).trim();
          assert.equal(r.code, 1, stderr);
          assert.equal(stderr.split("\n").length, 1, stderr);
          assert.match(stderr, says);
        }
      } finally {
        taken.close();
      }
    });

    await t.step("SIGINT stops the UI cleanly too", async () => {
      const ui = await startUi(root);
      const stopped = await ui.stop("SIGINT");
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(stopped.stderr, "");
    });

    await t.step("the index is read with external access off except artifacts", async () => {
      const index = await ReportIndex.open(root);
      try {
        const view = await index.run(fx.policyRuns[0]);
        assert.ok(view?.trades !== null && view!.trades.count === 320);
        assert.ok(view!.callers!.length > 1);
        // Each caller carries the seeded bootstrap interval of its win rate.
        for (const c of view!.callers!) {
          const low = c.win_rate_ci_low as number, high = c.win_rate_ci_high as number;
          assert.ok(
            low <= (c.win_rate as number) && (c.win_rate as number) <= high,
            String(c.caller),
          );
        }
        assert.equal(typeof view!.provenance?.git?.commit, "string");
      } finally {
        index.close();
      }
    });

    await t.step("100 runs: the report stays under 3 MB", async () => {
      await addCopiesOfRun(root, fx.policyRuns[0], { count: 100, prefix: "copy" });
      const big = join(dir, "big.html");
      const res = await runLedger(["report", "--root", root, "--out", big]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /: 106 runs/);
      const size = (await Deno.stat(big)).size;
      assert.ok(size < REPORT_100_BYTES_MAX, `${size} bytes`);
    });
  });
});
