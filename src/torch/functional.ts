// Neural-network functions, as torch.nn.functional. Image tensors are
// `[B, C, H, W]`; sequences `[B, N, D]`.
import { native as N } from './native.js';
import { Tensor, wrap } from './tensor.js';

type Pair = number | [number, number];
export type Reduction = 'mean' | 'sum' | 'none';
const h = (t: Tensor | null | undefined): unknown => (t == null ? null : t.handle);

/** `x·Wᵀ + b`: x `[..., in]`, weight `[out, in]`, bias `[out]`. */
export const linear = (x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor => wrap(N.linear(x.handle, weight.handle, h(bias)));

export interface ConvOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
/** x `[B, Cin, H, W]`, weight `[Cout, Cin/groups, kH, kW]`. */
export const conv2d = (x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor =>
  wrap(N.conv2d(x.handle, weight.handle, h(bias), o.stride, o.padding, o.dilation, o.groups));
/** x `[B, Cin, H, W]`, weight `[Cin, Cout/groups, kH, kW]`. */
export const convTranspose2d = (x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions & { outputPadding?: Pair } = {}): Tensor =>
  wrap(N.convTranspose2d(x.handle, weight.handle, h(bias), o.stride, o.padding, o.outputPadding, o.groups, o.dilation));

export const groupNorm = (x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor =>
  wrap(N.groupNorm(x.handle, numGroups, h(weight), h(bias), eps));
export const layerNorm = (x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor =>
  wrap(N.layerNorm(x.handle, normalizedShape, h(weight), h(bias), eps));
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** Updates the running statistics in place when training. */
export const batchNorm = (x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions = {}): Tensor =>
  wrap(N.batchNorm(x.handle, h(runningMean), h(runningVar), h(o.weight), h(o.bias), o.training ?? false, o.momentum ?? 0.1, o.eps ?? 1e-5));
/**
 * Rows of `weight [K, D]` at integer `indices`. `paddingIdx` (negative counts
 * from the end, as in PyTorch) names a row that receives no gradient.
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor {
  let pad = -1;
  if (paddingIdx !== null) {
    const rows = weight.size(0);
    if (!Number.isInteger(paddingIdx) || paddingIdx >= rows || paddingIdx < -rows) {
      throw new RangeError(`paddingIdx ${paddingIdx} is outside the ${rows} embeddings`);
    }
    pad = paddingIdx < 0 ? rows + paddingIdx : paddingIdx;
  }
  return wrap(N.embedding(weight.handle, indices.handle, pad));
}
export const dropout = (x: Tensor, p = 0.5, training = true): Tensor => wrap(N.dropout(x.handle, p, training));

export const relu = (x: Tensor): Tensor => x.relu();
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => wrap(N.leakyRelu(x.handle, negativeSlope));
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => wrap(N.gelu(x.handle, approximate));
export const silu = (x: Tensor): Tensor => wrap(N.silu(x.handle));
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => wrap(N.softplus(x.handle, beta, threshold));
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);
export const oneHot = (indices: Tensor, numClasses = -1): Tensor => wrap(N.oneHot(indices.handle, numClasses));

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}
/** logits `[B, C]` (or `[B, C, ...]`), target class indices `[B]` (int64) or probabilities. */
export const crossEntropy = (logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor =>
  wrap(N.crossEntropy(logits.handle, target.handle, h(o.weight), o.reduction, o.ignoreIndex ?? -100, o.labelSmoothing ?? 0));
export const mseLoss = (input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor =>
  wrap(N.mseLoss(input.handle, target.handle, reduction));
export const l1Loss = (input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor =>
  wrap(N.l1Loss(input.handle, target.handle, reduction));
export interface BceOptions {
  weight?: Tensor | null;
  posWeight?: Tensor | null;
  reduction?: Reduction;
}
export const binaryCrossEntropyWithLogits = (logits: Tensor, target: Tensor, o: BceOptions = {}): Tensor =>
  wrap(N.bceWithLogits(logits.handle, target.handle, h(o.weight), h(o.posWeight), o.reduction));

export interface InterpolateOptions {
  size?: Pair;
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear' | 'bicubic';
  alignCorners?: boolean;
  /** Anti-aliased down-sampling (bilinear and bicubic), as PIL. */
  antialias?: boolean;
}
/** Resizes `[B, C, H, W]`, as F.interpolate. */
export const interpolate = (x: Tensor, o: InterpolateOptions): Tensor =>
  wrap(N.interpolate(x.handle, o.size, o.scaleFactor, o.mode ?? 'nearest', o.alignCorners ?? false, o.antialias ?? false));
export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
export const avgPool2d = (x: Tensor, kernelSize: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor =>
  wrap(N.avgPool2d(x.handle, kernelSize, o.stride, o.padding, o.ceilMode ?? false, o.countIncludePad ?? true));
export const maxPool2d = (x: Tensor, kernelSize: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor =>
  wrap(N.maxPool2d(x.handle, kernelSize, o.stride, o.padding, o.dilation, o.ceilMode ?? false));
export const adaptiveAvgPool2d = (x: Tensor, outputSize: Pair): Tensor => wrap(N.adaptiveAvgPool2d(x.handle, outputSize));
/** pads = [left, right, top, bottom, ...] from the last dim backwards, as F.pad. */
export const pad = (x: Tensor, pads: number[], mode: 'constant' | 'reflect' | 'replicate' | 'circular' = 'constant', value?: number): Tensor =>
  wrap(N.pad(x.handle, pads, mode, value));
export const pixelShuffle = (x: Tensor, upscaleFactor: number): Tensor => wrap(N.pixelShuffle(x.handle, upscaleFactor));
export const pixelUnshuffle = (x: Tensor, downscaleFactor: number): Tensor => wrap(N.pixelUnshuffle(x.handle, downscaleFactor));

export interface AttentionOptions {
  /** Boolean (true = may attend) or additive float mask, broadcast to `[..., L, S]`. */
  attnMask?: Tensor | null;
  dropoutP?: number;
  isCausal?: boolean;
  /** Default 1/√E. */
  scale?: number;
}
/** softmax(q·kᵀ·scale + mask)·v for q `[..., L, E]`, k `[..., S, E]`, v `[..., S, Ev]`. */
export const scaledDotProductAttention = (q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor =>
  wrap(N.scaledDotProductAttention(q.handle, k.handle, v.handle, h(o.attnMask), o.dropoutP ?? 0, o.isCausal ?? false, o.scale));
