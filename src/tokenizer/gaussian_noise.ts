// NextStep-1's regulariser for continuous latents (arXiv 2508.10711), offered
// for comparison with latent perturbation: Gaussian noise whose scale is
// drawn per sample, z + σ·ε with σ ~ U(0, σ_max) and ε ~ N(0, I).
import { type RandomStream, type Tensor, rand, randn, where } from '../torch/index.js';
import { type Perturbed, imageMask } from './perturbation.js';
import { fromTokens, toTokens } from './tokens.js';

/** z `[B, ...]` → z + σ_b·ε, one σ_b ~ U(0, maxScale) per sample b. */
export function gaussianLatentNoise(z: Tensor, maxScale: number, stream?: RandomStream): Tensor {
  if (!(maxScale >= 0)) throw new RangeError(`gaussianLatentNoise: maxScale (σ_max) must be ≥ 0, got ${maxScale}`);
  const shape = z.shape;
  const perSample = [shape[0]!, ...shape.slice(1).map(() => 1)];
  const sigma = rand(perSample, { stream, dtype: z.dtype, device: z.device }).mul(maxScale);
  return z.add(randn(shape, { stream, dtype: z.dtype, device: z.device }).mul(sigma));
}

export interface GaussianPerturbationOptions {
  kind: 'gaussian';
  /**
   * σ_max relative to the quantized latent's RMS: each selected image gets
   * σ_b ~ U(0, σ_max)·RMS(zq). Relative, so the same value means the same
   * signal-to-noise ratio whatever the codebook's scale (a choice of ours;
   * NextStep-1 works on a normalised VAE latent).
   */
  scale: number;
  /** β: the fraction of images in the batch that get noise, as latent perturbation's. */
  beta: number;
  select?: 'first' | 'random';
  stream?: RandomStream;
}

/**
 * The Gaussian-noise variant of latent perturbation: instead of swapping
 * tokens for nearby codes, the ⌊β·B⌋ selected images decode zq + noise, so
 * only the kind of corruption differs from latentPerturbation. Gradients pass
 * to zq unchanged (the noise is additive).
 *
 * @param zq the quantized latent, `[B, N, D]` or `[B, D, H, W]`
 * @param ids its code ids `[B, N]` (or `[B, H, W]`), returned unchanged
 */
export function gaussianPerturbation(zq: Tensor, ids: Tensor, o: GaussianPerturbationOptions): Perturbed {
  if (!(o.scale >= 0)) throw new RangeError(`gaussianPerturbation: scale (σ_max) must be ≥ 0, got ${o.scale}`);
  if (!(o.beta >= 0 && o.beta <= 1)) throw new RangeError(`gaussianPerturbation: beta (β) must be in [0, 1], got ${o.beta}`);
  const [tokens, layout] = toTokens(zq);                                                   // [B, N, D]
  const [B, N] = tokens.shape as [number, number, number];
  const rms = tokens.detach().square().mean().sqrt().item();
  const noisy = gaussianLatentNoise(tokens, o.scale * rms, o.stream);
  const images = imageMask(B, Math.floor(o.beta * B), o.select ?? 'first', o.stream, tokens.device);   // [B, 1]
  const latent = where(images.unsqueeze(-1), noisy, tokens);
  return { latent: fromTokens(latent, layout), ids: ids.reshape(B, N), redrawn: images.expand([B, N]) };
}
