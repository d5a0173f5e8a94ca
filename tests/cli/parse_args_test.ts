/**
 * `cli/_parse_args.ts` replaces `node:util`'s `parseArgs` on every command
 * (issue 16: importing `node:util` cost the emit cold start about 0.4x of an
 * empty `deno run`). Both parse one table of command lines here and must
 * agree on values, positionals and every error message.
 *
 * @module
 */
import assert from "node:assert";
import { parseArgs } from "node:util";
import { type FlagSpec, parseArgsStrict } from "../../cli/_parse_args.ts";

const SPEC: FlagSpec = {
  root: { type: "string" },
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean", short: "v" },
  out: { type: "string", short: "o" },
  where: { type: "string", multiple: true },
  flag: { type: "boolean", multiple: true },
  limit: { type: "string", default: "10" },
};

const CASES: [string[], boolean][] = [
  [[], false],
  [["--root", "data/x"], false],
  [["--root=data/x"], false],
  [["--root="], false],
  [["--root", "-"], false],
  [["--root", "-x"], false],
  [["--root", "--help"], false],
  [["--root"], false],
  [["--help"], false],
  [["-h"], false],
  [["-hv"], false],
  [["-vo", "file"], false],
  [["-ofile"], false],
  [["-o"], false],
  [["-o", "-x"], false],
  [["--help=yes"], false],
  [["--nope"], false],
  [["--nope=1"], false],
  [["--nope"], true],
  [["-hx"], true],
  [["--out", "-x"], false],
  [["-ho", "-x"], false],
  [["-h=1"], false],
  [["-x"], false],
  [["-hx"], false],
  [["-5"], true],
  [["run1"], false],
  [["run1"], true],
  [["run1", "--verbose", "run2"], true],
  [["--", "--help", "x"], true],
  [["--", "--help"], false],
  [["-"], true],
  [["--where", "a = 1", "--where", "b > 2"], false],
  [["--flag", "--flag"], false],
  [["--limit", "5"], false],
  [["--root", "a", "--root", "b"], false],
  [["--toString"], false],
  [["--__proto__", "x"], false],
  [["--root", "a b,c"], false],
  [["--out=--x"], false],
];

function outcome(parse: () => { values: object; positionals: string[] }) {
  try {
    const { values, positionals } = parse();
    return { values: { ...values }, positionals };
  } catch (err) {
    assert(err instanceof TypeError, `a parse error is a TypeError: ${err}`);
    return { error: err.message };
  }
}

for (const [args, allowPositionals] of CASES) {
  Deno.test(`parseArgsStrict agrees with node:util on ${JSON.stringify(args)}${allowPositionals ? " (positionals)" : ""}`, () => {
    const ours = outcome(() => parseArgsStrict(args, SPEC, allowPositionals));
    const node = outcome(() =>
      parseArgs({ args, options: SPEC as never, strict: true, allowPositionals })
    );
    assert.deepEqual(ours, node);
  });
}

Deno.test("the ledger command line does not load node:util", async () => {
  const graph = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "cli/emit.ts"],
    stdout: "piped",
    stderr: "piped",
  });
  const out = await graph.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const specifiers = info.modules.map((m) => m.specifier);
  assert(specifiers.some((s) => s.endsWith("/cli/_parse_args.ts")), "emit uses _parse_args.ts");
  assert.equal(specifiers.includes("node:util"), false, "emit's module graph has node:util");
});

/** The modules a process loads before it runs: `file`'s static imports, transitively. */
async function staticGraph(file: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
    redirects?: Record<string, string>;
  };
  const byName = new Map(info.modules.map((m) => [m.specifier, m]));
  const redirect = (s: string) => info.redirects?.[s] ?? s;
  const seen = new Set<string>();
  const queue = info.roots.map(redirect);
  while (queue.length > 0) {
    const s = queue.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of byName.get(s)?.dependencies ?? []) {
      if (d.isDynamic !== true && d.code !== undefined) queue.push(redirect(d.code.specifier));
    }
  }
  return seen;
}

Deno.test("query commands load neither zod nor the legacy reader outside dual mode", async () => {
  // zod and legacy/dual.ts (backfill, parity) cost 50-60 ms of every start.
  for (const command of ["runs", "show", "compare", "trials", "export", "sql"]) {
    const graph = [...await staticGraph(`cli/${command}.ts`)];
    assert(graph.some((s) => s.endsWith("/indexer/duckdb.ts")), `${command} opens DuckDB`);
    // The bundle and its addon load on the first open (indexer/duckdb.ts), not at start: a usage
    // error or --help never pays for them.
    assert(!graph.some((s) => s.endsWith("/vendor/duckdb_node_api.js")), `${command}: lazy`);
    // The package's own 62 CommonJS files cost about 100 ms more than the bundle.
    assert.deepEqual(graph.filter((s) => s.includes("@duckdb/node-api")), [], command);
    assert.deepEqual(graph.filter((s) => /zod|\/legacy\/dual\.ts$/.test(s)), [], command);
  }
});
