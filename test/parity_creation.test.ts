// Creating tensors against PyTorch: tensor() from nested arrays and typed
// arrays, every dtype and the conversions between them, the shape-built
// creation functions, and the random ops. Values (and the gradients of the
// float conversions) within rtol 1e-5 and atol 1e-6 — the elementwise
// tolerance; nearly everything here is in fact exact. Random draws must be
// the same numbers as PyTorch's: both sides run the same libtorch from the
// same seed. Cases wrapped in `typed()` also compare the outputs' dtypes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type DType, RandomStream, arange, bernoulli, empty, eye, full, fullLike, getRngState, linspace, manualSeed,
  multinomial, normal_, ones, onesLike, rand, randLike, randint, randn, randnLike, randperm, setRngState, tensor, tidy,
  uniform_, zeros, zerosLike,
} from '../src/torch/index.js';
import { type Case, type InputSpec, type Outcome, runParity } from './helpers/oracle.js';

const TOL = { rtol: 1e-5, atol: 1e-6 };

// ---- dtype comparison ------------------------------------------------------------
// The harness compares values only. `typed(c)` appends one more output to both
// sides: the libtorch ScalarType code of each output's dtype (uint8 0, int8 1,
// int16 2, int32 3, int64 4, float16 5, float32 6, float64 7, bool 11,
// bfloat16 15), so a dtype mismatch shows as a mismatch in that last output.
const DTYPE_CODES: Record<DType, number> = {
  uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11, bfloat16: 15,
};
const DTYPE_SETUP = `
_CODES = {torch.uint8: 0, torch.int8: 1, torch.int16: 2, torch.int32: 3, torch.int64: 4, torch.float16: 5,
          torch.float32: 6, torch.float64: 7, torch.bool: 11, torch.bfloat16: 15}
def _with_dtypes(out):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return outs + [torch.tensor([float(_CODES[o.dtype]) for o in outs], dtype=torch.float64)]
`;
function typed(c: Case): Case {
  return {
    ...c,
    setup: DTYPE_SETUP + (c.setup ?? ''),
    py: `_with_dtypes(${c.py})`,
    ts: (xs) => {
      const out = c.ts(xs);
      const outs = Array.isArray(out) ? out : [out];
      return [...outs, tensor(outs.map((o) => DTYPE_CODES[o.dtype]), { dtype: 'float64' })];
    },
  };
}

const pyList = (values: readonly (number | boolean)[]): string =>
  `[${values.map((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : Number.isNaN(v) ? "float('nan')"
    : v === Infinity ? "float('inf')" : v === -Infinity ? "float('-inf')" : Object.is(v, -0) ? '-0.0' : String(v))).join(', ')}]`;

// Values for the conversion cases, chosen to hit truncation toward zero,
// bfloat16/float16 rounding (ties to even, overflow, subnormals) and 0 → false.
const floatsForInts = [-2.75, -1.5, -0.5, -0.25, 0, 0.4, 1.5, 2.5, 3.99, 127.9, -128.9, 1e6 + 0.5];
const floatsForUint8 = [0, 0.4, 0.99, 1.5, 2.5, 127.9, 128.1, 254.99, 255];
const floatsForHalf = [1, 1.00390625, 1.01171875, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, -3.3, 65504, 65519, 65520, 1e5, 3e38,
  6e-8, 2e-8, 1e-5, -7.5e-39, 1e-45, 0, -0];
const f32 = (values: number[]): InputSpec => ({ shape: [values.length], values });
const g = (shape: number[], values?: InputSpec['values'], dtype?: DType): InputSpec => ({ shape, requiresGrad: true, values, dtype });

// Each of these is deliberately different from its PyTorch expression (value,
// gradient, shape, dtype, non-finite value, output count): the harness must say so.
const wrongCases: Case[] = [
  { name: 'value off by 1e-3', inputs: [{ shape: [4] }], ts: ([x]) => x!.clone(), py: 'x0 + 1e-3' },
  { name: 'gradient differs, values equal', inputs: [g([4])], ts: ([x]) => x!.mul(2), py: 'x0 * 2 + (x0 - x0.detach())' },
  { name: 'shape differs', inputs: [{ shape: [2, 3] }], ts: ([x]) => x!.reshape(3, 2), py: 'x0.reshape(6)' },
  typed({ name: 'dtype differs (arange is float32 here, int64 in PyTorch)', inputs: [], ts: () => arange(3), py: 'torch.arange(3)' }),
  { name: 'NaN vs a number', inputs: [], ts: () => tensor([NaN, 1]), py: "torch.tensor([1., float('nan')])" },
  { name: 'Infinity vs -Infinity', inputs: [], ts: () => tensor([Infinity]), py: "torch.tensor([float('-inf')])" },
  { name: 'one output too many', inputs: [{ shape: [2] }], ts: ([x]) => [x!, x!], py: 'x0' },
];
// ...and equal non-finite values pass.
const controlCases: Case[] = [
  { name: 'NaN and infinities match', inputs: [], ts: () => tensor([NaN, Infinity, -Infinity, 1]),
    py: "torch.tensor([float('nan'), float('inf'), float('-inf'), 1])" },
];

