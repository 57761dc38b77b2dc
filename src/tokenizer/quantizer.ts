// The vector quantizer of RobusTok (docs/method.md §1): latents and codebook vectors
// are both L2-normalised, so the nearest code is the one of highest cosine;
// gradients pass to the encoder by the straight-through estimator (van den
// Oord et al., 2017). Losses: codebook ‖zq − sg(z)‖² (weight 1) and
// commitment ‖sg(zq) − z‖² (weight β_c = 0.25); no EMA codebook, no entropy
// loss, as in the paper's setting. LlamaGen's VQ models quantize the same
// way (codebook_l2_norm); taming's VQGAN compares raw latents and codes by
// Euclidean distance (`distance: 'euclidean'`). The code a latent takes is
// index 0 of its δ nearest codes (metrics/nearest_codes.ts), so the
// perturbation's candidates (docs/method.md §2) start from it.
//
// Below the quantizer, its codebook's upkeep in training (at
// small scale half the codes went unused and the used ones crowded, so pFID
// could not separate tokenizers): how the codes start (model.codebookInit)
// and the replacement of dead codes (model.deadCodeThreshold), both off by
// default, as the ecosystem offers them (vector-quantize-pytorch, Jukebox).
import { type CodeDistance, inCodeSpace, l2Normalize, nearestCodes } from '../metrics/index.js';
import { Embedding, Module } from '../nn/index.js';
import { type Ema, type Stateful, type TrainState, checkEnvelope, checkTensors } from '../optim/index.js';
import { type Device, F, type RandomStream, type Tensor, full, noGrad, normal_, ones, randint, randperm, tidy, uniform_, where, zeros } from '../torch/index.js';
import { type TokenLayout, fromTokens, idsInLayout, toTokens } from './tokens.js';

export interface QuantizerOptions {
  /** K, the number of codes (4096 at reference scale). */
  codebookSize: number;
  /** D, the code width (64 at reference scale). */
  codeDim: number;
  /** Weight of the commitment loss (0.25). */
  commitmentWeight?: number;
  /** Weight of the codebook loss (1). */
  codebookWeight?: number;
  /** How a latent finds its code: 'cosine' (normalised, the default) or 'euclidean' (raw, taming's VQGAN). */
  distance?: CodeDistance;
}

export interface Quantized {
  /** z + sg(ẑ − z): the quantized latent, in the input's layout, with the encoder's gradient. */
  zq: Tensor;
  /** The continuous latent `[B, N, D]` in code space, normalised for cosine (what perturbation searches from). */
  z: Tensor;
  /** Code ids `[B, N]`. */
  ids: Tensor;
  /** Code ids in the latent's grid (`[B, H, W]` for feature maps). */
  idsGrid: Tensor;
  codebookLoss: Tensor;
  commitmentLoss: Tensor;
  /** codebookWeight · codebook + commitmentWeight · commitment. */
  loss: Tensor;
  layout: TokenLayout;
}

export class VectorQuantizer extends Module {
  /** Codes `[K, D]` (unnormalised parameters; used normalised). */
  readonly embedding: Embedding;

  constructor(readonly options: QuantizerOptions) {
    super();
    const { codebookSize: K, codeDim: D } = options;
    if (options.distance !== undefined && options.distance !== 'cosine' && options.distance !== 'euclidean') {
      throw new RangeError(`distance must be 'cosine' or 'euclidean', got '${String(options.distance)}'`);
    }
    if (!(Number.isInteger(K) && K >= 2)) throw new RangeError(`codebookSize must be an integer ≥ 2, got ${K}`);
    if (!(Number.isInteger(D) && D >= 1)) throw new RangeError(`codeDim must be a positive integer, got ${D}`);
    this.embedding = this.child('embedding', new Embedding(K, D));
    // TiTok/RobusTok initialise codes U(−1/K, 1/K); direction is all that matters after normalising.
    noGrad(() => uniform_(this.embedding.weight, -1 / K, 1 / K));
  }

