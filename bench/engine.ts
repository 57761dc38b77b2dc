// bench/engine: the same tiny conv autoencoder trained by robustok and by
// PyTorch from Python, interleaved step by step (A B, then B A, ...) on the
// same thread count, plus the per-op overhead of a 4-element addition.
// Prints a table, then one JSON line (ratio = robustok / PyTorch, median of
// paired runs).
//
//   npm run bench:engine            (ROBUSTOK_THREADS=N to choose threads)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { referenceConvStep } from '../src/train/index.js';
import { getNumThreads, randn, tidy } from '../src/torch/index.js';
import { twinEnv } from './twin_env.js';

const WARMUP_STEPS = 3;
const TIMED_STEPS = 20;
const ADDS = 10_000;
const ADD_ROUNDS = 21;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function robustokSide() {
  const { step } = referenceConvStep();  // the step `robustok info --bench` times too
  const a = randn([4]).keep();
  const b = randn([4]).keep();
  // Ops inside a scope (how training loops run) and outside any scope (each
  // result then also enters the GC safety net); both free each result at
  // once, as Python's reference counting does.
  const timeAdds = (n: number): number => {
    const start = performance.now();
    for (let i = 0; i < n; i++) a.add(b).dispose();
    return ((performance.now() - start) * 1e3) / n;
  };
  const adds = (n: number): number => tidy(() => timeAdds(n));
  return { step, adds, addsUnscoped: timeAdds };
}

async function pytorchSide(threads: number) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'engine_torch.py');
  const child = spawn('/usr/bin/python3', [script, String(threads)], { stdio: ['pipe', 'pipe', 'inherit'], env: twinEnv(threads) });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the PyTorch benchmark process ended early (is python3-torch installed?)');
    return value as string;
  };
  if ((await next()) !== 'ready') throw new Error('unexpected answer from the PyTorch benchmark');
  const ask = async (command: string): Promise<number> => {
    child.stdin!.write(`${command}\n`);
    return Number(await next());
  };
  return {
    step: () => ask('step'),
    adds: (n: number) => ask(`adds ${n}`),
    close: () => child.stdin!.end('quit\n'),
  };
}

async function main(): Promise<void> {
  const threads = getNumThreads();
  const ours = robustokSide();
  const theirs = await pytorchSide(threads);
  for (let i = 0; i < WARMUP_STEPS; i++) {
    ours.step();
    await theirs.step();
  }
  const stepPairs: [number, number][] = [];
  for (let i = 0; i < TIMED_STEPS; i++) {
    // Alternate who goes first so neither always runs on a warmer cache.
    if (i % 2 === 0) stepPairs.push([ours.step(), await theirs.step()]);
    else { const t = await theirs.step(); stepPairs.push([ours.step(), t]); }
  }
  ours.adds(1000);
  await theirs.adds(1000);
  const addPairs: [number, number][] = [];
  const unscoped: number[] = [];
  for (let i = 0; i < ADD_ROUNDS; i++) {
    addPairs.push([ours.adds(ADDS), await theirs.adds(ADDS)]);
    unscoped.push(ours.addsUnscoped(ADDS));
  }
  theirs.close();

  const result = {
    threads,
    train_step_ms_robustok: median(stepPairs.map((p) => p[0])),
    train_step_ms_pytorch: median(stepPairs.map((p) => p[1])),
    train_step_ratio: median(stepPairs.map(([a, b]) => a / b)),
    op_overhead_us_robustok: median(addPairs.map((p) => p[0])),
    op_overhead_us_pytorch: median(addPairs.map((p) => p[1])),
    op_overhead_ratio: median(addPairs.map(([a, b]) => a / b)),
    op_overhead_us_robustok_unscoped: median(unscoped),
  };
  const row = (name: string, a: number, b: number, r: number) =>
    `${name.padEnd(28)}${a.toFixed(2).padStart(12)}${b.toFixed(2).padStart(12)}${r.toFixed(3).padStart(10)}`;
  console.log(`engine benchmark: conv autoencoder, batch 16×3×32×32, Adam; ${TIMED_STEPS} paired steps; ${threads} threads`);
  console.log(`${''.padEnd(28)}${'robustok'.padStart(12)}${'pytorch'.padStart(12)}${'ratio'.padStart(10)}`);
  console.log(row('train step (ms)', result.train_step_ms_robustok, result.train_step_ms_pytorch, result.train_step_ratio));
  console.log(row(`4-element add (µs/op)`, result.op_overhead_us_robustok, result.op_overhead_us_pytorch, result.op_overhead_ratio));
  console.log(`${'  same, outside any scope'.padEnd(28)}${result.op_overhead_us_robustok_unscoped.toFixed(2).padStart(12)}`);
  console.log(JSON.stringify(result));
}

await main();
