/**
 * A server that ignores conditional writes (`If-None-Match: *`): s3rver
 * (npm), a real S3 API server, writes an object over itself when asked not
 * to. `ledger ship` finds it out with its first chunk, warns (one line),
 * and ships on: each chunk only where a look finds no object, read back
 * after. A storage audit once had two machines' ships of one part to
 * s3rver overwrite each other's lines, both exit 0; the race is now found by
 * the read-back (the loser's conflict, exit 1) whenever the other write
 * lands before it. Ceph RGW, which honours the condition, ships as before
 * (`ship_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLI_PATH,
  DENO_RUN,
  denoScriptArgs,
  runLedger,
  taskPermissionFlags,
  withTempDir,
} from "../_helpers.ts";
import { openS3Store } from "../../storage/s3.ts";
import type { ObjectStore } from "../../storage/object_store.ts";
import { shipOnce } from "../../storage/ship.ts";

/** s3rver's version, run by Deno from the npm registry. */
const S3RVER = "npm:s3rver@3.7.1/bin/s3rver.js";
/** Every file under `dir`, as paths. */
async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* walk(path);
    else yield path;
  }
}

/** Time s3rver may take to start (its first run downloads it). */
const START_MS_MAX = 120_000;
/** s3rver's fixed credentials. */
const KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** The environment of a `ledger` process using s3rver on `port` (no LEDGER_ROOT of this one's). */
function s3rverEnv(port: number): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
    LEDGER_ROOT: "",
  };
}

/** The bucket `fleet` of s3rver on `port`, in this process. */
function s3rverStore(port: number): ObjectStore {
  return openS3Store("fleet", {
    endpoint: { endpoint: `http://127.0.0.1:${port}`, region: "us-east-1" },
    credentials: KEYS,
  });
}

/** A `run.noted` line of run `r`, event `evt-<i>`, at 2026-01-20 plus `i` ms. */
function notedLine(i: number, note: string): string {
  return JSON.stringify({
    event_id: `evt-${i}`,
    event_type: "run.noted",
    run_id: "r",
    timestamp_ms: Date.UTC(2026, 0, 20) + i,
    schema_version: 1,
    note,
  });
}

/** Run `fn` with s3rver serving the bucket `fleet` from `tmp/s3` on a free loopback port. */
async function withS3rver(tmp: string, fn: (port: number) => Promise<void>): Promise<void> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "-A", S3RVER, "-d", join(tmp, "s3"), "-a", "127.0.0.1"]
      .concat(["-p", String(port), "--silent", "--configure-bucket", "fleet"]),
    cwd: tmp,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(server.stderr).text();
  try {
    const deadline = Date.now() + START_MS_MAX;
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch (err) {
        if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
        assert.ok(Date.now() < deadline, "s3rver did not start");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await fn(port);
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await stderr;
  }
}

/** The chunk objects s3rver holds (it keeps each as a file named `<key>._S3rver_object`). */
async function chunkFiles(tmp: string): Promise<string[]> {
  const objects: string[] = [];
  for await (const e of walk(join(tmp, "s3", "fleet"))) objects.push(e);
  return objects.filter((o) => o.endsWith("._S3rver_object")).sort();
}

