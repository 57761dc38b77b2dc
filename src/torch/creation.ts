// Creating tensors from JS data and from shapes.
import { type DType, dtypeCode, dtypeOfTypedArray, isFloatingPoint } from './dtype.js';
import { placed } from './device_audit.js';
import { native as N } from './native.js';
import { type Device, type NestedArray, Tensor, describe, wrap } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

/** @internal Native (dtype code, device) arguments of creation options. */
export const dtypeArg = (options: TensorOptions): number | null => (options.dtype === undefined ? null : dtypeCode(options.dtype));

/** @internal Applies `requiresGrad` to a fresh tensor. */
export function finish(t: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad) {
    if (!isFloatingPoint(t.dtype)) throw new TypeError(`only floating-point tensors can require gradients, not ${t.dtype}`);
    t.requiresGrad_(true);
  }
  return t;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as NestedArray;
  }
  return shape;
}

function flattenChecked(data: NestedArray, shape: number[]): (number | boolean)[] {
  const out: (number | boolean)[] = [];
  const visit = (value: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof value !== 'number' && typeof value !== 'boolean') {
        throw new TypeError(`tensor(): element ${path} is ${describe(value)}, expected a number or boolean`);
      }
      out.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[dim]) {
      throw new TypeError(`tensor(): ragged nested array at ${path || 'the top'}: expected length ${shape[dim]}`);
    }
    value.forEach((item, i) => visit(item, dim + 1, `${path}[${i}]`));
  };
  visit(data, 0, '');
  return out;
}

const integerRanges: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], int32: [-(2 ** 31), 2 ** 31 - 1], int64: [-(2 ** 63), 2 ** 63 - 1],
};

/** Numbers as torch.tensor converts them: truncation toward zero for integers (with an overflow check), NaN and non-zero → true for bool. */
function packValues(values: (number | boolean)[], dtype: DType): ArrayBufferView {
  const nums = values.map(Number);
  const range = integerRanges[dtype];
  const integers = (): number[] => nums.map((v) => {
    const t = Math.trunc(v);
    if (!Number.isFinite(v) || t < range![0] || t > range![1]) {
      throw new RangeError(`tensor(): value ${v} cannot be converted to ${dtype} without overflow`);
    }
    return t;
  });
  switch (dtype) {
    case 'float32': return Float32Array.from(nums);
    case 'float64': return Float64Array.from(nums);
    case 'bool': return Uint8Array.from(nums, (v) => (v !== 0 ? 1 : 0));
    case 'int32': return Int32Array.from(integers());
    case 'int16': return Int16Array.from(integers());
    case 'int8': return Int8Array.from(integers());
    case 'uint8': return Uint8Array.from(integers());
    case 'int64': return BigInt64Array.from(integers(), (v) => BigInt(v));
    default: return Float32Array.from(nums);  // float16/bfloat16: converted by libtorch after
  }
}

/**
 * A tensor from nested arrays, a typed array (with `shape`) or a number.
 * Numbers default to float32 (JS cannot tell 1 from 1.0); booleans to bool;
 * typed arrays keep their own type, as torch.from_numpy.
 */
export function tensor(
  data: NestedArray | ArrayBufferView,
  options: TensorOptions & { shape?: number[] } = {},
): Tensor {
  let bytes: ArrayBufferView;
  let shape: number[];
  let storedAs: DType;
  if (ArrayBuffer.isView(data)) {
    storedAs = dtypeOfTypedArray(data);
    bytes = data;
    const count = data.byteLength / (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    shape = options.shape ?? [count];
  } else {
    shape = inferShape(data);
    const values = flattenChecked(data, shape);
    const wanted = options.dtype ?? (values.length > 0 && values.every((v) => typeof v === 'boolean') ? 'bool' : 'float32');
    storedAs = wanted === 'float16' || wanted === 'bfloat16' ? 'float32' : wanted;
    bytes = packValues(values, storedAs);
    if (options.shape) shape = options.shape;
  }
  const wanted = options.dtype ?? storedAs;
  let t = wrap(N.fromData(bytes, shape, dtypeCode(storedAs), placed(options.device, 'tensor') ?? null));
  if (wanted !== storedAs) {
    const converted = t.to(wanted);
    t.dispose();
    t = converted;
  }
  return finish(t, options);
}

/** `t` on `device`: `t` itself when it is there already, else a copy (the caller's scope owns it). */
export const onDevice = (t: Tensor, device: Device): Tensor => (t.device === device ? t : t.to(device));

export const zeros = (shape: number[], options: TensorOptions = {}): Tensor =>
  finish(wrap(N.zeros(shape, dtypeArg(options), placed(options.device, 'zeros'))), options);
export const ones = (shape: number[], options: TensorOptions = {}): Tensor =>
  finish(wrap(N.ones(shape, dtypeArg(options), placed(options.device, 'ones'))), options);
export const empty = (shape: number[], options: TensorOptions = {}): Tensor =>
  finish(wrap(N.empty(shape, dtypeArg(options), placed(options.device, 'empty'))), options);
/** A tensor filled with `value`: bool for a boolean, else float32 unless a dtype is given. */
export const full = (shape: number[], value: number | boolean, options: TensorOptions = {}): Tensor =>
  finish(wrap(N.full(shape, value, dtypeArg({ dtype: typeof value === 'boolean' ? 'bool' : undefined, ...options }), placed(options.device, 'full'))), options);

const likeOptions = (t: Tensor, options: TensorOptions): TensorOptions => ({ dtype: t.dtype, device: t.device, ...options });
export const zerosLike = (t: Tensor, options: TensorOptions = {}): Tensor => zeros(t.shape, likeOptions(t, options));
export const onesLike = (t: Tensor, options: TensorOptions = {}): Tensor => ones(t.shape, likeOptions(t, options));
export const fullLike = (t: Tensor, value: number, options: TensorOptions = {}): Tensor =>
  full(t.shape, value, likeOptions(t, options));

/** `arange(end)` or `arange(start, end, step?)`; float32 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  return finish(wrap(N.arange(from, to, step, dtypeArg(options), placed(options.device, 'arange'))), options);
}
export const linspace = (start: number, end: number, steps: number, options: TensorOptions = {}): Tensor =>
  finish(wrap(N.linspace(start, end, steps, dtypeArg(options), placed(options.device, 'linspace'))), options);
export const eye = (n: number, m = n, options: TensorOptions = {}): Tensor =>
  finish(wrap(N.eye(n, m, dtypeArg(options), placed(options.device, 'eye'))), options);
