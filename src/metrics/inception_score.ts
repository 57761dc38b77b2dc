// Inception Score (Salimans et al. 2016, "Improved Techniques for Training
// GANs"): IS = exp E_x KL(p(y|x) ‖ p(y)), from a classifier's class
// probabilities. As the reference code (openai/improved-gan, reused by
// torch-fidelity and most papers), the N samples are cut into `splits`
// contiguous parts (part i = rows ⌊iN/s⌋ … ⌊(i+1)N/s⌋ − 1), p(y) is the
// mean of each part, and the mean and population standard deviation of the
// per-part scores are reported. 0·ln 0 counts as 0.
import { type Tensor, tidy, where } from '../torch/index.js';

export interface InceptionScore {
  mean: number;
  std: number;
  splits: number;
}

/** IS from class probabilities `[N, C]` (rows summing to 1; use softmax of logits). */
export function inceptionScore(probs: Tensor, splits = 10): InceptionScore {
  if (probs.ndim !== 2) throw new RangeError(`inceptionScore: expected [N, C] probabilities, got [${probs.shape}]`);
  const n = probs.size(0);
  if (!Number.isInteger(splits) || splits < 1 || splits > n) throw new RangeError(`inceptionScore: ${splits} splits of ${n} samples`);
  const scores = tidy(() => {
    const p = probs.to('float64');
    return Array.from({ length: splits }, (_, i) => {
      const start = Math.floor((i * n) / splits);
      const part = p.narrow(0, start, Math.floor(((i + 1) * n) / splits) - start);
      const marginal = part.mean(0, true);
      const kl = where(part.gt(0), part.mul(part.log().sub(marginal.log())), 0).sum(1).mean();
      return Math.exp(kl.item());
    });
  });
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, splits };
}
