// The Tensor class: a libtorch tensor seen from TypeScript, with PyTorch's
// method names. Every method returns a new Tensor (tracked by the open
// scope, see scope.ts) except the ones ending in `_`, which work in place.
import { type DType, dtypeCode, dtypeName, isDType, type TypedArray, typedArrayFor } from './dtype.js';
import { type Handle, native as N } from './native.js';
import { aroundBackward } from './backward_hooks.js';
import { profile } from './phase_profile.js';
import { escape, inScope, setTensorCheck, track, untrackNewest } from './scope.js';

/**
 * A 4-d tensor's memory layout: 'contiguous' is PyTorch's default NCHW;
 * 'channels_last' keeps the channels of a pixel together (NHWC strides, same
 * shape), the layout oneDNN's convolutions run fastest on.
 */
export type MemoryFormat = 'contiguous' | 'channels_last';

export type Device = 'cpu' | 'cuda' | `cuda:${number}` | string;
/** A tensor or a plain number / boolean, broadcast as in PyTorch. */
export type TensorLike = Tensor | number | boolean;
type Dims = number | number[];
/** Nested JS arrays, as `Tensor.tolist()` returns them. */
export type NestedArray = number | boolean | NestedArray[];

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

/** @internal The native handle of an operand (tensor or number). */
export function operand(value: TensorLike, what = 'operand'): Handle | number | boolean {
  if (value instanceof Tensor) return value.handle;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  throw new TypeError(`${what}: expected a Tensor, number or boolean, got ${describe(value)}`);
}

/** @internal */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** @internal Wraps a fresh native handle (or null) in a tracked Tensor. */
export function wrap(handle: Handle): Tensor;
export function wrap(handle: Handle | null): Tensor | null;
export function wrap(handle: Handle | null): Tensor | null {
  if (handle === null) return null;
  const tensor = new Tensor(handle);
  track(tensor);
  return tensor;
}
/** @internal */
export const wrapAll = (handles: Handle[]): Tensor[] => handles.map((h) => wrap(h));

export class Tensor {
  /** @internal */
  readonly handle: Handle;
  // Both fields stay unset on most tensors: creating a tensor is on the
  // hot path of every op (see bench/engine's per-op overhead).
  /** Set by `keep()`: scopes leave this tensor alive. */
  declare kept?: boolean;
  declare private cachedShape?: number[];

  /** @internal Use the creation functions (`tensor`, `zeros`, ...). */
  constructor(handle: Handle) {
    this.handle = handle;
  }

  // ---- life cycle ------------------------------------------------------------

  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    N.dispose(this.handle);
    untrackNewest(this);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  get isDisposed(): boolean {
    return N.isDisposed(this.handle);
  }
  /** Exempts this tensor from every scope; the caller disposes it (or, failing that, the GC). */
  keep(): this {
    if (!this.kept && inScope()) escape(this);
    this.kept = true;
    return this;
  }

  // ---- metadata ----------------------------------------------------------------