  get distance(): CodeDistance {
    return this.options.distance ?? 'cosine';
  }

  /** The codebook `[K, D]` as the lookup uses it (normalised for cosine). */
  codes(): Tensor {
    return inCodeSpace(this.embedding.weight, this.distance);
  }

  /** Quantizes `[B, D, H, W]` or `[B, N, D]` latents. */
  forward(latent: Tensor): Quantized {
    const [tokens, layout] = toTokens(latent);
    if (tokens.size(-1) !== this.options.codeDim) {
      throw new Error(`quantizer expects latents of width ${this.options.codeDim}, got shape [${latent.shape}]`);
    }
    const z = inCodeSpace(tokens, this.distance);
    const codes = this.codes();
    const ids = noGrad(() => nearestCodes(z, codes, this.distance, 1).squeeze(-1));  // δ = 1: the VQ choice (docs/method.md §1)
    const quantized = F.embedding(ids, codes);
    const codebookLoss = F.mseLoss(quantized, z.detach());
    const commitmentLoss = F.mseLoss(quantized.detach(), z);
    const loss = codebookLoss.mul(this.options.codebookWeight ?? 1).add(commitmentLoss.mul(this.options.commitmentWeight ?? 0.25));
    const straightThrough = z.add(quantized.sub(z).detach());
    return { zq: fromTokens(straightThrough, layout), z, ids, idsGrid: idsInLayout(ids, layout), codebookLoss, commitmentLoss, loss, layout };
  }

  /** Code ids `[B, N]` → normalised code vectors in the layout of `layout` (the decoder's input). */
  lookup(ids: Tensor, layout?: TokenLayout): Tensor {
    const vectors = F.embedding(ids.flatten(1), this.codes());
    return layout ? fromTokens(vectors, layout) : vectors;
  }
}

// ---- the codebook's upkeep in training ------------------------------------------

/** How the codes start (model.codebookInit). */
export type CodebookInit = 'uniform' | 'normal' | 'kmeans';

/** Lloyd iterations of the k-means initialisation (vector-quantize-pytorch's kmeans_iters default). */
export const KMEANS_ITERATIONS = 10;

/** The model.* keys of config.ts that the upkeep reads. */
export interface CodebookUpkeepOptions {
  codebookInit: CodebookInit;
  /** Replace a code whose EMA usage (tokens per batch) falls below this; 0 = never. */
  deadCodeThreshold: number;
  /** Decay of the EMA usage counts. */
  deadCodeDecay: number;
}

/**
 * `n` rows of `x` `[M, D]` drawn from `stream`: distinct rows when there
 * are enough, with replacement otherwise (vector-quantize-pytorch's
 * sample_vectors). The draw is made on the CPU, where the stream lives.
 */
function sampleRows(x: Tensor, n: number, stream: RandomStream): Tensor {
  const M = x.size(0);
  const rows = M >= n ? randperm(M, { stream }).slice(0, 0, n) : randint(0, M, [n], { stream });
  return x.indexSelect(0, rows.to(x.device));
}

/**
 * Spherical k-means (Lloyd's algorithm on the unit sphere, as
 * vector-quantize-pytorch's kmeans with use_cosine_sim): start from K
 * latents drawn from `stream`, then `iterations` times assign every
 * latent to its centroid of highest cosine and move each centroid to the
 * normalised mean of its latents; a centroid that gets none stays put.
 *
 * @param latents `[M, D]` (normalised here: the quantizer compares by cosine)
 * @returns centroids `[K, D]` of unit length, and the latents per centroid
 *   `[K]` at the last assignment (float32)
 */
