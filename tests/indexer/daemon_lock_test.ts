/**
 * The daemon's locks, from an ops audit: with `index/` deleted under a
 * running daemon, its lock file was gone and a second daemon started beside
 * it (each rebuilding on the other's publish, forever); and a daemon whose
 * rebuild waited for another process's rebuild lock ignored its stop until
 * that lock was free (under systemd, SIGKILL).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  acquireDaemonLock,
  type DaemonLock,
  DaemonLockedError,
  keepDaemonLock,
  runDaemon,
} from "../../indexer/daemon.ts";
import { fullRun, T0, writePart } from "./_fixtures.ts";
import { eventually, withTempDir } from "../_helpers.ts";

/** How long a daemon test waits for the daemon to reach a state, in milliseconds. */
const DAEMON_WAIT_MS_MAX = 20_000;

async function present(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("daemon: takes its lock again when index/ is deleted, so no second daemon starts", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));
    const stop = new AbortController();
    const logged: string[] = [];
    const running = runDaemon(root, {
      intervalMs: 50,
      signal: stop.signal,
      log: (e) => logged.push(`${e.level} ${e.msg}`),
    });
    try {
      const index = join(root, "index", "runs.duckdb");
      await eventually(() => present(index), "the first rebuild", DAEMON_WAIT_MS_MAX);
      await Deno.remove(join(root, "index"), { recursive: true });
      await eventually(
        () => logged.some((l) => /took it again/.test(l)),
        "the lock taken again",
        DAEMON_WAIT_MS_MAX,
      );
      await assert.rejects(acquireDaemonLock(root), DaemonLockedError);
    } finally {
      stop.abort();
      await running;
    }
  });
});

Deno.test("daemon: a stop ends a wait for another process's rebuild lock", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));
    await Deno.mkdir(join(root, "index"), { recursive: true });
    using held = await Deno.open(join(root, "index", ".runs.duckdb.rebuild.lock"), {
      read: true,
      write: true,
      create: true,
    });
    await held.lock(true); // another rebuild, stopped
    const stop = new AbortController();
    const logged: string[] = [];
    const running = runDaemon(root, {
      intervalMs: 50,
      signal: stop.signal,
      log: (e) => logged.push(`${e.level} ${e.msg}`),
    });
    await eventually(
      () => logged.some((l) => /waiting for another rebuild/.test(l)),
      "the wait said",
      DAEMON_WAIT_MS_MAX,
    );
    const stoppedAt = performance.now();
    stop.abort();
    const summary = await running;
    assert.ok(performance.now() - stoppedAt < 2_000, "stopped without the lock");
    assert.equal(summary.failures, 0, logged.join("\n"));
    // A probe: "stopped after 1 checks, 1 rebuilds": the one it waited for, and never ran.
    assert.equal(summary.rebuilds, 0, logged.join("\n"));
    held.unlockSync();
  });
});

Deno.test("daemon: a root gone under it is said once, and a root back is indexed", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));
    const stop = new AbortController();
    const logged: string[] = [];
    const running = runDaemon(root, {
      intervalMs: 40,
      signal: stop.signal,
      log: (e) => logged.push(`${e.level} ${e.msg}`),
    });
    try {
      await eventually(
        () => logged.some((l) => /^info /.test(l)),
        "the first rebuild",
        DAEMON_WAIT_MS_MAX,
      );
      await Deno.rename(root, join(dir, "away"));
      await eventually(
        () => logged.some((l) => /^error /.test(l)),
        "the failure said",
        DAEMON_WAIT_MS_MAX,
      );
      await new Promise((resolve) => setTimeout(resolve, 600)); // about 15 more checks
      assert.equal(logged.filter((l) => /^error /.test(l)).length, 1, logged.join("\n"));
      await Deno.rename(join(dir, "away"), root);
      await writePart(root, "day=2026-01-21/part-000001.jsonl", fullRun("run-2", T0 + 86_400_000));
      await eventually(
        () => logged.filter((l) => /^info /.test(l)).length >= 2,
        "the root indexed again",
        DAEMON_WAIT_MS_MAX,
      );
    } finally {
      stop.abort();
      await running;
    }
  });
});

/**
 * Run `body` with a root (`dir/ledger`) whose daemon lock this process
 * holds, the path `dir/away` free for renames, and the lock released after.
 */
