/**
 * A `--root` that is the `events/`, `index/` or `artifacts/` folder of a
 * ledger root is refused (exit 2, one line naming the root to give), and
 * nothing is written. A bad-input probe: `backtest --root ROOT/events` ran
 * and completed into `ROOT/events/events/` and `ROOT/events/artifacts/`,
 * inside the log, where no reader sees it; `verify` still said sound.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";
import { REPO_ROOT } from "../_helpers.ts";

Deno.test("a root's events/, index/ or artifacts/ folder is not a root", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const emitted = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "r1"],
      ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(emitted.code, 0, emitted.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    await Deno.mkdir(join(root, "artifacts"), { recursive: true });
    const before = await hashTree(root);
    const sample = join(REPO_ROOT, "data", "sample");
    for (const part of ["events", "index", "artifacts"]) {
      const inner = join(root, part);
      for (
        const args of [
          ["emit", "--event-type", "run.noted", "--run-id", "r1", "--note", "x"],
          ["runs"],
          ["rebuild-index"],
          [
            ...["backtest", "path-only", "--no-index", "--calls", join(sample, "calls.csv")],
            ...["--candles", join(sample, "candles_1m.parquet")],
          ],
        ]
      ) {
        const r = await runLedger([...args, "--root", inner]);
        assert.equal(r.code, 2, `${args[0]} --root ${part}/: ${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        assert.ok(
          lines[0].endsWith(
            `--root ${inner} is the ${part}/ folder of the ledger root ${root}, not a root: ` +
              `give --root ${root}`,
          ),
          lines[0],
        );
      }
    }
    // A folder under one of them, and a link to one (a review: only the last name was looked
    // at, so these took writes no reader sees).
    const link = join(dir, "link");
    await Deno.symlink(join(root, "events"), link);
    const day = join(root, "events", "day=2026-12-02");
    for (
      const [given, what] of [
        [day, "inside the events/ folder"],
        [join(day, "new", "deeper"), "inside the events/ folder"],
        [link, "the events/ folder"],
        [join(link, "day=2026-12-02"), "inside the events/ folder"],
      ]
    ) {
      const r = await runLedger([
        ...["emit", "--root", given, "--event-type", "run.created", "--run-id", "rz"],
        ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
      ]);
      assert.equal(r.code, 2, `${given}: ${r.stderr}`);
      assert.equal(
        r.stderr.trim(),
        `ledger emit: --root ${given} is ${what} of the ledger root ${root}, not a root: ` +
          `give --root ${root}`,
      );
    }
    // A root through a loop of links: one line, not the system's words.
    await Deno.symlink(join(dir, "loop-b"), join(dir, "loop-a"));
    await Deno.symlink(join(dir, "loop-a"), join(dir, "loop-b"));
    const loop = await runLedger(["runs", "--root", join(dir, "loop-a")]);
    assert.equal(loop.code, 2, loop.stderr);
    assert.equal(
      loop.stderr.trim(),
      `ledger runs: --root ${join(dir, "loop-a")} is a loop of symbolic links`,
    );
    assert.equal(await hashTree(root), before, "nothing written");
    // The root itself, and a root of its own named events (no log above it), are roots.
    assert.equal((await runLedger(["runs", "--root", root])).code, 0);
    const named = join(dir, "events");
    const own = await runLedger([
      ...["emit", "--root", named, "--event-type", "run.created", "--run-id", "r2"],
      ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(own.code, 0, own.stderr);
    const again = await runLedger(["rebuild-index", "--root", named]); // its log: events/events/
    assert.equal(again.code, 0, again.stderr);
  });
});
