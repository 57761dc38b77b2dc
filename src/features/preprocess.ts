// The one conversion every feature network starts with: robustok images
// (`[B, C, H, W]` in [−1, 1], grey or RGB, any size) to the input a network
// was trained on. Bilinear resizing without antialiasing, with the corner
// convention of the framework the network came from (pytorch-fid:
// align_corners false; nsfwjs: TF.js resizeBilinear with alignCorners true),
// so features compare with theirs.
import { type Device, F, type Tensor, isGradEnabled, noGrad, tidy } from '../torch/index.js';

export interface NetworkInput {
  /** Square side the network expects. */
  size: number;
  /** Channels the network expects: grey images are repeated to 3, RGB is averaged to 1. */
  channels: 1 | 3;
  /** Value range the network expects, mapped linearly from [−1, 1] (default [−1, 1]). */
  range?: [number, number];
  /** Bilinear corner convention (default false, PyTorch's). */
  alignCorners?: boolean;
  /** Device of the network's weights (default: where the images are). */
  device?: Device;
}

/** `[B, C, H, W]` in [−1, 1] → `[B, channels, size, size]` in `range`, float32. */
export function toNetworkInput(images: Tensor, target: NetworkInput): Tensor {
  if (images.ndim !== 4 || (images.size(1) !== 1 && images.size(1) !== 3)) {
    throw new RangeError(`feature networks take images [B, 1 or 3, H, W], got [${images.shape}]`);
  }
  let x = images.to({ dtype: 'float32', ...(target.device ? { device: target.device } : {}) });
  if (x.size(1) !== target.channels) x = target.channels === 3 ? x.expand(-1, 3, -1, -1) : x.mean(1, true);
  if (x.size(2) !== target.size || x.size(3) !== target.size) {
    x = F.interpolate(x, { size: [target.size, target.size], mode: 'bilinear', alignCorners: target.alignCorners ?? false });
  }
  const [lo, hi] = target.range ?? [-1, 1];
  return lo === -1 && hi === 1 ? x : x.add(1).mul((hi - lo) / 2).add(lo);
}

/**
 * `head` over the network input made from `images`, in its own scope. FID
 * and IS need no graph, so it runs without one, unless the caller is
 * differentiating through the network: a perceptual loss passes an input
 * that requires grad, and gradients then reach it (the weights stay frozen).
 */
export function runOnImages(images: Tensor, target: NetworkInput, head: (x: Tensor) => Tensor): Tensor {
  const go = (): Tensor => tidy(() => head(toNetworkInput(images, target)));
  return images.requiresGrad && isGradEnabled() ? go() : noGrad(go);
}
