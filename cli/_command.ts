/**
 * Running one subcommand: check the permissions it needs (one clear line
 * when one is missing), load it, run it, and turn what it throws into one
 * line and an exit code (2 for usage, 1 for failure). A failed write to
 * standard output is said as such; for a command whose effect is durable
 * before it prints, it does not change the exit code. The dispatcher
 * (`ledger.ts`) and the emit entry point (`ledger_emit.ts`) share it.
 *
 * @module
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./_args.ts";
import {
  missingPermissions,
  notCapableHint,
  permissionMessage,
  type PermissionNeed,
} from "./_permissions.ts";
import { escapeMessageLine, messageValue } from "../ledger/control_text.ts";
import { EnvVariableError, readEnvVariable, ROOT_ENV_VARIABLE } from "../ledger/paths.ts";
import denoJson from "../deno.json" with { type: "json" };

/** A subcommand: takes its arguments, returns the process exit code. */
export type CommandMain = (args: string[]) => Promise<number>;

/** How to run one subcommand. */
export interface CommandSpec {
  /** Checked with `Deno.permissions.query` before the module is loaded. */
  needs: readonly PermissionNeed[];
  /** Load the subcommand's module and return its main. */
  load: () => Promise<CommandMain>;
  /**
   * Whether the command's effect (events appended, a run recorded, an index
   * published) is durable before it prints, for these arguments. Then a
   * failed write to standard output does not stop it or change its exit
   * code: the work is done, and a retry would do it again (a second event).
   * `--help` never is. @default {false}
   */
  durableBeforeOutput?: boolean | ((args: readonly string[]) => boolean);
}

/**
 * Standard output could not be written (a full disk behind `> file`, an I/O
 * error): not the command's own files, which the message must not suggest.
 * A reader that went away is `Deno.errors.BrokenPipe` instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { StdoutWriteError } from "./_command.ts";
 * const err = new StdoutWriteError({ cause: new Error("No space left on device (os error 28)") });
 * assert.equal(err.message, "standard output could not be written: No space left on device (os error 28)");
 * ```
 */
export class StdoutWriteError extends Error {
  /** Create the error for the failed write `options.cause`. */
  constructor(options: ErrorOptions) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`standard output could not be written: ${cause.split("\n")[0]}`, options);
    this.name = "StdoutWriteError";
  }
}

/** The writes to standard output a command makes, watched while it runs. */
interface StdoutGuard {
  /** The first failed write of a command that keeps going, if any. */
  readonly failure: StdoutWriteError | Deno.errors.BrokenPipe | undefined;
  /** Put `console.log` and `Deno.stdout` back as they were. */
  restore(): void;
}

/**
 * Watch `console.log` and `Deno.stdout.write`/`writeSync` (what the commands
 * print with). A failed write other than a broken pipe becomes a
 * {@linkcode StdoutWriteError}. With `keepGoing`, the first failure is kept
 * in `failure` and later output dropped, so the command finishes what it
 * does after printing; otherwise it is thrown.
 */
function guardStdout(keepGoing: boolean): StdoutGuard {
  const { log } = console;
  const { write, writeSync } = Deno.stdout;
  let failure: StdoutWriteError | Deno.errors.BrokenPipe | undefined;
  const failed = (err: unknown): void => {
    const typed = err instanceof Deno.errors.BrokenPipe
      ? err
      : new StdoutWriteError({ cause: err });
    if (!keepGoing) throw typed;
    failure ??= typed;
  };
  console.log = (...data: unknown[]) => {
    if (failure !== undefined) return;
    try {
      log.apply(console, data);
    } catch (err) {
      failed(err);
    }
  };
  Deno.stdout.writeSync = (p: Uint8Array) => {
    if (failure !== undefined) return p.length;
    try {
      return writeSync.call(Deno.stdout, p);
    } catch (err) {
      failed(err);
      return p.length;
    }
  };
  Deno.stdout.write = async (p: Uint8Array) => {
    if (failure !== undefined) return p.length;
    try {
      return await write.call(Deno.stdout, p);
    } catch (err) {
      failed(err);
      return p.length;
    }
  };
  return {
    get failure() {
      return failure;
    },
    restore() {
      console.log = log;
      Deno.stdout.write = write;
      Deno.stdout.writeSync = writeSync;
    },
  };
}

