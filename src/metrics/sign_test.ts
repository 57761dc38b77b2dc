// The two-sided sign test: does post-training move a metric the same way on
// most seeds (the reproduction's post-training claim, docs/method.md, last
// section)? Exact binomial tail, no normal approximation, since n is a
// handful of seeds.

/**
 * Two-sided sign test: the probability, under "each nonzero difference is
 * positive or negative with probability ½", of a split at least as uneven as
 * the one seen. Zeros are dropped (the classic test's convention); with no
 * nonzero difference there is no evidence either way and p = 1. Equals
 * scipy.stats.binomtest(k, n, 0.5).pvalue.
 */
export function signTest(differences: readonly number[]): { positive: number; negative: number; p: number } {
  const positive = differences.filter((d) => d > 0).length;
  const negative = differences.filter((d) => d < 0).length;
  const n = positive + negative;
  const k = Math.min(positive, negative);
  // P(X ≤ k) for X ~ Binomial(n, ½), summed in log space so that n in the hundreds stays exact enough.
  let logChoose = 0;  // log C(n, 0)
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logChoose - n * Math.LN2);
  }
  return { positive, negative, p: n === 0 ? 1 : Math.min(1, 2 * tail) };
}
