// torch.save / torch.load files: real state_dicts and nested checkpoints from
// PyTorch, savePt read back by torch.load, clear errors, atomic saves.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import {
  PickledObject, type PtValue, Tensor, flattenStateDict, loadPt, randn, savePt, tensor,
} from '../src/torch/index.js';
import { type Tree, describeTensor, describeTree, normalize, oracle, scratchDir, withoutLeaks } from './helpers/checkpoint.js';





/** A tree as Python describes it: each node also names its Python type. */
type PyTree = Tree & { type: string };
interface Exchange {
  loaded: PyTree;
  saved: Record<string, PyTree>;
}

// One PyTorch run serves both directions: it loads the file saved here and saves its own.
const dir = scratchDir();
let ours: Tree;
let exchange: Exchange;
before(() => withoutLeaks(() => {
  const base = randn([3, 4]);
  const value: PtValue = {
    model: {
      'enc.weight': base, 'enc.t': base.transpose(0, 1), half: base.to('float16'), brain: base.to('bfloat16'),
      steps: tensor(new BigInt64Array([0n, -1n, 2n ** 62n, 9007199254740993n])), mask: base.gt(0),
      i8: tensor(new Int8Array([-128, 127])), u8: tensor(new Uint8Array([0, 255])), i16: tensor(new Int16Array([-3])),
      i32: tensor(new Int32Array([2 ** 31 - 1])), f64: base.to('float64'), scalar: tensor(2.5), empty: randn([0, 3]),
    },
    step: 3, lr: 0.5, name: 'run', list: [1, 'two', null, true, [2.5]], deep: { er: { w: tensor([1, 2]) } },
  };
  ours = describeTree(value);
  savePt(path.join(dir, 'robustok.pt'), value);
  exchange = oracle<Exchange>('pt', dir);
}));

test("torch.save of an nn.Module's state_dict loads with its keys, shapes, dtypes and values", () => withoutLeaks(() => {
  const sd = loadPt(path.join(dir, 'state_dict.pt')) as Record<string, Tensor>;
  assert.deepEqual(Object.keys(sd), ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var',
    '1.num_batches_tracked', '3.weight', '3.bias']);
  assert.deepEqual(sd['0.weight']!.shape, [4, 3, 3, 3]);
  assert.deepEqual(sd['3.weight']!.shape, [2, 36]);
  assert.equal(sd['1.num_batches_tracked']!.dtype, 'int64');
  assert.deepEqual(sd['1.num_batches_tracked']!.shape, []);
  assert.equal(sd['1.num_batches_tracked']!.item(), 3);
  assert.deepEqual(describeTree(sd), normalize(exchange.saved['state_dict.pt']!));
}));

test('a nested {model, ema, step} checkpoint loads whole', () => withoutLeaks(() => {
  const ckpt = loadPt(path.join(dir, 'nested.pt')) as { model: PtValue; ema: PtValue; step: number };
  assert.equal(ckpt.step, 3);
  assert.deepEqual(Object.keys(ckpt), ['model', 'ema', 'step']);
  assert.deepEqual(describeTree(ckpt), normalize(exchange.saved['nested.pt']!));
  const model = ckpt.model as Record<string, Tensor>;
  const ema = ckpt.ema as Record<string, Tensor>;
  assert.notDeepEqual(model['0.weight']!.tolist(), ema['0.weight']!.tolist(), 'model and ema are different weights');
}));

test('views, every dtype, parameters and plain Python values load as PyTorch saved them', () => withoutLeaks(() => {
  const extras = loadPt(path.join(dir, 'extras.pt')) as Record<string, PtValue>;
  assert.deepEqual(describeTree(extras), normalize(exchange.saved['extras.pt']!));
  assert.deepEqual((extras.transposed as Tensor).shape, [4, 3]);
  assert.deepEqual((extras.row as Tensor).tolist(), [4, 5, 6, 7]);
  assert.equal((extras.param as Tensor).requiresGrad, true);
  assert.deepEqual([extras.pair, extras['7'], extras.big], [[1, -2.5], 'int key', 2 ** 40]);
  assert.equal(Object.getPrototypeOf(extras), Object.prototype, "a key '__proto__' is an own key, not the prototype");
  assert.equal(Object.getOwnPropertyDescriptor(extras, '__proto__')?.value, 'own key');
}));

test('savePt writes what torch.load reads, with identical values', () => {
  assert.deepEqual(normalize(exchange.loaded), ours);
  assert.ok('dict' in exchange.loaded);
  const types = Object.fromEntries(exchange.loaded.dict.map(([k, v]) => [k, (v as PyTree).type]));
  assert.deepEqual(types, { model: 'dict', step: 'int', lr: 'float', name: 'str', list: 'list', deep: 'dict' });
});

test('savePt output loads back here bit for bit', () => withoutLeaks(() => {
  const back = loadPt(path.join(dir, 'robustok.pt'));
  assert.deepEqual(describeTree(back), ours);
}));

test('unreadable checkpoints fail with errors that say what to do', () => withoutLeaks(() => {
  const file = (name: string): string => path.join(dir, name);
  writeFileSync(file('random.pt'), Buffer.from('not a checkpoint at all'));
  const zip = readFileSync(file('state_dict.pt'));
  writeFileSync(file('cut.pt'), zip.subarray(0, zip.length >> 1));
  const cases: [string, RegExp][] = [
    ['absent.pt', /checkpoint not found: .*absent\.pt$/],
    ['random.pt', /random\.pt is not a zip-format PyTorch checkpoint/],
    ['cut.pt', /cut\.pt: pickle: unreadable zip archive \(truncated or corrupt file\?\)/],
    ['complex.pt', /complex\.pt: pickle: unsupported object torch\.ComplexFloatStorage/],
  ];
  for (const [name, problem] of cases) assert.throws(() => loadPt(file(name)), problem, name);
  // The legacy (pre-1.6) stream of the same state dict reads as the zip archive does.
  assert.deepEqual(describeTree(loadPt(file('legacy.pt'))), describeTree(loadPt(file('state_dict.pt'))));
}));

