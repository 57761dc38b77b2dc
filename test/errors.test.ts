// libtorch errors become JS errors with libtorch's message; bad arguments from
// JS become TypeErrors. None of them may abort the process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, type DType, Tensor, cuda, ones, randn, tensor, zeros } from '../src/torch/index.js';

test('shape mismatch in matmul throws with libtorch\'s message', () => {
  assert.throws(() => randn([2, 3]).matmul(randn([4, 5])), (e: Error) =>
    e instanceof Error && /mat1 and mat2 shapes cannot be multiplied|size mismatch/.test(e.message));
});

test('broadcast and conv errors throw', () => {
  assert.throws(() => randn([2, 3]).add(randn([4])), /size of tensor a \(3\) must match/);
  assert.throws(() => F.conv2d(randn([1, 3, 8, 8]), randn([4, 2, 3, 3])), /expected input.*to have 2 channels|channels/);
});

test('dtype errors throw', () => {
  assert.throws(() => randn([3]).logicalAnd(randn([3]).gt(0)).requiresGrad_(), /floating point|requires_grad|only Tensors/);
  assert.throws(() => tensor([1, 2], { dtype: 'complex' as DType }), TypeError);
  assert.throws(() => tensor([1e10], { dtype: 'int32' }), /10000000000 cannot be converted to int32 without overflow/);
  assert.throws(() => tensor([NaN], { dtype: 'int64' }), /overflow/);
});

test('bad argument types are TypeErrors', () => {
  const t = ones([2]);
  assert.throws(() => t.add('1' as unknown as number), TypeError);
  assert.throws(() => t.reshape('2' as unknown as number), TypeError);
  assert.throws(() => zeros([2.5]), TypeError);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
  assert.throws(() => tensor([1, 'a' as unknown as number]), TypeError);
});

test('using a disposed tensor throws instead of crashing', () => {
  const t = ones([2]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed/);
  assert.throws(() => t.shape, /disposed/);
});

test('item() on many elements, bad dims and bad reshape throw', () => {
  assert.throws(() => ones([3]).item(), /one element/);
  assert.throws(() => ones([3]).sum(5), /Dimension out of range/);
  assert.throws(() => ones([6]).reshape(4, 2), /shape '\[4, 2\]' is invalid/);
  assert.throws(() => ones([2]).size(3), RangeError);
});

test('an allocation that cannot succeed throws instead of aborting', () => {
  assert.throws(() => zeros([2 ** 40, 2 ** 10]), /alloc|memory|overflow/i);
});

test('asking for CUDA without it throws a clear error', { skip: cuda.isAvailable() ? 'CUDA is available here' : false }, () => {
  assert.throws(() => zeros([2], { device: 'cuda' }), /CUDA|cuda/);
  assert.throws(() => zeros([2], { device: 'gpu' }), /device|Expected one of/);
});

test('the process survives all of the above', () => {
  const t: Tensor = ones([2]).add(1);
  assert.deepEqual(t.tolist(), [2, 2]);
});
