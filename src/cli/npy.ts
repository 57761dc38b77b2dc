// NumPy's .npy format for integer arrays (token ids), version 1.0 written,
// 1.0–3.0 read: the magic "\x93NUMPY", a version, a little-endian header
// length, then a Python dict literal (descr, fortran_order, shape) padded
// with spaces to a multiple of 64 bytes and ended by "\n", then the raw
// C-order data. Spec: numpy/lib/format.py, "The .npy format" (NEP 1).

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // \x93NUMPY

/** Integer dtypes read here: NumPy descr → bytes per value and a little-endian reader. */
const readers: Record<string, [number, (view: DataView, at: number) => number]> = {
  '|u1': [1, (v, at) => v.getUint8(at)],
  '|i1': [1, (v, at) => v.getInt8(at)],
  '<u2': [2, (v, at) => v.getUint16(at, true)],
  '<i2': [2, (v, at) => v.getInt16(at, true)],
  '<u4': [4, (v, at) => v.getUint32(at, true)],
  '<i4': [4, (v, at) => v.getInt32(at, true)],
  '<u8': [8, (v, at) => Number(v.getBigUint64(at, true))],
  '<i8': [8, (v, at) => Number(v.getBigInt64(at, true))],
};

/** An int64 array of `shape` (C order) as .npy v1.0 bytes. */
export function encodeNpy(values: ArrayLike<number | bigint>, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`encodeNpy: ${values.length} values do not fill shape [${shape}]`);
  // Python's tuple syntax: a 1-tuple needs its trailing comma.
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<i8', 'fortran_order': False, 'shape': ${tuple}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const header = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = Buffer.alloc(MAGIC.length + 4 + header.length + 8 * count);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const data = 10 + header.length;
  for (let i = 0; i < count; i++) view.setBigInt64(data + 8 * i, BigInt(values[i]!), true);
  return out;
}

/** Reads an integer .npy array (C order); values come back as numbers (exact below 2^53). */
export function decodeNpy(bytes: Buffer, what = '.npy file'): { shape: number[]; values: Float64Array; descr: string } {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new Error(`${what} is not a NumPy .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new Error(`${what}: .npy version ${major}.${bytes[7]} is not supported (1.0 to 3.0 are)`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${what}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error(`${what} is in Fortran order; save it in C order (numpy.ascontiguousarray)`);
  const reader = readers[descr];
  if (!reader) throw new Error(`${what} holds dtype '${descr}'; token ids must be an integer array (${Object.keys(readers).join(', ')})`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const [size, read] = reader;
  const data = start + headerLength;
  if (bytes.length - data < count * size) throw new Error(`${what} is truncated: shape (${shape.join(', ')}) needs ${count * size} data bytes, found ${bytes.length - data}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + data, count * size);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = read(view, i * size);
  return { shape, values, descr };
}
