/**
 * Help texts fit 80 columns and agree with the parser (issue 15.8): for every
 * command `ledger --help` lists, every `--help` line is at most 80 code
 * points, every `--flag` the help names is accepted by the parser, and every
 * flag a module exports in its `FLAGS` spec is named in its help.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { FlagSpec } from "../../cli/_args.ts";
import { REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

/** Widest help line allowed, in code points. */
const MAX_WIDTH = 80;

/** Commands whose help text may be ignored here (none: every command is checked). */
const HELP_PENDING: readonly string[] = [];

/** How long one "is this flag accepted" run may go on before it is stopped, ms. */
const FLAG_CHECK_MS_MAX = 8_000;

/** Flags every command takes (parseFlags adds them). */
const COMMON_FLAGS: FlagSpec = { root: { type: "string" }, help: { type: "boolean" } };

/** Commands whose help is printed by a module other than `cli/<command>.ts`. */
const MODULE_OF: Record<string, string> = {
  "note": "tag.ts",
  "archive": "tag.ts",
  "restore": "tag.ts",
  "rebuild-index": "rebuild_index.ts",
};

/** Extra flags a command takes beyond its module's `FLAGS`. */
const EXTRA_FLAGS: Record<string, FlagSpec> = {
  "archive": { reason: { type: "string" } },
};

function width(line: string): number {
  return [...line].length;
}

function wideLines(text: string): string[] {
  return text.split("\n").filter((line) => width(line) > MAX_WIDTH).map((line) =>
    `${width(line)}: ${line}`
  );
}

/**
 * Run `ledger OWNER --FLAG [x]... --root ROOT --help`: every command parses all
 * its flags before it reads --help, so an unknown flag is still refused, and a
 * flag that parses only prints the usage instead of starting the command (the
 * daemon ran until stopped). Whatever still runs after FLAG_CHECK_MS_MAX is
 * stopped (SIGTERM ends it cleanly).
 */
function flagRun(
  owner: string,
  flags: readonly string[],
  known: FlagSpec,
  dir: string,
  root: string,
) {
  const args = [owner];
  for (const flag of flags) {
    args.push(`--${flag}`);
    if (flag === "root") args.push(root);
    else if (known[flag]?.type === "string") args.push("x");
  }
  if (!flags.includes("root")) args.push("--root", root);
  args.push("--help");
  return runLedger(args, { cwd: dir, signal: AbortSignal.timeout(FLAG_CHECK_MS_MAX) });
}

/** The `--flag` tokens named in a help text, deduplicated, in order. */
function flagsIn(text: string): string[] {
  const names = [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]);
  return [...new Set(names)];
}

/**
 * The flags a help text names, by the command they belong to: a flag written
 * after `ledger OTHER` on the same line (`ledger runs hides it unless --all`)
 * belongs to OTHER, any other flag to `command`.
 */
function flagsByCommand(command: string, text: string, known: readonly string[]) {
  const out = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    let owner = command;
    for (const m of line.matchAll(/\bledger ([a-z-]+)|(?<![\w-])--([a-z][a-z0-9-]*)/g)) {
      if (m[1] !== undefined) {
        if (known.includes(m[1])) owner = m[1];
        continue;
      }
      if (!out.has(owner)) out.set(owner, new Set());
      out.get(owner)!.add(m[2]);
    }
  }
  return out;
}

async function moduleFlags(command: string): Promise<FlagSpec | undefined> {
  const file = MODULE_OF[command] ?? `${command}.ts`;
  const mod = await import(pathToFileURL(join(REPO_ROOT, "cli", file)).href) as {
    FLAGS?: FlagSpec;
  };
  if (mod.FLAGS === undefined) return undefined;
  return { ...mod.FLAGS, ...EXTRA_FLAGS[command] };
}

