// Mean ± standard deviation over seeds, the summary every claim of the
// reproduction reports beside its test (docs/method.md, last section).

/** Mean and sample standard deviation (divisor n − 1; NaN for n < 2, so one seed never looks certain). */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = n === 0 ? NaN : values.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? NaN : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, n };
}