const cases: Case[] = [
  // ---- tensor() from nested arrays --------------------------------------------------------
  typed({ name: 'tensor nested 2-d float32', inputs: [], ts: () => tensor([[1.5, -2], [3, 4.25], [1e-3, -7e5]]),
    py: 'torch.tensor([[1.5, -2], [3, 4.25], [1e-3, -7e5]])' }),
  typed({ name: 'tensor nested 3-d', inputs: [], ts: () => tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]),
    py: 'torch.tensor([[[1., 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]])' }),
  typed({ name: 'tensor flat with shape option', inputs: [], ts: () => tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] }),
    py: 'torch.tensor([1., 2, 3, 4, 5, 6]).reshape(2, 3)' }),
  typed({ name: 'tensor nested with shape option', inputs: [], ts: () => tensor([[1, 2, 3], [4, 5, 6]], { shape: [3, 1, 2] }),
    py: 'torch.tensor([[1., 2, 3], [4, 5, 6]]).reshape(3, 1, 2)' }),
  typed({ name: 'tensor scalar', inputs: [], ts: () => tensor(2.5), py: 'torch.tensor(2.5)' }),
  typed({ name: 'tensor empty', inputs: [], ts: () => tensor([]), py: 'torch.tensor([])' }),
  typed({ name: 'tensor booleans infer bool', inputs: [], ts: () => tensor([[true, false], [false, true]]),
    py: 'torch.tensor([[True, False], [False, True]])' }),
  typed({ name: 'tensor booleans to float32', inputs: [], ts: () => tensor([true, false, true], { dtype: 'float32' }),
    py: 'torch.tensor([True, False, True], dtype=torch.float32)' }),
  typed({ name: 'tensor float64 keeps double precision', inputs: [],
    ts: () => tensor([0.1, 1 / 3, 1e-300, 1e300, 2 ** 53 + 2], { dtype: 'float64' }),
    py: 'torch.tensor([0.1, 1 / 3, 1e-300, 1e300, 2 ** 53 + 2], dtype=torch.float64)' }),
  typed({ name: 'tensor float32 rounds', inputs: [], ts: () => tensor([0.1, 1 / 3, 16777217, 1e-46, 3.5e38]),
    py: 'torch.tensor([0.1, 1 / 3, 16777217, 1e-46, 3.5e38])' }),
  typed({ name: 'tensor int64', inputs: [], ts: () => tensor([[0, -1, 2 ** 40], [7, -(2 ** 50), 3]], { dtype: 'int64' }),
    py: 'torch.tensor([[0, -1, 2 ** 40], [7, -(2 ** 50), 3]], dtype=torch.int64)' }),
  typed({ name: 'tensor int64 truncates toward zero', inputs: [], ts: () => tensor([1.7, -1.7, 0.5, 2 ** 40], { dtype: 'int64' }),
    py: 'torch.tensor([1.7, -1.7, 0.5, 2 ** 40], dtype=torch.int64)' }),
  typed({ name: 'tensor int32 truncates toward zero', inputs: [], ts: () => tensor([1.7, -1.7, 0.5, -0.5, 2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }),
    py: `torch.tensor([1.7, -1.7, 0.5, -0.5, 2 ** 31 - 1, -(2 ** 31)], dtype=torch.int32)` }),
  typed({ name: 'tensor uint8', inputs: [], ts: () => tensor([0, 1, 127, 128, 254.6, 255], { dtype: 'uint8' }),
    py: 'torch.tensor([0, 1, 127, 128, 254.6, 255], dtype=torch.uint8)' }),
  typed({ name: 'tensor bool from any numbers (non-zero and NaN are true)', inputs: [], ts: () => tensor([0.5, NaN, 2, -1, 0], { dtype: 'bool' }),
    py: "torch.tensor([0.5, float('nan'), 2, -1, 0]).to(torch.bool)" }),
  typed({ name: 'tensor bool from 0/1 numbers', inputs: [], ts: () => tensor([0, 1, 1, 0], { dtype: 'bool' }),
    py: 'torch.tensor([0, 1, 1, 0], dtype=torch.bool)' }),
  typed({ name: 'tensor bfloat16 rounding', inputs: [], ts: () => tensor(floatsForHalf, { dtype: 'bfloat16' }),
    py: `torch.tensor(${pyList(floatsForHalf)}, dtype=torch.bfloat16)` }),
  typed({ name: 'tensor float16 rounding, overflow, subnormals', inputs: [], ts: () => tensor(floatsForHalf, { dtype: 'float16' }),
    py: `torch.tensor(${pyList(floatsForHalf)}, dtype=torch.float16)` }),
  // Both round a double to float32 first, then to the half type (double rounding): 1 + 2^-11 + 2^-40 → 1.
  typed({ name: 'tensor half types round through float32', inputs: [],
    ts: () => [tensor([1 + 2 ** -11 + 2 ** -40], { dtype: 'float16' }), tensor([1 + 2 ** -8 + 2 ** -40], { dtype: 'bfloat16' }),
      tensor(new Float64Array([1 + 2 ** -8 + 2 ** -40]), { dtype: 'bfloat16' })],
    py: '(torch.tensor([1 + 2 ** -11 + 2 ** -40], dtype=torch.float16), torch.tensor([1 + 2 ** -8 + 2 ** -40], dtype=torch.bfloat16), ' +
      'torch.tensor([1 + 2 ** -8 + 2 ** -40], dtype=torch.float64).to(torch.bfloat16))' }),
  typed({ name: 'tensor non-finite', inputs: [], ts: () => tensor([NaN, Infinity, -Infinity, -0]),
    py: "torch.tensor([float('nan'), float('inf'), float('-inf'), -0.0])" }),

  // ---- tensor() from typed arrays (keep their type, as torch.from_numpy) -------------------
  typed({ name: 'tensor Float32Array with shape', inputs: [],
    ts: () => tensor(new Float32Array([0.1, -2, 3.5, 4, 5e-8, 6]), { shape: [3, 2] }),
    py: 'torch.tensor([0.1, -2, 3.5, 4, 5e-8, 6], dtype=torch.float32).reshape(3, 2)' }),
  typed({ name: 'tensor Float64Array with shape', inputs: [],
    ts: () => tensor(new Float64Array([0.1, -2, 1 / 3, 1e-300, 5, 6]), { shape: [2, 3] }),
    py: 'torch.tensor([0.1, -2, 1 / 3, 1e-300, 5, 6], dtype=torch.float64).reshape(2, 3)' }),
  typed({ name: 'tensor Int32Array with shape', inputs: [],
    ts: () => tensor(new Int32Array([1, -2, 3, 2 ** 31 - 1, -(2 ** 31), 0]), { shape: [2, 1, 3] }),
    py: 'torch.tensor([1, -2, 3, 2 ** 31 - 1, -(2 ** 31), 0], dtype=torch.int32).reshape(2, 1, 3)' }),
  typed({ name: 'tensor BigInt64Array with shape', inputs: [],
    ts: () => tensor(new BigInt64Array([1n, -2n, 3n, 2n ** 40n]), { shape: [2, 2] }),
    py: 'torch.tensor([1, -2, 3, 2 ** 40], dtype=torch.int64).reshape(2, 2)' }),
  typed({ name: 'tensor Uint8Array with shape', inputs: [],
    ts: () => tensor(new Uint8Array([0, 1, 128, 255, 7, 9]), { shape: [3, 2] }),
    py: 'torch.tensor([0, 1, 128, 255, 7, 9], dtype=torch.uint8).reshape(3, 2)' }),
  typed({ name: 'tensor Int8Array and Int16Array', inputs: [],
    ts: () => [tensor(new Int8Array([-128, 127, 0])), tensor(new Int16Array([-32768, 32767, 5]))],
    py: '(torch.tensor([-128, 127, 0], dtype=torch.int8), torch.tensor([-32768, 32767, 5], dtype=torch.int16))' }),
  typed({ name: 'tensor typed subarray (byte offset)', inputs: [],
    ts: () => tensor(new Float32Array([1, 2, 3, 4, 5, 6, 7]).subarray(2, 6), { shape: [2, 2] }),
    py: 'torch.tensor([3., 4, 5, 6]).reshape(2, 2)' }),
  typed({ name: 'tensor Float64Array with dtype int32 (truncation)', inputs: [],
    ts: () => tensor(new Float64Array(floatsForInts), { dtype: 'int32' }),
    py: `torch.tensor(${pyList(floatsForInts)}, dtype=torch.float64).to(torch.int32)` }),
  typed({ name: 'tensor Float32Array with dtype bfloat16', inputs: [],
    ts: () => tensor(new Float32Array(floatsForHalf), { dtype: 'bfloat16' }),
    py: `torch.tensor(${pyList(floatsForHalf)}, dtype=torch.float32).to(torch.bfloat16)` }),
  typed({ name: 'tensor Int32Array with dtype float32', inputs: [],
    ts: () => tensor(new Int32Array([16777217, -3, 2 ** 31 - 1]), { dtype: 'float32' }),
    py: 'torch.tensor([16777217, -3, 2 ** 31 - 1], dtype=torch.int32).to(torch.float32)' }),

  // ---- .to(dtype) conversions (PyTorch's conversion of the same values) ----------------------
  typed({ name: 'float32 to int32/int64/int16/int8 truncates', inputs: [f32(floatsForInts)],
    ts: ([x]) => [x!.to('int32'), x!.to('int64'), x!.long(), x!.to('int16'), x!.clamp(-128, 127).to('int8')],
    py: '(x0.to(torch.int32), x0.to(torch.int64), x0.long(), x0.to(torch.int16), x0.clamp(-128, 127).to(torch.int8))' }),
  typed({ name: 'float32 to uint8', inputs: [f32(floatsForUint8)], ts: ([x]) => x!.to('uint8'), py: 'x0.to(torch.uint8)' }),
  typed({ name: 'float32 to bool', inputs: [f32([0, -0, 0.4, -0.5, 1e-30, 3])], ts: ([x]) => x!.to('bool'), py: 'x0.to(torch.bool)' }),
  // (The harness sends inputs as JSON, which has no NaN/Infinity: non-finite inputs are built on both sides.)
  typed({ name: 'non-finite float32 to bool/float16/bfloat16/float64', inputs: [],
    ts: () => { const x = tensor([NaN, Infinity, -Infinity, 0]); return [x.to('bool'), x.to('float16'), x.to('bfloat16'), x.to('float64')]; },
    py: "(lambda x: (x.to(torch.bool), x.to(torch.float16), x.to(torch.bfloat16), x.to(torch.float64)))(torch.tensor([float('nan'), float('inf'), float('-inf'), 0]))" }),
  typed({ name: 'float32 to bfloat16', inputs: [f32(floatsForHalf)], ts: ([x]) => x!.to('bfloat16'), py: 'x0.to(torch.bfloat16)' }),
  typed({ name: 'float32 to float16', inputs: [f32(floatsForHalf)], ts: ([x]) => x!.to('float16'), py: 'x0.to(torch.float16)' }),
  typed({ name: 'float64 to float32 rounding', inputs: [{ shape: [5], dtype: 'float64', values: [0.1, 1 / 3, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1e-40] }],
    ts: ([x]) => [x!.to('float32'), x!.float()], py: '(x0.to(torch.float32), x0.float())' }),
  typed({ name: 'int64 to float32/float64/int32/uint8/bool', inputs: [{ shape: [6], dtype: 'int64', values: [0, 1, -1, 16777217, 255, 2 ** 40] }],
    ts: ([x]) => [x!.to('float32'), x!.to('float64'), x!.to('bool'), x!.clamp(0, 255).to('uint8'), x!.clamp(-1000, 1000).to('int32')],
    py: '(x0.to(torch.float32), x0.to(torch.float64), x0.to(torch.bool), x0.clamp(0, 255).to(torch.uint8), x0.clamp(-1000, 1000).to(torch.int32))' }),
  typed({ name: 'bool to float32/int64/uint8', inputs: [{ shape: [4], dtype: 'bool', values: [1, 0, 0, 1] }],
    ts: ([x]) => [x!.to('float32'), x!.to('int64'), x!.to('uint8')], py: '(x0.to(torch.float32), x0.to(torch.int64), x0.to(torch.uint8))' }),
  typed({ name: 'uint8 to int32/float16/bool', inputs: [{ shape: [4], dtype: 'uint8', values: [0, 1, 200, 255] }],
    ts: ([x]) => [x!.to('int32'), x!.to('float16'), x!.to('bool')], py: '(x0.to(torch.int32), x0.to(torch.float16), x0.to(torch.bool))' }),
  typed({ name: 'bfloat16 and float16 back to float32', inputs: [f32(floatsForHalf)],
    ts: ([x]) => [x!.to('bfloat16').to('float32'), x!.to('float16').to('float64'), x!.to('bfloat16').to('float16')],
    py: '(x0.to(torch.bfloat16).to(torch.float32), x0.to(torch.float16).to(torch.float64), x0.to(torch.bfloat16).to(torch.float16))' }),
  typed({ name: 'to({dtype}) and same-dtype to', inputs: [f32([1.25, -2])],
    ts: ([x]) => [x!.to({ dtype: 'float64' }), x!.to('float32'), x!.to('cpu')], py: '(x0.to(dtype=torch.float64), x0.to(torch.float32), x0.to("cpu"))' }),
  { name: 'grad through float conversions', inputs: [g([6])],
    ts: ([x]) => [x!.to('float64').mul(3), x!.to('bfloat16').mul(2), x!.to('float16').square()],
    py: '(x0.to(torch.float64) * 3, x0.to(torch.bfloat16) * 2, x0.to(torch.float16).square())' },
  { name: 'grad into a float64 leaf', inputs: [g([2, 3], 'normal', 'float64')], ts: ([x]) => x!.to('float32').exp(), py: 'x0.to(torch.float32).exp()' },

  // ---- creation from shapes -----------------------------------------------------------------
  typed({ name: 'zeros ones', inputs: [], ts: () => [zeros([2, 3]), ones([4]), zeros([0, 2]), ones([])],
    py: '(torch.zeros(2, 3), torch.ones(4), torch.zeros(0, 2), torch.ones([]))' }),
  typed({ name: 'zeros ones with dtypes', inputs: [],
    ts: () => [zeros([2], { dtype: 'int64' }), ones([3], { dtype: 'bfloat16' }), ones([2, 2], { dtype: 'bool' }), zeros([1], { dtype: 'float64' })],
    py: '(torch.zeros(2, dtype=torch.int64), torch.ones(3, dtype=torch.bfloat16), torch.ones(2, 2, dtype=torch.bool), torch.zeros(1, dtype=torch.float64))' }),
  // For integer fills PyTorch infers int64, which JS numbers cannot express: those name their dtype.
  typed({ name: 'full with a boolean fill is bool', inputs: [], ts: () => full([3], true), py: 'torch.full((3,), True)' }),
  typed({ name: 'full', inputs: [],
    ts: () => [full([2, 3], 3.5), full([2], 7, { dtype: 'int32' }), full([3], true, { dtype: 'bool' }), full([2], -1.7, { dtype: 'int64' }),
      full([2], 0.1, { dtype: 'float64' }), full([2], 1.00390625, { dtype: 'bfloat16' })],
    py: '(torch.full((2, 3), 3.5), torch.full((2,), 7, dtype=torch.int32), torch.full((3,), True), torch.full((2,), -1.7, dtype=torch.int64), ' +
      'torch.full((2,), 0.1, dtype=torch.float64), torch.full((2,), 1.00390625, dtype=torch.bfloat16))' }),
  typed({ name: 'empty (shape and dtype only)', inputs: [], ts: () => empty([3, 2], { dtype: 'int32' }), py: 'torch.empty(3, 2, dtype=torch.int32)',
    shapeOnly: [0] }),
  // arange is float32 unless a dtype is given (documented), so the integer forms pass dtype=float32 to PyTorch.
  typed({ name: 'arange 1-arg', inputs: [], ts: () => [arange(5), arange(0), arange(4.5)],
    py: '(torch.arange(5, dtype=torch.float32), torch.arange(0, dtype=torch.float32), torch.arange(4.5))' }),
  typed({ name: 'arange 2-arg', inputs: [], ts: () => [arange(2, 7), arange(-3, 3), arange(0.5, 3.2)],
    py: '(torch.arange(2, 7, dtype=torch.float32), torch.arange(-3, 3, dtype=torch.float32), torch.arange(0.5, 3.2))' }),
  typed({ name: 'arange 3-arg', inputs: [], ts: () => [arange(1, 2, 0.25), arange(10, 0, -3), arange(0, 1, 0.1), arange(-1, 1, 0.3)],
    py: '(torch.arange(1, 2, 0.25), torch.arange(10, 0, -3, dtype=torch.float32), torch.arange(0, 1, 0.1), torch.arange(-1, 1, 0.3))' }),
  typed({ name: 'arange with dtypes', inputs: [],
    ts: () => [arange(0, 6, 1, { dtype: 'int64' }), arange(0, 1, 0.1, { dtype: 'float64' }), arange(3, 9, 2, { dtype: 'int32' })],
    py: '(torch.arange(6), torch.arange(0, 1, 0.1, dtype=torch.float64), torch.arange(3, 9, 2, dtype=torch.int32))' }),
  typed({ name: 'linspace', inputs: [],
    ts: () => [linspace(0, 1, 5), linspace(-1, 1, 7, { dtype: 'float64' }), linspace(3, 3, 1), linspace(2, -2, 4), linspace(0, 10, 6, { dtype: 'int64' })],
    py: '(torch.linspace(0, 1, 5), torch.linspace(-1, 1, 7, dtype=torch.float64), torch.linspace(3, 3, 1), torch.linspace(2, -2, 4), ' +
      'torch.linspace(0, 10, 6, dtype=torch.int64))' }),
  typed({ name: 'eye', inputs: [], ts: () => [eye(3), eye(2, 4), eye(4, 2), eye(3, 3, { dtype: 'int64' }), eye(2, 2, { dtype: 'bool' })],
    py: '(torch.eye(3), torch.eye(2, 4), torch.eye(4, 2), torch.eye(3, dtype=torch.int64), torch.eye(2, dtype=torch.bool))' }),
  typed({ name: 'zerosLike onesLike fullLike keep dtype', inputs: [{ shape: [2, 3], dtype: 'float64' }, { shape: [3], dtype: 'int32', values: 'int:5' }],
    ts: ([a, b]) => [zerosLike(a!), onesLike(a!), fullLike(a!, 2.5), zerosLike(b!), onesLike(b!), fullLike(b!, 2.5)],
    py: '(torch.zeros_like(x0), torch.ones_like(x0), torch.full_like(x0, 2.5), torch.zeros_like(x1), torch.ones_like(x1), torch.full_like(x1, 2.5))' }),
  typed({ name: 'zerosLike onesLike fullLike with dtype override', inputs: [{ shape: [2, 2] }],
    ts: ([a]) => [zerosLike(a!, { dtype: 'int64' }), onesLike(a!, { dtype: 'bfloat16' }), fullLike(a!, 1, { dtype: 'bool' })],
    py: '(torch.zeros_like(x0, dtype=torch.int64), torch.ones_like(x0, dtype=torch.bfloat16), torch.full_like(x0, 1, dtype=torch.bool))' }),
  { name: 'requiresGrad creation options', inputs: [],
    ts: () => {
      const a = zeros([2], { requiresGrad: true });
      const b = tensor([1, 2], { requiresGrad: true });
      const c = full([2], 3, { requiresGrad: true });
      return [a, b, c].map((t) => tensor([t.requiresGrad ? 1 : 0, t.isLeaf ? 1 : 0]));
    },
    py: '[torch.tensor([float(t.requires_grad), float(t.is_leaf)]) for t in (torch.zeros(2, requires_grad=True), ' +
      'torch.tensor([1., 2], requires_grad=True), torch.full((2,), 3., requires_grad=True))]' },

  // ---- random ops: the same draws as PyTorch from the same seed -------------------------------
  typed({ name: 'rand', inputs: [], ts: () => [rand([3, 4]), rand([5], { dtype: 'float64' })],
    py: '(torch.rand(3, 4), torch.rand(5, dtype=torch.float64))' }),
  typed({ name: 'rand with another seed', seed: 1234, inputs: [], ts: () => rand([7]), py: 'torch.rand(7)' }),
  { name: 'negative seed (taken modulo 2^64)', seed: -5, inputs: [], ts: () => [rand([3]), rand([2], { stream: new RandomStream(-5) })],
    py: '(torch.rand(3), torch.rand(2, generator=torch.Generator().manual_seed(-5)))' },
  { name: 'seed above 2^32', seed: 2 ** 40 + 3, inputs: [], ts: () => randn([4]), py: 'torch.randn(4)' },
  typed({ name: 'randn scalar path (<16) and vectorised path (>=16)', inputs: [],
    ts: () => [randn([5]), randn([4, 8]), randn([17], { dtype: 'float64' }), randn([6], { dtype: 'bfloat16' })],
    py: '(torch.randn(5), torch.randn(4, 8), torch.randn(17, dtype=torch.float64), torch.randn(6, dtype=torch.bfloat16))' }),
  typed({ name: 'randint', seed: 7, inputs: [],
    ts: () => [randint(0, 10, [2, 5]), randint(-5, 5, [7], { dtype: 'int32' }), randint(0, 2 ** 40, [3])],
    py: '(torch.randint(0, 10, (2, 5)), torch.randint(-5, 5, (7,), dtype=torch.int32), torch.randint(0, 2 ** 40, (3,)))' }),
  typed({ name: 'randperm', seed: 3, inputs: [], ts: () => [randperm(10), randperm(50), randperm(5, { dtype: 'int32' })],
    py: '(torch.randperm(10), torch.randperm(50), torch.randperm(5, dtype=torch.int32))' }),
  typed({ name: 'multinomial without and with replacement', seed: 11, inputs: [{ shape: [2, 6], values: 'positive' }, { shape: [5], values: 'positive' }],
    ts: ([p, q]) => [multinomial(p!, 3), multinomial(p!, 8, true), multinomial(q!, 5)],
    py: '(torch.multinomial(x0, 3), torch.multinomial(x0, 8, True), torch.multinomial(x1, 5))' }),
  typed({ name: 'bernoulli with p and with probabilities', seed: 5, inputs: [{ shape: [3, 7], values: 'uniform' }],
    ts: ([p]) => [bernoulli(zeros([20]), 0.3), bernoulli(p!), bernoulli(zeros([4], { dtype: 'float64' }), 0.5)],
    py: '(torch.bernoulli(torch.zeros(20), 0.3), torch.bernoulli(x0), torch.bernoulli(torch.zeros(4, dtype=torch.float64), 0.5))' }),
  typed({ name: 'uniform_ normal_ in place', seed: 9, inputs: [],
    ts: () => [uniform_(zeros([6]), -2, 3), normal_(zeros([20]), 1, 2), uniform_(zeros([3], { dtype: 'float64' })), normal_(zeros([5]))],
    py: '(torch.zeros(6).uniform_(-2, 3), torch.zeros(20).normal_(1, 2), torch.zeros(3, dtype=torch.float64).uniform_(), torch.zeros(5).normal_())' }),
  typed({ name: 'randLike randnLike', seed: 2, inputs: [{ shape: [2, 3], dtype: 'float64' }],
    ts: ([a]) => [randLike(a!), randnLike(a!), randLike(a!, { dtype: 'float32' })],
    py: '(torch.rand_like(x0), torch.randn_like(x0), torch.rand_like(x0, dtype=torch.float32))' }),
  { name: 'global stream continues across calls', seed: 42, inputs: [],
    ts: () => [rand([3]), randn([3]), randint(0, 100, [3]), randperm(4), rand([2])],
    py: '(torch.rand(3), torch.randn(3), torch.randint(0, 100, (3,)), torch.randperm(4), torch.rand(2))' },
  { name: 'manualSeed mid-case restarts the stream', inputs: [],
    ts: () => { const a = rand([3]); manualSeed(77); return [a, rand([3])]; },
    py: '(torch.rand(3), (torch.manual_seed(77), torch.rand(3))[1])' },
  { name: 'Generator vs torch.Generator().manual_seed', inputs: [],
    ts: () => {
      const gen = new RandomStream(7);
      return [rand([5], { stream: gen }), randn([20], { stream: gen }), randint(0, 9, [4], { stream: gen }),
        randperm(6, { stream: gen }), rand([2])];
    },
    setup: 'gen = torch.Generator().manual_seed(7)',
    py: '(torch.rand(5, generator=gen), torch.randn(20, generator=gen), torch.randint(0, 9, (4,), generator=gen), ' +
      'torch.randperm(6, generator=gen), torch.rand(2))' },
  { name: 'Generator with multinomial bernoulli uniform_ normal_', inputs: [{ shape: [8], values: 'positive' }],
    ts: ([p]) => {
      const gen = new RandomStream(123);
      return [multinomial(p!, 4, false, gen), bernoulli(zeros([10]), 0.6, gen), bernoulli(p!.div(3), undefined, gen),
        uniform_(zeros([4]), 1, 2, gen), normal_(zeros([18]), 0, 3, gen)];
    },
    setup: 'gen = torch.Generator().manual_seed(123)',
    py: '(torch.multinomial(x0, 4, False, generator=gen), torch.bernoulli(torch.zeros(10), 0.6, generator=gen), ' +
      'torch.bernoulli(x0 / 3, generator=gen), torch.zeros(4).uniform_(1, 2, generator=gen), torch.zeros(18).normal_(0, 3, generator=gen))' },
  { name: 'Generator.manualSeed reseeds', inputs: [],
    ts: () => { const gen = new RandomStream(1); const a = rand([3], { stream: gen }); gen.manualSeed(9); return [a, rand([3], { stream: gen })]; },
    setup: 'gen = torch.Generator().manual_seed(1)',
    py: '(torch.rand(3, generator=gen), torch.rand(3, generator=gen.manual_seed(9)))' },
  { name: 'getRngState matches torch.get_rng_state', seed: 31, inputs: [],
    ts: () => { rand([10]); return getRngState(); }, py: '(torch.rand(10), torch.get_rng_state())[1]' },
  { name: 'Generator state matches torch.Generator.get_state', inputs: [],
    ts: () => { const gen = new RandomStream(5); randn([3], { stream: gen }); return getRngState(gen); },
    setup: 'gen = torch.Generator().manual_seed(5)', py: '(torch.randn(3, generator=gen), gen.get_state())[1]' },
  { name: 'setRngState rewinds the global stream', seed: 8, inputs: [],
    ts: () => { const s = getRngState(); rand([3]); randn([20]); setRngState(s); return [rand([3]), randn([20])]; },
    py: '(torch.rand(3), torch.randn(20))' },
];

