// The adversarial part of the tokenizer's loss (docs/method.md §4): hinge losses for
// discriminator and generator, the LeCam regulariser on the discriminator, and
// VQGAN's adaptive weight that balances the generator's GAN term against
// reconstruction.
import { type Tensor, grad, noGrad, tidy } from '../torch/index.js';
import { type Stateful, type TrainState, checkEnvelope, checkTensors, stateError } from '../optim/index.js';

/**
 * Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018):
 * mean(relu(1 − D(x))) + mean(relu(1 + D(x̂))). Logits already beyond the
 * margin (real > 1, fake < −1) contribute nothing, so the discriminator stops
 * pushing on images it already separates. (taming's `hinge_d_loss` halves this sum.)
 * Logits of any shape (PatchGAN maps `[B, 1, h, w]`) → scalar.
 */
export const hingeDiscriminatorLoss = (realLogits: Tensor, fakeLogits: Tensor): Tensor =>
  realLogits.neg().add(1).relu().mean().add(fakeLogits.add(1).relu().mean());

/** Hinge generator loss −mean(D(x̂)): raise the fake logits, with no margin. Any shape → scalar. */
export const hingeGeneratorLoss = (fakeLogits: Tensor): Tensor => fakeLogits.mean().neg();

export interface LeCamOptions {
  /** EMA decay of the anchors (0.99, Tseng et al.'s code). */
  decay?: number;
}

/**
 * LeCam regulariser (Tseng et al. 2021, "Regularizing Generative Adversarial
 * Networks under Limited Data"): keeps the discriminator's predictions near
 * exponential moving averages of its own past predictions on the other
 * class, mean(relu(D(x) − α_fake)²) + mean(relu(α_real − D(x̂))²). This bounds
 * how far real and fake logits drift apart, which the paper links to the
 * LeCam divergence and which stabilises training on little data. Add it to
 * the discriminator loss with weight 0.001 (docs/method.md §4).
 *
 * Anchors start at 0 and are updated from the batch means before the penalty
 * is computed, as the reference (`LeCamEMA.update`, then `lecam_reg`).
 */
export class LeCam implements Stateful {
  readonly decay: number;
  /** α_real: EMA of mean D(x). */
  emaReal = 0;
  /** α_fake: EMA of mean D(x̂). */
  emaFake = 0;

  constructor(options: LeCamOptions = {}) {
    this.decay = options.decay ?? 0.99;
    if (!(this.decay >= 0 && this.decay < 1)) throw new RangeError(`LeCam: decay must be in [0, 1), got ${this.decay}`);
  }

  /** Updates the anchors from this batch's logits (any shape), then returns the penalty (scalar). */
  forward(realLogits: Tensor, fakeLogits: Tensor): Tensor {
    const [real, fake] = noGrad(() => tidy(() => [realLogits.mean().item(), fakeLogits.mean().item()]));
    this.emaReal = this.decay * this.emaReal + (1 - this.decay) * real!;
    this.emaFake = this.decay * this.emaFake + (1 - this.decay) * fake!;
    return this.penalty(realLogits, fakeLogits);
  }

  /** The penalty at the current anchors, without updating them. Scalar. */
  penalty(realLogits: Tensor, fakeLogits: Tensor): Tensor {
    return realLogits.sub(this.emaFake).relu().square().mean().add(fakeLogits.neg().add(this.emaReal).relu().square().mean());
  }

  stateDict(): TrainState {
    return { tensors: {}, meta: { kind: 'LeCam', decay: this.decay, emaReal: this.emaReal, emaFake: this.emaFake } };
  }

  loadStateDict(state: TrainState): void {
    const meta = checkEnvelope('LeCam', state);
    checkTensors('LeCam', state.tensors, new Map());
    for (const key of ['emaReal', 'emaFake'] as const) {
      if (typeof meta[key] !== 'number' || !Number.isFinite(meta[key])) {
        throw stateError('LeCam', `meta.${key} must be a finite number, got ${JSON.stringify(meta[key])}`);
      }
    }
    if (meta.decay !== this.decay) throw stateError('LeCam', `the state has decay ${String(meta.decay)}, this regulariser ${this.decay}`);
    this.emaReal = meta.emaReal as number;
    this.emaFake = meta.emaFake as number;
  }
}

/**
 * VQGAN's adaptive weight (Esser et al. 2021, eq. 7): λ = ‖∇_L L_rec‖ / (‖∇_L L_GAN‖ + 1e-4)
 * at L, the decoder's last-layer weight, clamped to [0, 1e4] and detached: the GAN term's
 * gradient at the output as large as the reconstruction's, whatever the losses' scales
 * (docs/method.md §4 multiplies it by 0.5, `ganWeight`). taming backpropagates each loss to L,
 * then the whole loss again (the discriminator twice, its weights' gradients unused); here each
 * loss goes back once, to the output x̂, L's gradients follow through the last layer alone, and
 * the decoder's backward starts at x̂ from `outputGradient` (docs/design.md §9a).
 *
 * @param output x̂ (any shape), on both losses' graphs, which are freed up to x̂
 * @param o.scale fp16's loss scale: L's gradients are taken at that scale so they do not underflow (1 otherwise)
 * @returns weight: ganWeight·λ (detached scalar); outputGradient: ∂(L_rec + weight·L_GAN)/∂x̂, detached
 */
export function adaptiveGanGradients(output: Tensor, reconstructionLoss: Tensor, ganLoss: Tensor, lastLayerWeight: Tensor,
  o: { ganWeight?: number; scale?: number } = {}): { weight: Tensor; outputGradient: Tensor } {
  const { ganWeight = 1, scale = 1 } = o;
  return tidy(() => {
    const [recOut] = grad(reconstructionLoss, output);
    const [ganOut] = grad(ganLoss, output);
    const atLastLayer = (g: Tensor): Tensor => grad(output, lastLayerWeight, { gradOutputs: [scale === 1 ? g : g.mul(scale)], retainGraph: true })[0]!;
    const recNorm = atLastLayer(recOut!).norm();
    const ganNorm = atLastLayer(ganOut!).norm();
    return noGrad(() => {
      const weight = recNorm.div(scale).div(ganNorm.div(scale).add(1e-4)).clamp(0, 1e4).mul(ganWeight);
      return { weight, outputGradient: recOut!.add(ganOut!.mul(weight)) };
    });
  });
}
