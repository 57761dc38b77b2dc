// Rotary position embeddings (Su et al., 2021, "RoFormer"): each consecutive
// pair (x₂ᵢ, x₂ᵢ₊₁) of a query or key is rotated by an angle proportional to
// its position, so q·k depends on the positions only through their
// difference. The angles come from the caller (a 1-D sequence, or a 2-D grid
// as LlamaGen and RAR use for image tokens), which keeps this file
// layout-free.
import { type Tensor, stack } from '../torch/index.js';

/** cos and sin of the angles, `[L, hd/2]` each, for L consecutive positions. */
export interface Rotary {
  cos: Tensor;
  sin: Tensor;
}

/** Rotates the pairs of `x [B, H, L, hd]` by the angles of `r` (`[L, hd/2]`). */
export function applyRotary(x: Tensor, r: Rotary): Tensor {
  const shape = x.shape;
  const hd = shape[shape.length - 1]!;
  if (hd % 2 !== 0) throw new RangeError(`rotary embedding needs an even head width, got ${hd}`);
  const pairs = x.reshape(...shape.slice(0, -1), hd / 2, 2);
  const even = pairs.select(-1, 0);
  const odd = pairs.select(-1, 1);
  return stack([even.mul(r.cos).sub(odd.mul(r.sin)), even.mul(r.sin).add(odd.mul(r.cos))], -1).reshape(...shape);
}
