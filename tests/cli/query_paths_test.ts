/**
 * A query audit (SPEC 11): `ledger export` and `ledger compare` name a JSON
 * key with a dot `config.a\.b` and keys of any script `config.größe`,
 * `config.名前`, and those names work in `ledger runs`, `ledger trials` and
 * `ledger export --where` too. Each check runs the real CLI on a root
 * written by `ledger emit`.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

/** What a key holds as it is in `--where` (SPEC 11 as `fields.ts` documents it); others escaped. */
const KEY_CHAR = /^[\p{L}\p{M}\p{N}_-]$/u;

/** u1's config: a key with a dot beside the path through two keys, keys of other scripts. */
const U1_CONFIG = {
  "a.b": 1,
  "größe": 2,
  "名前": "x",
  a: { b: 99 },
  "learning rate": 0.1,
  "it's": true,
  "x,y": [1, 2],
  "k:v": "c",
  "*": 5,
  "e\u0301": 8,
};
/** u2's: other values (its nested a.b is u1's "a.b", its größe sorts after u1's). */
const U2_CONFIG = {
  "a.b": 3,
  "größe": 3,
  "名前": "y",
  a: { b: 1 },
  "learning rate": 0.2,
  "it's": false,
  "x,y": [3],
  "k:v": "d",
  "*": 6,
  "e\u0301": 9,
};

/** `ledger ARGS --root ROOT`, expected to exit `code`; its standard output. */
async function ledger(root: string, args: string[], code = 0): Promise<string> {
  const r = await runLedger([...args, "--root", root]);
  equal(r.code, code, `ledger ${args.join(" ")}: ${r.stderr}`);
  return code === 0 ? r.stdout : r.stderr;
}

/** Runs u1 (older) and u2, with summaries and u1's tags, written by `ledger emit`, indexed. */
async function buildRuns(root: string): Promise<void> {
  for (const [id, config] of [["u1", U1_CONFIG], ["u2", U2_CONFIG]] as const) {
    await ledger(root, [
      ..."emit --event-type run.created --run-type t --data-fingerprint f".split(" "),
      ...["--run-id", id, "--config", JSON.stringify(config)],
    ]);
  }
  for (const [id, summary] of [["u1", { "wïn.rate": 0.5 }], ["u2", { "wïn.rate": 0.25 }]]) {
    await ledger(root, [
      ..."emit --event-type run.completed --artifact-paths {}".split(" "),
      ...["--run-id", String(id), "--summary", JSON.stringify(summary)],
    ]);
  }
  await ledger(root, [
    ..."emit --event-type run.tagged --run-id u1 --tags".split(" "),
    JSON.stringify({ "a.b": "x", "ü": "y" }),
  ]);
  await ledger(root, ["rebuild-index"]);
}

/** The rows of CSV text (quoted fields, doubled quotes, newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') cell += text[++i];
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n") {
      rows.push([...row, cell]);
      row = [];
      cell = "";
    } else if (c !== "\r") cell += c;
  }
  if (cell !== "" || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** The value of each column of each row, by the row's `id` column. */
function byId(rows: string[][], id: string): Map<string, Map<string, string>> {
  const [header, ...body] = rows;
  const at = header.indexOf(id);
  return new Map(body.map((r) => [r[at], new Map(header.map((h, k) => [h, r[k]]))]));
}

/** The run ids of `ledger runs ARGS --format csv`, in order. */
async function runIds(root: string, ...args: string[]): Promise<string[]> {
  const rows = parseCsv(await ledger(root, ["runs", ...args, "--format", "csv"]));
  return rows.slice(1).map((r) => r[0]);
}

/** The name `--where` takes for an export column: a key's other characters escaped. */
function typedInWhere(name: string): string {
  const dot = name.indexOf(".");
  return name.slice(0, dot + 1) +
    [...name.slice(dot + 1)].map((c) => KEY_CHAR.test(c) || c === "." || c === "\\" ? c : `\\${c}`)
      .join("");
}

/** An export's names of flattened columns (`config.*`, ...), in its header's order. */
function flatNames(header: readonly string[], roots: readonly string[]): string[] {
  return header.filter((h) => roots.includes(h.slice(0, h.indexOf("."))));
}

