/**
 * A day folder, `events/` or a part the daemon may not read (a folder made
 * `chmod 000` by another user's job): a probe had the daemon exit 1 with
 * "Permission denied (os error 13): readdir ...", so nothing more was
 * indexed, and under the documented systemd unit (`Restart=on-failure`) it
 * failed again every 5 s. It now says it once, serves the index as it is,
 * and indexes again once it may read.
 *
 * Root reads any folder: as root the daemon runs under `setpriv` without
 * the capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLI_PATH,
  delay,
  denoScriptArgs,
  eventually,
  runCreatedArgs,
  runLedger,
  withTempDir,
} from "../_helpers.ts";
import { type DaemonChild, startDaemon } from "./_daemon_log.ts";

/** 2026-01-20T09:00:00Z: a day of its own, older than today. */
const OLD_MS = Date.UTC(2026, 0, 20, 9);
const OLD_DAY = "day=2026-01-20";

const IS_ROOT = Deno.uid() === 0;

/** Whether `setpriv` (util-linux) is here to run a command without root's read override. */
async function hasSetpriv(): Promise<boolean> {
  try {
    return (await new Deno.Command("setpriv", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

const CANNOT_DROP = IS_ROOT && !(await hasSetpriv());
if (CANNOT_DROP) {
  console.error(
    "daemon_unreadable_test: ignored: running as root, and no setpriv to drop its reads",
  );
}

/**
 * `ledger daemon` on `root` (every 0.2 s, JSON log), unable to read or
 * write a folder its mode refuses: as root, without the capabilities that
 * let root do so anyway.
 */
function startRefusableDaemon(root: string): DaemonChild {
  const deno = [
    Deno.execPath(),
    ...denoScriptArgs(CLI_PATH, ["daemon", "--root", root, "--interval", "0.2", "--log-json"]),
  ];
  if (!IS_ROOT) return startDaemon(deno[0], deno.slice(1));
  const caps = "-dac_override,-dac_read_search";
  return startDaemon("setpriv", ["--bounding-set", caps, "--inh-caps", caps, ...deno]);
}

Deno.test({
  name: "the daemon says once that a day is unreadable, keeps the index, and goes on",
  ignore: CANNOT_DROP,
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const old = await runLedger(runCreatedArgs(root, "old-1", ["--timestamp-ms", `${OLD_MS}`]));
      assert.equal(old.code, 0, old.stderr);
      assert.equal((await runLedger(runCreatedArgs(root, "new-1"))).code, 0);
      const day = join(root, "events", OLD_DAY);
      const daemon = startRefusableDaemon(root);
      const entries = daemon.entries;
      const runIds = async () => {
        const r = await runLedger(["runs", "--json", "--root", root]);
        assert.equal(r.code, 0, r.stderr);
        return (JSON.parse(r.stdout) as { run_id: string }[]).map((x) => x.run_id).sort();
      };
      try {
        await eventually(
          () => entries().some((e) => e.msg.startsWith("rebuild full")),
          "the first rebuild",
        );
        await Deno.chmod(day, 0o000);
        assert.equal((await runLedger(runCreatedArgs(root, "new-2"))).code, 0);
        await eventually(() => entries().some((e) => e.level === "error"), "the refusal logged");
        await delay(1500); // several intervals
        const errors = entries().filter((e) => e.level === "error");
        assert.equal(errors.length, 1, daemon.text());
        assert.match(errors[0].msg, /Permission denied .*day=2026-01-20/);
        assert.deepEqual(await runIds(), ["new-1", "old-1"], "the index served as it was");
        await Deno.chmod(day, 0o755);
        await eventually(
          async () => (await runIds()).includes("new-2"),
          "the daemon indexes again once it may read the day",
        );
        // Each outage is said (a review: one ended with nothing new to index, the next was said
        // at debug only, as the first one's repeat).
        const said = (n: number) => () => entries().filter((e) => e.level === "error").length === n;
        await Deno.chmod(day, 0o000);
        await eventually(said(2), "the second outage said");
        await Deno.chmod(day, 0o755);
        await delay(600); // checks that find the log as indexed
        await Deno.chmod(day, 0o000);
        assert.equal((await runLedger(runCreatedArgs(root, "new-3"))).code, 0);
        await eventually(said(3), "the third outage said");
      } finally {
        await Deno.chmod(day, 0o755);
        const stopped = await daemon.stop();
        assert.equal(stopped.code, 0, `${stopped.stderr}\n${daemon.text()}`);
      }
    });
  },
});

// A review: a rebuild refused by a folder it may not write (index/ made read-only) was recorded
// as seen, like an unreadable day, so with the folder writable again the daemon never rebuilt:
// the run emitted meanwhile stayed out of the index.
Deno.test({
  name: "the daemon tries again once it may write its index/ again, and says the refusal once",
  ignore: CANNOT_DROP,
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      assert.equal((await runLedger(runCreatedArgs(root, "new-1"))).code, 0);
      const daemon = startRefusableDaemon(root);
      const entries = daemon.entries;
      const index = join(root, "index");
      try {
        await eventually(
          () => entries().some((e) => e.msg.startsWith("rebuild full")),
          "the first rebuild",
        );
        await Deno.chmod(index, 0o555);
        assert.equal((await runLedger(runCreatedArgs(root, "new-2"))).code, 0);
        await eventually(() => entries().some((e) => e.level === "error"), "the refusal logged");
        await delay(1500); // several intervals, each tried again
        const errors = entries().filter((e) => e.level === "error");
        assert.equal(errors.length, 1, daemon.text());
        assert.match(errors[0].msg, /Permission denied/);
        await Deno.chmod(index, 0o755);
        await eventually(async () => {
          const r = await runLedger(["runs", "--json", "--root", root]);
          return r.code === 0 &&
            (JSON.parse(r.stdout) as { run_id: string }[]).some((x) => x.run_id === "new-2");
        }, "the daemon indexes once it may write again");
      } finally {
        await Deno.chmod(index, 0o755);
        const stopped = await daemon.stop();
        assert.equal(stopped.code, 0, `${stopped.stderr}\n${daemon.text()}`);
      }
    });
  },
});
