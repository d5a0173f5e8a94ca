/**
 * `ledger emit` has a type flag for every field, annotations' too (SPEC 8:
 * "type flags mirror the fields"): `--tags JSON`, `--note TEXT`,
 * `--reason TEXT`, as docs/EVENTS.md shows them.
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger } from "../_helpers.ts";

Deno.test("emit writes run.tagged, run.noted and run.archived from their type flags", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-emit-annotations-" });
  const emit = (args: string[]) => runLedger(["emit", "--root", root, ...args]);
  try {
    const created = await emit([
      "--event-type",
      "run.created",
      "--run-id",
      "a1",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "fp",
    ]);
    equal(created.code, 0, created.stderr);
    for (
      const args of [
        ["--event-type", "run.tagged", "--run-id", "a1", "--tags", '{"label":"base","k":"v"}'],
        ["--event-type", "run.noted", "--run-id", "a1", "--note", "first look"],
        ["--event-type", "run.archived", "--run-id", "a1", "--reason", "superseded"],
      ]
    ) {
      const r = await emit(args);
      equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const bad = await emit(["--event-type", "run.tagged", "--run-id", "a1", "--tags", '{"k":1}']);
    equal(bad.code, 1);
    match(bad.stderr, /tags\.k must be a string/);
    const day = [...Deno.readDirSync(join(root, "events"))].find((e) => e.isDirectory)!.name;
    const lines: Record<string, unknown>[] = [];
    for (const e of Deno.readDirSync(join(root, "events", day))) {
      if (!e.name.endsWith(".jsonl")) continue;
      const text = await Deno.readTextFile(join(root, "events", day, e.name));
      for (const l of text.trim().split("\n")) lines.push(JSON.parse(l));
    }
    const of = (type: string) => lines.find((l) => l.event_type === type)!;
    deepEqual(of("run.tagged").tags, { label: "base", k: "v" });
    equal(of("run.noted").note, "first look");
    equal(of("run.archived").reason, "superseded");
    equal(lines.length, 4, "the refused line wrote nothing");
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const shown = await runLedger(["runs", "--root", root, "--all", "--format", "jsonl"]);
    const run = JSON.parse(shown.stdout);
    equal(run.label, "base");
    equal(run.archived, true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
