import assert from "node:assert/strict";
import { join } from "node:path";
import { listParts, readPartFile } from "../../ledger/reader.ts";
import { denoDir } from "../../scripts/compile.ts";
import { denoRunArgs, REPO_ROOT, runDeno, withTempDir } from "./_helpers.ts";

const CHILD = new URL("./_efbig_child.ts", import.meta.url).pathname;
const ROLLBACK_CHILD = new URL("./_rollback_child.ts", import.meta.url).pathname;
/** File size limit of the child (`ulimit -f`, 1 KiB blocks): 2 MiB. */
const FILE_BLOCKS_MAX = 2048;

function quote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Whether bash runs here (it sets the child's file size limit with `ulimit -f`). */
async function bashMissing(): Promise<boolean> {
  try {
    await new Deno.Command("bash", { args: ["-c", "true"], stdout: "null", stderr: "null" })
      .output();
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
}

const BASH_MISSING = await bashMissing();
if (BASH_MISSING) console.log("ignored: EFBIG test: bash is not installed (needed for ulimit -f)");

/**
 * Run `deno run ARGS` under a file size limit of {@linkcode FILE_BLOCKS_MAX}
 * (`ulimit -f`), with `SIGXFSZ` ignored from the start (a disposition kept
 * through `exec`), a `DENO_DIR` of its own (Deno's npm packages linked in) and
 * no V8 code cache. Deno writes its own SQLite caches, and at exit checkpoints
 * them: in the shared `DENO_DIR` they are 7-25 MiB, so a page past the limit
 * raised `SIGXFSZ` after the child's last line, when the runtime had dropped
 * the writer's listener and Deno re-raised the signal with its default action
 * (exit 153 after a complete report: in CI on 5 December, and 37 of 60 runs of
 * the relaxed child on a loaded machine; 0 of 20 with this folder). Before the
 * first line, the same pages killed the child while the signal was unhandled
 * (4 December, hence the ignored disposition). The writer's own handler is
 * tested apart, without a limit ("survives SIGXFSZ").
 */
async function underFileLimit(args: readonly string[]): Promise<Deno.CommandOutput> {
  const [run, ...rest] = args;
  const command = [Deno.execPath(), run, "--no-code-cache", ...rest].map(quote).join(" ");
  const ownDenoDir = await Deno.makeTempDir({ prefix: "ledger-efbig-deno-" });
  try {
    await Deno.symlink(join(await denoDir(), "npm"), join(ownDenoDir, "npm"));
    return await new Deno.Command("bash", {
      args: ["-c", `trap '' XFSZ; ulimit -f ${FILE_BLOCKS_MAX} && exec ${command}`],
      cwd: REPO_ROOT,
      env: { DENO_DIR: ownDenoDir },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(ownDenoDir, { recursive: true });
  }
}

Deno.test({
  name:
    "writer: a failed write (EFBIG) is a WriteError, unacknowledged, rolled back, and the next write starts a new part",
  ignore: BASH_MISSING,
}, async () => {
  await withTempDir(async (root) => {
    const out = await underFileLimit(denoRunArgs(CHILD, [root]));
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.failure?.name, "WriteError");
    assert.match(report.failure.message, /File too large/);

    const parts = await listParts(root);
    assert.equal(parts.length, 2, "the failed part was abandoned for a new one");
    assert.equal(report.failure.path, parts[0].path, "the error names the file");
    const present = new Set<string>();
    const kinds: string[][] = [];
    for (const part of parts) {
      const fileKinds: string[] = [];
      for await (const record of readPartFile(part.path)) {
        fileKinds.push(record.kind);
        if (record.kind === "event") present.add(record.event.event_id);
      }
      kinds.push(fileKinds);
    }
    for (const id of report.acked) assert.ok(present.has(id), `acknowledged ${id} is in the log`);
    assert.equal(present.size, report.acked.length, "the failed event was not acknowledged");
    assert.ok(kinds[0].length > 0);
    assert.ok(
      kinds[0].every((k) => k === "event"),
      "the partial write was rolled back: no torn tail, nothing after it",
    );
    assert.deepEqual(kinds[1], ["event"]);
  });
});

Deno.test({
  name:
    "writer: a batch failing on its second day rolls back its first day too, and later writes stay clean",
  ignore: BASH_MISSING,
}, async () => {
  await withTempDir(async (root) => {
    const out = await underFileLimit(denoRunArgs(ROLLBACK_CHILD, [root]));
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.failures, 2, "both oversized batches failed");
    const present: string[] = [];
    for (const part of await listParts(root)) {
      const bytes = await Deno.readFile(part.path);
      assert.ok(!bytes.includes(0), `${part.path} holds NUL bytes (a rollback extended it)`);
      for await (const record of readPartFile(part.path)) {
        assert.equal(record.kind, "event", `${part.path}:${record.line} is ${record.kind}`);
        if (record.kind === "event") present.push(record.event.event_id);
      }
    }
    assert.deepEqual(
      present.sort(),
      [...report.acked].sort(),
      "the log holds exactly the acked events",
    );
  });
});

const LOST_CHILD = new URL("./_relaxed_lost_child.ts", import.meta.url).pathname;

Deno.test({
  name:
    "emitter, relaxed: a failed group commit is counted per event lost, the next event is written",
  ignore: BASH_MISSING,
}, async () => {
  // An audit: past `ulimit -f` the kernel's SIGXFSZ killed the backtest (exit 153: the last
  // test shows the writer handles it now); on a full disk the lost buffered events counted as
  // one failure, and the next event, whose own write was fine, was dropped for the earlier error.
  await withTempDir(async (root) => {
    const out = await underFileLimit(denoRunArgs(LOST_CHILD, [root]));
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.acked.filter((id: string | null) => id !== null).length, 15);
    assert.equal(typeof report.after, "string", "the event after the failure was appended");
    const appends = `the 15 appends took ${report.appendsMs} ms (one group within 1 s)`;
    assert.equal(report.stats.emitted, 1, appends);
    assert.equal(report.stats.failed, 15, `each lost event is a failure; ${appends}`);
    assert.match(
      report.stats.lastError,
      /^15 events acknowledged in relaxed mode were not written/,
    );
    assert.equal(report.logged.length, 1, report.logged.join("\n"));
    const present: string[] = [];
    for (const part of await listParts(root)) {
      for await (const record of readPartFile(part.path)) {
        assert.equal(record.kind, "event", "rolled back: no torn tail");
        if (record.kind === "event") present.push(record.event.event_id);
      }
    }
    assert.deepEqual(present, [report.after]);
  });
});

const SIGNAL_CHILD = new URL("./_file_size_signal_child.ts", import.meta.url).pathname;

Deno.test("emitter: a process whose writer is open survives SIGXFSZ (the writer handles it)", async () => {
  // No file size limit here, so Deno's own cache writes cannot raise the signal: the child
  // sends it to itself once its emitter wrote a line, then says it is alive.
  await withTempDir(async (root) => {
    const [run, ...rest] = denoRunArgs(SIGNAL_CHILD, [root]);
    const out = await runDeno([run, "--allow-run", ...rest]); // Deno.kill
    // 153 = 128 + 25: the child died of SIGXFSZ.
    assert.equal(out.code, 0, `exit ${out.code}: ${out.stderr}`);
    assert.equal(out.stdout, "alive after SIGXFSZ\n");
  });
});
