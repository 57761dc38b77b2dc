// Evaluating a tokenizer on a dataset split in one pass: rFID (reconstructions
// vs the real images), pFID at its level, its curves over α and over δ and
// the sensitivity pFID(α = 1)/rFID (the protocol is pfid.ts), PSNR, SSIM,
// and the codebook's usage, perplexity and crowding (whether pFID
// can separate tokenizers at all depends on these).
// Every FID compares against the same real images the reconstructions come
// from, through one named feature network. The tokenizer encodes, perturbs
// and decodes on its own device (a GPU too), the feature network scores on
// its own (the images move there), and the statistics, PSNR and SSIM are
// computed on the host.
import type { PreparedSplit } from '../data/index.js';
import { DataLoader, leadingSamples } from '../data/index.js';
import type { FeatureNetwork } from '../features/index.js';
import { CodeHistogram, type FidNoise, FeatureStats, fidNoise, frechetDistance, neighbourCosine, psnrPerImage, ssimPerImage } from '../metrics/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { type Device, type Tensor, cat, noGrad, onDevice, phase, tidy } from '../torch/index.js';
import { FID_UNBIASED_SAMPLES, type PfidLevel, type PfidLevelOptions, type PfidPoint, SENSITIVITY_ALPHA, levelKey, pfidLevels, pfidPlan } from './pfid.js';

export interface TokenizerEvalOptions extends PfidLevelOptions {
  network: FeatureNetwork;
  /** Images to use from the split (default: all of it). */
  n?: number;
  batchSize?: number;
  /** Images kept for a report (originals, clean and perturbed reconstructions). */
  keep?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Bootstrap the standard errors of rFID and pFID over images with this many
   * replicates and this seed (metrics/frechet_noise.ts); keeps every feature
   * row of three sides in memory (n × F floats each).
   */
  noise?: { replicates: number; seed: number };
}

/** The sample noise of the two FIDs claims are made of, by resampling images. */
export interface TokenizerEvalNoise {
  replicates: number;
  seed: number;
  rfid: FidNoise;
  pfid: FidNoise;
}

