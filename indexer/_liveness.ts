/**
 * Is the process of a running run still alive? Asked for this host only,
 * in two ways, the first that the permissions allow:
 *
 * 1. Linux `/proc/<pid>/stat` (Deno 2.9 lets only `--allow-all` read
 *    `/proc`): the pid must exist, not be a zombie, and have started no
 *    later than the run did (otherwise the pid was reused).
 * 2. `ps -e -o pid=,stat=,etime=` (needs `--allow-run=ps`; Linux and macOS):
 *    the same checks from the elapsed time since each process started.
 *
 * Both need the hostname (`--allow-sys=hostname`). Without any of this the
 * check is skipped and says why; only the "silent too long" rule then marks
 * runs stale. So is a process table that cannot be trusted: a `ps` that
 * fails, or a table without pid 1 or the indexer's own process (`/proc`
 * mounted with `hidepid` and the indexer another user than the backtests),
 * where every process it hides would read as dead.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` start times (USER_HZ, 100 on Linux). */
const PROC_TICKS_PER_SECOND = 100;
/** Slack between a process's start and its `run.started` event, in ms (clock skew, ps's 1 s grain). */
export const START_SLACK_MS = 5_000;
/** Longest wait for `ps`. */
const PS_TIMEOUT_MS = 10_000;

/** A process to check: its pid and when its run started (null when unknown). */
export interface LivenessCandidate {
  /** Process id from `run.started`. */
  pid: number;
  /** `started_at_ms` of the run, for the pid-reuse check. */
  startedAtMs: number | null;
}

/**
 * The candidate of one row of the index's liveness query
 * (`SELECT_LIVENESS_CANDIDATES_SQL`: `pid`, `started_at_ms`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { candidateOf } from "./_liveness.ts";
 * assert.deepEqual(candidateOf({ pid: 42, started_at_ms: null }), { pid: 42, startedAtMs: null });
 * ```
 */
export function candidateOf(row: Record<string, unknown>): LivenessCandidate {
  return {
    pid: Number(row.pid),
    startedAtMs: row.started_at_ms === null ? null : Number(row.started_at_ms),
  };
}

/** A liveness checker for this host, or why there is none. */
export type LivenessProbe =
  | {
    kind: "ok";
    host: string;
    method: "proc" | "ps";
    /**
     * Look at the process table once: a check of candidates against it,
     * or {@linkcode ProcessTableHiddenError} when it cannot be trusted.
     */
    look(): Promise<ProcessTableLook>;
  }
  | { kind: "skipped"; reason: string };

/** The process table as one look saw it ({@linkcode LivenessProbe}). */
export interface ProcessTableLook {
  /** Whether each candidate's process is alive and started in time for its run. */
  check(candidates: readonly LivenessCandidate[]): boolean[];
}

/**
 * The process table cannot be trusted to list the runs' processes: `ps`
 * failed, or it (or `/proc`) does not list pid 1 or this process, which
 * happens when `/proc` is mounted with `hidepid` and the indexer runs as
 * another user than the backtests. Every pid it does not list would read as
 * dead, so every live run as `stale` (a probe); the check is skipped, and
 * says this reason, instead.
 */
export class ProcessTableHiddenError extends Error {
  /** Create the error, saying why the table cannot be trusted. */
  constructor(reason: string) {
    super(reason);
    this.name = "ProcessTableHiddenError";
  }
}

/** Pid 1 is in every process table (and pid namespace): one that hides it hides others. */
const INIT_PID = 1;

