// The deterministic part of the transforms: what the cache stores. Random
// augmentations (augment.ts) run per batch on top of its output.
import { type RawImage, hwcToChw, toChannels } from './image.js';
import { resampleChw } from './resize.js';

/**
 * How a decoded image becomes a `channels × size × size` uint8 sample:
 * - `resize`: shorter side resized to `size`, then centre-cropped (any input size);
 * - `crop`: centre crop at native resolution (inputs smaller than `size` are an error);
 * - `pad`: centred on a `padValue` canvas, e.g. 28 → 32 for MNIST (inputs larger than `size` are an error).
 */
export interface PreprocessConfig {
  size: number;
  fit: 'resize' | 'crop' | 'pad';
  channels: 1 | 3;
  padValue: number;
}

export function validatePreprocess(config: PreprocessConfig): PreprocessConfig {
  const { size, fit, channels, padValue } = config;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError(`preprocess size must be an integer in [1, 4096], got ${size}`);
  if (!['resize', 'crop', 'pad'].includes(fit)) throw new RangeError(`preprocess fit must be 'resize', 'crop' or 'pad', got '${fit}'`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`preprocess channels must be 1 or 3, got ${channels}`);
  if (!Number.isInteger(padValue) || padValue < 0 || padValue > 255) throw new RangeError(`padValue must be an integer in [0, 255], got ${padValue}`);
  return { size, fit, channels, padValue };
}

/** Thrown for an input that cannot fit the config; its message says what to change. */
export class ImageSizeError extends Error {
  override name = 'ImageSizeError';
}

/** RawImage (HWC, any size) → CHW uint8 of `channels × size × size`. */
export function preprocess(image: RawImage, config: PreprocessConfig, what = 'image'): Uint8Array {
  const { size, fit, channels } = config;
  const chw = hwcToChw(toChannels(image, channels));
  const { height: h, width: w } = image;
  if (fit === 'pad') {
    if (h > size || w > size) throw new ImageSizeError(`${what} is ${w}×${h}, larger than the ${size}×${size} pad target: use fit 'resize' or a size ≥ ${Math.max(h, w)}`);
    const out = new Uint8Array(channels * size * size).fill(config.padValue);
    const top = (size - h) >> 1;
    const left = (size - w) >> 1;
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < h; y++) out.set(chw.subarray((c * h + y) * w, (c * h + y + 1) * w), (c * size + top + y) * size + left);
    }
    return out;
  }
  if (fit === 'crop') {
    if (h < size || w < size) throw new ImageSizeError(`${what} is ${w}×${h}, smaller than the ${size}×${size} crop: use fit 'resize' (scales it up) or a size ≤ ${Math.min(h, w)}`);
    return resampleChw(chw, channels, h, w, { top: (h - size) >> 1, left: (w - size) >> 1, height: size, width: size }, size, size);
  }
  const side = Math.min(h, w);
  return resampleChw(chw, channels, h, w, { top: (h - side) / 2, left: (w - side) / 2, height: side, width: side }, size, size);
}
