// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"),
// step for step as PyTorch 1.13's single-tensor implementation, so that
// trajectories match torch.optim.AdamW (and torch.optim.Adam when
// weightDecay = 0).
import { type Tensor, noGrad, tidy, zerosLike } from '../torch/index.js';

export interface AdamWOptions {
  lr?: number;
  /** (β₁, β₂): decay of the first and second moment estimates. */
  betas?: [number, number];
  eps?: number;
  /** Decoupled decay: θ ← θ·(1 − lr·λ) before the Adam step. */
  weightDecay?: number;
}

interface Moments {
  expAvg: Tensor;
  expAvgSq: Tensor;
}

export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  stepCount = 0;
  private readonly moments: Moments[];

  constructor(readonly params: Tensor[], options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    this.moments = params.map((p) => ({ expAvg: zerosLike(p).keep(), expAvgSq: zerosLike(p).keep() }));
  }

  /** One update from the gradients in `.grad` (parameters without one are skipped). */
  step(): void {
    this.stepCount += 1;
    const [beta1, beta2] = this.betas;
    const biasCorrection1 = 1 - beta1 ** this.stepCount;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.stepCount);
    const stepSize = this.lr / biasCorrection1;
    noGrad(() => tidy(() => {
      this.params.forEach((param, i) => {
        const grad = param.grad;
        if (grad === null) return;
        const { expAvg, expAvgSq } = this.moments[i]!;
        if (this.weightDecay !== 0) param.mul_(1 - this.lr * this.weightDecay);
        expAvg.mul_(beta1).add_(grad, 1 - beta1);
        expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        const denom = expAvgSq.sqrt().div_(biasCorrection2Sqrt).add_(this.eps);
        param.addcdiv_(expAvg, denom, -stepSize);
      });
    }));
  }

  /** Drops the gradients (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  dispose(): void {
    for (const m of this.moments) {
      m.expAvg.dispose();
      m.expAvgSq.dispose();
    }
  }
}