Deno.test("ship warns of a server that overwrites, and ships every line to it", async () => {
  await withTempDir(async (tmp) => {
    await withS3rver(tmp, async (port) => {
      const root = join(tmp, "worker");
      // Two parts (two days): both reach the bucket (until 0.8.0 the pass stopped after the
      // first chunk, exit 1, and every later ship was refused).
      const day = (d: number) =>
        JSON.stringify({
          event_type: "run.created",
          run_id: `r${d}`,
          timestamp_ms: Date.UTC(2026, 0, 20 + d),
          run_type: "t",
          config: {},
          data_fingerprint: "fp",
        });
      const created = await runLedger(["emit", "--root", root, "--stdin"], {
        stdin: `${day(0)}\n${day(1)}\n`,
      });
      assert.equal(created.code, 0, created.stderr);
      const env = s3rverEnv(port);
      const ledger = async (args: string[]) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(CLI_PATH, args, [`--allow-net=127.0.0.1:${port}`]),
          env,
        }).output();
        const dec = new TextDecoder();
        return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
      };
      const warning =
        /^ledger ship: warning: s3:\/\/fleet at http:\/\/127\.0\.0\.1:\d+ overwrote an object when asked not to \(If-None-Match: \*\), as s3rver does/;
      // Found out by the first pass, then known from the state file by a new process.
      for (const pass of ["first", "again"]) {
        const shipped = await ledger(["ship", "--root", root, "--to", "s3://fleet/x", "--once"]);
        assert.equal(shipped.code, 0, `${pass}: ${shipped.stderr}`);
        const lines = shipped.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, shipped.stderr);
        assert.match(lines[0], warning);
      }
      assert.equal((await chunkFiles(tmp)).length, 2);
      const state = JSON.parse(
        await Deno.readTextFile(
          join(
            root,
            "ship",
            (await Array.fromAsync(Deno.readDir(join(root, "ship"))))
              .map((e) => e.name).find((n) => n.endsWith(".json"))!,
          ),
        ),
      );
      assert.equal(state.refuses_overwrite, false);
      // Every event is in the bucket: an index built from it has both runs.
      const from = await ledger([
        "rebuild-index",
        "--root",
        join(tmp, "reader"),
        "--from",
        "s3://fleet/x",
      ]);
      assert.equal(from.code, 0, from.stderr);
      const runs = await runLedger(["runs", "--root", join(tmp, "reader"), "--json"]);
      assert.equal(runs.code, 0, runs.stderr);
      assert.deepEqual(JSON.parse(runs.stdout).map((r: { run_id: string }) => r.run_id).sort(), [
        "r0",
        "r1",
      ]);
      // The same with deno task rebuild-index's own permissions (a probe: the task had no
      // network and no AWS variables, so `deno task rebuild-index --from` could not run).
      const viaTask = await new Deno.Command(Deno.execPath(), {
        args: [
          ...DENO_RUN,
          ...await taskPermissionFlags("rebuild-index", tmp),
          CLI_PATH,
          "rebuild-index",
          "--root",
          join(tmp, "data", "ledger"),
          "--from",
          "s3://fleet/x",
        ],
        env,
      }).output();
      assert.equal(viaTask.code, 0, new TextDecoder().decode(viaTask.stderr));
      const counted = await runLedger(["runs", "--root", join(tmp, "data", "ledger"), "--json"]);
      assert.equal(JSON.parse(counted.stdout).length, 2, counted.stdout);
    });
  });
});

