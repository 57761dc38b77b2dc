// One interface for every network whose activations stand in for "what an
// image looks like": FID-style metrics (rFID, pFID) read its pooled
// features, Inception Score its class probabilities, and the tokenizer's
// perceptual loss distances between its features. Each implementation owns
// its preprocessing (resize, channel count, value range), so callers always
// pass images as the rest of robustok holds them.
import type { Device, Tensor } from '../torch/index.js';

export interface FeatureNetwork {
  /** Registry name, printed next to every number computed with it (`inception-fid`, `classifier:fashion-mnist`, …). */
  readonly name: string;
  /** Square side the network resizes its input to. */
  readonly inputSize: number;
  /** Width F of `features`. */
  readonly featureSize: number;
  /** Number of classes of `logits`, or 0 when the network has no classifier head. */
  readonly numClasses: number;
  /** Where the weights live (chosen at load); images are moved there, and features come back on it. */
  readonly device: Device;
  /**
   * Images `[B, C, H, W]`, float in [−1, 1], C = 1 or 3, any H, W → pooled
   * features `[B, F]` (float32). The weights are frozen; gradients reach the
   * input when grad mode is on (a perceptual loss), so metrics call it under `noGrad`.
   */
  features(images: Tensor): Tensor;
  /** Same input → class logits `[B, numClasses]`; throws when `numClasses` is 0. */
  logits(images: Tensor): Tensor;
  /** Frees the weights. */
  dispose(): void;
}