export interface TokenizerEvalResult {
  /** The feature network's name and the number of images every number here used. */
  features: string;
  n: number;
  /** True when n < 2048: the FIDs are biased upwards and compare only with FIDs at the same n. */
  biased: boolean;
  rfid: number;
  pfid: PfidPoint;
  /** pFID over α at the level's δ ([] with no curve). */
  curve: PfidPoint[];
  /** pFID over δ at the level's α ([] unless asked for). */
  deltaCurve: PfidPoint[];
  /**
   * pFID at α = 1 (the level's δ, β = 1) over rFID: how far the decoder can
   * be pushed by swapping every token among its δ nearest codes. Near 1, pFID
   * cannot tell tokenizers apart (docs/method.md §2, "Small codebooks").
   */
  sensitivity: number;
  /** Mean per-image PSNR (dB) and SSIM of the clean reconstructions. */
  psnr: number;
  ssim: number;
  /**
   * Mean per-image PSNR (dB) of the reconstructions at the pFID level (its α
   * and δ, β = 1, its seed): the pixels behind `pfid`, not training's
   * perturbation (that is train-tokenizer's psnrTrainingPerturbation).
   */
  psnrPfidLevel: number;
  usage: number;
  perplexity: number;
  /**
   * Mean cosine of a used code (one that occurs in this split's encodings) to
   * its δ − 1 nearest other codes by the quantizer's metric, the candidates a
   * pFID swap can land on (metrics/codebook.ts); null when δ = 1 leaves none.
   */
  neighbourCosine: number | null;
  /** Bootstrap standard errors of rFID and pFID (null unless asked for). */
  noise: TokenizerEvalNoise | null;
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
  const plan = pfidPlan(K, options);
  const levels: Level[] = pfidLevels(K, { ...options, seed })
    .map((level) => ({ ...level, stats: new FeatureStats(network.featureSize) }));
  const real = new FeatureStats(network.featureSize);
  const clean = new FeatureStats(network.featureSize);
  const histogram = new CodeHistogram(K);
  const sums = { psnr: 0, ssim: 0, psnrPfidLevel: 0 };
  const kept: Tensor[][] = [[], [], []];  // real, clean, perturbed: the first `keep` images, on the CPU
  const rows: Tensor[][] = [[], [], []];  // real, clean, main level: every feature row, for options.noise
  const loader = new DataLoader(leadingSamples(split, n), { batchSize, shuffle: false, device: deviceOf(tokenizer) });
  const main = levels[0]!;
  const score = (images: Tensor): Tensor => onHost(network.features(images));
  tokenizer.eval();
  try {
    for (let b = 0, done = 0; b < loader.batchesPerEpoch; b++) {
      const count = noGrad(() => tidy(() => {
        // Encoded and decoded where the tokenizer is and scored from there (the network moves them to its device if
        // it has another); features and pixels are then gathered on the host.
        const batch = loader.batch(0, b).images;
        const q = tokenizer.encode(batch);
        histogram.update(onHost(q.ids));
        const decoded = tokenizer.decode(q.zq).clamp(-1, 1);
        const features = phase('features', () => [score(batch), score(decoded)]);
        const images = onHost(batch);
        const reconstruction = onHost(decoded);
        real.update(features[0]!);
        clean.update(features[1]!);
        phase('PSNR/SSIM', () => {
          sums.psnr += psnrPerImage(reconstruction, images).sum().item();
          sums.ssim += ssimPerImage(reconstruction, images).sum().item();
        });
        let mainPerturbed: Tensor | null = null;
        for (const level of levels) {
          const decodedPerturbed = tokenizer.decode(tokenizer.perturb(q, level.options).latent).clamp(-1, 1);
          const f = phase('features', () => score(decodedPerturbed));
          const perturbed = onHost(decodedPerturbed);
          level.stats.update(f);
          if (level === main) {
            mainPerturbed = perturbed;
            if (options.noise) [...features, f].forEach((t, i) => rows[i]!.push(t.keep()));
          }
        }
        sums.psnrPfidLevel += psnrPerImage(mainPerturbed!, images).sum().item();
        if (done < keep) {
          const take = Math.min(keep - done, images.size(0));
          [images, reconstruction, mainPerturbed!].forEach((t, i) => kept[i]!.push(t.slice(0, 0, take).keep()));
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
      return phase('Fréchet distance', () => frechetDistance(reference.mu, reference.sigma, other.mu, other.sigma));
    });
    const measured = new Map(levels.map((l) => [levelKey(l.alpha, l.delta), { alpha: l.alpha, delta: l.delta, value: fid(l.stats) }]));
    const at = (alpha: number, delta: number): PfidPoint => measured.get(levelKey(alpha, delta))!;
    const rfid = fid(clean);
    const noise = options.noise ? phase('FID noise', () => tidy(() => {
      const [r, c, p] = rows.map((parts) => cat(parts, 0)) as [Tensor, Tensor, Tensor];
      const o = { ...options.noise!, paired: true };
      return { ...options.noise!, rfid: fidNoise(r, c, o), pfid: fidNoise(r, p, o) };
    })) : null;
    reference.mu.dispose();
    reference.sigma.dispose();
    const codes = histogram.report();
    // Used = occurs in this split's encodings (the histogram above).
    const crowding = plan.delta >= 2 ? tidy(() => neighbourCosine(onHost(tokenizer.quantize.embedding.weight), histogram.counts.gt(0), plan.delta, tokenizer.quantize.distance)) : null;
    return {
      features: network.name,
      n,
      biased: n < FID_UNBIASED_SAMPLES,
      rfid,
      pfid: at(main.alpha, main.delta),
      curve: plan.alphas.map((a) => at(a, plan.delta)),
      deltaCurve: plan.deltas.map((d) => at(plan.alpha, d)),
      sensitivity: at(SENSITIVITY_ALPHA, plan.delta).value / rfid,
      psnr: sums.psnr / n,
      ssim: sums.ssim / n,
      psnrPfidLevel: sums.psnrPfidLevel / n,
      usage: codes.usage,
      perplexity: codes.perplexity,
      neighbourCosine: crowding,
      noise,
      samples: kept[0]!.length ? catKept(kept) : null,
    };
  } finally {
    for (const s of [real, clean, ...levels.map((l) => l.stats)]) s.dispose();
    histogram.dispose();
    for (const parts of [...kept, ...rows]) for (const t of parts) t.dispose();
  }
}

const onHost = (t: Tensor): Tensor => onDevice(t, 'cpu');

function deviceOf(model: Tokenizer): Device {
  return model.parameters()[0]!.device as Device;
}

/** The kept slices of each kind as one batch `[keep, C, H, W]` each (kept: the caller disposes them). */
function catKept(kept: Tensor[][]): { real: Tensor; clean: Tensor; perturbed: Tensor } {
  const [real, clean, perturbed] = kept.map((parts) => tidy(() => cat(parts, 0)).keep());
  return { real: real!, clean: clean!, perturbed: perturbed! };
}
