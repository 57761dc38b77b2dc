// Parameter initialisation, with PyTorch's formulas so that a model built
// here draws from the same distributions as its PyTorch twin.
import { type Tensor, noGrad, tensor, tidy, uniform_ } from '../torch/index.js';

/** (fan_in, fan_out) as torch.nn.init computes them: dims 1 and 0 times the receptive field. */
export function fans(t: Tensor): [number, number] {
  const shape = t.shape;
  if (shape.length < 2) throw new Error(`fan in/out need at least 2 dims, got shape [${shape}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

/** U(−bound, bound) in place. */
export const uniformBound_ = (t: Tensor, bound: number): Tensor => noGrad(() => uniform_(t, -bound, bound));

/**
 * PyTorch's default for Linear and Conv weights: kaiming_uniform_ with
 * a = √5, which works out to U(−1/√fan_in, 1/√fan_in).
 */
export const defaultWeight_ = (t: Tensor): Tensor => uniformBound_(t, 1 / Math.sqrt(fans(t)[0]));
/** PyTorch's default bias of a layer whose weight has this fan_in. */
export const defaultBias_ = (t: Tensor, fanIn: number): Tensor => uniformBound_(t, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0);

/** Glorot & Bengio (2010): U(±gain·√(6/(fan_in+fan_out))). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = fans(t);
  return uniformBound_(t, gain * Math.sqrt(6 / (fanIn + fanOut)));
}

/**
 * N(mean, std²) truncated to [a, b], by PyTorch's inverse-CDF method (same
 * draws for the same seed): the ViT/transformer default with std 0.02.
 */
export function truncNormal_(t: Tensor, std = 1, mean = 0, a = -2, b = 2): Tensor {
  const cdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const low = cdf((a - mean) / std);
  const high = cdf((b - mean) / std);
  return noGrad(() => {
    uniform_(t, 2 * low - 1, 2 * high - 1);
    const values = t.erfinv();
    t.copy_(values.mul_(std * Math.SQRT2).add_(mean).clamp_(a, b));
    values.dispose();
    return t;
  });
}

export const zeros_ = (t: Tensor): Tensor => noGrad(() => t.zero_());
export const ones_ = (t: Tensor): Tensor => noGrad(() => t.fill_(1));

/** libm's erf through libtorch, in float64 (what Python's math.erf gives). */
function erf(x: number): number {
  return tidy(() => tensor([x], { dtype: 'float64' }).erf().item());
}
