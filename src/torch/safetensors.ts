// The safetensors format (huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header giving each tensor's dtype, shape and byte
// range, then the raw little-endian data. Files are laid out byte for byte as
// the reference writer lays them out, and read with its checks.
import os from 'node:os';
import { readFileWhole, writeFileAtomic } from './atomic_write.js';
import { type DType, dtypeCode } from './dtype.js';
import { native as N } from './native.js';
import { tidy } from './scope.js';
import { Tensor, describe, wrap } from './tensor.js';

export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * The file dtypes robustok reads and writes, in the reference's order of
 * increasing alignment: it stores wider types first, so that every tensor
 * starts aligned when the data section does.
 */
const formats = [
  { name: 'BOOL', dtype: 'bool', size: 1 },
  { name: 'U8', dtype: 'uint8', size: 1 },
  { name: 'I8', dtype: 'int8', size: 1 },
  { name: 'I16', dtype: 'int16', size: 2 },
  { name: 'F16', dtype: 'float16', size: 2 },
  { name: 'BF16', dtype: 'bfloat16', size: 2 },
  { name: 'I32', dtype: 'int32', size: 4 },
  { name: 'F32', dtype: 'float32', size: 4 },
  { name: 'F64', dtype: 'float64', size: 8 },
  { name: 'I64', dtype: 'int64', size: 8 },
] as const satisfies readonly { name: string; dtype: DType; size: number }[];
type Format = (typeof formats)[number];

/** The reference rejects headers above this size (a corrupt length would otherwise allocate gigabytes). */
const maxHeaderBytes = 100_000_000;

/** Both sides of the format copy bytes as they lie in memory. */
function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new Error('safetensors data is little-endian; this machine is big-endian');
}

const byteLength = (shape: number[], format: Format): number => shape.reduce((a, b) => a * b, format.size);

// ---- writing ---------------------------------------------------------------------

interface Entry {
  name: string;
  tensor: Tensor;
  format: Format;
  shape: number[];
}

