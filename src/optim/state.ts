// What optimizers, schedules and EMA save into a training checkpoint:
// tensors by name plus JSON-able settings and counters, and the checks every
// loadStateDict runs before it changes anything, so that a checkpoint from
// another model or another kind of object fails with a message naming the
// mismatch instead of training on silently wrong state.
import { Tensor } from '../torch/index.js';

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

/** The error every loadStateDict throws: `<Owner>.loadStateDict: <problem>`. */
export const stateError = (owner: string, problem: string): Error => new Error(`${owner}.loadStateDict: ${problem}`);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the envelope (`{tensors, meta}`) and that `meta.kind` is `kind`, the
 * class that saved it (an SGD state loaded into AdamW must not half-work).
 */
export function checkEnvelope(kind: string, state: TrainState): Record<string, unknown> {
  if (!isRecord(state) || !isRecord(state.tensors) || !isRecord(state.meta)) {
    throw stateError(kind, 'expected an object {tensors, meta} as stateDict() returns');
  }
  if (state.meta.kind !== kind) throw stateError(kind, `the state was saved by ${String(state.meta.kind)}, not ${kind}`);
  return state.meta;
}

/** Checks that `tensors` holds exactly the `expected` names, each a Tensor of the expected shape. */
export function checkTensors(owner: string, tensors: Record<string, unknown>, expected: Map<string, number[]>): void {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(tensors)) {
    const shape = expected.get(name);
    if (shape === undefined) problems.push(`unexpected tensor '${name}'`);
    else if (!(value instanceof Tensor)) problems.push(`'${name}' is not a Tensor`);
    else if (value.shape.join() !== shape.join()) problems.push(`'${name}' has shape [${value.shape}], expected [${shape}]`);
  }
  for (const name of expected.keys()) if (!(name in tensors)) problems.push(`missing tensor '${name}'`);
  if (problems.length > 0) throw stateError(owner, problems.join('; '));
}

/** A counter read back from meta: a non-negative integer, else a stateError naming `key`. */
export function metaCount(owner: string, meta: Record<string, unknown>, key: string): number {
  const value = meta[key];
  if (!Number.isInteger(value) || (value as number) < 0) {
    throw stateError(owner, `meta.${key} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}
