// Sampling token grids from the generator (docs/method.md §5), one position
// at a time in raster order with a KV cache: each step feeds only the newest
// token, and every block attends to the keys and values it cached for the
// earlier ones. With guidance (g ≠ 1) the conditional and the unconditional
// (null-class) rows run as one doubled batch sharing the cache, and their
// logits combine as guidance.ts says before the draw.
import { RandomStream, type Tensor, arange, cat, fullLike, noGrad, stack, tidy } from '../torch/index.js';
import type { Sampling } from './config.js';
import { cfgScale, drawTokens, guideLogits } from './guidance.js';
import type { ArGenerator } from './model.js';
import type { Tokenizer } from '../tokenizer/index.js';

export interface SampleOptions extends Sampling {
  /** The stream every draw comes from (seed it for reproducible samples). */
  stream?: RandomStream;
  /**
   * Pre-drawn uniforms in [0, 1) `[B, N]`, one per row and position: the
   * draw at position t is the inverse CDF of row b's uniforms[b, t]
   * (guidance.ts) instead of a draw from `stream`, so each row's tokens are
   * its own whatever batch it is sampled in (pregenerated σ-tokens).
   */
  uniforms?: Tensor;
  /**
   * Sees the tokens drawn at each position (`[B]`) and returns the ones to
   * keep, which are also what the next position is conditioned on:
   * post-training's σ-preserving sampling swaps some for the ground truth here.
   */
  choose?: (position: number, drawn: Tensor) => Tensor;
  /** Reuse keys and values of earlier positions (default); false recomputes the whole prefix each step (for benchmarks and tests). */
  kvCache?: boolean;
}

/** Class ids `[B]` (int64, on the model's device) → token ids `[B, N]` (int64). */
export function sampleTokens(model: ArGenerator, labels: Tensor, o: SampleOptions): Tensor {
  const N = model.length;
  const B = labels.size(0);
  if (labels.ndim !== 1 || B === 0) throw new RangeError(`sampleTokens: expected class ids [B], got [${labels.shape}]`);
  if (o.uniforms && (o.uniforms.ndim !== 2 || o.uniforms.size(0) !== B || o.uniforms.size(1) !== N)) {
    throw new RangeError(`sampleTokens: expected uniforms [${B}, ${N}], got [${o.uniforms.shape}]`);
  }
  const classes = tidy(() => [labels.min().item(), labels.max().item()]);
  if (classes[0]! < 0 || classes[1]! > model.nullClass) {
    throw new RangeError(`sampleTokens: class ids must be in 0…${model.nullClass - 1} (or ${model.nullClass}, the null class); got ${classes[0]}…${classes[1]}`);
  }
  const guided = o.cfg !== 1;
  const useCache = o.kvCache ?? true;
  const wasTraining = model.training;
  model.eval();
  const caches = useCache ? model.newCaches() : undefined;
  const chosen: Tensor[] = [];
  let inputs: Tensor | null = null;
  try {
    return noGrad(() => {
      inputs = tidy(() => model.embedClass(guided ? cat([labels, fullLike(labels, model.nullClass)]) : labels)).keep();
      for (let t = 0; t < N; t++) {
        const next: Tensor = tidy(() => {
          const logits = useCache
            ? model.run(inputs!, t, caches).select(1, 0)
            : model.run(inputs!, 0).select(1, t);  // [rows, K]
          const guidedLogits = guided ? guideLogits(logits.narrow(0, 0, B), logits.narrow(0, B, B), cfgScale(t, N, { scale: o.cfg, schedule: o.schedule, power: o.power })) : logits;
          const drawn = drawTokens(guidedLogits, o.uniforms ? { ...o, uniform: o.uniforms.select(1, t) } : o);
          const kept = o.choose ? o.choose(t, drawn) : drawn;
          chosen.push(kept.keep());
          if (t === N - 1) return inputs!;
          const embedded = model.embedTokens((guided ? cat([kept, kept]) : kept).unsqueeze(1));
          return useCache ? embedded : cat([inputs!, embedded], 1);
        });
        if (next !== inputs) {
          inputs!.dispose();
          inputs = next.keep();
        }
      }
      return stack(chosen, 1);
    });
  } finally {
    (inputs as Tensor | null)?.dispose();
    for (const t of chosen) t.dispose();
    for (const c of caches ?? []) c.dispose();
    model.train(wasTraining);
  }
}

/**
 * Class ids `[B]` → sampled token ids `[B, N]` and their images
 * `[B, C, H, W]` in [−1, 1], decoded by `tokenizer` (the one the generator
 * was trained on, or another decoder of the same codebook).
 */
export function sampleImages(model: ArGenerator, tokenizer: Tokenizer, labels: Tensor, o: SampleOptions): { ids: Tensor; images: Tensor } {
  const ids = sampleTokens(model, labels, o);
  const images = noGrad(() => tidy(() => tokenizer.eval().decodeIds(ids).clamp(-1, 1)));
  return { ids, images };
}

export interface BalancedSampleOptions extends Sampling {
  /** Seed of the one stream all batches draw from. */
  seed: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * `n` token grids spread evenly over the classes (sample i has class
 * i mod C), drawn in batches from one seeded stream: ids `[n, N]` and
 * labels `[n]` (int64, kept: the caller disposes them). The draws do not
 * depend on any decoder, so one set can be decoded by several.
 */
export function sampleClassBalanced(model: ArGenerator, n: number, o: BalancedSampleOptions): { ids: Tensor; labels: Tensor } {
  const { seed, batchSize = 100, onProgress, ...sampling } = o;
  const stream = new RandomStream(seed);
  const C = model.options.numClasses;
  const parts: Tensor[] = [];
  try {
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const labels = arange(start, start + count, 1, { dtype: 'int64', device: model.device }).remainder(C);
      try {
        parts.push(sampleTokens(model, labels, { ...sampling, stream }));
      } finally {
        labels.dispose();
      }
      onProgress?.(start + count, n);
    }
    const ids = cat(parts, 0).keep();
    return { ids, labels: arange(0, n, 1, { dtype: 'int64' }).remainder(C).keep() };
  } finally {
    for (const p of parts) p.dispose();
  }
}
