// Post-training of the decoder (docs/method.md §6): each step encodes real
// images x to their ground-truth tokens, replaces about 1 − σ of them by the
// frozen generator's draws (σ-preserving sampling), decodes the result and
// trains the decoder to give back x — with the tokenizer's own loss mix
// (pixel + perceptual + hinge GAN with the adaptive weight), the GAN on from
// the first step against a freshly initialised discriminator, and no latent
// perturbation. Encoder, quantizer and codebook are frozen and stay
// bit-identical (the generator's tokens must keep their meaning); with
// `roundTrip` the released code's variant trains the codebook and
// projections too.
import type { FeatureNetwork } from '../features/network.js';
import type { ArGenerator, Sampling } from '../generator/index.js';
import type { Module } from '../nn/index.js';
import { AdamW, Ema, Scheduler, type Stateful, clipGradNorm, warmupCosine } from '../optim/index.js';
import { DecoderObjective, type GanTerms, type Tokenizer } from '../tokenizer/index.js';
import { type Generator, type Tensor, noGrad, tidy } from '../torch/index.js';
import { RngState, checkFinite } from '../train/index.js';
import type { PosttrainConfig } from './config.js';
import { preservedSampling } from './preserved_sampling.js';

export interface PosttrainStepMetrics {
  step: number;
  loss: number;
  reconstruction: number;
  perceptual?: number;
  /** Codebook + commitment loss of the re-encoding (roundTrip only). */
  vq?: number;
  lr: number;
  /** Fraction of positions that kept the ground-truth token (≈ σ), and that differ from it after sampling; NaN for pregenerated σ-tokens (drawn before training). */
  kept: number;
  changed: number;
  gan?: GanTerms;
}

export class PostTrainer {
  readonly objective: DecoderObjective;
  readonly optimizer: AdamW;
  readonly scheduler: Scheduler;
  readonly ema: Ema;
  /** The generator's draws and DiffAugment; saved with checkpoints. */
  readonly sampler: RngState;
  /** The keep/replace coin flips, a stream of their own (see preservedSampling). */
  readonly coins: RngState;
  stepCount = 0;

  /**
   * `tokenizer` is trained in place (its decoder, plus what config.trainable
   * and roundTrip add); `generator` is only read. `sampling`: the
   * generator's draws.
   */
  constructor(readonly config: PosttrainConfig, readonly tokenizer: Tokenizer, readonly generator: ArGenerator, readonly sampling: Sampling,
    o: { channels: number; featureNetwork?: FeatureNetwork }) {
    this.objective = new DecoderObjective(config.loss, { channels: o.channels, nonFinite: config.train.nonFinite, featureNetwork: o.featureNetwork });
    const trainable = new Set(this.trainableNames());
    for (const [name, t] of tokenizer.namedParameters()) t.requiresGrad_(trainable.has(name));
    for (const p of generator.parameters()) p.requiresGrad_(false);
    generator.eval();
    const named = this.trainableParameters();
    const { optim, train } = config;
    this.optimizer = new AdamW(named.map(([, t]) => t), { lr: optim.lr, betas: [0.9, 0.95], weightDecay: optim.weightDecay });
    this.scheduler = new Scheduler(this.optimizer, warmupCosine({
      lr: optim.lr, lrMin: Math.min(optim.lrMin, optim.lr), warmupSteps: Math.round(optim.warmupFraction * train.steps), totalSteps: train.steps,
    }));
    this.ema = new Ema(named, { decay: optim.emaDecay });
    this.sampler = new RngState(train.seed + 1);
    this.coins = new RngState(train.seed + 3);
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
      tokenizer: this.tokenizer, ema: this.ema, optimizer: this.optimizer, scheduler: this.scheduler,
      sampler: this.sampler, coins: this.coins, ...this.objective.parts(),
    };
  }

  /**
   * Ground-truth ids of images `[B, C, H, W]` → σ-tokens `[B, N]` and the
   * kept mask, drawn from this trainer's streams (or the given ones: a
   * pregenerated set draws from its own, so it is the same however the run started).
   */
  sigmaTokens(images: Tensor, labels: Tensor, streams: { draws: Generator; coins: Generator } = { draws: this.sampler.stream, coins: this.coins.stream }): { ids: Tensor; kept: Tensor; truth: Tensor } {
    const truth = noGrad(() => tidy(() => {
      this.tokenizer.eval();
      const ids = this.tokenizer.encode(images).ids;
      return ids.reshape(ids.size(0), -1);
    })).keep();
    const { ids, kept } = preservedSampling(this.generator, truth, labels, {
      ...this.sampling, sigma: this.config.sigma, generator: streams.draws, keepGenerator: streams.coins,
    });
    return { ids: ids.keep(), kept: kept.keep(), truth };
  }

  /**
   * One step on images `[B, C, H, W]` in [−1, 1] with labels `[B]`; σ-tokens
   * `[B, N]` are drawn now unless given (a pregenerated set). A non-finite
   * loss throws NonFiniteLossError before anything is updated.
   */
  step(images: Tensor, labels: Tensor, given?: Tensor): PosttrainStepMetrics {
    const { config, tokenizer, objective } = this;
    const rng = this.sampler.stream;
    const drawn = given ? null : this.sigmaTokens(images, labels);
    try {
      const metrics = tidy((): PosttrainStepMetrics => {
        const ids = given ?? drawn!.ids;
        tokenizer.train();
        let image: Tensor;
        let vq: Tensor | null = null;
        if (config.roundTrip) {
          // Decode to 8-bit images and encode again: the ids the released code trains on.
          const eightBit = noGrad(() => tokenizer.decodeIds(ids).clamp(-1, 1).add(1).mul(127.5).round().div(127.5).sub(1));
          const q = tokenizer.encode(eightBit);
          vq = q.loss;
          image = tokenizer.decode(q.zq);
        } else {
          image = tokenizer.decodeIds(ids);
        }
        const { nll, reconstruction, perceptual } = objective.nll(image, images);
        let loss = vq ? nll.add(vq) : nll;
        const adversarial = objective.discriminator ? objective.adversarial(image, nll, tokenizer.lastDecoderWeight(), rng) : null;
        if (adversarial) loss = loss.add(adversarial.adversarial.mul(adversarial.weight));
        const terms = {
          loss: loss.item(), reconstruction: reconstruction.item(), ...(perceptual ? { perceptual: perceptual.item() } : {}), ...(vq ? { vq: vq.item() } : {}),
        };
        const ganTerms = adversarial ? { adversarial: adversarial.adversarial.item(), adaptiveWeight: adversarial.weight.item() } : null;
        checkFinite(this.stepCount + 1, { ...terms, ...ganTerms });
        this.optimizer.zeroGrad();
        loss.backward();
        if (config.optim.clipNorm > 0) clipGradNorm(this.optimizer.paramGroups.flatMap((g) => g.params), config.optim.clipNorm);
        const lr = this.optimizer.paramGroups[0]!.lr;
        this.optimizer.step();
        this.scheduler.step();
        this.ema.update();
        const gan = ganTerms ? { ...ganTerms, ...objective.discriminatorStep(images, image, rng, this.stepCount + 1) } : undefined;
        const kept = drawn ? drawn.kept.to('float32').mean().item() : Number.NaN;
        const changed = drawn ? drawn.ids.ne(drawn.truth).to('float32').mean().item() : Number.NaN;
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
    return this.ema.withEmaWeights(() => noGrad(() => tidy(() => this.tokenizer.eval().decodeIds(ids).clamp(-1, 1))));
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema.dispose();
    this.sampler.dispose();
    this.coins.dispose();
    this.objective.dispose();
  }
}
