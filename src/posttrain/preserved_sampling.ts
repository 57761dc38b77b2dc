// σ-preserving sampling (docs/method.md §6), the token source of
// post-training: the frozen generator runs over an image's positions in
// raster order, conditioned on its class, and at each position the
// ground-truth token is kept with probability σ (the preservation ratio),
// otherwise the generator's draw is taken. Whichever token was chosen is
// what the next position is conditioned on, so the sequence stays one the
// generator could have produced, while about σ of it still pins the result
// to a known image x that the decoder can be trained to reconstruct.
import { type ArGenerator, type SampleOptions, sampleTokens } from '../generator/index.js';
import { type RandomStream, type Tensor, bernoulli, noGrad, onDevice, tidy, where, zeros } from '../torch/index.js';

export interface PreservedSamplingOptions extends Omit<SampleOptions, 'choose'> {
  /** σ, the probability of keeping each ground-truth token (0.7 in the paper). */
  sigma: number;
  /**
   * The stream of the keep/replace coin flips, separate from `stream`
   * (the draws) so that σ = 0 reproduces free sampling with the same seed.
   */
  coinStream?: RandomStream;
  /**
   * Pre-drawn uniforms in [0, 1) `[B, N]` for the coins, in place of
   * `coinStream`: position (b, n) keeps its ground truth when
   * coinUniforms[b, n] < σ. With `uniforms` for the draws (SampleOptions),
   * each image's σ-tokens depend on its own uniforms alone (image_draws.ts).
   */
  coinUniforms?: Tensor;
}

/**
 * Ground-truth ids `[B, N]` and labels `[B]` → the chosen ids `[B, N]` and
 * which positions kept the ground truth (`kept`, bool `[B, N]`), one
 * independent Bernoulli(σ) per image and position.
 */
export function preservedSampling(model: ArGenerator, groundTruth: Tensor, labels: Tensor, o: PreservedSamplingOptions): { ids: Tensor; kept: Tensor } {
  const { sigma } = o;
  if (!(sigma >= 0 && sigma <= 1)) throw new RangeError(`σ (the preservation ratio) must be in [0, 1], got ${sigma}`);
  const [B, N] = groundTruth.shape as [number, number];
  if (groundTruth.ndim !== 2 || N !== model.length || labels.size(0) !== B) {
    throw new RangeError(`preservedSampling: expected ids [B, ${model.length}] and labels [B], got [${groundTruth.shape}] and [${labels.shape}]`);
  }
  // Both results belong to the caller's scope, like sampleTokens's.
  const kept = noGrad(() => tidy(() => (o.coinUniforms
    ? onDevice(o.coinUniforms, groundTruth.device).lt(sigma)
    : bernoulli(zeros([B, N], { device: groundTruth.device }), sigma, o.coinStream).to('bool'))));
  if (sigma === 1) return { ids: groundTruth.to('int64').clone(), kept };  // nothing to draw
  const truth = groundTruth.to('int64');
  try {
    const ids = sampleTokens(model, labels, {
      ...o,
      choose: (t, drawn) => where(kept.select(1, t), truth.select(1, t), drawn),
    });
    return { ids, kept };
  } catch (error) {
    kept.dispose();
    throw error;
  } finally {
    truth.dispose();
  }
}
