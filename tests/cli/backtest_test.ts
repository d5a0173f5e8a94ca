import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import {
  LATE_DELAY_MS,
  runEvents,
  writeFixtures,
  writeLateCallFixtures,
} from "../backtest/_fixtures.ts";
import { eventually, hashTree } from "../_helpers.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

async function ledger(args: string[], cwd?: string, env?: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    cwd,
    env,
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run",
      CLI,
      "backtest",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  equal(lines.length, 1, `expected one line on stderr, got: ${stderr}`);
  return lines[0];
}

Deno.test("ledger backtest: usage errors exit 2 with one line", async (t) => {
  await t.step("--help prints usage and exits 0", async () => {
    const r = await ledger(["--help"]);
    equal(r.code, 0);
    match(r.stdout, /Usage: ledger backtest path-only\|policy/);
    match(r.stdout, /--no-index/);
  });
  const cases: [string[], RegExp][] = [
    [[], /name a workflow: path-only or policy/],
    [["frobnicate"], /unknown workflow "frobnicate"/],
    [["policy", "--no-index"], /policy runs need --policy/],
    [["path-only", "--interval", "2m"], /--interval must be one of 1m, 5m, 15m, 1h/],
    [["policy", "--policy", "{}", "--fee-bps", "x"], /--fee-bps must be a number/],
    // An audit: Number() read hex, so 0x10 was 16 bps.
    [
      ["policy", "--policy", '{"type":"fixed_stop","stopPct":0.2}', "--slippage-bps", "0x10"],
      /--slippage-bps must be a number of bps >= 0 and < 10000, got "0x10"/,
    ],
    // A metrics audit: 6000 + 6000 bps reported -11000 bps on a price that rose 10%.
    [
      ["policy", "--policy", "{}", "--fee-bps", "6000", "--slippage-bps", "4000"],
      /^ledger backtest: --fee-bps \+ --slippage-bps must be < 10000 \(100%: a sale would return nothing or less\), got 6000 \+ 4000$/,
    ],
    // A review: the sum's message hid that these flags are the policy runs' own.
    [
      ["path-only", "--fee-bps", "6000", "--slippage-bps", "6000"],
      /^ledger backtest: --fee-bps applies to policy runs only$/,
    ],
    [["path-only", "--fee-bps", "abc"], /^ledger backtest: --fee-bps applies to policy runs only$/],
    [["path-only", "--gap-fill", "x"], /^ledger backtest: --gap-fill applies to policy runs only$/],
    [["path-only", "--from", "yesterday"], /--from must be an ISO-8601 time/],
    [["path-only", "--from", "2026-02-30"], /--from must be an ISO-8601 time/],
    [["path-only", "--run-id", "../x"], /--run-id must match/],
    [["path-only", "--policy", "{}"], /--policy applies to policy runs only/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(args.join(" ") || "(no workflow)", async () => {
      const r = await ledger(args);
      equal(r.code, 2);
      match(oneLine(r.stderr), pattern);
    });
  }
});

Deno.test("ledger backtest: runs and failures", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_bt_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    const common = [
      "--root",
      root,
      "--calls",
      inputs.calls,
      "--candles",
      inputs.candles,
      "--no-index",
    ];
    await t.step("path-only --json prints the result, exits 0", async () => {
      const r = await ledger(["path-only", ...common, "--json", "--run-id", "cli-po"]);
      equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      equal(out.run_id, "cli-po");
      equal(out.status, "completed");
      equal(out.summary.calls_covered, 2);
      equal(out.phases.length, 6);
      ok((await Deno.stat(out.artifact_paths.path_metrics)).size > 0);
      const events = await runEvents(root, "cli-po");
      equal(events.at(-1)?.event_type, "run.completed");
    });
    await t.step("policy from @file, human output", async () => {
      const file = `${dir}/policy.json`;
      await Deno.writeTextFile(file, '{"type":"trailing_stop","activationPct":0.5,"trailPct":0.2}');
      const r = await ledger(["policy", ...common, "--policy", `@${file}`, "--fee-bps", "10"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /^run policy-\d{8}T\d{6}-[0-9a-f]{6} completed/);
      match(r.stdout, /trailing_stop: win rate/);
      // What the rates are over: the call without candles is counted apart.
      match(r.stdout, /^ {2}trades: 2 \(and 1 without an entry, left out of the rates\)$/m);
    });
    await t.step("an impossible policy: exit 2, one line, nothing written", async () => {
      for (
        const [policy, pattern] of [
          [
            '{"kind":"fixed_stop","stopPct":1.5}',
            /--policy: Invalid policy: stopPct must be <= 1$/,
          ],
          ["{not json", /--policy: Invalid policy: not valid JSON/],
          ['{"kind":"moon"}', /--policy: Invalid policy: kind must be one of fixed_stop/],
        ] as const
      ) {
        const r = await ledger([
          "policy",
          ...common,
          "--run-id",
          "cli-bad-policy",
          "--policy",
          policy,
        ]);
        equal(r.code, 2, r.stderr);
        match(oneLine(r.stderr), pattern);
        equal((await runEvents(root, "cli-bad-policy")).length, 0);
        const dirExists = await Deno.stat(`${root}/artifacts/runs/cli-bad-policy`).then(
          () => true,
          () => false,
        );
        equal(dirExists, false);
      }
    });
    await t.step("quantBot's RiskPolicy JSON runs as given", async () => {
      const r = await ledger([
        "policy",
        ...common,
        "--json",
        "--policy",
        '{"kind":"fixed_stop","stopPct":0.2,"takeProfitPct":1.0}',
      ]);
      equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      equal(out.summary.policy_type, "fixed_stop");
      equal(out.summary.calls_no_entry, 1);
      equal(out.summary.count, 2);
    });
    await t.step("missing columns: exit 1 naming the file and columns", async () => {
      const sub = `${dir}/cols`;
      await Deno.mkdir(sub);
      const bad = await writeFixtures(sub, { dropCandleColumns: ["volume"] });
      const r = await ledger([
        "path-only",
        "--root",
        root,
        "--calls",
        bad.calls,
        "--candles",
        bad.candles,
        "--no-index",
      ]);
      equal(r.code, 1);
      match(oneLine(r.stderr), /Candles file .*cols\/candles\.csv is missing columns: volume/);
    });
    await t.step(
      "an empty file is said to be empty (0 bytes), then its missing columns",
      async () => {
        const empty = `${dir}/cols/empty.jsonl`;
        await Deno.writeTextFile(empty, "");
        const r = await ledger(["path-only", "--root", root, "--calls", empty, "--no-index"]);
        equal(r.code, 1);
        match(
          oneLine(r.stderr),
          /Calls file .*empty\.jsonl is empty \(0 bytes\), so it is missing columns: call_id, caller/,
        );
      },
    );
    // A probe: a missing --calls/--candles exited 1, a missing --policy @file 2. A file named on
    // the command line that does not exist is a usage error: exit 2, before the run exists.
    await t.step("a missing calls or candles file: exit 2, no run", async () => {
      const before = await hashTree(root);
      for (const flag of ["--calls", "--candles"] as const) {
        const r = await ledger([
          "path-only",
          "--root",
          root,
          flag,
          `${dir}/none.csv`,
          "--no-index",
        ]);
        equal(r.code, 2, r.stderr);
        const what = flag === "--calls" ? "Calls" : "Candles";
        equal(
          oneLine(r.stderr),
          `ledger backtest: ${flag}: ${what} file ${dir}/none.csv does not exist`,
        );
      }
      deepEqual(await hashTree(root), before, "nothing written");
    });
    await t.step("a FIFO or a folder as input: exit 1 at once, no run", async () => {
      // A bad-input audit: a FIFO as --candles blocked for ever (the input is hashed first).
      // Named .csv: an unknown extension is refused first (exit 2), before the FIFO is looked at.
      const fifo = `${dir}/candles-fifo.csv`;
      await new Deno.Command("mkfifo", { args: [fifo] }).output();
      await Deno.mkdir(`${dir}/calls-folder.csv`);
      const before = await hashTree(root);
      for (
        const [flag, path, says] of [
          ["--candles", fifo, /^ledger backtest: Candles file \S+ is a FIFO: name a CSV, JSONL/],
          ["--calls", `${dir}/calls-folder.csv`, /^ledger backtest: Calls file \S+ is a directory/],
        ] as const
      ) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            CLI,
            "backtest",
            "path-only",
            "--root",
            root,
            flag,
            path,
            "--no-index",
          ],
          signal: AbortSignal.timeout(60_000),
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        equal(out.code, 1, stderr);
        match(stderr.trim(), says);
        equal(stderr.trim().split("\n").length, 1);
      }
      equal(await hashTree(root), before, "no run written");
    });
    await t.step(
      "a JSON typo in a --policy file: one line naming the file and the position",
      async () => {
        const file = `${dir}/typo.json`;
        await Deno.writeTextFile(file, '{\n "type": "fixed_stop",\n "stopPct": abc\n}\n');
        const r = await ledger(["policy", ...common, "--policy", `@${file}`]);
        equal(r.code, 2, r.stderr);
        match(
          oneLine(r.stderr),
          /^ledger backtest: --policy @\S+\/typo\.json: Invalid policy: not valid JSON \(Unexpected token 'a', .*"stopPct": abc } " is not valid JSON at line 3 column 13\)$/,
        );
      },
    );
    await t.step(
      "a caller with only no_entry calls is in by_caller, with the same counts",
      async () => {
        // dave's one call comes after the last candle of mint B: a no_entry row, count 0.
        const calls = `${dir}/calls_late.csv`;
        await Deno.writeTextFile(
          calls,
          (await Deno.readTextFile(inputs.calls)).trimEnd() +
            "\nd1,dave,B,solana,2026-01-05T01:00:00Z\n",
        );
        const r = await ledger([
          ...["policy", "--root", root, "--calls", calls, "--candles", inputs.candles],
          ...["--no-index", "--json", "--policy", '{"kind":"fixed_stop","stopPct":0.2}'],
        ]);
        equal(r.code, 0, r.stderr);
        const s = JSON.parse(r.stdout).summary;
        equal(s.calls_no_entry, 2); // carol (no candles) and dave (after the last candle)
        deepEqual(Object.keys(s.by_caller), ["alice", "bob", "carol", "dave"]);
        deepEqual(
          Object.values(s.by_caller).map((c) => {
            const { count, calls_no_entry } = c as Record<string, number>;
            return [count, calls_no_entry];
          }),
          [[1, 0], [1, 0], [0, 1], [0, 1]],
        );
      },
    );
    await t.step(
      "a root that is a dangling symlink: exit 1, one line, nothing created",
      async () => {
        const link = `${dir}/dangling`;
        await Deno.symlink(`${dir}/gone`, link);
        const r = await ledger([
          "path-only",
          "--root",
          link,
          "--calls",
          inputs.calls,
          "--no-index",
        ]);
        equal(r.code, 1, r.stderr);
        match(
          oneLine(r.stderr),
          /^ledger backtest: Ledger root \S+\/dangling does not exist: it is a dangling symbolic link to \S+\/gone/,
        );
        equal(await Deno.lstat(`${dir}/gone`).then(() => true, () => false), false);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger backtest: --from/--to without an offset are UTC in any TZ", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_tz_" });
  try {
    const inputs = await writeFixtures(dir);
    // a1 is alerted at 00:00:30Z, b1 and c1 at 00:00:00Z: from 00:00:10 keeps a1 only.
    for (const tz of ["UTC", "America/New_York"]) {
      await t.step(`TZ=${tz}`, async () => {
        const r = await ledger(
          [
            "path-only",
            "--root",
            `${dir}/ledger`,
            "--calls",
            inputs.calls,
            "--candles",
            inputs.candles,
            "--from",
            "2026-01-05T00:00:10",
            "--to",
            "2026-01-05 01:00",
            "--no-index",
            "--json",
          ],
          undefined,
          { TZ: tz },
        );
        equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        equal(out.summary.calls_total, 1);
        const created = (await runEvents(`${dir}/ledger`, out.run_id))[0] as unknown as {
          config: { from: string; to: string };
        };
        equal(created.config.from, "2026-01-05T00:00:10.000Z");
        equal(created.config.to, "2026-01-05T01:00:00.000Z");
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger backtest: without --calls/--candles the sample set is found from any directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_bt_" });
  try {
    const r = await ledger(["path-only", "--root", `${dir}/ledger`, "--no-index", "--json"], dir);
    equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    equal(out.status, "completed");
    ok(out.summary.calls_covered > 100, JSON.stringify(out.summary));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the demo runs three backtests, rebuilds the index and prints the tables", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_demo_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        "--allow-run",
        new URL("../../cli/demo.ts", import.meta.url).pathname,
        "--root",
        `${dir}/ledger`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    match(stdout, /index rebuilt: \d+ events, 3 runs/);
    match(stdout, /Latest runs \(from the index\):/);
    equal((stdout.match(/ completed /g) ?? []).length, 3);
    match(stdout, /Per-caller leaderboard/);
    match(stdout, /alpha_whale/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Wait until the log under `root` has a line containing `text`. */
async function waitForLog(root: string, text: string, timeoutMs: number): Promise<void> {
  const logged = async () => (await readEventsText(`${root}/events`)).includes(text);
  await eventually(logged, `${text} in the log under ${root}`, timeoutMs);
}

async function readEventsText(dir: string): Promise<string> {
  let text = "";
  try {
    for await (const day of Deno.readDir(dir)) {
      if (!day.isDirectory) continue;
      for await (const f of Deno.readDir(`${dir}/${day.name}`)) {
        text += await Deno.readTextFile(`${dir}/${day.name}/${f.name}`);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return text;
}

Deno.test("ledger backtest: Ctrl-C or SIGTERM records run.failed, prints one line, exits 130/143", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_sig_" });
  try {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      await t.step(signal, async () => {
        const root = `${dir}/${signal}`;
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", CLI, "backtest", "path-only", "--root", root, "--run-id", "sig"],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const stdout = new Response(child.stdout).text();
        const stderr = new Response(child.stderr).text();
        await waitForLog(root, '"run.started"', 30_000);
        child.kill(signal);
        const status = await child.status;
        const err = await stderr;
        equal(status.code, code, err);
        equal(await stdout, "");
        match(
          oneLine(err),
          new RegExp(
            `^ledger backtest: interrupted by ${signal}( in phase \\w+)?; run sig recorded as failed$`,
          ),
        );
        const events = await runEvents(root, "sig");
        const last = events.at(-1) as { event_type: string; phase_name?: string; error: unknown };
        equal(last.event_type, "run.failed");
        equal((last.error as { message: string }).message, "interrupted");
        const phase = /in phase (\w+)/.exec(err)?.[1];
        equal(last.phase_name, phase);
        const names: string[] = [];
        for await (const e of Deno.readDir(`${root}/artifacts/runs/sig`)) names.push(e.name);
        equal(names.filter((n) => n.includes(".tmp-")).length, 0, names.join(","));
        // The trail of any failed run (issue 4): the manifest says failed, interrupted, and
        // is the run's last artifact before run.failed (an interrupted run left none).
        const manifest = JSON.parse(
          await Deno.readTextFile(`${root}/artifacts/runs/sig/manifest.json`),
        );
        equal(manifest.status, "failed");
        equal(manifest.error.message, "interrupted");
        equal(manifest.error.phase_name, phase ?? null);
        const artifact = events.at(-2) as { event_type: string; artifact_type?: string };
        equal(artifact.event_type, "artifact.created");
        equal(artifact.artifact_type, "manifest");
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger backtest: phases by name with elapsed time on a TTY, nothing on a pipe", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_tty_" });
  try {
    const inputs = await writeFixtures(dir);
    const args = [
      "policy",
      "--root",
      `${dir}/ledger`,
      "--calls",
      inputs.calls,
      "--candles",
      inputs.candles,
      "--no-index",
      "--policy",
      '{"type":"fixed_stop","stopPct":0.2}',
    ];
    await t.step("a pipe gets the result on stdout and nothing on stderr", async () => {
      const r = await ledger(args);
      equal(r.code, 0, r.stderr);
      equal(r.stderr, "");
    });
    const hasScript = await new Deno.Command("script", { args: ["--version"] }).output().then(
      (o) => o.success,
      () => false,
    );
    await t.step({
      name: "a terminal (script(1) gives the child a pty) shows every phase and its time",
      ignore: !hasScript,
      fn: async () => {
        const command = [Deno.execPath(), "run", "-A", CLI, "backtest", ...args].map((a) =>
          `'${a.replaceAll("'", "'\\''")}'`
        ).join(" ");
        const out = await new Deno.Command("script", {
          args: ["-qec", command, "/dev/null"],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout).replaceAll("\x1b[K", "")
          .replaceAll("\r", "\n");
        equal(out.code, 0, text);
        for (
          const phase of ["plan", "coverage", "slice", "load", "execute", "store", "aggregate"]
        ) {
          match(text, new RegExp(`^  ${phase} +\\d+ ms$`, "m"), phase);
        }
      },
    });
    if (!hasScript) console.log("script(1) not found: the TTY step is ignored");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs spell run types as backtests record them (path_only, policy)", async () => {
  const { PATH_ONLY_RUN_TYPE } = await import("../../backtest/path_only.ts");
  equal(PATH_ONLY_RUN_TYPE, "path_only");
  const root = new URL("../../", import.meta.url).pathname;
  const files = ["README.md"];
  for await (const e of Deno.readDir(`${root}docs`)) {
    if (e.name.endsWith(".md")) files.push(`docs/${e.name}`);
  }
  const bad: string[] = [];
  for (const file of files) {
    const lines = (await Deno.readTextFile(`${root}${file}`)).split("\n");
    lines.forEach((line, i) => {
      // The workflow is `ledger backtest path-only`; the run type it records is path_only.
      if (/run[-_]type["'=:\s]+"?path-only/.test(line)) bad.push(`${file}:${i + 1}: ${line}`);
    });
  }
  equal(bad.join("\n"), "");
});

Deno.test("ledger backtest --max-entry-delay: a bad value is exit 2, one line naming the flag and the value", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_delay_" });
  const root = `${dir}/ledger`;
  try {
    const bads = [
      "5x",
      "-1",
      "1.5",
      "1e3",
      "",
      "5 m",
      "10ms",
      "0.0001s",
      "1d2h",
      "99999999999999d",
    ];
    for (
      const workflow of [["path-only"], [
        "policy",
        "--policy",
        '{"type":"fixed_stop","stopPct":0.3}',
      ]]
    ) {
      for (const bad of bads) {
        const r = await ledger([
          ...workflow,
          "--root",
          root,
          "--no-index",
          `--max-entry-delay=${bad}`, // "-1" as a value, not a flag
        ]);
        equal(r.code, 2, `${bad}: ${r.stderr}`);
        equal(
          oneLine(r.stderr),
          "ledger backtest: --max-entry-delay must be a whole number of milliseconds or a number " +
            `with a unit s, m, h or d (e.g. 90000, 90s, 5m, 1.5h, 30d), got ${JSON.stringify(bad)}`,
        );
      }
    }
    equal(await Deno.stat(root).then(() => true, () => false), false, "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger backtest --max-entry-delay: the probe's 30-day call, shown, kept at the bound, left out under it", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_cli_delay_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeLateCallFixtures(dir, false);
    const common = [
      "--root",
      root,
      "--calls",
      inputs.calls,
      "--candles",
      inputs.candles,
      "--no-index",
    ];
    await t.step("without the flag: the largest delay is printed", async () => {
      const r = await ledger(["path-only", ...common]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /^ {2}largest alert-to-entry delay: 2592000000 ms \(30 days\)$/m);
    });
    for (const [flag, late] of [["30d", 0], ["2591999999", 1], ["720h", 0], ["1d", 1]] as const) {
      await t.step(`--max-entry-delay ${flag}: ${late} late`, async () => {
        const po = await ledger(["path-only", ...common, "--json", "--max-entry-delay", flag]);
        equal(po.code, 0, po.stderr);
        const s = JSON.parse(po.stdout).summary;
        deepEqual([s.calls_computed, s.calls_skipped, s.calls_entry_late], [1 - late, late, late]);
        equal(s.entry_delay_ms_max, late === 0 ? LATE_DELAY_MS : null);
        const policy = ["--policy", '{"type":"fixed_stop","stopPct":0.3}'];
        const pol = await ledger(["policy", ...common, ...policy, "--max-entry-delay", flag]);
        equal(pol.code, 0, pol.stderr);
        if (late === 1) {
          match(
            pol.stdout,
            /^ {2}trades: 0 \(and 1 left out of the rates: 1 entered more than --max-entry-delay after the alert\)$/m,
          );
        } else {
          match(pol.stdout, /^ {2}trades: 1$/m);
        }
      });
    }
    await t.step("the flag is recorded in the run's config", async () => {
      const r = await ledger([
        "path-only",
        ...common,
        "--max-entry-delay",
        "1.5h",
        "--run-id",
        "cfg",
      ]);
      equal(r.code, 0, r.stderr);
      const created = (await runEvents(root, "cfg"))[0] as { config: Record<string, unknown> };
      equal(created.config.max_entry_delay_ms, 5_400_000);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
