// Training of the generator (docs/method.md §5): next-token cross-entropy on
// the cached token grids, with the label replaced by the null class with
// probability 0.1 (what classifier-free guidance needs later), AdamW with
// warm-up + cosine, gradient clipping and an EMA of the weights, which is
// what samples. Batches are cut from a seeded per-epoch shuffle, and the
// class dropout and mirror-image choice draw from one seeded stream that
// checkpoints save, so a resumed run continues exactly.
//
// As one rank of a data-parallel run (src/train/distributed.ts) the trainer
// takes its `shard` of each step's global batch of W·B rows, as the sharded
// DataLoader does, and draws the class dropout and mirror choices for the
// whole global batch before keeping its slice: every rank's stream stays
// where one process's would be, so W ranks × B rows train exactly as one
// process × W·B rows, and a checkpoint resumes on any world size.
import { Rng, mixSeed } from '../data/index.js';
import { type AdamW, type Ema, type Stateful, decayGroups } from '../optim/index.js';
import { type Device, F, type Tensor, bernoulli, onDevice, phase, randint, tensor, tidy, where, zeros } from '../torch/index.js';
import { MixedPrecision, Optimisation, RngState, checkFinite, resolveDevice, streamSeed } from '../train/index.js';
import type { Module } from '../nn/index.js';
import { type GeneratorConfig, generatorOptions } from './config.js';
import { ArGenerator } from './model.js';
import type { TokenSet } from './token_dataset.js';

export interface GeneratorStepMetrics {
  step: number;
  /** Mean next-token cross-entropy (nats). */
  loss: number;
  /** Fraction of tokens whose most likely prediction is the true one. */
  accuracy: number;
  lr: number;
  gradNorm: number;
}

export class GeneratorTrainer {
  readonly model: ArGenerator;
  /** AdamW + schedule + EMA (src/train/optimisation.ts). */
  readonly optimisation: Optimisation;
  get optimizer(): AdamW {
    return this.optimisation.optimizer;
  }
  get ema(): Ema {
    return this.optimisation.ema;
  }
  /** Class dropout and mirror-image choice; saved with checkpoints. */
  readonly sampler: RngState;
  stepCount = 0;
  #order: { epoch: number; rows: Uint32Array } | null = null;
  /** This process's share of each global batch (rank 0 of 1 alone). */
  readonly shard: { rank: number; worldSize: number };
  /** train.device, resolved (src/train/device.ts); the token set stays on the host and each batch moves. */
  readonly device: Device;
  /** train.precision: the forward passes' dtype (src/train/precision.ts). */
  readonly precision: MixedPrecision;

  constructor(readonly config: GeneratorConfig, readonly tokens: TokenSet, numClasses: number,
    o: { shard?: { rank: number; worldSize: number } } = {}) {
    this.shard = o.shard ?? { rank: 0, worldSize: 1 };
    this.device = resolveDevice(config.train.device);
    this.model = new ArGenerator(generatorOptions(config, { vocabSize: tokens.vocabSize, numClasses, grid: tokens.grid }));
    tidy(() => this.model.checkIds(tokens.ids.reshape(-1, this.model.length)));  // [M, variants, N]: every stored variant
    this.model.to(this.device);
    this.precision = new MixedPrecision(config.train.precision, this.device);
    const { optim, train } = config;
    this.optimisation = new Optimisation(optim, {
      params: decayGroups(this.model.namedParameters(), optim.weightDecay), averaged: this.model.namedParameters(), clipped: this.model.parameters(),
      betas: [0.9, optim.beta2], steps: train.steps, precision: this.precision,
    });
    this.sampler = new RngState(streamSeed(train.seed, 'trainDraws'));
  }

  /** Rows of a step over all ranks: train.batchSize per rank. */
  get globalBatchSize(): number {
    return this.config.train.batchSize * this.shard.worldSize;
  }

  /** Full global batches per pass over the token set. */
  get batchesPerEpoch(): number {
    return Math.floor(this.tokens.labels.size(0) / this.globalBatchSize);
  }

  /** What a checkpoint must hold to continue exactly. */
  parts(): Record<string, Module | Stateful> {
    return { model: this.model, ...this.optimisation.parts(), sampler: this.sampler };
  }

  /**
   * Token-set rows `[B]` of this rank's share of the step's batch: a seeded
   * shuffle per epoch, cut into full global batches, of which rank r takes
   * rows [r·B, (r+1)·B) (the sharded DataLoader's layout).
   */
  batchRows(step: number): { epoch: number; rows: Tensor } {
    const perEpoch = this.batchesPerEpoch;
    const epoch = Math.floor(step / perEpoch);
    const B = this.config.train.batchSize;
    if (this.#order?.epoch !== epoch) this.#order = { epoch, rows: new Rng(mixSeed(this.config.train.seed, epoch)).permutation(this.tokens.labels.size(0)) };
    const start = (step % perEpoch) * this.globalBatchSize + this.shard.rank * B;
    return { epoch, rows: tensor(Array.from(this.#order.rows.subarray(start, start + B)), { dtype: 'int64', device: 'cpu' }) };
  }

  /**
   * One step on the next batch. A non-finite loss throws NonFiniteLossError
   * before anything is updated (the step is not counted).
   */
  step(): GeneratorStepMetrics {
    const { config, model } = this;
    const rng = this.sampler.stream;
    const metrics = tidy((): GeneratorStepMetrics => {
      model.train();
      const rows = this.batchRows(this.stepCount).rows;
      const variants = this.tokens.ids.indexSelect(0, rows);  // [B, V, N]
      const [B, V, N] = variants.shape as [number, number, number];
      // Drawn for the global batch, this rank's rows kept (see the top of the file).
      const mine = (draw: Tensor) => draw.narrow(0, this.shard.rank * B, B);
      const G = this.globalBatchSize;
      const pick = V === 1 ? variants.select(1, 0) : variants.gather(1, mine(randint(0, V, [G, 1, 1], { stream: rng, device: 'cpu' })).expand(B, 1, N)).squeeze(1);
      // The token set and the draws stay on the host (the same numbers on every device); the batch moves.
      const ids = pick.to({ dtype: 'int64', device: this.device });
      const labels = this.tokens.labels.indexSelect(0, rows);
      const dropped = mine(bernoulli(zeros([G], { device: 'cpu' }), config.model.classDropout, rng)).to('bool');
      const conditioned = onDevice(where(dropped, model.nullClass, labels), this.device);
      const { logits, loss } = this.precision.forward(() => {
        const logits = phase('forward', () => model.forward(ids, conditioned));  // [B, N, K]
        return { logits, loss: phase('loss', () => F.crossEntropy(logits.reshape(B * N, -1), ids.reshape(B * N))) };
      });
      const value = loss.item();
      checkFinite(this.stepCount + 1, { loss: value });
      const update = this.optimisation.update(loss);
      this.optimisation.average();
      const { lr } = update;
      const gradNorm = update.gradNorm?.item() ?? Number.NaN;
      const accuracy = phase('accuracy', () => logits.detach().argmax(-1).eq(ids).to('float32').mean().item());
      return { step: this.stepCount + 1, loss: value, accuracy, lr, gradNorm };
    });
    this.stepCount += 1;
    return metrics;
  }

  dispose(): void {
    this.optimisation.dispose();
    this.sampler.dispose();
    this.model.dispose();
  }
}
