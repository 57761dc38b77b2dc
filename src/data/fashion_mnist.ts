// Fashion-MNIST from Debian's dataset-fashion-mnist (gzipped IDX files).
import { existsSync } from 'node:fs';
import { idxFiles, openIdxDataset } from './idx_dataset.js';
import type { DatasetLoader } from './source.js';

const dir = process.env.ROBUSTOK_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';

export const fashionMnist: DatasetLoader = {
  name: 'fashion-mnist',
  description: 'Fashion-MNIST, 28×28 grey, 10 classes, train 60k / test 10k (Debian package dataset-fashion-mnist)',
  async open(_argument, options) {
    if (!existsSync(dir)) {
      throw new Error(`fashion-mnist: ${dir} is missing. Install it with \`apt-get install dataset-fashion-mnist\` ` +
        '(npm run setup does this as root), or point ROBUSTOK_FASHION_MNIST at a folder with its four IDX files.');
    }
    return openIdxDataset({
      name: 'fashion-mnist',
      dir,
      files: idxFiles(true),
      classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    }, options);
  },
};
