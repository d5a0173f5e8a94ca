/**
 * A path the user gave is named exactly in an error's one line (an audit):
 * a newline in `--root` or `--calls` cut the message at it, so it named
 * another path and lost the reason, and an ESC sequence in `--out` reached
 * the terminal raw. A path with a control character is now quoted and
 * escaped, as run ids are; a plain path prints as it always did. And
 * `emit --stdin` with a directory on standard input says it is standard
 * input that could not be read.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import {
  CLI_PATH,
  DENO_RUN,
  denoScriptArgs,
  REPO_ROOT,
  runCreatedArgs,
  runLedger,
  withTempDir,
} from "../_helpers.ts";

/** `result`'s stderr as one line (it must be exactly one) and its exit code. */
function oneLine(result: { code: number; stderr: string }): [number, string] {
  const lines = result.stderr.split("\n");
  equal(lines.length, 2, `not one line: ${JSON.stringify(result.stderr)}`);
  equal(lines[1], "");
  return [result.code, lines[0]];
}

Deno.test("error messages name a path with control characters exactly, on one line", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    equal((await runLedger(runCreatedArgs(root, "msg-1"))).code, 0);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);

    await t.step("--root with a newline: runs and verify", async () => {
      const odd = join(dir, "nl\nroot");
      const quoted = JSON.stringify(odd).slice(1, -1);
      deepEqual(oneLine(await runLedger(["runs", "--root", odd])), [
        1,
        `ledger runs: No index at "${quoted}/index/runs.duckdb"; build it with \`ledger rebuild-index\``,
      ]);
      deepEqual(oneLine(await runLedger(["verify", "--root", odd])), [
        1,
        `ledger verify: Ledger root "${quoted}" does not exist`,
      ]);
    });

    await t.step("a plain --root prints as before", async () => {
      const plain = join(dir, "plain root");
      deepEqual(oneLine(await runLedger(["runs", "--root", plain])), [
        1,
        `ledger runs: No index at ${plain}/index/runs.duckdb; build it with \`ledger rebuild-index\``,
      ]);
    });

    await t.step("--calls with a newline", async () => {
      const calls = join(dir, "x\ny.csv");
      const r = await runLedger([
        "backtest",
        "path-only",
        "--no-index",
        "--root",
        root,
        "--calls",
        calls,
      ]);
      deepEqual(oneLine(r), [
        2,
        `ledger backtest: --calls: Calls file ${JSON.stringify(calls)} does not exist`,
      ]);
    });

    await t.step("--out with an ESC sequence, DEL, C1 and a line separator", async () => {
      const folder = join(dir, "no\x1b[31m\x7f\u009b\u2028dir");
      const out = join(folder, "x.csv");
      const r = await runLedger([
        "export",
        "runs",
        "--root",
        root,
        "--format",
        "csv",
        "--out",
        out,
      ]);
      const escaped = (s: string) =>
        s.replace("\x1b", "\\u001b").replace("\x7f", "\\u007f")
          .replace("\u009b", "\\u009b").replace("\u2028", "\\u2028");
      deepEqual(oneLine(r), [
        2,
        `ledger export: --out "${escaped(out)}": the folder "${escaped(folder)}" does not exist`,
      ]);
    });

    await t.step(
      "report --out in a folder that takes no file names --out, not its temp file",
      async () => {
        // The report is written beside --out, then renamed: the message named that temporary file.
        // /proc takes no new file, even for root; the task's permissions do not reach it.
        const args = [
          ...DENO_RUN,
          "--allow-all",
        ];
        args.push(CLI_PATH, "report", "--root", root, "--out", "/proc/version");
        const out = await new Deno.Command(Deno.execPath(), { args, stdin: "null" }).output();
        deepEqual(oneLine({ code: out.code, stderr: new TextDecoder().decode(out.stderr) }), [
          1,
          "ledger report: cannot write /proc/version: its folder /proc takes no new file: " +
          "No such file or directory (os error 2)",
        ]);
      },
    );

    await t.step(
      "a file where a folder should be is named, for --out and input paths",
      async () => {
        // A probe: each said "Not a directory (os error 20): stat '...'", exit 1.
        const file = join(dir, "notes.txt");
        await Deno.writeTextFile(file, "not a folder\n");
        const under = join(file, "sub", "x");
        const calls = join(REPO_ROOT, "data", "sample", "calls.csv");
        const cases: [string[], number, string][] = [
          [
            ["export", "runs", "--root", root, "--format", "csv", "--out", `${under}.csv`],
            2,
            `ledger export: --out ${under}.csv: ${file} is not a folder`,
          ],
          [
            ["report", "--root", root, "--out", join(file, "r.html")],
            2,
            `ledger report: --out ${join(file, "r.html")}: ${file} is not a folder`,
          ],
          [
            ["backtest", "path-only", "--no-index", "--root", root, "--calls", `${under}.csv`],
            2,
            `ledger backtest: --calls: Calls file ${under}.csv does not exist: ${file} is a file`,
          ],
          [
            [
              "backtest",
              "policy",
              "--no-index",
              "--root",
              root,
              "--calls",
              calls,
              "--policy",
              `@${under}.json`,
            ],
            2,
            `ledger backtest: policy file ${under}.json does not exist: ${file} is a file`,
          ],
          [
            ["runs", "--root", root, "--legacy-db", `${under}.duckdb`],
            1,
            `ledger runs: Legacy DuckDB file ${under}.duckdb (--legacy-db) does not exist: ${file} is a file`,
          ],
          [
            ["legacy", "parity", "--root", root, "--legacy-db", `${under}.duckdb`],
            1,
            `ledger legacy: The legacy database ${under}.duckdb does not exist: ${file} is a file`,
          ],
        ];
        for (const [args, code, line] of cases) {
          deepEqual(oneLine(await runLedger(args)), [code, line], args.join(" "));
        }
      },
    );

    await t.step("$LEDGER_ROOT with a paragraph separator", async () => {
      const odd = join(dir, "p\u2029root");
      const r = await runLedger(["verify"], { env: { LEDGER_ROOT: odd } });
      deepEqual(oneLine(r), [
        1,
        `ledger verify: Ledger root "${odd.replace("\u2029", "\\u2029")}" does not exist`,
      ]);
    });

    await t.step("a failed run's line names a --candles path with a newline exactly", async () => {
      // A file that exists and is not Parquet: the run starts, then fails in its plan phase, and
      // backtest prints that line itself (a review: the path was cut at its newline there).
      const candles = join(dir, "bad\ncandles.parquet");
      await Deno.writeTextFile(candles, "not a parquet file");
      const calls = join(REPO_ROOT, "data", "sample", "calls.csv");
      const args = ["backtest", "path-only", "--no-index", "--root", root, "--calls", calls];
      const [code, line] = oneLine(await runLedger([...args, "--candles", candles]));
      equal(code, 1);
      equal(
        line.startsWith(`ledger backtest: Candles file ${JSON.stringify(candles)} `),
        true,
        line,
      );
      equal(/\(run \S+ failed in phase plan\)$/.test(line), true, line);
      // DuckDB's reason names the path too, escaped: not cut at its newline (a review).
      equal(line.split(JSON.stringify(candles)).length, 3, line);
    });

    await t.step("a run id quoted by its message is quoted once", async () => {
      const [code, line] = oneLine(await runLedger(["tag", "a\x7fb", "k=v", "--root", root]));
      equal(code, 1);
      equal(line.startsWith('ledger tag: Run "a\\u007fb" is not in the index'), true, line);
    });

    await t.step("emit --stdin from a directory names standard input", async () => {
      const args = denoScriptArgs(CLI_PATH, ["emit", "--root", root, "--stdin"]);
      const out = await new Deno.Command("sh", {
        args: ["-c", 'dir="$1"; shift; exec "$@" < "$dir"', "sh", dir, Deno.execPath(), ...args],
        env: { LEDGER_ROOT: "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      deepEqual(oneLine({ code: out.code, stderr }), [
        1,
        "ledger emit: standard input could not be read: Is a directory (os error 21)",
      ]);
    });
  });
});
