// The flags `robustok eval` and `eval-generator` share, as entries of their
// flag tables (flags.ts): which real images, which feature network, images
// per batch, and --json. Each command adds its own inputs, --n and --out,
// whose words and defaults differ (images of a split, or generated samples).
import { splitNames } from '../data/index.js';
import { flagTable, oneOf, parseNumber, positiveInteger } from './flags.js';

export const evalFlags = flagTable({
  split: { value: 'train|test', help: 'split of the real images', default: 'test', parse: oneOf(splitNames) },
  features: {
    value: 'NAME',
    help: 'feature network: classifier:DATASET (default: the one of the data, trained on first use),\n' +
      'nsfwjs-inception, nsfwjs-mobilenet, inception-fid (needs --weights pt_inception-2015-12-05-6726825d.pth)',
  },
  weights: { value: 'FILE', help: 'weights of the feature network' },
  batch: { value: 'N', help: 'images per batch', default: 100, parse: positiveInteger },
  json: { help: 'print one JSON object instead of the table' },
  'fid-replicates': {
    value: 'B',
    help: 'bootstrap each FID\'s standard error over B resampled image sets (0 = off; 2 or more;\n' +
      'FIDs with the same B, n and --seed resample the same rows, so their differences pair)',
    default: 0,
    parse: (text: string, flag: string) => parseNumber(flag, text, (v) => v === 0 || (Number.isInteger(v) && v >= 2), '0 or an integer ≥ 2'),
  },
});

/** A FID for a table, with its bootstrap standard error when one was measured. */
export const withError = (value: number, noise: { standardError: number; replicates: number[] } | undefined): string =>
  noise ? `${value.toFixed(3)} (SE ${noise.standardError.toFixed(3)}, ${noise.replicates.length} bootstrap replicates)` : value.toFixed(3);
