// Streaming mean and covariance of feature vectors, for FID-style metrics.
// Feature batches `[B, F]` arrive one at a time (a whole evaluation set does
// not fit in memory at once); the statistics are accumulated in float64 with
// the pairwise update of Chan, Golub & LeVeque (1979, "Updating formulae and
// a pairwise algorithm for computing sample variances"): each batch is
// centred on its own mean, and batches combine as
//
//   n = nₐ + n_b,  δ = μ_b − μₐ,  μ = μₐ + δ·n_b/n,
//   M = Mₐ + M_b + δδᵀ·nₐn_b/n        (M = Σ (x − μ)(x − μ)ᵀ)
//
// which, unlike accumulating Σx and Σxxᵀ, does not lose digits to
// cancellation when the mean is large against the spread. The same rule
// merges two accumulators (shards, workers). Σ = M/(n − 1): the sample
// covariance of numpy.cov's default, as pytorch-fid uses.
import { type Tensor, outer, tidy, zeros } from '../torch/index.js';

/** Gaussian statistics of a feature set: mean `[F]`, covariance `[F, F]`, sample count. */
export interface GaussianStats {
  mu: Tensor;
  sigma: Tensor;
  n: number;
}

export class FeatureStats {
  n = 0;
  /** Running mean `[F]` (float64, kept). */
  readonly mean: Tensor;
  /** Centred sum of outer products `[F, F]` (float64, kept). */
  readonly m2: Tensor;

  /** `dim` = F; the statistics live on `device` (features are moved there). */
  constructor(readonly dim: number, readonly device = 'cpu') {
    this.mean = zeros([dim], { dtype: 'float64', device }).keep();
    this.m2 = zeros([dim, dim], { dtype: 'float64', device }).keep();
  }

  /** Adds a batch of features `[B, F]` (any float dtype). */
  update(features: Tensor): this {
    if (features.ndim !== 2 || features.size(1) !== this.dim) {
      throw new RangeError(`FeatureStats.update: expected [B, ${this.dim}] features, got [${features.shape}]`);
    }
    const b = features.size(0);
    if (b === 0) return this;
    tidy(() => {
      const x = features.to({ dtype: 'float64', device: this.device });
      const mean = x.mean(0);
      const centred = x.sub(mean);
      this.combine(b, mean, centred.T.matmul(centred));
    });
    return this;
  }

  /** Adds another accumulator's samples into this one (`other` is unchanged). */
  merge(other: FeatureStats): this {
    if (other.dim !== this.dim) throw new RangeError(`FeatureStats.merge: dims ${this.dim} and ${other.dim} differ`);
    if (other.n > 0) tidy(() => this.combine(other.n, other.mean, other.m2));
    return this;
  }

  /** Chan et al.'s pairwise combination with a group of `nb` samples (mean `[F]`, centred sum `[F, F]`). */
  private combine(nb: number, meanB: Tensor, m2B: Tensor): void {
    const na = this.n;
    const n = na + nb;
    const delta = meanB.sub(this.mean);
    this.mean.add_(delta, nb / n);
    this.m2.add_(m2B).add_(outer(delta, delta), (na * nb) / n);
    this.n = n;
  }

  /** Mean `[F]` and sample covariance `[F, F]` (divisor n − 1), as fresh float64 tensors. */
  result(): GaussianStats {
    if (this.n < 2) throw new RangeError(`FeatureStats: a covariance needs at least 2 samples, have ${this.n}`);
    return { mu: this.mean.clone(), sigma: this.m2.div(this.n - 1), n: this.n };
  }

  dispose(): void {
    this.mean.dispose();
    this.m2.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
