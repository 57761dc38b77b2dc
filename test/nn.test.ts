// Module mechanics: names, state dicts, modes, freezing, moving; and
// initialisation drawing PyTorch's exact values for the same seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Attention, BatchNorm2d, Conv2d, Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, StateDictError, TransformerBlock, init,
} from '../src/nn/index.js';
import { type Tensor, empty, liveTensors, manualSeed, ones, randn, tidy, zeros } from '../src/torch/index.js';
import { runParity } from './helpers/oracle.js';

class Tiny extends Module {
  readonly embed = this.child('embed', new Linear(4, 8));
  readonly blocks = this.child('blocks', new ModuleList([new TransformerBlock(8, { heads: 2 }), new TransformerBlock(8, { heads: 2 })]));
  readonly norm = this.child('norm', new BatchNorm2d(8));
  readonly scale = this.param('scale', ones([1]));
}

test('state dict names follow PyTorch (blocks.0.attn.qkv.weight)', () => {
  const model = new Tiny();
  const keys = Object.keys(model.stateDict());
  for (const key of ['embed.weight', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight', 'blocks.1.mlp.fc2.bias',
    'norm.running_mean', 'norm.num_batches_tracked', 'scale']) {
    assert.ok(keys.includes(key), `${key} in ${keys.join(', ')}`);
  }
  assert.deepEqual(keys.slice(0, 3), ['scale', 'embed.weight', 'embed.bias'], 'own parameters first, then children, as PyTorch');
  assert.ok(!model.namedParameters().some(([n]) => n.startsWith('norm.running')), 'buffers are not parameters');
  // embed 4·8+8, two blocks of (2·8 + 8·24+24 + 8·8+8 + 2·8 + 8·32+32 + 32·8+8), norm 2·8, scale 1
  const block = 16 + 216 + 72 + 16 + 288 + 264;
  assert.equal(model.numParameters(), 40 + 2 * block + 16 + 1);
  model.dispose();
});

test('strict loading names missing, unexpected and mis-shaped keys; non-strict reports them', () => {
  const a = new Linear(3, 2);
  const sd: Record<string, Tensor> = { weight: zeros([2, 4]), extra: zeros([1]) };
  assert.throws(() => a.loadStateDict(sd), (e: unknown) => e instanceof StateDictError &&
    /missing keys: bias/.test(e.message) && /unexpected keys: extra/.test(e.message) && /weight: shape \[2,4\] in the checkpoint, \[2,3\]/.test(e.message));
  const report = a.loadStateDict({ bias: ones([2]), extra: zeros([1]) }, { strict: false });
  assert.deepEqual(report, { missing: ['weight'], unexpected: ['extra'], mismatched: [] });
  assert.deepEqual(a.bias!.tolist(), [1, 1]);
  for (const t of [...Object.values(sd)]) t.dispose();
  a.dispose();
});

test('a checkpoint from another architecture is called out', () => {
  const conv = new Conv2d(3, 4, 3);
  const attn = new Attention(8, { heads: 2 });
  assert.throws(() => attn.loadStateDict(conv.stateDict()), /another architecture/);
  conv.dispose();
  attn.dispose();
});

test('train/eval reach every module; dropout obeys', () => tidy(() => {
  const model = new ModuleList([new Dropout(0.5), new LayerNorm(3)]);
  model.eval();
  assert.ok([...model.namedModules()].every(([, m]) => !m.training));
  const x = randn([4, 3]);
  assert.equal((model.at(0) as Dropout).forward(x), x);
  model.train();
  assert.ok([...model.namedModules()].every(([, m]) => m.training));
  model.dispose();
}));

test('requiresGrad_(false) freezes a subtree', () => {
  const model = new Tiny();
  model.blocks.requiresGrad_(false);
  assert.ok(model.blocks.parameters().every((p) => !p.requiresGrad));
  assert.ok(model.embed.parameters().every((p) => p.requiresGrad));
  assert.equal(model.numParameters({ trainable: true }), 40 + 16 + 1);
  model.dispose();
});

test('to(dtype) casts in place: the same Tensor objects, integer buffers untouched', () => {
  const model = new Tiny();
  const before = model.parameters();
  model.to('float64');
  assert.ok(model.parameters().every((p, i) => p === before[i] && p.dtype === 'float64'));
  assert.equal(model.norm.numBatchesTracked.dtype, 'int64');
  const y = tidy(() => model.embed.forward(randn([2, 4], { dtype: 'float64' })).sum().item());
  assert.ok(Number.isFinite(y));
  model.dispose();
});

test('modules and their forward passes leak nothing', () => {
  const live = liveTensors();
  const model = new Tiny();
  tidy(() => model.blocks.at(0).forward(randn([2, 5, 8]), { causal: true }).sum().backward());
  model.dispose();
  assert.equal(liveTensors(), live);
});

test('init: truncated normal stays in bounds, xavier and default bounds hold', () => tidy(() => {
  manualSeed(1);
  // The cut-offs a, b are absolute, as in PyTorch (so std 0.02 is barely truncated by ±2).
  const t = init.truncNormal_(empty([20000]));
  assert.ok(t.abs().max().item() <= 2);
  assert.ok(Math.abs(t.std().item() - 0.8796) < 0.01, 'std of N(0, 1) truncated at ±2 is 0.8796');
  const narrow = init.truncNormal_(empty([20000]), 0.02);
  assert.ok(Math.abs(narrow.std().item() - 0.02) < 4e-4);
  const w = init.xavierUniform_(empty([30, 50]));
  assert.ok(w.abs().max().item() <= Math.sqrt(6 / 80));
  const lin = new Linear(25, 10);
  assert.ok(lin.weight.abs().max().item() <= 1 / 5 && lin.weight.abs().max().item() > 0.15);
  lin.dispose();
}));

test('initialisation draws PyTorch\'s values for the same seed', async (t) => {
  const params = (m: Module) => m.parameters().map((p) => p.detach());
  const outcomes = runParity([
    { name: 'Linear', inputs: [], ts: () => params(new Linear(5, 3)), py: '(lambda m: (m.weight, m.bias))(nn.Linear(5, 3))', setup: 'import torch.nn as nn' },
    { name: 'Conv2d', inputs: [], ts: () => params(new Conv2d(3, 4, 3)), py: '(lambda m: (m.weight, m.bias))(nn.Conv2d(3, 4, 3))', setup: 'import torch.nn as nn' },
    { name: 'Embedding', inputs: [], ts: () => params(new Embedding(6, 3)), py: 'nn.Embedding(6, 3).weight', setup: 'import torch.nn as nn' },
    { name: 'truncNormal_', inputs: [], ts: () => init.truncNormal_(empty([500]), 0.02),
      py: 'nn.init.trunc_normal_(torch.empty(500), std=0.02)', setup: 'import torch.nn as nn' },
  ], { rtol: 1e-6, atol: 1e-7 });
  for (const o of outcomes) await t.test(o.name, () => assert.deepEqual(o.problems, []));
});

test('spectral norm: two training forwards before one backward (discriminator on real, then fake)', () => tidy(() => {
  manualSeed(4);
  const layer = new Linear(4, 1, { spectralNorm: true });
  const loss = layer.forward(randn([2, 4])).sum().add(layer.forward(randn([2, 4])).sum());
  loss.backward();
  assert.deepEqual(layer.weight.grad!.shape, [1, 4]);
  layer.dispose();
}));
