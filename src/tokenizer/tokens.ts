// Latents come as feature maps `[B, D, H, W]` (CNN tokenizers) or token
// sequences `[B, N, D]` (ViT tokenizers); the quantizer and the perturbation
// work on sequences and hand back the layout they were given.
import type { Tensor } from '../torch/index.js';

export interface TokenLayout {
  /** `[B, D, H, W]` in, so `[B, D, H, W]` out; else `[B, N, D]`. */
  spatial: boolean;
  shape: number[];
}

/** `[B, D, H, W]` or `[B, N, D]` → `[B, N, D]` and how to undo it. */
export function toTokens(latent: Tensor): [Tensor, TokenLayout] {
  const shape = latent.shape;
  if (shape.length === 4) return [latent.flatten(2).transpose(1, 2), { spatial: true, shape }];
  if (shape.length === 3) return [latent, { spatial: false, shape }];
  throw new Error(`expected a latent of shape [B, D, H, W] or [B, N, D], got [${shape}]`);
}

/** `[B, N, D]` → the layout `toTokens` was given. */
export function fromTokens(tokens: Tensor, layout: TokenLayout): Tensor {
  if (!layout.spatial) return tokens;
  const [B, D, H, W] = layout.shape as [number, number, number, number];
  return tokens.transpose(1, 2).reshape(B, D, H, W);
}

/** Token ids `[B, N]` in the latent's grid shape (`[B, H, W]` for feature maps). */
export const idsInLayout = (ids: Tensor, layout: TokenLayout): Tensor =>
  layout.spatial ? ids.reshape(layout.shape[0]!, layout.shape[2]!, layout.shape[3]!) : ids;

// Part of the tokenizer's surface; defined beside the δ nearest codes, which metrics/ needs below the tokenizer.
export { l2Normalize } from '../metrics/index.js';
