// Post-training of the decoder (docs/method.md §6): each step encodes real
// images x to their ground-truth tokens, replaces about 1 − σ of them by the
// frozen generator's draws (σ-preserving sampling), decodes the result and
// trains the decoder to give back x — with the tokenizer's own loss mix
// (pixel + perceptual + hinge GAN with the adaptive weight), the GAN on from
// loss.gan.start (the first step by default) against a fresh or continued
// discriminator, and no latent perturbation. The EMA starts from the trained
// weights and is never reset by a warm-up: what is exported is the trained
// decoder moved by post-training, not the last few steps' raw weights. Encoder, quantizer and codebook are frozen and stay
// bit-identical (the generator's tokens must keep their meaning); with
// `roundTrip` the released code's variant trains the codebook and
// projections too.
import type { FeatureNetwork } from '../features/index.js';
import type { ArGenerator, Sampling } from '../generator/index.js';
import type { Module } from '../nn/index.js';
import { type AdamW, type Ema, Scheduler, type Stateful, emaDecayForHalfLife } from '../optim/index.js';
import { DecoderObjective, type GanTerms, type Tokenizer } from '../tokenizer/index.js';
import { type Device, type Tensor, noGrad, onDevice, phase, tidy } from '../torch/index.js';
import { MixedPrecision, Optimisation, RngState, checkFinite, resolveDevice, streamSeed } from '../train/index.js';
import type { PosttrainConfig } from './config.js';
import type { ImageDraws } from './image_draws.js';
import { type PreservedSamplingOptions, preservedSampling } from './preserved_sampling.js';

export interface PosttrainStepMetrics {
  step: number;
  loss: number;
  reconstruction: number;
  perceptual?: number;
  /** Codebook + commitment loss of the re-encoding (roundTrip only). */
  vq?: number;
  lr: number;
  /** Fraction of positions that kept the ground-truth token (≈ σ), and that differ from it after sampling (the real replacement rate). */
  kept: number;
  changed: number;
  gan?: GanTerms;
}

/** Where σ-tokens' random numbers come from: two streams, or per-image uniforms `[B, N]` (ImageDraws). */
export type SigmaDraws = Pick<PreservedSamplingOptions, 'stream' | 'coinStream'> | ImageDraws;

/** A batch's pregenerated σ-tokens `[B, N]` with which positions kept the ground truth and which differ from it. */
export interface PregeneratedRows {
  ids: Tensor;
  kept: Tensor;
  changed: Tensor;
}

export class PostTrainer {
  readonly objective: DecoderObjective;
  /** AdamW + schedule + EMA of the trained tensors (src/train/optimisation.ts). */
  readonly optimisation: Optimisation;
  /** The discriminator's rate on the decoder's schedule shape, scaled to loss.gan.lr (null without the GAN). */
  readonly discriminatorScheduler: Scheduler | null;
  get optimizer(): AdamW {
    return this.optimisation.optimizer;
  }
  get ema(): Ema {
    return this.optimisation.ema;
  }
  /** The generator's draws and DiffAugment; saved with checkpoints. */
  readonly sampler: RngState;
  /** The keep/replace coin flips, a stream of their own (see preservedSampling). */
  readonly coins: RngState;
  /** train.device, resolved (src/train/device.ts): the tokenizer, generator and frozen copy move there. */
  readonly device: Device;
  /** train.precision: the forward passes' dtype (src/train/precision.ts). */
  readonly precision: MixedPrecision;
  stepCount = 0;

