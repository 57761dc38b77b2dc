// Main training of the tokenizer (docs/method.md §2, §4): one `step` is encode →
// quantize → (perturb) → decode, reconstruction + VQ losses, the hinge GAN
// with the VQGAN adaptive weight once it is switched on, the optional
// perceptual term (objective.ts), AdamW with
// warm-up + cosine, gradient clipping, EMA of weights; then a discriminator
// step with DiffAugment and LeCam; optionally a k-means start of the codebook
// and dead-code replacement (quantizer.ts). Everything random draws from one seeded
// stream that checkpoints save, so a resumed run continues exactly.
import type { AdamW, Ema, Stateful } from '../optim/index.js';
import { MixedPrecision, Optimisation, RngState, checkFinite, openStream, resolveDevice, streamSeed } from '../train/index.js';
import { type Device, type Tensor, noGrad, onDevice, phase, tidy } from '../torch/index.js';
import type { FeatureNetwork } from '../features/index.js';
import type { Module } from '../nn/index.js';
import { type TokenizerConfig, checkTokenizerConfig, ganStartStep, modelOptions } from './config.js';
import { codebookUsage } from '../metrics/index.js';
import { Tokenizer } from './model.js';
import { CodebookUpkeep } from './quantizer.js';
import { DecoderObjective, type GanTerms } from './objective.js';
import type { PerceptualLoss } from './perceptual.js';
import { annealedPerturbation } from './perturbation.js';

/** One logged step: the numbers that go to metrics.jsonl. */
export interface StepMetrics {
  step: number;
  loss: number;
  reconstruction: number;
  /** The perceptual distance before its weight; present when loss.perceptual.kind is not none. */
  perceptual?: number;
  codebook: number;
  commitment: number;
  lr: number;
  /** Fraction of the K codes used in this batch, and exp(entropy) of their histogram. */
  usage: number;
  perplexity: number;
  /** α and δ of a codebook perturbation at this step (0 with perturbation off). */
  alpha?: number;
  delta?: number;
  /** σ_max of the gaussian kind at this step (its runs log this instead of α and δ). */
  noiseScale?: number;
  gan?: GanTerms;
  /** Codes replaced as dead after this step; present when model.deadCodeThreshold > 0. */
  replacedCodes?: number;
}

export interface TrainerOptions {
  /**
   * The network that loss.perceptual.network names, for kind=features
   * (built by the caller; the trainer does not dispose it).
   */
  featureNetwork?: FeatureNetwork;
  /** The network that loss.gan.network names (likewise the caller's). */
  discriminatorNetwork?: FeatureNetwork;
}

export class TokenizerTrainer {
  readonly model: Tokenizer;
  /** AdamW + schedule + EMA (src/train/optimisation.ts). */
  readonly optimisation: Optimisation;
  get optimizer(): AdamW {
    return this.optimisation.optimizer;
  }
  get ema(): Ema {
    return this.optimisation.ema;
  }
  /** The one random stream of training (perturbation, DiffAugment); saved with checkpoints. */
  readonly sampler: RngState;
  /** Reconstruction, perceptual and GAN losses, and the discriminator. */
  readonly objective: DecoderObjective;
  /** The codebook's initialisation and dead-code replacement (model.codebookInit, model.deadCodeThreshold). */
  readonly codebook: CodebookUpkeep;
  /** train.device, resolved (src/train/device.ts). */
  readonly device: Device;
  /** train.precision: the forward passes' dtype (src/train/precision.ts). */
  readonly precision: MixedPrecision;
  stepCount = 0;

  constructor(readonly config: TokenizerConfig, options: TrainerOptions = {}) {
    checkTokenizerConfig(config);
    this.device = resolveDevice(config.train.device);
    this.precision = new MixedPrecision(config.train.precision, this.device);
    this.model = new Tokenizer(modelOptions(config)).to(this.device);
    const { optim, train } = config;
    this.optimisation = new Optimisation(optim, {
      params: this.model.parameters(), averaged: this.model.namedParameters(), clipped: this.model.parameters(), betas: [0.9, 0.95], steps: train.steps,
      precision: this.precision,
    });
    this.sampler = new RngState(streamSeed(train.seed, 'trainDraws'));
    // After the model, as before the objective was split out: the discriminator's initial draws
    // follow the model's, so a seed gives the weights it always gave.
    this.objective = new DecoderObjective(config.loss, { channels: config.data.channels, nonFinite: config.train.nonFinite, featureNetwork: options.featureNetwork, discriminatorNetwork: options.discriminatorNetwork, device: this.device, precision: config.train.precision });
    this.codebook = new CodebookUpkeep(this.model.quantize, config.model, this.sampler.stream, { ema: this.ema, owner: this.model });
  }

  get discriminator(): DecoderObjective['discriminator'] {
    return this.objective.discriminator;
  }

  get perceptual(): PerceptualLoss | null {
    return this.objective.perceptual;
  }

