// Elementwise math against PyTorch: values and gradients within 1e-5 relative
// (plus 1e-6 absolute, for values near zero).
import { F, where } from '../src/torch/index.js';
import { type Case, parityTest } from './helpers/oracle.js';

const g = (shape: number[], values?: 'normal' | 'uniform' | 'positive') => ({ shape, requiresGrad: true, values });

const cases: Case[] = [
  { name: 'add broadcast', inputs: [g([3, 4]), g([4])], ts: ([a, b]) => a!.add(b!), py: 'x0 + x1' },
  { name: 'add alpha scalar', inputs: [g([3, 4]), g([3, 4])], ts: ([a, b]) => a!.add(b!, 0.5).add(2), py: 'torch.add(x0, x1, alpha=0.5) + 2' },
  { name: 'sub', inputs: [g([2, 3]), g([2, 1])], ts: ([a, b]) => a!.sub(b!), py: 'x0 - x1' },
  { name: 'mul', inputs: [g([2, 3]), g([3])], ts: ([a, b]) => a!.mul(b!).mul(-1.5), py: 'x0 * x1 * -1.5' },
  { name: 'div', inputs: [g([2, 3]), g([2, 3], 'positive')], ts: ([a, b]) => a!.div(b!), py: 'x0 / x1' },
  { name: 'pow', inputs: [g([5], 'positive'), g([5])], ts: ([a, b]) => a!.pow(b!).add(a!.pow(3)), py: 'x0 ** x1 + x0 ** 3' },
  { name: 'neg abs', inputs: [g([6])], ts: ([a]) => a!.neg().add(a!.abs()), py: '-x0 + x0.abs()' },
  { name: 'exp log', inputs: [g([6], 'positive')], ts: ([a]) => [a!.exp(), a!.log()], py: '(x0.exp(), x0.log())' },
  { name: 'sqrt rsqrt', inputs: [g([6], 'positive')], ts: ([a]) => [a!.sqrt(), a!.rsqrt()], py: '(x0.sqrt(), x0.rsqrt())' },
  { name: 'sin cos', inputs: [g([6])], ts: ([a]) => [a!.sin(), a!.cos()], py: '(x0.sin(), x0.cos())' },
  { name: 'clamp', inputs: [g([10])], ts: ([a]) => a!.clamp(-0.5, 0.7), py: 'x0.clamp(-0.5, 0.7)' },
  { name: 'minimum maximum', inputs: [g([7]), g([7])], ts: ([a, b]) => [a!.minimum(b!), a!.maximum(b!)], py: '(torch.minimum(x0, x1), torch.maximum(x0, x1))' },
  { name: 'comparisons', inputs: [{ shape: [8] }, { shape: [8] }],
    ts: ([a, b]) => [a!.lt(b!), a!.le(0), a!.gt(b!), a!.ge(0.1), a!.eq(b!), a!.ne(a!)],
    py: '(x0 < x1, x0 <= 0, x0 > x1, x0 >= 0.1, x0 == x1, x0 != x0)' },
  { name: 'logical', inputs: [{ shape: [8], dtype: 'bool', values: 'int:2' }, { shape: [8], dtype: 'bool', values: 'int:2' }],
    ts: ([a, b]) => [a!.logicalAnd(b!), a!.logicalOr(b!), a!.logicalXor(b!), a!.logicalNot()],
    py: '(x0 & x1, x0 | x1, x0 ^ x1, ~x0)' },
  { name: 'where', inputs: [g([6]), g([6])], ts: ([a, b]) => where(a!.gt(0), a!, b!), py: 'torch.where(x0 > 0, x0, x1)' },
  { name: 'activations', inputs: [g([12])],
    ts: ([a]) => [F.relu(a!), F.leakyRelu(a!, 0.2), F.gelu(a!), F.gelu(a!, 'tanh'), F.silu(a!), F.sigmoid(a!), F.tanh(a!), F.softplus(a!)],
    py: "(F.relu(x0), F.leaky_relu(x0, 0.2), F.gelu(x0), F.gelu(x0, approximate='tanh'), F.silu(x0), torch.sigmoid(x0), torch.tanh(x0), F.softplus(x0))" },
];

parityTest('elementwise ops match PyTorch', cases, { rtol: 1e-5, atol: 1e-6 });
