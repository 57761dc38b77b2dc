// Stochastic gradient descent with momentum as PyTorch 1.13's single-tensor
// implementation (torch/optim/sgd.py, _single_tensor_sgd): L2 weight decay
// added to the gradient, a momentum buffer started as a copy of the first
// gradient (not as zeros) and then v ← μ·v + (1 − dampening)·g, and Nesterov
// momentum (Sutskever et al. 2013) as g + μ·v.
import type { Tensor } from '../torch/index.js';
import { type BaseHyper, Optimizer, type ParamsOrGroups, nonNegative } from './optimizer.js';

export interface SGDHyper extends BaseHyper {
  momentum: number;
  dampening: number;
  /** L2 penalty, added to the gradient (coupled, unlike AdamW's). */
  weightDecay: number;
  nesterov: boolean;
}
/**
 * The defaults of every group: lr 1e-3 (PyTorch ≥ 2.2's default; 1.13 had
 * none), no momentum, dampening or weight decay.
 */
export type SGDOptions = Partial<SGDHyper>;

const DEFAULTS: SGDHyper = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };

export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsOrGroups<SGDHyper>, options: SGDOptions = {}) {
    super('SGD', params, options, DEFAULTS);
  }

  protected override checkHyper(h: SGDHyper): (string | undefined)[] {
    return [nonNegative('lr', h.lr), nonNegative('momentum', h.momentum), nonNegative('weightDecay', h.weightDecay),
      typeof h.dampening === 'number' ? undefined : `dampening must be a number, got ${String(h.dampening)}`,
      typeof h.nesterov === 'boolean' ? undefined : `nesterov must be a boolean, got ${String(h.nesterov)}`,
      h.nesterov && (h.momentum <= 0 || h.dampening !== 0) ? 'Nesterov momentum requires a momentum > 0 and zero dampening' : undefined];
  }

  protected override stateNames(h: SGDHyper): string[] {
    return h.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected override update(param: Tensor, grad: Tensor, h: SGDHyper, state: Record<string, Tensor>): void {
    let direction = h.weightDecay !== 0 ? grad.add(param, h.weightDecay) : grad;
    if (h.momentum !== 0) {
      const buffer = state.momentum_buffer;
      if (buffer === undefined) state.momentum_buffer = direction.clone().keep();
      else buffer.mul_(h.momentum).add_(direction, 1 - h.dampening);
      direction = h.nesterov ? direction.add(state.momentum_buffer!, h.momentum) : state.momentum_buffer!;
    }
    param.add_(direction, -h.lr);
  }
}
