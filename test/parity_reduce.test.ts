// Reductions, sorting and products against PyTorch: values, indices and the
// gradients of every float input, within rtol 1e-4 and atol 1e-5 (sums and
// products may add in another order here: robustok runs libtorch with all
// cores, the oracle with one thread). Inputs are random normals, distinct with
// probability 1, so min/max/sort/topk indices have no ties to break.
import { type Tensor, cdist, einsum, matmul, outer } from '../src/torch/index.js';
import { type Case, type InputSpec, parityTest } from './helpers/oracle.js';

const TOL = { rtol: 1e-4, atol: 1e-5 };

const g = (...shape: number[]): InputSpec => ({ shape, requiresGrad: true });
const gv = (shape: number[], values: InputSpec['values']): InputSpec => ({ shape, requiresGrad: true, values });
const bools = (shape: number[], values: number[]): InputSpec => ({ shape, values, dtype: 'bool' });
/** Both outputs of a [values, indices] pair. */
const pair = (r: [Tensor, Tensor]): Tensor[] => r;

const cases: Case[] = [
  // ---- sums and means ---------------------------------------------------------------------
  { name: 'sum', inputs: [g(3, 4, 5)],
    ts: ([x]) => [x!.sum(), x!.sum(0), x!.sum(-1, true), x!.sum([0, 2]), x!.sum([1, -1], true), x!.sum(1, false, 'float64')],
    py: '(x0.sum(), x0.sum(0), x0.sum(-1, keepdim=True), x0.sum((0, 2)), x0.sum((1, -1), keepdim=True), x0.sum(1, dtype=torch.float64))' },
  { name: 'keepdim without dims keeps every dim', inputs: [g(2, 3)],
    ts: ([x]) => [x!.sum(null, true), x!.mean(null, true), x!.var(null, true), x!.std(null, true), x!.norm(2, null, true)],
    py: '(x0.sum((0, 1), keepdim=True), x0.mean((0, 1), keepdim=True), x0.var((0, 1), keepdim=True), x0.std((0, 1), keepdim=True), torch.linalg.vector_norm(x0, 2, (0, 1), keepdim=True))' },
  { name: 'sum of int64 and bool', inputs: [{ shape: [2, 3], dtype: 'int64', values: [1, -2, 3, 40, 5, 6] }, bools([2, 3], [1, 0, 1, 1, 1, 0])],
    ts: ([a, b]) => [a!.sum(), a!.sum(1), b!.sum(), b!.sum(0)], py: '(x0.sum(), x0.sum(1), x1.sum(), x1.sum(0))' },
  { name: 'mean', inputs: [g(3, 4, 5)],
    ts: ([x]) => [x!.mean(), x!.mean(1), x!.mean([0, 2], true), x!.mean(-1), x!.mean(0, false, 'float64')],
    py: '(x0.mean(), x0.mean(1), x0.mean((0, 2), keepdim=True), x0.mean(-1), x0.mean(0, dtype=torch.float64))' },
  { name: 'sum mean float64', inputs: [{ shape: [4, 6], dtype: 'float64', requiresGrad: true }],
    ts: ([x]) => [x!.sum(1), x!.mean()], py: '(x0.sum(1), x0.mean())' },
  { name: 'prod', inputs: [gv([3, 4], 'positive')], ts: ([x]) => [x!.prod(), x!.prod(1), x!.prod(0, true), x!.prod(-1)],
    py: '(x0.prod(), x0.prod(1), x0.prod(0, keepdim=True), x0.prod(-1))' },
  { name: 'prod with negative values', inputs: [g(2, 5)], ts: ([x]) => [x!.prod(), x!.prod(1)], py: '(x0.prod(), x0.prod(1))' },

  // ---- spread -----------------------------------------------------------------------------
  { name: 'var unbiased', inputs: [g(4, 5, 3)], ts: ([x]) => [x!.var(), x!.var(1), x!.var([0, 2], true), x!.var(-1, false)],
    py: '(x0.var(), x0.var(1), x0.var((0, 2), keepdim=True), x0.var(-1))' },
  { name: 'var biased', inputs: [g(4, 5, 3)], ts: ([x]) => [x!.var(null, false, false), x!.var(1, false, false), x!.var([0, 1], true, false)],
    py: '(x0.var(unbiased=False), x0.var(1, unbiased=False), x0.var((0, 1), unbiased=False, keepdim=True))' },
  { name: 'std unbiased', inputs: [g(4, 5, 3)], ts: ([x]) => [x!.std(), x!.std(0), x!.std([1, 2], true)],
    py: '(x0.std(), x0.std(0), x0.std((1, 2), keepdim=True))' },
  { name: 'std biased', inputs: [g(4, 5, 3)], ts: ([x]) => [x!.std(null, false, false), x!.std(2, true, false), x!.std([0, 2], false, false)],
    py: '(x0.std(unbiased=False), x0.std(2, keepdim=True, unbiased=False), x0.std((0, 2), unbiased=False))' },

  // ---- extremes ---------------------------------------------------------------------------
  { name: 'min max over everything', inputs: [g(4, 5)], ts: ([x]) => [x!.min(), x!.max()], py: '(x0.min(), x0.max())' },
  { name: 'min along a dim (values, indices)', inputs: [g(4, 5, 3)],
    ts: ([x]) => [...pair(x!.min(1)), ...pair(x!.min(0, true)), ...pair(x!.min(-1))],
    py: '(*x0.min(1), *x0.min(0, keepdim=True), *x0.min(-1))' },
  { name: 'max along a dim (values, indices)', inputs: [g(4, 5, 3)],
    ts: ([x]) => [...pair(x!.max(1)), ...pair(x!.max(2, true)), ...pair(x!.max(-3))],
    py: '(*x0.max(1), *x0.max(2, keepdim=True), *x0.max(-3))' },
  { name: 'amin amax', inputs: [g(4, 5, 3)],
    ts: ([x]) => [x!.amin(1), x!.amax(0), x!.amin([0, 2]), x!.amax([1, 2], true), x!.amin(-1, true)],
    py: '(x0.amin(1), x0.amax(0), x0.amin((0, 2)), x0.amax((1, 2), keepdim=True), x0.amin(-1, keepdim=True))' },
  { name: 'argmin argmax', inputs: [{ shape: [4, 5, 3] }],
    ts: ([x]) => [x!.argmin(), x!.argmax(), x!.argmin(1), x!.argmax(2, true), x!.argmax(-3), x!.argmin(null, true)],
    py: '(x0.argmin(), x0.argmax(), x0.argmin(1), x0.argmax(2, keepdim=True), x0.argmax(-3), x0.argmin(None, keepdim=True))' },
  { name: 'min max of int64', inputs: [{ shape: [2, 4], dtype: 'int64', values: [5, -3, 9, 0, 2, 7, -8, 1] }],
    ts: ([x]) => [x!.min(), x!.max(), ...pair(x!.max(1)), x!.amin(0), x!.argmin(1)],
    py: '(x0.min(), x0.max(), *x0.max(1), x0.amin(0), x0.argmin(1))' },
  { name: 'logsumexp', inputs: [g(3, 4, 5)],
    ts: ([x]) => [x!.logsumexp(1), x!.logsumexp(-1, true), x!.logsumexp([0, 2]), x!.mul(40).logsumexp(0)],
    py: '(x0.logsumexp(1), x0.logsumexp(-1, keepdim=True), x0.logsumexp((0, 2)), (x0 * 40).logsumexp(0))' },

  // ---- norms ------------------------------------------------------------------------------
  { name: 'norm p=2', inputs: [g(3, 4, 5)], ts: ([x]) => [x!.norm(), x!.norm(2, 1), x!.norm(2, [0, 2], true), x!.norm(2, -1)],
    py: '(torch.linalg.vector_norm(x0), torch.linalg.vector_norm(x0, 2, 1), torch.linalg.vector_norm(x0, 2, (0, 2), keepdim=True), x0.norm(2, -1))' },
  { name: 'norm p=1', inputs: [g(3, 4, 5)], ts: ([x]) => [x!.norm(1), x!.norm(1, 0), x!.norm(1, [1, 2], true)],
    py: '(x0.norm(1), x0.norm(1, 0), x0.norm(1, (1, 2), keepdim=True))' },
  { name: 'norm p=Infinity and -Infinity', inputs: [g(3, 4, 5)],
    ts: ([x]) => [x!.norm(Infinity), x!.norm(Infinity, 1), x!.norm(Infinity, [0, 2], true), x!.norm(-Infinity, -1)],
    py: "(torch.linalg.vector_norm(x0, float('inf')), torch.linalg.vector_norm(x0, float('inf'), 1), " +
      "torch.linalg.vector_norm(x0, float('inf'), (0, 2), keepdim=True), torch.linalg.vector_norm(x0, float('-inf'), -1))" },
  { name: 'norm p=3 and p=0.5', inputs: [g(3, 4)], ts: ([x]) => [x!.norm(3), x!.norm(3, 1), x!.norm(0.5, 0, true)],
    py: '(x0.norm(3), x0.norm(3, 1), x0.norm(0.5, 0, keepdim=True))' },

  // ---- logic ------------------------------------------------------------------------------
  { name: 'all any', inputs: [bools([3, 4], [1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0])],
    ts: ([b]) => [b!.all(), b!.any(), b!.all(1), b!.any(1), b!.all(0, true), b!.any(-1, true), b!.slice(0, 0, 1).all(), b!.slice(0, 2).any()],
    py: '(x0.all(), x0.any(), x0.all(1), x0.any(1), x0.all(0, keepdim=True), x0.any(-1, keepdim=True), x0[:1].all(), x0[2:].any())' },
  { name: 'all any of comparisons', inputs: [{ shape: [4, 5] }],
    ts: ([x]) => [x!.gt(-3).all(), x!.gt(0).all(1), x!.gt(1).any(0), x!.gt(10).any()],
    py: '((x0 > -3).all(), (x0 > 0).all(1), (x0 > 1).any(0), (x0 > 10).any())' },

  // ---- scans and ordering ------------------------------------------------------------------
  { name: 'cumsum', inputs: [g(3, 4, 5)], ts: ([x]) => [x!.cumsum(0), x!.cumsum(-1), x!.cumsum(1, 'float64')],
    py: '(x0.cumsum(0), x0.cumsum(-1), x0.cumsum(1, dtype=torch.float64))' },
  { name: 'cumsum of int64', inputs: [{ shape: [5], dtype: 'int64', values: [3, -1, 4, 1, -5] }], ts: ([x]) => x!.cumsum(0), py: 'x0.cumsum(0)' },
  { name: 'topk', inputs: [g(3, 8)],
    ts: ([x]) => [...pair(x!.topk(3)), ...pair(x!.topk(2, 0)), ...pair(x!.topk(3, -1, false)), ...pair(x!.topk(8, 1))],
    py: '(*x0.topk(3), *x0.topk(2, 0), *x0.topk(3, -1, largest=False), *x0.topk(8, 1))' },
  { name: 'topk unsorted', inputs: [g(2, 10)], ts: ([x]) => pair(x!.topk(4, -1, true, false)), py: 'x0.topk(4, -1, sorted=False)' },
  { name: 'sort', inputs: [g(3, 6)],
    ts: ([x]) => [...pair(x!.sort()), ...pair(x!.sort(0)), ...pair(x!.sort(-1, true)), ...pair(x!.sort(1, false, true))],
    py: '(*x0.sort(), *x0.sort(0), *x0.sort(-1, descending=True), *x0.sort(stable=True, dim=1))' },
  { name: 'sort stable with ties', inputs: [{ shape: [10], values: [3, 1, 2, 1, 3, 2, 1, 3, 2, 1] }],
    ts: ([x]) => [...pair(x!.sort(0, false, true)), ...pair(x!.sort(0, true, true))],
    py: '(*x0.sort(stable=True, dim=0), *x0.sort(stable=True, dim=0, descending=True))' },
  { name: 'argsort', inputs: [{ shape: [4, 5] }], ts: ([x]) => [x!.argsort(), x!.argsort(0), x!.argsort(-1, true)],
    py: '(x0.argsort(), x0.argsort(0), x0.argsort(-1, descending=True))' },

  // ---- products ---------------------------------------------------------------------------
  { name: 'matmul 1-d by 1-d', inputs: [g(5), g(5)], ts: ([a, b]) => a!.matmul(b!), py: 'x0 @ x1' },
  { name: 'matmul 2-d by 1-d and 1-d by 2-d', inputs: [g(3, 4), g(4), g(3)], ts: ([m, v, w]) => [m!.matmul(v!), w!.matmul(m!)],
    py: '(x0 @ x1, x2 @ x0)' },
  { name: 'matmul 2-d', inputs: [g(3, 4), g(4, 5)], ts: ([a, b]) => [a!.matmul(b!), matmul(b!.T, a!.T)], py: '(x0 @ x1, x1.T @ x0.T)' },
  { name: 'matmul batched broadcast', inputs: [g(2, 1, 3, 4), g(5, 4, 2), g(4)],
    ts: ([a, b, v]) => [a!.matmul(b!), a!.matmul(v!), v!.matmul(b!)], py: '(x0 @ x1, x0 @ x2, x2 @ x1)' },
  { name: 'matmul batched by 2-d', inputs: [g(2, 3, 4), g(4, 6)], ts: ([a, b]) => a!.matmul(b!), py: 'x0 @ x1' },
  { name: 'matmul float64', inputs: [{ shape: [3, 4], dtype: 'float64', requiresGrad: true }, { shape: [4, 2], dtype: 'float64', requiresGrad: true }],
    ts: ([a, b]) => a!.matmul(b!), py: 'x0 @ x1' },
  { name: 'bmm', inputs: [g(3, 2, 4), g(3, 4, 5)], ts: ([a, b]) => a!.bmm(b!), py: 'torch.bmm(x0, x1)' },
  { name: 'einsum', inputs: [g(3, 4), g(4, 5), g(2, 3, 4), g(6, 4), g(4, 4)],
    ts: ([a, b, c, d, s]) => [einsum('ij,jk->ik', a!, b!), einsum('bnd,kd->bnk', c!, d!), einsum('ii->i', s!), einsum('ij,ij->', a!, a!),
      einsum('bij->bji', c!), einsum('i,j->ij', b!.select(0, 0), d!.select(1, 1)), einsum('bnd->d', c!), einsum('ij,kj,bki->b', s!, a!, c!)],
    py: "(torch.einsum('ij,jk->ik', x0, x1), torch.einsum('bnd,kd->bnk', x2, x3), torch.einsum('ii->i', x4), torch.einsum('ij,ij->', x0, x0), " +
      "torch.einsum('bij->bji', x2), torch.einsum('i,j->ij', x1[0], x3[:, 1]), torch.einsum('bnd->d', x2), torch.einsum('ij,kj,bki->b', x4, x0, x2))" },
  { name: 'outer', inputs: [g(4), g(3)], ts: ([a, b]) => [outer(a!, b!), outer(b!, b!)], py: '(torch.outer(x0, x1), torch.outer(x1, x1))' },
  { name: 'cdist p=2', inputs: [g(5, 3), g(4, 3), g(2, 5, 3), g(2, 6, 3)],
    ts: ([a, b, c, d]) => [cdist(a!, b!), cdist(c!, d!), cdist(c!, d!, 2)],
    py: '(torch.cdist(x0, x1), torch.cdist(x2, x3), torch.cdist(x2, x3, 2))' },
  { name: 'cdist p=1 and p=Infinity', inputs: [g(5, 3), g(4, 3)], ts: ([a, b]) => [cdist(a!, b!, 1), cdist(a!, b!, Infinity), cdist(a!, b!, 3)],
    py: "(torch.cdist(x0, x1, 1), torch.cdist(x0, x1, float('inf')), torch.cdist(x0, x1, 3))" },
  { name: 'cdist larger (matrix-multiply path, >25 rows)', inputs: [g(40, 8), g(30, 8)], ts: ([a, b]) => cdist(a!, b!), py: 'torch.cdist(x0, x1)' },
];

parityTest('reductions, sorting and products match PyTorch', cases, TOL);

