// The linear algebra that metrics need (FID's matrix square root, whitening).
// Use float64 inputs where precision matters: results keep the input dtype.
import { native as N } from './native.js';
import { Tensor, wrap, wrapAll } from './tensor.js';

/** Eigen-decomposition of symmetric `[..., n, n]`: `[eigenvalues ascending, eigenvectors as columns]`. */
export const eigh = (a: Tensor, uplo: 'L' | 'U' = 'L'): [Tensor, Tensor] => wrapAll(N.eigh(a.handle, uplo)) as [Tensor, Tensor];
/** `[U, S, Vh]` with `a = U·diag(S)·Vh`. */
export const svd = (a: Tensor, fullMatrices = true): [Tensor, Tensor, Tensor] =>
  wrapAll(N.svd(a.handle, fullMatrices)) as [Tensor, Tensor, Tensor];
/** Lower (or upper) Cholesky factor of a positive-definite matrix. */
export const cholesky = (a: Tensor, upper = false): Tensor => wrap(N.cholesky(a.handle, upper));
export const inv = (a: Tensor): Tensor => wrap(N.inverse(a.handle));
/** Eigenvalues of a general square matrix (complex); `real()` takes their real parts. */
export const eigvals = (a: Tensor): Tensor => wrap(N.eigvals(a.handle));
export const real = (a: Tensor): Tensor => wrap(N.real(a.handle));
