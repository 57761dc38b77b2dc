// Latent perturbation (RobusTok, docs/method.md §2; from "Robust Latent Matters",
// arXiv 2503.08354): during main training some tokens are swapped for codes
// near their continuous latent, so the decoder learns to render the kind of
// token errors an autoregressive generator makes. It is applied after the
// VQ losses are computed, so it only touches the reconstruction, perceptual
// and GAN terms; the target stays the clean image.
import { type CodeDistance, inCodeSpace, nearestCodes } from '../metrics/index.js';
import { type Device, type RandomStream, type Tensor, arange, bernoulli, noGrad, randint, randperm, tensor, where, zeros } from '../torch/index.js';
import { fromTokens, toTokens } from './tokens.js';

export interface PerturbationOptions {
  /** The codebook kind (RobusTok's); the Gaussian variant says kind: 'gaussian' (gaussian_noise.ts). */
  kind?: 'codebook';
  /** α: the probability that a token is redrawn (1.0 at reference scale, 0.5 in the plug-in example). */
  alpha: number;
  /** β: the fraction of images in the batch that are perturbed (0.1); ⌊β·B⌋ images. */
  beta: number;
  /** δ: how many nearest codes a token may be redrawn from, itself included (100 of 4096). */
  delta: number;
  /**
   * Which ⌊β·B⌋ images: 'first' of the batch, as the released code does on
   * shuffled batches (the default), or a 'random' subset.
   */
  select?: 'first' | 'random';
  stream?: RandomStream;
}

export interface Perturbed {
  /** The latent to decode, in the layout of `zq`: perturbed tokens carry z + sg(e − z), the rest are `zq` bit for bit. */
  latent: Tensor;
  /** The code ids in use `[B, N]` (the original ones where nothing changed). */
  ids: Tensor;
  /** Which tokens were redrawn `[B, N]` (bool; a redraw may land on the original code). */
  redrawn: Tensor;
}

/**
 * Perturbs quantized tokens. For each token of the selected images, with
 * probability α its code id becomes a uniform draw among its δ candidates,
 * the codes nearest its continuous latent (`perturbationCandidates`; index 0
 * is the usual VQ choice, so a token really changes with probability
 * α·(δ−1)/δ). Perturbed tokens reach the encoder through a straight-through
 * estimator, z + sg(e − z); the codebook gets no gradient through them.
 *
 * @param z  continuous latent `[B, N, D]` or `[B, D, H, W]` (taken to code space here)
 * @param zq its quantized latent (the quantizer's straight-through output), as
 *   `[B, N, D]` or `[B, D, H, W]`; the result comes back in zq's layout
 * @param codebook `[K, D]` (taken to code space here)
 * @param ids the quantizer's code ids `[B, N]` (or grid `[B, H, W]`)
 * @param distance the quantizer's metric, which decides the δ nearest codes:
 *   cosine on normalised vectors (RobusTok, LlamaGen), or Euclidean on raw ones (taming)
 */
export function latentPerturbation(z: Tensor, zq: Tensor, codebook: Tensor, ids: Tensor, options: PerturbationOptions,
  distance: CodeDistance = 'cosine'): Perturbed {
  const { alpha, beta, delta, stream } = checkOptions(options, codebook.size(0));
  const [tokens] = toTokens(z);
  const [quantized, layout] = toTokens(zq);
  if (tokens.shape.join() !== quantized.shape.join()) {
    throw new Error(`latentPerturbation: z has ${tokens.shape[1]} tokens of width ${tokens.shape[2]}, zq has ${quantized.shape[1]} of width ${quantized.shape[2]}`);
  }
  const [B, N] = tokens.shape as [number, number, number];
  const originalIds = ids.reshape(B, N);
  const codes = inCodeSpace(codebook, distance).detach();
  const count = Math.floor(beta * B);

  const { newIds, redrawn } = noGrad(() => {
    const device = tokens.device;
    const pick = randint(0, delta, [B, N, 1], { stream, device });   // every token's draws, in the order they always came
    const select = options.select ?? 'first';
    const images = imageMask(B, count, select, stream, device);                                    // [B, 1]
    const redrawn = bernoulli(zeros([B, N], { device }), alpha, stream).logicalAnd(images);        // [B, N]
    if (count === 0) return { newIds: originalIds, redrawn };
    // Only the ⌊β·B⌋ selected images can change (6 of 64 at β = 0.1): only theirs are searched.
    const rows = select === 'first' ? arange(0, count, 1, { dtype: 'int64', device }) : images.reshape(B).nonzero().reshape(-1);   // [⌊β·B⌋]
    const candidates = perturbationCandidates(tokens.indexSelect(0, rows), codebook, delta, distance);   // [⌊β·B⌋, N, δ]
    const drawn = candidates.gather(2, pick.indexSelect(0, rows)).squeeze(2);                            // [⌊β·B⌋, N]
    const chosen = where(redrawn.indexSelect(0, rows), drawn, originalIds.indexSelect(0, rows));
    return { newIds: originalIds.clone().indexPut_([rows], chosen), redrawn };
  });
  const e = codes.indexSelect(0, newIds.flatten()).reshape(B, N, codes.size(1));
  const straightThrough = tokens.add(e.sub(tokens).detach());
  const latent = where(redrawn.unsqueeze(-1), straightThrough, quantized);
  return { latent: fromTokens(latent, layout), ids: newIds, redrawn };
}

