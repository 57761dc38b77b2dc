// bench/metrics: one Fréchet distance at 2,048 dimensions (FID's Inception
// pool features) computed by robustok (two symmetric eigen-decompositions,
// float64) and by pytorch-fid's formula in Python (scipy.linalg.sqrtm of
// Σ₁Σ₂), on the same statistics, in one run; plus the time to accumulate
// the statistics of 4,096 feature vectors. Python uses NumPy's BLAS threads
// (OPENBLAS/OMP_NUM_THREADS set to robustok's thread count). Then the
// features per second of every feature network against PyTorch or TF.js
// (bench/features.ts). Prints both tables, then one JSON line (ratios =
// robustok / reference time; the feature networks under `features`).
//
//   npm run bench:metrics           (ROBUSTOK_THREADS=N to choose threads; ≈1.5 min on a busy 2-core machine)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeatureStats, frechetDistance } from '../src/metrics/index.js';
import { type Tensor, arange, getNumThreads, manualSeed, randn, tidy } from '../src/torch/index.js';
import { benchFeatures, printFeatureTable } from './features.js';
import { twinEnv } from './twin_env.js';

const DIM = 2048;
const SAMPLES = 4096;
const REPEATS = 3;
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'metrics_ref.py');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const seconds = (fn: () => void): number => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
};

/** Statistics of SAMPLES features with a decaying spectrum (as real image features have) and a shifted mean. */
function stats(shift: number): { mu: Tensor; sigma: Tensor; accumulate_s: number } {
  return tidy(() => {
    const scale = arange(0, DIM, 1, { dtype: 'float32' }).div(64).add(1).rsqrt();
    const x = randn([SAMPLES, DIM]).mul(scale).add(shift);
    const acc = new FeatureStats(DIM);
    const accumulate_s = seconds(() => {
      for (let start = 0; start < SAMPLES; start += 256) acc.update(x.narrow(0, start, 256));
    });
    const { mu, sigma } = acc.result();
    acc.dispose();
    return { mu, sigma, accumulate_s };
  });
}

async function main(): Promise<void> {
  manualSeed(0);
  const threads = getNumThreads();
  const a = stats(0);
  const b = stats(0.05);
  const times: number[] = [];
  let ours = NaN;
  for (let i = 0; i < REPEATS; i++) times.push(seconds(() => { ours = frechetDistance(a.mu, a.sigma, b.mu, b.sigma); }));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-metrics-'));
  let scipy: { fid: number; seconds: number[] };
  try {
    const files = [a.mu, a.sigma, b.mu, b.sigma].map((t, i) => {
      const file = path.join(dir, `${i}.f64`);
      writeFileSync(file, t.toTypedArray() as Float64Array);
      return file;
    });
    const run = spawnSync('/usr/bin/python3', [script], {
      input: JSON.stringify({ task: 'fid_files', dim: DIM, files, repeats: 1 }), encoding: 'utf8', env: twinEnv(threads),
    });
    if (run.status !== 0) throw new Error(`metrics_ref.py failed (python3-scipy installed?):\n${run.stderr}`);
    scipy = JSON.parse(run.stdout) as typeof scipy;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const t of [a.mu, a.sigma, b.mu, b.sigma]) t.dispose();

  const result = {
    dim: DIM,
    threads,
    frechet_s_robustok: median(times),
    frechet_s_scipy: median(scipy.seconds),
    frechet_ratio: median(times) / median(scipy.seconds),
    fid_robustok: ours,
    fid_scipy: scipy.fid,
    fid_relative_difference: Math.abs(ours - scipy.fid) / Math.abs(scipy.fid),
    stats_accumulate_s: (a.accumulate_s + b.accumulate_s) / 2,
    stats_samples: SAMPLES,
  };
  console.log(`metrics benchmark: Fréchet distance at ${DIM} dims, ${threads} threads (robustok median of ${REPEATS}, SciPy 1 run)`);
  console.log(`  robustok (eigh, float64)   ${result.frechet_s_robustok.toFixed(3)} s   FID ${ours}`);
  console.log(`  SciPy sqrtm (pytorch-fid)  ${result.frechet_s_scipy.toFixed(3)} s   FID ${scipy.fid}`);
  console.log(`  ratio ${result.frechet_ratio.toFixed(3)}, relative difference ${result.fid_relative_difference.toExponential(2)}`);
  console.log(`  streaming stats of ${SAMPLES}×${DIM} features (batches of 256): ${result.stats_accumulate_s.toFixed(3)} s`);
  console.log();
  const features = await benchFeatures(threads);
  printFeatureTable(features, threads);
  console.log(JSON.stringify({ ...result, features }));
}

await main();
