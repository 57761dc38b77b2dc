// The flags `robustok eval` and `eval-generator` share, as entries of their
// flag tables (flags.ts): which real images, which feature network, images
// per batch, and --json. Each command adds its own inputs, --n and --out,
// whose words and defaults differ (images of a split, or generated samples).
import { splitNames } from '../data/index.js';
import { flagTable, oneOf, positiveInteger } from './flags.js';

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
});
