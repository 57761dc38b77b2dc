// Evaluating a generator (docs/method.md §5): its class-balanced samples
// (token ids, drawn once by sampleClassBalanced) decoded by a tokenizer and
// compared with the real images of a split through one named feature network
// — gFID (Fréchet distance of the two feature Gaussians), Inception Score
// (from the network's class probabilities, when it has a classifier head)
// and improved precision/recall (k = 3, as the ADM evaluator). Taking the
// ids rather than drawing them lets two decoders (before and after
// post-training) be scored on identical tokens. The math is in ../metrics.
import { DataLoader, type PreparedSplit } from '../data/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { type FidNoise, FeatureStats, type InceptionScore, fidNoise, frechetDistance, inceptionScore, precisionRecall } from '../metrics/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { type Tensor, cat, noGrad, onDevice, phase, tidy } from '../torch/index.js';
import { FID_UNBIASED_SAMPLES } from './pfid.js';

export interface GeneratorEvalOptions {
  network: FeatureNetwork;
  numClasses: number;
  batchSize?: number;
  /** Samples per class kept for a report grid (at most the fewest any class has). */
  keepPerClass?: number;
  onProgress?: (done: number, total: number) => void;
  /** Bootstrap gFID's standard error with this many replicates and this seed (metrics/frechet_noise.ts). */
  noise?: { replicates: number; seed: number };
}

export interface GeneratorEvalResult {
  features: string;
  /** Generated samples, and real images of the split the statistics came from. */
  n: number;
  real: number;
  /** True when n < 2048: FID is biased upwards and compares only with FIDs at the same n. */
  biased: boolean;
  gfid: number;
  /** Null when the feature network has no classifier head. */
  is: InceptionScore | null;
  precision: number;
  recall: number;
  /**
   * gFID's bootstrap standard error (real and generated rows resampled on
   * their own); null unless asked for. Two evaluations of the same sample ids
   * resample the same rows, so their replicates pair.
   */
  noise: ({ replicates: number; seed: number; gfid: FidNoise }) | null;
  /** `keepPerClass` samples of each class, `[C·k, C, H, W]` class by class (kept: the caller disposes it). */
  grid: Tensor | null;
}

/** Features of images `[B, C, H, W]` into `stats` and, kept, into `into` (for precision/recall). */
function collect(network: FeatureNetwork, stats: FeatureStats, into: Tensor[], images: Tensor): void {
  noGrad(() => tidy(() => {
    const f = phase('features', () => onDevice(network.features(images), 'cpu'));
    stats.update(f);
    into.push(f.keep());
  }));
}

/** gFID, IS and precision/recall of sample ids `[n, N]` with labels `[n]` decoded by `tokenizer`, against `real`'s images. */
export function evaluateGenerator(tokenizer: Tokenizer, samples: { ids: Tensor; labels: Tensor }, real: PreparedSplit, o: GeneratorEvalOptions): GeneratorEvalResult {
  const { network, batchSize = 100, keepPerClass = 0, numClasses: C } = o;
  const n = samples.ids.size(0);
  if (n < 2) throw new RangeError(`generator evaluation needs at least 2 samples, got ${n}`);
  if (real.count < 2) throw new RangeError(`generator evaluation needs at least 2 real images, the split has ${real.count}`);
  const realStats = new FeatureStats(network.featureSize);
  const fakeStats = new FeatureStats(network.featureSize);
  const realFeatures: Tensor[] = [];
  const fakeFeatures: Tensor[] = [];
  const probabilities: Tensor[] = [];
  const kept: Tensor[][] = Array.from({ length: C }, () => []);
  const labels = Array.from(samples.labels.toTypedArray() as BigInt64Array, Number);
  try {
    const loader = new DataLoader(real, { batchSize, shuffle: false });
    for (let b = 0; b < loader.batchesPerEpoch; b++) {
      const batch = loader.batch(0, b);
      try {
        collect(network, realStats, realFeatures, batch.images);
      } finally {
        batch.dispose();
      }
    }
    tokenizer.eval();
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      noGrad(() => tidy(() => {
        // Decoded where the tokenizer is and scored from there; the statistics and the grid's images kept on the host.
        const decoded = phase('decode', () => tokenizer.decodeIds(onDevice(samples.ids.narrow(0, start, count), tokenizer.device)).clamp(-1, 1));
        collect(network, fakeStats, fakeFeatures, decoded);
        if (network.numClasses > 0) probabilities.push(onDevice(network.logits(decoded), 'cpu').softmax(-1).keep());
        const images = onDevice(decoded, 'cpu');
        for (let i = 0; i < count; i++) {
          const c = labels[start + i]!;
          if (kept[c]!.length < keepPerClass) kept[c]!.push(images.narrow(0, i, 1).keep());
        }
      }));
      o.onProgress?.(start + count, n);
    }
    const gfid = tidy(() => {
      const [r, f] = [realStats.result(), fakeStats.result()];
      return phase('Fréchet distance', () => frechetDistance(r.mu, r.sigma, f.mu, f.sigma));
    });
    const is = probabilities.length ? tidy(() => inceptionScore(cat(probabilities, 0), Math.min(10, n))) : null;
    const { precision, recall } = phase('precision/recall', () => tidy(() => precisionRecall(cat(realFeatures, 0), cat(fakeFeatures, 0))));
    const noise = o.noise ? phase('FID noise', () => tidy(() => ({ ...o.noise!, gfid: fidNoise(cat(realFeatures, 0), cat(fakeFeatures, 0), { ...o.noise!, paired: false }) }))) : null;
    const full = keepPerClass > 0 && kept.every((k) => k.length === keepPerClass);
    const grid = full ? tidy(() => cat(kept.flat(), 0)).keep() : null;
    return { features: network.name, n, real: real.count, biased: n < FID_UNBIASED_SAMPLES, gfid, is, precision, recall, noise, grid };
  } finally {
    for (const t of [...realFeatures, ...fakeFeatures, ...probabilities, ...kept.flat()]) t.dispose();
    realStats.dispose();
    fakeStats.dispose();
  }
}
