// Pixel-level reconstruction metrics: PSNR and SSIM over image batches
// `[B, C, H, W]`. Range convention: robustok's images are in [−1, 1], so
// `dataRange` (max − min of the valid pixel range) defaults to 2; pass 1 for
// images in [0, 1] or 255 for 8-bit values. Inputs are not clamped. Both are
// computed per image in float64 and then averaged over the batch, as
// reconstruction papers report them.
import { F, type Tensor, arange, cat, tidy } from '../torch/index.js';

export interface ImageMetricOptions {
  /** max − min of the pixel range: 2 for [−1, 1] (default), 1 for [0, 1]. */
  dataRange?: number;
}

function checkPair(x: Tensor, y: Tensor, what: string): void {
  if (x.ndim !== 4 || x.shape.join() !== y.shape.join()) {
    throw new RangeError(`${what}: expected two [B, C, H, W] batches of one shape, got [${x.shape}] and [${y.shape}]`);
  }
}

/** Per-image PSNR `[B]` in dB: 10·log10(R² / MSE), MSE over C·H·W (∞ for identical images). */
export function psnrPerImage(x: Tensor, y: Tensor, o: ImageMetricOptions = {}): Tensor {
  checkPair(x, y, 'psnr');
  const range = o.dataRange ?? 2;
  return tidy(() => {
    const mse = x.to('float64').sub(y.to('float64')).square().mean([1, 2, 3]);
    return mse.reciprocal().mul(range * range).log().mul(10 / Math.LN10);
  });
}

/** Mean over the batch of per-image PSNR (dB). */
export const psnr = (x: Tensor, y: Tensor, o: ImageMetricOptions = {}): number =>
  tidy(() => psnrPerImage(x, y, o).mean().item());

export interface SsimOptions extends ImageMetricOptions {
  /** Gaussian window's standard deviation (1.5). */
  sigma?: number;
  /** Window radius in pixels: int(3.5·σ + 0.5) = 5 (11×11) by default, as skimage's truncate = 3.5. */
  radius?: number;
  k1?: number;
  k2?: number;
}

/**
 * Normalised 1-d Gaussian window of scipy.ndimage (float64), as a row
 * `[1, 1, 1, 2r+1]` and a column `[1, 1, 2r+1, 1]`: the 2-d window is their
 * outer product, so two 1-d passes filter exactly as one 2-d pass, with
 * 2(2r+1) instead of (2r+1)² taps a pixel (float64 convolutions have no fast
 * CPU kernel, and this one was 40% of an eval).
 */
function gaussianWindows(sigma: number, radius: number, device: string): { row: Tensor; column: Tensor } {
  return tidy(() => {
    const x = arange(-radius, radius + 1, 1, { dtype: 'float64', device });
    const g = x.square().mul(-0.5 / (sigma * sigma)).exp();
    const g1 = g.div(g.sum());
    return { row: g1.reshape([1, 1, 1, 2 * radius + 1]), column: g1.reshape([1, 1, 2 * radius + 1, 1]) };
  });
}

/**
 * Per-image SSIM `[B]` (Wang, Bovik, Sheikh & Simoncelli 2004, "Image
 * quality assessment: from error visibility to structural similarity"),
 * with the Gaussian window of the paper (σ = 1.5, 11×11), K1 = 0.01,
 * K2 = 0.03, population (not sample) local variances. It reproduces
 * skimage.metrics.structural_similarity(x, y, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=R, channel_axis=0) per
 * image: skimage filters with padding, then discards a border of r pixels
 * before averaging, which is exactly the valid (unpadded) convolution used
 * here. The SSIM map is averaged over positions, then over channels.
 * Images need H, W ≥ 2r + 1.
 */
export function ssimPerImage(x: Tensor, y: Tensor, o: SsimOptions = {}): Tensor {
  checkPair(x, y, 'ssim');
  const sigma = o.sigma ?? 1.5;
  const radius = o.radius ?? Math.trunc(3.5 * sigma + 0.5);
  const [b, c, h, w] = x.shape as [number, number, number, number];
  if (h < 2 * radius + 1 || w < 2 * radius + 1) throw new RangeError(`ssim: images ${h}×${w} are smaller than the ${2 * radius + 1}-pixel window`);
  const range = o.dataRange ?? 2;
  const c1 = ((o.k1 ?? 0.01) * range) ** 2;
  const c2 = ((o.k2 ?? 0.03) * range) ** 2;
  return tidy(() => {
    const a = x.to('float64').reshape([b * c, 1, h, w]);
    const bb = y.to('float64').reshape([b * c, 1, h, w]);
    // One (separable) filtering for the five local moments E[x], E[y], E[x²], E[y²], E[xy].
    const window = gaussianWindows(sigma, radius, x.device);
    const moments = F.conv2d(F.conv2d(cat([a, bb, a.square(), bb.square(), a.mul(bb)], 0), window.row), window.column);
    const [ux, uy, uxx, uyy, uxy] = moments.chunk(5, 0) as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const vx = uxx.sub(ux.square());
    const vy = uyy.sub(uy.square());
    const vxy = uxy.sub(ux.mul(uy));
    const num = ux.mul(uy).mul(2).add(c1).mul(vxy.mul(2).add(c2));
    const den = ux.square().add(uy.square()).add(c1).mul(vx.add(vy).add(c2));
    return num.div(den).mean([1, 2, 3]).reshape([b, c]).mean(1);
  });
}

/** Mean over the batch of per-image SSIM. */
export const ssim = (x: Tensor, y: Tensor, o: SsimOptions = {}): number =>
  tidy(() => ssimPerImage(x, y, o).mean().item());
