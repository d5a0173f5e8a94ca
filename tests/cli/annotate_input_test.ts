/**
 * Bad input to `ledger tag|note|archive` (SPEC 11): a usage error (exit 2)
 * with one stderr line that names what is wrong, and nothing written.
 *
 * @module
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { hashTree, runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

/** A root with one indexed run, `inp-1`. */
async function withIndexedRun(body: (root: string) => Promise<void>): Promise<void> {
  await withTempDir(async (root) => {
    const created = await runLedger(runCreatedArgs(root, "inp-1"));
    equal(created.code, 0, created.stderr);
    const indexed = await runLedger(["rebuild-index", "--root", root]);
    equal(indexed.code, 0, indexed.stderr);
    await body(root);
  });
}

/** Run `args` on `root`: exit 2, nothing on stdout, `stderr` exactly, the log unchanged. */
async function refused(root: string, args: string[], stderr: string): Promise<void> {
  const before = await hashTree(`${root}/events`);
  const r = await runLedger([...args, "--root", root]);
  equal(r.code, 2, r.stderr);
  equal(r.stdout, "");
  equal(r.stderr, stderr);
  equal(await hashTree(`${root}/events`), before, "nothing written");
}

Deno.test("annotations: bad input is a usage error that names the problem and writes nothing", async (t) => {
  await withIndexedRun(async (root) => {
    await t.step("a note of only blanks is empty, not several TEXTs", async () => {
      await refused(root, ["note", "inp-1", ""], "ledger note: TEXT is empty\n");
      await refused(root, ["note", "inp-1", "  \n "], "ledger note: TEXT is empty\n");
      await refused(
        root,
        ["note", "inp-1", "a", "b"],
        "ledger note: expected one TEXT (quote it)\n",
      );
    });
    // The last value silently won (a bad-input probe): which one was meant?
    await t.step("a tag key given twice", async () => {
      await refused(
        root,
        ["tag", "inp-1", "k=v", "j=1", "k=w"],
        'ledger tag: tag "k" is given twice; give each key once\n',
      );
    });
  });
});

Deno.test("annotations: the length limit counts characters, an emoji as one", async (t) => {
  await withIndexedRun(async (root) => {
    await t.step("10,000 emoji are 10,000 characters: accepted", async () => {
      const r = await runLedger([
        "note",
        "inp-1",
        "😀".repeat(10_000),
        "--no-index",
        "--root",
        root,
      ]);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "noted inp-1\n");
    });
    await t.step("10,001 emoji: refused, counted as 10,001", async () => {
      await refused(
        root,
        ["tag", "inp-1", `k=${"😀".repeat(10_001)}`],
        "ledger tag: tag k is 10001 characters; at most 10000\n",
      );
    });
  });
});

Deno.test("annotations: tags too large for one event line are a usage error", async () => {
  await withIndexedRun(async (root) => {
    // Each value is within the limit; together they pass the 1 MiB line.
    const value = "x".repeat(10_000);
    const pairs = Array.from({ length: 120 }, (_, i) => `k${i}=${value}`);
    const before = await hashTree(`${root}/events`);
    const r = await runLedger(["tag", "inp-1", ...pairs, "--root", root]);
    equal(r.code, 2, r.stderr);
    equal(r.stdout, "");
    match(
      r.stderr,
      /^ledger tag: the run\.tagged event would be 12\d{5} bytes; at most 1048576 \(set fewer tags at a time\)\n$/,
    );
    equal(await hashTree(`${root}/events`), before, "nothing written");
  });
});

// A probe: keys of ASCII letters only refused `größe=1`, so a tag that `emit` (or a Python
// writer) had set could not be changed or removed with `ledger tag`.
Deno.test("annotations: a tag key of another script is set, filtered on and removed", async (t) => {
  await withIndexedRun(async (root) => {
    const where = async (expr: string) => {
      const r = await runLedger(["runs", "--root", root, "--where", expr, "--format", "jsonl"]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").length;
    };
    await t.step("größe=1 and 名前-2=x are set and found by --where", async () => {
      const r = await runLedger(["tag", "inp-1", "größe=1", "名前-2=x", "--root", root]);
      equal(r.code, 0, r.stderr);
      equal(await where("tags.größe = 1"), 1);
      equal(await where("tags.名前-2 = 'x'"), 1);
    });
    await t.step("größe= removes it", async () => {
      const r = await runLedger(["tag", "inp-1", "größe=", "--root", root]);
      equal(r.code, 0, r.stderr);
      equal(await where("tags.größe is null"), 1);
      equal(await where("tags.名前-2 = 'x'"), 1);
    });
    await t.step("a key with a space or of 65 characters is still refused", async () => {
      await refused(
        root,
        ["tag", "inp-1", "a b=1"],
        'ledger tag: tag "a b=1" must be key=value with a key of letters, digits, _ or - ' +
          "(at most 64)\n",
      );
      await refused(
        root,
        ["tag", "inp-1", `${"ä".repeat(65)}=1`],
        `ledger tag: tag "${"ä".repeat(65)}=1" must be key=value with a key of letters, ` +
          "digits, _ or - (at most 64)\n",
      );
    });
  });
});
