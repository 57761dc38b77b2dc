// How the twin benchmarks (bench/tokenizer, bench/generator) time the loop
// users run, beside the isolated step: a step can be at parity while the
// loop around it (data, metrics lines, sample grids, EMA, checkpoints) is
// not, and the loop is what a user waits for. robustok's side is the run
// function the CLI calls, trained into a fresh folder as a new `--out` is,
// and timed by the run's own clock (`minutes`, from the first step to the
// last checkpoint): opening the data, tokenizing and the final export are
// left out on both sides.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './paired_timing.js';

/** Runs `run` into a fresh temporary folder (removed after) and returns the milliseconds of its loop. */
export async function loopMilliseconds(run: (dir: string) => Promise<{ status: string; minutes: number }>): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-loop-'));
  try {
    const r = await run(dir);
    if (r.status !== 'done') throw new Error(`the benchmark loop ended ${r.status}`);
    return r.minutes * 60000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Paired loop times [robustok, PyTorch] in ms → each side's median, its rate
 * (`work` units per loop: images or tokens, per second of the median) and the
 * median of the pairs' ratios.
 */
export function loopSummary(loops: [number, number][], work: number): { ms: [number, number]; perSecond: [number, number]; ratio: number } {
  const ms: [number, number] = [median(loops.map((l) => l[0])), median(loops.map((l) => l[1]))];
  return { ms, perSecond: [(work * 1e3) / ms[0], (work * 1e3) / ms[1]], ratio: median(loops.map(([a, b]) => a / b)) };
}