async function withHeldRoot(
  body: (root: string, away: string, lock: DaemonLock) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await Deno.mkdir(root);
    const lock = await acquireDaemonLock(root);
    try {
      await body(root, join(dir, "away"), lock);
    } finally {
      lock.release();
    }
  });
}

/**
 * `lock` with hooks run before its checks: what renames of the root happen
 * exactly between the steps of {@linkcode keepDaemonLock}.
 */
function withHooks(
  lock: DaemonLock,
  hooks: {
    beforeStillHeld?: (call: number) => Promise<void>;
    afterStillHeld?: (held: boolean, call: number) => Promise<void>;
    beforeHolds?: () => Promise<void>;
  },
): DaemonLock {
  let calls = 0;
  return {
    release: () => lock.release(),
    async stillHeld() {
      const call = ++calls;
      await hooks.beforeStillHeld?.(call);
      const held = await lock.stillHeld();
      await hooks.afterStillHeld?.(held, call);
      return held;
    },
    async holds(info) {
      await hooks.beforeHolds?.();
      return await lock.holds(info);
    },
  };
}

// A CI run (2026-12-01, 470dc4f) had the test above fail with the daemon refusing its own lock:
// its check saw the lock file gone (the root renamed away), the root came back before it took the
// file again, and that file's lock (its own, on another descriptor) refused it. The root's return
// is put exactly there: after the check that sees the file gone; and (a review of the first fix,
// which checked the path again after the refusal) the root's leaving again after the open.
Deno.test("daemon: a root back between the lock's check and its retake keeps the lock", async (t) => {
  for (const awayAgain of [false, true]) {
    await t.step(awayAgain ? "and away again after the open" : "back once", async () => {
      await withHeldRoot(async (root, away, lock) => {
        await Deno.rename(root, away);
        // Away again after the open: before the identity check (or before a second look at
        // the path, as the first fix took).
        const leave = () => Deno.rename(root, away);
        const racing = withHooks(lock, {
          async afterStillHeld(held, call) {
            if (call > 1) return;
            assert.equal(held, false, "the root is away: its lock file is not there");
            await Deno.rename(away, root);
          },
          beforeStillHeld: awayAgain ? (call) => call > 1 ? leave() : Promise.resolve() : undefined,
          beforeHolds: awayAgain ? leave : undefined,
        });
        assert.equal(await keepDaemonLock(root, racing), racing);
        if (awayAgain) await Deno.rename(away, root);
        // Still held by this lock: another daemon is refused.
        await assert.rejects(acquireDaemonLock(root), DaemonLockedError);
      });
    });
  }
});

// A review: the retake made the root's index/ with its parents, so a root renamed away just before
// it was made again, empty but for its lock, and the operator's rename back failed.
Deno.test("daemon: a root gone keeps the lock and is not made again", async () => {
  await withHeldRoot(async (root, away, lock) => {
    await Deno.remove(join(root, "index"), { recursive: true }); // the lock must be taken again
    const racing = withHooks(lock, {
      afterStillHeld: async (held) => {
        assert.equal(held, false);
        await Deno.rename(root, away); // the root leaves before the retake
      },
    });
    assert.equal(await keepDaemonLock(root, racing), racing);
    assert.equal(await present(root), false, "no root made where the operator's one was");
    await Deno.rename(away, root); // the operator's rename back
  });
});

// The bucket daemon makes its root anyway (mirror and index): a review had a second daemon take
// the root it made, between that pass and the next one's check.
Deno.test("daemon: createRoot makes a root deleted whole again, with its lock", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "reader");
    const lock = await acquireDaemonLock(root);
    await Deno.remove(root, { recursive: true });
    const again = await keepDaemonLock(root, lock, { createRoot: true });
    try {
      assert.notEqual(again, lock);
      assert.equal(await present(join(root, "index", "daemon.lock")), true);
      await assert.rejects(acquireDaemonLock(root), DaemonLockedError);
    } finally {
      again.release(); // keepDaemonLock released the old lock
    }
  });
});

Deno.test("daemon: another daemon on the new lock file is refused, the old lock kept", async () => {
  await withTempDir(async (root) => {
    const lock = await acquireDaemonLock(root);
    try {
      await Deno.remove(join(root, "index"), { recursive: true });
      const other = await acquireDaemonLock(root); // a second daemon took the new file
      try {
        await assert.rejects(keepDaemonLock(root, lock), DaemonLockedError);
      } finally {
        other.release();
      }
    } finally {
      lock.release();
    }
  });
});
