// Evaluating a tokenizer on a dataset split in one pass: rFID (reconstructions
// vs the real images), pFID (METHOD §3: reconstructions from perturbed
// tokens, every image perturbed, β = 1, at a stated α and δ, with a fixed
// seed), the pFID-vs-α curve, PSNR, SSIM, and codebook usage/perplexity.
// Every FID compares against the same real images the reconstructions come
// from, through one named feature network.
import type { PreparedSplit } from '../data/index.js';
import { DataLoader, leadingSamples } from '../data/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { CodeHistogram, type Tokenizer, latentPerturbation } from '../tokenizer/index.js';
import { type Device, Generator, type Tensor, cat, noGrad, tidy } from '../torch/index.js';
import { frechetDistance } from './frechet.js';
import { psnrPerImage, ssimPerImage } from './image.js';
import { FeatureStats } from './stats.js';

/** α values of the pFID curve (METHOD §3). */
export const PFID_CURVE_ALPHAS = [0.1, 0.25, 0.5, 0.75, 1.0] as const;
/** The default pFID level's α (METHOD §3). */
export const PFID_ALPHA = 0.5;

/** The default pFID δ: the reference 100-of-4096 share scaled to K, at least 2 so a token can change. */
export const defaultPfidDelta = (codebookSize: number): number => Math.max(2, Math.round((codebookSize * 100) / 4096));

/** Below this many images FID is biased upwards (Chong & Forsyth 2020; pytorch-fid warns likewise). */
export const FID_UNBIASED_SAMPLES = 2048;

export interface TokenizerEvalOptions {
  network: FeatureNetwork;
  /** Images to use from the split (default: all of it). */
  n?: number;
  batchSize?: number;
  /** The pFID level: α (default 0.5) and δ (default `defaultPfidDelta(K)`). */
  alpha?: number;
  delta?: number;
  /** α values of the curve (default `PFID_CURVE_ALPHAS`; [] for none); δ is the level's. */
  curve?: readonly number[];
  /** Seed of the perturbation draws: the same seed gives the same pFID. */
  seed?: number;
  /** Images kept for a report (originals, clean and perturbed reconstructions). */
  keep?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PfidPoint {
  alpha: number;
  delta: number;
  value: number;
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

/** One perturbation level: its own seeded draws and feature statistics. */
interface Level {
  alpha: number;
  delta: number;
  generator: Generator;
  stats: FeatureStats;
}

export function evaluateTokenizer(tokenizer: Tokenizer, split: PreparedSplit, options: TokenizerEvalOptions): TokenizerEvalResult {
  const { network, batchSize = 100, seed = 0, keep = 0 } = options;
  const K = tokenizer.options.codebookSize;
  const alpha = options.alpha ?? PFID_ALPHA;
  const delta = options.delta ?? defaultPfidDelta(K);
  const n = Math.min(options.n ?? split.count, split.count);
  if (n < 2) throw new RangeError(`evaluation needs at least 2 images, the split has ${split.count}${options.n ? ` and --n is ${options.n}` : ''}`);
  const alphas = [...new Set([alpha, ...(options.curve ?? PFID_CURVE_ALPHAS)])];
  // Each level draws from its own generator, so a level's value does not depend on which others are asked for.
  const levels: Level[] = alphas.map((a) => ({ alpha: a, delta, generator: new Generator(seed), stats: new FeatureStats(network.featureSize) }));
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
          const p = latentPerturbation(q.z, q.zq, tokenizer.quantize.embedding.weight, q.ids, { alpha: level.alpha, beta: 1, delta, generator: level.generator });
          const perturbed = tokenizer.decode(p.latent).clamp(-1, 1);
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
    const curve = levels.map((l) => ({ alpha: l.alpha, delta, value: fid(l.stats) })).sort((a, b) => a.alpha - b.alpha);
    const rfid = fid(clean);
    reference.mu.dispose();
    reference.sigma.dispose();
    const codes = histogram.report();
    return {
      features: network.name,
      n,
      biased: n < FID_UNBIASED_SAMPLES,
      rfid,
      pfid: curve.find((p) => p.alpha === alpha)!,
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
