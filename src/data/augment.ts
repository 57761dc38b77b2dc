// Per-sample random augmentations, applied to cached samples at batch time.
// Each decision comes from an Rng seeded by (seed, epoch, sample index), so a
// run is reproducible whatever the batch size or prefetch depth.
import { resampleChw } from './resize.js';
import { Rng, mixSeed } from './rng.js';

export interface AugmentConfig {
  /** Mirror left–right with probability 1/2. */
  hflip: boolean;
  /**
   * Random square crop covering a fraction of the area drawn uniformly from
   * [min, max], resized back to the sample size; null for none. Square,
   * because tokenizers train on square images.
   */
  randomCrop: { scale: [number, number] } | null;
}

export const noAugment: AugmentConfig = { hflip: false, randomCrop: null };

export function validateAugment(config: Partial<AugmentConfig> = {}): AugmentConfig {
  const out = { ...noAugment, ...config };
  if (typeof out.hflip !== 'boolean') throw new TypeError(`augment.hflip must be a boolean, got ${out.hflip}`);
  if (out.randomCrop) {
    const [lo, hi] = out.randomCrop.scale;
    if (!(lo > 0 && lo <= hi && hi <= 1)) throw new RangeError(`augment.randomCrop.scale must satisfy 0 < min ≤ max ≤ 1, got [${lo}, ${hi}]`);
  }
  return out;
}

/** Applies `config` to one CHW sample (`channels × size × size`); returns the input when nothing is drawn. */
export function augmentSample(
  sample: Uint8Array, channels: number, size: number, config: AugmentConfig, seed: number, epoch: number, index: number,
): Uint8Array {
  if (!config.hflip && !config.randomCrop) return sample;
  const rng = new Rng(mixSeed(seed, epoch, index));
  let out = sample;
  if (config.randomCrop) {
    const [lo, hi] = config.randomCrop.scale;
    const side = size * Math.sqrt(rng.uniform(lo, hi));
    const top = rng.uniform(0, size - side);
    const left = rng.uniform(0, size - side);
    out = resampleChw(out, channels, size, size, { top, left, height: side, width: side }, size, size);
  }
  if (config.hflip && rng.next() < 0.5) out = flipChw(out, channels, size);
  return out;
}

function flipChw(sample: Uint8Array, channels: number, size: number): Uint8Array {
  const out = new Uint8Array(sample.length);
  for (let row = 0; row < channels * size; row++) {
    const base = row * size;
    for (let x = 0; x < size; x++) out[base + x] = sample[base + size - 1 - x]!;
  }
  return out;
}
