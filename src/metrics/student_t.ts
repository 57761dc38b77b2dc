// Student's t for a handful of independent units (post-training seeds, the
// reproduction's seeds): the interval mean ± t(1 − a/2, n − 1)·s/√n that
// stays honest at n = 3, where a percentile bootstrap covers far less than
// it claims. The CDF goes through the regularized incomplete beta function,
// evaluated by its continued fraction (Lentz's method); the quantile inverts
// the CDF by bisection, which is slow by numerical standards and instant at
// the dozens of calls a report makes.
import { meanStd } from './mean_std.js';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~15 significant digits). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of I_x(a, b), converging for x < (a + 1)/(a + b + 2). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df > 0). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (scipy.stats.t.ppf). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A mean over independent units with its t interval and two-sided p against 0. */
export interface TSummary {
  n: number;
  mean: number;
  std: number;
  standardError: number;
  /** The two-sided (1 − a) interval, mean ± t·SE (NaN for n < 2). */
  interval: [number, number];
  /** Two-sided p of the one-sample t test of mean = 0 (NaN for n < 2). */
  p: number;
}

/** One-sample t summary of `values` (e.g. paired differences, one per seed) at level 1 − `a` (default 0.05). */
export function tSummary(values: readonly number[], a = 0.05): TSummary {
  const { mean, std, n } = meanStd(values);
  const standardError = n < 2 ? NaN : std / Math.sqrt(n);
  const half = n < 2 ? NaN : studentTQuantile(1 - a / 2, n - 1) * standardError;
  const p = n < 2 ? NaN : standardError === 0 ? (mean === 0 ? 1 : 0) : 2 * (1 - studentTCdf(Math.abs(mean / standardError), n - 1));
  return { n, mean, std, standardError, interval: [mean - half, mean + half], p };
}
