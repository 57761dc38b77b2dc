// Differentiable Augmentation (Zhao et al. 2020, "Differentiable Augmentation
// for Data-Efficient GAN Training"), as the authors' DiffAugment_pytorch.py.
// The discriminator sees augmented real *and* augmented fake images, each
// batch with its own draws from the same distributions, so it cannot tell
// them apart by the augmentation, and it overfits the training set less; the
// augmentations are differentiable, so the generator's gradient passes
// through them. docs/method.md §4 uses translation, colour and cutout.
import { F, type RandomStream, type Tensor, arange, ones, rand, randint, zeros } from '../torch/index.js';

/** An augmentation family of the reference, applied in the order given. */
export type DiffAugPolicy = 'color' | 'translation' | 'cutout';

export interface DiffAugOptions {
  /** Families to apply, in order (default: the paper's `color,translation,cutout`). */
  policy?: DiffAugPolicy[];
  /** Largest shift as a fraction of the side (1/8). */
  translationRatio?: number;
  /** Cutout square side as a fraction of the side (1/2). */
  cutoutRatio?: number;
  /** Draws from this stream instead of the global one, for reproducibility. */
  stream?: RandomStream;
}

/** One draw per sample, `[B, 1, 1, 1]`, uniform on [0, 1). */
const perSample = (x: Tensor, stream?: RandomStream): Tensor =>
  rand([x.shape[0]!, 1, 1, 1], { stream, dtype: x.dtype, device: x.device });

/** Side × ratio rounded half up, as the reference's `int(size * ratio + 0.5)`. */
const scaled = (side: number, ratio: number): number => Math.floor(side * ratio + 0.5);

/** Brightness: x + (u − 0.5), u ~ U(0, 1) per sample. `[B, C, H, W] → same` */
export const randBrightness = (x: Tensor, stream?: RandomStream): Tensor =>
  x.add(perSample(x, stream).sub(0.5));

/** Saturation: scales each pixel's deviation from its channel mean by 2u, u ~ U(0, 1). `[B, C, H, W] → same` */
export function randSaturation(x: Tensor, stream?: RandomStream): Tensor {
  const mean = x.mean(1, true);
  return x.sub(mean).mul(perSample(x, stream).mul(2)).add(mean);
}

/** Contrast: scales the deviation from the image mean by u + 0.5, u ~ U(0, 1). `[B, C, H, W] → same` */
export function randContrast(x: Tensor, stream?: RandomStream): Tensor {
  const mean = x.mean([1, 2, 3], true);
  return x.sub(mean).mul(perSample(x, stream).add(0.5)).add(mean);
}

/** Index grids `[B, a, 1]` (batch), `[1, a, 1]` (rows) and `[1, 1, b]` (columns) that broadcast to `[B, a, b]`. */
function grids(x: Tensor, a: number, b: number): [Tensor, Tensor, Tensor] {
  const options = { dtype: 'int64' as const, device: x.device };
  return [arange(x.shape[0]!, undefined, 1, options).view(-1, 1, 1), arange(a, undefined, 1, options).view(1, -1, 1), arange(b, undefined, 1, options).view(1, 1, -1)];
}

/**
 * Translation by an integer shift per sample, uniform on [−s, s] with
 * s = round(ratio·side) per axis, filling with zeros: output pixel (i, j) is
 * input pixel (i + tx, j + ty), so content moves by (−tx, −ty). Gathers from
 * the input padded by one zero pixel, with indices clamped onto that border.
 * `[B, C, H, W] → same`
 */
export function randTranslation(x: Tensor, ratio = 1 / 8, stream?: RandomStream): Tensor {
  const [B, , H, W] = x.shape as [number, number, number, number];
  const sx = scaled(H, ratio);
  const sy = scaled(W, ratio);
  const options = { stream, device: x.device };
  const tx = randint(-sx, sx + 1, [B, 1, 1], options);
  const ty = randint(-sy, sy + 1, [B, 1, 1], options);
  const [gb, gx, gy] = grids(x, H, W);
  const ix = gx.add(tx).add(1).clamp(0, H + 1);
  const iy = gy.add(ty).add(1).clamp(0, W + 1);
  const padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1);
  return padded.index([gb, ix, iy]).permute(0, 3, 1, 2);
}

/**
 * Cutout (DeVries & Taylor 2017): zeroes one square of side round(ratio·side)
 * per sample, centred uniformly over the image (clipped at the borders).
 * `[B, C, H, W] → same`
 */
export function randCutout(x: Tensor, ratio = 1 / 2, stream?: RandomStream): Tensor {
  const [B, , H, W] = x.shape as [number, number, number, number];
  const cx = scaled(H, ratio);
  const cy = scaled(W, ratio);
  const options = { stream, device: x.device };
  const ox = randint(0, H + (1 - (cx % 2)), [B, 1, 1], options);
  const oy = randint(0, W + (1 - (cy % 2)), [B, 1, 1], options);
  const [gb, gx, gy] = grids(x, cx, cy);
  const ix = gx.add(ox).sub(Math.floor(cx / 2)).clamp(0, H - 1);
  const iy = gy.add(oy).sub(Math.floor(cy / 2)).clamp(0, W - 1);
  const mask = ones([B, H, W], { dtype: x.dtype, device: x.device });
  mask.indexPut_([gb, ix, iy], zeros([], { dtype: x.dtype, device: x.device }));
  return x.mul(mask.unsqueeze(1));
}

/**
 * DiffAugment(x, policy): `[B, C, H, W] → same`, differentiable in x. Call it
 * separately on the real and on the fake batch (as the reference does) before
 * the discriminator, in both the discriminator's and the generator's step.
 * Draws happen in the reference's order, so with the same seed this matches
 * DiffAugment_pytorch.py draw for draw.
 */
export function diffAugment(x: Tensor, options: DiffAugOptions = {}): Tensor {
  const { stream } = options;
  let out = x;
  for (const p of options.policy ?? ['color', 'translation', 'cutout']) {
    if (p === 'color') out = randContrast(randSaturation(randBrightness(out, stream), stream), stream);
    else if (p === 'translation') out = randTranslation(out, options.translationRatio ?? 1 / 8, stream);
    else if (p === 'cutout') out = randCutout(out, options.cutoutRatio ?? 1 / 2, stream);
    else throw new RangeError(`diffAugment: unknown policy '${String(p)}' (allowed: color, translation, cutout)`);
  }
  return out;
}
