// The flags `robustok eval` and `eval-generator` share: what is scored
// against which real images, with which feature network, how many images,
// and where the report goes. Each command keeps its own usage text (the
// nouns differ: images of a split, or generated samples) and its own flags.
import { type SplitName, splitNames } from '../data/index.js';
import type { EvalGeneratorOptions } from '../runs/index.js';
import type { FlagValue } from './flags.js';

/** The shared flags, named as the run functions take them (both evalTokenizer and evalGenerator read these options), and --json. */
export type EvalFlags = Pick<EvalGeneratorOptions, 'tokenizer' | 'data' | 'split' | 'features' | 'weights' | 'n' | 'batchSize' | 'out'> & { json?: boolean };

/** Reads one shared evaluation flag into `into`; false when `flag` is not one. */
export function readEvalFlag(flag: string, read: FlagValue, into: EvalFlags): boolean {
  if (flag === '--tokenizer') into.tokenizer = read.value();
  else if (flag === '--data') into.data = read.value();
  else if (flag === '--split') {
    const s = read.value();
    if (!splitNames.includes(s as SplitName)) throw new Error(`--split must be one of ${splitNames.join(', ')}, got '${s}'`);
    into.split = s as SplitName;
  } else if (flag === '--features') into.features = read.value();
  else if (flag === '--weights') into.weights = read.value();
  else if (flag === '--n') into.n = read.integer();
  else if (flag === '--batch') into.batchSize = read.integer();
  else if (flag === '--out') into.out = read.value();
  else if (flag === '--json') into.json = true;
  else return false;
  return true;
}
