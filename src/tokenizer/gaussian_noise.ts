// NextStep-1's regulariser for continuous latents (arXiv 2508.10711), offered
// for comparison with latent perturbation: Gaussian noise whose scale is
// drawn per sample, z + σ·ε with σ ~ U(0, σ_max) and ε ~ N(0, I).
import { type Generator, type Tensor, rand, randn } from '../torch/index.js';

/** z `[B, ...]` → z + σ_b·ε, one σ_b ~ U(0, maxScale) per sample b. */
export function gaussianLatentNoise(z: Tensor, maxScale: number, generator?: Generator): Tensor {
  if (!(maxScale >= 0)) throw new RangeError(`gaussianLatentNoise: maxScale (σ_max) must be ≥ 0, got ${maxScale}`);
  const shape = z.shape;
  const perSample = [shape[0]!, ...shape.slice(1).map(() => 1)];
  const sigma = rand(perSample, { generator, dtype: z.dtype, device: z.device }).mul(maxScale);
  return z.add(randn(shape, { generator, dtype: z.dtype, device: z.device }).mul(sigma));
}
