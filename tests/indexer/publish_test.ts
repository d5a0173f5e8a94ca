import { ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "./_fixtures.ts";

const READER = new URL("./_reader_loop.ts", import.meta.url).pathname;
const READERS = 2;
// Long enough for several rebuilds even on a busy machine (each takes seconds under load).
const READ_MS = 12_000;

Deno.test("reader processes querying in a loop see no error while rebuilds publish", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-pub-" });
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-0", T0));
    await rebuildIndex(root, { full: true });
    const db = join(root, "index", "runs.duckdb");
    const readers = Array.from({ length: READERS }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", READER, db, String(READ_MS)],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const endMs = Date.now() + READ_MS;
    let rebuilds = 0;
    while (Date.now() < endMs) {
      await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun(`run-${++rebuilds}`, T0), {
        append: true,
      });
      await rebuildIndex(root, { full: rebuilds % 3 === 0 });
    }
    for (const out of await Promise.all(readers)) {
      const text = new TextDecoder().decode(out.stdout).trim();
      equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const result = JSON.parse(text);
      equal(result.errors, 0, `reader error: ${result.firstError}`);
      ok(result.queries > 0);
    }
    ok(rebuilds >= 2, `only ${rebuilds} rebuilds ran`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
