// Element types, named as in PyTorch. The numeric codes are libtorch's own
// at::ScalarType values, which are stable across libtorch versions.

export type DType = 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64' | 'bool' | 'bfloat16';

const codes: Record<DType, number> = {
  uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11, bfloat16: 15,
};
const names = new Map<number, DType>(Object.entries(codes).map(([name, code]) => [code, name as DType]));

export function dtypeCode(dtype: DType): number {
  const code = codes[dtype];
  if (code === undefined) throw new TypeError(`unknown dtype '${String(dtype)}'; expected one of ${Object.keys(codes).join(', ')}`);
  return code;
}

export const isDType = (name: string): name is DType => Object.hasOwn(codes, name);

export function dtypeName(code: number): DType {
  const name = names.get(code);
  if (name === undefined) throw new TypeError(`libtorch dtype code ${code} has no robustok name`);
  return name;
}

export const isFloatingPoint = (dtype: DType): boolean =>
  dtype === 'float16' || dtype === 'float32' || dtype === 'float64' || dtype === 'bfloat16';

/** The typed array that holds a dtype's values (half floats are read back as float32). */
export type TypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

type TypedArrayConstructor = { new (buffer: ArrayBuffer): TypedArray };
const arrayTypes: Partial<Record<DType, TypedArrayConstructor>> = {
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  float32: Float32Array, float64: Float64Array, bool: Uint8Array,
};

export function typedArrayFor(dtype: DType, buffer: ArrayBuffer): TypedArray {
  const Type = arrayTypes[dtype];
  if (!Type) throw new TypeError(`no typed array holds ${dtype}; convert with .to('float32') first`);
  return new Type(buffer);
}

/** The dtype that a typed array's values have, as `torch.from_numpy` infers it. */
export function dtypeOfTypedArray(data: ArrayBufferView): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  throw new TypeError(`unsupported typed array ${data.constructor.name}`);
}
