// Layers against their PyTorch twins on the same weights: a robustok module's
// state dict is loaded into the PyTorch module (by name, strict), both run on
// the same input, and outputs and input gradients must agree (rtol 1e-4, atol
// 1e-5: every layer here contains a matrix product or a normalisation).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Attention, BatchNorm2d, Conv2d, ConvTranspose2d, Embedding, GroupNorm, KVCache, LayerNorm, Linear, type Module,
  Sequential, TransformerBlock,
} from '../src/nn/index.js';
import { type Tensor, cat, manualSeed, randn, tensor, tidy } from '../src/torch/index.js';
import { type Case, type InputSpec, runParity } from './helpers/oracle.js';

interface ModuleCase {
  name: string;
  build: () => Module;
  /** Python expression building the PyTorch twin (modules_ref's classes in scope). */
  py: string;
  input: InputSpec;
  forward?: (m: Module, x: Tensor) => Tensor | Tensor[];
  /** Python call on `m` and `x0` (default `m(x0)`). */
  call?: string;
  train?: boolean;
}

function moduleCase(c: ModuleCase): Case {
  manualSeed(7);
  const module = c.build();
  module.train(c.train ?? false);
  const entries = Object.entries(module.stateDict());
  const weights: InputSpec[] = entries.map(([, t]) => ({
    shape: t.shape, dtype: t.dtype, values: Array.from(t.to('float64').toTypedArray() as Float64Array, Number),
  }));
  const names = entries.map(([n]) => n);
  const loadPy = names.map((n, i) => `'${n}': x${i + 1}`).join(', ');
  return {
    name: c.name,
    inputs: [c.input, ...weights],
    ts: ([x, ...ws]) => {
      module.loadStateDict(Object.fromEntries(names.map((n, i) => [n, ws[i]!])));
      return c.forward ? c.forward(module, x!) : (module as unknown as { forward(x: Tensor): Tensor }).forward(x!);
    },
    setup: `from modules_ref import *\nm = ${c.py}\nm.load_state_dict({${loadPy}}, strict=True)\nm.train(${c.train ? 'True' : 'False'})`,
    py: c.call ?? 'm(x0)',
  };
}

const x = (shape: number[]): InputSpec => ({ shape, requiresGrad: true });

