import { doesNotMatch, match, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";

/** The command names `ledger --help` lists. */
async function commandNames(): Promise<string[]> {
  const r = await runLedger(["--help"]);
  equal(r.code, 0, r.stderr);
  const block = r.stdout.split("Commands:\n")[1] ?? "";
  return block.split("\n").map((line) => line.match(/^ {2}(\S+)\s/)?.[1]).filter((
    name,
  ): name is string => name !== undefined);
}

// One rule for every command: 2 for usage, 1 for failure (issue 15.9). In
// 0.1.0 rebuild-index exited 1 on a bad flag and every unknown flag carried
// node:util's hint about '--'.
Deno.test("every command: an unknown flag is a usage error (exit 2) in ledger's own words", async (t) => {
  const names = await commandNames();
  equal(names.includes("rebuild-index"), true, names.join(","));
  const root = await Deno.makeTempDir({ prefix: "ledger-usage-" });
  try {
    for (const name of names) {
      await t.step(name, async () => {
        const r = await runLedger([name, "--no-such-flag", "--root", root]);
        equal(r.code, 2, `${name}: ${r.stderr}`);
        equal(r.stdout, "");
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(r.stderr, /--no-such-flag/);
        doesNotMatch(r.stderr, /place it after|positional argument/);
      });
    }
    equal([...Deno.readDirSync(root)].length, 0, "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A contract check: six commands said Node's "Unexpected argument 'extra'. This command does not
// take positional arguments" where the others say `unexpected argument "extra"` (issue 15.9: own
// messages only).
Deno.test("every command: an argument it does not take is refused in ledger's own words", async (t) => {
  const names = await commandNames();
  const root = await Deno.makeTempDir({ prefix: "ledger-usage-" });
  try {
    for (const name of names) {
      await t.step(name, async () => {
        // Past every argument a command takes: show RUN, compare RUN RUN..., backtest WORKFLOW.
        const args = [name, "a", "b", "c", "d", "e", "--root", root];
        const r = await runLedger(args);
        // compare and report take any number of runs: they then fail to find them.
        if (name === "compare" || name === "report" || name === "sql") return;
        equal(r.code, 2, `${name}: ${r.stderr}`);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        doesNotMatch(r.stderr, /Unexpected argument|positional argument/);
        match(r.stderr, new RegExp(`^ledger ${name}: `));
      });
    }
    equal([...Deno.readDirSync(root)].length, 0, "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A positional that starts with a dash (a query opening with an SQL comment) was cut at its
// newline into "Unknown option '-- c" (an audit): one line, quoted, saying how to pass it.
Deno.test("an argument that starts with a dash is one line saying to put it after --", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-usage-" });
  try {
    const r = await runLedger(["sql", "--root", root, "-- c\nSELECT 2"]);
    equal(r.code, 2, r.stderr);
    equal(
      r.stderr,
      'ledger sql: unknown flag "-- c\\nSELECT 2" (see --help; an argument that starts with a ' +
        'dash goes after --, as in -- "-- c\\nSELECT 2")\n',
    );
    equal([...Deno.readDirSync(root)].length, 0, "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A note "-5% drawdown" reached the parser as the flag -5, refused with no word on how to pass it
// (an audit).
Deno.test("text that starts with a dash and no letter is told to go after --", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-usage-" });
  try {
    const r = await runLedger(["note", "--root", root, "r1", "-5% drawdown"]);
    equal(r.code, 2, r.stderr);
    equal(
      r.stderr,
      "ledger note: unknown flag -5 (see --help; an argument that starts with a dash goes " +
        'after --, as in -- "-5...")\n',
    );
    const flag = await runLedger(["runs", "--root", root, "-x"]);
    equal(flag.stderr, "ledger runs: unknown flag -x (see --help)\n", "a letter: a flag");
    equal([...Deno.readDirSync(root)].length, 0, "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A flag whose value is missing or starts with a dash: one line that names the flag and says
// how to write such a value, not node:util's "argument is ambiguous".
Deno.test("a flag without its value is a usage error that names the flag", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-usage-" });
  try {
    const cases: [string[], RegExp][] = [
      [["runs", "--limit", "-1"], /^ledger runs: --limit needs a value \(.*--limit=-VALUE\)$/],
      [["daemon", "--interval", "-5"], /--interval needs a value \(.*--interval=-VALUE\)$/],
      [["runs", "--limit"], /^ledger runs: --limit needs a value$/],
      [["rebuild-index", "--from", "--full"], /--from needs a value/],
    ];
    for (const [args, says] of cases) {
      const r = await runLedger([args[0], "--root", root, ...args.slice(1)]);
      equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(r.stderr.trim(), says);
      doesNotMatch(r.stderr, /ambiguous/);
    }
    equal([...Deno.readDirSync(root)].length, 0, "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// `ship --once --interval 5` ran once and ignored --interval without a word.
Deno.test("ship: --once with --interval is a usage error, before the bucket is asked", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-usage-" });
  try {
    const r = await runLedger([
      "ship",
      "--root",
      root,
      "--to",
      "s3://no-such-bucket/p",
      "--once",
      "--interval",
      "5",
    ]);
    equal(r.code, 2, r.stderr);
    equal(r.stderr.trim(), "ledger ship: --once makes one pass: --interval has no meaning with it");
    equal([...Deno.readDirSync(root)].length, 0, "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
