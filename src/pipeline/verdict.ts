// How a claim's numbers become a verdict — one rule for all three claims,
// fixed before any run, so no verdict can be chosen after seeing the data:
//
//  - an effect E is tested in the direction the claim names (lower pFID:
//    E < 0; a higher rank correlation: E > 0) with its percentile bootstrap
//    interval at analysis.level and, for paired differences, the two-sided
//    sign test at analysis.significance;
//  - supported: the whole interval lies on the claimed side of 0 and (with a
//    sign test) p < significance with most pairs on that side;
//  - not supported: the same holds for the opposite side (the data show the
//    reverse);
//  - inconclusive at this scale: anything else — the interval straddles 0,
//    or the sign test cannot separate the directions (three seeds alone never
//    can: the smallest two-sided p of 3 pairs is 0.25);
//  - a bound ("a small rFID cost"): supported when the interval's upper end
//    is at most the bound, not supported when its lower end is above it;
//  - a claim of several parts is not supported when any part is not,
//    supported when every part is, and inconclusive otherwise.
import type { Interval } from '../metrics/index.js';

export type Verdict = 'supported' | 'not supported' | 'inconclusive at this scale';

export const VERDICT_RULE = 'supported: the bootstrap interval lies wholly on the claimed side of 0 (and, for paired differences, the sign test gives p < significance in that direction); ' +
  'not supported: the same on the opposite side; inconclusive at this scale: anything else. A claim with several parts needs every part supported, and is not supported when any part is not.';

export interface SignResult {
  positive: number;
  negative: number;
  p: number;
}

/** The verdict on "E lies on the side `claimed` of 0" (−1: E < 0, +1: E > 0). */
export function directionVerdict(interval: Interval, claimed: -1 | 1, significance: number, sign?: SignResult): Verdict {
  if (!Number.isFinite(interval.lo) || !Number.isFinite(interval.hi)) return 'inconclusive at this scale';
  const side = (s: -1 | 1): boolean => {
    const wholly = s * interval.lo > 0 && s * interval.hi > 0;
    if (!sign) return wholly;
    const [toward, away] = s > 0 ? [sign.positive, sign.negative] : [sign.negative, sign.positive];
    return wholly && toward > away && sign.p < significance;
  };
  if (side(claimed)) return 'supported';
  if (side(claimed === 1 ? -1 : 1)) return 'not supported';
  return 'inconclusive at this scale';
}

/** The verdict on "E ≤ bound". */
export function boundVerdict(interval: Interval, bound: number): Verdict {
  if (!Number.isFinite(interval.lo) || !Number.isFinite(interval.hi)) return 'inconclusive at this scale';
  if (interval.hi <= bound) return 'supported';
  if (interval.lo > bound) return 'not supported';
  return 'inconclusive at this scale';
}

/** A claim made of parts. */
export function allOf(parts: readonly Verdict[]): Verdict {
  if (parts.includes('not supported')) return 'not supported';
  if (parts.length > 0 && parts.every((p) => p === 'supported')) return 'supported';
  return 'inconclusive at this scale';
}
