// The layers the Keras interpreter (keras_graph.ts) knows, each mapped to
// robustok ops on `[B, C, H, W]` values, with the weights moved once from
// Keras's layouts: a Conv2D kernel `[kh, kw, in, out]` becomes
// `[out, in, kh, kw]`, a DepthwiseConv2D kernel `[kh, kw, in, multiplier]` a
// grouped convolution's `[in·multiplier, 1, kh, kw]`, a Dense kernel
// `[in, out]` a linear layer's `[out, in]`. Where TF and PyTorch disagree
// ('same' padding, pooling over padding) TF's rule is reproduced, since the
// weights were trained under it.
import { F, type Tensor, cat, ones, where } from '../torch/index.js';

/** One entry of `model_config.config.layers`. */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** Keras 2: one list per call of the layer, each input `[layerName, nodeIndex, tensorIndex, kwargs]`. */
  inbound_nodes: unknown[];
}

/** A convolution in PyTorch's terms, kept apart so that a BatchNormalization after it can be folded in. */
export interface ConvSpec {
  weight: Tensor;  // [out, in / groups, kh, kw]
  bias: Tensor | null;
  stride: [number, number];
  dilation: [number, number];
  groups: number;
  same: boolean;
}

/** A layer ready to run: `forward` then `activation` (kept apart so callers can read pre-activation values). */
export interface LayerNode {
  name: string;
  type: string;
  inputs: string[];
  /** The layer's computation up to, not including, its `activation` option. */
  forward: (xs: Tensor[]) => Tensor;
  activation: ((x: Tensor) => Tensor) | null;
  /** Tensors this node holds (freed with the graph). */
  owned: Tensor[];
  conv?: ConvSpec;
  bn?: { mean: Tensor; variance: Tensor; gamma: Tensor | null; beta: Tensor | null; eps: number; axis: number };
  foldedInto?: string;
}

// Keras 2.2.4's activation strings (softmax over the channel axis: dim 1 for `[B, C]` and `[B, C, H, W]`).
const activations: Record<string, ((x: Tensor) => Tensor) | null> = {
  linear: null,
  relu: (x) => x.relu(),
  sigmoid: (x) => x.sigmoid(),
  tanh: (x) => x.tanh(),
  softmax: (x) => x.softmax(1),
  softplus: (x) => F.softplus(x),
  swish: (x) => F.silu(x),
};

/**
 * TF's 'same' padding along one axis of size n: output ⌈n / s⌉, total
 * padding max((⌈n/s⌉ − 1)·s + (k − 1)·d + 1 − n, 0), and the odd pixel goes
 * after (bottom/right), unlike PyTorch's symmetric padding.
 */
export function samePadding(n: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const total = Math.max((Math.ceil(n / stride) - 1) * stride + (kernel - 1) * dilation + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** NCHW position of a Keras (NHWC) axis of a rank-`rank` value. */
function nchwAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (rank === 4) return [0, 2, 3, 1][a]!;
  if (rank === 2) return a;
  throw new Error(`Keras axis ${axis} of a rank-${rank} value is not supported (only [B, D] and images)`);
}

export const supportedLayers = ['InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Activation', 'ReLU', 'ZeroPadding2D',
  'MaxPooling2D', 'AveragePooling2D', 'Concatenate', 'Add', 'Flatten', 'Dense', 'Dropout', 'GlobalAveragePooling2D',
  'GlobalMaxPooling2D', 'SpatialDropout2D'];

function inboundNames(layer: KerasLayer): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes)) throw new Error(`Keras layer ${layer.name}: inbound_nodes is not a list (a Keras 3 file? only Keras 2's format is read)`);
  if (nodes.length === 0) return [];
  if (nodes.length > 1) throw new Error(`Keras layer ${layer.name} is called ${nodes.length} times (a shared layer), which is not supported`);
  const call = nodes[0];
  if (!Array.isArray(call)) throw new Error(`Keras layer ${layer.name}: unreadable inbound node ${JSON.stringify(call)}`);
  return call.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new Error(`Keras layer ${layer.name}: unreadable input ${JSON.stringify(entry)}`);
    if (entry[1] !== 0 || entry[2] !== 0) {
      throw new Error(`Keras layer ${layer.name} reads call ${entry[1]} / output ${entry[2]} of ${entry[0]}; only single-call, single-output layers are supported`);
    }
    return entry[0];
  });
}

