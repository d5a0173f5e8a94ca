/**
 * `ledger ui`'s memory over many requests (a probe: it grew by about 40 KB a
 * request, without end, over 6,000 runs and 8,000 requests of the overview).
 * Most of it was the DuckDB binding: a LIST parameter leaks about 60 bytes a
 * value under Deno, and every page bound its run ids as one; the report's
 * statements take them as JSON text now. Not all: measured on that probe's
 * 6,000 runs (5,600 pages, resident memory with V8's heap collected), 42 KB
 * a page before, 15 KB after, the rest not found (each of the binding's
 * other paths alone, scalar parameters and result rows, grows by under 2 KB
 * a query). This test holds the part that was fixed: 2,000 pages of 500 runs
 * grew by 90 MiB with LIST parameters, 38-47 MiB without. Long mode (about
 * two minutes): the overview's queries run in a child process, as the
 * server runs them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { denoScriptArgs, longOnly, REPO_ROOT, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";

const CHILD = join(REPO_ROOT, "tests/report/_ui_memory_child.ts");

/** Pages served before the first measure: DuckDB's caches and the allocator settle. */
const WARM_UP_PAGES = 1_000;
/** Pages served between the two measures. */
const MEASURED_PAGES = 2_000;
/** Growth allowed over the measured pages, in bytes (38-47 MiB measured without LIST parameters, 90 MiB with). */
const GROWTH_BYTES_MAX = 64 * 1024 * 1024;

Deno.test({
  name: "ledger ui's overview binds no LIST: its memory grows by half as much over 2,000 pages",
  ignore: longOnly(import.meta.url),
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.UTC(2026, 0, 20);
      const events = Array.from({ length: 600 }, (_, i) =>
        [
          { event_type: "run.created", run_type: "policy", config: { i }, data_fingerprint: "fp" },
          { event_type: "run.completed", summary: { win_rate: (i % 97) / 97 }, artifact_paths: {} },
        ].map((e, k) => ({ ...e, run_id: `run-${i}`, timestamp_ms: t0 + i * 1000 + k }))).flat();
      await emitAndIndex(root, events);
      const out = await new Deno.Command(Deno.execPath(), {
        args: denoScriptArgs(
          CHILD,
          [root, String(WARM_UP_PAGES), String(MEASURED_PAGES)],
          ["--v8-flags=--expose-gc"],
        ),
        stderr: "inherit",
      }).output();
      assert.equal(out.code, 0);
      const { before, after, runs } = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(runs, 500);
      const grown = after - before;
      console.log(
        `ui_memory_test: ${MEASURED_PAGES} pages of 500 runs grew the process by ` +
          `${(grown / 1048576).toFixed(1)} MiB (resident, V8's heap collected)`,
      );
      assert.ok(grown < GROWTH_BYTES_MAX, `grew by ${grown} bytes`);
    });
  },
});