  /**
   * `tokenizer` is trained in place (its decoder, plus what config.trainable
   * and roundTrip add); `generator` is only read. `sampling`: the
   * generator's draws. `frozen`: an untouched copy of the main-training
   * tokenizer, which roundTrip decodes with (the caller's to dispose).
   */
  constructor(readonly config: PosttrainConfig, readonly tokenizer: Tokenizer, readonly generator: ArGenerator, readonly sampling: Sampling,
    o: { channels: number; featureNetwork?: FeatureNetwork; discriminatorNetwork?: FeatureNetwork; frozen?: Tokenizer }) {
    if (config.roundTrip && !o.frozen) throw new Error('PostTrainer: roundTrip needs the frozen main-training tokenizer (o.frozen)');
    this.#frozen = o.frozen ?? null;
    this.device = resolveDevice(config.train.device);
    for (const model of [tokenizer, generator, ...(o.frozen ? [o.frozen] : [])]) model.to(this.device);
    this.precision = new MixedPrecision(config.train.precision, this.device);
    this.objective = new DecoderObjective(config.loss, {
      channels: o.channels, nonFinite: config.train.nonFinite, featureNetwork: o.featureNetwork, discriminatorNetwork: o.discriminatorNetwork, device: this.device,
      precision: config.train.precision,
    });
    const trainable = new Set(this.trainableNames());
    for (const [name, t] of tokenizer.namedParameters()) t.requiresGrad_(trainable.has(name));
    for (const p of generator.parameters()) p.requiresGrad_(false);
    generator.eval();
    const named = this.trainableParameters();
    const { optim, train } = config;
    const tensors = named.map(([, t]) => t);
    // The EMA starts as the trained weights and keeps them: no warm-up (docs/method.md §6).
    this.optimisation = new Optimisation(optim, {
      params: tensors, averaged: named, clipped: tensors, betas: [0.9, 0.95], steps: train.steps, ema: { decay: this.emaDecay, warmup: false },
      precision: this.precision,
    });
    // The discriminator's rate follows the decoder's shape, its floor in the same ratio to loss.gan.lr.
    const dOptimizer = this.objective.discriminatorOptimizer;
    this.discriminatorScheduler = dOptimizer ? new Scheduler(dOptimizer, (peak) => this.optimisation.schedule(train.steps, peak)) : null;
    this.sampler = new RngState(streamSeed(train.seed, 'trainDraws'));
    this.coins = new RngState(streamSeed(train.seed, 'sigmaCoins'));
  }

  readonly #frozen: Tokenizer | null;

  /** The untouched main-training tokenizer, in eval mode. */
  private frozenDecoder(): Tokenizer {
    return this.#frozen!.eval();
  }

  /** The EMA's fixed decay: from optim.emaHalfLife when set, else optim.emaDecay. */
  get emaDecay(): number {
    const { emaHalfLife, emaDecay } = this.config.optim;
    return emaHalfLife > 0 ? emaDecayForHalfLife(emaHalfLife) : emaDecay;
  }

  /** The step from which the GAN term and the discriminator's updates are on (loss.gan.start of the run). */
  get ganStart(): number {
    return Math.round(this.config.loss.gan.start * this.config.train.steps);
  }

  /** Names of the tokenizer's parameters that post-training updates. */
  trainableNames(): string[] {
    const { roundTrip, trainable } = this.config;
    const prefixes = ['decoder.', ...(trainable.postQuant || roundTrip ? ['post_quant_conv.'] : []), ...(roundTrip ? ['quantize.', 'quant_conv.'] : [])];
    return this.tokenizer.namedParameters().map(([name]) => name).filter((name) => prefixes.some((p) => name.startsWith(p)));
  }

  private trainableParameters(): [string, Tensor][] {
    const names = new Set(this.trainableNames());
    return this.tokenizer.namedParameters().filter(([name]) => names.has(name));
  }

  parts(): Record<string, Module | Stateful> {
    return {
      tokenizer: this.tokenizer, ...this.optimisation.parts(),
      sampler: this.sampler, coins: this.coins, ...this.objective.parts(),
      ...(this.discriminatorScheduler ? { discriminatorScheduler: this.discriminatorScheduler } : {}),
    };
  }