/**
 * One layer as a node of the graph: its inputs' names, its computation, and
 * its weights in robustok's layouts. `weight(key)` returns the Keras weight
 * `layerName/key` (throwing when it is missing); `kept(t)` stores a tensor
 * for the graph's lifetime.
 */
export function buildNode(layer: KerasLayer, weight: (key: string) => Tensor, kept: (t: Tensor) => Tensor): LayerNode {
  if (typeof layer?.name !== 'string' || typeof layer.class_name !== 'string') {
    throw new Error(`Keras topology: a layer without name or class_name: ${JSON.stringify(layer).slice(0, 200)}`);
  }
  const c = layer.config ?? {};
  const label = `Keras layer ${layer.name} (${layer.class_name})`;
  const fail = (problem: string): never => {
    throw new Error(`${label}: ${problem}`);
  };
  const pair = (key: string, fallback?: [number, number]): [number, number] => {
    const v = c[key] ?? fallback;
    if (typeof v === 'number') return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return v as [number, number];
    return fail(`${key} must be an integer or a pair of integers, got ${JSON.stringify(v)}`);
  };
  const padding = (): boolean => {
    if (c.padding !== 'same' && c.padding !== 'valid') fail(`padding '${String(c.padding)}' is not supported (only 'same' and 'valid')`);
    return c.padding === 'same';
  };
  const activation = (): ((x: Tensor) => Tensor) | null => {
    const name = String(c.activation ?? 'linear');
    if (!Object.hasOwn(activations, name)) fail(`activation '${name}' is not supported (supported: ${Object.keys(activations).join(', ')})`);
    return activations[name]!;
  };
  if (c.data_format !== undefined && c.data_format !== 'channels_last') fail(`data_format ${String(c.data_format)} is not supported (only channels_last)`);
  const expectShape = (t: Tensor, shape: (number | null)[], what: string): void => {
    if (t.ndim !== shape.length || shape.some((d, i) => d !== null && d !== t.size(i))) {
      fail(`${what} has shape [${t.shape}], expected [${shape.map((d) => d ?? '·')}]`);
    }
  };
  const base = { name: layer.name, type: layer.class_name, inputs: inboundNames(layer), activation: null, owned: [] as Tensor[] };
  const identity = ([x]: Tensor[]): Tensor => x!.reshape(x!.shape);  // a new handle: each value is freed on its own
  const optionalBias = (units: number): Tensor | null => {
    if (c.use_bias === false) return null;
    const b = weight('bias');
    expectShape(b, [units], 'bias');
    return kept(b);
  };
  const conv = (spec: ConvSpec): LayerNode => ({ ...base, forward: convForward(spec), activation: activation(), conv: spec,
    owned: spec.bias ? [spec.weight, spec.bias] : [spec.weight] });

  switch (layer.class_name) {
    case 'InputLayer':
      return { ...base, forward: () => fail('an InputLayer is not computed') };
    case 'Conv2D': {
      const [kh, kw] = pair('kernel_size');
      const filters = Number(c.filters);
      const groups = Number(c.groups ?? 1);
      const kernel = weight('kernel');  // [kh, kw, in / groups, out]
      expectShape(kernel, [kh, kw, null, filters], 'kernel');
      return conv({ weight: kept(kernel.permute(3, 2, 0, 1)), bias: optionalBias(filters), stride: pair('strides', [1, 1]),
        dilation: pair('dilation_rate', [1, 1]), groups, same: padding() });
    }
    case 'DepthwiseConv2D': {
      const [kh, kw] = pair('kernel_size');
      const kernel = weight('depthwise_kernel');  // [kh, kw, in, multiplier]
      const multiplier = Number(c.depth_multiplier ?? 1);
      expectShape(kernel, [kh, kw, null, multiplier], 'depthwise_kernel');
      const channels = kernel.size(2);
      // TF's output channel i·multiplier + m is input channel i's m-th filter:
      // exactly a grouped convolution with one group per input channel.
      const w = kernel.permute(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw);
      return conv({ weight: kept(w), bias: optionalBias(channels * multiplier), stride: pair('strides', [1, 1]),
        dilation: pair('dilation_rate', [1, 1]), groups: channels, same: padding() });
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(c.axis) && c.axis.length === 1 ? Number(c.axis[0]) : Number(c.axis ?? -1);
      if (!Number.isInteger(axis)) fail(`axis ${JSON.stringify(c.axis)} is not supported (only one axis)`);
      const mean = weight('moving_mean');
      const n = mean.size(0);
      const vector = (key: string): Tensor => {
        const t = weight(key);
        expectShape(t, [n], key);
        return kept(t);
      };
      const bn = { mean: kept(mean), variance: vector('moving_variance'), gamma: c.scale === false ? null : vector('gamma'),
        beta: c.center === false ? null : vector('beta'), eps: Number(c.epsilon ?? 1e-3), axis: nchwAxis(axis, 4) };
      return {
        ...base, bn, owned: [bn.mean, bn.variance, bn.gamma, bn.beta].filter((t): t is Tensor => t !== null),
        forward: ([x]) => {
          if (nchwAxis(axis, x!.ndim) !== 1) fail(`normalising axis ${axis} of a rank-${x!.ndim} value is not supported (only channels)`);
          return F.batchNorm(x!, bn.mean, bn.variance, { weight: bn.gamma, bias: bn.beta, eps: bn.eps, training: false });
        },
      };
    }
    case 'Activation':
      return { ...base, forward: identity, activation: activation() };
    case 'ReLU': {
      const max = c.max_value == null ? null : Number(c.max_value);
      const slope = Number(c.negative_slope ?? 0);
      const threshold = Number(c.threshold ?? 0);
      return {
        ...base, forward: ([x]) => {
          // Keras: x for threshold ≤ x (capped at max_value), slope·(x − threshold) below it.
          const y = slope === 0 && threshold === 0 ? x!.relu() : where(x!.ge(threshold), x!, x!.sub(threshold).mul(slope));
          return max === null ? y : y.clamp(null, max);
        },
      };
    }
    case 'ZeroPadding2D': {
      const p = c.padding;
      const [[top, bottom], [left, right]] = Array.isArray(p) && p.every(Array.isArray)
        ? (p as [[number, number], [number, number]]) : pair('padding').map((v) => [v, v]);
      return { ...base, forward: ([x]) => F.pad(x!, [left!, right!, top!, bottom!]) };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const size = pair('pool_size', [2, 2]);
      const stride = c.strides == null ? size : pair('strides');
      const same = padding();
      const max = layer.class_name === 'MaxPooling2D';
      return { ...base, forward: ([x]) => (max ? maxPool(x!, size, stride, same) : avgPool(x!, size, stride, same)) };
    }
    case 'Concatenate': {
      const axis = Number(c.axis ?? -1);
      return { ...base, forward: (xs) => cat(xs, nchwAxis(axis, xs[0]!.ndim)) };
    }
    case 'Add':
      return { ...base, forward: (xs) => (xs.length === 1 ? identity(xs) : xs.slice(2).reduce((sum, x) => sum.add(x), xs[0]!.add(xs[1]!))) };
    case 'Flatten':
      return { ...base, forward: ([x]) => (x!.ndim === 4 ? x!.permute(0, 2, 3, 1).flatten(1) : x!.flatten(1)) };
    case 'Dense': {
      const units = Number(c.units);
      const kernel = weight('kernel');  // [in, units]
      expectShape(kernel, [null, units], 'kernel');
      const w = kept(kernel.transpose(0, 1));
      const b = optionalBias(units);
      return {
        ...base, activation: activation(), owned: b ? [w, b] : [w],
        forward: ([x]) => {
          if (x!.ndim !== 2) fail(`input [${x!.shape}] is not [B, features] (add a Flatten before it)`);
          return F.linear(x!, w, b);
        },
      };
    }
    case 'Dropout':
    case 'SpatialDropout2D':
      return { ...base, forward: identity };  // inference: no dropout
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const keepdims = c.keepdims === true;
      const mean = layer.class_name === 'GlobalAveragePooling2D';
      return { ...base, forward: ([x]) => (mean ? x!.mean([2, 3], keepdims) : x!.amax([2, 3], keepdims)) };
    }
    default:
      throw new Error(`${label}: layer type ${layer.class_name} is not supported (supported: ${supportedLayers.join(', ')})`);
  }
}

