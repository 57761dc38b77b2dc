// A folder of images without train/ and test/ still needs images that
// training never saw, for the end-of-run summary and `robustok eval`: the
// folder loader holds out a seeded slice of them as the test split (10%, at
// most 1,000, the same slice on every open), and training never reads it.
// Folders of fewer than 10 images are too small to spare any: they keep only
// a train split, and what measures on them says that its numbers are on
// training images.
import { Rng } from './rng.js';
import type { Dataset, SplitName } from './source.js';

export const HELD_OUT_SEED = 0;
const FRACTION = 0.1;
const MAX_HELD_OUT = 1000;

/** The indices of `total` images held out for testing, in order (empty when too few to spare any). */
export function heldOutIndices(total: number, seed = HELD_OUT_SEED): number[] {
  const n = Math.min(MAX_HELD_OUT, Math.floor(total * FRACTION));
  return [...new Rng(seed).permutation(total).subarray(0, n)].sort((a, b) => a - b);
}

/**
 * What a split's numbers were measured on, in words for summaries and
 * reports: 'test', 'train (held-out slice of N, seed S)', or 'train' with a
 * note that the images were trained on.
 */
export function splitLabel(dataset: Pick<Dataset, 'heldOut'>, split: SplitName): string {
  if (split === 'train') return 'train (training images: the tokenizer has seen them)';
  return dataset.heldOut ? `train (held-out slice of ${dataset.heldOut.count}, seed ${dataset.heldOut.seed})` : 'test';
}