/**
 * The δ codes each token of `z` may be redrawn among (docs/method.md §2),
 * nearest first by the quantizer's metric: what `latentPerturbation` draws
 * from, and what the tokenizer lab shows and lets a click choose.
 *
 * @param z continuous latent `[B, N, D]` (taken to code space here)
 * @param codebook `[K, D]` (taken to code space here)
 * @returns ids `[B, N, δ]`
 */
export function perturbationCandidates(z: Tensor, codebook: Tensor, delta: number, distance: CodeDistance): Tensor {
  return noGrad(() => nearestCodes(inCodeSpace(z, distance), inCodeSpace(codebook, distance), distance, delta));
}

/** `[B, 1]` bool: true for the ⌊β·B⌋ images to perturb. */
export function imageMask(batch: number, count: number, select: 'first' | 'random', stream?: RandomStream, device?: Device): Tensor {
  if (select === 'first') return tensor(Array.from({ length: batch }, (_, i) => i < count), { device }).reshape(batch, 1);
  return randperm(batch, { stream, device }).lt(count).reshape(batch, 1);
}

function checkOptions(o: PerturbationOptions, codebookSize: number): PerturbationOptions {
  const problems: string[] = [];
  if (!(o.alpha >= 0 && o.alpha <= 1)) problems.push(`alpha (α) must be in [0, 1], got ${o.alpha}`);
  if (!(o.beta >= 0 && o.beta <= 1)) problems.push(`beta (β) must be in [0, 1], got ${o.beta}`);
  if (!(Number.isInteger(o.delta) && o.delta >= 1 && o.delta <= codebookSize)) {
    problems.push(`delta (δ) must be an integer in [1, ${codebookSize}] (the codebook size), got ${o.delta}`);
  }
  if (o.select !== undefined && o.select !== 'first' && o.select !== 'random') problems.push(`select must be 'first' or 'random', got ${String(o.select)}`);
  if (problems.length > 0) throw new RangeError(`latentPerturbation: ${problems.join('; ')}`);
  return o;
}

/** The paper's annealing knots (docs/method.md §2): full strength to 20% of training, down to half at 60%. */
export const ANNEALING_DEFAULTS = { start: 0.2, end: 0.6, floor: 0.5 } as const;

export interface AnnealingOptions {
  /** α₀ and δ₀, the values before annealing. */
  alpha: number;
  delta: number;
  /** Fraction of training where the ratio starts to fall (0.2: epoch 40 of 200). */
  start?: number;
  /** Fraction where it reaches `floor` and stays (0.6: epoch 120 of 200). */
  end?: number;
  /** The final ratio (0.5). */
  floor?: number;
}

/**
 * The paper's annealing (docs/method.md §2): ratio r = 1 until `start`, linear down
 * to `floor` at `end`, constant after; α = r·α₀ and δ = ⌊r·δ₀⌋ (at least 1).
 */
export function annealedPerturbation(step: number, totalSteps: number, o: AnnealingOptions): { alpha: number; delta: number; ratio: number } {
  const { start = ANNEALING_DEFAULTS.start, end = ANNEALING_DEFAULTS.end, floor = ANNEALING_DEFAULTS.floor } = o;
  if (!(start >= 0 && start <= end && end <= 1)) throw new RangeError(`annealing needs 0 ≤ start ≤ end ≤ 1, got start ${start}, end ${end}`);
  const progress = totalSteps > 0 ? Math.min(Math.max(step / totalSteps, 0), 1) : 0;
  const ratio = progress <= start ? 1 : progress >= end ? floor : 1 - ((progress - start) / (end - start)) * (1 - floor);
  return { ratio, alpha: ratio * o.alpha, delta: Math.max(1, Math.floor(ratio * o.delta)) };
}
