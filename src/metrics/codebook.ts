// Codebook utilisation of a discrete tokenizer, over a training batch or an
// evaluation set:
// usage (the fraction of the K codes that occur at least once) and
// perplexity exp(H), H = −Σ pₖ ln pₖ of the code histogram (0·ln 0 = 0), the
// effective number of codes in use: K for a uniform histogram, 1 when one
// code takes everything (as reported by VQGAN-family papers, e.g. Yu et al.
// 2022 "Vector-quantized image modeling with improved VQGAN").
import { type Tensor, ones, tidy, where, zeros } from '../torch/index.js';

export interface CodebookReport {
  /** Fraction of the K codes used at least once, in [0, 1]. */
  usage: number;
  /** exp of the entropy (nats) of the code frequencies, in [1, K]. */
  perplexity: number;
  /** Number of tokens counted. */
  tokens: number;
}

/** Streams token indices (any shape, integers in [0, K)) into a histogram `[K]`. */
export class CodeHistogram {
  /** Counts `[K]` (float64, kept). */
  readonly counts: Tensor;

  constructor(readonly codebookSize: number) {
    this.counts = zeros([codebookSize], { dtype: 'float64' }).keep();
  }

  update(indices: Tensor): this {
    tidy(() => {
      const flat = indices.flatten().to({ dtype: 'int64', device: 'cpu' });
      if (flat.numel === 0) return;
      const [lo, hi] = [flat.min().item(), flat.max().item()];
      if (lo < 0 || hi >= this.codebookSize) {
        throw new RangeError(`CodeHistogram: token ${lo < 0 ? lo : hi} is outside the codebook [0, ${this.codebookSize})`);
      }
      this.counts.add_(zeros([this.codebookSize], { dtype: 'float64' }).scatterAdd(0, flat, ones([flat.numel], { dtype: 'float64' })));
    });
    return this;
  }

  report(): CodebookReport {
    return codebookReport(this.counts);
  }

  dispose(): void {
    this.counts.dispose();
  }
}

/** Usage and perplexity of a histogram of counts `[K]`. */
export function codebookReport(counts: Tensor): CodebookReport {
  return tidy(() => {
    const c = counts.to('float64');
    const total = c.sum().item();
    if (total <= 0) throw new RangeError('codebookReport: the histogram is empty');
    const p = c.div(total);
    const plogp = where(p.gt(0), p.mul(p.log()), 0);
    return {
      usage: c.gt(0).sum().item() / c.numel,
      perplexity: Math.exp(-plogp.sum().item()),
      tokens: total,
    };
  });
}

/** Usage and perplexity of token indices (any shape) over a codebook of size K, in one call. */
export function codebookUsage(indices: Tensor, codebookSize: number): CodebookReport {
  const h = new CodeHistogram(codebookSize);
  try {
    return h.update(indices).report();
  } finally {
    h.dispose();
  }
}
