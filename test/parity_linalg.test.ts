// Linear algebra against PyTorch: values and gradients, on well-conditioned
// matrices built inside the computation (symmetric positive-definite ones as
// X·Xᵀ + n·I, so that gradients reach X). Inputs are float64 and the
// tolerance is rtol 1e-9, atol 1e-10 (both sides call the same LAPACK through
// the same libtorch; the slack covers threading and blocking differences);
// the one float32 case uses rtol 1e-4, atol 1e-5. Eigenvectors and singular
// vectors are only defined up to sign, so they are compared through
// sign-free functions of them: reconstructions V·diag(L)·Vᵀ, U·diag(S)·Vh and
// absolute values |V|.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Tensor, eye, linalg, tensor } from '../src/torch/index.js';
import { type Case, type InputSpec, runParity } from './helpers/oracle.js';

const g64 = (shape: number[]): InputSpec => ({ shape, dtype: 'float64', requiresGrad: true });
const F64 = { rtol: 1e-9, atol: 1e-10 };

/** X·Xᵀ + n·I for X `[..., n, n]`. */
const spd = (x: Tensor): Tensor => {
  const n = x.size(-1);
  return x.matmul(x.transpose(-2, -1)).add(eye(n, n, { dtype: x.dtype }).mul(n));
};
const spdPy = (x: string, n: number, dtype = 'torch.float64'): string =>
  `(${x} @ ${x}.transpose(-2, -1) + ${n} * torch.eye(${n}, dtype=${dtype}))`;
/** V·diag(L)·Vᵀ. */
const reconstruct = (l: Tensor, v: Tensor): Tensor => v.mul(l.unsqueeze(-2)).matmul(v.transpose(-2, -1));

const cases: Case[] = [
  { name: 'eigh eigenvalues', inputs: [g64([4, 4])],
    ts: ([x]) => linalg.eigh(spd(x!))[0], py: `torch.linalg.eigh(${spdPy('x0', 4)})[0]` },
  { name: 'eigh batched: eigenvalues, V·diag(L)·Vᵀ and |V|', inputs: [g64([2, 5, 5])],
    ts: ([x]) => {
      const [l, v] = linalg.eigh(spd(x!));
      return [l, reconstruct(l, v), v.abs()];
    },
    setup: `L, V = torch.linalg.eigh(${spdPy('x0', 5)})`,
    py: '(L, (V * L.unsqueeze(-2)) @ V.transpose(-2, -1), V.abs())' },
  { name: "eigh uplo 'U' reads only the upper triangle", inputs: [g64([4, 4]), g64([4, 4])],
    ts: ([x, noise]) => {
      const a = spd(x!).add(noise!.tril(-1));
      const [l, v] = linalg.eigh(a, 'U');
      return [l, v.abs()];
    },
    setup: `L, V = torch.linalg.eigh(${spdPy('x0', 4)} + x1.tril(-1), UPLO='U')`,
    py: '(L, V.abs())' },
  { name: 'eigh float32', inputs: [{ shape: [4, 4], requiresGrad: true }], rtol: 1e-4, atol: 1e-5,
    ts: ([x]) => linalg.eigh(spd(x!))[0], py: `torch.linalg.eigh(${spdPy('x0', 4, 'torch.float32')})[0]` },
  { name: 'svd reduced [5, 3]: S, U·diag(S)·Vh, |U|, |Vh|', inputs: [g64([5, 3])],
    ts: ([a]) => {
      const [u, s, vh] = linalg.svd(a!, false);
      return [s, u.mul(s.unsqueeze(-2)).matmul(vh), u.abs(), vh.abs()];
    },
    setup: 'U, S, Vh = torch.linalg.svd(x0, full_matrices=False)',
    py: '(S, (U * S.unsqueeze(-2)) @ Vh, U.abs(), Vh.abs())' },
  { name: 'svd reduced batched wide [2, 3, 6]: S and reconstruction', inputs: [g64([2, 3, 6])],
    ts: ([a]) => {
      const [u, s, vh] = linalg.svd(a!, false);
      return [s, u.mul(s.unsqueeze(-2)).matmul(vh)];
    },
    setup: 'U, S, Vh = torch.linalg.svd(x0, full_matrices=False)',
    py: '(S, (U * S.unsqueeze(-2)) @ Vh)' },
  { name: 'svd full matrices [5, 3]: S, shapes of U and Vh, U orthogonal', inputs: [{ shape: [5, 3], dtype: 'float64' }],
    ...F64, shapeOnly: [1, 2],
    ts: ([a]) => {
      const [u, s, vh] = linalg.svd(a!);
      return [s, u, vh, u.transpose(-2, -1).matmul(u)];
    },
    setup: 'U, S, Vh = torch.linalg.svd(x0)',
    py: '(S, U, Vh, torch.eye(5, dtype=torch.float64))' },
  { name: 'cholesky lower', inputs: [g64([4, 4])],
    ts: ([x]) => linalg.cholesky(spd(x!)), py: `torch.linalg.cholesky(${spdPy('x0', 4)})` },
  { name: 'cholesky upper, batched', inputs: [g64([3, 4, 4])],
    ts: ([x]) => linalg.cholesky(spd(x!), true), py: `torch.linalg.cholesky(${spdPy('x0', 4)}, upper=True)` },
  { name: 'inv of a positive-definite matrix', inputs: [g64([4, 4])],
    ts: ([x]) => linalg.inv(spd(x!)), py: `torch.linalg.inv(${spdPy('x0', 4)})` },
  { name: 'inv of a general matrix (X + 4·I), batched', inputs: [g64([2, 4, 4])],
    ts: ([x]) => linalg.inv(x!.add(eye(4, 4, { dtype: 'float64' }).mul(4))),
    py: 'torch.linalg.inv(x0 + 4 * torch.eye(4, dtype=torch.float64))' },
  { name: 'eigvals → real of a positive-definite matrix (sorted), with gradient', inputs: [g64([4, 4])],
    ts: ([x]) => linalg.real(linalg.eigvals(spd(x!))).sort()[0],
    py: `torch.linalg.eigvals(${spdPy('x0', 4)}).real.sort()[0]` },
  { name: 'eigvals → real of a triangular matrix (distinct diagonal)', inputs: [{ shape: [4, 4], dtype: 'float64' }],
    ts: ([x]) => linalg.real(linalg.eigvals(x!.triu(1).add(eye(4, 4, { dtype: 'float64' }).mul(tensor([1, 2, 3, 4], { dtype: 'float64' }))))).sort()[0],
    py: 'torch.linalg.eigvals(x0.triu(1) + torch.diag(torch.tensor([1., 2., 3., 4.], dtype=torch.float64))).real.sort()[0]' },
];

test('linear algebra matches PyTorch', async (t) => {
  for (const outcome of runParity(cases, F64)) {
    await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
  }
});