const cases: Case[] = [
  moduleCase({ name: 'Linear', build: () => new Linear(5, 3), py: 'nn.Linear(5, 3)', input: x([4, 5]) }),
  moduleCase({ name: 'Linear without bias', build: () => new Linear(5, 3, { bias: false }), py: 'nn.Linear(5, 3, bias=False)', input: x([2, 4, 5]) }),
  moduleCase({ name: 'Conv2d stride 2 pad 1', build: () => new Conv2d(3, 4, 4, { stride: 2, padding: 1 }),
    py: 'nn.Conv2d(3, 4, 4, stride=2, padding=1)', input: x([2, 3, 8, 8]) }),
  moduleCase({ name: 'Conv2d groups', build: () => new Conv2d(4, 6, 3, { groups: 2, padding: 1 }),
    py: 'nn.Conv2d(4, 6, 3, groups=2, padding=1)', input: x([1, 4, 5, 5]) }),
  moduleCase({ name: 'ConvTranspose2d', build: () => new ConvTranspose2d(4, 3, 4, { stride: 2, padding: 1 }),
    py: 'nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1)', input: x([1, 4, 5, 5]) }),
  moduleCase({ name: 'GroupNorm', build: () => new GroupNorm(2, 4), py: 'nn.GroupNorm(2, 4)', input: x([2, 4, 3, 3]) }),
  moduleCase({ name: 'LayerNorm', build: () => new LayerNorm(6), py: 'nn.LayerNorm(6)', input: x([3, 6]) }),
  moduleCase({ name: 'BatchNorm2d eval', build: () => new BatchNorm2d(3), py: 'nn.BatchNorm2d(3)', input: x([4, 3, 2, 2]) }),
  moduleCase({ name: 'BatchNorm2d training updates running stats', build: () => new BatchNorm2d(3), py: 'nn.BatchNorm2d(3)',
    input: x([4, 3, 2, 2]), train: true,
    forward: (m, t) => { const b = m as BatchNorm2d; return [b.forward(t), b.runningMean.clone(), b.runningVar.clone(), b.numBatchesTracked.clone()]; },
    call: '(m(x0), m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())' }),
  moduleCase({ name: 'Embedding', build: () => new Embedding(7, 3), py: 'nn.Embedding(7, 3)',
    input: { shape: [2, 4], dtype: 'int64', values: [0, 6, 2, 2, 5, 1, 3, 4] } }),
  moduleCase({ name: 'Sequential names children 0, 1, ...', build: () => new Sequential(new Linear(4, 8), new LayerNorm(8), new Linear(8, 2)),
    py: 'nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))', input: x([3, 4]) }),
  moduleCase({ name: 'Linear with spectral norm (training: one power iteration)', train: true,
    build: () => new Linear(6, 4, { spectralNorm: true }), py: 'torch.nn.utils.spectral_norm(nn.Linear(6, 4))', input: x([3, 6]),
    forward: (m, t) => { const l = m as Linear; return [l.forward(t), l.spectral!.u.clone(), l.spectral!.v.clone()]; },
    call: '(m(x0), m.weight_u.clone(), m.weight_v.clone())' }),
  moduleCase({ name: 'Conv2d with spectral norm (eval: stored u, v)',
    build: () => new Conv2d(3, 5, 3, { spectralNorm: true }), py: 'torch.nn.utils.spectral_norm(nn.Conv2d(3, 5, 3))', input: x([1, 3, 5, 5]) }),
  moduleCase({ name: 'Attention (self)', build: () => new Attention(8, { heads: 2 }), py: 'Attention(8, 2)', input: x([2, 5, 8]) }),
  moduleCase({ name: 'Attention causal with QK-norm', build: () => new Attention(8, { heads: 4, qkNorm: true }),
    py: 'Attention(8, 4, qk_norm=True)', input: x([2, 5, 8]),
    forward: (m, t) => (m as Attention).forward(t, { causal: true }), call: 'm(x0, causal=True)' }),
  moduleCase({ name: 'TransformerBlock', build: () => new TransformerBlock(8, { heads: 2 }), py: 'Block(8, 2)', input: x([2, 4, 8]) }),
  moduleCase({ name: 'TransformerBlock causal', build: () => new TransformerBlock(8, { heads: 2, mlpRatio: 2 }),
    py: 'Block(8, 2, mlp_ratio=2)', input: x([1, 6, 8]),
    forward: (m, t) => (m as TransformerBlock).forward(t, { causal: true }), call: 'm(x0, causal=True)' }),
];

test('layers match their PyTorch twins on the same state dict', async (t) => {
  for (const outcome of runParity(cases, { rtol: 1e-4, atol: 1e-5 })) {
    await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
  }
});

test('cross-attention matches PyTorch', async (t) => {
  manualSeed(3);
  const context = randn([2, 3, 6]);
  const values = Array.from(context.toTypedArray() as Float32Array);
  const c = moduleCase({ name: 'Attention (cross)', build: () => new Attention(8, { heads: 2, contextDim: 6 }),
    py: 'Attention(8, 2, context_dim=6)', input: x([2, 5, 8]),
    forward: (m, q) => (m as Attention).forward(q, { context: tensor(values, { shape: [2, 3, 6] }) }),
    call: `m(x0, context=torch.tensor(${JSON.stringify(values)}).reshape(2, 3, 6))` });
  context.dispose();
  const [outcome] = runParity([c], { rtol: 1e-4, atol: 1e-5 });
  await t.test(outcome!.name, () => assert.deepEqual(outcome!.problems, []));
});

test('a KV cache fed one token at a time gives the causal full-sequence output', () => tidy(() => {
  manualSeed(5);
  const block = new TransformerBlock(8, { heads: 2 }).eval();
  const seq = randn([2, 6, 8]);
  const full = block.forward(seq, { causal: true });
  const cache = new KVCache();
  const steps: Tensor[] = [];
  for (let i = 0; i < 6; i++) steps.push(block.forward(seq.slice(1, i, i + 1), { causal: true, cache }));
  const incremental = cat(steps, 1);
  const diff = incremental.sub(full).abs().max().item();
  cache.dispose();
  block.dispose();
  assert.ok(diff < 1e-5, `max difference ${diff}`);
}));