  /** The sizes, e.g. `[B, C, H, W]`. */
  get shape(): number[] {
    // No exposed op changes a tensor's shape in place, so it can be cached.
    this.cachedShape ??= N.shape(this.handle) as number[];
    return this.cachedShape.slice();
  }
  size(dim: number): number {
    const shape = this.shape;
    const d = dim < 0 ? dim + shape.length : dim;
    if (d < 0 || d >= shape.length) throw new RangeError(`dim ${dim} out of range for a ${shape.length}-d tensor`);
    return shape[d]!;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return dtypeName(N.dtype(this.handle));
  }
  get device(): string {
    return N.device(this.handle);
  }
  /** Whether the strides are those of `format` (row-major by default; 'channels_last' is NHWC for `[B, C, H, W]`). */
  isContiguous(format: MemoryFormat = 'contiguous'): boolean {
    return N.isContiguous(this.handle, format);
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- reading values ------------------------------------------------------------

  /** A copy of the values, flat, in a typed array of the dtype (half floats as float32). */
  toTypedArray(): TypedArray {
    const dtype = this.dtype;
    if (dtype === 'float16' || dtype === 'bfloat16') {
      const asFloat = this.to('float32');
      try {
        return asFloat.toTypedArray();
      } finally {
        asFloat.dispose();
      }
    }
    return typedArrayFor(dtype, N.toArrayBuffer(this.handle));
  }
  /** The values as nested arrays of numbers (booleans for bool tensors). */
  tolist(): NestedArray {
    const flat = this.toTypedArray();
    const isBool = this.dtype === 'bool';
    const value = (i: number): number | boolean => (isBool ? flat[i] !== 0 : Number(flat[i]));
    const shape = this.shape;
    let offset = 0;
    const build = (dim: number): NestedArray => {
      if (dim === shape.length) return value(offset++);
      return Array.from({ length: shape[dim]! }, () => build(dim + 1));
    };
    return build(0);
  }
  /** The value of a one-element tensor. */
  item(): number {
    // Each read waits for the value: on a GPU a sync, so --profile counts them.
    profile.count('host reads (item)');
    return Number(N.item(this.handle));
  }

  // ---- conversion -----------------------------------------------------------------

  /** A copy on another device and/or dtype: `to('cuda')`, `to('float64')`, `to({device, dtype})`. */
  to(target: DType | Device | { dtype?: DType; device?: Device }): Tensor {
    const spec = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    return wrap(N.to(this.handle, spec.dtype === undefined ? null : dtypeCode(spec.dtype), spec.device ?? null));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return wrap(N.clone(this.handle));
  }
  /** The same values laid out in `format` (this tensor itself when they already are). */
  contiguous(format: MemoryFormat = 'contiguous'): Tensor {
    return wrap(N.contiguous(this.handle, format));
  }

  // ---- autograd ----------------------------------------------------------------------

  get requiresGrad(): boolean {
    return N.requiresGrad(this.handle);
  }
  requiresGrad_(requires = true): this {
    N.setRequiresGrad(this.handle, requires);
    return this;
  }
  get isLeaf(): boolean {
    return N.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new Tensor aliasing it, tracked by the scope), or null. */
  get grad(): Tensor | null {
    return wrap(N.grad(this.handle));
  }
  set grad(value: Tensor | null) {
    N.setGrad(this.handle, value === null ? null : value.handle);
  }
  /** The version of `.grad` (each in-place accumulation bumps it), or -1 without a gradient. */
  get gradVersion(): number {
    return N.gradVersion(this.handle) as number;
  }
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    aroundBackward(() => N.backward(this.handle, gradient?.handle ?? null, options.retainGraph ?? null, options.createGraph ?? false));
  }
  detach(): Tensor {
    return wrap(N.detach(this.handle));
  }
  /**
   * Takes `source`'s values, dtype and device while staying the same tensor
   * (PyTorch's `t.data = source`): optimizers holding it keep working.
   */
  setData_(source: Tensor): this {
    N.setData(this.handle, source.handle);
    this.cachedShape = undefined;
    return this;
  }

  // ---- elementwise math ---------------------------------------------------------------

