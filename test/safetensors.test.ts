// safetensors: bit-exact round trips, the reference writer's exact layout,
// files exchanged with PyTorch both ways, corrupt files, atomic saves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import {
  type DType, Tensor, decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors, tensor, writeFileAtomic,
} from '../src/torch/index.js';
import { type Described, describeTensor, fromBytes, oracle, scratchDir, withoutLeaks } from './helpers/checkpoint.js';

const dtypes: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
const itemSize: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** Arbitrary bit patterns (NaN payloads, subnormals, extremes); booleans only 0 or 1. */
function randomTensor(shape: number[], dtype: DType): Tensor {
  const bytes = randomBytes(shape.reduce((a, b) => a * b, itemSize[dtype]));
  if (dtype === 'bool') bytes.forEach((b, i) => { bytes[i] = b & 1; });
  return fromBytes(bytes, shape, dtype);
}

/** One tensor of each dtype and shape, 0-d and empty ones included. */
function everyKind(): Record<string, Tensor> {
  const shapes = [[2, 3], [], [0], [4, 0, 2], [5, 1, 2]];
  return Object.fromEntries(dtypes.flatMap((dtype) =>
    shapes.map((shape) => [`${dtype}.${shape.join('x') || 'scalar'}`, randomTensor(shape, dtype)])));
}

const describeAll = (tensors: Record<string, Tensor>): Record<string, Described> =>
  Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, describeTensor(t)]));

const u64 = (n: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(n));
  return out;
};

/** A file from a header and data, laid out as the format says (no checks). */
function fileOf(header: unknown, data: Uint8Array = new Uint8Array()): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const padded = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
  return Buffer.concat([u64(padded.length), padded, data]);
}

test('every dtype round-trips bit for bit, 0-d and empty tensors included', () => withoutLeaks(() => {
  const tensors = { ...everyKind(), transposed: randomTensor([3, 5], 'float32').transpose(0, 1) };
  const metadata = { format: 'pt', note: 'step 10 ✓' };
  const decoded = decodeSafetensors(encodeSafetensors(tensors, metadata));
  assert.deepEqual(describeAll(decoded.tensors), describeAll(tensors));
  assert.deepEqual(decoded.metadata, metadata);

  const file = path.join(scratchDir(), 'model.safetensors');
  saveSafetensors(file, tensors, metadata);
  const loaded = loadSafetensors(file);
  assert.deepEqual(describeAll(loaded.tensors), describeAll(tensors));
  assert.deepEqual(loaded.metadata, metadata);
}));

test("encoding matches the reference writer's bytes", () => withoutLeaks(() => {
  // The reference crate's own test vectors (safetensors/src/tensor.rs).
  const values = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const floats = (shape: number[]): Tensor => fromBytes(values, shape, 'float32');
  assert.deepEqual(encodeSafetensors({ 'attn.0': floats([1, 2, 3]) }),
    Buffer.concat([u64(64), Buffer.from('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'), values]));
  assert.deepEqual(encodeSafetensors({ attn0: floats([1, 1, 2, 3]) }),
    Buffer.concat([u64(72), Buffer.from('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       '), values]));
  assert.deepEqual(encodeSafetensors({}), Buffer.concat([u64(8), Buffer.from('{}      ')]));
  assert.deepEqual(encodeSafetensors({}, { framework: 'pt' }),
    Buffer.concat([u64(40), Buffer.from('{"__metadata__":{"framework":"pt"}}     ')]));

  // Wider dtypes first, then names in byte order; offsets tile the data.
  const mixed = encodeSafetensors({
    b: tensor([1, 2]), a: tensor([3]), '10': tensor([4]), mask: tensor([true]),
    steps: tensor(new BigInt64Array([5n])), bytes: tensor(new Uint8Array([6])),
  });
  const text = mixed.subarray(8, 8 + Number(mixed.readBigUInt64LE(0))).toString();
  const header = JSON.parse(text) as Record<string, { data_offsets: number[] }>;
  // Read the order from the text: JSON.parse would move the integer-like name '10' first.
  const order = [...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]!);
  assert.deepEqual(order.map((name) => [name, header[name]!.data_offsets]),
    [['steps', [0, 8]], ['10', [8, 12]], ['a', [12, 16]], ['b', [16, 24]], ['bytes', [24, 25]], ['mask', [25, 26]]]);
}));

interface Exchange {
  read: { tensors: Record<string, Described>; metadata: unknown; sameAsReferenceWriter: boolean };
  written: { tensors: Record<string, Described>; metadata: Record<string, string> };
}

// One PyTorch run serves both directions: it reads the file saved here and writes its own.
const exchangeDir = scratchDir();
const ours = { tensors: {} as Record<string, Described>, metadata: { epoch: '3', 'é': 'ü' } };
let exchange: Exchange;
before(() => withoutLeaks(() => {
  const tensors = everyKind();
  ours.tensors = describeAll(tensors);
  saveSafetensors(path.join(exchangeDir, 'robustok.safetensors'), tensors, ours.metadata);
  exchange = oracle<Exchange>('safetensors', exchangeDir);
}));