  /** What a checkpoint must hold to continue exactly. */
  parts(): Record<string, Module | Stateful> {
    return {
      model: this.model, ...this.optimisation.parts(), sampler: this.sampler, ...this.objective.parts(), ...this.codebook.parts(),
    };
  }

  /**
   * α, δ at the current step (annealed as docs/method.md §2), or null with perturbation off;
   * with the gaussian kind, σ_max annealed by the same ratio.
   */
  perturbationNow(): { kind: 'codebook'; alpha: number; delta: number } | { kind: 'gaussian'; scale: number } | null {
    const p = this.config.perturbation;
    if (!p.enabled) return null;
    const { alpha, delta, ratio } = p.anneal
      ? annealedPerturbation(this.stepCount, this.config.train.steps, { alpha: p.alpha, delta: p.delta, start: p.annealStart, end: p.annealEnd, floor: p.annealFloor })
      : { alpha: p.alpha, delta: p.delta, ratio: 1 };
    return p.kind === 'gaussian' ? { kind: 'gaussian', scale: ratio * p.noiseScale } : { kind: 'codebook', alpha, delta };
  }

  /**
   * One training step on images `[B, C, H, W]` in [−1, 1]. A loss that is not
   * finite throws NonFiniteLossError before anything is updated (the step is
   * not counted); a non-finite discriminator loss throws too with
   * train.nonFinite = stop, and with skip only the discriminator's update is skipped.
   */
  step(batch: Tensor): StepMetrics {
    const { config } = this;
    const perturbation = this.perturbationNow();
    const rng = this.sampler.stream;
    const ganStart = ganStartStep(config);
    const ganOn = this.discriminator !== null && ganStart !== null && this.stepCount >= ganStart;
    const objective = this.objective;
    const metrics = tidy((): StepMetrics => {
      const images = onDevice(batch, this.device);
      this.model.train();
      this.codebook.start(this.stepCount, () => this.model.encode(images).z);
      const { r, reconstruction, perceptual, adversarial, loss, backward } = this.precision.forward(() => {
        const r = phase('forward', () => this.model.forward(images, perturbation
          ? { ...perturbation, beta: config.perturbation.beta, select: config.perturbation.select, stream: rng }
          : undefined));
        const gan = ganOn ? { lastLayerWeight: this.model.lastDecoderWeight(), stream: rng, scale: this.precision.scaler?.scale } : null;
        return { r, ...objective.decoderLoss(r.image, images, { extra: r.quantized.loss, gan }) };
      });
      // Read once: checked before backward, so a NaN never reaches the weights or
      // the optimizer's moments, and then logged.
      const terms = phase('host reads', () => ({
        loss: loss.item(), reconstruction: reconstruction.item(), ...(perceptual ? { perceptual: perceptual.item() } : {}),
        codebook: r.quantized.codebookLoss.item(), commitment: r.quantized.commitmentLoss.item(),
      }));
      const ganTerms = adversarial ? { adversarial: adversarial.adversarial.item(), adaptiveWeight: adversarial.weight.item() } : null;
      checkFinite(this.stepCount + 1, { ...terms, ...ganTerms });
      const { lr } = this.optimisation.update(backward);
      const replacedCodes = phase('codebook upkeep', () => this.codebook.afterStep(r.quantized.ids, r.quantized.z));
      this.optimisation.average();
      const gan = ganTerms ? { ...ganTerms, ...objective.discriminatorStep(images, r.image, rng, this.stepCount + 1) } : undefined;
      const { usage, perplexity } = phase('codebook usage', () => codebookUsage(r.quantized.ids, config.model.codebookSize));
      return {
        step: this.stepCount + 1, ...terms, lr, usage, perplexity,
        ...(perturbation?.kind === 'gaussian' ? { noiseScale: perturbation.scale } : { alpha: perturbation?.alpha ?? 0, delta: perturbation?.delta ?? 0 }),
        ...(gan ? { gan } : {}),
        ...(replacedCodes === null ? {} : { replacedCodes }),
      };
    });
    this.stepCount += 1;
    return metrics;
  }

  /** Reconstructions with the EMA weights, clean and (when perturbation is on) perturbed, for grids and evaluation. */
  reconstruct(images: Tensor): { clean: Tensor; perturbed: Tensor | null } {
    return this.ema.withEmaWeights(() => noGrad(() => {
      this.model.eval();
      images = onDevice(images, this.device);
      const clean = this.model.forward(images).image;
      const p = this.perturbationNow();
      const perturbed = p
        ? this.model.forward(images, { ...p, beta: 1, stream: openStream(this.config.train.seed, 'gridDraws') }).image
        : null;
      return { clean, perturbed };
    }));
  }

  dispose(): void {
    this.optimisation.dispose();
    this.sampler.dispose();
    this.objective.dispose();
    this.codebook.dispose();
    this.model.dispose();
  }
}