function entriesOf(tensors: Record<string, Tensor>): Entry[] {
  const entries = Object.entries(tensors).map(([name, tensor]): Entry => {
    if (!(tensor instanceof Tensor)) throw new TypeError(`safetensors: '${name}' is ${describe(tensor)}, not a Tensor`);
    if (name === '__metadata__') throw new TypeError("safetensors: '__metadata__' is reserved and cannot name a tensor");
    if (tensor.isDisposed) throw new TypeError(`safetensors: tensor '${name}' was disposed`);
    const dtype = tensor.dtype;
    const format = formats.find((f) => f.dtype === dtype);
    if (!format) throw new TypeError(`safetensors: '${name}' has dtype ${dtype}, which safetensors cannot store`);
    return { name, tensor, format, shape: tensor.shape };
  });
  // The reference's order: descending alignment, then name (as UTF-8 bytes, like Rust's str order).
  const rank = (e: Entry): number => formats.indexOf(e.format);
  return entries.sort((a, b) => rank(b) - rank(a) || Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/** The compact JSON header, `__metadata__` first, padded with spaces to a multiple of 8 bytes. */
function headerOf(entries: Entry[], metadata: Record<string, string> | undefined): Buffer {
  const fields: string[] = [];
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new TypeError(`safetensors: metadata '${key}' is ${describe(value)}, not a string`);
    }
    fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const { name, format, shape } of entries) {
    const end = offset + byteLength(shape, format);
    // Built field by field: JSON.stringify of one object would move integer-like names first.
    fields.push(`${JSON.stringify(name)}:{"dtype":"${format.name}","shape":${JSON.stringify(shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${fields.join(',')}}`);
  return Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
}

/** The file's bytes in pieces, each tensor's data copied out only when its turn comes. */
function* pieces(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Generator<Uint8Array> {
  assertLittleEndian();
  const entries = entriesOf(tensors);
  const header = headerOf(entries, metadata);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  yield length;
  yield header;
  for (const { tensor } of entries) yield new Uint8Array(N.toArrayBuffer(tensor.handle));
}

/** A safetensors file's bytes. Tensors are written contiguous, from any device. */
export const encodeSafetensors = (tensors: Record<string, Tensor>, metadata?: Record<string, string>): Buffer =>
  Buffer.concat([...pieces(tensors, metadata)]);

/** Writes a safetensors file atomically (see writeFileAtomic), one tensor in memory at a time. */
export function saveSafetensors(file: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, pieces(tensors, metadata));
}

// ---- reading -----------------------------------------------------------------------

interface Info {
  name: string;
  format: Format;
  shape: number[];
  begin: number;
  end: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function infoOf(name: string, raw: unknown, fail: (problem: string) => never): Info {
  if (!isObject(raw)) fail(`tensor '${name}' is described by ${JSON.stringify(raw)}, not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  const format = formats.find((f) => f.name === dtype);
  if (!format) fail(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)} (robustok reads ${formats.map((f) => f.name).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const needed = byteLength(shape, format);
  if (needed !== end - begin) {
    fail(`tensor '${name}': shape [${shape.join(', ')}] of ${format.name} needs ${needed} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, format, shape, begin, end };
}

/** The byte ranges must tile the data section exactly: no overlap, no gap, nothing past the end. */
function checkLayout(infos: Info[], dataLength: number, fail: (problem: string) => never): void {
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Info | undefined;
  for (const info of sorted) {
    const range = `'${info.name}' [${info.begin}, ${info.end}]`;
    if (info.end > dataLength) {
      fail(`tensor ${range} is out of bounds: the data section holds only ${dataLength} bytes (truncated file?)`);
    }
    if (info.begin < covered) fail(`tensors '${previous!.name}' [${previous!.begin}, ${previous!.end}] and ${range} overlap`);
    if (info.begin > covered) fail(`bytes [${covered}, ${info.begin}) of the data section belong to no tensor (before ${range})`);
    covered = info.end;
    previous = info;
  }
  if (covered !== dataLength) fail(`the last ${dataLength - covered} bytes of the data section belong to no tensor`);
}

function metadataOf(raw: unknown, fail: (problem: string) => never): Record<string, string> {
  if (raw === undefined) return {};
  if (!isObject(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
    fail('__metadata__ must map strings to strings');
  }
  return { ...(raw as Record<string, string>) };
}

/**
 * Reads safetensors bytes; `source` names them in errors. Each tensor is
 * copied once, straight from its byte range of `bytes`: the addon copies
 * raw bytes, so a range at any offset works for every dtype (no typed-array
 * alignment rule, and half floats and booleans need no typed array).
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): Safetensors {
  assertLittleEndian();
  const fail = (problem: string): never => {
    throw new Error(`${source}: ${problem}`);
  };
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes long, too short for the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (headerLength > BigInt(maxHeaderBytes)) fail(`the header length ${headerLength} exceeds the 100 MB limit`);
  const dataStart = 8 + Number(headerLength);
  if (dataStart > bytes.length) fail(`the header length ${headerLength} is larger than the file (${bytes.length} bytes)`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(`the header is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(header)) fail('the header is not a JSON object');
  const { __metadata__: rawMetadata, ...described } = header as Record<string, unknown>;
  const metadata = metadataOf(rawMetadata, fail);
  const infos = Object.entries(described).map(([name, raw]) => infoOf(name, raw, fail));
  checkLayout(infos, bytes.length - dataStart, fail);
  const data = bytes.subarray(dataStart);
  const tensors = tidy(() => Object.fromEntries(infos.map(({ name, format, shape, begin, end }) =>
    [name, wrap(N.fromData(data.subarray(begin, end), shape, dtypeCode(format.dtype), null))])));
  return { tensors, metadata };
}

/** Reads a safetensors file: one read of the whole file, one copy per tensor. */
export const loadSafetensors = (file: string): Safetensors => decodeSafetensors(readFileWhole(file, 'safetensors file'), file);

/**
 * The read side of a fingerprinted cache (the write side is
 * saveSafetensors(file, tensors, { fingerprint: key })): the tensors `names`
 * of `file` when it exists, reads, holds them all and carries `key`; null
 * otherwise (absent, torn or made from other inputs), with what it held disposed.
 */
export function loadCached(file: string, key: string, names: readonly string[]): Record<string, Tensor> | null {
  let read: Safetensors;
  try {
    read = loadSafetensors(file);
  } catch {
    return null;
  }
  const { tensors, metadata } = read;
  if (metadata.fingerprint === key && names.every((n) => tensors[n] !== undefined)) {
    for (const [n, t] of Object.entries(tensors)) if (!names.includes(n)) t.dispose();
    return tensors;
  }
  for (const t of Object.values(tensors)) t.dispose();
  return null;
}
