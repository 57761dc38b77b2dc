// Main training of the tokenizer (docs/method.md §2, §4): one `step` is encode →
// quantize → (perturb) → decode, reconstruction + VQ losses, the hinge GAN
// with the VQGAN adaptive weight once it is switched on, the optional
// perceptual term (perceptual.ts), AdamW with
// warm-up + cosine, gradient clipping, EMA of weights; then a discriminator
// step with DiffAugment and LeCam. Everything random draws from one seeded
// stream that checkpoints save, so a resumed run continues exactly.
import { AdamW, Ema, Scheduler, type Stateful, clipGradNorm, warmupCosine } from '../optim/index.js';
import { NonFiniteLossError, RngState, checkFinite } from '../train/index.js';
import { F, Generator, type Tensor, noGrad, tidy } from '../torch/index.js';
import type { FeatureNetwork } from '../features/network.js';
import type { Module } from '../nn/index.js';
import { type TokenizerConfig, checkTokenizerConfig, modelOptions } from './config.js';
import { diffAugment } from './diffaug.js';
import { PatchDiscriminator } from './discriminator.js';
import { LeCam, adaptiveGanWeight, hingeDiscriminatorLoss, hingeGeneratorLoss } from './gan_losses.js';
import { codebookUsage } from '../metrics/index.js';
import { Tokenizer } from './model.js';
import { PerceptualLoss } from './perceptual.js';
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
  alpha: number;
  delta: number;
  /** `adversarial`: the decoder's hinge loss −mean(D(x̂)) before its weight. */
  gan?: { adversarial: number; adaptiveWeight: number; discriminator: number; lecam: number; discriminatorSkipped?: boolean };
}

export interface TrainerOptions {
  /**
   * The network that loss.perceptual.network names, for kind=features
   * (built by the caller; the trainer does not dispose it).
   */
  featureNetwork?: FeatureNetwork;
}

export class TokenizerTrainer {
  readonly model: Tokenizer;
  readonly ema: Ema;
  readonly optimizer: AdamW;
  readonly scheduler: Scheduler;
  /** The one random stream of training (perturbation, DiffAugment); saved with checkpoints. */
  readonly sampler: RngState;
  readonly discriminator: PatchDiscriminator | null;
  readonly discriminatorOptimizer: AdamW | null;
  readonly lecam: LeCam | null;
  /** Null when loss.perceptual.kind is none. */
  readonly perceptual: PerceptualLoss | null;
  stepCount = 0;

  constructor(readonly config: TokenizerConfig, options: TrainerOptions = {}) {
    checkTokenizerConfig(config);
    // Loaded first: a wrong weight path fails before anything is allocated.
    this.perceptual = PerceptualLoss.fromConfig(config.loss.perceptual, { featureNetwork: options.featureNetwork });
    this.model = new Tokenizer(modelOptions(config));
    const { optim, train, loss } = config;
    this.optimizer = new AdamW(this.model.parameters(), { lr: optim.lr, betas: [0.9, 0.95], weightDecay: optim.weightDecay });
    this.scheduler = new Scheduler(this.optimizer, warmupCosine({
      lr: optim.lr, lrMin: Math.min(optim.lrMin, optim.lr), warmupSteps: Math.round(optim.warmupFraction * train.steps), totalSteps: train.steps,
    }));
    this.ema = new Ema(this.model.namedParameters(), { decay: optim.emaDecay });
    this.sampler = new RngState(train.seed + 1);
    const gan = loss.gan;
    this.discriminator = gan.enabled
      ? new PatchDiscriminator({ inChannels: config.data.channels, baseChannels: gan.baseChannels, layers: gan.layers, spectralNorm: gan.spectralNorm })
      : null;
    this.discriminatorOptimizer = this.discriminator
      ? new AdamW(this.discriminator.parameters(), { lr: gan.lr, betas: [0.9, 0.95], weightDecay: gan.weightDecay })
      : null;
    this.lecam = gan.enabled ? new LeCam({ decay: gan.lecamDecay }) : null;
  }

  /** What a checkpoint must hold to continue exactly. */
  parts(): Record<string, Module | Stateful> {
    const parts: Record<string, Module | Stateful> = {
      model: this.model, ema: this.ema, optimizer: this.optimizer, scheduler: this.scheduler, sampler: this.sampler,
    };
    if (this.discriminator && this.discriminatorOptimizer && this.lecam) {
      Object.assign(parts, { discriminator: this.discriminator, discriminatorOptimizer: this.discriminatorOptimizer, lecam: this.lecam });
    }
    return parts;
  }

  /** α, δ at the current step (annealed as docs/method.md §2), or null with perturbation off. */
  perturbationNow(): { alpha: number; delta: number } | null {
    const p = this.config.perturbation;
    if (!p.enabled) return null;
    if (!p.anneal) return { alpha: p.alpha, delta: p.delta };
    const { alpha, delta } = annealedPerturbation(this.stepCount, this.config.train.steps,
      { alpha: p.alpha, delta: p.delta, start: p.annealStart, end: p.annealEnd, floor: p.annealFloor });
    return { alpha, delta };
  }