Deno.test("ship to a server that overwrites finds another ship's chunk written over its own", async () => {
  await withTempDir(async (tmp) => {
    await withS3rver(tmp, async (port) => {
      const real = s3rverStore(port);
      const location = { bucket: "fleet", prefix: "x/" };
      const endpoint = `http://127.0.0.1:${port}`;
      // Each root: one part of the same name whose first line is the same event (one backfill
      // run on two machines: one remote part), then a line of its own.
      const first = JSON.stringify({
        event_id: "evt-shared",
        event_type: "run.created",
        run_id: "shared",
        timestamp_ms: Date.UTC(2026, 0, 20),
        schema_version: 1,
        run_type: "t",
        config: {},
        data_fingerprint: "fp",
      });
      const own = (machine: string) =>
        JSON.stringify({
          event_id: `evt-${machine}`,
          event_type: "run.started",
          run_id: "shared",
          timestamp_ms: Date.UTC(2026, 0, 20, 1),
          schema_version: 1,
          host: machine,
        });
      const rootOf = async (machine: string, lines: string[]) => {
        const dir = join(tmp, machine, "events", "day=2026-01-20");
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(join(dir, "part-000001.jsonl"), lines.join("\n") + "\n");
        return join(tmp, machine);
      };
      // Machine a ships its first line alone; the server is found to overwrite.
      const a = await rootOf("a", [first]);
      const aFirst = await shipOnce(a, real, location, { endpoint });
      assert.deepEqual(aFirst.problems, []);
      assert.match(aFirst.warnings.join("\n"), /overwrote an object when asked not to/);
      // Both append a line of their own at the same offset. Machine b's write lands right
      // after a's: a's read-back finds b's bytes at its key.
      await Deno.writeTextFile(
        join(a, "events", "day=2026-01-20", "part-000001.jsonl"),
        own("a") + "\n",
        {
          append: true,
        },
      );
      const b = await rootOf("b", [first, own("b")]);
      const racing: ObjectStore = {
        description: real.description,
        check: () => real.check(),
        list: (prefix, options) => real.list(prefix, options),
        get: (key, range) => real.get(key, range),
        head: (key) => real.head(key),
        delete: (key) => real.delete(key),
        putIfAbsent: async (key, body) => {
          const result = await real.putIfAbsent(key, body);
          if (key.endsWith(`.${String(first.length + 1).padStart(16, "0")}.jsonl`)) {
            const other = await Deno.readFile(
              join(b, "events", "day=2026-01-20", "part-000001.jsonl"),
            );
            await real.putIfAbsent(key, other.subarray(first.length + 1)); // b's ship, unconditioned
          }
          return result;
        },
      };
      const aSecond = await shipOnce(a, racing, location, { endpoint });
      assert.equal(aSecond.problems.length, 1, JSON.stringify(aSecond));
      assert.match(
        aSecond.problems[0],
        /part-000001\.[0-9a-f]{12}\.0{13}170\.jsonl differs from the local log at bytes 170-/,
      );
      // The byte that differs and its line, not only the chunk's range (a probe).
      const differing = 170 + own("a").indexOf("evt-a") + "evt-".length;
      assert.match(
        aSecond.problems[0],
        new RegExp(`; first at byte ${differing}, in the local line from byte 170$`),
      );
      assert.equal(aSecond.chunksPut, 0, "a's overwritten chunk was counted as shipped");
      // b, shipping now, finds its own line there: nothing to write, nothing wrong.
      const bShip = await shipOnce(b, real, location, { endpoint });
      assert.deepEqual(bShip.problems, [], JSON.stringify(bShip));
      assert.equal(bShip.chunksPut, 0);
    });
  });
});