Deno.test('runs --where: config.a\\.b is the key "a.b", never b inside a', async () => {
  await withTempDir(async (root) => {
    await buildRuns(root);
    deepEqual(await runIds(root, "--where", String.raw`config.a\.b = 1`), ["u1"]);
    deepEqual(await runIds(root, "--where", "config.a.b = 1"), ["u2"]); // the nested key
    deepEqual(await runIds(root, "--where", String.raw`config.a\.b = 99`), []);
    deepEqual(await runIds(root, "--where", "config.größe = 3"), ["u2"]);
    deepEqual(await runIds(root, "--where", "config.名前 = 'x'"), ["u1"]);
    deepEqual(await runIds(root, "--where", String.raw`summary.wïn\.rate > 0.3`), ["u1"]);
    deepEqual(await runIds(root, "--where", String.raw`tags.a\.b = 'x' and tags.ü = 'y'`), [
      "u1",
    ]);
    // ledger export --where: the same names.
    const out = join(root, "u.csv");
    await ledger(root, [
      "export",
      "runs",
      "--format",
      "csv",
      "--out",
      out,
      "--where",
      String.raw`config.a\.b = 1`,
    ]);
    deepEqual(parseCsv(await Deno.readTextFile(out)).slice(1).map((r) => r[0]), ["u1"]);
    // A character no key takes as it is is named, with its escape, not called a non-letter.
    const bad = await ledger(root, ["runs", "--where", "config.a$b = 1"], 2);
    match(bad, /^ledger runs: --where: Unexpected character "\$" at column 9 \(.*: \\\$\)/);
  });
});

Deno.test("runs --sort config.größe, --columns config.名前: table, json, csv", async () => {
  await withTempDir(async (root) => {
    await buildRuns(root);
    deepEqual(await runIds(root, "--sort", "config.größe"), ["u1", "u2"]);
    deepEqual(await runIds(root, "--sort", "config.größe:desc"), ["u2", "u1"]);
    deepEqual(await runIds(root, "--sort", String.raw`config.a\.b:desc`), ["u2", "u1"]);
    const table = (await ledger(root, ["runs", "--columns", "config.名前", "--sort", "run_id"]))
      .trimEnd().split("\n");
    match(table[0], /config\.名前$/);
    match(table[1], /^u1 .* x$/);
    match(table[2], /^u2 .* y$/);
    // The table shows the field it is sorted by.
    match(await ledger(root, ["runs", "--sort", "config.größe"]), /config\.größe/);
    const json = JSON.parse(
      await ledger(root, [
        "runs",
        "--columns",
        "config.名前,config.größe",
        "--sort",
        "run_id",
        "--json",
      ]),
    );
    deepEqual(json.map((r: Record<string, unknown>) => [r["config.名前"], r["config.größe"]]), [
      ["x", 2],
      ["y", 3],
    ]);
    const csv = parseCsv(
      await ledger(root, [
        "runs",
        "--columns",
        String.raw`config.名前,config.a\.b`,
        "--sort",
        "run_id",
        "--format",
        "csv",
      ]),
    );
    deepEqual(csv[0].slice(-2), ["config.名前", String.raw`config.a\.b`]);
    deepEqual(csv.slice(1).map((r) => r.slice(-2)), [["x", "1"], ["y", "3"]]);
  });
});

Deno.test("runs: every column export writes is a field with the same values", async () => {
  await withTempDir(async (root) => {
    await buildRuns(root);
    const out = join(root, "u.csv");
    await ledger(root, ["export", "runs", "--format", "csv", "--out", out]);
    const exported = parseCsv(await Deno.readTextFile(out));
    const names = flatNames(exported[0], ["config", "summary", "tags"]);
    for (const name of [String.raw`config.a\.b`, "config.größe", "config.名前", "config.a.b"]) {
      ok(names.includes(name), `export writes ${name}: ${names.join(" ")}`);
    }
    // --columns, as export writes them (a "," inside a key, the list's separator, as "\,"); each
    // column is named as export names it (a probe: `config.x\,y` was the csv header).
    const asked = names.map((n) => n.replaceAll(",", "\\,")).join(",");
    const listed = parseCsv(
      await ledger(root, ["runs", "--columns", asked, "--sort", "run_id", "--format", "csv"]),
    );
    const want = byId(exported, "run_id");
    for (const [id, row] of byId(listed, "run_id")) {
      for (const name of names) {
        equal(row.get(name), want.get(id)!.get(name), `${id} ${name}`);
      }
    }
    // The table names it so too, and shows a column it has anyway once (a probe: run_id twice).
    const table = await ledger(root, [
      "runs",
      "--columns",
      String.raw`run_id,config.x\,y`,
      "--wide",
    ]);
    const header = table.split("\n")[0];
    ok(header.includes("config.x,y") && !header.includes("run_id"), header);
    // --sort takes each (a ":" inside a key as "\:"), and --where each (other characters escaped).
    const sortable = names.map((n) => n.replaceAll(",", "\\,").replaceAll(":", "\\:"));
    deepEqual(await runIds(root, "--sort", `${sortable.join(",")}:desc`), ["u2", "u1"]);
    deepEqual(await runIds(root, "--sort", String.raw`config.k\:v:desc`), ["u2", "u1"]);
    const where = names.map((n) => `${typedInWhere(n)} is not null`).join(" and ");
    deepEqual(await runIds(root, "--where", where.replace(/ and tags\..*$/, "")), ["u2", "u1"]);
    deepEqual(await runIds(root, "--where", where), ["u1"]); // only u1 has tags
    deepEqual(await runIds(root, "--where", String.raw`config.learning\ rate = 0.1`), ["u1"]);
    deepEqual(await runIds(root, "--where", String.raw`config.\* = 6`), ["u2"]);
  });
});

