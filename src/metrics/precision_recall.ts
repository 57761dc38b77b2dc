// Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen &
// Aila 2019, "Improved Precision and Recall Metric for Assessing Generative
// Models"). Each feature set approximates its manifold by the union of
// balls around its samples, each ball reaching the sample's k-th nearest
// neighbour in the same set (k = 3, the paper's choice). Precision is the
// fraction of generated samples inside the real manifold (fidelity); recall
// the fraction of real samples inside the generated manifold (coverage).
// Distances are Euclidean (cdist) in the features' dtype, computed in row
// batches so memory stays O(batch·N) rather than O(N²).
import { type Tensor, cat, cdist, tidy } from '../torch/index.js';

export interface PrecisionRecallOptions {
  /** Neighbourhood size (3). */
  k?: number;
  /** Rows per distance block (1024). */
  batchSize?: number;
}

function blocks<T>(rows: number, batchSize: number, fn: (start: number, length: number) => T): T[] {
  const out: T[] = [];
  for (let start = 0; start < rows; start += batchSize) out.push(fn(start, Math.min(batchSize, rows - start)));
  return out;
}

/** Radius of each sample's ball `[N]`: distance to its k-th nearest other sample in `x [N, F]`. */
export function knnRadii(x: Tensor, k: number, batchSize = 1024): Tensor {
  const n = x.size(0);
  if (n <= k) throw new RangeError(`knnRadii: ${n} samples cannot have ${k} neighbours each`);
  return tidy(() => cat(blocks(n, batchSize, (start, len) =>
    tidy(() => cdist(x.narrow(0, start, len), x).topk(k + 1, 1, false)[0].select(1, k)))));  // k + 1: the sample itself is at 0
}

/** Fraction of `queries [M, F]` within the ball of at least one sample of `manifold [N, F]` (radii `[N]`). */
export function manifoldCoverage(queries: Tensor, manifold: Tensor, radii: Tensor, batchSize = 1024): number {
  return tidy(() => {
    const inside = blocks(queries.size(0), batchSize, (start, len) =>
      tidy(() => cdist(queries.narrow(0, start, len), manifold).le(radii.unsqueeze(0)).any(1).sum().item()));
    return inside.reduce((a, b) => a + b, 0) / queries.size(0);
  });
}

/** Precision and recall of generated features `fake [M, F]` against `real [N, F]`. */
export function precisionRecall(real: Tensor, fake: Tensor, o: PrecisionRecallOptions = {}): { precision: number; recall: number } {
  if (real.ndim !== 2 || fake.ndim !== 2 || real.size(1) !== fake.size(1)) {
    throw new RangeError(`precisionRecall: expected [N, F] and [M, F] features, got [${real.shape}] and [${fake.shape}]`);
  }
  const k = o.k ?? 3;
  const batch = o.batchSize ?? 1024;
  return tidy(() => ({
    precision: manifoldCoverage(fake, real, knnRadii(real, k, batch), batch),
    recall: manifoldCoverage(real, fake, knnRadii(fake, k, batch), batch),
  }));
}
