// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (1.13).
import { type Tensor, noGrad, stack, tensor, tidy } from '../torch/index.js';

/**
 * Scales every gradient in place by min(1, maxNorm / (total + 1e-6)), where
 * `total` is the norm of all gradients together (the norm of the per-tensor
 * norms; for normType Infinity, the largest |g|). Parameters without a
 * gradient are skipped. Returns `total` (before clipping) as a one-element
 * tensor, like PyTorch, so no device sync happens unless the caller reads it
 * (`.item()` to log it). The scaling is applied even when the coefficient is
 * 1, which keeps the branch off the device, as PyTorch does.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number, normType = 2): Tensor {
  if (!(typeof maxNorm === 'number' && maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be a number ≥ 0, got ${maxNorm}`);
  if (!(typeof normType === 'number' && normType > 0)) throw new RangeError(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  return noGrad(() => tidy(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return tensor(0, { device: params[0]?.device });
    const total = normType === Infinity
      ? stack(grads.map((g) => g.abs().max())).max()
      : stack(grads.map((g) => g.norm(normType))).norm(normType);
    // PyTorch's `max_norm / (total + 1e-6)` is computed as reciprocal × max_norm.
    const coefficient = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
    for (const g of grads) g.mul_(coefficient);
    return total;
  }));
}