test('Python objects beside the weights (an argparse.Namespace, callback states) load as PickledObjects, outside state dicts', () => withoutLeaks(() => {
  const ckpt = loadPt(path.join(dir, 'objects.pt')) as Record<string, PtValue>;
  const args = ckpt.args as PickledObject;
  assert.ok(args instanceof PickledObject);
  assert.equal(args.className, 'argparse.Namespace');
  const fields = args.state as Record<string, PtValue>;
  assert.deepEqual([fields.lr, fields.ch_mult, fields.resume], [1e-4, [1, 1, 2], null]);
  // a class stored as a value: protocol 2 names Python 3's int by its Python 2 name
  assert.match((fields.type as PickledObject).className, /^(__builtin__\.long|builtins\.int)$/, 'a class stored as a value');
  const callback = (ckpt.callbacks as Record<string, PtValue>).checkpoint as PickledObject;
  assert.equal(callback.className, '__main__.Callback');
  const state = callback.state as Record<string, PtValue>;
  assert.deepEqual([state.monitor, state.best, (state.seen as PickledObject).contents], ['val/rec_loss', 0.25, [[1, 2]]]);
  assert.equal(ckpt.step, 3);
  // the weights come out as the plain state dict saved them; the object's tensor is left aside, or refused when asked for
  const sd = loadPt(path.join(dir, 'state_dict.pt')) as Record<string, Tensor>;
  const picked = flattenStateDict(ckpt, 'model');
  assert.deepEqual(Object.keys(picked), Object.keys(sd));
  for (const key of Object.keys(sd)) assert.deepEqual(describeTensor(picked[key]!), describeTensor(sd[key]!), key);
  assert.deepEqual(Object.keys(flattenStateDict(ckpt)), Object.keys(sd).map((k) => `model.${k}`));
  assert.throws(() => flattenStateDict(ckpt, 'holder'),
    /the tensors under 'holder' lie inside a pickled Python object \(__main__\.Holder at 'holder'\), which robustok does not rebuild/);
  assert.throws(() => flattenStateDict({ holder: ckpt.holder! }), /the file's tensors lie inside a pickled Python object \(__main__\.Holder/);
  // a set: a pickled object too, built from its items
  const set = (loadPt(path.join(dir, 'set.pt')) as Record<string, PtValue>).opt as PickledObject;
  assert.match(set.className, /^(__builtin__|builtins)\.set$/);
  assert.deepEqual(set.contents, [[1, 2]]);
}));

test('savePt is atomic: a value that fails to serialize leaves the old file whole', () => withoutLeaks(() => {
  const scratch = scratchDir();
  const target = path.join(scratch, 'ckpt.pt');
  savePt(target, { step: 1, w: tensor([1, 2]) });
  const old = readFileSync(target);
  const disposed = tensor([3]);
  disposed.dispose();
  assert.throws(() => savePt(target, { w: tensor([1]), opt: new Map() as unknown as PtValue }),
    /savePt: cannot store Map at the top\.opt/);
  assert.throws(() => savePt(target, { model: { w: disposed } }), /the tensor at the top\.model\.w was disposed/);
  assert.throws(() => savePt(target, { step: 10n as unknown as PtValue }), /cannot store bigint/);
  assert.deepEqual(readFileSync(target), old);
  assert.deepEqual(readdirSync(scratch), ['ckpt.pt']);
  const back = loadPt(target) as { step: number; w: Tensor };
  assert.deepEqual([back.step, back.w.tolist()], [1, [1, 2]]);
}));

test('flattenStateDict gives dotted PyTorch names and picks a sub-dict by prefix', () => withoutLeaks(() => {
  const w = tensor([1]);
  const nested: PtValue = { model: { enc: { blocks: [{ w }, { w }] }, head: w }, ema: { head: w }, step: 3 };
  assert.deepEqual(Object.keys(flattenStateDict(nested)), ['model.enc.blocks.0.w', 'model.enc.blocks.1.w', 'model.head', 'ema.head']);
  assert.deepEqual(Object.keys(flattenStateDict(nested, 'model')), ['enc.blocks.0.w', 'enc.blocks.1.w', 'head']);
  assert.deepEqual(Object.keys(flattenStateDict({ 'module.a.b': w, 'module.c': w }, 'module')), ['a.b', 'c']);
  assert.throws(() => flattenStateDict(nested, 'optimizer'), /no tensors under 'optimizer' \(the top-level names are: model, ema\)/);
  assert.throws(() => flattenStateDict({ 'a.b': w, a: { b: w } }), /two tensors are named 'a\.b'/);

  const ckpt = loadPt(path.join(dir, 'nested.pt'));
  const sd = loadPt(path.join(dir, 'state_dict.pt')) as Record<string, Tensor>;
  const picked = flattenStateDict(ckpt, 'ema');
  assert.deepEqual(Object.keys(picked), Object.keys(sd));
  assert.deepEqual(describeTensor(picked['1.num_batches_tracked']!), describeTensor(sd['1.num_batches_tracked']!));
}));
