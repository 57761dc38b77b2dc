// The random numbers behind one image's pregenerated σ-tokens
// (docs/method.md §6, σ-preserving sampling). Each image draws from streams
// of its own, seeded from the run's seed and the image's index in its split
// (train/streams.ts: pregenDraws, pregenCoins), as uniforms the sampler
// turns into tokens by inverse CDF and into keep coins by comparing with σ.
// A batch's draws are then the rows of its images, whatever the batch: the
// cache holds the same tokens however it is cut, and the generator lab can
// redraw any one image's σ-tokens alone, as post-training drew them.
import { type Tensor, rand, stack, tidy } from '../torch/index.js';
import { imageStream } from '../train/index.js';

/** Uniforms in [0, 1) for σ-preserving sampling: the draws and the keep coins, each `[B, N]`. */
export interface ImageDraws {
  uniforms: Tensor;
  coinUniforms: Tensor;
}

/**
 * The draws of the images at `indices` (their rows in the split) of a run
 * seeded with `seed` (train.seed), for a token grid of `positions` (N):
 * row b holds image indices[b]'s N uniforms from its pregenDraws stream and
 * N from its pregenCoins stream. On the CPU, like every seeded stream; both
 * belong to the caller's scope.
 */
export function imageDraws(seed: number, indices: ArrayLike<number>, positions: number): ImageDraws {
  const rows = (name: 'pregenDraws' | 'pregenCoins'): Tensor =>
    stack(Array.from(indices, (index) => rand([positions], { stream: imageStream(seed, name, index), device: 'cpu' })), 0);
  return tidy(() => ({ uniforms: rows('pregenDraws'), coinUniforms: rows('pregenCoins') }));
}
