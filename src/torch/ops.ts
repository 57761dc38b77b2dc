// Functions over several tensors, and PyTorch's functional spellings of a
// few methods (torch.where, torch.cat, ...).
import { native as N } from './native.js';
import { Tensor, type TensorLike, operand, wrap } from './tensor.js';

const handles = (tensors: Tensor[], what: string): unknown[] => {
  if (!Array.isArray(tensors) || tensors.some((t) => !(t instanceof Tensor))) {
    throw new TypeError(`${what}: expected an array of Tensors`);
  }
  return tensors.map((t) => t.handle);
};

export const cat = (tensors: Tensor[], dim = 0): Tensor => wrap(N.cat(handles(tensors, 'cat'), dim));
export const stack = (tensors: Tensor[], dim = 0): Tensor => wrap(N.stack(handles(tensors, 'stack'), dim));
/** Elementwise `condition ? x : y`; x and y may be numbers. */
export const where = (condition: Tensor, x: TensorLike, y: TensorLike): Tensor =>
  wrap(N.where(condition.handle, operand(x, 'where x'), operand(y, 'where y')));
/** Einstein summation, e.g. `einsum('bnd,kd->bnk', z, codebook)`. */
export const einsum = (equation: string, ...tensors: Tensor[]): Tensor => wrap(N.einsum(equation, handles(tensors, 'einsum')));
/** Pairwise p-norm distances between rows: `[B, P, M] × [B, R, M] → [B, P, R]`. */
export const cdist = (x1: Tensor, x2: Tensor, p = 2): Tensor => wrap(N.cdist(x1.handle, x2.handle, p));
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
export const outer = (a: Tensor, b: Tensor): Tensor => wrap(N.outer(a.handle, b.handle));
export const minimum = (a: Tensor, b: Tensor): Tensor => a.minimum(b);
export const maximum = (a: Tensor, b: Tensor): Tensor => a.maximum(b);
/** `base ** exponent` for a number base, or the method for a tensor base. */
export const pow = (base: TensorLike, exponent: TensorLike): Tensor =>
  base instanceof Tensor ? base.pow(exponent) : wrap(N.powScalar(operand(base, 'pow base'), (exponent as Tensor).handle));
