// The usual "no weight decay on norms and biases" split (GPT-2/nanoGPT,
// timm's param_groups_weight_decay, MAE/ViT recipes): decay shrinks the
// matrices and kernels that carry a model's capacity, while biases and the
// gains of LayerNorm/GroupNorm set scales and offsets that decay would only
// pull toward zero (a norm gain decayed to zero switches its channel off).
import type { Tensor } from '../torch/index.js';

/**
 * Two groups for an optimizer: `[{params: decayed, weightDecay}, {params:
 * rest, weightDecay: 0}]`. The rule is by shape only: tensors with ndim ≥ 2
 * (linear and conv weights, embeddings, codebooks) decay; tensors with
 * ndim < 2 (biases, norm gains, scalars) do not. Frozen tensors
 * (requiresGrad false) are left out, as they have no gradient to step on.
 * Both groups are always returned (one may be empty), so group indices —
 * and a checkpoint's optimizer layout — do not depend on the model.
 */
export function decayGroups(namedParams: [string, Tensor][], weightDecay: number): { params: Tensor[]; weightDecay: number }[] {
  if (!(typeof weightDecay === 'number' && weightDecay >= 0)) throw new RangeError(`decayGroups: weightDecay must be a number ≥ 0, got ${weightDecay}`);
  const trainable = namedParams.filter(([, t]) => t.requiresGrad);
  return [
    { params: trainable.filter(([, t]) => t.ndim >= 2).map(([, t]) => t), weightDecay },
    { params: trainable.filter(([, t]) => t.ndim < 2).map(([, t]) => t), weightDecay: 0 },
  ];
}
