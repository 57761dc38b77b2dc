// `robustok info --bench`: this machine's reference figures, in a few
// seconds. Why these: every time in the README was measured on one machine,
// and a user's machine may be several times slower (issue #23: a 2-vCPU EPYC
// whose second vCPU added almost nothing to a matrix product ran the main job
// in 20 min where the README said 6). The README states each time with the
// figures of the machine it was measured on, so a user scales it by theirs:
//  - sgemm GFLOP/s (1024² float32) at 1 thread and at all threads: raw
//    arithmetic, and what more threads add;
//  - the reference conv training step (reference_step.ts, the one
//    bench:engine times), at the thread count a training run would use.
// The 1-minute load average is read before and after: a timing taken while
// other processes use the cores says little about the machine.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { getNumThreads } from '../torch/index.js';
import { referenceConvStep } from './reference_step.js';

/** Above this 1-minute load average the figures are reported with a warning. */
export const BUSY_LOAD = 0.5;
const STEP_WARMUP = 3;
const STEP_TIMED = 10;

export interface MachineFigures {
  cpu: string;
  cores: number;
  sgemmGflops1Thread: number;
  sgemmGflopsAllThreads: number;
  convStepMs: number;
  convStepThreads: number;
  /** /proc/loadavg's 1, 5 and 15-minute averages before and after (null where there is none). */
  loadBefore: number[] | null;
  loadAfter: number[] | null;
}

export function loadAverage(): number[] | null {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

/** The median GFLOP/s of sgemm_child.ts run with `threads` threads. */
function sgemmGflops(threads: number): number {
  const script = fileURLToPath(new URL('./sgemm_child.js', import.meta.url));
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), ROBUSTOK_THREADS: String(threads) };
  const run = spawnSync(process.execPath, [script], { env, encoding: 'utf8' });
  const gflops = Number(run.stdout.trim());
  if (run.status !== 0 || !(gflops > 0)) throw new Error(`the matrix-product measurement at ${threads} thread(s) failed (exit ${run.status}): ${run.stderr.trim()}`);
  return gflops;
}

/** The median of STEP_TIMED reference steps after STEP_WARMUP, in ms. */
function convStepMs(): number {
  const reference = referenceConvStep();
  try {
    for (let i = 0; i < STEP_WARMUP; i++) reference.step();
    const times = Array.from({ length: STEP_TIMED }, () => reference.step()).sort((x, y) => x - y);
    return (times[(STEP_TIMED >> 1) - 1]! + times[STEP_TIMED >> 1]!) / 2;
  } finally {
    reference.dispose();
  }
}

export function measureMachine(): MachineFigures {
  const cores = os.availableParallelism();
  const loadBefore = loadAverage();
  const figures = {
    sgemmGflops1Thread: sgemmGflops(1),
    sgemmGflopsAllThreads: sgemmGflops(cores),
    convStepMs: convStepMs(),
    convStepThreads: getNumThreads(),
  };
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores, ...figures, loadBefore, loadAfter: loadAverage() };
}

/** The figures as lines for a terminal. */
export function describeMachine(f: MachineFigures): string[] {
  const load = (l: number[] | null) => (l ? l.map((v) => v.toFixed(2)).join(' ') : 'unknown');
  return [
    `cpu: ${f.cpu}, ${f.cores} cores`,
    `sgemm 1024² float32: ${f.sgemmGflops1Thread.toFixed(0)} GFLOP/s at 1 thread, ${f.sgemmGflopsAllThreads.toFixed(0)} at ${f.cores} threads`,
    `reference conv training step (batch 16×3×32×32, Adam): ${f.convStepMs.toFixed(1)} ms at ${f.convStepThreads} thread(s)`,
    `load average (1, 5, 15 min) before: ${load(f.loadBefore)}; after: ${load(f.loadAfter)}`,
  ];
}

/** A warning when the 1-minute load average before or after was above BUSY_LOAD; undefined when idle. */
export function loadWarning(f: MachineFigures): string | undefined {
  const busiest = Math.max(f.loadBefore?.[0] ?? 0, f.loadAfter?.[0] ?? 0);
  if (busiest <= BUSY_LOAD) return undefined;
  return `warning: the 1-minute load average was ${busiest.toFixed(2)} (above ${BUSY_LOAD}): other processes were using the cores, `
    + 'so these figures understate this machine; measure again when it is idle';
}
