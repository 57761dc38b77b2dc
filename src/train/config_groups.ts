// The `optim` and `train` groups that the tokenizer, generator and
// post-training schemas share: the same AdamW with linear warm-up and cosine
// decay, the same EMA of weights and the same run cadence, read by trainers
// built on one training loop (src/runs/training_loop.ts). Each layer states
// only what differs: its defaults, its notes, and the settings it alone has.
import { type Shape, choice, fraction, group, matching, num, positive } from '../config/index.js';

/** `train.device`: where a trainer's models, optimizer state and batches live (resolveDevice, src/train/device.ts). */
export const deviceSetting = () => matching({
  default: 'cpu', allowed: 'cpu | cuda | cuda:N | auto', pattern: /^(cpu|cuda|cuda:\d+|auto)$/,
  doc: 'where the models, optimizer state and batches live (src/train/device.ts); auto = cuda when libtorch sees a GPU',
});

/** A setting's default, with its doc line where the layer words it its own way. */
export type Setting = number | readonly [value: number, doc: string];

/** `s` as a default and a doc line, the doc `common` unless `s` gives one. */
const spec = (s: Setting, common: string): [number, string] => (typeof s === 'number' ? [s, common] : [s[0], s[1]]);

/** The optimiser settings whose defaults and notes differ between layers (all in [0, 1]). */
export type OptimSettings = Record<'lr' | 'lrMin' | 'warmupFraction' | 'weightDecay' | 'emaDecay', Setting>;

/**
 * The `optim` group: peak rate, cosine floor, warm-up share, weight decay,
 * gradient clip and weight EMA. `extra` holds settings a layer exposes beyond
 * these (the generator's β₂, post-training's EMA half-life), placed after weightDecay.
 */
export function optimGroup<const A extends Shape = {}>(s: OptimSettings, doc: string, extra: A = {} as A) {
  return group({
    lr: fraction(...spec(s.lr, 'peak learning rate')),
    lrMin: fraction(...spec(s.lrMin, 'cosine floor')),
    warmupFraction: fraction(...spec(s.warmupFraction, 'fraction of steps in linear warm-up')),
    weightDecay: fraction(...spec(s.weightDecay, 'AdamW weight decay')),
    ...extra,
    clipNorm: num({ default: 1, min: 0, max: 1e6, doc: 'global gradient-norm clip (0 = off)' }),
    emaDecay: fraction(...spec(s.emaDecay, 'EMA of weights; the EMA weights are exported')),
  }, doc);
}

/** The run settings whose defaults and notes differ between layers (counts ≥ 1); `seed` and `nonFinite` are doc lines only (seed 0, stop). */
export type TrainSettings = Record<'steps' | 'batchSize' | 'logEvery' | 'sampleEvery' | 'checkpointEvery', Setting> & { seed: string; nonFinite: string };

/**
 * The `train` group: length, batch, seed, the cadence of metrics, grids and
 * checkpoints, and what a non-finite loss does (src/train/non_finite.ts).
 * `grid` holds settings of a layer's grids (the generator's samples per
 * class), placed after sampleEvery.
 */
export function trainGroup<const G extends Shape = {}>(s: TrainSettings, doc: string, grid: G = {} as G) {
  return group({
    steps: positive(...spec(s.steps, 'optimizer steps')),
    batchSize: positive(...spec(s.batchSize, 'examples per step')),
    seed: num({ default: 0, min: 0, integer: true, doc: s.seed }),
    logEvery: positive(...spec(s.logEvery, 'steps between metrics.jsonl lines')),
    sampleEvery: positive(...spec(s.sampleEvery, 'steps between grids')),
    ...grid,
    checkpointEvery: positive(...spec(s.checkpointEvery, 'steps between checkpoints')),
    nonFinite: choice(['stop', 'skip'], 'stop', s.nonFinite),
    device: deviceSetting(),
    precision: choice(['fp32', 'bf16', 'fp16'], 'fp32',
      'forward passes in float32, or autocast to bfloat16 (CPU or GPU) or float16 with loss scaling (GPU); weights and optimizer state stay float32 (src/train/precision.ts)'),
  }, doc);
}
