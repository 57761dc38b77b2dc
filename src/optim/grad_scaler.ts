// Dynamic loss scaling for float16 training (Micikevicius et al. 2018,
// "Mixed Precision Training"; PyTorch's GradScaler): float16 gradients of
// small losses underflow to zero, so the loss is multiplied by a large scale
// S before backward and the gradients divided by S before the optimizer sees
// them. A step whose gradients overflowed (inf or NaN) is skipped and S
// halved; after `growthInterval` good steps in a row S doubles, so S settles
// just below where float16 overflows. bfloat16 has float32's range and needs none.
import { type Tensor, noGrad, stack, tidy } from '../torch/index.js';
import { type Stateful, type TrainState, checkEnvelope, metaCount, stateError } from './state.js';

export interface GradScalerOptions {
  /** The first S (PyTorch's default, 2¹⁶). */
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  /** Good steps in a row before S grows. */
  growthInterval?: number;
}

export class GradScaler implements Stateful {
  scale: number;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  #goodSteps = 0;

  constructor(o: GradScalerOptions = {}) {
    this.scale = o.initScale ?? 2 ** 16;
    this.growthFactor = o.growthFactor ?? 2;
    this.backoffFactor = o.backoffFactor ?? 0.5;
    this.growthInterval = o.growthInterval ?? 2000;
    if (!(this.scale > 0 && this.growthFactor > 1 && this.backoffFactor > 0 && this.backoffFactor < 1 && Number.isInteger(this.growthInterval) && this.growthInterval > 0)) {
      throw new RangeError(`GradScaler: need initScale > 0, growthFactor > 1, 0 < backoffFactor < 1 and an integer growthInterval > 0, got ${JSON.stringify(o)}`);
    }
  }

  /** `loss × S`, to run backward on. */
  scaled(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /**
   * Backward of `loss × S`, then the gradients of `params` divided back and
   * S updated; returns whether they are finite, i.e. whether the optimizer
   * may step (a skipped step is what the scale is for).
   */
  backward(loss: Tensor, params: Tensor[]): boolean {
    this.scaled(loss).backward();
    const finite = this.unscale(params);
    this.update(finite);
    return finite;
  }

  /**
   * Divides the gradients of `params` by S in place and says whether all of
   * them are finite (one host read for all). Call once per backward, before
   * clipping, so the clip sees true gradients.
   */
  unscale(params: Tensor[]): boolean {
    return noGrad(() => tidy(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return true;
      for (const g of grads) g.mul_(1 / this.scale);
      return stack(grads.map((g) => g.isfinite().all())).all().item() !== 0;
    }));
  }

  /** After each step: S shrinks at once on an overflow and grows after growthInterval finite steps. */
  update(finite: boolean): void {
    if (!finite) {
      this.scale *= this.backoffFactor;
      this.#goodSteps = 0;
      return;
    }
    this.#goodSteps += 1;
    if (this.#goodSteps === this.growthInterval) {
      this.scale *= this.growthFactor;
      this.#goodSteps = 0;
    }
  }

  stateDict(): TrainState {
    return { tensors: {}, meta: { kind: 'GradScaler', scale: this.scale, goodSteps: this.#goodSteps } };
  }

  loadStateDict(state: TrainState): void {
    const meta = checkEnvelope('GradScaler', state);
    const goodSteps = metaCount('GradScaler', meta, 'goodSteps');
    if (!(typeof meta.scale === 'number' && meta.scale > 0)) throw stateError('GradScaler', `meta.scale must be a number > 0, got ${JSON.stringify(meta.scale)}`);
    this.scale = meta.scale;
    this.#goodSteps = goodSteps;
  }
}
