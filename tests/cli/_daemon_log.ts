/**
 * A `ledger daemon --log-json` child whose log a test reads as it goes.
 *
 * @module
 */

/** One line of a daemon's `--log-json` log. */
export interface DaemonLogLine {
  /** `debug`, `info`, `warn` or `error`. */
  level: string;
  /** What it says. */
  msg: string;
}

/** A running daemon: its log so far, and how to stop it. */
export interface DaemonChild {
  /** The log lines written so far. */
  entries(): DaemonLogLine[];
  /** The log as written so far, for a failure's message. */
  text(): string;
  /** SIGTERM it and wait: its exit code, its standard error. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Start `command ARGS` (a `ledger daemon ... --log-json`) with `LEDGER_ROOT` unset. */
export function startDaemon(command: string, args: string[]): DaemonChild {
  const child = new Deno.Command(command, {
    args,
    env: { LEDGER_ROOT: "" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let out = "";
  const reading = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (out += chunk) }),
  );
  return {
    entries: () =>
      out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as DaemonLogLine),
    text: () => out,
    stop: async () => {
      child.kill("SIGTERM");
      const status = await child.status;
      await reading;
      return { code: status.code, stderr: await stderr };
    },
  };
}
