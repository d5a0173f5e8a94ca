/**
 * `ledger ship --root` of a folder with no `events/` (a mistyped root that
 * exists: `--root data` for `data/ledger`) shipped nothing, exit 0, in silence
 * (helper-289), where `rebuild-index` warns. It warns too, and still ships
 * what comes (a worker's shipper may start before its first event). The
 * endpoint is a closed loopback port: the warning comes before any request.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, withTempDir } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { loopbackS3Env } from "./_loopback.ts";

/** A loopback port nothing listens on (taken, then let go). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function ship(root: string, port: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CLI_PATH, ["ship", "--root", root, "--to", "s3://fleet/x", "--once"], [
      `--allow-net=127.0.0.1:${port}`,
    ]),
    env: loopbackS3Env(port),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("ship of a root with no events/ warns that --root may be wrong", async () => {
  await withTempDir(async (tmp) => {
    const port = closedPort();
    const mistyped = join(tmp, "data");
    await Deno.mkdir(mistyped);
    const warning =
      /^ledger ship: warning: .*data has no events\/ directory \(is --root the ledger root/m;
    const r = await ship(mistyped, port);
    assert.equal(r.code, 1, r.stderr); // then the endpoint cannot be reached
    assert.match(r.stderr, warning);
    const root = join(tmp, "data", "ledger");
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
    const right = await ship(root, port);
    assert.equal(right.code, 1, right.stderr);
    assert.doesNotMatch(right.stderr, /no events\/ directory/);
  });
});
