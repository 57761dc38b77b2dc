// Checkpoint-and-resume of a TokenizerTrainer in one process, as the resume
// tests do it: a fresh trainer (global seed 0) trains `steps` steps and is
// checkpointed to `file`; a second trainer, built under another global seed
// so nothing but the checkpoint can make it match, is restored from the file.
import type { TokenizerConfig } from '../../src/tokenizer/index.js';
import { TokenizerTrainer } from '../../src/tokenizer/index.js';
import { manualSeed } from '../../src/torch/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/index.js';

export function resumedTrainer(config: TokenizerConfig, file: string, steps: number, run: (t: TokenizerTrainer, from: number, to: number) => unknown): TokenizerTrainer {
  manualSeed(0);
  const first = new TokenizerTrainer(config);
  run(first, 0, steps);
  saveCheckpoint(file, first.parts(), { step: first.stepCount, epoch: 0 });
  first.dispose();
  manualSeed(123);
  const resumed = new TokenizerTrainer(config);
  resumed.stepCount = loadCheckpoint(file, resumed.parts()).step;
  return resumed;
}
