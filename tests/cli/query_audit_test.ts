/**
 * What a black-box audit of the query surface against its own oracle found
 * (2026-11-30), each checked through the real CLI: an annotation after one
 * dated ahead of this clock takes effect; a run that completed and then
 * failed ran until it failed; `= true` matches a stored boolean only;
 * repeated `--sort` flags are one list of keys; `export` keeps a string
 * that is not a JSON number as written (a zero-padded id).
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { logText, runLedger, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 1);

function line(event: Record<string, unknown>): string {
  return JSON.stringify(event);
}

Deno.test("query audit: annotations, duration, booleans, repeated --sort, export text", async (t) => {
  await withTempDir(async (root) => {
    const future = Date.now() + 2 * 86_400_000; // another machine's clock, two days ahead
    const events = [
      {
        event_type: "run.created",
        run_id: "fut",
        run_type: "s",
        config: {},
        data_fingerprint: "f",
      },
      { event_type: "run.tagged", run_id: "fut", tags: { label: "old" }, timestamp_ms: future },
      { event_type: "run.archived", run_id: "fut", timestamp_ms: future },
      ...[
        ["b1", true, 10, 10],
        ["b2", "true", "10", "0010"],
        ["b3", false, 9, "9"],
      ].map(([run_id, flag, v, id], i) => ({
        event_type: "run.created",
        run_id,
        run_type: "b",
        config: { flag, v, id },
        data_fingerprint: "f",
        timestamp_ms: T0 + i * 1000,
      })),
      {
        event_type: "run.created",
        run_id: "cf",
        run_type: "w",
        config: {},
        data_fingerprint: "f",
        timestamp_ms: T0 + 10_000,
      },
      { event_type: "run.started", run_id: "cf", timestamp_ms: T0 + 11_000 },
      {
        event_type: "run.completed",
        run_id: "cf",
        summary: {},
        artifact_paths: {},
        timestamp_ms: T0 + 21_000,
      },
      {
        event_type: "run.failed",
        run_id: "cf",
        error: { message: "late" },
        timestamp_ms: T0 + 41_000,
      },
    ];
    const emitted = await runLedger(
      ["emit", "--root", root, "--stdin"],
      { stdin: events.map(line).join("\n") + "\n" },
    );
    equal(emitted.code, 0, emitted.stderr);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ledger = (...args: string[]) => runLedger([...args, "--root", root]);
    const rows = async (...args: string[]) => {
      const r = await ledger(...args, "--format", "jsonl");
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    };

    await t.step("tag and restore after an annotation dated ahead take effect", async () => {
      const tagged = await ledger("tag", "fut", "label=new");
      equal(tagged.code, 0, tagged.stderr);
      match(tagged.stderr, /dated .* after this machine's clock/);
      const restored = await ledger("restore", "fut");
      equal(restored.code, 0, restored.stderr);
      const [run] = await rows("runs", "--all", "--where", "run_id = 'fut'");
      deepEqual([run.label, run.archived], ["new", false]);
    });

    await t.step(
      "an annotation dated ahead, in the log and not yet indexed, is followed",
      async () => {
        // A probe: the state was read from the index before it was refreshed, so a tag another
        // machine dated ahead, not yet indexed, won over the new one, which said "tagged".
        const ahead = Date.now() + 3_600_000;
        const other = await runLedger(["emit", "--root", root, "--stdin"], {
          stdin: line({
            event_type: "run.tagged",
            run_id: "cf",
            tags: { owner: "other" },
            timestamp_ms: ahead,
          }) + "\n",
        });
        equal(other.code, 0, other.stderr);
        const tagged = await ledger("tag", "cf", "owner=me");
        equal(tagged.code, 0, tagged.stderr);
        match(tagged.stderr, /has a run\.tagged dated .* after this machine's clock/);
        const [run] = await rows("runs", "--where", "run_id = 'cf'", "--columns", "tags.owner");
        equal(run["tags.owner"], "me");
      },
    );

    await t.step("an annotation dated at the latest time: nothing written, exit 1", async () => {
      const last = await runLedger(["emit", "--root", root, "--stdin"], {
        stdin: line({
          event_type: "run.tagged",
          run_id: "cf",
          tags: { z: "end" },
          timestamp_ms: 253402300799999,
        }) + "\n",
      });
      equal(last.code, 0, last.stderr);
      equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
      const before = await logText(root);
      const tagged = await ledger("tag", "cf", "z=now");
      equal(tagged.code, 1, tagged.stderr);
      equal(
        tagged.stderr,
        "ledger tag: cf has a run.tagged dated 9999-12-31T23:59:59.999Z, the latest time an event " +
          "may have: no later one can take effect; nothing was written\n",
      );
      equal(await logText(root), before);
      // Another key competes with nothing there: written, dated now (a review: refused too).
      const other = await ledger("tag", "cf", "y=1");
      equal(other.code, 0, other.stderr);
      equal(other.stderr, "");
    });

    await t.step("a run that completed, then failed, ran until it failed", async () => {
      const [run] = await rows("runs", "--where", "run_id = 'cf'");
      deepEqual([run.status, run.duration_ms], ["failed", 30_000]);
      deepEqual((await rows("runs", "--where", "duration_ms = 30000")).map((r) => r.run_id), [
        "cf",
      ]);
    });

    await t.step('= true is a stored boolean, not the string "true"', async () => {
      const ids = async (where: string) =>
        (await rows("runs", "--type", "b", "--where", where)).map((r) => r.run_id);
      deepEqual(await ids("config.flag = true"), ["b1"]);
      deepEqual(await ids("config.flag != true"), ["b3", "b2"]);
      deepEqual(await ids("config.flag = false"), ["b3"]);
    });

    await t.step("--sort twice is two keys, as F1,F2", async () => {
      // 9, then 10 and "10" (a number as text) tie, broken by the second key.
      const twice = await rows("runs", "--type", "b", "--sort", "config.v", "--sort", "run_id");
      const listed = await rows("runs", "--type", "b", "--sort", "config.v,run_id");
      deepEqual(twice.map((r) => r.run_id), ["b3", "b1", "b2"]);
      deepEqual(listed.map((r) => r.run_id), ["b3", "b1", "b2"]);
    });

    await t.step("an error in one of several --where says which", async () => {
      const r = await ledger(
        "runs",
        "--where",
        "run_id = 'x'",
        "--where",
        "run_id = 'y' and foo = 1",
      );
      equal(r.code, 2);
      match(r.stderr, /--where #2: Unknown field "foo" at column 18/);
      const one = await ledger("runs", "--where", "foo = 1");
      match(one.stderr, /--where: Unknown field "foo" at column 1 /);
    });

    await t.step("compare's table gives the exact difference of integers past 2^53", async () => {
      const lines = ["2", "3"].flatMap((d) => [
        {
          event_type: "run.created",
          run_id: `big${d}`,
          run_type: "big",
          config: {},
          data_fingerprint: "f",
          timestamp_ms: T0 + 50_000,
        },
        `{"event_type":"run.completed","run_id":"big${d}","summary":{"n":900719925474099${d}},` +
        `"artifact_paths":{},"timestamp_ms":${T0 + 60_000}}`,
      ]).map((l) => typeof l === "string" ? l : JSON.stringify(l));
      const emitted = await runLedger(["emit", "--root", root, "--stdin"], {
        stdin: lines.join("\n") + "\n",
      });
      equal(emitted.code, 0, emitted.stderr);
      equal((await ledger("rebuild-index")).code, 0);
      const r = await ledger("compare", "big2", "big3");
      equal(r.code, 0, r.stderr);
      match(r.stdout, /\bn +9007199254740992 +9007199254740993 \(\+1\)/);
    });

    await t.step("export keeps a string that is not a JSON number as written", async () => {
      const out = `${root}/runs.jsonl`;
      const r = await ledger(
        "export",
        "runs",
        "--where",
        "run_type = 'b'",
        "--format",
        "jsonl",
        "--out",
        out,
      );
      equal(r.code, 0, r.stderr);
      const exported = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
      const byId = Object.fromEntries(exported.map((e) => [e.run_id, e]));
      // "0010" beside the number 10 keeps config.id text; "10" beside 10 is still a number.
      deepEqual([byId.b1["config.id"], byId.b2["config.id"], byId.b3["config.id"]], [
        "10",
        "0010",
        "9",
      ]);
      deepEqual([byId.b1["config.v"], byId.b2["config.v"]], [10, 10]);
    });
  });
});
