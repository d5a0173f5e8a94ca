/**
 * `ledger ui --port 80` without the privilege to bind it says so, naming the
 * port (a probe: "ledger ui: Permission denied (os error 13)" alone). Run
 * without CAP_NET_BIND_SERVICE (`capsh --drop` when this process is root);
 * ignored, with the reason, where ports below 1024 are open to everyone or
 * the privilege cannot be dropped.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger, withTempDir } from "../_helpers.ts";
import { quote, sh } from "../_tmpfs.ts";

const PORT = 80;

async function whyNot(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  // Through cat: Deno 2.9 lets only -A read /proc, and the test task grants --allow-read.
  const read = await sh("cat /proc/sys/net/ipv4/ip_unprivileged_port_start");
  if (read.code !== 0) return `no ip_unprivileged_port_start: ${read.stderr.trim()}`;
  const start = Number(read.stdout.trim());
  if (start <= PORT) return `ports from ${start} are open to every user here`;
  if (Deno.uid() !== 0) return undefined;
  const capsh = await new Deno.Command("capsh", {
    args: ["--help"],
    stdout: "null",
    stderr: "null",
  })
    .output().then(() => true, (err) => {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    });
  return capsh ? undefined : "running as root without capsh to drop CAP_NET_BIND_SERVICE";
}

const WHY_NOT = await whyNot();
if (WHY_NOT !== undefined) console.log(`ignored: ui on a privileged port: ${WHY_NOT}`);

Deno.test({
  name: "ui: a privileged port without the privilege names the port, exit 1",
  ignore: WHY_NOT !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      await Deno.mkdir(root);
      const built = await runLedger(["rebuild-index", "--root", root]); // an empty index
      assert.equal(built.code, 0, built.stderr);
      const argv = [
        Deno.execPath(),
        ...denoScriptArgs(CLI_PATH, ["ui", "--root", root, "--port", String(PORT)], [
          "--allow-net",
        ]),
      ];
      const command = Deno.uid() === 0
        ? new Deno.Command("capsh", {
          args: ["--drop=cap_net_bind_service", "--", "-c", argv.map(quote).join(" ")],
          stdout: "piped",
          stderr: "piped",
        })
        : new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" });
      const r = await command.output();
      const stderr = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 1, stderr);
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], /cannot listen on port 80 on 127\.0\.0\.1: a port below 1024 needs/);
    });
  },
});