export function sphericalKmeans(latents: Tensor, clusters: number, o: { stream: RandomStream; iterations?: number }): { centroids: Tensor; counts: Tensor } {
  return noGrad(() => tidy(() => {
    const x = l2Normalize(latents.detach());
    const [M, D] = x.shape as [number, number];
    let centroids = sampleRows(x, clusters, o.stream);
    let counts = zeros([clusters], { device: x.device });
    for (let i = 0; i < (o.iterations ?? KMEANS_ITERATIONS); i++) {
      const assigned = nearestCodes(x, centroids, 'cosine', 1).squeeze(-1);                          // [M]
      counts = zeros([clusters], { device: x.device }).scatterAdd(0, assigned, ones([M], { device: x.device }));
      const sums = zeros([clusters, D], { device: x.device }).scatterAdd(0, assigned.unsqueeze(1).expand(M, D), x);
      centroids = where(counts.eq(0).unsqueeze(1), centroids, l2Normalize(sums));                    // the mean's direction
    }
    return { centroids, counts };
  }));
}

/**
 * EMA of each code's usage, in tokens per batch, and the dead codes it
 * implies (vector-quantize-pytorch's cluster_size and
 * threshold_ema_dead_code; Jukebox's k_elem and threshold). Checkpointed as
 * a training part of its own, not as a buffer of the quantizer: the
 * exported tokenizer.safetensors then stays loadable by a model that knows
 * nothing of training.
 */
export class CodeUsageEma implements Stateful {
  /** Counts `[K]` (float32, kept). */
  readonly counts: Tensor;

  /**
   * Every code starts at the threshold, as Jukebox's k_elem starts at its
   * threshold of 1 and as a replaced code restarts (vector-quantize-pytorch's
   * reset_cluster_size): a code is dead once it is used less than that.
   */
  constructor(readonly codebookSize: number, readonly threshold: number, readonly decay: number, device?: Device) {
    if (!(threshold > 0)) throw new RangeError(`CodeUsageEma: the threshold must be > 0, got ${threshold}`);
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`CodeUsageEma: the decay must be in [0, 1), got ${decay}`);
    this.counts = full([codebookSize], threshold, { device }).keep();
  }

  /** Counts this batch's ids (any shape) into the EMA; returns the dead codes `[K]` (bool). */
  update(ids: Tensor): Tensor {
    const flat = ids.flatten().to(this.counts.device);
    const batch = zeros([this.codebookSize], { device: this.counts.device }).scatterAdd(0, flat, ones([flat.numel], { device: this.counts.device }));
    this.counts.lerp_(batch, 1 - this.decay);
    return this.counts.lt(this.threshold);
  }

  /** Codes `mask` `[K]` (bool) start over at the threshold. */
  restart(mask: Tensor): void {
    tidy(() => this.counts.copy_(where(mask, this.threshold, this.counts)));
  }

  stateDict(): TrainState {
    return { tensors: { counts: this.counts }, meta: { kind: 'CodeUsageEma', threshold: this.threshold, decay: this.decay } };
  }

  loadStateDict(state: TrainState): void {
    checkEnvelope('CodeUsageEma', state);
    checkTensors('CodeUsageEma', state.tensors, new Map([['counts', [this.codebookSize]]]));
    noGrad(() => this.counts.copy_(state.tensors.counts!));
  }

  dispose(): void {
    this.counts.dispose();
  }
}

/**
 * The codebook's upkeep during main training, all of it drawing from the
 * trainer's one random stream (so a resumed run continues exactly):
 *  - init 'uniform' keeps the quantizer's own U(−1/K, 1/K) (TiTok and the
 *    released code); 'normal' redraws N(0, 1), torch.nn.Embedding's
 *    default; 'kmeans' puts the codes on the spherical k-means centroids of
 *    the first batch's encoder latents (vector-quantize-pytorch's
 *    kmeans_init; Jukebox starts from random latents of the first batch);
 *  - with a dead-code threshold, after every optimizer step each code whose
 *    EMA usage fell below it is replaced by a random latent of the batch
 *    (vector-quantize-pytorch's expire_codes_, Jukebox's random restarts).
 *
 * Codes are used normalised, so only their direction matters to the
 * lookup; their norm sets how fast Adam turns them (a step of about lr per
 * coordinate moves a code of norm r by about lr·√D/r radians). k-means
 * centroids and replacement latents are written at unit length, as in
 * vector-quantize-pytorch's cosine codebook; U(−1/K, 1/K) gives codes of
 * norm ≈ √(D/3)/K and N(0, 1) of norm ≈ √D. Whatever is written to a code
 * is written to its EMA shadow too: a replacement is a restart, and an
 * average of the dead direction and the new one means nothing. Adam's
 * moments are left alone: a dead code has had no gradient for a while, so
 * they have already decayed towards zero.
 */
