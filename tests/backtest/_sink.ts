/**
 * A run's event sink that writes through a real {@linkcode EventEmitter}
 * and calls a test's hook around `run.created`: the one moment after the
 * inputs are hashed and the run folder claimed, before the run reads.
 *
 * @module
 */
import type { RunEventSink } from "../../backtest/workflow.ts";
import type { EventEmitter } from "../../ledger/emitter.ts";

/** Hooks of {@linkcode sinkAround}. */
export interface CreatedHooks {
  /** Called before `run.created` is written. */
  before?: () => void;
  /** Called once `run.created` is written. */
  after?: () => void;
}

/** `emitter` as a {@linkcode RunEventSink}, with `hooks` around its `run.created`. */
export function sinkAround(emitter: EventEmitter, hooks: CreatedHooks): RunEventSink {
  return {
    runCreated: async (id, fields) => {
      hooks.before?.();
      const written = await emitter.runCreated(id, fields);
      hooks.after?.();
      return written;
    },
    runStarted: (id, f) => emitter.runStarted(id, f),
    phaseStarted: (id, f) => emitter.phaseStarted(id, f),
    phaseCompleted: (id, f) => emitter.phaseCompleted(id, f),
    artifactCreated: (id, f) => emitter.artifactCreated(id, f),
    runCompleted: (id, f) => emitter.runCompleted(id, f),
    runFailed: (id, f) => emitter.runFailed(id, f),
    flush: () => emitter.flush(),
  };
}
