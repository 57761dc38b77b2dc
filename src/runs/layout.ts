// Where things live in a run folder, in one place: every trainer, the eval
// commands, the coming pipeline and the web app read and write these names
// through `runPaths`, so a folder written by one is found by the others.
// The tokenizer's own files (tokenizer.json, tokenizer.safetensors) are named
// by the tokenizer layer, which `Tokenizer.load` reads without this module.
import path from 'node:path';

export interface RunPaths {
  dir: string;
  /** The resolved config the run trains with (JSON; rewritten atomically at each start). */
  config: string;
  /** `{ "kind": … }`: what the folder holds (run_kind.ts), written with config.json by the run's writer. */
  kind: string;
  /** One JSON object per logged step. */
  metrics: string;
  /** The training state for --resume (atomic; also written on SIGINT/SIGTERM). */
  checkpoint: string;
  /** pid, host and start time of the process writing the folder. */
  lock: string;
  /** Sample grids: `samples/step-N.png`, and `samples/test.png` at the end. */
  samples: string;
  sample(step: number): string;
  testGrid: string;
  /** A generator's training tokens, cached (token_dataset.ts). */
  tokens: string;
  /** Post-training's pregenerated σ-tokens (--pregenerate N). */
  sigmaTokens: string;
  /** Test-set numbers written when training ends. */
  summary: string;
  /** `robustok eval`'s output: result.json, report.html, samples.png. */
  eval: EvalPaths;
}

/** An evaluation's output folder: result.json, report.html, samples.png. */
export interface EvalPaths {
  dir: string;
  result: string;
  report: string;
  samples: string;
}

export const evalPaths = (dir: string): EvalPaths =>
  ({ dir, result: path.join(dir, 'result.json'), report: path.join(dir, 'report.html'), samples: path.join(dir, 'samples.png') });

export function runPaths(dir: string): RunPaths {
  const at = (...parts: string[]) => path.join(dir, ...parts);
  return {
    dir,
    config: at('config.json'),
    kind: at('run.json'),
    metrics: at('metrics.jsonl'),
    checkpoint: at('checkpoint.safetensors'),
    lock: at('.robustok.lock'),
    samples: at('samples'),
    sample: (step) => at('samples', `step-${step}.png`),
    testGrid: at('samples', 'test.png'),
    tokens: at('tokens-train.safetensors'),
    sigmaTokens: at('tokens-sigma.safetensors'),
    summary: at('summary.json'),
    eval: evalPaths(at('eval')),
  };
}
