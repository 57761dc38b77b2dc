// Gradient accumulation: k micro-batches, one optimizer step. Gradients add
// up across backward passes, so each micro-batch's loss is divided by k and
// the sum is the mean over the k micro-batches — for a mean-reduced loss over
// equal micro-batches, the gradient of one batch k times larger (the pattern
// `loss = loss / accumulation_steps` of PyTorch's AMP examples).
import type { Tensor } from '../torch/index.js';
import { type Stateful, type TrainState, checkEnvelope, checkTensors, metaCount, stateError } from './state.js';

/**
 * Usage, per micro-batch:
 *
 *   if (accumulator.backward(loss)) { clipGradNorm(...); optimizer.step(); optimizer.zeroGrad(); scheduler.step(); }
 *
 * The optimizer, scheduler and EMA step once per k micro-batches.
 */
export class GradAccumulator implements Stateful {
  #micro = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`GradAccumulator: k must be a positive integer, got ${k}`);
  }

  /** Micro-batches accumulated since the last step boundary. */
  get pending(): number {
    return this.#micro;
  }

  /** Back-propagates loss / k; true when this micro-batch completes k of them: step now. */
  backward(loss: Tensor): boolean {
    const scaled = loss.div(this.k);
    try {
      scaled.backward();
    } finally {
      scaled.dispose();
    }
    this.#micro = (this.#micro + 1) % this.k;
    return this.#micro === 0;
  }

  /** Saving between boundaries does not save the partial gradients: checkpoint right after a step. */
  stateDict(): TrainState {
    return { tensors: {}, meta: { kind: 'GradAccumulator', k: this.k, pending: this.#micro } };
  }

  loadStateDict(state: TrainState): void {
    const meta = checkEnvelope('GradAccumulator', state);
    if (meta.k !== this.k) throw stateError('GradAccumulator', `the state accumulates over k = ${String(meta.k)}, this one over ${this.k}`);
    const pending = metaCount('GradAccumulator', meta, 'pending');
    checkTensors('GradAccumulator', state.tensors, new Map());
    if (pending >= this.k) throw stateError('GradAccumulator', `meta.pending ${pending} is not below k = ${this.k}`);
    this.#micro = pending;
  }
}
