// The MNIST family: four IDX files (train/test × images/labels) in one folder.
import path from 'node:path';
import { fingerprintFiles } from './fingerprint.js';
import { readIdx } from './idx.js';
import { type Dataset, type MemorySplit, type OpenOptions, type SplitName, applyLimit } from './source.js';

export interface IdxLayout {
  name: string;
  dir: string;
  /** File names per split; `.gz` ones are inflated on the fly. */
  files: Record<SplitName, { images: string; labels: string }>;
  classes: readonly string[];
}

export async function openIdxDataset(layout: IdxLayout, options: OpenOptions): Promise<Dataset> {
  const splits: Partial<Record<SplitName, MemorySplit>> = {};
  for (const split of ['train', 'test'] as const) {
    const imagesFile = path.join(layout.dir, layout.files[split].images);
    const labelsFile = path.join(layout.dir, layout.files[split].labels);
    const header = await readIdx(imagesFile, 0);
    const [total, height, width] = header.dims as [number, number, number];
    const count = applyLimit(total, options.limit);
    const labels = await readIdx(labelsFile, count);
    if (header.dims.length !== 3 || labels.dims[0] !== total) {
      throw new Error(`${layout.name}: ${imagesFile} (${header.dims.join('×')}) and ${labelsFile} (${labels.dims.join('×')}) do not pair up`);
    }
    const pixels = height * width;
    splits[split] = {
      kind: 'memory',
      total,
      labels: Int32Array.from(labels.data),
      loadImages: async () => {
        const { data } = await readIdx(imagesFile, count);
        return (i) => ({ data: data.subarray(i * pixels, (i + 1) * pixels), height, width, channels: 1 });
      },
      fingerprint: fingerprintFiles([imagesFile, labelsFile]),
    };
  }
  return { name: layout.name, classes: layout.classes, splits, defaults: { size: 32, fit: 'pad', channels: 1, padValue: 0 } };
}

export const idxFiles = (gz: boolean): IdxLayout['files'] => {
  const ext = gz ? '.gz' : '';
  return {
    train: { images: `train-images-idx3-ubyte${ext}`, labels: `train-labels-idx1-ubyte${ext}` },
    test: { images: `t10k-images-idx3-ubyte${ext}`, labels: `t10k-labels-idx1-ubyte${ext}` },
  };
};
