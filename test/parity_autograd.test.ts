// Autograd against PyTorch: torch.autograd.grad with createGraph (gradient
// penalties: double backward, compared value and gradient with PyTorch),
// retainGraph, accumulation into .grad, detach, noGrad/enableGrad and
// requiresGrad_, plus robustok-only behavioural assertions (allowUnused
// returning null, errors, flags, `.grad = null`). Tolerances: rtol 1e-4,
// atol 1e-5 for the cases that go through matrix products and reductions,
// rtol 1e-5, atol 1e-6 for the elementwise ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  F, type Tensor, enableGrad, grad, isGradEnabled, noGrad, ones, tensor, tidy,
} from '../src/torch/index.js';
import { type Case, type InputSpec, runParity } from './helpers/oracle.js';

const g = (shape: number[], values?: InputSpec['values']): InputSpec => ({ shape, requiresGrad: true, values });
const R = { rtol: 1e-4, atol: 1e-5 };

const cases: Case[] = [
  { name: 'gradient penalty ||d f/dx||² (double backward through tanh·matmul)', inputs: [g([3, 4]), g([4, 5])], ...R,
    ts: ([x, w]) => {
      const y = x!.matmul(w!).tanh().sum();
      const [gx] = grad(y, x!, { createGraph: true });
      return [gx!, gx!.square().sum()];
    },
    setup: 'gx, = torch.autograd.grad(torch.tanh(x0 @ x1).sum(), x0, create_graph=True)',
    py: '(gx, (gx ** 2).sum())' },
  { name: 'WGAN-GP penalty mean((||∇x D(x)||₂ − 1)²) over a batch', inputs: [g([4, 3]), g([6, 3]), g([6]), g([1, 6])], ...R,
    ts: ([x, w1, b1, w2]) => {
      const d = F.linear(F.gelu(F.linear(x!, w1!, b1!)), w2!);
      const [gx] = grad(d.sum(), x!, { createGraph: true });
      return gx!.norm(2, 1).sub(1).square().mean();
    },
    setup: 'd = F.linear(F.gelu(F.linear(x0, x1, x2)), x3)\ngx, = torch.autograd.grad(d.sum(), x0, create_graph=True)',
    py: '((gx.norm(2, dim=1) - 1) ** 2).mean()' },
  { name: 'grad of a non-scalar output with gradOutputs, two inputs, createGraph',
    inputs: [g([2, 3]), g([2, 3]), { shape: [2, 3] }], ...R,
    ts: ([x, w, v]) => {
      const y = x!.mul(w!).sin();
      const [gx, gw] = grad(y, [x!, w!], { gradOutputs: [v!], createGraph: true });
      return [gx!, gw!];
    },
    setup: 'gx, gw = torch.autograd.grad((x0 * x1).sin(), (x0, x1), grad_outputs=x2, create_graph=True)',
    py: '(gx, gw)' },
  { name: 'grad of several outputs', inputs: [g([5])], grad: false,
    ts: ([x]) => grad([x!.exp().sum(), x!.square().sum()], x!).map((t) => t!),
    py: 'torch.autograd.grad((x0.exp().sum(), (x0 ** 2).sum()), x0)' },
  { name: 'grad without createGraph: plain first derivative', inputs: [g([3, 4]), g([4, 2])], grad: false, ...R,
    ts: ([x, w]) => grad(x!.matmul(w!).sigmoid().sum(), [x!, w!]).map((t) => t!),
    py: 'torch.autograd.grad(torch.sigmoid(x0 @ x1).sum(), (x0, x1))' },
  { name: 'retainGraph: two backward passes through one graph accumulate', inputs: [g([6])], grad: false,
    ts: ([x]) => {
      const y = x!.square().mul(x!.sin()).sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      return x!.grad!;
    },
    setup: 'y = (x0 ** 2 * x0.sin()).sum()\ny.backward(retain_graph=True)\ny.backward()',
    py: 'x0.grad' },
  { name: 'accumulation in .grad over two backward calls on different graphs', inputs: [g([2, 3]), g([3])], grad: false,
    ts: ([x, b]) => {
      x!.add(b!).exp().sum().backward();
      x!.mul(b!).sum().backward();
      return [x!.grad!, b!.grad!];
    },
    setup: '(x0 + x1).exp().sum().backward()\n(x0 * x1).sum().backward()',
    py: '(x0.grad, x1.grad)' },
  { name: '.grad = null resets the accumulation', inputs: [g([4])], grad: false,
    ts: ([x]) => {
      x!.exp().sum().backward();
      x!.grad = null;
      x!.cos().sum().backward();
      return x!.grad!;
    },
    setup: 'x0.exp().sum().backward()\nx0.grad = None\nx0.cos().sum().backward()',
    py: 'x0.grad' },
  { name: 'backward with an explicit upstream gradient', inputs: [g([2, 3]), { shape: [2, 3] }], grad: false,
    ts: ([x, v]) => {
      x!.tanh().backward(v!);
      return x!.grad!;
    },
    setup: 'x0.tanh().backward(x1)',
    py: 'x0.grad' },
  { name: 'detach stops the gradient: d(x·detach(x))/dx = x', inputs: [g([5])],
    ts: ([x]) => x!.mul(x!.detach()), py: 'x0 * x0.detach()' },
  { name: 'detach in the middle of a chain', inputs: [g([3, 3]), g([3])], ...R,
    ts: ([a, b]) => a!.matmul(b!.exp().detach()).add(b!.square()),
    py: '(x0 @ x1.exp().detach()) + x1 ** 2' },
  { name: 'enableGrad inside noGrad records the graph', inputs: [g([4])],
    ts: ([x]) => noGrad(() => enableGrad(() => x!.sin().mul(3))),
    setup: 'with torch.no_grad():\n    with torch.enable_grad():\n        y = x0.sin() * 3',
    py: 'y' },
  { name: 'a branch computed under noGrad is a constant', inputs: [g([4])],
    ts: ([x]) => x!.mul(noGrad(() => x!.exp())),
    setup: 'with torch.no_grad():\n    e = x0.exp()',
    py: 'x0 * e' },
  { name: 'requiresGrad_ on a fresh leaf', inputs: [{ shape: [3, 2] }], grad: false,
    ts: ([x]) => {
      const leaf = x!.clone().requiresGrad_();
      leaf.square().sum().backward();
      return leaf.grad!;
    },
    setup: 'leaf = x0.clone().requires_grad_()\n(leaf ** 2).sum().backward()',
    py: 'leaf.grad' },
];

