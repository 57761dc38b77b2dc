// Codebook utilisation of a discrete tokenizer, over a training batch or an
// evaluation set:
// usage (the fraction of the K codes that occur at least once) and
// perplexity exp(H), H = −Σ pₖ ln pₖ of the code histogram (0·ln 0 = 0), the
// effective number of codes in use: K for a uniform histogram, 1 when one
// code takes everything (as reported by VQGAN-family papers, e.g. Yu et al.
// 2022 "Vector-quantized image modeling with improved VQGAN"); and how
// crowded the used codes are (neighbourCosine), which bounds what latent
// perturbation and pFID can do to a tokenizer (docs/method.md §2–§3).
import { type Tensor, ones, tidy, where, zeros } from '../torch/index.js';
import type { CodeDistance } from './code_distance.js';
import { codeNeighbours, inCodeSpace, l2Normalize } from './nearest_codes.js';

export interface CodebookReport {
  /** Fraction of the K codes used at least once, in [0, 1]. */
  usage: number;
  /** exp of the entropy (nats) of the code frequencies, in [1, K]. */
  perplexity: number;
  /** Number of tokens counted. */
  tokens: number;
}

/** Streams token indices (any shape, integers in [0, K), on any device) into a histogram `[K]` kept on the host. */
export class CodeHistogram {
  /** Counts `[K]` (float64, kept). */
  readonly counts: Tensor;

  constructor(readonly codebookSize: number) {
    this.counts = zeros([codebookSize], { dtype: 'float64', device: 'cpu' }).keep();
  }

  update(indices: Tensor): this {
    tidy(() => {
      const flat = indices.flatten().to({ dtype: 'int64', device: 'cpu' });
      if (flat.numel === 0) return;
      const [lo, hi] = [flat.min().item(), flat.max().item()];
      if (lo < 0 || hi >= this.codebookSize) {
        throw new RangeError(`CodeHistogram: token ${lo < 0 ? lo : hi} is outside the codebook [0, ${this.codebookSize})`);
      }
      this.counts.add_(zeros([this.codebookSize], { dtype: 'float64', device: 'cpu' }).scatterAdd(0, flat, ones([flat.numel], { dtype: 'float64', device: 'cpu' })));
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

/**
 * How close a used code's pFID swap candidates are to it: the mean, over the
 * used codes, of the mean cosine between a code and its δ − 1 nearest other
 * codes. pFID's δ counts the code itself (docs/method.md §2–§3: a token is
 * redrawn among the δ codes nearest its latent, its own included), so the
 * δ − 1 others are exactly what a perturbed token can turn into — which is
 * why they are found by the codebook's own metric, as the perturbation finds
 * them (nearest_codes.ts). Their closeness is reported as cosine whatever the
 * metric: a scale-free number, comparable across codebooks. A value near 1
 * means a swap barely changes the decoder's input, and pFID cannot separate
 * tokenizers (docs/method.md §2: ≈ 0.88 at K = 256, δ = 6).
 *
 * @param codebook `[K, D]` as stored (any norm): taken to the metric's space here
 * @param used `[K]` bool: the codes that occur in the evaluated encodings
 * @param delta δ in [2, K]
 * @param metric the quantizer's metric (cosine for RobusTok and LlamaGen, Euclidean for taming)
 */
export function neighbourCosine(codebook: Tensor, used: Tensor, delta: number, metric: CodeDistance = 'cosine'): number {
  const [K] = codebook.shape as [number, number];
  if (codebook.ndim !== 2) throw new RangeError(`neighbourCosine: the codebook must be [K, D], got [${codebook.shape}]`);
  if (used.shape.join() !== String(K)) throw new RangeError(`neighbourCosine: the used mask must be [${K}], got [${used.shape}]`);
  if (!(Number.isInteger(delta) && delta >= 2 && delta <= K)) {
    throw new RangeError(`neighbourCosine: δ must be an integer in [2, ${K}] (the code and at least one other), got ${delta}`);
  }
  return tidy(() => {
    const mask = used.to({ dtype: 'bool', device: 'cpu' });
    if (!mask.any().item()) throw new RangeError('neighbourCosine: no code is used');
    const c = codebook.detach().to({ dtype: 'float64', device: 'cpu' });
    const unit = l2Normalize(c);
    const neighbours = codeNeighbours(inCodeSpace(c, metric), metric, delta - 1);            // [K, δ − 1], the code itself left out
    const perCode = unit.matmul(unit.T).gather(1, neighbours).mean(-1);                      // [K]
    return perCode.maskedSelect(mask).mean().item();
  });
}
