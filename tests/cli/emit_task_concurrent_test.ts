/**
 * `deno task emit` run by many processes at once prints no line of Deno's
 * own on stderr (a probe: 27 of about 550 emits of two shell loops printed Deno's own
 * "Blocking waiting for file lock on node_modules directory" and exited 0,
 * which a script reading stderr as failure misreads). The bundle needs no
 * npm package, so the task runs it with `--no-config`: Deno then never
 * takes the lock `"nodeModulesDir": "auto"` guards node_modules with
 * (measured: 40 emits at once, 18 such lines before, 0 after). The task
 * line itself is run, from the repository (where deno.json is found).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CONFIG_PATH, REPO_ROOT } from "../_helpers.ts";

/** Emits started at once. */
const EMITS = 30;

Deno.test("deno task emit: many at once, each prints its id and no line of Deno's", async () => {
  const task = JSON.parse(await Deno.readTextFile(CONFIG_PATH)).tasks.emit as string;
  assert.match(task, /^deno run --no-config /);
  const args = task.split(" ").slice(1); // after "deno"
  // Under data/, which the task may write: a folder of this test's own.
  const name = `.test-emit-task-${crypto.randomUUID().slice(0, 8)}`;
  const root = join("data", name);
  try {
    const results = await Promise.all(
      Array.from({ length: EMITS }, (_, i) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            ...args,
            ...["--root", root, "--event-type", "run.created", "--run-id", `c${i}`],
            ...["--run-type", "t", "--config", "{}", "--data-fingerprint", "f"],
          ],
          cwd: REPO_ROOT,
          env: { LEDGER_ROOT: "" },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output()),
    );
    for (const [i, r] of results.entries()) {
      const stderr = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, `emit ${i}: ${stderr}`);
      // Only ledger's own lines (a wait for the run-id lock is said after 2 s): none of Deno's.
      const foreign = stderr.split("\n").filter((l) => l !== "" && !l.startsWith("ledger emit: "));
      assert.deepEqual(foreign, [], `emit ${i}`);
      assert.match(new TextDecoder().decode(r.stdout), /^[0-9a-f-]{36}\n$/);
    }
  } finally {
    await Deno.remove(join(REPO_ROOT, root), { recursive: true });
  }
});
