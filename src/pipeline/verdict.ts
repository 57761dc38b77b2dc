// How a claim's numbers become a verdict — one rule for all three claims,
// fixed in the preset before any run (analysis.claims, analysis.significance,
// analysis.rfidCost), so no verdict can be chosen after seeing the data. The
// unit is the seed: tokenizers of one seed share its data order and its
// baseline, so they are never counted as independent evidence.
//
//  - each part of a claim has one named test, one-sided in the direction the
//    claim names: claim 1's pFID and gFID parts a within-seed permutation
//    test (which tokenizer of a seed is the baseline), its rFID-cost part a
//    one-sided t test over seeds against the bound; claim 2 a within-seed
//    permutation test (gFID shuffled over a seed's tokenizers) of the mean
//    per-seed Spearman ρ(pFID) − ρ(rFID); claim 3 a one-sided t test over
//    seeds of the paired post-training difference (against the σ = 1
//    control when the results hold one);
//  - supported: the test's one-sided p toward the claim is below
//    analysis.significance;
//  - not supported: its one-sided p in the opposite direction is (the data
//    show the reverse; for a bound: the cost is significantly above it);
//  - below this design's resolution: neither, and the observed effect is
//    smaller than the smallest effect the design detects at 80% power
//    (seed_part.ts, src/metrics/power.ts), or the test cannot reach the
//    significance level at all at this n — failing to see an effect then
//    says nothing about it;
//  - inconclusive at this scale: neither, with an effect above that floor;
//  - a claim of several parts is not supported when any part is not,
//    supported when every part is, otherwise inconclusive when any part is,
//    otherwise below this design's resolution.
//
// What three seeds can reach: a test over seeds reaches significance only if
// its null distribution is fine enough. Claim 1's permutation test with T
// tokenizers per seed has a smallest one-sided p of (1/T)³ (0.008 for the
// small preset's T = 5, 0.037 for T = 3: both below 0.05); claim 2's is
// (1/T!)³; a t test over 3 seeds can reach any p, but the smallest effect it
// detects at 80% power is (t_{0.95,2} + t_{0.8,2})·s/√3 ≈ 2.3 s, s the
// between-seed std; the sign test over 3 seeds never can (smallest one-sided
// p 1/8), so it is shown and does not decide. Designs that cannot reach the
// level by construction are refused when the preset loads (design.ts).

export type Verdict = 'supported' | 'not supported' | "below this design's resolution" | 'inconclusive at this scale';

export const VERDICT_RULE = 'Unit: the seed. Each part is decided by its named one-sided test: ' +
  'supported when its p toward the claim is below the significance level; not supported when its p in the opposite direction is; ' +
  "below this design's resolution when neither and the observed effect is smaller than the smallest effect the design detects at 80% power " +
  '((t_{1−α,n−1} + t_{0.8,n−1})·s/√n over n seeds of between-seed std s), or the test cannot reach the level at this n; inconclusive at this scale otherwise. ' +
  'A claim with several parts needs every part supported, and is not supported when any part is not. ' +
  'The t interval over seeds shows the size of the effect; it does not decide: a within-seed permutation test also uses the spread between a seed\'s tokenizers, and can decide where the interval, built from the between-seed spread alone, still straddles 0.';

export interface SignResult {
  positive: number;
  negative: number;
  p: number;
}

export interface PartEvidence {
  /** One-sided p toward the claim, and away from it. */
  p: number;
  pOpposite: number;
  significance: number;
  /** The observed effect: estimate minus the reference (0, or the bound). */
  effect: number;
  /** The smallest effect detectable at 80% power (NaN: none can be stated). */
  floor: number;
  /** Whether the test's smallest possible p is below the significance level. */
  reachable: boolean;
}

/** The verdict on one part (see the rule above). */
export function partVerdict(e: PartEvidence): Verdict {
  if (e.reachable && e.p < e.significance) return 'supported';
  if (e.reachable && e.pOpposite < e.significance) return 'not supported';
  if (!e.reachable || !(Math.abs(e.effect) >= e.floor)) return "below this design's resolution";
  return 'inconclusive at this scale';
}

/** A claim made of parts. */
export function allOf(parts: readonly Verdict[]): Verdict {
  if (parts.includes('not supported')) return 'not supported';
  if (parts.length > 0 && parts.every((p) => p === 'supported')) return 'supported';
  if (parts.includes('inconclusive at this scale')) return 'inconclusive at this scale';
  return "below this design's resolution";
}
