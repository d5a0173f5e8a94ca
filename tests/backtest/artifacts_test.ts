/**
 * The run directory's temporary files: a manifest whose write fails (a full
 * disk) is removed, not left as `manifest.json.tmp-*` beside the artifacts.
 * The failure is injected through the durable-I/O seam; the disk suite
 * (`tests/reliability/disk_test.ts`) does it on a real full tmpfs.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, rejects, strictEqual as equal } from "node:assert/strict";
import { type Manifest, MANIFEST_VERSION, RunDirectory } from "../../backtest/artifacts.ts";
import { REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";

const MANIFEST: Manifest = {
  manifest_version: MANIFEST_VERSION,
  run_id: "r-1",
  run_type: "policy",
  status: "failed",
  created_at: "2026-01-05T00:00:00.000Z",
  finished_at: "2026-01-05T00:00:01.000Z",
  config: {},
  inputs: {},
  data_fingerprint: "fp",
  git: { commit: null, branch: null, dirty: null },
  outputs: {},
  summary: null,
  error: { message: "boom", phase_name: "aggregate" },
};

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("a manifest that cannot be written leaves no temporary file", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger_artifacts_" });
  try {
    const dir = await RunDirectory.create(root, "r-1");
    await t.step("staging fails (no space while syncing): the temp file is removed", async () => {
      const restore = useDurableFs({
        ...REAL_FS,
        open: (path, options) =>
          path.includes(".tmp-")
            ? Promise.reject(new Error("No space left on device (os error 28)"))
            : REAL_FS.open(path, options),
      });
      try {
        await rejects(dir.stageManifest(MANIFEST), /No space left on device/);
      } finally {
        restore();
      }
      deepEqual(await names(dir.path), []);
      deepEqual(dir.removeTempFilesSync(), [], "nothing left in flight either");
    });
    await t.step("committing fails: the staged file is removed", async () => {
      const staged = await dir.stageManifest(MANIFEST);
      const restore = useDurableFs({
        ...REAL_FS,
        rename: () => Promise.reject(new Error("Read-only file system (os error 30)")),
      });
      try {
        await rejects(dir.commitManifest(staged), /Read-only file system/);
      } finally {
        restore();
      }
      deepEqual(await names(dir.path), []);
    });
    await t.step("the next manifest is written as usual", async () => {
      const { path } = await dir.writeManifest(MANIFEST);
      equal(JSON.parse(await Deno.readTextFile(path)).run_id, "r-1");
      deepEqual(await names(dir.path), ["manifest.json"]);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