// A probe: a ship killed with SIGKILL mid-upload to s3rver left the chunk it was writing cut
// short (s3rver keeps the body of a PUT whose sender died), and every later ship of the part
// exited 1 ("differs from the local log"), its new lines never shipped.
Deno.test("ship removes a chunk cut off by a kill mid-upload, and ships its lines again", async () => {
  await withTempDir(async (tmp) => {
    await withS3rver(tmp, async (port) => {
      const env = s3rverEnv(port);
      const shipArgs = (root: string, prefix: string) =>
        denoScriptArgs(
          CLI_PATH,
          ["ship", "--root", root, "--to", `s3://fleet/${prefix}`, "--once"],
          [
            `--allow-net=127.0.0.1:${port}`,
          ],
        );
      // One part of 40 MiB (three chunks): a chunk takes long enough to upload to be caught.
      const root = join(tmp, "worker");
      const dayDir = join(root, "events", "day=2026-01-20");
      await Deno.mkdir(dayDir, { recursive: true });
      const pad = "x".repeat(900);
      const lines: string[] = [];
      for (let i = 0; lines.length * 1000 < 40 * 1024 * 1024; i++) {
        lines.push(notedLine(i, pad));
      }
      const part = join(dayDir, "part-000001.jsonl");
      await Deno.writeTextFile(part, lines.join("\n") + "\n");
      const real = s3rverStore(port);
      // Kill each attempt's ship as soon as s3rver has begun writing a chunk, until one is
      // left cut short (a kill can land after the body arrived whole: then try again).
      let torn: { prefix: string; key: string; size: number } | undefined;
      for (let attempt = 0; attempt < 6 && torn === undefined; attempt++) {
        const prefix = `torn-${attempt}`;
        await Deno.remove(join(root, "ship"), { recursive: true }).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
        const child = new Deno.Command(Deno.execPath(), {
          args: shipArgs(root, prefix),
          env,
          stdout: "null",
          stderr: "null",
        }).spawn();
        const objects = join(tmp, "s3", "fleet", prefix);
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const found = await chunkFilesUnder(objects);
          if (found.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        child.kill("SIGKILL");
        await child.status;
        await new Promise((resolve) => setTimeout(resolve, 500)); // s3rver ends the request
        for await (const o of real.list(`${prefix}/`)) {
          const body = await real.get(o.key);
          if (body.length === 0 || body[body.length - 1] !== 0x0a) {
            torn = { prefix, key: o.key, size: body.length };
          }
        }
      }
      assert.ok(torn !== undefined, "no kill left a chunk cut short in 6 attempts");
      // An index of the bucket made meanwhile holds the whole lines of the cut-off chunk.
      const reader = join(tmp, "reader");
      const indexed = async () => {
        const built = await new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(CLI_PATH, [
            ...["rebuild-index", "--root", reader, "--from", `s3://fleet/${torn!.prefix}`],
          ], [`--allow-net=127.0.0.1:${port}`]),
          env,
        }).output();
        const warnings = new TextDecoder().decode(built.stderr);
        assert.equal(built.code, 0, warnings);
        const r = await runLedger([
          ...["sql", "select count(*) as n from events", "--root", reader, "--format", "jsonl"],
        ]);
        assert.equal(r.code, 0, r.stderr);
        return { n: JSON.parse(r.stdout).n, warnings };
      };
      const { n: before } = await indexed();
      assert.ok(before < lines.length, `${before} events indexed from a cut-off chunk`);
      // The next ship removes it, says so in one warning, and ships every line.
      const again = await new Deno.Command(Deno.execPath(), {
        args: shipArgs(root, torn.prefix),
        env,
      }).output();
      const stderr = new TextDecoder().decode(again.stderr);
      assert.equal(again.code, 0, stderr);
      // A kill before the first byte of the body leaves an empty object, said as such (a local
      // run caught one: this test expected "held 0 bytes ending mid-line").
      assert.match(
        stderr,
        new RegExp(
          torn.size === 0
            ? `bucket object ${torn.key} was empty \\(an upload cut off, kept by the server\\)`
            : `bucket object ${torn.key} held ${torn.size} bytes ending mid-line`,
        ),
      );
      const shipped: string[] = [];
      for await (const o of real.list(`${torn.prefix}/`)) {
        const text = new TextDecoder().decode(await real.get(o.key));
        assert.ok(text.endsWith("\n"), `${o.key} ends mid-line`);
        shipped.push(text);
      }
      assert.equal(shipped.join(""), lines.join("\n") + "\n");
      // The index of the bucket drops what it mirrored of the removed chunk and reads it again.
      const after = await indexed();
      assert.equal(after.n, lines.length);
      // Said as ship's own repair, not only as something else's write (a probe).
      assert.match(after.warnings, /changed in the bucket .*a chunk cut off mid-upload that ship/);
      // A part grown since ships its new lines on (the part was blocked for good before).
      await Deno.writeTextFile(part, lines[0].replace("evt-0", "evt-new") + "\n", {
        append: true,
      });
      const grown = await new Deno.Command(Deno.execPath(), {
        args: shipArgs(root, torn.prefix),
        env,
      }).output();
      assert.equal(grown.code, 0, new TextDecoder().decode(grown.stderr));
    });
  });
});

/** The object files s3rver holds under `dir` (none when it does not exist). */
async function chunkFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const p of walk(dir)) if (p.endsWith("._S3rver_object")) out.push(p);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

