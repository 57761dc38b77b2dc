// Evaluating a tokenizer on a dataset split in one pass: rFID (reconstructions
// vs the real images), pFID at its level and its curve over α (the protocol
// is pfid.ts), PSNR, SSIM, and codebook usage/perplexity.
// Every FID compares against the same real images the reconstructions come
// from, through one named feature network.
import type { PreparedSplit } from '../data/index.js';
import { DataLoader, leadingSamples } from '../data/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { CodeHistogram, FeatureStats, frechetDistance, psnrPerImage, ssimPerImage } from '../metrics/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { type Device, type Tensor, cat, noGrad, tidy } from '../torch/index.js';
import { FID_UNBIASED_SAMPLES, type PfidLevel, type PfidLevelOptions, type PfidPoint, pfidLevels } from './pfid.js';

export interface TokenizerEvalOptions extends PfidLevelOptions {
  network: FeatureNetwork;
  /** Images to use from the split (default: all of it). */
  n?: number;
  batchSize?: number;
  /** Images kept for a report (originals, clean and perturbed reconstructions). */
  keep?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface TokenizerEvalResult {
  /** The feature network's name and the number of images every number here used. */
  features: string;
  n: number;
  /** True when n < 2048: the FIDs are biased upwards and compare only with FIDs at the same n. */
  biased: boolean;
  rfid: number;
  pfid: PfidPoint;
  curve: PfidPoint[];
  /** Mean per-image PSNR (dB) and SSIM of the clean reconstructions, and PSNR of the pFID level's. */
  psnr: number;
  ssim: number;
  psnrPerturbed: number;
  usage: number;
  perplexity: number;
  /** The first `keep` images `[k, C, H, W]` in [−1, 1] (kept: the caller disposes them). */
  samples: { real: Tensor; clean: Tensor; perturbed: Tensor } | null;
}

/** A pFID level and the feature statistics of its reconstructions. */
interface Level extends PfidLevel {
  stats: FeatureStats;
}

export function evaluateTokenizer(tokenizer: Tokenizer, split: PreparedSplit, options: TokenizerEvalOptions): TokenizerEvalResult {
  const { network, batchSize = 100, seed = 0, keep = 0 } = options;
  const K = tokenizer.options.codebookSize;
  const n = Math.min(options.n ?? split.count, split.count);
  if (n < 2) throw new RangeError(`evaluation needs at least 2 images, the split has ${split.count}${options.n ? ` and --n is ${options.n}` : ''}`);
  const levels: Level[] = pfidLevels(K, { ...options, seed })
    .map((level) => ({ ...level, stats: new FeatureStats(network.featureSize) }));
  const real = new FeatureStats(network.featureSize);
  const clean = new FeatureStats(network.featureSize);
  const histogram = new CodeHistogram(K);
  const sums = { psnr: 0, ssim: 0, psnrPerturbed: 0 };
  const kept: Tensor[][] = [[], [], []];  // real, clean, perturbed: the first `keep` images, on the CPU
  const loader = new DataLoader(leadingSamples(split, n), { batchSize, shuffle: false, device: deviceOf(tokenizer) });
  const main = levels[0]!;
  tokenizer.eval();
  try {
    for (let b = 0, done = 0; b < loader.batchesPerEpoch; b++) {
      const count = noGrad(() => tidy(() => {
        const { images } = loader.batch(0, b);
        const q = tokenizer.encode(images);
        histogram.update(q.ids);
        const reconstruction = tokenizer.decode(q.zq).clamp(-1, 1);
        real.update(network.features(images));
        clean.update(network.features(reconstruction));
        sums.psnr += psnrPerImage(reconstruction, images).sum().item();
        sums.ssim += ssimPerImage(reconstruction, images).sum().item();
        let mainPerturbed: Tensor | null = null;
        for (const level of levels) {
          const perturbed = tokenizer.decode(tokenizer.perturb(q, level.options).latent).clamp(-1, 1);
          level.stats.update(network.features(perturbed));
          if (level === main) mainPerturbed = perturbed;
        }
        sums.psnrPerturbed += psnrPerImage(mainPerturbed!, images).sum().item();
        if (done < keep) {
          const take = Math.min(keep - done, images.size(0));
          [images, reconstruction, mainPerturbed!].forEach((t, i) => kept[i]!.push(t.slice(0, 0, take).to('cpu').keep()));
        }
        return images.size(0);
      }));
      done += count;
      options.onProgress?.(done, n);
    }
    // The real images' statistics, computed once for every FID against them.
    const reference = real.result();
    const fid = (stats: FeatureStats) => tidy(() => {
      const other = stats.result();
      return frechetDistance(reference.mu, reference.sigma, other.mu, other.sigma);
    });
    const curve = levels.map((l) => ({ alpha: l.alpha, delta: l.delta, value: fid(l.stats) })).sort((a, b) => a.alpha - b.alpha);
    const rfid = fid(clean);
    reference.mu.dispose();
    reference.sigma.dispose();
    const codes = histogram.report();
    return {
      features: network.name,
      n,
      biased: n < FID_UNBIASED_SAMPLES,
      rfid,
      pfid: curve.find((p) => p.alpha === main.alpha)!,
      curve: options.curve && options.curve.length === 0 ? [] : curve,
      psnr: sums.psnr / n,
      ssim: sums.ssim / n,
      psnrPerturbed: sums.psnrPerturbed / n,
      usage: codes.usage,
      perplexity: codes.perplexity,
      samples: kept[0]!.length ? catKept(kept) : null,
    };
  } finally {
    for (const s of [real, clean, ...levels.map((l) => l.stats)]) s.dispose();
    histogram.dispose();
    for (const parts of kept) for (const t of parts) t.dispose();
  }
}

function deviceOf(model: Tokenizer): Device {
  return model.parameters()[0]!.device as Device;
}

/** The kept slices of each kind as one batch `[keep, C, H, W]` each (kept: the caller disposes them). */
function catKept(kept: Tensor[][]): { real: Tensor; clean: Tensor; perturbed: Tensor } {
  const [real, clean, perturbed] = kept.map((parts) => tidy(() => cat(parts, 0)).keep());
  return { real: real!, clean: clean!, perturbed: perturbed! };
}
