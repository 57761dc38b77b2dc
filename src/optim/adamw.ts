// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"),
// step for step as PyTorch 1.13's single-tensor implementation
// (torch/optim/adamw.py, _single_tensor_adamw), so that trajectories match
// torch.optim.AdamW (and torch.optim.Adam when weightDecay = 0).
import { type Tensor, zerosLike } from '../torch/index.js';
import { type BaseHyper, Optimizer, type ParamsOrGroups, fraction, nonNegative } from './optimizer.js';

export interface AdamWHyper extends BaseHyper {
  /** (β₁, β₂): decay of the first and second moment estimates. */
  betas: [number, number];
  eps: number;
  /** Decoupled decay: θ ← θ·(1 − lr·λ) before the Adam step. */
  weightDecay: number;
}
/** The defaults of every group (PyTorch's): lr 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 1e-2. */
export type AdamWOptions = Partial<AdamWHyper>;

const DEFAULTS: AdamWHyper = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 };

export class AdamW extends Optimizer<AdamWHyper> {
  constructor(params: ParamsOrGroups<AdamWHyper>, options: AdamWOptions = {}) {
    super('AdamW', params, options, DEFAULTS);
  }

  protected override checkHyper(h: AdamWHyper): (string | undefined)[] {
    const betas = Array.isArray(h.betas) && h.betas.length === 2 ? h.betas : [NaN, NaN];
    return [nonNegative('lr', h.lr), nonNegative('eps', h.eps), nonNegative('weightDecay', h.weightDecay),
      fraction('betas[0]', betas[0]), fraction('betas[1]', betas[1])];
  }

  /** PyTorch's names, so the state dict reads like torch.optim.AdamW's. */
  protected override stateNames(): string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  // The moments are updated with mul_ + add_ (not lerp_, which later PyTorch
  // versions use): the rounding of 1.13, and so its trajectory bit for bit.
  protected override update(param: Tensor, grad: Tensor, h: AdamWHyper, state: Record<string, Tensor>, step: number): void {
    const [beta1, beta2] = h.betas;
    const expAvg = (state.exp_avg ??= zerosLike(param).keep());
    const expAvgSq = (state.exp_avg_sq ??= zerosLike(param).keep());
    if (h.weightDecay !== 0) param.mul_(1 - h.lr * h.weightDecay);
    expAvg.mul_(beta1).add_(grad, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const stepSize = h.lr / (1 - beta1 ** step);
    const denom = expAvgSq.sqrt().div_(Math.sqrt(1 - beta2 ** step)).add_(h.eps);
    param.addcdiv_(expAvg, denom, -stepSize);
  }
}