  /**
   * One training step on images `[B, C, H, W]` in [−1, 1]. A loss that is not
   * finite throws NonFiniteLossError before anything is updated (the step is
   * not counted); a non-finite discriminator loss throws too with
   * train.nonFinite = stop, and with skip only the discriminator's update is skipped.
   */
  step(images: Tensor): StepMetrics {
    const { config } = this;
    const perturbation = this.perturbationNow();
    const rng = this.sampler.stream;
    const ganOn = this.discriminator !== null && this.stepCount >= Math.round(config.loss.gan.start * config.train.steps);
    const augment = (x: Tensor) => diffAugment(x, { policy: [...config.loss.gan.diffaug], cutoutRatio: config.loss.gan.cutoutRatio, generator: rng });
    const metrics = tidy((): StepMetrics => {
      this.model.train();
      const r = this.model.forward(images, perturbation
        ? { ...perturbation, beta: config.perturbation.beta, select: config.perturbation.select, generator: rng }
        : undefined);
      const reconstruction = config.loss.reconstruction === 'l1' ? F.l1Loss(r.image, images) : F.mseLoss(r.image, images);
      const perceptual = this.perceptual?.forward(r.image, images) ?? null;
      // VQGAN's "nll" term: pixel + weighted perceptual. It is also what the
      // adaptive GAN weight balances against (taming's calculate_adaptive_weight
      // takes nll_loss), so the GAN is scaled to both.
      const nll = perceptual ? reconstruction.add(perceptual.mul(config.loss.perceptual.weight)) : reconstruction;
      let loss = nll.add(r.quantized.loss);
      let gan: StepMetrics['gan'];
      let adversarial: Tensor | null = null;
      let adaptive: Tensor | null = null;
      if (ganOn) {
        adversarial = hingeGeneratorLoss(this.discriminator!.forward(augment(r.image)));
        adaptive = adaptiveGanWeight(nll, adversarial, this.model.lastDecoderWeight()).mul(config.loss.gan.weight);
        loss = loss.add(adversarial.mul(adaptive));
      }
      // Read once: checked before backward, so a NaN never reaches the weights or
      // the optimizer's moments, and then logged.
      const terms = {
        loss: loss.item(), reconstruction: reconstruction.item(), ...(perceptual ? { perceptual: perceptual.item() } : {}),
        codebook: r.quantized.codebookLoss.item(), commitment: r.quantized.commitmentLoss.item(),
      };
      const ganTerms = adversarial ? { adversarial: adversarial.item(), adaptiveWeight: adaptive!.item() } : null;
      checkFinite(this.stepCount + 1, { ...terms, ...ganTerms });
      this.optimizer.zeroGrad();
      loss.backward();
      if (config.optim.clipNorm > 0) clipGradNorm(this.model.parameters(), config.optim.clipNorm);
      const lr = this.optimizer.paramGroups[0]!.lr;
      this.optimizer.step();
      this.scheduler.step();
      this.ema.update();
      if (ganOn) {
        this.discriminatorOptimizer!.zeroGrad();
        const real = this.discriminator!.forward(augment(images));
        const fake = this.discriminator!.forward(augment(r.image.detach()));
        const dLoss = hingeDiscriminatorLoss(real, fake).mul(config.loss.gan.hingeScale);
        const dValue = dLoss.item();
        gan = { ...ganTerms!, discriminator: dValue, lecam: Number.NaN };
        if (Number.isFinite(dValue)) {
          // LeCam's anchors move only with finite logits (its forward updates them).
          const lecam = this.lecam!.forward(real, fake);
          dLoss.add(lecam.mul(config.loss.gan.lecamWeight)).backward();
          this.discriminatorOptimizer!.step();
          gan.lecam = lecam.item();
        } else if (config.train.nonFinite === 'stop') {
          throw new NonFiniteLossError(this.stepCount + 1, { discriminator: dValue }, 'discriminator loss');
        } else {
          gan.discriminatorSkipped = true;
        }
      }
      const { usage, perplexity } = codebookUsage(r.quantized.ids, config.model.codebookSize);
      return {
        step: this.stepCount + 1, ...terms, lr, usage, perplexity,
        alpha: perturbation?.alpha ?? 0, delta: perturbation?.delta ?? 0, ...(gan ? { gan } : {}),
      };
    });
    this.stepCount += 1;
    return metrics;
  }

  /** Reconstructions with the EMA weights, clean and (when perturbation is on) perturbed, for grids and evaluation. */
  reconstruct(images: Tensor): { clean: Tensor; perturbed: Tensor | null } {
    return this.ema.withEmaWeights(() => noGrad(() => {
      this.model.eval();
      const clean = this.model.forward(images).image;
      const p = this.perturbationNow();
      const perturbed = p
        ? this.model.forward(images, { ...p, beta: 1, generator: new Generator(this.config.train.seed + 2) }).image
        : null;
      return { clean, perturbed };
    }));
  }

  dispose(): void {
    this.optimizer.dispose();
    this.discriminatorOptimizer?.dispose();
    this.ema.dispose();
    this.sampler.dispose();
    this.discriminator?.dispose();
    this.perceptual?.dispose();
    this.model.dispose();
  }
}

