// The one mapping between 8-bit pixels and robustok's float images in
// [−1, 1], both ways, so a training batch, an image file given to a trained
// tokenizer and a saved sample grid agree to the bit.
import { type Tensor, tidy } from '../torch/index.js';

/** uint8 → [−1, 1] (v / 127.5 − 1), looked up rather than computed: the inner loop of every batch. */
export const unitFromByte = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

/** `[B, C, H, W]` in [−1, 1] (any device) → CHW uint8 bytes, image after image, rounded and clamped. */
export function imagesToBytes(images: Tensor): Uint8Array {
  if (images.ndim !== 4) throw new Error(`expected images [B, C, H, W], got [${images.shape}]`);
  const pixels = tidy(() => images.detach().to('cpu').add(1).mul(127.5).round().clamp(0, 255).to('uint8'));
  try {
    return pixels.toTypedArray() as Uint8Array;
  } finally {
    pixels.dispose();
  }
}
