/**
 * The bundled DuckDB API (`vendor/duckdb_node_api.js`) is the package that
 * deno.json names, whole, and the only way the code loads it.
 */
import assert from "node:assert";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import {
  duckdbApiSpecifier,
  VENDORED_DUCKDB_PATH,
  VENDORED_HEADER_PREFIX,
  VENDORED_LICENSE_PATH,
} from "../../scripts/vendor_duckdb.ts";
// @ts-types="npm:@duckdb/node-api@1.5.6-r.1"
import * as vendored from "../../vendor/duckdb_node_api.js";
import { CONFIG_PATH } from "../_helpers.ts";
import { runDeno } from "../ledger/_helpers.ts";

const REPO = join(import.meta.dirname!, "..", "..");

Deno.test("the bundle was built from the version deno.json names", async () => {
  const text = await Deno.readTextFile(join(REPO, VENDORED_DUCKDB_PATH));
  const firstLine = text.slice(0, text.indexOf("\n"));
  assert.equal(
    firstLine,
    `${VENDORED_HEADER_PREFIX}${denoJson.imports["@duckdb/node-api"]}; do not edit.`,
    "run deno task vendor-duckdb after changing @duckdb/node-api in deno.json",
  );
  const wrapper = await Deno.readTextFile(join(REPO, "indexer/duckdb.ts"));
  assert(wrapper.includes(`// @ts-types="${duckdbApiSpecifier()}"`), "indexer/duckdb.ts types");
  const license = await Deno.readTextFile(join(REPO, VENDORED_LICENSE_PATH));
  assert.match(license, /Permission is hereby granted, free of charge/);
});

Deno.test("the bundle exports what the package exports, and it works", async () => {
  const api = await import(duckdbApiSpecifier());
  const expected = Object.keys(api.default).filter((name) => name !== "default").sort();
  const actual = Object.keys(vendored).filter((name) => name !== "default").sort();
  assert.deepEqual(actual, expected);
  const sql = "SELECT 2::BIGINT ** 62 AS d, (2::HUGEINT ** 62)::BIGINT AS big, [1, 2] AS list, " +
    "{'a': 'x'} AS struct, TIMESTAMP '2026-01-02 03:04:05' AS ts";
  const rows = [];
  for (const module of [api, vendored]) {
    const instance = await module.DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    try {
      rows.push((await conn.runAndReadAll(sql)).getRowObjectsJS());
    } finally {
      conn.disconnectSync();
      instance.closeSync();
    }
  }
  assert.equal(rows[1][0].big, 4611686018427387904n);
  assert.deepEqual(rows[1], rows[0]);
});

Deno.test("DuckDB loads on the first open, not on import: a usage error never loads it", async () => {
  // In a process of its own (the addon, once loaded, stays for the process). Only --allow-all
  // reads /proc in Deno 2.9.
  const script = `
    const mapped = async () => (await Deno.readTextFile("/proc/self/maps")).includes("libduckdb");
    const api = await import(${
    JSON.stringify(new URL("../../indexer/duckdb.ts", import.meta.url).href)
  });
    await import(${JSON.stringify(new URL("../../cli/runs.ts", import.meta.url).href)});
    const out = { importedMapped: await mapped(), earlyThrows: false };
    try { api.duckdb(); } catch (err) { out.earlyThrows = /before it was loaded/.test(err.message); }
    const instance = await api.DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    const rows = (await conn.runAndReadAll("SELECT 42 AS x")).getRowObjectsJS();
    conn.disconnectSync();
    instance.closeSync();
    out.openedMapped = await mapped();
    out.bigint = String(api.duckdb().BIGINT);
    out.x = rows[0].x;
    console.log(JSON.stringify(out));`;
  const out = await runDeno(
    ["run", "--quiet", "--no-prompt", "--config", CONFIG_PATH, "--allow-all", "-"],
    { stdin: script },
  );
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), {
    importedMapped: false,
    earlyThrows: true,
    openedMapped: true,
    bigint: "BIGINT",
    x: 42,
  });
});

Deno.test("no module but indexer/duckdb.ts imports the package itself", async () => {
  const offenders: string[] = [];
  const importLine = /^(?:import|export)\b[^;]*?from "(?:npm:)?@duckdb\/node-api[@"]/ms;
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(join(REPO, dir))) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (!["node_modules", "vendor", "data", "dist", ".git"].includes(entry.name)) {
          await walk(path);
        }
      } else if (entry.name.endsWith(".ts") && path !== "indexer/duckdb.ts") {
        if (importLine.test(await Deno.readTextFile(join(REPO, path)))) offenders.push(path);
      }
    }
  }
  await walk("");
  assert.deepEqual(offenders, [], "import DuckDB from indexer/duckdb.ts");
});
