import assert from "node:assert/strict";
import { EventEmitter } from "../../ledger/emitter.ts";
import { completeEvent, EVENT_TYPES, type LedgerEvent } from "../../ledger/events.ts";
import { readLog } from "../../ledger/reader.ts";
import { registryJsonSchema } from "../../ledger/registry.ts";
import { withTempDir } from "./_helpers.ts";

Deno.test("annotation event types (SPEC 11): registered, validated, emitted", async (t) => {
  await t.step("the registry and _schema.json know all four", () => {
    for (const type of ["run.tagged", "run.noted", "run.archived", "run.restored"]) {
      assert.ok(EVENT_TYPES.includes(type as never), type);
      const defs = (registryJsonSchema() as { $defs: Record<string, unknown> }).$defs;
      assert.ok(`${type}@v1` in defs, `${type} in the JSON Schema export`);
    }
  });

  await t.step("field rules", () => {
    const ok = completeEvent({
      event_type: "run.tagged",
      run_id: "r",
      tags: { label: "a", x: "" },
    });
    assert.deepEqual((ok as Record<string, unknown>).tags, { label: "a", x: "" });
    assert.throws(
      () => completeEvent({ event_type: "run.tagged", run_id: "r", tags: { n: 1 } }),
      /run\.tagged: tags\.n must be a string, got 1/,
    );
    assert.throws(
      () => completeEvent({ event_type: "run.tagged", run_id: "r" }),
      /run\.tagged: tags is required/,
    );
    assert.throws(
      () => completeEvent({ event_type: "run.noted", run_id: "r", note: 3 }),
      /run\.noted: note must be a string, got 3/,
    );
    completeEvent({ event_type: "run.archived", run_id: "r" });
    completeEvent({ event_type: "run.archived", run_id: "r", reason: "dup" });
    assert.throws(
      () => completeEvent({ event_type: "run.archived", run_id: "r", reason: false }),
      /run\.archived: reason must be a string, got false/,
    );
    completeEvent({ event_type: "run.restored", run_id: "r" });
  });

  await t.step("emitter methods write them", async () => {
    await withTempDir(async (root) => {
      const emitter = new EventEmitter({ root });
      const ids = [
        await emitter.runTagged("r1", { tags: { label: "best" } }),
        await emitter.runNoted("r1", { note: "looks good" }),
        await emitter.runArchived("r1", { reason: "superseded" }),
        await emitter.runArchived("r1"),
        await emitter.runRestored("r1"),
      ];
      await emitter.close();
      const logged: LedgerEvent[] = [];
      for await (const r of readLog(root)) if (r.kind === "event") logged.push(r.event);
      assert.deepEqual(logged.map((e) => e.event_id), ids);
      assert.deepEqual(logged.map((e) => e.event_type), [
        "run.tagged",
        "run.noted",
        "run.archived",
        "run.archived",
        "run.restored",
      ]);
      assert.equal((logged[2] as Record<string, unknown>).reason, "superseded");
      assert.equal(emitter.stats().failed, 0);
    });
  });
});
