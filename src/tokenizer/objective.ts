// What a decoder is trained against (docs/method.md §4), shared by main
// training and post-training (§6): the pixel loss plus the weighted
// perceptual term (VQGAN's "nll"), the hinge GAN term scaled by VQGAN's
// adaptive weight, and the discriminator's own step with DiffAugment and
// LeCam. The caller composes the decoder's total (main training adds the VQ
// losses) and runs the model's backward and update in between.
import { MixedPrecision, NonFiniteLossError, type Precision, nonFiniteRank } from '../train/index.js';
import { AdamW, type Stateful } from '../optim/index.js';
import { type Device, F, type RandomStream, type Tensor, noGrad, phase } from '../torch/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { FeatureDiscriminator, PatchDiscriminator, diffAugment } from '../architectures/index.js';
import type { Module } from '../nn/index.js';
import type { TokenizerConfig } from './config.js';
import { LeCam, adaptiveGanGradients, hingeDiscriminatorLoss, hingeGeneratorLoss } from './gan_losses.js';
import { PerceptualLoss } from './perceptual.js';

export type LossConfig = TokenizerConfig['loss'];

/** The decoder's loss: `loss` to log and check, `backward` a scalar with its gradient, and the parts. */
export interface DecoderLoss {
  loss: Tensor;
  backward: Tensor;
  reconstruction: Tensor;
  perceptual: Tensor | null;
  /** With the GAN on: −mean(D(aug(x̂))) and its weight gan.weight·λ. */
  adversarial: { adversarial: Tensor; weight: Tensor } | null;
}

/** The discriminator's step, as logged. `adversarial`: the decoder's hinge loss −mean(D(x̂)) before its weight. */
export interface GanTerms {
  adversarial: number;
  adaptiveWeight: number;
  discriminator: number;
  lecam: number;
  discriminatorSkipped?: boolean;
}

export class DecoderObjective {
  /** Null when loss.perceptual.kind is none. */
  readonly perceptual: PerceptualLoss | null;
  readonly discriminator: PatchDiscriminator | FeatureDiscriminator | null;
  readonly discriminatorOptimizer: AdamW | null;
  readonly lecam: LeCam | null;

  /**
   * `channels` of the images the discriminator sees; the discriminator starts
   * freshly initialised. `discriminatorNetwork`: the loaded loss.gan.network
   * (the caller's to dispose), required when that is set.
   */
  constructor(readonly loss: LossConfig, o: {
    channels: number; nonFinite: 'stop' | 'skip'; featureNetwork?: FeatureNetwork; discriminatorNetwork?: FeatureNetwork; device?: Device; precision?: Precision;
  }) {
    this.nonFinite = o.nonFinite;
    const device = o.device ?? 'cpu';
    // Its own loss scale under fp16: the discriminator's gradients overflow on their own schedule.
    this.#precision = new MixedPrecision(o.precision ?? 'fp32', device);
    // The loss networks are loaded by the caller, on the run's device (loadLossNetworks); one left on another device would copy every batch.
    requireOn(o.featureNetwork, device, 'loss.perceptual.network');
    requireOn(o.discriminatorNetwork, device, 'loss.gan.network');
    // Loaded first: a wrong weight path fails before anything is allocated.
    this.perceptual = PerceptualLoss.fromConfig(loss.perceptual, { featureNetwork: o.featureNetwork });
    this.perceptual?.lpips?.to(device);
    const gan = loss.gan;
    if (gan.enabled && gan.network && !o.discriminatorNetwork) throw new Error(`DecoderObjective: loss.gan.network is ${gan.network}, but no network was loaded for it`);
    this.discriminator = !gan.enabled ? null : gan.network
      ? new FeatureDiscriminator(o.discriminatorNetwork!, gan.headWidth)
      : new PatchDiscriminator({ inChannels: o.channels, baseChannels: gan.baseChannels, layers: gan.layers, spectralNorm: gan.spectralNorm });
    this.discriminator?.to(device);  // before its optimizer, whose state follows the weights
    this.discriminatorOptimizer = this.discriminator
      ? new AdamW(this.discriminator.parameters(), { lr: gan.lr, betas: [0.9, 0.95], weightDecay: gan.weightDecay })
      : null;
    this.lecam = gan.enabled ? new LeCam({ decay: gan.lecamDecay }) : null;
  }

  private readonly nonFinite: 'stop' | 'skip';
  readonly #precision: MixedPrecision;

  /** Checkpoint parts of the GAN (none without it). */
  parts(): Record<string, Module | Stateful> {
    if (!this.discriminator || !this.discriminatorOptimizer || !this.lecam) return {};
    const scaler = this.#precision.scaler;
    return { discriminator: this.discriminator, discriminatorOptimizer: this.discriminatorOptimizer, lecam: this.lecam, ...(scaler ? { discriminatorScaler: scaler } : {}) };
  }

  /** DiffAugment with the configured policy, drawing from `stream`. */
  augment(x: Tensor, stream: RandomStream): Tensor {
    const gan = this.loss.gan;
    return diffAugment(x, { policy: [...gan.diffaug], cutoutRatio: gan.cutoutRatio, stream });
  }