/** Pads `x` for TF's 'same' rule; returns the input to use and the symmetric padding left for the op itself. */
function padSame(x: Tensor, kernel: [number, number], stride: [number, number], dilation: [number, number], value = 0):
  { x: Tensor; padding: [number, number] } {
  const [top, bottom] = samePadding(x.size(2), kernel[0], stride[0], dilation[0]);
  const [left, right] = samePadding(x.size(3), kernel[1], stride[1], dilation[1]);
  if (top === bottom && left === right) return { x, padding: [top, left] };
  return { x: F.pad(x, [left, right, top, bottom], 'constant', value), padding: [0, 0] };
}

export function convForward(s: ConvSpec): (xs: Tensor[]) => Tensor {
  const kernel: [number, number] = [s.weight.size(2), s.weight.size(3)];
  return ([x]) => {
    const p = s.same ? padSame(x!, kernel, s.stride, s.dilation) : { x: x!, padding: [0, 0] as [number, number] };
    return F.conv2d(p.x, s.weight, s.bias, { stride: s.stride, padding: p.padding, dilation: s.dilation, groups: s.groups });
  };
}

/** TF's max pool ignores 'same' padding (−∞ padding does the same; PyTorch's own padding only reaches half the window). */
function maxPool(x: Tensor, size: [number, number], stride: [number, number], same: boolean): Tensor {
  if (!same) return F.maxPool2d(x, size, { stride });
  const p = padSame(x, size, stride, [1, 1], -Infinity);
  const fits = p.padding[0] <= size[0] / 2 && p.padding[1] <= size[1] / 2;
  return fits ? F.maxPool2d(p.x, size, { stride, padding: p.padding })
    : F.maxPool2d(F.pad(p.x, [p.padding[1], p.padding[1], p.padding[0], p.padding[0]], 'constant', -Infinity), size, { stride });
}

/**
 * TF's average pool with 'same' padding divides by the number of real pixels
 * in each window (the padding is not counted): PyTorch's
 * count_include_pad=False when the padding is symmetric, else window sums
 * over zero padding divided by window counts of a ones image padded alike.
 */
function avgPool(x: Tensor, size: [number, number], stride: [number, number], same: boolean): Tensor {
  if (!same) return F.avgPool2d(x, size, { stride });
  const [top, bottom] = samePadding(x.size(2), size[0], stride[0]);
  const [left, right] = samePadding(x.size(3), size[1], stride[1]);
  if (top === bottom && left === right && top <= size[0] / 2 && left <= size[1] / 2) {
    return F.avgPool2d(x, size, { stride, padding: [top, left], countIncludePad: false });
  }
  const pads = [left, right, top, bottom];
  const sums = F.avgPool2d(F.pad(x, pads), size, { stride });
  const counts = F.avgPool2d(F.pad(ones([1, 1, x.size(2), x.size(3)], { dtype: x.dtype, device: x.device }), pads), size, { stride });
  return sums.div(counts);
}
