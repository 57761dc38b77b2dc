// "Did you mean …?" for unknown config keys: the known path nearest to a
// typo ("perturbation.detla") or to a key put in the wrong group
// ("model.alpha" when it lives at "perturbation.alpha").

/** Edit distance counting a swap of neighbouring letters as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const lastKey = (path: string) => path.slice(path.lastIndexOf('.') + 1);

/**
 * The candidate nearest to `path`, or undefined when none is close: within
 * a third of the last key's length (at least one edit), comparing whole
 * paths, or last keys alone plus one edit for the move between groups.
 */
export function nearestKey(path: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(lastKey(path).length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = Math.min(editDistance(path, candidate), editDistance(lastKey(path), lastKey(candidate)) + 1);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}