  add(other: TensorLike, alpha?: number): Tensor {
    // Two arguments when there is no alpha: each one the addon inspects costs time on the hottest op.
    return wrap(alpha === undefined ? N.add(this.handle, operand(other)) : N.add(this.handle, operand(other), alpha));
  }
  sub(other: TensorLike, alpha?: number): Tensor { return wrap(N.sub(this.handle, operand(other), alpha)); }
  mul(other: TensorLike): Tensor { return wrap(N.mul(this.handle, operand(other))); }
  /** True division; `roundingMode` 'trunc' or 'floor' as in PyTorch. */
  div(other: TensorLike, roundingMode?: 'trunc' | 'floor'): Tensor { return wrap(N.div(this.handle, operand(other), roundingMode)); }
  pow(exponent: TensorLike): Tensor { return wrap(N.pow(this.handle, operand(exponent))); }
  remainder(other: TensorLike): Tensor { return wrap(N.remainder(this.handle, operand(other))); }
  minimum(other: Tensor): Tensor { return wrap(N.minimum(this.handle, other.handle)); }
  maximum(other: Tensor): Tensor { return wrap(N.maximum(this.handle, other.handle)); }
  clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor {
    return wrap(N.clamp(this.handle, min == null ? null : operand(min), max == null ? null : operand(max)));
  }
  neg(): Tensor { return wrap(N.neg(this.handle)); }
  abs(): Tensor { return wrap(N.abs(this.handle)); }
  exp(): Tensor { return wrap(N.exp(this.handle)); }
  log(): Tensor { return wrap(N.log(this.handle)); }
  log1p(): Tensor { return wrap(N.log1p(this.handle)); }
  expm1(): Tensor { return wrap(N.expm1(this.handle)); }
  sqrt(): Tensor { return wrap(N.sqrt(this.handle)); }
  rsqrt(): Tensor { return wrap(N.rsqrt(this.handle)); }
  sin(): Tensor { return wrap(N.sin(this.handle)); }
  cos(): Tensor { return wrap(N.cos(this.handle)); }
  floor(): Tensor { return wrap(N.floor(this.handle)); }
  ceil(): Tensor { return wrap(N.ceil(this.handle)); }
  round(): Tensor { return wrap(N.round(this.handle)); }
  sign(): Tensor { return wrap(N.sign(this.handle)); }
  reciprocal(): Tensor { return wrap(N.reciprocal(this.handle)); }
  square(): Tensor { return wrap(N.square(this.handle)); }
  erf(): Tensor { return wrap(N.erf(this.handle)); }
  erfinv(): Tensor { return wrap(N.erfinv(this.handle)); }
  isnan(): Tensor { return wrap(N.isnan(this.handle)); }
  isfinite(): Tensor { return wrap(N.isfinite(this.handle)); }
  relu(): Tensor { return wrap(N.relu(this.handle)); }
  sigmoid(): Tensor { return wrap(N.sigmoid(this.handle)); }
  tanh(): Tensor { return wrap(N.tanh(this.handle)); }
  softmax(dim: number): Tensor { return wrap(N.softmax(this.handle, dim)); }
  logSoftmax(dim: number): Tensor { return wrap(N.logSoftmax(this.handle, dim)); }

  // ---- comparison and logic ------------------------------------------------------------

  eq(other: TensorLike): Tensor { return wrap(N.eq(this.handle, operand(other))); }
  ne(other: TensorLike): Tensor { return wrap(N.ne(this.handle, operand(other))); }
  lt(other: TensorLike): Tensor { return wrap(N.lt(this.handle, operand(other))); }
  le(other: TensorLike): Tensor { return wrap(N.le(this.handle, operand(other))); }
  gt(other: TensorLike): Tensor { return wrap(N.gt(this.handle, operand(other))); }
  ge(other: TensorLike): Tensor { return wrap(N.ge(this.handle, operand(other))); }
  logicalAnd(other: Tensor): Tensor { return wrap(N.logicalAnd(this.handle, other.handle)); }
  logicalOr(other: Tensor): Tensor { return wrap(N.logicalOr(this.handle, other.handle)); }
  logicalXor(other: Tensor): Tensor { return wrap(N.logicalXor(this.handle, other.handle)); }
  logicalNot(): Tensor { return wrap(N.logicalNot(this.handle)); }

  // ---- in place (optimizers, EMA, initialisation) -------------------------------------------

  add_(other: TensorLike, alpha?: number): this { N.add_(this.handle, operand(other), alpha); return this; }
  sub_(other: TensorLike, alpha = 1): this { N.add_(this.handle, operand(other), -alpha); return this; }
  mul_(other: TensorLike): this { N.mul_(this.handle, operand(other)); return this; }
  div_(other: TensorLike): this { N.div_(this.handle, operand(other)); return this; }
  /** this += value · t1 · t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { N.addcmul_(this.handle, t1.handle, t2.handle, value); return this; }
  /** this += value · t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { N.addcdiv_(this.handle, t1.handle, t2.handle, value); return this; }
  /** this += weight · (end − this) */
  lerp_(end: Tensor, weight: TensorLike): this { N.lerp_(this.handle, end.handle, operand(weight)); return this; }
  sqrt_(): this { N.sqrt_(this.handle); return this; }
  clamp_(min?: number | null, max?: number | null): this { N.clamp_(this.handle, min ?? null, max ?? null); return this; }
  copy_(source: Tensor): this { N.copy_(this.handle, source.handle); return this; }
  fill_(value: number | boolean): this { N.fill_(this.handle, value); return this; }
  zero_(): this { N.zero_(this.handle); return this; }

