/**
 * What a black-box audit of SPEC 3-8 found in `ledger emit`: an `event_id`
 * the caller gave that the log holds for another event was acknowledged
 * (exit 0) and never indexed; a flag of another type's field was written
 * unchecked as an extra field; a missing `--run-id` exited 1 while a missing
 * `--event-type` exited 2. Each is a usage error (exit 2) that writes nothing.
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";
import { TYPE_FLAG_TYPES, TYPES_WITHOUT_FLAGS } from "../../cli/emit.ts";
import { EVENT_FIELD_RULES } from "../../ledger/field_rules.ts";

Deno.test("emit's type flags belong to the types ledger/field_rules.ts gives their fields", () => {
  // The table is written out in cli/emit.ts (a cold emit loads no more modules): held here.
  const fromRules = new Map<string, string[]>();
  for (const [type, rules] of Object.entries(EVENT_FIELD_RULES)) {
    for (const r of rules) {
      const flag = r.field.replaceAll("_", "-");
      fromRules.set(flag, [...(fromRules.get(flag) ?? []), type]);
    }
  }
  for (const [flag, types] of fromRules) {
    deepEqual([...(TYPE_FLAG_TYPES[flag] ?? [])].sort(), [...types].sort(), `--${flag}`);
  }
  const typed = Object.entries(TYPE_FLAG_TYPES).filter(([, t]) => t !== undefined);
  deepEqual(typed.map(([flag]) => flag).sort(), [...fromRules.keys()].sort());
  deepEqual(
    Object.keys(EVENT_FIELD_RULES).filter((t) => EVENT_FIELD_RULES[t].length === 0),
    [...TYPES_WITHOUT_FLAGS],
  );
});

Deno.test("emit: given ids, type flags and required flags", async (t) => {
  await withTempDir(async (root) => {
    const emit = (args: string[], stdin?: string) =>
      runLedger(["emit", "--root", root, ...args], stdin === undefined ? {} : { stdin });
    const failed = JSON.stringify({
      event_type: "run.failed",
      run_id: "a",
      event_id: "X1",
      error: { message: "m" },
    });
    equal((await emit(["--event", failed])).code, 0);

    await t.step("the same event again (a retry) is accepted", async () => {
      const r = await emit(["--event", failed]);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "X1\n");
      // With an integer past 2^53: the log's copy is read exact, so it is the same event.
      const seeded = '{"event_type":"run.created","run_id":"s","event_id":"Z1",' +
        '"run_type":"t","config":{"seed":12345678901234567891},"data_fingerprint":"f"}';
      equal((await emit(["--event", seeded])).code, 0);
      const again = await emit(["--event", seeded, "--allow-existing"]);
      equal(again.code, 0, again.stderr);
    });

    await t.step("an id the log holds for another event is refused", async () => {
      const before = await hashTree(root);
      const other = JSON.stringify({
        event_type: "run.completed",
        run_id: "b",
        event_id: "X1",
        summary: {},
        artifact_paths: {},
      });
      const r = await emit(["--event", other]);
      equal(r.code, 2);
      match(
        r.stderr,
        /event_id "X1" is already in the log \(day=.*\) for another event \(run\.failed of run "a"\)/,
      );
      const batch = [
        JSON.stringify({ event_type: "run.started", run_id: "c", event_id: "Y1" }),
        JSON.stringify({ event_type: "run.started", run_id: "d", event_id: "Y1" }),
      ].join("\n") + "\n";
      const b = await emit(["--stdin"], batch);
      equal(b.code, 2);
      match(b.stderr, /event_id "Y1" is given to two different events in this batch/);
      deepEqual(await hashTree(root), before, "nothing written");
    });

    await t.step("a flag of another type's field is a usage error naming it", async () => {
      const before = await hashTree(root);
      const r = await emit([
        ...["--event-type", "run.completed", "--run-id", "a", "--summary", "{}"],
        ...["--artifact-paths", "{}", "--phase-order", "abc"],
      ]);
      equal(r.code, 2);
      match(
        r.stderr,
        /--phase-order is not a field of run\.completed \(its type flags: --summary, --artifact-paths\)/,
      );
      const missing = await emit(["--event-type", "run.started"]);
      equal(missing.code, 2);
      match(missing.stderr, /missing --run-id/);
      deepEqual(await hashTree(root), before, "nothing written");
      // run.started's optional host and pid, and the envelope flags, stay accepted.
      const ok = await emit([
        ...["--event-type", "run.started", "--run-id", "a", "--host", "h", "--pid", "7"],
        ...["--timestamp-ms", "1767225600000"],
      ]);
      equal(ok.code, 0, ok.stderr);
    });
  });
});
