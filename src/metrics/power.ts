// The smallest effect a design could detect: what a verdict of "no
// significant effect" is worth. A study that cannot see an effect of the
// size it looks for says nothing by failing to see it, so each claim states
// its floor beside its verdict.
import { studentTQuantile } from './student_t.js';

/**
 * The smallest true mean a one-sided one-sample t test at level `alpha` over
 * `n` independent units detects with probability `power`, given the
 * between-unit standard deviation `std`:
 *
 *   (t_{1−α, n−1} + t_{power, n−1}) · std / √n
 *
 * (the usual approximation that ignores the noncentral t's skew; it slightly
 * understates the floor at very small n). NaN below 2 units or without a
 * finite std: no floor can be stated, nothing can be detected.
 */
export function detectableEffect(n: number, std: number, alpha: number, power = 0.8): number {
  if (n < 2 || !Number.isFinite(std)) return NaN;
  return (studentTQuantile(1 - alpha, n - 1) + studentTQuantile(power, n - 1)) * std / Math.sqrt(n);
}