Deno.test("trials: params. and metrics. name keys as export names them", async () => {
  await withTempDir(async (root) => {
    await ledger(root, [
      ..."emit --event-type run.created --run-id s1 --run-type sweep --data-fingerprint f".split(
        " ",
      ),
      ...["--config", JSON.stringify({ "größe": 1 })],
    ]);
    const trials = [
      ["t1", { "a.b": 1, "größe": 0.5, a: { b: 7 } }, { "名前": 2, "sh.arpe": 1.5 }],
      ["t2", { "a.b": 7, "größe": 0.25, a: { b: 1 } }, { "名前": 3, "sh.arpe": 0.5 }],
    ] as const;
    for (const [id, params, metrics] of trials) {
      await ledger(root, [
        ..."emit --event-type trial.recorded --run-id s1 --trial-id".split(" "),
        ...[id, "--params", JSON.stringify(params), "--metrics", JSON.stringify(metrics)],
      ]);
    }
    await ledger(root, ["rebuild-index"]);
    const ids = async (...args: string[]) =>
      parseCsv(await ledger(root, ["trials", ...args, "--format", "csv"])).slice(1).map((r) =>
        r[1]
      );
    deepEqual(await ids("--where", String.raw`params.a\.b = 1`), ["t1"]);
    deepEqual(await ids("--where", "params.a.b = 1"), ["t2"]); // the nested key
    deepEqual(await ids("--where", "metrics.名前 = 3 and config.größe = 1"), ["t2"]);
    deepEqual(await ids("--sort", "metrics.名前:desc"), ["t2", "t1"]);
    deepEqual(await ids("--sort", "params.größe"), ["t2", "t1"]);
    const json = JSON.parse(
      await ledger(root, [
        "trials",
        "--columns",
        String.raw`metrics.sh\.arpe`,
        "--sort",
        "trial_id",
        "--json",
      ]),
    );
    deepEqual(json.map((r: Record<string, unknown>) => r[String.raw`metrics.sh\.arpe`]), [
      1.5,
      0.5,
    ]);
    match(
      await ledger(root, ["trials", "--sort", "metrics.名前:desc", "--columns", "config.größe"]),
      /metrics\.名前.*config\.größe/,
    );
    // Every column export trials writes, given back to --columns: the same values.
    const out = join(root, "t.csv");
    await ledger(root, ["export", "trials", "--format", "csv", "--out", out]);
    const exported = parseCsv(await Deno.readTextFile(out));
    const names = flatNames(exported[0], ["params", "metrics"]);
    deepEqual(names, [
      String.raw`params.a\.b`,
      "params.größe",
      "params.a.b",
      "metrics.名前",
      String.raw`metrics.sh\.arpe`,
    ]);
    const listed = parseCsv(
      await ledger(root, [
        "trials",
        "--columns",
        names.join(","),
        "--sort",
        "trial_id",
        "--format",
        "csv",
      ]),
    );
    const want = byId(exported, "trial_id");
    for (const [id, row] of byId(listed, "trial_id")) {
      for (const name of names) {
        // A trial's metric is a DOUBLE column in the export (number_fields.ts): 2 is `2.0` there.
        const [got, exp] = [row.get(name), want.get(id)!.get(name)];
        if (name.startsWith("metrics.") && got !== undefined && exp !== undefined) {
          equal(Number(got), Number(exp), `${id} ${name}: ${got} against ${exp}`);
        } else equal(got, exp, `${id} ${name}`);
      }
    }
    equal(want.get("t1")!.get("metrics.名前"), "2.0");
  });
});
