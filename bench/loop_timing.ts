// How the twin benchmarks (bench/tokenizer, bench/generator, bench/posttrain) time the loop
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