  // ---- reductions (absent dims reduce everything) -------------------------------------------

  sum(dim?: Dims | null, keepdim = false, dtype?: DType): Tensor { return wrap(N.sum(this.handle, dim, keepdim, dtype && dtypeCode(dtype))); }
  mean(dim?: Dims | null, keepdim = false, dtype?: DType): Tensor { return wrap(N.mean(this.handle, dim, keepdim, dtype && dtypeCode(dtype))); }
  prod(dim?: number | null, keepdim = false): Tensor { return wrap(N.prod(this.handle, dim, keepdim)); }
  /** Variance; `unbiased` (Bessel's correction) as in PyTorch's default. */
  var(dim?: Dims | null, keepdim = false, unbiased = true): Tensor { return wrap(N.var(this.handle, dim, keepdim, unbiased)); }
  std(dim?: Dims | null, keepdim = false, unbiased = true): Tensor { return wrap(N.std(this.handle, dim, keepdim, unbiased)); }
  /** Over everything: the smallest value. Along `dim`: `[values, indices]`. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    return dim === undefined ? wrap(N.min(this.handle)) : (wrapAll(N.min(this.handle, dim, keepdim)) as [Tensor, Tensor]);
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    return dim === undefined ? wrap(N.max(this.handle)) : (wrapAll(N.max(this.handle, dim, keepdim)) as [Tensor, Tensor]);
  }
  amin(dim: Dims, keepdim = false): Tensor { return wrap(N.amin(this.handle, dim, keepdim)); }
  amax(dim: Dims, keepdim = false): Tensor { return wrap(N.amax(this.handle, dim, keepdim)); }
  argmin(dim?: number | null, keepdim = false): Tensor { return wrap(N.argmin(this.handle, dim, keepdim)); }
  argmax(dim?: number | null, keepdim = false): Tensor { return wrap(N.argmax(this.handle, dim, keepdim)); }
  logsumexp(dim: Dims, keepdim = false): Tensor { return wrap(N.logsumexp(this.handle, dim, keepdim)); }
  /** Vector p-norm over `dim` (everything when absent); p may be ±Infinity. */
  norm(p = 2, dim?: Dims | null, keepdim = false): Tensor { return wrap(N.norm(this.handle, p, dim, keepdim)); }
  all(dim?: number | null, keepdim = false): Tensor { return wrap(N.all(this.handle, dim, keepdim)); }
  any(dim?: number | null, keepdim = false): Tensor { return wrap(N.any(this.handle, dim, keepdim)); }
  cumsum(dim: number, dtype?: DType): Tensor { return wrap(N.cumsum(this.handle, dim, dtype && dtypeCode(dtype))); }
  /** `[values, indices]` of the k largest (or smallest) along `dim`. */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    return wrapAll(N.topk(this.handle, k, dim, largest, sorted)) as [Tensor, Tensor];
  }
  sort(dim = -1, descending = false, stable = false): [Tensor, Tensor] {
    return wrapAll(N.sort(this.handle, dim, descending, stable)) as [Tensor, Tensor];
  }
  argsort(dim = -1, descending = false): Tensor { return wrap(N.argsort(this.handle, dim, descending)); }

  // ---- products --------------------------------------------------------------------------

  matmul(other: Tensor): Tensor { return wrap(N.matmul(this.handle, other.handle)); }
  bmm(other: Tensor): Tensor { return wrap(N.bmm(this.handle, other.handle)); }

  // ---- shape and views ------------------------------------------------------------------

  reshape(...shape: number[] | [number[]]): Tensor { return wrap(N.reshape(this.handle, flatArgs(shape))); }
  view(...shape: number[] | [number[]]): Tensor { return wrap(N.view(this.handle, flatArgs(shape))); }
  permute(...dims: number[] | [number[]]): Tensor { return wrap(N.permute(this.handle, flatArgs(dims))); }
  transpose(dim0: number, dim1: number): Tensor { return wrap(N.transpose(this.handle, dim0, dim1)); }
  /** All dims reversed, as PyTorch's `x.T` (the matrix transpose for 2-d). */
  get T(): Tensor { return this.permute(this.shape.map((_, i, all) => all.length - 1 - i)); }
  flatten(startDim = 0, endDim = -1): Tensor { return wrap(N.flatten(this.handle, startDim, endDim)); }
  squeeze(dim?: number): Tensor { return wrap(N.squeeze(this.handle, dim)); }
  unsqueeze(dim: number): Tensor { return wrap(N.unsqueeze(this.handle, dim)); }
  expand(...shape: number[] | [number[]]): Tensor { return wrap(N.expand(this.handle, flatArgs(shape))); }
  repeat(...repeats: number[] | [number[]]): Tensor { return wrap(N.repeat(this.handle, flatArgs(repeats))); }
  repeatInterleave(repeats: number, dim?: number): Tensor { return wrap(N.repeatInterleave(this.handle, repeats, dim)); }
  /** Equal chunks of `size` along `dim`, or chunks of the given sizes. */
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] { return wrapAll(N.split(this.handle, sizeOrSizes, dim)); }
  chunk(chunks: number, dim = 0): Tensor[] { return wrapAll(N.chunk(this.handle, chunks, dim)); }
  narrow(dim: number, start: number, length: number): Tensor { return wrap(N.narrow(this.handle, dim, start, length)); }
  /** Python's `x[..., start:end:step]` along `dim` (null = open end). */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return wrap(N.slice(this.handle, dim, start, end, step));
  }
  /** Python's `x[..., index]` along `dim` (the dim disappears). */
  select(dim: number, index: number): Tensor { return wrap(N.select(this.handle, dim, index)); }
  indexSelect(dim: number, index: Tensor): Tensor { return wrap(N.indexSelect(this.handle, dim, index.handle)); }
  gather(dim: number, index: Tensor): Tensor { return wrap(N.gather(this.handle, dim, index.handle)); }
  scatter(dim: number, index: Tensor, src: TensorLike, reduce?: 'add' | 'multiply'): Tensor {
    return wrap(N.scatter(this.handle, dim, index.handle, operand(src), reduce));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return wrap(N.scatterAdd(this.handle, dim, index.handle, src.handle)); }
  maskedFill(mask: Tensor, value: TensorLike): Tensor { return wrap(N.maskedFill(this.handle, mask.handle, operand(value))); }
  maskedSelect(mask: Tensor): Tensor { return wrap(N.maskedSelect(this.handle, mask.handle)); }
  nonzero(): Tensor { return wrap(N.nonzero(this.handle)); }
  tril(diagonal = 0): Tensor { return wrap(N.tril(this.handle, diagonal)); }
  triu(diagonal = 0): Tensor { return wrap(N.triu(this.handle, diagonal)); }
  flip(dims: Dims): Tensor { return wrap(N.flip(this.handle, dims)); }
  roll(shifts: Dims, dims?: Dims): Tensor { return wrap(N.roll(this.handle, shifts, dims)); }
  /** Advanced indexing `x[i0, i1, ...]` with index tensors (null = `:`). */
  index(indices: (Tensor | null)[]): Tensor {
    if (indices.length === 0) return this.reshape(this.shape);  // x[()] is x itself
    return wrap(N.index(this.handle, indices.map((t) => t?.handle ?? null)));
  }
  /** `x[i0, i1, ...] = values` (or `+=` with accumulate), in place. */
  indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate = false): this {
    if (indices.length === 0) return accumulate ? this.add_(values) : this.copy_(values);
    N.indexPut_(this.handle, indices.map((t) => t?.handle ?? null), values.handle, accumulate);
    return this;
  }
}

setTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);

/** Accepts both `reshape(2, 3)` and `reshape([2, 3])`. */
function flatArgs(args: number[] | [number[]]): number[] {
  return Array.isArray(args[0]) ? args[0] : (args as number[]);
}
