/**
 * `backtest`/`sweep --from/--to` read instants as the query surface does
 * (exact past the millisecond, years 0000-0099 as written), refuse an
 * out-of-range epoch ms as a usage error naming the flag, and refuse a
 * `--calls`/`--candles` file of unknown format before anything is written
 * (audit 4: flags F1/F2, time F1/F3).
 */
import { doesNotMatch, match, strictEqual as equal } from "node:assert/strict";
import { runEvents, writeFixtures } from "../backtest/_fixtures.ts";
import { hashTree, runLedger } from "../_helpers.ts";
import { parseInstant } from "../../indexer/query/time.ts";
import { parseDay } from "../../indexer/rebuild.ts";

Deno.test("backtest --to finer than a ms keeps a call alerted before it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_bt_time_" });
  try {
    const inputs = await writeFixtures(dir);
    // a1 is alerted at 00:00:30.000Z: before 00:00:30.0005Z, so kept (with b1 and c1 at 00:00).
    const r = await runLedger([
      "backtest",
      "path-only",
      "--root",
      `${dir}/ledger`,
      "--calls",
      inputs.calls,
      "--candles",
      inputs.candles,
      "--to",
      "2026-01-05T00:00:30.0005Z",
      "--no-index",
      "--json",
    ]);
    equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    equal(out.summary.calls_total, 3);
    // The bound recorded is the whole ms it was rounded up to: a rerun keeps the same calls.
    const created = (await runEvents(`${dir}/ledger`, out.run_id))[0] as unknown as {
      config: { to: string };
    };
    equal(created.config.to, "2026-01-05T00:00:30.001Z");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backtest/sweep --from/--to out of range: exit 2 naming the flag, nothing written", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_bt_time_" });
  try {
    const root = `${dir}/ledger`;
    await Deno.mkdir(root);
    const before = await hashTree(root);
    const grid = '{"type":"fixed_stop","stopPct":[0.3]}';
    const cases: [string[], RegExp][] = [
      [
        ["backtest", "path-only", "--from=99999999999999999999"],
        /^ledger backtest: --from "99999999999999999999" is past the last time in epoch ms/,
      ],
      [
        ["backtest", "path-only", "--to=8640000000000001"],
        /^ledger backtest: --to "8640000000000001" is past the last time in epoch ms/,
      ],
      [
        ["sweep", "policy", "--grid", grid, "--to=99999999999999999999"],
        /^ledger sweep: --to "99999999999999999999" is past the last time in epoch ms/,
      ],
    ];
    for (const [args, pattern] of cases) {
      await t.step(args.join(" "), async () => {
        const r = await runLedger([...args, "--root", root, "--no-index"]);
        equal(r.code, 2, r.stderr);
        equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
        match(r.stderr, pattern);
        equal(await hashTree(root), before);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backtest --calls/--candles of an unknown format: exit 2, nothing written", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_bt_ext_" });
  try {
    const inputs = await writeFixtures(dir);
    const txt = `${dir}/calls.txt`;
    await Deno.copyFile(inputs.calls, txt);
    const root = `${dir}/ledger`;
    await Deno.mkdir(root);
    const before = await hashTree(root);
    const policy = '{"type":"fixed_stop","stopPct":0.3}';
    const cases: [string[], RegExp][] = [
      [
        ["backtest", "policy", "--policy", policy, "--calls", txt, "--candles", inputs.candles],
        /^ledger backtest: --calls: Calls file .*calls\.txt has an unknown format/,
      ],
      [
        ["backtest", "path-only", "--calls", inputs.calls, "--candles", `${dir}/candles`],
        /^ledger backtest: --candles: Candles file .*candles has an unknown format/,
      ],
      [
        ["sweep", "policy", "--grid", '{"type":"fixed_stop","stopPct":[0.3]}', "--calls", txt],
        /^ledger sweep: --calls: Calls file .*calls\.txt has an unknown format/,
      ],
    ];
    for (const [args, pattern] of cases) {
      await t.step(args[1], async () => {
        const r = await runLedger([...args, "--root", root, "--no-index"]);
        equal(r.code, 2, r.stderr);
        equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
        match(r.stderr, pattern);
        equal(await hashTree(root), before);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("instants and days with a year below 100 are read as written", () => {
  equal(new Date(parseInstant("0001-01-01")).toISOString(), "0001-01-01T00:00:00.000Z");
  equal(new Date(parseInstant("0050-06-01T00:00:00Z")).toISOString(), "0050-06-01T00:00:00.000Z");
  equal(new Date(parseInstant("0099-12-31t23:59z")).toISOString(), "0099-12-31T23:59:00.000Z");
  equal(parseDay("0001-01-01"), "0001-01-01");
  equal(parseDay("0000-02-29"), "0000-02-29"); // year 0 is a leap year
});

Deno.test("a window that leaves no call says so, not '0 of 0 calls covered'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_bt_window_" });
  try {
    const inputs = await writeFixtures(dir);
    const r = await runLedger([
      ...["backtest", "path-only", "--root", `${dir}/ledger`, "--no-index"],
      ...["--calls", inputs.calls, "--candles", inputs.candles, "--to", "2000-01-01"],
    ]);
    equal(r.code, 1, r.stderr);
    match(
      r.stderr,
      /No call of \S+ is in the time window \(from any to 2000-01-01T00:00:00\.000Z\): all \d+ are outside it/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a calls file of a header alone says it has no calls, for a backtest and a sweep", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_bt_no_calls_" });
  try {
    const inputs = await writeFixtures(dir);
    const header = (await Deno.readTextFile(inputs.calls)).split("\n")[0];
    await Deno.writeTextFile(inputs.calls, `${header}\n`);
    const commands = [
      ["backtest", "path-only"],
      ["sweep", "policy", "--grid", '{"type":"fixed_stop","stopPct":[0.1,0.2]}'],
    ];
    for (const command of commands) {
      await t.step(command[0], async () => {
        const r = await runLedger([
          ...command,
          ...["--root", `${dir}/ledger`, "--no-index"],
          ...["--calls", inputs.calls, "--candles", inputs.candles],
        ]);
        equal(r.code, 1, r.stderr);
        match(r.stderr, /Calls file \S+ has no calls \(no row\)/);
        doesNotMatch(r.stderr, /0 of 0 calls covered/);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
