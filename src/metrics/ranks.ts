// Rank correlations for comparing a handful of measured runs (the
// reproduction's claims, docs/method.md, last section): Spearman ρ and
// Kendall τ-b, which counts ties the way scipy.stats.kendalltau does.
// Plain numbers in and out: at a few dozen points none of this needs tensors.

/** 1-based ranks, ties sharing the mean of the ranks they span (scipy.stats.rankdata's 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end += 1;
    for (let k = start; k <= end; k++) ranks[order[k]![1]] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

function checkPairs(x: readonly number[], y: readonly number[], what: string): void {
  if (x.length !== y.length) throw new RangeError(`${what}: x has ${x.length} values, y has ${y.length}`);
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError(`${what}: every value must be finite`);
}

/** Pearson correlation; NaN when either side is constant (no ordering to compare). */
function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's correlation of the average ranks (scipy.stats.spearmanr). NaN below 2 points or for a constant side. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y, 'spearman');
  return x.length < 2 ? NaN : pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's τ-b = (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), where
 * n₀ = n(n − 1)/2 and n₁, n₂ count the pairs tied in x and in y
 * (scipy.stats.kendalltau's default). O(n²): fine for the few dozen points here.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y, 'kendallTauB');
  const n = x.length;
  let s = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0) tiedX += 1;
      if (dy === 0) tiedY += 1;
      s += dx * dy;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((n0 - tiedX) * (n0 - tiedY));
  return denominator === 0 ? NaN : s / denominator;
}