/** The best checker the permissions allow. */
export function probeLiveness(): LivenessProbe {
  let host: string;
  try {
    host = Deno.hostname();
  } catch (err) {
    return { kind: "skipped", reason: `hostname unavailable (${firstLine(err)})` };
  }
  let procError: string;
  try {
    const bootMs = readBootTimeMs();
    return {
      kind: "ok",
      host,
      method: "proc",
      look: () => {
        // One listing of /proc first: a pid not in it is no process (a probe: two million
        // runs of ended processes took 25 s of failed opens of /proc/PID/stat). A process that
        // starts after the listing started after every run checked here: not theirs.
        const running = processIds();
        for (const pid of [INIT_PID, Deno.pid]) {
          let seen: boolean;
          try {
            // Listed, and readable: `hidepid=noaccess` lists every pid but refuses their stat.
            seen = (running?.has(pid) ?? true) && processStartMs(pid, bootMs) !== null;
          } catch (err) {
            if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
            seen = false;
          }
          if (!seen) {
            throw new ProcessTableHiddenError(
              `/proc does not show pid ${pid} (mounted with hidepid, the indexer another user?)`,
            );
          }
        }
        return Promise.resolve({
          check: (candidates) =>
            candidates.map((c) =>
              (running?.has(c.pid) ?? true) && startedInTime(processStartMs(c.pid, bootMs), c)
            ),
        });
      },
    };
  } catch (err) {
    if (!isPermissionOrMissing(err)) throw err;
    procError = firstLine(err);
  }
  if (Deno.permissions.querySync({ name: "run", command: "ps" }).state === "granted") {
    return { kind: "ok", host, method: "ps", look: lookWithPs };
  }
  return {
    kind: "skipped",
    reason: `/proc unreadable (${procError}) and no --allow-run=ps`,
  };
}

function startedInTime(startMs: number | null, c: LivenessCandidate): boolean {
  if (startMs === null) return false;
  return c.startedAtMs === null || startMs <= c.startedAtMs + START_SLACK_MS;
}

/**
 * The pids of the processes /proc lists now; undefined when it cannot be
 * listed (a read permission for `/proc/stat` alone), and each pid is then
 * looked up by itself.
 */
function processIds(): Set<number> | undefined {
  const pids = new Set<number>();
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (/^\d+$/.test(entry.name)) pids.add(Number(entry.name));
    }
  } catch (err) {
    if (!isPermissionOrMissing(err)) throw err;
    return undefined;
  }
  return pids;
}

function readBootTimeMs(): number {
  const stat = Deno.readTextFileSync("/proc/stat");
  const m = /^btime (\d+)$/m.exec(stat);
  if (m === null) throw new Deno.errors.NotFound("no btime line in /proc/stat");
  return Number(m[1]) * 1000;
}

/** Start time of `pid` in ms since epoch, or null when there is no such live process. */
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

/**
 * Ask `ps` once for every process; a pid it does not list is gone. A `ps`
 * that fails, or lists neither pid 1 nor this process, is no answer
 * ({@linkcode ProcessTableHiddenError}): its exit status was ignored, and
 * every live run read as stale (a probe).
 */
async function lookWithPs(): Promise<ProcessTableLook> {
  const nowMs = Date.now();
  // Every process, not the candidates' pids as arguments: 50,000 of them (a chunk of
  // recordLiveness) passed the kernel's limit on arguments ("Argument list too long").
  const out = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,stat=,etime="],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(PS_TIMEOUT_MS),
  }).output();
  if (!out.success) {
    const said = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new ProcessTableHiddenError(
      `ps failed (exit ${out.code}${said === "" ? "" : `: ${said.slice(0, PS_ERROR_CHARS_MAX)}`})`,
    );
  }
  const startMs = new Map<number, number>();
  const listed = new Set<number>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const [pid, state, etime] = line.trim().split(/\s+/);
    if (pid === undefined || etime === undefined) continue;
    listed.add(Number(pid));
    if (state.startsWith("Z")) continue;
    const elapsedMs = parseEtimeMs(etime);
    if (elapsedMs !== null) startMs.set(Number(pid), nowMs - elapsedMs);
  }
  for (const pid of [INIT_PID, Deno.pid]) {
    if (!listed.has(pid)) {
      throw new ProcessTableHiddenError(
        `ps does not list pid ${pid} (a process table hidden from the indexer's user?)`,
      );
    }
  }
  return {
    check: (candidates) => candidates.map((c) => startedInTime(startMs.get(c.pid) ?? null, c)),
  };
}

/** Characters of `ps`'s error kept in the skip reason. */
const PS_ERROR_CHARS_MAX = 200;

/** `ps` elapsed time `[[dd-]hh:]mm:ss` in ms, or null when it does not parse. */
export function parseEtimeMs(etime: string): number | null {
  const m = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)$/.exec(etime);
  if (m === null) return null;
  const [days, hours, minutes, seconds] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0));
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

function isPermissionOrMissing(err: unknown): boolean {
  return err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotFound;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}