/**
 * Run subcommand `name` with `args` and return its exit code; every error
 * becomes one line on stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { runCommand } from "./_command.ts";
 * import { UsageError } from "./_args.ts";
 * const error = console.error;
 * let printed = "";
 * console.error = (text: string) => printed += text;
 * try {
 *   const code = await runCommand("demo", ["--nope"], {
 *     needs: [],
 *     load: () => Promise.resolve(() => Promise.reject(new UsageError("unknown flag --nope"))),
 *   });
 *   assert.equal(code, 2);
 * } finally {
 *   console.error = error;
 * }
 * assert.equal(printed, "ledger demo: unknown flag --nope");
 * ```
 */
export async function runCommand(name: string, args: string[], spec: CommandSpec): Promise<number> {
  const wantsHelp = args.includes("--help") || args.includes("-h");
  if (!wantsHelp) {
    let missing: string[];
    try {
      missing = await missingPermissions(args, spec.needs); // reads $LEDGER_ROOT
    } catch (err) {
      if (!(err instanceof EnvVariableError)) throw err;
      return envVariableRefused(name, err); // a probe: a stack trace, for every command
    }
    if (missing.length > 0) {
      console.error(permissionMessage(name, missing, { task: taskFor(name) }));
      return EXIT_FAILURE;
    }
  }
  const durable = typeof spec.durableBeforeOutput === "function"
    ? spec.durableBeforeOutput(args)
    : spec.durableBeforeOutput === true;
  const stdout = guardStdout(durable && !wantsHelp);
  let code: number;
  try {
    code = await runMain(name, args, spec);
  } finally {
    stdout.restore();
  }
  // The work is durable: exit 1 would tell a wrapper that retries to do it again (an audit:
  // `emit > /dev/full` exited 1 after writing the event, and a retry wrote it twice). Only a
  // durable command keeps a broken pipe (a reader's `| head` stops quietly): what it printed
  // (an emit's event ids) is lost, which its help says one line tells (a probe).
  const lost = stdout.failure instanceof StdoutWriteError
    ? stdout.failure.message
    : stdout.failure instanceof Deno.errors.BrokenPipe
    ? "standard output was closed before all was printed (broken pipe)"
    : undefined;
  if (lost !== undefined) {
    try {
      console.error(`ledger ${name}: ${code === EXIT_OK ? "done, but " : ""}${lost}`);
    } catch (err) {
      // Standard error full too (`>/dev/full 2>/dev/full`): the line is lost, and the work is
      // still done; exit 1 would send a retry to do it again (a review).
      if (!isLostLine(err)) throw err;
    }
  }
  return code;
}

/**
 * Whether `err` is the failure of a write to standard output or error that
 * the file behind it could not take (a full disk, a closed pipe): the line
 * is lost, and a command that has done its work keeps its exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isLostLine } from "./_command.ts";
 * assert.ok(isLostLine(new Error("No space left on device (os error 28)")));
 * assert.ok(!isLostLine(new TypeError("x is not a function")));
 * ```
 */
export function isLostLine(err: unknown): boolean {
  return err instanceof Deno.errors.BrokenPipe ||
    (err instanceof Error && /\(os error \d+\)$/.test(err.message));
}