  /**
   * The reconstruction-side loss of images `[B, C, H, W]` against their
   * targets: pixel + weight·perceptual (`nll`), with its parts.
   */
  nll(image: Tensor, target: Tensor): { nll: Tensor; reconstruction: Tensor; perceptual: Tensor | null } {
    const reconstruction = phase('pixel loss', () => (this.loss.reconstruction === 'l1' ? F.l1Loss(image, target) : F.mseLoss(image, target)));
    const perceptual = this.perceptual ? phase('perceptual loss', () => this.perceptual!.forward(image, target)) : null;
    // VQGAN's "nll" term: pixel + weighted perceptual. It is also what the
    // adaptive GAN weight balances against (taming's calculate_adaptive_weight
    // takes nll_loss), so the GAN is scaled to both.
    const nll = perceptual ? reconstruction.add(perceptual.mul(this.loss.perceptual.weight)) : reconstruction;
    return { nll, reconstruction, perceptual };
  }

  /**
   * The decoder's loss L = nll + `extra` (main training's VQ losses), plus with
   * `gan` the hinge term −mean(D(aug(x̂))) × gan.weight × the adaptive weight at
   * `lastLayerWeight` (docs/method.md §4). Differentiate `backward`, not `loss`:
   * with the GAN on it is a cheaper scalar with L's gradient (adaptiveGanGradients).
   * `image` x̂ `[B, C, H, W]`, `target` x; `gan.scale`: fp16's loss scale.
   */
  decoderLoss(image: Tensor, target: Tensor, { extra, gan }: { extra?: Tensor | null; gan?: { lastLayerWeight: Tensor; stream: RandomStream; scale?: number } | null } = {}): DecoderLoss {
    // Float32 pixels (the same tensor under fp32): the losses' unscaled gradients at x̂ would underflow in float16.
    const decoded = image.to('float32');
    const { nll, reconstruction, perceptual } = phase('loss', () => this.nll(decoded, target));
    const withExtra = extra ? nll.add(extra) : nll;
    if (!gan) return { loss: withExtra, backward: withExtra, reconstruction, perceptual, adversarial: null };
    if (!this.discriminator) throw new Error('DecoderObjective.decoderLoss: loss.gan.enabled is false');
    const adversarial = phase('GAN term', () => hingeGeneratorLoss(this.discriminator!.forward(this.augment(decoded, gan.stream))));
    const { weight, outputGradient } = phase('adaptive weight', () =>
      adaptiveGanGradients(decoded, nll, adversarial, gan.lastLayerWeight, { ganWeight: this.loss.gan.weight, scale: gan.scale }));
    const loss = noGrad(() => withExtra.add(adversarial.mul(weight)));
    // ∂L/∂θ = (∂x̂/∂θ)ᵀ·outputGradient + ∂extra/∂θ: the decoder's backward starts at x̂.
    const atOutput = decoded.mul(outputGradient).sum();
    return { loss, backward: extra ? atOutput.add(extra) : atOutput, reconstruction, perceptual, adversarial: { adversarial, weight } };
  }

  /**
   * One discriminator step on real images and (detached) reconstructions,
   * after the decoder's update. A non-finite discriminator loss throws with
   * nonFinite = stop (at `step`); with skip only this update is skipped.
   */
  discriminatorStep(real: Tensor, fake: Tensor, stream: RandomStream, step: number): Pick<GanTerms, 'discriminator' | 'lecam' | 'discriminatorSkipped'> {
    return phase('discriminator step', () => this.#discriminatorStep(real, fake, stream, step));
  }

  #discriminatorStep(real: Tensor, fake: Tensor, stream: RandomStream, step: number): Pick<GanTerms, 'discriminator' | 'lecam' | 'discriminatorSkipped'> {
    const discriminator = this.discriminator!;
    this.discriminatorOptimizer!.zeroGrad();
    const [realIn, fakeIn] = phase('DiffAugment', (): [Tensor, Tensor] => [this.augment(real, stream), this.augment(fake.detach(), stream)]);
    const [realLogits, fakeLogits] = this.#precision.forward(() =>
      phase('forward', (): [Tensor, Tensor] => [discriminator.forward(realIn), discriminator.forward(fakeIn)]));
    const dLoss = hingeDiscriminatorLoss(realLogits, fakeLogits).mul(this.loss.gan.hingeScale);
    const value = dLoss.item();
    const broken = nonFiniteRank([value]);  // every rank of a data-parallel run skips (or stops) together
    if (broken === null) {
      // LeCam's anchors move only with finite logits (its forward updates them).
      const lecam = this.lecam!.forward(realLogits, fakeLogits);
      const total = dLoss.add(lecam.mul(this.loss.gan.lecamWeight));
      const scaler = this.#precision.scaler;
      const finite = phase('backward', () => {
        if (scaler) return scaler.backward(total, discriminator.parameters());
        total.backward();
        return true;
      });
      if (finite) phase('AdamW', () => this.discriminatorOptimizer!.step());
      return { discriminator: value, lecam: lecam.item(), ...(finite ? {} : { discriminatorSkipped: true as const }) };
    }
    if (this.nonFinite === 'stop') throw new NonFiniteLossError(step, { discriminator: value }, 'discriminator loss', broken === 'here' ? undefined : broken);
    return { discriminator: value, lecam: Number.NaN, discriminatorSkipped: true };
  }

  dispose(): void {
    this.discriminatorOptimizer?.dispose();
    this.discriminator?.dispose();
    this.perceptual?.dispose();
  }
}

/** Throws when a loss network was loaded on another device than the run's. */
function requireOn(network: FeatureNetwork | undefined, device: Device, key: string): void {
  if (network && network.device !== device) {
    throw new Error(`${key} ${network.name} was loaded on ${network.device}, but the run trains on ${device}: load it with { device: '${device}' }`);
  }
}