export class CodebookUpkeep {
  /** The EMA usage counts; null with dead-code replacement off. */
  readonly usage: CodeUsageEma | null;
  readonly #targets: Tensor[];

  /**
   * @param ema the trainer's EMA of `owner`'s parameters, whose copy of the
   *   codes is kept equal to the codes wherever they are rewritten
   */
  constructor(readonly quantizer: VectorQuantizer, readonly options: CodebookUpkeepOptions, readonly stream: RandomStream,
    ema?: { ema: Ema; owner: Module }) {
    const codes = quantizer.embedding.weight;
    const name = ema?.owner.namedParameters().find(([, t]) => t === codes)?.[0];
    const shadow = ema && name !== undefined ? ema.ema.stateDict().tensors[name] : undefined;
    if (ema && shadow === undefined) throw new Error('CodebookUpkeep: the EMA does not hold the quantizer\'s codes');
    this.#targets = [codes, ...(shadow ? [shadow] : [])];
    const { codebookSize: K } = quantizer.options;
    this.usage = options.deadCodeThreshold > 0 ? new CodeUsageEma(K, options.deadCodeThreshold, options.deadCodeDecay, codes.device) : null;
    if (options.codebookInit === 'normal') tidy(() => this.#write(null, normal_(zeros(codes.shape, { device: codes.device }), 0, 1, stream)));
  }

  /**
   * Before training step `step` (0-based): at step 0 with init 'kmeans',
   * the codes become the k-means centroids of `latents()` `[B, N, D]` (the
   * normalised encoder latents of the first batch), and with dead-code
   * replacement on the usage counts start at each centroid's share of the
   * batch, as vector-quantize-pytorch's init_embed_ sets cluster_size.
   */
  start(step: number, latents: () => Tensor): void {
    if (step !== 0 || this.options.codebookInit !== 'kmeans') return;
    noGrad(() => tidy(() => {
      const z = latents();
      const { centroids, counts } = sphericalKmeans(z.reshape(-1, z.size(-1)), this.quantizer.options.codebookSize, { stream: this.stream });
      this.#write(null, centroids);
      this.usage?.counts.copy_(counts);
    }));
  }

  /**
   * After the optimizer's step: counts the batch's code ids `[B, N]` into the
   * usage EMA and replaces the dead codes by latents of `z` `[B, N, D]`
   * (the batch's normalised encoder latents). Returns how many codes were
   * replaced, or null with replacement off.
   */
  afterStep(ids: Tensor, z: Tensor): number | null {
    const usage = this.usage;
    if (!usage) return null;
    return noGrad(() => tidy(() => {
      const dead = usage.update(ids);
      const replaced = dead.nonzero().flatten();   // [n] code ids
      const n = replaced.numel;
      if (n === 0) return 0;
      const latents = l2Normalize(z.detach().reshape(-1, z.size(-1)));
      this.#write(replaced, sampleRows(latents, n, this.stream));
      usage.restart(dead);
      return n;
    }));
  }

  /** The checkpoint parts this upkeep adds to the trainer's: the usage counts, with replacement on. */
  parts(): Record<string, Stateful> {
    return this.usage ? { codeUsage: this.usage } : {};
  }

  dispose(): void {
    this.usage?.dispose();
  }

  /** Rows `rows` `[n]` (all rows when null) of the codes and of their EMA shadow ← `values` `[n, D]`. */
  #write(rows: Tensor | null, values: Tensor): void {
    noGrad(() => {
      for (const t of this.#targets) {
        if (rows === null) t.copy_(values);
        else t.indexPut_([rows], values);
      }
    });
  }
}
