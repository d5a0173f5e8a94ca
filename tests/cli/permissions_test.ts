/**
 * Permissions: every `deno task` is scoped (no `-A`), a scoped task is
 * refused outside its scope before anything is written, and `ledger` names
 * the missing flag in one line instead of failing deep inside.
 *
 * @module
 */
import {
  deepStrictEqual as deepEqual,
  match,
  ok,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import {
  grantFlags,
  LIVENESS_NEEDS,
  missingPermissions,
  permissionMessage,
  REBUILD_INDEX_NEEDS,
  UnsafePermissionPathError,
} from "../../cli/_permissions.ts";
import { refreshCommand } from "../../cli/backtest.ts";
import { writeFixtures } from "../backtest/_fixtures.ts";
import { exists } from "../../ledger/exists.ts";

const PROJECT_DIR = new URL("../../", import.meta.url).pathname;
const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;
const TASKS: Record<string, string> = denoJson.tasks;

/** Commands that open DuckDB, so their tasks may load its addon. */
const DUCKDB_TASKS = [
  "ledger",
  "rebuild-index",
  "daemon",
  "runs",
  "show",
  "backtest",
  "demo",
  "sample-data",
  "bench",
  "report",
  "ui",
  "compare",
  "trials",
  "sql",
  "export",
  "tag",
  "note",
  "archive",
  "restore",
  "sweep",
  "rerun",
  "report",
  "ui",
  "sample-legacy",
  "test:power-loss",
  "test:doc",
  "test:long",
  "vendor-duckdb",
];
/**
 * Tasks that may run any program: the test runner, the benchmarks, the
 * compiler, the events doc generator (it runs `deno fmt`), the DuckDB
 * bundler and the emit bundler (they run `deno bundle`).
 */
const RUN_ANY_TASKS = [
  "test",
  "test:doc",
  "test:long",
  "test:power-loss",
  "bench",
  "compile",
  "events-doc",
  "vendor-duckdb",
  "bundle-emit",
];
/**
 * git: provenance in run manifests; ps: is a running run's process alive
 * (indexer); deno: the background index refresh of backtests (`deno` from PATH).
 */
const SCOPED_PROGRAMS = ["git", "ps", "deno"];

async function deno(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: PROJECT_DIR,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function flagsOf(task: string): string[] {
  return TASKS[task].split(/\s+/).filter((word) => word.startsWith("-"));
}

Deno.test("deno.json tasks grant only scoped permissions", async (t) => {
  await t.step("no task uses -A or --allow-all", () => {
    for (const [name, command] of Object.entries(TASKS)) {
      ok(!/(^|\s)(-A|--allow-all)(\s|$)/.test(command), `task ${name} uses -A: ${command}`);
    }
  });
  await t.step("only ui listens, on loopback only; report writes nothing but data", () => {
    for (const name of Object.keys(TASKS)) {
      const net = flagsOf(name).filter((f) => f.startsWith("--allow-net"));
      if (["ui", "test", "test:doc", "test:long", "bench"].includes(name)) {
        deepEqual(net, ["--allow-net=127.0.0.1"], name);
      } else if (["ship", "rebuild-index", "daemon"].includes(name)) {
        // The bucket's endpoint (ship --to, rebuild-index --from, daemon --from) comes from
        // the AWS variables or profile at run time; a task cannot name it (docs/OPERATIONS.md:
        // scope it with deno run --allow-net=HOST).
        deepEqual(net, ["--allow-net"], name);
      } else deepEqual(net, [], `task ${name} has ${net}`);
    }
    deepEqual(flagsOf("report").filter((f) => f.startsWith("--allow-write")), [
      "--allow-write=data",
    ]);
    deepEqual(flagsOf("ui").filter((f) => f.startsWith("--allow-write")), []);
  });
  await t.step("--allow-ffi only where DuckDB is used (and the test task)", () => {
    for (const name of Object.keys(TASKS)) {
      const usesFfi = flagsOf(name).some((flag) => flag.startsWith("--allow-ffi"));
      if (usesFfi) ok([...DUCKDB_TASKS, "test"].includes(name), `task ${name} has --allow-ffi`);
    }
    ok(!flagsOf("emit").some((flag) => flag.startsWith("--allow-ffi")));
  });
  await t.step("--allow-run names only git, ps and deno, except RUN_ANY_TASKS", () => {
    for (const name of Object.keys(TASKS)) {
      if (RUN_ANY_TASKS.includes(name)) continue;
      for (const flag of flagsOf(name).filter((f) => f.startsWith("--allow-run"))) {
        const programs = flag.startsWith("--allow-run=") ? flag.slice(12).split(",") : ["*"];
        ok(programs.every((p) => SCOPED_PROGRAMS.includes(p)), `task ${name}: ${flag}`);
      }
    }
    ok(!flagsOf("emit").some((flag) => flag.startsWith("--allow-run")), "emit runs nothing");
  });
  await t.step("ledger command tasks scope read, write and env", () => {
    for (
      const name of [
        "ledger",
        "emit",
        "runs",
        "show",
        "backtest",
        "report",
        "ui",
      ]
    ) {
      const flags = flagsOf(name);
      // The backtest task reads the inputs it is named, wherever they are (issue 15.3).
      const unscopedOk = name === "backtest" ? ["--allow-read"] : [];
      for (const flag of flags) {
        ok(
          !["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi"]
            .filter((f) => !unscopedOk.includes(f)).includes(flag),
          `task ${name} has an unscoped ${flag}`,
        );
      }
      ok(flags.includes("--no-prompt"), `task ${name} may prompt`);
      ok(
        flags.some((flag) => /^--allow-read(=data(,|$)|$)/.test(flag)),
        `task ${name} reads data/`,
      );
      ok(
        flags.some((flag) => /^--allow-env=LEDGER_ROOT(,|$)/.test(flag)),
        `task ${name} reads LEDGER_ROOT`,
      );
    }
    // export wrote anywhere in the checkout (--allow-write=.): `--out deno.json` replaced it.
    for (const name of ["export", "report", "tag", "note", "archive", "restore"]) {
      const writes = flagsOf(name).filter((flag) => flag.startsWith("--allow-write"));
      ok(writes.every((flag) => flag === "--allow-write=data"), `task ${name}: ${writes}`);
    }
    // rebuild-index and daemon also read from a bucket (--from): the AWS SDK reads any AWS_*
    // variable and ~/.aws/config, as ship's; they still write only under data/.
    for (const name of ["rebuild-index", "daemon", "ship"]) {
      const writes = flagsOf(name).filter((flag) => flag.startsWith("--allow-write"));
      deepEqual(writes, ["--allow-write=data"], name);
      ok(flagsOf(name).includes("--no-prompt"), `task ${name} may prompt`);
    }
    ok(!flagsOf("runs").some((flag) => flag.startsWith("--allow-write")), "runs writes nothing");
    ok(!flagsOf("show").some((flag) => flag.startsWith("--allow-write")), "show writes nothing");
  });
});

Deno.test("a scoped task is refused outside its scope and writes nothing", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_perm_" });
  try {
    await t.step("deno task emit --root outside data/", async () => {
      const root = `${dir}/elsewhere`;
      const r = await deno([
        "task",
        "emit",
        "--root",
        root,
        "--event-type",
        "run.started",
        "--run-id",
        "r1",
      ]);
      equal(r.code, 1, r.stderr);
      match(r.stderr, new RegExp(`ledger emit: missing permissions? .*--allow-write=${root}`));
      match(r.stderr, /deno task emit reads and writes only under data\/; /);
      match(
        r.stderr.trim(),
        new RegExp(`\\(deno run .*--allow-write=${root} \\.\\.\\. cli/ledger.ts emit\\)$`),
      );
      equal(r.stdout, "");
      equal(await exists(root, { noFollow: true }), false, "the refused emit created the root");
    });
    await t.step("deno task rebuild-index --root outside data/", async () => {
      const root = `${dir}/other`;
      const r = await deno(["task", "rebuild-index", "--root", root]);
      equal(r.code, 1, r.stderr);
      match(r.stderr, new RegExp(`ledger rebuild-index: missing .*--allow-write=${root}`));
      // Its task reads anywhere (a probe: the hint said "reads and writes only under data/").
      match(r.stderr, /deno task rebuild-index writes only under data\/; /);
      equal(await exists(root, { noFollow: true }), false);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger names the missing flag in one line and exits 1", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_perm_" });
  const scope = [`--allow-read=${dir}`, `--allow-write=${dir}`];
  try {
    await t.step("rebuild-index without --allow-ffi", async () => {
      const r = await deno(["run", ...scope, CLI, "rebuild-index", "--root", dir]);
      equal(r.code, 1);
      equal(
        r.stderr.trim(),
        "ledger rebuild-index: missing permission --allow-ffi; " +
          "add it to the deno run command or use deno task rebuild-index",
      );
    });
    await t.step("backtest without --allow-run=git (provenance)", async () => {
      // The sample data it reads by default granted: git is all that is missing.
      const sample = "--allow-read=data/sample";
      const r = await deno([
        "run",
        ...scope,
        sample,
        "--allow-ffi",
        CLI,
        "backtest",
        "--root",
        dir,
      ]);
      equal(r.code, 1);
      match(r.stderr, /^ledger backtest: missing permission --allow-run=git; /);
    });
    await t.step("no --root and no --allow-env=LEDGER_ROOT", async () => {
      const r = await deno(["run", "--allow-read", "--allow-write", CLI, "emit", "--run-id", "x"]);
      equal(r.code, 1);
      match(r.stderr, /^ledger emit: missing permission --allow-env=LEDGER_ROOT; /);
    });
    await t.step("LEDGER_ROOT outside the granted scope", async () => {
      const r = await deno(
        ["run", ...scope, "--allow-env=LEDGER_ROOT", "--allow-ffi", CLI, "runs"],
        { LEDGER_ROOT: "/nonexistent/ledger" },
      );
      equal(r.code, 1);
      equal(
        r.stderr.trim(),
        // The dual-mode default file is not asked for: it is looked for only when granted.
        "ledger runs: missing permission --allow-read=/nonexistent/ledger; " +
          "deno task runs reads only under data/; keep the paths there or " +
          "add it to a deno run command (deno run --no-prompt " +
          "--allow-read=/nonexistent/ledger ... cli/ledger.ts runs)",
      );
    });
    await t.step("runs and show scoped to the root alone: no dual mode, no refusal", async () => {
      // Until 0.8.0 both refused to start without a grant of data/baseline_results.duckdb,
      // a file dual mode only looks for (a review).
      const root = `${dir}/scoped`;
      const created = await deno([
        "run",
        ...scope,
        CLI,
        "emit",
        "--root",
        root,
        "--event",
        '{"event_type":"run.created","run_id":"scoped-1","run_type":"t","config":{},' +
        '"data_fingerprint":"f"}',
      ]);
      equal(created.code, 0, created.stderr);
      const built = await deno([
        "run",
        ...scope,
        "--allow-ffi",
        CLI,
        "rebuild-index",
        `--root=${root}`,
      ]);
      equal(built.code, 0, built.stderr);
      const read = [`--allow-read=${root}`, "--allow-ffi", CLI];
      const runs = await deno(["run", ...read, "runs", "--root", root, "--json"]);
      equal(runs.code, 0, runs.stderr);
      deepEqual(JSON.parse(runs.stdout).map((r: { run_id: string }) => r.run_id), ["scoped-1"]);
      // Whether the legacy file is there cannot be told: said, not passed over in silence.
      equal(
        runs.stderr.trim(),
        "ledger runs: warning: dual mode off: this process may not read " +
          "data/baseline_results.duckdb, so legacy runs are left out " +
          "(add --allow-read=data/baseline_results.duckdb to read them)",
      );
      const show = await deno(["run", ...read, "show", "scoped", "--root", root, "--json"]);
      equal(show.code, 0, show.stderr);
      equal(JSON.parse(show.stdout).run.run_id, "scoped-1");
      match(show.stderr, /^ledger show: warning: dual mode off: /);
      // Named outright, the legacy file is still asked for.
      const named = await deno(
        ["run", ...read, "runs", "--root", root, "--legacy-db", `${dir}/old.duckdb`],
      );
      equal(named.code, 1);
      match(named.stderr, /missing permission --allow-read=.*old\.duckdb/);
    });
    await t.step("--db outside the granted scope", async () => {
      const r = await deno([
        "run",
        ...scope,
        "--allow-ffi",
        CLI,
        "rebuild-index",
        "--root",
        dir,
        "--db=/nonexistent/runs.duckdb",
      ]);
      equal(r.code, 1);
      // The folder: the rebuild writes its copy and lock beside the index (a docs audit: the
      // file alone was named, and the command then failed on the folder).
      match(
        r.stderr,
        /missing permissions --allow-read=\/nonexistent --allow-write=\/nonexistent;/,
      );
    });
    await t.step("--out outside the granted scope names its folder", async () => {
      const r = await deno([
        "run",
        ...scope,
        "--allow-ffi",
        CLI,
        "export",
        "runs",
        "--root",
        dir,
        "--format",
        "csv",
        "--out=/nonexistent/out/runs.csv",
      ]);
      equal(r.code, 1);
      match(
        r.stderr,
        /missing permissions --allow-read=\/nonexistent\/out --allow-write=\/nonexistent\/out;/,
      );
    });
    await t.step("--out through a link names the folder of the file it leads to", async () => {
      // The output lands beside the link's target: the link's own folder was asked for, then
      // three more lines one at a time, the last naming a random temporary file (a review).
      const elsewhere = await Deno.makeTempDir({ prefix: "ledger_perm_out_" });
      try {
        await Deno.symlink(`${elsewhere}/runs.csv`, `${dir}/latest.csv`);
        const r = await deno([
          "run",
          ...scope,
          "--allow-ffi",
          CLI,
          "export",
          "runs",
          "--root",
          dir,
          "--format",
          "csv",
          `--out=${dir}/latest.csv`,
        ]);
        equal(r.code, 1);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(
          r.stderr,
          new RegExp(`missing permissions --allow-read=${elsewhere} --allow-write=${elsewhere};`),
        );
        deepEqual([...Deno.readDirSync(elsewhere)], [], "nothing written where it may not");
        // A relative target in a folder reached through a link is read from the real folder,
        // as the write reads it (it was joined to the folder as written: a review).
        await Deno.mkdir(`${elsewhere}/sub`);
        await Deno.symlink(`${elsewhere}/sub`, `${dir}/sublink`);
        await Deno.symlink("../runs.csv", `${elsewhere}/sub/latest.csv`);
        const relative = await deno([
          "run",
          ...scope,
          `--allow-read=${elsewhere}/sub`,
          "--allow-ffi",
          CLI,
          "export",
          "runs",
          "--root",
          dir,
          "--format",
          "csv",
          `--out=${dir}/sublink/latest.csv`,
        ]);
        equal(relative.code, 1);
        match(relative.stderr, new RegExp(`missing permissions? .*--allow-write=${elsewhere};`));
      } finally {
        await Deno.remove(elsewhere, { recursive: true });
        await Deno.remove(`${dir}/latest.csv`);
        await Deno.remove(`${dir}/sublink`).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    });
    await t.step("--help needs no permission", async () => {
      const r = await deno(["run", CLI, "rebuild-index", "--help"]);
      ok(!r.stderr.includes("missing permission"), r.stderr);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missingPermissions and permissionMessage", async (t) => {
  await t.step("nothing is missing when everything is granted", async () => {
    // This test process runs with broad --allow-* flags.
    const missing = await missingPermissions(["--root", "/tmp/x"], [
      { name: "read", path: "root" },
      { name: "write", path: "root" },
      { name: "write", flag: "db" },
      { name: "ffi" },
      { name: "run", command: "git" },
    ]);
    deepEqual(missing, []);
  });
  await t.step("the message for the compiled binary says to recompile", () => {
    const line = permissionMessage("emit", ["--allow-write=/srv/x"], { standalone: true });
    match(
      line,
      /^ledger emit: missing permission --allow-write=\/srv\/x; this binary was compiled/,
    );
    match(line, /deno task compile/);
  });
  await t.step("several flags are listed on one line", () => {
    const line = permissionMessage("show", ["--allow-read=a", "--allow-ffi"], {
      task: "show",
      standalone: false,
    });
    equal(
      line,
      "ledger show: missing permissions --allow-read=a --allow-ffi; " +
        "deno task show does not grant them either: add them to a deno run command " +
        "(deno run --no-prompt --allow-read=a --allow-ffi ... cli/ledger.ts show)",
    );
  });
  await t.step("the task is offered only when it grants what is missing", () => {
    const line = permissionMessage("show", ["--allow-read=data/ledger", "--allow-ffi"], {
      task: "show",
      standalone: false,
    });
    match(line, /or use deno task show$/);
    // rebuild-index --from s3://... needs the network: its task grants it, ledger's does not.
    const s3 = permissionMessage("rebuild-index", ["--allow-net=127.0.0.1:9000"], {
      task: "rebuild-index",
      standalone: false,
    });
    match(s3, /or use deno task rebuild-index$/);
    const viaLedger = permissionMessage("rebuild-index", ["--allow-net=127.0.0.1:9000"], {
      task: "ledger",
      standalone: false,
    });
    match(viaLedger, /deno task ledger does not grant it either: add it to a deno run command/);
  });
});

Deno.test("the background refresh child gets only what rebuild-index needs", async (t) => {
  await t.step("grantFlags scopes every kind and refuses a comma", () => {
    deepEqual(
      grantFlags([...REBUILD_INDEX_NEEDS, ...LIVENESS_NEEDS], {
        root: ".",
        nodeModulesDir: "/app/node_modules",
      }),
      [
        "--allow-read=.",
        "--allow-write=.",
        "--allow-ffi=/app/node_modules",
        "--allow-run=ps",
        "--allow-sys=hostname",
      ],
    );
    throws(
      () => grantFlags(REBUILD_INDEX_NEEDS, { root: "data/x,/tmp/else" }),
      UnsafePermissionPathError,
    );
  });
  for (const root of ["data/x,/tmp/else", "/tmp/a b/'q\"", "/tmp/x --allow-all", "-A"]) {
    await t.step(`--root ${JSON.stringify(root)} reaches no permission flag`, async () => {
      const r = await refreshCommand(root);
      ok("command" in r, JSON.stringify(r));
      equal(r.cwd, root);
      const flags = r.args.filter((a) => a.startsWith("--allow-"));
      deepEqual(flags, [
        "--allow-read=.",
        "--allow-write=.",
        `--allow-ffi=${new URL("../../node_modules", import.meta.url).pathname}`,
        "--allow-run=ps",
        "--allow-sys=hostname",
      ]);
      ok(!r.args.some((a) => a.includes(root) && a !== r.args.at(-1)), r.args.join(" "));
      deepEqual(r.args.slice(-3), ["rebuild-index", "--root", "."]);
      ok(!r.args.some((a) => a === "--allow-env" || a.startsWith("--allow-env=")), "env");
    });
  }
});

/** Wait for the background refresh to publish the index of `root`. */
async function waitForIndex(root: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await exists(`${root}/index/runs.duckdb`, { isFile: true })) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

Deno.test("backtests from every entry point refresh the index; inputs outside data/ read", async (t) => {
  const tag = crypto.randomUUID().slice(0, 8);
  const outside = await Deno.makeTempDir({ prefix: "ledger_inputs_" });
  const roots: string[] = [];
  const rootFor = (name: string) => {
    const root = `data/test-${name}-${tag}`;
    roots.push(`${PROJECT_DIR}${root}`);
    return root;
  };
  try {
    const inputs = await writeFixtures(outside);
    const io = ["--calls", inputs.calls, "--candles", inputs.candles];
    await t.step("deno task backtest --calls /tmp/...: read, run, index refreshed", async () => {
      const root = rootFor("task");
      const r = await deno(["task", "backtest", "path-only", "--root", root, ...io]);
      equal(r.code, 0, r.stderr);
      ok(!r.stderr.includes("index not refreshed"), r.stderr);
      ok(await waitForIndex(`${PROJECT_DIR}${root}`, 60_000), "no index after 60 s");
    });
    await t.step("deno task ledger backtest (MIGRATION's style): index refreshed", async () => {
      const root = rootFor("ledger");
      const r = await deno(["task", "ledger", "backtest", "path-only", "--root", root]);
      equal(r.code, 0, r.stderr);
      ok(!r.stderr.includes("index not refreshed"), r.stderr);
      ok(await waitForIndex(`${PROJECT_DIR}${root}`, 60_000), "no index after 60 s");
    });
    await t.step("deno task ledger backtest --calls outside data/: names the fix", async () => {
      const root = rootFor("ledger-out");
      const r = await deno(["task", "ledger", "backtest", "path-only", "--root", root, ...io]);
      equal(r.code, 1);
      match(
        r.stderr.trim().split("\n").at(-1)!, // after deno task's own "Task ..." line
        new RegExp(
          `^ledger backtest: missing permissions? --allow-read=${inputs.calls}.*; ` +
            "use deno task backtest, which reads any input file, or add (it|them) to a deno run command",
        ),
      );
    });
    await t.step("deno run with a root holding a comma: refreshed inside that root", async () => {
      const root = `${outside}/r,${outside}/else`;
      const r = await deno([
        "run",
        "--no-prompt",
        `--allow-read`,
        `--allow-write=${outside}`,
        "--allow-env=LEDGER_ROOT",
        "--allow-ffi",
        "--allow-run=git,deno",
        "--allow-sys=hostname",
        CLI,
        "backtest",
        "path-only",
        "--root",
        root,
        ...io,
      ]);
      equal(r.code, 0, r.stderr);
      ok(await waitForIndex(root, 60_000), "no index after 60 s");
      equal(await exists(`${outside}/else`), false);
    });
  } finally {
    // Give detached refresh children time to finish before removing their roots.
    for (const root of roots) {
      await waitForIndex(root, 10_000);
      await Deno.remove(root, { recursive: true }).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
    }
    await Deno.remove(outside, { recursive: true });
  }
});
