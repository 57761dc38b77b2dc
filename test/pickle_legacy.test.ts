// Legacy torch.save files (PyTorch before 1.6, or _use_new_zipfile_serialization=False):
// what PyTorch 1.13 writes and what older writers wrote load as torch.load
// reads them, bit for bit; broken files fail with errors that say what is wrong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type PtValue, Tensor, flattenStateDict, loadPt } from '../src/torch/index.js';
import { type Tree, describeTree, normalize, scratchDir, withoutLeaks } from './helpers/checkpoint.js';





/** Python's key order as a JS object orders the same keys: integer-like keys first, ascending. */
function jsKeyOrder(keys: string[]): string[] {
  const isIndex = (key: string): boolean => /^(0|[1-9]\d*)$/.test(key);
  return [...keys.filter(isIndex).sort((a, b) => Number(a) - Number(b)), ...keys.filter((key) => !isIndex(key))];
}

interface Oracle {
  loaded: Record<string, Tree>;
  keys: Record<string, string[]>;
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'legacy_oracle.py');
const dir = scratchDir();
const file = (name: string): string => path.join(dir, name);
let torchLoaded: Oracle;

// One PyTorch run writes every file and says what torch.load reads from each.
before(() => {
  const run = spawnSync('/usr/bin/python3', [script, dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (run.status !== 0) throw new Error(`legacy_oracle.py failed:\n${run.stderr}`);
  torchLoaded = JSON.parse(run.stdout) as Oracle;
});

/** loadPt(name) against torch.load: the same keys in the same order, the same values and dtypes bit for bit. */
function loadLikeTorch(name: string): Record<string, PtValue> {
  const value = loadPt(file(name)) as Record<string, PtValue>;
  assert.deepEqual(Object.keys(value), jsKeyOrder(torchLoaded.keys[name]!), `${name}: keys`);
  assert.deepEqual(describeTree(value), normalize(torchLoaded.loaded[name]!), `${name}: values`);
  return value;
}

test('a legacy state dict of every dtype, 0-d tensors and strided views loads as torch.load reads it', () => withoutLeaks(() => {
  const sd = loadLikeTorch('tensors.pt') as Record<string, Tensor>;
  const dtypes = Object.fromEntries(['f32', 'f64', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'mask']
    .map((name) => [name, sd[name]!.dtype]));
  assert.deepEqual(dtypes, {
    f32: 'float32', f64: 'float64', f16: 'float16', bf16: 'bfloat16', i64: 'int64', i32: 'int32', i16: 'int16',
    i8: 'int8', u8: 'uint8', mask: 'bool',
  });
  assert.deepEqual([sd.num_batches_tracked!.shape, sd.num_batches_tracked!.dtype, sd.num_batches_tracked!.item()],
    [[], 'int64', 5]);
  assert.deepEqual([sd.scalar!.shape, sd.scalar!.item()], [[], -0.75]);
  assert.deepEqual(sd.empty!.shape, [0, 3]);
  assert.deepEqual(sd.base_t!.shape, [4, 3]);
  assert.equal(sd.base_t!.isContiguous(), false, 'the transposed view keeps its strides');
  assert.equal(sd.param!.requiresGrad, true, 'an nn.Parameter keeps requires_grad');
  assert.equal(sd.f32!.requiresGrad, false);
}));

test('tensors that shared a storage in PyTorch share it after loading', () => withoutLeaks(() => {
  const sd = loadPt(file('tensors.pt')) as Record<string, Tensor>;
  assert.deepEqual(sd.shared_a!.tolist(), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(sd.shared_b!.tolist(), [[3, 4, 5], [6, 7, 8], [9, 10, 11]]);
  sd.shared_a!.add_(100);
  assert.deepEqual(sd.shared_b!.tolist(), [[103, 104, 105], [6, 7, 8], [9, 10, 11]], 'rows overlap at offset 3');
  const before = sd.base!.tolist() as number[][];
  sd.base!.zero_();
  assert.deepEqual(sd.base_t!.tolist(), [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assert.notDeepEqual(before, sd.base!.tolist());
}));

test('nested dicts, lists, tuples, numbers, strings and None load as torch.load reads them', () => withoutLeaks(() => {
  const value = loadLikeTorch('nested.pt');
  assert.deepEqual([value.step, value.lr, value.tiny, value.name, value.none, value.yes, value.no],
    [3, 0.5, -1.5e-300, 'h\u00e9llo \u2211', null, true, false]);
  assert.deepEqual([value.pair, value.big, value.neg, value['7'], value.empty], [[1, -2.5], 2 ** 40, -7, 'int key', {}]);
  const list = value.list as PtValue[];
  assert.deepEqual([list[0], list[1], (list[2] as PtValue[])[1]], [1, 'two', null]);
  const model = value.model as { w: Tensor; deep: { er: [Tensor, null] } };
  assert.deepEqual([model.w.tolist(), model.deep.er[0].tolist(), model.deep.er[0].dtype], [[1, 2], [3], 'int32']);
}));

test("an Inception-style conv net's state dict loads in order, as the zip layout of the same weights does", () => withoutLeaks(() => {
  const sd = loadLikeTorch('convnet.pt') as Record<string, Tensor>;
  assert.deepEqual(sd['Conv2d_1a_3x3.conv.weight']!.shape, [4, 3, 3, 3]);
  assert.equal(sd['Conv2d_1a_3x3.conv.bias'], undefined, 'BasicConv2d has no conv bias');
  assert.deepEqual(sd['Conv2d_2a_3x3.bn.running_var']!.shape, [6]);
  assert.equal(sd['Conv2d_2a_3x3.bn.num_batches_tracked']!.item(), 2);
  const zip = loadPt(file('convnet_zip.pt'));
  assert.deepEqual(describeTree(sd), describeTree(zip));
  assert.deepEqual(Object.keys(flattenStateDict(sd)), Object.keys(flattenStateDict(zip)));
}));

test('what older writers wrote loads: storage views, _rebuild_tensor, torch.Size, Python 2 strings', () => withoutLeaks(() => {
  for (const name of ['old_writers.pt', 'python2.pt']) {
    const value = loadLikeTorch(name) as { view_a: Tensor; view_b: Tensor; whole: Tensor; steps: Tensor; name: string };
    // root = 1.5 * [0, 1, ..., 9]: view_a starts 1 element into the view of elements 2..7, view_b is elements 5..9
    assert.deepEqual(value.view_a.tolist(), [[4.5, 6], [7.5, 9]], name);
    assert.deepEqual(value.view_b.tolist(), [7.5, 9, 10.5, 12, 13.5], name);
    assert.deepEqual(value.whole.shape, [2, 5], name);
    assert.deepEqual(value.steps.tolist(), [7, -8, 2 ** 40], name);
    assert.equal(value.name, 'caf\u00e9', name);
    value.whole.zero_();
    assert.deepEqual([value.view_a.tolist(), value.view_b.sum().item()], [[[0, 0], [0, 0]], 0], `${name}: views share the storage`);
  }
}));

test('broken, foreign and unsupported files fail with errors that name the file and the problem', () => withoutLeaks(() => {
  const convnet = readFileSync(file('convnet.pt'));
  writeFileSync(file('cut_data.pt'), convnet.subarray(0, convnet.length - 3));
  writeFileSync(file('cut_pickle.pt'), readFileSync(file('tensors.pt')).subarray(0, 300));
  writeFileSync(file('cut_header.pt'), convnet.subarray(0, 10));
  // Fixed pseudo-random bytes: one file that is no pickle at all, one that starts like a pickle.
  let state = 12345;
  const noise = Buffer.from(Array.from({ length: 256 }, () => (state = (state * 1103515245 + 12345) % 2 ** 31) >> 23));
  noise[0] = 0x13;
  writeFileSync(file('random.bin'), noise);
  noise[0] = 0x80;
  writeFileSync(file('random_pickle.bin'), noise);
  const notTorch = /not a torch\.save file: it does not start with torch\.save's pickled magic number/;
  const cases: [string, RegExp][] = [
    ['cut_data.pt', /cut_data\.pt: pickle: the file ends inside storage \d+ \(\d+ of \d+ bytes\): it is truncated/],
    ['cut_pickle.pt', /cut_pickle\.pt: pickle: the pickled value ends early: the file is truncated or corrupt/],
    ['cut_header.pt', notTorch],
    ['random.bin', /random\.bin is not a zip-format PyTorch checkpoint nor a legacy torch\.save file: it starts with neither a zip header nor a pickle/],
    ['random_pickle.bin', notTorch],
    ['plain_pickle.pt', notTorch],
    ['tar.pt', /tar\.pt is a tar-format torch\.save file, from PyTorch's earliest releases/],
    ['big_endian.pt', /big_endian\.pt: pickle: the checkpoint was written on a big-endian machine/],
    ['wrong_count.pt', /wrong_count\.pt: pickle: storage 0 holds 5 elements, but its tensors need 4/],
    ['unlisted.pt', /unlisted\.pt: pickle: the data of storage 1 is missing: the list of storage keys omits it/],
    ['extra_key.pt', /extra_key\.pt: pickle: storage 9 is listed but no tensor uses it/],
    ['complex.pt', /complex\.pt: pickle: unsupported object torch\.ComplexFloatStorage/],
    ['whole_module.pt', /whole_module\.pt: pickle: the file holds a pickled nn\.Module \(__main__\.TinyInception, saved by torch\.save\(model\)\).*save model\.state_dict\(\) instead/],
  ];
  for (const [name, problem] of cases) assert.throws(() => loadPt(file(name)), problem, name);
}));
