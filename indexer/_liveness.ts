/**
 * Is the process of a running run still alive? Linux `/proc` answers for
 * this host: the pid must exist and must have started no later than the run
 * did (otherwise the pid was reused by another process). Needs read access
 * to `/proc` and `--allow-sys=hostname`; without them the check is skipped
 * and says why.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` start times (USER_HZ, 100 on Linux). */
const PROC_TICKS_PER_SECOND = 100;
/** Slack between a process's start and its `run.started` event, in ms. */
const START_SLACK_MS = 5_000;

/** The outcome of a liveness check: `alive` per pid, or why it was skipped. */
export type LivenessProbe =
  | { kind: "ok"; host: string; isAlive(pid: number, startedAtMs: number | null): boolean }
  | { kind: "skipped"; reason: string };

/**
 * A prober for this host, or the reason none is possible (no permission,
 * not Linux).
 */
export function probeLiveness(): LivenessProbe {
  let host: string;
  try {
    host = Deno.hostname();
  } catch (err) {
    return { kind: "skipped", reason: `hostname unavailable (${firstLine(err)})` };
  }
  let bootMs: number;
  try {
    bootMs = readBootTimeMs();
  } catch (err) {
    return { kind: "skipped", reason: `/proc unreadable (${firstLine(err)})` };
  }
  return {
    kind: "ok",
    host,
    isAlive(pid, startedAtMs) {
      const startMs = processStartMs(pid, bootMs);
      if (startMs === null) return false;
      return startedAtMs === null || startMs <= startedAtMs + START_SLACK_MS;
    },
  };
}

function readBootTimeMs(): number {
  const stat = Deno.readTextFileSync("/proc/stat");
  const m = /^btime (\d+)$/m.exec(stat);
  if (m === null) throw new Error("no btime line in /proc/stat");
  return Number(m[1]) * 1000;
}

/** Start time of `pid` in ms since epoch, or null when there is no such process. */
function processStartMs(pid: number, bootMs: number): number | null {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  // Fields after the command name (which may hold spaces and parentheses).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  if (state === "Z" || state === "X") return null; // zombie or dead: the run's process is gone
  const startTicks = Number(rest[19]); // field 22 overall: starttime
  return bootMs + (startTicks * 1000) / PROC_TICKS_PER_SECOND;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}
