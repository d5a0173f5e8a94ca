/**
 * `ledger emit` refuses a flag value that is not UTF-8 (a probe), and so do
 * `tag` and `note` an argument (exit 2, a usage error there): the
 * runtime reads such an argument with U+FFFD in place of its bytes, and
 * `--run-type $'caf\xe9'` wrote `caf\uFFFD`, exit 0, where `--stdin`
 * refuses the same bytes. One line naming the flag, exit 1, nothing
 * written; a U+FFFD meant as such is written `\ufffd` in JSON. The same
 * for `deno task emit`'s bundle. The arguments go through bash: a Deno
 * child's arguments are strings, UTF-8 always.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { denoScriptArgs, logText, REPO_ROOT, TEST_PERMISSIONS, withTempDir } from "../_helpers.ts";

const EMIT_BUNDLE = join(REPO_ROOT, "cli/_emit_bundle/ledger_emit.js");
const CLI = join(REPO_ROOT, "cli/ledger.ts");

/** Run `argv` (program, args) with each `\xNN` of an argument as that byte, through bash. */
async function runBytes(argv: readonly string[]): Promise<{ code: number; stderr: string }> {
  // printf %b turns each \xNN into its byte; "$(...)x" keeps a trailing newline, then drops x.
  const quoted = argv.map((a) => `"$(printf '%bx' '${a.replaceAll("'", "'\\''")}')"`);
  const script = `args=(); for a in ${quoted.join(" ")}; do args+=("\${a%x}"); done; ` +
    `exec "\${args[@]}"`;
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: REPO_ROOT,
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("emit: a flag value that is not UTF-8 is refused, naming the flag", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const created = (runType: string, config: string) => [
      ...["--root", root, "--event-type", "run.created", "--run-id", "u8"],
      ...["--run-type", runType, "--config", config, "--data-fingerprint", "f"],
    ];
    const entries: [string, string[]][] = [
      ["cli/ledger.ts", denoScriptArgs(CLI, ["emit"])],
      ["deno task emit's bundle", ["run", "--no-prompt", ...TEST_PERMISSIONS, EMIT_BUNDLE]],
    ];
    for (const [name, entry] of entries) {
      await t.step(name, async () => {
        const cases: [string[], RegExp][] = [
          [created("caf\\xe9", "{}"), /^ledger emit: --run-type holds U\+FFFD \(character 4\)/],
          [
            created("t", '{"name":"\\xff\\xfe"}'),
            /^ledger emit: --config holds U\+FFFD \(character 10\)/,
          ],
        ];
        for (const [args, said] of cases) {
          const r = await runBytes([Deno.execPath(), ...entry, ...args]);
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, said);
          assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
          assert.equal(await logText(root), "", "nothing written");
        }
      });
    }
    await t.step("a U+FFFD written \\ufffd in JSON is the value", async () => {
      const r = await runBytes([Deno.execPath(), ...denoScriptArgs(CLI, ["emit"])].concat(
        created("t", '{"name":"\\\\ufffd"}'),
      ));
      assert.equal(r.code, 0, r.stderr);
      const event = JSON.parse((await logText(root)).trim());
      assert.equal(event.config.name, "\uFFFD");
    });
    await t.step("a --root holding U+FFFD (a path, valid UTF-8) is taken", async () => {
      // A review: the check refused such a root, which runs and rebuild-index take.
      const odd = join(dir, "r\uFFFD");
      const r = await runBytes([Deno.execPath(), ...denoScriptArgs(CLI, ["emit"])].concat(
        ["--root", odd, "--event-type", "run.created", "--run-id", "odd"],
        ["--run-type", "t", "--config", "{}", "--data-fingerprint", "f"],
      ));
      assert.equal(r.code, 0, r.stderr);
      assert.match(await logText(odd), /"run_id":"odd"/);
    });
    await t.step("tag and note: refused the same way, exit 2, nothing written", async () => {
      const rebuilt = await runBytes([
        Deno.execPath(),
        ...denoScriptArgs(CLI, ["rebuild-index", "--root", root]),
      ]);
      assert.equal(rebuilt.code, 0, rebuilt.stderr);
      const before = await logText(root);
      for (
        const [args, said] of [
          [["tag", "u8", "k=v\\xff"], /^ledger tag: argument 2 holds U\+FFFD \(character 4\)/],
          [["note", "u8", "caf\\xe9"], /^ledger note: argument 2 holds U\+FFFD \(character 4\)/],
        ] as const
      ) {
        const r = await runBytes([
          Deno.execPath(),
          ...denoScriptArgs(CLI, [...args, "--root", root]),
        ]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, said);
        assert.equal(await logText(root), before, "nothing written");
      }
    });
  });
});
