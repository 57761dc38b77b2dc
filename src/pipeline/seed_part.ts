// One tested part of a claim with the seed as the unit: a value per seed (a
// mean of that seed's paired differences, or that seed's rank correlation),
// the t interval over seeds, the pre-registered test's one-sided p toward the
// claim and away from it, the smallest effect the design could detect, and
// the verdict of verdict.ts. A seed whose numbers are not all finite (a
// failed FID) is dropped from the part and named, never counted.
import { type PermutationResult, type TSummary, detectableEffect, studentTCdf, tSummary } from '../metrics/index.js';
import { type Verdict, partVerdict } from './verdict.js';

export interface SeedValue { seed: number; value: number }

/** What the design could have seen (src/metrics/power.ts), stated beside each verdict. */
export interface DetectableEffect {
  /** (t_{1−α, n−1} + t_{0.8, n−1})·std/√n: an effect smaller than this reads "below this design's resolution". */
  effect: number;
  n: number;
  /** The measured between-seed standard deviation of the part's values. */
  std: number;
  power: number;
  /** One-sided α: the preset's analysis.significance. */
  alpha: number;
  /** The smallest p the test can give at this n (a permutation test's 1/relabellings; 0 for a t test over ≥ 2 seeds). */
  smallestP: number;
  /** Whether that smallest p is below α at all. */
  reachable: boolean;
}

/**
 * How much of the between-seed spread is the FIDs' own sample noise
 * (issue #25, "FID noise"): each seed's value has a bootstrap standard error
 * from its FIDs' replicates (metrics/frechet_noise.ts: the same rows for every
 * FID, so a paired difference's shared noise cancels); the rest of the spread
 * is training noise (initialisation, data order, sampling of the generator).
 */
export interface SampleNoise {
  /** Per seed: the standard error of that seed's value from sample noise alone. */
  perSeed: SeedValue[];
  /** √(mean of the per-seed variances): the sample noise of one seed's value. */
  typical: number;
  /** typical² over the between-seed variance of the values (can exceed 1 by chance). */
  share: number;
  /** Which noise makes most of the between-seed variance. */
  dominant: 'sample' | 'training';
}

export interface TestedPart {
  what: string;
  unit: 'seed';
  /** The deciding test, in words (the preset's analysis.claims.*.test, spelled out). */
  test: string;
  /** The claimed side of `reference`: lower or higher than it, or at most it (a bound). */
  claimed: 'lower' | 'higher' | 'at most';
  reference: number;
  values: SeedValue[];
  n: number;
  /** Seeds left out of this part, each with the reason. */
  dropped: string[];
  /** Mean over seeds with its t interval at analysis.level (tSummary). */
  t: TSummary;
  /** One-sided p of the test toward the claim, and away from it. */
  p: number;
  pOpposite: number;
  detectableEffect: DetectableEffect;
  /** Null where the values are not FIDs (rank correlations, ratios) or no FID carried replicates. */
  sampleNoise: SampleNoise | null;
  verdict: Verdict;
}

export interface PartSettings { significance: number; level: number }

export interface PartSpec {
  what: string;
  claimed: TestedPart['claimed'];
  reference?: number;
  values: SeedValue[];
  dropped: string[];
  /** Per seed, the bootstrap standard error of its value, where its FIDs carry replicates. */
  errors?: SeedValue[];
}

/** The sample-noise summary of a part's per-seed errors against the between-seed std; null without finite errors. */
export function sampleNoise(errors: readonly SeedValue[] | undefined, betweenSeedStd: number): SampleNoise | null {
  const finite = (errors ?? []).filter((e) => Number.isFinite(e.value));
  if (finite.length === 0) return null;
  const typical = Math.sqrt(finite.reduce((a, e) => a + e.value ** 2, 0) / finite.length);
  const share = typical ** 2 / betweenSeedStd ** 2;
  return { perSeed: finite, typical, share, dominant: share > 0.5 ? 'sample' : 'training' };
}

/** A part decided by a given test: p toward lower and higher values, and the smallest p it can give. */
function part(spec: PartSpec, test: string, lower: number, higher: number, smallestP: number, s: PartSettings): TestedPart {
  const reference = spec.reference ?? 0;
  const t = tSummary(spec.values.map((v) => v.value), 1 - s.level);
  const [p, pOpposite] = spec.claimed === 'higher' ? [higher, lower] : [lower, higher];
  const floor = detectableEffect(t.n, t.std, s.significance);
  const detectable: DetectableEffect = {
    effect: floor, n: t.n, std: t.std, power: 0.8, alpha: s.significance, smallestP, reachable: smallestP < s.significance,
  };
  const verdict = partVerdict({ p, pOpposite, significance: s.significance, effect: t.mean - reference, floor, reachable: detectable.reachable });
  return {
    what: spec.what, unit: 'seed', test, claimed: spec.claimed, reference, values: spec.values, n: t.n, dropped: spec.dropped, t, p, pOpposite,
    detectableEffect: detectable, sampleNoise: sampleNoise(spec.errors, t.std), verdict,
  };
}

/** A part decided by a one-sided one-sample t test over seeds against `reference` (0, or a bound). */
export function tPart(spec: PartSpec, s: PartSettings): TestedPart {
  const t = tSummary(spec.values.map((v) => v.value));
  const below = t.n < 2 ? NaN : t.standardError === 0 ? (t.mean <= (spec.reference ?? 0) ? 1 : 0) : studentTCdf((t.mean - (spec.reference ?? 0)) / t.standardError, t.n - 1);
  const above = t.n < 2 ? NaN : t.standardError === 0 ? (t.mean >= (spec.reference ?? 0) ? 1 : 0) : 1 - below;
  const side = spec.claimed === 'higher' ? 'higher' : 'lower';
  return part(spec, `one-sided t test over ${t.n} seeds (${side} than ${spec.reference ?? 0})`, below, above, t.n < 2 ? 1 : 0, s);
}

/** A part decided by statistic `index` of a within-seed permutation test. */
export function permutationPart(spec: PartSpec, result: PermutationResult, index: number, relabelling: string, s: PartSettings): TestedPart {
  const how = result.exact ? `exact, all ${result.total} relabellings` : `Monte Carlo, ${result.evaluated} seeded draws of ${result.total.toPrecision(3)}`;
  return part(spec, `within-seed permutation test (${relabelling}; ${how}), one-sided ${spec.claimed}`, result.lower[index]!, result.upper[index]!, result.smallestP, s);
}