test('autograd matches PyTorch', async (t) => {
  for (const outcome of runParity(cases, { rtol: 1e-5, atol: 1e-6 })) {
    await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
  }
});

// ---- robustok-only behaviour -------------------------------------------------------------

const values = (t: Tensor | null): number[] => Array.from(t!.toTypedArray() as Float32Array);

test('grad with allowUnused returns null for an unused input, and throws without it', () => tidy(() => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const unused = tensor([4, 5], { requiresGrad: true });
  const y = x.square().sum();
  const [gx, gu] = grad(y, [x, unused], { allowUnused: true, retainGraph: true });
  assert.deepEqual(values(gx!), [2, 4, 6]);
  assert.equal(gu, null);
  assert.throws(() => grad(y, [x, unused]));
}));

test('grad does not touch .grad', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  grad(x.exp().sum(), x);
  assert.equal(x.grad, null);
}));

test('grad with createGraph gives a differentiable gradient; without, a constant', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  const [withGraph] = grad(x.pow(3).sum(), x, { createGraph: true });
  assert.equal(withGraph!.requiresGrad, true);
  const [second] = grad(withGraph!.sum(), x);
  assert.deepEqual(values(second!), [6, 12]);
  const [plain] = grad(x.pow(3).sum(), x);
  assert.equal(plain!.requiresGrad, false);
}));

test('backward with createGraph leaves a .grad that can be differentiated again', () => tidy(() => {
  const x = tensor([1, 3], { requiresGrad: true });
  x.pow(3).sum().backward(undefined, { createGraph: true });
  const first = x.grad!;
  assert.equal(first.requiresGrad, true);
  assert.deepEqual(values(first), [3, 27]);
  const [second] = grad(first.sum(), x);
  assert.deepEqual(values(second!), [6, 18]);
  x.grad = null;  // break the reference cycle x → grad → graph → x, as PyTorch recommends
}));

test('a second backward without retainGraph throws; with retainGraph it works', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  assert.throws(() => y.backward());
  const z = x.exp().sum();
  z.backward(undefined, { retainGraph: true });
  z.backward();
  assert.ok(x.grad !== null);
}));

test('noGrad produces results that do not require grad, and restores the mode', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  assert.equal(isGradEnabled(), true);
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return x.mul(2).add(1);
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(isGradEnabled(), true);
  assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
  assert.equal(isGradEnabled(), true, 'the mode is restored after a throw');
  assert.equal(x.mul(2).requiresGrad, true);
}));

test('enableGrad inside noGrad records, and noGrad resumes after it', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  noGrad(() => {
    const inner = enableGrad(() => {
      assert.equal(isGradEnabled(), true);
      return x.square();
    });
    assert.equal(inner.requiresGrad, true);
    assert.equal(isGradEnabled(), false);
    assert.equal(x.square().requiresGrad, false);
    inner.backward(ones([2]));  // backward works under noGrad: the graph was recorded
  });
  assert.deepEqual(values(x.grad), [2, 4]);
}));

test('requiresGrad_ on leaves; detach gives a leaf without grad', () => tidy(() => {
  const a = ones([2]);
  assert.equal(a.requiresGrad, false);
  assert.equal(a.isLeaf, true);
  assert.equal(a.requiresGrad_(), a, 'returns this');
  assert.equal(a.requiresGrad, true);
  assert.equal(a.isLeaf, true);
  const b = a.mul(3);
  assert.equal(b.isLeaf, false);
  assert.equal(b.requiresGrad, true);
  const d = b.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.isLeaf, true);
  a.requiresGrad_(false);
  assert.equal(a.requiresGrad, false);
  assert.equal(a.mul(3).requiresGrad, false);
}));

test('.grad is null before backward, accumulates, and can be set to null or a tensor', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  assert.equal(x.grad, null);
  x.mul(3).sum().backward();
  assert.deepEqual(values(x.grad), [3, 3]);
  x.mul(3).sum().backward();
  assert.deepEqual(values(x.grad), [6, 6]);
  x.grad = null;
  assert.equal(x.grad, null);
  x.grad = tensor([10, 20]);
  x.mul(3).sum().backward();
  assert.deepEqual(values(x.grad), [13, 23]);
}));

test('a detached intermediate stops gradients', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  const h = x.mul(2);
  h.mul(h.detach()).sum().backward();
  assert.deepEqual(values(x.grad), [4, 8]);  // d/dx (2x · const 2x) = 2 · 2x
}));

test('assigning a .grad of the wrong shape or dtype throws, as in PyTorch', () => tidy(() => {
  const x = tensor([1, 2], { requiresGrad: true });
  assert.throws(() => { x.grad = tensor([1, 2, 3]); }, /assigned grad has shape \[3\] but the tensor has shape \[2\]/);
  assert.throws(() => { x.grad = tensor([1, 2], { dtype: 'float64' }); }, /assigned grad is Double/);
  assert.equal(x.grad, null);
}));
