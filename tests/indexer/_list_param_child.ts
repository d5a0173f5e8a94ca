/**
 * Child of `list_param_memory_test.ts`: runs the indexer's split statement
 * (`SPLIT_LINES_SQL`) on `files` many times, its paths passed as the
 * indexer passes them (`list`: JSON text) or as a bound DuckDB LIST
 * (`bound`, the code before), and prints the growth of resident memory
 * with V8's heap collected. Needs `--v8-flags=--expose-gc`.
 *
 * Arguments: mode (`json` or `bound`), statements, then the file paths.
 *
 * @module
 */
import { DuckDBInstance, loadDuckDB } from "../../indexer/duckdb.ts";
import { exec, jsonList } from "../../indexer/_sql.ts";
import { CREATE_SCAN_FILES_SQL, SPLIT_LINES_SQL } from "../../indexer/schema.ts";

const [mode, statements, ...paths] = Deno.args;
const { LIST, listValue, VARCHAR } = await loadDuckDB();
const instance = await DuckDBInstance.create(":memory:");
const conn = await instance.connect();
await exec(conn, CREATE_SCAN_FILES_SQL, [
  JSON.stringify(paths.map((p) => ({
    read_path: p,
    file: p,
    line_base: 0,
    byte_base: 0,
    size_bytes: 0,
    mtime_ms: 0,
    keep_raw: false,
  }))),
]);
const split = mode === "json"
  ? () => exec(conn, SPLIT_LINES_SQL, [jsonList(paths)])
  : () =>
    conn.run(SPLIT_LINES_SQL.replace("$1::JSON::VARCHAR[]", "$1"), [listValue(paths)], [
      LIST(VARCHAR),
    ]);
const collected = (): number => {
  (globalThis as unknown as { gc: () => void }).gc();
  return Deno.memoryUsage().rss;
};
for (let i = 0; i < 200; i++) await split(); // DuckDB's caches and the allocator settle
const before = collected();
for (let i = 0; i < Number(statements); i++) await split();
const after = collected();
const lines = (await conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM stage_lines"))
  .getRowObjectsJS()[0].n;
conn.disconnectSync();
instance.closeSync();
console.log(JSON.stringify({ grown: after - before, lines }));
