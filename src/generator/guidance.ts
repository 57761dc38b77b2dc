// Classifier-free guidance and the token draw of the autoregressive
// generator (docs/method.md §5): the conditional logits c and unconditional
// logits u of one position become u + (c − u)·g_t, where the scale g_t ramps
// over the T positions of the raster order; then temperature, top-k, top-p
// and a draw: multinomial from a stream, or by inverse CDF from a uniform
// given per row. Pure functions of the logits, so the sampler, the
// σ-preserving sampling of post-training and the web app share them.
import { type RandomStream, type Tensor, multinomial, noGrad, onDevice } from '../torch/index.js';

/** How g_t moves from 1 (first position) towards g (last). */
export type CfgSchedule = 'constant' | 'linear' | 'cosine';
export const cfgSchedules: readonly CfgSchedule[] = ['constant', 'linear', 'cosine'];

/**
 * The guidance scale at position t of T (0-based t):
 *  - constant: g everywhere;
 *  - linear:   1 + (g − 1)·t/T;
 *  - cosine:   the paper's cosine-power ramp 1 + (g − 1)·(1 − cos(π·(t/T)^p))/2,
 *    reference g = 6.0, p = 1.15 (RAR-B) and g = 6.75, p = 1.01 (RAR-L).
 * Early tokens fix the layout and get little guidance; late ones get the most.
 */
export function cfgScale(t: number, T: number, o: { scale: number; schedule: CfgSchedule; power?: number }): number {
  if (!(Number.isInteger(T) && T >= 1 && Number.isInteger(t) && t >= 0 && t < T)) throw new RangeError(`cfgScale: position ${t} of ${T} is not in [0, T)`);
  const g = o.scale;
  if (o.schedule === 'constant') return g;
  const progress = t / T;
  if (o.schedule === 'linear') return 1 + (g - 1) * progress;
  if (o.schedule === 'cosine') return 1 + ((g - 1) * (1 - Math.cos(Math.PI * progress ** (o.power ?? 1)))) / 2;
  throw new RangeError(`cfgScale: schedule must be one of ${cfgSchedules.join(', ')}, got '${String(o.schedule)}'`);
}

/** u + (c − u)·g for logits `[B, K]` each. g = 1 gives c, g = 0 gives u. */
export const guideLogits = (conditional: Tensor, unconditional: Tensor, scale: number): Tensor =>
  unconditional.add(conditional.sub(unconditional).mul(scale));

export interface DrawOptions {
  /** Divides the logits; 0 means argmax (greedy). The reference samples at 1.02–1.04. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = all). The reference uses none. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p, the first token past p included (1 = all). */
  topP?: number;
  stream?: RandomStream;
  /**
   * One uniform in [0, 1) per row `[B]`: each row's token is the inverse CDF
   * of its own uniform instead of a multinomial draw from `stream`, so a
   * row's draw does not depend on the other rows of its batch.
   */
  uniform?: Tensor;
}

/** Logits `[B, K]` with everything outside the top k set to −∞. */
export function topKFilter(logits: Tensor, k: number): Tensor {
  const K = logits.size(-1);
  if (k <= 0 || k >= K) return logits;
  const kth = logits.topk(k, -1)[0].narrow(-1, k - 1, 1);  // [B, 1]
  return logits.maskedFill(logits.lt(kth), -Infinity);
}

/**
 * Logits `[B, K]` keeping, per row, the most likely tokens until their
 * probability mass reaches p: a token is dropped when the mass of the tokens
 * above it already reaches p (so the one that crosses p stays, and the most
 * likely token always stays).
 */
export function topPFilter(logits: Tensor, p: number): Tensor {
  if (p >= 1) return logits;
  const [sorted, order] = logits.sort(-1, true);
  const probabilities = sorted.softmax(-1);
  const before = probabilities.cumsum(-1).sub(probabilities);  // mass strictly above each token
  const dropSorted = before.ge(p);
  const drop = dropSorted.scatter(-1, order, dropSorted);
  return logits.maskedFill(drop, -Infinity);
}

/**
 * Per row of probabilities `[B, K]`, the first token whose cumulative
 * probability reaches (1 − u)·total for the row's uniform u `[B]` in
 * [0, 1) → `[B]` (int64). 1 − u lies in (0, 1], so a token of probability
 * zero (cut by top-k or top-p) is never chosen: it would need
 * cdf < target ≤ its own cdf, which equals the cdf before it.
 */
export function inverseCdf(probabilities: Tensor, uniform: Tensor): Tensor {
  const cdf = probabilities.cumsum(-1);                                                      // [B, K]
  const K = cdf.size(-1);
  const u = onDevice(uniform, cdf.device);
  try {
    const target = u.neg().add(1).unsqueeze(-1).mul(cdf.narrow(-1, K - 1, 1));              // [B, 1]
    return cdf.lt(target).sum(-1).clamp(0, K - 1);
  } finally {
    if (u !== uniform) u.dispose();
  }
}

/** One token id per row of logits `[B, K]` → `[B]` (int64): temperature, then top-k, then top-p, then a draw. */
export function drawTokens(logits: Tensor, o: DrawOptions = {}): Tensor {
  const { temperature = 1, topK = 0, topP = 1 } = o;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new RangeError(`temperature must be a finite number ≥ 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) throw new RangeError(`top-k must be an integer ≥ 0 (0 = off), got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${topP}`);
  return noGrad(() => {
    if (temperature === 0) return logits.argmax(-1);
    const filtered = topPFilter(topKFilter(logits.div(temperature), topK), topP);
    const probabilities = filtered.softmax(-1);
    return o.uniform ? inverseCdf(probabilities, o.uniform) : multinomial(probabilities, 1, false, o.stream).squeeze(-1);
  });
}