test('a file written by PyTorch (hand-written reference layout) loads with identical values', () => withoutLeaks(() => {
  const loaded = loadSafetensors(path.join(exchangeDir, 'python.safetensors'));
  assert.deepEqual(describeAll(loaded.tensors), exchange.written.tensors);
  assert.deepEqual(loaded.metadata, exchange.written.metadata);
}));

test('a file written here parses in PyTorch with identical values and the reference layout', () => {
  assert.deepEqual(exchange.read.tensors, ours.tensors);
  assert.deepEqual(exchange.read.metadata, ours.metadata);
  assert.ok(exchange.read.sameAsReferenceWriter, 'the reference layout, rewritten in Python, gives the same bytes');
});

test('corrupt files fail with errors naming the problem and the file', () => withoutLeaks(() => {
  const dir = scratchDir();
  const f32 = (shape: number[], offsets: [number, number]): object => ({ dtype: 'F32', shape, data_offsets: offsets });
  const valid = encodeSafetensors({ w: tensor([[1, 2], [3, 4]]), b: tensor([5]) });
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', Buffer.from([1, 2, 3]), /3 bytes long, too short for the 8-byte header length/],
    ['huge-header', Buffer.concat([u64(100_000_001), Buffer.from('{}')]), /header length 100000001 exceeds the 100 MB limit/],
    ['long-header', Buffer.concat([u64(1000), Buffer.from('{}      ')]), /header length 1000 is larger than the file \(16 bytes\)/],
    ['not-json', Buffer.concat([u64(8), Buffer.from('{"w":1, ')]), /header is not valid JSON/],
    ['not-utf8', Buffer.concat([u64(8), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 32, 32, 32, 32])]), /header is not valid UTF-8/],
    ['not-object', fileOf([1, 2]), /header is not a JSON object/],
    ['dtype', fileOf({ w: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor 'w' has unknown dtype "Q8"/],
    ['size', fileOf({ w: f32([2, 3], [0, 20]) }, new Uint8Array(20)), /'w': shape \[2, 3\] of F32 needs 24 bytes but data_offsets \[0, 20\] hold 20/],
    ['shape', fileOf({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /'w' has an invalid shape \[-1\]/],
    ['offsets', fileOf({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, new Uint8Array(8)), /'w' has invalid data_offsets \[8,4\]/],
    ['overlap', fileOf({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, new Uint8Array(12)), /'a' \[0, 8\] and 'b' \[4, 12\] overlap/],
    ['bounds', fileOf({ a: f32([2], [0, 8]) }, new Uint8Array(4)), /'a' \[0, 8\] is out of bounds: the data section holds only 4 bytes/],
    ['truncated', valid.subarray(0, valid.length - 3), /'w' \[4, 20\] is out of bounds: .* \(truncated file\?\)/],
    ['gap', fileOf({ a: f32([1], [4, 8]) }, new Uint8Array(8)), /bytes \[0, 4\) of the data section belong to no tensor/],
    ['trailing', Buffer.concat([valid, Buffer.alloc(4)]), /the last 4 bytes of the data section belong to no tensor/],
    ['metadata', fileOf({ __metadata__: { epoch: 3 } }), /__metadata__ must map strings to strings/],
  ];
  for (const [name, bytes, problem] of cases) {
    const file = path.join(dir, `${name}.safetensors`);
    writeFileSync(file, bytes);
    assert.throws(() => loadSafetensors(file), (error: Error) => {
      assert.match(error.message, problem, name);
      assert.ok(error.message.startsWith(`${file}: `), `${name}: the error names the file: ${error.message}`);
      return true;
    });
  }
  assert.throws(() => loadSafetensors(path.join(dir, 'absent.safetensors')), /safetensors file not found: .*absent\.safetensors/);
}));

test('saving is atomic: a failure leaves the old file whole and no temporary file', () => withoutLeaks(() => {
  const dir = scratchDir();
  const file = path.join(dir, 'model.safetensors');
  saveSafetensors(file, { w: tensor([1, 2, 3]) });
  const old = readFileSync(file);

  const disposed = tensor([4]);
  disposed.dispose();
  assert.throws(() => saveSafetensors(file, { v: tensor([5]), w: disposed }), /tensor 'w' was disposed/);
  assert.throws(() => saveSafetensors(file, { w: 5 as unknown as Tensor }), /'w' is number, not a Tensor/);
  function* brokenMidway(): Generator<Uint8Array> {
    yield old.subarray(0, 10);
    throw new Error('disk full');
  }
  assert.throws(() => writeFileAtomic(file, brokenMidway()), /disk full/);
  assert.deepEqual(readFileSync(file), old);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);

  saveSafetensors(file, { w: tensor([7]) });
  assert.deepEqual(loadSafetensors(file).tensors.w!.tolist(), [7]);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
}));
