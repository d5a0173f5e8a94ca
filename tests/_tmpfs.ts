/**
 * A small tmpfs for tests of a full disk: mounted where this process may
 * mount one (root on Linux), else the tests that need it are ignored with
 * the reason {@linkcode tmpfsUnavailable} gives.
 *
 * @module
 */
import { REPO_ROOT } from "./_helpers.ts";

/** Run `script` with `sh -c` in the repository; its exit code and output. */
export async function sh(
  script: string,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** `arg` quoted for `sh`. */
export function quote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Mount a tmpfs of `kib` KiB at `dir`, or say why not. */
export async function mountTmpfs(dir: string, kib: number): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  const r = await sh(`mount -t tmpfs -o size=${kib}k ledger-test ${quote(dir)}`);
  return r.code === 0 ? undefined : `mount failed: ${r.stderr.trim().split("\n")[0]}`;
}

/** Unmount the tmpfs at `dir`; throws when it cannot. */
export async function unmount(dir: string): Promise<void> {
  const r = await sh(`umount ${quote(dir)}`);
  if (r.code !== 0) throw new Error(`umount ${dir} failed: ${r.stderr.trim()}`);
}

/** Why no tmpfs can be mounted here (probed once, mounted and unmounted), or `undefined`. */
export async function tmpfsUnavailable(): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "ledger-tmpfs-probe-" });
  try {
    const why = await mountTmpfs(dir, 64);
    if (why === undefined) await unmount(dir);
    return why;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Mount a tmpfs of `kib` KiB at `mnt` (made here), run `body`, unmount it.
 * For a test that {@linkcode tmpfsUnavailable} let run: a mount that fails
 * now is an error, not a skip.
 */
export async function withTmpfs(
  mnt: string,
  kib: number,
  body: () => Promise<void>,
): Promise<void> {
  await Deno.mkdir(mnt);
  const why = await mountTmpfs(mnt, kib);
  if (why !== undefined) throw new Error(`tmpfs mounted in the probe but not now: ${why}`);
  try {
    await body();
  } finally {
    await unmount(mnt);
  }
}