/** Run `tasks` with at most `limit` running at once. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

const top = await runLedger(["--help"]);
const commands = top.stdout.split("\n").slice(
  top.stdout.split("\n").indexOf("Commands:") + 1,
).filter((line) => /^ {2}\S/.test(line)).map((line) => line.trim().split(/\s+/)[0]);

Deno.test("ledger --help fits 80 columns and lists the commands", () => {
  assert.equal(top.code, 0, top.stderr);
  assert.deepEqual(wideLines(top.stdout), []);
  const lines = top.stdout.split("\n");
  const listing = lines.slice(lines.indexOf("Commands:") + 1);
  const continued = listing.slice(0, listing.indexOf("")).filter((l) => !/^ {2}\S/.test(l));
  assert.deepEqual(continued, [], "each command summary fits on its own line");
  assert.ok(commands.length >= 20, `commands parsed from ledger --help: ${commands.join(" ")}`);
  assert.ok(commands.includes("emit") && commands.includes("ship"), commands.join(" "));
});

for (const command of commands) {
  const pending = HELP_PENDING.includes(command);
  if (pending) console.log(`help_test: ${command} ignored: help text fixed after the merge`);
  Deno.test({
    name: `ledger ${command} --help fits 80 columns and agrees with the parser`,
    ignore: pending,
    fn: async (t) => {
      const help = await runLedger([command, "--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.ok(help.stdout.startsWith("Usage: ledger "), help.stdout);
      const spec = await moduleFlags(command);

      await t.step("every line is at most 80 columns", () => {
        assert.deepEqual(wideLines(help.stdout), []);
      });

      await t.step("every flag in the help is accepted by the parser", async () => {
        await withTempDir(async (dir) => {
          const root = join(dir, "root");
          await Deno.mkdir(root);
          // Flags by the command that owns them; one run takes all of an owner's flags at
          // once, and only a run that refuses one is repeated flag by flag (a flag such as
          // --from switches to another parser, which refuses the rest when they come together).
          const owners: [string, string[], FlagSpec][] = [];
          for (const [owner, flags] of flagsByCommand(command, help.stdout, commands)) {
            const known = { ...COMMON_FLAGS, ...await moduleFlags(owner) };
            owners.push([owner, [...flags].filter((flag) => flag !== "help"), known]);
          }
          assert.ok(owners.some(([, flags]) => flags.length > 0), "the help names --root at least");
          const rejected: string[] = [];
          const refused = (run: { stderr: string }) => /unknown flag/i.test(run.stderr);
          await pool(owners, 3, async ([owner, flags, known]) => {
            if (flags.length === 0 || !refused(await flagRun(owner, flags, known, dir, root))) {
              return;
            }
            for (const flag of flags) {
              const run = await flagRun(owner, [flag], known, dir, root);
              if (refused(run)) rejected.push(`${owner} --${flag}: ${run.stderr.trim()}`);
            }
          });
          assert.deepEqual(rejected, []);
        });
      });

      await t.step({
        name: "every flag of the module's FLAGS is named in the help",
        ignore: spec === undefined,
        fn: () => {
          const named = new Set(flagsIn(help.stdout));
          const missing = Object.keys(spec ?? {}).filter((flag) => !named.has(flag));
          assert.deepEqual(missing, []);
        },
      });
    },
  });
}

// A contract audit: SPEC 14 names `rebuild-index --from` and `daemon --from`, and issue 17 the
// daemon's ship mode (`--to`), but the plain help named them only in prose below its usage.
Deno.test("the plain help of rebuild-index and daemon names their bucket flags", async () => {
  for (
    const [command, flags] of [
      ["rebuild-index", ["--from"]],
      ["daemon", ["--from", "--to"]],
    ] as const
  ) {
    const help = await runLedger([command, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    const usage = help.stdout.slice(0, help.stdout.indexOf("\n\n"));
    for (const flag of flags) {
      assert.match(usage, new RegExp(`ledger ${command} ${flag} s3://BUCKET`), usage);
    }
  }
});

Deno.test("the --from s3:// help of rebuild-index and daemon fits 80 columns", async (t) => {
  const mod = await import(pathToFileURL(join(REPO_ROOT, "cli", "_from_bucket.ts")).href) as {
    REBUILD_FLAGS: FlagSpec;
    DAEMON_FLAGS: FlagSpec;
  };
  for (
    const [command, spec] of [
      ["rebuild-index", mod.REBUILD_FLAGS],
      ["daemon", mod.DAEMON_FLAGS],
    ] as const
  ) {
    await t.step(command, async () => {
      const help = await runLedger([command, "--from", "s3://bucket/prefix", "--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.ok(help.stdout.includes("s3://BUCKET"), help.stdout);
      assert.deepEqual(wideLines(help.stdout), []);
      const named = new Set(flagsIn(help.stdout));
      assert.deepEqual(Object.keys(spec).filter((flag) => !named.has(flag)), []);
    });
  }
});

Deno.test("every cli module that exports FLAGS is covered by a listed command", async () => {
  const covered = new Set(commands.map((c) => MODULE_OF[c] ?? `${c}.ts`));
  const uncovered: string[] = [];
  for await (const entry of Deno.readDir(join(REPO_ROOT, "cli"))) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const source = await Deno.readTextFile(join(REPO_ROOT, "cli", entry.name));
    if (/^export const FLAGS\b/m.test(source) && !covered.has(entry.name)) {
      uncovered.push(entry.name);
    }
  }
  assert.deepEqual(uncovered, []);
});

Deno.test("ledger help COMMAND prints that command's help", async () => {
  const r = await runLedger(["help", "runs"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.split("\n")[0], /^Usage: ledger runs /);
});

Deno.test("ledger help UNKNOWN is a usage error, as ledger UNKNOWN is", async () => {
  const r = await runLedger(["help", "bogus"]);
  assert.equal(r.code, 2, r.stdout);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, 'ledger: unknown command "bogus"; see ledger --help\n');
  // A flag after `help` is still the general help (a review: `ledger --root DIR help`, which
  // puts `--root` after `help`, exited 2).
  for (
    const args of [["--root", "/tmp", "help"], ["help", "--root", "/tmp"], ["help", "--help"], [
      "help",
      "help",
    ], ["help", "version"]]
  ) {
    const ok = await runLedger(args);
    assert.equal(ok.code, 0, `${args.join(" ")}: ${ok.stderr}`);
    assert.match(ok.stdout, /^ledger \d+\.\d+\.\d+: the run ledger/, args.join(" "));
  }
});
