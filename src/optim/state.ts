// What optimizers, schedules and EMA save into a training checkpoint:
// tensors by name plus JSON-able settings and counters.
import type { Tensor } from '../torch/index.js';

export interface TrainState {
  /** Tensors by dotted name (e.g. `state.3.exp_avg`); the owner's own tensors, not copies. */
  tensors: Record<string, Tensor>;
  /** Plain JSON: hyper-parameters, step counters. */
  meta: Record<string, unknown>;
}

/** Anything whose state a training checkpoint saves and restores. */
export interface Stateful {
  stateDict(): TrainState;
  /** Restores from a state saved by the same kind of object; throws on a mismatch, naming it. */
  loadStateDict(state: TrainState): void;
}