/** Load and run the subcommand; whatever it throws becomes one stderr line and an exit code. */
async function runMain(name: string, args: string[], spec: CommandSpec): Promise<number> {
  try {
    const main = await spec.load();
    return await main(args);
  } catch (err) {
    // The reader of standard output went away (`ledger runs --format jsonl | head -1`): what it
    // wanted it has; stop quietly, as `cat` does. No command writes to another process's pipe.
    if (err instanceof Deno.errors.BrokenPipe) return EXIT_OK;
    const given = givenValues(args);
    if (err instanceof UsageError) {
      console.error(`ledger ${name}: ${errorLine(err.message, given)}`);
      return EXIT_USAGE;
    }
    if (err instanceof EnvVariableError) return envVariableRefused(name, err);
    if (err instanceof Deno.errors.NotCapable) {
      // A permission the command's needs did not foresee: still one line and a hint.
      const first = errorLine(err.message, given);
      console.error(`ledger ${name}: ${first}; ${notCapableHint(name, first, taskFor(name))}`);
      return EXIT_FAILURE;
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`ledger ${name}: ${errorLine(message, given)}`);
    return EXIT_FAILURE;
  }
}

/**
 * A variable of the environment that is not valid UTF-8: the user's input
 * (as a flag is), so one line naming it and exit 2.
 */
function envVariableRefused(name: string, err: EnvVariableError): number {
  console.error(`ledger ${name}: ${errorLine(err.message, [])}`);
  return EXIT_USAGE;
}

/**
 * The one line an error message prints: its first line (a DuckDB or zod
 * message goes on with details), where each value of `given` (the user's
 * paths and other arguments) that holds a control character is named
 * exactly ({@linkcode messageValue}: quoted, escaped), so a newline in
 * `--root` no longer cuts the message at it, and with every control
 * character left escaped, so none reaches the terminal raw (an audit: an
 * ESC sequence in `--out` coloured it). A message with no such value is
 * its first line, as before. `given` defaults to the process's arguments
 * (for commands that print their own error line).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { errorLine } from "./_command.ts";
 * const root = "/tmp/nl\nroot";
 * assert.equal(
 *   errorLine(`Ledger root ${root} does not exist`, [root]),
 *   'Ledger root "/tmp/nl\\nroot" does not exist',
 * );
 * assert.equal(errorLine("Binder Error: x\nLINE 1: SELECT", []), "Binder Error: x");
 * assert.equal(errorLine("No index at /tmp/x", ["/tmp/x"]), "No index at /tmp/x");
 * // A value quoted by the message already keeps one pair of quotes.
 * const id = "a\x7fb";
 * assert.equal(errorLine(`Run ${JSON.stringify(id)} is unknown`, [id]), 'Run "a\\u007fb" is unknown');
 * ```
 */
export function errorLine(
  message: string,
  given: readonly string[] = givenValues(Deno.args),
): string {
  let text = message;
  // Longest first: a value inside another is then already escaped where the longer one was.
  const named = given.filter((v) => messageValue(v) !== v && /[^\p{Cc}]/u.test(v))
    .sort((a, b) => b.length - a.length);
  for (const value of named) {
    // Quoted already (run ids, fields: JSON.stringify leaves DEL, C1 and the overrides as they
    // are): the quotes are its own, not a second pair (a review: `Run ""a\u007fb""`).
    text = text.replaceAll(JSON.stringify(value), messageValue(value));
    text = text.replaceAll(value, messageValue(value));
  }
  return escapeMessageLine(text.split("\n")[0]);
}

/**
 * The values a user gave a command: each argument, the value of each
 * `--flag=value`, and `$LEDGER_ROOT` when the command may read it.
 */
export function givenValues(args: readonly string[]): string[] {
  const values = args.flatMap((arg) => {
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    return eq < 0 ? [arg] : [arg, arg.slice(eq + 1)];
  });
  const env = { name: "env", variable: ROOT_ENV_VARIABLE } as const;
  if (Deno.permissions.querySync(env).state === "granted") {
    let root: string | undefined;
    try {
      root = readEnvVariable(ROOT_ENV_VARIABLE);
    } catch (err) {
      // Not UTF-8: no text to name in a message (the error about it names the variable). This
      // runs while another error is printed, which must not become this one.
      if (!(err instanceof EnvVariableError)) throw err;
    }
    if (root !== undefined) values.push(root);
  }
  return values;
}

/** The `deno task` that runs `command` with its permissions (see deno.json). */
export function taskFor(command: string): string {
  return command in denoJson.tasks ? command : "ledger";
}
