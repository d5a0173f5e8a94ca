/**
 * A process table the indexer cannot trust is no answer: a `ps` that fails,
 * or one that lists neither pid 1 nor the indexer itself (`/proc` mounted
 * with `hidepid`, the indexer another user than the backtests). A probe:
 * the exit status of `ps` was ignored, every pid it did not list read as
 * dead, and every live run of the host as `stale` (exit 0, nothing said).
 * Now the check is skipped and says why; what was known stays.
 */
import {
  deepStrictEqual as deepEqual,
  doesNotMatch,
  match,
  strictEqual as equal,
} from "node:assert/strict";
import { join } from "node:path";
import { ev, query, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

const REPO = new URL("../..", import.meta.url).pathname;

/**
 * `ledger rebuild-index --verbose` as the tasks run it (no `/proc`: the `ps`
 * path), with `ps` the script `script` on PATH.
 */
async function rebuildWithPs(root: string, script: string) {
  const bin = join(root, "..", "bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(join(bin, "ps"), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--no-prompt", "--config", join(REPO, "deno.json")],
      ...[`--allow-read=${root},${REPO}`, `--allow-write=${root}`, "--allow-env"],
      ...["--allow-ffi", "--allow-sys=hostname", "--allow-run=ps"],
      ...[join(REPO, "cli/ledger.ts"), "rebuild-index", "--root", root, "--verbose"],
    ],
    env: { PATH: `${bin}:${Deno.env.get("PATH") ?? ""}`, LEDGER_ROOT: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("liveness: a ps that fails or hides processes skips the check, live runs stay running", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const alive = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      const now = Date.now();
      await writePart(root, "day=2026-01-20/part-1.jsonl", [
        ev("run.created", "alive", now - 10, { run_type: "x", config: {}, data_fingerprint: "" }),
        ev("run.started", "alive", now - 5, { host: Deno.hostname(), pid: alive.pid }),
      ]);
      const status = async () =>
        (await query(join(root, "index", "runs.duckdb"), "SELECT status FROM latest_runs"))
          .map((r) => r.status);
      const cases: [string, string, RegExp][] = [
        ["fails", "echo 'ps: permission denied' >&2; exit 1", /ps failed \(exit 1: ps: permission/],
        // As under hidepid: only the indexer's own processes, pid 1 not among them.
        ["hides pid 1", 'echo "  $PPID S 00:01"', /ps does not list pid 1/],
      ];
      for (const [name, script, reason] of cases) {
        await t.step(`ps ${name}`, async () => {
          const r = await rebuildWithPs(root, script);
          equal(r.code, 0, r.stderr);
          match(r.stderr, new RegExp(`pid check skipped: ${reason.source}`));
          deepEqual(await status(), ["running"]);
        });
      }
      // The system's ps (found on the default PATH) sees the live process: the check runs.
      const real = await rebuildWithPs(root, 'PATH=/usr/bin:/bin exec ps "$@"');
      equal(real.code, 0, real.stderr);
      doesNotMatch(real.stderr, /pid check skipped/);
      deepEqual(await status(), ["running"]);
    } finally {
      alive.kill("SIGKILL");
      await alive.status;
    }
  });
});