// The deliberate mismatches of the last test ride in the same PyTorch batch (one Python start-up).
let batch: { right: Outcome[]; wrong: Outcome[]; control: Outcome[] } | undefined;
function outcomes(): { right: Outcome[]; wrong: Outcome[]; control: Outcome[] } {
  if (!batch) {
    const all = runParity([...cases, ...wrongCases, ...controlCases], TOL);
    batch = {
      right: all.slice(0, cases.length),
      wrong: all.slice(cases.length, cases.length + wrongCases.length),
      control: all.slice(cases.length + wrongCases.length),
    };
  }
  return batch;
}

test('creation and random ops match PyTorch', async (t) => {
  for (const outcome of outcomes().right) {
    await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
  }
});

// ---- robustok-only: round trips through toTypedArray / tolist ------------------------------

test('typed arrays round-trip with their dtype', () => {
  tidy(() => {
    const inputs: [ArrayBufferView & ArrayLike<number | bigint>, DType][] = [
      [new Float32Array([0.5, -1.25, 3e-8, 65504, -0, 7]), 'float32'],
      [new Float64Array([0.1, -1 / 3, 1e-300, 1e300, 5, 6]), 'float64'],
      [new Int32Array([1, -2, 2 ** 31 - 1, -(2 ** 31), 0, 9]), 'int32'],
      [new BigInt64Array([1n, -2n, 2n ** 53n + 1n, -(2n ** 62n), 0n, 9n]), 'int64'],
      [new Uint8Array([0, 1, 127, 128, 255, 3]), 'uint8'],
      [new Int8Array([-128, 127, 0, 1, -1, 5]), 'int8'],
      [new Int16Array([-32768, 32767, 0, 1, -1, 5]), 'int16'],
    ];
    for (const [data, dtype] of inputs) {
      const x = tensor(data, { shape: [2, 3] });
      assert.equal(x.dtype, dtype);
      assert.deepEqual(x.shape, [2, 3]);
      const back = x.toTypedArray();
      assert.equal(back.constructor, data.constructor, `${dtype}: typed array type`);
      assert.deepEqual(Array.from(back as ArrayLike<number | bigint>), Array.from(data), `${dtype}: values`);
      const flat = Array.from(data as ArrayLike<number | bigint>, Number);
      assert.deepEqual(x.tolist(), [flat.slice(0, 3), flat.slice(3)], `${dtype}: tolist`);
      // The returned array is a copy, not a view of the tensor's memory.
      (back as unknown as number[])[0] = (dtype === 'int64' ? 42n : 42) as number;
      assert.deepEqual(Array.from(x.toTypedArray() as ArrayLike<number | bigint>), Array.from(data));
    }
  });
});

