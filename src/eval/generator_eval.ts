// Evaluating a generator (docs/method.md §5): class-balanced samples decoded
// by a tokenizer, against the real images of a split, through one named
// feature network — gFID (Fréchet distance of the two feature Gaussians),
// Inception Score (from the network's class probabilities, when it has a
// classifier head) and improved precision/recall (k = 3, as the ADM
// evaluator). The math is in ../metrics; this file only feeds it.
import { DataLoader, type PreparedSplit } from '../data/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { type ArGenerator, type Sampling, sampleImages } from '../generator/index.js';
import { FeatureStats, type InceptionScore, frechetDistance, inceptionScore, precisionRecall } from '../metrics/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { Generator, type Tensor, arange, cat, noGrad, tidy } from '../torch/index.js';
import { FID_UNBIASED_SAMPLES } from './pfid.js';

export interface GeneratorEvalOptions {
  network: FeatureNetwork;
  /** Samples to draw, spread evenly over the classes (sample i has class i mod C). */
  n: number;
  sampling: Sampling;
  /** Seed of the sampling stream. */
  seed: number;
  batchSize?: number;
  /** Samples per class kept for a report grid. */
  keepPerClass?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GeneratorEvalResult {
  features: string;
  /** Generated samples; `real` = real images of the split the statistics came from. */
  n: number;
  real: number;
  /** True when n < 2048: FID is biased upwards and compares only with FIDs at the same n. */
  biased: boolean;
  gfid: number;
  /** Null when the feature network has no classifier head. */
  is: InceptionScore | null;
  precision: number;
  recall: number;
  sampling: Sampling & { seed: number };
  /** `keepPerClass` samples of each class, `[C·k, C, H, W]` class by class (kept: the caller disposes it). */
  grid: Tensor | null;
}

/** gFID, IS and precision/recall of `model`'s samples decoded by `tokenizer`, against `real`'s images. */
export function evaluateGenerator(model: ArGenerator, tokenizer: Tokenizer, real: PreparedSplit, o: GeneratorEvalOptions): GeneratorEvalResult {
  const { network, n, batchSize = 100, keepPerClass = 0 } = o;
  const C = model.options.numClasses;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`generator evaluation needs at least 2 samples, got ${n}`);
  if (real.count < 2) throw new RangeError(`generator evaluation needs at least 2 real images, the split has ${real.count}`);
  const realStats = new FeatureStats(network.featureSize);
  const fakeStats = new FeatureStats(network.featureSize);
  const realFeatures: Tensor[] = [];
  const fakeFeatures: Tensor[] = [];
  const probabilities: Tensor[] = [];
  const kept: Tensor[][] = Array.from({ length: C }, () => []);
  const generator = new Generator(o.seed);
  try {
    const loader = new DataLoader(real, { batchSize, shuffle: false });
    for (let b = 0; b < loader.batchesPerEpoch; b++) {
      const batch = loader.batch(0, b);
      try {
        noGrad(() => tidy(() => {
          const f = network.features(batch.images);
          realStats.update(f);
          realFeatures.push(f.keep());
        }));
      } finally {
        batch.dispose();
      }
    }
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const labels = arange(start, start + count, 1, { dtype: 'int64' }).remainder(C);
      const { ids, images } = sampleImages(model, tokenizer, labels, { ...o.sampling, generator });
      try {
        noGrad(() => tidy(() => {
          const f = network.features(images);
          fakeStats.update(f);
          fakeFeatures.push(f.keep());
          if (network.numClasses > 0) probabilities.push(network.logits(images).softmax(-1).keep());
          for (let i = 0; i < count; i++) {
            const c = (start + i) % C;
            if (kept[c]!.length < keepPerClass) kept[c]!.push(images.narrow(0, i, 1).keep());
          }
        }));
      } finally {
        for (const t of [labels, ids, images]) t.dispose();
      }
      o.onProgress?.(start + count, n);
    }
    const gfid = tidy(() => {
      const [r, f] = [realStats.result(), fakeStats.result()];
      return frechetDistance(r.mu, r.sigma, f.mu, f.sigma);
    });
    const is = probabilities.length ? tidy(() => inceptionScore(cat(probabilities, 0), Math.min(10, n))) : null;
    const { precision, recall } = tidy(() => precisionRecall(cat(realFeatures, 0), cat(fakeFeatures, 0)));
    const grid = keepPerClass > 0 ? tidy(() => cat(kept.flat(), 0)).keep() : null;
    return {
      features: network.name, n, real: real.count, biased: n < FID_UNBIASED_SAMPLES, gfid, is, precision, recall,
      sampling: { ...o.sampling, seed: o.seed }, grid,
    };
  } finally {
    for (const t of [...realFeatures, ...fakeFeatures, ...probabilities, ...kept.flat()]) t.dispose();
    realStats.dispose();
    fakeStats.dispose();
  }
}
