// "The δ nearest codes" (docs/method.md §2): for each latent, the codes a
// perturbed token may be redrawn among, nearest first, index 0 being the code
// the quantizer picks (§1). One definition for the quantizer, the
// perturbation, pFID's crowding statistic and the tokenizer lab, so all of
// them follow the codebook's own metric: cosine between normalised vectors
// (RobusTok, LlamaGen) or Euclidean distance between raw ones (taming's
// VQGAN; docs/method.md §3, "Published tokenizers"). It sits in metrics/,
// below the tokenizer, because the crowding statistic needs it too.
import { type Tensor, arange, tidy } from '../torch/index.js';
import type { CodeDistance } from './code_distance.js';

/** x / max(‖x‖₂, ε) along the last dim: RobusTok compares latents and codes by cosine (docs/method.md §1). */
export const l2Normalize = (x: Tensor, eps = 1e-12): Tensor => x.div(x.norm(2, -1, true).clamp(eps));

/** Latents or codes `[..., D]` in the space where `metric` compares them (normalised for cosine). */
export const inCodeSpace = (x: Tensor, metric: CodeDistance): Tensor => (metric === 'cosine' ? l2Normalize(x) : x);

/**
 * How near each code is to each latent, larger nearer: z·e for cosine;
 * −(‖z‖² + ‖e‖² − 2z·e) for Euclidean, written as taming's
 * VectorQuantizer2 writes the distance, so near-ties fall as they do there.
 */
function nearness(latents: Tensor, codebook: Tensor, metric: CodeDistance): Tensor {
  const dot = latents.matmul(codebook.T);
  if (metric === 'cosine') return dot;
  return latents.pow(2).sum(-1, true).add(codebook.pow(2).sum(-1)).sub(dot.mul(2)).neg();
}

/**
 * The δ codes nearest each latent, nearest first.
 *
 * @param latents `[..., D]` (e.g. `[M, D]` or `[B, N, D]`), already in code space (`inCodeSpace`)
 * @param codebook `[K, D]`, in the same space
 * @param metric the codebook's metric
 * @param delta δ in [1, K] (K − 1 with `exclude`)
 * @param exclude optional `[...]` (latents' shape without D): one code id per
 *   latent left out of its ranking — a code's own id when a code's
 *   neighbours are asked for (what a token on that code can turn into)
 * @returns int64 ids `[..., δ]`; index 0 is the quantizer's choice. δ = 1
 *   takes argmax, the first of exactly equal codes (torch.argmax); for
 *   δ > 1 exact ties fall as libtorch's topk orders them.
 */
export function nearestCodes(latents: Tensor, codebook: Tensor, metric: CodeDistance, delta: number, exclude?: Tensor): Tensor {
  return tidy(() => {
    const near = nearness(latents, codebook, metric);                          // [..., K]
    const scores = exclude ? near.scatter(-1, exclude.unsqueeze(-1), -Infinity) : near;
    return delta === 1 ? scores.argmax(-1).unsqueeze(-1) : scores.topk(delta, -1)[1];
  });
}

/**
 * Each code's `count` nearest other codes, nearest first: what a token
 * sitting exactly on that code could be redrawn to (its δ − 1 candidates
 * besides itself, docs/method.md §2).
 *
 * @param codebook `[K, D]` in code space
 * @param ids `[M]` int64 the codes asked about (default all K)
 * @returns int64 `[M, count]`, count in [1, K − 1]
 */
export function codeNeighbours(codebook: Tensor, metric: CodeDistance, count: number, ids?: Tensor): Tensor {
  return tidy(() => {
    const asked = ids ?? arange(0, codebook.size(0), 1, { dtype: 'int64', device: codebook.device });
    return nearestCodes(codebook.indexSelect(0, asked), codebook, metric, count, asked);
  });
}
