// Shape, view, join/split and indexing ops against PyTorch: values, and the
// gradients of every input that requires grad (index tensors and masks do
// not), within rtol 1e-5 and atol 1e-6 — the elementwise tolerance (these
// ops only move values, so in practice they are exact).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DType, type Tensor, cat, stack, tensor, where } from '../src/torch/index.js';
import { type Case, type InputSpec, parityTest } from './helpers/oracle.js';

const TOL = { rtol: 1e-5, atol: 1e-6 };

const g = (...shape: number[]): InputSpec => ({ shape, requiresGrad: true });
/** An index (int64) or mask (bool) input with explicit values. */
const ix = (shape: number[], values: number[], dtype: DType = 'int64'): InputSpec => ({ shape, values, dtype });
const mask = (shape: number[], values: number[]): InputSpec => ix(shape, values, 'bool');
/** Applies an in-place op to a clone, so that leaves which require grad stay untouched. */
const onClone = (x: Tensor, fn: (y: Tensor) => void): Tensor => {
  const y = x.clone();
  fn(y);
  return y;
};

const cases: Case[] = [
  // ---- views and reshapes -------------------------------------------------------------------
  { name: 'reshape', inputs: [g(2, 3, 4)], ts: ([x]) => [x!.reshape(6, 4), x!.reshape([4, -1]), x!.reshape(-1), x!.reshape(2, 1, 12)],
    py: '(x0.reshape(6, 4), x0.reshape(4, -1), x0.reshape(-1), x0.reshape(2, 1, 12))' },
  { name: 'reshape of a non-contiguous tensor', inputs: [g(3, 4)], ts: ([x]) => x!.transpose(0, 1).reshape(2, 6),
    py: 'x0.transpose(0, 1).reshape(2, 6)' },
  { name: 'view', inputs: [g(2, 3, 4)], ts: ([x]) => [x!.view(6, 4), x!.view([2, 12]), x!.view(-1, 2)],
    py: '(x0.view(6, 4), x0.view(2, 12), x0.view(-1, 2))' },
  { name: 'permute', inputs: [g(2, 3, 4)], ts: ([x]) => [x!.permute(2, 0, 1), x!.permute([1, 2, 0]), x!.permute(-1, -3, -2)],
    py: '(x0.permute(2, 0, 1), x0.permute(1, 2, 0), x0.permute(-1, -3, -2))' },
  { name: 'transpose', inputs: [g(2, 3, 4)], ts: ([x]) => [x!.transpose(0, 2), x!.transpose(-1, -2), x!.transpose(1, 1)],
    py: '(x0.transpose(0, 2), x0.transpose(-1, -2), x0.transpose(1, 1))' },
  { name: 'T (2-d)', inputs: [g(3, 5)], ts: ([x]) => x!.T, py: 'x0.T' },
  { name: 'T (1-d and 3-d: all dims reversed)', inputs: [g(4), g(2, 3, 4)], ts: ([a, b]) => [a!.T, b!.T], py: '(x0.T, x1.permute(2, 1, 0))' },
  { name: 'flatten', inputs: [g(2, 3, 4, 2)], ts: ([x]) => [x!.flatten(), x!.flatten(1), x!.flatten(0, 1), x!.flatten(1, -2), x!.flatten(-2)],
    py: '(x0.flatten(), x0.flatten(1), x0.flatten(0, 1), x0.flatten(1, -2), x0.flatten(-2))' },
  { name: 'squeeze', inputs: [g(1, 3, 1, 2)], ts: ([x]) => [x!.squeeze(), x!.squeeze(2), x!.squeeze(0), x!.squeeze(1), x!.squeeze(-2)],
    py: '(x0.squeeze(), x0.squeeze(2), x0.squeeze(0), x0.squeeze(1), x0.squeeze(-2))' },
  { name: 'unsqueeze', inputs: [g(3, 2)], ts: ([x]) => [x!.unsqueeze(0), x!.unsqueeze(1), x!.unsqueeze(-1), x!.unsqueeze(2)],
    py: '(x0.unsqueeze(0), x0.unsqueeze(1), x0.unsqueeze(-1), x0.unsqueeze(2))' },
  { name: 'expand', inputs: [g(3, 1), g(4)], ts: ([a, b]) => [a!.expand(3, 4), a!.expand([2, -1, 5]), b!.expand(2, 3, -1)],
    py: '(x0.expand(3, 4), x0.expand(2, -1, 5), x1.expand(2, 3, -1))' },
  { name: 'repeat', inputs: [g(2, 3)], ts: ([x]) => [x!.repeat(2, 3), x!.repeat([2, 1, 1]), x!.repeat(1, 1)],
    py: '(x0.repeat(2, 3), x0.repeat(2, 1, 1), x0.repeat(1, 1))' },
  { name: 'repeatInterleave', inputs: [g(2, 3)], ts: ([x]) => [x!.repeatInterleave(2), x!.repeatInterleave(3, 1), x!.repeatInterleave(2, 0), x!.repeatInterleave(2, -1)],
    py: '(x0.repeat_interleave(2), x0.repeat_interleave(3, 1), x0.repeat_interleave(2, 0), x0.repeat_interleave(2, -1))' },
  { name: 'contiguous', inputs: [g(3, 4)],
    ts: ([x]) => { const y = x!.T.contiguous(); return [y, tensor([y.isContiguous() ? 1 : 0, x!.T.isContiguous() ? 1 : 0])]; },
    py: '(x0.T.contiguous(), torch.tensor([float(x0.T.contiguous().is_contiguous()), float(x0.T.is_contiguous())]))' },
  { name: 'contiguous in channels-last layout (values, strides and gradient)', inputs: [g(2, 3, 4, 5)],
    ts: ([x]) => {
      const y = x!.contiguous('channels_last');
      return [y.mul(2), tensor([y.isContiguous('channels_last') ? 1 : 0, y.isContiguous() ? 1 : 0, x!.isContiguous('channels_last') ? 1 : 0])];
    },
    py: '(lambda y: (y * 2, torch.tensor([float(y.is_contiguous(memory_format=torch.channels_last)), float(y.is_contiguous()), float(x0.is_contiguous(memory_format=torch.channels_last))])))(x0.contiguous(memory_format=torch.channels_last))' },

  // ---- joins and splits ----------------------------------------------------------------------
  { name: 'cat', inputs: [g(2, 3), g(1, 3), g(4, 3)], ts: ([a, b, c]) => [cat([a!, b!, c!]), cat([a!, b!], -2)],
    py: '(torch.cat([x0, x1, x2]), torch.cat([x0, x1], -2))' },
  { name: 'cat along dim 1 and -1', inputs: [g(2, 3, 2), g(2, 1, 2), g(2, 3, 4)],
    ts: ([a, b, c]) => [cat([a!, b!], 1), cat([a!, c!], -1), cat([a!])],
    py: '(torch.cat([x0, x1], 1), torch.cat([x0, x2], -1), torch.cat([x0]))' },
  { name: 'stack', inputs: [g(2, 3), g(2, 3), g(2, 3)], ts: ([a, b, c]) => [stack([a!, b!, c!]), stack([a!, b!], 1), stack([a!, c!], -1), stack([b!], 2)],
    py: '(torch.stack([x0, x1, x2]), torch.stack([x0, x1], 1), torch.stack([x0, x2], -1), torch.stack([x1], 2))' },
  { name: 'split by size (uneven)', inputs: [g(5, 4)], ts: ([x]) => [...x!.split(2), ...x!.split(3, 1)],
    py: '(*x0.split(2), *x0.split(3, 1))' },
  { name: 'split by sizes', inputs: [g(3, 5)], ts: ([x]) => [...x!.split([1, 3, 1], 1), ...x!.split([2, 1]), ...x!.split([0, 5], -1)],
    py: '(*x0.split([1, 3, 1], 1), *x0.split([2, 1]), *x0.split([0, 5], -1))' },
  { name: 'chunk', inputs: [g(7, 4)], ts: ([x]) => [...x!.chunk(3), ...x!.chunk(2, -1), ...x!.chunk(4, 1)],
    py: '(*x0.chunk(3), *x0.chunk(2, -1), *x0.chunk(4, 1))' },
  { name: 'chunk with fewer chunks than asked', inputs: [g(5)], ts: ([x]) => x!.chunk(4), py: 'x0.chunk(4)' },

  // ---- slicing and selection -------------------------------------------------------------------
  { name: 'narrow', inputs: [g(4, 5)], ts: ([x]) => [x!.narrow(1, 1, 2), x!.narrow(0, 0, 4), x!.narrow(-1, 4, 1), x!.narrow(0, -2, 2)],
    py: '(x0.narrow(1, 1, 2), x0.narrow(0, 0, 4), x0.narrow(-1, 4, 1), x0.narrow(0, -2, 2))' },
  { name: 'slice with steps and open ends', inputs: [g(6, 7)],
    ts: ([x]) => [x!.slice(1, 1, null, 2), x!.slice(0, null, 4), x!.slice(0, 1, 5, 3), x!.slice(-1, -3), x!.slice(1, null, -2), x!.slice(0, 2, 100),
      x!.slice(1)],
    py: '(x0[:, 1::2], x0[:4], x0[1:5:3], x0[:, -3:], x0[:, :-2], x0[2:100], x0[:, :])' },
  { name: 'slice of a 3-d tensor on the last dim', inputs: [g(2, 3, 8)], ts: ([x]) => x!.slice(2, 1, 7, 3), py: 'x0[:, :, 1:7:3]' },
  { name: 'select', inputs: [g(3, 4, 2)], ts: ([x]) => [x!.select(1, -1), x!.select(0, 2), x!.select(2, 0), x!.select(-1, 1)],
    py: '(x0[:, -1], x0[2], x0[:, :, 0], x0[..., 1])' },
  { name: 'indexSelect', inputs: [g(3, 4), ix([4], [2, 0, 2, 3]), ix([2], [1, 1])],
    ts: ([x, i, j]) => [x!.indexSelect(1, i!), x!.indexSelect(0, j!), x!.indexSelect(-1, j!)],
    py: '(x0.index_select(1, x1), x0.index_select(0, x2), x0.index_select(-1, x2))' },
  { name: 'gather', inputs: [g(3, 4), ix([3, 2], [0, 3, 1, 1, 2, 0]), ix([2, 4], [2, 0, 1, 2, 0, 0, 2, 1])],
    ts: ([x, i, j]) => [x!.gather(1, i!), x!.gather(0, j!), x!.gather(-1, i!)],
    py: '(x0.gather(1, x1), x0.gather(0, x2), x0.gather(-1, x1))' },

  // ---- scatter family --------------------------------------------------------------------------
  // Indices are unique per destination so plain scatter is deterministic.
  { name: 'scatter tensor src', inputs: [g(3, 5), g(2, 5), ix([2, 5], [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])],
    ts: ([x, s, i]) => [x!.scatter(0, i!, s!)], py: 'x0.scatter(0, x2, x1)' },
  // (libtorch 1.13 — PyTorch too — cannot differentiate src when it is larger than index: src has no grad here.)
  { name: 'scatter tensor src along dim 1 (index smaller than src)', inputs: [g(3, 5), { shape: [3, 4] }, ix([3, 2], [4, 0, 1, 3, 2, 2 + 1])],
    ts: ([x, s, i]) => x!.scatter(1, i!, s!), py: 'x0.scatter(1, x2, x1)' },
  { name: 'scatter scalar value', inputs: [g(3, 5), ix([3, 2], [4, 0, 1, 3, 2, 0])],
    ts: ([x, i]) => [x!.scatter(1, i!, 2.5), x!.scatter(1, i!, -1)], py: '(x0.scatter(1, x1, 2.5), x0.scatter(1, x1, -1))' },
  // PyTorch has no derivative for scatter with `reduce`: values only.
  { name: 'scatter reduce add/multiply (duplicates)', inputs: [{ shape: [3, 4] }, { shape: [2, 4] }, ix([2, 4], [0, 0, 2, 1, 0, 2, 2, 1])],
    ts: ([x, s, i]) => [x!.scatter(0, i!, s!, 'add'), x!.scatter(0, i!, s!, 'multiply'), x!.scatter(0, i!, 3, 'add'), x!.scatter(0, i!, 2, 'multiply')],
    py: "(x0.scatter(0, x2, x1, reduce='add'), x0.scatter(0, x2, x1, reduce='multiply'), x0.scatter(0, x2, 3, reduce='add'), " +
      "x0.scatter(0, x2, 2, reduce='multiply'))" },
  { name: 'scatterAdd (duplicates)', inputs: [g(3, 4), g(3, 4), ix([3, 4], [0, 0, 2, 1, 0, 2, 2, 1, 1, 1, 1, 0])],
    ts: ([x, s, i]) => [x!.scatterAdd(0, i!, s!), x!.scatterAdd(1, i!.slice(0, 0, 2), s!.slice(0, 0, 2))],
    py: '(x0.scatter_add(0, x2, x1), x0.scatter_add(1, x2[:2], x1[:2]))' },

  // ---- masks and conditions ---------------------------------------------------------------------
  { name: 'maskedFill scalar', inputs: [g(3, 4), mask([3, 4], [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1])],
    ts: ([x, m]) => [x!.maskedFill(m!, -1e9), x!.maskedFill(m!, 0), x!.maskedFill(m!.logicalNot(), 2.5)],
    py: '(x0.masked_fill(x1, -1e9), x0.masked_fill(x1, 0), x0.masked_fill(~x1, 2.5))' },
  { name: 'maskedFill broadcast mask', inputs: [g(3, 4), mask([4], [1, 0, 1, 0])], ts: ([x, m]) => x!.maskedFill(m!, 7), py: 'x0.masked_fill(x1, 7)' },
  { name: 'maskedFill 0-d tensor value (grad into value)', inputs: [g(3, 4), g(), mask([3, 4], [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1])],
    ts: ([x, v, m]) => x!.maskedFill(m!, v!), py: 'x0.masked_fill(x2, x1)' },
  { name: 'maskedSelect', inputs: [g(3, 4), mask([3, 4], [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1]), mask([4], [0, 1, 1, 0])],
    ts: ([x, m, b]) => [x!.maskedSelect(m!), x!.maskedSelect(b!)], py: '(x0.masked_select(x1), x0.masked_select(x2))' },
  { name: 'where tensors broadcast', inputs: [g(3, 4), g(4), mask([3, 1], [1, 0, 1])],
    ts: ([a, b, m]) => [where(m!, a!, b!), where(a!.gt(0), a!, b!)], py: '(torch.where(x2, x0, x1), torch.where(x0 > 0, x0, x1))' },
  { name: 'where with scalars', inputs: [g(3, 4)],
    ts: ([a]) => [where(a!.gt(0), a!, 0), where(a!.lt(0.5), -1, a!), where(a!.gt(0), 1, -1)],
    py: '(torch.where(x0 > 0, x0, 0.), torch.where(x0 < 0.5, -1., x0), torch.where(x0 > 0, 1., -1.))' },
  { name: 'nonzero', inputs: [ix([3, 4], [0, 1, 0, 2, 3, 0, 0, 0, 5, 5, 0, 1], 'float32')], ts: ([x]) => x!.nonzero(), py: 'x0.nonzero()' },

  // ---- triangles, flips, rolls --------------------------------------------------------------------
  { name: 'tril triu', inputs: [g(4, 5)], ts: ([x]) => [x!.tril(), x!.triu(), x!.tril(1), x!.triu(-1), x!.tril(-2), x!.triu(2)],
    py: '(x0.tril(), x0.triu(), x0.tril(1), x0.triu(-1), x0.tril(-2), x0.triu(2))' },
  { name: 'tril triu batched', inputs: [g(2, 3, 3)], ts: ([x]) => [x!.tril(), x!.triu(1)], py: '(x0.tril(), x0.triu(1))' },
  { name: 'flip', inputs: [g(2, 3, 4)], ts: ([x]) => [x!.flip([0]), x!.flip([0, 2]), x!.flip(-1), x!.flip([0, 1, 2])],
    py: '(x0.flip([0]), x0.flip([0, 2]), x0.flip(-1), x0.flip([0, 1, 2]))' },
  { name: 'roll', inputs: [g(3, 4)], ts: ([x]) => [x!.roll(1, 0), x!.roll(-1, 1), x!.roll([1, 2], [0, 1]), x!.roll(5), x!.roll(6, -1)],
    py: '(x0.roll(1, 0), x0.roll(-1, 1), x0.roll((1, 2), (0, 1)), x0.roll(5), x0.roll(6, -1))' },

  // ---- advanced indexing ------------------------------------------------------------------------
  { name: 'index with an empty list is the tensor itself', inputs: [g(2, 3)], ts: ([x]) => x!.index([]).mul(2), py: 'x0[()] * 2' },
  { name: 'index first dim', inputs: [g(4, 3), ix([3], [3, 0, 3])], ts: ([x, i]) => x!.index([i!]), py: 'x0[x1]' },
  { name: 'index with a null slot first', inputs: [g(4, 3, 2), ix([2, 2], [2, 0, 1, 1])], ts: ([x, i]) => [x!.index([null, i!]), x!.index([null, null, i!.remainder(2)])],
    py: '(x0[:, x1], x0[:, :, x1 % 2])' },
  { name: 'index with two tensors (pairs, broadcast)', inputs: [g(4, 3), ix([3], [3, 0, 1]), ix([3], [2, 2, 0]), ix([2, 1], [1, 3])],
    ts: ([x, i, j, k]) => [x!.index([i!, j!]), x!.index([k!, j!])], py: '(x0[x1, x2], x0[x3, x2])' },
  { name: 'index with a bool mask', inputs: [g(4, 3), mask([4], [1, 0, 1, 1]), mask([4, 3], [1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1])],
    ts: ([x, m, n]) => [x!.index([m!]), x!.index([n!]), x!.index([null, m!.slice(0, 0, 3)])], py: '(x0[x1], x0[x2], x0[:, x1[:3]])' },
  { name: 'index with non-adjacent tensors (dims move to the front)', inputs: [g(2, 3, 4), ix([2], [1, 0]), ix([2], [3, 1])],
    ts: ([x, i, j]) => x!.index([i!, null, j!]), py: 'x0[x1, :, x2]' },
  { name: 'indexPut_ (grad to source and values)', inputs: [g(4, 3), g(2, 3), ix([2], [3, 1])],
    ts: ([x, v, i]) => onClone(x!, (y) => y.indexPut_([i!], v!)), py: '(lambda y: (y.index_put_((x2,), x1), y)[1])(x0.clone())' },
  { name: 'indexPut_ with null slot and broadcast values', inputs: [g(3, 4), g(3, 1), ix([2], [0, 2])],
    ts: ([x, v, i]) => onClone(x!, (y) => y.indexPut_([null, i!], v!)), py: '(lambda y: (y.__setitem__((slice(None), x2), x1), y)[1])(x0.clone())' },
  { name: 'indexPut_ accumulate with duplicates', inputs: [g(4, 3), g(4, 3), ix([4], [1, 3, 1, 1])],
    ts: ([x, v, i]) => onClone(x!, (y) => y.indexPut_([i!], v!, true)), py: '(lambda y: (y.index_put_((x2,), x1, accumulate=True), y)[1])(x0.clone())' },
  { name: 'indexPut_ pairs with accumulate', inputs: [g(3, 3), g(3), ix([3], [0, 2, 0]), ix([3], [1, 1, 1])],
    ts: ([x, v, i, j]) => onClone(x!, (y) => y.indexPut_([i!, j!], v!, true)),
    py: '(lambda y: (y.index_put_((x2, x3), x1, accumulate=True), y)[1])(x0.clone())' },
  { name: 'indexPut_ with a bool mask', inputs: [g(3, 4), mask([3, 4], [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1]), g()],
    ts: ([x, m, v]) => onClone(x!, (y) => y.indexPut_([m!], v!)), py: '(lambda y: (y.index_put_((x1,), x2), y)[1])(x0.clone())' },

  // ---- shape ops on other dtypes (values only) ---------------------------------------------------
  { name: 'shape ops on int64 and bool', inputs: [ix([2, 3], [1, -2, 3, 4, 5, -6]), mask([2, 3], [1, 0, 1, 0, 0, 1])],
    ts: ([a, b]) => [a!.T.flip(0), cat([a!, a!], 1), b!.permute(1, 0).reshape(-1), stack([b!, b!]), a!.index([b!]), a!.roll(1)],
    py: '(x0.T.flip(0), torch.cat([x0, x0], 1), x1.permute(1, 0).reshape(-1), torch.stack([x1, x1]), x0[x1], x0.roll(1))' },
  { name: 'chained views keep grads', inputs: [g(2, 3, 4)],
    ts: ([x]) => x!.permute(2, 0, 1).reshape(4, 6).T.unsqueeze(0).expand(2, -1, -1).slice(2, 1, null, 2).flip(1).sum(0),
    py: 'x0.permute(2, 0, 1).reshape(4, 6).T.unsqueeze(0).expand(2, -1, -1)[:, :, 1::2].flip(1).sum(0)' },
];

parityTest('shape and indexing ops match PyTorch', cases, TOL);


test('a memory format other than contiguous or channels_last is refused, naming it', () => {
  const x = tensor([[[[1]]]]);
  assert.throws(() => x.contiguous('nhwc' as never), /memory format must be 'contiguous' or 'channels_last', got 'nhwc'/);
  x.dispose();
});