  /**
   * Ground-truth ids of images `[B, C, H, W]` → σ-tokens `[B, N]` and the
   * kept mask, drawn from this trainer's streams, or as `draws` says: the
   * grid's streams of their own, or a pregenerated set's per-image uniforms
   * (image_draws.ts), so it is the same however the run started.
   */
  sigmaTokens(images: Tensor, labels: Tensor, draws: SigmaDraws = { stream: this.sampler.stream, coinStream: this.coins.stream }): { ids: Tensor; kept: Tensor; truth: Tensor } {
    const truth = noGrad(() => tidy(() => {
      this.tokenizer.eval();
      const ids = this.tokenizer.encode(onDevice(images, this.device)).ids;
      return ids.reshape(ids.size(0), -1);
    })).keep();
    const { ids, kept } = tidy(() => preservedSampling(this.generator, truth, onDevice(labels, this.device), {
      ...this.sampling, sigma: this.config.sigma, ...draws,
    }));
    return { ids: ids.keep(), kept: kept.keep(), truth };
  }

  /**
   * One step on images `[B, C, H, W]` in [−1, 1] with labels `[B]`; σ-tokens
   * `[B, N]` are drawn now unless given (a pregenerated set, with its `kept`
   * and `changed` masks `[B, N]`). A non-finite loss throws
   * NonFiniteLossError before anything is updated.
   */
  step(batch: Tensor, labels: Tensor, given?: PregeneratedRows): PosttrainStepMetrics {
    const { config, tokenizer, objective } = this;
    const rng = this.sampler.stream;
    const drawn = given ? null : phase('σ-tokens', () => this.sigmaTokens(batch, labels));
    const ganOn = objective.discriminator !== null && this.stepCount >= this.ganStart;
    try {
      const metrics = tidy((): PosttrainStepMetrics => {
        const images = onDevice(batch, this.device);
        const ids = given ? onDevice(given.ids, this.device) : drawn!.ids;
        tokenizer.train();
        const { image, vq, reconstruction, perceptual, adversarial, loss, backward } = this.precision.forward(() => {
          let image: Tensor;
          let vq: Tensor | null = null;
          if (config.roundTrip) {
            // The released code's ids: σ-tokens decoded by the frozen main-training
            // decoder, stored as 8-bit images, and encoded again by the live model.
            const eightBit = noGrad(() => this.frozenDecoder().decodeIds(ids).clamp(-1, 1).add(1).mul(127.5).round().div(127.5).sub(1));
            const q = tokenizer.encode(eightBit);
            vq = q.loss;
            image = tokenizer.decode(q.zq);
          } else {
            image = tokenizer.decodeIds(ids);
          }
          const gan = ganOn ? { lastLayerWeight: tokenizer.lastDecoderWeight(), stream: rng, scale: this.precision.scaler?.scale } : null;
          return { image, vq, ...objective.decoderLoss(image, images, { extra: vq, gan }) };
        });
        const terms = {
          loss: loss.item(), reconstruction: reconstruction.item(), ...(perceptual ? { perceptual: perceptual.item() } : {}), ...(vq ? { vq: vq.item() } : {}),
        };
        const ganTerms = adversarial ? { adversarial: adversarial.adversarial.item(), adaptiveWeight: adversarial.weight.item() } : null;
        checkFinite(this.stepCount + 1, { ...terms, ...ganTerms });
        const { lr } = this.optimisation.update(backward);
        this.optimisation.average();
        const gan = ganTerms ? { ...ganTerms, ...objective.discriminatorStep(images, image, rng, this.stepCount + 1) } : undefined;
        this.discriminatorScheduler?.step();
        const kept = (given?.kept ?? drawn!.kept).to('float32').mean().item();
        const changed = (given?.changed ?? drawn!.ids.ne(drawn!.truth)).to('float32').mean().item();
        return { step: this.stepCount + 1, ...terms, lr, kept, changed, ...(gan ? { gan } : {}) };
      });
      this.stepCount += 1;
      return metrics;
    } finally {
      if (drawn) for (const t of [drawn.ids, drawn.kept, drawn.truth]) t.dispose();
    }
  }

  /** Decodes ids `[B, N]` with the EMA weights (for grids and evaluation). */
  decodeWithEma(ids: Tensor): Tensor {
    return this.ema.withEmaWeights(() => noGrad(() => tidy(() => this.tokenizer.eval().decodeIds(onDevice(ids, this.device)).clamp(-1, 1))));
  }

  dispose(): void {
    this.optimisation.dispose();
    this.sampler.dispose();
    this.coins.dispose();
    this.objective.dispose();
  }
}