test('nested arrays round-trip through tolist for every dtype', () => {
  tidy(() => {
    const nested = [[[1, 0], [3, 4]], [[5, 6], [0, 8]]];
    for (const dtype of ['float32', 'float64', 'bfloat16', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8'] as DType[]) {
      const x = tensor(nested, { dtype });
      assert.equal(x.dtype, dtype);
      assert.deepEqual(x.shape, [2, 2, 2]);
      assert.deepEqual(x.tolist(), nested, dtype);
    }
    const b = tensor([[true, false, true]]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.tolist(), [[true, false, true]]);
    assert.deepEqual(Array.from(b.toTypedArray() as Uint8Array), [1, 0, 1]);
    assert.deepEqual(tensor([1, 0], { dtype: 'bool' }).tolist(), [true, false]);
    // Half floats read back as float32 values.
    const h = tensor([1.00390625, 0.1], { dtype: 'bfloat16' }).toTypedArray();
    assert.ok(h instanceof Float32Array);
    assert.deepEqual(Array.from(h), [1, 0.10009765625]);
    assert.equal(tensor(2.5).item(), 2.5);
    assert.deepEqual(tensor(2.5).tolist(), 2.5);
    assert.deepEqual(tensor([]).tolist(), []);
  });
});

test('toTypedArray and tolist read views in logical order', () => {
  tidy(() => {
    const x = arange(0, 6, 1, { dtype: 'int32' }).reshape(2, 3);
    assert.deepEqual(Array.from(x.T.toTypedArray() as Int32Array), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(x.T.tolist(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(Array.from(arange(10).slice(0, 3, 9, 2).toTypedArray() as Float32Array), [3, 5, 7]);
    assert.deepEqual(Array.from(tensor([1, 2]).expand(3, 2).toTypedArray() as Float32Array), [1, 2, 1, 2, 1, 2]);
    assert.deepEqual(arange(6).to('bfloat16').reshape(2, 3).T.tolist(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(tensor(new BigInt64Array([1n, 2n, 3n, 4n]), { shape: [2, 2] }).T.tolist(), [[1, 3], [2, 4]]);
  });
});

test('tensor() rejects ragged and non-numeric data, and grad on integer dtypes', () => {
  tidy(() => {
    assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
    assert.throws(() => tensor([1, 'a' as unknown as number]), /expected a number or boolean/);
    assert.throws(() => tensor(new Float32Array(6), { shape: [4, 2] }), /bytes/);
    assert.throws(() => tensor([1, 2], { dtype: 'int64', requiresGrad: true }), /floating-point/);
  });
});

test('getRngState/setRngState restore a stream (global and Generator)', () => {
  tidy(() => {
    manualSeed(2024);
    const state = getRngState();
    assert.equal(state.dtype, 'uint8');
    const first = [rand([5]).tolist(), randn([25]).tolist(), randint(0, 1000, [4]).tolist()];
    setRngState(state);
    const again = [rand([5]).tolist(), randn([25]).tolist(), randint(0, 1000, [4]).tolist()];
    assert.deepEqual(again, first);

    const gen = new RandomStream(99);
    rand([3], { stream: gen });
    const saved = getRngState(gen);
    const a = randn([30], { stream: gen }).tolist();
    rand([10]);  // the global stream is independent of gen
    setRngState(saved, gen);
    assert.deepEqual(randn([30], { stream: gen }).tolist(), a);
    // A state moves between generators.
    const other = new RandomStream(0);
    setRngState(saved, other);
    assert.deepEqual(randn([30], { stream: other }).tolist(), a);
    assert.throws(() => setRngState(tensor([1, 2]), gen), /uint8/);
  });
});

// Bookkeeping: every case name is unique, so a failure names one case.
test('case names are unique', () => {
  const names = cases.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
});

test('the harness reports deliberate mismatches', () => {
  const { wrong, control } = outcomes();
  wrong.forEach((outcome) => assert.notDeepEqual(outcome.problems, [], `${outcome.name} should have been reported`));
  assert.match(wrong[1]!.problems.join(), /grad of input 0/);
  control.forEach((outcome) => assert.deepEqual(outcome.problems, [], outcome.name));
});
