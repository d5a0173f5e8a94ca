/**
 * `deno task emit` runs `cli/_emit_bundle/`, generated from
 * `cli/ledger_emit.ts` by `scripts/bundle_emit.ts`: the committed bundle
 * must be exactly what bundling the source gives now (so no change to the
 * emit, or to deno.json which it embeds, lands without it), it must behave
 * as the source does, and its start must not load what a valid event does
 * not need.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import {
  bundleDifferences,
  bundleEmit,
  EMIT_BUNDLE_DIR,
  EMIT_BUNDLE_ENTRY,
  EMIT_ENTRY,
} from "../../scripts/bundle_emit.ts";
import { withTempDir } from "../ledger/_helpers.ts";
import denoJson from "../../deno.json" with { type: "json" };

const REPO = new URL("../../", import.meta.url).pathname;

Deno.test("the committed emit bundle is the bundle of cli/ledger_emit.ts", async () => {
  await withTempDir(async (dir) => {
    const files = await bundleEmit(REPO, dir);
    ok(files.includes("ledger_emit.js"), `no entry file among ${files.join(", ")}`);
    deepEqual(
      await bundleDifferences(dir, join(REPO, EMIT_BUNDLE_DIR)),
      [],
      `${EMIT_BUNDLE_DIR} is stale: run deno task bundle-emit`,
    );
  });
});

Deno.test("deno task bundle-emit refuses an unknown flag in one line, exit 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "scripts/bundle_emit.ts",
      "--chek",
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  equal(out.code, 2);
  equal(stderr.split("\n").length, 1, stderr);
  ok(stderr.includes("--chek"), stderr);
});

Deno.test("deno task emit runs the bundle", () => {
  ok(denoJson.tasks.emit.endsWith(` ${EMIT_BUNDLE_ENTRY}`), denoJson.tasks.emit);
});

/** The files a bundle file imports statically (`import ... from "./x.js"`, `import "./x.js"`). */
function staticImports(text: string): string[] {
  return [...text.matchAll(/^import\s+(?:[^;]*?\s+from\s+)?"([^"]+)"/gms)].map((m) => m[1]);
}

Deno.test("the bundle's start loads neither the registry nor zod", async () => {
  // Every file loaded before the first line runs: the entry and its static imports, transitively.
  const loaded = new Set<string>();
  const pending = ["./ledger_emit.js"];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (loaded.has(name)) continue;
    loaded.add(name);
    const text = await Deno.readTextFile(join(REPO, EMIT_BUNDLE_DIR, name));
    for (const specifier of staticImports(text)) {
      ok(!specifier.startsWith("npm:"), `${name} imports ${specifier} at start`);
      ok(specifier.startsWith("./chunk-"), `${name} loads ${specifier} at start`);
      pending.push(specifier);
    }
  }
  ok(loaded.size > 1, "the entry imports its shared chunks");
  // The registry (zod) is a chunk of its own, loaded only by a dynamic import.
  const entry = await Deno.readTextFile(join(REPO, EMIT_BUNDLE_ENTRY));
  ok(/await import\("\.\/events-[A-Z0-9]+\.js"\)/.test(entry), "no dynamic import of the registry");
  const registry = entry.match(/await import\("\.\/(events-[A-Z0-9]+\.js)"\)/)![1];
  const registryText = await Deno.readTextFile(join(REPO, EMIT_BUNDLE_DIR, registry));
  const zodChunks: string[] = [];
  for (const specifier of staticImports(registryText)) {
    const text = await Deno.readTextFile(join(REPO, EMIT_BUNDLE_DIR, specifier));
    if (text.includes('from "npm:zod@')) zodChunks.push(specifier);
  }
  ok(zodChunks.length > 0, "the registry's chunks import zod"); // so the check above could fail
});

/** Run one emit entry (`entry` relative to the repository) with the task's permissions. */
async function emit(entry: string, root: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${root}`,
      `--allow-write=${root}`,
      "--allow-env=LEDGER_ROOT",
      entry,
      "--root",
      root,
      ...args,
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replaceAll(root, "ROOT");
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("the bundle writes and refuses what the source does", async () => {
  await withTempDir(async (dir) => {
    const calls: string[][] = [
      [
        "--event-type=run.created",
        "--run-id=r1",
        "--run-type=sweep",
        "--config={}",
        "--data-fingerprint=f",
        "--event-id=e1",
        "--timestamp-ms=1767225600000",
      ],
      ["--event-type=run.started", "--run-id=r1", "--event-id=e2", "--timestamp-ms=1767225600001"],
      ["--event-type=run.started", "--run-id=r2", "--event-id=e3", "--timestamp-ms=1767225600002"],
      ["--event", '{"event_type":"run.started","run_id":"r1","pid":"x"}'], // zod's words
      [
        "--event-type=run.created",
        "--run-id=r1",
        "--run-type=sweep",
        "--config={}",
        "--data-fingerprint=f",
      ], // the run exists
      ["--event-type=run.bogus", "--run-id=r1"],
      ["--help"],
    ];
    const results: Record<string, unknown>[] = [];
    for (const entry of [EMIT_ENTRY, EMIT_BUNDLE_ENTRY]) {
      const root = join(dir, entry.replaceAll("/", "_"));
      await Deno.mkdir(root);
      const outcomes = [];
      for (const args of calls) outcomes.push(await emit(entry, root, args));
      const log = await Deno.readTextFile(join(root, "events/day=2026-01-01/emit-000001.jsonl"));
      results.push({ outcomes, log });
    }
    const [source, bundle] = results;
    deepEqual(bundle, source);
    const codes = (source.outcomes as { code: number }[]).map((o) => o.code);
    deepEqual(codes, [0, 0, 0, 1, 2, 1, 0]); // so the comparison covers each path
    equal((source.log as string).split("\n").length, 4); // three lines and the final newline
  });
});
