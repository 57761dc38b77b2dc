// How much of a FID is the sample's luck: the standard error of a Fréchet
// distance from resampling its feature rows (Efron's bootstrap applied inside
// the distance). Replicate b draws n rows with replacement from each side,
// refits both Gaussians and measures the distance again; the standard
// deviation of the replicates estimates the FID's standard error at this n.
//
// The row indices of replicate b depend only on (n, b, seed, side), never on
// the features. So two FIDs measured with the same settings resample the same
// rows, and a difference of FIDs has its own replicates, the differences of
// theirs, whose spread is the difference's standard error. That is what
// makes it honest for paired designs: a post-trained decoder and its σ = 1
// control decode the very same sampled tokens, row i on both sides, so their
// sample noise largely cancels, and the replicates of the difference show by
// how much (issue #25, "FID noise"). For FIDs of independent samples the
// shared indices are independent of the data, and the difference's spread
// is what the two errors add up to, plus what their shared real images add.
//
// `paired`: the two sides are the same images (a tokenizer's reconstructions
// against the originals, row i against row i), so both sides take the same
// indices, as a bootstrap over images must; otherwise (generated samples
// against real images) each side draws its own.
import { type Device, type Tensor, RandomStream, randint, tidy } from '../torch/index.js';
import { frechetDistance } from './frechet.js';

export interface FidNoiseOptions {
  /** Bootstrap replicates (B); the error of the estimated standard error is about 1/√(2B) of it. */
  replicates: number;
  /** Seed of the row draws: FIDs compared with each other must share it. */
  seed: number;
  /** Whether row i of both sides is the same image (resampled together). */
  paired: boolean;
}

export interface FidNoise {
  /** Standard deviation of the replicates (divisor B − 1). */
  standardError: number;
  /** The B replicate distances, in replicate order (the same rows for every FID of these settings). */
  replicates: number[];
}

// Separate streams for the two sides of an unpaired FID, far apart in seed space.
const SIDE_OFFSET = 0x5bd1e995;

/** Row indices `[n]` (int64) of replicate `b`: n draws with replacement, a function of (n, b, seed, side) only. */
export function resampledRows(n: number, replicate: number, seed: number, side: 0 | 1, device: Device = 'cpu'): Tensor {
  const stream = new RandomStream((seed * 1_000_003 + replicate * 7919 + side * SIDE_OFFSET) % 2 ** 32);
  return randint(0, n, [n], { dtype: 'int64', stream, device });
}

/** Mean `[F]` and sample covariance `[F, F]` (divisor n − 1) of rows `[n, F]`, in float64. */
export function gaussianOf(rows: Tensor): { mu: Tensor; sigma: Tensor } {
  const x = rows.to('float64');
  const mu = x.mean(0);
  const centred = x.sub(mu);
  return { mu, sigma: centred.T.matmul(centred).div(x.size(0) - 1) };
}

/** Standard deviation with divisor B − 1 (NaN below 2 values or with a non-finite one). */
export function replicateError(replicates: readonly number[]): number {
  const b = replicates.length;
  if (b < 2 || !replicates.every(Number.isFinite)) return NaN;
  const mean = replicates.reduce((a, v) => a + v, 0) / b;
  return Math.sqrt(replicates.reduce((a, v) => a + (v - mean) ** 2, 0) / (b - 1));
}

/**
 * The bootstrap standard error of FID(real, fake) from feature rows
 * `real [n₁, F]` and `fake [n₂, F]` (paired: n₁ = n₂, row i the same image).
 */
export function fidNoise(real: Tensor, fake: Tensor, o: FidNoiseOptions): FidNoise {
  const [n1, n2] = [real.size(0), fake.size(0)];
  if (real.ndim !== 2 || fake.ndim !== 2 || real.size(1) !== fake.size(1)) {
    throw new RangeError(`fidNoise: expected feature rows [n, F] on both sides, got [${real.shape}] and [${fake.shape}]`);
  }
  if (o.paired && n1 !== n2) throw new RangeError(`fidNoise: paired sides need the same number of rows, got ${n1} and ${n2}`);
  if (!(Number.isInteger(o.replicates) && o.replicates >= 2)) throw new RangeError(`fidNoise: replicates must be an integer ≥ 2, got ${o.replicates}`);
  const replicates: number[] = [];
  for (let b = 0; b < o.replicates; b++) {
    replicates.push(tidy(() => {
      const realRows = resampledRows(n1, b, o.seed, 0, real.device as Device);
      const fakeRows = o.paired ? realRows : resampledRows(n2, b, o.seed, 1, fake.device as Device);
      const r = gaussianOf(real.indexSelect(0, realRows));
      const f = gaussianOf(fake.indexSelect(0, fakeRows));
      return frechetDistance(r.mu, r.sigma, f.mu, f.sigma);
    }));
  }
  return { standardError: replicateError(replicates), replicates };
}

/**
 * The standard error of a fixed combination Σ cₖ·FIDₖ of FIDs measured with
 * the same noise settings, from the same combination of their replicates;
 * NaN when one has no replicates or their counts differ.
 */
export function combinationError(terms: readonly { coefficient: number; noise: FidNoise | null | undefined }[]): number {
  const b = terms[0]?.noise?.replicates.length ?? 0;
  if (b < 2 || terms.some((t) => !t.noise || t.noise.replicates.length !== b)) return NaN;
  const combined = Array.from({ length: b }, (_, i) => terms.reduce((a, t) => a + t.coefficient * t.noise!.replicates[i]!, 0));
  return replicateError(combined);
}