// The companion of the kill test, without timing: an object left cut short at a chunk's key is
// removed and shipped again only when its bytes are the local part's; other bytes ending
// mid-line are a conflict, and the object is left as it was.
Deno.test("ship removes a cut-off chunk only when its bytes are the part's", async () => {
  await withTempDir(async (tmp) => {
    await withS3rver(tmp, async (port) => {
      const real = s3rverStore(port);
      const endpoint = `http://127.0.0.1:${port}`;
      const root = join(tmp, "worker");
      const dayDir = join(root, "events", "day=2026-01-20");
      await Deno.mkdir(dayDir, { recursive: true });
      const lines = [0, 1, 2].map((i) => notedLine(i, "n"));
      const local = new TextEncoder().encode(lines.join("\n") + "\n");
      await Deno.writeFile(join(dayDir, "part-000001.jsonl"), local);
      // The key of the part's first chunk, learnt by shipping it to another prefix.
      const model = await shipOnce(root, real, { bucket: "fleet", prefix: "model/" }, { endpoint });
      assert.deepEqual(model.problems, []);
      const [modelKey] = (await Array.fromAsync(real.list("model/"))).map((o) => o.key);
      const cut = local.subarray(0, lines[0].length + 10); // one line and part of the next
      const bad = cut.slice();
      bad[bad.length - 1] ^= 1;
      for (
        const [prefix, body, repaired] of [["same/", cut, true], ["other/", bad, false]] as const
      ) {
        const key = modelKey.replace(/^model\//, prefix);
        assert.equal(await real.putIfAbsent(key, body), "created");
        const report = await shipOnce(root, real, { bucket: "fleet", prefix }, { endpoint });
        if (repaired) {
          assert.deepEqual(report.problems, [], prefix);
          assert.match(
            report.warnings.join("\n"),
            new RegExp(`${key} held ${cut.length} bytes ending mid-line`),
          );
          assert.deepEqual(await real.get(key), local);
        } else {
          assert.equal(report.problems.length, 1, JSON.stringify(report));
          assert.match(
            report.problems[0],
            new RegExp(
              `${key} differs from the local log at bytes 0-${bad.length}; first at byte ${
                bad.length - 1
              }, in the local line from byte ${lines[0].length + 1}`,
            ),
          );
          assert.deepEqual(await real.get(key), bad, "the object was changed");
        }
      }
    });
  });
});

// A probe: a chunk missing from the middle of a part is uploaded again; a ship killed during that
// upload left it cut short before the next chunk, and every later ship exited 1 ("the bucket was
// changed by something else"), the index waiting for its bytes for good.
Deno.test("ship repairs a cut-off refill of a missing chunk, before the chunks after it", async () => {
  await withTempDir(async (tmp) => {
    await withS3rver(tmp, async (port) => {
      const real = s3rverStore(port);
      const endpoint = `http://127.0.0.1:${port}`;
      const location = { bucket: "fleet", prefix: "gap/" };
      const root = join(tmp, "worker");
      const dayDir = join(root, "events", "day=2026-01-20");
      await Deno.mkdir(dayDir, { recursive: true });
      const part = join(dayDir, "part-000001.jsonl");
      let n = 0;
      const append = async () => {
        const lines = [0, 1, 2].map(() => notedLine(n++, "n".repeat(100)));
        await Deno.writeTextFile(part, lines.join("\n") + "\n", { append: true });
      };
      // Three passes, three chunks.
      for (let pass = 0; pass < 3; pass++) {
        await append();
        assert.deepEqual((await shipOnce(root, real, location, { endpoint })).problems, []);
      }
      const keys = (await Array.fromAsync(real.list("gap/"))).map((o) => o.key);
      assert.equal(keys.length, 3);
      // The middle chunk removed, then its refill cut off: 100 of its bytes, ending mid-line.
      const local = await Deno.readFile(part);
      const start = Number(keys[1].match(/\.(\d{16})\.jsonl$/)![1]);
      await real.delete(keys[1]);
      assert.equal(await real.putIfAbsent(keys[1], local.subarray(start, start + 100)), "created");
      // Found by a pass that compares the bucket (--verify), or by the next with new lines.
      const report = await shipOnce(root, real, location, { endpoint, verifyAll: true });
      assert.deepEqual(report.problems, [], JSON.stringify(report));
      assert.match(
        report.warnings.join("\n"),
        new RegExp(`${keys[1]} held 100 bytes ending mid-line`),
      );
      const shipped = await Promise.all(
        (await Array.fromAsync(real.list("gap/"))).map((o) => real.get(o.key)),
      );
      assert.deepEqual(
        shipped.map((b) => new TextDecoder().decode(b)).join(""),
        new TextDecoder().decode(local),
      );
    });
  });
});
